# Hostile input over every route of the API: malformed and non-UTF-8 JSON,
# NULs, comments, huge and edge numbers, edge coordinates and dates, long
# and strange ids, wrong methods, query strings and framing.  For each
# request: no answer >= 500 but the documented 503/504, a JSON error body
# for every refusal, and a refusal changes nothing in Redis.  After the
# run: every value Redis holds is well-formed (strict UTF-8, no NUL, JSON
# that a strict parser reads, coordinates Redis GEO holds), and the error
# log has no alert, no crit and no 500.
#
#   prove -I t/lib t/300-hostile.t
#
# A route added to the API adds its cases here.
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;
use Test::More;
use JSON::PP;
use Encode ();

my $json = JSON::PP->new->allow_nonref;

my $NET = '{"name":"CoWallonia","passport":{"id":"cowallonia-pass",'
    . '"name":"CoWallonia pass","monthly_price_eur":250}}';

my $SITE = '{"name":"CoWallonia Namur","town":"Namur",'
    . '"address":"Place d\'Armes 1, 5000 Namur","latitude":50.4641,'
    . '"longitude":4.8661,"time_zone":"Europe/Brussels",'
    . '"networks":["cowallonia"],"amenities":["fibre_1gbps"],"slot_minutes":30,'
    . '"opening_hours":{"mon":["08:30-12:00","13:00-18:00"],'
    . '"sat":["09:00-13:00"]},"closed_dates":["2026-12-25"],'
    . '"resources":[{"kind":"desk","capacity":24},'
    . '{"kind":"meeting_room","id":"meuse","name":"Meuse","seats":8}]}';

# a body (JSON text) with one member's value replaced by raw JSON text,
# the members in the order given
sub body_with {
    my ($body, $order, $key, $raw) = @_;
    my $doc = $json->decode($body);
    return '{' . join(',', map {
        '"' . $_ . '":' . ($_ eq $key ? $raw
                                      : JSON::PP->new->canonical->utf8->encode($doc->{$_}))
    } @$order) . '}';
}

sub site_with {
    return body_with($SITE, [qw(name town address latitude longitude time_zone
                                networks amenities slot_minutes opening_hours
                                closed_dates resources)], @_);
}

my $USER = '{"name":"Ada Lovelace","email":"ada@example.org",'
    . '"passports":[{"network":"cowallonia","from":"2026-12-01","to":"2031-11-30"}],'
    . '"company":{"id":"acme","zones":["namur-province"],"networks":["cowallonia"]},'
    . '"roles":{"admin":false,"site_operator":["cw-namur"]}}';

sub user_with {
    my ($key) = @_;
    # the write-only password: only when it is the member replaced
    return body_with($USER, [qw(name email passports company roles),
                             $key eq 'password' ? ('password') : ()], @_);
}

my $CLIENT = '{"kind":"confidential","name":"The back office",'
    . '"redirect_uris":["https://office.mobispot.be/cb"],'
    . '"post_logout_redirect_uris":["https://office.mobispot.be/"],'
    . '"secret":"a confidential secret of more than 32 bytes"}';

sub client_with {
    return body_with($CLIENT, [qw(kind name redirect_uris
                                  post_logout_redirect_uris secret)], @_);
}

sub network_with {
    my ($raw_name, $raw_pass) = @_;
    return '{"name":' . $raw_name . ',"passport":' . $raw_pass . '}';
}

# the issuer's signing key (the issuer's cases below)
my $keys = sso_keys();
chmod 0600, "$keys/ec256.key";

start_env(http_config => <<'CONF', config => <<'CONF2');
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_api_max_body 16k;
    mobispot_sso_signing_key $TEST_NGINX_SSO_KEYS/ec256.key kid=e1;
CONF
    location /sso/ {
        mobispot_sso_issuer;
        mobispot_sso_issuer_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso;
    }
    location /api/v1/ {
        # stands in for mobispot_sso on the bookings' cases
        set $mobispot_sub $http_x_test_user;
        set $mobispot_pass $http_x_test_pass;
        mobispot_api;
    }
CONF2

