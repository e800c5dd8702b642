# The issuer's client registry (issue 10): PUT/GET/DELETE
# admin/clients/{id}, admin only.  The three kinds (a site gateway and its
# site, the audience of its tokens; a public app and its private-use
# scheme; a confidential client and its write-only secret, hashed with
# yescrypt in the thread pool), the rules of redirect URIs, and each
# refusal naming its field with nothing written (Redis compared before and
# after); the secret never returned, logged or stored but as its hash.
#
#   prove -I t/lib t/501-issuer-clients.t
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotIssuer;
use Test::More;
use JSON::PP;

my $SECRET = 'a confidential secret of more than 32 bytes';

# a client body: members as raw JSON text (undef: left out), in this order
my @ORDER = qw(kind name site redirect_uris post_logout_redirect_uris secret);
my %GATEWAY = (
    kind => '"site_gateway"',
    name => '"CoWallonia Namur"',
    site => '"cw-namur"',
    redirect_uris => '["https://namur.cowallonia.be/sso/callback"]',
    post_logout_redirect_uris => '["https://namur.cowallonia.be/"]',
);
my %APP = (
    kind => '"public_app"',
    name => '"Mobispot"',
    redirect_uris => '["be.mobispot.app:/oauth2redirect","http://127.0.0.1:8765/cb"]',
);
my %CONF = (
    kind => '"confidential"',
    name => '"The back office"',
    redirect_uris => '["https://office.mobispot.be/cb"]',
    secret => '"' . $SECRET . '"',
);

sub body {
    my ($base, %with) = @_;
    my %b = (%$base, %with);
    return '{' . join(',', map { "\"$_\":$b{$_}" }
                           grep { defined $b{$_} } @ORDER) . '}';
}

sub put {
    my ($id, $body) = @_;
    return http_request({ method => 'PUT', uri => "/api/v1/admin/clients/$id",
                          body => $body });
}

