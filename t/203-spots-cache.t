# The workers' answer cache (mobispot_api_cache): a repeated read is served
# from memory ($mobispot_cache_status HIT) until Redis says that a key the
# answer was computed from changed; then the next read goes to Redis again.
# Every change is made the way the module cannot see coming: straight into
# Redis (redis-cli style), so only Redis's invalidation can tell the worker.
# Connections lost, FLUSHALL, admin writes, answers that are not stored,
# the directive, a Redis that refuses CLIENT TRACKING, and the parts of
# nearby (per site, per slots of the window).
#
#   prove -I t/lib t/203-spots-cache.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;

my $H = "'540-1020;540-1020;540-1020;540-1020;540-1020;540-1020;540-1020'";

our @SEED = (
    "HSET ms:{site:a}:info name A town Namur tz Europe/Brussels slot 30 hours $H closed '' networks cowallonia cap:desk 10 cap:meeting_room 1",
    "HSET ms:{site:b}:info name B town Wavre tz Europe/Brussels slot 30 hours $H closed '' networks swc cap:desk 5",
    q{SET ms:{site:a}:doc '{"id":"a","name":"A"}'},
    "GEOADD ms:geo 4.8661 50.4641 a 4.7310 50.5030 b",
    "HSET ms:{networks}:passport cowallonia cowallonia-pass swc swc-pass",
    q{HSET ms:{networks}:doc cowallonia '{"id":"cowallonia","name":"CoWallonia"}'},
    q{HSET ms:sites a '{"name":"A","town":"Namur","networks":["cowallonia"]}'},
);

# one hour of desks at site a (10:00-11:00 local, 09:00Z-10:00Z)
our $AV = '/api/v1/spots/a/availability?from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z';
our $NEAR = '/api/v1/spots/nearby?lat=50.4674&lon=4.8720&radius_km=40&from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z';

# the two slots of $AV with their free desks
sub av {
    my ($f1, $f2) = @_;
    return {capacity => 10,
            slots => [{start => "2026-12-01T10:00:00+01:00", free => $f1},
                      {start => "2026-12-01T10:30:00+01:00", free => $f2}]};
}

# X-Cache: the cache status of each answer
sub st {
    return [map { "X-Cache: $_" } @_];
}

our $HTTP = "    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n    mobispot_admin loopback;\n";

# a location for callers with the CoWallonia passport
our $CW = <<'CONF';
    # $mobispot_pass stands for what the SSO module hands over
    location /cw/ {
        set $mobispot_pass cowallonia-pass;
        mobispot_api;
        add_header X-Cache $mobispot_cache_status always;
    }
CONF

our $API = <<'CONF';
    location /api/v1/ {
        mobispot_api;
        add_header X-Cache $mobispot_cache_status always;
    }
CONF

# the worker's tracker is subscribed (and its tracking confirmed) in a few
# milliseconds; the first request of a block waits for it
our $SETTLE = "tracking\nsleep 1";

# the same wait where no tracking is asked for (cache off, or refused)
our $NO_TRACKING = "sleep 1";

# a write by another Redis client reaches the worker as an invalidation on
# its tracking connection, not on the request's: the request that follows
# the write waits for it to arrive (docs/data-model.md, read-your-writes)
our $ARRIVE = "sleep 0.1";

run_tests();

__DATA__

=== TEST 1: availability: the second read is a HIT; a booking written straight into Redis is seen at once
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
[("GET $::AV") x 6]
--- before_request eval
["$::SETTLE\nredis CONFIG RESETSTAT", "", "redis HINCRBY ms:{site:a}:booked:desk:2026-12-01 570 4\n$::ARRIVE", "",
 # another site's key, and a key of no answer: the entry stays true
 "redis HINCRBY ms:{site:b}:booked:desk:2026-12-01 570 1\nredis SET unrelated 1\n$::ARRIVE",
 "redis HDEL ms:{site:a}:booked:desk:2026-12-01 570\n$::ARRIVE"]
