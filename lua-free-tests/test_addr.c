/*
 * Copyright (C) Mobispot
 *
 * mobispot_addr_parse(): the address of mobispot_redis.
 */

#include "tap.h"
#include "core/mobispot_core.h"

static int
parse(const char *s, mobispot_addr_t *a, const char **err)
{
    *err = NULL;
    return mobispot_addr_parse(s, strlen(s), a, err);
}

static void
good(const char *s, int type, const char *host, unsigned port)
{
    mobispot_addr_t a;
    const char     *err;
    int             rc;

    rc = parse(s, &a, &err);
    TAP_IS_INT(rc, MOBISPOT_OK, "\"%s\" is accepted", s);
    TAP_IS_INT(a.type, type, "\"%s\" has the expected type", s);
    TAP_IS_STR(a.host, host, "\"%s\" has host \"%s\"", s, host);
    TAP_IS_INT(a.port, port, "\"%s\" has port %u", s, port);
}

static void
bad(const char *s, const char *why)
{
    mobispot_addr_t a;
    const char     *err;
    int             rc;

    rc = parse(s, &a, &err);
    TAP_IS_INT(rc, MOBISPOT_ERROR, "\"%s\" is refused", s);
    TAP_IS_STR(err, why, "\"%s\" is refused as: %s", s, why);
}

int
main(void)
{
    mobispot_addr_t a;
    const char     *err;
    char            longpath[200];

    good("127.0.0.1:6379", MOBISPOT_ADDR_IPV4, "127.0.0.1", 6379);
    good("127.0.0.1", MOBISPOT_ADDR_IPV4, "127.0.0.1", 6379);
    good("10.1.2.3:1", MOBISPOT_ADDR_IPV4, "10.1.2.3", 1);
    good("127.0.0.1:65535", MOBISPOT_ADDR_IPV4, "127.0.0.1", 65535);
    good("[::1]:6380", MOBISPOT_ADDR_IPV6, "::1", 6380);
    good("[::1]", MOBISPOT_ADDR_IPV6, "::1", 6379);
    good("[fe80::1:2]:7000", MOBISPOT_ADDR_IPV6, "fe80::1:2", 7000);
    good("localhost:6379", MOBISPOT_ADDR_NAME, "localhost", 6379);
    good("redis-1.example.org", MOBISPOT_ADDR_NAME, "redis-1.example.org",
         6379);
    good("unix:/run/redis/redis.sock", MOBISPOT_ADDR_UNIX,
         "/run/redis/redis.sock", 0);

    bad("", "empty address");
    bad("127.0.0.1:", "invalid port");
    bad("127.0.0.1:0", "invalid port");
    bad("127.0.0.1:65536", "invalid port");
    bad("127.0.0.1:99999999", "invalid port");
    bad("127.0.0.1:63x9", "invalid port");
    bad("127.0.0.1:-1", "invalid port");
    bad(":6379", "invalid host");
    bad("::1", "IPv6 addresses must be written in brackets");
    bad("[::1", "missing \"]\" after IPv6 address");
    bad("[::1]6379", "invalid port");
    bad("[]:6379", "invalid IPv6 address");
    bad("[127.0.0.1]:6379", "invalid IPv6 address");
    bad("[::g]:6379", "invalid IPv6 address");
    bad("unix:relative.sock", "unix socket path must be absolute");
    bad("host name:6379", "invalid host");
    bad("host_name:6379", "invalid host");
    bad("a..b:6379", "invalid host");
    bad(".:6379", "invalid host");
    bad("redis://127.0.0.1:6379", "IPv6 addresses must be written in brackets");

    memset(longpath, 'a', sizeof(longpath));
    memcpy(longpath, "unix:/", 6);
    longpath[sizeof(longpath) - 1] = '\0';
    bad(longpath, "unix socket path is too long");

    TAP_IS_INT(mobispot_addr_parse("127.0.0.1\0:1", 12, &a, &err),
               MOBISPOT_ERROR, "an embedded NUL is refused");

    /* only len bytes are read: the rest of the buffer does not matter */
    TAP_IS_INT(mobispot_addr_parse("127.0.0.1:6380garbage", 14, &a, &err),
               MOBISPOT_OK, "only the given length is parsed");
    TAP_IS_INT(a.port, 6380, "port taken from the given length");

    return tap_done();
}
