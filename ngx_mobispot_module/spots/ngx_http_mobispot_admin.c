
/*
 * Copyright (C) Mobispot
 *
 * The admin API of the catalogue:
 *
 *     PUT    {prefix}admin/networks/{id}   ngx_http_mobispot_admin_network.c
 *     PUT    {prefix}admin/sites/{id}      ngx_http_mobispot_admin_site.c
 *     DELETE {prefix}admin/sites/{id}      ngx_http_mobispot_admin_site.c
 *     PUT, GET, DELETE {prefix}admin/users/{id}
 *                                          ngx_http_mobispot_admin_user.c
 *
 * Bodies are parsed with yajl and checked field by field before anything
 * is written: a wrong type is a 400, a value out of range or unknown
 * (time zone, network) a 422, each naming the field.  This file has what
 * every route shares: its start, the body, the checks of one field and
 * the first error; a site body is checked in
 * ngx_http_mobispot_admin_site_check.c.  The writes are in
 * ngx_http_mobispot_admin_write.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_secret.h"
#include "spots/ngx_http_mobispot_admin.h"


static void ngx_http_mobispot_admin_tree_cleanup(void *data);
static ngx_int_t ngx_http_mobispot_admin_doc_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);


static void
ngx_http_mobispot_admin_tree_cleanup(void *data)
{
    yajl_tree_free(data);
}


/* the body as a JSON object, or NULL with ck filled in */

yajl_val
ngx_http_mobispot_admin_body(ngx_http_request_t *r,
    ngx_http_mobispot_check_t *ck)
{
    u_char                 *p;
    size_t                  len;
    yajl_val                v;
    ngx_buf_t              *b;
    ngx_pool_cleanup_t     *cln;
    mobispot_json_fault_t   fault;

    len = 0;
    b = NULL;

    if (r->request_body && r->request_body->bufs) {
        b = r->request_body->bufs->buf;
        len = b->last - b->pos;
    }

    if (len == 0) {
        (void) ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "the request needs a JSON body",
                                            NULL);
        ck->code = "malformed_json";
        return NULL;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (p == NULL || cln == NULL) {
        return NULL;
    }

    ngx_memcpy(p, b->pos, len);
    p[len] = '\0';

    /*
     * Only strict JSON goes on to yajl, which takes comments, "\u0000"
     * (that C strings then cut short), lone surrogate escapes and UTF-8
     * that RFC 3629 forbids.  A fault in the content of a string value is
     * the value's (422 naming its member), any other one the body's.
     */

    if (mobispot_json_check_fault((char *) p, len, &fault) != MOBISPOT_OK) {
        if (fault.in_string && fault.member != NULL) {
            (void) ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                fault.reason, "%*s",
                                                fault.member_len,
                                                fault.member);
            return NULL;
        }

        (void) ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            fault.reason, NULL);
        ck->code = "malformed_json";
        return NULL;
    }

    v = yajl_tree_parse((char *) p, NULL, 0);

    if (v == NULL) {
        (void) ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "the body is not valid JSON",
                                            NULL);
        ck->code = "malformed_json";
        return NULL;
    }

    cln->handler = ngx_http_mobispot_admin_tree_cleanup;
    cln->data = v;

    if (!YAJL_IS_OBJECT(v)) {
        (void) ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "the body must be a JSON object",
                                            NULL);
        return NULL;
    }

    return v;
}


/* records the first error; 400 invalid_field or 422 invalid_value */

