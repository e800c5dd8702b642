
/*
 * Copyright (C) Mobispot
 *
 * The Spot API: time zones (mobispot_time_zones), the helpers its routes
 * share, GET {prefix}spots/{id} and GET {prefix}networks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_spots.h"


typedef struct {
    ngx_str_t                  *doc;
    ngx_uint_t                  bad;      /* neither a string nor nil */
} ngx_http_mobispot_spot_get_t;


typedef struct {
    ngx_array_t                 networks;   /* ngx_str_t pairs: id, JSON */
    ngx_array_t                 sites;      /* ngx_str_t pairs: id, JSON */
    ngx_uint_t                  bad;
} ngx_http_mobispot_networks_get_t;


static ngx_int_t ngx_http_mobispot_tz_load(ngx_conf_t *cf,
    ngx_http_mobispot_spots_main_conf_t *mcf, ngx_str_t *name);
static void ngx_http_mobispot_spot_get_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_spot_get_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static void ngx_http_mobispot_networks_reply(ngx_http_request_t *r,
    void *data, ngx_uint_t index, redisReply *reply);
static void ngx_http_mobispot_networks_done(ngx_http_request_t *r,
    void *data, ngx_int_t status);
static ngx_int_t ngx_http_mobispot_networks_gen(ngx_http_request_t *r,
    ngx_http_mobispot_networks_get_t *ng, yajl_gen g);
static int ngx_http_mobispot_pair_cmp(const void *one, const void *two);
static void ngx_http_mobispot_tree_cleanup(void *data);
static yajl_val ngx_http_mobispot_tree(ngx_http_request_t *r, ngx_str_t *s);


/* mobispot_time_zones name ... */

