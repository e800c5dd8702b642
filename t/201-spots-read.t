# Read API: GET spots/{id}, GET spots/{id}/availability (opening hours,
# closed dates, bookings changed in Redis, DST in Europe/Brussels, a slot
# across UTC midnight), GET
# networks, and the bad-input matrix of availability.
#
#   prove -I t/lib t/201-spots-read.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;

# 2026: clocks go forward on Sunday 29 March, back on Sunday 25 October
our @SEED = (
    q{HSET ms:{site:a}:info name 'Site A' town Namur tz Europe/Brussels slot 30 hours '540-1020;540-1020;540-1020;540-1020;540-1020;540-1020;540-1020' closed '2026-12-25,2027-01-01' networks cowallonia cap:desk 10 cap:meeting_room 2 cap:conference_room 0 cap:training_room 0},
    q{SET ms:{site:a}:doc '{"id":"a","name":"Site A"}'},
);

sub slots {
    my ($date, $off, $from, $to, $free) = @_;
    my @s;
    for (my $m = $from; $m < $to; $m += 30) {
        my $e = $m + 30;
        push @s, {
            start => sprintf("%sT%02d:%02d:00%s", $date, $m / 60, $m % 60, $off),
            end => sprintf("%sT%02d:%02d:00%s", $date, $e / 60, $e % 60, $off),
            free => ref $free ? ($free->{$m} // 10) : $free,
        };
    }
    return \@s;
}

# The answer to availability?date=DATE for the desks of site a: the local
# day from midnight (offset $off) to the next midnight, on $next (offset
# $next_off: another one on the days the clocks change), open 09:00-17:00 in
# the offset of $next_off (the change is at night); $free as in slots(), or
# undef on a closed date (no slots).
sub desk_day {
    my ($date, $next, $off, $next_off, $free) = @_;
    return {site => "a", kind => "desk", time_zone => "Europe/Brussels",
            slot_minutes => 30, capacity => 10, date => $date,
            from => "${date}T00:00:00$off", to => "${next}T00:00:00$next_off",
            slots => defined $free ? slots($date, $next_off, 540, 1020, $free)
                                   : []};
}

# the real Redis (all blocks but the one with the fake Redis), the API
# under /api/v1/ (all blocks)
our $HTTP = "    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n    mobispot_admin loopback;\n";
our $API = "    location /api/v1/ { mobispot_api; }\n";

run_tests();

__DATA__

=== TEST 1: GET spots/{id}: the stored document; unknown and malformed ids are 404
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
["GET /api/v1/spots/a", "GET /api/v1/spots/b", "GET /api/v1/spots/A%7Bx%7D", "HEAD /api/v1/spots/a"]
--- error_code eval
[200, 404, 404, 200]
--- response_body eval
['{"id":"a","name":"Site A"}',
 '{"error":{"code":"unknown_site","message":"no such site","parameter":"id"}}',
 '{"error":{"code":"unknown_site","message":"no such site","parameter":"id"}}',
 '']
--- no_error_log
[error]



=== TEST 2: availability of a day: open slots only, free = capacity - booked
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
[@::SEED,
 # 09:00 and 09:30 local (+01:00) on 2026-12-01 are 08:00Z and 08:30Z
 q{HSET ms:{site:a}:booked:desk:2026-12-01 480 4 510 10 1020 3}]
--- request
GET /api/v1/spots/a/availability?date=2026-12-01&kind=desk
--- error_code: 200
--- response_body_json eval
main::desk_day("2026-12-01", "2026-12-02", "+01:00", "+01:00", {540 => 6, 570 => 0})
--- no_error_log
[error]



=== TEST 3: free capacity follows a change made in Redis directly
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
[("GET /api/v1/spots/a/availability?from=2026-12-01T09:00:00%2B01:00&to=2026-12-01T10:00:00%2B01:00") x 2]
--- before_request eval
["", "redis HINCRBY ms:{site:a}:booked:desk:2026-12-01 510 7\nsleep 0.1"]
--- response_body_json_subset eval
[{capacity => 10, slots => main::slots("2026-12-01", "+01:00", 540, 600, 10)},
 {capacity => 10, slots => main::slots("2026-12-01", "+01:00", 540, 600, {570 => 3})}]



=== TEST 4: a room kind, a window across two days, a closed date
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
[@::SEED, q{HSET ms:{site:a}:booked:meeting_room:2026-12-24 900 1}]
--- request eval
["GET /api/v1/spots/a/availability?kind=meeting_room&from=2026-12-24T15:00:00Z&to=2026-12-26T09:00:00Z",
 "GET /api/v1/spots/a/availability?date=2026-12-25"]
--- error_code eval
[200, 200]
--- response_body_json eval
[{site => "a", kind => "meeting_room", time_zone => "Europe/Brussels",
  slot_minutes => 30, capacity => 2,
  from => "2026-12-24T16:00:00+01:00", to => "2026-12-26T10:00:00+01:00",
  slots => [{start => "2026-12-24T16:00:00+01:00", end => "2026-12-24T16:30:00+01:00", free => 1},
            {start => "2026-12-24T16:30:00+01:00", end => "2026-12-24T17:00:00+01:00", free => 2},
            {start => "2026-12-26T09:00:00+01:00", end => "2026-12-26T09:30:00+01:00", free => 2},
            {start => "2026-12-26T09:30:00+01:00", end => "2026-12-26T10:00:00+01:00", free => 2}]},
 main::desk_day("2026-12-25", "2026-12-26", "+01:00", "+01:00", undef)]
--- no_error_log
[error]



=== TEST 5: DST: opening hours stay 09:00-17:00 local across the last Sunday of March
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
[@::SEED,
 # 09:00 CEST on 29 March is 07:00Z; 09:00 CET the day before is 08:00Z
 q{HSET ms:{site:a}:booked:desk:2026-03-29 420 2},
 q{HSET ms:{site:a}:booked:desk:2026-03-28 480 1}]
--- request eval
["GET /api/v1/spots/a/availability?date=2026-03-28",
 "GET /api/v1/spots/a/availability?date=2026-03-29",
 "GET /api/v1/spots/a/availability?date=2026-03-30"]
--- response_body_json eval
[main::desk_day("2026-03-28", "2026-03-29", "+01:00", "+01:00", {540 => 9}),
 main::desk_day("2026-03-29", "2026-03-30", "+01:00", "+02:00", {540 => 8}),
 main::desk_day("2026-03-30", "2026-03-31", "+02:00", "+02:00", 10)]
--- no_error_log
[error]



=== TEST 6: DST: the last Sunday of October (a 25-hour day)
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
[@::SEED,
 # 09:00 CET on 25 October is 08:00Z
 q{HSET ms:{site:a}:booked:desk:2026-10-25 480 10 420 5}]
--- request eval
["GET /api/v1/spots/a/availability?date=2026-10-24",
 "GET /api/v1/spots/a/availability?date=2026-10-25"]
--- response_body_json eval
[main::desk_day("2026-10-24", "2026-10-25", "+02:00", "+02:00", 10),
 main::desk_day("2026-10-25", "2026-10-26", "+02:00", "+01:00", {540 => 0})]



=== TEST 7: availability: bad input names the parameter
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
["GET /api/v1/spots/a/availability?date=2026-02-30",
 "GET /api/v1/spots/a/availability?date=26-01-01",
 "GET /api/v1/spots/a/availability?date=2026-12-01&date=2026-12-02",
 "GET /api/v1/spots/a/availability?kind=sofa",
 "GET /api/v1/spots/a/availability?kind=desk&kind=desk",
 "GET /api/v1/spots/a/availability?date=2026-12-01&from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z",
 "GET /api/v1/spots/a/availability?from=2026-12-01T09:00:00Z",
 "GET /api/v1/spots/a/availability?to=2026-12-01T09:00:00Z",
 "GET /api/v1/spots/a/availability?from=2026-12-01T10:00:00Z&to=2026-12-01T10:00:00Z",
 "GET /api/v1/spots/a/availability?from=2026-12-01T10:00:00Z&to=2026-12-08T10:00:01Z",
 "GET /api/v1/spots/a/availability?from=2026-12-01T10:00:00&to=2026-12-01T11:00:00Z",
 "GET /api/v1/spots/a/availability?from=2026-12-01T10:00:00Z&to=tomorrow",
 "GET /api/v1/spots/zz/availability?date=2026-12-01"]
--- error_code eval
[(400) x 12, 404]
--- response_body_json_subset eval
[{error => {code => "invalid_parameter", parameter => "date"}},
 {error => {code => "invalid_parameter", parameter => "date"}},
 {error => {code => "duplicate_parameter", parameter => "date"}},
 {error => {code => "invalid_parameter", parameter => "kind"}},
 {error => {code => "duplicate_parameter", parameter => "kind"}},
 {error => {code => "invalid_parameter", parameter => "date"}},
 {error => {code => "missing_parameter", parameter => "to"}},
 {error => {code => "missing_parameter", parameter => "from"}},
 {error => {code => "invalid_parameter", parameter => "to"}},
 {error => {code => "invalid_parameter", parameter => "to", message => "the window from-to is longer than 7 days"}},
 {error => {code => "invalid_parameter", parameter => "from"}},
 {error => {code => "invalid_parameter", parameter => "to"}},
 {error => {code => "unknown_site", parameter => "id"}}]
--- no_error_log
[error]
[alert]



=== TEST 8: GET networks: each network with its passport and its sites
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis
HSET ms:{networks}:doc swc '{"id":"swc","name":"Smart Work Centers","passport":{"id":"swc-pass","name":"SWC pass","monthly_price_eur":200}}' cowallonia '{"id":"cowallonia","name":"CoWallonia","passport":{"id":"cowallonia-pass","name":"CoWallonia pass","monthly_price_eur":250}}'
HSET ms:sites b '{"name":"B","town":"Mons","networks":["cowallonia"]}' a '{"name":"A","town":"Namur","networks":["cowallonia","swc"]}' c '{"name":"C","town":"Enghien","networks":["swc"]}'
--- request
GET /api/v1/networks
--- error_code: 200
--- response_body_json
{"networks":[
  {"id":"cowallonia","name":"CoWallonia",
   "passport":{"id":"cowallonia-pass","name":"CoWallonia pass","monthly_price_eur":250},
   "sites":[{"id":"a","name":"A","town":"Namur"},{"id":"b","name":"B","town":"Mons"}]},
  {"id":"swc","name":"Smart Work Centers",
   "passport":{"id":"swc-pass","name":"SWC pass","monthly_price_eur":200},
   "sites":[{"id":"a","name":"A","town":"Namur"},{"id":"c","name":"C","town":"Enghien"}]}]}
--- no_error_log
[error]



=== TEST 9: Redis down: 503 JSON with Retry-After, at once
--- http_config eval: $::HTTP
--- config eval: $::API
--- before_request
redis_stop
--- request eval
["GET /api/v1/spots/a/availability?date=2026-12-01", "GET /api/v1/spots/nearby?lat=50.4&lon=4.8", "GET /api/v1/spots/a", "GET /api/v1/networks"]
--- error_code eval
[503, 503, 503, 503]
--- response_headers
Retry-After: 1
--- response_body_json_subset
{"error":{"code":"redis_unavailable"}}



=== TEST 10: no date: today in the site's time zone
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request
GET /api/v1/spots/a/availability
--- error_code: 200
--- response_body_like eval
my $d = `TZ=Europe/Brussels date +%F`;
CORE::chomp $d;
qr/"date":"$d","from":"${d}T00:00:00\+0[12]:00"/



=== TEST 11: a zone west of UTC: a local evening lies in the next UTC day
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_time_zones Europe/Brussels America/New_York;
--- config eval: $::API
--- redis
HSET ms:{site:ny}:info name NY town 'New York' tz America/New_York slot 60 hours ';1200-1380;;;;;' closed '' networks '' cap:desk 4
HSET ms:{site:ny}:booked:desk:2026-12-02 60 3
--- request
GET /api/v1/spots/ny/availability?date=2026-12-01
--- response_body_json
{"site":"ny","kind":"desk","time_zone":"America/New_York","slot_minutes":60,
 "capacity":4,"date":"2026-12-01",
 "from":"2026-12-01T00:00:00-05:00","to":"2026-12-02T00:00:00-05:00",
 "slots":[{"start":"2026-12-01T20:00:00-05:00","end":"2026-12-01T21:00:00-05:00","free":1},
          {"start":"2026-12-01T21:00:00-05:00","end":"2026-12-01T22:00:00-05:00","free":4},
          {"start":"2026-12-01T22:00:00-05:00","end":"2026-12-01T23:00:00-05:00","free":4}]}
--- no_error_log
[error]



=== TEST 12: a zone whose slots straddle UTC midnight: the slot's booked count is on the previous UTC day
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_time_zones Asia/Kolkata;
--- config eval: $::API
--- redis
HSET ms:{site:in}:info name Pune town Pune tz Asia/Kolkata slot 60 hours '0-1440;0-1440;0-1440;0-1440;0-1440;0-1440;0-1440' closed '' networks '' cap:desk 4
HSET ms:{site:in}:booked:desk:2026-12-01 1410 3
HSET ms:{site:in}:booked:desk:2026-12-08 1410 2
SET ms:version 1
--- request eval
["GET /api/v1/spots/in/availability?from=2026-12-02T00:00:00Z&to=2026-12-02T00:15:00Z",
 "GET /api/v1/spots/in/availability?from=2026-12-02T00:05:00Z&to=2026-12-02T00:20:00Z",
 "GET /api/v1/spots/in/availability?from=2026-12-02T00:10:00Z&to=2026-12-09T00:10:00Z"]
--- response_body_json_subset eval
[{slots => [{start => "2026-12-02T05:00:00+05:30",
             end => "2026-12-02T06:00:00+05:30", free => 1}]},
 {slots => [{start => "2026-12-02T05:00:00+05:30",
             end => "2026-12-02T06:00:00+05:30", free => 1}]},
 # the longest window: its slots start on 8 UTC days, the first one before
 {slots => [{start => "2026-12-02T05:00:00+05:30", free => 1},
            ({free => 4}) x 167,
            {start => "2026-12-09T05:00:00+05:30", free => 2}]}]
--- no_error_log
[error]



=== TEST 13: Redis answers with errors: 502 JSON, never a 404 or a 500
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_api_cache off;
--- config eval: $::API
--- fake_redis
error WRONGTYPE Operation against a key holding the wrong kind of value
--- request eval
["GET /api/v1/spots/a", "GET /api/v1/spots/a/availability?date=2026-12-01",
 "GET /api/v1/networks", "GET /api/v1/spots/nearby?lat=50.4&lon=4.8",
 "DELETE /api/v1/admin/sites/a"]
--- error_code eval
[502, 502, 502, 502, 502]
--- response_body_json_subset
{"error":{"code":"redis_error"}}
--- no_error_log
[alert]
