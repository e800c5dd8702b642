# tools/mobispot-jwt: tokens it mints pass the gateway, and its inspect
# verdict agrees with the gateway's.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

my $dir = sso_keys();
my $root = $ENV{TEST_NGINX_ROOT};

system("make -s -C $root/tools >/dev/null") == 0 or die "cannot build tools/mobispot-jwt\n";
our $CLI = "$root/tools/build/mobispot-jwt";

sub cli { my $out = `$CLI @_`; chomp $out; return $out }

our %T;
my $claims = q('{"iss":"https://sso.mobispot.test","aud":"namur","sub":"cli","sid":"s-cli","pass":"cowallonia"}');
$T{rs} = cli("mint --key $dir/rsa.key --alg RS256 --kid r1 $claims");
$T{es} = cli("mint --key $dir/ec256.key --alg ES256 --kid e1 $claims");
$T{hs} = cli("mint --key $dir/hs256.secret --alg HS256 $claims");
$T{old} = cli("mint --key $dir/hs256.secret --alg HS256 --ttl -60 $claims");

our $VERDICT_OK = cli("inspect --key $dir/rsa.pub --alg RS256 --kid r1 --iss https://sso.mobispot.test --aud namur $T{rs}");
our $VERDICT_OLD = cli("inspect --key $dir/hs256.secret --alg HS256 $T{old}");
our $VERDICT_CONFUSED = cli("inspect --key $dir/rsa.pub --alg HS256 $T{hs}");

run_tests();

__DATA__

=== TEST 1: minted RS256, ES256 and HS256 tokens pass; an expired one does not
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa.pub alg=RS256 kid=r1;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/ec256.pub alg=ES256 kid=e1;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
--- config
    location /echo { return 200 "sub=$http_x_sub\n"; }
    location /p {
        mobispot_sso on;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- request eval
[("GET /p") x 4]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(rs es hs old)]
--- error_code eval
[200, 200, 200, 401]
--- response_body eval
["sub=cli\n", "sub=cli\n", "sub=cli\n", undef]



=== TEST 2: inspect verdicts
--- config
    location /v { return 200 "$arg_a|$arg_b|$arg_c\n"; }
--- request eval
"GET /v?a=" . ($::VERDICT_OK =~ /verdict: ok$/m ? 1 : 0)
  . "&b=" . ($::VERDICT_OLD =~ /verdict: expired/m ? 1 : 0)
  . "&c=" . ($::VERDICT_CONFUSED !~ /verdict: ok/ ? 1 : 0)
--- response_body
1|1|1
