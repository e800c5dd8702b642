# SSO gateway: the bad-token matrix (RFC 8725).  Every case is refused
# with 401 and a JSON error naming the reason, never a 500; client faults
# are logged at info level, never as [error], and the token is not logged.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

# info: nginx's own debug log would show the request headers
log_level('info');

my $dir = sso_keys();
my $now = time();

sub hs { tok('hs256.secret', 'HS256', @_) }
sub rs { tok('rsa.key', 'RS256', @_) }

my $good = rs('{"typ":"at+jwt","alg":"RS256","kid":"r1"}', claims());
my ($gh, $gp, $gs) = split /\./, $good;
my $other = b64url(claims(sub => 'admin'));
(my $flipped = $gs) =~ s/^(.)/$1 eq 'A' ? 'B' : 'A'/e;
# the same 256 bytes, with the 4 unused bits of the last character set
my $b64 = join '', 'A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_';
my $last = index($b64, substr($gs, -1));
my $stray = substr($gs, 0, -1) . substr($b64, $last | 1, 1);

# [ name, Authorization value (or full header lines), expected code ]
our @BAD = (
    # algorithm
    ['alg none, unsigned', tok('hs256.secret', 'none', '{"typ":"at+jwt","alg":"none"}', claims()), 'malformed'],
    ['alg nOnE, unsigned', tok('hs256.secret', 'none', '{"typ":"at+jwt","alg":"nOnE"}', claims()), 'malformed'],
    ['alg nOnE with a signature', hs('{"typ":"at+jwt","alg":"nOnE"}', claims()), 'bad_signature'],
    ['alg none with a signature', hs('{"typ":"at+jwt","alg":"none"}', claims()), 'bad_signature'],
    ['alg lowercase hs256', hs('{"typ":"at+jwt","alg":"hs256"}', claims()), 'bad_signature'],
    ['HS256 signed with the RSA public PEM, kid r1', tok('rsa.pub', 'HS256', '{"typ":"at+jwt","alg":"HS256","kid":"r1"}', claims()), 'bad_signature'],
    ['HS256 signed with the RSA public PEM, no kid', tok('rsa.pub', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims()), 'bad_signature'],
    ['alg other than the key', tok('rsa.key', 'RS512', '{"typ":"at+jwt","alg":"RS512","kid":"r1"}', claims()), 'bad_signature'],
    ['ES256 header on an RSA kid', tok('ec256.key', 'ES256', '{"typ":"at+jwt","alg":"ES256","kid":"r1"}', claims()), 'bad_signature'],
    ['signed by another key', tok('rsa2.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', claims()), 'bad_signature'],
    ['embedded jwk ignored', tok('rsa2.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1","jwk":{"kty":"RSA"}}', claims()), 'bad_signature'],
    # kid
    ['unknown kid', rs('{"typ":"at+jwt","alg":"RS256","kid":"r9"}', claims()), 'bad_signature'],
    ['kid with ../', rs('{"typ":"at+jwt","alg":"RS256","kid":"../../../../etc/passwd"}', claims()), 'bad_signature'],
    ['kid not a string', rs('{"typ":"at+jwt","alg":"RS256","kid":1}', claims()), 'malformed'],
    ['kid on an HS256 token without kid key', hs('{"typ":"at+jwt","alg":"HS256","kid":"x"}', claims()), 'bad_signature'],
    # exp, nbf, iat
    ['exp missing', hs('{"typ":"at+jwt","alg":"HS256"}', claims(exp => undef)), 'malformed'],
    ['exp past', hs('{"typ":"at+jwt","alg":"HS256"}', claims(exp => $now - 60)), 'expired'],
    ['exp string', hs('{"typ":"at+jwt","alg":"HS256"}', claims(exp => "x" . ($now + 600))) =~ s/^//r, 'malformed'],
    ['exp quoted number', hs('{"typ":"at+jwt","alg":"HS256"}', '{"iss":"https://sso.mobispot.test","aud":"namur","exp":"' . ($now + 600) . '"}'), 'malformed'],
    ['exp float', hs('{"typ":"at+jwt","alg":"HS256"}', claims(exp => ($now + 600) . '.5')), 'malformed'],
    ['exp exponent', hs('{"typ":"at+jwt","alg":"HS256"}', claims(exp => '1e10')), 'malformed'],
    ['exp out of range', hs('{"typ":"at+jwt","alg":"HS256"}', claims(exp => '99999999999999999999')), 'malformed'],
    ['exp negative', hs('{"typ":"at+jwt","alg":"HS256"}', claims(exp => -5)), 'malformed'],
    ['nbf in the future', hs('{"typ":"at+jwt","alg":"HS256"}', claims(nbf => $now + 300)), 'not_yet_valid'],
    ['iat in the future', hs('{"typ":"at+jwt","alg":"HS256"}', claims(iat => $now + 300)), 'not_yet_valid'],
    ['nbf string', hs('{"typ":"at+jwt","alg":"HS256"}', claims(nbf => 'soon')), 'malformed'],
    # iss, aud
    ['wrong iss', hs('{"typ":"at+jwt","alg":"HS256"}', claims(iss => 'https://evil.test')), 'wrong_issuer'],
    ['iss case differs', hs('{"typ":"at+jwt","alg":"HS256"}', claims(iss => 'https://SSO.mobispot.test')), 'wrong_issuer'],
    ['iss missing', hs('{"typ":"at+jwt","alg":"HS256"}', claims(iss => undef)), 'wrong_issuer'],
    ['wrong aud', hs('{"typ":"at+jwt","alg":"HS256"}', claims(aud => 'mons')), 'wrong_audience'],
    ['aud array without this site', hs('{"typ":"at+jwt","alg":"HS256"}', claims(aud => '["mons","liege"]')), 'wrong_audience'],
    ['aud missing', hs('{"typ":"at+jwt","alg":"HS256"}', claims(aud => undef)), 'wrong_audience'],
    # header
    ['unknown crit', hs('{"typ":"at+jwt","alg":"HS256","crit":["exp"],"exp":1}', claims()), 'malformed'],
    ['typ neither at+jwt nor JWT', hs('{"alg":"HS256","typ":"JWE"}', claims()), 'malformed'],
    ['duplicate alg', hs('{"typ":"at+jwt","alg":"HS256","alg":"none"}', claims()), 'malformed'],
    ['header not an object', hs('["HS256"]', claims()), 'malformed'],
    ['header not JSON', hs('{alg:HS256}', claims()), 'malformed'],
    # payload
    ['payload not an object', hs('{"typ":"at+jwt","alg":"HS256"}', '"alice"'), 'malformed'],
    ['payload not JSON', hs('{"typ":"at+jwt","alg":"HS256"}', '{"exp":'), 'malformed'],
    ['duplicate exp', hs('{"typ":"at+jwt","alg":"HS256"}', '{"iss":"https://sso.mobispot.test","aud":"namur","exp":' . ($now - 60) . ',"exp":' . ($now + 600) . '}'), 'malformed'],
    ['duplicate sub', hs('{"typ":"at+jwt","alg":"HS256"}', '{"iss":"https://sso.mobispot.test","aud":"namur","sub":"alice","sub":"admin","exp":' . ($now + 600) . '}'), 'malformed'],
    ['NUL in sub', hs('{"typ":"at+jwt","alg":"HS256"}', claims(sub => 'alice\u0000admin')), 'malformed'],
    ['sub not a string', hs('{"typ":"at+jwt","alg":"HS256"}', claims(sub => 7)), 'malformed'],
    ['comment in the payload', hs('{"typ":"at+jwt","alg":"HS256"}', '/* c */' . claims()), 'malformed'],
    ['line comment in the payload', hs('{"typ":"at+jwt","alg":"HS256"}', claims() =~ s/\}$/\/\/ c\n}/r), 'malformed'],
    ['comment in the header', hs('{"typ":"at+jwt","alg":"HS256" /* c */}', claims()), 'malformed'],
    ['overlong UTF-8 in sub', hs('{"typ":"at+jwt","alg":"HS256"}', claims(sub => "a\xc0\xafb")), 'malformed'],
    ['encoded surrogate in sub', hs('{"typ":"at+jwt","alg":"HS256"}', claims(sub => "a\xed\xa0\x80b")), 'malformed'],
    ['lead byte 0xf5 in sub', hs('{"typ":"at+jwt","alg":"HS256"}', claims(sub => "a\xf5\x80\x80\x80")), 'malformed'],
    ['lone surrogate escape in sub', hs('{"typ":"at+jwt","alg":"HS256"}', claims(sub => 'a\ud800b')), 'malformed'],
    # signature and shape
    ['truncated signature', substr($good, 0, -10), 'bad_signature'],
    ['altered signature', "$gh.$gp.$flipped", 'bad_signature'],
    ['altered payload', "$gh.$other.$gs", 'bad_signature'],
    ['signature with stray bits', "$gh.$gp.$stray", 'malformed'],
    ['no signature', "$gh.$gp.", 'malformed'],
    ['two segments', "$gh.$gp", 'malformed'],
    ['four segments', "$good.$gs", 'malformed'],
    ['standard base64 characters', "$gh.$gp.$gs+/", 'malformed'],
    ['padding', "$gh=.$gp.$gs", 'malformed'],
    ['percent-encoded', "$gh%2E$gp.$gs", 'malformed'],
    ['oversized token', "$gh.$gp." . ('A' x 5000), 'malformed'],
    ['empty Bearer', '', 'malformed'],
);

