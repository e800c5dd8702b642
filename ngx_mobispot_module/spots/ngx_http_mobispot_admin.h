
/*
 * Copyright (C) Mobispot
 *
 * The admin API of the catalogue, shared by its checks and its writes.
 */


#ifndef _NGX_HTTP_MOBISPOT_ADMIN_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_ADMIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_jwt.h"
#include "spots/ngx_http_mobispot_spots.h"


#define NGX_HTTP_MOBISPOT_WRITE_SITE     0
#define NGX_HTTP_MOBISPOT_WRITE_DELETE   1
#define NGX_HTTP_MOBISPOT_WRITE_NETWORK  2


/* the outcome of a check: the first error found */
typedef struct {
    ngx_http_request_t         *request;
    ngx_uint_t                  status;
    const char                 *code;
    const char                 *message;
    u_char                     *field;
} ngx_http_mobispot_check_t;


/* accounts (ngx_http_mobispot_admin_user*.c) */

#define NGX_HTTP_MOBISPOT_PASSPORTS_MAX       16
#define NGX_HTTP_MOBISPOT_LIMITS_MAX          32     /* zones, networks */
#define NGX_HTTP_MOBISPOT_OPERATOR_MAX        64     /* site_operator */

/* the fields of ms:{user:<id>}:info, in this order */
#define NGX_HTTP_MOBISPOT_USER_PASSPORTS      0
#define NGX_HTTP_MOBISPOT_USER_COMPANY        1
#define NGX_HTTP_MOBISPOT_USER_ZONES          2
#define NGX_HTTP_MOBISPOT_USER_NETWORKS       3
#define NGX_HTTP_MOBISPOT_USER_ADMIN          4
#define NGX_HTTP_MOBISPOT_USER_OPERATOR_OF    5
#define NGX_HTTP_MOBISPOT_USER_FIELDS         6

/* the info's field of the password's hash: written only with a password */
#define NGX_HTTP_MOBISPOT_USER_PASSWORD_HASH  "password_hash"

/*
 * The ids an account names that must exist: its networks (passports',
 * then company's: at most 16 + 32) and its sites (at most 64).
 */
#define NGX_HTTP_MOBISPOT_NAMED_NETWORKS      0
#define NGX_HTTP_MOBISPOT_NAMED_SITES         1
#define NGX_HTTP_MOBISPOT_NAMED_MAX           64


typedef struct {
    ngx_str_t                   network;
    int64_t                     from;         /* days since the epoch */
    int64_t                     to;           /* inclusive */
} ngx_http_mobispot_passport_t;


/* an id of the body that must exist in Redis, and the field naming it */
typedef struct {
    const char                 *id;
    const char                 *field;        /* a format of one %uz */
    size_t                      index;
} ngx_http_mobispot_named_t;


typedef struct {
    ngx_str_t                   info[NGX_HTTP_MOBISPOT_USER_FIELDS];

    /* sorted by network, then from */
    ngx_http_mobispot_passport_t passports[NGX_HTTP_MOBISPOT_PASSPORTS_MAX];
    ngx_uint_t                  npassports;

    ngx_http_mobispot_named_t   named[2][NGX_HTTP_MOBISPOT_NAMED_MAX];
    ngx_uint_t                  nnamed[2];

    /* the passports field that the write replaced (or deleted) */
    ngx_str_t                   old;

    /*
     * the body's email (lowercased before the write by the email check,
     * ngx_http_mobispot_admin_user_email.c: the info's "email", the
     * sign-in's index ms:{email:<sha256 hex>}), and the info's email that
     * the write replaced (or deleted)
     */
    ngx_str_t                   email;
    ngx_str_t                   old_email;

    /*
     * the body's "password" (empty: none, the stored hash is kept), and
     * its yescrypt hash once the thread pool has made it
     */
    ngx_str_t                   password;
    ngx_str_t                   hash;
} ngx_http_mobispot_account_t;


/* clients (ngx_http_mobispot_admin_client*.c) */

#define NGX_HTTP_MOBISPOT_CLIENT_SITE_GATEWAY  0
#define NGX_HTTP_MOBISPOT_CLIENT_PUBLIC_APP    1
#define NGX_HTTP_MOBISPOT_CLIENT_CONFIDENTIAL  2

#define NGX_HTTP_MOBISPOT_CLIENT_URIS_MAX      10

