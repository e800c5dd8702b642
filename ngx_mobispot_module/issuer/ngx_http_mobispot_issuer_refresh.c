
/*
 * Copyright (C) Mobispot
 *
 * Refresh tokens (docs/sso.md, "Refresh tokens"): <sid>.<256 random
 * bits>, stored as the SHA-256 hex of the whole token in the session's
 * hash, rotated at each use by one script on the session's tag:
 *
 *   rt:<client>       the current token's hash, " ", when it was issued
 *   rt_prev:<client>  the token it replaced, " ", when it was rotated away
 *   rt_used:<client>  the hashes of older rotated tokens, newest first
 *                     (16 at most)
 *   rt_scope:<client> the scope granted
 *
 * The current token -> a new one.  The previous one within
 * NGX_HTTP_MOBISPOT_REFRESH_GRACE seconds of its rotation (the retry of a
 * client whose reply was lost) -> a new one again, the one of the lost
 * reply joining the used ones.  A used one (or the previous one after the
 * grace) -> reuse: the session is deleted, its sid revoked (ZADD and
 * PUBLISH ms:sso:revoked) and invalid_grant.  A token of the session that
 * was never issued (a forgery that knows a sid, which every access token
 * shows) -> invalid_grant, nothing changed: a sid alone revokes nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include "core/mobispot_core.h"
#include "issuer/ngx_http_mobispot_issuer_token.h"


static ngx_int_t ngx_http_mobispot_refresh_rotated(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_refresh_revoke(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk);
static ngx_int_t ngx_http_mobispot_refresh_revoked(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_refresh_stored(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_int_t ngx_http_mobispot_refresh_eval(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk,
    const char *script, size_t script_len, ngx_str_t *args, ngx_uint_t nargs,
    ngx_http_mobispot_api_done_pt done);


/*
 * KEYS[1] the session; ARGV: 1 client, 2 the token's hash, 3 the new
 * hash, 4 now, 5 the grace, 6 the scope asked for ("" the granted one).
 * Answers {"gone"}, {"unknown"}, {"reuse"} (the session deleted),
 * {"scope"}, or {"ok"|"grace", user, auth_time, granted scope}.
 */

static const char  ngx_http_mobispot_refresh_script[] =
    "local s, c, h = KEYS[1], ARGV[1], ARGV[2]\n"
    "local user = redis.call('HGET', s, 'user')\n"
    "if not user then return {'gone'} end\n"
    "local now, grace = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local cur = redis.call('HGET', s, 'rt:' .. c) or ''\n"
    "local prev = redis.call('HGET', s, 'rt_prev:' .. c) or ''\n"
    "local used = redis.call('HGET', s, 'rt_used:' .. c) or ''\n"
    "local scope = redis.call('HGET', s, 'rt_scope:' .. c) or ''\n"
    "local ch = string.match(cur, '^(%x+) ')\n"
    "local ph, pt = string.match(prev, '^(%x+) (%d+)$')\n"
    "local kind\n"
    "if ch == h then kind = 'ok'\n"
    "elseif ph == h and now - tonumber(pt) <= grace then kind = 'grace'\n"
    "elseif ph == h or string.find(' ' .. used .. ' ', ' ' .. h .. ' ',"
    " 1, true) then\n"
    "  redis.call('DEL', s)\n"
    "  return {'reuse'}\n"
    "else return {'unknown'} end\n"
    "for w in string.gmatch(ARGV[6], '%S+') do\n"
    "  if not string.find(' ' .. scope .. ' ', ' ' .. w .. ' ', 1, true)"
    " then return {'scope'} end\n"
    "end\n"
    "if kind == 'ok' then\n"
    "  if ph then used = ph .. ' ' .. used end\n"
    "  redis.call('HSET', s, 'rt_prev:' .. c, h .. ' ' .. ARGV[4])\n"
    "elseif ch then\n"
    "  used = ch .. ' ' .. used\n"
    "end\n"
    "local keep = {}\n"
    "for w in string.gmatch(used, '%x+') do\n"
    "  if #keep < 16 then keep[#keep + 1] = w end\n"
    "end\n"
    "redis.call('HSET', s, 'rt:' .. c, ARGV[3] .. ' ' .. ARGV[4],"
    " 'rt_used:' .. c, table.concat(keep, ' '))\n"
    "return {kind, user, redis.call('HGET', s, 'auth_time') or '0',"
    " scope}\n";


