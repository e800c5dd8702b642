
/*
 * Copyright (C) Mobispot
 *
 * Nearby's parts in the answer cache (a site's free capacity and whether
 * it is open over the window's slots; the networks' passports), whether
 * the caller is entitled to a site, and the sites a round lists.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_avail.h"


static ngx_uint_t ngx_http_mobispot_list_has(u_char *list, size_t len,
    u_char *item, size_t item_len);


/*
 * A site whose info is cached: its part (free and open of this kind over
 * the window's n slots), if the answer cache has it under the version just
 * read; the keys the part was computed from become the answer's (req, when
 * it will be stored).  NGX_DECLINED: not there; site->part is then the key
 * to store it under.
 *
 * The part is keyed by the slots, not by the window: free and open depend
 * only on which slots the window overlaps, so every window within the same
 * slots (the default one, which starts "now", for a whole slot) shares it.
 */

ngx_int_t
ngx_http_mobispot_nearby_part(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_site_t *site,
    mobispot_slot_t *slots, size_t n, ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req)
{
    u_char                    *body;
    size_t                     len;
    int64_t                    first, last;
    ngx_http_mobispot_part_t   part;

    site->part.data = ngx_pnalloc(r->pool, site->id.len + 3 * NGX_INT64_LEN
                                           + 32);
    if (site->part.data == NULL) {
        return NGX_ERROR;
    }

    first = n ? slots[0].start : 0;
    last = n ? slots[n - 1].end : 0;

    site->part.len = ngx_sprintf(site->part.data, "part %V %d %L %L %uz",
                                 &site->id, av->kind, first, last, n)
                     - site->part.data;

    body = ngx_http_mobispot_cache_get(cache, &site->part,
                                       ngx_murmur_hash2(site->part.data,
                                                        site->part.len),
                                       &len, req);

    if (body == NULL || len != sizeof(ngx_http_mobispot_part_t)) {
        return NGX_DECLINED;
    }

    ngx_memcpy(&part, body, sizeof(ngx_http_mobispot_part_t));

    site->free = part.free;
    site->open = part.open;
    site->from_part = 1;

    return NGX_OK;
}


/* whether an item is in a list separated by commas or blanks */