--- response_headers eval
main::st(qw(MISS HIT MISS HIT HIT MISS))
--- response_body_json_subset eval
[main::av(10, 10), main::av(10, 10), main::av(10, 6), main::av(10, 6),
 main::av(10, 6), main::av(10, 10)]
--- redis_check
# Redis's own count: the site's info was read by the three misses only
INFO commandstats =~ cmdstat_hmget:calls=3,
--- no_error_log
[error]



=== TEST 2: a change of the site's info (capacity) is seen; so is a new day key appearing
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
[("GET $::AV") x 4]
--- before_request eval
[$::SETTLE, "", "redis HSET ms:{site:a}:info cap:desk 12\n$::ARRIVE", "redis HSET ms:{site:a}:booked:desk:2026-12-01 540 2\n$::ARRIVE"]
--- response_headers eval
main::st(qw(MISS HIT MISS MISS))
--- response_body_json_subset eval
[main::av(10, 10), main::av(10, 10),
 {capacity => 12, slots => [{free => 12}, {free => 12}]},
 {capacity => 12, slots => [{free => 10}, {free => 12}]}]
--- no_error_log
[error]



=== TEST 3: nearby: HIT; a booking at one candidate, or the GEO index changing, makes the next read go to Redis
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
[("GET $::NEAR") x 5]
--- before_request eval
[$::SETTLE, "", "redis HSET ms:{site:b}:booked:desk:2026-12-01 570 5\n$::ARRIVE", "",
 "redis ZREM ms:geo b\n$::ARRIVE"]
--- response_headers eval
main::st(qw(MISS HIT MISS HIT MISS))
--- response_body_json_subset eval
[{sites => [{id => "a", free => 10}, {id => "b", free => 5}]},
 {sites => [{id => "a", free => 10}, {id => "b", free => 5}]},
 {sites => [{id => "a", free => 10}]},
 {sites => [{id => "a", free => 10}]},
 {sites => [{id => "a", free => 10}]}]
--- no_error_log
[error]



=== TEST 4: nearby: callers with other passports never share an entry ("entitled" is theirs)
--- http_config eval: $::HTTP
--- config eval
$::CW . <<'CONF'
    location /swc/ {
        set $mobispot_pass swc-pass;
        mobispot_api;
        add_header X-Cache $mobispot_cache_status always;
    }
    location /api/v1/ {
        mobispot_api;
        add_header X-Cache $mobispot_cache_status always;
    }
CONF
--- redis eval: [@::SEED]
--- request eval
my $q = 'spots/nearby?lat=50.4674&lon=4.8720&radius_km=40&all=true&from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z';
["GET /cw/$q", "GET /swc/$q", "GET /api/v1/$q", "GET /cw/$q", "GET /swc/$q",
 "GET /api/v1/$q"]
--- before_request
tracking
sleep 1
--- response_headers eval
main::st(qw(MISS MISS MISS HIT HIT HIT))
--- response_body_json_subset eval
[{sites => [{id => "a", entitled => \1}, {id => "b", entitled => \0}]},
 {sites => [{id => "a", entitled => \0}, {id => "b", entitled => \1}]},
 {sites => [{id => "a"}, {id => "b"}]},
 {sites => [{id => "a", entitled => \1}, {id => "b", entitled => \0}]},
 {sites => [{id => "a", entitled => \0}, {id => "b", entitled => \1}]},
 {sites => [{id => "a"}, {id => "b"}]}]
--- response_body_like eval
[qr/./, qr/./, qr/^(?!.*entitled)/, qr/./, qr/./, qr/^(?!.*entitled)/]
--- no_error_log
[error]



