
/*
 * Copyright (C) Mobispot
 *
 * The sign-in's throttling (docs/sso.md, "Throttling"): growing delays,
 * never a lockout.  For the account (the SHA-256 hex of the sign-in name
 * as typed, lowercased, so that an unknown name is throttled as a known
 * one) and for the client's address, each on its own tag:
 *
 *     ms:{login:acct:<sha256 hex>}:fails   failures (INCR), kept 24 h
 *     ms:{login:acct:<sha256 hex>}:wait    set while a delay runs (PX)
 *     ms:{login:addr:<address>}:fails
 *     ms:{login:addr:<address>}:wait
 *
 * (the address: an IPv4 client's, an IPv6 client's /64, as
 * "2001:0db8:0000:0001::/64", mobispot_login_addr6()).
 *
 * From the 5th failure of an account (the 20th of an address) on, each
 * failure sets a wait of 1 s, doubling, to 15 min at most
 * (mobispot_login_delay()); while a wait runs, POST login answers 429 with
 * Retry-After and checks no password.  A success deletes the account's
 * keys (not the address's).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_login.h"
#include "issuer/ngx_http_mobispot_issuer.h"


static ngx_int_t ngx_http_mobispot_throttle_key(ngx_http_request_t *r,
    ngx_str_t *key, const char *kind, ngx_str_t *who, const char *what);
static ngx_int_t ngx_http_mobispot_throttle_addr(ngx_http_request_t *r,
    ngx_str_t *addr);


static ngx_str_t  ngx_http_mobispot_throttle_del = ngx_string("DEL");


/* the four keys of name (the sign-in name as typed) and of the address */