/*
 * KEYS[1] the session; ARGV: 1 client, 2 user, 3 the refresh token's
 * "<hash> <now>" ("" none), 4 the scope.  1: the session is that user's
 * (and the token stored, its rotation's history reset), 0: it is gone.
 */

static const char  ngx_http_mobispot_store_script[] =
    "if redis.call('HGET', KEYS[1], 'user') ~= ARGV[2] then return 0 end\n"
    "if ARGV[3] ~= '' then\n"
    "  redis.call('HSET', KEYS[1], 'rt:' .. ARGV[1], ARGV[3],"
    " 'rt_scope:' .. ARGV[1], ARGV[4])\n"
    "  redis.call('HDEL', KEYS[1], 'rt_prev:' .. ARGV[1],"
    " 'rt_used:' .. ARGV[1])\n"
    "end\n"
    "return 1\n";


/* a new refresh token for the grant's sid, and its hash */

ngx_int_t
ngx_http_mobispot_token_new_refresh(ngx_http_request_t *r,
    ngx_http_mobispot_token_t *tk)
{
    u_char  *p;
    u_char   raw[32];

    if (tk->sid.len != NGX_HTTP_MOBISPOT_SID_LEN
        || RAND_bytes(raw, sizeof(raw)) != 1)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_HTTP_MOBISPOT_REFRESH_LEN + 1
                             + 2 * 32 + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    tk->new_refresh.data = p;
    p = ngx_cpymem(p, tk->sid.data, tk->sid.len);
    *p++ = '.';
    p += mobispot_b64url_encode(raw, sizeof(raw), (char *) p);
    *p++ = '\0';
    tk->new_refresh.len = p - tk->new_refresh.data - 1;

    ngx_explicit_memzero(raw, sizeof(raw));

    tk->new_hash.data = p;
    tk->new_hash.len = 64;
    ngx_http_mobispot_token_sha256_hex(tk->new_refresh.data,
                                       tk->new_refresh.len, p);
    p[64] = '\0';

    return NGX_OK;
}


/* the refresh grant: the token's shape, then the rotation */

