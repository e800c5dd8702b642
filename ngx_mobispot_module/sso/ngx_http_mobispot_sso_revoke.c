
/*
 * Copyright (C) Mobispot
 *
 * Single sign-out at the gateway: the set of revoked sessions (sid) lives
 * in a shared memory zone, filled from Redis by every worker's subscriber
 * when it (re)connects and updated by the messages it receives; a request
 * costs a lookup in the zone, never a Redis round trip.
 *
 * Redis (written by the issuer):
 *   ms:sso:revoked   sorted set: member sid, score the time (seconds) after
 *                    which no token of that session is valid any more
 *   PUBLISH ms:sso:revoked "<sid> <exp>"
 *
 * Freshness: while a worker's subscription is up, it stamps the zone every
 * half second; a worker refuses tokens ("unavailable") once the stamp is
 * older than mobispot_sso_revocation_max_stale.  Until a first snapshot
 * has been taken, the stamp is 0: tokens are refused (fail closed).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sso/ngx_http_mobispot_sso.h"


#define NGX_HTTP_MOBISPOT_SSO_REVOKED_KEY  "ms:sso:revoked"
#define NGX_HTTP_MOBISPOT_SSO_STAMP        500


typedef struct {
    ngx_rbtree_node_t                node;   /* key: hash of the sid */
    time_t                           exp;
    u_short                          len;
    u_char                           data[1];
} ngx_http_mobispot_sso_revoked_node_t;


struct ngx_http_mobispot_sso_revoked_sh_s {
    ngx_rbtree_t                     rbtree;
    ngx_rbtree_node_t                sentinel;
    time_t                           stamp;  /* feed last known up */
    ngx_uint_t                       count;
    ngx_uint_t                       overflow;  /* a revocation was lost */
};


static ngx_int_t ngx_http_mobispot_sso_revoke_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static void ngx_http_mobispot_sso_revoked_insert_value(
    ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel);
static ngx_http_mobispot_sso_revoked_node_t *
    ngx_http_mobispot_sso_revoked_find(ngx_http_mobispot_sso_main_conf_t *mcf,
    uint32_t hash, u_char *sid, size_t len);
static void ngx_http_mobispot_sso_revoked_add(
    ngx_http_mobispot_sso_main_conf_t *mcf, u_char *sid, size_t len,
    time_t exp);
static void ngx_http_mobispot_sso_revoked_expire(
    ngx_http_mobispot_sso_main_conf_t *mcf, ngx_uint_t all);
static void ngx_http_mobispot_sso_revoke_snapshot(void *data,
    redisReply *reply);
static void ngx_http_mobispot_sso_revoke_message(void *data, u_char *msg,
    size_t len);
static void ngx_http_mobispot_sso_revoke_state(void *data, ngx_uint_t up);
static void ngx_http_mobispot_sso_revoke_stamp(ngx_event_t *ev);


