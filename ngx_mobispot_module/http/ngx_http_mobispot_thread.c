
/*
 * Copyright (C) Mobispot
 *
 * The thread-pool runner: CPU-heavy work of a request (hashing a password
 * or a client secret, later RSA signing) runs in an nginx thread pool
 * (the "thread_pool" directive, chosen by mobispot_thread_pool), never on
 * the event loop, and its result comes back to the event loop.  Every
 * task of the module is posted here.
 *
 *     t = ngx_http_mobispot_thread_create(r, sizeof(my_data_t));
 *     ... copy what the work needs into t->data (and t->pool) ...
 *     return ngx_http_mobispot_thread_post(r, t, my_work, my_done);
 *
 * Lifetimes, which are the point of this file:
 *
 *  - The task's memory is its own pool (t->pool), created from nothing
 *    the request owns and logging to the worker's log: the task struct,
 *    t itself, the caller's data.  The request may be finalized while the
 *    work runs (the client went away: ngx_http_test_reading() terminates
 *    it; a worker_shutdown_timeout closes it), and its pool is then freed,
 *    but the thread still writes into the task's memory and nginx still
 *    queues the task for its completion: so that memory cannot be the
 *    request's.  It is freed by the completion handler, on the event loop,
 *    once the thread is done with it: the thread pool hands the task back
 *    to the event loop after the work returned, always.
 *  - The work reads and writes the task's memory only: what it needs from
 *    the request is copied into t->data (or t->pool) before the post.  It
 *    may allocate from t->pool: the pool is used by one thread at a time
 *    (the thread pool's queue orders the event loop's use before the post,
 *    the thread's during the work, the event loop's after completion).
 *  - A cleanup on r->pool marks the task orphaned (t->request = NULL) when
 *    the request goes first; the completion handler of an orphaned task
 *    frees the task's memory and touches nothing else.  When the request
 *    is still there, the cleanup is disarmed, the caller's done handler
 *    runs, then the task's memory is freed and the request is finalized
 *    with what done returned (NGX_DONE when it went on asynchronously: a
 *    Redis call).
 *  - While the task is out, the request holds one more reference
 *    (r->main->count), released by that finalization, as a Redis call
 *    does (ngx_http_mobispot_call.c).
 *  - A worker that shuts down (a reload, nginx -s quit) exits once no
 *    timer is left, and a task is not one: while it is out, a timer of its
 *    own (t->alive, re-armed until the completion) keeps the worker, so
 *    that the old worker answers the requests whose hashes were made.
 *    After worker_shutdown_timeout nginx closes the requests: the task is
 *    orphaned, and its timer keeps the worker until the thread is done
 *    with the task's memory.
 *
 * Pools (docs/directives.md, mobispot_thread_pool): the name given, which
 * must have its "thread_pool" block (ngx_thread_pool_add() records it, and
 * nginx refuses an unknown one at configuration time), or, in a location
 * that needs a pool (an API location with admin routes allowed, or one
 * that called ngx_http_mobispot_thread_use()), nginx's "default" pool,
 * which nginx creates with 32 threads when no "thread_pool default" block
 * sets it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_api.h"
#include "http/ngx_http_mobispot_thread.h"


/* the task's own pool: the task, t, and a caller's small data */
#define NGX_HTTP_MOBISPOT_THREAD_POOL_SIZE  1024

/* how often the timer that keeps the worker while a task is out fires */
#define NGX_HTTP_MOBISPOT_THREAD_ALIVE      60000


#if (NGX_THREADS)
static void ngx_http_mobispot_thread_run(void *data, ngx_log_t *log);
static void ngx_http_mobispot_thread_complete(ngx_event_t *ev);
static void ngx_http_mobispot_thread_alive(ngx_event_t *ev);
static void ngx_http_mobispot_thread_free(ngx_http_mobispot_thread_t *t);
#endif
static void ngx_http_mobispot_thread_orphan(void *data);


/*
 * A task's state and size bytes of zeroed data for the caller, in the
 * task's own pool; NULL when out of memory.  wipe, when not NULL, gets the
 * data when the task's memory goes, whether its request is still there or
 * not (a secret wiped, what the work allocated freed).
 */

