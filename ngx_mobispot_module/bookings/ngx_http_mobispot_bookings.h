
/*
 * Copyright (C) Mobispot
 *
 * Bookings: POST {prefix}bookings, GET {prefix}bookings[/{id}] and
 * DELETE {prefix}bookings/{id}.  A resource over the Spot API (it books
 * the catalogue's sites: their info, windows and slots come from spots/).
 * The keys are in docs/data-model.md, the rules in docs/bookings.md.
 */


#ifndef _NGX_HTTP_MOBISPOT_BOOKINGS_H_INCLUDED_
#define _NGX_HTTP_MOBISPOT_BOOKINGS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "spots/ngx_http_mobispot_avail.h"
#include "spots/ngx_http_mobispot_admin.h"


/* the longest booking window, and the slots it may have (15-minute) */
#define NGX_HTTP_MOBISPOT_BOOKING_WINDOW_MAX  (24 * 3600)
#define NGX_HTTP_MOBISPOT_BOOKING_SLOTS_MAX   (24 * 4 + 4)

/* the booking times' defaults, in seconds (docs/bookings.md) */
#define NGX_HTTP_MOBISPOT_BOOKING_HOLD        600
#define NGX_HTTP_MOBISPOT_BOOKING_NO_SHOW     900
#define NGX_HTTP_MOBISPOT_BOOKING_GRACE       900
#define NGX_HTTP_MOBISPOT_BOOKING_HORIZON     300

/* an Idempotency-Key: what it may hold, how long it is remembered */
#define NGX_HTTP_MOBISPOT_IDEM_MAX            255
#define NGX_HTTP_MOBISPOT_IDEM_LEASE_MS       "30000"
#define NGX_HTTP_MOBISPOT_IDEM_TTL            "86400"

/* a booking id: "<site>.<24 hex digits>" */
#define NGX_HTTP_MOBISPOT_BOOKING_HEX         24

/* what a booking's record keeps, in this order (HMGET) */
#define NGX_HTTP_MOBISPOT_B_USER        0
#define NGX_HTTP_MOBISPOT_B_SPOT        1
#define NGX_HTTP_MOBISPOT_B_KIND        2
#define NGX_HTTP_MOBISPOT_B_RESOURCE    3
#define NGX_HTTP_MOBISPOT_B_FROM        4
#define NGX_HTTP_MOBISPOT_B_TO          5
#define NGX_HTTP_MOBISPOT_B_STATUS      6
#define NGX_HTTP_MOBISPOT_B_CREATED     7
#define NGX_HTTP_MOBISPOT_B_DAY0        8
#define NGX_HTTP_MOBISPOT_B_NDAYS       9
#define NGX_HTTP_MOBISPOT_B_HOLD        10
#define NGX_HTTP_MOBISPOT_B_DUE         11
#define NGX_HTTP_MOBISPOT_B_CHECKIN     12
#define NGX_HTTP_MOBISPOT_B_CHECKOUT    13
#define NGX_HTTP_MOBISPOT_B_SLOT        14
#define NGX_HTTP_MOBISPOT_B_NETWORK     15
#define NGX_HTTP_MOBISPOT_B_COMPANY     16
#define NGX_HTTP_MOBISPOT_B_FIELDS      17


/* the replies of step 1 */
#define NGX_HTTP_MOBISPOT_R_IDEM       0
#define NGX_HTTP_MOBISPOT_R_INDEX      1
#define NGX_HTTP_MOBISPOT_R_INFO       2
#define NGX_HTTP_MOBISPOT_R_RECORD     3      /* HGET its user */
#define NGX_HTTP_MOBISPOT_R_DUE        4
#define NGX_HTTP_MOBISPOT_R_ACCOUNT    5
#define NGX_HTTP_MOBISPOT_R_N          6      /* then, when not in the */
                                              /* cache, the passports; */
                                              /* when near, the PUBLISH */

