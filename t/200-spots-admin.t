# The admin API of the catalogue: PUT networks, PUT/DELETE sites; good and
# bad bodies (nothing written on error), atomic site update, admin role.
#
#   prove -I t/lib t/200-spots-admin.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;

our $SITE = '{"name":"CoWallonia Namur","town":"Namur",'
    . '"address":"Place d\'Armes 1, 5000 Namur","latitude":50.4641,'
    . '"longitude":4.8661,"time_zone":"Europe/Brussels",'
    . '"networks":["cowallonia"],"amenities":["fibre_1gbps"],"slot_minutes":30,'
    . '"opening_hours":{"mon":["08:30-12:00","13:00-18:00"],'
    . '"sat":["09:00-13:00"]},"closed_dates":["2026-12-25","2026-12-25"],'
    . '"resources":[{"kind":"desk","capacity":24},'
    . '{"kind":"meeting_room","id":"meuse","name":"Meuse","seats":8},'
    . '{"kind":"meeting_room","id":"sambre","name":"Sambre","seats":6}]}';

# a valid body with one member replaced (or removed with undef)
sub site_with {
    my ($key, $json) = @_;
    my $s = $SITE;
    if (defined $json) {
        $s =~ s/"\Q$key\E":(\[[^\]]*\]|\{[^}]*\}\]?|"[^"]*"|[-0-9.]+)/"$key":$json/
            or die "no $key";
    } else {
        $s =~ s/"\Q$key\E":(\[[^\]]*\]|"[^"]*"|[-0-9.]+),// or die "no $key";
    }
    return $s;
}

run_tests();

__DATA__

=== TEST 1: PUT a network: 201, then 200 when replaced
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ { mobispot_api; }
--- request eval
["PUT /api/v1/admin/networks/cowallonia", "PUT /api/v1/admin/networks/cowallonia"]
--- request_body eval
['{"name":"CoWallonia","passport":{"id":"cowallonia-pass","name":"CoWallonia pass","monthly_price_eur":250}}',
 '{"name":"CoWallonia","passport":{"id":"cowallonia-pass","name":"CoWallonia pass","monthly_price_eur":275.5}}']
--- error_code eval
[201, 200]
--- response_body_json eval
[{id => "cowallonia", name => "CoWallonia", passport => {id => "cowallonia-pass", name => "CoWallonia pass", monthly_price_eur => 250}},
 {id => "cowallonia", name => "CoWallonia", passport => {id => "cowallonia-pass", name => "CoWallonia pass", monthly_price_eur => 275.5}}]
--- redis_check
HGET ms:{networks}:passport cowallonia => cowallonia-pass
HGET ms:{networks}:doc cowallonia =~ "monthly_price_eur":275.5
--- no_error_log
[error]



=== TEST 2: PUT a network: bad bodies name the field, nothing is written
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ { mobispot_api; }
--- request eval
[("PUT /api/v1/admin/networks/n1") x 6, "PUT /api/v1/admin/networks/Bad{id}"]
--- request_body eval
['{"name":"N"}',
 '{"name":"N","passport":{"id":"p","name":"P","monthly_price_eur":"250"}}',
 '{"name":"N","passport":{"id":"p","name":"P","monthly_price_eur":-1}}',
 '{"name":"N","passport":{"id":"P P","name":"P","monthly_price_eur":1}}',
 '{"name":"N","passport":{"id":"p","name":"P","monthly_price_eur":1,"vat":21}}',
 '{"name":"","passport":{"id":"p","name":"P","monthly_price_eur":1}}',
 '{"name":"N","passport":{"id":"p","name":"P","monthly_price_eur":1}}']
--- error_code eval
[400, 400, 422, 422, 400, 422, 400]
--- response_body_json_subset eval
[{error => {code => "invalid_field", field => "passport"}},
 {error => {code => "invalid_field", field => "passport.monthly_price_eur"}},
 {error => {code => "invalid_value", field => "passport.monthly_price_eur"}},
 {error => {code => "invalid_value", field => "passport.id"}},
 {error => {code => "invalid_field", field => "passport.vat", message => "unknown field"}},
 {error => {code => "invalid_value", field => "name"}},
 {error => {code => "invalid_id", parameter => "id"}}]
