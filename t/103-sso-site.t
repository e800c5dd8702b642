# SSO gateway: site entitlement.  The site's networks and their passports
# are read from Redis (ms:{site:<id>}:info networks, ms:{networks}:passport)
# by the worker, cached for mobispot_site_cache_ttl; a token must cover one
# of the site's networks with its passport ("pass") and within its limits
# ("nets"); otherwise 403.  A message on ms:sso:sites refreshes the copy.
# Redis down: stale copy within the limit, then
# 503 (fail closed).

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

sso_keys();

our %T;
sub hs { tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(@_)) }

$T{cow} = hs(pass => 'cowallonia-pass');
$T{swc} = hs(pass => 'swc-pass', sub => 'bob');
$T{other} = hs(pass => 'brussels-pass');
$T{none} = hs(pass => undef);
$T{company_in} = hs(pass => undef, nets => '["swc"]', sub => 'acme');
$T{company_out} = hs(pass => undef, nets => '["brussels"]');
$T{limited_pass} = hs(pass => 'cowallonia-pass', nets => '["swc"]');
$T{zone_in} = hs(pass => 'cowallonia-pass', zones => '["wallonia"]', sub => 'zoned');
$T{zone_out} = hs(pass => 'cowallonia-pass', zones => '["brussels"]');

our $HTTP = <<'_EOC_';
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
    mobispot_site namur;
_EOC_

