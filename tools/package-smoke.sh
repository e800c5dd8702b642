#!/usr/bin/env bash
# The installed package, smoke-tested: the machine's own nginx
# (/usr/sbin/nginx) with examples/package.conf.in, which loads the module
# from /etc/nginx/modules-enabled only, a redis-server of its own on a free
# loopback port, then GET health, one site loaded through the admin API and
# its availability, and one SSO refusal.  Both processes are stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."

test -f /usr/lib/nginx/modules/ngx_http_mobispot_module.so \
    || { echo "smoke: the package is not installed" >&2; exit 1; }
test -L /etc/nginx/modules-enabled/50-mod-http-mobispot.conf \
    || { echo "smoke: the package did not enable the module" >&2; exit 1; }

dir=$(mktemp -d /tmp/mobispot-smoke.XXXXXX)
redis_pid= nginx_pid=
cleanup() {
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
    sleep 0.3
    rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)
redis_port=$(free_port)

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no > "$dir/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done

sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@REDIS_PORT@|$redis_port|g" \
    examples/package.conf.in > "$dir/nginx.conf"

/usr/sbin/nginx -t -q -c "$dir/nginx.conf"
echo "smoke: nginx -t accepts examples/package.conf.in with the installed module"

/usr/sbin/nginx -c "$dir/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 50); do
    curl -s -o /dev/null "$base/api/v1/health" && break
    sleep 0.1
done

fail=0
check() {   # check WHAT WANT_STATUS CURL_ARGS...
    local what=$1 want=$2 got
    shift 2
    got=$(curl -s -o "$dir/answer" -w '%{http_code}' "$@") || got="curl failed ($?)"
    if [ "$got" = "$want" ]; then
        echo "smoke: ok: $what ($got)"
    else
        echo "smoke: FAILED: $what: $got, not $want: $(head -c 300 "$dir/answer")"
        fail=1
    fi
}

check "GET health" 200 "$base/api/v1/health"
while IFS= read -r net; do
    id=$(jq -r .id <<< "$net")
    check "PUT the network $id" 201 -X PUT -H 'Content-Type: application/json' \
        --data-binary "$(jq -c 'del(.id)' <<< "$net")" \
        "$base/api/v1/admin/networks/$id"
done < <(jq -c '.networks[]' tools/seed/sites.json)
site=$(jq -c '.sites[] | select(.id == "cw-namur") | del(.id)' tools/seed/sites.json)
check "PUT a site" 201 -X PUT -H 'Content-Type: application/json' \
    --data-binary "$site" "$base/api/v1/admin/sites/cw-namur"
check "GET its availability" 200 \
    "$base/api/v1/spots/cw-namur/availability?date=$(date -u +%F)"
grep -q "\"site\":\"cw-namur\"" "$dir/answer" \
    || { echo "smoke: FAILED: the availability names no cw-namur"; fail=1; }
check "the SSO gateway refuses no token" 401 "$base/site/"

kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=
if grep -E '\[(alert|emerg|crit)\]' "$dir/error.log"; then
    echo "smoke: FAILED: alerts in the error log"
    fail=1
fi
[ "$fail" = 0 ] && echo "smoke: PASS" || { echo "smoke: FAIL"; exit 1; }
