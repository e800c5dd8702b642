
/*
 * Copyright (C) Mobispot
 *
 * PUT {prefix}admin/sites/{id}: the body checked
 * (ngx_http_mobispot_admin_site_check.c), its summary made, the networks
 * it names checked against Redis, then the write; DELETE
 * {prefix}admin/sites/{id}.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_admin.h"


static ngx_int_t ngx_http_mobispot_admin_nets_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);


/* PUT {prefix}admin/sites/{id} */

ngx_int_t
ngx_http_mobispot_admin_site_put(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    size_t                          i;
    yajl_gen                        sum;
    ngx_int_t                       rc;
    const char                    **argv;
    size_t                         *argvlen;
    ngx_http_mobispot_admin_t      *ad;
    ngx_http_mobispot_redis_cmd_t   cmd;

    static ngx_str_t  passports = ngx_string(NGX_HTTP_MOBISPOT_KEY_PASSPORTS);
    static const ngx_http_mobispot_api_keys_t  keys = { &passports, 1,
                                                        NULL, 0 };

    ad = ngx_http_mobispot_admin_put_checked(r, ctx, mobispot_id_valid,
                                             "a site id matches "
                                             "[a-z0-9][a-z0-9_-]{0,63}",
                                             ngx_http_mobispot_check_site,
                                             &rc);
    if (ad == NULL) {
        return rc;
    }

    sum = ngx_http_mobispot_api_gen(r);
    if (sum == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the summary in ms:sites: {"name","town","networks":[..]} */

    if (yajl_gen_map_open(sum) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(sum, "name", &ad->name) != NGX_OK
        || ngx_http_mobispot_gen_str(sum, "town", &ad->town) != NGX_OK
        || mobispot_json_string(sum, "networks") != MOBISPOT_OK
        || yajl_gen_array_open(sum) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < ad->nets->u.array.len; i++) {
        if (mobispot_json_string(sum, ad->nets->u.array.values[i]->u.string)
            != MOBISPOT_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (yajl_gen_array_close(sum) != yajl_gen_status_ok
        || yajl_gen_map_close(sum) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_copy(r, sum, &ad->summary) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ad->nets->u.array.len == 0) {
        return ngx_http_mobispot_admin_site_write(r, ctx);
    }

    /* the networks must exist: one HMGET, then the write */

    argv = ngx_palloc(r->pool, (2 + ad->nets->u.array.len) * sizeof(char *));
    argvlen = ngx_palloc(r->pool,
                         (2 + ad->nets->u.array.len) * sizeof(size_t));

    if (argv == NULL || argvlen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "HMGET";
    argvlen[0] = sizeof("HMGET") - 1;
    argv[1] = NGX_HTTP_MOBISPOT_KEY_PASSPORTS;
    argvlen[1] = sizeof(NGX_HTTP_MOBISPOT_KEY_PASSPORTS) - 1;

    for (i = 0; i < ad->nets->u.array.len; i++) {
        argv[2 + i] = ad->nets->u.array.values[i]->u.string;
        argvlen[2 + i] = ngx_strlen(argv[2 + i]);
    }

    cmd.argc = (int) (2 + ad->nets->u.array.len);
    cmd.argv = argv;
    cmd.argvlen = argvlen;

    return ngx_http_mobispot_api_call(r, ctx, &cmd, 1, &keys,
                                      ngx_http_mobispot_admin_nets_done);
}


/* the networks named by a site exist: one passport each */

static ngx_int_t
ngx_http_mobispot_admin_nets_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    u_char                     *field;
    size_t                      i;
    ngx_http_mobispot_admin_t  *ad;

    ad = ctx->data;

    if (replies[0].type != REDIS_REPLY_ARRAY
        || replies[0].elements != ad->nets->u.array.len)
    {
        return ngx_http_mobispot_api_bad_reply(r, "HMGET of networks");
    }

    for (i = 0; i < replies[0].elements; i++) {
        if (replies[0].element[i].type == REDIS_REPLY_STRING) {
            continue;
        }

        field = ngx_pnalloc(r->pool, 32);
        if (field == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(field, "networks[%uz]%Z", i);

        return ngx_http_mobispot_spots_error(r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                             "invalid_value",
                                             "unknown network", "field",
                                             (char *) field);
    }

    return ngx_http_mobispot_admin_site_write(r, ctx);
}


/* DELETE {prefix}admin/sites/{id} */

ngx_int_t
ngx_http_mobispot_admin_site_delete(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_mobispot_admin_t  *ad;

    ad = ngx_http_mobispot_admin_begin(r, ctx, &rc);
    if (ad == NULL) {
        return rc;
    }

    if (!mobispot_id_valid((char *) ad->id.data, ad->id.len)) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND,
                                             "unknown_site", "no such site",
                                             "parameter", "id");
    }

    return ngx_http_mobispot_admin_site_remove(r, ctx);
}
