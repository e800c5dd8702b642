# The site gateway's side of the module's own sign-in: with
# mobispot_sso_authorize_url, a browser without a usable token is sent to
# the issuer's authorize (code, PKCE S256, form_post) with a state cookie
# per state; mobispot_sso_callback takes the issuer's form_post, finds the
# state cookie, redeems the code once from Redis (GETDEL), checks its record
# and verifies its token as the location's verifier does, sets the token
# cookie and answers 303 to return_to.  The code records are written into
# Redis here as docs/sso.md's contract says the issuer writes them.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;
use Digest::SHA qw(sha256_hex);

sso_keys();

our $PORT = $ENV{TEST_NGINX_SERVER_PORT};
our $ORIGIN = "http://localhost:$PORT";
our $REDIRECT = "$ORIGIN/sso/callback";
our $ISS_Q = 'https%3A%2F%2Fsso.mobispot.test';

# RFC 7636 appendix B: the verifier and its challenge
our $V = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
our $CH = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
our $S = 'st-' . ('A' x 40);
our $S2 = 'st-' . ('B' x 40);

sub hs { tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(@_)) }

our %T = (
    ok      => hs(),
    liege   => hs(aud => 'liege'),
    expired => hs(exp => time() - 100),
    revoked => hs(sid => 'sess-gone'),
    idtoken => tok('hs256.secret', 'HS256', '{"typ":"JWT","alg":"HS256"}', claims()),
    forged  => tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims()) . 'x',
    other   => hs(pass => 'brussels-pass'),
);

sub code { my ($n) = @_; return sprintf('code%02d', $n) . ('c' x 37) }
sub key { my ($code) = @_; return 'ms:{code:' . sha256_hex($code) . '}' }

# a code's record as the issuer's authorize writes it (docs/sso.md)
sub record {
    my (%o) = @_;
    my %r = (client => 'namur-gw', redirect_uri => $REDIRECT, challenge => $CH,
             sid => 'sess-1', sub => 'alice', scope => 'openid',
             auth_time => time() - 5, token => $T{ok}, %o);
    return '{' . join(',', map {
        my $v = $r{$_};
        "\"$_\":" . ($v =~ /^[0-9]+$/ ? $v : "\"$v\"")
    } grep { defined $r{$_} } sort keys %r) . '}';
}

sub seed { my ($n, %o) = @_; return ['SET', key(code($n)), record(%o), 'PX', '60000'] }

# the state cookie as the redirect writes it: verifier "." base64url(return_to)
sub state_cookie {
    my ($state, $back) = @_;
    return "__Host-mobispot_state_$state=$V." . b64url($back);
}

