# The SSO issuer's keys and documents (issuer/): what nginx -t refuses,
# the OpenID Connect Discovery document, the JWKS per key type, the
# methods and routes, and the gateway's check of the token's kind (typ):
# an ID token ("JWT") never passes for an access token by default.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

my $dir = sso_keys();

# private keys an issuer may use are not readable by others
chmod 0600, map { "$dir/$_" } qw(rsa.key rsa2.key ec256.key ec384.key rsa1024.key);
system("cp $dir/ec256.key $dir/open.key && chmod 0644 $dir/open.key") == 0 or die;
system("cp $dir/rsa.pub $dir/pub.key && chmod 0600 $dir/pub.key") == 0 or die;
system("openssl genpkey -algorithm ed25519 -out $dir/ed.key 2>/dev/null && chmod 0600 $dir/ed.key") == 0
    or die "openssl genpkey ed25519 failed\n";

our %J;
# the public JWKs the issuer must publish, as another implementation makes them
for my $k (['ec256.key', 'e1', 'ES256'], ['rsa.key', 'r1', 'RS256']) {
    my $doc = jwks("$k->[0]:$k->[1]:$k->[2]");
    ($J{$k->[1]}) = $doc =~ /^\{"keys": \[(.*)\]\}$/s;
}

our %T;
my $ISS = "https://sso.mobispot.test";
$T{id}  = tok('hs256.secret', 'HS256', '{"alg":"HS256","typ":"JWT"}', claims());
$T{no}  = tok('hs256.secret', 'HS256', '{"alg":"HS256"}', claims());
$T{at}  = tok('hs256.secret', 'HS256', '{"alg":"HS256","typ":"at+jwt"}', claims());
$T{app} = tok('hs256.secret', 'HS256', '{"alg":"HS256","typ":"Application/AT+JWT"}', claims());
$T{jwe} = tok('hs256.secret', 'HS256', '{"alg":"HS256","typ":"JOSE"}', claims());

our $REDIS = "    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n";

our $ISSUER = $REDIS . <<'_EOC_';
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/rsa.key kid=r1;
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/ec256.key kid=e1;
_EOC_

our $LOC = <<'_EOC_';
    location /sso/ {
        mobispot_sso_issuer;
        mobispot_sso_issuer_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso;
    }
_EOC_

# both locations share the keys and rules of the server: a token cached in
# one is a cache hit in the other, whose typ rule is checked again
our $GW_HTTP = $REDIS . <<'_EOC_';
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
_EOC_

