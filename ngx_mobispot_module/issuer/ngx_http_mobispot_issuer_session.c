
/*
 * Copyright (C) Mobispot
 *
 * The central session of the issuer (docs/sso.md, "The sign-in's keys in
 * Redis"), for every endpoint that needs it: its cookie
 * __Host-mobispot_session=<sid>.<secret>, its hash ms:{sess:<sid>} (user,
 * key: the SHA-256 hex of the secret, auth_time, exp) read with one HMGET
 * and checked here (the key compared in constant time, exp in the
 * future), and a new one written on its one tag: MULTI, HSET, EXPIREAT,
 * EXEC.  And the small pieces the sign-in's endpoints share: a command of
 * ngx_str_t arguments, random values, SHA-256 in hex, cookies.
 *
 * Nothing here logs a cookie's value or a secret.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/mobispot_login.h"
#include "core/mobispot_spots.h"
#include "issuer/ngx_http_mobispot_issuer.h"


#define NGX_HTTP_MOBISPOT_SESSION_KEY  "ms:{sess:"

/* the largest random value asked for: 32 bytes */
#define NGX_HTTP_MOBISPOT_RANDOM_MAX   32


static ngx_int_t ngx_http_mobispot_session_key(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s);
static time_t ngx_http_mobispot_session_time(ngx_http_mobispot_reply_t *e);


/*
 * The session's cookie: NGX_OK with s->sid and s->secret (and s->key),
 * NGX_DECLINED when there is none or it is not "<sid>.<secret>"
 */

ngx_int_t
ngx_http_mobispot_issuer_session_cookie(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s)
{
    ngx_str_t  value;

    ngx_memzero(s, sizeof(ngx_http_mobispot_issuer_session_t));

    if (ngx_http_mobispot_issuer_cookie(r, NGX_HTTP_MOBISPOT_SESSION_COOKIE,
                                        &value)
        != NGX_OK
        || mobispot_session_cookie_valid((char *) value.data, value.len)
           != MOBISPOT_OK)
    {
        return NGX_DECLINED;
    }

    s->sid.data = value.data;
    s->sid.len = MOBISPOT_LOGIN_SID_LEN;
    s->secret.data = value.data + MOBISPOT_LOGIN_SID_LEN + 1;
    s->secret.len = MOBISPOT_LOGIN_SECRET_LEN;

    return ngx_http_mobispot_session_key(r, s);
}


/* HMGET ms:{sess:<sid>} user key auth_time exp */

ngx_int_t
ngx_http_mobispot_issuer_session_read(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s, ngx_http_mobispot_redis_cmd_t *cmd)
{
    static ngx_str_t  hmget = ngx_string("HMGET");
    static ngx_str_t  user = ngx_string("user");
    static ngx_str_t  key = ngx_string("key");
    static ngx_str_t  auth_time = ngx_string("auth_time");
    static ngx_str_t  exp = ngx_string("exp");

    return ngx_http_mobispot_issuer_cmd(r, cmd, 6, &hmget, &s->key, &user,
                                        &key, &auth_time, &exp);
}


/*
 * The HMGET's reply: a live session of this cookie (its key is the
 * SHA-256 of the cookie's secret, its exp is ahead, its user an id)
 */

ngx_int_t
ngx_http_mobispot_issuer_session_check(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s, ngx_http_mobispot_reply_t *reply)
{
    ngx_str_t                   hash;
    ngx_http_mobispot_reply_t  *e;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 4) {
        return NGX_DECLINED;
    }

    e = reply->element;

    if (e[0].type != REDIS_REPLY_STRING || e[1].type != REDIS_REPLY_STRING
        || e[1].str.len != 2 * SHA256_DIGEST_LENGTH
        || !mobispot_user_id_valid((char *) e[0].str.data, e[0].str.len))
    {
        return NGX_DECLINED;
    }

    if (ngx_http_mobispot_issuer_sha256_hex(r, &s->secret, &hash) != NGX_OK
        || CRYPTO_memcmp(hash.data, e[1].str.data, hash.len) != 0)
    {
        return NGX_DECLINED;
    }

    s->auth_time = ngx_http_mobispot_session_time(&e[2]);
    s->exp = ngx_http_mobispot_session_time(&e[3]);

    if (s->auth_time <= 0 || s->exp <= ngx_time()) {
        return NGX_DECLINED;
    }

    s->sub = e[0].str;

    return NGX_OK;
}