char *
ngx_http_mobispot_sso_revoke_conf(ngx_conf_t *cf,
    ngx_http_mobispot_sso_main_conf_t *mcf)
{
    ngx_str_t  name;

    ngx_str_set(&name, "mobispot_sso_revoked");

    mcf->revoke_zone = ngx_shared_memory_add(cf, &name,
                                             mcf->revocation_zone_size,
                                             &ngx_http_mobispot_sso_module);
    if (mcf->revoke_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (mcf->revoke_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the \"mobispot_sso_revoked\" zone is already "
                           "used");
        return NGX_CONF_ERROR;
    }

    mcf->revoke_zone->init = ngx_http_mobispot_sso_revoke_init_zone;
    mcf->revoke_zone->data = mcf;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_mobispot_sso_revoke_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_mobispot_sso_main_conf_t  *omcf = data;

    ngx_slab_pool_t                    *shpool;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    mcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (omcf) {
        /* a reload: the set and its freshness stay */
        mcf->revoke_sh = omcf->revoke_sh;
        mcf->revoke_shpool = omcf->revoke_shpool;
        return NGX_OK;
    }

    mcf->revoke_shpool = shpool;

    if (shm_zone->shm.exists) {
        mcf->revoke_sh = shpool->data;
        return NGX_OK;
    }

    mcf->revoke_sh = ngx_slab_alloc(shpool,
                                    sizeof(ngx_http_mobispot_sso_revoked_sh_t));
    if (mcf->revoke_sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = mcf->revoke_sh;

    ngx_rbtree_init(&mcf->revoke_sh->rbtree, &mcf->revoke_sh->sentinel,
                    ngx_http_mobispot_sso_revoked_insert_value);

    mcf->revoke_sh->stamp = 0;
    mcf->revoke_sh->count = 0;
    mcf->revoke_sh->overflow = 0;

    shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_mobispot_sso_revoked_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t                    **p;
    ngx_http_mobispot_sso_revoked_node_t  *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = (ngx_http_mobispot_sso_revoked_node_t *) node;
            t = (ngx_http_mobispot_sso_revoked_node_t *) temp;

            p = (ngx_memn2cmp(n->data, t->data, n->len, t->len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* with the zone locked */

static ngx_http_mobispot_sso_revoked_node_t *
ngx_http_mobispot_sso_revoked_find(ngx_http_mobispot_sso_main_conf_t *mcf,
    uint32_t hash, u_char *sid, size_t len)
{
    ngx_int_t                              rc;
    ngx_rbtree_node_t                     *node, *sentinel;
    ngx_http_mobispot_sso_revoked_node_t  *n;

    node = mcf->revoke_sh->rbtree.root;
    sentinel = mcf->revoke_sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        n = (ngx_http_mobispot_sso_revoked_node_t *) node;
        rc = ngx_memn2cmp(sid, n->data, len, n->len);

        if (rc == 0) {
            return n;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_mobispot_sso_revoked_add(ngx_http_mobispot_sso_main_conf_t *mcf,
    u_char *sid, size_t len, time_t exp)
{
    size_t                                 size;
    uint32_t                               hash;
    ngx_http_mobispot_sso_revoked_node_t  *n;

    if (len == 0 || len > NGX_HTTP_MOBISPOT_SSO_SID_MAX
        || exp <= ngx_time())
    {
        return;
    }

    hash = ngx_murmur_hash2(sid, len);

    ngx_shmtx_lock(&mcf->revoke_shpool->mutex);

    n = ngx_http_mobispot_sso_revoked_find(mcf, hash, sid, len);

    if (n != NULL) {
        if (n->exp < exp) {
            n->exp = exp;
        }

        ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);
        return;
    }

    size = offsetof(ngx_http_mobispot_sso_revoked_node_t, data) + len;

    n = ngx_slab_alloc_locked(mcf->revoke_shpool, size);

    if (n == NULL) {
        ngx_http_mobispot_sso_revoked_expire(mcf, 1);
        n = ngx_slab_alloc_locked(mcf->revoke_shpool, size);
    }

    if (n == NULL) {
        /*
         * a revocation cannot be kept: no token can be trusted any more,
         * until nginx restarts with a larger zone
         */
        mcf->revoke_sh->stamp = 0;
        mcf->revoke_sh->overflow = 1;
        ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);

        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "mobispot: the \"mobispot_sso_revoked\" zone is full "
                      "(%ui sessions): tokens are refused until nginx is "
                      "restarted with a larger "
                      "mobispot_sso_revocation_zone_size",
                      mcf->revoke_sh->count);
        return;
    }

    n->node.key = hash;
    n->exp = exp;
    n->len = (u_short) len;
    ngx_memcpy(n->data, sid, len);

    ngx_rbtree_insert(&mcf->revoke_sh->rbtree, &n->node);
    mcf->revoke_sh->count++;

    ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);
}


/* removes sessions past their exp (a few, or all); the zone is locked */

static void
ngx_http_mobispot_sso_revoked_expire(ngx_http_mobispot_sso_main_conf_t *mcf,
    ngx_uint_t all)
{
    time_t                                 now;
    ngx_uint_t                             n;
    ngx_rbtree_node_t                     *node, *next, *sentinel;
    ngx_http_mobispot_sso_revoked_node_t  *r;

    now = ngx_time();
    sentinel = mcf->revoke_sh->rbtree.sentinel;

    if (mcf->revoke_sh->rbtree.root == sentinel) {
        return;
    }

    node = ngx_rbtree_min(mcf->revoke_sh->rbtree.root, sentinel);

    for (n = 0; node != NULL && (all || n < 64); n++) {
        next = ngx_rbtree_next(&mcf->revoke_sh->rbtree, node);
        r = (ngx_http_mobispot_sso_revoked_node_t *) node;

        if (r->exp <= now) {
            ngx_rbtree_delete(&mcf->revoke_sh->rbtree, node);
            ngx_slab_free_locked(mcf->revoke_shpool, node);
            mcf->revoke_sh->count--;
        }

        node = next;
    }
}


/*
 * MOBISPOT_SSO_OK, MOBISPOT_SSO_REVOKED, MOBISPOT_SSO_UNAVAILABLE (the
 * feed is stale) or MOBISPOT_SSO_MALFORMED (no sid: a session that could
 * not be signed out)
 */

ngx_uint_t
ngx_http_mobispot_sso_revoked(ngx_http_request_t *r,
    ngx_http_mobispot_sso_ctx_t *ctx)
{
    time_t                              stamp;
    uint32_t                            hash;
    ngx_uint_t                          revoked;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_sso_module);

    /* set by the verification: a string of at most SID_MAX bytes */

    if (ctx->sid.data == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mobispot: sso token refused (malformed): no sid "
                      "(or a sid longer than %d bytes), the session could "
                      "not be signed out", NGX_HTTP_MOBISPOT_SSO_SID_MAX);
        return MOBISPOT_SSO_MALFORMED;
    }

    hash = ngx_murmur_hash2(ctx->sid.data, ctx->sid.len);

    ngx_shmtx_lock(&mcf->revoke_shpool->mutex);

    stamp = mcf->revoke_sh->stamp;
    revoked = ngx_http_mobispot_sso_revoked_find(mcf, hash, ctx->sid.data,
                                                 ctx->sid.len)
              != NULL;

    ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);

    if (revoked) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mobispot: sso token refused (revoked): session "
                      "signed out");
        return MOBISPOT_SSO_REVOKED;
    }

    if (ngx_time() - stamp > mcf->revocation_max_stale) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mobispot: the revocation feed is stale (%T s): "
                      "request refused",
                      stamp ? ngx_time() - stamp : (time_t) -1);
        return MOBISPOT_SSO_UNAVAILABLE;
    }

    return MOBISPOT_SSO_OK;
}


