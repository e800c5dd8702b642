
/*
 * Copyright (C) Mobispot
 *
 * The metrics' zone and series: mobispot_metrics (a location that serves
 * them) and mobispot_metrics_zone_size, the zone made when a location
 * asks for it, series found or made in it, histograms observed, the
 * requests of the module's routes counted in the log phase, and each
 * worker's Redis connections told every second.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_api.h"
#include "http/ngx_http_mobispot_metrics.h"


/* a route's series, as a worker found them (its own table) */
typedef struct {
    const ngx_http_mobispot_api_route_t  *route;
    ngx_atomic_t                         *codes[5];   /* 1xx .. 5xx */
    ngx_atomic_t                         *time;
} ngx_http_mobispot_metrics_route_t;

#define NGX_HTTP_MOBISPOT_METRICS_ROUTES  256


static ngx_int_t ngx_http_mobispot_metrics_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_mobispot_metrics_log(ngx_http_request_t *r);
static ngx_http_mobispot_metrics_route_t *ngx_http_mobispot_metrics_route(
    const ngx_http_mobispot_api_route_t *route);
static void ngx_http_mobispot_metrics_tick(ngx_event_t *ev);
static void ngx_http_mobispot_metrics_redis(void);


ngx_http_mobispot_metrics_http_t  ngx_http_mobispot_metrics_http;

static ngx_http_mobispot_metrics_sh_t   *ngx_http_mobispot_metrics_sh;
static ngx_slab_pool_t                  *ngx_http_mobispot_metrics_shpool;

/* the worker's */
static ngx_http_mobispot_metrics_route_t
    ngx_http_mobispot_metrics_routes[NGX_HTTP_MOBISPOT_METRICS_ROUTES];
static ngx_event_t                       ngx_http_mobispot_metrics_timer;
static ngx_connection_t                  ngx_http_mobispot_metrics_dummy;
static ngx_http_mobispot_redis_client_t *ngx_http_mobispot_metrics_client;
static ngx_uint_t                        ngx_http_mobispot_metrics_connects;
static ngx_atomic_t                     *ngx_http_mobispot_metrics_gauges[4];


/* the buckets' upper bounds, in microseconds */

static const uint64_t  ngx_http_mobispot_metrics_http_bounds[] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000
};

static const uint64_t  ngx_http_mobispot_metrics_redis_bounds[] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    500000
};


const uint64_t *
ngx_http_mobispot_metric_bounds(ngx_uint_t kind)
{
    return kind == NGX_HTTP_MOBISPOT_METRIC_HTTP_TIME
           ? ngx_http_mobispot_metrics_http_bounds
           : kind == NGX_HTTP_MOBISPOT_METRIC_REDIS_TIME
             ? ngx_http_mobispot_metrics_redis_bounds : NULL;
}


/* mobispot_metrics [allow=loopback|any] */

char *
ngx_http_mobispot_metrics_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_loc_conf_t *lcf = conf;

    ngx_str_t                      *value;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_mobispot_main_conf_t  *mcf;

    if (lcf->metrics != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lcf->metrics = NGX_HTTP_MOBISPOT_METRICS_LOOPBACK;

    if (cf->args->nelts == 2) {
        if (ngx_strcmp(value[1].data, "allow=any") == 0) {
            lcf->metrics = NGX_HTTP_MOBISPOT_METRICS_ANY;

        } else if (ngx_strcmp(value[1].data, "allow=loopback") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" of "
                               "\"mobispot_metrics\": allow=loopback (the "
                               "default) or allow=any", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mobispot_metrics_handler;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);
    mcf->metrics_used = 1;

    return NGX_CONF_OK;
}


/* mobispot_metrics_zone_size SIZE */

char *
ngx_http_mobispot_metrics_zone_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_main_conf_t *mcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (mcf->metrics_size != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;
    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < 64 * 1024 || size > 64 * 1024 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"mobispot_metrics_zone_size\" \"%V\": "
                           "64k to 64m", &value[1]);
        return NGX_CONF_ERROR;
    }

    mcf->metrics_size = size;

    return NGX_CONF_OK;
}


/* postconfiguration: the zone, and the log phase that counts requests */

