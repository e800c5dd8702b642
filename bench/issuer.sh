#!/usr/bin/env bash
# The issuer under load (issue 10: "the event loop never waits on a
# hash"): one nginx worker, the issuer at /sso/ and GET health at
# /api/v1/health, passwords checked (yescrypt) in a thread pool.
#
#   bash bench/issuer.sh
#   BENCH_DURATION=10s BENCH_CONNECTIONS=50 BENCH_POOL_THREADS=2
#   BENCH_PROBE_CONNECTIONS=2 BENCH_KEY=es256|rs256 BENCH_SESSIONS=100
#   BENCH_PERF=1 BENCH_POOL_NICE=N (diagnostics, below)
#
# 1. an account (PUT admin/users/bench with a password, hashed in the
#    pool) and a public app (PUT admin/clients/bench-app);
# 2. baseline: GET health latency (wrk -c$BENCH_PROBE_CONNECTIONS), nothing
#    else running;
# 3. $BENCH_CONNECTIONS concurrent sign-ins: wrk POSTs the login form with
#    the right password, every request a real password check (303; any
#    other answer is counted as an error), while a second wrk measures GET
#    health on the same worker: its p50/p99/max against the baseline, and
#    sign-ins/s;
# 4. refresh grants: $BENCH_SESSIONS sessions, each signed in, authorized
#    (PKCE) and its code redeemed at the token endpoint for a refresh
#    token; then wrk POSTs grant_type=refresh_token, each reply's new
#    refresh token used for its session's next request (the chain is per
#    session: wrk's Lua cannot tell its connections apart, so a thread
#    keeps its sessions' current tokens in a queue; there are more
#    sessions than connections so that an error does not starve it):
#    refresh grants/s and errors.
#
# The CSRF token of the sign-in is a double-submit token (the form's
# field equals the __Host-mobispot_csrf cookie), so one pair from one GET
# login serves every POST.  Successful sign-ins are not throttled (only
# failures count), so one account is enough.  Exits non-zero when a phase
# had errors; the latency figure is reported, with whether p99 < 5 ms, but
# is no pass/fail: it moves with what else runs on the machine.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pool=${BENCH_POOL_THREADS:-2}
probe_c=${BENCH_PROBE_CONNECTIONS:-2}
sessions=${BENCH_SESSIONS:-$(( BENCH_CONNECTIONS * 2 ))}
key=${BENCH_KEY:-es256}
secs=${BENCH_DURATION%s}

[ "$sessions" -ge "$BENCH_CONNECTIONS" ] ||
    { echo "bench: BENCH_SESSIONS must be at least BENCH_CONNECTIONS" >&2; exit 2; }
[ -f "$bench_root/build/ngx_http_mobispot_module.so" ] || bash "$bench_root/tools/build.sh"

case $key in
es256) openssl ecparam -name prime256v1 -genkey -noout -out "$bench_dir/sign.key" ;;
rs256) openssl genrsa -out "$bench_dir/sign.key" 2048 2>/dev/null ;;
*) echo "bench: BENCH_KEY is es256 or rs256" >&2; exit 2 ;;
esac
chmod 600 "$bench_dir/sign.key"

bench_start_redis
bench_start_nginx "
    mobispot_thread_pool bench;
    mobispot_sso_signing_key $bench_dir/sign.key kid=k1;
" "
    location /api/v1/ { mobispot_api; }
    location /sso/ {
        mobispot_sso_issuer;
        mobispot_sso_issuer_url https://sso.bench.test/sso;
    }
" "thread_pool bench threads=$pool;"

base="http://127.0.0.1:$bench_port"