char *
ngx_http_mobispot_time_zones(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mobispot_spots_main_conf_t *mcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (mcf->time_zones != NULL) {
        return "is duplicate";
    }

    mcf->time_zones = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                       sizeof(ngx_http_mobispot_tz_t));
    if (mcf->time_zones == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_mobispot_tz_load(cf, mcf, &value[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* without mobispot_time_zones: Europe/Brussels and UTC */

char *
ngx_http_mobispot_time_zones_default(ngx_conf_t *cf,
    ngx_http_mobispot_spots_main_conf_t *mcf)
{
    ngx_str_t  name;

    if (mcf->time_zones != NULL) {
        return NGX_CONF_OK;
    }

    mcf->time_zones = ngx_array_create(cf->pool, 2,
                                       sizeof(ngx_http_mobispot_tz_t));
    if (mcf->time_zones == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&name, "Europe/Brussels");

    if (ngx_http_mobispot_tz_load(cf, mcf, &name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&name, "UTC");

    if (ngx_http_mobispot_tz_load(cf, mcf, &name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Reads the TZif file of a zone, at configuration time, and keeps the
 * POSIX TZ rule of its footer.  Requests never touch the file system.
 */

static ngx_int_t
ngx_http_mobispot_tz_load(ngx_conf_t *cf,
    ngx_http_mobispot_spots_main_conf_t *mcf, ngx_str_t *name)
{
    u_char                  *p, *buf;
    size_t                   rule_len;
    ssize_t                  n;
    ngx_fd_t                 fd;
    ngx_uint_t               i;
    const char              *rule;
    ngx_file_info_t          fi;
    ngx_http_mobispot_tz_t  *z;
    u_char                   path[sizeof(NGX_HTTP_MOBISPOT_ZONEINFO)
                                  + MOBISPOT_TZ_NAME_MAX];

    if (name->len == 0 || name->len > MOBISPOT_TZ_NAME_MAX
        || name->data[0] == '/' || ngx_strlchr(name->data,
                                               name->data + name->len, '.'))
    {
        goto invalid;
    }

    for (i = 0; i < name->len; i++) {
        if (!(isalnum(name->data[i]) || name->data[i] == '/'
              || name->data[i] == '_' || name->data[i] == '-'
              || name->data[i] == '+'))
        {
            goto invalid;
        }
    }

    z = mcf->time_zones->elts;

    for (i = 0; i < mcf->time_zones->nelts; i++) {
        if (z[i].name.len == name->len
            && ngx_strncmp(z[i].name.data, name->data, name->len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate time zone \"%V\"", name);
            return NGX_ERROR;
        }
    }

    p = ngx_cpymem(path, NGX_HTTP_MOBISPOT_ZONEINFO,
                   sizeof(NGX_HTTP_MOBISPOT_ZONEINFO) - 1);
    p = ngx_cpymem(p, name->data, name->len);
    *p = '\0';

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "unknown time zone \"%V\": cannot open \"%s\"",
                           name, path);
        return NGX_ERROR;
    }

    buf = NULL;
    n = -1;

    if (ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
        && ngx_file_size(&fi) > 0 && ngx_file_size(&fi) < 1024 * 1024)
    {
        buf = ngx_pnalloc(cf->temp_pool, ngx_file_size(&fi));
        if (buf != NULL) {
            n = ngx_read_fd(fd, buf, ngx_file_size(&fi));
        }
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", path);
    }

    if (buf == NULL || n != ngx_file_size(&fi)
        || mobispot_tz_tzif_footer(buf, n, &rule, &rule_len) != MOBISPOT_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "time zone \"%V\": \"%s\" is not a TZif file "
                           "of version 2 or later", name, path);
        return NGX_ERROR;
    }

    z = ngx_array_push(mcf->time_zones);
    if (z == NULL) {
        return NGX_ERROR;
    }

    z->name = *name;

    if (mobispot_tz_parse(rule, rule_len, &z->tz) != MOBISPOT_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "time zone \"%V\": unsupported rule \"%*s\"",
                           name, rule_len, rule);
        return NGX_ERROR;
    }

    ngx_memcpy(z->tz.name, name->data, name->len);
    z->tz.name[name->len] = '\0';

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid time zone name \"%V\"",
                       name);
    return NGX_ERROR;
}


const mobispot_tz_t *
ngx_http_mobispot_tz_find(ngx_http_mobispot_spots_main_conf_t *mcf,
    u_char *name, size_t len)
{
    ngx_uint_t               i;
    ngx_http_mobispot_tz_t  *z;

    if (mcf->time_zones == NULL) {
        return NULL;
    }

    z = mcf->time_zones->elts;

    for (i = 0; i < mcf->time_zones->nelts; i++) {
        if (z[i].name.len == len && ngx_strncmp(z[i].name.data, name, len) == 0)
        {
            return &z[i].tz;
        }
    }

    return NULL;
}


/*
 * {"error":{"code":"...","message":"...","parameter":"lat"}}: member is
 * "parameter" for a query parameter, "field" for a body field.
 */

ngx_int_t
ngx_http_mobispot_spots_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message, const char *member,
    const char *name)
{
    yajl_gen  g;

    if (status >= NGX_HTTP_INTERNAL_SERVER_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: %s", message);
    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mobispot: %s%s%s%s", message,
                      name ? " (" : "",
                      name ? (char *) ngx_http_mobispot_log_escape(r->pool,
                                 (u_char *) name, ngx_strlen(name))
                           : "",
                      name ? ")" : "");
    }

    g = ngx_http_mobispot_api_gen(r);
    if (g == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "error") != MOBISPOT_OK
        || yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "code", code) != MOBISPOT_OK
        || mobispot_json_key_string(g, "message", message) != MOBISPOT_OK
        || (member && mobispot_json_key_string(g, member, name)
                      != MOBISPOT_OK)
        || yajl_gen_map_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_api_send(r, status, g);
}


ngx_int_t
ngx_http_mobispot_spots_redis_error(ngx_http_request_t *r, const char *what)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "mobispot: unexpected redis reply to %s", what);

    return ngx_http_mobispot_api_error(r, NGX_HTTP_BAD_GATEWAY, "redis_error",
                                       "the data store answered with an "
                                       "error");
}


/*
 * The failures every done handler of the Spot API checks first: the call
 * did not end with all its replies (connection lost, timeout), or a reply
 * was not what the route expects (bad).  Finalizes the request with the
 * answer and returns 1 then; 0 when the replies are there to use.
 */

