# The catalogue and the SSO gateway together: the zone a site is given by
# the admin API is what zone-limited company tokens are checked against,
# and a site write notifies the gateways (PUBLISH ms:sso:sites), so that a
# change is enforced at once, long before mobispot_site_cache_ttl.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;

sso_keys();

our %T;
sub hs { tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(@_)) }

$T{namur} = hs(pass => 'cowallonia-pass', zones => '["namur-province"]', sub => 'zoned-namur');
$T{hainaut} = hs(pass => 'cowallonia-pass', zones => '["hainaut"]', sub => 'zoned-hainaut');
$T{free} = hs(pass => 'cowallonia-pass', sub => 'free');
$T{admins} = hs(pass => 'cowallonia-pass', roles => '["user","admin"]');
$T{admin1} = hs(pass => 'cowallonia-pass', roles => 'admin');
$T{spaced} = hs(pass => 'cowallonia-pass', roles => 'user admin');
$T{commas} = hs(pass => 'cowallonia-pass', roles => 'user,admin');
$T{inner} = hs(pass => 'cowallonia-pass', roles => '["user admin"]');

our $NET = '{"name":"CoWallonia","passport":{"id":"cowallonia-pass","name":"CoWallonia pass","monthly_price_eur":250}}';
our $SITE1 = '{"name":"CoWallonia Namur","town":"Namur","address":"Place d\'Armes 1, 5000 Namur","latitude":50.4641,"longitude":4.8661,"time_zone":"Europe/Brussels","networks":["cowallonia"],"amenities":["fibre_1gbps","wifi","printer","coffee","lockers"],"slot_minutes":30,"opening_hours":{"mon":["08:30-18:00"],"tue":["08:30-18:00"],"wed":["08:30-18:00"],"thu":["08:30-18:00"],"fri":["08:30-18:00"],"sat":["09:00-13:00"]},"closed_dates":["2026-12-25","2027-01-01","2027-03-29","2027-05-01"],"resources":[{"kind":"desk","capacity":24},{"kind":"meeting_room","id":"meuse","name":"Meuse","seats":8},{"kind":"meeting_room","id":"sambre","name":"Sambre","seats":6},{"kind":"conference_room","id":"citadelle","name":"Citadelle","seats":30}],"zone":"namur-province"}';
our $SITE2 = '{"name":"CoWallonia Namur","town":"Namur","address":"Place d\'Armes 1, 5000 Namur","latitude":50.4641,"longitude":4.8661,"time_zone":"Europe/Brussels","networks":["cowallonia"],"amenities":["fibre_1gbps","wifi","printer","coffee","lockers"],"slot_minutes":30,"opening_hours":{"mon":["08:30-18:00"],"tue":["08:30-18:00"],"wed":["08:30-18:00"],"thu":["08:30-18:00"],"fri":["08:30-18:00"],"sat":["09:00-13:00"]},"closed_dates":["2026-12-25","2027-01-01","2027-03-29","2027-05-01"],"resources":[{"kind":"desk","capacity":24},{"kind":"meeting_room","id":"meuse","name":"Meuse","seats":8},{"kind":"meeting_room","id":"sambre","name":"Sambre","seats":6},{"kind":"conference_room","id":"citadelle","name":"Citadelle","seats":30}],"zone":"hainaut"}';
our $SITE0 = '{"name":"CoWallonia Namur","town":"Namur","address":"Place d\'Armes 1, 5000 Namur","latitude":50.4641,"longitude":4.8661,"time_zone":"Europe/Brussels","networks":["cowallonia"],"amenities":["fibre_1gbps","wifi","printer","coffee","lockers"],"slot_minutes":30,"opening_hours":{"mon":["08:30-18:00"],"tue":["08:30-18:00"],"wed":["08:30-18:00"],"thu":["08:30-18:00"],"fri":["08:30-18:00"],"sat":["09:00-13:00"]},"closed_dates":["2026-12-25","2027-01-01","2027-03-29","2027-05-01"],"resources":[{"kind":"desk","capacity":24},{"kind":"meeting_room","id":"meuse","name":"Meuse","seats":8},{"kind":"meeting_room","id":"sambre","name":"Sambre","seats":6},{"kind":"conference_room","id":"citadelle","name":"Citadelle","seats":30}]}';

