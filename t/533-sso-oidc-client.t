# A real OpenID Connect client that this project did not write, Debian's
# python3-authlib (t/lib/oidc_client.py, run with /usr/bin/python3),
# drives the issuer as a public app would (docs/sso.md, "The app's code +
# PKCE flow"): discovery (the document checked by authlib's own
# OpenIDProviderMetadata, its endpoints used, none hard-coded), the
# authorization URL of OAuth2Session with PKCE S256, state and nonce, the
# sign-in made as a browser makes it (requests: the form, its CSRF token,
# back to authorize, the redirect to the app caught, not followed), the
# code grant with the verifier, the ID token verified against the JWKS
# (signature, iss, aud, exp, nonce) by authlib.jose and authlib.oidc.core,
# the access token's typ at+jwt, userinfo, a refresh (rotation), the
# documented grace of a lost reply (the first token again at once: a new
# pair), then, once the 30 s grace is over, the first token again: the
# session is revoked (its refresh tokens, userinfo and a gateway refuse).
# Keys: an RSA key, then the ES256 key that signs (docs/sso.md, "ID tokens
# and RS256"): the ID tokens are RS256, the access tokens ES256.  Last, an
# issuer with its ES256 key alone: authlib refuses its document (RS256
# missing), which is why the RSA key is there.
#
# Transport: TLS, not AUTHLIB_INSECURE_TRANSPORT.  The issuer listens on a
# second loopback port with "listen ... ssl", a certificate for
# "localhost" from the test CA of MobispotTLS::tls_ca, which requests
# checks (verify=CA; trust_env off: no proxy, no CA bundle taken from the
# environment).  The admin API stays on the harness's plain port.
# HUP mode: nginx is reloaded while the grace runs out (the sessions and
# refresh tokens are Redis's: the reuse is still caught).  Valgrind: the
# client's timeouts are long, and the grace is waited out the same way.
#
#   prove -I t/lib t/533-sso-oidc-client.t
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::Mobispot::Util qw(free_port);
use MobispotSSO;
use MobispotLogin qw(put_user put_client);
use MobispotTLS qw(tls_ca);
use JSON::PP ();
use Time::HiRes qw(time sleep);

my $PY = '/usr/bin/python3';
if (system("$PY -c 'import authlib, requests' >/dev/null 2>&1") != 0) {
    plan(skip_all => "$PY cannot import authlib and requests "
         . '(Debian: python3-authlib python3-requests)');
}

my $VALGRIND = $ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 0;
my $HUP = $ENV{TEST_NGINX_USE_HUP} && !$VALGRIND;
my $GRACE = 30;                  # docs/sso.md, "Refresh tokens"
my $root = $ENV{TEST_NGINX_ROOT};
my $dir = sso_keys();
chmod 0600, "$dir/ec256.key", "$dir/rsa.key";
my $ca = tls_ca($dir, 'localhost');
my $tls = free_port();
my $ISS = "https://localhost:$tls/sso";
my $cb = 'http://127.0.0.1:' . free_port() . '/callback';   # nothing listens

my $http = <<"HTTP";
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_sso_signing_key $dir/rsa.key kid=r1;
    mobispot_sso_signing_key $dir/ec256.key kid=e1;
    mobispot_jwt_keys_redis on;
    mobispot_jwt_issuer $ISS;
    mobispot_sso_revocation on;
    lingering_close off;
    server {
        listen 127.0.0.1:$tls ssl;
        server_name localhost;
        ssl_certificate $ca->{cert};
        ssl_certificate_key $ca->{key};
        location /sso/ {
            mobispot_sso_issuer;
            mobispot_sso_issuer_url $ISS;
        }
        location /api/ {
            mobispot_sso on;
            mobispot_jwt_audience $ISS/api;
            proxy_set_header X-Sub \$mobispot_sub;
            proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/echo;
        }
    }
HTTP
my $conf = <<'CONF';
    location /api/v1/ { mobispot_api; }
    location /echo { return 200 "sub=$http_x_sub\n"; }
CONF
start_env(main_config => 'thread_pool default threads=2;',
          http_config => $http, config => $conf);