ngx_int_t
ngx_http_mobispot_metrics_init(ngx_conf_t *cf)
{
    ngx_shm_zone_t                 *zone;
    ngx_http_mobispot_main_conf_t  *mcf;

    static ngx_str_t  name = ngx_string("mobispot_metrics");

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mobispot_module);

    if (mcf->metrics_size == NGX_CONF_UNSET_SIZE) {
        mcf->metrics_size = 512 * 1024;
    }

    if (!mcf->metrics_used) {
        ngx_http_mobispot_metrics_sh = NULL;
        return NGX_OK;
    }

    zone = ngx_shared_memory_add(cf, &name, mcf->metrics_size,
                                 &ngx_http_mobispot_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_mobispot_metrics_init_zone;
    zone->data = mcf;

    return ngx_http_mobispot_phase_handler(cf, NGX_HTTP_LOG_PHASE,
                                           ngx_http_mobispot_metrics_log);
}


/* the zone: kept by a reload (its series and values stay), or made */

static ngx_int_t
ngx_http_mobispot_metrics_init_zone(ngx_shm_zone_t *zone, void *data)
{
    size_t                           size;
    ngx_slab_pool_t                 *shpool;
    ngx_http_mobispot_metrics_sh_t  *sh;

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (data != NULL || zone->shm.exists) {
        ngx_http_mobispot_metrics_shpool = shpool;
        ngx_http_mobispot_metrics_sh = shpool->data;
        return NGX_OK;
    }

    /* the slab pool's own pages aside: about 80% of the zone for series */

    size = zone->shm.size * 8 / 10;

    sh = ngx_slab_alloc(shpool, size);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, size);
    sh->max = (size - offsetof(ngx_http_mobispot_metrics_sh_t, m))
              / sizeof(ngx_http_mobispot_metric_sh_t);

    shpool->data = sh;
    ngx_http_mobispot_metrics_shpool = shpool;
    ngx_http_mobispot_metrics_sh = sh;

    return NGX_OK;
}


ngx_http_mobispot_metrics_sh_t *
ngx_http_mobispot_metrics_zone(void)
{
    return ngx_http_mobispot_metrics_sh;
}


/*
 * The series of family{labels}: found, or made (under the zone's lock,
 * once per worker and series); NULL without metrics or when the zone is
 * full (logged once).  A series is never removed: its values outlive the
 * workers that moved them.
 */

ngx_atomic_t *
ngx_http_mobispot_metric(const char *family, const char *labels,
    ngx_uint_t kind)
{
    u_char                          *p, key[NGX_HTTP_MOBISPOT_METRIC_KEY];
    ngx_uint_t                       i, n;
    ngx_http_mobispot_metric_sh_t   *m;
    ngx_http_mobispot_metrics_sh_t  *sh;

    static ngx_uint_t  full_logged;

    sh = ngx_http_mobispot_metrics_sh;

    if (sh == NULL) {
        return NULL;
    }

    p = ngx_snprintf(key, sizeof(key) - 1, "%s%s%s%s", family,
                     labels[0] ? "{" : "", labels, labels[0] ? "}" : "");
    *p = '\0';

    ngx_shmtx_lock(&ngx_http_mobispot_metrics_shpool->mutex);

    n = sh->n;

    for (i = 0; i < n; i++) {
        if (ngx_strcmp(sh->m[i].key, key) == 0) {
            ngx_shmtx_unlock(&ngx_http_mobispot_metrics_shpool->mutex);
            return sh->m[i].v;
        }
    }

    if (n == sh->max) {
        ngx_shmtx_unlock(&ngx_http_mobispot_metrics_shpool->mutex);

        if (!full_logged) {
            full_logged = 1;
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "mobispot: the metrics zone is full (%ui series): "
                          "\"%s\" is not counted; raise "
                          "mobispot_metrics_zone_size", sh->max, key);
        }

        return NULL;
    }

    m = &sh->m[n];
    ngx_memcpy(m->key, key, p - key + 1);
    m->kind = kind;

    /* readers see the series once it is whole */
    ngx_memory_barrier();
    sh->n = n + 1;

    ngx_shmtx_unlock(&ngx_http_mobispot_metrics_shpool->mutex);

    return m->v;
}


/* a histogram's observation: its bucket, its sum, its count */

void
ngx_http_mobispot_metric_observe(ngx_atomic_t *h, uint64_t usec)
{
    ngx_uint_t       i;
    const uint64_t  *bounds;

    if (h == NULL) {
        return;
    }

    bounds = ngx_http_mobispot_metric_bounds(
                 ((ngx_http_mobispot_metric_sh_t *)
                  ((u_char *) h
                   - offsetof(ngx_http_mobispot_metric_sh_t, v)))->kind);

    for (i = 0; i < NGX_HTTP_MOBISPOT_METRIC_BUCKETS; i++) {
        if (usec <= bounds[i]) {
            break;
        }
    }

    /* i == BUCKETS: +Inf */

    (void) ngx_atomic_fetch_add(&h[i], 1);
    (void) ngx_atomic_fetch_add(&h[NGX_HTTP_MOBISPOT_METRIC_BUCKETS + 1],
                                (ngx_atomic_int_t) usec);
    (void) ngx_atomic_fetch_add(&h[NGX_HTTP_MOBISPOT_METRIC_BUCKETS + 2], 1);
}


