# SSO gateway: single sign-out.  Revoked sessions (ms:sso:revoked, a sorted
# set sid -> exp, and PUBLISH ms:sso:revoked "<sid> <exp>") are kept in a
# shared memory zone filled by each worker's subscriber; a revoked session
# is refused at once, at every gateway; a stale feed fails closed.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

sso_keys();

our %T;
my $now = time();
our $EXP = $now + 3600;

sub hs { tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(@_)) }

$T{s1} = hs(sid => 'sess-1');
$T{s2} = hs(sid => 'sess-2', sub => 'bob');
$T{s3} = hs(sid => 'sess-3', sub => 'carol');
$T{nosid} = hs(sid => undef);
$T{longsid} = hs(sid => 'x' x 300);
$T{numsid} = hs(sid => 42);

our $HTTP = <<'_EOC_';
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
    mobispot_sso_revocation on;
    mobispot_sso_revocation_max_stale 2s;
_EOC_

our $CONFIG = <<'_EOC_';
    location /echo { return 200 "sub=$http_x_sub\n"; }
    location /p {
        mobispot_sso on;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_

# Every nginx (every gateway) has its own subscription: what one worker
# shows below holds for each instance.  Test 3 shows two workers sharing
# the zone.

run_tests();

__DATA__

=== TEST 1: sessions revoked before start are loaded; others pass; no sid is refused
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
"ZADD ms:sso:revoked $::EXP sess-1"
--- request eval
["GET /p", "GET /p", "GET /p"]
--- before_request eval
["sleep 0.3", "", ""]
--- more_headers eval
["Authorization: Bearer $::T{s1}", "Authorization: Bearer $::T{s2}", "Authorization: Bearer $::T{nosid}"]
--- error_code eval
[401, 200, 401]
--- response_body_json_subset eval
[{error => {code => "revoked"}}, undef, {error => {code => "malformed"}}]
--- error_log
mobispot: sso token refused (revoked): session signed out
mobispot: sso token refused (malformed): no sid
--- no_error_log
[error]



=== TEST 2: a session revoked while running (PUBLISH) is refused within a second, also when the token was cached
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p"]
--- before_request eval
["sleep 0.3", "", "redis ZADD ms:sso:revoked $::EXP sess-2\nredis PUBLISH ms:sso:revoked \"sess-2 $::EXP\"\nsleep 0.2", ""]
--- more_headers eval
["Authorization: Bearer $::T{s2}", "Authorization: Bearer $::T{s2}", "Authorization: Bearer $::T{s2}", "Authorization: Bearer $::T{s3}"]
--- error_code eval
[200, 200, 401, 200]
--- no_error_log
[error]



=== TEST 3: two workers share the set: every request after the revocation is refused
--- main_config
    worker_processes 2;
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
[("GET /p") x 6]
--- before_request eval
["sleep 0.5", "", "redis PUBLISH ms:sso:revoked \"sess-3 $::EXP\"\nsleep 0.3", "", "", ""]
--- more_headers eval
[("Authorization: Bearer $::T{s3}") x 6]
--- error_code eval
[200, 200, 401, 401, 401, 401]
--- skip_valgrind



=== TEST 4: Redis down: the set is used until max_stale, then 503 (fail closed); back when Redis is back
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
"ZADD ms:sso:revoked $::EXP sess-1"
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p", "GET /p"]
--- before_request eval
["sleep 0.3", "redis_stop", "", "sleep 3", "redis_start\nsleep 2.5"]
--- more_headers eval
["Authorization: Bearer $::T{s2}", "Authorization: Bearer $::T{s2}", "Authorization: Bearer $::T{s1}", "Authorization: Bearer $::T{s2}", "Authorization: Bearer $::T{s2}"]
--- error_code eval
[200, 200, 401, 503, 200]
--- response_headers eval
["", "", "", "Retry-After: 1", ""]
--- response_body_json_subset eval
[undef, undef, {error => {code => "revoked"}}, {error => {code => "sso_unavailable"}}, undef]
--- error_log
mobispot: the revocation feed is stale
--- skip_hup



=== TEST 5: mobispot_sso_revocation needs mobispot_redis
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_sso_revocation on;
--- must_die
--- error_log
"mobispot_sso_revocation" needs "mobispot_redis"



=== TEST 6: a sid that is not a short string cannot be signed out: refused, also from the cache
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p"]
--- before_request eval
["sleep 0.3", "", "", ""]
--- more_headers eval
["Authorization: Bearer $::T{longsid}", "Authorization: Bearer $::T{longsid}", "Authorization: Bearer $::T{numsid}", "Authorization: Bearer $::T{s3}"]
--- error_code eval
[401, 401, 401, 200]
--- no_error_log
[error]
