
/*
 * Copyright (C) Mobispot
 *
 * PUT {prefix}admin/networks/{id}: the body checked, the network document
 * made, then the write.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_admin.h"


/*
 * PUT {prefix}admin/networks/{id}
 * {"name":"CoWallonia","passport":{"id":"cowallonia-pass",
 *  "name":"CoWallonia pass","monthly_price_eur":250}}
 */

ngx_int_t
ngx_http_mobispot_admin_network_put(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    double                          price;
    yajl_gen                        doc;
    yajl_val                        body, pass, v;
    ngx_int_t                       rc;
    ngx_str_t                       name, pid, pname, price_s;
    ngx_http_mobispot_check_t       ck;
    ngx_http_mobispot_admin_t      *ad;

    static const char  *known[] = { "name", "passport", NULL };
    static const char  *known_pass[] = { "id", "name", "monthly_price_eur",
                                         NULL };

    ngx_memzero(&ck, sizeof(ngx_http_mobispot_check_t));
    ck.request = r;

    ad = ngx_http_mobispot_admin_put_begin(r, ctx, &ck, mobispot_id_valid,
                                           "a network id matches "
                                           "[a-z0-9][a-z0-9_-]{0,63}",
                                           &body, &rc);
    if (ad == NULL) {
        return rc;
    }

    if (ngx_http_mobispot_check_keys(&ck, body, "", known) != NGX_OK
        || ngx_http_mobispot_check_string(&ck,
                                          mobispot_json_member(body, "name"),
                                          "name", 200, &name) != NGX_OK)
    {
        return ngx_http_mobispot_check_send(&ck);
    }

    pass = mobispot_json_member(body, "passport");

    if (pass == NULL || !YAJL_IS_OBJECT(pass)) {
        (void) ngx_http_mobispot_check_fail(&ck, NGX_HTTP_BAD_REQUEST,
                                            pass ? "must be an object"
                                                 : "missing field",
                                            "passport");
        return ngx_http_mobispot_check_send(&ck);
    }

    if (ngx_http_mobispot_check_keys(&ck, pass, "passport.", known_pass)
        != NGX_OK
        || ngx_http_mobispot_check_string(&ck,
                                          mobispot_json_member(pass, "id"),
                                          "passport.id", 64, &pid) != NGX_OK
        || ngx_http_mobispot_check_string(&ck,
                                          mobispot_json_member(pass, "name"),
                                          "passport.name", 200, &pname)
           != NGX_OK)
    {
        return ngx_http_mobispot_check_send(&ck);
    }

    if (!mobispot_id_valid((char *) pid.data, pid.len)) {
        (void) ngx_http_mobispot_check_fail(&ck,
                                            NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "not a valid passport id",
                                            "passport.id");
        return ngx_http_mobispot_check_send(&ck);
    }

    v = mobispot_json_member(pass, "monthly_price_eur");

    if (v == NULL || !YAJL_IS_NUMBER(v) || !YAJL_IS_DOUBLE(v)) {
        (void) ngx_http_mobispot_check_fail(&ck, NGX_HTTP_BAD_REQUEST,
                                            v ? "must be a number"
                                              : "missing field",
                                            "passport.monthly_price_eur");
        return ngx_http_mobispot_check_send(&ck);
    }

    price = YAJL_GET_DOUBLE(v);

    if (!(price >= 0.0 && price <= 100000.0)) {
        (void) ngx_http_mobispot_check_fail(&ck,
                                            NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "must be within 0..100000",
                                            "passport.monthly_price_eur");
        return ngx_http_mobispot_check_send(&ck);
    }

    price_s.data = (u_char *) v->u.number.r;
    price_s.len = ngx_strlen(v->u.number.r);

    doc = ngx_http_mobispot_api_gen(r);

    if (doc == NULL
        || yajl_gen_map_open(doc) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(doc, "id", &ad->id) != NGX_OK
        || ngx_http_mobispot_gen_str(doc, "name", &name) != NGX_OK
        || mobispot_json_string(doc, "passport") != MOBISPOT_OK
        || yajl_gen_map_open(doc) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(doc, "id", &pid) != NGX_OK
        || ngx_http_mobispot_gen_str(doc, "name", &pname) != NGX_OK
        || mobispot_json_string(doc, "monthly_price_eur") != MOBISPOT_OK
        || yajl_gen_number(doc, (char *) price_s.data, price_s.len)
           != yajl_gen_status_ok
        || yajl_gen_map_close(doc) != yajl_gen_status_ok
        || yajl_gen_map_close(doc) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_copy(r, doc, &ad->doc) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* pid lives in the parse tree: copy it for the command */
    ad->name.data = ngx_pstrdup(r->pool, &pid);
    ad->name.len = pid.len;

    if (ad->name.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_admin_network_write(r, ctx);
}
