
/*
 * Copyright (C) Mobispot
 *
 * Validation of identifiers and of the query parameters of the Spot API.
 * Numbers are parsed strictly: the whole value, no blanks, no hex, no
 * "nan" or "inf".
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mobispot_spots.h"
#include "core/mobispot_core.h"


const char *mobispot_kind_names[MOBISPOT_KINDS] = {
    "desk", "meeting_room", "conference_room", "training_room"
};


int
mobispot_kind_parse(const char *s, size_t len)
{
    int  i;

    for (i = 0; i < MOBISPOT_KINDS; i++) {
        if (strlen(mobispot_kind_names[i]) == len
            && memcmp(mobispot_kind_names[i], s, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


/* [a-z0-9][a-z0-9_-]{0,63}: safe in a key and in a hash tag */

int
mobispot_id_valid(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > MOBISPOT_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')) {
            continue;
        }

        if (i > 0 && (s[i] == '_' || s[i] == '-')) {
            continue;
        }

        return 0;
    }

    return 1;
}


/*
 * A user id, which is also the token's "sub" of that user: 1 to 128 bytes
 * of [A-Za-z0-9._@|+-], the first a letter or a digit.  It names keys
 * (ms:{user:<id>}:...), so it never holds "{", "}", ":" nor a blank.
 */

int
mobispot_user_id_valid(const char *s, size_t len)
{
    size_t  i;
    char    c;

    if (len == 0 || len > MOBISPOT_USER_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = s[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9'))
        {
            continue;
        }

        if (i > 0
            && (c == '.' || c == '_' || c == '@' || c == '|' || c == '+'
                || c == '-'))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


/* -?digits[.digits], at most 32 characters */

int
mobispot_parse_double(const char *s, size_t len, double *v)
{
    char    buf[33], *end;
    size_t  i, digits;

    if (len == 0 || len >= sizeof(buf)) {
        return MOBISPOT_ERROR;
    }

    i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    digits = 0;

    for ( /* void */ ; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        digits++;
    }

    if (digits == 0) {
        return MOBISPOT_ERROR;
    }

    if (i < len && s[i] == '.') {
        for (i++, digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            digits++;
        }

        if (digits == 0) {
            return MOBISPOT_ERROR;
        }
    }

    if (i != len) {
        return MOBISPOT_ERROR;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    *v = strtod(buf, &end);

    return (end == buf + len && isfinite(*v)) ? MOBISPOT_OK : MOBISPOT_ERROR;
}


int
mobispot_parse_uint(const char *s, size_t len, unsigned long max,
    unsigned long *v)
{
    size_t         i;
    unsigned long  n, d;

    if (len == 0 || len > 10) {
        return MOBISPOT_ERROR;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return MOBISPOT_ERROR;
        }

        d = (unsigned long) (s[i] - '0');

        /* checked before it is computed: no wrap where long is 32 bits */

        if (d > max || n > (max - d) / 10) {
            return MOBISPOT_ERROR;
        }

        n = n * 10 + d;
    }

    *v = n;

    return MOBISPOT_OK;
}


int
mobispot_parse_bool(const char *s, size_t len, int *v)
{
    if (len == 4 && memcmp(s, "true", 4) == 0) {
        *v = 1;
        return MOBISPOT_OK;
    }

    if (len == 5 && memcmp(s, "false", 5) == 0) {
        *v = 0;
        return MOBISPOT_OK;
    }

    return MOBISPOT_ERROR;
}


int
mobispot_valid_lat(double lat)
{
    return lat >= -MOBISPOT_LAT_MAX && lat <= MOBISPOT_LAT_MAX;
}


int
mobispot_valid_lon(double lon)
{
    return lon >= -180.0 && lon <= 180.0;
}


/*
 * A coordinate as sent to Redis and stored: 7 decimals (about 1 cm),
 * rounded toward zero, so that the text never lies past a limit the value
 * was checked against (85.05112878 rounded to nearest would be 85.0511288,
 * which Redis GEO refuses).  Returns the length, 0 if size is too small.
 */

size_t
mobispot_format_coordinate(char *buf, size_t size, double v)
{
    int    n;
    char  *dot;

    n = snprintf(buf, size, "%.10f", v);
    if (n <= 0 || (size_t) n >= size) {
        return 0;
    }

    dot = strchr(buf, '.');
    if (dot == NULL || buf + n - dot < 8) {
        return 0;
    }

    dot[8] = '\0';

    return (size_t) (dot + 8 - buf);
}


int
mobispot_valid_radius(double km)
{
    return km > 0.0 && km <= MOBISPOT_RADIUS_MAX_KM;
}
