/*
 * Copyright (C) Mobispot
 *
 * Decoding of hiredis replies.
 */

#include <stdlib.h>
#include "tap.h"
#include "core/mobispot_core.h"

static redisReply
reply(int type, const char *str)
{
    redisReply r;

    memset(&r, 0, sizeof(r));
    r.type = type;

    if (str != NULL) {
        r.str = (char *) str;
        r.len = strlen(str);
    }

    return r;
}

/* the module's RESP encoding is byte for byte hiredis's */
static int
same_as_hiredis(int argc, const char **argv, const size_t *argvlen)
{
    int       ok;
    char     *mine, *theirs, *end;
    size_t    len;
    long long n;

    len = mobispot_resp_len(argc, argv, argvlen);
    mine = malloc(len + 1);
    if (mine == NULL) {
        return 0;
    }

    end = mobispot_resp_write(mine, argc, argv, argvlen);
    n = redisFormatCommandArgv(&theirs, argc, argv, argvlen);

    ok = (n >= 0 && (size_t) (end - mine) == len && (size_t) n == len
          && memcmp(mine, theirs, len) == 0);

    free(mine);
    if (n >= 0) {
        redisFreeCommand(theirs);
    }

    return ok;
}

int
main(void)
{
    redisReply r;
    long long  n;
    char       word[16];

    r = reply(REDIS_REPLY_STATUS, "PONG");
    TAP_OK(mobispot_reply_is_status(&r, "PONG"), "+PONG is PONG");
    TAP_OK(!mobispot_reply_is_status(&r, "PON"), "+PONG is not PON");
    TAP_OK(!mobispot_reply_is_status(&r, "PONGS"), "+PONG is not PONGS");
    r = reply(REDIS_REPLY_STRING, "PONG");
    TAP_OK(!mobispot_reply_is_status(&r, "PONG"),
           "a bulk \"PONG\" is not the status PONG");
    TAP_OK(!mobispot_reply_is_status(NULL, "PONG"), "NULL is no status");

    r = reply(REDIS_REPLY_INTEGER, NULL);
    r.integer = -42;
    TAP_IS_INT(mobispot_reply_integer(&r, &n), MOBISPOT_OK, "integer reply");
    TAP_IS_INT(n, -42, "integer value");

    r = reply(REDIS_REPLY_STRING, "1234567890123");
    TAP_IS_INT(mobispot_reply_integer(&r, &n), MOBISPOT_OK, "bulk integer");
    TAP_IS_INT(n, 1234567890123LL, "bulk integer value");

    r = reply(REDIS_REPLY_STRING, "-7");
    TAP_IS_INT(mobispot_reply_integer(&r, &n), MOBISPOT_OK, "negative bulk");
    TAP_IS_INT(n, -7, "negative bulk value");

    r = reply(REDIS_REPLY_STRING, "12a");
    TAP_IS_INT(mobispot_reply_integer(&r, &n), MOBISPOT_ERROR,
               "trailing garbage refused");
    r = reply(REDIS_REPLY_STRING, " 12");
    TAP_IS_INT(mobispot_reply_integer(&r, &n), MOBISPOT_ERROR,
               "leading space refused");
    r = reply(REDIS_REPLY_STRING, "");
    TAP_IS_INT(mobispot_reply_integer(&r, &n), MOBISPOT_ERROR,
               "empty string refused");
    r = reply(REDIS_REPLY_STRING, "99999999999999999999");
    TAP_IS_INT(mobispot_reply_integer(&r, &n), MOBISPOT_ERROR,
               "overflow refused");
    r = reply(REDIS_REPLY_STRING, "123456789012345678901234567890");
    TAP_IS_INT(mobispot_reply_integer(&r, &n), MOBISPOT_ERROR,
               "over-long string refused");
    r = reply(REDIS_REPLY_NIL, NULL);
    TAP_IS_INT(mobispot_reply_integer(&r, &n), MOBISPOT_ERROR, "nil refused");
    TAP_IS_INT(mobispot_reply_integer(NULL, &n), MOBISPOT_ERROR,
               "NULL refused");

    TAP_IS_STR(mobispot_reply_type_name(REDIS_REPLY_ERROR), "error",
               "type name of an error");
    TAP_IS_STR(mobispot_reply_type_name(99), "unknown", "unknown type name");

    r = reply(REDIS_REPLY_ERROR, "WRONGPASS invalid username-password pair");
    TAP_IS_INT(mobispot_reply_error_word(&r, word, sizeof(word)), 9,
               "error word length");
    TAP_IS_STR(word, "WRONGPASS", "error word");

    r = reply(REDIS_REPLY_ERROR, "ERR secret-key-material");
    mobispot_reply_error_word(&r, word, sizeof(word));
    TAP_IS_STR(word, "ERR", "only the code word is kept, never the text");

    r = reply(REDIS_REPLY_ERROR, "VERYLONGERRORWORDTHATDOESNOTFIT more");
    TAP_IS_INT(mobispot_reply_error_word(&r, word, 8), 7,
               "error word truncated to the buffer");
    TAP_IS_STR(word, "VERYLON", "truncated word is NUL-terminated");

    r = reply(REDIS_REPLY_STATUS, "OK");
    TAP_IS_INT(mobispot_reply_error_word(&r, word, sizeof(word)), 0,
               "no error word for a status");

    r = reply(REDIS_REPLY_ERROR, "LOADING Redis is loading the dataset");
    TAP_IS_STR(mobispot_reply_not_serving(&r), "LOADING", "LOADING");
    r = reply(REDIS_REPLY_ERROR, "READONLY You can't write against a replica");
    TAP_IS_STR(mobispot_reply_not_serving(&r), "READONLY", "READONLY");
    r = reply(REDIS_REPLY_ERROR, "BUSY");
    TAP_IS_STR(mobispot_reply_not_serving(&r), "BUSY", "a bare word");
    r = reply(REDIS_REPLY_ERROR,
              "NOREPLICAS Not enough good replicas to "
              "write. script: 2dc6, on @user_script:1.");
    TAP_IS_STR(mobispot_reply_not_serving(&r), "NOREPLICAS",
               "NOREPLICAS, as a script gets it");
    r = reply(REDIS_REPLY_ERROR, "BUSYKEY Target key name already exists");
    TAP_OK(mobispot_reply_not_serving(&r) == NULL, "BUSYKEY is another error");
    r = reply(REDIS_REPLY_STATUS, "LOADING");
    TAP_OK(mobispot_reply_not_serving(&r) == NULL, "a status is not an error");

    {
        redisReply inner[2], *elements[2], exec;

        inner[0] = reply(REDIS_REPLY_STATUS, "OK");
        inner[1] =
            reply(REDIS_REPLY_ERROR, "MASTERDOWN Link with MASTER is down");
        elements[0] = &inner[0];
        elements[1] = &inner[1];
        exec = reply(REDIS_REPLY_ARRAY, NULL);
        exec.elements = 2;
        exec.element = elements;
        TAP_IS_STR(mobispot_reply_not_serving(&exec), "MASTERDOWN",
                   "inside the replies of EXEC");
    }

    r = reply(REDIS_REPLY_ERROR,
              "NOPERM this user has no permissions to "
              "access one of the keys used as arguments");
    TAP_OK(mobispot_reply_denied(&r) == &r, "NOPERM is an ACL refusal");
    r = reply(REDIS_REPLY_ERROR,
              "ERR The user executing the script can't access at least one "
              "of the keys mentioned in the command arguments script: 10a5, "
              "on @user_script:1.");
    TAP_OK(mobispot_reply_denied(&r) == &r, "and so is a script's");
    r = reply(REDIS_REPLY_ERROR, "NOPERMS is another word");
    TAP_OK(mobispot_reply_denied(&r) == NULL, "a longer word is not");
    r = reply(REDIS_REPLY_ERROR, "ERR unknown command");
    TAP_OK(mobispot_reply_denied(&r) == NULL, "another error is not");
    r = reply(REDIS_REPLY_STATUS, "NOPERM");
    TAP_OK(mobispot_reply_denied(&r) == NULL, "a status is not");

    {
        redisReply inner[2], *elements[2], exec;

        inner[0] = reply(REDIS_REPLY_STATUS, "QUEUED");
        inner[1] = reply(REDIS_REPLY_ERROR, "NOPERM no permissions");
        elements[0] = &inner[0];
        elements[1] = &inner[1];
        exec = reply(REDIS_REPLY_ARRAY, NULL);
        exec.elements = 2;
        exec.element = elements;
        TAP_OK(mobispot_reply_denied(&exec) == &inner[1],
               "inside an array: that element");
    }

    {
        static const char  *a[] = {"SET", "k", ""};
        static const size_t al[] = {3, 1, 0};
        static const char  *b[12] = {"HMGET",    "ms:{site:s1}:info",
                                     "name",     "town",
                                     "tz",       "slot",
                                     "hours",    "closed",
                                     "networks", "cap:desk",
                                     "zone",     "x\r\n\0y"};
        size_t              bl[12];
        const char         *c[120];
        size_t              cl[120];
        char                big[12345];
        int                 i;

        TAP_OK(same_as_hiredis(3, a, al),
               "RESP: an empty argument, as hiredis writes it");

        for (i = 0; i < 11; i++) {
            bl[i] = strlen(b[i]);
        }

        bl[11] = 6;
        TAP_OK(same_as_hiredis(12, b, bl),
               "RESP: 12 arguments, one with CR, LF and NUL in it");

        memset(big, 'x', sizeof(big));

        for (i = 0; i < 120; i++) {
            c[i] = big;
            cl[i] = (size_t) (i * 97 + 9) % sizeof(big);
        }

        TAP_OK(same_as_hiredis(120, c, cl),
               "RESP: 120 arguments of 9 to 12344 bytes (counts of 1 to 5 "
               "digits)");
        TAP_IS_INT(mobispot_resp_len(1, a, al), 13,
                   "RESP: *1 $3 SET is 13 bytes");
    }

    return tap_done();
}