ngx_uint_t
ngx_http_mobispot_spots_call_failed(ngx_http_request_t *r, ngx_int_t status,
    ngx_uint_t bad, const char *what)
{
    if (status != NGX_HTTP_MOBISPOT_REDIS_OK) {
        ngx_http_finalize_request(r,
                               ngx_http_mobispot_api_redis_failed(r, status));
        return 1;
    }

    if (bad) {
        ngx_http_finalize_request(r,
                                  ngx_http_mobispot_spots_redis_error(r, what));
        return 1;
    }

    return 0;
}


/*
 * Splits the query string into the parameters a route knows: values are
 * unescaped into r->pool; unknown parameters are ignored; a parameter
 * given twice is refused (400 duplicate_parameter, already sent: the
 * caller returns what this returns when it is not NGX_OK).
 */

ngx_int_t
ngx_http_mobispot_spots_args(ngx_http_request_t *r,
    ngx_http_mobispot_arg_t *args, ngx_uint_t n)
{
    u_char      *p, *end, *name, *eq, *val, *dst, *src;
    size_t       name_len, val_len;
    ngx_uint_t   i;

    p = r->args.data;
    end = p + r->args.len;

    while (p < end) {
        name = p;

        while (p < end && *p != '&') {
            p++;
        }

        eq = ngx_strlchr(name, p, '=');

        if (eq == NULL) {
            name_len = p - name;
            val = p;
            val_len = 0;

        } else {
            name_len = eq - name;
            val = eq + 1;
            val_len = p - val;
        }

        if (p < end) {
            p++;
        }

        for (i = 0; i < n; i++) {
            if (ngx_strlen(args[i].name) == name_len
                && ngx_strncmp(args[i].name, name, name_len) == 0)
            {
                break;
            }
        }

        if (i == n) {
            continue;
        }

        if (args[i].set) {
            return ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                                 "duplicate_parameter",
                                                 "a parameter is given "
                                                 "more than once",
                                                 "parameter", args[i].name);
        }

        args[i].set = 1;

        dst = ngx_pnalloc(r->pool, val_len + 1);
        if (dst == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        args[i].value.data = dst;
        src = val;

        ngx_unescape_uri(&dst, &src, val_len, 0);

        args[i].value.len = dst - args[i].value.data;
    }

    return NGX_OK;
}


/* re-emits a parsed JSON value */

