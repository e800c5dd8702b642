
/*
 * Copyright (C) Mobispot
 *
 * A strict check of JSON text, run before yajl parses it.  yajl accepts
 * more than RFC 8259: comments, and strings that hold "\u0000" (which
 * then truncate at the first NUL in C), lone surrogate escapes and
 * invalid UTF-8 that it passes through.  Whatever the module stores or
 * verifies must be exactly what RFC 8259 and RFC 3629 allow, so the text
 * is checked first by this small recursive-descent reader; it builds
 * nothing and reads each byte once.
 */


#include <string.h>

#include "core/mobispot_core.h"


typedef struct {
    const unsigned char    *p;
    const unsigned char    *end;
    int                     depth;
    const char             *reason;
    int                     in_string;

    /* the member name whose value is being read, per nesting level */
    const unsigned char    *member;
    size_t                  member_len;
} mobispot_json_reader_t;


static int mobispot_json_value(mobispot_json_reader_t *rd);
static int mobispot_json_object(mobispot_json_reader_t *rd);
static int mobispot_json_array(mobispot_json_reader_t *rd);
static int mobispot_json_string_token(mobispot_json_reader_t *rd, int key);
static int mobispot_json_number(mobispot_json_reader_t *rd);
static int mobispot_json_literal(mobispot_json_reader_t *rd,
    const char *word);
static int mobispot_json_hex4(const unsigned char *p, unsigned *cp);
static void mobispot_json_blank(mobispot_json_reader_t *rd);
static int mobispot_json_fail(mobispot_json_reader_t *rd,
    const char *reason);


int
mobispot_json_check(const char *text, size_t len, const char **reason)
{
    mobispot_json_fault_t  fault;

    if (mobispot_json_check_fault(text, len, &fault) == MOBISPOT_OK) {
        return MOBISPOT_OK;
    }

    *reason = fault.reason;

    return MOBISPOT_ERROR;
}


int
mobispot_json_check_fault(const char *text, size_t len,
    mobispot_json_fault_t *fault)
{
    mobispot_json_reader_t  rd;

    memset(&rd, 0, sizeof(rd));
    rd.p = (const unsigned char *) text;
    rd.end = rd.p + len;

    mobispot_json_blank(&rd);

    if (mobispot_json_value(&rd) == MOBISPOT_OK) {
        mobispot_json_blank(&rd);

        if (rd.p == rd.end) {
            return MOBISPOT_OK;
        }

        mobispot_json_fail(&rd, "text after the JSON value");
    }

    fault->reason = rd.reason;
    fault->offset = (size_t) (rd.p - (const unsigned char *) text);
    fault->in_string = rd.in_string;
    fault->member = (const char *) rd.member;
    fault->member_len = rd.member_len;

    return MOBISPOT_ERROR;
}


static int
mobispot_json_fail(mobispot_json_reader_t *rd, const char *reason)
{
    if (rd->reason == NULL) {
        rd->reason = reason;
    }

    return MOBISPOT_ERROR;
}


/* RFC 8259 whitespace only: no comments, no other blanks */

static void
mobispot_json_blank(mobispot_json_reader_t *rd)
{
    while (rd->p < rd->end
           && (*rd->p == ' ' || *rd->p == '\t' || *rd->p == '\n'
               || *rd->p == '\r'))
    {
        rd->p++;
    }
}


static int
mobispot_json_value(mobispot_json_reader_t *rd)
{
    if (rd->p == rd->end) {
        return mobispot_json_fail(rd, "JSON text ends before a value");
    }

    switch (*rd->p) {

    case '{':
        return mobispot_json_object(rd);

    case '[':
        return mobispot_json_array(rd);

    case '"':
        return mobispot_json_string_token(rd, 0);

    case 't':
        return mobispot_json_literal(rd, "true");

    case 'f':
        return mobispot_json_literal(rd, "false");

    case 'n':
        return mobispot_json_literal(rd, "null");

    case '/':
        return mobispot_json_fail(rd, "comments are not JSON");

    default:
        if (*rd->p == '-' || (*rd->p >= '0' && *rd->p <= '9')) {
            return mobispot_json_number(rd);
        }

        return mobispot_json_fail(rd, "unexpected character in JSON");
    }
}


