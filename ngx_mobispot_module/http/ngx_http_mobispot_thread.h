
/*
 * Copyright (C) Mobispot
 *
 * The thread-pool runner (ngx_http_mobispot_thread.c): the one place that
 * posts CPU-heavy work of a request (password hashing, RSA signing) to an
 * nginx thread pool, and brings its result back to the event loop.
 */


#ifndef _NGX_HTTP_MOBISPOT_THREAD_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_THREAD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_module.h"


typedef struct ngx_http_mobispot_thread_s  ngx_http_mobispot_thread_t;


/*
 * The work, in a thread of the pool: it reads and writes data (the task's
 * memory) only, never a request, a connection or anything of the event
 * loop; log is the thread pool's log (the worker's).
 */
typedef void (*ngx_http_mobispot_thread_work_pt)(void *data, ngx_log_t *log);

/*
 * Back on the event loop, only when the request is still there: returns
 * what a route handler returns (the request is then finalized with it).
 * data is freed right after it returns: what outlives it is copied into
 * r->pool.
 */
typedef ngx_int_t (*ngx_http_mobispot_thread_done_pt)(ngx_http_request_t *r,
    void *data);


struct ngx_http_mobispot_thread_s {
    ngx_pool_t                        *pool;     /* the task's own memory */
    void                              *data;     /* size bytes, zeroed */

    /* the runner's */
    ngx_http_request_t                *request;  /* NULL: orphaned */
    ngx_pool_cleanup_t                *cleanup;  /* on the request's pool */
    ngx_http_mobispot_thread_work_pt   work;
    ngx_http_mobispot_thread_done_pt   done;
    ngx_event_t                        alive;    /* keeps the worker */
#if (NGX_THREADS)
    ngx_thread_task_t                 *task;
#endif
};


ngx_http_mobispot_thread_t *ngx_http_mobispot_thread_create(
    ngx_http_request_t *r, size_t size, ngx_pool_cleanup_pt wipe);
void ngx_http_mobispot_thread_destroy(ngx_http_mobispot_thread_t *t);
ngx_int_t ngx_http_mobispot_thread_post(ngx_http_request_t *r,
    ngx_http_mobispot_thread_t *t, ngx_http_mobispot_thread_work_pt work,
    ngx_http_mobispot_thread_done_pt done);

char *ngx_http_mobispot_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_mobispot_thread_use(ngx_conf_t *cf);
char *ngx_http_mobispot_thread_merge(ngx_conf_t *cf,
    ngx_http_mobispot_loc_conf_t *prev, ngx_http_mobispot_loc_conf_t *conf);


#endif /* _NGX_HTTP_MOBISPOT_THREAD_H_INCLUDED_ */