--- redis_check
HLEN ms:{networks}:doc => 0
HLEN ms:{networks}:passport => 0
--- no_error_log
[error]



=== TEST 3: PUT a site: 201 with the stored document, readable at once
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ { mobispot_api; }
--- redis
HSET ms:{networks}:passport cowallonia cowallonia-pass
--- request eval
["PUT /api/v1/admin/sites/cw-namur", "GET /api/v1/spots/cw-namur"]
--- request_body eval
[$::SITE, ""]
--- error_code eval
[201, 200]
--- response_body_json eval
my $doc = {
    id => "cw-namur", name => "CoWallonia Namur", town => "Namur",
    address => "Place d'Armes 1, 5000 Namur",
    latitude => 50.4641, longitude => 4.8661,
    time_zone => "Europe/Brussels", networks => ["cowallonia"],
    amenities => ["fibre_1gbps"], slot_minutes => 30,
    opening_hours => {mon => ["08:30-12:00", "13:00-18:00"], tue => [],
                      wed => [], thu => [], fri => [],
                      sat => ["09:00-13:00"], sun => []},
    closed_dates => ["2026-12-25"],
    resources => [{kind => "desk", capacity => 24},
                  {kind => "meeting_room", id => "meuse", name => "Meuse", seats => 8},
                  {kind => "meeting_room", id => "sambre", name => "Sambre", seats => 6}],
};
[$doc, $doc]
--- response_headers eval
["Content-Type: application/json", "Cache-Control: no-store"]
--- redis_check
HMGET ms:{site:cw-namur}:info name tz slot hours closed networks => ["CoWallonia Namur","Europe/Brussels","30","510-720,780-1080;;;;;540-780;","2026-12-25","cowallonia"]
HMGET ms:{site:cw-namur}:info cap:desk cap:meeting_room cap:conference_room cap:training_room => ["24","2","0","0"]
HGET ms:sites cw-namur => {"name":"CoWallonia Namur","town":"Namur","networks":["cowallonia"]}
ZSCORE ms:geo cw-namur =~ ^[0-9]+$
--- no_error_log
[error]



=== TEST 4: a site update replaces the whole site at once and keeps bookings
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ { mobispot_api; }
--- redis
HSET ms:{networks}:passport cowallonia cowallonia-pass
HSET ms:{site:cw-namur}:info name Old cap:training_room 3 stale yes
SET ms:{site:cw-namur}:doc '{"id":"cw-namur","name":"Old"}'
HSET ms:{site:cw-namur}:booked:desk:2026-12-01 480 5
--- request eval
"PUT /api/v1/admin/sites/cw-namur\n$::SITE"
--- error_code: 200
--- response_body_json_subset
{"id":"cw-namur","name":"CoWallonia Namur"}
--- redis_check
HEXISTS ms:{site:cw-namur}:info stale => 0
HGET ms:{site:cw-namur}:info cap:training_room => 0
HGET ms:{site:cw-namur}:info name => CoWallonia Namur
GET ms:{site:cw-namur}:doc =~ "name":"CoWallonia Namur"
HGET ms:{site:cw-namur}:booked:desk:2026-12-01 480 => 5
--- error_log
mobispot: catalogue entry "cw-namur" updated



