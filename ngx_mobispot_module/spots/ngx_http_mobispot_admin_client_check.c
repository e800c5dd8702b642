
/*
 * Copyright (C) Mobispot
 *
 * The check of a client body (PUT {prefix}admin/clients/{id}): each field
 * in turn, generating as it goes the client document as stored and the
 * fields the issuer reads (docs/data-model.md, "Clients").  Whether the
 * site of a site gateway exists, and whether a confidential client that
 * sends no secret has one stored, is asked of Redis before the write
 * (ngx_http_mobispot_admin_client.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_secret.h"
#include "core/mobispot_uri.h"
#include "spots/ngx_http_mobispot_admin.h"


static ngx_int_t ngx_http_mobispot_check_kind(ngx_http_mobispot_check_t *ck,
    yajl_val v, ngx_http_mobispot_client_t *cl);
static ngx_int_t ngx_http_mobispot_check_client_site(
    ngx_http_mobispot_check_t *ck, yajl_val v, ngx_http_mobispot_client_t *cl,
    yajl_gen doc);
static ngx_int_t ngx_http_mobispot_check_client_secret(
    ngx_http_mobispot_check_t *ck, yajl_val v,
    ngx_http_mobispot_client_t *cl);


/* redirect URIs (mobispot_redirect_uri_check()), joined with blanks */

static const ngx_http_mobispot_strings_rule_t  ngx_http_mobispot_redirects = {
    { NGX_HTTP_MOBISPOT_CLIENT_URIS_MAX, "must be an array of URIs",
      "1 to 10 URIs", NULL, "URI given twice" },
    mobispot_redirect_uri_check,
    1,
    ' '
};


static const ngx_http_mobispot_strings_rule_t  ngx_http_mobispot_logouts = {
    { NGX_HTTP_MOBISPOT_CLIENT_URIS_MAX, "must be an array of URIs",
      "at most 10 URIs", NULL, "URI given twice" },
    mobispot_redirect_uri_check,
    0,
    ' '
};


static const char  *ngx_http_mobispot_client_kinds[] = {
    "site_gateway", "public_app", "confidential", NULL
};


/*
 * Checks a client body and generates, as it goes, the client document as
 * stored (doc) and its parts (ad->client).  NGX_DECLINED: ck holds the
 * error; NGX_ERROR: out of memory.
 *
 * {"kind":"site_gateway","name":"CoWallonia Namur","site":"cw-namur",
 *  "redirect_uris":["https://namur.cowallonia.be/sso/callback"],
 *  "post_logout_redirect_uris":["https://namur.cowallonia.be/"]}
 */

