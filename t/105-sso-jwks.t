# SSO gateway: keys from a JWKS file (mobispot_jwt_jwks): RSA and EC keys,
# each pinned to the algorithm of its "alg" or of the directive.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

my $dir = sso_keys();

sub write_file {
    my ($name, $text) = @_;
    open my $fh, '>', "$dir/$name" or die "$dir/$name: $!";
    print $fh $text;
    close $fh;
}

write_file('set.jwks', jwks('rsa.pub:r1:RS256', 'rsa2.pub:r2:RS256', 'ec256.pub:e1:ES256', 'ec384.pub:e384:ES384'));
write_file('noalg.jwks', jwks('rsa.pub:r1'));
write_file('bad.jwks', '{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256","kid":"h"}]}');
write_file('dup.jwks', '{"keys":[],"keys":[]}');
write_file('wrongcurve.jwks', jwks('ec384.pub:x:ES256'));

our %T;
$T{r1} = tok('rsa.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', claims(sub => 'r1'));
$T{r2} = tok('rsa2.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r2"}', claims(sub => 'r2'));
$T{e1} = tok('ec256.key', 'ES256', '{"typ":"at+jwt","alg":"ES256","kid":"e1"}', claims(sub => 'e1'));
$T{e384} = tok('ec384.key', 'ES384', '{"typ":"at+jwt","alg":"ES384","kid":"e384"}', claims(sub => 'e384'));
$T{r1_rs512} = tok('rsa.key', 'RS512', '{"typ":"at+jwt","alg":"RS512","kid":"r1"}', claims());
$T{r1_by_r2} = tok('rsa2.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', claims());
$T{hs_pub} = tok("$dir/rsa.pub", 'HS256', '{"typ":"at+jwt","alg":"HS256","kid":"r1"}', claims());

our $CONFIG = <<'_EOC_';
    location /echo { return 200 "sub=$http_x_sub\n"; }
    location /p {
        mobispot_sso on; mobispot_jwt_issuer https://sso.mobispot.test; mobispot_jwt_audience namur;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a JWKS file with RSA and EC keys: each kid verifies with its own key and algorithm
--- http_config
    mobispot_jwt_jwks $TEST_NGINX_SSO_KEYS/set.jwks;
--- config eval: $::CONFIG
--- request eval
[("GET /p") x 7]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(r1 r2 e1 e384 r1_rs512 r1_by_r2 hs_pub)]
--- error_code eval
[200, 200, 200, 200, 401, 401, 401]
--- response_body eval
["sub=r1\n", "sub=r2\n", "sub=e1\n", "sub=e384\n", undef, undef, undef]
--- no_error_log
[error]



=== TEST 2: keys without "alg" take the directive's
--- http_config
    mobispot_jwt_jwks $TEST_NGINX_SSO_KEYS/noalg.jwks alg=RS256;
--- config eval: $::CONFIG
--- request eval
["GET /p", "GET /p"]
--- more_headers eval
["Authorization: Bearer $::T{r1}", "Authorization: Bearer $::T{r1_rs512}"]
--- error_code eval
[200, 401]



=== TEST 3: keys without any algorithm are not used
--- http_config
    mobispot_jwt_jwks $TEST_NGINX_SSO_KEYS/noalg.jwks;
--- must_die
--- error_log
has no "alg" and none is configured: skipped
no usable key in the JWKS



=== TEST 4: symmetric keys are not taken from a JWKS
--- http_config
    mobispot_jwt_jwks $TEST_NGINX_SSO_KEYS/bad.jwks;
--- must_die
--- error_log
is not RS256/384/512 or ES256/384/512: skipped



=== TEST 5: duplicate members make the JWKS invalid
--- http_config
    mobispot_jwt_jwks $TEST_NGINX_SSO_KEYS/dup.jwks;
--- must_die
--- error_log
invalid JWKS



=== TEST 6: an EC key on another curve than its alg is skipped
--- http_config
    mobispot_jwt_jwks $TEST_NGINX_SSO_KEYS/wrongcurve.jwks;
--- must_die
--- error_log
an EC key on another curve than the algorithm's: skipped