/* what a booking reads of the caller's account (HMGET, in this order) */
#define NGX_HTTP_MOBISPOT_A_PASSPORTS  0
#define NGX_HTTP_MOBISPOT_A_COMPANY    1
#define NGX_HTTP_MOBISPOT_A_ZONES      2
#define NGX_HTTP_MOBISPOT_A_NETWORKS   3
#define NGX_HTTP_MOBISPOT_A_FIELDS     4

/* book the nearest: the candidates GEOSEARCH is asked for */
#define NGX_HTTP_MOBISPOT_NEAR_COUNT   20

/* book the nearest: the caller's index entries of one start read back */
#define NGX_HTTP_MOBISPOT_NEAR_INDEXED_S "256"


/* the scripts (ngx_http_mobispot_booking_script.c) */
#define NGX_HTTP_MOBISPOT_SCRIPT_BOOK    0
#define NGX_HTTP_MOBISPOT_SCRIPT_MOVE    1
#define NGX_HTTP_MOBISPOT_SCRIPT_DUE     2
#define NGX_HTTP_MOBISPOT_SCRIPTS        3


/* the global queue of the bookings' next deadlines, and its channel */
#define NGX_HTTP_MOBISPOT_KEY_DUE        "ms:due"


/* what a move of a booking does (the move script's first argument) */
#define NGX_HTTP_MOBISPOT_MOVE_CANCEL    0
#define NGX_HTTP_MOBISPOT_MOVE_CONFIRM   1
#define NGX_HTTP_MOBISPOT_MOVE_CHECKIN   2
#define NGX_HTTP_MOBISPOT_MOVE_CHECKOUT  3
#define NGX_HTTP_MOBISPOT_MOVE_DUE       4


/* the booking times (mobispot_bookings_hold, _no_show, _grace, ...) */
typedef struct {
    time_t                      hold;      /* a hold lasts */
    time_t                      no_show;   /* after the start, released */
    time_t                      grace;     /* check in early, out late */
    ngx_flag_t                  due;       /* the worker runs deadlines */
    time_t                      horizon;   /* announced within; re-read */
} ngx_http_mobispot_bookings_main_conf_t;


typedef struct {
    ngx_flag_t                  checkin;   /* mobispot_checkin */
} ngx_http_mobispot_bookings_loc_conf_t;


extern ngx_module_t  ngx_http_mobispot_bookings_module;


/* a booking as read from its record, or as just made */
typedef struct {
    ngx_str_t                   id;
    ngx_str_t                   f[NGX_HTTP_MOBISPOT_B_FIELDS];
} ngx_http_mobispot_booking_rec_t;


typedef struct ngx_http_mobispot_booking_near_s
    ngx_http_mobispot_booking_near_t;


typedef struct {
    ngx_str_t                   user;
    ngx_str_t                   spot;
    ngx_str_t                   id;
    ngx_str_t                   idem;         /* its key in Redis */
    ngx_str_t                   fingerprint;  /* of the body, hex */
    ngx_str_t                   index;        /* the caller's bookings */
    ngx_str_t                   record;
    ngx_str_t                   info;
    ngx_str_t                   resource;     /* asked, or chosen */
    ngx_str_t                   account;      /* the caller's info key */
    ngx_str_t                   network;      /* entitled by its passport */
    ngx_str_t                   company;      /* entitled as a company */
    int                         kind;
    int64_t                     from;
    int64_t                     to;
    int64_t                     now;
    int64_t                     day0;         /* first UTC day, in days */
    int64_t                     due;          /* its first deadline */
    ngx_uint_t                  hold;         /* "hold": true */
    ngx_uint_t                  slot;         /* the site's, minutes */
    ngx_uint_t                  ndays;
    mobispot_slot_t             slots[NGX_HTTP_MOBISPOT_BOOKING_SLOTS_MAX];
    size_t                      nslots;
    ngx_str_t                  *keys;         /* the script's */
    ngx_uint_t                  nkeys;

    /* a refusal, sent once the request's traces are removed */
    ngx_uint_t                  status;
    const char                 *code;
    const char                 *message;
    const char                 *member;
    const char                 *name;
    ngx_uint_t                 *conflicts;    /* slot indexes */
    ngx_uint_t                  nconflicts;
    ngx_uint_t                  release;      /* the key was claimed */
    ngx_str_t                   answer;       /* the 201's body */

    /* the script call (ngx_http_mobispot_booking_script.c) */
    ngx_uint_t                  script;
    ngx_http_mobispot_redis_cmd_t cmd[2];     /* the script, WAIT */
    ngx_http_mobispot_api_keys_t declared;
    ngx_str_t                   caller[3];    /* key, index, deadlines */
    ngx_http_mobispot_api_keys_t caller_keys; /* they, declared */
    ngx_http_mobispot_api_done_pt done;
    ngx_uint_t                  reloaded;     /* NOSCRIPT seen once */
    ngx_http_mobispot_redis_cmd_t *pre;       /* sent before the script */
    ngx_uint_t                  npre;         /* 0 once sent */
    ngx_uint_t                  npre_sent;
    ngx_uint_t                  waited;       /* the replicas have it */
    void                       *route;        /* a cancel's own state */
    ngx_http_mobispot_booking_near_t *near;   /* book the nearest */

    /* the networks' passports: a reply, or the answer cache's part */
    ngx_http_mobispot_reply_t  *passports;
    ngx_uint_t                  passports_at; /* its reply; 0: cached */
    ngx_http_mobispot_avail_t  *pav;          /* the part's state */
    ngx_uint_t                  replayed;     /* made by an earlier try */
} ngx_http_mobispot_booking_t;