ngx_int_t
ngx_http_mobispot_sso_revoke_init_process(ngx_cycle_t *cycle,
    ngx_http_mobispot_sso_main_conf_t *mcf)
{
    ngx_http_mobispot_main_conf_t       *mmcf;
    ngx_http_mobispot_redis_sub_conf_t   sc;

    static const char  *argv[] = { "ZRANGE", NGX_HTTP_MOBISPOT_SSO_REVOKED_KEY,
                                   "0", "-1", "WITHSCORES" };
    static size_t       argvlen[] = { 6,
                                      sizeof(NGX_HTTP_MOBISPOT_SSO_REVOKED_KEY)
                                      - 1, 1, 2, 10 };

    if (mcf->revoke_zone == NULL) {
        return NGX_OK;
    }

    mmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_mobispot_module);

    ngx_memzero(&sc, sizeof(ngx_http_mobispot_redis_sub_conf_t));

    sc.channel = NGX_HTTP_MOBISPOT_SSO_REVOKED_KEY;
    sc.snapshot.argc = 5;
    sc.snapshot.argv = argv;
    sc.snapshot.argvlen = argvlen;
    sc.on_snapshot = ngx_http_mobispot_sso_revoke_snapshot;
    sc.on_message = ngx_http_mobispot_sso_revoke_message;
    sc.on_state = ngx_http_mobispot_sso_revoke_state;
    sc.data = mcf;

    mcf->revoke_timer.handler = ngx_http_mobispot_sso_revoke_stamp;
    mcf->revoke_timer.data = mcf;
    mcf->revoke_timer.log = cycle->log;
    mcf->revoke_timer.cancelable = 1;

    mcf->revoke_sub = ngx_http_mobispot_redis_subscribe(cycle, &mmcf->redis,
                                                        &sc);
    if (mcf->revoke_sub == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_mobispot_sso_revoke_exit_process(
    ngx_http_mobispot_sso_main_conf_t *mcf)
{
    if (mcf->revoke_timer.timer_set) {
        ngx_del_timer(&mcf->revoke_timer);
    }

    if (mcf->revoke_sub) {
        ngx_http_mobispot_redis_unsubscribe(mcf->revoke_sub);
        mcf->revoke_sub = NULL;
    }
}


/* ZRANGE ms:sso:revoked 0 -1 WITHSCORES: sid, exp, sid, exp... */

static void
ngx_http_mobispot_sso_revoke_snapshot(void *data, redisReply *reply)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = data;

    size_t       i;
    ngx_int_t    exp;
    redisReply  *sid, *score;

    mcf->revoke_snapshot = 0;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "mobispot: unexpected reply to the snapshot of "
                      "\"" NGX_HTTP_MOBISPOT_SSO_REVOKED_KEY "\"");
        return;
    }

    for (i = 0; i < reply->elements; i += 2) {
        sid = reply->element[i];
        score = reply->element[i + 1];

        if (sid->type != REDIS_REPLY_STRING
            || score->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        exp = ngx_atoi((u_char *) score->str, score->len);

        if (exp == NGX_ERROR) {
            /* a fractional or odd score: kept as long as anything lives */
            exp = (ngx_int_t) MOBISPOT_JWT_TIME_MAX;
        }

        ngx_http_mobispot_sso_revoked_add(mcf, (u_char *) sid->str, sid->len,
                                          (time_t) exp);
    }

    mcf->revoke_snapshot = 1;

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "mobispot: %uz revoked sessions loaded from redis",
                  reply->elements / 2);
}


