
/*
 * Copyright (C) Mobispot
 *
 * The booking scripts, run by EVALSHA on one site's keys (one hash tag):
 * Redis runs a script whole, with nothing between its commands, so a
 * booking takes every slot of its window or none, and two clients racing
 * for the last seat cannot both win.  A Redis that does not know a script
 * (restarted, flushed, a new node) answers NOSCRIPT: the call is sent
 * again, once, with EVAL and the script's text (docs/bookings.md says why
 * EVALSHA and not FUNCTION).  With mobispot_redis_wait, every script is
 * followed by WAIT in the same round trip, and its answer is sent only if
 * enough replicas acknowledged it (docs/bookings.md, "Durability").
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "bookings/ngx_http_mobispot_bookings.h"


static ngx_int_t ngx_http_mobispot_booking_script_send(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_booking_t *bk);
static ngx_int_t ngx_http_mobispot_booking_script_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n);
static ngx_uint_t ngx_http_mobispot_booking_refusal(
    ngx_http_mobispot_booking_t *bk, ngx_http_mobispot_reply_t *reply);


/*
 * Book.  KEYS: 1 the booking's record, 2 the site's info, then the
 * booked counts of each UTC day (ndays), then, for a room kind, the rooms
 * taken on each of those days.  ARGV: 1 kind, 2 the room asked for (""
 * any), 3 ndays, 4 the first day (days since the epoch), 5 the record's
 * expiry (a time), 6 the number of slots, 7 "1" when the caller is
 * entitled as a company (the rooms of the info's company_rooms:<kind> are
 * open to it), then for each slot its day (1-based) and its minute of
 * that UTC day, then the record's fields and values.  Answers {"exists"},
 * {"unknown"} (no such room of the kind), {"company_only"} (the room
 * asked for, or every room of the kind, is for companies),
 * {"conflict", slot, ...} (1-based) or {"created", room}.
 */

