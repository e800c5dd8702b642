
/*
 * Copyright (C) Mobispot
 *
 * The nginx-independent part of the Spot API: time zones (POSIX TZ rules),
 * calendar and RFC 3339 arithmetic, slots and opening hours, and the
 * validation of query parameters.  Linked by the module and by the unit
 * tests in lua-free-tests/.  Times are seconds since the epoch (int64_t).
 */


#ifndef _MOBISPOT_SPOTS_H_INCLUDED_
#define _MOBISPOT_SPOTS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define MOBISPOT_TZ_NAME_MAX     64
#define MOBISPOT_TZ_RULE_MAX     64


/* one transition rule "Mm.w.d/time" of a POSIX TZ string */
typedef struct {
    int             month;     /* 1..12 */
    int             week;      /* 1..5, 5 = last */
    int             wday;      /* 0 = Sunday */
    int32_t         time;      /* seconds after local midnight */
} mobispot_tz_rule_t;


/* transitions precomputed for these years; others are computed */
#define MOBISPOT_TZ_YEAR_MIN     2000
#define MOBISPOT_TZ_YEARS        100


typedef struct {
    char                 name[MOBISPOT_TZ_NAME_MAX + 1];
    int32_t              std_offset;   /* seconds east of UTC */
    int32_t              dst_offset;
    int                  has_dst;
    mobispot_tz_rule_t   start;        /* to DST, in standard time */
    mobispot_tz_rule_t   end;          /* to standard, in DST */

    /* the transitions, in order: at trans[i] the offset becomes off[i] */
    int64_t              trans[2 * MOBISPOT_TZ_YEARS];
    int32_t              off[2 * MOBISPOT_TZ_YEARS];
} mobispot_tz_t;


int mobispot_tz_parse(const char *rule, size_t len, mobispot_tz_t *tz);
int mobispot_tz_tzif_footer(const unsigned char *buf, size_t len,
    const char **rule, size_t *rule_len);
int32_t mobispot_tz_offset(const mobispot_tz_t *tz, int64_t utc);
int32_t mobispot_tz_offset_rule(const mobispot_tz_t *tz, int64_t utc);
int64_t mobispot_tz_next_change(const mobispot_tz_t *tz, int64_t utc);
int64_t mobispot_tz_local_to_utc(const mobispot_tz_t *tz, int64_t local);


/* calendar (mobispot_tz.c) */

int64_t mobispot_days_from_civil(int y, int m, int d);
void mobispot_civil_from_days(int64_t days, int *y, int *m, int *d);
int64_t mobispot_floor_div(int64_t a, int64_t b);
int mobispot_parse_date(const char *s, size_t len, int64_t *days);
int mobispot_parse_rfc3339(const char *s, size_t len, int64_t *t);
size_t mobispot_format_date(int64_t days, char *buf);
size_t mobispot_format_rfc3339(int64_t utc, int32_t offset, char *buf);

#define MOBISPOT_DATE_LEN     10    /* YYYY-MM-DD */

/* dates taken anywhere (parameters, closed dates): a 4-digit year in all */
#define MOBISPOT_YEAR_MIN       1970
#define MOBISPOT_YEAR_MAX       2100

typedef struct {
    int64_t         days;           /* INT64_MIN: empty */
    char            date[MOBISPOT_DATE_LEN];
} mobispot_date_cache_t;

size_t mobispot_format_rfc3339_cached(int64_t utc, int32_t offset, char *buf,
    mobispot_date_cache_t *cache);

#define MOBISPOT_RFC3339_LEN  25    /* YYYY-MM-DDThh:mm:ss+hh:mm */


/* slots and opening hours (mobispot_slot.c) */

#define MOBISPOT_HOURS_MAX   4      /* intervals per weekday */

typedef struct {
    uint16_t        start;          /* minutes after local midnight */
    uint16_t        end;            /* exclusive, <= 1440 */
} mobispot_interval_t;


typedef struct {
    mobispot_interval_t   iv[7][MOBISPOT_HOURS_MAX];   /* Monday first */
    unsigned              n[7];
} mobispot_hours_t;


typedef struct {
    int64_t         start;          /* UTC */
    int64_t         end;
    int64_t         local_day;      /* days since the epoch, local */
    int32_t         offset;         /* UTC offset at start */
    int32_t         end_offset;     /* UTC offset at end */
    uint16_t        minute;         /* minutes after local midnight (wall) */
    uint8_t         wday;           /* 0 = Monday */
    uint8_t         open;
} mobispot_slot_t;


int mobispot_slot_minutes_valid(long minutes);
int mobispot_hours_parse_interval(const char *s, size_t len,
    mobispot_interval_t *iv);
int mobispot_hours_decode(const char *s, size_t len, mobispot_hours_t *h);
size_t mobispot_hours_encode(const mobispot_hours_t *h, char *buf,
    size_t size);
int mobispot_closed_on(const char *closed, size_t len, int64_t local_day);
size_t mobispot_slots(const mobispot_tz_t *tz, unsigned slot_minutes,
    int64_t from, int64_t to, mobispot_slot_t *out, size_t max);
void mobispot_slots_open(mobispot_slot_t *slots, size_t n,
    const mobispot_hours_t *h, const char *closed, size_t closed_len);


/* query parameters and identifiers (mobispot_param.c) */

#define MOBISPOT_KIND_DESK              0
#define MOBISPOT_KIND_MEETING_ROOM      1
#define MOBISPOT_KIND_CONFERENCE_ROOM   2
#define MOBISPOT_KIND_TRAINING_ROOM     3
#define MOBISPOT_KINDS                  4

#define MOBISPOT_LAT_MAX        85.05112878   /* what Redis GEO accepts */
#define MOBISPOT_RADIUS_MAX_KM  500.0
#define MOBISPOT_LIMIT_MAX      100
#define MOBISPOT_LIMIT_DEFAULT  20
/* the longest slot (60 min): it starts less than this before its instants */
#define MOBISPOT_SLOT_MAX           (60 * 60)
#define MOBISPOT_NEARBY_WINDOW_MAX  (24 * 3600)
#define MOBISPOT_AVAIL_WINDOW_MAX   (7 * 24 * 3600)
/* the longest id (site, network, passport, zone), in bytes */
#define MOBISPOT_ID_MAX             64
/* the longest user id (a token's "sub"), in bytes */
#define MOBISPOT_USER_ID_MAX        128

extern const char *mobispot_kind_names[MOBISPOT_KINDS];

int mobispot_kind_parse(const char *s, size_t len);
int mobispot_id_valid(const char *s, size_t len);
int mobispot_user_id_valid(const char *s, size_t len);
int mobispot_parse_double(const char *s, size_t len, double *v);
int mobispot_parse_uint(const char *s, size_t len, unsigned long max,
    unsigned long *v);
int mobispot_parse_bool(const char *s, size_t len, int *v);
int mobispot_valid_lat(double lat);
int mobispot_valid_lon(double lon);
size_t mobispot_format_coordinate(char *buf, size_t size, double v);
int mobispot_valid_radius(double km);


#endif /* _MOBISPOT_SPOTS_H_INCLUDED_ */
