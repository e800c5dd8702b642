#!/usr/bin/env bash
# Runs the product locally: a Redis and an nginx with the module, on
# loopback, from build/demo/.  Prints what to try.
#
#   bash tools/demo.sh          install what is missing, build, start
#   bash tools/demo.sh stop     stop the demo's nginx and Redis
#
#   MOBISPOT_DEMO_PORT (8080), MOBISPOT_DEMO_REDIS_PORT (6390),
#   MOBISPOT_DEMO_TLS_PORT (8443: the sign-in journey's issuer and sites)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build/demo"
port=${MOBISPOT_DEMO_PORT:-8080}
rport=${MOBISPOT_DEMO_REDIS_PORT:-6390}
tport=${MOBISPOT_DEMO_TLS_PORT:-8443}

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
mkdir -p "$dir/logs" "$dir/tmp" "$dir/redis" "$dir/keys" "$dir/tls"

# the demo SSO issuer's key pair (the gateway only gets the public key)
if [ ! -f "$dir/keys/issuer.key" ]; then
    openssl genrsa -out "$dir/keys/issuer.key" 2048 2>/dev/null
    openssl rsa -in "$dir/keys/issuer.key" -pubout \
        -out "$dir/keys/issuer.pub" 2>/dev/null
fi
chmod 0600 "$dir/keys/issuer.key"     # nginx -t refuses a key others read

# a demo certificate authority and one certificate for the three names
# of the sign-in journey (import ca.pem in a browser, or accept the
# warning once per name; curl takes --cacert)
if [ ! -f "$dir/tls/server.pem" ]; then
    (
        cd "$dir/tls"
        openssl ecparam -name prime256v1 -genkey -noout -out ca.key
        openssl req -x509 -new -key ca.key -days 365 \
            -subj '/CN=Mobispot demo CA' \
            -addext basicConstraints=critical,CA:TRUE \
            -addext keyUsage=critical,keyCertSign,cRLSign -out ca.pem
        openssl ecparam -name prime256v1 -genkey -noout -out server.key
        openssl req -new -key server.key -subj '/CN=sso.localhost' \
            -out server.csr
        printf '%s\n' \
            'subjectAltName=DNS:sso.localhost,DNS:cw-namur.localhost,DNS:cw-liege.localhost' \
            'extendedKeyUsage=serverAuth' 'basicConstraints=CA:FALSE' \
            > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
            -CAcreateserial -days 365 -extfile server.ext -out server.pem
        chmod 0600 ca.key server.key
    ) 2>/dev/null
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
    -e "s|@TLS_PORT@|$tport|g" \
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
admin=$("$jwt" mint --key "$dir/keys/issuer.key" --alg RS256 \
        --kid demo --ttl 300 '{"iss":"https://sso.mobispot.demo","aud":"mobispot-app","sub":"demo-admin","sid":"demo-admin-session","roles":["admin"]}')
MOBISPOT_ADMIN_TOKEN=$admin \
    bash "$root/tools/seed/load.sh" "http://127.0.0.1:$port/api/v1/"

# the sign-in journey: the two site gateways' clients at the issuer, and
# a demo account with a CoWallonia passport for a year from today
admin_put() {
    local code
    code=$(curl -s -o "$dir/logs/admin-put" -w '%{http_code}' -X PUT \
           -H "Authorization: Bearer $admin" \
           -H 'Content-Type: application/json' --data-binary "$2" \
           "http://127.0.0.1:$port/api/v1/admin/$1")
    case $code in
        200|201) ;;
        *) echo "demo: PUT admin/$1: $code $(cat "$dir/logs/admin-put")" >&2
           exit 1 ;;
    esac
}
for s in namur liege; do
    origin="https://cw-$s.localhost:$tport"
    admin_put "clients/cw-$s-gw" "{\"kind\":\"site_gateway\",\"name\":\"CoWallonia ${s^}\",\"redirect_uris\":[\"$origin/sso/callback\"],\"post_logout_redirect_uris\":[\"$origin/\"],\"site\":\"cw-$s\"}"
done
admin_put users/demo-user "{\"name\":\"Demo User\",\"email\":\"demo@mobispot.demo\",\"passports\":[{\"network\":\"cowallonia\",\"from\":\"$(date -u +%F)\",\"to\":\"$(date -u -d '+1 year' +%F)\"}],\"roles\":{\"admin\":false,\"site_operator\":[]},\"password\":\"demo password 2026\"}"

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

The sign-in journey over TLS (demo CA: $dir/tls/ca.pem; import it in the
browser, or accept its warning once for each of the three names):
  1. open https://cw-namur.localhost:$tport/desk
     -> the sign-in at https://sso.localhost:$tport/sso/login
        account demo@mobispot.demo, password "demo password 2026"
     -> back at cw-namur, whose service shows sub=demo-user
  2. open https://cw-liege.localhost:$tport/desk   -> no sign-in asked
  3. open https://sso.localhost:$tport/sso/logout  -> sign out, confirm
  4. reload either site: the sign-in is asked again (single sign-out)
  OIDC discovery for an app:
  curl -s --cacert $dir/tls/ca.pem https://sso.localhost:$tport/sso/.well-known/openid-configuration

Stop it with: bash tools/demo.sh stop
TXT
