/*
 * Copyright (C) Mobispot
 *
 * JSON documents: the error body and the health body, checked by parsing
 * them back with yajl_tree.
 */

#include <stdlib.h>
#include <yajl/yajl_tree.h>

#include "tap.h"
#include "core/mobispot_core.h"

static char *
gen_text(yajl_gen g)
{
    const unsigned char *buf;
    size_t               len;
    char                *s;

    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        return NULL;
    }

    s = malloc(len + 1);
    memcpy(s, buf, len);
    s[len] = '\0';
    return s;
}

static const char *
tree_string(yajl_val v, const char *a, const char *b)
{
    const char *path[] = {a, b, NULL};
    yajl_val    s = yajl_tree_get(v, path, yajl_t_string);

    return s ? YAJL_GET_STRING(s) : NULL;
}

int
main(void)
{
    yajl_gen          g;
    yajl_val          v, x;
    char             *text, errbuf[128];
    mobispot_health_t h;
    const char       *p_conn[] = {"redis", "connected", NULL};
    const char       *p_lat[] = {"redis", "latency_ms", NULL};

    g = mobispot_json_gen_alloc();
    TAP_IS_INT(mobispot_json_error(g, "not_found", "no such route"),
               MOBISPOT_OK, "error body generated");
    text = gen_text(g);
    TAP_IS_STR(text,
               "{\"error\":{\"code\":\"not_found\","
               "\"message\":\"no such route\"}}",
               "error body text");
    free(text);
    yajl_gen_free(g);

    g = mobispot_json_gen_alloc();
    mobispot_json_error(g, "bad_request", "quote \" backslash \\ ctl \x01");
    text = gen_text(g);
    v = yajl_tree_parse(text, errbuf, sizeof(errbuf));
    TAP_OK(v != NULL, "escaped error body parses back");
    TAP_IS_STR(tree_string(v, "error", "message"),
               "quote \" backslash \\ ctl \x01", "message round trip");
    TAP_IS_STR(tree_string(v, "error", "code"), "bad_request",
               "code round trip");
    yajl_tree_free(v);
    free(text);
    yajl_gen_free(g);

    g = mobispot_json_gen_alloc();
    TAP_IS_INT(mobispot_json_error(g, "x", "bad utf-8 \xff\xfe"),
               MOBISPOT_ERROR, "invalid UTF-8 is refused, not emitted");
    yajl_gen_free(g);

    g = mobispot_json_gen_alloc();
    h.status = "ok";
    h.version = "1.2.3";
    h.latency_ms = 0.2345;
    h.tracking = "on";
    h.subscriptions = "up";
    h.channels = 3;
    h.channels_up = 3;
    TAP_IS_INT(mobispot_json_health(g, &h), MOBISPOT_OK, "health body");
    yajl_gen_map_close(g);
    text = gen_text(g);
    TAP_IS_STR(text,
               "{\"status\":\"ok\",\"version\":\"1.2.3\",\"redis\":{"
               "\"connected\":true,\"latency_ms\":0.234,\"tracking\":\"on\","
               "\"subscriptions\":\"up\",\"channels\":3,\"channels_up\":3}}",
               "health body text, three decimals");
    v = yajl_tree_parse(text, errbuf, sizeof(errbuf));
    x = yajl_tree_get(v, p_conn, yajl_t_true);
    TAP_OK(x != NULL, "connected is true");
    x = yajl_tree_get(v, p_lat, yajl_t_number);
    TAP_OK(x != NULL && YAJL_IS_DOUBLE(x), "latency is a number");
    yajl_tree_free(v);
    free(text);
    yajl_gen_free(g);

    g = mobispot_json_gen_alloc();
    h.latency_ms = -1.0;
    h.status = "degraded";
    mobispot_json_health(g, &h);
    yajl_gen_map_close(g);
    text = gen_text(g);
    TAP_OK(strstr(text, "\"latency_ms\":0.000") != NULL,
           "a negative latency (clock step) is reported as 0");
    TAP_OK(strstr(text, "\"status\":\"degraded\"") != NULL, "the status given");
    free(text);
    yajl_gen_free(g);

    return tap_done();
}
