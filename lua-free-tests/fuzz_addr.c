/*
 * Copyright (C) Mobispot
 *
 * libFuzzer target: mobispot_addr_parse() on any bytes must not read out
 * of bounds, and what it accepts must be self-consistent.
 */

#include <stdlib.h>
#include <string.h>

#include "core/mobispot_core.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    mobispot_addr_t a;
    const char     *err;
    char           *copy;

    /* an exact-size heap copy, so that ASan sees any over-read */
    copy = malloc(size ? size : 1);
    memcpy(copy, data, size);

    if (mobispot_addr_parse(copy, size, &a, &err) == MOBISPOT_OK) {
        if (strlen(a.host) == 0 || strlen(a.host) > MOBISPOT_ADDR_HOST_MAX) {
            abort();
        }

        if (a.type != MOBISPOT_ADDR_UNIX && (a.port == 0 || a.port > 65535)) {
            abort();
        }
    }

    free(copy);
    return 0;
}
