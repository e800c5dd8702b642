# SSO gateway: configuration errors stop nginx -t with a clear message
# (algorithm confusion is refused at configuration time).

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

sso_keys();

run_tests();

__DATA__

=== TEST 1: an HMAC secret file that holds a PEM key (algorithm confusion)
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa.pub alg=HS256;
--- must_die
--- error_log
holds a PEM key: it cannot be an HS256 secret



=== TEST 2: a secret shorter than the hash
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/short.secret alg=HS256;
--- must_die
--- error_log
is shorter than 32 bytes



=== TEST 3: an RS256 key that is not a PEM public key
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=RS256;
--- must_die
--- error_log
is not a PEM public key



=== TEST 4: a private key at a gateway
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa.key alg=RS256;
--- must_die
--- error_log
holds a private key



=== TEST 5: an EC key for an RSA algorithm, a P-384 key for ES256, a short RSA key
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/ec256.pub alg=RS256;
--- must_die
--- error_log
is not an RSA key, as alg=RS256 wants



=== TEST 6: EC curve must match the algorithm
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/ec384.pub alg=ES256;
--- must_die
--- error_log
is on a 384-bit curve, alg=ES256 wants 256



=== TEST 7: RSA keys of fewer than 2048 bits are refused
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa1024.pub alg=RS256;
--- must_die
--- error_log
has 1024 bits, fewer than 2048



=== TEST 8: alg is exact: none, lowercase and missing are refused
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=hs256;
--- must_die
--- error_log
"mobispot_jwt_key" needs alg=HS256



=== TEST 9: alg=none
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=none;
--- must_die
--- error_log
"mobispot_jwt_key" needs alg=HS256



=== TEST 10: mobispot_sso without any key
--- config
    location / { mobispot_sso on; }
--- must_die
--- error_log
"mobispot_sso" needs at least one "mobispot_jwt_key"



=== TEST 11: two keys for the same kid
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa.pub alg=RS256 kid=k;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa2.pub alg=RS256 kid=k;
--- must_die
--- error_log
duplicate "mobispot_jwt_key"



=== TEST 12: an unknown token source
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_sso_token header query=t;
--- must_die
--- error_log
invalid token source "query=t"



=== TEST 13: a missing key file
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/nope.pub alg=RS256;
--- must_die
--- error_log
nope.pub" failed



=== TEST 14: mobispot_sso takes on, off or optional
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_sso maybe;
--- must_die
--- error_log
invalid value "maybe"



=== TEST 15: mobispot_sso without an audience: a token minted for another site would pass
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
--- config
    location / { mobispot_sso on; }
--- must_die
--- error_log
"mobispot_sso" needs "mobispot_jwt_issuer" and "mobispot_jwt_audience"



=== TEST 16: mobispot_sso optional without an issuer
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_audience namur;
--- config
    location / { mobispot_sso optional; }
--- must_die
--- error_log
"mobispot_sso" needs "mobispot_jwt_issuer" and "mobispot_jwt_audience"



=== TEST 17: off needs neither; a location that sets both starts
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
--- config
    location /open { mobispot_sso off; return 204; }
    location /p {
        mobispot_jwt_issuer https://sso.mobispot.test;
        mobispot_jwt_audience namur;
        mobispot_sso on;
    }
--- request eval
["GET /open", "GET /p"]
--- error_code eval
[204, 401]
