#!/usr/bin/env bash
# Runs the product locally: a Redis and an nginx with the module, on
# loopback, from build/demo/.  Prints what to try.
#
#   bash tools/demo.sh          install what is missing, build, start
#   bash tools/demo.sh stop     stop the demo's nginx and Redis
#
#   MOBISPOT_DEMO_PORT (8080), MOBISPOT_DEMO_REDIS_PORT (6390)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build/demo"
port=${MOBISPOT_DEMO_PORT:-8080}
rport=${MOBISPOT_DEMO_REDIS_PORT:-6390}

stop() {
    if [ -f "$dir/logs/nginx.pid" ]; then
        nginx -p "$dir" -c "$dir/nginx.conf" -s quit 2>/dev/null || true
        rm -f "$dir/logs/nginx.pid"
    fi
    redis-cli -p "$rport" shutdown nosave >/dev/null 2>&1 || true
}

if [ "${1:-}" = stop ]; then
    stop
    echo "demo stopped"
    exit 0
fi

bash "$root/tools/deps.sh" run
bash "$root/tools/build.sh"
make -s -C "$root/tools"
jwt="$root/tools/build/mobispot-jwt"

stop
mkdir -p "$dir/logs" "$dir/tmp" "$dir/redis" "$dir/keys"

# the demo SSO issuer's key pair (the gateway only gets the public key)
if [ ! -f "$dir/keys/issuer.key" ]; then
    openssl genrsa -out "$dir/keys/issuer.key" 2048 2>/dev/null
    openssl rsa -in "$dir/keys/issuer.key" -pubout \
        -out "$dir/keys/issuer.pub" 2>/dev/null
fi

redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir/redis" \
    --appendonly yes --appendfsync everysec --save '' \
    --daemonize yes --logfile "$dir/logs/redis.log" \
    --pidfile "$dir/logs/redis.pid"

for _ in $(seq 50); do
    redis-cli -p "$rport" ping >/dev/null 2>&1 && break
    sleep 0.1
done

sed -e "s|@MODULE@|$root/build/ngx_http_mobispot_module.so|" \
    -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@REDIS_PORT@|$rport|g" \
    "$root/examples/demo.conf.in" > "$dir/nginx.conf"

nginx -p "$dir" -c "$dir/nginx.conf" -t -q
nginx -p "$dir" -c "$dir/nginx.conf"

for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && break
    sleep 0.1
done

# the demo catalogue: 2 networks, 15 sites, through the admin API, as a
# signed-in back-office user with the role "admin" (mobispot_admin
# role=admin in examples/demo.conf.in), with a token that lives 5 minutes
MOBISPOT_ADMIN_TOKEN=$("$jwt" mint --key "$dir/keys/issuer.key" --alg RS256 \
        --kid demo --ttl 300 '{"iss":"https://sso.mobispot.demo","aud":"mobispot-app","sub":"demo-admin","sid":"demo-admin-session","roles":["admin"]}') \
    bash "$root/tools/seed/load.sh" "http://127.0.0.1:$port/api/v1/"

# a sample token: a CoWallonia pass holder, valid for 8 hours
token=$("$jwt" mint --key "$dir/keys/issuer.key" --alg RS256 --kid demo \
        --ttl 28800 '{"iss":"https://sso.mobispot.demo","aud":["cw-namur","mobispot-app"],"sub":"demo-user","sid":"demo-session","pass":"cowallonia-pass"}')
echo "$token" > "$dir/sample-token"

cat <<TXT

Mobispot demo is running (logs in $dir/logs):

  Redis   127.0.0.1:$rport
  nginx   http://127.0.0.1:$port/  (config: $dir/nginx.conf)

Try:
  curl -s http://127.0.0.1:$port/api/v1/health
  curl -s http://127.0.0.1:$port/api/v1/networks
  curl -s 'http://127.0.0.1:$port/api/v1/spots/nearby?lat=50.4674&lon=4.8720&radius_km=40'
  curl -s http://127.0.0.1:$port/api/v1/spots/cw-namur
  curl -s 'http://127.0.0.1:$port/api/v1/spots/cw-namur/availability?kind=meeting_room'

SSO at the cw-namur gateway (sample token in $dir/sample-token):
  TOKEN=\$(cat $dir/sample-token)
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$port/site/cw-namur/
  curl -s http://127.0.0.1:$port/site/cw-namur/                 # 401 JSON
  curl -si -H 'Accept: text/html' http://127.0.0.1:$port/site/cw-namur/ | grep Location
  $jwt inspect --key $dir/keys/issuer.pub --alg RS256 --kid demo "\$TOKEN"
  # single sign-out of the session, at every gateway:
  redis-cli -p $rport ZADD ms:sso:revoked $(( $(date +%s) + 28800 )) demo-session
  redis-cli -p $rport PUBLISH ms:sso:revoked "demo-session $(( $(date +%s) + 28800 ))"

Stop it with: bash tools/demo.sh stop
TXT
