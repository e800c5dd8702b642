
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
 *
 * Bounded memory: every accepted token lives at most
 * mobispot_jwt_max_lifetime (exp - iat), so a session signed out now has
 * no token left after now + max_lifetime + leeway; an entry is kept until
 * then at most, whatever exp it was given (or none).  Entries are also in
 * a second tree ordered by when they go, and the stamp timer removes the
 * ones past due, a bounded number at a time.
 *
 * A full zone: a revocation that cannot be stored makes every token
 * refused (fail closed) until that revocation would have gone by itself;
 * the zone then recovers, without a restart, and says so in the log and in
 * GET health.  A request only ever looks an entry up: O(log n) under the
 * zone's mutex, never a walk.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "sso/ngx_http_mobispot_sso.h"


#define NGX_HTTP_MOBISPOT_SSO_REVOKED_KEY  "ms:sso:revoked"
#define NGX_HTTP_MOBISPOT_SSO_STAMP        500
#define NGX_HTTP_MOBISPOT_SSO_EXPIRE_MAX   1024  /* entries per sweep */


/* by sid in nginx's string rbtree (key: its hash, str: data), and by exp */

typedef struct {
    ngx_str_node_t                   sn;
    ngx_rbtree_node_t                by_exp; /* key: exp */
    u_char                           data[1];
} ngx_http_mobispot_sso_revoked_node_t;


struct ngx_http_mobispot_sso_revoked_sh_s {
    ngx_rbtree_t                     rbtree;
    ngx_rbtree_node_t                sentinel;
    ngx_rbtree_t                     exp_tree;
    ngx_rbtree_node_t                exp_sentinel;
    time_t                           stamp;  /* feed last known up */
    ngx_uint_t                       count;
    /* a revocation was lost: every token is refused until then */
    time_t                           full_until;
    time_t                           full_since;
    ngx_uint_t                       lost;   /* revocations not stored */
};


#define ngx_http_mobispot_sso_revoked_by_exp(n)                               \
    ((ngx_http_mobispot_sso_revoked_node_t *)                                 \
     ((u_char *) (n) - offsetof(ngx_http_mobispot_sso_revoked_node_t,         \
                                by_exp)))


static ngx_int_t ngx_http_mobispot_sso_revoke_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static ngx_http_mobispot_sso_revoked_node_t *
    ngx_http_mobispot_sso_revoked_find(ngx_http_mobispot_sso_main_conf_t *mcf,
    uint32_t hash, u_char *sid, size_t len);
static void ngx_http_mobispot_sso_revoked_add(
    ngx_http_mobispot_sso_main_conf_t *mcf, u_char *sid, size_t len,
    time_t exp);
static void ngx_http_mobispot_sso_revoked_remove(
    ngx_http_mobispot_sso_main_conf_t *mcf,
    ngx_http_mobispot_sso_revoked_node_t *n);
static ngx_uint_t ngx_http_mobispot_sso_revoked_expire(
    ngx_http_mobispot_sso_main_conf_t *mcf);
static void ngx_http_mobispot_sso_revoke_snapshot(void *data,
    redisReply *reply);
static void ngx_http_mobispot_sso_revoke_message(void *data, u_char *msg,
    size_t len);
static void ngx_http_mobispot_sso_revoke_state(void *data, ngx_uint_t up);
static void ngx_http_mobispot_sso_revoke_stamp(ngx_event_t *ev);
static ngx_int_t ngx_http_mobispot_sso_revoke_health(ngx_http_request_t *r,
    yajl_gen g, ngx_uint_t *degraded, void *data);


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

    if (ngx_http_mobispot_api_add_health(cf, "sso_revocation",
                                         ngx_http_mobispot_sso_revoke_health,
                                         mcf)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

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
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&mcf->revoke_sh->exp_tree, &mcf->revoke_sh->exp_sentinel,
                    ngx_rbtree_insert_value);

    mcf->revoke_sh->stamp = 0;
    mcf->revoke_sh->count = 0;
    mcf->revoke_sh->full_until = 0;
    mcf->revoke_sh->full_since = 0;
    mcf->revoke_sh->lost = 0;

    shpool->log_nomem = 0;

    return NGX_OK;
}


/* with the zone locked */

static ngx_http_mobispot_sso_revoked_node_t *
ngx_http_mobispot_sso_revoked_find(ngx_http_mobispot_sso_main_conf_t *mcf,
    uint32_t hash, u_char *sid, size_t len)
{
    ngx_str_t  key;

    key.data = sid;
    key.len = len;

    return (ngx_http_mobispot_sso_revoked_node_t *)
               ngx_str_rbtree_lookup(&mcf->revoke_sh->rbtree, &key, hash);
}


/*
 * Stores a revocation until exp, or until no token of the session can be
 * left (now + the maximum lifetime and leeway), whichever comes first.
 */

