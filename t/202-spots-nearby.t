# GET spots/nearby: ordering, radius, free capacity (bookings changed in
# Redis), all=true, limit, kinds, entitlement with and without a caller's
# passport, index entries without a site, and the bad-input matrix.
#
#   prove -I t/lib t/202-spots-nearby.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;

our $H = "'540-1020;540-1020;540-1020;540-1020;540-1020;540-1020;540-1020'";

our @SEED = (
    "HSET ms:{site:a}:info name A town Namur tz Europe/Brussels slot 30 hours $::H closed '' networks cowallonia cap:desk 10 cap:meeting_room 1",
    "HSET ms:{site:b}:info name B town 'Les Isnes' tz Europe/Brussels slot 30 hours $::H closed '' networks swc cap:desk 5",
    "HSET ms:{site:c}:info name C town Charleroi tz Europe/Brussels slot 30 hours $::H closed '' networks 'swc,cowallonia' cap:desk 8 cap:meeting_room 2",
    "HSET ms:{site:d}:info name D town 'Liège' tz Europe/Brussels slot 30 hours $::H closed '' networks cowallonia cap:desk 30",
    "GEOADD ms:geo 4.8661 50.4641 a 4.7310 50.5030 b 4.4446 50.4108 c 5.5733 50.6451 d",
    "HSET ms:{networks}:passport cowallonia cowallonia-pass swc swc-pass",
    # Tuesday 1 December 2026, 10:00-11:00 local = 09:00Z-10:00Z
    "HSET ms:{site:b}:booked:desk:2026-12-01 570 5",
    "HSET ms:{site:c}:booked:desk:2026-12-01 540 3 570 1",
);

our $Q = '/api/v1/spots/nearby?lat=50.4674&lon=4.8720&from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z';

# $Q within 40 km, asked $n times (a block changes Redis in between)
sub near40 {
    my ($n) = @_;
    return [("GET $Q&radius_km=40") x $n];
}

# an answer to $Q: the sites' ids and free capacities, nearest first
sub free {
    my @sites;
    while (my ($id, $free) = splice @_, 0, 2) {
        push @sites, {id => $id, free => $free};
    }
    return {sites => \@sites};
}

# the real Redis (all blocks but the one with the fake Redis), the API
# under /api/v1/ (all blocks but the one with a location per passport)
our $HTTP = "    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n";
our $API = "    location /api/v1/ { mobispot_api; }\n";

run_tests();

__DATA__

=== TEST 1: nearest first, within the radius, only sites with free capacity
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
"GET $::Q&radius_km=40"
--- error_code: 200
--- response_body_json_subset
{"kind":"desk","from":"2026-12-01T09:00:00+00:00","to":"2026-12-01T10:00:00+00:00",
 "sites":[{"id":"a","name":"A","town":"Namur","free":10,"open":true},
          {"id":"c","name":"C","town":"Charleroi","free":5,"open":true}]}
--- response_body_like
"distance_km":0\.[0-9]+,.*"distance_km":3[0-9]\.[0-9]+,
--- no_error_log
[error]



=== TEST 2: not signed in: no "entitled" member
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
"GET $::Q&radius_km=40"
--- response_body_like
^(?!.*entitled).*"id":"a"



=== TEST 3: all=true lists full and closed sites too; a bigger radius reaches Liège
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
["GET $::Q&radius_km=60&all=true",
 "GET /api/v1/spots/nearby?lat=50.4674&lon=4.8720&radius_km=60&all=true&from=2026-12-01T17:00:00Z&to=2026-12-01T18:00:00Z",
 "GET /api/v1/spots/nearby?lat=50.4674&lon=4.8720&radius_km=60&from=2026-12-01T17:00:00Z&to=2026-12-01T18:00:00Z"]
--- response_body_json_subset eval
[{sites => [{id => "a", free => 10, open => \1}, {id => "b", free => 0, open => \1},
            {id => "c", free => 5, open => \1}, {id => "d", free => 30, open => \1}]},
 {sites => [{id => "a", free => 0, open => \0}, {id => "b", free => 0, open => \0},
            {id => "c", free => 0, open => \0}, {id => "d", free => 0, open => \0}]},
 {sites => []}]



