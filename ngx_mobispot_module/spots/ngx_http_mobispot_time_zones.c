
/*
 * Copyright (C) Mobispot
 *
 * mobispot_time_zones: the zones the Spot API knows, read from the TZif
 * files at configuration time (Europe/Brussels and UTC without the
 * directive), and looked up by name.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_spots.h"


static ngx_int_t ngx_http_mobispot_tz_load(ngx_conf_t *cf,
    ngx_http_mobispot_spots_main_conf_t *mcf, ngx_str_t *name);


/* mobispot_time_zones name ... */

char *
ngx_http_mobispot_time_zones(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mobispot_spots_main_conf_t *mcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (mcf->time_zones != NULL) {
        return "is duplicate";
    }

    mcf->time_zones = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                       sizeof(ngx_http_mobispot_tz_t));
    if (mcf->time_zones == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_mobispot_tz_load(cf, mcf, &value[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* without mobispot_time_zones: Europe/Brussels and UTC */

char *
ngx_http_mobispot_time_zones_default(ngx_conf_t *cf,
    ngx_http_mobispot_spots_main_conf_t *mcf)
{
    ngx_str_t  name;

    if (mcf->time_zones != NULL) {
        return NGX_CONF_OK;
    }

    mcf->time_zones = ngx_array_create(cf->pool, 2,
                                       sizeof(ngx_http_mobispot_tz_t));
    if (mcf->time_zones == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&name, "Europe/Brussels");

    if (ngx_http_mobispot_tz_load(cf, mcf, &name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&name, "UTC");

    if (ngx_http_mobispot_tz_load(cf, mcf, &name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Reads the TZif file of a zone, at configuration time, and keeps the
 * POSIX TZ rule of its footer.  Requests never touch the file system.
 */

static ngx_int_t
ngx_http_mobispot_tz_load(ngx_conf_t *cf,
    ngx_http_mobispot_spots_main_conf_t *mcf, ngx_str_t *name)
{
    u_char                  *p;
    size_t                   rule_len;
    ngx_str_t                file, text;
    ngx_uint_t               i;
    const char              *rule;
    ngx_http_mobispot_tz_t  *z;
    u_char                   path[sizeof(NGX_HTTP_MOBISPOT_ZONEINFO)
                                  + MOBISPOT_TZ_NAME_MAX];

    if (name->len == 0 || name->len > MOBISPOT_TZ_NAME_MAX
        || name->data[0] == '/' || ngx_strlchr(name->data,
                                               name->data + name->len, '.'))
    {
        goto invalid;
    }

    for (i = 0; i < name->len; i++) {
        if (!(isalnum(name->data[i]) || name->data[i] == '/'
              || name->data[i] == '_' || name->data[i] == '-'
              || name->data[i] == '+'))
        {
            goto invalid;
        }
    }

    z = mcf->time_zones->elts;

    for (i = 0; i < mcf->time_zones->nelts; i++) {
        if (z[i].name.len == name->len
            && ngx_strncmp(z[i].name.data, name->data, name->len) == 0)
        {
            ngx_http_mobispot_emerg(cf, 0,
                                    "duplicate time zone \"%V\"", name);
            return NGX_ERROR;
        }
    }

    p = ngx_cpymem(path, NGX_HTTP_MOBISPOT_ZONEINFO,
                   sizeof(NGX_HTTP_MOBISPOT_ZONEINFO) - 1);
    p = ngx_cpymem(p, name->data, name->len);
    *p = '\0';

    file.data = path;
    file.len = p - path;

    /* the one configuration-time reader; a zone's TZif is under 1 MB */

    if (ngx_http_mobispot_conf_read_file(cf, cf->temp_pool, &file,
                                         1024 * 1024, "time zone file",
                                         &text)
        != NGX_CONF_OK)
    {
        ngx_http_mobispot_emerg(cf, 0,
                                "unknown time zone \"%V\"", name);
        return NGX_ERROR;
    }

    if (mobispot_tz_tzif_footer(text.data, text.len, &rule, &rule_len)
        != MOBISPOT_OK)
    {
        ngx_http_mobispot_emerg(cf, 0,
                                "time zone \"%V\": \"%s\" is not a TZif file "
                                "of version 2 or later", name, path);
        return NGX_ERROR;
    }

    z = ngx_array_push(mcf->time_zones);
    if (z == NULL) {
        return NGX_ERROR;
    }

    z->name = *name;

    if (mobispot_tz_parse(rule, rule_len, &z->tz) != MOBISPOT_OK) {
        ngx_http_mobispot_emerg(cf, 0,
                                "time zone \"%V\": unsupported rule \"%*s\"",
                                name, rule_len, rule);
        return NGX_ERROR;
    }

    ngx_memcpy(z->tz.name, name->data, name->len);
    z->tz.name[name->len] = '\0';

    return NGX_OK;

invalid:

    ngx_http_mobispot_emerg(cf, 0, "invalid time zone name \"%V\"",
                            name);
    return NGX_ERROR;
}


const mobispot_tz_t *
ngx_http_mobispot_tz_find(ngx_http_mobispot_spots_main_conf_t *mcf,
    u_char *name, size_t len)
{
    ngx_uint_t               i;
    ngx_http_mobispot_tz_t  *z;

    if (mcf->time_zones == NULL) {
        return NULL;
    }

    z = mcf->time_zones->elts;

    for (i = 0; i < mcf->time_zones->nelts; i++) {
        if (z[i].name.len == len && ngx_strncmp(z[i].name.data, name, len) == 0)
        {
            return &z[i].tz;
        }
    }

    return NULL;
}