/*
 * A new session of sub: a sid (128 bits) and a secret (256 bits), and its
 * 4 commands: MULTI, HSET ms:{sess:<sid>} user <sub> key <sha256 hex>
 * auth_time <now> exp <now + lifetime>, EXPIREAT <exp>, EXEC
 */

ngx_int_t
ngx_http_mobispot_issuer_session_new(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s, ngx_str_t *sub, time_t lifetime,
    ngx_http_mobispot_redis_cmd_t *cmds)
{
    u_char     *p;
    ngx_str_t   hash, now, exp;

    static ngx_str_t  multi = ngx_string("MULTI");
    static ngx_str_t  hset = ngx_string("HSET");
    static ngx_str_t  expireat = ngx_string("EXPIREAT");
    static ngx_str_t  exec = ngx_string("EXEC");
    static ngx_str_t  user = ngx_string("user");
    static ngx_str_t  key = ngx_string("key");
    static ngx_str_t  auth_time = ngx_string("auth_time");
    static ngx_str_t  exp_name = ngx_string("exp");

    ngx_memzero(s, sizeof(ngx_http_mobispot_issuer_session_t));

    s->sub = *sub;
    s->auth_time = ngx_time();
    s->exp = s->auth_time + lifetime;

    p = ngx_pnalloc(r->pool, 2 * NGX_TIME_T_LEN);

    if (p == NULL
        || ngx_http_mobispot_issuer_random(r, 16, &s->sid) != NGX_OK
        || ngx_http_mobispot_issuer_random(r, 32, &s->secret) != NGX_OK
        || ngx_http_mobispot_issuer_sha256_hex(r, &s->secret, &hash)
           != NGX_OK
        || ngx_http_mobispot_session_key(r, s) != NGX_OK)
    {
        return NGX_ERROR;
    }

    now.data = p;
    now.len = ngx_sprintf(p, "%T", s->auth_time) - p;
    exp.data = p + NGX_TIME_T_LEN;
    exp.len = ngx_sprintf(exp.data, "%T", s->exp) - exp.data;

    if (ngx_http_mobispot_issuer_cmd(r, &cmds[0], 1, &multi) != NGX_OK
        || ngx_http_mobispot_issuer_cmd(r, &cmds[1], 10, &hset, &s->key,
                                        &user, sub, &key, &hash, &auth_time,
                                        &now, &exp_name, &exp)
           != NGX_OK
        || ngx_http_mobispot_issuer_cmd(r, &cmds[2], 3, &expireat, &s->key,
                                        &exp)
           != NGX_OK
        || ngx_http_mobispot_issuer_cmd(r, &cmds[3], 1, &exec) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* Set-Cookie: __Host-mobispot_session=<sid>.<secret>; Max-Age=<lifetime> */

ngx_int_t
ngx_http_mobispot_issuer_session_set(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s, time_t lifetime)
{
    u_char     *p;
    ngx_str_t   value;

    p = ngx_pnalloc(r->pool, MOBISPOT_LOGIN_COOKIE_LEN
                             + sizeof("; Max-Age=") - 1 + NGX_TIME_T_LEN
                             + sizeof("; Path=/; Secure; HttpOnly; "
                                      "SameSite=Lax"));
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;
    value.len = ngx_sprintf(p, "%V.%V; Max-Age=%T; Path=/; Secure; "
                            "HttpOnly; SameSite=Lax",
                            &s->sid, &s->secret, lifetime)
                - p;

    return ngx_http_mobispot_issuer_set_cookie(r,
                                               NGX_HTTP_MOBISPOT_SESSION_COOKIE,
                                               &value, NULL);
}


/* a command of argc ngx_str_t arguments */

ngx_int_t
ngx_http_mobispot_issuer_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_uint_t argc, ...)
{
    va_list        args;
    size_t        *lens;
    ngx_str_t     *a;
    ngx_uint_t     i;
    const char   **argv;

    argv = ngx_palloc(r->pool, argc * (sizeof(char *) + sizeof(size_t)));
    if (argv == NULL) {
        return NGX_ERROR;
    }

    lens = (size_t *) (argv + argc);

    va_start(args, argc);

    for (i = 0; i < argc; i++) {
        a = va_arg(args, ngx_str_t *);
        argv[i] = (const char *) a->data;
        lens[i] = a->len;
    }

    va_end(args);

    cmd->argc = (int) argc;
    cmd->argv = argv;
    cmd->argvlen = lens;

    return NGX_OK;
}


/* bytes random bytes (OpenSSL's RAND_bytes) in base64url, NUL-terminated */

ngx_int_t
ngx_http_mobispot_issuer_random(ngx_http_request_t *r, size_t bytes,
    ngx_str_t *out)
{
    u_char  raw[NGX_HTTP_MOBISPOT_RANDOM_MAX];

    if (bytes > sizeof(raw) || RAND_bytes(raw, (int) bytes) != 1) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: no random bytes (RAND_bytes)");
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(r->pool, mobispot_b64url_encoded_len(bytes) + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = mobispot_b64url_encode(raw, bytes, (char *) out->data);
    out->data[out->len] = '\0';

    ngx_explicit_memzero(raw, sizeof(raw));

    return NGX_OK;
}


/* the SHA-256 of in, as 64 lowercase hexadecimal digits, NUL-terminated */

ngx_int_t
ngx_http_mobispot_issuer_sha256_hex(ngx_http_request_t *r, ngx_str_t *in,
    ngx_str_t *out)
{
    u_char  md[SHA256_DIGEST_LENGTH];

    out->data = ngx_pnalloc(r->pool, 2 * SHA256_DIGEST_LENGTH + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    (void) SHA256(in->data, in->len, md);

    out->len = ngx_hex_dump(out->data, md, sizeof(md)) - out->data;
    out->data[out->len] = '\0';

    return NGX_OK;
}


/* the value of the cookie name: NGX_OK, or NGX_DECLINED when absent */

ngx_int_t
ngx_http_mobispot_issuer_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_str_t  n;

    n.data = (u_char *) name;
    n.len = ngx_strlen(name);

#if (nginx_version >= 1023000)
    if (ngx_http_parse_multi_header_lines(r, r->headers_in.cookie, &n, value)
        == NULL)
    {
        return NGX_DECLINED;
    }
#else
    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &n, value)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }
#endif

    return NGX_OK;
}