/* book the nearest: the replies of its step 1 */
#define NGX_HTTP_MOBISPOT_N_IDEM      0
#define NGX_HTTP_MOBISPOT_N_ACCOUNT   1
#define NGX_HTTP_MOBISPOT_N_PASSPORTS 2
#define NGX_HTTP_MOBISPOT_N_GEO       3
#define NGX_HTTP_MOBISPOT_N_INDEX     4
#define NGX_HTTP_MOBISPOT_N_N         5


/* book the nearest: its candidates and what became of each */
struct ngx_http_mobispot_booking_near_s {
    double                      lat;
    double                      lon;
    double                      radius;
    ngx_str_t                   hex;        /* the id without its site */
    ngx_http_mobispot_reply_t  *first;      /* step 1's replies */
    ngx_http_mobispot_reply_t  *second;     /* step 2's */
    ngx_str_t                  *sites;      /* candidates, then the index's */
    ngx_uint_t                  ncand;
    ngx_uint_t                  nsites;
    ngx_uint_t                  next;       /* the candidate being tried */
    ngx_uint_t                  trying;     /* a refusal is the candidate's */
    ngx_str_t                  *stale;      /* ids to leave the index */
    ngx_uint_t                  nstale;
    const char                **rule;       /* why each was skipped */
    ngx_uint_t                 *tried;      /* the script ran on it */
    ngx_uint_t                 *indexed;    /* an earlier try's entry */
    ngx_http_mobispot_reply_t   rep[NGX_HTTP_MOBISPOT_R_N];
    ngx_http_mobispot_api_keys_t keys;
    ngx_str_t                   read[2];
};


/* a move's keys and arguments (ngx_http_mobispot_booking_move.c) */
#define NGX_HTTP_MOBISPOT_MOVE_ARGS  6

typedef struct {
    ngx_str_t                  *keys;
    ngx_uint_t                  nkeys;
    ngx_str_t                   now;
    const char                 *argv[NGX_HTTP_MOBISPOT_MOVE_ARGS];
    size_t                      argvlen[NGX_HTTP_MOBISPOT_MOVE_ARGS];
} ngx_http_mobispot_move_t;


/* the scripts and their call (ngx_http_mobispot_booking_script.c) */

ngx_int_t ngx_http_mobispot_booking_scripts_init(ngx_conf_t *cf);
ngx_int_t ngx_http_mobispot_booking_eval(ngx_pool_t *pool, ngx_uint_t script,
    ngx_str_t *keys, ngx_uint_t nkeys, const char **args, size_t *argslen,
    ngx_uint_t nargs, ngx_http_mobispot_redis_cmd_t *cmd);
