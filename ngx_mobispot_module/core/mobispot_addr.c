
/*
 * Copyright (C) Mobispot
 *
 * Parsing of the address given to mobispot_redis: "unix:/path",
 * "IPv4[:port]", "[IPv6][:port]" or "name[:port]".  A name is only
 * recognised here; the module resolves it once, at configuration time,
 * so that a worker never waits for DNS.
 */


#include <string.h>
#include <arpa/inet.h>

#include "core/mobispot_core.h"


static int mobispot_addr_port(const char *s, size_t len, unsigned *port);
static int mobispot_addr_is_name(const char *s, size_t len);


int
mobispot_addr_parse(const char *s, size_t len, mobispot_addr_t *addr,
    const char **err)
{
    size_t          hlen;
    const char     *host, *colon, *end;
    unsigned char   buf[sizeof(struct in6_addr)];

    memset(addr, 0, sizeof(mobispot_addr_t));

    if (len == 0) {
        *err = "empty address";
        return MOBISPOT_ERROR;
    }

    if (memchr(s, '\0', len) != NULL) {
        *err = "NUL character in address";
        return MOBISPOT_ERROR;
    }

    if (len > 5 && memcmp(s, "unix:", 5) == 0) {
        s += 5;
        len -= 5;

        if (s[0] != '/') {
            *err = "unix socket path must be absolute";
            return MOBISPOT_ERROR;
        }

        if (len > MOBISPOT_ADDR_PATH_MAX) {
            *err = "unix socket path is too long";
            return MOBISPOT_ERROR;
        }

        addr->type = MOBISPOT_ADDR_UNIX;
        memcpy(addr->host, s, len);
        addr->host[len] = '\0';
        return MOBISPOT_OK;
    }

    addr->port = MOBISPOT_REDIS_DEFAULT_PORT;
    end = s + len;

    if (s[0] == '[') {
        host = s + 1;
        colon = memchr(host, ']', len - 1);

        if (colon == NULL) {
            *err = "missing \"]\" after IPv6 address";
            return MOBISPOT_ERROR;
        }

        hlen = colon - host;
        colon++;

        if (colon != end) {
            if (*colon != ':'
                || mobispot_addr_port(colon + 1, end - colon - 1, &addr->port)
                   != MOBISPOT_OK)
            {
                *err = "invalid port";
                return MOBISPOT_ERROR;
            }
        }

        if (hlen == 0 || hlen > MOBISPOT_ADDR_HOST_MAX) {
            *err = "invalid IPv6 address";
            return MOBISPOT_ERROR;
        }

        memcpy(addr->host, host, hlen);
        addr->host[hlen] = '\0';

        if (inet_pton(AF_INET6, addr->host, buf) != 1) {
            *err = "invalid IPv6 address";
            return MOBISPOT_ERROR;
        }

        addr->type = MOBISPOT_ADDR_IPV6;
        return MOBISPOT_OK;
    }

    host = s;
    colon = memchr(s, ':', len);

    if (colon != NULL) {
        if (memchr(colon + 1, ':', end - colon - 1) != NULL) {
            *err = "IPv6 addresses must be written in brackets";
            return MOBISPOT_ERROR;
        }

        if (mobispot_addr_port(colon + 1, end - colon - 1, &addr->port)
            != MOBISPOT_OK)
        {
            *err = "invalid port";
            return MOBISPOT_ERROR;
        }

        hlen = colon - host;

    } else {
        hlen = len;
    }

    if (hlen == 0 || hlen > MOBISPOT_ADDR_HOST_MAX) {
        *err = "invalid host";
        return MOBISPOT_ERROR;
    }

    memcpy(addr->host, host, hlen);
    addr->host[hlen] = '\0';

    if (inet_pton(AF_INET, addr->host, buf) == 1) {
        addr->type = MOBISPOT_ADDR_IPV4;
        return MOBISPOT_OK;
    }

    if (!mobispot_addr_is_name(host, hlen)) {
        *err = "invalid host";
        return MOBISPOT_ERROR;
    }

    addr->type = MOBISPOT_ADDR_NAME;
    return MOBISPOT_OK;
}


static int
mobispot_addr_port(const char *s, size_t len, unsigned *port)
{
    size_t    i;
    unsigned  n;

    if (len == 0 || len > 5) {
        return MOBISPOT_ERROR;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return MOBISPOT_ERROR;
        }

        n = n * 10 + (s[i] - '0');
    }

    if (n == 0 || n > 65535) {
        return MOBISPOT_ERROR;
    }

    *port = n;
    return MOBISPOT_OK;
}


/* a DNS name: letters, digits, hyphens and dots, labels of 1-63 bytes */

static int
mobispot_addr_is_name(const char *s, size_t len)
{
    size_t  i, label;
    char    ch;

    label = 0;

    for (i = 0; i < len; i++) {
        ch = s[i];

        if (ch == '.') {
            if (label == 0) {
                return 0;
            }

            label = 0;
            continue;
        }

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9') || ch == '-'))
        {
            return 0;
        }

        if (++label > 63) {
            return 0;
        }
    }

    return label > 0 || len > 1;
}