/* "<sid> <exp>" (or "<sid>": kept until the zone is swept by hand) */

static void
ngx_http_mobispot_sso_revoke_message(void *data, u_char *msg, size_t len)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = data;

    u_char     *sp;
    ngx_int_t   exp;

    sp = ngx_strlchr(msg, msg + len, ' ');

    if (sp == NULL) {
        exp = (ngx_int_t) MOBISPOT_JWT_TIME_MAX;
        sp = msg + len;

    } else {
        exp = ngx_atoi(sp + 1, msg + len - sp - 1);

        if (exp == NGX_ERROR) {
            exp = (ngx_int_t) MOBISPOT_JWT_TIME_MAX;
        }
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "mobispot: session revoked, until %i", exp);

    ngx_http_mobispot_sso_revoked_add(mcf, msg, sp - msg, (time_t) exp);
}


static void
ngx_http_mobispot_sso_revoke_state(void *data, ngx_uint_t up)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = data;

    mcf->revoke_up = (up && mcf->revoke_snapshot) ? 1 : 0;

    if (mcf->revoke_up) {
        ngx_http_mobispot_sso_revoke_stamp(&mcf->revoke_timer);
    }
}


/* while the subscription is up: the feed is fresh; old sessions go */

static void
ngx_http_mobispot_sso_revoke_stamp(ngx_event_t *ev)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = ev->data;

    if (!mcf->revoke_up) {
        return;
    }

    ngx_shmtx_lock(&mcf->revoke_shpool->mutex);

    if (!mcf->revoke_sh->overflow) {
        mcf->revoke_sh->stamp = ngx_time();
    }

    ngx_http_mobispot_sso_revoked_expire(mcf, 0);

    ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_MOBISPOT_SSO_STAMP);
    }
}