static int
mobispot_json_object(mobispot_json_reader_t *rd)
{
    const unsigned char  *outer, *name;
    size_t                outer_len;

    if (++rd->depth > MOBISPOT_JSON_DEPTH) {
        return mobispot_json_fail(rd, "JSON nested too deep");
    }

    outer = rd->member;
    outer_len = rd->member_len;

    rd->p++;
    mobispot_json_blank(rd);

    if (rd->p < rd->end && *rd->p == '}') {
        rd->p++;
        rd->depth--;
        return MOBISPOT_OK;
    }

    for ( ;; ) {
        if (rd->p == rd->end || *rd->p != '"') {
            return mobispot_json_fail(rd, "expected a member name");
        }

        /* a fault in the name itself belongs to the enclosing member */

        name = rd->p + 1;

        if (mobispot_json_string_token(rd, 1) != MOBISPOT_OK) {
            return MOBISPOT_ERROR;
        }

        rd->member = name;
        rd->member_len = (size_t) (rd->p - 1 - name);

        mobispot_json_blank(rd);

        if (rd->p == rd->end || *rd->p != ':') {
            return mobispot_json_fail(rd, "expected ':' after a member name");
        }

        rd->p++;
        mobispot_json_blank(rd);

        if (mobispot_json_value(rd) != MOBISPOT_OK) {
            return MOBISPOT_ERROR;
        }

        rd->member = outer;
        rd->member_len = outer_len;

        mobispot_json_blank(rd);

        if (rd->p < rd->end && *rd->p == ',') {
            rd->p++;
            mobispot_json_blank(rd);
            continue;
        }

        if (rd->p < rd->end && *rd->p == '}') {
            rd->p++;
            rd->depth--;
            return MOBISPOT_OK;
        }

        return mobispot_json_fail(rd, "expected ',' or '}' in an object");
    }
}


static int
mobispot_json_array(mobispot_json_reader_t *rd)
{
    if (++rd->depth > MOBISPOT_JSON_DEPTH) {
        return mobispot_json_fail(rd, "JSON nested too deep");
    }

    rd->p++;
    mobispot_json_blank(rd);

    if (rd->p < rd->end && *rd->p == ']') {
        rd->p++;
        rd->depth--;
        return MOBISPOT_OK;
    }

    for ( ;; ) {
        if (mobispot_json_value(rd) != MOBISPOT_OK) {
            return MOBISPOT_ERROR;
        }

        mobispot_json_blank(rd);

        if (rd->p < rd->end && *rd->p == ',') {
            rd->p++;
            mobispot_json_blank(rd);
            continue;
        }

        if (rd->p < rd->end && *rd->p == ']') {
            rd->p++;
            rd->depth--;
            return MOBISPOT_OK;
        }

        return mobispot_json_fail(rd, "expected ',' or ']' in an array");
    }
}


/*
 * A string: no control character, only the escapes of RFC 8259, no
 * "\u0000", surrogate escapes only as a high-low pair, and the raw bytes
 * well-formed UTF-8 (RFC 3629).
 */

static int
mobispot_json_string_token(mobispot_json_reader_t *rd, int key)
{
    size_t    n;
    unsigned  cp, low;

    rd->p++;

    for ( ;; ) {
        if (rd->p == rd->end) {
            return mobispot_json_fail(rd, "unterminated JSON string");
        }

        if (*rd->p == '"') {
            rd->p++;
            return MOBISPOT_OK;
        }

        if (*rd->p < 0x20) {
            rd->in_string = !key;
            return mobispot_json_fail(rd, *rd->p == '\0'
                                      ? "NUL character in a JSON string"
                                      : "control character in a JSON string");
        }

        if (*rd->p == '\\') {
            if (rd->end - rd->p < 2) {
                return mobispot_json_fail(rd, "unterminated JSON string");
            }

            if (rd->p[1] != '\0' && strchr("\"\\/bfnrt", rd->p[1]) != NULL) {
                rd->p += 2;
                continue;
            }

            if (rd->p[1] != 'u' || rd->end - rd->p < 6
                || mobispot_json_hex4(rd->p + 2, &cp) != MOBISPOT_OK)
            {
                return mobispot_json_fail(rd, "invalid escape in a JSON "
                                          "string");
            }

            rd->in_string = !key;

            if (cp == 0) {
                return mobispot_json_fail(rd, "\\u0000 in a JSON string");
            }

            if (cp >= 0xdc00 && cp <= 0xdfff) {
                return mobispot_json_fail(rd, "lone surrogate escape in a "
                                          "JSON string");
            }

            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (rd->end - rd->p < 12 || rd->p[6] != '\\'
                    || rd->p[7] != 'u'
                    || mobispot_json_hex4(rd->p + 8, &low) != MOBISPOT_OK
                    || low < 0xdc00 || low > 0xdfff)
                {
                    return mobispot_json_fail(rd, "lone surrogate escape in "
                                              "a JSON string");
                }

                rd->p += 6;
            }

            rd->in_string = 0;
            rd->p += 6;
            continue;
        }

        n = mobispot_utf8_char(rd->p, (size_t) (rd->end - rd->p));
        if (n == 0) {
            rd->in_string = !key;
            return mobispot_json_fail(rd, "invalid UTF-8 in a JSON string");
        }

        rd->p += n;
    }
}