ngx_int_t
ngx_http_mobispot_token_refresh(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk)
{
    u_char       *p, *now;
    ngx_uint_t    i;
    ngx_str_t     a[10];
    u_char        grace[NGX_INT_T_LEN];
    u_char        hash[65];

    p = tk->refresh.data;

    if (tk->refresh.len != NGX_HTTP_MOBISPOT_REFRESH_LEN
        || p[NGX_HTTP_MOBISPOT_SID_LEN] != '.')
    {
        return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "the refresh token is "
                                             "malformed");
    }

    for (i = 0; i < tk->refresh.len; i++) {
        if (i != NGX_HTTP_MOBISPOT_SID_LEN
            && !((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')
                 || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'
                 || p[i] == '_'))
        {
            return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                                 "invalid_grant",
                                                 "the refresh token is "
                                                 "malformed");
        }
    }

    tk->sid.data = p;
    tk->sid.len = NGX_HTTP_MOBISPOT_SID_LEN;

    if (ngx_http_mobispot_token_key(r, &tk->sess_key, "ms:{sess:%V}",
                                    &tk->sid)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the sid, NUL-terminated for the claims */

    tk->sid.data = ngx_pnalloc(r->pool, NGX_HTTP_MOBISPOT_SID_LEN + 1);
    now = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 1);
    if (tk->sid.data == NULL || now == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_cpymem(tk->sid.data, p, NGX_HTTP_MOBISPOT_SID_LEN) = '\0';

    if (ngx_http_mobispot_token_new_refresh(r, tk) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_mobispot_token_sha256_hex(tk->refresh.data, tk->refresh.len,
                                       hash);
    hash[64] = '\0';

    p = ngx_pnalloc(r->pool, sizeof(hash));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(p, hash, sizeof(hash));

    a[4] = tk->client_id;
    a[5].data = p;
    a[5].len = 64;
    a[6] = tk->new_hash;
    a[7].data = now;
    a[7].len = ngx_sprintf(now, "%T", ngx_time()) - now;
    a[8].data = grace;
    a[8].len = ngx_sprintf(grace, "%d", NGX_HTTP_MOBISPOT_REFRESH_GRACE)
               - grace;
    a[9] = tk->scope;

    if (!tk->scope_given) {
        ngx_str_set(&a[9], "");
    }

    return ngx_http_mobispot_refresh_eval(r, ctx, tk,
                                  ngx_http_mobispot_refresh_script,
                                  sizeof(ngx_http_mobispot_refresh_script) - 1,
                                  a, 6,
                                  ngx_http_mobispot_refresh_rotated);
}


static ngx_int_t
ngx_http_mobispot_refresh_rotated(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_token_t *tk = ctx->data;

    ngx_int_t                   t;
    ngx_str_t                  *kind, *user, *at, *scope;
    ngx_http_mobispot_reply_t  *a;

    a = &replies[0];

    if (a->type != REDIS_REPLY_ARRAY || a->elements < 1
        || (kind = ngx_http_mobispot_reply_str(&a->element[0])) == NULL)
    {
        return ngx_http_mobispot_api_bad_reply(r, "the refresh script");
    }

    if (ngx_strcmp(kind->data, "reuse") == 0) {
        /*
         * warn, not info: a client's doing, but the sign of a stolen
         * token, once per session (it is revoked: the next use is "gone")
         */

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mobispot: a rotated refresh token of session "
                      "\"%V\" was used again by client \"%V\": the session "
                      "is revoked", &tk->sid, &tk->client_id);

        ngx_http_mobispot_issuer_metrics_reuse();

        return ngx_http_mobispot_refresh_revoke(r, ctx, tk);
    }

    if (ngx_strcmp(kind->data, "gone") == 0) {
        return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "the session has ended");
    }

    if (ngx_strcmp(kind->data, "unknown") == 0) {
        return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "the refresh token is not "
                                             "valid for this client");
    }

    if (ngx_strcmp(kind->data, "scope") == 0) {
        return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                             "invalid_scope",
                                             "the scope asked for is wider "
                                             "than the one granted");
    }

    if (a->elements != 4
        || (user = ngx_http_mobispot_reply_str(&a->element[1])) == NULL
        || (at = ngx_http_mobispot_reply_str(&a->element[2])) == NULL
        || (scope = ngx_http_mobispot_reply_str(&a->element[3])) == NULL
        || (t = ngx_atotm(at->data, at->len)) == NGX_ERROR)
    {
        return ngx_http_mobispot_api_bad_reply(r, "the refresh script");
    }

    tk->sub = *user;
    tk->auth_time = t;
    tk->granted = tk->scope_given ? tk->scope : *scope;
    ngx_str_set(&tk->nonce, "");

    return ngx_http_mobispot_token_mint(r, ctx, tk);
}


/* reuse: the sid revoked for as long as a token of it may live */