our $GATEWAY = <<'_EOC_';
    location /echo { return 200 "sub=$http_x_sub\n"; }
    location /p {
        mobispot_sso on;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /any {
        mobispot_sso on;
        mobispot_jwt_typ at+jwt JWT absent;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: an issuer without mobispot_sso_issuer_url
--- http_config eval: $::ISSUER
--- config
    location /sso/ { mobispot_sso_issuer; }
--- must_die
--- error_log
"mobispot_sso_issuer" in location "/sso/" needs "mobispot_sso_issuer_url"



=== TEST 2: an issuer without a signing key
--- http_config eval: $::REDIS
--- config eval: $::LOC
--- must_die
--- error_log
needs at least one "mobispot_sso_signing_key"



=== TEST 3: an issuer without mobispot_redis
--- http_config
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/ec256.key kid=e1;
--- config eval: $::LOC
--- must_die
--- error_log
"mobispot_sso_issuer" needs "mobispot_redis" in the http block



=== TEST 4: an EC key on P-384 is refused
--- http_config
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/ec384.key kid=e2;
--- must_die
--- error_log
is an EC key on another curve than P-256: an issuer's key is EC on P-256 (ES256) or RSA of at least 2048 bits (RS256)



=== TEST 5: an RSA key of 1024 bits is refused
--- http_config
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/rsa1024.key kid=r0;
--- must_die
--- error_log
is an RSA key of fewer than 2048 bits



=== TEST 6: an Ed25519 key is refused
--- http_config
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/ed.key kid=ed;
--- must_die
--- error_log
is neither an EC P-256 nor an RSA key



=== TEST 7: a public key is not a signing key
--- http_config
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/pub.key kid=r1;
--- must_die
--- error_log
is not a PEM private key



=== TEST 8: the same kid twice
--- http_config
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/rsa.key kid=k;
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/ec256.key kid=k;
--- must_die
--- error_log
kid "k" is given twice



=== TEST 9: a key file any user may read
--- http_config
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/open.key kid=o;
--- must_die
--- error_log
may be read or written by any user (mode 0644): chmod o-rwx it



=== TEST 10: no kid, or a kid with a quote
--- http_config
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/rsa.key kid=a"b;
--- must_die
--- error_log
must be 1 to 256 printable ASCII characters



=== TEST 11: plain http for a host that is not loopback
--- http_config eval: $::ISSUER
--- config
    location /sso/ { mobispot_sso_issuer; mobispot_sso_issuer_url http://sso.mobispot.test/sso; }
--- must_die
--- error_log
is not https: plain http is only for a loopback host



=== TEST 12: an issuer URL with a query, a fragment, a user or a trailing slash
--- http_config eval: $::ISSUER
--- config
    location /a/ { mobispot_sso_issuer; mobispot_sso_issuer_url https://sso.mobispot.test/a?x=1; }
--- must_die
--- error_log
is not an issuer URL: https://HOST[:PORT][/PATH], without user, query, fragment or trailing "/"



=== TEST 13: the issuer URL's path is not the location's prefix
--- http_config eval: $::ISSUER
--- config
    location /sso/ { mobispot_sso_issuer; mobispot_sso_issuer_url https://sso.mobispot.test/login; }
--- must_die
--- error_log
must be "/sso", the prefix of the location of "mobispot_sso_issuer" without its last "/"



=== TEST 14: a regex location
--- http_config eval: $::ISSUER
--- config
    location ~ ^/sso/ { mobispot_sso_issuer; mobispot_sso_issuer_url https://sso.mobispot.test/sso; }
--- must_die
--- error_log
"mobispot_sso_issuer" needs a prefix location whose name ends with "/"



=== TEST 15: two issuer locations with other keys (one Redis key set)
--- http_config eval
$::ISSUER . <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name other;
        mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/rsa2.key kid=r2;
        location /b/ { mobispot_sso_issuer; mobispot_sso_issuer_url https://sso.mobispot.test/b; }
    }
_EOC_
--- config
    location /a/ { mobispot_sso_issuer; mobispot_sso_issuer_url https://sso.mobispot.test/a; }
--- must_die
--- error_log
has other signing keys than



=== TEST 16: the discovery document, built from the issuer URL
--- http_config eval: $::ISSUER
--- config eval: $::LOC
--- request
GET /sso/.well-known/openid-configuration
--- error_code: 200
--- response_headers
Content-Type: application/json
Cache-Control: public, max-age=3600
--- response_body_json
{
  "issuer": "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso",
  "authorization_endpoint": "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso/authorize",
  "token_endpoint": "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso/token",
  "userinfo_endpoint": "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso/userinfo",
  "jwks_uri": "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso/jwks",
  "end_session_endpoint": "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso/logout",
  "response_types_supported": ["code"],
  "response_modes_supported": ["query", "form_post"],
  "grant_types_supported": ["authorization_code", "refresh_token"],
  "code_challenge_methods_supported": ["S256"],
  "subject_types_supported": ["public"],
  "id_token_signing_alg_values_supported": ["RS256", "ES256"],
  "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
  "scopes_supported": ["openid", "offline_access"],
  "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "jti",
                       "client_id", "pass", "company", "nets", "zones", "roles"]
}
--- no_error_log
[error]



=== TEST 17: the JWKS: every key, in order, public members only, as another implementation computes them
--- http_config eval: $::ISSUER
--- config eval: $::LOC
--- request
GET /sso/jwks
--- error_code: 200
--- response_headers
Content-Type: application/json
Cache-Control: public, max-age=300
--- response_body_json eval
"{\"keys\": [$::J{r1}, $::J{e1}]}"
--- no_error_log
[error]



=== TEST 18: an issuer at the root of its server: the URL has no path
--- http_config eval: $::ISSUER
--- config
    location / { mobispot_sso_issuer; mobispot_sso_issuer_url http://localhost:$TEST_NGINX_SERVER_PORT; }
--- request eval
["GET /.well-known/openid-configuration", "GET /jwks", "HEAD /jwks"]
--- error_code eval
[200, 200, 200]
--- response_body_json_subset eval
[{ issuer => "http://localhost:$ENV{TEST_NGINX_SERVER_PORT}", jwks_uri => "http://localhost:$ENV{TEST_NGINX_SERVER_PORT}/jwks" }, undef, undef]
--- response_body eval
[undef, undef, ""]



=== TEST 19: wrong methods get 405 with Allow; other paths 404, nothing else
--- http_config eval: $::ISSUER
--- config eval: $::LOC
--- request eval
["POST /sso/jwks", "DELETE /sso/.well-known/openid-configuration", "GET /sso/jwks/", "GET /sso/JWKS", "GET /sso/", "GET /sso/.well-known/openid-configuration/x"]
--- more_headers eval
["Content-Type: application/json", "", "", "", "", ""]
--- error_code eval
[405, 405, 404, 404, 404, 404]
--- response_headers eval
["Allow: GET, HEAD\nCache-Control: no-store", "Allow: GET, HEAD", "!Allow", "!Allow", "!Allow", "!Allow"]
--- response_body_json_subset eval
[{ error => { code => 'method_not_allowed' } }, { error => { code => 'method_not_allowed' } },
 ({ error => { code => 'not_found' } }) x 4]



=== TEST 20: the gateway's default takes access tokens only: typ JWT (an ID token), no typ and another typ are refused
--- http_config eval: $::GW_HTTP
--- config eval: $::GATEWAY
--- request eval
[("GET /p") x 5]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(at app id no jwe)]
--- error_code eval
[200, 200, 401, 401, 401]
--- response_headers_like eval
[undef, undef, ('WWW-Authenticate: error="invalid_token"') x 3]
--- error_log
typ JWT (an ID token) not taken here (mobispot_jwt_typ)
no typ, not taken here (mobispot_jwt_typ)
typ is neither at+jwt nor JWT



=== TEST 21: mobispot_jwt_typ lists what an external provider sends; a token cached in one location is checked again in another
--- http_config eval: $::GW_HTTP
--- config eval: $::GATEWAY
--- request eval
["GET /any", "GET /any", "GET /any", "GET /p", "GET /any"]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(id no at id jwe)]
--- error_code eval
[200, 200, 200, 401, 401]
--- response_body eval
["sub=alice\n", "sub=alice\n", "sub=alice\n", undef, undef]
--- error_log
typ JWT (an ID token) not taken here (mobispot_jwt_typ)



=== TEST 22: mobispot_jwt_typ takes only its three words
--- http_config
    mobispot_jwt_typ at+jwt JWE;
--- must_die
--- error_log
invalid value "JWE"



=== TEST 23: ES256 keys only: ES256 alone (strict OpenID Connect clients refuse it, docs/sso.md)
--- http_config eval
$::REDIS . "    mobispot_sso_signing_key $ENV{TEST_NGINX_SSO_KEYS}/ec256.key kid=e1;\n"
--- config eval: $::LOC
--- request
GET /sso/.well-known/openid-configuration
--- error_code: 200
--- response_body_json_subset
{"id_token_signing_alg_values_supported": ["ES256"]}