my $r = http_request("PUT /api/v1/admin/networks/cowallonia\n$NET");
is($r->{status}, 201, 'seed: the network');
$r = http_request("PUT /api/v1/admin/sites/cw-namur\n$SITE");
is($r->{status}, 201, 'seed: the site');
$r = http_request("PUT /api/v1/admin/users/ada\n$USER");
is($r->{status}, 201, 'seed: the account');
$r = http_request("PUT /api/v1/admin/users/pat\n"
    . ($USER =~ s/"company":\{[^}]*\},//r =~ s/ada\@/pat\@/r));
is($r->{status}, 201, 'seed: an account without a company');
$r = http_request("PUT /api/v1/admin/clients/app\n$CLIENT");
is($r->{status}, 201, 'seed: a client');

my @cases;    # [label, request hash]

sub add {
    my ($label, %req) = @_;
    push @cases, [$label, \%req];
}

# --- methods: every route with every method it does not have, and some
# nginx does not know

my %routes = (
    'health' => [qw(GET HEAD)],
    'networks' => [qw(GET HEAD)],
    'spots/cw-namur' => [qw(GET HEAD)],
    'spots/cw-namur/availability' => [qw(GET HEAD)],
    'spots/nearby?lat=50.4&lon=4.8' => [qw(GET HEAD)],
    'admin/networks/cowallonia' => [qw(PUT)],
    'admin/sites/cw-namur' => [qw(PUT DELETE)],
    'admin/users/ada' => [qw(GET HEAD PUT DELETE)],
    'admin/clients/app' => [qw(GET HEAD PUT DELETE)],
    'bookings' => [qw(GET HEAD POST)],
    'bookings/cw-namur.0123456789abcdef01234567' => [qw(GET HEAD DELETE)],
    'usage?site=cw-namur&month=2026-03' => [qw(GET HEAD)],
    'settlement?network=cowallonia&month=2026-03' => [qw(GET HEAD)],
);

for my $path (sort keys %routes) {
    my %has = map { $_ => 1 } @{ $routes{$path} };
    for my $m (qw(GET HEAD POST PUT PATCH DELETE OPTIONS TRACE PROPFIND)) {
        next if $has{$m};
        next if $m eq 'DELETE' && $path eq 'admin/networks/cowallonia';
        add("$m $path", method => $m, uri => "/api/v1/$path",
            body => $m =~ /^(POST|PUT|PATCH)$/ ? '{}' : undef);
    }
}

# --- paths: ids and routes that are not

for my $id ('', 'a' x 300, 'a' x 5000, '%00', 'a%00b', '%ff%fe', '..', '%2e%2e',
            'x%2fy', 'caf%c3%a9', '%c0%af', 'a b', '{x}', '%7Bx%7D', 'A',
            '-', '_', 'a.b', "a'b", 'a"b', '%0d%0aSet-Cookie:x=1')
{
    add("GET spots/$id", method => 'GET', uri => "/api/v1/spots/$id");
    add("GET spots/$id/availability", method => 'GET',
        uri => "/api/v1/spots/$id/availability");
    add("PUT admin/sites/$id", method => 'PUT',
        uri => "/api/v1/admin/sites/$id", body => $SITE);
    add("DELETE admin/sites/$id", method => 'DELETE',
        uri => "/api/v1/admin/sites/$id");
    add("PUT admin/networks/$id", method => 'PUT',
        uri => "/api/v1/admin/networks/$id", body => $NET);
    add("PUT admin/users/$id", method => 'PUT',
        uri => "/api/v1/admin/users/$id", body => $USER);
    add("GET admin/users/$id", method => 'GET', uri => "/api/v1/admin/users/$id");
    add("DELETE admin/users/$id", method => 'DELETE',
        uri => "/api/v1/admin/users/$id");
    add("PUT admin/clients/$id", method => 'PUT',
        uri => "/api/v1/admin/clients/$id", body => $CLIENT);
    add("GET admin/clients/$id", method => 'GET',
        uri => "/api/v1/admin/clients/$id");
    add("DELETE admin/clients/$id", method => 'DELETE',
        uri => "/api/v1/admin/clients/$id");
}

# user ids (a token's sub) past their rule: refused, nothing written
for my $id ('a' x 129, 'a:b', 'a{b}', '%7Ba%7D', '|a', '.a', 'a%00', 'a%20b',
            'a%2Fb', 'caf%c3%a9', 'a,b', 'a;b', 'a=b', 'a%22b', 'a*')
{
    add("PUT admin/users/$id (not a sub)", method => 'PUT', must => 'refuse',
        uri => "/api/v1/admin/users/$id", body => $USER);
}

for my $path ('', 'nothing', 'spots', 'spots/', 'spots/cw-namur/', 'spots/cw-namur/x',
              'admin', 'admin/', 'admin/sites', 'admin/sites/', 'admin/networks',
              'health/', 'networks/x', 'spots/nearby/x', 'admin/sites/a/b',
              'spots/cw-namur/availability/x', 'admin/users', 'admin/users/',
              'admin/users/ada/x', 'admin/clients', 'admin/clients/',
              'admin/clients/app/x', 'admin/client/app')
{
    add("GET $path", method => 'GET', uri => "/api/v1/$path");
}

add('DELETE of an unknown site', method => 'DELETE',
    uri => '/api/v1/admin/sites/nowhere');
add('DELETE with a body', method => 'DELETE',
    uri => '/api/v1/admin/sites/nowhere', body => '{"x":1}');

# --- query strings of availability

for my $q ('date=9999-12-31', 'date=10000-01-01', 'date=2101-01-01',
           'date=1969-12-31', 'date=0000-00-00', 'date=2026-02-30',
           'date=2026-13-01', 'date=2026-1-1', 'date=2026-12-01%00',
           'date=2026-12-01x', 'date=', 'date', 'date=%ff',
           'date=2026-12-01&date=2026-12-02', 'date=2026-12-01&from=x',
           'from=2026-12-01T10:00:00Z', 'to=2026-12-01T10:00:00Z',
           'from=2026-12-01T10:00:00Z&to=2026-12-01T09:00:00Z',
           'from=2026-12-01T10:00:00Z&to=2026-12-20T09:00:00Z',
           'from=2026-12-01T25:00:00Z&to=2026-12-01T26:00:00Z',
           'from=9999-12-31T23:00:00Z&to=9999-12-31T23:30:00Z',
           'from=2026-12-01T10:00:00+99:00&to=2026-12-01T11:00:00Z',
           'from=2026-12-01T10:00:00.999999999999Z&to=2026-12-01T11:00:00Z',
           'kind=', 'kind=%00', 'kind=seat', 'kind=desk&kind=desk',
           'kind=' . ('x' x 4000), 'x=' . ('y' x 6000))
{
    add("availability ?$q", method => 'GET',
        uri => "/api/v1/spots/cw-namur/availability?$q");
}

# --- query strings of nearby: coordinates, radius, limit at and past
# their edges, numbers that are not

my @lats = ('85.05112878', '-85.05112878', '85.05112879', '-85.05112879',
            '85.0511288', '85.051128779806', '90', '-90', '91', '1e308',
            '-1e308', '1e-400', 'nan', 'NaN', 'inf', '-inf', '0x10', '1e',
            '', '%00', '50.4%00', '5' x 400, '50,4', ' 50.4', '50.4 ',
            '+50.4', '--1', '.5', '5.', '１');
for my $lat (@lats) {
    add("nearby lat=$lat", method => 'GET',
        uri => "/api/v1/spots/nearby?lat=$lat&lon=4.8");
}
for my $lon ('180', '-180', '180.0000001', '-180.0000001', '360', '1e309',
             'nan', '')
{
    add("nearby lon=$lon", method => 'GET',
        uri => "/api/v1/spots/nearby?lat=50.4&lon=$lon");
}
for my $q ('radius_km=0', 'radius_km=-1', 'radius_km=500', 'radius_km=500.0001',
           'radius_km=1e9', 'radius_km=nan', 'limit=0', 'limit=1', 'limit=100',
           'limit=101', 'limit=-1', 'limit=9223372036854775807',
           'limit=9223372036854775808', 'limit=18446744073709551616',
           'limit=4294967297', 'limit=1.5', 'limit=', 'all=maybe', 'all=',
           'all=true', 'all=1', 'lat=50.4', 'lat=1&lat=2',
           'from=2026-12-01T10:00:00Z', 'from=2026-12-01T10:00:00Z&to=2026-12-03T10:00:00Z',
           'kind=meeting_room&all=true', 'kind=%ff')
{
    my $uri = $q =~ /^lat=/ ? "/api/v1/spots/nearby?$q&lon=4.8"
                            : "/api/v1/spots/nearby?lat=50.4&lon=4.8&$q";
    add("nearby ?$q", method => 'GET', uri => $uri);
}
add('nearby with no parameter', method => 'GET', uri => '/api/v1/spots/nearby');

# --- bodies that are not JSON, or not strict JSON, for both writes

my @bodies = (
    '', ' ', 'null', 'true', '1', '"x"', '[]', '[{}]', '{', '}', '{"name":',
    '{"name":"x"', '{"name":"x",}', '{,}', "{\"name\":\"x\"}\n{}", '{} x',
    '/* c */{}', '{} // c', "{\"name\":\"x\" /* c */}", '# c' . "\n{}",
    "{'name':'x'}", '{name:"x"}', '{"name":"x\ty"}', "{\"name\":\"x\ny\"}",
    "{\"name\":\"x\0y\"}", "\0", "{}\0", '{"name":"\u0000"}',
    '{"name":"UTC\u0000junk"}', '{"name":"\ud800"}', '{"name":"\udc00x"}',
    '{"name":"\ud800\u0041"}', '{"name":"\x"}', '{"name":"\u12"}',
    "{\"name\":\"\xc0\xaf\"}", "{\"name\":\"\xe0\x80\xaf\"}",
    "{\"name\":\"\xed\xa0\x80\"}", "{\"name\":\"\xf4\x90\x80\x80\"}",
    "{\"name\":\"\xf5\x80\x80\x80\"}", "{\"name\":\"\xc3\"}", "{\"name\":\"\x80\"}",
    "\xef\xbb\xbf{}", "{\"\xc3\":1}", "{\"x\xc3\":1}", "{\"n\xc3\xa9\xc3\":1}",
    '{"unknown":1}', '{"name":"a","name":"b"}', ('[' x 5000) . (']' x 5000),
    ('{"a":' x 2000) . '1' . ('}' x 2000), '{"name":1e400}', '{"name":-0}',
    '{"name":' . ('9' x 5000) . '}', '{"name":0.' . ('1' x 5000) . '}',
    '{"name":01}', '{"name":1.}', '{"name":.1}', '{"name":+1}', '{"name":NaN}',
    '{"name":Infinity}', '{"name":0x1}', '{"' . ('k' x 3000) . '":1}',
);

for my $i (0 .. $#bodies) {
    add("PUT network, bad body $i", method => 'PUT', must => 'refuse',
        uri => '/api/v1/admin/networks/cowallonia', body => $bodies[$i]);
    add("PUT site, bad body $i", method => 'PUT', must => 'refuse',
        uri => '/api/v1/admin/sites/cw-namur', body => $bodies[$i]);
    add("PUT account, bad body $i", method => 'PUT', must => 'refuse',
        uri => '/api/v1/admin/users/ada', body => $bodies[$i]);
    add("PUT client, bad body $i", method => 'PUT', must => 'refuse',
        uri => '/api/v1/admin/clients/app', body => $bodies[$i]);
}

add('a body past the limit', method => 'PUT',
    uri => '/api/v1/admin/sites/cw-namur', body => $SITE . (' ' x 20000));
add('a declared length that does not come', raw =>
    "PUT /api/v1/admin/sites/cw-namur HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\nContent-Length: 100\r\n\r\n{\"name\"", timeout => 2);
add('a chunked body with a bad chunk size', raw =>
    "PUT /api/v1/admin/sites/cw-namur HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
add('a chunked body past the limit', raw =>
    "PUT /api/v1/admin/sites/cw-namur HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
    . sprintf("%x\r\n%s\r\n0\r\n\r\n", 20000, ' ' x 20000));

# --- networks: each member wrong

my $PASS = '{"id":"cowallonia-pass","name":"CoWallonia pass","monthly_price_eur":250}';
for my $name ('""', '1', 'null', '[]', '{}', '"' . ('n' x 201) . '"',
              '"' . ("\xc3\xa9" x 201) . '"', '"a\u0000b"', '"\ud800"',
              "\"\xed\xa0\x80\"")
{
    add("network name $name", method => 'PUT', must => 'refuse',
        uri => '/api/v1/admin/networks/cowallonia',
        body => network_with($name, $PASS));
}
for my $pass ('null', '1', '"x"', '[]', '{}', '{"id":"x"}',
              '{"id":"","name":"p","monthly_price_eur":1}',
              '{"id":"a\u0000b","name":"p","monthly_price_eur":1}',
              '{"id":"a b","name":"p","monthly_price_eur":1}',
              '{"id":"p","name":"p","monthly_price_eur":-1}',
              '{"id":"p","name":"p","monthly_price_eur":1e400}',
              '{"id":"p","name":"p","monthly_price_eur":"250"}',
              '{"id":"p","name":"p","monthly_price_eur":1e308}',
              '{"id":"p","name":"p","monthly_price_eur":250,"extra":1}')
{
    add("network passport $pass", method => 'PUT', must => 'refuse',
        uri => '/api/v1/admin/networks/cowallonia',
        body => network_with('"CoWallonia"', $pass));
}

# --- sites: each member wrong

my %bad_site = (
    name => ['""', '1', 'null', '"' . ('n' x 201) . '"', '"a\u0000b"',
             '"' . ("\xc3\xa9" x 201) . '"', "\"\xc0\xaf\"", '"\udfff"'],
    town => ['1', '"a\u0000"', '"' . ('t' x 5000) . '"'],
    address => ['[]', '"\u0000"'],
    latitude => ['85.05112879', '-85.05112879', '85.0511288', '-85.0511288',
                 '90', '91', '-91', '"50.4"', 'null', '1e400', '-1e400',
                 '1e-400', '[50.4]', 'true'],
    longitude => ['180.0000001', '-180.0000001', '181', '1e308', '"4.8"',
                  'null'],
    time_zone => ['"UTC\u0000junk"', '"Nowhere/City"', '""', '"../../etc/passwd"',
                  '"' . ('Z' x 300) . '"', '1', '"Europe/Brussels\n"',
                  '"/usr/share/zoneinfo/UTC"'],
    networks => ['["cowallonia","cowallonia"]', '["nowhere"]', '[1]',
                 '"cowallonia"', '[null]', '["cowallonia\u0000x"]',
                 '[' . join(',', ('"cowallonia"') x 1000) . ']', '{}'],
    amenities => ['"x"', '[1]', '["a\u0000"]', '[' . join(',', ('"x"') x 1000) . ']'],
    slot_minutes => ['0', '-30', '7', '1e10', '30.5', '"30"', '2147483648',
                     '9223372036854775808', '1441', 'null'],
    opening_hours => ['[]', '{"mon":"08:00-12:00"}', '{"mon":["25:00-26:00"]}',
                      '{"mon":["12:00-11:00"]}', '{"mon":["08:00-08:00"]}',
                      '{"xyz":["08:00-12:00"]}', '{"mon":["8-12"]}',
                      '{"mon":["08:00-12:00","11:00-13:00"]}',
                      '{"mon":["08:00-12:00\u0000x"]}', '{"mon":[1]}',
                      '{"mon":["08:61-09:00"]}'],
    closed_dates => ['"2026-12-25"', '["2026-02-30"]', '["9999-12-31"]',
                     '["10000-01-01"]', '["2026-12-25\u0000"]', '[1]',
                     '["2026-1-1"]', '["1969-12-31"]'],
    resources => ['[]', '{}', '[{"kind":"desk","capacity":-1}]',
                  '[{"kind":"desk","capacity":0}]',
                  '[{"kind":"desk","capacity":1e9}]',
                  '[{"kind":"desk","capacity":9007199254740993}]',
                  '[{"kind":"desk","capacity":1.5}]',
                  '[{"kind":"sofa","capacity":1}]',
                  '[{"kind":"desk"}]', '[{"capacity":3}]',
                  '[{"kind":"meeting_room","id":"m","name":"M","seats":0}]',
                  '[{"kind":"meeting_room","id":"m","name":"M","seats":8},'
                      . '{"kind":"meeting_room","id":"m","name":"N","seats":8}]',
                  '[{"kind":"meeting_room","id":"a\u0000","name":"M","seats":8}]',
                  '[{"kind":"meeting_room","id":"m","name":"\ud800","seats":8}]',
                  '[{"kind":"desk","capacity":3,"extra":{"a":[1,2]}}]',
                  (map { '[{"kind":"meeting_room","id":"m","name":"M","seats":8,'
                         . qq("company_only":$_}]) }
                       '1', '0', '"true"', 'null', '{}', '[]', '"\u0000"'),
                  '[{"kind":"desk","capacity":3,"company_only":true}]',
                  '[{"kind":"meeting_room","id":"m","name":"M","seats":8,'
                      . '"company_only":true,"company_only":false}]'],
);

