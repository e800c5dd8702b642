#!/bin/bash
# POST bookings against `return 200` and against redis-benchmark running
# the same booking script with the same concurrency, in one run:
#
#   bash bench/bookings.sh            (BENCH_DURATION=10s BENCH_CONNECTIONS=50)
#
# - "distinct": every request its own Idempotency-Key and a window of one
#   slot picked at random over a year of a 24-hour site with 10 000 seats,
#   so (nearly) every one is booked: 201;
# - "contended": every request the same slot of a pool of 10 seats: 10
#   are booked, the others answered 409 (the script reads, takes nothing);
# - "bare script": redis-benchmark sends the EVALSHA that nginx sends (the
#   arguments caught with MONITOR), a new record and slot each time.
# After the runs, no slot holds more than its seats: the count of each
# slot is checked against the capacity (zero overbooking).
#
# The caller stands in with `set $mobispot_sub` (the cost of a token's
# check is what bench/sso.sh measures).  Targets (issue 9): distinct
# >= 0.25 x return 200, >= 0.70 x the bare script.
#
# Redis is the limit here: by default (BENCH_PIN=1, on 2 CPUs or more)
# redis-server runs on CPU 0 and everything else on the others, for every
# case of the run alike (bench/lib.sh); BENCH_PIN=0 lets them share.
set -euo pipefail
BENCH_PIN=${BENCH_PIN:-1}
. "$(dirname "$0")/lib.sh"

[ -f "$bench_root/build/ngx_http_mobispot_module.so" ] || bash "$bench_root/tools/build.sh"

bench_start_redis
bench_start_nginx "" "
    location /api/v1/ {
        set \$mobispot_sub \$http_x_user;
        set \$mobispot_pass bench-pass;
        mobispot_api;
    }
"
api="http://127.0.0.1:$bench_port/api/v1/"
put() { curl -fs -o /dev/null -X PUT --data-binary "$2" "$api$1"; }
allday=$(for d in mon tue wed thu fri sat sun; do printf '"%s":["00:00-24:00"],' $d; done)
site() {
    printf '{"name":"Bench","town":"T","address":"x","latitude":50.4,"longitude":4.8,'
    printf '"time_zone":"UTC","networks":["bench"],"slot_minutes":30,'
    printf '"opening_hours":{%s},"resources":[{"kind":"desk","capacity":%s}]}' \
        "${allday%,}" "$1"
}
put admin/networks/bench '{"name":"Bench","passport":{"id":"bench-pass","name":"B","monthly_price_eur":1}}'
put admin/sites/big "$(site 10000)"
put admin/sites/small "$(site 10)"
# the callers need an account with a passport of the network (who may book,
# docs/bookings.md): 100 of them, u0 to u99, and the probe
account='{"name":"U","email":"u@example.org","passports":[{"network":"bench","from":"2020-01-01","to":"2099-12-31"}]}'
for u in probe $(seq -f 'u%g' 0 99); do put "admin/users/$u" "$account"; done

day0=$(( ($(date +%s) / 86400 + 1) * 86400 ))

cat > "$bench_dir/distinct.lua" <<LUA
local n, id = 0, "ROUND-" .. tostring(math.random(1, 1e9))
function setup(thread) thread:set("id", tostring(math.random(1, 1e9))) end
function init() id = id .. "-" .. tostring(math.random(1, 1e9)) end
function request()
  n = n + 1
  local t = $day0 + 1800 * math.random(0, 365 * 48 - 1)
  local body = string.format('{"spot":"%s","kind":"desk","from":"%s","to":"%s"}',
    SPOT, os.date("!%Y-%m-%dT%H:%M:%SZ", t), os.date("!%Y-%m-%dT%H:%M:%SZ", t + 1800))
  return wrk.format("POST", "/api/v1/bookings",
    {["X-User"] = "u" .. (n % 100), ["Idempotency-Key"] = id .. "-" .. n,
     ["Content-Type"] = "application/json"}, body)
end
LUA
sed 's/SPOT/"big"/' "$bench_dir/distinct.lua" > "$bench_dir/big.lua"
# the contended case: one slot for everyone
sed -e 's/SPOT/"small"/' -e 's/math.random(0, 365 \* 48 - 1)/0/' \
    "$bench_dir/distinct.lua" > "$bench_dir/small.lua"

# the script's EVALSHA as nginx sends it, caught with MONITOR
redis-cli -p "$bench_redis_port" monitor > "$bench_dir/monitor" &
monitor=$!
sleep 0.3
curl -fs -o /dev/null -X POST -H 'X-User: probe' -H 'Idempotency-Key: probe' \
    --data-binary "{\"spot\":\"big\",\"kind\":\"desk\",\"from\":\"$(date -u -d @$day0 +%FT%TZ)\",\"to\":\"$(date -u -d @$((day0 + 1800)) +%FT%TZ)\"}" \
    "${api}bookings"
