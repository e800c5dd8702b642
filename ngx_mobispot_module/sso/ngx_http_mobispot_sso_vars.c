
/*
 * Copyright (C) Mobispot
 *
 * The identity variables: $mobispot_sso_status, $mobispot_sub, $mobispot_sid,
 * $mobispot_pass, $mobispot_roles and $mobispot_claim_NAME; and the site
 * the location fronts, $mobispot_sso_site.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sso/ngx_http_mobispot_sso.h"


static ngx_int_t ngx_http_mobispot_sso_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_sso_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_sso_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_sso_roles_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_mobispot_sso_claim_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, const char *name);
static ngx_int_t ngx_http_mobispot_sso_site_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/*
 * The identity variables are changeable: the configuration may "set" them
 * (the Spot API's tests stand in for a signed-in caller that way); a
 * client never can.
 */

static ngx_http_variable_t  ngx_http_mobispot_sso_vars[] = {

    { ngx_string("mobispot_sso_status"), NULL,
      ngx_http_mobispot_sso_status_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("mobispot_sub"), NULL,
      ngx_http_mobispot_sso_claim_variable, (uintptr_t) "sub",
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_CHANGEABLE, 0 },

    { ngx_string("mobispot_sid"), NULL,
      ngx_http_mobispot_sso_claim_variable, (uintptr_t) "sid",
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_CHANGEABLE, 0 },

    { ngx_string("mobispot_pass"), NULL,
      ngx_http_mobispot_sso_claim_variable, (uintptr_t) "pass",
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_CHANGEABLE, 0 },

    { ngx_string("mobispot_sso_site"), NULL,
      ngx_http_mobispot_sso_site_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_CHANGEABLE, 0 },

    { ngx_string("mobispot_roles"), NULL,
      ngx_http_mobispot_sso_roles_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_CHANGEABLE, 0 },

    { ngx_string("mobispot_claim_"), NULL,
      ngx_http_mobispot_sso_prefix_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_mobispot_sso_add_variables(ngx_conf_t *cf)
{
    return ngx_http_mobispot_add_variables(cf, ngx_http_mobispot_sso_vars);
}


static ngx_int_t
ngx_http_mobispot_sso_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char                   *name;
    ngx_http_mobispot_sso_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_sso_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    name = mobispot_sso_status_name(ctx->status);

    v->data = (u_char *) name;
    v->len = ngx_strlen(name);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* the location's mobispot_site, with mobispot_sso on; else not found */

static ngx_int_t
ngx_http_mobispot_sso_site_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_mobispot_sso_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_sso_module);

    if (lcf->mode == NGX_HTTP_MOBISPOT_SSO_OFF || lcf->site.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = lcf->site.data;
    v->len = lcf->site.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mobispot_sso_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_mobispot_sso_claim_value(r, v, (const char *) data);
}


static ngx_int_t
ngx_http_mobispot_sso_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t  *var = (ngx_str_t *) data;

    u_char  *name;
    size_t   len;

    len = var->len - (sizeof("mobispot_claim_") - 1);

    name = ngx_pnalloc(r->pool, len + 1);
    if (name == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(name, var->data + sizeof("mobispot_claim_") - 1, len);
    name[len] = '\0';

    return ngx_http_mobispot_sso_claim_value(r, v, (const char *) name);
}


/* a role name: not empty, no blank, comma or control character */

static ngx_uint_t
ngx_http_mobispot_sso_role_name(u_char *s)
{
    if (*s == '\0') {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if (*s <= 0x20 || *s == 0x7f || *s == ',') {
            return 0;
        }
    }

    return 1;
}


/*
 * $mobispot_roles: the "roles" claim as a list separated by blanks (an
 * array of strings, or one string naming one role); empty (but found: the
 * caller is signed in) when there is none, or when a role is not a string
 * or holds a blank, a comma or a control character.  So the
 * string "user admin" is no list: it names no role and grants none
 * (docs/security.md).
 */

static ngx_int_t
ngx_http_mobispot_sso_roles_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                       *p, *s;
    size_t                        len, i;
    yajl_val                      roles, e;
    ngx_http_mobispot_sso_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_sso_module);

    if (ctx == NULL || ctx->status != MOBISPOT_SSO_OK) {
        return NGX_OK;
    }

    /* a signed-in caller: no role (or roles not well formed) is empty */

    v->data = (u_char *) "";
    v->len = 0;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    roles = mobispot_json_member(ngx_http_mobispot_sso_payload(r, ctx),
                                 "roles");

    if (roles == NULL) {
        return NGX_OK;
    }

    if (YAJL_IS_STRING(roles)) {
        if (ngx_http_mobispot_sso_role_name((u_char *) roles->u.string)) {
            v->data = (u_char *) roles->u.string;
            v->len = ngx_strlen(v->data);
        }

        return NGX_OK;
    }

    if (!YAJL_IS_ARRAY(roles)) {
        return NGX_OK;
    }

    len = 0;

    for (i = 0; i < roles->u.array.len; i++) {
        e = roles->u.array.values[i];

        if (!YAJL_IS_STRING(e)) {
            return NGX_OK;
        }

        s = (u_char *) e->u.string;

        if (!ngx_http_mobispot_sso_role_name(s)) {
            return NGX_OK;
        }

        len += ngx_strlen(s) + 1;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;

    for (i = 0; i < roles->u.array.len; i++) {
        if (i) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, roles->u.array.values[i]->u.string,
                       ngx_strlen(roles->u.array.values[i]->u.string));
    }

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * A claim of a verified token as a variable: strings as they are (not
 * found when they hold a control character, so that a value can never
 * split a header), numbers as written, booleans as true/false, arrays and
 * objects as JSON; null or absent: not found.
 */

static ngx_int_t
ngx_http_mobispot_sso_claim_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, const char *name)
{
    u_char                       *p;
    size_t                        len, i;
    yajl_gen                      g;
    yajl_val                      val;
    const char                   *s;
    const unsigned char          *buf;
    ngx_http_mobispot_sso_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_sso_module);

    if (ctx == NULL || ctx->status != MOBISPOT_SSO_OK) {
        return NGX_OK;
    }

    val = mobispot_json_member(ngx_http_mobispot_sso_payload(r, ctx), name);

    if (val == NULL || YAJL_IS_NULL(val)) {
        return NGX_OK;
    }

    if (YAJL_IS_STRING(val)) {
        s = val->u.string;
        len = ngx_strlen(s);

        for (i = 0; i < len; i++) {
            if ((u_char) s[i] < 0x20 || s[i] == 0x7f) {
                return NGX_OK;
            }
        }

        p = (u_char *) s;

    } else if (YAJL_IS_NUMBER(val)) {
        p = (u_char *) val->u.number.r;
        len = ngx_strlen(p);

    } else if (YAJL_IS_TRUE(val)) {
        p = (u_char *) "true";
        len = 4;

    } else if (YAJL_IS_FALSE(val)) {
        p = (u_char *) "false";
        len = 5;

    } else {
        g = ngx_http_mobispot_api_gen(r);
        if (g == NULL) {
            return NGX_ERROR;
        }

        if (mobispot_json_value(g, val) != 0
            || yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }

        p = (u_char *) buf;
    }

    v->data = p;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
