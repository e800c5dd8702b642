
/*
 * Copyright (C) Mobispot
 *
 * The catalogue's reads: GET {prefix}spots/{id} (the site as stored) and
 * GET {prefix}networks (the networks, each with its sites).
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
    ngx_str_t                      *id, key;
    ngx_http_mobispot_redis_cmd_t   cmd;
    const char                    **argv;
    size_t                         *argvlen;

    id = &ctx->params[0];

    if (!mobispot_id_valid((char *) id->data, id->len)) {
        return ngx_http_mobispot_spots_error(r, NGX_HTTP_NOT_FOUND,
                                             "unknown_site", "no such site",
                                             "parameter", "id");
    }

    rc = ngx_http_mobispot_spots_key(r, &key, "ms:{site:%V}:doc", id);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx->data = ngx_pcalloc(r->pool, sizeof(ngx_http_mobispot_spot_get_t));
    argv = ngx_palloc(r->pool, 2 * sizeof(char *));
    argvlen = ngx_palloc(r->pool, 2 * sizeof(size_t));

    if (ctx->data == NULL || argv == NULL || argvlen == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the answer is the document: its key is the cache key too */

    rc = ngx_http_mobispot_api_cached(r, ctx, &key);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = (const char *) key.data;
    argvlen[1] = key.len;

    cmd.argc = 2;
    cmd.argv = argv;
    cmd.argvlen = argvlen;

    return ngx_http_mobispot_api_read(r, ctx, &cmd, 1,
                                      ngx_http_mobispot_spot_get_reply,
                                      ngx_http_mobispot_spot_get_done, ctx);
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

    return ngx_http_mobispot_api_read(r, ctx, cmds, 2,
                                      ngx_http_mobispot_networks_reply,
                                      ngx_http_mobispot_networks_done, ctx);
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
