
/*
 * Copyright (C) Mobispot
 *
 * POST {prefix}bookings: the body and the Idempotency-Key checked, then
 *
 *   1. the key claimed (SET NX GET, a lease), the booking's id added to the
 *      caller's index, the site's info (its zone too), the passports,
 *      whose the booking's record is (HGET user: it exists already when
 *      an earlier try made it) and the caller's account read, pipelined;  (the
 *      room asked for is checked by the script, which reads the site's
 *      rooms)
 *   2. the window checked against the site (slots, hours, entitlement),
 *      then the booking script on the site's keys;
 *   3. the 201 sent, and the answer kept under the key (not waited for).
 *
 * A body with "near" instead of "spot" books the nearest site instead
 * (ngx_http_mobispot_booking_near.c).  docs/bookings.md has the rules,
 * docs/data-model.md the keys and why a failure between the steps never
 * books twice.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "bookings/ngx_http_mobispot_bookings.h"



static ngx_int_t ngx_http_mobispot_booking_body(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_int_t *rc);
static ngx_int_t ngx_http_mobispot_booking_idem(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_str_t *key, ngx_int_t *rc);
static ngx_int_t ngx_http_mobispot_booking_sha256(ngx_http_request_t *r,
    ngx_str_t *a, ngx_str_t *b, ngx_str_t *c, size_t bytes, ngx_str_t *hex);



ngx_int_t
ngx_http_mobispot_booking_create(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    u_char                         *p;
    ngx_int_t                       rc;
    ngx_str_t                       key, nl, *fp;
    ngx_uint_t                      n, k;
    ngx_http_mobispot_site_t        site;
    ngx_http_mobispot_booking_t    *bk;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    bk = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_booking_t));
    if (bk == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = bk;
    bk->now = ngx_time();

    if (ngx_http_mobispot_booking_caller(r, &bk->user, &rc) != NGX_OK
        || ngx_http_mobispot_booking_idem(r, bk, &key, &rc) != NGX_OK
        || ngx_http_mobispot_booking_body(r, bk, &rc) != NGX_OK)
    {
        return rc;
    }

    /* the key is the caller's; its record holds the body's fingerprint */

    ngx_str_set(&nl, "\n");
    fp = &bk->fingerprint;

    if (ngx_http_mobispot_booking_sha256(r, &ctx->body, NULL, NULL, 16, fp)
        != NGX_OK
        || ngx_http_mobispot_booking_sha256(r, &bk->user, &nl, &key, 32,
                                            &bk->idem)
           != NGX_OK
        || ngx_http_mobispot_booking_sha256(r, &bk->idem, &nl, fp,
                                            NGX_HTTP_MOBISPOT_BOOKING_HEX / 2,
                                            &bk->id)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_spots_key(r, &key, "ms:{user:%V}:idem:%V",
                                    &bk->user, &bk->idem)
        != NGX_OK
        || ngx_http_mobispot_spots_key(r, &bk->index, "ms:{user:%V}:bookings",
                                       &bk->user)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    bk->idem = key;

    if (bk->near != NULL) {
        /* the id depends on the site: ngx_http_mobispot_booking_near.c */
        return ngx_http_mobispot_booking_near(r, ctx);
    }

    /* the same caller, key and body always name the same booking */

    p = ngx_pnalloc(r->pool, bk->spot.len + 1 + bk->id.len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key.data = p;
    p = ngx_cpymem(p, bk->spot.data, bk->spot.len);
    *p++ = '.';
    p = ngx_cpymem(p, bk->id.data, bk->id.len);
    key.len = p - key.data;
    bk->id = key;
    ctx->booking = key;

    if (ngx_http_mobispot_spots_key(r, &bk->record, "ms:{site:%V}:booking:%V",
                                    &bk->spot, &bk->id)
        != NGX_OK
        || ngx_http_mobispot_spots_key(r, &bk->info, "ms:{site:%V}:info",
                                       &bk->spot)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cmds = ngx_pcalloc(r->pool, (NGX_HTTP_MOBISPOT_R_N + 2)
                                * sizeof(ngx_http_mobispot_redis_cmd_t));

    /* ZADD index <from> <id>: before the booking, so none is ever unlisted */

    if (cmds == NULL
        || ngx_http_mobispot_booking_claim_cmd(r, bk, &cmds[0]) != NGX_OK
        || ngx_http_mobispot_booking_index_cmd(r, bk, NULL, "ZADD", &bk->id,
                                               1, &cmds[1])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&site, sizeof(ngx_http_mobispot_site_t));
    site.id = bk->spot;

    if (ngx_http_mobispot_site_info_cmd(r, &site, &cmds[2]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_mobispot_booking_user_cmd(r, &bk->record,
                                     &cmds[NGX_HTTP_MOBISPOT_R_RECORD])
        != NGX_OK
        || ngx_http_mobispot_booking_account_cmd(r, bk,
                                      &cmds[NGX_HTTP_MOBISPOT_R_ACCOUNT])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* then the passports, unless the cache has them, then the PUBLISH */

    n = NGX_HTTP_MOBISPOT_R_N;

    rc = ngx_http_mobispot_booking_passports(r, ctx, bk, &cmds[n], n);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        n++;
    }

    k = ngx_http_mobispot_booking_due_cmds(r, bk,
                                     &cmds[NGX_HTTP_MOBISPOT_R_DUE],
                                     &cmds[n]);
    if (k == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n += k - 1;

    /* written: the key, the index, the deadlines; nothing kept */

    bk->caller[0] = bk->idem;
    bk->caller[1] = bk->index;
    ngx_str_set(&bk->caller[2], NGX_HTTP_MOBISPOT_KEY_DUE);

    bk->caller_keys.written = bk->caller;
    bk->caller_keys.nwritten = 3;
    bk->caller_keys.read = &bk->account;
    bk->caller_keys.nread = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmds, n, &bk->caller_keys,
                                      ngx_http_mobispot_booking_claimed);
}


/* SET idem P<fingerprint> NX GET PX <lease>: the key claimed, or known */

ngx_int_t
ngx_http_mobispot_booking_claim_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_redis_cmd_t *cmd)
{
    u_char       *p;
    const char  **argv;
    size_t       *argvlen;

    argv = ngx_palloc(r->pool, 7 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 7 * sizeof(size_t));
    p = ngx_pnalloc(r->pool, 1 + bk->fingerprint.len);

    if (argv == NULL || argvlen == NULL || p == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[1] = (char *) bk->idem.data;
    argvlen[1] = bk->idem.len;
    argv[2] = (char *) p;
    argvlen[2] = ngx_sprintf(p, "P%V", &bk->fingerprint) - p;
    argv[3] = "NX";
    argvlen[3] = 2;
    argv[4] = "GET";
    argvlen[4] = 3;
    argv[5] = "PX";
    argvlen[5] = 2;
    argv[6] = NGX_HTTP_MOBISPOT_IDEM_LEASE_MS;
    argvlen[6] = sizeof(NGX_HTTP_MOBISPOT_IDEM_LEASE_MS) - 1;

    cmd->argc = 7;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}


/*
 * Idempotency-Key: one header, an sf-string ("...", as the IETF draft
 * writes it) or a bare token, 1 to 255 printable ASCII characters.
 */

static ngx_int_t
ngx_http_mobispot_booking_idem(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_str_t *key, ngx_int_t *rc)
{
    size_t      i;
    ngx_uint_t  n;

    n = ngx_http_mobispot_header_values(r, "Idempotency-Key", key, 1);

    if (n == 0) {
        *rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                            "idempotency_key_required",
                                            "a booking needs an "
                                            "Idempotency-Key header",
                                            "header", "Idempotency-Key");
        return NGX_DECLINED;
    }

    if (n == 1 && key->len >= 2 && key->data[0] == '"'
        && key->data[key->len - 1] == '"')
    {
        key->data++;
        key->len -= 2;
    }

    for (i = 0; n == 1 && i < key->len; i++) {
        if (key->data[i] < 0x20 || key->data[i] > 0x7e
            || key->data[i] == '"' || key->data[i] == '\\')
        {
            break;
        }
    }

    if (n != 1 || key->len == 0 || key->len > NGX_HTTP_MOBISPOT_IDEM_MAX
        || i != key->len)
    {
        *rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_idempotency_key",
                                            "Idempotency-Key must be one "
                                            "header of 1 to 255 printable "
                                            "ASCII characters",
                                            "header", "Idempotency-Key");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * {"spot":ID,"kind":KIND,"resource":ROOM,"from":RFC3339,"to":RFC3339}, or
 * "near":{"lat","lon","radius_km"} instead of "spot" (and no "resource")
 */

static ngx_int_t
ngx_http_mobispot_booking_body(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_int_t *rc)
{
    yajl_val                    body, v;
    ngx_str_t                   s;
    ngx_uint_t                  i;
    ngx_http_mobispot_check_t   ck;

    static const char  *known[] = { "spot", "near", "kind", "resource",
                                    "from", "to", "hold", NULL };
    static const char  *times[] = { "from", "to" };

    ngx_memzero(&ck, sizeof(ngx_http_mobispot_check_t));
    ck.request = r;

    body = ngx_http_mobispot_admin_body(r, &ck);

    if (body == NULL
        || ngx_http_mobispot_check_keys(&ck, body, "", known) != NGX_OK)
    {
        *rc = ngx_http_mobispot_check_send(&ck);
        return NGX_DECLINED;
    }

    if (ngx_http_mobispot_booking_near_body(&ck, body, bk) != NGX_OK) {
        *rc = ngx_http_mobispot_check_send(&ck);
        return NGX_DECLINED;
    }

    if ((bk->near == NULL
         && ngx_http_mobispot_check_string(&ck,
                                           mobispot_json_member(body, "spot"),
                                           "spot", MOBISPOT_ID_MAX, &bk->spot)
            != NGX_OK)
        || ngx_http_mobispot_check_string(&ck,
                                          mobispot_json_member(body, "kind"),
                                          "kind", 32, &s)
           != NGX_OK)
    {
        *rc = ngx_http_mobispot_check_send(&ck);
        return NGX_DECLINED;
    }

    if (bk->near == NULL
        && !mobispot_id_valid((char *) bk->spot.data, bk->spot.len))
    {
        (void) ngx_http_mobispot_check_fail(&ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "not a valid site id", "spot");
        *rc = ngx_http_mobispot_check_send(&ck);
        return NGX_DECLINED;
    }

    bk->kind = mobispot_kind_parse((char *) s.data, s.len);

    if (bk->kind < 0) {
        (void) ngx_http_mobispot_check_fail(&ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "kind must be desk, meeting_room, "
                                            "conference_room or "
                                            "training_room", "kind");
        *rc = ngx_http_mobispot_check_send(&ck);
        return NGX_DECLINED;
    }

    v = mobispot_json_member(body, "resource");

    if (v != NULL) {
        if (ngx_http_mobispot_check_string(&ck, v, "resource",
                                           MOBISPOT_ID_MAX, &bk->resource)
            != NGX_OK)
        {
            *rc = ngx_http_mobispot_check_send(&ck);
            return NGX_DECLINED;
        }

        if (bk->kind == MOBISPOT_KIND_DESK
            || !mobispot_id_valid((char *) bk->resource.data,
                                  bk->resource.len))
        {
            (void) ngx_http_mobispot_check_fail(&ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                bk->kind == MOBISPOT_KIND_DESK
                                                ? "a desk is taken from the "
                                                  "site's pool: no resource"
                                                : "not a valid room id",
                                                "resource");
            *rc = ngx_http_mobispot_check_send(&ck);
            return NGX_DECLINED;
        }
    }

    v = mobispot_json_member(body, "hold");

    if (v != NULL && !YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
        (void) ngx_http_mobispot_check_fail(&ck, NGX_HTTP_BAD_REQUEST,
                                            "must be true or false", "hold");
        *rc = ngx_http_mobispot_check_send(&ck);
        return NGX_DECLINED;
    }

    bk->hold = (v != NULL && YAJL_IS_TRUE(v));

    for (i = 0; i < 2; i++) {
        if (ngx_http_mobispot_check_string(&ck,
                                           mobispot_json_member(body,
                                                                times[i]),
                                           times[i], 64, &s)
            != NGX_OK)
        {
            *rc = ngx_http_mobispot_check_send(&ck);
            return NGX_DECLINED;
        }

        if (mobispot_parse_rfc3339((char *) s.data, s.len,
                                   i ? &bk->to : &bk->from)
            != MOBISPOT_OK)
        {
            (void) ngx_http_mobispot_check_fail(&ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "must be an RFC 3339 "
                                                "date-time from 1970 to 2100",
                                                "%s", times[i]);
            *rc = ngx_http_mobispot_check_send(&ck);
            return NGX_DECLINED;
        }
    }

    if (bk->from >= bk->to) {
        *rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "window_empty",
                                            "to must be later than from",
                                            "rule", "window_empty");
        return NGX_DECLINED;
    }

    if (bk->to - bk->from > NGX_HTTP_MOBISPOT_BOOKING_WINDOW_MAX) {
        *rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "window_too_long",
                                            "a booking is at most 24 hours",
                                            "rule", "window_too_long");
        return NGX_DECLINED;
    }

    if (bk->to <= bk->now) {
        *rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "window_in_past",
                                            "the window has ended",
                                            "rule", "window_in_past");
        return NGX_DECLINED;
    }

    /* the strings live in the parse tree, freed with the pool: copy them */

    s = bk->spot;
    bk->spot.data = ngx_pstrdup(r->pool, &s);
    s = bk->resource;
    bk->resource.data = s.len ? ngx_pstrdup(r->pool, &s) : (u_char *) "";

    if (bk->spot.data == NULL || bk->resource.data == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The SHA-256 of a, b and c one after the other, its first bytes in hex.
 * The parts are joined in the pool and hashed by the one-shot SHA256():
 * three EVP contexts a request cost a tenth of its instructions.
 */

static ngx_int_t
ngx_http_mobispot_booking_sha256(ngx_http_request_t *r, ngx_str_t *a,
    ngx_str_t *b, ngx_str_t *c, size_t bytes, ngx_str_t *hex)
{
    u_char  *p, *buf;
    u_char   md[SHA256_DIGEST_LENGTH];
    size_t   len;

    len = a->len + (b ? b->len : 0) + (c ? c->len : 0);

    hex->data = ngx_pnalloc(r->pool, 2 * bytes);
    buf = ngx_pnalloc(r->pool, len + 1);

    if (hex->data == NULL || buf == NULL || bytes > SHA256_DIGEST_LENGTH) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(buf, a->data, a->len);

    if (b != NULL) {
        p = ngx_cpymem(p, b->data, b->len);
    }

    if (c != NULL) {
        p = ngx_cpymem(p, c->data, c->len);
    }

    (void) SHA256(buf, len, md);

    ngx_http_mobispot_booking_hex(hex->data, md, bytes);
    hex->len = 2 * bytes;

    return NGX_OK;
}



/*
 * The booking's first deadline (its hold's end, or the time it becomes a
 * no-show), in the deadlines' queue before the script can make it, so
 * that none is ever missed: ZADD LT (a retry never puts it later); and,
 * when it is within mobispot_bookings_horizon, announced to the runners
 * (PUBLISH): one further ahead is found by their next read.  Returns the
 * number of commands (1 or 2), 0 when out of memory.
 */

ngx_uint_t
ngx_http_mobispot_booking_due_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_redis_cmd_t *zadd,
    ngx_http_mobispot_redis_cmd_t *announce)
{
    u_char                                  *p;
    const char                             **argv;
    size_t                                  *argvlen;
    ngx_http_mobispot_bookings_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_bookings_module);

    bk->due = bk->hold ? bk->now + bmcf->hold
                       : ngx_min(ngx_max(bk->from, bk->now) + bmcf->no_show,
                                 bk->to);

    argv = ngx_palloc(r->pool, 8 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 8 * sizeof(size_t));
    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);

    if (argv == NULL || argvlen == NULL || p == NULL) {
        return 0;
    }

    argv[0] = "ZADD";
    argvlen[0] = 4;
    argv[1] = NGX_HTTP_MOBISPOT_KEY_DUE;
    argvlen[1] = sizeof(NGX_HTTP_MOBISPOT_KEY_DUE) - 1;
    argv[2] = "LT";
    argvlen[2] = 2;
    argv[3] = (char *) p;
    argvlen[3] = ngx_sprintf(p, "%L", bk->due) - p;
    argv[4] = (char *) bk->id.data;
    argvlen[4] = bk->id.len;

    zadd->argc = 5;
    zadd->argv = argv;
    zadd->argvlen = argvlen;

    if (bk->due > bk->now + bmcf->horizon) {
        return 1;
    }

    argv[5] = "PUBLISH";
    argvlen[5] = 7;
    argv[6] = argv[1];
    argvlen[6] = argvlen[1];
    argv[7] = argv[3];
    argvlen[7] = argvlen[3];

    announce->argc = 3;
    announce->argv = &argv[5];
    announce->argvlen = &argvlen[5];

    return 2;
}


/* HGET <record> user: whether the booking exists, and whose it is */

ngx_int_t
ngx_http_mobispot_booking_user_cmd(ngx_http_request_t *r, ngx_str_t *record,
    ngx_http_mobispot_redis_cmd_t *cmd)
{
    const char  **argv;
    size_t       *argvlen;

    argv = ngx_palloc(r->pool, 3 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 3 * sizeof(size_t));

    if (argv == NULL || argvlen == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "HGET";
    argvlen[0] = 4;
    argv[1] = (char *) record->data;
    argvlen[1] = record->len;
    argv[2] = "user";
    argvlen[2] = 4;

    cmd->argc = 3;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}