sleep 0.3
kill "$monitor"
wait "$monitor" 2>/dev/null || true
mapfile -t evalsha < <(perl -ne '
    next unless /"EVALSHA"/;
    my @a = /"((?:[^"\\]|\\.)*)"/g;
    s/\\"/"/g for @a;
    # a new record and a new slot (minute field) for every call: 0 EVALSHA,
    # 1 sha, 2 numkeys (3), 3-5 keys, 6-12 ARGV 1-7, 13 the slot day, 14 its
    # minute (docs: the book script in booking_script.c)
    $a[3] =~ s/:booking:.*/:booking:b__rand_int__/;
    $a[14] = "__rand_int__";
    print "$_\n" for @a;
    last' "$bench_dir/monitor")
[ "${#evalsha[@]}" -gt 10 ] || { echo "bench: no EVALSHA caught" >&2; exit 1; }

rounds=${BENCH_ROUNDS:-3}
secs=${BENCH_DURATION%s}
echo "wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d$BENCH_DURATION x $rounds rounds (interleaved, median kept), nginx workers: $BENCH_WORKERS, redis on its own CPU: $([ -n "$bench_on_redis" ] && echo yes || echo no)"

oks=() distincts=() bares=() redis_us=() nginx_us=() bare_us=()
for r in $(seq "$rounds"); do
    bench_wrk "[$r] return 200" /ok
    oks+=("$bench_rate")
    sed "s/ROUND-/r$r-/" "$bench_dir/big.lua" > "$bench_dir/big-$r.lua"
    c0=$(bench_cpu)
    bench_wrk "[$r] POST bookings, distinct" / -s "$bench_dir/big-$r.lua"
    c1=$(bench_cpu)
    distincts+=("$bench_rate")
    read -r ru nu <<< "$(bench_cpu_per "$c0" "$c1" "$(awk -v r="$bench_rate" -v s="$secs" 'BEGIN { print r * s }')")"
    redis_us+=("$ru") nginx_us+=("$nu")
    calls=$(( secs * 40000 ))
    c0=$(bench_cpu)
    rate=$($bench_on_rest redis-benchmark -p "$bench_redis_port" -c "$BENCH_CONNECTIONS" \
           -n "$calls" -r 100000000 -q "${evalsha[@]}" \
           | awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "requests") print $i }' | tail -1)
    c1=$(bench_cpu)
    printf '%-28s %12.0f req/s   (redis-benchmark -c %s)\n' "[$r] bare script" "$rate" "$BENCH_CONNECTIONS"
    bares+=("$rate")
    read -r ru _ <<< "$(bench_cpu_per "$c0" "$c1" "$calls")"
    bare_us+=("$ru")
done

out=$($bench_on_rest wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$BENCH_DURATION" \
      -s "$bench_dir/small.lua" "http://127.0.0.1:$bench_port/")
contended=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
printf '%-28s %12.0f req/s   (all but 10 answered 409)\n' "POST bookings, contended" "$contended"

ok=$(bench_median "${oks[@]}") distinct=$(bench_median "${distincts[@]}")
bare=$(bench_median "${bares[@]}")
printf 'median: return 200 %.0f, POST bookings distinct %.0f, bare script %.0f req/s\n' "$ok" "$distinct" "$bare"

over=$(redis-cli -p "$bench_redis_port" --scan --pattern 'ms:{site:*}:booked:desk:*' |
    while read -r k; do
        cap=10000; case $k in *site:small*) cap=10;; esac
        redis-cli -p "$bench_redis_port" hvals "$k" | awk -v c=$cap '$1 > c' | wc -l
    done | awk '{ s += $1 } END { print s + 0 }')
booked=$(redis-cli -p "$bench_redis_port" hget "ms:{site:small}:booked:desk:$(date -u -d @$day0 +%F)" 0)

echo "ratio distinct / return 200: $(bench_ratio "$distinct" "$ok") (target >= 0.25)"
echo "ratio distinct / bare script: $(bench_ratio "$distinct" "$bare") (target >= 0.70)"
# what a request costs, in CPU time (the figures the rates follow on a
# machine whose other work moves the rates)
printf 'cpu per request (median, us): POST bookings: redis %s, nginx %s; bare script: redis %s\n' \
    "$(bench_median "${redis_us[@]}")" "$(bench_median "${nginx_us[@]}")" \
    "$(bench_median "${bare_us[@]}")"
echo "contended slot of 10 seats: ${booked:-0} booked; slots over their capacity: $over (target 0)"

# where Redis spent its time over the whole run (the commands of nginx's
# bookings and of redis-benchmark's bare script together)
echo "redis time by command (usec total, calls, usec per call):"
redis-cli -p "$bench_redis_port" info commandstats |
    awk -F'[:=,]' '/^cmdstat_/ { sub("cmdstat_", "", $1); printf "  %-12s %12d %10d %8.2f\n", $1, $5, $3, $7 }' |
    sort -k2 -nr | head -12