void ngx_http_mobispot_booking_eval_head(ngx_uint_t script,
    ngx_uint_t reloaded, ngx_http_mobispot_redis_cmd_t *cmd);
ngx_int_t ngx_http_mobispot_booking_script(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_booking_t *bk,
    ngx_uint_t script, const char **argv, size_t *argvlen, ngx_uint_t argc,
    ngx_http_mobispot_api_done_pt done);
ngx_uint_t ngx_http_mobispot_booking_acked(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *reply);


/* what the routes share (ngx_http_mobispot_booking.c) */

ngx_int_t ngx_http_mobispot_booking_caller(ngx_http_request_t *r,
    ngx_str_t *user, ngx_int_t *rc);
ngx_int_t ngx_http_mobispot_booking_gen(yajl_gen g,
    ngx_http_mobispot_booking_rec_t *rec);
ngx_int_t ngx_http_mobispot_booking_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_mobispot_booking_rec_t *rec, ngx_str_t *out);
ngx_int_t ngx_http_mobispot_booking_id_site(ngx_str_t *id, ngx_str_t *site);
ngx_int_t ngx_http_mobispot_booking_day_keys(ngx_http_request_t *r,
    ngx_str_t *site, int kind, int64_t day0, ngx_uint_t ndays,
    ngx_str_t *keys);
ngx_int_t ngx_http_mobispot_booking_location(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_str_t *id);
void ngx_http_mobispot_booking_hex(u_char *dst, const u_char *src,
    size_t n);
ngx_int_t ngx_http_mobispot_booking_record_fields(ngx_pool_t *pool,
    ngx_str_t *key, ngx_http_mobispot_redis_cmd_t *cmd);
ngx_int_t ngx_http_mobispot_booking_index_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_str_t *key, const char *op,
    ngx_str_t *ids, ngx_uint_t n, ngx_http_mobispot_redis_cmd_t *cmd);
ngx_int_t ngx_http_mobispot_booking_hmget(ngx_pool_t *pool, ngx_str_t *key,
    const char **fields, ngx_uint_t n, ngx_http_mobispot_redis_cmd_t *cmd);
ngx_int_t ngx_http_mobispot_booking_record(ngx_str_t *id, ngx_str_t *user,
    ngx_http_mobispot_reply_t *reply, ngx_http_mobispot_booking_rec_t *rec);

ngx_int_t ngx_http_mobispot_booking_copy(ngx_pool_t *pool, ngx_str_t *dst,
    redisReply *e);

extern const char  *ngx_http_mobispot_booking_fields[];


/*
 * after step 1 of a POST (ngx_http_mobispot_booking_take.c), its
 * refusals (ngx_http_mobispot_booking_refuse.c)
 */

ngx_int_t ngx_http_mobispot_booking_claim_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_redis_cmd_t *cmd);
ngx_int_t ngx_http_mobispot_booking_passports(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_booking_t *bk,
    ngx_http_mobispot_redis_cmd_t *cmd, ngx_uint_t at);
void ngx_http_mobispot_booking_passports_read(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_reply_t *replies);
ngx_int_t ngx_http_mobispot_booking_user_cmd(ngx_http_request_t *r,
    ngx_str_t *record, ngx_http_mobispot_redis_cmd_t *cmd);
ngx_uint_t ngx_http_mobispot_booking_due_cmds(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_redis_cmd_t *zadd,
    ngx_http_mobispot_redis_cmd_t *announce);
