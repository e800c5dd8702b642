# The revocation zone is bounded and recovers by itself.  Every accepted
# token lives at most mobispot_jwt_max_lifetime (exp - iat), so a sign-out
# is remembered until now + max_lifetime + leeway at most, whatever exp it
# came with (or none).  A flood of sign-outs that fills the zone makes
# every token refused (503, fail closed), shows in GET health, in the
# metrics (mobispot_sso_revocation_full) and in the error log, and ends
# without a restart once the sign-outs it could not store would have
# expired.
#
# The clock: the block's tokens are made when the file starts, valid from
# iat = start + 10 (accepted now thanks to a 10 s leeway) for 1 s, so they
# are still accepted ~20 s later, after the zone has recovered (1 s + 10 s
# after the flood).

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

sso_keys();

my $now = time();
our %T;
$T{ok} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}',
             claims(iat => $now + 10, exp => $now + 11, sid => 'sess-ok'));
$T{long} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}',
               claims(iat => $now, exp => $now + 3600));
$T{noiat} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}',
                claims(iat => undef, exp => $now + 1));

our $FLOOD = q{redis EVAL "for i=1,3000 do redis.call('PUBLISH','ms:sso:revoked','flood-'..i) end return 1" 0};

our $HTTP = <<'_EOC_';
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
    mobispot_jwt_leeway 10s;
    mobispot_jwt_max_lifetime 1s;
    mobispot_sso_revocation on;
    mobispot_sso_revocation_zone_size 32k;
_EOC_

our $CONFIG = <<'_EOC_';
    location /api/ { mobispot_api; }
    location = /metrics { mobispot_metrics; }
    location /p {
        mobispot_sso on;
        try_files /none =204;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a flood of sign-outs fills the zone: every token refused and health says so; once the lost ones would have expired, tokens pass again without a restart, and the entries are gone
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p", "GET /p", "GET /metrics", "GET /api/health", "GET /p", "GET /metrics",
 "GET /api/health"]
--- more_headers eval
[("Authorization: Bearer $::T{ok}") x 2, "", "", "Authorization: Bearer $::T{ok}", "", ""]
--- before_request eval
["sleep 1", "$::FLOOD\nsleep 0.5", "sleep 1.1", "", "sleep 11", "sleep 1.1", ""]
--- error_code eval
[204, 503, 200, 200, 204, 200, 200]
--- response_body_json_subset eval
[undef, {error => {code => "sso_unavailable"}}, undef,
 {status => "degraded", sso_revocation => {state => "full"}},
 undef, undef,
 {status => "ok", sso_revocation => {state => "ok", sessions => 0}}]
--- response_body_like eval
["^", "^", "\nmobispot_sso_revocation_full 1\n.*\nmobispot_sso_revoked_sessions [1-9]\\d*\n",
 "^", "^", "\nmobispot_sso_revocation_full 0\n.*\nmobispot_sso_revoked_sessions 0\n", "^"]
--- error_log
mobispot: the "mobispot_sso_revoked" zone is full
mobispot: the revocation zone is full, tokens refused for
mobispot: the "mobispot_sso_revoked" zone recovered
--- no_error_log
[alert]
[crit]



=== TEST 2: a token that lives longer than mobispot_jwt_max_lifetime, or has no iat, is refused
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p", "GET /p"]
--- more_headers eval
["Authorization: Bearer $::T{long}", "Authorization: Bearer $::T{noiat}"]
--- before_request
sleep 1
--- error_code eval
[401, 401]
--- response_body_json_subset eval
[{error => {code => "malformed"}}, {error => {code => "malformed"}}]
--- error_log
the token lives longer than the maximum lifetime
iat is missing (the token's lifetime is bounded)



=== TEST 3: mobispot_jwt_max_lifetime is bounded
--- http_config eval
$::HTTP =~ s/max_lifetime 1s/max_lifetime 31d/r
--- config eval: $::CONFIG
--- must_die
--- error_log
"mobispot_jwt_max_lifetime" directive: "31d" must be between 1s and 30d
