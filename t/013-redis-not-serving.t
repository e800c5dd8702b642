# A Redis that is up but cannot serve for now (LOADING its data set, BUSY
# with a script, MASTERDOWN, a READONLY replica) is unavailable, not
# broken: 503 with Retry-After, the route never sees the reply, nothing is
# written, one warning a second per worker says why; it serves again by
# itself.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;

our $NET = '{"name":"CoWallonia","passport":{"id":"cowallonia-pass",'
    . '"name":"CoWallonia pass","monthly_price_eur":250}}';

run_tests();

__DATA__

=== TEST 1: a real Redis turned into a read-only replica: a write gets 503 and Retry-After, reads and health still answer; once it is a master again the write goes through
--- skip_slots
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ { mobispot_api; }
--- request eval
["PUT /api/v1/admin/networks/cowallonia\n$::NET", "PUT /api/v1/admin/networks/cowallonia\n$::NET",
 "GET /api/v1/health", "PUT /api/v1/admin/networks/cowallonia\n$::NET"]
--- before_request eval
["redis REPLICAOF 127.0.0.1 1", "", "", "redis REPLICAOF NO ONE"]
--- error_code eval
[503, 503, 200, 201]
--- response_headers eval
["Retry-After: 1", "Retry-After: 1", undef, undef]
--- response_body_json_subset eval
[{error => {code => "redis_unavailable"}}, {error => {code => "redis_unavailable"}},
 {status => "ok"}, undef]
--- redis_check
HEXISTS ms:{networks}:doc cowallonia => 1
--- error_log
is not serving (READONLY): requests get 503
--- no_error_log
[error]
[alert]



=== TEST 2: Redis loading its data set (LOADING): health is 503 with Retry-After, not 502
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_api_cache off;
--- config
    location /api/v1/ { mobispot_api; }
--- fake_redis
error LOADING Redis is loading the dataset in memory
--- request eval
["GET /api/v1/health", "GET /api/v1/health"]
--- before_request eval
["sleep 0.3", ""]
--- error_code eval
[503, 503]
--- response_headers eval
["Retry-After: 1", "Retry-After: 1"]
--- response_body_json eval
[('{"error":{"code":"redis_unavailable","message":"the data store is not serving for now (LOADING)"}}') x 2]
--- error_log
is not serving (LOADING): requests get 503
--- no_error_log
[alert]