typedef struct {
    ngx_uint_t                  kind;
    ngx_str_t                   kind_name;
    ngx_str_t                   name;
    ngx_str_t                   site;         /* a site_gateway's */
    ngx_str_t                   redirect;     /* URIs, space-separated */
    ngx_str_t                   logout;       /* URIs, space-separated */

    /* a confidential client's: the body's secret (or empty), its hash */
    ngx_str_t                   secret;
    ngx_str_t                   hash;
} ngx_http_mobispot_client_t;


typedef struct {
    ngx_str_t                   id;
    ngx_str_t                   doc;          /* the site as stored */
    ngx_str_t                   summary;      /* for ms:sites */
    ngx_str_t                   lon;
    ngx_str_t                   lat;
    ngx_str_t                   hours;        /* encoded */
    ngx_str_t                   closed;
    ngx_str_t                   networks;     /* comma-separated */
    ngx_str_t                   zone;         /* empty: none */
    ngx_str_t                   slot;
    ngx_str_t                   name;
    ngx_str_t                   town;
    ngx_str_t                   tz;
    int64_t                     cap[MOBISPOT_KINDS];
    ngx_str_t                   rooms[MOBISPOT_KINDS];  /* ids, comma-sep. */
    ngx_str_t                   company_rooms[MOBISPOT_KINDS]; /* for them */

    yajl_val                    nets;         /* the array of the body */
    ngx_uint_t                  missing;      /* index + 1 of an unknown net */
    ngx_uint_t                  created;
    ngx_uint_t                  deleted;
    ngx_uint_t                  bad;

    /* the write (ngx_http_mobispot_admin_write.c) */
    ngx_uint_t                  kind;
    const char                 *what;         /* its name in the log */

    /*
     * what the first reply inside EXEC says of a new entry: a site write
     * starts with DEL (0: there was none), a network write with HSET
     * (1: a new field)
     */
    long long                   new_when;

    /* an account's parts (admin/users) */
    ngx_http_mobispot_account_t account;

    /* a client's parts (admin/clients) */
    ngx_http_mobispot_client_t  client;

    /* the 404 of the route's entity (ngx_http_mobispot_admin_doc()) */
    ngx_int_t                 (*absent)(ngx_http_request_t *r);
} ngx_http_mobispot_admin_t;


/* the rule of an array of distinct ids (ngx_http_mobispot_check_ids()) */
typedef struct {
    size_t                      max;
    const char                 *not_array;    /* "must be an array of .." */
    const char                 *bad_size;     /* "more than 16 networks" */
    const char                 *invalid;      /* "not a valid network id" */
    const char                 *twice;        /* "network given twice" */
} ngx_http_mobispot_ids_rule_t;


/*
 * The rule of an array of distinct strings of another kind
 * (ngx_http_mobispot_check_strings()): check says NULL when one is taken,
 * or why not (the rule's invalid is not used).
 */
typedef struct {
    ngx_http_mobispot_ids_rule_t  ids;
    const char                 *(*check)(const char *s, size_t len,
                                     unsigned flags);
    size_t                        min;
    u_char                        sep;        /* of the list */
} ngx_http_mobispot_strings_rule_t;


/* what an admin write does next, after a step that went asynchronous */
typedef ngx_int_t (*ngx_http_mobispot_admin_next_pt)(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);


/* checks a body, generating the document as stored (NGX_DECLINED: ck) */
typedef ngx_int_t (*ngx_http_mobispot_admin_check_pt)(
    ngx_http_mobispot_check_t *ck, yajl_val body,
    ngx_http_mobispot_admin_t *ad, yajl_gen doc);


/* what every admin route shares (ngx_http_mobispot_admin.c) */

ngx_http_mobispot_admin_t *ngx_http_mobispot_admin_begin(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx, ngx_int_t *rc);
ngx_http_mobispot_admin_t *ngx_http_mobispot_admin_put_begin(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx,
    ngx_http_mobispot_check_t *ck, int (*id_valid)(const char *, size_t),
    const char *id_rule, yajl_val *body, ngx_int_t *rc);
ngx_http_mobispot_admin_t *ngx_http_mobispot_admin_put_checked(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx,
    int (*id_valid)(const char *, size_t), const char *id_rule,
    ngx_http_mobispot_admin_check_pt check, ngx_int_t *rc);
yajl_val ngx_http_mobispot_admin_body(ngx_http_request_t *r,
    ngx_http_mobispot_check_t *ck);
ngx_int_t ngx_http_mobispot_check_fail(ngx_http_mobispot_check_t *ck,
    ngx_uint_t status, const char *message, const char *fmt, ...);
ngx_int_t ngx_http_mobispot_check_send(ngx_http_mobispot_check_t *ck);
ngx_int_t ngx_http_mobispot_check_keys(ngx_http_mobispot_check_t *ck,
    yajl_val obj, const char *prefix, const char **known);