static ngx_uint_t
ngx_http_mobispot_list_has(u_char *list, size_t len, u_char *item,
    size_t item_len)
{
    u_char  *p, *end, *start;

    p = list;
    end = list + len;

    while (p < end) {
        while (p < end && (*p == ',' || *p == ' ')) {
            p++;
        }

        start = p;

        while (p < end && *p != ',' && *p != ' ') {
            p++;
        }

        if ((size_t) (p - start) == item_len && item_len
            && ngx_strncmp(start, item, item_len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * The networks' passports (the HGETALL of ms:{networks}:passport), kept as
 * a part: each string as its length (a size_t) and its bytes, one after
 * the other.  It depends on that key alone.
 */

static ngx_str_t  ngx_http_mobispot_passports_key = ngx_string("passports");


ngx_int_t
ngx_http_mobispot_passports_part(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av, ngx_http_mobispot_cache_t *cache,
    ngx_http_mobispot_cache_req_t *req)
{
    u_char     *body, *p, *end;
    size_t      len, n;
    ngx_str_t  *e;

    body = ngx_http_mobispot_cache_get(cache, &ngx_http_mobispot_passports_key,
                  ngx_murmur_hash2(ngx_http_mobispot_passports_key.data,
                                   ngx_http_mobispot_passports_key.len),
                  &len, req);

    if (body == NULL) {
        return NGX_DECLINED;
    }

    /* the entry may be replaced before the answer is made: a copy */

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, body, len);
    end = p + len;

    while (p < end) {
        if ((size_t) (end - p) < sizeof(size_t)) {
            return NGX_ERROR;
        }

        ngx_memcpy(&n, p, sizeof(size_t));
        p += sizeof(size_t);

        if ((size_t) (end - p) < n) {
            return NGX_ERROR;
        }

        e = ngx_array_push(&av->passports);
        if (e == NULL) {
            return NGX_ERROR;
        }

        e->data = p;
        e->len = n;
        p += n;
    }

    return NGX_OK;
}


void
ngx_http_mobispot_passports_keep(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av)
{
    u_char                         *blob, *p;
    size_t                          len;
    ngx_str_t                      *pp;
    ngx_uint_t                      i;
    ngx_http_mobispot_main_conf_t  *mcf;

    pp = av->passports.elts;
    len = 0;

    for (i = 0; i < av->passports.nelts; i++) {
        len += sizeof(size_t) + pp[i].len;
    }

    blob = ngx_pnalloc(r->pool, len);
    if (blob == NULL) {
        /* not kept: asked again next time */
        return;
    }

    p = blob;

    for (i = 0; i < av->passports.nelts; i++) {
        p = ngx_cpymem(p, &pp[i].len, sizeof(size_t));
        p = ngx_cpymem(p, pp[i].data, pp[i].len);
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);

    ngx_http_mobispot_cache_put_part(mcf->cache,
                                     &ngx_http_mobispot_passports_key,
                                     av->part_epoch, &av->passports_dep, 1,
                                     blob, len);
}


/* the caller's passport covers one of the site's networks */

ngx_int_t
ngx_http_mobispot_nearby_entitled(ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_site_t *site)
{
    ngx_str_t   *pp, *nets;
    ngx_uint_t   i;

    pp = av->passports.elts;
    nets = &site->info.networks;

    for (i = 0; i + 1 < av->passports.nelts; i += 2) {
        if (ngx_http_mobispot_list_has(nets->data, nets->len, pp[i].data,
                                       pp[i].len)
            && ngx_http_mobispot_list_has(av->pass.data, av->pass.len,
                                          pp[i + 1].data, pp[i + 1].len))
        {
            return 1;
        }
    }

    return 0;
}


/* the networks' passports, from their part or with an HGETALL (once) */

ngx_int_t
ngx_http_mobispot_nearby_passports(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_avail_t *av,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_uint_t *n)
{
    ngx_int_t                       rc;
    ngx_http_mobispot_main_conf_t  *mcf;

    static const char    *passports[] = { "HGETALL",
                                          NGX_HTTP_MOBISPOT_KEY_PASSPORTS };
    static const size_t   passports_len[] = {
        sizeof("HGETALL") - 1, sizeof(NGX_HTTP_MOBISPOT_KEY_PASSPORTS) - 1 };

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);

    rc = NGX_DECLINED;

    if (av->part_epoch) {
        rc = ngx_http_mobispot_passports_part(r, av, mcf->cache, ctx->cache);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            /* kept once read, under its key's counter as of now */
            av->keep_passports = 1;
            ngx_http_mobispot_cache_counter(mcf->cache, passports[1],
                                            passports_len[1],
                                            &av->passports_dep);
        }
    }

    if (rc == NGX_DECLINED) {
        cmd->argc = 2;
        cmd->argv = passports;
        cmd->argvlen = passports_len;
        (*n)++;
    }

    return NGX_OK;
}


/*
 * The round's sites, their booked slots read: free and open of each (kept
 * as a part), whether the caller is entitled to it, and how many of them
 * the answer lists.
 */

void
ngx_http_mobispot_nearby_listed(ngx_http_request_t *r,
    ngx_http_mobispot_avail_t *av)
{
    ngx_uint_t                      i;
    ngx_http_mobispot_part_t        part;
    ngx_http_mobispot_site_t       *site;
    ngx_http_mobispot_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_mobispot_module);

    for (i = av->first; i < av->last; i++) {
        site = &av->sites[i];

        if (!site->found) {
            continue;
        }

        if (!site->from_part) {
            ngx_http_mobispot_site_window(av, site, site->slots,
                                          site->nslots);

            if (site->deps != NULL) {
                ngx_memzero(&part, sizeof(ngx_http_mobispot_part_t));
                part.free = site->free;
                part.open = site->open;

                ngx_http_mobispot_cache_put_part(mcf->cache, &site->part,
                                                 av->part_epoch, site->deps,
                                                 site->ndeps, &part,
                                                 sizeof(part));
            }
        }

        site->entitled = av->signed_in
                         ? ngx_http_mobispot_nearby_entitled(av, site) : -1;

        if (av->all || site->free > 0) {
            av->listed++;
        }
    }
}