static ngx_int_t
ngx_http_mobispot_refresh_revoke(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk)
{
    u_char                         *exp, *msg;
    size_t                         *len;
    const char                    **argv;
    ngx_http_mobispot_api_keys_t   *keys;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    static ngx_str_t  revoked = ngx_string("ms:sso:revoked");

    exp = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 1);
    msg = ngx_pnalloc(r->pool, tk->sid.len + NGX_TIME_T_LEN + 2);
    cmds = ngx_palloc(r->pool, 2 * sizeof(ngx_http_mobispot_redis_cmd_t));
    argv = ngx_palloc(r->pool, 7 * sizeof(char *));
    len = ngx_palloc(r->pool, 7 * sizeof(size_t));
    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));
    if (exp == NULL || msg == NULL || cmds == NULL || argv == NULL
        || len == NULL || keys == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "ZADD";
    len[0] = 4;
    argv[1] = (const char *) revoked.data;
    len[1] = revoked.len;
    argv[2] = (const char *) exp;
    len[2] = ngx_sprintf(exp, "%T",
                         ngx_time() + NGX_HTTP_MOBISPOT_REVOKE_FOR)
             - exp;
    argv[3] = (const char *) tk->sid.data;
    len[3] = tk->sid.len;
    argv[4] = "PUBLISH";
    len[4] = 7;
    argv[5] = (const char *) revoked.data;
    len[5] = revoked.len;
    argv[6] = (const char *) msg;
    len[6] = ngx_sprintf(msg, "%V %*s", &tk->sid, len[2], exp) - msg;

    cmds[0].argc = 4;
    cmds[0].argv = argv;
    cmds[0].argvlen = len;
    cmds[1].argc = 3;
    cmds[1].argv = &argv[4];
    cmds[1].argvlen = &len[4];

    keys->written = &revoked;
    keys->nwritten = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmds, 2, keys,
                                      ngx_http_mobispot_refresh_revoked);
}


static ngx_int_t
ngx_http_mobispot_refresh_revoked(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_token_t *tk = ctx->data;

    if (replies[0].type != REDIS_REPLY_INTEGER
        || replies[1].type != REDIS_REPLY_INTEGER)
    {
        return ngx_http_mobispot_api_bad_reply(r, "the session's revocation");
    }

    return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                         "invalid_grant",
                                         "the refresh token was already "
                                         "used: the session is revoked");
}


/* the code grant's last step: the session is the user's, the token kept */

ngx_int_t
ngx_http_mobispot_token_store(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk)
{
    u_char     *v;
    ngx_str_t   a[8];

    v = ngx_pnalloc(r->pool, tk->new_hash.len + NGX_TIME_T_LEN + 2);
    if (v == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a[4] = tk->client_id;
    a[5] = tk->sub;
    a[6].data = v;
    a[6].len = tk->new_hash.len
              ? (size_t) (ngx_sprintf(v, "%V %T", &tk->new_hash, ngx_time())
                          - v)
              : 0;
    a[7] = tk->granted;

    return ngx_http_mobispot_refresh_eval(r, ctx, tk,
                                  ngx_http_mobispot_store_script,
                                  sizeof(ngx_http_mobispot_store_script) - 1,
                                  a, 4,
                                  ngx_http_mobispot_refresh_stored);
}


static ngx_int_t
ngx_http_mobispot_refresh_stored(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_token_t *tk = ctx->data;

    if (replies[0].type != REDIS_REPLY_INTEGER) {
        return ngx_http_mobispot_api_bad_reply(r, "the session's update");
    }

    if (replies[0].integer != 1) {
        return ngx_http_mobispot_token_error(r, tk, NGX_HTTP_BAD_REQUEST,
                                             "invalid_grant",
                                             "the session has ended");
    }

    return ngx_http_mobispot_token_answer(r, tk);
}


/* EVAL script 1 <the session's key> args...: it reads and writes that key */

static ngx_int_t
ngx_http_mobispot_refresh_eval(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_token_t *tk,
    const char *script, size_t script_len, ngx_str_t *args, ngx_uint_t nargs,
    ngx_http_mobispot_api_done_pt done)
{
    args[0].data = (u_char *) "EVAL";
    args[0].len = 4;
    args[1].data = (u_char *) script;
    args[1].len = script_len;
    args[2].data = (u_char *) "1";
    args[2].len = 1;
    args[3] = tk->sess_key;

    return ngx_http_mobispot_token_call(r, ctx, args, 4 + nargs,
                                        &tk->sess_key, 1, done);
}
