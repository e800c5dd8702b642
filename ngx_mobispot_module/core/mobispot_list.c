
/*
 * Copyright (C) Mobispot
 *
 * Lists of words separated by blanks or commas, as claims, Redis fields and
 * nginx variables carry them ("cowallonia,swc", "user admin"): the one
 * tokenizer of the module.
 */


#include <string.h>

#include "core/mobispot_core.h"


static int
mobispot_list_sep(char c)
{
    return c == ' ' || c == ',' || c == '\t';
}


/*
 * The next word of the list at *p (before end): 1 with the word in
 * item/len and *p past it, 0 when there is none left.  Empty words (two
 * separators in a row) are skipped.
 */

int
mobispot_list_next(const char **p, const char *end, const char **item,
    size_t *len)
{
    const char  *s;

    s = *p;

    while (s < end && mobispot_list_sep(*s)) {
        s++;
    }

    if (s == end) {
        *p = s;
        return 0;
    }

    *item = s;

    while (s < end && !mobispot_list_sep(*s)) {
        s++;
    }

    *len = s - *item;
    *p = s;

    return 1;
}


/* whether the list holds the word exactly */

int
mobispot_list_has(const char *list, size_t list_len, const char *item,
    size_t len)
{
    size_t       n;
    const char  *p, *end, *w;

    p = list;
    end = list + list_len;

    while (mobispot_list_next(&p, end, &w, &n)) {
        if (n == len && memcmp(w, item, len) == 0) {
            return 1;
        }
    }

    return 0;
}
