
/*
 * Copyright (C) Mobispot
 *
 * JSON documents of the API that need no nginx request, generated with
 * yajl.  Every function returns MOBISPOT_OK, or MOBISPOT_ERROR when yajl
 * refused a value (invalid UTF-8, out of memory).
 */


#include <stdio.h>
#include <string.h>

#include "core/mobispot_core.h"


/*
 * A generator that refuses invalid UTF-8 rather than emitting it: the API
 * echoes names of fields and parameters, which come from the client.
 */

yajl_gen
mobispot_json_gen_alloc(void)
{
    yajl_gen  g;

    g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        return NULL;
    }

    if (!yajl_gen_config(g, yajl_gen_validate_utf8, 1)) {
        yajl_gen_free(g);
        return NULL;
    }

    return g;
}


int
mobispot_json_string(yajl_gen g, const char *s)
{
    return yajl_gen_string(g, (const unsigned char *) s, strlen(s))
           == yajl_gen_status_ok ? MOBISPOT_OK : MOBISPOT_ERROR;
}


int
mobispot_json_key_string(yajl_gen g, const char *key, const char *value)
{
    if (mobispot_json_string(g, key) != MOBISPOT_OK) {
        return MOBISPOT_ERROR;
    }

    return mobispot_json_string(g, value);
}


/* {"error":{"code":"...","message":"..."}} */

int
mobispot_json_error(yajl_gen g, const char *code, const char *message)
{
    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "error") != MOBISPOT_OK
        || yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "code", code) != MOBISPOT_OK
        || mobispot_json_key_string(g, "message", message) != MOBISPOT_OK
        || yajl_gen_map_close(g) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return MOBISPOT_ERROR;
    }

    return MOBISPOT_OK;
}


/*
 * {"status":"ok","redis":{"connected":true,"latency_ms":0.123} with the
 * object left open: the parts of other resources follow, the caller closes
 */

int
mobispot_json_health(yajl_gen g, const mobispot_health_t *h)
{
    int     n;
    char    num[32];
    double  latency_ms;

    latency_ms = h->latency_ms < 0 ? 0 : h->latency_ms;

    /* three decimals: a microsecond is the resolution that means something */
    n = snprintf(num, sizeof(num), "%.3f", latency_ms);

    if (n <= 0 || (size_t) n >= sizeof(num)) {
        return MOBISPOT_ERROR;
    }

    if (yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "status", h->status) != MOBISPOT_OK
        || mobispot_json_key_string(g, "version", h->version) != MOBISPOT_OK
        || mobispot_json_string(g, "redis") != MOBISPOT_OK
        || yajl_gen_map_open(g) != yajl_gen_status_ok
        || mobispot_json_string(g, "connected") != MOBISPOT_OK
        || yajl_gen_bool(g, 1) != yajl_gen_status_ok
        || mobispot_json_string(g, "latency_ms") != MOBISPOT_OK
        || yajl_gen_number(g, num, n) != yajl_gen_status_ok
        || mobispot_json_key_string(g, "tracking", h->tracking) != MOBISPOT_OK
        || mobispot_json_key_string(g, "subscriptions", h->subscriptions)
           != MOBISPOT_OK
        || mobispot_json_string(g, "channels") != MOBISPOT_OK
        || yajl_gen_integer(g, h->channels) != yajl_gen_status_ok
        || mobispot_json_string(g, "channels_up") != MOBISPOT_OK
        || yajl_gen_integer(g, h->channels_up) != yajl_gen_status_ok
        || yajl_gen_map_close(g) != yajl_gen_status_ok)
    {
        return MOBISPOT_ERROR;
    }

    return MOBISPOT_OK;
}
