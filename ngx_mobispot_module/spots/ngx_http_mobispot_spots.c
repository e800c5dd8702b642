
/*
 * Copyright (C) Mobispot
 *
 * The helpers the Spot API's routes share: error answers, the failures
 * every done handler checks, query parameters, JSON values, reply copies,
 * key names and the caller's passport.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_spots.h"


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

    ngx_http_mobispot_api_set_error(r, code);

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
    return ngx_http_mobispot_api_bad_reply(r, what);
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


/*
 * A key from a format whose pieces are validated ids (at most
 * MOBISPOT_ID_MAX bytes each): NGX_OK with the key in r->pool.  A key
 * that would be longer than NGX_HTTP_MOBISPOT_KEY_MAX is never cut short:
 * the request is answered with a 500 (what this returns then is what the
 * handler returns), and so it is when memory runs out.
 */

ngx_int_t
ngx_http_mobispot_spots_key(ngx_http_request_t *r, ngx_str_t *key,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    /* one byte more than a key may have: a full buffer was cut short */

    key->data = ngx_pnalloc(r->pool, NGX_HTTP_MOBISPOT_KEY_MAX + 1);
    if (key->data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(key->data, key->data + NGX_HTTP_MOBISPOT_KEY_MAX + 1,
                      fmt, args);
    va_end(args);

    key->len = p - key->data;

    if (key->len > NGX_HTTP_MOBISPOT_KEY_MAX) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: a key would be longer than %d bytes: "
                      "\"%*s...\" not built", NGX_HTTP_MOBISPOT_KEY_MAX,
                      (size_t) 32, key->data);

        return ngx_http_mobispot_api_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "key_too_long",
                                           "a key would be longer than "
                                           "the data store's keys may be");
    }

    return NGX_OK;
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


/*
 * The caller: the token's subject, $mobispot_sub, set by mobispot_sso in
 * the API's location.  Without one, 401 with the route's message; one
 * that cannot name keys, 403: then NGX_DECLINED, the refusal sent, and
 * *rc what the handler returns.  Bookings and usage take it.
 */

ngx_int_t
ngx_http_mobispot_spots_caller(ngx_http_request_t *r, const char *message,
    ngx_str_t *user, ngx_int_t *rc)
{
    ngx_str_t                   name;
    ngx_http_variable_value_t  *vv;

    ngx_str_set(&name, "mobispot_sub");

    vv = ngx_http_get_variable(r, &name, ngx_hash_key(name.data, name.len));

    if (vv == NULL || vv->not_found || vv->len == 0) {
        *rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_UNAUTHORIZED,
                                            "unauthenticated", message,
                                            NULL, NULL);
        return NGX_DECLINED;
    }

    if (!mobispot_user_id_valid((char *) vv->data, vv->len)) {
        *rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_FORBIDDEN,
                                            "forbidden",
                                            "the token's subject is not a "
                                            "valid user id", "rule",
                                            "user_id");
        return NGX_DECLINED;
    }

    user->data = vv->data;
    user->len = vv->len;

    return NGX_OK;
}
