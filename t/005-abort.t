# A request that goes away while its Redis command is in flight: the late
# reply finds it detached and is dropped; the connection keeps working.
use lib 't/lib';
use Test::Mobispot;

run_tests();

__DATA__

=== TEST 1: client aborts while Redis is paused; the next request is served
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_redis_timeout 5s;
--- config
    location /api/v1/ { mobispot_api; }
--- request eval
["GET /api/v1/health", "GET /api/v1/health"]
--- before_request eval
["redis CLIENT PAUSE 1000", "sleep 1.2"]
--- timeout: 0.3
--- abort
--- error_code eval
[undef, 200]
--- error_log
mobispot: request gone while its redis call is pending
--- no_error_log
[error]
[alert]



=== TEST 2: clients that give up before the timeout do not leave a stuck connection behind
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_api_cache off;
    mobispot_redis_timeout 400ms;
    mobispot_redis_max_pending 1;
--- config
    location /api/v1/ { mobispot_api; }
--- fake_redis
silence
--- request eval
["GET /api/v1/health", "GET /api/v1/health"]
--- before_request eval
["sleep 0.3", ""]
--- timeout: 0.2
--- abort
--- wait: 0.8
--- error_log
mobispot: request gone while its redis call is pending
did not answer within 400 ms
--- no_error_log
[alert]



=== TEST 3: many aborts in a row while Redis is paused, then service as usual
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_redis_timeout 5s;
--- config
    location /api/v1/ { mobispot_api; }
--- request eval
[("GET /api/v1/health") x 6]
--- before_request eval
["redis CLIENT PAUSE 1500", "", "", "", "", "sleep 1.5"]
--- timeout: 0.1
--- abort
--- error_code eval
[undef, undef, undef, undef, undef, 200]
--- no_error_log
[alert]