our @REQ = map { "GET /p" } @BAD;
our @HDR = map { "Authorization: Bearer $_->[1]" } @BAD;
our @JSON = map { { error => { code => $_->[2] } } } @BAD;
our @TOKENS = grep { length > 20 } map { $_->[1] } @BAD;

our $HTTP = <<'_EOC_';
    large_client_header_buffers 4 32k;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa.pub alg=RS256 kid=r1;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
    mobispot_jwt_max_size 4k;
_EOC_

our $CONFIG = <<'_EOC_';
    location /ok { return 204; }
    location /p {
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: the good token passes (the matrix below alters it)
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request
GET /p
--- more_headers eval
"Authorization: Bearer " . MobispotSSO::tok('rsa.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', MobispotSSO::claims())
--- error_code: 204



=== TEST 2: the bad-token matrix: 401, the reason as the JSON error code, WWW-Authenticate invalid_token
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
[@::REQ]
--- more_headers eval
[@::HDR]
--- error_code: 401
--- response_body_json_subset eval
[@::JSON]
--- response_headers_like
WWW-Authenticate: ^Bearer realm="mobispot", error="invalid_token", error_description="[^"\\]+"$
Content-Type: ^application/json$
Cache-Control: ^no-store$
--- error_log
mobispot: sso token refused (bad_signature): alg none refused
mobispot: sso token refused (bad_signature): unknown kid
mobispot: sso token refused (bad_signature): signature does not verify
mobispot: sso token refused (malformed): token too large
mobispot: sso token refused (malformed): duplicate JSON member
--- no_error_log eval
["[error]", "[alert]", "[crit]", @::TOKENS]