/*
 * Set-Cookie: <name>=<value>[<attrs>]; value holds its attributes when
 * attrs is NULL
 */

ngx_int_t
ngx_http_mobispot_issuer_set_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value, const char *attrs)
{
    u_char  *p, *last;
    size_t   len, alen;

    alen = attrs ? ngx_strlen(attrs) : 0;
    len = ngx_strlen(name) + 1 + value->len + alen;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = ngx_cpymem(p, name, ngx_strlen(name));
    *last++ = '=';
    last = ngx_cpymem(last, value->data, value->len);
    last = ngx_cpymem(last, attrs, alen);

    return ngx_http_mobispot_api_header(r, "Set-Cookie",
                                        sizeof("Set-Cookie") - 1, p,
                                        last - p);
}


/* s->key: ms:{sess:<sid>}, NUL-terminated */

static ngx_int_t
ngx_http_mobispot_session_key(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_session_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, sizeof(NGX_HTTP_MOBISPOT_SESSION_KEY) + 1
                             + s->sid.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s->key.data = p;
    p = ngx_sprintf(p, NGX_HTTP_MOBISPOT_SESSION_KEY "%V}", &s->sid);
    *p = '\0';
    s->key.len = p - s->key.data;

    return NGX_OK;
}


/* a time field of the session: its seconds, or -1 */

static time_t
ngx_http_mobispot_session_time(ngx_http_mobispot_reply_t *e)
{
    if (e->type != REDIS_REPLY_STRING || e->str.len == 0
        || e->str.len >= NGX_TIME_T_LEN)
    {
        return -1;
    }

    return ngx_atotm(e->str.data, e->str.len);
}