=== TEST 5: bad site bodies: 400 for types, 422 for values, nothing written
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ { mobispot_api; }
--- redis
HSET ms:{networks}:passport cowallonia cowallonia-pass
--- request eval
[("PUT /api/v1/admin/sites/s1") x 37]
--- request_body eval
['',
 '{"name":',
 '[1,2]',
 "{\"name\":\"a\0b\"}",
 main::site_with("name", '42'),
 main::site_with("name", '""'),
 main::site_with("latitude", '"50.4"'),
 main::site_with("latitude", '90.5'),
 main::site_with("longitude", '-180.01'),
 main::site_with("time_zone", '"Mars/Olympus_Mons"'),
 main::site_with("time_zone", '7'),
 main::site_with("networks", '"cowallonia"'),
 main::site_with("networks", '["cowallonia","nope"]'),
 main::site_with("networks", '["Bad Id"]'),
 main::site_with("slot_minutes", '25'),
 main::site_with("opening_hours", '{"mon":["18:00-08:30"]}'),
 main::site_with("opening_hours", '{"mon":["8:30-18:00"]}'),
 main::site_with("opening_hours", '{"mon":["08:30-12:00","11:00-18:00"]}'),
 main::site_with("opening_hours", '{"monday":["08:30-12:00"]}'),
 main::site_with("closed_dates", '["2026-02-30"]'),
 main::site_with("resources", '[{"kind":"desk","capacity":0}]'),
 main::site_with("resources", '[{"kind":"desk","capacity":2.5}]'),
 main::site_with("resources", '[{"kind":"sofa","capacity":2}]'),
 main::site_with("resources", '[{"kind":"meeting_room","id":"r","name":"R","seats":4},{"kind":"meeting_room","id":"r","name":"S","seats":4}]'),
 # the arrays: type, size, presence
 main::site_with("networks", undef),
 main::site_with("networks", '[' . CORE::join(',', map { "\"n$_\"" } 1 .. 17) . ']'),
 main::site_with("amenities", '"wifi"'),
 main::site_with("amenities", '[' . CORE::join(',', ('"wifi"') x 33) . ']'),
 main::site_with("closed_dates", '{}'),
 main::site_with("closed_dates", '[' . CORE::join(',', ('"2026-01-01"') x 367) . ']'),
 main::site_with("resources", '"desk"'),
 main::site_with("resources", '[]'),
 # the last member: site_with() cannot remove it
 $::SITE =~ s/,"resources":\[[^\]]*\]//r,
 # the coordinates: presence and type of each
 main::site_with("latitude", undef),
 main::site_with("longitude", undef),
 main::site_with("longitude", '"4.8"'),
 main::site_with("longitude", 'true')]
--- error_code eval
[400, 400, 400, 422, 400, 422, 400, 422, 422, 422, 400, 400, 422, 422,
 422, 422, 422, 422, 400, 422, 422, 400, 422, 422,
 400, 422, 400, 422, 400, 422, 400, 422, 400, 400, 400, 400, 400]
--- response_body_json_subset eval
[{error => {code => "malformed_json"}},
 {error => {code => "malformed_json"}},
 {error => {code => "invalid_field"}},
 {error => {code => "invalid_value", field => "name"}},
 {error => {code => "invalid_field", field => "name"}},
 {error => {code => "invalid_value", field => "name"}},
 {error => {code => "invalid_field", field => "latitude", message => "must be a number"}},
 {error => {code => "invalid_value", field => "latitude", message => "latitude must be within -85.05112878..85.05112878"}},
 {error => {code => "invalid_value", field => "longitude", message => "longitude must be within -180..180"}},
 {error => {code => "invalid_value", field => "time_zone"}},
 {error => {code => "invalid_field", field => "time_zone"}},
 {error => {code => "invalid_field", field => "networks"}},
 {error => {code => "invalid_value", field => "networks[1]", message => "unknown network"}},
 {error => {code => "invalid_value", field => "networks[0]"}},
 {error => {code => "invalid_value", field => "slot_minutes"}},
 {error => {code => "invalid_value", field => "opening_hours.mon[0]"}},
 {error => {code => "invalid_value", field => "opening_hours.mon[0]"}},
 {error => {code => "invalid_value", field => "opening_hours.mon[1]"}},
 {error => {code => "invalid_field", field => "opening_hours.monday"}},
 {error => {code => "invalid_value", field => "closed_dates[0]"}},
 {error => {code => "invalid_value", field => "resources[0].capacity"}},
 {error => {code => "invalid_field", field => "resources[0].capacity"}},
 {error => {code => "invalid_value", field => "resources[0].kind"}},
 {error => {code => "invalid_value", field => "resources[1].id"}},
 {error => {code => "invalid_field", field => "networks", message => "missing field"}},
 {error => {code => "invalid_value", field => "networks", message => "more than 16 networks"}},
 {error => {code => "invalid_field", field => "amenities", message => "must be an array of strings"}},
 {error => {code => "invalid_value", field => "amenities", message => "more than 32 amenities"}},
 {error => {code => "invalid_field", field => "closed_dates", message => "must be an array of dates"}},
 {error => {code => "invalid_value", field => "closed_dates", message => "more than 366 dates"}},
 {error => {code => "invalid_field", field => "resources", message => "must be an array"}},
 {error => {code => "invalid_value", field => "resources", message => "a site has 1 to 64 resources"}},
 {error => {code => "invalid_field", field => "resources", message => "missing field"}},
 {error => {code => "invalid_field", field => "latitude", message => "missing field"}},
 {error => {code => "invalid_field", field => "longitude", message => "missing field"}},
 {error => {code => "invalid_field", field => "longitude", message => "must be a number"}},
 {error => {code => "invalid_field", field => "longitude", message => "must be a number"}}]
