
/*
 * Copyright (C) Mobispot
 */


#ifndef _NGX_HTTP_MOBISPOT_MODULE_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "core/mobispot_core.h"
#include "redis/ngx_http_mobispot_redis.h"


typedef struct ngx_http_mobispot_cache_s  ngx_http_mobispot_cache_t;


/*
 * A part of GET health that a resource adds (ngx_http_mobispot_api_add_health):
 * with g NULL, it only says whether its state is degraded; with g, it also
 * writes its value (the member name is written before it).
 */

typedef ngx_int_t (*ngx_http_mobispot_health_pt)(ngx_http_request_t *r,
    yajl_gen g, ngx_uint_t *degraded, void *data);

typedef struct {
    const char                        *name;
    ngx_http_mobispot_health_pt        handler;
    void                              *data;
} ngx_http_mobispot_health_part_t;


/* a log line written at most once a second (ngx_http_mobispot_log.c) */

typedef struct {
    time_t                             last;
    ngx_uint_t                         skipped;
} ngx_http_mobispot_log_limit_t;


/* where a directive was read (ngx_http_mobispot_conf_where()) */

typedef struct {
    u_char                            *file;
    ngx_uint_t                         line;
} ngx_http_mobispot_conf_where_t;


/*
 * A post of a num, sec, msec or size slot: the value within [low, high],
 * or the directive refused with its value and reason ("must be ...")
 */

typedef struct {
    ngx_conf_post_handler_pt           post_handler;
    ngx_uint_t                         type;
    ngx_uint_t                         low;
    ngx_uint_t                         high;
    const char                        *reason;
} ngx_http_mobispot_conf_bounds_t;

#define NGX_HTTP_MOBISPOT_BOUNDS_NUM   0
#define NGX_HTTP_MOBISPOT_BOUNDS_SEC   1
#define NGX_HTTP_MOBISPOT_BOUNDS_MSEC  2
#define NGX_HTTP_MOBISPOT_BOUNDS_SIZE  3

#define ngx_http_mobispot_bounds(type, low, high, reason)                    \
    { ngx_http_mobispot_conf_check_bounds, NGX_HTTP_MOBISPOT_BOUNDS_##type,  \
      low, high, reason }


typedef struct {
    ngx_http_mobispot_redis_conf_t     redis;

    /* the worker's connection to Redis, made in init_process */
    ngx_http_mobispot_redis_client_t  *client;

    ngx_uint_t                         api_used;  /* unsigned api_used:1 */
    ngx_http_mobispot_conf_where_t     api_where;   /* the first */

    /*
     * the API's routes: const ngx_http_mobispot_api_route_t *, registered
     * by each resource module (ngx_http_mobispot_api_add_routes())
     */
    ngx_array_t                        routes;

    /* parts of GET health: ngx_http_mobispot_health_part_t, by resources */
    ngx_array_t                        health;

    /* mobispot_api_cache; the worker's cache of answers (init_process) */
    ngx_flag_t                         cache_enabled;
    ngx_uint_t                         cache_entries;
    ngx_msec_t                         cache_valid;
    ngx_http_mobispot_cache_t         *cache;

    /* the worker's "too many commands in flight" line */
    ngx_http_mobispot_log_limit_t      overload_log;

    /* the lines of Redis faults seen by requests (ngx_http_mobispot_fault) */
    ngx_http_mobispot_log_limit_t      fault_log;

    /*
     * mobispot_redis_wait: the replicas a write waits for (0: off), the
     * time it waits, and the WAIT command itself, made at configuration
     */
    ngx_uint_t                         wait_replicas;
    ngx_msec_t                         wait_timeout;
    ngx_http_mobispot_redis_cmd_t      wait;
    ngx_http_mobispot_log_limit_t      wait_log;
    ngx_http_mobispot_conf_where_t     wait_where;

    /* a mobispot_metrics location exists; mobispot_metrics_zone_size */
    ngx_uint_t                         metrics_used;
    size_t                             metrics_size;
} ngx_http_mobispot_main_conf_t;


typedef struct {
    ngx_flag_t                         api;
    ngx_str_t                          api_prefix;
    size_t                             api_max_body;
    time_t                             api_retry_after;

    /* who may use the admin routes: mobispot_admin */
    ngx_uint_t                         admin;
    ngx_str_t                          admin_role;

    /*
     * mobispot_thread_pool: the ngx_thread_pool_t * of the location's
     * tasks, or NULL (ngx_http_mobispot_thread.c); whether the location
     * posts tasks (ngx_http_mobispot_thread_use())
     */
    void                              *thread_pool;
    ngx_uint_t                         thread_used;

    /* mobispot_metrics: who may read them (unset: not here) */
    ngx_uint_t                         metrics;
} ngx_http_mobispot_loc_conf_t;

#define NGX_HTTP_MOBISPOT_METRICS_LOOPBACK  1
#define NGX_HTTP_MOBISPOT_METRICS_ANY       2


/* the module's version: GET health says it; debian/changelog's (t/011) */
#define NGX_HTTP_MOBISPOT_VERSION         "0.1.0"

#define NGX_HTTP_MOBISPOT_API_MAX_BODY    (1024 * 1024)

#define NGX_HTTP_MOBISPOT_ADMIN_OFF       0
#define NGX_HTTP_MOBISPOT_ADMIN_ROLE      1
#define NGX_HTTP_MOBISPOT_ADMIN_LOOPBACK  2


extern ngx_module_t  ngx_http_mobispot_module;


ngx_int_t ngx_http_mobispot_api_add_health(ngx_conf_t *cf, const char *name,
    ngx_http_mobispot_health_pt handler, void *data);
char *ngx_http_mobispot_admin_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mobispot_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mobispot_redis_wait(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mobispot_redis_wait_check(ngx_conf_t *cf,
    ngx_http_mobispot_main_conf_t *mcf);
char *ngx_http_mobispot_conf_enum_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mobispot_conf_bitmask_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_cdecl ngx_http_mobispot_emerg(ngx_conf_t *cf, ngx_err_t err,
    const char *fmt, ...);
char *ngx_http_mobispot_conf_check_bounds(ngx_conf_t *cf, void *post,
    void *data);
void ngx_http_mobispot_conf_where(ngx_conf_t *cf,
    ngx_http_mobispot_conf_where_t *where);
void ngx_cdecl ngx_http_mobispot_conf_refuse(ngx_conf_t *cf,
    ngx_http_mobispot_conf_where_t *where, const char *fmt, ...);
ngx_int_t ngx_http_mobispot_add_variables(ngx_conf_t *cf,
    ngx_http_variable_t *table);
ngx_int_t ngx_http_mobispot_phase_handler(ngx_conf_t *cf, ngx_uint_t phase,
    ngx_http_handler_pt handler);
char *ngx_http_mobispot_conf_read_file(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_str_t *name, size_t max, const char *what, ngx_str_t *out);
ngx_uint_t ngx_http_mobispot_worker_zero(void);
ngx_uint_t ngx_http_mobispot_log_limit(ngx_http_mobispot_log_limit_t *limit,
    ngx_uint_t *skipped);
u_char *ngx_http_mobispot_log_escape(ngx_pool_t *pool, const u_char *s,
    size_t len);
void ngx_cdecl ngx_http_mobispot_fault(ngx_uint_t level, ngx_log_t *log,
    const char *fmt, ...);


#endif /* _NGX_HTTP_MOBISPOT_MODULE_H_INCLUDED_ */