=== TEST 5: nearby from new positions: each site's free capacity over the window is kept too, and follows its bookings
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED, "SET ms:version 1"]
--- request eval
my $q = 'radius_km=40&from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z';
[(map { "GET /api/v1/spots/nearby?lat=50.467$_&lon=4.8720&$q" } 4 .. 8),
 ("GET /api/v1/spots/nearby?lat=50.4678&lon=4.8720&$q") x 2]
--- before_request eval
["$::SETTLE\nredis CONFIG RESETSTAT", "", "",
 "redis HSET ms:{site:b}:booked:desk:2026-12-01 570 2\n$::ARRIVE", "", "",
 "redis HSET ms:{site:b}:booked:desk:2026-12-01 570 4\n$::ARRIVE"]
--- response_headers eval
main::st(qw(MISS MISS MISS MISS MISS HIT MISS))
--- response_body_json_subset eval
[({sites => [{id => "a", free => 10}, {id => "b", free => 5}]}) x 3,
 ({sites => [{id => "a", free => 10}, {id => "b", free => 3}]}) x 3,
 {sites => [{id => "a", free => 10}, {id => "b", free => 1}]}]
--- redis_check
# 1st: the info of a and b (HMGET, not yet in the worker's info cache),
# then their booked slots, kept as parts; 2nd and 3rd: nothing but the
# GEOSEARCH; 4th: the booked slots of b only (its booking changed); 5th:
# nothing; 6th: a HIT; 7th: b's booking changed: an answer made of its
# part is not served, and b's slots are read again
INFO commandstats =~ cmdstat_hmget:calls=6,
INFO commandstats =~ cmdstat_geosearch:calls=6,
--- no_error_log
[error]



=== TEST 6: spots/{id} and networks: HIT, then the stored document changed in Redis is served
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
["GET /api/v1/spots/a", "GET /api/v1/spots/a", "GET /api/v1/spots/a",
 "GET /api/v1/networks", "GET /api/v1/networks", "GET /api/v1/networks"]
--- before_request eval
[$::SETTLE, "", q{redis SET ms:{site:a}:doc {"id":"a","name":"A2"}} . "\n$::ARRIVE", "", "",
 q{redis HSET ms:sites a {"name":"A","town":"Namur","networks":[]}} . "\n$::ARRIVE"]
--- response_headers eval
main::st(qw(MISS HIT MISS MISS HIT MISS))
--- response_body_json_subset eval
[{name => "A"}, {name => "A"}, {name => "A2"},
 {networks => [{id => "cowallonia", sites => [{id => "a"}]}]},
 {networks => [{id => "cowallonia", sites => [{id => "a"}]}]},
 {networks => [{id => "cowallonia", sites => []}]}]
--- no_error_log
[error]



=== TEST 7: errors are not stored: a 404 is asked again, and the site written meanwhile is found
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
["GET /api/v1/spots/z", "GET /api/v1/spots/z", "GET /api/v1/spots/z",
 "GET /api/v1/spots/a/availability?date=2026-13-01"]
--- before_request eval
[$::SETTLE, "", q{redis SET ms:{site:z}:doc {"id":"z"}} . "\n$::ARRIVE", ""]
--- error_code eval
[404, 404, 200, 400]
--- response_headers eval
[main::st(qw(MISS MISS MISS))->@*, "!X-Cache"]
--- response_body_json_subset eval
[{error => {code => "unknown_site"}}, {error => {code => "unknown_site"}},
 {id => "z"}, {error => {parameter => "date"}}]
--- no_error_log
[error]



=== TEST 8: FLUSHALL tells every worker that everything changed
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
[("GET /api/v1/spots/a") x 3]
--- before_request eval
[$::SETTLE, "", "redis FLUSHALL\n$::ARRIVE"]
--- error_code eval
[200, 200, 404]
--- response_headers eval
main::st(qw(MISS HIT MISS))
--- no_error_log
[error]



