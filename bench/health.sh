#!/usr/bin/env bash
# GET health (a PING through the worker's Redis connection) against
# `return 200`, on the same nginx, in one run, with wrk on loopback.
#
#   bash bench/health.sh
#   BENCH_DURATION=10s BENCH_CONNECTIONS=50 BENCH_THREADS=1 BENCH_WORKERS=1
#
# Prints both rates and the ratio health / return 200 (target >= 0.60).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$bench_root/build/ngx_http_mobispot_module.so" ] || bash "$bench_root/tools/build.sh"

bench_start_redis
bench_start_nginx "" "location /api/v1/ { mobispot_api; }"

echo "wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d$BENCH_DURATION, nginx workers: $BENCH_WORKERS"
bench_wrk "warm-up" /api/v1/health -d2s > /dev/null
bench_wrk "return 200" /ok
base=$bench_rate
bench_wrk "GET /api/v1/health" /api/v1/health
health=$bench_rate
echo "ratio health / return 200: $(bench_ratio "$health" "$base") (target >= 0.60)"
