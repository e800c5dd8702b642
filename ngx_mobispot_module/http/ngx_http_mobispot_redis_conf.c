
/*
 * Copyright (C) Mobispot
 *
 * mobispot_redis: the Redis server's address, database and password, read
 * at configuration time (a worker never resolves a name nor reads a file);
 * mobispot_redis_wait: the replicas a booking write waits for.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_module.h"


static char *ngx_http_mobispot_redis_address(ngx_conf_t *cf,
    ngx_http_mobispot_redis_conf_t *rcf, ngx_str_t *value);
static char *ngx_http_mobispot_redis_user(ngx_conf_t *cf,
    ngx_http_mobispot_redis_conf_t *rcf, ngx_str_t *value);
static char *ngx_http_mobispot_redis_password(ngx_conf_t *cf,
    ngx_http_mobispot_redis_conf_t *rcf, ngx_str_t *file);


/* mobispot_redis <address> [db=N] [user=NAME] [password_file=path] */

char *
ngx_http_mobispot_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mobispot_main_conf_t *mcf = conf;

    char        *rv;
    ngx_int_t    n;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (mcf->redis.configured) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rv = ngx_http_mobispot_redis_address(cf, &mcf->redis, &value[1]);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);

            if (n == NGX_ERROR || n > 1000000) {
                ngx_http_mobispot_emerg(cf, 0,
                                        "invalid redis database "
                                        "\"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            mcf->redis.db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "user=", 5) == 0) {
            rv = ngx_http_mobispot_redis_user(cf, &mcf->redis, &value[i]);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            s.data = value[i].data + 14;
            s.len = value[i].len - 14;

            rv = ngx_http_mobispot_redis_password(cf, &mcf->redis, &s);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            continue;
        }

        ngx_http_mobispot_emerg(cf, 0,
                                "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (mcf->redis.user.len && mcf->redis.password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mobispot_redis\" with \"user=\" needs "
                           "\"password_file=\" (an ACL user signs in with "
                           "its password)");
        return NGX_CONF_ERROR;
    }

    mcf->redis.configured = 1;

    return NGX_CONF_OK;
}


/*
 * "unix:/path", "IPv4[:port]", "[IPv6][:port]" or "name[:port]" (6379 by
 * default), parsed by nginx's own ngx_parse_url; a name is resolved now,
 * once, so that a worker never waits for DNS.  hiredis is given the IP
 * (or the path) and the port.
 */

#define NGX_HTTP_MOBISPOT_REDIS_PORT  6379

static char *
ngx_http_mobispot_redis_address(ngx_conf_t *cf,
    ngx_http_mobispot_redis_conf_t *rcf, ngx_str_t *value)
{
    u_char      *p, *last, *colon;
    size_t       len;
    ngx_url_t    u;
    ngx_uint_t   port;

    last = value->data + value->len;

    if (value->len == 0 || ngx_strlchr(value->data, last, '\0') != NULL) {
        ngx_http_mobispot_emerg(cf, 0,
                                "invalid redis address \"%V\"", value);
        return NGX_CONF_ERROR;
    }

    if (value->len > 5 && ngx_strncasecmp(value->data, (u_char *) "unix:", 5)
                          == 0)
    {
        if (value->data[5] != '/') {
            ngx_http_mobispot_emerg(cf, 0,
                                    "invalid redis address \"%V\": the unix "
                                    "socket path must be absolute", value);
            return NGX_CONF_ERROR;
        }

    } else if (value->data[0] != '[') {
        colon = ngx_strlchr(value->data, last, ':');

        if (colon != NULL && ngx_strlchr(colon + 1, last, ':') != NULL) {
            ngx_http_mobispot_emerg(cf, 0,
                                    "invalid redis address \"%V\": IPv6 "
                                    "addresses must be written in brackets",
                                    value);
            return NGX_CONF_ERROR;
        }
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *value;
    u.default_port = NGX_HTTP_MOBISPOT_REDIS_PORT;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        if (u.err != NULL && ngx_strcmp(u.err, "host not found") == 0) {
            ngx_http_mobispot_emerg(cf, 0,
                                    "cannot resolve redis host "
                                    "\"%V\"", &u.host);

        } else {
            ngx_http_mobispot_emerg(cf, 0,
                                    "invalid redis address \"%V\": %s", value,
                                    u.err ? u.err : "no address");
        }

        return NGX_CONF_ERROR;
    }

    if (u.uri.len) {
        ngx_http_mobispot_emerg(cf, 0,
                                "invalid redis address \"%V\": a path after "
                                "the "
                                "address", value);
        return NGX_CONF_ERROR;
    }

    rcf->address = *value;

    if (u.family == AF_UNIX) {
        len = value->len - 5;

        p = ngx_pnalloc(cf->pool, len + 1);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        *ngx_cpymem(p, value->data + 5, len) = '\0';

        rcf->host.data = p;
        rcf->host.len = len;
        rcf->port = 0;

        return NGX_CONF_OK;
    }

    port = ngx_inet_get_port(u.addrs[0].sockaddr);

    if (port == 0) {
        ngx_http_mobispot_emerg(cf, 0,
                                "invalid redis address \"%V\": invalid port",
                                value);
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    rcf->host.data = p;
    rcf->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, p,
                                  NGX_SOCKADDR_STRLEN, 0);
    p[rcf->host.len] = '\0';
    rcf->port = (int) port;

    return NGX_CONF_OK;
}