/* the requests of the module's routes: by route and class, and their time */

static ngx_int_t
ngx_http_mobispot_metrics_log(ngx_http_request_t *r)
{
    ngx_int_t                           ms;
    ngx_uint_t                          status;
    ngx_time_t                         *tp;
    ngx_http_mobispot_api_ctx_t        *ctx;
    ngx_http_mobispot_metrics_route_t  *mr;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mobispot_module);

    static const ngx_http_mobispot_api_route_t  none = {
        ngx_string("-"), 0, NULL, 0, 0
    };

    if (ctx == NULL || r != r->main) {
        return NGX_OK;
    }

    if (ctx->cache_status != NGX_HTTP_MOBISPOT_CACHE_NONE) {
        ngx_http_mobispot_metric_inc(
            ngx_http_mobispot_metrics_http.cache[ctx->cache_status]);
    }

    /* a request of no route: one series for them all, route="-" */

    mr = ngx_http_mobispot_metrics_route(ctx->route ? ctx->route : &none);
    if (mr == NULL) {
        return NGX_OK;
    }

    status = r->headers_out.status / 100;
    status = (status < 1) ? 5 : (status > 5) ? 5 : status;

    ngx_http_mobispot_metric_inc(mr->codes[status - 1]);

    tp = ngx_timeofday();
    ms = (ngx_int_t) ((tp->sec - r->start_sec) * 1000
                      + (tp->msec - r->start_msec));

    ngx_http_mobispot_metric_observe(mr->time,
                                     (uint64_t) ngx_max(ms, 0) * 1000);

    return NGX_OK;
}


/* the worker's table of routes (open addressing on the route's address) */

static ngx_http_mobispot_metrics_route_t *
ngx_http_mobispot_metrics_route(const ngx_http_mobispot_api_route_t *route)
{
    u_char                              labels[96], *p;
    ngx_uint_t                          i, k, c;
    ngx_http_mobispot_metrics_route_t  *mr;

    static const char  *classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };

    k = ((uintptr_t) route >> 4) % NGX_HTTP_MOBISPOT_METRICS_ROUTES;

    for (i = 0; i < NGX_HTTP_MOBISPOT_METRICS_ROUTES; i++) {
        mr = &ngx_http_mobispot_metrics_routes[
                 (k + i) % NGX_HTTP_MOBISPOT_METRICS_ROUTES];

        if (mr->route == route) {
            return mr;
        }

        if (mr->route != NULL) {
            continue;
        }

        /* a route's first request in this worker: its series */

        if (route->pattern.len > 64) {
            return NULL;
        }

        for (c = 0; c < 5; c++) {
            p = ngx_snprintf(labels, sizeof(labels) - 1,
                             "route=\"%V\",code=\"%s\"", &route->pattern,
                             classes[c]);
            *p = '\0';

            mr->codes[c] = ngx_http_mobispot_metric(
                               "mobispot_http_requests_total",
                               (char *) labels,
                               NGX_HTTP_MOBISPOT_METRIC_COUNTER);
        }

        p = ngx_snprintf(labels, sizeof(labels) - 1, "route=\"%V\"",
                         &route->pattern);
        *p = '\0';

        mr->time = ngx_http_mobispot_metric(
                       "mobispot_http_request_duration_seconds",
                       (char *) labels, NGX_HTTP_MOBISPOT_METRIC_HTTP_TIME);
        mr->route = route;

        return mr;
    }

    return NULL;
}


/* a worker's start: the http/ layer's series, and its Redis every second */

