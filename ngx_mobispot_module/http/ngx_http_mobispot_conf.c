
/*
 * Copyright (C) Mobispot
 *
 * Helpers of configuration time shared by every part of the module.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "http/ngx_http_mobispot_module.h"


/*
 * Reads a whole file named in the configuration (relative to the prefix)
 * into pool, NUL-terminated: keys, password files, time zones.  Files of
 * 0 bytes or of more than max bytes are refused.  Only the master reads,
 * at configuration time; a request never touches the file system.  what
 * names the file in the error message ("key file", "password_file").
 */

char *
ngx_http_mobispot_conf_read_file(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_str_t *name, size_t max, const char *what, ngx_str_t *out)
{
    char             *rv;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         full;
    ngx_file_info_t   fi;

    full = *name;

    if (full.len == 0 || ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        ngx_http_mobispot_emerg(cf, 0, "invalid %s name \"%V\"",
                                what, name);
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(full.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_http_mobispot_emerg(cf, ngx_errno,
                                ngx_open_file_n " \"%V\" failed", &full);
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_http_mobispot_emerg(cf, ngx_errno,
                                ngx_fd_info_n " \"%V\" failed", &full);
        goto done;
    }

    if (ngx_file_size(&fi) <= 0 || (size_t) ngx_file_size(&fi) > max) {
        ngx_http_mobispot_emerg(cf, 0,
                                "%s \"%V\" is empty or larger than %uz bytes",
                                what, &full, max);
        goto done;
    }

    out->len = (size_t) ngx_file_size(&fi);
    out->data = ngx_pnalloc(pool, out->len + 1);
    if (out->data == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, out->data, out->len);

    if (n < 0 || (size_t) n != out->len) {
        ngx_http_mobispot_emerg(cf, ngx_errno,
                                ngx_read_fd_n " \"%V\" failed", &full);
        goto done;
    }

    out->data[out->len] = '\0';
    rv = NGX_CONF_OK;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &full);
    }

    return rv;
}


/* a handler of the module's, added to one phase of every request */

ngx_int_t
ngx_http_mobispot_phase_handler(ngx_conf_t *cf, ngx_uint_t phase,
    ngx_http_handler_pt handler)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[phase].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = handler;

    return NGX_OK;
}


/*
 * An error line of a directive's handler, with the directive named first,
 * as nginx names it in its own lines: "mobispot_redis" directive: ...
 * (only while the directive is read: cf->args holds its words then)
 */

void ngx_cdecl
ngx_http_mobispot_emerg(ngx_conf_t *cf, ngx_err_t err, const char *fmt, ...)
{
    u_char     *p, *last, buf[NGX_MAX_CONF_ERRSTR];
    va_list     args;
    ngx_str_t  *name;

    last = buf + sizeof(buf);
    name = cf->args->elts;

    p = ngx_slprintf(buf, last, "\"%V\" directive: ", &name[0]);

    va_start(args, fmt);
    p = ngx_vslprintf(p, last, fmt, args);
    va_end(args);

    ngx_conf_log_error(NGX_LOG_EMERG, cf, err, "%*s", p - buf, buf);
}


/*
 * nginx's enum and bitmask slots, with a refusal that names the directive
 * and the values it takes (nginx's own says only "invalid value")
 */

static char *
ngx_http_mobispot_conf_words(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_uint_t first, ngx_uint_t last, ngx_conf_enum_t *e,
    ngx_conf_bitmask_t *b)
{
    u_char      *p, *end, list[256];
    ngx_str_t   *value, *names[32];
    ngx_uint_t   i, j, n;

    /* the values the directive takes, from either table */

    for (n = 0; n < 32 && (e ? e[n].name.len : b[n].name.len); n++) {
        names[n] = e ? &e[n].name : &b[n].name;
    }

    value = cf->args->elts;

    for (i = first; i <= last; i++) {
        for (j = 0; j < n; j++) {
            if (ngx_strcasecmp(value[i].data, names[j]->data) == 0) {
                break;
            }
        }

        if (j < n) {
            continue;
        }

        p = list;
        end = list + sizeof(list);

        for (j = 0; j < n; j++) {
            p = ngx_slprintf(p, end, "%s\"%V\"", j ? ", " : "", names[j]);
        }

        ngx_http_mobispot_emerg(cf, 0, "invalid value \"%V\", it must be "
                                "%s%*s", &value[i],
                                e ? "one of " : "one or more of ",
                                p - list, list);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_mobispot_conf_enum_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    if (ngx_http_mobispot_conf_words(cf, cmd, 1, 1, cmd->post, NULL)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_conf_set_enum_slot(cf, cmd, conf);
}


char *
ngx_http_mobispot_conf_bitmask_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    if (ngx_http_mobispot_conf_words(cf, cmd, 1, cf->args->nelts - 1, NULL,
                                     cmd->post)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_conf_set_bitmask_slot(cf, cmd, conf);
}


/*
 * A post of nginx's num, sec, msec and size slots: the value within
 * [low, high], or a refusal that names the directive, the value written
 * and the reason (nginx's ngx_conf_check_num_bounds() names no value)
 */

char *
ngx_http_mobispot_conf_check_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_http_mobispot_conf_bounds_t *b = post;

    ngx_str_t   *value;
    ngx_uint_t   v;

    switch (b->type) {

    case NGX_HTTP_MOBISPOT_BOUNDS_SEC:
        v = (ngx_uint_t) *(time_t *) data;
        break;

    case NGX_HTTP_MOBISPOT_BOUNDS_MSEC:
        v = (ngx_uint_t) *(ngx_msec_t *) data;
        break;

    case NGX_HTTP_MOBISPOT_BOUNDS_SIZE:
        v = (ngx_uint_t) *(size_t *) data;
        break;

    default: /* NGX_HTTP_MOBISPOT_BOUNDS_NUM */
        v = (ngx_uint_t) *(ngx_int_t *) data;
        break;
    }

    if (v >= b->low && v <= b->high) {
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    ngx_http_mobispot_emerg(cf, 0, "\"%V\" %s", &value[1], b->reason);

    return NGX_CONF_ERROR;
}


/*
 * Where a directive was read, for a refusal made once the block is read
 * (a merge, postconfiguration): nginx would name the end of the block
 */

void
ngx_http_mobispot_conf_where(ngx_conf_t *cf,
    ngx_http_mobispot_conf_where_t *where)
{
    if (cf->conf_file == NULL || cf->conf_file->file.name.data == NULL) {
        return;
    }

    where->file = cf->conf_file->file.name.data;
    where->line = cf->conf_file->line;
}


/*
 * A refusal of a merge or of postconfiguration: the directives and the
 * reason in the message, the line where the directive was read (as
 * nginx's upstream names its servers' lines), else the block's end
 */

void ngx_cdecl
ngx_http_mobispot_conf_refuse(ngx_conf_t *cf,
    ngx_http_mobispot_conf_where_t *where, const char *fmt, ...)
{
    u_char   *p, buf[NGX_MAX_CONF_ERRSTR];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (where == NULL || where->file == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%*s", p - buf, buf);
        return;
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%*s in %s:%ui",
                  p - buf, buf, where->file, where->line);
}