ngx_int_t
ngx_http_mobispot_spots_gen_value(yajl_gen g, yajl_val v)
{
    size_t      i, len;
    const char  *s;

    if (v == NULL) {
        return yajl_gen_null(g) == yajl_gen_status_ok ? NGX_OK : NGX_ERROR;
    }

    switch (v->type) {

    case yajl_t_string:
        return yajl_gen_string(g, (const unsigned char *) v->u.string,
                               ngx_strlen(v->u.string))
               == yajl_gen_status_ok ? NGX_OK : NGX_ERROR;

    case yajl_t_number:
        s = v->u.number.r;
        len = ngx_strlen(s);
        return yajl_gen_number(g, s, len) == yajl_gen_status_ok
               ? NGX_OK : NGX_ERROR;

    case yajl_t_object:
        if (yajl_gen_map_open(g) != yajl_gen_status_ok) {
            return NGX_ERROR;
        }

        for (i = 0; i < v->u.object.len; i++) {
            if (mobispot_json_string(g, v->u.object.keys[i]) != MOBISPOT_OK
                || ngx_http_mobispot_spots_gen_value(g,
                                                    v->u.object.values[i])
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        return yajl_gen_map_close(g) == yajl_gen_status_ok
               ? NGX_OK : NGX_ERROR;

    case yajl_t_array:
        if (yajl_gen_array_open(g) != yajl_gen_status_ok) {
            return NGX_ERROR;
        }

        for (i = 0; i < v->u.array.len; i++) {
            if (ngx_http_mobispot_spots_gen_value(g, v->u.array.values[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        return yajl_gen_array_close(g) == yajl_gen_status_ok
               ? NGX_OK : NGX_ERROR;

    case yajl_t_true:
        return yajl_gen_bool(g, 1) == yajl_gen_status_ok ? NGX_OK : NGX_ERROR;

    case yajl_t_false:
        return yajl_gen_bool(g, 0) == yajl_gen_status_ok ? NGX_OK : NGX_ERROR;

    default:
        return yajl_gen_null(g) == yajl_gen_status_ok ? NGX_OK : NGX_ERROR;
    }
}


/* a string reply copied into r->pool; NULL for anything else */

ngx_str_t *
ngx_http_mobispot_spots_copy_reply(ngx_http_request_t *r, redisReply *reply)
{
    ngx_str_t  *s;

    if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
        return NULL;
    }

    s = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (s == NULL) {
        return NULL;
    }

    s->len = reply->len;
    s->data = ngx_pnalloc(r->pool, s->len + 1);
    if (s->data == NULL) {
        return NULL;
    }

    ngx_memcpy(s->data, reply->str, s->len);
    s->data[s->len] = '\0';

    return s;
}


ngx_str_t *
ngx_http_mobispot_spots_key(ngx_http_request_t *r, const char *fmt, ...)
{
    u_char     *p;
    va_list     args;
    ngx_str_t  *s;

    s = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (s == NULL) {
        return NULL;
    }

    s->data = ngx_pnalloc(r->pool, 256);
    if (s->data == NULL) {
        return NULL;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(s->data, s->data + 256, fmt, args);
    va_end(args);

    s->len = p - s->data;

    return s;
}


/*
 * The caller's passport, as the SSO gateway hands it over: the variable
 * $mobispot_pass (passport ids, separated by blanks or commas).  NGX_OK
 * with the value when the caller is signed in; NGX_DECLINED when the
 * variable does not exist (SSO not built in) or has no value (not signed
 * in, or SSO off in this location).
 */

ngx_int_t
ngx_http_mobispot_spots_pass(ngx_http_request_t *r, ngx_str_t *pass)
{
    ngx_str_t                   name;
    ngx_uint_t                  key;
    ngx_http_variable_value_t  *vv;

    ngx_str_set(&name, "mobispot_pass");
    key = ngx_hash_key(name.data, name.len);

    vv = ngx_http_get_variable(r, &name, key);

    if (vv == NULL || vv->not_found || vv->len == 0) {
        return NGX_DECLINED;
    }

    pass->data = vv->data;
    pass->len = vv->len;

    return NGX_OK;
}


static void
ngx_http_mobispot_tree_cleanup(void *data)
{
    yajl_tree_free(data);
}


/* parses a NUL-terminated string; the tree goes with the request */

static yajl_val
ngx_http_mobispot_tree(ngx_http_request_t *r, ngx_str_t *s)
{
    yajl_val             v;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    v = yajl_tree_parse((const char *) s->data, NULL, 0);
    if (v == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mobispot_tree_cleanup;
    cln->data = v;

    return v;
}


/* GET {prefix}spots/{id}: the site as stored, one GET */

ngx_int_t
ngx_http_mobispot_spot_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                      *id, *key;
    ngx_http_mobispot_redis_cmd_t   cmd;
    const char                    **argv;
    size_t                         *argvlen;

    id = &ctx->params[0];

    if (!mobispot_id_valid((char *) id->data, id->len)) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND,
                                             "unknown_site", "no such site",
                                             "parameter", "id");
    }

    ctx->data = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_spot_get_t));
    key = ngx_http_mobispot_spots_key(r, "ms:{site:%V}:doc", id);
    argv = ngx_palloc(r->pool, 2 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 2 * sizeof(size_t));

    if (ctx->data == NULL || key == NULL || argv == NULL || argvlen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the answer is the document: its key is the cache key too */

    rc = ngx_http_mobispot_api_cached(r, ctx, key);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = (const char *) key->data;
    argvlen[1] = key->len;

    cmd.argc = 2;
    cmd.argv = argv;
    cmd.argvlen = argvlen;

    return ngx_http_mobispot_api_redis(r, ctx, &cmd, 1,
                                       ngx_http_mobispot_spot_get_reply,
                                       ngx_http_mobispot_spot_get_done);
}


static void
ngx_http_mobispot_spot_get_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    ngx_http_mobispot_spot_get_t  *sg;

    sg = ctx->data;

    if (reply->type == REDIS_REPLY_NIL) {
        return;
    }

    sg->doc = ngx_http_mobispot_spots_copy_reply(r, reply);
    sg->bad = (sg->doc == NULL);
}


static void
ngx_http_mobispot_spot_get_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    ngx_http_mobispot_spot_get_t  *sg;

    sg = ctx->data;

    if (ngx_http_mobispot_spots_call_failed(r, status, sg->bad, "GET")) {
        return;
    }

    if (sg->doc == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND,
                                          "unknown_site", "no such site",
                                          "parameter", "id"));
        return;
    }

    ngx_http_finalize_request(r,
        ngx_http_mobispot_api_send_raw(r, NGX_HTTP_OK, sg->doc->data,
                                       sg->doc->len));
}