ngx_int_t ngx_http_mobispot_booking_claimed(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
ngx_int_t ngx_http_mobispot_booking_known(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *idem);
ngx_int_t ngx_http_mobispot_booking_site(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies);
ngx_int_t ngx_http_mobispot_booking_made(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_booking_rec_t *rec);
ngx_int_t ngx_http_mobispot_booking_refuse(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t status, const char *code,
    const char *message, const char *member, const char *name);
yajl_gen ngx_http_mobispot_booking_error_gen(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk);


/*
 * who may book (ngx_http_mobispot_booking_entitle.c): the caller's account
 * read in step 1 (HMGET), the site's entitlement decided from it
 */

ngx_int_t ngx_http_mobispot_booking_account_cmd(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_redis_cmd_t *cmd);
void ngx_http_mobispot_booking_passports_cmd(
    ngx_http_mobispot_redis_cmd_t *cmd);
ngx_int_t ngx_http_mobispot_booking_no_account(
    ngx_http_mobispot_reply_t *account);
ngx_int_t ngx_http_mobispot_booking_entitle(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_site_t *site,
    ngx_http_mobispot_reply_t *replies, const char **rule,
    const char **message);


/*
 * book the nearest: its body and the reads before the attempts
 * (ngx_http_mobispot_booking_near.c), the attempts, the refusals of each
 * candidate and the 409 (ngx_http_mobispot_booking_near_try.c)
 */

ngx_int_t ngx_http_mobispot_booking_near_body(ngx_http_mobispot_check_t *ck,
    yajl_val body, ngx_http_mobispot_booking_t *bk);
ngx_int_t ngx_http_mobispot_booking_near(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_booking_near_site(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk, ngx_uint_t i);
ngx_int_t ngx_http_mobispot_booking_near_try(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_booking_near_refused(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_uint_t status, const char *code,
    const char *message, const char *member, const char *name);
ngx_int_t ngx_http_mobispot_booking_near_conflict(ngx_http_request_t *r,
    ngx_http_mobispot_booking_t *bk);
ngx_int_t ngx_http_mobispot_booking_unreplicated(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);


/* the routes */

ngx_int_t ngx_http_mobispot_booking_create(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_booking_get(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_booking_list(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);


/* the moves (ngx_http_mobispot_booking_move.c) */

ngx_int_t ngx_http_mobispot_booking_cancel(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_booking_confirm(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_booking_checkin(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_booking_checkout(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx);
ngx_int_t ngx_http_mobispot_booking_move_prepare(ngx_pool_t *pool,
    ngx_str_t *site, ngx_http_mobispot_booking_rec_t *rec, ngx_uint_t move,
    ngx_str_t *caller, time_t now, ngx_http_mobispot_move_t *mv);
ngx_int_t ngx_http_mobispot_booking_move_reply(ngx_log_t *log,
    ngx_http_mobispot_reply_t *reply, ngx_str_t *what, ngx_str_t *second);
ngx_int_t ngx_http_mobispot_booking_move_done(ngx_str_t *what,
    ngx_uint_t move, ngx_http_mobispot_move_t *mv, ngx_str_t *f);
ngx_int_t ngx_http_mobispot_booking_usage_index(ngx_pool_t *pool,
    ngx_str_t *site, time_t now, ngx_http_mobispot_redis_cmd_t *cmd);


/* the deadlines' runner (ngx_http_mobispot_booking_due.c) */

ngx_int_t ngx_http_mobispot_booking_due_init(ngx_cycle_t *cycle);
void ngx_http_mobispot_booking_due_exit(ngx_cycle_t *cycle);


/* check-in at the site's door (ngx_http_mobispot_booking_door.c) */

ngx_int_t ngx_http_mobispot_booking_door_init(ngx_conf_t *cf);
void ngx_http_mobispot_booking_door_exit(void);


/* metrics (booking_metrics.c): the events of bookings */
#define NGX_HTTP_MOBISPOT_BOOKED_CREATED       0
#define NGX_HTTP_MOBISPOT_BOOKED_CONFLICT      1
#define NGX_HTTP_MOBISPOT_BOOKED_REPLAYED      2
#define NGX_HTTP_MOBISPOT_BOOKED_CANCELLED     3
#define NGX_HTTP_MOBISPOT_BOOKED_NO_SHOW       4
#define NGX_HTTP_MOBISPOT_BOOKED_HOLD_EXPIRED  5
#define NGX_HTTP_MOBISPOT_BOOKED_EVENTS        6

ngx_int_t ngx_http_mobispot_booking_metrics_init(ngx_conf_t *cf);
void ngx_http_mobispot_booking_metrics_init_process(void);
void ngx_http_mobispot_booking_count(ngx_uint_t event);


#endif /* _NGX_HTTP_MOBISPOT_BOOKINGS_H_INCLUDED_ */
