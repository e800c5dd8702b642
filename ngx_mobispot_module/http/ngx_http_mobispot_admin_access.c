
/*
 * Copyright (C) Mobispot
 *
 * Who may use the admin routes of a location (mobispot_admin): nobody
 * unless the configuration says so.  Checked by the router before the
 * request body is read.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_api.h"
#include "http/ngx_http_mobispot_delay.h"


static ngx_int_t ngx_http_mobispot_admin_refuse(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message);
static ngx_int_t ngx_http_mobispot_admin_unauthenticated(
    ngx_http_request_t *r);
static void ngx_http_mobispot_admin_delayed(ngx_http_request_t *r);
static ngx_uint_t ngx_http_mobispot_admin_loopback(ngx_connection_t *c);
static ngx_http_variable_value_t *ngx_http_mobispot_admin_roles(
    ngx_http_request_t *r, ngx_http_mobispot_api_ctx_t *ctx,
    ngx_uint_t *has);


/* mobispot_admin off | role=NAME | loopback */

char *
ngx_http_mobispot_admin_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mobispot_loc_conf_t *lcf = conf;

    ngx_str_t  *value;

    if (lcf->admin != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        lcf->admin = NGX_HTTP_MOBISPOT_ADMIN_OFF;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "loopback") == 0) {
        lcf->admin = NGX_HTTP_MOBISPOT_ADMIN_LOOPBACK;
        return NGX_CONF_OK;
    }

    if (value[1].len > 5 && ngx_strncmp(value[1].data, "role=", 5) == 0) {
        lcf->admin = NGX_HTTP_MOBISPOT_ADMIN_ROLE;
        lcf->admin_role.data = value[1].data + 5;
        lcf->admin_role.len = value[1].len - 5;

        if (ngx_strlchr(lcf->admin_role.data,
                        lcf->admin_role.data + lcf->admin_role.len, ',')
            != NULL)
        {
            return "takes one role";
        }

        return NGX_CONF_OK;
    }

    ngx_http_mobispot_emerg(cf, 0,
                            "invalid value \"%V\", it must be \"off\", "
                            "\"role=NAME\" or \"loopback\"", &value[1]);
    return NGX_CONF_ERROR;
}


/*
 * NGX_DECLINED: the caller may use the admin route; otherwise the refusal
 * was sent and this is what the handler returns.  Nothing is read nor written
 * before this answers.
 */

ngx_int_t
ngx_http_mobispot_admin_allowed(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_uint_t                  has;
    ngx_http_variable_value_t  *vv;

    switch (ctx->lcf->admin) {

    case NGX_HTTP_MOBISPOT_ADMIN_LOOPBACK:
        if (ngx_http_mobispot_admin_loopback(r->connection)) {
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mobispot: admin route refused to a caller that is "
                      "not on a loopback address");

        return ngx_http_mobispot_admin_refuse(r, NGX_HTTP_FORBIDDEN,
                                              "forbidden",
                                              "the admin routes of this "
                                              "location are open to "
                                              "loopback callers only");

    case NGX_HTTP_MOBISPOT_ADMIN_ROLE:
        break;

    default:
        return ngx_http_mobispot_admin_refuse(r, NGX_HTTP_FORBIDDEN,
                                              "admin_disabled",
                                              "the admin routes are not "
                                              "enabled here "
                                              "(mobispot_admin)");
    }

    vv = ngx_http_mobispot_admin_roles(r, ctx, &has);

    /* not found: nobody signed in; empty: a caller without roles */

    if (vv == NULL || vv->not_found) {

        /* the one refusal that auth_delay is for: a caller without a token */

        if (ngx_http_mobispot_auth_delay(r, ngx_http_mobispot_admin_delayed)
            == NGX_OK)
        {
            r->main->count++;
            return NGX_DONE;
        }

        return ngx_http_mobispot_admin_unauthenticated(r);
    }

    if (has) {
        return NGX_DECLINED;
    }

    return ngx_http_mobispot_admin_refuse(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                          "the admin API needs the role "
                                          "of mobispot_admin");
}


/*
 * Whether the caller passes the admin check of this location, with
 * nothing sent: for a route open to others too (usage?site=), which
 * refuses by its own rule.
 */

ngx_uint_t
ngx_http_mobispot_admin_is(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_uint_t  has;

    switch (ctx->lcf->admin) {

    case NGX_HTTP_MOBISPOT_ADMIN_LOOPBACK:
        return ngx_http_mobispot_admin_loopback(r->connection);

    case NGX_HTTP_MOBISPOT_ADMIN_ROLE:
        (void) ngx_http_mobispot_admin_roles(r, ctx, &has);
        return has;

    default:
        return 0;
    }
}


/* the roles of a token verified by mobispot_sso in this location */

static ngx_http_variable_value_t *
ngx_http_mobispot_admin_roles(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t *has)
{
    ngx_str_t                   name;
    ngx_http_variable_value_t  *vv;

    ngx_str_set(&name, "mobispot_roles");

    vv = ngx_http_get_variable(r, &name, ngx_hash_key(name.data, name.len));

    *has = vv != NULL && !vv->not_found
           && mobispot_list_has((const char *) vv->data, vv->len,
                                (const char *) ctx->lcf->admin_role.data,
                                ctx->lcf->admin_role.len);

    return vv;
}


static ngx_int_t
ngx_http_mobispot_admin_unauthenticated(ngx_http_request_t *r)
{
    return ngx_http_mobispot_admin_refuse(r, NGX_HTTP_UNAUTHORIZED,
                                          "unauthenticated",
                                          "the admin API needs a "
                                          "signed-in caller");
}


static void
ngx_http_mobispot_admin_delayed(ngx_http_request_t *r)
{
    if (ngx_http_mobispot_auth_delaying(r)) {
        return;
    }

    ngx_http_finalize_request(r, ngx_http_mobispot_admin_unauthenticated(r));
}


/* the body is not read: it is discarded, and nothing was written */

static ngx_int_t
ngx_http_mobispot_admin_refuse(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_error(r, status, code, message);
}


/*
 * The address of the connection itself (with the realip module, the one
 * it set: docs/security.md says to trust only loopback proxies then).
 */

static ngx_uint_t
ngx_http_mobispot_admin_loopback(ngx_connection_t *c)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    u_char               *a;
    struct sockaddr_in6  *sin6;
#endif

    switch (c->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) c->sockaddr;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) c->sockaddr;
        a = sin6->sin6_addr.s6_addr;

        if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
            return 1;
        }

        /* ::ffff:127.x.y.z */
        return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && a[12] == 127;
#endif

#if (NGX_HAVE_UNIX_DOMAIN)
    case AF_UNIX:
        return 1;
#endif

    default:
        return 0;
    }
}