=== TEST 4: limit, a small radius, a room kind
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED, "HSET ms:{site:a}:booked:meeting_room:2026-12-01 570 1"]
--- request eval
["GET $::Q&radius_km=60&limit=1",
 "GET $::Q&radius_km=1",
 "GET $::Q&radius_km=0.1",
 "GET $::Q&radius_km=40&kind=meeting_room&all=true"]
--- response_body_json_subset eval
[{sites => [{id => "a"}]},
 {sites => [{id => "a"}]},
 {sites => []},
 {kind => "meeting_room", sites => [{id => "a", free => 0}, {id => "b", free => 0}, {id => "c", free => 2}]}]



=== TEST 5: free capacity follows a booking changed in Redis directly
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval: main::near40(3)
--- before_request eval
["", "redis HSET ms:{site:a}:booked:desk:2026-12-01 570 9\nsleep 0.1", "redis HSET ms:{site:a}:booked:desk:2026-12-01 540 10\nsleep 0.1"]
--- response_body_json_subset eval
[main::free(a => 10, c => 5),
 main::free(a => 1, c => 5),
 main::free(c => 5)]



=== TEST 6: signed in: "entitled" says whether the caller's passport covers the site
--- http_config eval: $::HTTP
--- config
    # $mobispot_pass stands for what the SSO module hands over (issue 3)
    location /cw/ {
        set $mobispot_pass cowallonia-pass;
        mobispot_api;
    }
    location /swc/ {
        set $mobispot_pass "other-pass swc-pass";
        mobispot_api;
    }
--- redis eval: [@::SEED]
--- request eval
["GET /cw/spots/nearby?lat=50.4674&lon=4.8720&from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z&radius_km=60&all=true",
 "GET /swc/spots/nearby?lat=50.4674&lon=4.8720&from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z&radius_km=60&all=true"]
--- response_body_json_subset eval
[{sites => [{id => "a", entitled => \1}, {id => "b", entitled => \0},
            {id => "c", entitled => \1}, {id => "d", entitled => \1}]},
 {sites => [{id => "a", entitled => \0}, {id => "b", entitled => \1},
            {id => "c", entitled => \1}, {id => "d", entitled => \0}]}]
--- no_error_log
[error]



=== TEST 7: an index entry whose site is gone is skipped; the default window works
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED, "GEOADD ms:geo 4.8700 50.4670 ghost"]
--- request eval
["GET $::Q&radius_km=40", "GET /api/v1/spots/nearby?lat=50.4674&lon=4.8720&all=true&radius_km=1"]
--- response_body_json_subset eval
[{sites => [{id => "a"}, {id => "c"}]}, {sites => [{id => "a"}]}]
--- response_body_like eval
[qr/./, qr/"from":"20[0-9-]+T[0-9:]+\+00:00","to":"20[0-9-]+T[0-9][0-9]:(00|30):00\+00:00"/]



=== TEST 8: bad input names the parameter
--- http_config eval: $::HTTP
--- config eval: $::API
--- request eval
["GET /api/v1/spots/nearby?lon=4.8",
 "GET /api/v1/spots/nearby?lat=50.4",
 "GET /api/v1/spots/nearby?lat=90&lon=4.8",
 "GET /api/v1/spots/nearby?lat=-85.1&lon=4.8",
 "GET /api/v1/spots/nearby?lat=50.4&lon=180.5",
 "GET /api/v1/spots/nearby?lat=abc&lon=4.8",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8e1",
 "GET /api/v1/spots/nearby?lat=50.4&lon=",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&lat=50.5",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&radius_km=0",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&radius_km=-3",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&radius_km=500.5",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&kind=sofa",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&from=2026-12-01T10:00:00Z&to=2026-12-01T09:00:00Z",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&from=2026-12-01T10:00:00Z&to=2026-12-02T10:00:01Z",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&from=2026-12-01T10:00:00Z",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&from=2026-12-01&to=2026-12-02",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&limit=0",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&limit=101",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&limit=ten",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&all=1",
 "GET /api/v1/spots/nearby?lat=50.4&lon=4.8&all=true&all=false"]