ngx_int_t ngx_http_mobispot_check_string(ngx_http_mobispot_check_t *ck,
    yajl_val v, const char *field, size_t max, ngx_str_t *out);
ngx_int_t ngx_http_mobispot_check_array(ngx_http_mobispot_check_t *ck,
    yajl_val v, const char *field, const char *not_array, size_t min,
    size_t max, const char *bad_size);
ngx_int_t ngx_http_mobispot_check_ids(ngx_http_mobispot_check_t *ck,
    yajl_val v, const char *field, const ngx_http_mobispot_ids_rule_t *rule,
    yajl_gen doc, ngx_str_t *list);
ngx_int_t ngx_http_mobispot_check_strings(ngx_http_mobispot_check_t *ck,
    yajl_val v, const char *field,
    const ngx_http_mobispot_strings_rule_t *rule, unsigned flags,
    yajl_gen doc, ngx_str_t *list);
ngx_int_t ngx_http_mobispot_check_coordinate(ngx_http_mobispot_check_t *ck,
    yajl_val body, const char *field, int (*valid)(double),
    const char *range, double *out);
ngx_int_t ngx_http_mobispot_check_int(ngx_http_mobispot_check_t *ck,
    yajl_val v, const char *field, int64_t min, int64_t max, int64_t *out);
ngx_int_t ngx_http_mobispot_check_secret(ngx_http_mobispot_check_t *ck,
    yajl_val v, const char *field, size_t min, size_t max, const char *rule,
    ngx_str_t *out);
ngx_int_t ngx_http_mobispot_join(ngx_pool_t *pool, yajl_val array, u_char sep,
    ngx_str_t *out);
ngx_int_t ngx_http_mobispot_gen_str(yajl_gen g, const char *key,
    ngx_str_t *value);
ngx_int_t ngx_http_mobispot_gen_copy(ngx_http_request_t *r, yajl_gen g,
    ngx_str_t *out);
ngx_int_t ngx_http_mobispot_admin_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_uint_t argc, ...);
ngx_int_t ngx_http_mobispot_admin_doc(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmd,
    ngx_str_t *key);


/* a password or a secret hashed in the thread pool (admin_hash.c) */

ngx_int_t ngx_http_mobispot_admin_hash(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t *secret, ngx_str_t *out,
    ngx_http_mobispot_admin_next_pt next);


/* a site body (ngx_http_mobispot_admin_site_check.c) */

ngx_int_t ngx_http_mobispot_check_site(ngx_http_mobispot_check_t *ck,
    yajl_val body, ngx_http_mobispot_admin_t *ad, yajl_gen doc);


/* the writes (ngx_http_mobispot_admin_write.c) */

ngx_int_t ngx_http_mobispot_admin_site_write(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_site_remove(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_network_write(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_http_mobispot_reply_t *ngx_http_mobispot_admin_exec(
    ngx_http_mobispot_reply_t *replies, ngx_uint_t n);
ngx_uint_t ngx_http_mobispot_admin_failed(ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
ngx_int_t ngx_http_mobispot_admin_index_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
ngx_int_t ngx_http_mobispot_admin_answer(ngx_http_request_t *r,
    ngx_http_mobispot_admin_t *ad);


/* the account routes (ngx_http_mobispot_admin_user.c) */

ngx_int_t ngx_http_mobispot_admin_user_absent(ngx_http_request_t *r);


/* an account body (ngx_http_mobispot_admin_user_check.c) */

ngx_int_t ngx_http_mobispot_check_user(ngx_http_mobispot_check_t *ck,
    yajl_val body, ngx_http_mobispot_admin_t *ad, yajl_gen doc);


/* a client body (ngx_http_mobispot_admin_client_check.c) */

ngx_int_t ngx_http_mobispot_check_client(ngx_http_mobispot_check_t *ck,
    yajl_val body, ngx_http_mobispot_admin_t *ad, yajl_gen doc);


/* the account writes (ngx_http_mobispot_admin_user_write.c) */

ngx_int_t ngx_http_mobispot_admin_user_write(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_user_remove(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_admin_user_email_key(ngx_http_request_t *r,
    ngx_str_t *email, ngx_str_t *key);

/* an email held by one account only (ngx_http_mobispot_admin_user_email.c) */

ngx_int_t ngx_http_mobispot_admin_user_email(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);


#endif /* _NGX_HTTP_MOBISPOT_ADMIN_H_INCLUDED_ */