ngx_http_mobispot_thread_t *
ngx_http_mobispot_thread_create(ngx_http_request_t *r, size_t size,
    ngx_pool_cleanup_pt wipe)
{
#if (NGX_THREADS)
    ngx_pool_t                  *pool;
    ngx_pool_cleanup_t          *cln;
    ngx_thread_task_t           *task;
    ngx_http_mobispot_thread_t  *t;

    pool = ngx_create_pool(NGX_HTTP_MOBISPOT_THREAD_POOL_SIZE,
                           ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    task = ngx_thread_task_alloc(pool, sizeof(ngx_http_mobispot_thread_t));
    if (task == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    t = task->ctx;
    t->pool = pool;
    t->task = task;

    t->data = ngx_pcalloc(pool, size ? size : 1);
    if (t->data == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    if (wipe) {
        cln = ngx_pool_cleanup_add(pool, 0);
        if (cln == NULL) {
            ngx_destroy_pool(pool);
            return NULL;
        }

        cln->handler = wipe;
        cln->data = t->data;
    }

    return t;

#else

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "mobispot: this nginx has no thread pools "
                  "(--with-threads)");
    return NULL;

#endif
}


/* a task that will not be posted after all */

void
ngx_http_mobispot_thread_destroy(ngx_http_mobispot_thread_t *t)
{
    if (t != NULL) {
        ngx_destroy_pool(t->pool);
    }
}


/*
 * Posts the task to the location's thread pool: NGX_DONE, then done (or
 * nothing, if the request has gone) on the event loop once work returned.
 * Otherwise the task is freed, and the request's answer is returned: 503
 * overloaded when the pool's queue is full, 500 when there is no pool.
 */

ngx_int_t
ngx_http_mobispot_thread_post(ngx_http_request_t *r,
    ngx_http_mobispot_thread_t *t, ngx_http_mobispot_thread_work_pt work,
    ngx_http_mobispot_thread_done_pt done)
{
#if (NGX_THREADS)
    ngx_pool_cleanup_t            *cln;
    ngx_thread_task_t             *task;
    ngx_http_mobispot_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_module);

    if (lcf->thread_pool == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "mobispot: no thread pool in this location "
                      "(mobispot_thread_pool)");
        ngx_http_mobispot_thread_destroy(t);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_mobispot_thread_destroy(t);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->request = r;
    t->cleanup = cln;
    t->work = work;
    t->done = done;

    task = t->task;
    task->handler = ngx_http_mobispot_thread_run;
    task->event.handler = ngx_http_mobispot_thread_complete;
    task->event.data = t;
    task->event.log = ngx_cycle->log;

    if (ngx_thread_task_post(lcf->thread_pool, task) != NGX_OK) {
        /* the queue is full (nginx logged it) */
        ngx_http_mobispot_thread_destroy(t);
        return ngx_http_mobispot_api_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "overloaded",
                                           "too many requests in flight");
    }

    cln->handler = ngx_http_mobispot_thread_orphan;
    cln->data = t;

    t->alive.handler = ngx_http_mobispot_thread_alive;
    t->alive.data = t;
    t->alive.log = ngx_cycle->log;
    ngx_add_timer(&t->alive, NGX_HTTP_MOBISPOT_THREAD_ALIVE);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mobispot: thread task #%ui posted", task->id);

    r->main->count++;

    /* notice a client that goes away while the task runs */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_DONE;

#else

    ngx_http_mobispot_thread_destroy(t);
    return NGX_HTTP_INTERNAL_SERVER_ERROR;

#endif
}


#if (NGX_THREADS)

/* in a thread of the pool */

static void
ngx_http_mobispot_thread_run(void *data, ngx_log_t *log)
{
    ngx_http_mobispot_thread_t  *t = data;

    t->work(t->data, log);
}


/* on the event loop, after the work */

static void
ngx_http_mobispot_thread_complete(ngx_event_t *ev)
{
    ngx_int_t                    rc;
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_mobispot_thread_t  *t;

    t = ev->data;
    r = t->request;

    if (r == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "mobispot: thread task #%ui done, its request has "
                       "gone", t->task->id);
        ngx_http_mobispot_thread_free(t);
        return;
    }

    t->cleanup->handler = NULL;

    c = r->connection;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "mobispot: thread task #%ui done", t->task->id);

    rc = t->done(r, t->data);

    ngx_http_mobispot_thread_free(t);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* a task still out: the worker stays, whether it shuts down or not */

static void
ngx_http_mobispot_thread_alive(ngx_event_t *ev)
{
    ngx_http_mobispot_thread_t  *t = ev->data;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "mobispot: thread task #%ui still running", t->task->id);

    ngx_add_timer(ev, NGX_HTTP_MOBISPOT_THREAD_ALIVE);
}


/* a posted task ends: its timer, then its memory */

static void
ngx_http_mobispot_thread_free(ngx_http_mobispot_thread_t *t)
{
    if (t->alive.timer_set) {
        ngx_del_timer(&t->alive);
    }

    ngx_destroy_pool(t->pool);
}

#endif


/* the request's pool is being freed while its task is out */

static void
ngx_http_mobispot_thread_orphan(void *data)
{
    ngx_http_mobispot_thread_t  *t = data;

    t->request = NULL;
    t->cleanup = NULL;
}


/*
 * mobispot_thread_pool NAME: the pool is looked up (or recorded, to be
 * checked once the configuration is read: an unknown one stops nginx -t)
 * at once, as nginx's own "aio threads=NAME" does.
 */

char *
ngx_http_mobispot_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mobispot_loc_conf_t *lcf = conf;

#if (NGX_THREADS)
    ngx_str_t  *value;
#endif

    if (lcf->thread_pool != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

#if (NGX_THREADS)

    value = cf->args->elts;

    lcf->thread_pool = ngx_thread_pool_add(cf, &value[1]);
    if (lcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    return "needs an nginx built with thread pools (--with-threads)";

#endif
}


/*
 * A location whose handler posts tasks says so, from its directive (the
 * issuer's, for instance), so that it gets the default pool when it names
 * none.
 */

void
ngx_http_mobispot_thread_use(ngx_conf_t *cf)
{
    ngx_http_mobispot_loc_conf_t  *lcf;

    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_mobispot_module);
    lcf->thread_used = 1;
}


/*
 * The pool of a location: its own or its parent's; when it has none and
 * needs one, nginx's "default" pool.  Only a location that may run tasks
 * asks for the default pool, so that a gateway that has no use for it
 * does not start its 32 threads in each worker.
 */

char *
ngx_http_mobispot_thread_merge(ngx_conf_t *cf,
    ngx_http_mobispot_loc_conf_t *prev, ngx_http_mobispot_loc_conf_t *conf)
{
    ngx_conf_merge_ptr_value(conf->thread_pool, prev->thread_pool, NULL);

    if (conf->thread_pool != NULL) {
        return NGX_CONF_OK;
    }

    if (!conf->thread_used
        && !(conf->api && conf->admin != NGX_HTTP_MOBISPOT_ADMIN_OFF))
    {
        return NGX_CONF_OK;
    }

#if (NGX_THREADS)

    conf->thread_pool = ngx_thread_pool_add(cf, NULL);
    if (conf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

#endif

    return NGX_CONF_OK;
}