static void
ngx_http_mobispot_sso_revoked_add(ngx_http_mobispot_sso_main_conf_t *mcf,
    u_char *sid, size_t len, time_t exp)
{
    size_t                                 size;
    time_t                                 now, last;
    uint32_t                               hash;
    ngx_uint_t                             first;
    ngx_http_mobispot_sso_revoked_node_t  *n;

    now = ngx_time();
    last = now + mcf->max_lifetime + mcf->max_leeway;

    if (exp > last) {
        exp = last;
    }

    if (len == 0 || len > NGX_HTTP_MOBISPOT_SSO_SID_MAX || exp <= now) {
        return;
    }

    hash = ngx_murmur_hash2(sid, len);

    ngx_shmtx_lock(&mcf->revoke_shpool->mutex);

    n = ngx_http_mobispot_sso_revoked_find(mcf, hash, sid, len);

    if (n != NULL) {
        if ((time_t) n->by_exp.key < exp) {
            ngx_rbtree_delete(&mcf->revoke_sh->exp_tree, &n->by_exp);
            n->by_exp.key = exp;
            ngx_rbtree_insert(&mcf->revoke_sh->exp_tree, &n->by_exp);
        }

        ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);
        return;
    }

    size = offsetof(ngx_http_mobispot_sso_revoked_node_t, data) + len;

    n = ngx_slab_alloc_locked(mcf->revoke_shpool, size);

    if (n == NULL && ngx_http_mobispot_sso_revoked_expire(mcf)) {
        n = ngx_slab_alloc_locked(mcf->revoke_shpool, size);
    }

    if (n == NULL) {
        /*
         * the revocation cannot be kept: no token can be trusted until it
         * would have gone by itself
         */
        first = (mcf->revoke_sh->full_until == 0);

        if (mcf->revoke_sh->full_until < exp) {
            mcf->revoke_sh->full_until = exp;
        }

        if (first) {
            mcf->revoke_sh->full_since = now;
        }

        mcf->revoke_sh->lost++;
        mcf->revoke_sh->stamp = 0;

        ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);

        if (first) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "mobispot: the \"mobispot_sso_revoked\" zone is "
                          "full (%ui sessions): a sign-out could not be "
                          "stored, so every token is refused until it would "
                          "have expired (%T s at most); raise "
                          "mobispot_sso_revocation_zone_size",
                          mcf->revoke_sh->count, exp - now);
        }

        return;
    }

    n->sn.node.key = hash;
    n->sn.str.data = n->data;
    n->sn.str.len = len;
    n->by_exp.key = exp;
    ngx_memcpy(n->data, sid, len);

    ngx_rbtree_insert(&mcf->revoke_sh->rbtree, &n->sn.node);
    ngx_rbtree_insert(&mcf->revoke_sh->exp_tree, &n->by_exp);
    mcf->revoke_sh->count++;

    ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);
}


/* the zone is locked */

static void
ngx_http_mobispot_sso_revoked_remove(ngx_http_mobispot_sso_main_conf_t *mcf,
    ngx_http_mobispot_sso_revoked_node_t *n)
{
    ngx_rbtree_delete(&mcf->revoke_sh->rbtree, &n->sn.node);
    ngx_rbtree_delete(&mcf->revoke_sh->exp_tree, &n->by_exp);
    ngx_slab_free_locked(mcf->revoke_shpool, n);
    mcf->revoke_sh->count--;
}


/*
 * removes the sessions past their time, the earliest first, at most
 * EXPIRE_MAX of them; returns how many went.  The zone is locked.
 */

static ngx_uint_t
ngx_http_mobispot_sso_revoked_expire(ngx_http_mobispot_sso_main_conf_t *mcf)
{
    time_t              now;
    ngx_uint_t          n;
    ngx_rbtree_node_t  *node, *sentinel;

    now = ngx_time();
    sentinel = mcf->revoke_sh->exp_tree.sentinel;

    for (n = 0; n < NGX_HTTP_MOBISPOT_SSO_EXPIRE_MAX; n++) {

        if (mcf->revoke_sh->exp_tree.root == sentinel) {
            break;
        }

        node = ngx_rbtree_min(mcf->revoke_sh->exp_tree.root, sentinel);

        if ((time_t) node->key > now) {
            break;
        }

        ngx_http_mobispot_sso_revoked_remove(mcf,
                                   ngx_http_mobispot_sso_revoked_by_exp(node));
    }

    return n;
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
    time_t                              stamp, full_until;
    uint32_t                            hash;
    ngx_uint_t                          revoked, skipped;
    ngx_http_mobispot_sso_main_conf_t  *mcf;

    static ngx_http_mobispot_log_limit_t  stale_log;

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
    full_until = mcf->revoke_sh->full_until;
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

        /* at every request while it lasts: once a second per worker */

        if (ngx_http_mobispot_log_limit(&stale_log, &skipped)) {
            if (full_until) {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "mobispot: the revocation zone is full, "
                              "tokens refused for %T s more "
                              "(%ui such lines left out)",
                              full_until - ngx_time(), skipped);
            } else {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "mobispot: the revocation feed is stale "
                              "(%T s): request refused "
                              "(%ui such lines left out)",
                              stamp ? ngx_time() - stamp : (time_t) -1,
                              skipped);
            }
        }

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

    mcf->revoke_sub = ngx_http_mobispot_redis_subscribe(mmcf->client, &sc);
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
            /* a fractional or odd score: kept as long as a token lives */
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