ngx_int_t
ngx_http_mobispot_check_fail(ngx_http_mobispot_check_t *ck, ngx_uint_t status,
    const char *message, const char *fmt, ...)
{
    u_char   *p, *end;
    size_t    n;
    va_list   args;

    ck->status = status;
    ck->code = (status == NGX_HTTP_BAD_REQUEST) ? "invalid_field"
                                                : "invalid_value";
    ck->message = message;
    ck->field = NULL;

    if (fmt == NULL) {
        return NGX_DECLINED;
    }

    ck->field = ngx_pnalloc(ck->request->pool, 128);
    if (ck->field == NULL) {
        return NGX_DECLINED;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(ck->field, ck->field + 127, fmt, args);
    va_end(args);

    /* a name cut short ends at a whole character: it is sent as JSON */

    end = p;

    for (p = ck->field; p < end; p += n) {
        n = mobispot_utf8_char(p, end - p);

        if (n == 0 || *p == '\0') {
            break;
        }
    }

    *p = '\0';

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_mobispot_check_send(ngx_http_mobispot_check_t *ck)
{
    if (ck->message == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_mobispot_spots_error(ck->request, ck->status, ck->code,
                                         ck->message,
                                         ck->field ? "field" : NULL,
                                         (char *) ck->field);
}


/* unknown or repeated members are refused: they are typos */

ngx_int_t
ngx_http_mobispot_check_keys(ngx_http_mobispot_check_t *ck, yajl_val obj,
    const char *prefix, const char **known)
{
    size_t       i, j;
    const char **k;

    for (i = 0; i < obj->u.object.len; i++) {
        for (k = known; *k; k++) {
            if (ngx_strcmp(obj->u.object.keys[i], *k) == 0) {
                break;
            }
        }

        if (*k == NULL) {
            return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                "unknown field", "%s%s%Z",
                                                prefix,
                                                obj->u.object.keys[i]);
        }

        for (j = 0; j < i; j++) {
            if (ngx_strcmp(obj->u.object.keys[i], obj->u.object.keys[j])
                == 0)
            {
                return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                    "field given twice",
                                                    "%s%s%Z", prefix,
                                                    obj->u.object.keys[i]);
            }
        }
    }

    return NGX_OK;
}


/* a string of 1..max characters (well-formed: the body was checked) */

ngx_int_t
ngx_http_mobispot_check_string(ngx_http_mobispot_check_t *ck, yajl_val v,
    const char *field, size_t max, ngx_str_t *out)
{
    if (v == NULL) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "missing field", "%s", field);
    }

    if (!YAJL_IS_STRING(v)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "must be a string", "%s", field);
    }

    out->data = (u_char *) v->u.string;
    out->len = ngx_strlen(v->u.string);

    /* max is in characters, as OpenAPI's maxLength */

    if (out->len == 0 || mobispot_utf8_length(v->u.string, out->len) > max) {
        return ngx_http_mobispot_check_fail(ck,
                                            NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "empty or too long", "%s", field);
    }

    return NGX_OK;
}


/*
 * An array of min to max values; a missing one, or another type, is a 400
 * (the message not_array), a size out of bounds a 422 (bad_size).
 */

ngx_int_t
ngx_http_mobispot_check_array(ngx_http_mobispot_check_t *ck, yajl_val v,
    const char *field, const char *not_array, size_t min, size_t max,
    const char *bad_size)
{
    if (v == NULL || !YAJL_IS_ARRAY(v)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            v ? not_array : "missing field",
                                            "%s", field);
    }

    if (v->u.array.len < min || v->u.array.len > max) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            bad_size, "%s", field);
    }

    return NGX_OK;
}


/*
 * An array of 0 to rule->max distinct ids (mobispot_id_valid()): generated
 * into doc as an array (its member's name is the caller's), and joined
 * with commas into list.
 */

ngx_int_t
ngx_http_mobispot_check_ids(ngx_http_mobispot_check_t *ck, yajl_val v,
    const char *field, const ngx_http_mobispot_ids_rule_t *rule, yajl_gen doc,
    ngx_str_t *list)
{
    ngx_http_mobispot_strings_rule_t  ids;

    ids.ids = *rule;
    ids.check = NULL;
    ids.min = 0;
    ids.sep = ',';

    return ngx_http_mobispot_check_strings(ck, v, field, &ids, 0, doc, list);
}


/*
 * An array of rule->min to rule->ids.max distinct strings, each taken by
 * rule->check(s, len, flags), or an id when check is NULL (400 for
 * another type, 422 with the reason otherwise, naming the element):
 * generated into doc as an array, and joined with rule->sep into list.
 */