/* GET {prefix}networks: the networks, each with its sites */

ngx_int_t
ngx_http_mobispot_networks_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx)
{
    ngx_int_t                          rc;
    ngx_http_mobispot_redis_cmd_t      cmds[2];
    ngx_http_mobispot_networks_get_t  *ng;

    static ngx_str_t      key = ngx_string("networks");

    static const char    *argv0[] = { "HGETALL",
                                      NGX_HTTP_MOBISPOT_KEY_NETWORKS };
    static const size_t   argvlen0[] = {
        sizeof("HGETALL") - 1, sizeof(NGX_HTTP_MOBISPOT_KEY_NETWORKS) - 1 };
    static const char    *argv1[] = { "HGETALL",
                                      NGX_HTTP_MOBISPOT_KEY_SITES };
    static const size_t   argvlen1[] = {
        sizeof("HGETALL") - 1, sizeof(NGX_HTTP_MOBISPOT_KEY_SITES) - 1 };

    rc = ngx_http_mobispot_api_cached(r, ctx, &key);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ng = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_networks_get_t));
    if (ng == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_array_init(&ng->networks, r->pool, 8, sizeof(ngx_str_t))
        != NGX_OK
        || ngx_array_init(&ng->sites, r->pool, 32, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->data = ng;

    cmds[0].argc = 2;
    cmds[0].argv = argv0;
    cmds[0].argvlen = argvlen0;
    cmds[1].argc = 2;
    cmds[1].argv = argv1;
    cmds[1].argvlen = argvlen1;

    return ngx_http_mobispot_api_redis(r, ctx, cmds, 2,
                                       ngx_http_mobispot_networks_reply,
                                       ngx_http_mobispot_networks_done);
}


static void
ngx_http_mobispot_networks_reply(ngx_http_request_t *r, void *data,
    ngx_uint_t index, redisReply *reply)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    size_t                             i;
    ngx_str_t                         *s, *e;
    ngx_array_t                       *a;
    ngx_http_mobispot_networks_get_t  *ng;

    ng = ctx->data;
    a = (index == 0) ? &ng->networks : &ng->sites;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        ng->bad = 1;
        return;
    }

    for (i = 0; i < reply->elements; i++) {
        s = ngx_http_mobispot_spots_copy_reply(r, reply->element[i]);
        e = ngx_array_push(a);

        if (s == NULL || e == NULL) {
            ng->bad = 1;
            return;
        }

        *e = *s;
    }
}


static int
ngx_http_mobispot_pair_cmp(const void *one, const void *two)
{
    const ngx_str_t  *a = one;
    const ngx_str_t  *b = two;

    ngx_int_t  rc;

    rc = ngx_memn2cmp(a->data, b->data, a->len, b->len);

    return rc < 0 ? -1 : (rc > 0 ? 1 : 0);
}


static void
ngx_http_mobispot_networks_done(ngx_http_request_t *r, void *data,
    ngx_int_t status)
{
    ngx_http_mobispot_api_ctx_t  *ctx = data;

    yajl_gen                           g;
    ngx_http_mobispot_networks_get_t  *ng;

    ng = ctx->data;

    if (ngx_http_mobispot_spots_call_failed(r, status, ng->bad,
                                            "HGETALL of networks"))
    {
        return;
    }

    g = ngx_http_mobispot_api_gen(r);

    if (g == NULL || ngx_http_mobispot_networks_gen(r, ng, g) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_mobispot_api_send(r, NGX_HTTP_OK, g));
}