=== TEST 3: no Bearer token: Authorization with another scheme, a bare "Bearer" scheme word, nothing
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p"]
--- more_headers eval
["Authorization: X", "Authorization: Basic YTpi", "Authorization: BearerX abc", ""]
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="mobispot"
--- response_body_json
{"error":{"code":"missing","message":"no token"}}
--- no_error_log
[error]



=== TEST 4: a key for another algorithm never serves: an HS256 token cannot use the RS256 key even without kid
--- http_config
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa.pub alg=RS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
--- config eval: $::CONFIG
--- request eval
["GET /p", "GET /p"]
--- more_headers eval
["Authorization: Bearer " . MobispotSSO::tok('rsa.pub', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', MobispotSSO::claims()),
 "Authorization: Bearer " . MobispotSSO::tok('rsa.key', 'RS256', '{"typ":"at+jwt","alg":"RS256"}', MobispotSSO::claims())]
--- error_code eval
[401, 204]
--- error_log
alg does not match a configured key
--- no_error_log
[error]



=== TEST 5: auth_delay holds the 401 of a refused token: a client that gives up first is gone (499), another location answers at once
--- http_config eval: $::HTTP
--- config
    location /ok { return 204; }
    location /slow {
        auth_delay 3s;
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /p {
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /slow", "GET /p"]
--- more_headers eval
["Authorization: Bearer " . MobispotSSO::tok('rsa2.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', MobispotSSO::claims()),
 "Authorization: Bearer " . MobispotSSO::tok('rsa2.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', MobispotSSO::claims())]
--- timeout: 0.8
--- abort
--- error_code eval
[undef, 401]
--- response_body_json_subset eval
[undef, {error => {code => "bad_signature"}}]
--- error_log
mobispot: delaying the refusal for 3000 ms (auth_delay)
client prematurely closed connection
--- no_error_log
[alert]
[crit]



=== TEST 6: after auth_delay the refusal is the gateway's own 401 (JSON, WWW-Authenticate), for a missing and for a refused token
--- http_config eval: $::HTTP
--- config
    location /ok { return 204; }
    location /slow {
        auth_delay 200ms;
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /slow", "GET /slow"]
--- more_headers eval
["", "Authorization: Bearer " . MobispotSSO::tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', MobispotSSO::claims(exp => time() - 60))]
--- error_code: 401
--- response_headers_like eval
["WWW-Authenticate: ^Bearer realm=\"mobispot\"\$", "WWW-Authenticate: ^Bearer realm=\"mobispot\", error=\"invalid_token\""]
--- response_body_json_subset eval
[{error => {code => "missing"}}, {error => {code => "expired"}}]
--- error_log
mobispot: delaying the refusal for 200 ms (auth_delay)
--- no_error_log
[error]
[alert]



=== TEST 7: auth_delay leaves a good token and a browser's sign-in redirect alone
--- http_config eval: $::HTTP
--- config
    location /ok { return 204; }
    location /slow {
        auth_delay 3s;
        mobispot_sso on;
        mobispot_sso_login_url https://sso.mobispot.test/login;
        mobispot_sso_public_url https://cw-namur.example/;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /slow", "GET /slow"]
--- more_headers eval
["Authorization: Bearer " . MobispotSSO::tok('rsa.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', MobispotSSO::claims()),
 "Accept: text/html"]
--- error_code eval
[204, 302]
--- no_error_log
auth_delay
[error]



=== TEST 8: a forged token repeated is refused from the worker's memory of refused tokens, without a second signature check
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p", "GET /p", "GET /p"]
--- more_headers eval
[("Authorization: Bearer " . MobispotSSO::tok('rsa2.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', MobispotSSO::claims(sub => 'forger'))) x 2,
 "Authorization: Bearer " . MobispotSSO::tok('rsa.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', MobispotSSO::claims(sub => 'forger'))]
--- error_code eval
[401, 401, 204]
--- response_body_json_subset eval
[{error => {code => "bad_signature"}}, {error => {code => "bad_signature"}}, undef]
--- error_log
mobispot: sso token refused (bad_signature): signature does not verify
mobispot: sso token refused (bad_signature): refused a moment ago with the same keys
--- no_error_log
[error]