static const char  ngx_http_mobispot_script_book[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then\n"
    "  return {'exists'}\n"
    "end\n"
    "local kind, want = ARGV[1], ARGV[2]\n"
    "local nd, day0, ns = tonumber(ARGV[3]), tonumber(ARGV[4]),"
    " tonumber(ARGV[6])\n"
    "local cap = tonumber(redis.call('HGET', KEYS[2], 'cap:' .. kind)"
    " or '0') or 0\n"
    "local rooms = kind ~= 'desk'\n"
    "local all = rooms and redis.call('HGET', KEYS[2], 'rooms:' .. kind)"
    " or ''\n"
    "if want ~= '' and not string.find(',' .. all .. ',', ',' .. want"
    " .. ',', 1, true) then\n"
    "  return {'unknown'}\n"
    "end\n"
    "local only = rooms and redis.call('HGET', KEYS[2], 'company_rooms:'"
    " .. kind) or ''\n"
    "if ARGV[7] ~= '1' and only ~= '' then\n"
    "  local open = {}\n"
    "  for r in string.gmatch(want ~= '' and want or all, '[^,]+') do\n"
    "    if not string.find(',' .. only .. ',', ',' .. r .. ',', 1, true)"
    " then open[#open + 1] = r end\n"
    "  end\n"
    "  if #open == 0 then return {'company_only'} end\n"
    "  all = table.concat(open, ',')\n"
    "end\n"
    "local d, m, conflicts = {}, {}, {}\n"
    "for i = 1, ns do\n"
    "  d[i] = tonumber(ARGV[6 + 2 * i])\n"
    "  m[i] = ARGV[7 + 2 * i]\n"
    "  local n = tonumber(redis.call('HGET', KEYS[2 + d[i]], m[i])"
    " or '0') or 0\n"
    "  if n + 1 > cap then conflicts[#conflicts + 1] = i end\n"
    "end\n"
    "local room = ''\n"
    "if rooms and #conflicts == 0 then\n"
    "  local list = {}\n"
    "  if want ~= '' then\n"
    "    list[1] = want\n"
    "  else\n"
    "    for r in string.gmatch(all, '[^,]+') do list[#list + 1] = r end\n"
    "  end\n"
    "  local taken = {}\n"
    "  for _, r in ipairs(list) do\n"
    "    local free = true\n"
    "    for i = 1, ns do\n"
    "      if redis.call('HEXISTS', KEYS[2 + nd + d[i]], r .. '/' .. m[i])"
    " == 1 then\n"
    "        free = false\n"
    "        taken[i] = (taken[i] or 0) + 1\n"
    "      end\n"
    "    end\n"
    "    if free then room = r break end\n"
    "  end\n"
    "  if room == '' then\n"
    "    for i = 1, ns do\n"
    "      if (taken[i] or 0) > 0 then conflicts[#conflicts + 1] = i end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if #conflicts > 0 then\n"
    "  return {'conflict', unpack(conflicts)}\n"
    "end\n"
    "for i = 1, ns do\n"
    "  redis.call('HINCRBY', KEYS[2 + d[i]], m[i], 1)\n"
    "  if rooms then\n"
    "    redis.call('HSET', KEYS[2 + nd + d[i]], room .. '/' .. m[i],"
    " KEYS[1])\n"
    "  end\n"
    "end\n"
    "for j = 1, nd do\n"
    "  local at = (day0 + j + 90) * 86400\n"
    "  redis.call('EXPIREAT', KEYS[2 + j], at)\n"
    "  if rooms then redis.call('EXPIREAT', KEYS[2 + nd + j], at) end\n"
    "end\n"
    "local f = {}\n"
    "for i = 8 + 2 * ns, #ARGV do f[#f + 1] = ARGV[i] end\n"
    "f[#f + 1] = 'resource'\n"
    "f[#f + 1] = room\n"
    "f[#f + 1] = 'slots'\n"
    "local s = {}\n"
    "for i = 1, ns do s[i] = d[i] .. '/' .. m[i] end\n"
    "f[#f + 1] = table.concat(s, ',')\n"
    "redis.call('HSET', KEYS[1], unpack(f))\n"
    "redis.call('EXPIREAT', KEYS[1], tonumber(ARGV[5]))\n"
    "return {'created', room}\n";


/*
 * Move a booking on: cancel, confirm, check in, check out, or what its
 * deadline (due_at) says when it has come.  KEYS: 1 the record, then the
 * booked counts of its days, then, for a room, the rooms taken on them,
 * last the usage stream of its check-in's month.  ARGV: 1 the move, 2 the
 * caller ("" for the deadlines' runner, which may move any booking), 3
 * now, 4 the booking's id, 5 the no-show delay, 6 the grace.  A slot is
 * given back once, by the move that ends the booking; a usage record is
 * added once, by the move that ends a checked-in booking.  Answers a
 * word, and the next deadline when there is one (docs/bookings.md).
 */

static const char  ngx_http_mobispot_script_move[] =
    "local f = redis.call('HMGET', KEYS[1], 'user', 'status', 'from', 'to',"
    " 'kind', 'resource', 'slots', 'ndays', 'hold_until', 'due_at',"
    " 'checkin_at', 'slot', 'spot', 'company', 'network', 'day0')\n"
    "local act, who, now = ARGV[1], ARGV[2], tonumber(ARGV[3])\n"
    "if not f[1] or (who ~= '' and f[1] ~= who) then return {'missing'}"
    " end\n"
    "local st, from, to = f[2], tonumber(f[3]), tonumber(f[4])\n"
    "local nd, rooms = tonumber(f[8]), f[5] ~= 'desk'\n"
    "if #KEYS ~= 2 + nd * (rooms and 2 or 1) then\n"
    "  return redis.error_reply('ERR booking keys do not match its record')\n"
    "end\n"
    "local slot, day0 = (tonumber(f[12]) or 0) * 60, tonumber(f[16])\n"
    "local function free(after)\n"
    "  for s in string.gmatch(f[7], '[^,]+') do\n"
    "    local d, m = string.match(s, '^(%d+)/(%d+)$')\n"
    "    local k = tonumber(d)\n"
    "    if (day0 + k - 1) * 86400 + tonumber(m) * 60 + slot > after then\n"
    "      if redis.call('HINCRBY', KEYS[1 + k], m, -1) <= 0 then\n"
    "        redis.call('HDEL', KEYS[1 + k], m)\n"
    "      end\n"
    "      if rooms then\n"
    "        redis.call('HDEL', KEYS[1 + nd + k], f[6] .. '/' .. m)\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local function ended(status, at)\n"
    "  redis.call('HSET', KEYS[1], 'status', status, 'ended_at', at,"
    " 'due_at', '')\n"
    "end\n"
    "local function close(out, how)\n"
    "  local a, b = math.max(tonumber(f[11]), from), math.min(out, to)\n"
    "  redis.call('XADD', KEYS[#KEYS], '*', 'booking', ARGV[4], 'site',"
    " f[13], 'user', f[1], 'company', f[14] or '', 'network', f[15] or '',"
    " 'kind', f[5], 'resource', f[6] or '', 'from', f[3], 'to', f[4],"
    " 'checkin', f[11], 'checkout', tostring(out), 'seconds',"
    " tostring(b > a and b - a or 0), 'end', how)\n"
    "  redis.call('HSET', KEYS[1], 'checkout_at', tostring(out))\n"
    "  ended('done', now)\n"
    "end\n"
    "local late = to + tonumber(ARGV[6])\n"
    "if act == 'cancel' then\n"
    "  if st == 'cancelled' then return {'already'} end\n"
    "  if from <= now then return {'started'} end\n"
    "  if st ~= 'held' and st ~= 'confirmed' then return {'state', st}"
    " end\n"
    "  free(-1)\n"
    "  redis.call('HSET', KEYS[1], 'cancelled_at', now)\n"
    "  ended('cancelled', now)\n"
    "  return {'cancelled'}\n"
    "elseif act == 'confirm' then\n"
    "  if st == 'confirmed' or st == 'checked_in' or st == 'done' then\n"
    "    return {'already'}\n"
    "  end\n"
    "  if st ~= 'held' then return {'state', st} end\n"
    "  if now >= tonumber(f[9]) then\n"
    "    free(-1)\n"
    "    ended('expired', now)\n"
    "    return {'state', 'expired'}\n"
    "  end\n"
    "  local due = math.min(math.max(from, now) + tonumber(ARGV[5]), to)\n"
    "  redis.call('HSET', KEYS[1], 'status', 'confirmed', 'confirmed_at',"
    " now, 'due_at', due)\n"
    "  return {'confirmed', tostring(due)}\n"
    "elseif act == 'checkin' then\n"
    "  if st == 'checked_in' or st == 'done' then return {'already'} end\n"
    "  if st ~= 'confirmed' then return {'state', st} end\n"
    "  if now < from - tonumber(ARGV[6]) then return {'too_early'} end\n"
    "  if now >= to then return {'too_late'} end\n"
    "  if now >= tonumber(f[10]) then\n"
    "    free(now)\n"
    "    ended('no_show', now)\n"
    "    return {'state', 'no_show'}\n"
    "  end\n"
    "  redis.call('HSET', KEYS[1], 'status', 'checked_in', 'checkin_at',"
    " now, 'due_at', late)\n"
    "  return {'checked_in', tostring(late)}\n"
    "elseif act == 'checkout' then\n"
    "  if st == 'done' then return {'already'} end\n"
    "  if st ~= 'checked_in' then return {'state', st} end\n"
    "  if now >= late then\n"
    "    close(to, 'booking_end')\n"
    "    return {'too_late'}\n"
    "  end\n"
    "  free(now)\n"
    "  close(now, 'checkout')\n"
    "  return {'done'}\n"
    "elseif act == 'due' then\n"
    "  local at = tonumber(f[10] or '')\n"
    "  if not at then return {'final'} end\n"
    "  if now < at then return {'not_due', f[10]} end\n"
    "  if st == 'held' then\n"
    "    free(-1)\n"
    "    ended('expired', now)\n"
    "    return {'expired'}\n"
    "  elseif st == 'confirmed' then\n"
    "    free(now)\n"
    "    ended('no_show', now)\n"
    "    return {'no_show'}\n"
    "  elseif st == 'checked_in' then\n"
    "    close(to, 'booking_end')\n"
    "    return {'closed'}\n"
    "  end\n"
    "  return {'final'}\n"
    "end\n"
    "return redis.error_reply('ERR unknown move')\n";


/*
 * The deadlines' queue (ms:due, one key): a deadline handled is replaced
 * by the booking's next one (ARGV 3, "" none) only if nobody changed it
 * since it was read (ARGV 2), so a deadline added meanwhile is never lost.
 */

static const char  ngx_http_mobispot_script_due[] =
    "if redis.call('ZSCORE', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0"
    " end\n"
    "if ARGV[3] == '' then\n"
    "  redis.call('ZREM', KEYS[1], ARGV[1])\n"
    "else\n"
    "  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])\n"
    "end\n"
    "return 1\n";


/*
 * The answers of each script that refuse and write nothing: when WAIT
 * counts too few replicas, they are answered all the same.  Any other
 * answer (one that wrote, or that reports an earlier write) is then a
 * 503: a script with no list here gets that for all its answers.
 */

static const char  *ngx_http_mobispot_book_refusals[] = {
    "unknown", "company_only", "conflict", NULL
};

/* the move's: a refusal in another state may have moved it (expired) */
static const char  *ngx_http_mobispot_move_refusals[] = {
    "missing", "started", "too_early", NULL
};


static const struct {
    const char  *text;
    size_t       len;
    const char **refusals;
} ngx_http_mobispot_scripts[NGX_HTTP_MOBISPOT_SCRIPTS] = {
    { ngx_http_mobispot_script_book,
      sizeof(ngx_http_mobispot_script_book) - 1,
      ngx_http_mobispot_book_refusals },
    { ngx_http_mobispot_script_move,
      sizeof(ngx_http_mobispot_script_move) - 1,
      ngx_http_mobispot_move_refusals },
    { ngx_http_mobispot_script_due,
      sizeof(ngx_http_mobispot_script_due) - 1,
      NULL },
};


/* the SHA-1 of each script, as EVALSHA names it: the same in every worker */
static u_char  ngx_http_mobispot_script_sha[NGX_HTTP_MOBISPOT_SCRIPTS][40];


ngx_int_t
ngx_http_mobispot_booking_scripts_init(ngx_conf_t *cf)
{
    u_char        md[EVP_MAX_MD_SIZE];
    ngx_uint_t    i;
    unsigned int  len;

    for (i = 0; i < NGX_HTTP_MOBISPOT_SCRIPTS; i++) {
        if (EVP_Digest(ngx_http_mobispot_scripts[i].text,
                       ngx_http_mobispot_scripts[i].len, md, &len,
                       EVP_sha1(), NULL)
            != 1
            || len != 20)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "mobispot: SHA-1 of a booking script failed");
            return NGX_ERROR;
        }

        ngx_http_mobispot_booking_hex(ngx_http_mobispot_script_sha[i], md, 20);
    }

    return NGX_OK;
}