static int
mobispot_json_hex4(const unsigned char *p, unsigned *cp)
{
    int       i;
    unsigned  c, v;

    v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            c = (c | 0x20) - 'a' + 10;

        } else {
            return MOBISPOT_ERROR;
        }

        v = v * 16 + c;
    }

    *cp = v;

    return MOBISPOT_OK;
}


/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */

static int
mobispot_json_number(mobispot_json_reader_t *rd)
{
    const unsigned char  *start;

    if (*rd->p == '-') {
        rd->p++;
    }

    if (rd->p == rd->end || *rd->p < '0' || *rd->p > '9') {
        return mobispot_json_fail(rd, "invalid JSON number");
    }

    if (*rd->p == '0') {
        rd->p++;

    } else {
        while (rd->p < rd->end && *rd->p >= '0' && *rd->p <= '9') {
            rd->p++;
        }
    }

    if (rd->p < rd->end && *rd->p == '.') {
        start = ++rd->p;

        while (rd->p < rd->end && *rd->p >= '0' && *rd->p <= '9') {
            rd->p++;
        }

        if (rd->p == start) {
            return mobispot_json_fail(rd, "invalid JSON number");
        }
    }

    if (rd->p < rd->end && (*rd->p == 'e' || *rd->p == 'E')) {
        rd->p++;

        if (rd->p < rd->end && (*rd->p == '+' || *rd->p == '-')) {
            rd->p++;
        }

        start = rd->p;

        while (rd->p < rd->end && *rd->p >= '0' && *rd->p <= '9') {
            rd->p++;
        }

        if (rd->p == start) {
            return mobispot_json_fail(rd, "invalid JSON number");
        }
    }

    if (rd->p < rd->end && *rd->p >= '0' && *rd->p <= '9') {
        /* a leading zero followed by digits: "01" */
        return mobispot_json_fail(rd, "invalid JSON number");
    }

    return MOBISPOT_OK;
}


static int
mobispot_json_literal(mobispot_json_reader_t *rd, const char *word)
{
    size_t  n;

    n = strlen(word);

    if ((size_t) (rd->end - rd->p) < n || memcmp(rd->p, word, n) != 0) {
        return mobispot_json_fail(rd, "unexpected word in JSON");
    }

    rd->p += n;

    return MOBISPOT_OK;
}


/*
 * The length of the well-formed UTF-8 character at p (RFC 3629, table 3-7
 * of Unicode): no overlong form, no surrogate, nothing above U+10FFFF;
 * 0 if the bytes are not one.
 */

size_t
mobispot_utf8_char(const unsigned char *p, size_t len)
{
    unsigned char  c, lo, hi;
    size_t         n, i;

    c = p[0];

    if (c < 0x80) {
        return 1;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;

        if (c == 0xe0) {
            lo = 0xa0;

        } else if (c == 0xed) {
            hi = 0x9f;
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;

        if (c == 0xf0) {
            lo = 0x90;

        } else if (c == 0xf4) {
            hi = 0x8f;
        }

    } else {
        return 0;
    }

    if (len < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


/*
 * The number of characters (code points) in well-formed UTF-8, as
 * OpenAPI's maxLength counts them; (size_t) -1 if it is not well-formed.
 */

size_t
mobispot_utf8_length(const char *s, size_t len)
{
    size_t                n, count;
    const unsigned char  *p, *end;

    p = (const unsigned char *) s;
    end = p + len;
    count = 0;

    while (p < end) {
        n = mobispot_utf8_char(p, (size_t) (end - p));
        if (n == 0) {
            return (size_t) -1;
        }

        p += n;
        count++;
    }

    return count;
}