=== TEST 9: the tracker's connection is killed: no answer from the cache until it is back; a write made meanwhile is seen
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
[("GET $::AV") x 5]
--- before_request eval
[$::SETTLE, "",
 "redis CLIENT KILL TYPE pubsub\nredis HINCRBY ms:{site:a}:booked:desk:2026-12-01 540 3",
 "sleep 1.5", ""]
--- response_headers_like eval
# BYPASS while the tracker is down (MISS if it is already back)
["X-Cache: ^MISS\$", "X-Cache: ^HIT\$", "X-Cache: ^(BYPASS|MISS)\$",
 "X-Cache: ^MISS\$", "X-Cache: ^HIT\$"]
--- response_body_json_subset eval
[main::av(10, 10), main::av(10, 10), main::av(7, 10), main::av(7, 10),
 main::av(7, 10)]
--- error_log
lost the subscriptions on redis
--- no_error_log
[alert]
[crit]



=== TEST 10: the worker's own connection is killed: the cache is emptied, tracking asked again on the new connection
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
[("GET $::AV") x 5]
--- before_request eval
[$::SETTLE, "",
 "redis CLIENT KILL TYPE normal SKIPME yes\nredis HINCRBY ms:{site:a}:booked:desk:2026-12-01 540 3\nsleep 1.5",
 "redis HINCRBY ms:{site:a}:booked:desk:2026-12-01 540 1\n$::ARRIVE", ""]
--- response_headers eval
main::st(qw(MISS HIT MISS MISS HIT))
--- response_body_json_subset eval
[main::av(10, 10), main::av(10, 10), main::av(7, 10), main::av(6, 10),
 main::av(6, 10)]
--- error_log
lost connection to redis
--- no_error_log
[alert]
[crit]



=== TEST 11: an admin write through the API is seen by the very next read
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
[@::SEED, "DEL ms:{site:a}:doc",
 q{HSET ms:{networks}:passport cowallonia cowallonia-pass}]
--- request eval
my $site = '{"name":"Namur 2","town":"Namur","address":"Rue 1","latitude":50.4669,"longitude":4.8675,"time_zone":"Europe/Brussels","networks":["cowallonia"],"amenities":["wifi"],"slot_minutes":30,"opening_hours":{"mon":["09:00-17:00"]},"closed_dates":[],"resources":[{"kind":"desk","capacity":3}]}';
["GET /api/v1/spots/a/availability?date=2026-12-07", "GET /api/v1/spots/a/availability?date=2026-12-07",
 "PUT /api/v1/admin/sites/a\n$site",
 "GET /api/v1/spots/a/availability?date=2026-12-07", "GET /api/v1/spots/a"]
--- before_request
tracking
sleep 1
--- error_code eval
[200, 200, undef, 200, 200]
--- response_headers eval
[main::st(qw(MISS HIT))->@*, "!X-Cache", main::st(qw(MISS MISS))->@*]
--- response_body_json_subset eval
[{capacity => 10}, {capacity => 10}, undef, {capacity => 3}, {name => "Namur 2"}]
--- no_error_log
[error]



=== TEST 12: mobispot_api_cache off: every read goes to Redis, no tracker connection
--- http_config eval: $::HTTP . "    mobispot_api_cache off;\n    mobispot_bookings_deadlines off;\n"
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
[("GET $::AV") x 3]
--- before_request eval
[$::NO_TRACKING, "", "redis HINCRBY ms:{site:a}:booked:desk:2026-12-01 540 3\n$::ARRIVE"]
--- response_headers eval
main::st(qw(BYPASS BYPASS BYPASS))
--- response_body_json_subset eval
[main::av(10, 10), main::av(10, 10), main::av(7, 10)]
--- redis_check
CLIENT LIST TYPE pubsub => ""
--- no_error_log
[error]



=== TEST 13: entries=2: answers replace each other in their slot, and stay true
--- http_config eval: $::HTTP . "    mobispot_api_cache on entries=2 valid=1h;\n"
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
["GET /api/v1/spots/a", "GET /api/v1/networks", "GET $::AV", "GET $::NEAR",
 "GET /api/v1/spots/a", "GET /api/v1/networks", "GET $::AV", "GET $::NEAR"]
