# Shared helpers of the benchmarks: a Redis and an nginx with the module on
# free loopback ports in a temporary directory, wrk runs, and cleanup.
# Sourced by bench/*.sh; not run by itself.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_dir=$(mktemp -d /tmp/mobispot-bench.XXXXXX)
BENCH_DURATION=${BENCH_DURATION:-10s}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-50}
BENCH_THREADS=${BENCH_THREADS:-1}
BENCH_WORKERS=${BENCH_WORKERS:-1}

# BENCH_PIN=1 (on a machine of 2 CPUs or more): redis-server on CPU 0, and
# nginx, wrk and redis-benchmark on the others, as Redis (one thread)
# would have a core of its own in production; every case of a run is
# measured the same way, so the ratios stay fair
bench_on_redis='' bench_on_rest=''
if [ "${BENCH_PIN:-0}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
    bench_on_redis="taskset -c 0"
    bench_on_rest="taskset -c 1-$(( $(nproc) - 1 ))"
fi

bench_free_port() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport'
}

# bench_pids: the processes a benchmark starts in the background (wrk
# runs), stopped by pid at exit with nginx and redis-server
bench_pids=()

bench_stop_pid() {   # bench_stop_pid PID: TERM, then KILL after 5 s
    local pid=$1 _
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

bench_cleanup() {
    local pid
    for pid in "${bench_pids[@]}"; do bench_stop_pid "$pid"; done
    [ -s "$bench_dir/logs/nginx.pid" ] &&
        bench_stop_pid "$(cat "$bench_dir/logs/nginx.pid")"
    [ -s "$bench_dir/redis.pid" ] && bench_stop_pid "$(cat "$bench_dir/redis.pid")"
    rm -rf "$bench_dir"
}
trap bench_cleanup EXIT

# bench_start_redis: sets bench_redis_port
bench_start_redis() {
    bench_redis_port=$(bench_free_port)
    $bench_on_redis redis-server --port "$bench_redis_port" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize yes --dir "$bench_dir" \
        --logfile "$bench_dir/redis.log" --pidfile "$bench_dir/redis.pid"
    for _ in $(seq 50); do
        redis-cli -p "$bench_redis_port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench: redis did not start" >&2
    return 1
}

# bench_start_nginx HTTP_CONFIG SERVER_CONFIG [MAIN_CONFIG]: sets bench_port
bench_start_nginx() {
    bench_port=$(bench_free_port)
    mkdir -p "$bench_dir/logs" "$bench_dir/tmp"
    cat > "$bench_dir/nginx.conf" <<CONF
load_module $bench_root/build/ngx_http_mobispot_module.so;
worker_processes $BENCH_WORKERS;
${3:-}
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path tmp;
    proxy_temp_path tmp;
    fastcgi_temp_path tmp;
    uwsgi_temp_path tmp;
    scgi_temp_path tmp;
    mobispot_redis 127.0.0.1:$bench_redis_port;
    mobispot_admin loopback;
    $1
    server {
        listen 127.0.0.1:$bench_port backlog=4096;
        location = /ok { return 200 "ok"; }
        $2
    }
}
CONF
    $bench_on_rest nginx -p "$bench_dir" -c "$bench_dir/nginx.conf"
    for _ in $(seq 50); do
        curl -fs "http://127.0.0.1:$bench_port/ok" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench: nginx did not start" >&2
    return 1
}