our $HTTP = <<'_EOC_';
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
    mobispot_site cw-namur;
    mobispot_site_cache_ttl 60s;
_EOC_

our $CONFIG = <<'_EOC_';
    location /api/v1/ { mobispot_api; }
    location /echo { return 200 "sub=$http_x_sub\n"; }
    location /p {
        mobispot_sso on;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: the zone written by the admin API is enforced, and a change is seen at once
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["PUT /api/v1/admin/networks/cowallonia\n$::NET",
 "PUT /api/v1/admin/sites/cw-namur\n$::SITE1",
 "GET /p", "GET /p", "GET /p",
 "PUT /api/v1/admin/sites/cw-namur\n$::SITE2",
 "GET /p", "GET /p",
 "PUT /api/v1/admin/sites/cw-namur\n$::SITE0",
 "GET /p", "GET /p"]
--- more_headers eval
["", "",
 "Authorization: Bearer $::T{namur}", "Authorization: Bearer $::T{hainaut}",
 "Authorization: Bearer $::T{free}",
 "",
 "Authorization: Bearer $::T{namur}", "Authorization: Bearer $::T{hainaut}",
 "",
 "Authorization: Bearer $::T{namur}", "Authorization: Bearer $::T{free}"]
--- before_request eval
["", "", "", "", "", "", "sleep 0.2", "", "", "sleep 0.2", ""]
--- error_code eval
[201, 201, 200, 403, 200, 200, 403, 200, 200, 403, 200]
--- response_body_like eval
[".", '"zone":"namur-province"', "sub=zoned-namur", "not_entitled", "sub=free",
 '"zone":"hainaut"', "not_entitled", "sub=zoned-hainaut",
 '^(?!.*"zone").*$', "not_entitled", "sub=free"]
--- redis_check
HGET ms:{site:cw-namur}:info zone => ""
--- error_log
the site's zone is outside the token's zones
the site has no zone and the token is zone-limited



=== TEST 2: a zone that is not an id is refused, and nothing is written
--- http_config eval: $::HTTP
--- config eval: $::CONFIG
--- request eval
["PUT /api/v1/admin/networks/cowallonia\n$::NET",
 "PUT /api/v1/admin/sites/cw-namur\n" . do { (my $b = $::SITE1) =~ s/namur-province/Namur Province!/; $b },
 "PUT /api/v1/admin/sites/cw-namur\n" . do { (my $b = $::SITE1) =~ s/"namur-province"/42/; $b }]
--- error_code eval
[201, 422, 400]
--- response_body_json_subset eval
[undef, {error => {code => "invalid_value", field => "zone"}},
 {error => {code => "invalid_field", field => "zone"}}]
--- redis_check
EXISTS ms:{site:cw-namur}:info => 0



=== TEST 3: mobispot_admin role=admin behind mobispot_sso: an array or a single role name grants it; the string "user admin" (or "user,admin", or such an element) names no role and writes nothing
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
--- config
    location /api/v1/ {
        mobispot_sso on;
        mobispot_admin role=admin;
        mobispot_api;
    }
--- request eval
[("PUT /api/v1/admin/networks/cowallonia\n$::NET") x 5]
--- more_headers eval
[map { "Authorization: Bearer $::T{$_}" } qw(spaced commas inner admins admin1)]
--- before_request eval
["", "", "redis DEL ms:{networks}:doc", "", "redis DEL ms:{networks}:doc"]
--- error_code eval
[403, 403, 403, 201, 201]
--- response_body_json_subset eval
[({error => {code => "forbidden"}}) x 3, undef, undef]
--- no_error_log
[error]
