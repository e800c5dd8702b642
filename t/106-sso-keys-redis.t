# SSO gateway: keys published by the issuer in Redis (ms:sso:jwks, a JWKS
# document) and rotated without reload: a message on the channel
# ms:sso:jwks makes every worker read the set again.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

sso_keys();

our %T;
our $SET1 = jwks('rsa.pub:k1:RS256');
our $SET2 = jwks('rsa2.pub:k2:RS256', 'ec256.pub:k3:ES256');

$T{k1} = tok('rsa.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"k1"}', claims(sub => 'k1'));
$T{k2} = tok('rsa2.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"k2"}', claims(sub => 'k2'));
$T{k3} = tok('ec256.key', 'ES256', '{"typ":"at+jwt","alg":"ES256","kid":"k3"}', claims(sub => 'k3'));
$T{hs} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(sub => 'hs'));

our $HTTP = <<'_EOC_';
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_jwt_keys_redis on;
    mobispot_jwt_issuer https://sso.mobispot.test;
_EOC_

our $CONFIG = <<'_EOC_';
    location /echo { return 200 "sub=$http_x_sub\n"; }
    location /p {
        mobispot_sso on; mobispot_jwt_issuer https://sso.mobispot.test; mobispot_jwt_audience namur;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /both {
        mobispot_sso on; mobispot_jwt_issuer https://sso.mobispot.test; mobispot_jwt_audience namur;
        mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: the key set in Redis verifies tokens; configured keys and Redis keys together
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
"SET ms:sso:jwks '$::SET1'"
--- request eval
["GET /p", "GET /p", "GET /both", "GET /both"]
--- before_request eval
["sleep 0.3", "", "", ""]
--- more_headers eval
["Authorization: Bearer $::T{k1}", "Authorization: Bearer $::T{k2}", "Authorization: Bearer $::T{hs}", "Authorization: Bearer $::T{k1}"]
--- error_code eval
[200, 401, 200, 200]
--- response_body eval
["sub=k1\n", undef, "sub=hs\n", "sub=k1\n"]
--- error_log
mobispot: 1 keys loaded from redis
--- no_error_log
[error]



=== TEST 2: rotation without reload: SET then PUBLISH; the old key (even for a cached token) stops, the new ones work
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
"SET ms:sso:jwks '$::SET1'"
--- request eval
[("GET /p") x 6]
--- before_request eval
["sleep 0.3", "", "redis SET ms:sso:jwks '$::SET2'\nredis PUBLISH ms:sso:jwks changed\nsleep 0.5", "", "", ""]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(k1 k1 k1 k2 k3 hs)]
--- error_code eval
[200, 200, 401, 200, 200, 401]
--- error_log
mobispot: 2 keys loaded from redis
--- no_error_log
[error]



=== TEST 3: no key set in Redis: tokens are refused, a warning says why
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request
GET /p
--- before_request
sleep 0.3
--- more_headers eval
"Authorization: Bearer $::T{k1}"
--- error_code: 401
--- error_log
mobispot: no key set at "ms:sso:jwks" in redis



=== TEST 4: an invalid document in Redis keeps the keys in use
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
"SET ms:sso:jwks '$::SET1'"
--- request eval
["GET /p", "GET /p"]
--- before_request eval
["sleep 0.3", "redis SET ms:sso:jwks '{\"keys\":1}'\nredis PUBLISH ms:sso:jwks changed\nsleep 0.5"]
--- more_headers eval
["Authorization: Bearer $::T{k1}", "Authorization: Bearer $::T{k1}"]
--- error_code eval
[200, 200]
--- error_log
invalid JWKS at "ms:sso:jwks" in redis



=== TEST 5: a token refused for an unknown kid, twice (the second time from memory), is accepted as soon as a rotation brings its key
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
"SET ms:sso:jwks '$::SET1'"
--- request eval
[("GET /p") x 3]
--- before_request eval
["sleep 0.3", "", "redis SET ms:sso:jwks '$::SET2'\nredis PUBLISH ms:sso:jwks changed\nsleep 0.5"]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(k2 k2 k2)]
--- error_code eval
[401, 401, 200]
--- error_log
refused a moment ago with the same keys
mobispot: 2 keys loaded from redis
--- no_error_log
[error]



=== TEST 6: one connection in subscribe mode carries every channel (the tracker, the keys, revocation, the bookings' deadlines); a key change is read on the data connection and the bus stays up
--- http_config eval
$::HTTP . "    mobispot_sso_revocation on;\n"
--- config eval
$::CONFIG . "    location /api/v1/ { mobispot_api; }\n"
--- redis eval
"SET ms:sso:jwks '$::SET1'"
--- request eval
["GET /p", "GET /p"]
--- before_request eval
["sleep 0.3", "redis SET ms:sso:jwks '$::SET2'\nredis PUBLISH ms:sso:jwks changed\nsleep 0.3"]
--- more_headers eval
["Authorization: Bearer $::T{k1}", "Authorization: Bearer $::T{k2}"]
--- error_code eval
[200, 200]
--- redis_check
CLIENT LIST TYPE pubsub =~ \Aid=\d+ [^\n]* sub=4 [^\n]*\n?\z
--- error_log
mobispot: 2 keys loaded from redis
--- no_error_log
lost the subscriptions
[error]
