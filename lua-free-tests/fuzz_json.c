/*
 * Copyright (C) Mobispot
 *
 * libFuzzer target of the strict JSON check: it never reads out of
 * bounds, and whatever it accepts, yajl parses too.
 */

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "core/mobispot_core.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char       *text, err[64];
    const char *reason;
    yajl_val    v;

    text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }

    memcpy(text, data, size);
    text[size] = '\0';

    if (mobispot_json_check(text, size, &reason) == MOBISPOT_OK) {
        v = yajl_tree_parse(text, err, sizeof(err));
        if (v == NULL) {
            abort();
        }

        yajl_tree_free(v);
    }

    free(text);

    return 0;
}