ngx_int_t
ngx_http_mobispot_check_client(ngx_http_mobispot_check_t *ck, yajl_val body,
    ngx_http_mobispot_admin_t *ad, yajl_gen doc)
{
    yajl_val                     v;
    unsigned                     flags;
    ngx_int_t                    rc;
    ngx_http_mobispot_client_t  *cl;

    static const char  *known[] = {
        "kind", "name", "redirect_uris", "post_logout_redirect_uris", "site",
        "secret", NULL
    };

    cl = &ad->client;

    rc = ngx_http_mobispot_check_keys(ck, body, "", known);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_mobispot_check_kind(ck, mobispot_json_member(body, "kind"),
                                      cl);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mobispot_check_string(ck, mobispot_json_member(body, "name"),
                                       "name", 200, &cl->name)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (yajl_gen_map_open(doc) != yajl_gen_status_ok
        || ngx_http_mobispot_gen_str(doc, "id", &ad->id) != NGX_OK
        || ngx_http_mobispot_gen_str(doc, "kind", &cl->kind_name) != NGX_OK
        || ngx_http_mobispot_gen_str(doc, "name", &cl->name) != NGX_OK
        || mobispot_json_string(doc, "redirect_uris") != MOBISPOT_OK)
    {
        return NGX_ERROR;
    }

    /* a private-use scheme: a public app's only */

    flags = (cl->kind == NGX_HTTP_MOBISPOT_CLIENT_PUBLIC_APP)
            ? MOBISPOT_URI_PRIVATE_USE : 0;

    rc = ngx_http_mobispot_check_strings(ck,
                                         mobispot_json_member(body,
                                                              "redirect_uris"),
                                         "redirect_uris",
                                         &ngx_http_mobispot_redirects,
                                         flags, doc, &cl->redirect);
    if (rc != NGX_OK) {
        return rc;
    }

    if (mobispot_json_string(doc, "post_logout_redirect_uris") != MOBISPOT_OK)
    {
        return NGX_ERROR;
    }

    v = mobispot_json_member(body, "post_logout_redirect_uris");

    if (v == NULL) {
        ngx_str_set(&cl->logout, "");

        if (yajl_gen_array_open(doc) != yajl_gen_status_ok
            || yajl_gen_array_close(doc) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }

    } else {
        rc = ngx_http_mobispot_check_strings(ck, v,
                                             "post_logout_redirect_uris",
                                             &ngx_http_mobispot_logouts,
                                             flags, doc, &cl->logout);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    rc = ngx_http_mobispot_check_client_site(ck,
                                             mobispot_json_member(body,
                                                                  "site"),
                                             cl, doc);
    if (rc != NGX_OK) {
        return rc;
    }

    /* write-only: never in the document */

    rc = ngx_http_mobispot_check_client_secret(ck,
                                               mobispot_json_member(body,
                                                                    "secret"),
                                               cl);
    if (rc != NGX_OK) {
        return rc;
    }

    if (yajl_gen_map_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_check_kind(ngx_http_mobispot_check_t *ck, yajl_val v,
    ngx_http_mobispot_client_t *cl)
{
    ngx_uint_t  i;

    if (ngx_http_mobispot_check_string(ck, v, "kind", 32, &cl->kind_name)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    for (i = 0; ngx_http_mobispot_client_kinds[i]; i++) {
        if (ngx_strcmp(cl->kind_name.data, ngx_http_mobispot_client_kinds[i])
            == 0)
        {
            cl->kind = i;
            return NGX_OK;
        }
    }

    return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                        "must be site_gateway, public_app "
                                        "or confidential", "kind");
}


/*
 * "site": required for a site_gateway (the audience of its tokens; that
 * it exists is asked of Redis), refused for any other kind.
 */

static ngx_int_t
ngx_http_mobispot_check_client_site(ngx_http_mobispot_check_t *ck,
    yajl_val v, ngx_http_mobispot_client_t *cl, yajl_gen doc)
{
    if (cl->kind != NGX_HTTP_MOBISPOT_CLIENT_SITE_GATEWAY) {
        ngx_str_null(&cl->site);

        if (v != NULL) {
            return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                "only a site_gateway has a "
                                                "site", "site");
        }

        return NGX_OK;
    }

    if (ngx_http_mobispot_check_string(ck, v, "site", 64, &cl->site)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (!mobispot_id_valid((char *) cl->site.data, cl->site.len)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "not a valid site id", "site");
    }

    if (ngx_http_mobispot_gen_str(doc, "site", &cl->site) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * "secret": a confidential client's only, write-only: 32 to 256 bytes of
 * UTF-8 without NUL.  A confidential client that sends none keeps its
 * stored hash (it must have one: asked of Redis before the write).
 */

static ngx_int_t
ngx_http_mobispot_check_client_secret(ngx_http_mobispot_check_t *ck,
    yajl_val v, ngx_http_mobispot_client_t *cl)
{
    if (v != NULL && cl->kind != NGX_HTTP_MOBISPOT_CLIENT_CONFIDENTIAL) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "only a confidential client has "
                                            "a secret", "secret");
    }

    return ngx_http_mobispot_check_secret(ck, v, "secret",
                                          MOBISPOT_CLIENT_SECRET_MIN,
                                          MOBISPOT_CLIENT_SECRET_MAX,
                                          "a secret is 32 to 256 bytes of "
                                          "UTF-8, without NUL", &cl->secret);
}