ngx_int_t
ngx_http_mobispot_check_strings(ngx_http_mobispot_check_t *ck, yajl_val v,
    const char *field, const ngx_http_mobispot_strings_rule_t *rule,
    unsigned flags, yajl_gen doc, ngx_str_t *list)
{
    size_t       i, j, len;
    yajl_val     e;
    const char  *reason;

    if (ngx_http_mobispot_check_array(ck, v, field, rule->ids.not_array,
                                      rule->min, rule->ids.max,
                                      rule->ids.bad_size)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (yajl_gen_array_open(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    for (i = 0; i < v->u.array.len; i++) {
        e = v->u.array.values[i];

        if (!YAJL_IS_STRING(e)) {
            return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                                "must be a string",
                                                "%s[%uz]%Z", field, i);
        }

        len = ngx_strlen(e->u.string);

        if (rule->check) {
            reason = rule->check(e->u.string, len, flags);

        } else {
            reason = mobispot_id_valid(e->u.string, len) ? NULL
                                                         : rule->ids.invalid;
        }

        if (reason != NULL) {
            return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                reason, "%s[%uz]%Z", field,
                                                i);
        }

        for (j = 0; j < i; j++) {
            if (ngx_strcmp(e->u.string, v->u.array.values[j]->u.string) == 0)
            {
                return ngx_http_mobispot_check_fail(ck,
                                                NGX_HTTP_UNPROCESSABLE_ENTITY,
                                                rule->ids.twice,
                                                "%s[%uz]%Z", field, i);
            }
        }

        if (mobispot_json_string(doc, e->u.string) != MOBISPOT_OK) {
            return NGX_ERROR;
        }
    }

    if (yajl_gen_array_close(doc) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    return ngx_http_mobispot_join(ck->request->pool, v, rule->sep, list);
}


/* the strings of an array (checked), joined with sep, into pool */

ngx_int_t
ngx_http_mobispot_join(ngx_pool_t *pool, yajl_val array, u_char sep,
    ngx_str_t *out)
{
    u_char  *p;
    size_t   i, len;

    len = 1;

    for (i = 0; i < array->u.array.len; i++) {
        len += ngx_strlen(array->u.array.values[i]->u.string) + 1;
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (i = 0; i < array->u.array.len; i++) {
        if (i) {
            *p++ = sep;
        }

        p = ngx_cpymem(p, array->u.array.values[i]->u.string,
                       ngx_strlen(array->u.array.values[i]->u.string));
    }

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * A write-only secret (a password, a client's secret), when there is one:
 * a string (400) of min to max bytes of UTF-8 without NUL
 * (mobispot_secret_valid(); 422 with the rule as message).  The refusal
 * names the field, never the value.  Absent: out is empty.
 */

ngx_int_t
ngx_http_mobispot_check_secret(ngx_http_mobispot_check_t *ck, yajl_val v,
    const char *field, size_t min, size_t max, const char *rule,
    ngx_str_t *out)
{
    ngx_str_null(out);

    if (v == NULL) {
        return NGX_OK;
    }

    if (!YAJL_IS_STRING(v)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "must be a string", "%s", field);
    }

    if (!mobispot_secret_valid(v->u.string, ngx_strlen(v->u.string), min,
                               max))
    {
        return ngx_http_mobispot_check_fail(ck,
                                            NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            rule, "%s", field);
    }

    out->data = (u_char *) v->u.string;
    out->len = ngx_strlen(v->u.string);

    return NGX_OK;
}


/* a member that is a number (400 otherwise) that valid() takes (422) */

ngx_int_t
ngx_http_mobispot_check_coordinate(ngx_http_mobispot_check_t *ck,
    yajl_val body, const char *field, int (*valid)(double),
    const char *range, double *out)
{
    yajl_val  v;

    v = mobispot_json_member(body, field);

    if (v == NULL || !YAJL_IS_NUMBER(v) || !YAJL_IS_DOUBLE(v)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            v ? "must be a number"
                                              : "missing field",
                                            "%s", field);
    }

    *out = YAJL_GET_DOUBLE(v);

    if (!valid(*out)) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            range, "%s", field);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mobispot_check_int(ngx_http_mobispot_check_t *ck, yajl_val v,
    const char *field, int64_t min, int64_t max, int64_t *out)
{
    if (v == NULL) {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "missing field", "%s", field);
    }

    if (!YAJL_IS_INTEGER(v) || ngx_strchr(v->u.number.r, '.')
        || ngx_strchr(v->u.number.r, 'e') || ngx_strchr(v->u.number.r, 'E'))
    {
        return ngx_http_mobispot_check_fail(ck, NGX_HTTP_BAD_REQUEST,
                                            "must be an integer", "%s",
                                            field);
    }

    if (YAJL_GET_INTEGER(v) < min || YAJL_GET_INTEGER(v) > max) {
        return ngx_http_mobispot_check_fail(ck,
                                            NGX_HTTP_UNPROCESSABLE_ENTITY,
                                            "out of range", "%s", field);
    }

    *out = YAJL_GET_INTEGER(v);

    return NGX_OK;
}


ngx_int_t
ngx_http_mobispot_gen_str(yajl_gen g, const char *key, ngx_str_t *value)
{
    if (mobispot_json_string(g, key) != MOBISPOT_OK
        || yajl_gen_string(g, value->data, value->len) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_mobispot_gen_copy(ngx_http_request_t *r, yajl_gen g, ngx_str_t *out)
{
    size_t                len;
    const unsigned char  *buf;

    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, buf, len);
    out->len = len;

    return NGX_OK;
}


/* a command from its arguments, copied into r->pool as ngx_str_t * */

ngx_int_t
ngx_http_mobispot_admin_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_uint_t argc, ...)
{
    va_list        args;
    size_t        *argvlen;
    ngx_str_t     *s;
    ngx_uint_t     i;
    const char   **argv;

    argv = ngx_palloc(r->pool, argc * sizeof(char *));
    argvlen = ngx_palloc(r->pool, argc * sizeof(size_t));

    if (argv == NULL || argvlen == NULL) {
        return NGX_ERROR;
    }

    va_start(args, argc);

    for (i = 0; i < argc; i++) {
        s = va_arg(args, ngx_str_t *);
        argv[i] = (const char *) s->data;
        argvlen[i] = s->len;
    }

    va_end(args);

    cmd->argc = (int) argc;
    cmd->argv = argv;
    cmd->argvlen = argvlen;

    return NGX_OK;
}


/*
 * The read of an entity's stored document: cmd, whose reply is the
 * document or nil, reads key; nil is answered by ad->absent.
 */

ngx_int_t
ngx_http_mobispot_admin_doc(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_redis_cmd_t *cmd,
    ngx_str_t *key)
{
    ngx_http_mobispot_api_keys_t  *keys;

    keys = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_api_keys_t));
    if (keys == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys->read = key;
    keys->nread = 1;

    return ngx_http_mobispot_api_call(r, ctx, cmd, 1, keys,
                                      ngx_http_mobispot_admin_doc_done);
}


static ngx_int_t
ngx_http_mobispot_admin_doc_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_admin_t  *ad;

    ad = ctx->data;

    if (replies[0].type == REDIS_REPLY_NIL) {
        return ad->absent(r);
    }

    if (replies[0].type != REDIS_REPLY_STRING) {
        return ngx_http_mobispot_api_bad_reply(r, "the read of a document");
    }

    return ngx_http_mobispot_api_send_raw(r, NGX_HTTP_OK, replies[0].str.data,
                                          replies[0].str.len);
}