ngx_int_t
ngx_http_mobispot_metrics_init_process(ngx_cycle_t *cycle)
{
    u_char                            *p, labels[32];
    ngx_uint_t                         i;
    ngx_http_mobispot_main_conf_t     *mcf;
    ngx_http_mobispot_metrics_http_t  *mh;

    static const char  *failed[] = {
        "kind=\"lost\"", "kind=\"timeout\"", "kind=\"not_serving\"",
        "kind=\"denied\"", "kind=\"unavailable\"", "kind=\"overloaded\""
    };

    static const char  *cache[] = {
        NULL, "result=\"bypass\"", "result=\"miss\"", "result=\"hit\""
    };

    static const char  *gauges[] = {
        "mobispot_redis_up", "mobispot_redis_pending",
        "mobispot_redis_subscriptions_up", "mobispot_redis_tracking"
    };

    ngx_memzero(ngx_http_mobispot_metrics_routes,
                sizeof(ngx_http_mobispot_metrics_routes));

    mh = &ngx_http_mobispot_metrics_http;
    ngx_memzero(mh, sizeof(ngx_http_mobispot_metrics_http_t));

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mobispot_module);

    if (ngx_http_mobispot_metrics_sh == NULL || mcf == NULL
        || !mcf->metrics_used)
    {
        ngx_http_mobispot_metrics_sh = NULL;
        return NGX_OK;
    }

    for (i = 0; i < 6; i++) {
        mh->redis_failed[i] = ngx_http_mobispot_metric(
                                  "mobispot_redis_failed_calls_total",
                                  failed[i],
                                  NGX_HTTP_MOBISPOT_METRIC_COUNTER);
    }

    for (i = 1; i < 4; i++) {
        mh->cache[i] = ngx_http_mobispot_metric(
                           "mobispot_cache_lookups_total", cache[i],
                           NGX_HTTP_MOBISPOT_METRIC_COUNTER);
    }

    mh->redis_time = ngx_http_mobispot_metric(
                         "mobispot_redis_call_duration_seconds", "",
                         NGX_HTTP_MOBISPOT_METRIC_REDIS_TIME);
    mh->redis_reconnects = ngx_http_mobispot_metric(
                               "mobispot_redis_connections_total", "",
                               NGX_HTTP_MOBISPOT_METRIC_COUNTER);
    mh->cache_invalidations = ngx_http_mobispot_metric(
                                  "mobispot_cache_invalidations_total", "",
                                  NGX_HTTP_MOBISPOT_METRIC_COUNTER);

    if (mcf->client == NULL) {
        return NGX_OK;
    }

    /* each worker's own gauges: worker="N" (a reload's new N overwrite) */

    p = ngx_snprintf(labels, sizeof(labels) - 1, "worker=\"%ui\"",
                     (ngx_uint_t) ngx_worker);
    *p = '\0';

    for (i = 0; i < 4; i++) {
        ngx_http_mobispot_metrics_gauges[i] =
            ngx_http_mobispot_metric(gauges[i], (char *) labels,
                                     NGX_HTTP_MOBISPOT_METRIC_GAUGE);
    }

    ngx_http_mobispot_metrics_client = mcf->client;
    ngx_http_mobispot_metrics_connects = 0;

    ngx_http_mobispot_metrics_dummy.fd = (ngx_socket_t) -1;
    ngx_http_mobispot_metrics_timer.handler = ngx_http_mobispot_metrics_tick;
    ngx_http_mobispot_metrics_timer.data = &ngx_http_mobispot_metrics_dummy;
    ngx_http_mobispot_metrics_timer.log = cycle->log;
    ngx_http_mobispot_metrics_timer.cancelable = 1;

    ngx_add_timer(&ngx_http_mobispot_metrics_timer, 1000);

    return NGX_OK;
}


void
ngx_http_mobispot_metrics_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_mobispot_metrics_client == NULL) {
        return;
    }

    /* what this worker connected since its last tick */

    ngx_http_mobispot_metrics_redis();

    if (ngx_http_mobispot_metrics_timer.timer_set) {
        ngx_del_timer(&ngx_http_mobispot_metrics_timer);
    }

    ngx_http_mobispot_metrics_client = NULL;
}


static void
ngx_http_mobispot_metrics_tick(ngx_event_t *ev)
{
    ngx_http_mobispot_metrics_redis();

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(ev, 1000);
    }
}


static void
ngx_http_mobispot_metrics_redis(void)
{
    ngx_http_mobispot_redis_state_t  st;

    ngx_http_mobispot_redis_state(ngx_http_mobispot_metrics_client, &st);

    ngx_http_mobispot_metric_set(ngx_http_mobispot_metrics_gauges[0],
                                 st.ready);
    ngx_http_mobispot_metric_set(ngx_http_mobispot_metrics_gauges[1],
                                 st.pending);
    ngx_http_mobispot_metric_set(ngx_http_mobispot_metrics_gauges[2],
                                 st.subscriptions[0] == 'u');
    ngx_http_mobispot_metric_set(ngx_http_mobispot_metrics_gauges[3],
                                 st.tracking[1] == 'n');

    /* a counter of the zone: what this worker added since it last told */

    ngx_http_mobispot_metric_add(
        ngx_http_mobispot_metrics_http.redis_reconnects,
        st.connects - ngx_http_mobispot_metrics_connects);

    ngx_http_mobispot_metrics_connects = st.connects;
}
