
/*
 * Copyright (C) Mobispot
 *
 * The mint: the tokens of a sign-in for one client, made from the account
 * as it is now (docs/sso.md, "The tokens' claims").  One round trip reads
 *
 *   HMGET   ms:{user:<sub>}:info passports company company_zones
 *                                company_networks admin operator_of
 *   HGETALL ms:{networks}:passport           network id -> passport id
 *
 * (two commands, each of one tag, read only); a deleted account gets no
 * token.  The claims are built by mobispot_at_claims(), then signed: the
 * access token with the issuer's signing key, the ID token with its ID
 * token key (the last RSA key listed, else the signing key); ES256 at
 * once (some 30 us), RS256 in the thread pool (the signing core is a pure
 * function).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "http/ngx_http_mobispot_thread.h"
#include "issuer/ngx_http_mobispot_issuer.h"


#define NGX_HTTP_MOBISPOT_MINT_FIELDS  6
#define NGX_HTTP_MOBISPOT_MINT_NETS    256   /* networks in one claim */


/* the task of an RS256 signature: the claims in, the tokens out */

typedef struct {
    EVP_PKEY                          *pkey[2];
    const char                        *kid[2];
    char                              *claims[2];
    size_t                             claims_len[2];
    char                              *token[2];
    size_t                             token_len[2];
    ngx_http_mobispot_api_ctx_t       *ctx;
    ngx_http_mobispot_issuer_mint_t   *m;
} ngx_http_mobispot_mint_task_t;


static ngx_int_t ngx_http_mobispot_mint_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_mint_claims(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_mint_t *m, ngx_http_mobispot_reply_t *info,
    ngx_http_mobispot_reply_t *map);
static ngx_int_t ngx_http_mobispot_mint_id_claims(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_mint_t *m,
    ngx_http_mobispot_issuer_loc_conf_t *lcf, time_t now);
static ngx_uint_t ngx_http_mobispot_mint_list(ngx_pool_t *pool,
    ngx_str_t *text, const char **out, ngx_uint_t n, ngx_uint_t max);
static const char *ngx_http_mobispot_mint_passport(
    ngx_http_mobispot_reply_t *map, const char *net);
static ngx_int_t ngx_http_mobispot_mint_sign(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_issuer_mint_t *m);
static void ngx_http_mobispot_mint_work(void *data, ngx_log_t *log);
static ngx_int_t ngx_http_mobispot_mint_signed(ngx_http_request_t *r,
    void *data);
static void ngx_http_mobispot_mint_free(void *data);
static ngx_int_t ngx_http_mobispot_mint_copy(ngx_http_request_t *r,
    ngx_str_t *dst, char *src, size_t len);


static const char  *ngx_http_mobispot_mint_fields[] = {
    "passports", "company", "company_zones", "company_networks", "admin",
    "operator_of"
};