/*
 * The call of a script in pool: "EVALSHA <its SHA-1> nkeys keys... args...",
 * for the routes, the site's door and the deadlines' runner alike.
 */

ngx_int_t
ngx_http_mobispot_booking_eval(ngx_pool_t *pool, ngx_uint_t script,
    ngx_str_t *keys, ngx_uint_t nkeys, const char **args, size_t *argslen,
    ngx_uint_t nargs, ngx_http_mobispot_redis_cmd_t *cmd)
{
    u_char      *p;
    ngx_uint_t   i;
    const char **av;
    size_t      *al;

    av = ngx_palloc(pool, (3 + nkeys + nargs) * sizeof(char *));
    al = ngx_palloc(pool, (3 + nkeys + nargs) * sizeof(size_t));
    p = ngx_pnalloc(pool, NGX_INT_T_LEN);

    if (av == NULL || al == NULL || p == NULL) {
        return NGX_ERROR;
    }

    av[2] = (char *) p;
    al[2] = ngx_sprintf(p, "%ui", nkeys) - p;

    for (i = 0; i < nkeys; i++) {
        av[3 + i] = (char *) keys[i].data;
        al[3 + i] = keys[i].len;
    }

    for (i = 0; i < nargs; i++) {
        av[3 + nkeys + i] = args[i];
        al[3 + nkeys + i] = argslen[i];
    }

    cmd->argc = (int) (3 + nkeys + nargs);
    cmd->argv = av;
    cmd->argvlen = al;

    ngx_http_mobispot_booking_eval_head(script, 0, cmd);

    return NGX_OK;
}