# BENCH_POOL_NICE=N (an experiment, not a set-up to copy): the pool's
# threads reniced to N, the event loop's thread left at 0, to see how
# much of the latency during the sign-ins is the scheduler sharing the
# CPUs between them
if [ -n "${BENCH_POOL_NICE:-}" ]; then
    worker=$(pgrep -P "$(cat "$bench_dir/logs/nginx.pid")" | head -1)
    for t in /proc/"$worker"/task/*; do
        [ "${t##*/}" = "$worker" ] || renice -n "$BENCH_POOL_NICE" -p "${t##*/}" > /dev/null
    done
fi
app_uri=https://app.bench.test/cb
password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
fails=0

# 1. the account and the client
curl -fs -o /dev/null -X PUT --data-binary \
    "{\"name\":\"Bench\",\"email\":\"bench@example.org\",\"passports\":[],
      \"roles\":{\"admin\":false,\"site_operator\":[]},
      \"password\":\"$password\"}" "$base/api/v1/admin/users/bench"
curl -fs -o /dev/null -X PUT --data-binary \
    "{\"kind\":\"public_app\",\"name\":\"Bench app\",
      \"redirect_uris\":[\"$app_uri\"]}" "$base/api/v1/admin/clients/bench-app"

# one CSRF pair: the cookie's value is the form's hidden field
csrf=$(curl -fs "$base/sso/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
[ ${#csrf} = 43 ] || { echo "bench: no CSRF token in GET login" >&2; exit 1; }
cookie="__Host-mobispot_csrf=$csrf"
login_body="csrf=$csrf&username=bench&password=$password"

# the scripts
{ bench_lua_report; cat <<'LUA'
function response(status)
  if status ~= 200 then bad = bad + 1; if first == 0 then first = status end end
end
LUA
} > "$bench_dir/probe.lua"
{ bench_lua_report; cat <<LUA
wrk.method = "POST"
wrk.body = "$login_body"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "$cookie"
function response(status)
  if status ~= 303 then bad = bad + 1; if first == 0 then first = status end end
end
LUA
} > "$bench_dir/login.lua"

# threads_stat: for each thread of the worker, "TID CPU_TICKS WAIT_NS
# SLICES" (/proc: the CPU time it used; the time it waited on a run queue,
# runnable but not running, and how many times it ran: schedstat)
threads_stat() {
    local w t wait slices
    w=$(pgrep -P "$(cat "$bench_dir/logs/nginx.pid")" | head -1)
    for t in /proc/"$w"/task/*; do
        read -r _ wait slices < "$t/schedstat"
        echo "${t##*/} $(awk '{ print $14 + $15 }' "$t/stat") $wait $slices $w"
    done
}
# threads_diff BEFORE AFTER: the event loop's thread (its tid is the
# worker's pid) and the others (the pool's) between two threads_stat
threads_diff() {
    awk -v t="$(getconf CLK_TCK)" '
        NR == FNR { cpu[$1] = $2; wait[$1] = $3; sl[$1] = $4; next }
        $1 == $5 { lc = ($2 - cpu[$1]) / t; lw = ($3 - wait[$1]) / 1e6
                   ls = $4 - sl[$1]; next }
        { oc += ($2 - cpu[$1]) / t }
        END { printf "event loop thread: %.2f CPU s, %.0f ms runnable but waiting " \
                     "for a CPU over %d runs (%.0f us each); pool threads: %.2f CPU s\n",
                     lc, lw, ls, ls ? lw * 1000 / ls : 0, oc }' "$1" "$2"
}

# sched_report DATA TID: from a `perf sched record -a`, the runs of the
# event loop's thread TID (the worker's pid) on a CPU: a hash on the loop
# would be one run of some 50 ms; its delays (runnable, waiting for a
# CPU); and what the CPUs ran during its delays over 2 ms (the CPU time of
# the tasks switched out within them, by name; "pool" is the worker's
# other threads)
sched_report() {
    perf sched timehist -i "$1" > "$1.txt" 2>/dev/null
    awk -v tid="$2" '
        function mine(t) { return index(t, "[" tid "]") || index(t, "[" tid "/") }
        NR == FNR {
            if (!mine($3)) next
            n++; d = $5; r = $6
            if (r > rmax) rmax = r; if (d > dmax) dmax = d
            if (r > 1) rlong++; if (d > 1) dlong++
            if (d > 2) { from[++k] = $1 - d / 1000; to[k] = $1 }
            next }
        FNR == 1 { i = 1 }
        $1 ~ /^[0-9.]+$/ && !mine($3) && $3 != "<idle>" {
            while (i <= k && to[i] < $1) i++
            if (i > k || $1 < from[i]) next
            name = $3; sub(/\[.*/, "", name)
            if (index($3, "/" tid "]")) name = "pool"
            ran[name] += $6; all += $6 }
        END {
            printf "perf sched: event loop thread: %d runs, longest %.3f ms " \
                   "(%d over 1 ms); delays to run: longest %.3f ms (%d over " \
                   "1 ms); during the %d over 2 ms the CPUs ran:", n, rmax,
                   rlong, dmax, dlong, k
            for (j = 0; j < 4; j++) {
                best = ""
                for (m in ran) if (best == "" || ran[m] > ran[best]) best = m
                if (best == "" || all == 0) break
                printf " %s %.0f%%", best, ran[best] * 100 / all
                delete ran[best] }
            printf "\n" }' "$1.txt" "$1.txt"
}

# probe OUT [DURATION]: wrk on GET health, its report in OUT
probe() {
    $bench_on_rest wrk -t1 -c"$probe_c" -d"${2:-$BENCH_DURATION}" \
        -s "$bench_dir/probe.lua" "$base/api/v1/health" > "$1"
}
# lat OUT: "p50 / p99 / max ms" of a report
lat() {
    echo "$(bench_field p50 "$1") / $(bench_field p99 "$1") / $(bench_field max "$1") ms"
}
# errors OUT NAME: counts the run's errors (socket errors, bad answers)
errors() {
    local e b
    e=$(bench_field errors "$1") b=$(bench_field bad "$1")
    if [ -z "$e" ] || [ "$e" != 0 ] || [ "$b" != 0 ]; then
        echo "bench: $2: ${e:-?} socket errors, ${b:-?} unexpected answers" \
             "(first: $(bench_field first "$1")); the error log's last lines:" >&2
        tail -3 "$bench_dir/logs/error.log" >&2
        fails=$(( fails + 1 ))
    fi
}

echo "bench/issuer.sh: 1 nginx worker," \
     "thread_pool threads=$pool${BENCH_POOL_NICE:+ (nice $BENCH_POOL_NICE)}," \
     "signing key $key, wrk -t$BENCH_THREADS, $BENCH_DURATION per phase;" \
     "load: $(uptime | sed 's/.*load/load/')"

# 2. baseline
probe "$bench_dir/warm.out" 2s
threads_stat > "$bench_dir/threads0"
probe "$bench_dir/base.out"
threads_stat > "$bench_dir/threads1"
base_threads=$(threads_diff "$bench_dir/threads0" "$bench_dir/threads1")
errors "$bench_dir/base.out" "baseline health"
printf '%-34s %10.0f req/s   p50 / p99 / max %s\n' "GET health alone (-c$probe_c)" \
    "$(bench_field rate "$bench_dir/base.out")" "$(lat "$bench_dir/base.out")"

# 3. sign-ins, and the probe on the same worker meanwhile: the sign-ins
# start a second before and end a second after it
$bench_on_rest wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d$(( secs + 2 ))s \
    --timeout 30s -s "$bench_dir/login.lua" "$base/sso/login" \
    > "$bench_dir/login.out" &
bench_pids+=($!)
sleep 1
cpu0=$(bench_cpu) t0=$(date +%s.%N)
threads_stat > "$bench_dir/threads0"
if [ "${BENCH_PERF:-0}" = 1 ]; then
    perf sched record -a -o "$bench_dir/perf.data" -- sleep "$secs" \
        > /dev/null 2>&1 &
    bench_pids+=($!)
fi
probe "$bench_dir/during.out"
threads_stat > "$bench_dir/threads1"
cpu1=$(bench_cpu) t1=$(date +%s.%N)
sched=''
if [ "${BENCH_PERF:-0}" = 1 ]; then
    wait "${bench_pids[-1]}" || true
    unset "bench_pids[-1]"
    sched=$(sched_report "$bench_dir/perf.data" "$(awk '{ print $5; exit }' \
            "$bench_dir/threads0")")
fi
wait "${bench_pids[-1]}"
unset "bench_pids[-1]"
errors "$bench_dir/login.out" "sign-ins"
errors "$bench_dir/during.out" "health during the sign-ins"
printf '%-34s %10.1f /s      p50 / p99 / max %s\n' "POST login (-c$BENCH_CONNECTIONS)" \
    "$(bench_field rate "$bench_dir/login.out")" "$(lat "$bench_dir/login.out")"
printf '%-34s %10.0f req/s   p50 / p99 / max %s\n' "GET health meanwhile (-c$probe_c)" \
    "$(bench_field rate "$bench_dir/during.out")" "$(lat "$bench_dir/during.out")"
# the worker's CPU (event loop and pool threads together) while the
# probe ran, in CPUs: about the pool's size when the hashes saturate it
during_threads=$(threads_diff "$bench_dir/threads0" "$bench_dir/threads1")
worker_cpus=$(awk -v a="${cpu0#* }" -v b="${cpu1#* }" -v t0="$t0" -v t1="$t1" \
              'BEGIN { printf "%.2f", (b - a) / (t1 - t0) }')

# 4. refresh grants: the sessions' first refresh tokens, the real way
# (sign-in, authorize with PKCE, the code at the token endpoint)
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
first_token() {
    local sess verifier challenge loc code
    sess=$(curl -fs -o /dev/null -D - -H "Cookie: $cookie" \
           --data-binary "$login_body" "$base/sso/login" | tr -d '\r' |
           sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-mobispot_session=[^;]*\).*/\1/p')
    [ -n "$sess" ] || return 1
    verifier=$(head -c 32 /dev/urandom | b64url)
    challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | b64url)
    loc=$(curl -fs -o /dev/null -w '%{redirect_url}' -H "Cookie: $sess" -G \
          -d response_type=code -d client_id=bench-app -d state=s -d scope=openid \
          --data-urlencode "redirect_uri=$app_uri" -d code_challenge_method=S256 \
          -d "code_challenge=$challenge" "$base/sso/authorize")
    code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<< "$loc")
    [ -n "$code" ] || return 1
    curl -fs -d grant_type=authorization_code -d "code=$code" \
        --data-urlencode "redirect_uri=$app_uri" -d "code_verifier=$verifier" \
        -d client_id=bench-app "$base/sso/token" | jq -er .refresh_token
}
: > "$bench_dir/tokens"
for _ in $(seq "$sessions"); do
    first_token >> "$bench_dir/tokens" ||
        { echo "bench: a session's first refresh token failed" >&2; exit 1; }
done

{ bench_lua_report; cat <<LUA
-- id: the thread's number, a global that setup() sets in its state
local tokens, nthreads, n = {}, $BENCH_THREADS, 0
id = 0
function bench_setup(thread) thread:set("id", n); n = n + 1 end
function init()
  local i = 0
  for line in io.lines("$bench_dir/tokens") do
    if i % nthreads == id then table.insert(tokens, line) end
    i = i + 1
  end
end
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
function request()
  local t = table.remove(tokens) or "none"
  return wrk.format("POST", "/sso/token", headers,
    "grant_type=refresh_token&client_id=bench-app&refresh_token=" .. t)
end
function response(status, headers, body)
  local t = status == 200 and body:match('"refresh_token":"([^"]+)"')
  if t then
    table.insert(tokens, t)
  else
    bad = bad + 1
    if first == 0 then first = status end
  end
end
LUA
} > "$bench_dir/refresh.lua"
$bench_on_rest wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$BENCH_DURATION" \
    -s "$bench_dir/refresh.lua" "$base/sso/token" > "$bench_dir/refresh.out"
errors "$bench_dir/refresh.out" "refresh grants"
# a token presented twice would have revoked its session (reuse detection)
revoked=$(redis-cli -p "$bench_redis_port" zcard ms:sso:revoked)
if [ "$revoked" != 0 ]; then
    echo "bench: refresh grants: $revoked sessions revoked for reuse" >&2
    fails=$(( fails + 1 ))
fi
printf '%-34s %10.0f /s      p50 / p99 / max %s\n' \
    "refresh grants (-c$BENCH_CONNECTIONS, $sessions sessions)" \
    "$(bench_field rate "$bench_dir/refresh.out")" "$(lat "$bench_dir/refresh.out")"

# 5. the summary
f() { bench_field "$1" "$bench_dir/$2.out"; }
p99=$(f p99 during)
under=$(awk -v p="$p99" 'BEGIN { print (p < 5) ? "yes" : "no" }')
cat <<SUMMARY

== bench/issuer.sh summary ==
command: ${BENCH_POOL_NICE:+BENCH_POOL_NICE=$BENCH_POOL_NICE }\
${BENCH_PERF:+BENCH_PERF=$BENCH_PERF }BENCH_DURATION=$BENCH_DURATION \
BENCH_CONNECTIONS=$BENCH_CONNECTIONS BENCH_THREADS=$BENCH_THREADS \
BENCH_POOL_THREADS=$pool BENCH_PROBE_CONNECTIONS=$probe_c \
BENCH_SESSIONS=$sessions BENCH_KEY=$key bash bench/issuer.sh
health p99 during $BENCH_CONNECTIONS logins: $p99 ms (baseline $(f p99 base) ms); \
under 5 ms: $under
health p50 / p99.9 / max during the logins: $(f p50 during) / $(f p999 during) / \
$(f max during) ms (baseline $(f p50 base) / $(f p999 base) / $(f max base) ms)
logins/s: $(f rate login) ($(f requests login) sign-ins, $(f bad login) not 303, \
$(f errors login) socket errors); the worker used $worker_cpus CPUs meanwhile
probe alone: $base_threads
during the logins: $during_threads${sched:+
$sched}
refresh grants/s: $(f rate refresh) ($(f requests refresh) grants, \
$(f bad refresh) not 200, $(f errors refresh) socket errors, $revoked sessions revoked)
load at the end: $(uptime | sed 's/.*load/load/')
phases with errors: $fails
SUMMARY
[ "$fails" = 0 ]
