# SSO gateway: the good paths.  Each algorithm family, each token source,
# kid selection among several keys, leeway edges, optional mode, the
# identity variables reaching a real upstream, anti-spoofing, browsers.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

sso_keys();

our %T;
my $now = time();

$T{hs256} = tok('hs256.secret', 'HS256', '{"alg":"HS256","typ":"at+jwt"}', claims());
$T{hs384} = tok('hs384.secret', 'HS384', '{"typ":"at+jwt","alg":"HS384","kid":"h384"}', claims(sub => 'hs384-user'));
$T{hs512} = tok('hs512.secret', 'HS512', '{"typ":"at+jwt","alg":"HS512","kid":"h512"}', claims(sub => 'hs512-user'));
$T{rs256} = tok('rsa.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', claims(sub => 'bob', sid => 'sess-2'));
$T{rs256b} = tok('rsa2.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r2"}', claims(sub => 'carol'));
$T{rs384} = tok('rsa.key', 'RS384', '{"typ":"at+jwt","alg":"RS384","kid":"r1-384"}', claims(sub => 'rs384-user'));
$T{es256} = tok('ec256.key', 'ES256', '{"typ":"at+jwt","alg":"ES256","kid":"e1"}', claims(sub => 'dave'));
$T{es384} = tok('ec384.key', 'ES384', '{"typ":"at+jwt","alg":"ES384","kid":"e384"}', claims(sub => 'es384-user'));
$T{es512} = tok('ec521.key', 'ES512', '{"typ":"at+jwt","alg":"ES512","kid":"e521"}', claims(sub => 'es512-user'));
$T{claims} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}',
    claims(nets => '["cowallonia","swc"]', n => 42, f => 2.5, b => 'true',
           o => '{"zone":"wallonia"}', nl => 'null', bad => 'a\u0001b'));
$T{exp_in_leeway} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(exp => $now - 1800));
$T{nbf_in_leeway} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(nbf => $now + 1800));
$T{aud_array} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(aud => '["liege","namur"]'));
$T{roles} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(roles => '["user","admin"]'));
$T{role1} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(roles => 'admin'));
$T{badroles} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(roles => '["a b","c"]'));
$T{spacedroles} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(roles => 'user admin'));
$T{expired} = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(exp => $now - 100));

our $HTTP = <<'_EOC_';
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs384.secret alg=HS384 kid=h384;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs512.secret alg=HS512 kid=h512;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa.pub alg=RS256 kid=r1;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa2.pub alg=RS256 kid=r2;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa.pub alg=RS384 kid=r1-384;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/ec256.pub alg=ES256 kid=e1;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/ec384.pub alg=ES384 kid=e384;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/ec521.pub alg=ES512 kid=e521;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
_EOC_

# the protected location proxies to /echo, which shows what it received
our $CONFIG = <<'_EOC_';
    location /p {
        mobispot_sso on;
        mobispot_sso_token header cookie=mobispot_sso arg=access_token;
        proxy_set_header X-Mobispot-Sub $mobispot_sub;
        proxy_set_header X-Mobispot-Sid $mobispot_sid;
        proxy_set_header X-Mobispot-Pass $mobispot_pass;
        proxy_set_header X-Mobispot-Status $mobispot_sso_status;
        proxy_set_header Authorization "";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "sub=$http_x_mobispot_sub sid=$http_x_mobispot_sid pass=$http_x_mobispot_pass status=$http_x_mobispot_status auth=$http_authorization\n";
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: each algorithm family, kid selection among several keys
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
[("GET /p") x 9]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(hs256 hs384 hs512 rs256 rs256b rs384 es256 es384 es512)]
--- error_code: 200
--- response_body eval
[
"sub=alice sid=sess-1 pass=cowallonia status=ok auth=\n",
"sub=hs384-user sid=sess-1 pass=cowallonia status=ok auth=\n",
"sub=hs512-user sid=sess-1 pass=cowallonia status=ok auth=\n",
"sub=bob sid=sess-2 pass=cowallonia status=ok auth=\n",
"sub=carol sid=sess-1 pass=cowallonia status=ok auth=\n",
"sub=rs384-user sid=sess-1 pass=cowallonia status=ok auth=\n",
"sub=dave sid=sess-1 pass=cowallonia status=ok auth=\n",
"sub=es384-user sid=sess-1 pass=cowallonia status=ok auth=\n",
"sub=es512-user sid=sess-1 pass=cowallonia status=ok auth=\n",
]
--- no_error_log
[error]
mobispot: sso token refused