for my $key (sort keys %bad_site) {
    for my $v (@{ $bad_site{$key} }) {
        add("site $key = " . substr($v, 0, 60), method => 'PUT', must => 'refuse',
            uri => '/api/v1/admin/sites/cw-namur', body => site_with($key, $v));
    }
}

add('a site with no member', method => 'PUT', uri => '/api/v1/admin/sites/x2',
    body => '{}', must => 'refuse');

# --- accounts: each member wrong

my $pass = sub { '{"network":"cowallonia","from":"' . $_[0] . '","to":"' . $_[1] . '"}' };
my %bad_user = (
    name => ['""', '1', 'null', '[]', '"' . ('n' x 201) . '"', '"a\u0000b"',
             '"' . ("\xc3\xa9" x 201) . '"', "\"\xc0\xaf\"", '"\ud800"',
             "\"\xed\xa0\x80\"", "\"a\0b\""],
    email => ['""', '1', 'null', '"a"', '"a@b@c"', '"a b@c"', '"a@b\u0000"',
              '"a\u00a0@b"', '"a@\u007f"', '"@"', '"' . ('e' x 251) . '@b.c"',
              '"' . ('e' x 5000) . '@b"', "\"a\xff\@b\"", "\"a\@\xc3\""],
    passports => ['{}', '"x"', '[1]', '[null]', '[[]]', '[{}]',
                  '[' . join(',', map { $pass->(sprintf('20%02d-01-01', $_), sprintf('20%02d-01-01', $_)) } 30 .. 46) . ']',
                  '[' . join(',', ($pass->('2026-12-01', '2027-11-30')) x 1000) . ']',
                  '[' . $pass->('2027-01-01', '2026-01-01') . ']',
                  '[' . $pass->('2026-12-01', '2027-11-30') . ',' . $pass->('2027-11-30', '2028-01-01') . ']',
                  '[' . $pass->('9999-12-31', '9999-12-31') . ']',
                  '[' . $pass->('2026-02-29', '2026-03-01') . ']',
                  '[' . $pass->('2026-12-01\u0000', '2027-11-30') . ']',
                  '[{"network":"nowhere","from":"2026-12-01","to":"2027-11-30"}]',
                  '[{"network":"a\u0000b","from":"2026-12-01","to":"2027-11-30"}]',
                  '[{"network":"' . ('n' x 65) . '","from":"2026-12-01","to":"2027-11-30"}]',
                  '[{"network":"cowallonia","from":20261201,"to":1e400}]',
                  '[{"network":"cowallonia","from":"2026-12-01","to":"2027-11-30","x":{"a":[1]}}]'],
    company => ['"acme"', '[]', '{}', '{"id":1}', '{"id":"a:b"}', '{"id":"a\u0000"}',
                '{"id":"acme","zones":{}}', '{"id":"acme","zones":[1e400]}',
                '{"id":"acme","zones":[' . join(',', map { "\"z$_\"" } 1 .. 33) . ']}',
                '{"id":"acme","zones":[' . join(',', ('"z"') x 1000) . ']}',
                '{"id":"acme","networks":["nowhere"]}',
                '{"id":"acme","networks":["cowallonia","cowallonia"]}',
                '{"id":"acme","networks":[' . join(',', map { "\"n$_\"" } 1 .. 33) . ']}'],
    roles => ['true', '[]', '{"admin":null}', '{"admin":0}', '{"admin":"false"}',
              '{"site_operator":{}}', '{"site_operator":["nowhere"]}',
              '{"site_operator":["cw-namur","cw-namur"]}',
              '{"site_operator":[' . join(',', map { "\"s$_\"" } 1 .. 65) . ']}',
              '{"site_operator":[9223372036854775808]}', '{"admin":true,"root":true}'],
    password => ['""', '"short"', '"' . ('p' x 11) . '"', '"' . ('p' x 257) . '"',
                 '"' . ("\xc3\xa9" x 129) . '"', '"' . ('p' x 5000) . '"',
                 '1', '123456789012', '1e400', 'null', 'true', '[]', '{}',
                 '["correct horse battery"]', '"correct horse\u0000battery"',
                 "\"correct horse\0battery\"", "\"correct horse \xff battery\"",
                 "\"correct horse \xc0\xaf battery\"", '"correct horse \ud800 battery"',
                 "\"correct horse \xed\xa0\x80 battery\""],
);

