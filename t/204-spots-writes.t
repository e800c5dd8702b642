# The writes of the catalogue: the entry in one MULTI/EXEC on its hash tag,
# then its indexes and notices only when the transaction ran whole; a DELETE
# of nothing writes nothing; a network write tells the caches and the
# gateways; coordinates at the GEO limit are written and found.
#
#   prove -I t/lib t/204-spots-writes.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;

our $NET = '{"name":"CoWallonia","passport":{"id":"cowallonia-pass",'
    . '"name":"CoWallonia pass","monthly_price_eur":250}}';
our $SITE = '{"name":"CoWallonia Namur","town":"Namur","address":"x",'
    . '"latitude":50.4641,"longitude":4.8661,"time_zone":"Europe/Brussels",'
    . '"networks":["cowallonia"],"opening_hours":{"mon":["08:30-12:00"]},'
    . '"resources":[{"kind":"desk","capacity":24}]}';
our $NORTH = $SITE =~ s/"latitude":50.4641/"latitude":85.05112878/r;

our $HTTP = "    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n"
    . "    mobispot_admin loopback;\n";
our $API = "    location /api/v1/ { mobispot_api; }\n";

# no PUBLISH since CONFIG RESETSTAT
our $NO_PUBLISH = 'INFO commandstats =~ /\A(?![\s\S]*cmdstat_publish:)/';

run_tests();

__DATA__

=== TEST 1: DELETE of a site that is not there: 404, no version bump, no notice
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis
CONFIG RESETSTAT
--- request
DELETE /api/v1/admin/sites/nowhere
--- error_code: 404
--- response_body_json_subset eval
{error => {code => "unknown_site"}}
--- redis_check eval
"GET ms:version => (nil)\n$::NO_PUBLISH"
--- no_error_log
[error]



=== TEST 2: a DELETE whose transaction Redis refuses (out of memory) leaves the indexes, and a later one removes all
--- http_config eval: $::HTTP
--- config eval: $::API
--- request eval
["PUT /api/v1/admin/networks/cowallonia\n$::NET",
 "PUT /api/v1/admin/sites/cw-namur\n$::SITE",
 "DELETE /api/v1/admin/sites/cw-namur",
 "GET /api/v1/spots/cw-namur",
 "DELETE /api/v1/admin/sites/cw-namur",
 "GET /api/v1/spots/cw-namur"]
--- before_request eval
["", "", "redis CONFIG SET maxmemory-policy noeviction\nredis CONFIG SET maxmemory 1",
 "redis CONFIG SET maxmemory 0", "", ""]
--- error_code eval
[201, 201, 502, 200, 200, 404]
--- redis_check
CONFIG SET maxmemory 0 => OK
EXISTS ms:{site:cw-namur}:doc => 0
ZSCORE ms:geo cw-namur => (nil)
HEXISTS ms:sites cw-namur => 0
GET ms:version => 3



=== TEST 3: the same refusal, seen from the indexes: nothing removed while the site stays
--- http_config eval: $::HTTP
--- config eval: $::API
--- request eval
["PUT /api/v1/admin/networks/cowallonia\n$::NET",
 "PUT /api/v1/admin/sites/cw-namur\n$::SITE",
 "DELETE /api/v1/admin/sites/cw-namur"]
--- before_request eval
["", "", "redis CONFIG SET maxmemory-policy noeviction\nredis CONFIG SET maxmemory 1"]
--- error_code eval
[201, 201, 502]
--- redis_check
CONFIG SET maxmemory 0 => OK
EXISTS ms:{site:cw-namur}:doc => 1
ZSCORE ms:geo cw-namur =~ ^\d+$
HEXISTS ms:sites cw-namur => 1
GET ms:version => 2



=== TEST 4: a network write bumps the catalogue version and tells every gateway ("*")
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis
CONFIG RESETSTAT
--- request eval
"PUT /api/v1/admin/networks/cowallonia\n$::NET"
--- error_code: 201
--- redis_check
GET ms:version => 1
INFO commandstats =~ cmdstat_publish:calls=1,
HGET ms:{networks}:passport cowallonia => cowallonia-pass
--- no_error_log
[error]



=== TEST 5: an error inside EXEC is an error: 502, and no version bump, no notice
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis
SET ms:{networks}:doc not-a-hash
CONFIG RESETSTAT
--- request eval
"PUT /api/v1/admin/networks/cowallonia\n$::NET"
--- error_code: 502
--- response_body_json_subset eval
{error => {code => "redis_error"}}
--- redis_check eval
"GET ms:version => (nil)\n$::NO_PUBLISH"



=== TEST 6: a site at the northern GEO limit is written whole and found by nearby
--- http_config eval: $::HTTP
--- config eval: $::API
--- request eval
["PUT /api/v1/admin/networks/cowallonia\n$::NET",
 "PUT /api/v1/admin/sites/north\n$::NORTH",
 "GET /api/v1/spots/north",
 "GET /api/v1/spots/nearby?lat=85.05112878&lon=4.8661&radius_km=5&all=true"]
--- error_code eval
[201, 201, 200, 200]
--- response_body_json_subset eval
[{}, {id => "north", latitude => 85.0511287}, {latitude => 85.0511287},
 {sites => [{id => "north"}]}]
--- redis_check
ZSCORE ms:geo north =~ ^\d+$
--- no_error_log
[error]
