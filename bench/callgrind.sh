#!/usr/bin/env bash
# User-space instructions per request of one Spot API read path, counted by
# callgrind on a single-process nginx (deterministic, unlike req/s on a
# shared machine).  Same data as bench/spots.sh; one warm-up request, then
# the counters are zeroed, N requests are made with curl, and the counts
# are dumped.
#
#   bash bench/callgrind.sh avail|nearby|moving|book|ok [N]
#
# book: POST bookings of a desk, each with its own Idempotency-Key and its
# own slot (all booked: 201), by a caller with an account and a passport,
# as in bench/bookings.sh.
#
# moving: nearby from a new position at each request (a latitude that moves
# by 1e-7 degree), after a warm-up at the first one.
#   BENCH_PASS=cowallonia-pass   the caller's passport, as the SSO module
#                                would hand it over (signed in: "entitled"
#                                is computed, as in bench/spots.sh); default
#                                none (anonymous)
#   MOBISPOT_MODULE=path/to/module.so   (default: build/ngx_http_mobispot_module.so)
#   BENCH_METRICS=1              a mobispot_metrics location too: the zone
#                                is made and every request is counted (the
#                                cost of the metrics: compare with and
#                                without)
#
# Prints the instructions per request and the ten costliest functions.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

what=${1:-avail}
n=${2:-200}
so=${MOBISPOT_MODULE:-$bench_root/build/ngx_http_mobispot_module.so}

bench_start_redis

# the data, loaded through an ordinary nginx
pass=${BENCH_PASS:+set \$mobispot_pass $BENCH_PASS; }
[ "$what" = book ] && pass='set $mobispot_sub $http_x_user; set $mobispot_pass bench-pass; '
metrics=${BENCH_METRICS:+location = /metrics { mobispot_metrics; \}}
bench_start_nginx "" "location /api/v1/ { ${pass}mobispot_api; } $metrics"
api="http://127.0.0.1:$bench_port/api/v1/"
bench_load_spots "$api"
day=$bench_day
if [ "$what" = book ]; then
    put() { curl -fs -o /dev/null -X PUT --data-binary "$2" "$api$1"; }
    allday=$(for d in mon tue wed thu fri sat sun; do printf '"%s":["00:00-24:00"],' $d; done)
    put admin/networks/bench '{"name":"Bench","passport":{"id":"bench-pass","name":"B","monthly_price_eur":1}}'
    put admin/sites/big "{\"name\":\"Bench\",\"town\":\"T\",\"address\":\"x\",\"latitude\":50.4,\"longitude\":4.8,\"time_zone\":\"UTC\",\"networks\":[\"bench\"],\"slot_minutes\":30,\"opening_hours\":{${allday%,}},\"resources\":[{\"kind\":\"desk\",\"capacity\":10000}]}"
    put admin/users/u1 '{"name":"U","email":"u@example.org","passports":[{"network":"bench","from":"2020-01-01","to":"2099-12-31"}]}'
    day0=$(( ($(date +%s) / 86400 + 1) * 86400 ))
fi
nginx -p "$bench_dir" -c "$bench_dir/nginx.conf" -s stop
sleep 0.5

case $what in
    avail)  path="/api/v1/spots/cw-namur/availability?date=$day&kind=desk" ;;
    nearby|moving)
            path="/api/v1/spots/nearby?lat=50.4674&lon=4.8720&radius_km=20&from=${day}T09:00:00Z&to=${day}T10:00:00Z&limit=20&all=true" ;;
    ok)     path=/ok ;;
    book)   path=/api/v1/bookings ;;
    *)      echo "bench: avail, nearby, moving, book or ok" >&2; exit 1 ;;
esac

# the same configuration, one process, under callgrind
sed -e "s|^load_module .*|load_module $so;|" \
    -e 's|^worker_processes .*|master_process off; daemon off;|' \
    "$bench_dir/nginx.conf" > "$bench_dir/cg.conf"
out="$bench_dir/callgrind.out"
valgrind --tool=callgrind --compress-strings=no --compress-pos=no \
    --callgrind-out-file="$out" \
    nginx -p "$bench_dir" -c "$bench_dir/cg.conf" > "$bench_dir/vg.log" 2>&1 &
vg=$!
for _ in $(seq 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$bench_port/ok" && break
    sleep 0.2
done
# book: request i books slot i of the days from tomorrow on
book() {
    local t=$(( day0 + 1800 * $1 ))
    echo "url = \"http://127.0.0.1:$bench_port$path\""
    echo 'header = "X-User: u1"'
    echo "header = \"Idempotency-Key: cg-$1\""
    echo "data = \"{\\\"spot\\\":\\\"big\\\",\\\"kind\\\":\\\"desk\\\",\\\"from\\\":\\\"$(date -u -d @$t +%FT%TZ)\\\",\\\"to\\\":\\\"$(date -u -d @$((t + 1800)) +%FT%TZ)\\\"}\""
    echo 'output = "/dev/null"'
    echo 'next'
}
if [ "$what" = book ]; then
    book 0 | sed '$d' | curl -fs -K -
else
    curl -fs -o /dev/null "http://127.0.0.1:$bench_port$path"
fi
callgrind_control -z "$vg" > /dev/null 2>&1
for i in $(seq "$n"); do
    if [ "$what" = book ]; then
        book "$i"
        continue
    fi
    p=$path
    [ "$what" = moving ] &&
        p=${path/lat=50.4674/lat=$(awk -v i="$i" 'BEGIN { printf "%.7f", 50.4674 + i * 1e-7 }')}
    echo "url = \"http://127.0.0.1:$bench_port$p\""
    echo 'output = "/dev/null"'
done > "$bench_dir/urls"
# (the last "next" of the book lines starts nothing)
[ "$what" = book ] && sed -i '$d' "$bench_dir/urls"
curl -fs -K "$bench_dir/urls"
callgrind_control -d "$vg" > /dev/null 2>&1
sleep 0.5
kill -QUIT "$vg"
wait "$vg" || true

# self cost per function of the dump (callgrind_annotate cannot read it)
awk -v n="$n" '
    /^ob=/    { ob = $0; sub(/.*\//, "", ob); next }
    /^fn=/    { fn = substr($0, 4); next }
    /^calls=/ { skip = 1; next }
    /^[0-9+*-]/ {
        if (skip) { skip = 0; next }
        c[ob " " fn] += $2; total += $2
    }
    END {
        printf "%s: %d instructions per request\n", "'"$what"'", total / n
        for (k in c) printf "%10d %s\n", c[k] / n, k | "sort -rn | head -n ${BENCH_TOP:-10}"
    }' "$out".1
