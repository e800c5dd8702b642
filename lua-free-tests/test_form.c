/*
 * Copyright (C) Mobispot
 *
 * The fields of a form's body (or a query string): found, decoded, and
 * every malformed text refused whole.
 */

#include "tap.h"
#include "core/mobispot_core.h"

static char   out[16];
static size_t n;

static int
get(const char *text, const char *name)
{
    return mobispot_form_get(text, strlen(text), name, out, sizeof(out), &n);
}

int
main(void)
{
    TAP_IS_INT(get("a=1&user=ada&b=2", "user"), MOBISPOT_FORM_OK,
               "a field between two others");
    TAP_IS_STR(out, "ada", "its value");
    TAP_IS_INT(n, 3, "its length");

    TAP_IS_INT(get("user=Ada+L%C3%B6we%21", "user"), MOBISPOT_FORM_OK,
               "+ and escapes");
    TAP_IS_STR(out, "Ada L\xc3\xb6we!", "decoded to UTF-8");

    TAP_IS_INT(get("us%65r=x", "user"), MOBISPOT_FORM_OK,
               "the name is matched decoded");
    TAP_IS_STR(out, "x", "its value");

    TAP_IS_INT(get("user=&b=2", "user"), MOBISPOT_FORM_OK, "an empty value");
    TAP_IS_INT(n, 0, "of length 0");
    TAP_IS_INT(get("b=2&user", "user"), MOBISPOT_FORM_OK, "no = at all");
    TAP_IS_STR(out, "", "empty");
    TAP_IS_INT(get("&&user=1&&", "user"), MOBISPOT_FORM_OK, "empty pairs");
    TAP_IS_STR(out, "1", "skipped");
    TAP_IS_INT(get("user=a=b", "user"), MOBISPOT_FORM_OK,
               "a second = belongs to the value");
    TAP_IS_STR(out, "a=b", "kept");

    TAP_IS_INT(get("users=1&use=2", "user"), MOBISPOT_FORM_ABSENT,
               "no prefix match");
    TAP_IS_INT(get("", "user"), MOBISPOT_FORM_ABSENT, "an empty text");

    TAP_IS_INT(get("user=a&user=b", "user"), MOBISPOT_FORM_TWICE,
               "named twice");
    TAP_IS_INT(get("user=a&us%65r=a", "user"), MOBISPOT_FORM_TWICE,
               "named twice, once escaped");
    TAP_IS_STR(out, "", "no value is given out");

    TAP_IS_INT(get("user=0123456789abcdef", "user"), MOBISPOT_FORM_LONG,
               "longer than the room");
    TAP_IS_INT(get("user=0123456789abcde", "user"), MOBISPOT_FORM_OK,
               "exactly the room");

    TAP_IS_INT(get("user=%4", "user"), MOBISPOT_FORM_BAD, "a cut escape");
    TAP_IS_INT(get("user=%", "user"), MOBISPOT_FORM_BAD, "a lone %%");
    TAP_IS_INT(get("user=%zz", "user"), MOBISPOT_FORM_BAD, "not hex");
    TAP_IS_INT(get("user=a%00b", "user"), MOBISPOT_FORM_BAD, "a NUL");
    TAP_IS_INT(get("user=a%0Ab", "user"), MOBISPOT_FORM_BAD, "a LF");
    TAP_IS_INT(get("user=a%7F", "user"), MOBISPOT_FORM_BAD, "a DEL");
    TAP_IS_INT(get("user=%C3", "user"), MOBISPOT_FORM_BAD, "a cut sequence");
    TAP_IS_INT(get("user=%C3&x=1", "user"), MOBISPOT_FORM_BAD,
               "a sequence cut by &");
    TAP_IS_INT(get("user=%C0%AF", "user"), MOBISPOT_FORM_BAD,
               "an overlong form");
    TAP_IS_INT(get("user=%ED%A0%80", "user"), MOBISPOT_FORM_BAD, "a surrogate");
    TAP_IS_INT(get("user=%FF", "user"), MOBISPOT_FORM_BAD, "not a lead");
    TAP_IS_INT(get("user=\xc3\xa9", "user"), MOBISPOT_FORM_OK,
               "raw UTF-8 is taken");
    TAP_IS_INT(get("user=\xc3", "user"), MOBISPOT_FORM_BAD,
               "raw bytes that are not UTF-8");
    TAP_IS_INT(get("user=ok&other=%00", "user"), MOBISPOT_FORM_BAD,
               "a bad field elsewhere refuses the text");

    {
        char text[] = "user=ok&x=\0";

        TAP_IS_INT(mobispot_form_get(text, sizeof(text) - 1, "user", out,
                                     sizeof(out), &n),
                   MOBISPOT_FORM_BAD, "a raw NUL in the text");
    }

    TAP_IS_INT(mobispot_hex_digit('F'), 15, "hex F");
    TAP_IS_INT(mobispot_hex_digit('g'), -1, "not hex");

    return tap_done();
}
