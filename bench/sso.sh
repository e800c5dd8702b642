#!/usr/bin/env bash
# The SSO gateway's cost: the same tiny content handler (empty_gif: a
# content-phase handler, as `return` runs before the access phase and is
# never protected) unprotected, behind `mobispot_sso on` with an HS256
# token, an RS256 token and an ES256 token, on the same nginx, in one run, with wrk on
# loopback.  Every request carries the same valid token, as a client does,
# so the per-worker signature cache is in play (set
# MOBISPOT_SSO_CACHE_SIZE=0 to measure the signature itself).
#
#   bash bench/sso.sh
#   BENCH_DURATION=10s BENCH_CONNECTIONS=50 BENCH_THREADS=1 BENCH_WORKERS=1
#
# A fourth case adds site entitlement (networks from Redis, cached per
# worker) and single sign-out (shared memory lookup) to RS256.
#
# Prints the rates and the ratios (targets with the cache: HS256 >= 0.85,
# RS256 >= 0.80; with MOBISPOT_SSO_CACHE_SIZE=0, every request a signature
# check: RS256 >= 0.40).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$bench_root/build/ngx_http_mobispot_module.so" ] || bash "$bench_root/tools/build.sh"
make -s -C "$bench_root/tools" >/dev/null
jwt="$bench_root/tools/build/mobispot-jwt"

k="$bench_dir/keys"
mkdir -p "$k"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$k/hs256.secret"
openssl genrsa -out "$k/rsa.key" 2048 2>/dev/null
openssl rsa -in "$k/rsa.key" -pubout -out "$k/rsa.pub" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$k/ec.key"
openssl ec -in "$k/ec.key" -pubout -out "$k/ec.pub" 2>/dev/null

claims='{"iss":"https://sso.mobispot.test","aud":"namur","sub":"bench","sid":"s1","pass":"cowallonia"}'
hs=$("$jwt" mint --key "$k/hs256.secret" --alg HS256 --ttl 3600 "$claims")
rs=$("$jwt" mint --key "$k/rsa.key" --alg RS256 --kid r1 --ttl 3600 "$claims")
es=$("$jwt" mint --key "$k/ec.key" --alg ES256 --kid e1 --ttl 3600 "$claims")

bench_start_redis
redis-cli -p "$bench_redis_port" HSET 'ms:{site:namur}:info' networks cowallonia >/dev/null
redis-cli -p "$bench_redis_port" HSET 'ms:{networks}:passport' cowallonia cowallonia >/dev/null

bench_start_nginx "
    mobispot_sso_revocation on;
    mobispot_jwt_key $k/hs256.secret alg=HS256;
    mobispot_jwt_key $k/rsa.pub alg=RS256 kid=r1;
    mobispot_jwt_key $k/ec.pub alg=ES256 kid=e1;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
    mobispot_sso_cache_size ${MOBISPOT_SSO_CACHE_SIZE:-1024};
" "
    location = /plain { empty_gif; }
    location = /sso { mobispot_sso on; empty_gif; }
    location = /full { mobispot_sso on; mobispot_site namur; empty_gif; }
"

rounds=${BENCH_ROUNDS:-3}

echo "wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d$BENCH_DURATION x $rounds rounds (interleaved, median kept), nginx workers: $BENCH_WORKERS, sso cache: ${MOBISPOT_SSO_CACHE_SIZE:-1024}"
bench_wrk "warm-up" /sso -d2s -H "Authorization: Bearer $rs" > /dev/null

base=() hsr=() rsr=() esr=() full=()
for r in $(seq "$rounds"); do
    bench_wrk "[$r] unprotected" /plain
    base+=("$bench_rate")
    bench_wrk "[$r] mobispot_sso HS256" /sso -H "Authorization: Bearer $hs"
    hsr+=("$bench_rate")
    bench_wrk "[$r] mobispot_sso RS256" /sso -H "Authorization: Bearer $rs"
    rsr+=("$bench_rate")
    bench_wrk "[$r] mobispot_sso ES256" /sso -H "Authorization: Bearer $es"
    esr+=("$bench_rate")
    bench_wrk "[$r] RS256+site+revocation" /full -H "Authorization: Bearer $rs"
    full+=("$bench_rate")
done

b=$(bench_median "${base[@]}") h=$(bench_median "${hsr[@]}") s=$(bench_median "${rsr[@]}")
e=$(bench_median "${esr[@]}") f=$(bench_median "${full[@]}")
printf 'median: unprotected %.0f, HS256 %.0f, RS256 %.0f, ES256 %.0f, RS256 with site entitlement and revocation %.0f req/s\n' "$b" "$h" "$s" "$e" "$f"
echo "ratio HS256 / unprotected: $(bench_ratio "$h" "$b") (target >= 0.85)"
echo "ratio RS256 / unprotected: $(bench_ratio "$s" "$b") (target >= 0.80)"
echo "ratio ES256 / unprotected: $(bench_ratio "$e" "$b")"
echo "ratio RS256+site+revocation / unprotected: $(bench_ratio "$f" "$b")"
