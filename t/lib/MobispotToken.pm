package MobispotToken;

# What the token endpoint's tests (t/515, t/516, t/517) share: an nginx
# that is the issuer (ES256 or RS256 key), the Spot API's admin routes (to
# register clients: the module hashes a confidential client's secret) and
# gateway locations that verify the minted tokens through the key set in
# Redis; the sign-in's records written into Redis exactly as docs/sso.md
# "The sign-in's keys in Redis" says (what login and authorize write);
# the token request; the JWT's parts; the ID token verified against the
# JWKS with python3's cryptography (code this project did not write).

use strict;
use warnings;

use Exporter 'import';
use Digest::SHA qw(sha256 sha256_hex);
use MIME::Base64 qw(encode_base64url decode_base64url encode_base64);
use JSON::PP ();
use Time::HiRes qw(time sleep);
use Test::Mobispot;
use MobispotSSO;

our @EXPORT = qw(token_env iss api_aud seed_user seed_session seed_code
                 seed_clients token_post form jwt_parts verify_jwks
                 challenge b64 new_sid gateway decode APP_URI APP_SECRET
                 wait_for);

my $json = JSON::PP->new->canonical;

use constant APP_URI => 'be.mobispot.app:/oauth2redirect';
use constant APP_SECRET => 'a-confidential-secret-of-40-bytes-long!!';