/* EVALSHA and the SHA-1, or, once Redis said NOSCRIPT, EVAL and the text */

void
ngx_http_mobispot_booking_eval_head(ngx_uint_t script, ngx_uint_t reloaded,
    ngx_http_mobispot_redis_cmd_t *cmd)
{
    const char  **av;
    size_t       *al;

    av = (const char **) cmd->argv;
    al = (size_t *) cmd->argvlen;

    if (reloaded) {
        av[0] = "EVAL";
        al[0] = 4;
        av[1] = ngx_http_mobispot_scripts[script].text;
        al[1] = ngx_http_mobispot_scripts[script].len;

    } else {
        av[0] = "EVALSHA";
        al[0] = 7;
        av[1] = (char *) ngx_http_mobispot_script_sha[script];
        al[1] = 40;
    }
}


/*
 * Runs a script with the keys in bk->keys (bk->nkeys, declared: read and
 * written) and its arguments; done gets the script's reply.  Commands in
 * bk->pre (bk->npre, on the caller's index, declared written too) go in
 * the same pipelined call, just before the script, and only there: a
 * NOSCRIPT retry sends the script alone.  (bk->caller names the index
 * and the deadlines' queue.)
 */

ngx_int_t
ngx_http_mobispot_booking_script(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_booking_t *bk,
    ngx_uint_t script, const char **argv, size_t *argvlen, ngx_uint_t argc,
    ngx_http_mobispot_api_done_pt done)
{
    if (ngx_http_mobispot_booking_eval(r->pool, script, bk->keys, bk->nkeys,
                                       argv, argvlen, argc, &bk->cmd[0])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    bk->script = script;
    bk->done = done;
    bk->reloaded = 0;

    /* the script reads and writes all its keys */
    bk->declared.read = NULL;
    bk->declared.nread = 0;
    bk->declared.written = bk->keys;
    bk->declared.nwritten = bk->nkeys;

    if (bk->npre) {
        /* they write the caller's index and the deadlines' queue */
        bk->declared.written = ngx_palloc(r->pool,
                                          (bk->nkeys + 2) * sizeof(ngx_str_t));
        if (bk->declared.written == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(bk->declared.written, bk->keys,
                   bk->nkeys * sizeof(ngx_str_t));
        bk->declared.written[bk->nkeys] = bk->caller[1];
        bk->declared.written[bk->nkeys + 1] = bk->caller[2];
        bk->declared.nwritten += 2;
    }

    return ngx_http_mobispot_booking_script_send(r, ctx, bk);
}


static ngx_int_t
ngx_http_mobispot_booking_script_send(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_booking_t *bk)
{
    ngx_uint_t                      n;
    ngx_http_mobispot_redis_cmd_t  *cmds;

    ngx_http_mobispot_booking_eval_head(bk->script, bk->reloaded,
                                        &bk->cmd[0]);

    /* WAIT: the replicas that have every earlier write of the connection */

    n = 1;

    if (ctx->mcf->wait_replicas) {
        bk->cmd[1] = ctx->mcf->wait;
        n = 2;
    }

    /* the commands that go just before the script, once */

    cmds = bk->cmd;
    bk->npre_sent = bk->npre;

    if (bk->npre) {
        cmds = ngx_palloc(r->pool, (bk->npre + n)
                                   * sizeof(ngx_http_mobispot_redis_cmd_t));
        if (cmds == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(cmds, bk->pre,
                   bk->npre * sizeof(ngx_http_mobispot_redis_cmd_t));
        ngx_memcpy(&cmds[bk->npre], bk->cmd,
                   n * sizeof(ngx_http_mobispot_redis_cmd_t));
        n += bk->npre;
        bk->npre = 0;
    }

    return ngx_http_mobispot_api_call(r, ctx, cmds, n, &bk->declared,
                                      ngx_http_mobispot_booking_script_done);
}


static ngx_int_t
ngx_http_mobispot_booking_script_done(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *replies,
    ngx_uint_t n)
{
    ngx_http_mobispot_booking_t  *bk;

    bk = ctx->data;

    /* the script's reply follows those of the commands sent before it */
    replies += bk->npre_sent;
    n -= bk->npre_sent;
    bk->npre_sent = 0;

    if (replies[0].type == REDIS_REPLY_ERROR
        && replies[0].str.len >= 8
        && ngx_strncmp(replies[0].str.data, "NOSCRIPT", 8) == 0
        && !bk->reloaded)
    {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "mobispot: redis does not know booking script %ui "
                      "yet: sent with EVAL", bk->script);

        bk->reloaded = 1;
        return ngx_http_mobispot_booking_script_send(r, ctx, bk);
    }

    bk->waited = (n == 2
                  && ngx_http_mobispot_booking_acked(r, ctx, &replies[1]));

    if (n == 2 && !bk->waited
        && !ngx_http_mobispot_booking_refusal(bk, &replies[0]))
    {
        return ngx_http_mobispot_booking_unreplicated(r, ctx);
    }

    return bk->done(r, ctx, replies, 1);
}


/* an error, or {"<word>", ...} with a word of the script's refusals */

static ngx_uint_t
ngx_http_mobispot_booking_refusal(ngx_http_mobispot_booking_t *bk,
    ngx_http_mobispot_reply_t *reply)
{
    ngx_str_t    *what;
    const char  **word;

    if (reply->type == REDIS_REPLY_ERROR) {
        return 1;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0
        || reply->element[0].type != REDIS_REPLY_STRING)
    {
        return 0;
    }

    what = &reply->element[0].str;
    word = ngx_http_mobispot_scripts[bk->script].refusals;

    for ( /* void */ ; word != NULL && *word != NULL; word++) {
        if (what->len == ngx_strlen(*word)
            && ngx_strncmp(what->data, *word, what->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * The reply of WAIT: enough replicas, or not (fewer, or an error: WAIT
 * refused, as by a replica), logged at most once a second.
 */

ngx_uint_t
ngx_http_mobispot_booking_acked(ngx_http_request_t *r,
    ngx_http_mobispot_api_ctx_t *ctx, ngx_http_mobispot_reply_t *reply)
{
    ngx_uint_t                      skipped;
    ngx_http_mobispot_main_conf_t  *mcf;

    mcf = ctx->mcf;

    if (reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0
        && (unsigned long long) reply->integer >= mcf->wait_replicas)
    {
        return 1;
    }

    if (ngx_http_mobispot_log_limit(&mcf->wait_log, &skipped)) {
        if (reply->type == REDIS_REPLY_INTEGER) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mobispot: %L of %ui replicas acknowledged a "
                          "booking write within %M ms (%ui such lines left "
                          "out)", (int64_t) reply->integer,
                          mcf->wait_replicas, mcf->wait_timeout, skipped);

        } else {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "mobispot: WAIT failed: \"%V\" (%ui such lines "
                          "left out)", &reply->str, skipped);
        }
    }

    return 0;
}