--- error_code eval
[(400) x 22]
--- response_body_json_subset eval
[{error => {code => "missing_parameter", parameter => "lat"}},
 {error => {code => "missing_parameter", parameter => "lon"}},
 {error => {code => "invalid_parameter", parameter => "lat"}},
 {error => {code => "invalid_parameter", parameter => "lat"}},
 {error => {code => "invalid_parameter", parameter => "lon"}},
 {error => {code => "invalid_parameter", parameter => "lat"}},
 {error => {code => "invalid_parameter", parameter => "lon"}},
 {error => {code => "invalid_parameter", parameter => "lon"}},
 {error => {code => "duplicate_parameter", parameter => "lat"}},
 {error => {code => "invalid_parameter", parameter => "radius_km"}},
 {error => {code => "invalid_parameter", parameter => "radius_km"}},
 {error => {code => "invalid_parameter", parameter => "radius_km"}},
 {error => {code => "invalid_parameter", parameter => "kind"}},
 {error => {code => "invalid_parameter", parameter => "to"}},
 {error => {code => "invalid_parameter", parameter => "to", message => "the window from-to is longer than 24 hours"}},
 {error => {code => "missing_parameter", parameter => "to"}},
 {error => {code => "invalid_parameter", parameter => "from"}},
 {error => {code => "invalid_parameter", parameter => "limit"}},
 {error => {code => "invalid_parameter", parameter => "limit"}},
 {error => {code => "invalid_parameter", parameter => "limit"}},
 {error => {code => "invalid_parameter", parameter => "all"}},
 {error => {code => "duplicate_parameter", parameter => "all"}}]
--- no_error_log
[error]
[alert]



=== TEST 9: Redis goes silent between the two round trips: 504, nothing leaks
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_redis_timeout 300ms;
    mobispot_api_cache off;
    mobispot_bookings_deadlines off;
--- config eval: $::API
--- fake_redis
reply *1\r\n*2\r\n$1\r\na\r\n$6\r\n0.5562
reply $-1
silence
--- request
GET /api/v1/spots/nearby?lat=50.4674&lon=4.8720
--- error_code: 504
--- response_body_json_subset
{"error":{"code":"redis_timeout"}}
--- fake_redis_received
GEOSEARCH ms:geo FROMLONLAT 4.8720000 50.4674000 BYRADIUS 25.0000 km ASC COUNT 60 WITHDIST
GET ms:version
HMGET ms:{site:a}:info name town tz slot hours closed networks cap:desk cap:meeting_room cap:conference_room cap:training_room
--- no_error_log
[alert]



=== TEST 10: with a catalogue version, the site info is cached; bookings stay live
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED, "SET ms:version 7"]
--- request eval: main::near40(5)
--- before_request eval
["",
 "redis HSET ms:{site:a}:booked:desk:2026-12-01 570 9\nsleep 0.1",
 "redis HSET ms:{site:a}:info cap:desk 20\nsleep 0.1",
 "redis INCR ms:version\nsleep 0.1",
 "redis HSET ms:{site:c}:booked:desk:2026-12-01 540 8\nsleep 0.1"]
--- response_body_json_subset eval
[main::free(a => 10, c => 5),
 main::free(a => 1, c => 5),
 main::free(a => 1, c => 5),
 main::free(a => 11, c => 5),
 main::free(a => 11)]
--- no_error_log
[error]



=== TEST 11: cached sites: only the booked fields of the window's slots are read
--- http_config eval: $::HTTP . "    mobispot_api_cache off;\n"
--- config eval: $::API
--- redis eval: [@::SEED, "SET ms:version 1", "CONFIG RESETSTAT"]
--- request eval
["GET $::Q&radius_km=40", "GET $::Q&radius_km=40&all=true"]
--- response_body_json_subset eval
[main::free(a => 10, c => 5),
 {sites => [{id => "a", free => 10, open => \1}, {id => "b", free => 0},
            {id => "c", free => 5}]}]