/*
 * The start of an admin write: the role check, and the state of the
 * request with the id of the route (not checked yet).  Returns the state,
 * or NULL with *rc set to what the handler returns (an answer was sent, or
 * the request failed).
 */

ngx_http_mobispot_admin_t *
ngx_http_mobispot_admin_begin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_int_t *rc)
{
    ngx_http_mobispot_admin_t  *ad;

    /* the router has checked the caller (mobispot_admin) */

    *rc = NGX_OK;

    ad = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_admin_t));
    if (ad == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    ctx->data = ad;
    ad->id = ctx->params[0];

    return ad;
}


/*
 * The start of an admin PUT: as above, then the id checked by id_valid
 * (id_rule says what it takes) and the body parsed.
 */

ngx_http_mobispot_admin_t *
ngx_http_mobispot_admin_put_begin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_check_t *ck,
    int (*id_valid)(const char *, size_t), const char *id_rule,
    yajl_val *body, ngx_int_t *rc)
{
    ngx_http_mobispot_admin_t  *ad;

    ad = ngx_http_mobispot_admin_begin(r, ctx, rc);
    if (ad == NULL) {
        return NULL;
    }

    if (!id_valid((char *) ad->id.data, ad->id.len)) {
        *rc = ngx_http_mobispot_spots_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_id", id_rule,
                                            "parameter", "id");
        return NULL;
    }

    *body = ngx_http_mobispot_admin_body(r, ck);
    if (*body == NULL) {
        *rc = ngx_http_mobispot_check_send(ck);
        return NULL;
    }

    return ad;
}


/*
 * An admin PUT up to its write: the start above, then the body checked by
 * check, which generates the document as stored (into ad->doc).
 */

ngx_http_mobispot_admin_t *
ngx_http_mobispot_admin_put_checked(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, int (*id_valid)(const char *, size_t),
    const char *id_rule, ngx_http_mobispot_admin_check_pt check,
    ngx_int_t *rc)
{
    yajl_gen                    doc;
    yajl_val                    body;
    ngx_http_mobispot_check_t   ck;
    ngx_http_mobispot_admin_t  *ad;

    ngx_memzero(&ck, sizeof(ngx_http_mobispot_check_t));
    ck.request = r;

    ad = ngx_http_mobispot_admin_put_begin(r, ctx, &ck, id_valid, id_rule,
                                           &body, rc);
    if (ad == NULL) {
        return NULL;
    }

    doc = ngx_http_mobispot_api_gen(r);
    if (doc == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    *rc = check(&ck, body, ad, doc);

    if (*rc == NGX_DECLINED) {
        *rc = ngx_http_mobispot_check_send(&ck);
        return NULL;
    }

    if (*rc != NGX_OK || ngx_http_mobispot_gen_copy(r, doc, &ad->doc) != NGX_OK)
    {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    return ad;
}