our $CONFIG = <<'_EOC_';
    location /echo { return 200 "sub=$http_x_sub status=$http_x_status\n"; }
    location /p {
        mobispot_sso on;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_set_header X-Status $mobispot_sso_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /o {
        mobispot_sso optional;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_set_header X-Status $mobispot_sso_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: passports and company limits against the site's networks
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis
HSET ms:{site:namur}:info networks cowallonia,swc
HSET ms:{networks}:passport cowallonia cowallonia-pass swc swc-pass brussels brussels-pass
--- request eval
[("GET /p") x 7]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(cow swc other none company_in company_out limited_pass)]
--- error_code eval
[200, 200, 403, 403, 200, 403, 403]
--- response_body_json_subset eval
[undef, undef,
 {error => {code => "not_entitled"}}, {error => {code => "not_entitled"}},
 undef,
 {error => {code => "not_entitled"}}, {error => {code => "not_entitled"}}]
--- response_body_like eval
["sub=alice status=ok", "sub=bob status=ok", ".", ".", "sub=acme status=ok", ".", "."]
--- error_log
mobispot: sso token refused (not_entitled): no network of the site is covered by the token, site "namur"
mobispot: sso token refused (not_entitled): token has neither pass nor nets
--- no_error_log
[error]



=== TEST 2: a browser that is not entitled gets 403, not a sign-in redirect; optional mode passes without identity
--- http_config eval
$::HTTP . "    mobispot_sso_login_url https://sso.mobispot.test/login;\n"
--- config eval: $::CONFIG
--- redis
HSET ms:{site:namur}:info networks cowallonia
HSET ms:{networks}:passport cowallonia cowallonia-pass
--- request eval
["GET /p", "GET /o", "GET /o"]
--- more_headers eval
["Accept: text/html\nAuthorization: Bearer $::T{other}",
 "Authorization: Bearer $::T{other}",
 "Authorization: Bearer $::T{cow}"]
--- error_code eval
[403, 200, 200]
--- response_body eval
[undef, "sub= status=not_entitled\n", "sub=alice status=ok\n"]
--- response_headers eval
["!Location", "", ""]
--- no_error_log
[error]



=== TEST 3: a site without networks in Redis: nobody is entitled, a warning says why
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request
GET /p
--- more_headers eval
"Authorization: Bearer $::T{cow}"
--- error_code: 403
--- error_log
mobispot: site "namur" has no networks in redis
--- no_error_log
[error]



=== TEST 4: Redis down and no copy of the site yet: 503 with Retry-After (fail closed)
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request
GET /p
--- before_request
redis_stop
--- more_headers eval
"Authorization: Bearer $::T{cow}"
--- error_code: 503
--- response_headers
Retry-After: 1
--- response_body_json
{"error":{"code":"sso_unavailable","message":"the sign-in service is unavailable"}}
--- error_log
mobispot: networks of site "namur" unknown and redis unavailable: request refused



=== TEST 5: Redis down: the worker's copy serves until TTL + max_stale, then 503
--- http_config eval
$::HTTP . "    mobispot_site_cache_ttl 1s;\n    mobispot_site_max_stale 2s;\n"
--- config eval: $::CONFIG
--- redis
HSET ms:{site:namur}:info networks cowallonia
HSET ms:{networks}:passport cowallonia cowallonia-pass
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p"]
--- before_request eval
["", "redis_stop", "sleep 1.5", "sleep 2"]
--- more_headers eval
["Authorization: Bearer $::T{cow}", "Authorization: Bearer $::T{cow}",
 "Authorization: Bearer $::T{cow}", "Authorization: Bearer $::T{cow}"]
--- error_code eval
[200, 200, 200, 503]
--- skip_hup



=== TEST 6: a change of the site's networks is picked up after the TTL
(the first request waits for the worker's subscriptions: a subscription
made after it would mark the site's networks to be read again at once)
--- http_config eval
$::HTTP . "    mobispot_site_cache_ttl 2s;\n"
--- config eval: $::CONFIG
--- redis
HSET ms:{site:namur}:info networks cowallonia
HSET ms:{networks}:passport cowallonia cowallonia-pass swc swc-pass
--- request eval
["GET /p", "GET /p", "GET /p"]
--- before_request eval
["sleep 0.5", "redis HSET ms:{site:namur}:info networks cowallonia,swc", "sleep 2.2"]
--- more_headers eval
["Authorization: Bearer $::T{swc}", "Authorization: Bearer $::T{swc}", "Authorization: Bearer $::T{swc}"]
--- error_code eval
[403, 403, 200]
--- no_error_log
[error]



=== TEST 7: mobispot_site with mobispot_sso needs mobispot_redis
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
    mobispot_site namur;
--- config
    location / { mobispot_sso on; }
--- must_die
--- error_log
"mobispot_site" with "mobispot_sso" needs "mobispot_redis"



=== TEST 8: a change published on ms:sso:sites is picked up at once, whatever the TTL
--- http_config eval
$::HTTP . "    mobispot_site_cache_ttl 1h;\n"
--- config eval: $::CONFIG
--- redis
HSET ms:{site:namur}:info networks cowallonia
HSET ms:{networks}:passport cowallonia cowallonia-pass swc swc-pass
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p"]
--- before_request eval
["sleep 0.3", "redis HSET ms:{site:namur}:info networks cowallonia,swc", "redis PUBLISH ms:sso:sites mons\nsleep 0.2", "redis PUBLISH ms:sso:sites namur\nsleep 0.2"]
--- more_headers eval
[("Authorization: Bearer $::T{swc}") x 4]
--- error_code eval
[403, 403, 403, 200]
--- no_error_log
[error]



=== TEST 9: zone-limited company tokens: the site's zone (ms:{site:<id>}:info zone) must be in the token's zones
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis
HSET ms:{site:namur}:info networks cowallonia zone wallonia
HSET ms:{networks}:passport cowallonia cowallonia-pass
--- request eval
["GET /p", "GET /p", "GET /p"]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(zone_in zone_out cow)]
--- error_code eval
[200, 403, 200]
--- error_log
the site's zone is outside the token's zones
--- no_error_log
[error]



=== TEST 10: a zone-limited token at a site without a zone is refused (fail closed)
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis
HSET ms:{site:namur}:info networks cowallonia
HSET ms:{networks}:passport cowallonia cowallonia-pass
--- request eval
["GET /p", "GET /p"]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(zone_in cow)]
--- error_code eval
[403, 200]
--- error_log
the site has no zone and the token is zone-limited



=== TEST 11: a site listing one network many times, with a long passport (a writer other than the admin API): the worker's copy is sized per listing, the token is entitled, no overrun (valgrind mode checks every byte)
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
"HSET ms:{site:namur}:info networks " . CORE::join(',', ('cowallonia') x 16) . "\n"
. "HSET ms:{networks}:passport cowallonia " . ('P' x 4000) . " swc swc-pass\n"
--- request eval
["GET /p", "GET /p"]
--- more_headers eval
["Authorization: Bearer " . ::hs(pass => 'P' x 4000),
 "Authorization: Bearer $::T{swc}"]
--- error_code eval
[200, 403]
--- response_body_like eval
["sub=alice status=ok", "not_entitled"]
--- no_error_log
[error]
[alert]