/*
 * user=NAME: the Redis ACL user (Redis 6 and later) the connections sign
 * in as, a name of 1 to 128 printable ASCII characters without a blank
 * (what ACL SETUSER takes on one line of an ACL file)
 */

static char *
ngx_http_mobispot_redis_user(ngx_conf_t *cf,
    ngx_http_mobispot_redis_conf_t *rcf, ngx_str_t *value)
{
    u_char  *p, *last;

    if (rcf->user.len) {
        ngx_http_mobispot_emerg(cf, 0,
                                "duplicate \"user=\" in \"mobispot_redis\"");
        return NGX_CONF_ERROR;
    }

    p = value->data + sizeof("user=") - 1;
    last = value->data + value->len;

    if (last - p < 1 || last - p > 128) {
        ngx_http_mobispot_emerg(cf, 0,
                                "invalid redis user \"%V\": 1 to 128 "
                                "characters",
                                value);
        return NGX_CONF_ERROR;
    }

    rcf->user.data = p;
    rcf->user.len = last - p;

    for ( /* void */ ; p < last; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            ngx_http_mobispot_emerg(cf, 0,
                                    "invalid redis user \"%V\": printable "
                                    "ASCII without a blank", value);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * The password is read by the master at configuration time; it is kept in
 * the configuration pool and never logged.  The file holds the password on
 * its first line.
 */

static char *
ngx_http_mobispot_redis_password(ngx_conf_t *cf,
    ngx_http_mobispot_redis_conf_t *rcf, ngx_str_t *file)
{
    u_char     *p, *last;
    ngx_str_t   text;

    if (ngx_http_mobispot_conf_read_file(cf, cf->temp_pool, file, 4096,
                                         "password_file", &text)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    last = text.data + text.len;

    for (p = text.data; p < last; p++) {
        if (*p == CR || *p == LF) {
            break;
        }
    }

    rcf->password.len = p - text.data;

    if (rcf->password.len == 0 || rcf->password.len > 1023) {
        ngx_explicit_memzero(text.data, text.len);
        ngx_http_mobispot_emerg(cf, 0,
                                "password_file \"%V\" is empty or its first "
                                "line "
                                "is longer than 1023 bytes", file);
        return NGX_CONF_ERROR;
    }

    rcf->password.data = ngx_pnalloc(cf->pool, rcf->password.len);
    if (rcf->password.data == NULL) {
        ngx_explicit_memzero(text.data, text.len);
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(rcf->password.data, text.data, rcf->password.len);
    ngx_explicit_memzero(text.data, text.len);

    return NGX_CONF_OK;
}


/*
 * mobispot_redis_wait <replicas> <time> | off: a booking write is
 * acknowledged only once that many replicas have it (WAIT after the
 * script, on the same connection, docs/bookings.md); the command is made
 * here, once.
 */

#define NGX_HTTP_MOBISPOT_WAIT_REPLICAS_MAX  100
#define NGX_HTTP_MOBISPOT_WAIT_TIMEOUT_MAX   10000

char *
ngx_http_mobispot_redis_wait(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mobispot_main_conf_t *mcf = conf;

    u_char       *p;
    size_t       *al;
    ngx_int_t     n;
    ngx_str_t    *value;
    ngx_msec_t    t;
    const char  **av;

    if (mcf->wait_timeout != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_http_mobispot_conf_where(cf, &mcf->wait_where);

    if (cf->args->nelts == 2) {
        if (value[1].len != 3
            || ngx_strncmp(value[1].data, "off", 3) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mobispot_redis_wait\" takes \"off\" or a "
                               "number of replicas and a time, not \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        mcf->wait_timeout = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n < 1 || n > NGX_HTTP_MOBISPOT_WAIT_REPLICAS_MAX) {
        ngx_http_mobispot_emerg(cf, 0,
                                "invalid number of replicas \"%V\" in "
                                "\"mobispot_redis_wait\": 1 to 100", &value[1]);
        return NGX_CONF_ERROR;
    }

    t = ngx_parse_time(&value[2], 0);

    if (t == (ngx_msec_t) NGX_ERROR || t == 0
        || t > NGX_HTTP_MOBISPOT_WAIT_TIMEOUT_MAX)
    {
        ngx_http_mobispot_emerg(cf, 0,
                                "invalid time \"%V\" in "
                                "\"mobispot_redis_wait\": "
                                "1ms to 10s", &value[2]);
        return NGX_CONF_ERROR;
    }

    av = ngx_palloc(cf->pool, 3 * sizeof(char *));
    al = ngx_palloc(cf->pool, 3 * sizeof(size_t));
    p = ngx_pnalloc(cf->pool, 2 * NGX_INT_T_LEN);

    if (av == NULL || al == NULL || p == NULL) {
        return NGX_CONF_ERROR;
    }

    av[0] = "WAIT";
    al[0] = 4;
    av[1] = (char *) p;
    al[1] = ngx_sprintf(p, "%i", n) - p;
    p += al[1];
    av[2] = (char *) p;
    al[2] = ngx_sprintf(p, "%M", t) - p;

    mcf->wait.argc = 3;
    mcf->wait.argv = av;
    mcf->wait.argvlen = al;
    mcf->wait_replicas = (ngx_uint_t) n;
    mcf->wait_timeout = t;

    return NGX_CONF_OK;
}


/*
 * Once the http block is read: WAIT must end well before the call's own
 * timer (mobispot_redis_timeout), which would drop the connection and
 * answer 504 instead of the 503 that says what happened.  At most half of
 * it: Redis ends a WAIT up to one turn of its cron late (100 ms at its
 * default hz 10), and another request's WAIT may be ahead on the
 * connection.
 */

char *
ngx_http_mobispot_redis_wait_check(ngx_conf_t *cf,
    ngx_http_mobispot_main_conf_t *mcf)
{
    if (mcf->wait_timeout == NGX_CONF_UNSET_MSEC) {
        mcf->wait_timeout = 0;
    }

    if (mcf->wait_replicas == 0) {
        return NGX_CONF_OK;
    }

    if (!mcf->redis.configured) {
        ngx_http_mobispot_conf_refuse(cf, &mcf->wait_where,
                                      "\"mobispot_redis_wait\" requires "
                                      "\"mobispot_redis\"");
        return NGX_CONF_ERROR;
    }

    if (mcf->wait_timeout > mcf->redis.timeout / 2) {
        ngx_http_mobispot_conf_refuse(cf, &mcf->wait_where,
                                      "the time of \"mobispot_redis_wait\" "
                                      "(%M ms) must be at most half of "
                                      "mobispot_redis_timeout (%M ms)",
                                      mcf->wait_timeout, mcf->redis.timeout);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