--- redis_check
EXISTS ms:{site:s1}:doc => 0
EXISTS ms:{site:s1}:info => 0
HLEN ms:sites => 0
ZCARD ms:geo => 0
--- no_error_log
[error]



=== TEST 6: a bad site id, an oversized body, a method the route lacks
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ {
        mobispot_api_max_body 1k;
        mobispot_api;
    }
--- request eval
["PUT /api/v1/admin/sites/Namur", "PUT /api/v1/admin/sites/big\n" . ("x" x 2000), "POST /api/v1/admin/sites/a\n{}"]
--- error_code eval
[400, 413, 405]
--- response_body_json_subset eval
[{error => {code => "invalid_id", parameter => "id"}},
 {error => {code => "body_too_large"}},
 {error => {code => "method_not_allowed"}}]
--- response_headers eval
[undef, undef, "Allow: PUT, DELETE"]



=== TEST 7: DELETE a site: 200, its keys and index entries go; 404 after
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ { mobispot_api; }
--- redis
SET ms:{site:a}:doc '{"id":"a"}'
HSET ms:{site:a}:info name A
GEOADD ms:geo 4.86 50.46 a
HSET ms:sites a '{"name":"A","town":"T","networks":[]}'
--- request eval
["DELETE /api/v1/admin/sites/a", "DELETE /api/v1/admin/sites/a", "GET /api/v1/spots/a"]
--- error_code eval
[200, 404, 404]
--- response_body_json eval
[{id => "a", deleted => \1},
 {error => {code => "unknown_site", message => "no such site", parameter => "id"}},
 {error => {code => "unknown_site", message => "no such site", parameter => "id"}}]
--- redis_check
EXISTS ms:{site:a}:doc => 0
EXISTS ms:{site:a}:info => 0
ZCARD ms:geo => 0
HLEN ms:sites => 0



=== TEST 8: mobispot_admin role=: 401 without a signed-in caller, 403 without the role, not granted by a substring
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /none/ {
        mobispot_admin role=admin;
        mobispot_api;
    }
    location /user/ {
        # stands for the SSO module's $mobispot_roles (issue 3)
        set $mobispot_roles "user manager";
        mobispot_admin role=admin;
        mobispot_api;
    }
    location /admins/ {
        set $mobispot_roles "administrator admins";
        mobispot_admin role=admin;
        mobispot_api;
    }
    location /admin/ {
        set $mobispot_roles "user admin";
        mobispot_admin role=admin;
        mobispot_api;
    }
--- request eval
["DELETE /none/admin/sites/a", "DELETE /user/admin/sites/a", "DELETE /admins/admin/sites/a",
 "DELETE /admin/admin/sites/a", "PUT /user/admin/networks/n\n{}"]
--- error_code eval
[401, 403, 403, 404, 403]
--- response_body_json_subset eval
[{error => {code => "unauthenticated"}}, {error => {code => "forbidden"}},
 {error => {code => "forbidden"}}, {error => {code => "unknown_site"}},
 {error => {code => "forbidden"}}]