# bench_wrk NAME PATH [wrk args...]: prints a line, sets bench_rate
bench_wrk() {
    local name=$1 path=$2 out errors
    shift 2
    out=$($bench_on_rest wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$BENCH_DURATION" \
          "$@" "http://127.0.0.1:$bench_port$path")
    bench_rate=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
    errors=$(echo "$out" | awk '/Non-2xx or 3xx responses:/ {print $5}')
    printf '%-28s %12.0f req/s   latency avg %s\n' "$name" "$bench_rate" \
        "$(echo "$out" | awk '/^    Latency/ {print $2}')"
    if [ -n "$errors" ]; then
        echo "bench: $name: $errors responses were not 2xx; the error log's last lines:" >&2
        tail -3 "$bench_dir/logs/error.log" >&2
        return 1
    fi
}

# bench_lua_report: the part of a wrk Lua script that reports: done()
# prints one line, "report requests=N rate=R/s p50= p99= p999= max= (ms)
# errors=E bad=B first=S", errors being wrk's socket errors (connect,
# read, write, timeout) and bad the sum over wrk's threads of the global
# `bad` that the script's response() counts (answers it did not expect;
# first: the status of the first of them).  A script that needs wrk's
# setup() defines bench_setup(thread) instead.
bench_lua_report() {
    cat <<'LUA'
bad, first = 0, 0
local bench_threads = {}
function setup(thread)
  table.insert(bench_threads, thread)
  if bench_setup then bench_setup(thread) end
end
function done(summary, latency, requests)
  local nbad, nfirst = 0, 0
  for _, t in ipairs(bench_threads) do
    nbad = nbad + t:get("bad")
    if nfirst == 0 then nfirst = t:get("first") end
  end
  local e = summary.errors
  local ms = function(p) return latency:percentile(p) / 1000 end
  io.write(string.format("report requests=%d rate=%.1f p50=%.3f p99=%.3f "
    .. "p999=%.3f max=%.3f errors=%d bad=%d first=%d\n", summary.requests,
    summary.requests / (summary.duration / 1e6), ms(50), ms(99), ms(99.9),
    latency.max / 1000, e.connect + e.read + e.write + e.timeout, nbad,
    nfirst))
end
LUA
}

# bench_field KEY FILE: the value of KEY in the report line of FILE (the
# output of a wrk run with bench_lua_report in its script)
bench_field() {
    awk -v k="$1" '/^report / { for (i = 2; i <= NF; i++) {
        split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$2"
}

# bench_cpu: prints the CPU seconds used so far by redis-server and by the
# nginx workers ("REDIS NGINX"); the difference of two, divided by the
# requests in between, is a request's cost, which other work on the
# machine changes far less than it changes a rate
bench_cpu() {
    local master tick
    master=$(cat "$bench_dir/logs/nginx.pid")
    tick=$(getconf CLK_TCK)
    redis-cli -p "$bench_redis_port" info cpu |
        awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.3f ", s }'
    for p in $(pgrep -P "$master"); do cat "/proc/$p/stat"; done |
        awk -v t="$tick" '{ s += $14 + $15 } END { printf "%.3f\n", s / t }'
}

# bench_cpu_per BEFORE AFTER N: "REDIS_US NGINX_US", microseconds each per
# request, of N requests between two bench_cpu lines
bench_cpu_per() {
    awk -v n="$3" -v a="$1" -v b="$2" 'BEGIN {
        split(a, x, " "); split(b, y, " ");
        printf "%.1f %.1f\n", (y[1] - x[1]) * 1e6 / n, (y[2] - x[2]) * 1e6 / n }'
}

# bench_median V...: the median of the values (the lower one of an even count)
bench_median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

bench_ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# bench_load_spots API [curl options ...]: through the admin API at API,
# the demo catalogue (tools/seed), 30 more sites within 15 km of Namur
# (copies of cw-namur), and a few desk bookings on bench_day (a Tuesday,
# within opening hours) straight into Redis
bench_day=2026-12-01
bench_load_spots() {
    local api=$1 base i lat lon body s
    shift
    bash "$bench_root/tools/seed/load.sh" "$api" > /dev/null
    base=$(jq -c '.sites[] | select(.id == "cw-namur") | del(.id)' \
           "$bench_root/tools/seed/sites.json")
    for i in $(seq 1 30); do
        lat=$(awk -v i="$i" 'BEGIN { printf "%.4f", 50.4641 + (i % 6 - 3) * 0.02 }')
        lon=$(awk -v i="$i" 'BEGIN { printf "%.4f", 4.8661 + (int(i / 6) - 2) * 0.03 }')
        body=$(jq -c --argjson lat "$lat" --argjson lon "$lon" --arg n "Bench $i" \
               '.latitude = $lat | .longitude = $lon | .name = $n' <<< "$base")
        curl -fs -o /dev/null -X PUT "$@" --data-binary "$body" \
            "${api}admin/sites/bench-$i"
    done
    for s in cw-namur bench-1 bench-2 bench-3; do
        redis-cli -p "$bench_redis_port" hset "ms:{site:$s}:booked:desk:$bench_day" \
            480 5 510 24 540 3 > /dev/null
    done
}