/* "<sid> <exp>" (or "<sid>": kept as long as any token could live) */

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

    time_t      now, recovered;
    ngx_uint_t  lost;

    if (!mcf->revoke_up) {
        return;
    }

    now = ngx_time();
    recovered = 0;
    lost = 0;

    ngx_shmtx_lock(&mcf->revoke_shpool->mutex);

    (void) ngx_http_mobispot_sso_revoked_expire(mcf);

    if (mcf->revoke_sh->full_until && now >= mcf->revoke_sh->full_until) {
        /* every lost revocation would have gone by now */
        recovered = now - mcf->revoke_sh->full_since;
        lost = mcf->revoke_sh->lost;
        mcf->revoke_sh->full_until = 0;
        mcf->revoke_sh->full_since = 0;
        mcf->revoke_sh->lost = 0;
    }

    if (mcf->revoke_sh->full_until == 0) {
        mcf->revoke_sh->stamp = now;
    }

    ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);

    if (recovered) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "mobispot: the \"mobispot_sso_revoked\" zone "
                      "recovered: the %ui sign-outs it could not store have "
                      "expired, tokens are accepted again after %T s",
                      lost, recovered);
    }

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_MOBISPOT_SSO_STAMP);
    }
}


/* the sessions in the zone now, and 1 while it is full (the metrics) */

ngx_uint_t
ngx_http_mobispot_sso_revoked_count(ngx_http_mobispot_sso_main_conf_t *mcf,
    ngx_uint_t *full)
{
    ngx_uint_t  count;

    ngx_shmtx_lock(&mcf->revoke_shpool->mutex);
    count = mcf->revoke_sh->count;
    *full = (mcf->revoke_sh->full_until != 0);
    ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);

    return count;
}


/*
 * GET health: {"state":"ok"|"full"|"stale","sessions":N} and, when full,
 * "lost" (sign-outs not stored) and "seconds" (until tokens are accepted
 * again); when stale, "seconds" since the feed was last known up (-1:
 * never)
 */

static ngx_int_t
ngx_http_mobispot_sso_revoke_health(ngx_http_request_t *r, yajl_gen g,
    ngx_uint_t *degraded, void *data)
{
    ngx_http_mobispot_sso_main_conf_t *mcf = data;

    time_t       now, stamp, full_until, seconds;
    ngx_uint_t   count, lost;
    const char  *state;

    now = ngx_time();

    ngx_shmtx_lock(&mcf->revoke_shpool->mutex);

    stamp = mcf->revoke_sh->stamp;
    full_until = mcf->revoke_sh->full_until;
    count = mcf->revoke_sh->count;
    lost = mcf->revoke_sh->lost;

    ngx_shmtx_unlock(&mcf->revoke_shpool->mutex);

    seconds = 0;

    if (full_until) {
        state = "full";
        seconds = full_until - now;

    } else if (now - stamp > mcf->revocation_max_stale) {
        state = "stale";
        seconds = stamp ? now - stamp : -1;

    } else {
        state = "ok";
    }

    *degraded = (full_until || now - stamp > mcf->revocation_max_stale);

    if (g == NULL) {
        return NGX_OK;
    }

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "state", state) != MOBISPOT_OK
        || mobispot_json_string(g, "sessions") != MOBISPOT_OK
        || yajl_gen_integer(g, (long long) count) != yajl_gen_status_ok)
    {
        return NGX_ERROR;
    }

    if (full_until
        && (mobispot_json_string(g, "lost") != MOBISPOT_OK
            || yajl_gen_integer(g, (long long) lost) != yajl_gen_status_ok))
    {
        return NGX_ERROR;
    }

    if (*degraded
        && (mobispot_json_string(g, "seconds") != MOBISPOT_OK
            || yajl_gen_integer(g, (long long) seconds)
               != yajl_gen_status_ok))
    {
        return NGX_ERROR;
    }

    if (yajl_gen_map_close(g) != yajl_gen_status_ok) {
        return NGX_ERROR;
    }

    return NGX_OK;
}