=== TEST 2: token sources: header, cookie, query argument; header first
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["GET /p", "GET /p", "GET /p?x=1&access_token=$::T{es256}", "GET /p?access_token=$::T{es256}"]
--- more_headers eval
["Cookie: a=b; mobispot_sso=$::T{rs256}; c=d",
 "Authorization: Basic dXNlcjpwYXNz\nCookie: mobispot_sso=$::T{rs256}",
 "",
 "Authorization: Bearer $::T{hs256}"]
--- error_code: 200
--- response_body eval
["sub=bob sid=sess-2 pass=cowallonia status=ok auth=\n",
 "sub=bob sid=sess-2 pass=cowallonia status=ok auth=\n",
 "sub=dave sid=sess-1 pass=cowallonia status=ok auth=\n",
 "sub=alice sid=sess-1 pass=cowallonia status=ok auth=\n"]
--- no_error_log
[error]



=== TEST 3: the query argument is off unless configured
--- http_config eval: $::HTTP
--- config
    location /ok { return 204; }
    location /p {
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /q {
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /echo { return 200 "ok\n"; }
--- request eval
["GET /q?access_token=$::T{hs256}", "GET /q?token=$::T{hs256}"]
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="mobispot"
Content-Type: application/json
--- response_body_json
{"error":{"code":"missing","message":"no token"}}
--- no_error_log
[error]



=== TEST 4: anti-spoofing: client-sent identity headers are overwritten
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request
GET /p
--- more_headers eval
"Authorization: Bearer $::T{rs256}
X-Mobispot-Sub: root
X-Mobispot-Sid: forged
X-Mobispot-Pass: gold
X-Mobispot-Status: ok"
--- error_code: 200
--- response_body
sub=bob sid=sess-2 pass=cowallonia status=ok auth=



=== TEST 5: optional mode: no token, a bad token and a good one all pass; identity only for the good one; spoofed headers removed
--- http_config eval: $::HTTP
--- config
    location /o {
        mobispot_sso optional;
        proxy_set_header X-Mobispot-Sub $mobispot_sub;
        proxy_set_header X-Mobispot-Sid $mobispot_sid;
        proxy_set_header X-Mobispot-Pass $mobispot_pass;
        proxy_set_header X-Mobispot-Status $mobispot_sso_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /echo {
        return 200 "sub=$http_x_mobispot_sub sid=$http_x_mobispot_sid pass=$http_x_mobispot_pass status=$http_x_mobispot_status\n";
    }
--- request eval
[("GET /o") x 3]
--- more_headers eval
["X-Mobispot-Sub: root",
 "Authorization: Bearer $::T{expired}\nX-Mobispot-Sub: root",
 "Authorization: Bearer $::T{es256}"]
--- error_code: 200
--- response_body eval
["sub= sid= pass= status=missing\n",
 "sub= sid= pass= status=expired\n",
 "sub=dave sid=sess-1 pass=cowallonia status=ok\n"]
--- no_error_log
[error]



=== TEST 6: claim variables: strings, numbers, booleans, arrays and objects as JSON; null, absent and control characters empty
--- http_config eval: $::HTTP
--- config
    location /p {
        mobispot_sso on;
        proxy_set_header X-V "nets=$mobispot_claim_nets n=$mobispot_claim_n f=$mobispot_claim_f b=$mobispot_claim_b o=$mobispot_claim_o nl=[$mobispot_claim_nl] none=[$mobispot_claim_none] bad=[$mobispot_claim_bad] iss=$mobispot_claim_iss";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /echo { return 200 "$http_x_v\n"; }
--- request
GET /p
--- more_headers eval
"Authorization: Bearer $::T{claims}"
--- error_code: 200
--- response_body
nets=["cowallonia","swc"] n=42 f=2.5 b=true o={"zone":"wallonia"} nl=[] none=[] bad=[] iss=https://sso.mobispot.test



=== TEST 7: leeway edges: exp 30 min ago and nbf in 30 min pass with a 1 h leeway, fail without
--- http_config eval: $::HTTP
--- config
    location /ok { return 204; }
    location /l {
        mobispot_sso on;
        mobispot_jwt_leeway 1h;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /n {
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /l", "GET /l", "GET /n", "GET /n"]
--- more_headers eval
["Authorization: Bearer $::T{exp_in_leeway}",
 "Authorization: Bearer $::T{nbf_in_leeway}",
 "Authorization: Bearer $::T{exp_in_leeway}",
 "Authorization: Bearer $::T{nbf_in_leeway}"]
--- error_code eval
[204, 204, 401, 401]
--- response_headers eval
["", "",
 "WWW-Authenticate: Bearer realm=\"mobispot\", error=\"invalid_token\", error_description=\"the token has expired\"",
 "WWW-Authenticate: Bearer realm=\"mobispot\", error=\"invalid_token\", error_description=\"the token is not valid yet\""]
--- no_error_log
[error]



=== TEST 8: aud array that holds this site; several accepted audiences
--- http_config eval: $::HTTP
--- config
    location /ok { return 204; }
    location /a {
        mobispot_sso on;
        mobispot_jwt_audience mons liege;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /p {
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /p", "GET /a", "GET /a"]
--- more_headers eval
["Authorization: Bearer $::T{aud_array}", "Authorization: Bearer $::T{aud_array}", "Authorization: Bearer $::T{hs256}"]
--- error_code eval
[204, 204, 401]
--- no_error_log
[error]



=== TEST 9: a browser without a valid token is sent to sign in, with return_to (the server's name and port) and the site
--- http_config eval
$::HTTP . '
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_site namur;
'
--- redis
HSET ms:{site:namur}:info networks cowallonia
HSET ms:{networks}:passport cowallonia cowallonia
--- config
    location /ok { return 204; }
    location /p {
        mobispot_sso on;
        mobispot_sso_login_url https://sso.mobispot.test/login;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /q {
        mobispot_sso on;
        mobispot_sso_login_url https://sso.mobispot.test/login?lang=fr;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /p/room?day=2026-12-01&seats=2", "GET /q", "GET /p", "GET /p"]
--- more_headers eval
["Accept: text/html,application/xhtml+xml,*/*;q=0.8",
 "Accept: text/html\nAuthorization: Bearer $::T{expired}",
 "Accept: application/json",
 "Accept: text/html\nAuthorization: Bearer $::T{es256}"]
--- error_code eval
[302, 302, 401, 204]
--- response_headers eval
['Location: https://sso.mobispot.test/login?return_to=http%3A%2F%2Flocalhost%3A$TEST_NGINX_SERVER_PORT%2Fp%2Froom%3Fday%3D2026-12-01%26seats%3D2&site=namur',
 'Location: https://sso.mobispot.test/login?lang=fr&return_to=http%3A%2F%2Flocalhost%3A$TEST_NGINX_SERVER_PORT%2Fq&site=namur',
 "!Location",
 "!Location"]
--- no_error_log
[error]



=== TEST 10: mobispot_sso off below a protected server, HEAD and POST with a body refused cleanly
--- http_config eval: $::HTTP
--- config
    location /ok { return 204; }
    mobispot_sso on;
    location /public {
        mobispot_sso off;
        return 200 "public [$mobispot_sso_status]\n";
    }
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /public", "HEAD /p", "POST /p\nsome body that is discarded"]
--- error_code eval
[200, 401, 401]
--- response_body eval
["public []\n", "", '{"error":{"code":"missing","message":"no token"}}']
--- no_error_log
[error]



=== TEST 11: the identity in log_format
--- http_config eval
$::HTTP . '
    log_format sso "$mobispot_sso_status $mobispot_sub $mobispot_sid";
'
--- config
    location /ok { return 204; }
    access_log logs/sso.log sso;
    location /p {
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /p", "GET /p"]
--- more_headers eval
["Authorization: Bearer $::T{rs256}", ""]
--- error_code eval
[204, 401]
--- no_error_log
[error]



=== TEST 12: per-worker cache of verified signatures: a repeat token costs a lookup (claims still available), only for the same key
--- http_config eval: $::HTTP
--- config
    location /ok { return 204; }
    location /echo { return 200 "sub=$http_x_sub pass=$http_x_pass\n"; }
    location /p {
        mobispot_sso on;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_set_header X-Pass $mobispot_claim_pass;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /other {
        mobispot_sso on;
        mobispot_jwt_key $TEST_NGINX_SSO_KEYS/rsa2.pub alg=RS256 kid=r1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /p", "GET /p", "GET /other"]
--- more_headers eval
["Authorization: Bearer $::T{rs256}", "Authorization: Bearer $::T{rs256}", "Authorization: Bearer $::T{rs256}"]
--- error_code eval
[200, 200, 401]
--- response_body eval
["sub=bob pass=cowallonia\n", "sub=bob pass=cowallonia\n", undef]
--- error_log
mobispot: sso token cached
mobispot: sso token refused (bad_signature): signature does not verify
--- no_error_log
[error]



=== TEST 13: the cache can be turned off
--- http_config eval
$::HTTP . "    mobispot_sso_cache_size 0;\n"
--- config
    location /ok { return 204; }
    location /p {
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /p", "GET /p"]
--- more_headers eval
["Authorization: Bearer $::T{rs256}", "Authorization: Bearer $::T{rs256}"]
--- error_code: 204
--- no_error_log
mobispot: sso token cached
[error]



=== TEST 14: satisfy any: another access module may let the request in; otherwise nginx's own 401
--- http_config eval: $::HTTP
--- config
    location /ok { return 204; }
    location /lan {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /nobody {
        satisfy any;
        deny all;
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /lan", "GET /nobody", "GET /nobody"]
--- more_headers eval
["", "", "Authorization: Bearer $::T{rs256}"]
--- error_code eval
[204, 401, 204]
--- no_error_log
[error]



=== TEST 15: $mobispot_roles: the roles claim as a blank-separated list (for mobispot_admin_role)
--- http_config eval: $::HTTP
--- config
    location /echo { return 200 "roles=[$http_x_roles]\n"; }
    location /p {
        mobispot_sso on;
        proxy_set_header X-Roles $mobispot_roles;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p", "GET /p"]
--- more_headers eval
["Authorization: Bearer $::T{roles}", "Authorization: Bearer $::T{role1}", "Authorization: Bearer $::T{badroles}", "Authorization: Bearer $::T{hs256}", "Authorization: Bearer $::T{spacedroles}"]
--- response_body eval
["roles=[user admin]\n", "roles=[admin]\n", "roles=[]\n", "roles=[]\n", "roles=[]\n"]



=== TEST 16: one token through two locations with other claim rules: verified once, the other location's rules checked again, a third's refusal still holds
--- http_config eval: $::HTTP
--- config
    location /ok { return 204; }
    location /a {
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /b {
        mobispot_sso on;
        mobispot_jwt_audience namur mons;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /m {
        mobispot_sso on;
        mobispot_jwt_audience mons;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["GET /a", "GET /b", "GET /b", "GET /m", "GET /a"]
--- more_headers eval
[("Authorization: Bearer " . MobispotSSO::tok('rsa.key', 'RS256', '{"typ":"at+jwt","alg":"RS256","kid":"r1"}', MobispotSSO::claims(sub => 'mover'))) x 5]
--- error_code eval
[204, 204, 204, 401, 204]
--- response_body_json_subset eval
[undef, undef, undef, {error => {code => "wrong_audience"}}, undef]
--- error_log
mobispot: sso token cached for other claim rules, claims checked again
mobispot: sso token cached
mobispot: sso token refused (wrong_audience)
--- no_error_log
[error]
[alert]
