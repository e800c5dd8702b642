
/*
 * Copyright (C) Mobispot
 *
 * GET of a mobispot_metrics location: the zone's series in the Prometheus
 * text exposition format 0.0.4, each family once with its HELP and TYPE,
 * its series sorted, a histogram's buckets cumulative with "+Inf", its
 * sum in seconds and its count.  A family is served once a series of it
 * is found (docs/operations.md lists them all).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_api.h"
#include "http/ngx_http_mobispot_metrics.h"


static int ngx_libc_cdecl ngx_http_mobispot_metrics_cmp(const void *a,
    const void *b);
static const ngx_http_mobispot_metric_family_t *
    ngx_http_mobispot_metrics_family(const u_char *key, size_t *len);
static u_char *ngx_http_mobispot_metrics_series(u_char *p, u_char *last,
    ngx_http_mobispot_metric_sh_t *m, size_t flen);


#define C  NGX_HTTP_MOBISPOT_METRIC_COUNTER
#define G  NGX_HTTP_MOBISPOT_METRIC_GAUGE
#define HH NGX_HTTP_MOBISPOT_METRIC_HTTP_TIME
#define HR NGX_HTTP_MOBISPOT_METRIC_REDIS_TIME

const ngx_http_mobispot_metric_family_t
    ngx_http_mobispot_metric_families[] =
{
    { "mobispot_http_requests_total", C,
      "Requests of the module's routes, by route pattern and status class" },
    { "mobispot_http_request_duration_seconds", HH,
      "Time from a request's first byte to its log line, by route" },
    { "mobispot_redis_up", G,
      "1 when the worker's data connection to Redis is ready" },
    { "mobispot_redis_pending", G,
      "Commands of the worker waiting for Redis's reply" },
    { "mobispot_redis_subscriptions_up", G,
      "1 when every channel of the worker's subscriptions is subscribed" },
    { "mobispot_redis_tracking", G,
      "1 when Redis tracks the keys of the worker's answer cache" },
    { "mobispot_redis_connections_total", C,
      "Data connections to Redis made, the first of each worker included" },
    { "mobispot_redis_failed_calls_total", C,
      "Calls of requests that got no reply, by kind" },
    { "mobispot_redis_call_duration_seconds", HR,
      "Time from a request's commands sent to their last reply" },
    { "mobispot_cache_lookups_total", C,
      "Answer cache lookups of the read routes, by result" },
    { "mobispot_cache_invalidations_total", C,
      "Keys that Redis said changed, forgotten by the answer caches" },
    { "mobispot_sso_verdicts_total", C,
      "SSO gateway verdicts, by $mobispot_sso_status" },
    { "mobispot_sso_token_cache_total", C,
      "SSO gateway token cache lookups, by result" },
    { "mobispot_sso_revoked_sessions", G,
      "Signed-out sessions in the revocation zone" },
    { "mobispot_sso_revocation_full", G,
      "1 while the revocation zone is full: every token is refused" },
    { "mobispot_sso_keys_age_seconds", G,
      "Seconds since a worker last read the key set from Redis" },
    { "mobispot_bookings_total", C,
      "Bookings by event: created, conflict, replayed, cancelled, "
      "no_show, hold_expired" },
    { "mobispot_issuer_logins_total", C,
      "Sign-ins at the issuer, by result: ok, failed, throttled" },
    { "mobispot_issuer_tokens_total", C,
      "Tokens issued, by grant: authorization_code, refresh_token" },
    { "mobispot_issuer_refresh_reuse_total", C,
      "Refresh tokens presented again after their rotation" },
    { NULL, 0, NULL }
};

#undef C
#undef G
#undef HH
#undef HR


ngx_int_t
ngx_http_mobispot_metrics_handler(ngx_http_request_t *r)
{
    u_char                                   *p, *last;
    size_t                                    flen, size;
    ngx_buf_t                                *b;
    ngx_uint_t                                i, n;
    ngx_chain_t                               out;
    struct sockaddr_in                       *sin;
    ngx_http_mobispot_loc_conf_t             *lcf;
    ngx_http_mobispot_metric_sh_t           **order;
    ngx_http_mobispot_metrics_sh_t           *sh;
    const ngx_http_mobispot_metric_family_t  *f, *prev;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6                      *sin6;
#endif

    static ngx_str_t  type =
        ngx_string("text/plain; version=0.0.4; charset=utf-8");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_mobispot_module);

    if (lcf->metrics == NGX_HTTP_MOBISPOT_METRICS_LOOPBACK) {
        switch (r->connection->sockaddr->sa_family) {

        case AF_INET:
            sin = (struct sockaddr_in *) r->connection->sockaddr;
            if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
                return NGX_HTTP_FORBIDDEN;
            }
            break;

#if (NGX_HAVE_INET6)
        case AF_INET6:
            sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
            if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
                return NGX_HTTP_FORBIDDEN;
            }
            break;
#endif

#if (NGX_HAVE_UNIX_DOMAIN)
        case AF_UNIX:
            break;
#endif

        default:
            return NGX_HTTP_FORBIDDEN;
        }
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sh = ngx_http_mobispot_metrics_zone();
    n = sh ? sh->n : 0;

    ngx_memory_barrier();

    order = ngx_palloc(r->pool, (n + 1) * sizeof(void *));
    if (order == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        order[i] = &sh->m[i];
    }

    ngx_qsort(order, n, sizeof(void *), ngx_http_mobispot_metrics_cmp);

    /* a line of a series is at most its key, a label, a number */

    size = 1024;

    for (i = 0; i < n; i++) {
        size += (NGX_HTTP_MOBISPOT_METRIC_BUCKETS + 3)
                * (NGX_HTTP_MOBISPOT_METRIC_KEY + 64) + 256;
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->pos;
    last = b->end;
    prev = NULL;

    for (i = 0; i < n; i++) {
        f = ngx_http_mobispot_metrics_family(order[i]->key, &flen);

        if (f == NULL) {
            continue;
        }

        if (f != prev) {
            p = ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                             f->name, f->help, f->name,
                             f->kind == NGX_HTTP_MOBISPOT_METRIC_COUNTER
                             ? "counter"
                             : f->kind == NGX_HTTP_MOBISPOT_METRIC_GAUGE
                               ? "gauge" : "histogram");
            prev = f;
        }

        p = ngx_http_mobispot_metrics_series(p, last, order[i], flen);
    }

    b->last = p;

    if (ngx_http_mobispot_api_header(r, "Cache-Control",
                                     sizeof("Cache-Control") - 1,
                                     (u_char *) "no-store",
                                     sizeof("no-store") - 1)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_mobispot_send(r, NGX_HTTP_OK, &type, &out,
                                  b->last - b->pos);
}


