#!/usr/bin/env bash
# Reloads under load drop nothing the module owns: wrk at 64 connections on
# a location of the module (GET spots/{id}/availability, answered from
# Redis with the answer cache off, so that every request is in flight on a
# worker's Redis connection when its worker is told to go), and, in the
# same run, 64 more on a control location without the module (`return
# 200`), while nginx is reloaded (SIGHUP) 5 times, a second apart.
#
#   bash bench/reload.sh
#   BENCH_DURATION=10s BENCH_WORKERS=2 BENCH_RELOADS=5
#
# What it prints, for each location: requests, non-2xx answers, and the
# socket errors wrk saw (connect, read, write, timeout).  The module's
# target is 0 non-2xx.  A keep-alive connection that an old worker closes
# as it exits is a read error for wrk in both locations alike: that is
# nginx's reload, not the module (the control location shows how many
# there are), so the socket errors are counted apart and compared.
set -euo pipefail
BENCH_WORKERS=${BENCH_WORKERS:-2}
BENCH_DURATION=${BENCH_DURATION:-10s}
. "$(dirname "$0")/lib.sh"
reloads=${BENCH_RELOADS:-5}

[ -f "$bench_root/build/ngx_http_mobispot_module.so" ] || bash "$bench_root/tools/build.sh"

bench_start_redis
bench_start_nginx "mobispot_api_cache off;" "location /api/v1/ { mobispot_api; }"
api="http://127.0.0.1:$bench_port/api/v1/"
bench_load_spots "$api"
path="/api/v1/spots/cw-namur/availability?date=$bench_day&kind=desk"
curl -fs -o /dev/null "http://127.0.0.1:$bench_port$path" ||
    { echo "reload: $path does not answer 200" >&2; exit 1; }

run() {   # run NAME PATH: wrk's report in $bench_dir/NAME.out
    $bench_on_rest wrk -t1 -c64 -d"$BENCH_DURATION" --latency \
        "http://127.0.0.1:$bench_port$2" > "$bench_dir/$1.out" 2>&1
}
run module "$path" & module_pid=$!
run control /ok & control_pid=$!

sleep 2
master=$(cat "$bench_dir/logs/nginx.pid")
for _ in $(seq "$reloads"); do
    kill -HUP "$master"
    sleep 1
done
wait "$module_pid" "$control_pid"

report() {   # report NAME: requests, non-2xx, socket errors
    local out=$bench_dir/$1.out
    awk -v name="$1" '
        /requests in/            { req = $1 }
        /Non-2xx or 3xx/         { bad = $5 }
        /Socket errors:/         { gsub(",", ""); err = $4 + $6 + $8 + $10;
                                   detail = $0; sub(/^ *Socket errors: */, "", detail) }
        END { printf "%-8s %9d requests  %6d non-2xx  %6d socket errors%s\n",
                     name, req, bad, err, err ? "  (" detail ")" : "" }' "$out"
}
echo "bench/reload.sh: $reloads reloads (SIGHUP) in $BENCH_DURATION, $BENCH_WORKERS workers, wrk -c64 on each location"
report module
report control
bad=$(awk '/Non-2xx or 3xx/ { print $5 }' "$bench_dir/module.out")
if [ -n "$bad" ] && [ "$bad" != 0 ]; then
    echo "reload: the module's location answered $bad requests with no 2xx" >&2
    grep -E '\[(error|alert|crit|emerg)\]' "$bench_dir/logs/error.log" | tail -5 >&2
    exit 1
fi
if grep -qE '\[(alert|crit|emerg)\]' "$bench_dir/logs/error.log"; then
    echo "reload: alerts in the error log:" >&2
    grep -E '\[(alert|crit|emerg)\]' "$bench_dir/logs/error.log" | tail -5 >&2
    exit 1
fi
echo "reload: PASS (0 non-2xx from the module)"