sub iss { return 'http://127.0.0.1:' . server_port() . '/sso' }
sub api_aud { return iss() . '/api' }
sub b64 { return encode_base64url($_[0]) }
sub challenge { return b64(sha256($_[0])) }
sub decode { return eval { JSON::PP::decode_json($_[0]) } // {} }

my $sid_n = 0;
sub new_sid { return b64(pack('N', ++$sid_n) . ('s' x 12)) }   # 22 chars

# the issuer with one key (ES256 or RS256), gateways at /gw/api (the app's
# API audience), /gw/namur (a site's audience), /gw/site (the API's
# audience and mobispot_site cw-namur: entitlement); http => and config =>
# add lines to the http block and to the server
sub token_env {
    my (%o) = @_;
    my $dir = sso_keys();
    chmod 0600, "$dir/$o{key}";
    my $extra = $o{http} // '';
    start_env(http_config => <<"HTTP", config => <<'CONF' . ($o{config} // ''));
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_sso_signing_key $dir/$o{key} kid=$o{kid};
    mobispot_jwt_keys_redis on;
    mobispot_jwt_issuer http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/sso;
    mobispot_sso_revocation on;
    log_format token '\$request_uri \$status \$mobispot_error';
    access_log logs/token.log token;
$extra
HTTP
    location /sso/ {
        mobispot_sso_issuer;
        mobispot_sso_issuer_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso;
    }
    location /api/v1/ { mobispot_api; }
    location /echo { return 200 "sub=$http_x_sub pass=$http_x_pass\n"; }
    location /gw/api {
        mobispot_sso on;
        mobispot_jwt_audience http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso/api;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_set_header X-Pass $mobispot_pass;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /gw/namur {
        mobispot_sso on;
        mobispot_jwt_audience cw-namur;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /gw/site {
        mobispot_sso on;
        mobispot_jwt_audience http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso/api;
        mobispot_site cw-namur;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
CONF
    wait_for(sub { (redis_cmd('GET', 'ms:sso:jwks') // '') =~ /\Q$o{kid}\E/ },
             'the key set in Redis');
}

# the clients: a public app, a confidential client, a site gateway
sub seed_clients {
    redis_cmd('HSET', 'ms:sites', 'cw-namur', '{"name":"CoWallonia Namur"}');
    my @c = (
        ['app', { kind => 'public_app', name => 'App',
                  redirect_uris => [APP_URI] }],
        ['back', { kind => 'confidential', name => 'Back office',
                   redirect_uris => ['https://back.example/cb'],
                   secret => APP_SECRET }],
        ['other', { kind => 'public_app', name => 'Other',
                    redirect_uris => [APP_URI] }],
        ['cw-namur-gw', { kind => 'site_gateway', name => 'Namur',
                          redirect_uris => ['https://namur.example/cb'],
                          site => 'cw-namur' }],
    );
    for my $c (@c) {
        my $r = http_request({ method => 'PUT',
                               uri => "/api/v1/admin/clients/$c->[0]",
                               body => $json->encode($c->[1]) });
        die "PUT client $c->[0]: $r->{status} $r->{body}\n"
            unless $r->{status} == 201;
    }
}

# an account as the admin API writes it (docs/data-model.md)
sub seed_user {
    my ($id, %f) = @_;
    my @today = gmtime;
    my $y = $today[5] + 1900;
    my %info = (passports => sprintf('cowallonia/%d-01-01/%d-12-31', $y, $y),
                company => '', company_zones => '', company_networks => '',
                admin => '0', operator_of => '', %f);
    redis_cmd('HSET', "ms:{user:$id}:info", %info);
    redis_cmd('SET', "ms:{user:$id}:doc",
              $json->encode({ id => $id, name => 'Ada Lovelace',
                              email => 'ada@example.org' }));
    redis_cmd('HSET', 'ms:{networks}:passport', 'cowallonia',
              'cowallonia-pass', 'other-net', 'other-pass');
    redis_cmd('HSET', 'ms:{site:cw-namur}:info', 'networks', 'cowallonia',
              'zone', '');
}

# the central session, as login writes it
sub seed_session {
    my ($sid, $user) = @_;
    my $now = int(time);
    redis_cmd('HSET', "ms:{sess:$sid}", 'user', $user,
              'key', sha256_hex('cookie-secret'), 'auth_time', $now - 5,
              'exp', $now + 3600);
    redis_cmd('EXPIREAT', "ms:{sess:$sid}", $now + 3600);
}

# a code, as authorize writes it; returns (code, verifier)
sub seed_code {
    my (%o) = @_;
    my $code = $o{code} // b64(join '', map { chr int rand 256 } 1 .. 32);
    my $verifier = $o{verifier} // b64(join '', map { chr int rand 256 } 1 .. 40);
    my %rec = (client => $o{client} // 'app',
               redirect_uri => $o{redirect_uri} // APP_URI,
               challenge => challenge($verifier), sid => $o{sid},
               sub => $o{sub} // 'u1', scope => $o{scope} // 'openid',
               auth_time => int(time) - 5);
    $rec{nonce} = $o{nonce} if defined $o{nonce};
    redis_cmd('SET', 'ms:{code:' . sha256_hex($code) . '}',
              $json->encode(\%rec), 'PX', 60000);
    return ($code, $verifier);
}

sub form {
    my (@kv) = @_;
    my @p;
    while (my ($k, $v) = splice @kv, 0, 2) {
        my $e = $v =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ger;
        push @p, "$k=$e";
    }
    return join '&', @p;
}

# POST token with a body (a string) and headers: (status, JSON, response)
sub token_post {
    my ($body, @headers) = @_;
    my $has_ct = grep { /^Content-Type:/i } @headers;
    push @headers, 'Content-Type: application/x-www-form-urlencoded'
        unless $has_ct;
    @headers = grep { !/^Content-Type:\s*$/i } @headers;
    my $r = http_request({ method => 'POST', uri => '/sso/token',
                           body => $body, headers => \@headers });
    return ($r->{status}, decode($r->{body}), $r);
}

# header and claims of a JWT
sub jwt_parts {
    my ($t) = @_;
    my ($h, $c) = split /\./, $t // '';
    return (decode(decode_base64url($h // '')), decode(decode_base64url($c // '')));
}

sub gateway {
    my ($path, $token) = @_;
    my $r = http_request({ uri => $path,
                           headers => ["Authorization: Bearer $token"] });
    return wantarray ? ($r->{status}, $r->{body}) : $r->{status};
}

# the JWT's signature checked by python3-cryptography against GET jwks
my $py = <<'PY';
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
def d(s): return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))
def i(s): return int.from_bytes(d(s), 'big')
jwks = json.load(open(sys.argv[1]))
tok = sys.argv[2]
h, p, s = tok.split('.')
head = json.loads(d(h))
k = [k for k in jwks['keys'] if k['kid'] == head['kid']][0]
data, sig = (h + '.' + p).encode(), d(s)
if k['kty'] == 'EC':
    pub = ec.EllipticCurvePublicNumbers(i(k['x']), i(k['y']), ec.SECP256R1()).public_key()
    pub.verify(encode_dss_signature(int.from_bytes(sig[:32], 'big'),
               int.from_bytes(sig[32:], 'big')), data, ec.ECDSA(hashes.SHA256()))
else:
    pub = rsa.RSAPublicNumbers(i(k['e']), i(k['n'])).public_key()
    pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
print('verified ' + head['alg'])
PY

sub verify_jwks {
    my ($token) = @_;
    my $dir = sso_keys();
    my $jwks = http_request('GET /sso/jwks')->{body};
    open my $fh, '>', "$dir/jwks.json" or die;
    print $fh $jwks;
    close $fh;
    open $fh, '>', "$dir/verify.py" or die;
    print $fh $py;
    close $fh;
    my $out = `python3 $dir/verify.py $dir/jwks.json '$token' 2>&1`;
    chomp $out;
    return $out;
}

# waits for a condition, 10 s at most (valgrind is slow)
sub wait_for {
    my ($cond, $what) = @_;
    my $t = time;
    while (time - $t < 10) {
        return 1 if $cond->();
        sleep 0.05;
    }
    Test::More::diag("gave up waiting: $what");
    return 0;
}

1;
