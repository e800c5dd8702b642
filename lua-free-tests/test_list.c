/*
 * Copyright (C) Mobispot
 *
 * Lists of words separated by blanks or commas.
 */

#include "tap.h"
#include "core/mobispot_core.h"

static int
count(const char *s)
{
    int         n = 0;
    size_t      len;
    const char *p = s, *end = s + strlen(s), *w;

    while (mobispot_list_next(&p, end, &w, &len)) {
        n++;
    }

    return n;
}

int
main(void)
{
    int         got;
    size_t      len;
    const char *s = " cowallonia,,swc  x", *p = s, *end = s + strlen(s), *w;

    got = mobispot_list_next(&p, end, &w, &len);
    TAP_OK(got && len == 10 && memcmp(w, "cowallonia", 10) == 0,
           "first word, leading blank skipped");
    got = mobispot_list_next(&p, end, &w, &len);
    TAP_OK(got && len == 3 && memcmp(w, "swc", 3) == 0,
           "two commas are one separator");
    got = mobispot_list_next(&p, end, &w, &len);
    TAP_OK(got && len == 1 && *w == 'x', "last word, no separator after it");
    got = mobispot_list_next(&p, end, &w, &len);
    TAP_OK(!got, "then nothing");

    TAP_IS_INT(count(""), 0, "empty list");
    TAP_IS_INT(count(" , ,\t"), 0, "separators only");
    TAP_IS_INT(count("a"), 1, "one word");
    TAP_IS_INT(count("user admin"), 2, "blank-separated");

    TAP_OK(mobispot_list_has("user admin", 10, "admin", 5), "has admin");
    TAP_OK(!mobispot_list_has("user admins", 11, "admin", 5),
           "a prefix of a word is not the word");
    TAP_OK(!mobispot_list_has("useradmin", 9, "admin", 5),
           "a suffix of a word is not the word");
    TAP_OK(!mobispot_list_has("admin", 5, "", 0), "the empty word never");
    TAP_OK(mobispot_list_has("a,b", 3, "b", 1), "comma-separated");

    return tap_done();
}
