# What the gateway passes on: the token cookie and query argument it read
# do not reach the site's upstream (mobispot_sso_pass_token off, the
# default), an internal redirect still finds the token, and the sign-in
# redirect's return_to is built from mobispot_sso_public_url or the
# server's name and port, never from the Host header, without the token
# argument.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

sso_keys();

our %T;
$T{ok} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims());
$T{expired} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}',
                  claims(exp => time() - 100));

# the first server of the port is its default: a catch-all "_" that also
# echoes what the gateway's locations pass on (their proxy_pass sends
# Host: 127.0.0.1:PORT, which no server names)
our $HTTP = <<'_EOC_';
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;

    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name _;

        location / {
            return 200 "uri=[$request_uri] cookie=[$http_cookie] auth=[$http_authorization]\n";
        }

        location /c {
            mobispot_sso on;
            mobispot_sso_login_url https://sso.mobispot.test/login;
            try_files /none =204;
        }

        location /u {
            mobispot_sso on;
            mobispot_sso_login_url https://sso.mobispot.test/login;
            mobispot_sso_public_url https://cw-namur.example/;
            try_files /none =204;
        }
    }
_EOC_

our $CONFIG = <<'_EOC_';
    location /p {
        mobispot_sso on;
        mobispot_sso_token cookie=ms_sso arg=token header;
        mobispot_sso_login_url https://sso.mobispot.test/login;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /k {
        mobispot_sso on;
        mobispot_sso_token cookie=ms_sso arg=token;
        mobispot_sso_pass_token on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /r {
        mobispot_sso on;
        mobispot_sso_token cookie=ms_sso;
        try_files /none @inner;
    }
    location @inner {
        mobispot_sso on;
        mobispot_sso_token cookie=ms_sso;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: the token cookie and argument are taken out of what the upstream gets; other cookies, arguments and the Authorization header stay
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p/x?a=1&b=2", "GET /p/x?a=1&token=$::T{ok}&b=2", "GET /p/x?token=$::T{ok}",
 "GET /p/x?a=1", "GET /p/x?TOKEN=$::T{ok}&tokens=3"]
--- more_headers eval
["Cookie: pref=fr; ms_sso=$::T{ok}; theme=dark", "", "Cookie: ms_sso=$::T{ok}",
 "Authorization: Bearer $::T{ok}\nCookie: pref=fr", ""]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
["uri=[/p/x?a=1&b=2] cookie=[pref=fr; theme=dark] auth=[]\n",
 "uri=[/p/x?a=1&b=2] cookie=[] auth=[]\n",
 "uri=[/p/x] cookie=[] auth=[]\n",
 "uri=[/p/x?a=1] cookie=[pref=fr] auth=[Bearer $::T{ok}]\n",
 "uri=[/p/x?tokens=3] cookie=[] auth=[]\n"]
--- no_error_log
[error]



=== TEST 2: a token in two cookies of the name, or in two Cookie headers: none passes on
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p", "GET /p"]
--- more_headers eval
["Cookie: ms_sso=$::T{ok}; a=1; MS_SSO=$::T{ok}",
 "Cookie: ms_sso=$::T{ok}\nCookie: a=1; ms_sso=$::T{expired}"]
--- error_code eval
[200, 200]
--- response_body_like eval
['^uri=\[/p\] cookie=\[a=1\] auth=\[\]$', '^uri=\[/p\] cookie=\[(; )?a=1\] auth=\[\]$']



=== TEST 3: mobispot_sso_pass_token on: the cookie and argument reach the upstream as they came
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
"GET /k/x?token=$::T{ok}"
--- more_headers eval
"Cookie: ms_sso=$::T{ok}"
--- error_code: 200
--- response_body eval
"uri=[/k/x?token=$::T{ok}] cookie=[ms_sso=$::T{ok}] auth=[]\n"



=== TEST 4: an internal redirect (try_files to a named location) still finds the token taken out
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /r", "GET /r"]
--- more_headers eval
["Cookie: ms_sso=$::T{ok}; a=1", "Cookie: a=1"]
--- error_code eval
[200, 401]
--- response_body_like eval
['^uri=\[/r\] cookie=\[a=1\] auth=\[\]$', 'missing']



=== TEST 5: return_to: the server's name and the port the connection came on, never the Host header, and without the token argument
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p/x?token=$::T{expired}&day=1", "GET /p/y?token=$::T{expired}"]
--- more_headers eval
["Accept: text/html\nHost: localhost:9999", "Accept: text/html\nHost: LOCALHOST"]
--- error_code eval
[302, 302]
--- response_headers eval
['Location: https://sso.mobispot.test/login?return_to=http%3A%2F%2Flocalhost%3A$TEST_NGINX_SERVER_PORT%2Fp%2Fx%3Fday%3D1',
 'Location: https://sso.mobispot.test/login?return_to=http%3A%2F%2Flocalhost%3A$TEST_NGINX_SERVER_PORT%2Fp%2Fy']
--- no_error_log
[error]



=== TEST 6: a catch-all server: no name to return to, so a browser gets 401 (logged once per worker); mobispot_sso_public_url gives one
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /c", "GET /c", "GET /u?x=1"]
--- more_headers eval
["Accept: text/html\nHost: evil.example", "Accept: text/html\nHost: evil.example",
 "Accept: text/html\nHost: evil.example"]
--- error_code eval
[401, 401, 302]
--- response_headers eval
["!Location", "!Location",
 "Location: https://sso.mobispot.test/login?return_to=https%3A%2F%2Fcw-namur.example%2Fu%3Fx%3D1"]
--- response_body_json_subset eval
[{error => {code => "missing"}}, {error => {code => "missing"}}, undef]
--- error_log
mobispot: no sign-in redirect: the server has no plain server_name and mobispot_sso_public_url is not set



=== TEST 7: mobispot_sso_public_url takes an origin only
--- http_config eval
$::HTTP =~ s{https://cw-namur.example/}{https://cw-namur.example/app?x}r
--- config eval: $::CONFIG
--- must_die
--- error_log
"mobispot_sso_public_url" takes an origin only



=== TEST 8: mobispot_sso_public_url needs a scheme
--- http_config eval
$::HTTP =~ s{https://cw-namur.example/}{cw-namur.example}r
--- config eval: $::CONFIG
--- must_die
--- error_log
"mobispot_sso_public_url" must be http://HOST[:PORT] or https://HOST[:PORT]