--- redis_check
# (no answer cache, so no parts) the 1st request reads the 3 infos, then
# the booked fields of the window's slots of the 3 open sites; the 2nd,
# the infos cached, those fields only: never a whole booked day
INFO commandstats =~ ^(?![\s\S]*cmdstat_hgetall)
INFO commandstats =~ cmdstat_hmget:calls=9,
--- no_error_log
[error]



=== TEST 12: without a catalogue version nothing is cached
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval: main::near40(2)
--- before_request eval
["", "redis HSET ms:{site:a}:info cap:desk 3\nsleep 0.1"]
--- response_body_json_subset eval
[main::free(a => 10, c => 5),
 main::free(a => 3, c => 5)]



=== TEST 13: a catalogue version that goes back (data set replaced) empties the cache
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED, "SET ms:version 5"]
--- request eval: main::near40(3)
--- before_request eval
["", "redis HSET ms:{site:a}:info cap:desk 4\nsleep 0.1", "redis SET ms:version 1\nsleep 0.1"]
--- response_body_json_subset eval
[main::free(a => 10, c => 5),
 main::free(a => 10, c => 5),
 main::free(a => 4, c => 5)]
--- error_log
catalogue version went back from 5 to 1



=== TEST 14: a catalogue version that is not a counter: nothing cached, the answer is right
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED, "SET ms:version garbage"]
--- request eval: main::near40(2)
--- before_request eval
["", "redis HSET ms:{site:a}:info cap:desk 3\nsleep 0.1"]
--- response_body_json_subset eval
[main::free(a => 10, c => 5),
 main::free(a => 3, c => 5)]
--- error_log
"ms:version" is not a counter, site info not cached



=== TEST 15: a zone whose slots straddle UTC midnight: the slot's booked count is on the previous UTC day
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_time_zones Asia/Kolkata;
--- config eval: $::API
--- redis
HSET ms:{site:in}:info name Pune town Pune tz Asia/Kolkata slot 60 hours '0-1440;0-1440;0-1440;0-1440;0-1440;0-1440;0-1440' closed '' networks '' cap:desk 4
HSET ms:{site:in}:booked:desk:2026-12-01 1410 3
GEOADD ms:geo 73.8567 18.5204 in
SET ms:version 1
--- request eval
["GET /api/v1/spots/nearby?lat=18.52&lon=73.85&from=2026-12-02T00:00:00Z&to=2026-12-02T00:15:00Z",
 "GET /api/v1/spots/nearby?lat=18.52&lon=73.85&from=2026-12-02T00:05:00Z&to=2026-12-02T00:20:00Z"]
--- response_body_json_subset eval
[{sites => [{id => "in", free => 1, open => \1}]},
 {sites => [{id => "in", free => 1, open => \1}]}]
--- no_error_log
[error]



=== TEST 16: two sites whose ids fall in the same set of the info cache both stay cached
--- http_config eval: $::HTTP . "    mobispot_api_cache off;\n"
--- config eval: $::API
--- redis eval
# s100 and s221: the same ngx_hash_key() modulo 1024 (one slot of a
# direct-mapped cache of 1024, one set of two of 512 sets)
["HSET ms:{site:s100}:info name S100 town Namur tz Europe/Brussels slot 30 hours $::H closed '' networks '' cap:desk 4",
 "HSET ms:{site:s221}:info name S221 town Namur tz Europe/Brussels slot 30 hours $::H closed '' networks '' cap:desk 6",
 "GEOADD ms:geo 4.8661 50.4641 s100 4.8700 50.4650 s221",
 "SET ms:version 1", "CONFIG RESETSTAT"]
--- request eval: [("GET $::Q&radius_km=10") x 3]
--- response_body_json_subset eval
[({sites => [{id => "s221", free => 6}, {id => "s100", free => 4}]}) x 3]
--- redis_check
# the 1st request reads both infos, then the booked fields of the
# window's slots; the others only those fields (an info read again would
# be one HMGET more)
INFO commandstats =~ ^(?![\s\S]*cmdstat_hgetall)
INFO commandstats =~ cmdstat_hmget:calls=8,
--- no_error_log
[error]