ngx_int_t
ngx_http_mobispot_issuer_mint(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_issuer_mint_t *m)
{
    size_t                          *len;
    ngx_uint_t                       i;
    const char                     **argv;
    ngx_http_mobispot_api_keys_t    *keys;
    ngx_http_mobispot_redis_cmd_t   *cmds;

    static ngx_str_t  map = ngx_string("ms:{networks}:passport");

    m->info_key.data = ngx_pnalloc(r->pool, m->sub.len + 16);
    if (m->info_key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m->info_key.len = ngx_sprintf(m->info_key.data, "ms:{user:%V}:info",
                                  &m->sub)
                      - m->info_key.data;

    cmds = ngx_palloc(r->pool, 2 * sizeof(ngx_http_mobispot_redis_cmd_t));
    argv = ngx_palloc(r->pool, (NGX_HTTP_MOBISPOT_MINT_FIELDS + 4)
                               * sizeof(char *));
    len = ngx_palloc(r->pool, (NGX_HTTP_MOBISPOT_MINT_FIELDS + 4)
                              * sizeof(size_t));
    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));
    if (cmds == NULL || argv == NULL || len == NULL || keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "HMGET";
    len[0] = 5;
    argv[1] = (const char *) m->info_key.data;
    len[1] = m->info_key.len;

    for (i = 0; i < NGX_HTTP_MOBISPOT_MINT_FIELDS; i++) {
        argv[2 + i] = ngx_http_mobispot_mint_fields[i];
        len[2 + i] = ngx_strlen(ngx_http_mobispot_mint_fields[i]);
    }

    argv[2 + i] = "HGETALL";
    len[2 + i] = 7;
    argv[3 + i] = (const char *) map.data;
    len[3 + i] = map.len;

    cmds[0].argc = 2 + NGX_HTTP_MOBISPOT_MINT_FIELDS;
    cmds[0].argv = argv;
    cmds[0].argvlen = len;
    cmds[1].argc = 2;
    cmds[1].argv = &argv[2 + i];
    cmds[1].argvlen = &len[2 + i];

    keys->read = ngx_palloc(r->pool, 2 * sizeof(ngx_str_t));
    if (keys->read == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys->read[0] = m->info_key;
    keys->read[1] = map;
    keys->nread = 2;

    ctx->data = m;

    return ngx_http_mobispot_api_call(r, ctx, cmds, 2, keys,
                                      ngx_http_mobispot_mint_read);
}


static ngx_int_t
ngx_http_mobispot_mint_read(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_issuer_mint_t *m = ctx->data;

    ngx_http_mobispot_reply_t  *info;

    info = &replies[0];

    if (info->type != REDIS_REPLY_ARRAY
        || info->elements != NGX_HTTP_MOBISPOT_MINT_FIELDS
        || (replies[1].type != REDIS_REPLY_ARRAY
            && replies[1].type != REDIS_REPLY_NIL))
    {
        return ngx_http_mobispot_api_bad_reply(r, "the account's read");
    }

    /* every field is written at each PUT: nil is no account */

    if (info->element[0].type != REDIS_REPLY_STRING) {
        return m->done(r, ctx, m, NGX_DECLINED);
    }

    if (ngx_http_mobispot_mint_claims(r, m, info, &replies[1]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_mint_sign(r, ctx, m);
}


/*
 * The entitlement claims from the account (docs/sso.md has the rule):
 * "nets" the networks of the passports valid today (UTC) and those a
 * company account admits, "pass" their passport when they share one and
 * no company adds networks, "zones" a zone-limited company's zones when
 * it alone entitles, "company", "roles".  Always narrower than the
 * bookings' rule, never wider: a gateway may refuse what booking admits.
 */

static ngx_int_t
ngx_http_mobispot_mint_claims(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_mint_t *m, ngx_http_mobispot_reply_t *info,
    ngx_http_mobispot_reply_t *map)
{
    char                                 *text;
    u_char                               *p, *last, *f, *t, *d;
    size_t                                len;
    time_t                                now;
    ngx_tm_t                              tm;
    ngx_int_t                             rc;
    ngx_str_t                            *field[NGX_HTTP_MOBISPOT_MINT_FIELDS];
    ngx_uint_t                            i, j, nnets, npass, ncomp, dup;
    const char                           *pass, *pp, **nets, **comp;
    const char                           *roles[2], *reason;
    mobispot_at_claims_t                  c;
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;
    u_char                                today[16], net[128];

    static ngx_str_t  empty = ngx_null_string;

    for (i = 0; i < NGX_HTTP_MOBISPOT_MINT_FIELDS; i++) {
        field[i] = ngx_http_mobispot_reply_str(&info->element[i]);
        if (field[i] == NULL) {
            field[i] = &empty;
        }
    }

    now = ngx_time();
    ngx_gmtime(now, &tm);
    ngx_sprintf(today, "%4d-%02d-%02d%Z", tm.ngx_tm_year, tm.ngx_tm_mon,
                tm.ngx_tm_mday);

    nets = ngx_palloc(r->pool, 2 * NGX_HTTP_MOBISPOT_MINT_NETS
                               * sizeof(char *));
    if (nets == NULL) {
        return NGX_ERROR;
    }

    comp = nets + NGX_HTTP_MOBISPOT_MINT_NETS;
    nnets = 0;
    npass = 0;
    pass = NULL;

    /* the passports valid today: network/from/to, comma-separated */

    p = field[0]->data;
    last = p + field[0]->len;

    while (p < last && nnets < NGX_HTTP_MOBISPOT_MINT_NETS) {
        f = ngx_strlchr(p, last, ',');
        if (f == NULL) {
            f = last;
        }

        /* network/YYYY-MM-DD/YYYY-MM-DD */

        t = ngx_strlchr(p, f, '/');

        if (t != NULL && f - t == 22 && (size_t) (t - p) < sizeof(net)
            && ngx_strncmp(t + 1, today, 10) <= 0
            && ngx_strncmp(t + 12, today, 10) >= 0)
        {
            ngx_memcpy(net, p, t - p);
            net[t - p] = '\0';

            for (dup = 0, j = 0; j < nnets; j++) {
                if (ngx_strcmp(nets[j], net) == 0) {
                    dup = 1;
                }
            }

            if (!dup) {
                d = ngx_pnalloc(r->pool, t - p + 1);
                if (d == NULL) {
                    return NGX_ERROR;
                }

                ngx_memcpy(d, net, t - p + 1);
                nets[nnets] = (const char *) d;

                pp = ngx_http_mobispot_mint_passport(map, nets[nnets]);

                if (npass == 0 || (pass && pp && ngx_strcmp(pass, pp) == 0)) {
                    pass = pp;

                } else {
                    pass = NULL;
                }

                npass++;
                nnets++;
            }
        }

        p = f + 1;
    }

    /* the networks a company admits (docs/sso.md) */

    ncomp = 0;
    ngx_memzero(&c, sizeof(mobispot_at_claims_t));

    if (field[1]->len) {
        if (field[3]->len) {
            ncomp = ngx_http_mobispot_mint_list(r->pool, field[3], comp, 0,
                                                NGX_HTTP_MOBISPOT_MINT_NETS);

        } else if (field[2]->len == 0 || npass == 0) {
            /* unlimited, or zones alone: every network, zones then */

            for (i = 0; map->type == REDIS_REPLY_ARRAY
                        && i + 1 < map->elements
                        && ncomp < NGX_HTTP_MOBISPOT_MINT_NETS; i += 2)
            {
                comp[ncomp++] = (const char *) map->element[i].str.data;
            }

            if (field[2]->len) {
                c.zones = ngx_palloc(r->pool, NGX_HTTP_MOBISPOT_MINT_NETS
                                              * sizeof(char *));
                if (c.zones == NULL) {
                    return NGX_ERROR;
                }

                c.nzones = ngx_http_mobispot_mint_list(r->pool, field[2],
                                                       c.zones, 0,
                                                NGX_HTTP_MOBISPOT_MINT_NETS);
            }
        }

        c.company = (const char *) field[1]->data;
    }

    for (i = 0; i < ncomp && nnets < NGX_HTTP_MOBISPOT_MINT_NETS; i++) {
        for (dup = 0, j = 0; j < nnets; j++) {
            if (ngx_strcmp(nets[j], comp[i]) == 0) {
                dup = 1;
            }
        }

        if (!dup) {
            nets[nnets++] = comp[i];
            pass = NULL;   /* a company's network needs no passport */
        }
    }

    if (ncomp) {
        pass = NULL;
    }

    /* roles: "admin", "site_operator" */

    j = 0;

    if (field[4]->len == 1 && field[4]->data[0] == '1') {
        roles[j++] = "admin";
    }

    if (field[5]->len) {
        roles[j++] = "site_operator";
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);

    c.iss = (const char *) lcf->url.data;
    c.sub = (const char *) m->sub.data;
    c.aud = (const char *) m->audience.data;
    c.sid = (const char *) m->sid.data;
    c.client_id = (const char *) m->client_id.data;
    c.scope = m->scope.len ? (const char *) m->scope.data : NULL;
    c.iat = now;
    c.exp = now + lcf->token_lifetime;
    c.pass = pass;
    c.nets = nets;       /* never NULL: "nets":[] entitles to nothing */
    c.nnets = nnets;
    c.roles = j ? roles : NULL;
    c.nroles = j;

    m->expires_in = lcf->token_lifetime;

    text = mobispot_at_claims(&c, &len, &reason);
    if (text == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: no access token for \"%V\": %s",
                      &m->sub, reason);
        return NGX_ERROR;
    }

    rc = ngx_http_mobispot_mint_copy(r, &m->claims[0], text, len);
    free(text);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (m->want_id) {
        return ngx_http_mobispot_mint_id_claims(r, m, lcf, now);
    }

    return NGX_OK;
}


/*
 * The ID token's claims (OIDC Core 2): iss, sub, aud (the client's id),
 * exp, iat, auth_time, sid, and nonce when the authorization had one
 */

static ngx_int_t
ngx_http_mobispot_mint_id_claims(ngx_http_request_t *r,
    ngx_http_mobispot_issuer_mint_t *m,
    ngx_http_mobispot_issuer_loc_conf_t *lcf, time_t now)
{
    char        *text;
    size_t       len;
    yajl_gen     g;
    ngx_int_t    rc;
    ngx_uint_t   ok;

    g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return NGX_ERROR;
    }

    yajl_gen_config(g, yajl_gen_validate_utf8, 1);

#define ngx_mint_str(s, l)                                                    \
    (yajl_gen_string(g, (const unsigned char *) (s), l) == yajl_gen_status_ok)
#define ngx_mint_num(v)                                                       \
    (yajl_gen_integer(g, (long long) (v)) == yajl_gen_status_ok)

    ok = yajl_gen_map_open(g) == yajl_gen_status_ok
         && ngx_mint_str("iss", 3) && ngx_mint_str(lcf->url.data, lcf->url.len)
         && ngx_mint_str("sub", 3) && ngx_mint_str(m->sub.data, m->sub.len)
         && ngx_mint_str("aud", 3)
         && ngx_mint_str(m->client_id.data, m->client_id.len)
         && ngx_mint_str("iat", 3) && ngx_mint_num(now)
         && ngx_mint_str("exp", 3) && ngx_mint_num(now + lcf->token_lifetime)
         && ngx_mint_str("auth_time", 9) && ngx_mint_num(m->auth_time)
         && ngx_mint_str("sid", 3) && ngx_mint_str(m->sid.data, m->sid.len)
         && (m->nonce.len == 0
             || (ngx_mint_str("nonce", 5)
                 && ngx_mint_str(m->nonce.data, m->nonce.len)))
         && yajl_gen_map_close(g) == yajl_gen_status_ok;

#undef ngx_mint_str
#undef ngx_mint_num

    text = ok ? mobispot_json_take(g, &len) : NULL;
    yajl_gen_free(g);

    if (text == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_mobispot_mint_copy(r, &m->claims[1], text, len);
    free(text);

    return rc;
}


/* the ids of a comma-separated field, NUL-terminated, after the n first */

static ngx_uint_t
ngx_http_mobispot_mint_list(ngx_pool_t *pool, ngx_str_t *text,
    const char **out, ngx_uint_t n, ngx_uint_t max)
{
    u_char     *p, *last, *f, *s;

    p = text->data;
    last = p + text->len;

    while (p < last && n < max) {
        f = ngx_strlchr(p, last, ',');
        if (f == NULL) {
            f = last;
        }

        if (f > p) {
            s = ngx_pnalloc(pool, f - p + 1);
            if (s == NULL) {
                return n;
            }

            *ngx_cpymem(s, p, f - p) = '\0';
            out[n++] = (const char *) s;
        }

        p = f + 1;
    }

    return n;
}


/* the passport id of a network, from the HGETALL's pairs, or NULL */

static const char *
ngx_http_mobispot_mint_passport(ngx_http_mobispot_reply_t *map,
    const char *net)
{
    size_t  i;

    if (map->type != REDIS_REPLY_ARRAY) {
        return NULL;
    }

    for (i = 0; i + 1 < map->elements; i += 2) {
        if (map->element[i].type == REDIS_REPLY_STRING
            && map->element[i + 1].type == REDIS_REPLY_STRING
            && ngx_strcmp(map->element[i].str.data, net) == 0)
        {
            return (const char *) map->element[i + 1].str.data;
        }
    }

    return NULL;
}


/*
 * The signatures: ES256 here (30 us); when one of them is RS256 (300 us
 * and more), both in the location's thread pool, with copies of the
 * claims in the task's memory
 */

static ngx_int_t
ngx_http_mobispot_mint_sign(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_issuer_mint_t *m)
{
    ngx_int_t                             rc;
    ngx_uint_t                            i, rsa;
    ngx_http_mobispot_thread_t           *t;
    ngx_http_mobispot_mint_task_t        *task;
    ngx_http_mobispot_issuer_key_t       *key[2];
    ngx_http_mobispot_issuer_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_issuer_module);
    key[0] = ngx_http_mobispot_issuer_signing_key(lcf);
    key[1] = ngx_http_mobispot_issuer_id_token_key(lcf);

    t = ngx_http_mobispot_thread_create(r,
                                      sizeof(ngx_http_mobispot_mint_task_t),
                                      ngx_http_mobispot_mint_free);
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    task = t->data;
    task->ctx = ctx;
    task->m = m;
    rsa = 0;

    for (i = 0; i < 2; i++) {
        if (m->claims[i].len == 0) {
            continue;
        }

        task->pkey[i] = key[i]->pkey;
        task->kid[i] = (const char *) key[i]->kid.data;

        if (ngx_strcmp(key[i]->alg, "ES256") != 0) {
            rsa = 1;
        }

        task->claims[i] = ngx_pnalloc(t->pool, m->claims[i].len + 1);
        if (task->claims[i] == NULL) {
            ngx_http_mobispot_thread_destroy(t);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(task->claims[i], m->claims[i].data, m->claims[i].len + 1);
        task->claims_len[i] = m->claims[i].len;
    }

    if (!rsa) {
        ngx_http_mobispot_mint_work(task, r->connection->log);
        rc = ngx_http_mobispot_mint_signed(r, task);
        ngx_http_mobispot_thread_destroy(t);
        return rc;
    }

    return ngx_http_mobispot_thread_post(r, t, ngx_http_mobispot_mint_work,
                                         ngx_http_mobispot_mint_signed);
}


/* in a thread of the pool (or on the event loop for ES256) */

static void
ngx_http_mobispot_mint_work(void *data, ngx_log_t *log)
{
    ngx_http_mobispot_mint_task_t  *task = data;

    ngx_uint_t   i;
    const char  *reason;

    static const char  *typ[2] = { MOBISPOT_JWS_TYP_AT, MOBISPOT_JWS_TYP_ID };

    for (i = 0; i < 2; i++) {
        if (task->claims[i] == NULL) {
            continue;
        }

        task->token[i] = mobispot_jws_sign(task->pkey[i], task->kid[i],
                                           typ[i], task->claims[i],
                                           task->claims_len[i],
                                           &task->token_len[i], &reason);
        if (task->token[i] == NULL) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "mobispot: a token could not be signed: %s",
                          reason);
        }
    }
}