--- before_request eval
[$::SETTLE, ("") x 5, "redis HINCRBY ms:{site:a}:booked:desk:2026-12-01 540 3\n$::ARRIVE", ""]
--- response_headers_like
X-Cache: ^(MISS|HIT)$
--- response_body_json_subset eval
[{name => "A"}, {networks => [{id => "cowallonia"}]}, main::av(10, 10),
 {sites => [{id => "a", free => 10}, {id => "b", free => 5}]},
 {name => "A"}, {networks => [{id => "cowallonia"}]}, main::av(7, 10),
 {sites => [{id => "a", free => 7}, {id => "b", free => 5}]}]
--- no_error_log
[error]



=== TEST 14: valid=1s: an entry is not served past its time
--- http_config eval: $::HTTP . "    mobispot_api_cache on valid=1s;\n"
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
[("GET /api/v1/spots/a") x 3]
--- before_request eval
[$::SETTLE, "", "sleep 1.2"]
--- response_headers eval
main::st(qw(MISS HIT MISS))
--- no_error_log
[error]



=== TEST 15: bad directive: entries not a power of two
--- http_config eval: $::HTTP . "    mobispot_api_cache on entries=1000;\n"
--- config eval: $::API
--- must_die
--- error_log
entries must be a power of two from 1 to 1048576



=== TEST 16: bad directive: valid=0
--- http_config eval: $::HTTP . "    mobispot_api_cache on valid=0;\n"
--- config eval: $::API
--- must_die
--- error_log
valid must be a time greater than 0



=== TEST 17: bad directive: an unknown parameter
--- http_config eval: $::HTTP . "    mobispot_api_cache on size=10;\n"
--- config eval: $::API
--- must_die
--- error_log
invalid parameter "size=10"



=== TEST 18: bad directive: neither on nor off
--- http_config eval: $::HTTP . "    mobispot_api_cache yes;\n"
--- config eval: $::API
--- must_die
--- error_log
invalid value "yes", it must be "on" or "off"



=== TEST 19: bad directive: parameters after off
--- http_config eval: $::HTTP . "    mobispot_api_cache off entries=2;\n"
--- config eval: $::API
--- must_die
--- error_log
takes no parameters after "off"



=== TEST 20: two workers: each keeps its own answers, and each hears of a change
--- main_config
    worker_processes 2;
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
[("GET $::AV") x 30]
--- before_request eval
[$::SETTLE, ("") x 9, "redis HINCRBY ms:{site:a}:booked:desk:2026-12-01 570 4\n$::ARRIVE",
 ("") x 19]
--- response_body_json_subset eval
[(main::av(10, 10)) x 10, (main::av(10, 6)) x 20]
--- no_error_log
[error]



=== TEST 21: a Redis that refuses CLIENT TRACKING: the refusal is logged, every read goes to Redis and is right
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
[@::SEED, "ACL SETUSER default -client|tracking"]
--- request eval
[("GET $::AV") x 3]
--- before_request eval
[$::NO_TRACKING, "", "redis HINCRBY ms:{site:a}:booked:desk:2026-12-01 540 3\n$::ARRIVE"]
--- response_headers eval
main::st(qw(BYPASS BYPASS BYPASS))
--- response_body_json_subset eval
[main::av(10, 10), main::av(10, 10), main::av(7, 10)]
--- error_log
refused CLIENT TRACKING