ngx_int_t
ngx_http_mobispot_issuer_throttle_init(ngx_http_request_t *r,
    ngx_http_mobispot_throttle_t *th, ngx_str_t *name)
{
    u_char     *lower;
    ngx_str_t   lowered, hash, addr;

    lower = ngx_pnalloc(r->pool, name->len + 1);
    if (lower == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(lower, name->data, name->len);
    lowered.data = lower;
    lowered.len = name->len;

    if (ngx_http_mobispot_throttle_addr(r, &addr) != NGX_OK
        || ngx_http_mobispot_issuer_sha256_hex(r, &lowered, &hash) != NGX_OK
        || ngx_http_mobispot_throttle_key(r, &th->fails[0], "acct", &hash,
                                          "fails")
           != NGX_OK
        || ngx_http_mobispot_throttle_key(r, &th->wait[0], "acct", &hash,
                                          "wait")
           != NGX_OK
        || ngx_http_mobispot_throttle_key(r, &th->fails[1], "addr", &addr,
                                          "fails")
           != NGX_OK
        || ngx_http_mobispot_throttle_key(r, &th->wait[1], "addr", &addr,
                                          "wait")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the client's address as throttled: IPv6 by its /64 */

static ngx_int_t
ngx_http_mobispot_throttle_addr(ngx_http_request_t *r, ngx_str_t *addr)
{
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;

    if (r->connection->sockaddr->sa_family == AF_INET6) {
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;

        addr->data = ngx_pnalloc(r->pool, MOBISPOT_LOGIN_ADDR6_LEN + 1);
        if (addr->data == NULL) {
            return NGX_ERROR;
        }

        addr->len = mobispot_login_addr6(sin6->sin6_addr.s6_addr,
                                         (char *) addr->data);
        return NGX_OK;
    }
#endif

    *addr = r->connection->addr_text;

    return NGX_OK;
}


/* cmds[0..1]: PTTL of both waits */

ngx_int_t
ngx_http_mobispot_issuer_throttle_check(ngx_http_request_t *r,
    ngx_http_mobispot_throttle_t *th, ngx_http_mobispot_redis_cmd_t *cmds)
{
    static ngx_str_t  pttl = ngx_string("PTTL");

    if (ngx_http_mobispot_issuer_cmd(r, &cmds[0], 2, &pttl, &th->wait[0])
        != NGX_OK
        || ngx_http_mobispot_issuer_cmd(r, &cmds[1], 2, &pttl, &th->wait[1])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the replies of the two PTTL: the seconds left to wait, 0 for none */

time_t
ngx_http_mobispot_issuer_throttle_wait(ngx_http_mobispot_reply_t *replies)
{
    ngx_uint_t  i;
    long long   ms;

    ms = 0;

    for (i = 0; i < 2; i++) {
        if (replies[i].type == REDIS_REPLY_INTEGER
            && replies[i].integer > ms)
        {
            ms = replies[i].integer;
        }
    }

    return (time_t) ((ms + 999) / 1000);
}


/*
 * A failure, cmds[0..7]: for the account, then the address, MULTI, INCR
 * fails, EXPIRE fails 86400, EXEC (each transaction on its own tag)
 */

ngx_int_t
ngx_http_mobispot_issuer_throttle_fail(ngx_http_request_t *r,
    ngx_http_mobispot_throttle_t *th, ngx_http_mobispot_redis_cmd_t *cmds)
{
    ngx_uint_t  i;

    static ngx_str_t  multi = ngx_string("MULTI");
    static ngx_str_t  incr = ngx_string("INCR");
    static ngx_str_t  expire = ngx_string("EXPIRE");
    static ngx_str_t  keep = ngx_string("86400");
    static ngx_str_t  exec = ngx_string("EXEC");

    for (i = 0; i < 2; i++) {
        if (ngx_http_mobispot_issuer_cmd(r, &cmds[4 * i], 1, &multi)
            != NGX_OK
            || ngx_http_mobispot_issuer_cmd(r, &cmds[4 * i + 1], 2, &incr,
                                            &th->fails[i])
               != NGX_OK
            || ngx_http_mobispot_issuer_cmd(r, &cmds[4 * i + 2], 3, &expire,
                                            &th->fails[i], &keep)
               != NGX_OK
            || ngx_http_mobispot_issuer_cmd(r, &cmds[4 * i + 3], 1, &exec)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The 8 replies of a failure: the counts inside the EXECs; for each over
 * its threshold, SET wait 1 PX <its delay> in cmds (*ncmds of them, 0 to
 * 2)
 */

ngx_int_t
ngx_http_mobispot_issuer_throttle_delays(ngx_http_request_t *r,
    ngx_http_mobispot_throttle_t *th, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n, ngx_http_mobispot_redis_cmd_t *cmds, ngx_uint_t *ncmds)
{
    u_char                     *p;
    unsigned                    delay;
    ngx_str_t                   ms;
    ngx_uint_t                  i;
    ngx_http_mobispot_reply_t  *exec;

    static ngx_str_t  set = ngx_string("SET");
    static ngx_str_t  one = ngx_string("1");
    static ngx_str_t  px = ngx_string("PX");

    static const unsigned  threshold[2] = {
        NGX_HTTP_MOBISPOT_THROTTLE_ACCOUNT, NGX_HTTP_MOBISPOT_THROTTLE_ADDRESS
    };

    *ncmds = 0;

    for (i = 0; i < 2 && 4 * i + 3 < n; i++) {
        exec = &replies[4 * i + 3];

        if (exec->type != REDIS_REPLY_ARRAY || exec->elements < 1
            || exec->element[0].type != REDIS_REPLY_INTEGER
            || exec->element[0].integer < 0)
        {
            continue;
        }

        delay = mobispot_login_delay(exec->element[0].integer,
                                     threshold[i]);
        if (delay == 0) {
            continue;
        }

        p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ms.data = p;
        ms.len = ngx_sprintf(p, "%ui", (ngx_uint_t) delay * 1000) - p;

        if (ngx_http_mobispot_issuer_cmd(r, &cmds[*ncmds], 5, &set,
                                         &th->wait[i], &one, &px, &ms)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        (*ncmds)++;
    }

    return NGX_OK;
}


/* a success: DEL the account's fails and wait (one tag) */

ngx_int_t
ngx_http_mobispot_issuer_throttle_clear(ngx_http_request_t *r,
    ngx_http_mobispot_throttle_t *th, ngx_http_mobispot_redis_cmd_t *cmd)
{
    return ngx_http_mobispot_issuer_cmd(r, cmd, 3,
                                        &ngx_http_mobispot_throttle_del,
                                        &th->fails[0], &th->wait[0]);
}


/* 429, Retry-After: wait */

ngx_int_t
ngx_http_mobispot_issuer_throttled(ngx_http_request_t *r, time_t wait)
{
    u_char  *p;
    size_t   len;

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_sprintf(p, "%T", wait) - p;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mobispot: sign-in refused (throttled): 429, a wait of "
                  "%T s runs", wait);

    if (ngx_http_mobispot_api_header(r, "Retry-After",
                                     sizeof("Retry-After") - 1, p, len)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_issuer_error_page(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                               "Too many failed sign-ins: "
                                               "please wait a moment, then "
                                               "try again.");
}


/* ms:{login:<kind>:<who>}:<what>, NUL-terminated */

static ngx_int_t
ngx_http_mobispot_throttle_key(ngx_http_request_t *r, ngx_str_t *key,
    const char *kind, ngx_str_t *who, const char *what)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, sizeof("ms:{login::}:") + ngx_strlen(kind)
                             + who->len + ngx_strlen(what));
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    p = ngx_sprintf(p, "ms:{login:%s:%V}:%s", kind, who, what);
    *p = '\0';
    key->len = p - key->data;

    return NGX_OK;
}