/* back on the event loop, the request still there */

static ngx_int_t
ngx_http_mobispot_mint_signed(ngx_http_request_t *r, void *data)
{
    ngx_http_mobispot_mint_task_t  *task = data;

    ngx_uint_t                        i;
    ngx_str_t                        *out[2];
    ngx_http_mobispot_issuer_mint_t  *m;

    m = task->m;
    out[0] = &m->access_token;
    out[1] = &m->id_token;

    for (i = 0; i < 2; i++) {
        if (task->claims[i] == NULL) {
            continue;
        }

        if (task->token[i] == NULL
            || ngx_http_mobispot_mint_copy(r, out[i], task->token[i],
                                           task->token_len[i])
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        free(task->token[i]);
        task->token[i] = NULL;
    }

    return m->done(r, task->ctx, m, NGX_OK);
}


/* the task's memory goes: the tokens it made and nobody took with it */

static void
ngx_http_mobispot_mint_free(void *data)
{
    ngx_http_mobispot_mint_task_t  *task = data;

    free(task->token[0]);
    free(task->token[1]);
    task->token[0] = NULL;
    task->token[1] = NULL;
}


static ngx_int_t
ngx_http_mobispot_mint_copy(ngx_http_request_t *r, ngx_str_t *dst, char *src,
    size_t len)
{
    dst->data = ngx_pnalloc(r->pool, len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src, len);
    dst->data[len] = '\0';
    dst->len = len;

    return NGX_OK;
}