for my $key (sort keys %bad_user) {
    for my $v (@{ $bad_user{$key} }) {
        add("account $key = " . substr($v, 0, 60), method => 'PUT', must => 'refuse',
            uri => '/api/v1/admin/users/ada', body => user_with($key, $v));
    }
}

# --- clients: each member wrong

my %bad_client = (
    kind => ['""', '1', 'null', '"Confidential"', '"site_gateway "', '"a\u0000"',
             '"' . ('k' x 5000) . '"', '[]'],
    name => ['""', '1', 'null', '"' . ('n' x 201) . '"', '"a\u0000b"', "\"\xc0\xaf\""],
    redirect_uris => ['[]', '{}', '"https://a.example/cb"', '[1]', '[null]', '[[]]',
                      '[""]', '["/cb"]', '["https://a.example/cb#f"]',
                      '["http://a.example/cb"]', '["https://u@a.example/cb"]',
                      '["https://a.example:0/cb"]', '["https://a.example:99999/cb"]',
                      '["https://a.example/%zz"]', '["https://a.example/\u0000"]',
                      '["https://a.example/a b"]', "[\"https://a.example/\xc3\xa9\"]",
                      '["javascript:alert(1)"]', '["com.example.app:/cb"]',
                      '["data:text/html,x"]', '["https://[::1/cb"]',
                      '["https://a.example/cb","https://a.example/cb"]',
                      '[' . join(',', map { "\"https://a.example/$_\"" } 1 .. 11) . ']',
                      '["https://' . ('a' x 2050) . '/"]',
                      '[' . join(',', ('"https://a.example/cb"') x 1000) . ']'],
    post_logout_redirect_uris => ['{}', '[1]', '["https://a.example/#top"]',
                                  '["ftp://a.example/"]', 'null'],
    secret => ['""', '"short"', '"' . ('s' x 31) . '"', '"' . ('s' x 257) . '"',
               '1', 'null', '[]', '"a confidential secret of more\u0000than 32 bytes"',
               "\"a confidential secret of more \xff than 32 bytes\""],
);