=== TEST 8a: auth_delay holds the 401 of a caller without a token: a client that gives up first is gone (499), the next is answered
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /slow/ {
        auth_delay 3s;
        mobispot_admin role=admin;
        mobispot_api;
    }
    location /none/ {
        mobispot_admin role=admin;
        mobispot_api;
    }
--- request eval
["DELETE /slow/admin/sites/a", "DELETE /none/admin/sites/a"]
--- timeout: 0.8
--- abort
--- error_code eval
[undef, 401]
--- response_body_json_subset eval
[undef, {error => {code => "unauthenticated"}}]
--- error_log
mobispot: delaying the refusal for 3000 ms (auth_delay)
client prematurely closed connection
--- no_error_log
[alert]
[crit]



=== TEST 8b: after auth_delay the 401 is the module's JSON, the body is discarded, nothing is written; a 403 is not delayed
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /slow/ {
        auth_delay 200ms;
        mobispot_admin role=admin;
        mobispot_api;
    }
--- request eval
["DELETE /slow/admin/sites/a", "PUT /slow/admin/networks/n\n{\"name\":\"N\"}", "GET /slow/spots/a"]
--- error_code eval
[401, 401, 404]
--- response_body_json_subset eval
[{error => {code => "unauthenticated", message => "the admin API needs a signed-in caller"}},
 {error => {code => "unauthenticated"}}, {error => {code => "unknown_site"}}]
--- redis_check
EXISTS ms:{networks}:doc => 0
--- error_log
mobispot: delaying the refusal for 200 ms (auth_delay)
--- no_error_log
[error]
[alert]



=== TEST 8c: auth_delay is for a missing sign-in only: a caller without the role gets its 403 at once
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /user/ {
        auth_delay 2s;
        set $mobispot_roles "user";
        mobispot_admin role=admin;
        mobispot_api;
    }
--- request
DELETE /user/admin/sites/a
--- error_code: 403
--- response_body_json_subset eval
{error => {code => "forbidden"}}
--- no_error_log
auth_delay



=== TEST 9: mobispot_time_zones: an unknown zone stops the configuration
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_time_zones Europe/Brussels Mars/Olympus_Mons;
--- config
    location /api/v1/ { mobispot_api; }
--- must_die
--- error_log
unknown time zone "Mars/Olympus_Mons"



=== TEST 10: mobispot_time_zones: names with dots are refused
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_time_zones ../../etc/passwd;
--- config
    location /api/v1/ { mobispot_api; }
--- must_die
--- error_log
invalid time zone name "../../etc/passwd"



=== TEST 11: a site in a zone of mobispot_time_zones other than the default
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_time_zones Europe/Brussels America/New_York;
--- config
    location /api/v1/ { mobispot_api; }
--- redis
HSET ms:{networks}:passport cowallonia cowallonia-pass
--- request eval
"PUT /api/v1/admin/sites/ny\n" . main::site_with("time_zone", '"America/New_York"')
--- error_code: 201
--- redis_check
HGET ms:{site:ny}:info tz => America/New_York



=== TEST 12: every site write bumps ms:version: nearby sees an admin change at once
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ { mobispot_api; }
--- redis
HSET ms:{networks}:passport cowallonia cowallonia-pass
--- request eval
my $q = "GET /api/v1/spots/nearby?lat=50.4641&lon=4.8661&radius_km=5"
    . "&from=2026-11-30T09:00:00Z&to=2026-11-30T10:00:00Z&all=true";
(my $changed = $::SITE) =~ s/"capacity":24/"capacity":5/;
$changed =~ s/"name":"CoWallonia Namur"/"name":"Namur Centre"/;
["PUT /api/v1/admin/sites/cw-namur\n$::SITE", $q, $q,
 "PUT /api/v1/admin/sites/cw-namur\n$changed", $q,
 "DELETE /api/v1/admin/sites/cw-namur", $q]
