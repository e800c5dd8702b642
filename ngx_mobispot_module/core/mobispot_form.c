
/*
 * Copyright (C) Mobispot
 *
 * The fields of an application/x-www-form-urlencoded text (a form's POST
 * body, or a query string, which has the same syntax): the text checked
 * whole, then one field found by its name and decoded.  A field named
 * twice is refused, not picked first or last: two readers of one request
 * must never see two values (RFC 6749 3.1: "parameters MUST NOT be
 * included more than once").
 */


#include <string.h>

#include "core/mobispot_core.h"


static int mobispot_form_byte(const char *in, size_t len, size_t *i,
    unsigned char *c);
static int mobispot_form_decode(const char *in, size_t len, char *out,
    size_t size, size_t *out_len);


/*
 * The whole text is well formed: every escape is "%" and two hexadecimal
 * digits, and every name and value decodes to UTF-8 without a control
 * character (a form's text never holds one: a NUL would cut a C string, a
 * CR or LF would split a log line).  Returns MOBISPOT_FORM_OK or
 * MOBISPOT_FORM_BAD.
 */

int
mobispot_form_check(const char *text, size_t len)
{
    size_t         i, need, have;
    unsigned char  c, seq[4];

    need = 0;
    have = 0;
    i = 0;

    while (i < len) {
        if (text[i] == '&' || text[i] == '=') {
            if (have) {
                return MOBISPOT_FORM_BAD;   /* a sequence cut short */
            }

            i++;
            continue;
        }

        if (mobispot_form_byte(text, len, &i, &c) != MOBISPOT_FORM_OK) {
            return MOBISPOT_FORM_BAD;
        }

        if (have == 0) {
            if (c < 0x80) {
                if (c < 0x20 || c == 0x7f) {
                    return MOBISPOT_FORM_BAD;
                }

                continue;
            }

            need = (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4 : 0;

            if (need == 0) {
                return MOBISPOT_FORM_BAD;
            }
        }

        seq[have++] = c;

        if (have == need) {
            if (mobispot_utf8_char(seq, have) != have) {
                return MOBISPOT_FORM_BAD;
            }

            have = 0;
        }
    }

    return have ? MOBISPOT_FORM_BAD : MOBISPOT_FORM_OK;
}


/*
 * The decoded value of the field name (matched on its decoded name) into
 * out (size bytes, NUL-terminated), its length in *out_len:
 *
 *     MOBISPOT_FORM_OK        found
 *     MOBISPOT_FORM_ABSENT    no such field
 *     MOBISPOT_FORM_BAD       the text is not well formed (above), in any
 *                             of its fields: a text is taken whole or not
 *     MOBISPOT_FORM_TWICE     the field is named twice
 *     MOBISPOT_FORM_LONG      its value does not fit in size - 1 bytes
 *
 * An empty value ("name=" or "name") is found, with length 0.
 */

int
mobispot_form_get(const char *text, size_t len, const char *name,
    char *out, size_t size, size_t *out_len)
{
    int          rc, found;
    char         key[MOBISPOT_FORM_NAME_MAX + 1];
    size_t       klen, name_len;
    const char  *p, *end, *pair, *eq, *amp, *value;

    *out_len = 0;
    out[0] = '\0';

    if (mobispot_form_check(text, len) != MOBISPOT_FORM_OK) {
        return MOBISPOT_FORM_BAD;
    }

    name_len = strlen(name);
    found = 0;
    rc = MOBISPOT_FORM_ABSENT;

    p = text;
    end = text + len;

    while (p < end) {
        pair = p;
        amp = memchr(p, '&', end - p);

        if (amp == NULL) {
            amp = end;
        }

        p = amp + 1;

        eq = memchr(pair, '=', amp - pair);

        if (eq == NULL) {
            eq = amp;
        }

        if (amp == pair
            || mobispot_form_decode(pair, eq - pair, key, sizeof(key), &klen)
               != MOBISPOT_FORM_OK
            || klen != name_len || memcmp(key, name, klen) != 0)
        {
            continue;                       /* another field, or none */
        }

        if (found) {
            out[0] = '\0';
            *out_len = 0;
            return MOBISPOT_FORM_TWICE;
        }

        found = 1;
        value = eq < amp ? eq + 1 : amp;

        rc = mobispot_form_decode(value, amp - value, out, size, out_len);
    }

    return rc;
}


/* the next byte of in at *i, decoded ("+" a blank, "%XY" a byte) */

static int
mobispot_form_byte(const char *in, size_t len, size_t *i, unsigned char *c)
{
    int     hi, lo;
    size_t  at;

    at = *i;

    if (in[at] == '+') {
        *c = ' ';
        *i = at + 1;
        return MOBISPOT_FORM_OK;
    }

    if (in[at] != '%') {
        *c = (unsigned char) in[at];
        *i = at + 1;
        return MOBISPOT_FORM_OK;
    }

    if (len - at < 3) {
        return MOBISPOT_FORM_BAD;
    }

    hi = mobispot_hex_digit((unsigned char) in[at + 1]);
    lo = mobispot_hex_digit((unsigned char) in[at + 2]);

    if (hi < 0 || lo < 0) {
        return MOBISPOT_FORM_BAD;
    }

    *c = (unsigned char) (hi << 4 | lo);
    *i = at + 3;

    return MOBISPOT_FORM_OK;
}


/* in, checked already, decoded into out (size bytes, the last the NUL) */

static int
mobispot_form_decode(const char *in, size_t len, char *out, size_t size,
    size_t *out_len)
{
    size_t         i, n;
    unsigned char  c;

    n = 0;
    i = 0;

    while (i < len) {
        if (mobispot_form_byte(in, len, &i, &c) != MOBISPOT_FORM_OK) {
            return MOBISPOT_FORM_BAD;
        }

        if (n + 1 >= size) {
            out[0] = '\0';
            *out_len = 0;
            return MOBISPOT_FORM_LONG;
        }

        out[n++] = (char) c;
    }

    out[n] = '\0';
    *out_len = n;

    return MOBISPOT_FORM_OK;
}


/* a hexadecimal digit's value, or -1 */

int
mobispot_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}