static int ngx_libc_cdecl
ngx_http_mobispot_metrics_cmp(const void *a, const void *b)
{
    const ngx_http_mobispot_metric_sh_t  *ma, *mb;

    ma = *(ngx_http_mobispot_metric_sh_t * const *) a;
    mb = *(ngx_http_mobispot_metric_sh_t * const *) b;

    return ngx_strcmp(ma->key, mb->key);
}


/* the family a key belongs to, and the length of its name */

static const ngx_http_mobispot_metric_family_t *
ngx_http_mobispot_metrics_family(const u_char *key, size_t *len)
{
    size_t                                    n;
    const ngx_http_mobispot_metric_family_t  *f;

    for (n = 0; key[n] && key[n] != '{'; n++) { /* void */ }

    for (f = ngx_http_mobispot_metric_families; f->name; f++) {
        if (ngx_strlen(f->name) == n
            && ngx_strncmp(f->name, key, n) == 0)
        {
            *len = n;
            return f;
        }
    }

    return NULL;
}


/* one series: a counter's or gauge's line, or a histogram's lines */

static u_char *
ngx_http_mobispot_metrics_series(u_char *p, u_char *last,
    ngx_http_mobispot_metric_sh_t *m, size_t flen)
{
    u_char           *labels;
    size_t            llen;
    uint64_t          sum, cum;
    ngx_uint_t        i;
    const uint64_t   *bounds;

    if (m->kind == NGX_HTTP_MOBISPOT_METRIC_COUNTER
        || m->kind == NGX_HTTP_MOBISPOT_METRIC_GAUGE)
    {
        return ngx_slprintf(p, last, "%s %uA\n", m->key, m->v[0]);
    }

    bounds = ngx_http_mobispot_metric_bounds(m->kind);

    if (bounds == NULL) {
        return p;
    }

    /* the labels without their braces, to which "le" is added */

    labels = m->key + flen;
    llen = ngx_strlen(labels);

    if (llen >= 2) {
        labels++;
        llen -= 2;
    }

    cum = 0;

    for (i = 0; i <= NGX_HTTP_MOBISPOT_METRIC_BUCKETS; i++) {
        cum += m->v[i];

        p = ngx_slprintf(p, last, "%*s_bucket{%*s%s", flen, m->key, llen,
                         labels, llen ? "," : "");

        if (i == NGX_HTTP_MOBISPOT_METRIC_BUCKETS) {
            p = ngx_slprintf(p, last, "le=\"+Inf\"} %uL\n", cum);

        } else {
            p = ngx_slprintf(p, last, "le=\"%uL.%06uL\"} %uL\n",
                             bounds[i] / 1000000, bounds[i] % 1000000, cum);
        }
    }

    sum = m->v[NGX_HTTP_MOBISPOT_METRIC_BUCKETS + 1];

    p = ngx_slprintf(p, last, "%*s_sum%s%*s%s %uL.%06uL\n", flen, m->key,
                     llen ? "{" : "", llen, labels, llen ? "}" : "",
                     sum / 1000000, sum % 1000000);

    return ngx_slprintf(p, last, "%*s_count%s%*s%s %uA\n", flen, m->key,
                        llen ? "{" : "", llen, labels, llen ? "}" : "",
                        m->v[NGX_HTTP_MOBISPOT_METRIC_BUCKETS + 2]);
}