for my $key (sort keys %bad_client) {
    for my $v (@{ $bad_client{$key} }) {
        add("client $key = " . substr($v, 0, 60), method => 'PUT', must => 'refuse',
            uri => '/api/v1/admin/clients/app', body => client_with($key, $v));
    }
}
add('a client with a site of another kind', method => 'PUT', must => 'refuse',
    uri => '/api/v1/admin/clients/app',
    body => $CLIENT =~ s/^\{/{"site":"cw-namur",/r);
add('a site gateway without its site', method => 'PUT', must => 'refuse',
    uri => '/api/v1/admin/clients/gw',
    body => client_with('kind', '"site_gateway"') =~ s/,"secret":"[^"]*"//r);
add('a site gateway of an unknown site', method => 'PUT', must => 'refuse',
    uri => '/api/v1/admin/clients/gw',
    body => (client_with('kind', '"site_gateway"') =~ s/,"secret":"[^"]*"/,"site":"nowhere"/r));
add('a public app with a secret', method => 'PUT', must => 'refuse',
    uri => '/api/v1/admin/clients/pub', body => client_with('kind', '"public_app"'));
add('a new confidential client without a secret', method => 'PUT', must => 'refuse',
    uri => '/api/v1/admin/clients/new', body => $CLIENT =~ s/,"secret":"[^"]*"//r);
add('a client with no member', method => 'PUT', uri => '/api/v1/admin/clients/x2',
    body => '{}', must => 'refuse');
add('a client with an unknown member', method => 'PUT', must => 'refuse',
    uri => '/api/v1/admin/clients/app', body => $CLIENT =~ s/^\{/{"scope":"openid",/r);

# --- values at their limits that must be taken (last: they write)

add('a name of 200 characters of two bytes each', method => 'PUT',
    must => 'accept', uri => '/api/v1/admin/sites/cw-e',
    body => site_with('name', '"' . ("\xc3\xa9" x 200) . '"'));
add('a name with an escaped character and a pair of surrogates',
    method => 'PUT', must => 'accept', uri => '/api/v1/admin/sites/cw-esc',
    body => site_with('name', '"caf\u00e9 \ud83d\ude00"'));
add('a latitude at the northern limit', method => 'PUT', must => 'accept',
    uri => '/api/v1/admin/sites/cw-north',
    body => site_with('latitude', '85.05112878'));
add('a latitude at the southern limit', method => 'PUT', must => 'accept',
    uri => '/api/v1/admin/sites/cw-south',
    body => site_with('latitude', '-85.05112878'));
add('an account at its limits: 16 passports, 32 zones, a 254-byte e-mail, the longest id',
    method => 'PUT', must => 'accept', uri => '/api/v1/admin/users/' . ('U' x 128),
    body => '{"name":"' . ("\xc3\xa9" x 200) . '","email":"' . ('e' x 250) . '@b.c",'
    . '"passports":[' . join(',', map { $pass->(sprintf('20%02d-01-01', $_), sprintf('20%02d-12-31', $_)) } 30 .. 45) . '],'
    . '"company":{"id":"acme","zones":[' . join(',', map { "\"z$_\"" } 1 .. 32) . ']}}');
add('a password of 256 bytes of two-byte characters', method => 'PUT',
    must => 'accept', uri => '/api/v1/admin/users/pw',
    body => user_with('password', '"' . ("\xc3\xa9" x 128) . '"') =~ s/ada\@/pw\@/r);
add('a password of 13 bytes with escapes', method => 'PUT',
    must => 'accept', uri => '/api/v1/admin/users/pw',
    body => user_with('password', '"\u00e9\"\\\\ 12345678"') =~ s/ada\@/pw\@/r);
add('an email another account holds (any case): 409', method => 'PUT',
    must => 'refuse', uri => '/api/v1/admin/users/eve',
    body => user_with('email', '"ADA@example.org"'));
add('a client at its limits: 10 URIs of 1000 bytes, a secret of 256 bytes',
    method => 'PUT', must => 'accept', uri => '/api/v1/admin/clients/' . ('c' x 64),
    body => client_with('redirect_uris', '[' . join(',', map {
        '"https://a.example/' . $_ . ('x' x (1000 - 19 - length $_)) . '"' } 1 .. 10) . ']')
        =~ s/"secret":"[^"]*"/'"secret":"' . ('s' x 256) . '"'/er);
add('a public app with a private-use scheme and loopback URIs', method => 'PUT',
    must => 'accept', uri => '/api/v1/admin/clients/pub2',
    body => '{"kind":"public_app","name":"App","redirect_uris":'
    . '["be.mobispot.app:/cb","http://127.0.0.1:1/cb","http://[::1]:65535/cb",'
    . '"http://localhost/cb"]}');
add('nearby at the northern limit', method => 'GET', must => 'accept',
    uri => '/api/v1/spots/nearby?lat=85.05112878&lon=4.8&all=true');

# --- bookings: a signed-in caller, an Idempotency-Key, a good window

my @WHO = ('X-Test-User: ada', 'X-Test-Pass: cowallonia-pass');
my $BOOK = '{"spot":"cw-namur","kind":"desk","from":"2030-01-07T09:00:00+01:00",'
    . '"to":"2030-01-07T10:00:00+01:00"}';
sub book_with {
    my ($key, $raw) = @_;
    my $doc = $json->decode($BOOK);
    my @order = grep { exists $doc->{$_} || $_ eq $key } qw(spot kind resource from to);
    return '{' . join(',', map {
        '"' . $_ . '":' . ($_ eq $key ? $raw : $json->encode($doc->{$_}))
    } @order) . '}';
}
my $n = 0;
sub add_book {
    my ($label, $body, @headers) = @_;
    $n++;
    add("POST bookings: $label", method => 'POST', uri => '/api/v1/bookings',
        body => $body, must => 'refuse',
        headers => [@WHO, "Idempotency-Key: h$n", @headers]);
}
add_book('not JSON', '{"spot":');
add_book('an array', '[]');
add_book('a string', '"x"');
add_book('empty', '');
add_book('a comment', '{/*x*/"spot":"cw-namur"}');
add_book('non-UTF-8', "{\"spot\":\"cw-\xff\"}");
add_book('an overlong UTF-8', "{\"spot\":\"\xc0\xaf\"}");
add_book('a NUL byte', "{\"spot\":\"cw\0\"}");
add_book('an escaped NUL', book_with('spot', '"cw\u0000namur"'));
add_book('a lone surrogate', book_with('spot', '"\ud800"'));
add_book('a member twice', '{"spot":"cw-namur",' . substr($BOOK, 1));
add_book('an unknown member', '{"price":1,' . substr($BOOK, 1));
for my $v ('"true"', '1', 'null', '{}', '[]') {
    add_book("hold $v", '{"hold":' . $v . ',' . substr($BOOK, 1));
}
for my $k (qw(spot kind from to resource)) {
    add_book("$k a number", book_with($k, '1'));
    add_book("$k null", book_with($k, 'null'));
    add_book("$k an object", book_with($k, '{}'));
    add_book("$k huge", book_with($k, '"' . ('a' x 5000) . '"'));
}
add_book('a huge number', book_with('from', '1e999999'));
add_book('a negative zero', book_with('to', '-0'));
add_book('an unknown spot', book_with('spot', '"nowhere"'));
add_book('a spot with braces', book_with('spot', '"{x}"'));
add_book('a room of a desk', book_with('resource', '"meuse"'));
for my $t ('"2030-01-07"', '"9999-12-31T00:00:00Z"', '"2030-13-01T00:00:00Z"',
           '"2030-01-07T09:00:00"', '"2030-01-07T25:00:00Z"',
           '"2030-01-07T09:00:00+24:00"', '"1969-12-31T23:59:59Z"',
           '"2030-01-07T09:10:00+01:00"', '"2030-01-07T07:00:00+01:00"',
           '"2030-01-09T09:00:00+01:00"', '"2000-01-01T00:00:00Z"')
{
    add_book("from $t", book_with('from', $t));
}
add_book('a window on Sunday (closed)',
         book_with('from', '"2030-01-06T09:00:00+01:00"') =~ s/2030-01-07T10/2030-01-06T10/r);
add_book('a body of 20 KB', '{"spot":"' . ('a' x 20000) . '"}');
# --- the moves of a booking: no such booking, bad ids, wrong methods
for my $m (qw(confirm checkin checkout)) {
    for my $id ('cw-namur.000000000000000000000000', 'x', 'cw-namur.zz',
                '%00', 'a' x 300, 'cw-namur.' . ('0' x 23) . 'g') {
        add("POST bookings/$id/$m", method => 'POST',
            uri => "/api/v1/bookings/$id/$m", must => 'refuse',
            headers => [@WHO]);
    }
    for my $method (qw(GET PUT DELETE PATCH)) {
        add("$method bookings/{id}/$m", method => $method,
            uri => "/api/v1/bookings/cw-namur.000000000000000000000000/$m",
            must => 'refuse', headers => [@WHO]);
    }
    add("POST bookings/{id}/$m without a caller", method => 'POST',
        uri => "/api/v1/bookings/cw-namur.000000000000000000000000/$m",
        must => 'refuse');
}
add('POST bookings without a caller', method => 'POST', uri => '/api/v1/bookings',
    body => $BOOK, must => 'refuse', headers => ['Idempotency-Key: x1']);
add('POST bookings without a key', method => 'POST', uri => '/api/v1/bookings',
    body => $BOOK, must => 'refuse', headers => [@WHO]);
for my $key ('', '"', '""', "a\x01b", 'a' x 256, 'é', '"a\\"b"') {
    add("POST bookings with the key <$key>", method => 'POST',
        uri => '/api/v1/bookings', body => $BOOK, must => 'refuse',
        headers => [@WHO, "Idempotency-Key: $key"]);
}
add('POST bookings with two keys', method => 'POST', uri => '/api/v1/bookings',
    body => $BOOK, must => 'refuse',
    headers => [@WHO, 'Idempotency-Key: a', 'Idempotency-Key: b']);
add('POST bookings by a caller without the passport', method => 'POST',
    uri => '/api/v1/bookings', body => $BOOK, must => 'refuse',
    headers => ['X-Test-User: pat', 'Idempotency-Key: np']);
add('POST bookings by a caller without an account', method => 'POST',
    uri => '/api/v1/bookings', body => $BOOK, must => 'refuse',
    headers => ['X-Test-User: nobody', 'X-Test-Pass: cowallonia-pass',
                'Idempotency-Key: nb']);
add('POST bookings by a caller whose id has a brace', method => 'POST',
    uri => '/api/v1/bookings', body => $BOOK, must => 'refuse',
    headers => ['X-Test-User: a{b}', 'X-Test-Pass: cowallonia-pass',
                'Idempotency-Key: br']);
for my $id ('x', 'cw-namur.', 'cw-namur.0123', 'cw-namur.0123456789ABCDEF01234567',
            '.0123456789abcdef01234567', 'Bad.0123456789abcdef01234567',
            'a' x 300, '%00', 'cw-namur.0123456789abcdef0123456%00')
{
    add("GET bookings/$id", method => 'GET', uri => "/api/v1/bookings/$id",
        headers => [@WHO]);
    add("DELETE bookings/$id", method => 'DELETE', must => 'refuse',
        uri => "/api/v1/bookings/$id", headers => [@WHO]);
}
for my $q ('limit=0', 'limit=101', 'limit=-1', 'limit=1e3', 'limit=',
           'offset=10001', 'offset=x', 'limit=1&limit=2',
           'limit=99999999999999999999')
{
    add("GET bookings?$q", method => 'GET', uri => "/api/v1/bookings?$q",
        must => 'refuse', headers => [@WHO]);
}
add('a good booking', method => 'POST', uri => '/api/v1/bookings',
    body => $BOOK, must => 'accept', headers => [@WHO, 'Idempotency-Key: good']);
add('its replay', method => 'POST', uri => '/api/v1/bookings',
    body => $BOOK, must => 'accept', headers => [@WHO, 'Idempotency-Key: good']);
add('its key with another body', method => 'POST', uri => '/api/v1/bookings',
    body => book_with('kind', '"meeting_room"'), must => 'refuse',
    headers => [@WHO, 'Idempotency-Key: good']);

# --- book the nearest: "near" instead of "spot"

my $NEAR = '{"near":{"lat":50.4641,"lon":4.8661,"radius_km":5},"kind":"desk",'
    . '"from":"2030-01-07T09:00:00+01:00","to":"2030-01-07T10:00:00+01:00"}';
sub near_with {
    my ($key, $raw) = @_;
    my %m = (lat => '50.4641', lon => '4.8661', radius_km => '5', $key => $raw);
    my $near = '{' . join(',', map { "\"$_\":$m{$_}" }
                               grep { defined $m{$_} } qw(lat lon radius_km)) . '}';
    return $NEAR =~ s/\{"lat":[^}]*\}/$near/r;
}
for my $raw ('[]', '"x"', '1', 'null', 'true', '{}', '[50.4,4.8]') {
    add_book("near $raw", $NEAR =~ s/\{"lat":[^}]*\}/$raw/r);
}
for my $k (qw(lat lon radius_km)) {
    for my $raw ('"50"', 'null', '{}', '[]', 'true', '1e999999', '-1e999999',
                 '"\u0000"', "\"\xff\"")
    {
        add_book("near.$k $raw", near_with($k, $raw));
    }
}
add_book('near without lat', near_with('lat', undef));
add_book('near without lon', near_with('lon', undef));
add_book('near.lat past the limit', near_with('lat', '85.05112879'));
add_book('near.lat below the limit', near_with('lat', '-85.05112879'));
add_book('near.lon past 180', near_with('lon', '180.0000001'));
add_book('near.radius_km 0', near_with('radius_km', '0'));
add_book('near.radius_km -0', near_with('radius_km', '-0'));
add_book('near.radius_km negative', near_with('radius_km', '-1'));
add_book('near.radius_km past 500', near_with('radius_km', '500.0000001'));
add_book('near.radius_km 1e308', near_with('radius_km', '1e308'));
add_book('near with an unknown member', $NEAR =~ s/"lat"/"x":1,"lat"/r);
add_book('near with a member twice', $NEAR =~ s/"lat"/"lat":1,"lat"/r);
add_book('near and spot', $NEAR =~ s/^\{/{"spot":"cw-namur",/r);
add_book('near and a resource', $NEAR =~ s/"kind":"desk"/"kind":"meeting_room","resource":"meuse"/r);
add_book('near with a NUL in a key', $NEAR =~ s/"lat"/"la\\u0000t"/r);
add_book('near non-UTF-8', $NEAR =~ s/"lat"/"l\xe9t"/r);
add_book('near, a kind no site has', $NEAR =~ s/"desk"/"training_room"/r);
add_book('near, a window when the site is closed',
         $NEAR =~ s/2030-01-07T09/2030-01-06T09/r =~ s/2030-01-07T10/2030-01-06T10/r);
add_book('near, nowhere', near_with('lat', '-40'));
add('near by a caller without an account', method => 'POST', uri => '/api/v1/bookings',
    body => $NEAR, must => 'refuse',
    headers => ['X-Test-User: nobody', 'X-Test-Pass: cowallonia-pass',
                'Idempotency-Key: na']);
add('near at the southern limit', method => 'POST',
    uri => '/api/v1/bookings', body => near_with('lat', '-85.05112878'),
    headers => [@WHO, 'Idempotency-Key: south']);
add('a good booking near', method => 'POST', uri => '/api/v1/bookings',
    body => $NEAR, must => 'accept', headers => [@WHO, 'Idempotency-Key: near']);
add('its replay', method => 'POST', uri => '/api/v1/bookings',
    body => $NEAR, must => 'accept', headers => [@WHO, 'Idempotency-Key: near']);
add('its key with another near', method => 'POST', uri => '/api/v1/bookings',
    body => near_with('radius_km', '6'), must => 'refuse',
    headers => [@WHO, 'Idempotency-Key: near']);

# --- usage and the settlement (the admin is any loopback caller here):
# months, ids, limits and cursors at and past their edges

sub refused_get {
    my ($label, $uri) = @_;
    add($label, method => 'GET', must => 'refuse', uri => "/api/v1/$uri");
}

for my $m ('2026-3', '2026-13', '2026-00', '1969-12', '2101-01', '9999-12',
           '0000-00', '2026-03-01', '2026-03%00', '2026-03x', ' 2026-03',
           '%ff%fe', 'caf%c3%a9', '２０２６-03', '+2026-03',
           '2026-03&month=2026-03', '', 'x' x 5000)
{
    refused_get("usage month=$m", "usage?site=cw-namur&month=$m");
    refused_get("settlement month=$m", "settlement?network=cowallonia&month=$m");
}
for my $id ('', '%00', 'a%00b', 'A', 'a' x 65, 'a' x 5000, '%7Bx%7D', 'a:b',
            'caf%c3%a9', '%ff', 'a%20b', '..', 'x%2fy')
{
    refused_get("usage site=$id", "usage?site=$id&month=2026-03");
    refused_get("usage company=$id", "usage?company=$id&month=2026-03");
    refused_get("settlement network=$id", "settlement?network=$id&month=2026-03");
}
for my $q ('limit=0', 'limit=1001', 'limit=-1', 'limit=1e3', 'limit=',
           'limit=99999999999999999999', 'limit=1&limit=2', 'after=',
           'after=1', 'after=-1', 'after=1-', 'after=a-b', 'after=1-2-3',
           'after=18446744073709551616-0', 'after=0-18446744073709551616',
           'after=18446744073709551615-18446744073709551615',
           'after=' . ('9' x 21) . '-0', 'after=1%00-0', 'site=cw-namur',
           'company=acme', 'month=2026-03&company=acme&site=x', '')
{
    refused_get("usage ?$q", "usage?site=cw-namur&month=2026-03&$q")
        if $q =~ /^(limit|after|site)/;
    refused_get("usage ?$q (no site)", "usage?$q");
}
refused_get('usage of a company with limit', 'usage?company=acme&month=2026-03&limit=5');
refused_get('settlement of an unknown network', 'settlement?network=nowhere&month=2026-03');
for my $q ('site=cw-namur&month=2026-03&limit=1000',
           'site=cw-namur&month=2026-03&after=18446744073709551615-0',
           'site=cw-namur&month=2026-03&after=0-0', 'company=acme&month=2026-03',
           'site=cw-namur&month=2026%2D03')
{
    add("usage ?$q", method => 'GET', must => 'accept', uri => "/api/v1/usage?$q");
}
for my $accept ('text/csv', 'TEXT/CSV;q=0', 'text/csvx', 'text/*', '*/*',
                ',,,', 'text/csv' . (',a' x 2000), "\x80\xff")
{
    add("settlement with Accept: $accept", method => 'GET', must => 'accept',
        uri => '/api/v1/settlement?network=cowallonia&month=2026-03',
        headers => ["Accept: $accept"]);
}

# --- headers

add('a Content-Type that is not JSON', method => 'PUT',
    uri => '/api/v1/admin/networks/cowallonia', body => $NET,
    headers => ['Content-Type: text/plain']);
add('an Expect: 100-continue', method => 'PUT',
    uri => '/api/v1/admin/networks/cowallonia', body => $NET,
    headers => ['Expect: 100-continue']);

# --------------------------------------------------------------------------

cmp_ok(scalar(@cases), '>=', 300, scalar(@cases) . ' hostile requests');

sub dump_redis {
    my %db;
    my $keys = redis_cmd('KEYS', '*');
    # the workers' heartbeat keys change every second by design
    for my $k (sort grep { !/^ms:beat:/ } @$keys) {
        my $type = redis_cmd('TYPE', $k);
        my $v = $type eq 'string' ? redis_cmd('GET', $k)
              : $type eq 'hash'   ? { @{ redis_cmd('HGETALL', $k) } }
              : $type eq 'set'    ? [sort @{ redis_cmd('SMEMBERS', $k) }]
              : $type eq 'zset'   ? redis_cmd('ZRANGE', $k, 0, -1, 'WITHSCORES')
              : "($type)";
        $db{$k} = [$type, $v];
    }
    return \%db;
}

# what nginx itself refuses with its HTML 400 before any module runs: a
# NUL or a blank in the request line, a bad chunk size
# --- the issuer's documents (issuer/): GET and HEAD only; their paths
# exactly; a query string is not read (a cache-buster changes nothing)

for my $path ('.well-known/openid-configuration', 'jwks') {
    for my $m (qw(POST PUT PATCH DELETE OPTIONS TRACE PROPFIND)) {
        add("$m sso/$path", method => $m, uri => "/sso/$path", must => 'refuse',
            body => $m =~ /^(POST|PUT|PATCH)$/ ? '{"x":1}' : undef);
    }
    for my $q ('%00', 'a=%00', '%ff%fe', 'x=' . ('y' x 6000), 'jwks', '&&&',
               'a=1&a=2', '%c0%af', 'redirect_uri=https://evil.example/')
    {
        add("GET sso/$path?$q", method => 'GET', uri => "/sso/$path?$q",
            must => 'accept');
    }
    add("POST sso/$path with non-UTF-8 JSON", method => 'POST',
        uri => "/sso/$path", body => "{\"a\":\"\xff\xfe\"}", must => 'refuse');
    add("POST sso/$path with a NUL", method => 'POST',
        uri => "/sso/$path", body => "{\"a\":\"\0\"}", must => 'refuse');
}

for my $path ('', 'jwks/', 'JWKS', 'jwks%00', 'jwks%2f', '.well-known',
              '.well-known/', '.well-known/openid-configuration/',
              '.well-known/openid-configuration%00', 'jwks.json', 'x' x 5000, 'caf%c3%a9', '%ff')
{
    add("GET sso/$path", method => 'GET', uri => "/sso/$path", must => 'refuse');
}

# dot segments nginx resolves before the location (still the issuer's)
for my $path ('x/..%2fjwks', 'x/%2e%2e/jwks', './jwks', 'x/../jwks') {
    add("GET sso/$path", method => 'GET', uri => "/sso/$path", must => 'accept');
}

sub nginx_refuses {
    my ($req) = @_;
    return 1 if defined $req->{raw} && $req->{raw} =~ /\r\n\r\nzz\r\n/;
    return 1 if ($req->{method} // '') eq 'TRACE';    # nginx's 405
    return defined $req->{uri} && $req->{uri} =~ /%00(?!.*\?)|^[^?]* |\?.* /;
}

my $canon = JSON::PP->new->canonical;
my (@over, @not_json, @changed, @must);
my %documented = (503 => qr/^(redis_unavailable|overloaded)$/,
                  504 => qr/^redis_timeout$/);

for my $case (@cases) {
    my ($label, $req) = @$case;
    my $write = ($req->{method} // '') =~ /^(PUT|DELETE|POST|PATCH)$/
                || defined $req->{raw};
    my $before = $write ? $canon->encode(dump_redis()) : undef;

    my $res = http_request($req, timeout => $req->{timeout} // 5);
    my $status = $res->{status} // 0;

    if ($status == 0 && $res->{timed_out} && $label =~ /does not come/) {
        next;    # nginx waits for the rest of the body (client_body_timeout)
    }

    my $body = $res->{body} // '';
    my $err = eval { $json->decode($body) };
    my $code = ref $err eq 'HASH' && ref $err->{error} eq 'HASH'
               ? $err->{error}{code} : undef;

    if ($status >= 500 || $status == 0) {
        push @over, "$label: $status " . substr($body, 0, 200)
            unless $documented{$status} && defined $code
                   && $code =~ $documented{$status};
    }

    if ($status >= 400 && $status < 500 && ($req->{method} // '') ne 'HEAD') {
        # nginx's own refusals of a request it cannot parse are HTML: they
        # never reach the module (a bad chunk size, a bad request line)
        push @not_json, "$label: $status " . substr($body, 0, 120)
            unless (defined $code && defined $err->{error}{message})
                   || (($status == 400 || $status == 405) && nginx_refuses($req));
    }

    if (($req->{must} // '') eq 'refuse' && !($status >= 400 && $status < 500)) {
        push @must, "$label: $status, where a 4xx was due";
    }
    if (($req->{must} // '') eq 'accept' && !($status >= 200 && $status < 300)) {
        push @must, "$label: $status " . substr($body, 0, 160)
            . ", where a 2xx was due";
    }

    if ($write && $status >= 400) {
        my $after = $canon->encode(dump_redis());
        push @changed, "$label: $status" if $after ne $before;
    }
}

is_deeply(\@over, [], 'no answer >= 500 except the documented 503/504')
    or diag(join "\n", @over);
is_deeply(\@not_json, [], 'every refusal is a JSON error with a code and a message')
    or diag(join "\n", @not_json);
is_deeply(\@changed, [], 'no refusal changed Redis') or diag(join "\n", @changed);
is_deeply(\@must, [], 'bad values refused, values at their limits taken')
    or diag(join "\n", @must);

# every value stored is well-formed

my (@bad_values);
my $strict = JSON::PP->new->allow_nonref;
my $db = dump_redis();

sub check_text {
    my ($where, $v) = @_;
    return unless defined $v;
    push @bad_values, "$where: a NUL" if $v =~ /\0/;
    my $copy = $v;
    my $ok = eval { Encode::decode('UTF-8', $copy, Encode::FB_CROAK); 1 };
    push @bad_values, "$where: not well-formed UTF-8" unless $ok;
    if ($v =~ /^\s*[\{\[]/) {
        my $doc = eval { $strict->decode(Encode::decode('UTF-8', $v)) };
        push @bad_values, "$where: JSON a strict parser refuses" unless $doc;
        walk_doc($where, $doc) if $doc;
    }
}

sub walk_doc {
    my ($where, $d) = @_;
    if (ref $d eq 'HASH') {
        for my $k (keys %$d) {
            push @bad_values, "$where: a control character in member \"$k\""
                if $k =~ /[\x00-\x1f]/;
            if (($k eq 'latitude') && !ref $d->{$k}) {
                push @bad_values, "$where: latitude $d->{$k}"
                    if abs($d->{$k}) > 85.05112878;
            }
            walk_doc("$where.$k", $d->{$k});
        }
    } elsif (ref $d eq 'ARRAY') {
        walk_doc("$where\[\]", $_) for @$d;
    } elsif (defined $d && !ref $d) {
        push @bad_values, "$where: a control character" if $d =~ /[\x00-\x08\x0b\x0c\x0e-\x1f]/;
    }
}

for my $k (sort keys %$db) {
    my ($type, $v) = @{ $db->{$k} };
    check_text("key $k", $k);
    if ($type eq 'string') {
        check_text($k, $v);
    } elsif ($type eq 'hash') {
        for my $f (sort keys %$v) {
            check_text("$k field $f", $f);
            check_text("$k\[$f\]", $v->{$f});
        }
    } elsif (ref $v eq 'ARRAY') {
        check_text("$k member", $_) for @$v;
    }
}

# each site of the catalogue is found by nearby (its GEO entry exists)
my $sites = redis_cmd('HKEYS', 'ms:sites') // [];
for my $id (@$sites) {
    my $pos = redis_cmd('GEOPOS', 'ms:geo', $id);
    push @bad_values, "site $id has no ms:geo entry"
        unless ref $pos eq 'ARRAY' && ref $pos->[0] eq 'ARRAY';
}

is_deeply(\@bad_values, [], 'every stored value is well-formed')
    or diag(join "\n", @bad_values);

my @problems = stop_env();
is_deeply(\@problems, [], 'nginx stopped cleanly: no alert, no crash');

my $log = error_log_text();
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg in the error log');

done_testing();