sub form {
    my ($n, $state) = @_;
    return 'code=' . code($n) . '&state=' . ($state // $S) . "&iss=$ISS_Q";
}

our $FORM_CT = 'Content-Type: application/x-www-form-urlencoded';
our $COOKIE = 'Cookie: ' . state_cookie($S, "$ORIGIN/p/x?a=1");

our $HTTP = <<'_EOC_';
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
    mobispot_sso_token cookie=ms_sso;
    mobispot_sso_authorize_url https://sso.mobispot.test/sso/authorize;
    mobispot_sso_client_id namur-gw;
    mobispot_sso_redirect_uri http://localhost:$TEST_NGINX_SERVER_PORT/sso/callback;
_EOC_

our $CONFIG = <<'_EOC_';
    location = /sso/callback {
        mobispot_sso on;
        mobispot_sso_callback;
    }
    location /p {
        mobispot_sso on;
        try_files /none @in;
    }
    location @in { return 200 "in\n"; }
_EOC_

run_tests();

__DATA__

=== TEST 1: a browser without a token: 302 to authorize (code, S256, form_post) with a state cookie of its own; an API client still gets 401
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p/x?a=1", "GET /p/x?a=1", "GET /p/y"]
--- more_headers eval
["Accept: text/html", "", "Accept: text/html\nCookie: ms_sso=$::T{expired}"]
--- error_code eval
[302, 401, 302]
--- response_headers_like eval
["Location: ^https://sso\\.mobispot\\.test/sso/authorize\\?response_type=code&client_id=namur-gw&redirect_uri=http%3A%2F%2Flocalhost%3A$::PORT%2Fsso%2Fcallback&scope=openid&state=[A-Za-z0-9_-]{43}&code_challenge=[A-Za-z0-9_-]{43}&code_challenge_method=S256&response_mode=form_post\$\nSet-Cookie: ^__Host-mobispot_state_[A-Za-z0-9_-]{43}=[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]+; Path=/; Max-Age=600; Secure; HttpOnly; SameSite=None\$\nCache-Control: ^no-store\$",
 "WWW-Authenticate: ^Bearer",
 "Location: ^https://sso\\.mobispot\\.test/sso/authorize\\?"]
--- no_error_log
[error]



=== TEST 2: the callback: the code redeemed once (GETDEL), the token cookie set for the token's life, the state cookie cleared, 303 to return_to; the same code again is refused
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
[::seed(1)]
--- request eval
["POST /sso/callback\n" . ::form(1), "POST /sso/callback\n" . ::form(1)]
--- more_headers eval
"$::FORM_CT\n$::COOKIE"
--- error_code eval
[303, 400]
--- response_headers_like eval
["Location: ^\Q$::ORIGIN\E/p/x\\?a=1\$\nSet-Cookie: ^ms_sso=\Q$::T{ok}\E; Path=/; Max-Age=3[56][0-9][0-9]; Secure; HttpOnly; SameSite=Lax, __Host-mobispot_state_$::S=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=None\$\nCache-Control: no-store",
 "Content-Type: ^text/html; charset=utf-8\$"]
--- response_body_like eval
[".*", "has expired or was used already"]
--- redis_check eval
"EXISTS " . ::key(::code(1)) . " => 0"
--- error_log
mobispot: sso callback refused (400): the code is unknown, expired or used already
--- no_error_log
[error]



=== TEST 3: the protected location takes the cookie the callback set
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request
GET /p/z
--- more_headers eval
"Accept: text/html\nCookie: ms_sso=$::T{ok}"
--- error_code: 200
--- response_body
in



=== TEST 4: refused before Redis (the code stays usable): wrong methods, content types, malformed forms, missing or doubled fields, a wrong iss, no state cookie
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
[::seed(1)]
--- request eval
["GET /sso/callback", "PUT /sso/callback\n" . ::form(1), "HEAD /sso/callback",
 "POST /sso/callback\n" . ::form(1), "POST /sso/callback\n" . ::form(1),
 "POST /sso/callback\n" . ::form(1), "POST /sso/callback\n" . ::form(1),
 "POST /sso/callback\n" . ::form(1) . '&x=%zz',
 "POST /sso/callback\n" . ::form(1) . '&x=a%00b',
 "POST /sso/callback\n" . ::form(1) . '&x=%ff%fe',
 "POST /sso/callback\n" . ::form(1) . "&code=" . ::code(2),
 "POST /sso/callback\n" . ::form(1) . "&state=$::S",
 "POST /sso/callback\nstate=$::S&iss=$::ISS_Q",
 "POST /sso/callback\ncode=" . ::code(1) . "&iss=$::ISS_Q",
 "POST /sso/callback\ncode=" . ::code(1) . "&state=$::S",
 "POST /sso/callback\ncode=" . ::code(1) . "&state=$::S&iss=https%3A%2F%2Fevil.example",
 "POST /sso/callback\ncode=short&state=$::S&iss=$::ISS_Q",
 "POST /sso/callback\n" . ::form(1, 'short'),
 "POST /sso/callback\n" . ::form(1),
 "POST /sso/callback\n" . ::form(1, $::S2),
 "POST /sso/callback\n" . ::form(1),
 "POST /sso/callback\n" . ::form(1) . '&pad=' . ('x' x 70000)]
--- more_headers eval
["", "$::FORM_CT\n$::COOKIE", "",
 "Content-Type: text/plain\n$::COOKIE",
 "Content-Type: multipart/form-data; boundary=x\n$::COOKIE",
 "Content-Type: application/x-www-form-urlencodedx\n$::COOKIE",
 $::COOKIE,
 ("$::FORM_CT\n$::COOKIE") x 11,
 $::FORM_CT,
 "$::FORM_CT\n$::COOKIE",
 "$::FORM_CT\nCookie: __Host-mobispot_state_$::S=$::V.%%%",
 "$::FORM_CT\n$::COOKIE"]
--- error_code eval
[405, 405, 405, 415, 415, 415, 415, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400,
 403, 403, 403, 413]
--- response_headers eval
["Allow: POST", "Allow: POST", "Allow: POST", (undef) x 19]
--- response_body_like eval
["POST", "POST", "", "form only", "form only", "form only", "form only",
 ("not a well-formed form") x 3, "no usable code", "no usable state",
 "no usable code", "no usable state", ("sign-in service") x 2, "no usable code",
 "no usable state", ("not started in this browser") x 3, "too large"]
--- redis_check eval
"EXISTS " . ::key(::code(1)) . " => 1"
--- error_log
mobispot: sso callback refused (400): a malformed form
mobispot: sso callback refused (400): iss missing or another issuer's
mobispot: sso callback refused (403): no state cookie for the state
--- no_error_log
[error]



=== TEST 5: the issuer's error answer: a page naming its plain code, 403 for access_denied; nothing else of the request shown
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["POST /sso/callback\nerror=access_denied&state=$::S",
 "POST /sso/callback\nerror=login_required&error_description=no",
 "POST /sso/callback\nerror=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=$::S",
 "POST /sso/callback\nerror=a&error=b"]
--- more_headers eval
"$::FORM_CT\n$::COOKIE"
--- error_code eval
[403, 400, 400, 400]
--- response_body_like eval
["refused. \\(<code>access_denied</code>\\)", "did not succeed. \\(<code>login_required</code>\\)",
 "^(?!.*script).*<code>unknown</code>", "did not succeed.</p>"]
--- response_headers
Content-Type: text/html; charset=utf-8
Cache-Control: no-store
--- error_log
mobispot: sso callback: the issuer answered "access_denied"



=== TEST 6: refused after the GETDEL (the code is spent): another client, another redirect URI, a wrong verifier, no token, a record that is not JSON
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
[::seed(1, client => 'liege-gw'), ::seed(2, redirect_uri => "$::ORIGIN/other"),
 ::seed(3, challenge => 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN'),
 ::seed(4, token => undef), ['SET', ::key(::code(5)), 'not json']]
--- request eval
[map { "POST /sso/callback\n" . ::form($_) } 1 .. 5]
--- more_headers eval
"$::FORM_CT\n$::COOKIE"
--- error_code eval
[400, 400, 400, 400, 502]
--- response_headers
!Set-Cookie
--- response_body_like eval
[("not meant for this site") x 4, "cannot read"]
--- redis_check eval
[map { "EXISTS " . ::key(::code($_)) . " => 0" } 1 .. 5]
--- error_log
mobispot: sso callback refused (400): the code was issued to another client
mobispot: sso callback refused (400): the code was issued for another redirect_uri
mobispot: sso callback refused (400): the PKCE verifier does not match the code's challenge
mobispot: sso callback refused (400): the code's record has no token
mobispot: sso callback: the code's record is not JSON



=== TEST 7: the record's token checked as the verifier checks it: another site's, expired, an ID token, a bad signature
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
[::seed(1, token => $::T{liege}), ::seed(2, token => $::T{expired}),
 ::seed(3, token => $::T{idtoken}), ::seed(4, token => $::T{forged})]
--- request eval
[map { "POST /sso/callback\n" . ::form($_) } 1 .. 4]
--- more_headers eval
"$::FORM_CT\n$::COOKIE"
--- error_code eval
[403, 403, 403, 403]
--- response_headers
!Set-Cookie
--- response_body_like
not valid for this site
--- error_log
mobispot: sso token refused (wrong_audience)
mobispot: sso token refused (expired)
mobispot: sso token refused (malformed): typ JWT (an ID token) not taken here
mobispot: sso token refused (bad_signature)



=== TEST 8: a return_to that is not under this site's origin: 303 to the site's root
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
[::seed(1), ::seed(2), ::seed(3)]
--- request eval
[map { "POST /sso/callback\n" . ::form($_) } 1 .. 3]
--- more_headers eval
["$::FORM_CT\nCookie: " . ::state_cookie($::S, 'https://evil.example/x'),
 "$::FORM_CT\nCookie: " . ::state_cookie($::S, "$::ORIGIN.evil.example/x"),
 "$::FORM_CT\nCookie: " . ::state_cookie($::S, "$::ORIGIN/a\r\nX-Evil: 1")]
--- error_code eval
[303, 303, 303]
--- response_headers eval
["Location: $::ORIGIN/\n!X-Evil", "Location: $::ORIGIN/", "Location: $::ORIGIN/\n!X-Evil"]



=== TEST 9: two sign-ins at once (two tabs): each state finds its own cookie
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
[::seed(1), ::seed(2)]
--- request eval
["POST /sso/callback\n" . ::form(2, $::S2), "POST /sso/callback\n" . ::form(1, $::S)]
--- more_headers eval
"$::FORM_CT\nCookie: " . ::state_cookie($::S, "$::ORIGIN/one") . "; "
    . ::state_cookie($::S2, "$::ORIGIN/two")
--- error_code eval
[303, 303]
--- response_headers_like eval
["Location: /two\$\nSet-Cookie: __Host-mobispot_state_$::S2=; Path=/; Max-Age=0",
 "Location: /one\$\nSet-Cookie: __Host-mobispot_state_$::S=; Path=/; Max-Age=0"]



=== TEST 10: entitlement and revocation as the verifier: a token of a passport the site does not take, a revoked session
--- http_config eval
$::HTTP . "    mobispot_site namur;\n    mobispot_sso_revocation on;\n"
--- config eval: $::CONFIG
--- redis eval
[['HSET', 'ms:{site:namur}:info', 'networks', 'cowallonia'],
 ['HSET', 'ms:{networks}:passport', 'cowallonia', 'cowallonia'],
 ['ZADD', 'ms:sso:revoked', time() + 3600, 'sess-gone'],
 ::seed(1), ::seed(2, token => $::T{other}), ::seed(3, token => $::T{revoked})]
--- before_request eval
["sleep 0.3", "", ""]
--- request eval
[map { "POST /sso/callback\n" . ::form($_) } 1 .. 3]
--- more_headers eval
"$::FORM_CT\n$::COOKIE"
--- error_code eval
[303, 403, 403]
--- response_body_like eval
[".*", "does not give access to this site", "not valid for this site"]
--- error_log
mobispot: sso token refused (not_entitled)
mobispot: sso token refused (revoked)
--- no_error_log
[error]



=== TEST 11: nginx -t: login_url and authorize_url both
--- http_config eval
$::HTTP . "    mobispot_sso_login_url https://sso.mobispot.test/login;\n"
--- config eval: $::CONFIG
--- must_die
--- error_log
"mobispot_sso_login_url" and "mobispot_sso_authorize_url" are two ways to sign in: choose one



=== TEST 12: nginx -t: the authorize URL without the client id
--- http_config eval
$::HTTP =~ s/mobispot_sso_client_id namur-gw;//r
--- config eval: $::CONFIG
--- must_die
--- error_log
"mobispot_sso_authorize_url", "mobispot_sso_client_id" and "mobispot_sso_redirect_uri" go together



=== TEST 13: nginx -t: a redirect URI over plain http off loopback
--- http_config eval
$::HTTP =~ s{http://localhost:\$TEST_NGINX_SERVER_PORT}{http://namur.example}r
--- config eval: $::CONFIG
--- must_die
--- error_log
"mobispot_sso_redirect_uri" must be an https URL (http on loopback only)



=== TEST 14: nginx -t: an authorize URL with a fragment
--- http_config eval
$::HTTP =~ s{/sso/authorize}{/sso/authorize#x}r
--- config eval: $::CONFIG
--- must_die
--- error_log
"mobispot_sso_authorize_url" must be an https URL



=== TEST 15: nginx -t: a callback without a token cookie to set
--- http_config eval
$::HTTP =~ s/mobispot_sso_token cookie=ms_sso;/mobispot_sso_token header;/r
--- config eval: $::CONFIG
--- must_die
--- error_log
"mobispot_sso_callback" needs the token cookie it sets



=== TEST 16: nginx -t: a callback without the flow's directives
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
    mobispot_sso_token cookie=ms_sso;
--- config
    location = /sso/callback { mobispot_sso_callback; }
--- must_die
--- error_log
"mobispot_sso_callback" needs them



=== TEST 17: nginx -t: a callback without the verifier's audience
--- http_config eval
$::HTTP =~ s/mobispot_jwt_audience namur;//r
--- config
    location = /sso/callback { mobispot_sso_callback; }
--- must_die
--- error_log
needs "mobispot_jwt_issuer" and "mobispot_jwt_audience"



=== TEST 18: nginx -t: a callback where the redirect URI does not point
--- http_config eval: $::HTTP
--- config
    location = /sso/cb { mobispot_sso_callback; }
--- must_die
--- error_log
"mobispot_sso_callback" in location "/sso/cb" is not where "mobispot_sso_redirect_uri" points ("/sso/callback")



=== TEST 19: a prefix location that holds the redirect URI's path is a callback
--- http_config eval: $::HTTP
--- config
    location /sso/ { mobispot_sso_callback; }
--- request
GET /sso/callback
--- error_code: 405



=== TEST 20: Redis unavailable: 503, nothing redeemed
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- before_request
redis_stop
--- request eval
"POST /sso/callback\n" . ::form(1)
--- more_headers eval
"$::FORM_CT\n$::COOKIE"
--- error_code: 503
--- response_headers
!Set-Cookie



=== TEST 21: a token too long for a browser's cookie: not set (it would be dropped, and the browser sent to sign in again and again)
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- redis eval
[::seed(1, token => ::hs(x => 'y' x 3500))]
--- request eval
"POST /sso/callback\n" . ::form(1)
--- more_headers eval
"$::FORM_CT\n$::COOKIE"
--- error_code: 502
--- response_headers
!Set-Cookie
--- error_log
mobispot: sso callback: a token of



=== TEST 22: nginx -t: a callback without the verifier's keys
--- http_config eval
$::HTTP =~ s/mobispot_jwt_key \S+ alg=HS256;//r
--- config
    location = /sso/callback { mobispot_sso_callback; }
--- must_die
--- error_log
needs at least one "mobispot_jwt_key"
