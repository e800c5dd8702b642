
/*
 * Copyright (C) Mobispot
 *
 * The module's metrics: counters, gauges and histograms in one shared
 * memory zone, so that a scrape of any worker sees them all; they survive
 * a reload (the zone is kept) and start again from zero at a restart.
 * A series is named by its family and labels ("mobispot_bookings_total",
 * "event=\"created\""), found or made in the zone once per worker (at its
 * start, or on its first use), then moved with atomic additions: counting
 * takes no lock.  Without a mobispot_metrics location there is no zone,
 * every series is NULL and counting is a test of a pointer.
 */


#ifndef _NGX_HTTP_MOBISPOT_METRICS_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_MOBISPOT_METRIC_COUNTER     0
#define NGX_HTTP_MOBISPOT_METRIC_GAUGE       1
/* histograms, by their buckets (ngx_http_mobispot_metrics.c) */
#define NGX_HTTP_MOBISPOT_METRIC_HTTP_TIME   2   /* 1 ms .. 5 s */
#define NGX_HTTP_MOBISPOT_METRIC_REDIS_TIME  3   /* 100 us .. 500 ms */

#define NGX_HTTP_MOBISPOT_METRIC_KEY         128
/* a histogram: its buckets, +Inf, the sum (in microseconds), the count */
#define NGX_HTTP_MOBISPOT_METRIC_VALUES      16
#define NGX_HTTP_MOBISPOT_METRIC_BUCKETS     12


typedef struct {
    u_char                        key[NGX_HTTP_MOBISPOT_METRIC_KEY];
    ngx_atomic_t                  kind;
    ngx_atomic_t                  v[NGX_HTTP_MOBISPOT_METRIC_VALUES];
} ngx_http_mobispot_metric_sh_t;


typedef struct {
    ngx_atomic_t                  n;         /* series in use */
    ngx_uint_t                    max;
    ngx_http_mobispot_metric_sh_t m[1];
} ngx_http_mobispot_metrics_sh_t;


/* a family as the exposition names it */
typedef struct {
    const char                   *name;
    ngx_uint_t                    kind;
    const char                   *help;
} ngx_http_mobispot_metric_family_t;


extern const ngx_http_mobispot_metric_family_t
    ngx_http_mobispot_metric_families[];


/* the series of the http/ layer, found at each worker's start */
typedef struct {
    ngx_atomic_t                 *redis_failed[6];   /* by kind, below */
    ngx_atomic_t                 *redis_time;
    ngx_atomic_t                 *redis_reconnects;
    ngx_atomic_t                 *cache[4];          /* by cache status */
    ngx_atomic_t                 *cache_invalidations;
} ngx_http_mobispot_metrics_http_t;

#define NGX_HTTP_MOBISPOT_METRIC_LOST         0
#define NGX_HTTP_MOBISPOT_METRIC_TIMEOUT      1
#define NGX_HTTP_MOBISPOT_METRIC_NOT_SERVING  2
#define NGX_HTTP_MOBISPOT_METRIC_DENIED       3
#define NGX_HTTP_MOBISPOT_METRIC_UNAVAILABLE  4
#define NGX_HTTP_MOBISPOT_METRIC_OVERLOADED   5

extern ngx_http_mobispot_metrics_http_t  ngx_http_mobispot_metrics_http;


/* configuration (ngx_http_mobispot_metrics.c) */
char *ngx_http_mobispot_metrics_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mobispot_metrics_zone_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mobispot_metrics_init(ngx_conf_t *cf);
ngx_int_t ngx_http_mobispot_metrics_init_process(ngx_cycle_t *cycle);
void ngx_http_mobispot_metrics_exit_process(ngx_cycle_t *cycle);

/* the series (NULL: no metrics, or the zone is full) */
ngx_atomic_t *ngx_http_mobispot_metric(const char *family,
    const char *labels, ngx_uint_t kind);
void ngx_http_mobispot_metric_observe(ngx_atomic_t *h, uint64_t usec);
ngx_http_mobispot_metrics_sh_t *ngx_http_mobispot_metrics_zone(void);
const uint64_t *ngx_http_mobispot_metric_bounds(ngx_uint_t kind);

#define ngx_http_mobispot_metric_inc(m)                                      \
    if ((m) != NULL) { (void) ngx_atomic_fetch_add((m), 1); }

#define ngx_http_mobispot_metric_add(m, n)                                   \
    if ((m) != NULL) { (void) ngx_atomic_fetch_add((m), (n)); }

#define ngx_http_mobispot_metric_set(m, n)                                   \
    if ((m) != NULL) { *(m) = (ngx_atomic_uint_t) (n); }

/* the exposition (ngx_http_mobispot_metrics_text.c) */
ngx_int_t ngx_http_mobispot_metrics_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_MOBISPOT_METRICS_H_INCLUDED_ */
