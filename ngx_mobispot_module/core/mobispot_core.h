
/*
 * Copyright (C) Mobispot
 *
 * The nginx-independent core of ngx_mobispot_module: code that needs no
 * nginx request and no Redis connection, linked both by the module and by
 * the unit tests in lua-free-tests/.
 */


#ifndef _MOBISPOT_CORE_H_INCLUDED_
#define _MOBISPOT_CORE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>
#include <yajl/yajl_gen.h>


#define MOBISPOT_OK       0
#define MOBISPOT_ERROR   -1


/* Redis replies decoded, commands encoded (mobispot_reply.c) */

int mobispot_reply_is_status(const redisReply *reply, const char *status);
const char *mobispot_reply_not_serving(const redisReply *reply);
const redisReply *mobispot_reply_denied(const redisReply *reply);
int mobispot_reply_integer(const redisReply *reply, long long *value);
const char *mobispot_reply_type_name(int type);
size_t mobispot_reply_error_word(const redisReply *reply, char *buf,
    size_t size);

/* a command in the Redis protocol: its length, then written at p */
size_t mobispot_resp_len(int argc, const char **argv, const size_t *argvlen);
char *mobispot_resp_write(char *p, int argc, const char **argv,
    const size_t *argvlen);


/* JSON documents (mobispot_json.c) */

yajl_gen mobispot_json_gen_alloc(void);
int mobispot_json_string(yajl_gen g, const char *s);
int mobispot_json_key_string(yajl_gen g, const char *key, const char *value);
int mobispot_json_error(yajl_gen g, const char *code, const char *message);

/* GET health's opening: the status, the version, the worker's Redis */
typedef struct {
    const char     *status;          /* "ok" or "degraded" */
    const char     *version;
    double          latency_ms;      /* of the PING */
    const char     *tracking;        /* "on", "off", "down" */
    const char     *subscriptions;   /* "up", "down", "none" */
    unsigned        channels;        /* asked */
    unsigned        channels_up;     /* subscribed */
} mobispot_health_t;

int mobispot_json_health(yajl_gen g, const mobispot_health_t *h);


/* Strict JSON text and UTF-8 (mobispot_json_check.c) */

#define MOBISPOT_JSON_DEPTH  32

typedef struct {
    const char     *reason;     /* static text */
    size_t          offset;     /* where in the text the check stopped */

    /* the fault is in a string value's content (NUL, bad UTF-8, escape) */
    int             in_string;

    /*
     * the raw (still escaped, well-formed) name of the innermost member
     * whose value holds the fault; NULL at the top level
     */
    const char     *member;
    size_t          member_len;
} mobispot_json_fault_t;

int mobispot_json_check(const char *text, size_t len, const char **reason);
int mobispot_json_check_fault(const char *text, size_t len,
    mobispot_json_fault_t *fault);
size_t mobispot_utf8_char(const unsigned char *p, size_t len);
size_t mobispot_utf8_length(const char *s, size_t len);


/* Lists of words separated by blanks or commas (mobispot_list.c) */

int mobispot_list_next(const char **p, const char *end, const char **item,
    size_t *len);
int mobispot_list_has(const char *list, size_t list_len, const char *item,
    size_t len);


/*
 * One named pair out of a Cookie value or a query string (mobispot_strip.c):
 * the kept pairs are joined by "; " (cookies: out holds 2 * len bytes) or
 * "&" (arguments: len bytes); *removed counts the pairs left out.
 */

size_t mobispot_cookie_strip(const char *in, size_t len, const char *name,
    size_t name_len, char *out, unsigned *removed);
size_t mobispot_args_strip(const char *in, size_t len, const char *name,
    size_t name_len, char *out, unsigned *removed);


/*
 * The fields of a form's body or a query string (mobispot_form.c):
 * mobispot_form_get() returns one of these
 */

#define MOBISPOT_FORM_OK        0
#define MOBISPOT_FORM_ABSENT    1
#define MOBISPOT_FORM_BAD       2     /* a bad escape, a control, not UTF-8 */
#define MOBISPOT_FORM_TWICE     3     /* the field is named twice */
#define MOBISPOT_FORM_LONG      4     /* longer than the room given */

#define MOBISPOT_FORM_NAME_MAX  64    /* longer names are no field we ask */

int mobispot_form_check(const char *text, size_t len);
int mobispot_form_get(const char *text, size_t len, const char *name,
    char *out, size_t size, size_t *out_len);
int mobispot_hex_digit(unsigned char c);


/* Reconnect delays (mobispot_backoff.c) */

unsigned mobispot_backoff_next(unsigned current, unsigned min, unsigned max);
unsigned mobispot_backoff_jitter(unsigned delay, unsigned random);


#endif /* _MOBISPOT_CORE_H_INCLUDED_ */