sub decode { return eval { decode_json($_[0]) } // {} }

start_env(http_config => <<'CONF', config => <<'CONF2');
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
CONF
    location /api/v1/ { mobispot_api; }
    location /closed/ { mobispot_admin off; mobispot_api base=/closed/; }
CONF2

redis_cmd('HSET', 'ms:sites', 'cw-namur', '{"name":"CoWallonia Namur"}');

# --- a site gateway

my $r = put('cw-namur-gw', body(\%GATEWAY));
is($r->{status}, 201, 'PUT a site gateway: 201');
is_deeply(decode($r->{body}), {
    id => 'cw-namur-gw', kind => 'site_gateway', name => 'CoWallonia Namur',
    site => 'cw-namur',
    redirect_uris => ['https://namur.cowallonia.be/sso/callback'],
    post_logout_redirect_uris => ['https://namur.cowallonia.be/'],
}, '... the client as stored');
is_deeply({ @{ redis_cmd('HGETALL', 'ms:{client:cw-namur-gw}') } }, {
    doc => $r->{body}, kind => 'site_gateway', name => 'CoWallonia Namur',
    site => 'cw-namur',
    redirect_uris => 'https://namur.cowallonia.be/sso/callback',
    post_logout_redirect_uris => 'https://namur.cowallonia.be/',
}, '... one hash: the document and the fields the issuer reads');
my $doc = $r->{body};
$r = http_request('GET /api/v1/admin/clients/cw-namur-gw');
is($r->{status}, 200, 'GET it: 200');
is($r->{body}, $doc, '... the document as stored');
$r = put('cw-namur-gw', body(\%GATEWAY, redirect_uris =>
    '["https://namur.cowallonia.be/sso/callback","https://namur.cowallonia.be/cb2"]'));
is($r->{status}, 200, 'PUT it again: 200');
is(redis_cmd('HGET', 'ms:{client:cw-namur-gw}', 'redirect_uris'),
   'https://namur.cowallonia.be/sso/callback https://namur.cowallonia.be/cb2',
   '... its URIs, separated by a blank');

# --- a public app: private-use scheme and loopback, no site, no secret

$r = put('mobispot-app', body(\%APP));
is($r->{status}, 201, 'PUT a public app: 201');
is_deeply(decode($r->{body})->{post_logout_redirect_uris}, [],
          '... no post-logout URIs: an empty list');
is(redis_cmd('HEXISTS', 'ms:{client:mobispot-app}', 'site'), 0, '... no site');

# --- a confidential client: its secret hashed, never returned

$r = put('office', body(\%CONF));
is($r->{status}, 201, 'PUT a confidential client with its secret: 201');
unlike($r->{body}, qr/secret|\$y\$/, '... the answer holds neither secret nor hash');
my $h = redis_cmd('HGET', 'ms:{client:office}', 'secret_hash') // '';
like($h, qr/^\$y\$/, '... stored as a yescrypt hash');
is(crypt($SECRET, $h), $h, "... that libcrypt's crypt() (Perl) verifies");
unlike(redis_cmd('HGET', 'ms:{client:office}', 'doc'), qr/secret/,
       '... the document holds no secret');
$r = http_request('GET /api/v1/admin/clients/office');
unlike($r->{body}, qr/secret|\$y\$/, 'GET: no secret, no hash');
$r = put('office', body(\%CONF, secret => undef, name => '"The office"'));
is($r->{status}, 200, 'PUT it without its secret: 200');
is(redis_cmd('HGET', 'ms:{client:office}', 'secret_hash'), $h, '... the hash is kept');
$r = put('office', body(\%CONF, secret => "\"$SECRET, rotated\""));
is($r->{status}, 200, 'PUT it with another secret');
my $h2 = redis_cmd('HGET', 'ms:{client:office}', 'secret_hash');
is(crypt("$SECRET, rotated", $h2), $h2, '... the new one is stored');

# the kind changes: what the old kind had goes
$r = put('office', body(\%APP));
is($r->{status}, 200, 'the confidential client becomes a public app');
is(redis_cmd('HEXISTS', 'ms:{client:office}', 'secret_hash'), 0, '... its secret hash goes');
$r = put('cw-namur-gw', body(\%APP));
is($r->{status}, 200, 'the site gateway becomes a public app');
is(redis_cmd('HEXISTS', 'ms:{client:cw-namur-gw}', 'site'), 0, '... its site goes');

# --- DELETE

$r = http_request('DELETE /api/v1/admin/clients/office');
is($r->{status}, 200, 'DELETE a client');
is_deeply(decode($r->{body}), { id => 'office', deleted => JSON::PP::true }, '... its answer');
is(redis_cmd('EXISTS', 'ms:{client:office}'), 0, '... its hash is gone');
$r = http_request('DELETE /api/v1/admin/clients/office');
is($r->{status}, 404, 'DELETE it again: 404');
$r = http_request('GET /api/v1/admin/clients/office');
is($r->{status}, 404, 'GET it: 404');
is(decode($r->{body})->{error}{code}, 'not_found', '... not_found');
$r = http_request('GET /api/v1/admin/clients/NOT-AN-ID');
is($r->{status}, 404, 'GET of an id that cannot be: 404');

# --- admin only

my $before = redis_dump();
$r = http_request({ method => 'PUT', uri => '/closed/admin/clients/x', body => body(\%APP) });
is($r->{status}, 403, 'mobispot_admin off: PUT 403');
$r = http_request('GET /closed/admin/clients/mobispot-app');
is($r->{status}, 403, '... GET 403');
$r = http_request('DELETE /closed/admin/clients/mobispot-app');
is($r->{status}, 403, '... DELETE 403');
is(redis_dump(), $before, '... nothing written');

# --- refusals: [id, body, status, code, field, what]

my @bad = (
    ['x', '', 400, 'malformed_json', undef, 'no body'],
    ['x', '[]', 400, 'invalid_field', undef, 'not an object'],
    ['x', body(\%APP, extra => undef) =~ s/\}$/,"scope":"openid"}/r, 400, 'invalid_field', 'scope', 'an unknown member'],
    ['x', body(\%APP) =~ s/\}$/,"name":"again"}/r, 400, 'invalid_field', 'name', 'a member twice'],
    ['X', body(\%APP), 400, 'invalid_id', undef, 'a bad id'],
    ['x' x 65, body(\%APP), 400, 'invalid_id', undef, 'an id too long'],
    ['x', body(\%APP, kind => undef), 400, 'invalid_field', 'kind', 'no kind'],
    ['x', body(\%APP, kind => '1'), 400, 'invalid_field', 'kind', 'a kind not a string'],
    ['x', body(\%APP, kind => '"public"'), 422, 'invalid_value', 'kind', 'an unknown kind'],
    ['x', body(\%APP, name => undef), 400, 'invalid_field', 'name', 'no name'],
    ['x', body(\%APP, name => '""'), 422, 'invalid_value', 'name', 'an empty name'],
    ['x', body(\%APP, name => '"' . ('n' x 201) . '"'), 422, 'invalid_value', 'name', 'a name too long'],
    ['x', body(\%APP, redirect_uris => undef), 400, 'invalid_field', 'redirect_uris', 'no redirect URIs'],
    ['x', body(\%APP, redirect_uris => '[]'), 422, 'invalid_value', 'redirect_uris', 'an empty list'],
    ['x', body(\%APP, redirect_uris => '"https://a.example/cb"'), 400, 'invalid_field', 'redirect_uris', 'a string, not a list'],
    ['x', body(\%APP, redirect_uris => '[' . join(',', map { "\"https://a.example/$_\"" } 1 .. 11) . ']'),
     422, 'invalid_value', 'redirect_uris', '11 URIs'],
    ['x', body(\%APP, redirect_uris => '[1]'), 400, 'invalid_field', 'redirect_uris[0]', 'a number'],
    ['x', body(\%APP, redirect_uris => '["https://a.example/cb","https://a.example/cb"]'),
     422, 'invalid_value', 'redirect_uris[1]', 'a URI twice'],
    ['x', body(\%APP, redirect_uris => '["https://a.example/cb#x"]'), 422, 'invalid_value', 'redirect_uris[0]', 'a fragment'],
    ['x', body(\%APP, redirect_uris => '["/cb"]'), 422, 'invalid_value', 'redirect_uris[0]', 'a relative URI'],
    ['x', body(\%APP, redirect_uris => '["http://a.example/cb"]'), 422, 'invalid_value', 'redirect_uris[0]', 'http, not loopback'],
    ['x', body(\%APP, redirect_uris => '["https://user@a.example/cb"]'), 422, 'invalid_value', 'redirect_uris[0]', 'user information'],
    ['x', body(\%APP, redirect_uris => '["javascript:alert(1)"]'), 422, 'invalid_value', 'redirect_uris[0]', 'javascript:'],
    ['x', body(\%APP, redirect_uris => '["com.example.app://cb"]'), 422, 'invalid_value', 'redirect_uris[0]', 'a private-use URI with an authority'],
    ['x', body(\%APP, redirect_uris => '["https://a.example/c b"]'), 422, 'invalid_value', 'redirect_uris[0]', 'a blank'],
    ['x', body(\%APP, redirect_uris => '["https://a.example/caf\u00e9"]'), 422, 'invalid_value', 'redirect_uris[0]', 'non-ASCII'],
    ['x', body(\%APP, redirect_uris => '["https://a.example/\u0000"]'), 422, 'invalid_value', 'redirect_uris', 'a NUL'],
    ['x', body(\%APP, redirect_uris => '["https://' . ('a' x 2100) . '/"]'), 422, 'invalid_value', 'redirect_uris[0]', 'a URI too long'],
    ['x', body(\%GATEWAY, redirect_uris => '["com.example.app:/cb"]'), 422, 'invalid_value', 'redirect_uris[0]',
     'a private-use scheme for a site gateway'],
    ['x', body(\%CONF, redirect_uris => '["com.example.app:/cb"]'), 422, 'invalid_value', 'redirect_uris[0]',
     'a private-use scheme for a confidential client'],
    ['x', body(\%APP, post_logout_redirect_uris => '["https://a.example/#top"]'), 422, 'invalid_value',
     'post_logout_redirect_uris[0]', 'a post-logout URI with a fragment'],
    ['x', body(\%APP, post_logout_redirect_uris => '{}'), 400, 'invalid_field', 'post_logout_redirect_uris', 'an object'],
    ['x', body(\%GATEWAY, site => undef), 400, 'invalid_field', 'site', 'a site gateway without its site'],
    ['x', body(\%GATEWAY, site => '"nowhere"'), 422, 'invalid_value', 'site', 'an unknown site'],
    ['x', body(\%GATEWAY, site => '"Bad Site"'), 422, 'invalid_value', 'site', 'a bad site id'],
    ['x', body(\%GATEWAY, site => '7'), 400, 'invalid_field', 'site', 'a site not a string'],
    ['x', body(\%APP, site => '"cw-namur"'), 422, 'invalid_value', 'site', 'a site for a public app'],
    ['x', body(\%APP, secret => "\"$SECRET\""), 422, 'invalid_value', 'secret', 'a secret for a public app'],
    ['x', body(\%GATEWAY, secret => "\"$SECRET\""), 422, 'invalid_value', 'secret', 'a secret for a site gateway'],
    ['x', body(\%CONF, secret => undef), 422, 'invalid_value', 'secret', 'a new confidential client without a secret'],
    ['x', body(\%CONF, secret => '"too short a secret"'), 422, 'invalid_value', 'secret', 'a secret of 18 bytes'],
    ['x', body(\%CONF, secret => '"' . ('s' x 257) . '"'), 422, 'invalid_value', 'secret', 'a secret of 257 bytes'],
    ['x', body(\%CONF, secret => '123'), 400, 'invalid_field', 'secret', 'a secret not a string'],
    ['x', body(\%CONF, secret => "\"$SECRET\xc3\""), 422, 'invalid_value', 'secret', 'a secret of bad UTF-8'],
);
for my $b (@bad) {
    my ($id, $body, $status, $code, $field, $what) = @$b;
    $before = redis_dump();
    $r = put($id, $body);
    is($r->{status}, $status, "$what: $status");
    my $e = decode($r->{body})->{error} // {};
    is($e->{code}, $code, "... $code");
    is($e->{field}, $field, '... naming ' . ($field // 'no field')) if defined $field;
    unlike($r->{body}, qr/\Q$SECRET\E/, '... the secret is not echoed');
    is(redis_dump(), $before, '... nothing written');
}
$r = put('mobispot-app', body(\%CONF, secret => undef));
is($r->{status}, 422, 'a public app made confidential without a secret: 422');
is(decode($r->{body})->{error}{field}, 'secret', '... naming the secret');

my @problems = stop_env();
is(join("\n", @problems), '', 'nginx clean (no alert, no crash; valgrind)');
my $log = error_log_text();
unlike($log, qr/\Q$SECRET\E/, 'no secret in the error log (debug)');
unlike($log, qr/\$y\$/, 'no hash in the error log');
unlike(redis_dump(), qr/\Q$SECRET\E/, 'no secret in Redis');

done_testing();