--- error_code eval
[201, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[qr/./,
 qr/"sites":\[\{"id":"cw-namur","name":"CoWallonia Namur",.*"free":24,"open":true\}\]/,
 qr/"sites":\[\{"id":"cw-namur","name":"CoWallonia Namur",.*"free":24,"open":true\}\]/,
 qr/./,
 qr/"sites":\[\{"id":"cw-namur","name":"Namur Centre",.*"free":5,"open":true\}\]/,
 qr/./,
 qr/"sites":\[\]/]
--- redis_check
GET ms:version => 3
--- no_error_log
[error]



=== TEST 13: a body that does not fit in the request header buffer (read in two parts)
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    client_header_buffer_size 1k;
--- config
    location /api/v1/ { mobispot_api; }
--- redis
HSET ms:{networks}:passport cowallonia cowallonia-pass
--- request eval
"PUT /api/v1/admin/sites/cw-namur\n"
. ::site_with('closed_dates',
              '[' . CORE::join(',', map { sprintf '"2027-02-%02d"', $_ } 1 .. 28)
              . ',' . CORE::join(',', map { sprintf '"2027-03-%02d"', $_ } 1 .. 31) . ']')
--- error_code: 201
--- response_body_like: "closed_dates":\["2027-02-01",.*"2027-03-31"\]
--- redis_check
HEXISTS ms:{site:cw-namur}:info name => 1



=== TEST 14: an id of the longest length (64 bytes) makes whole keys: PUT, GET, availability, nearby, DELETE; one byte more is refused, nothing written
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ { mobispot_api; }
--- redis
HSET ms:{networks}:passport cowallonia cowallonia-pass
--- request eval
["PUT /api/v1/admin/sites/s012345678901234567890123456789012345678901234567890123456789abc",
 "GET /api/v1/spots/s012345678901234567890123456789012345678901234567890123456789abc",
 "GET /api/v1/spots/s012345678901234567890123456789012345678901234567890123456789abc/availability?date=2026-12-07",
 "GET /api/v1/spots/nearby?lat=50.4641&lon=4.8661&from=2026-12-07T09:00:00Z&to=2026-12-07T10:00:00Z",
 "PUT /api/v1/admin/sites/s012345678901234567890123456789012345678901234567890123456789abcd",
 "GET /api/v1/spots/s012345678901234567890123456789012345678901234567890123456789abcd",
 "DELETE /api/v1/admin/sites/s012345678901234567890123456789012345678901234567890123456789abcd",
 "PUT /api/v1/admin/sites/keeps012345678901234567890123456789012345678901234567890123456789abc"]
--- request_body eval
[$::SITE, "", "", "", $::SITE, "", "", $::SITE]
--- error_code eval
[201, 200, 200, 200, 400, 404, 404, 400]
--- response_body_like eval
[qr/"id":"s012345678901234567890123456789012345678901234567890123456789abc"/,
 qr/"id":"s012345678901234567890123456789012345678901234567890123456789abc"/,
 qr/^\{"site":"s012345678901234567890123456789012345678901234567890123456789abc",.*"slots":\[\{"start":"2026-12-07T08:30:00\+01:00"/,
 qr/"sites":\[\{"id":"s012345678901234567890123456789012345678901234567890123456789abc","name":"CoWallonia Namur"/,
 qr/"code":"invalid_id"/,
 qr/"code":"unknown_site"/,
 qr/"code":"unknown_site"/,
 qr/"code":"invalid_id"/]
--- redis_check
GET ms:{site:s012345678901234567890123456789012345678901234567890123456789abc}:doc =~ "id":"s012345678901234567890123456789012345678901234567890123456789abc"
HGET ms:{site:s012345678901234567890123456789012345678901234567890123456789abc}:info name => CoWallonia Namur
HGET ms:sites s012345678901234567890123456789012345678901234567890123456789abc =~ "name":"CoWallonia Namur"
ZSCORE ms:geo s012345678901234567890123456789012345678901234567890123456789abc =~ ^[0-9]+$
EXISTS ms:{site:s012345678901234567890123456789012345678901234567890123456789abcd}:doc ms:{site:s012345678901234567890123456789012345678901234567890123456789abcd}:info => 0
HEXISTS ms:sites s012345678901234567890123456789012345678901234567890123456789abcd => 0
ZSCORE ms:geo s012345678901234567890123456789012345678901234567890123456789abcd => (nil)
GET ms:version => 1
--- no_error_log
[error]