/*
 * {"networks":[{"id":..,"name":..,"passport":{..},"sites":[{"id","name",
 * "town"}]}]}, networks and sites in the order of their ids
 */

static ngx_int_t
ngx_http_mobispot_networks_gen(ngx_http_request_t *r,
    ngx_http_mobispot_networks_get_t *ng, yajl_gen g)
{
    size_t        k;
    yajl_val      net, *sites, v, nets;
    ngx_str_t    *n, *s;
    ngx_uint_t    i, j, m, nsites;

    static const char  *path_networks[] = { "networks", NULL };

    n = ng->networks.elts;
    s = ng->sites.elts;

    /* sort (id, JSON) pairs by id */
    ngx_qsort(n, ng->networks.nelts / 2, 2 * sizeof(ngx_str_t),
              ngx_http_mobispot_pair_cmp);
    ngx_qsort(s, ng->sites.nelts / 2, 2 * sizeof(ngx_str_t),
              ngx_http_mobispot_pair_cmp);

    nsites = ng->sites.nelts / 2;

    sites = ngx_pcalloc(r->pool, (nsites + 1) * sizeof(yajl_val));
    if (sites == NULL) {
        return NGX_ERROR;
    }

    for (j = 0; j < nsites; j++) {
        sites[j] = ngx_http_mobispot_tree(r, &s[2 * j + 1]);

        if (sites[j] != NULL && !YAJL_IS_OBJECT(sites[j])) {
            sites[j] = NULL;
        }
    }

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "networks") != MOBISPOT_OK
        || yajl_gen_array_open(g) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < ng->networks.nelts / 2; i++) {
        net = ngx_http_mobispot_tree(r, &n[2 * i + 1]);

        if (net == NULL || !YAJL_IS_OBJECT(net)) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mobispot: network \"%V\" is not a JSON object "
                          "in redis", &n[2 * i]);
            continue;
        }

        if (yajl_gen_map_open(g) != yajl_gen_status_ok) {
            return NGX_ERROR;
        }

        for (k = 0; k < net->u.object.len; k++) {
            if (mobispot_json_string(g, net->u.object.keys[k]) != MOBISPOT_OK
                || ngx_http_mobispot_spots_gen_value(g,
                                                    net->u.object.values[k])
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        if (mobispot_json_string(g, "sites") != MOBISPOT_OK
            || yajl_gen_array_open(g) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }

        for (j = 0; j < nsites; j++) {
            if (sites[j] == NULL) {
                continue;
            }

            nets = yajl_tree_get(sites[j], path_networks, yajl_t_array);
            if (nets == NULL) {
                continue;
            }

            for (m = 0; m < nets->u.array.len; m++) {
                v = nets->u.array.values[m];

                if (YAJL_IS_STRING(v)
                    && ngx_strlen(v->u.string) == n[2 * i].len
                    && ngx_strncmp(v->u.string, n[2 * i].data,
                                   n[2 * i].len) == 0)
                {
                    break;
                }
            }

            if (m == nets->u.array.len) {
                continue;
            }

            if (yajl_gen_map_open(g) != yajl_gen_status_ok
                || mobispot_json_string(g, "id") != MOBISPOT_OK
                || yajl_gen_string(g, s[2 * j].data, s[2 * j].len)
                   != yajl_gen_status_ok)
            {
                return NGX_ERROR;
            }

            for (k = 0; k < sites[j]->u.object.len; k++) {
                if (ngx_strcmp(sites[j]->u.object.keys[k], "networks") == 0) {
                    continue;
                }

                if (mobispot_json_string(g, sites[j]->u.object.keys[k])
                    != MOBISPOT_OK
                    || ngx_http_mobispot_spots_gen_value(g,
                                                sites[j]->u.object.values[k])
                       != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }

            if (yajl_gen_map_close(g) != yajl_gen_status_ok) {
                return NGX_ERROR;
            }
        }

        if (yajl_gen_array_close(g) != yajl_gen_status_ok
            || yajl_gen_map_close(g) != yajl_gen_status_ok)
        {
            return NGX_ERROR;
        }
    }

    if (yajl_gen_array_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