ok(wait_until(sub { (redis_cmd('GET', 'ms:sso:jwks') // '') =~ /"e1"/ },
              'the key set in Redis'), 'the issuer\'s key set is in Redis');

put_user('ada', $MobispotLogin::PW);
put_client('app', 'public_app', [$cb]);

my $state = "$dir/oidc-state.json";
local $ENV{OIDC_ISSUER} = $ISS;
local $ENV{OIDC_CA} = $ca->{ca};
local $ENV{OIDC_CLIENT_ID} = 'app';
local $ENV{OIDC_REDIRECT_URI} = $cb;
local $ENV{OIDC_USERNAME} = 'ada@example.org';
local $ENV{OIDC_PASSWORD} = $MobispotLogin::PW;
local $ENV{OIDC_API_URL} = "https://localhost:$tls/api/desks";

# runs the client: { step name => its JSON line }, and its output
sub client {
    my ($mode) = @_;
    my $out = `$PY $root/t/lib/oidc_client.py $mode $state 2>&1`;
    my %steps;
    for my $line (split /\n/, $out) {
        my $j = eval { JSON::PP::decode_json($line) } or next;
        $steps{ $j->{step} } = $j if ref $j eq 'HASH' && $j->{step};
    }
    return (\%steps, $out);
}

# one assertion per step: it ran and passed, or why not
sub step_ok {
    my ($steps, $out, $name, $what) = @_;
    my $s = $steps->{$name};
    ok($s && $s->{ok}, "$name: $what")
        or diag($s ? $s->{error} : "the step did not run:\n$out");
    return $s && $s->{ok} ? $s : {};
}

my ($steps, $out) = client('flow');

# 1. discovery
my $s = step_ok($steps, $out, 'discovery',
                'authlib validates the document; its endpoints are used');
is($s->{issuer}, $ISS, '  issuer: the URL itself');
is_deeply($s->{endpoints}, {
    authorization_endpoint => "$ISS/authorize", token_endpoint => "$ISS/token",
    userinfo_endpoint => "$ISS/userinfo", jwks_uri => "$ISS/jwks",
    end_session_endpoint => "$ISS/logout" }, '  the endpoints below it');

# 2. authorize and the sign-in
$s = step_ok($steps, $out, 'authorize',
             'the sign-in as a browser: form, CSRF, back to authorize, code');
ok($s->{signed_in}, '  the credentials were posted to the form');
ok($s->{code}, '  a code in the redirect to the app');
ok($s->{state_back}, '  with the state of the request');
is($s->{iss}, $ISS, '  and iss (RFC 9207)');
ok(grep({ /^__Host-/ } @{ $s->{cookies} // [] }), '  the session cookie is __Host-');

# 3. the tokens
$s = step_ok($steps, $out, 'token',
             'code + verifier: tokens; the ID token verified against the JWKS');
my ($idh, $idc) = ($s->{id_token}{header} // {}, $s->{id_token}{claims} // {});
my ($ath, $atc) = ($s->{access_token}{header} // {}, $s->{access_token}{claims} // {});
is($idc->{iss}, $ISS, '  ID token: iss');
is($idc->{aud}, 'app', '  ID token: aud, the client');
is($idc->{sub}, 'ada', '  ID token: sub');
ok(($idc->{exp} // 0) > time && ($idc->{exp} // 0) <= time + 600 + 5,
   '  ID token: exp within the 10 minutes');
ok(defined $idc->{nonce}, '  ID token: the nonce (authlib compared it)');
is("$idh->{alg} $idh->{kid}", 'RS256 r1',
   '  ID token: RS256, by the RSA key of the JWKS (OIDC Core 15.1)');
is($ath->{typ}, 'at+jwt', '  access token: typ at+jwt');
is("$ath->{alg} $ath->{kid}", 'ES256 e1', '  access token: ES256, the signing key');
is($atc->{aud}, "$ISS/api", '  access token: the API\'s audience');
ok(defined $atc->{sid} && $atc->{sid} eq ($idc->{sid} // ''),
   '  access token: the sid of the ID token');
is($s->{expires_in}, 600, '  expires_in 600');
is($s->{scope}, 'openid', '  scope openid');

# 4. userinfo
$s = step_ok($steps, $out, 'userinfo', 'userinfo with the access token');
is_deeply($s->{claims}, { sub => 'ada', name => 'Ada Lovelace',
                          email => 'ada@example.org' },
          '  sub, name, email');
is($s->{api_status}, 200, '  the API\'s gateway takes the access token');
like($s->{api_body} // '', qr/sub=ada/, '  and hands on the identity');

# 5. refresh: rotation, and the grace of a lost reply
$s = step_ok($steps, $out, 'refresh',
             'refresh_token grant: a new refresh token, a new ID token');
ok(exists $s->{nonce_in_id_token} && !$s->{nonce_in_id_token},
   '  the refreshed ID token has no nonce');
is($s->{typ}, 'at+jwt', '  the new access token: at+jwt');
is($s->{userinfo_status}, 200, '  userinfo takes the new access token');
step_ok($steps, $out, 'grace',
        "the first refresh token again at once (within ${GRACE} s): a new pair");

# 6. the first token after the grace: reuse, the session revoked
my $t0 = time;
if ($HUP) {
    sleep 2;
    is(nginx_hup(), undef, 'HUP: nginx reloaded while the grace runs out');
}
sleep $GRACE + 1.5 - (time - $t0);
($steps, $out) = client('reuse');
$s = step_ok($steps, $out, 'reuse', 'the first refresh token after the grace: refused');
is($s->{error}, 'invalid_grant', '  invalid_grant');
like($s->{description} // '', qr/revoked/, '  the session is revoked');
$s = step_ok($steps, $out, 'revoked', 'the session\'s tokens are refused');
is(($s->{current_rt} // {})->{error}, 'invalid_grant', '  the current refresh token too');
is($s->{userinfo_status}, 401, '  userinfo: 401');
like($s->{userinfo_www} // '', qr/error="invalid_token"/, '  invalid_token');
is($s->{api_status}, 401, '  the API\'s gateway refuses the access token');
cmp_ok($s->{api_refused_after} // 9, '<', 1.5, '  within a second');
like(error_log_text(), qr/a rotated refresh token of session "[^"]+" was used again/,
     'the reuse is logged');

unlike(error_log_text(), qr/\Q$MobispotLogin::PW\E/, 'no password in the error log');
is(join("\n", stop_env()), '', 'nginx clean');
my @errors = grep { !/mobispot: a rotated refresh token/ }
             error_log_text() =~ /^.*\[(?:error|crit|alert|emerg)\].*$/mg;
is(join("\n", @errors), '', 'no other error in the log');

# 7. an issuer with ES256 keys only: its document cannot list RS256, and
# a client that follows Discovery 1.0 3 strictly refuses it (docs/sso.md)
start_env(main_config => 'thread_pool default threads=2;',
          http_config => $http =~ s/^.*rsa\.key.*\n//mr, config => $conf);
($steps, $out) = client('discovery');
$s = $steps->{discovery} // {};
ok(defined $s->{ok} && !$s->{ok}, 'ES256 keys only: authlib refuses the document')
    or diag($out);
like($s->{error} // '', qr/"RS256" MUST be included/, '  for want of RS256');
is(join("\n", stop_env()), '', 'nginx clean');

Test::More::done_testing();