=== TEST 22: nearby parts are kept per slots: windows over the same slots share them, a longer one does not
--- http_config eval: $::HTTP
--- config eval: $::API
--- redis eval
# b is full from 10:00Z, after the first three windows
[@::SEED, "SET ms:version 1", "HSET ms:{site:b}:booked:desk:2026-12-01 600 5"]
--- request eval
[map { "GET /api/v1/spots/nearby?lat=50.4674&lon=4.8720&radius_km=40&$_" }
 "from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z",
 "from=2026-12-01T09:05:00Z&to=2026-12-01T09:55:00Z",
 "from=2026-12-01T09:10:00Z&to=2026-12-01T09:50:00Z",
 "from=2026-12-01T09:10:00Z&to=2026-12-01T10:05:00Z"]
--- before_request eval
["$::SETTLE\nredis CONFIG RESETSTAT", "", "", ""]
--- response_headers eval
main::st(qw(MISS MISS MISS MISS))
--- response_body_json_subset eval
[({sites => [{id => "a", free => 10}, {id => "b", free => 5}]}) x 3,
 {sites => [{id => "a", free => 10}]}]
--- redis_check
# 1st: the info of a and b, then their booked slots (09:00Z and 09:30Z),
# kept as parts; 2nd and 3rd: within the same two slots: nothing but the
# GEOSEARCH; 4th: three slots, another part: their booked fields again
INFO commandstats =~ cmdstat_hmget:calls=6,
INFO commandstats =~ cmdstat_geosearch:calls=4,
--- no_error_log
[error]



=== TEST 23: nearby, signed in: the networks' passports are kept too, and follow a change of them
--- http_config eval: $::HTTP
--- config eval: $::CW
--- redis eval: [@::SEED, "SET ms:version 1"]
--- request eval
my $q = 'radius_km=40&from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z';
[map { "GET /cw/spots/nearby?lat=50.467$_&lon=4.8720&$q" } 4 .. 8, 6]
--- before_request eval
["$::SETTLE\nredis CONFIG RESETSTAT", "", "",
 "redis HSET ms:{networks}:passport swc cowallonia-pass\n$::ARRIVE", "", ""]
--- response_headers eval
main::st(qw(MISS MISS MISS MISS MISS MISS))
--- response_body_json_subset eval
[({sites => [{id => "a", entitled => \1}, {id => "b", entitled => \0}]}) x 3,
 ({sites => [{id => "a", entitled => \1}, {id => "b", entitled => \1}]}) x 3]
--- redis_check
# 1st: the info of a and b and the passports, then the booked slots of a
# and b, the parts and the passports kept; 2nd and 3rd: the GEOSEARCH
# round trip only; 4th: the passports changed: read again; 5th: the
# GEOSEARCH only; 6th: the 3rd's question, whose answer was made with the
# old passports: not served, made again from the parts
INFO commandstats =~ cmdstat_hgetall:calls=2,
INFO commandstats =~ cmdstat_hmget:calls=4,
INFO commandstats =~ cmdstat_geosearch:calls=6,
--- no_error_log
[error]



=== TEST 24: entries=2 is one set of two: two answers asked in turn both stay; a third replaces the one used less recently
--- http_config eval: $::HTTP . "    mobispot_api_cache on entries=2 valid=1h;\n"
--- config eval: $::API
--- redis eval: [@::SEED]
--- request eval
# three questions, each pair in turn: with one slot per hash (direct
# mapping), two of the three would share it and miss where a HIT is due
my ($a, $n, $v) = ("GET /api/v1/spots/a", "GET /api/v1/networks", "GET $::AV");
[$a, $n, $a, $n, $a, $v, $a, $v, $n, $v, $n, $v]
--- before_request eval
[$::SETTLE, ("") x 11]
--- response_headers eval
main::st(qw(MISS MISS HIT HIT HIT MISS HIT HIT MISS HIT HIT HIT))
--- response_body_json_subset eval
my ($a, $n, $v) = ({name => "A"}, {networks => [{id => "cowallonia"}]},
                   main::av(10, 10));
[$a, $n, $a, $n, $a, $v, $a, $v, $n, $v, $n, $v]
--- no_error_log
[error]
