/*
 * Copyright (C) Mobispot
 *
 * The strict JSON check: RFC 8259 grammar, RFC 3629 UTF-8, no comments,
 * no "\u0000", no lone surrogate escapes; and the character count.
 */

#include "tap.h"
#include "core/mobispot_core.h"

static int
check_n(const char *text, size_t len)
{
    const char *reason = NULL;

    return mobispot_json_check(text, len, &reason) == MOBISPOT_OK;
}

static int
check(const char *text)
{
    return check_n(text, strlen(text));
}

static const char *good[] = {
    "{}",
    "[]",
    " {\"a\" : [1, -0, 0.5, -2.5e10, 1E+3, 1e-3, true, false, null]}\r\n",
    "\"plain string\"",
    "{\"n\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
    "{\"e\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00\"}",
    "{\"max\":\"\xf4\x8f\xbf\xbf\"}",
    "{\"a\":{\"b\":{\"c\":[[[{}]]]}}}",
    NULL,
};

static const char *bad[] = {
    "",
    "   ",
    "/* c */{}",
    "{} // c",
    "{\"a\":1 /* c */}",
    "{\"a\":1,}",
    "[1,]",
    "{\"a\" 1}",
    "{a:1}",
    "{\"a\":1}{}",
    "{\"a\":01}",
    "{\"a\":1.}",
    "{\"a\":.5}",
    "{\"a\":-}",
    "{\"a\":1e}",
    "{\"a\":+1}",
    "{\"a\":NaN}",
    "{\"a\":tru}",
    "{\"a\":'x'}",
    "{\"a\":\"tab\there\"}",
    "{\"a\":\"UTC\\u0000junk\"}",
    "{\"a\":\"\\ud800\"}",
    "{\"a\":\"\\udc00\"}",
    "{\"a\":\"\\ud800\\u0041\"}",
    "{\"a\":\"\\x41\"}",
    "{\"a\":\"\\u12g4\"}",
    "{\"a\":\"\xc0\xaf\"}",
    "{\"a\":\"\xe0\x80\xaf\"}",
    "{\"a\":\"\xed\xa0\x80\"}",
    "{\"a\":\"\xf4\x90\x80\x80\"}",
    "{\"a\":\"\xf5\x80\x80\x80\"}",
    "{\"a\":\"\xc3\"}",
    "{\"a\":\"\x80\"}",
    "{\"a\":\"unterminated}",
    "{\"\xc3\":1}",
    NULL,
};

int
main(void)
{
    int                   i;
    char                  deep[128];
    const char           *text;
    mobispot_json_fault_t fault;

    for (i = 0; good[i] != NULL; i++) {
        TAP_OK(check(good[i]), "accepted: %s", good[i]);
    }

    for (i = 0; bad[i] != NULL; i++) {
        TAP_OK(!check(bad[i]), "refused: %s", bad[i]);
    }

    TAP_OK(!check_n("{\"a\":\"x\0y\"}", 11), "a raw NUL in a string");
    TAP_OK(!check_n("{}\0", 3), "a NUL after the value");

    memset(deep, '[', MOBISPOT_JSON_DEPTH);
    memset(deep + MOBISPOT_JSON_DEPTH, ']', MOBISPOT_JSON_DEPTH);
    TAP_OK(check_n(deep, 2 * MOBISPOT_JSON_DEPTH), "nesting at the limit");
    memset(deep, '[', MOBISPOT_JSON_DEPTH + 1);
    memset(deep + MOBISPOT_JSON_DEPTH + 1, ']', MOBISPOT_JSON_DEPTH + 1);
    TAP_OK(!check_n(deep, 2 * MOBISPOT_JSON_DEPTH + 2),
           "nesting past the limit");

    text = "{\"site\":{\"time_zone\":\"UTC\\u0000junk\"}}";
    TAP_OK(mobispot_json_check_fault(text, strlen(text), &fault)
               == MOBISPOT_ERROR,
           "fault reported");
    TAP_OK(fault.in_string, "the fault is in a string value");
    TAP_OK(fault.member_len == 9 && memcmp(fault.member, "time_zone", 9) == 0,
           "it names the innermost member");
    TAP_IS_STR(fault.reason, "\\u0000 in a JSON string", "and says why");

    text = "{\"a\":[\"\xed\xa0\x80\"],\"b\":1}";
    TAP_OK(
        mobispot_json_check_fault(text, strlen(text), &fault) == MOBISPOT_ERROR
            && fault.in_string && fault.member_len == 1 && *fault.member == 'a',
        "a string inside an array belongs to the array's member");

    text = "{\"a\":1,\"b\":2 /* x */}";
    TAP_OK(mobispot_json_check_fault(text, strlen(text), &fault)
                   == MOBISPOT_ERROR
               && !fault.in_string,
           "a grammar fault is not a string fault");

    text = "{\"\xc3\":1}";
    TAP_OK(mobispot_json_check_fault(text, strlen(text), &fault)
                   == MOBISPOT_ERROR
               && !fault.in_string && fault.member == NULL,
           "a bad member name is not a value fault and names nothing");

    TAP_IS_INT(mobispot_utf8_length("caf\xc3\xa9", 5), 4,
               "characters, not bytes");
    TAP_IS_INT(mobispot_utf8_length("\xf0\x9f\x98\x80", 4), 1,
               "one four-byte character");
    TAP_IS_INT(mobispot_utf8_length("\xc0\xaf", 2), (size_t) -1,
               "an overlong form is not counted");
    TAP_IS_INT(mobispot_utf8_length("", 0), 0, "empty");

    return tap_done();
}
