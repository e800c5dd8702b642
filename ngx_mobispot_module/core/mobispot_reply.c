
/*
 * Copyright (C) Mobispot
 *
 * Decoding of hiredis replies into plain values.  A reply is only valid
 * during the callback that received it: nothing here keeps a pointer.
 */


#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/mobispot_core.h"


int
mobispot_reply_is_status(const redisReply *reply, const char *status)
{
    size_t  len;

    if (reply == NULL || reply->type != REDIS_REPLY_STATUS) {
        return 0;
    }

    len = strlen(status);

    return (size_t) reply->len == len && memcmp(reply->str, status, len) == 0;
}


/*
 * An error of Redis's access control (ACL): a command, a key or a channel
 * that the connection's user may not use.  Redis 7 says NOPERM, or, for a
 * command a script runs, "ERR The user executing the script can't access
 * ...": that error, or NULL.  The elements of an array (EXEC) are
 * looked at too.
 */

const redisReply *
mobispot_reply_denied(const redisReply *reply)
{
    size_t             i;
    const redisReply  *e;

    static const char  script[] = "ERR The user executing the script";

    if (reply == NULL) {
        return NULL;
    }

    if (reply->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < reply->elements; i++) {
            e = mobispot_reply_denied(reply->element[i]);

            if (e != NULL) {
                return e;
            }
        }

        return NULL;
    }

    if (reply->type != REDIS_REPLY_ERROR) {
        return NULL;
    }

    if (((size_t) reply->len >= 6 && memcmp(reply->str, "NOPERM", 6) == 0
         && (reply->len == 6 || reply->str[6] == ' '))
        || ((size_t) reply->len >= sizeof(script) - 1
            && memcmp(reply->str, script, sizeof(script) - 1) == 0))
    {
        return reply;
    }

    return NULL;
}


/*
 * The errors of a server that cannot serve now but will (loading its data
 * set, running a long script, its master down, a read-only replica, a
 * primary refusing writes for want of replicas: min-replicas-to-write):
 * the word, or NULL.  The elements of an array (EXEC) are looked at too.
 */

const char *
mobispot_reply_not_serving(const redisReply *reply)
{
    size_t        i, len;
    const char   *word;
    static const char  *words[] = { "LOADING", "BUSY", "MASTERDOWN",
                                    "READONLY", "NOREPLICAS", NULL };

    if (reply == NULL) {
        return NULL;
    }

    if (reply->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < reply->elements; i++) {
            if (reply->element[i] != NULL
                && reply->element[i]->type == REDIS_REPLY_ERROR)
            {
                word = mobispot_reply_not_serving(reply->element[i]);

                if (word != NULL) {
                    return word;
                }
            }
        }

        return NULL;
    }

    if (reply->type != REDIS_REPLY_ERROR) {
        return NULL;
    }

    for (i = 0; words[i]; i++) {
        len = strlen(words[i]);

        if ((size_t) reply->len >= len
            && memcmp(reply->str, words[i], len) == 0
            && ((size_t) reply->len == len || reply->str[len] == ' '))
        {
            return words[i];
        }
    }

    return NULL;
}


/* an integer reply, or a bulk string that holds a decimal integer */

int
mobispot_reply_integer(const redisReply *reply, long long *value)
{
    char       buf[24], *end;
    long long  n;

    if (reply == NULL) {
        return MOBISPOT_ERROR;
    }

    if (reply->type == REDIS_REPLY_INTEGER) {
        *value = reply->integer;
        return MOBISPOT_OK;
    }

    if (reply->type != REDIS_REPLY_STRING || reply->len == 0
        || (size_t) reply->len >= sizeof(buf))
    {
        return MOBISPOT_ERROR;
    }

    memcpy(buf, reply->str, reply->len);
    buf[reply->len] = '\0';

    if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9'))) {
        return MOBISPOT_ERROR;
    }

    errno = 0;
    n = strtoll(buf, &end, 10);

    if (errno != 0 || *end != '\0' || end == buf) {
        return MOBISPOT_ERROR;
    }

    *value = n;
    return MOBISPOT_OK;
}


const char *
mobispot_reply_type_name(int type)
{
    switch (type) {
    case REDIS_REPLY_STRING:
        return "string";
    case REDIS_REPLY_ARRAY:
        return "array";
    case REDIS_REPLY_INTEGER:
        return "integer";
    case REDIS_REPLY_NIL:
        return "nil";
    case REDIS_REPLY_STATUS:
        return "status";
    case REDIS_REPLY_ERROR:
        return "error";
    default:
        return "unknown";
    }
}


/*
 * The first word of an error reply ("ERR", "NOAUTH", "WRONGTYPE", ...):
 * safe to log, as it never carries the data of the command.  Returns its
 * length; the copy in buf is NUL-terminated.
 */

size_t
mobispot_reply_error_word(const redisReply *reply, char *buf, size_t size)
{
    size_t  n;

    if (size == 0) {
        return 0;
    }

    buf[0] = '\0';

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR || reply->str == NULL)
    {
        return 0;
    }

    for (n = 0; n < (size_t) reply->len && n + 1 < size; n++) {
        if (!((reply->str[n] >= 'A' && reply->str[n] <= 'Z')
              || reply->str[n] == '_'))
        {
            break;
        }

        buf[n] = reply->str[n];
    }

    buf[n] = '\0';

    return n;
}


/*
 * A command in the Redis protocol (RESP), as hiredis would format it:
 * "*<argc>\r\n", then "$<len>\r\n<bytes>\r\n" for each argument.  The
 * module formats into request memory and hands the bytes to hiredis
 * (redisAsyncFormattedCommand), one copy, where hiredis's own formatting
 * grows a buffer piece by piece.
 */

static size_t
mobispot_resp_digits(size_t v)
{
    size_t  n;

    for (n = 1; v >= 10; v /= 10) {
        n++;
    }

    return n;
}


static char *
mobispot_resp_number(char *p, char mark, size_t v)
{
    size_t  n, i;

    *p++ = mark;
    n = mobispot_resp_digits(v);

    for (i = n; i > 0; i--) {
        p[i - 1] = (char) ('0' + v % 10);
        v /= 10;
    }

    p += n;
    *p++ = '\r';
    *p++ = '\n';

    return p;
}


size_t
mobispot_resp_len(int argc, const char **argv, const size_t *argvlen)
{
    int     i;
    size_t  len;

    (void) argv;

    len = 1 + mobispot_resp_digits((size_t) argc) + 2;

    for (i = 0; i < argc; i++) {
        len += 1 + mobispot_resp_digits(argvlen[i]) + 2 + argvlen[i] + 2;
    }

    return len;
}


char *
mobispot_resp_write(char *p, int argc, const char **argv,
    const size_t *argvlen)
{
    int  i;

    p = mobispot_resp_number(p, '*', (size_t) argc);

    for (i = 0; i < argc; i++) {
        p = mobispot_resp_number(p, '$', argvlen[i]);

        if (argvlen[i]) {
            memcpy(p, argv[i], argvlen[i]);
            p += argvlen[i];
        }

        *p++ = '\r';
        *p++ = '\n';
    }

    return p;
}
