# The worker's connection to a healthy Redis is lost (issue 8, B18): it is
# made again at once, and the requests that come meanwhile wait for it
# instead of being refused; with Redis really down the attempt fails and
# requests get 503 with Retry-After at once.
use lib 't/lib';
use Test::Mobispot;

run_tests();

__DATA__

=== TEST 1: the connection is killed: a request right after it is served (200, not 503)
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ { mobispot_api; }
--- request eval
[("GET /api/v1/health") x 4]
--- before_request eval
["",
 "redis CLIENT KILL TYPE normal SKIPME yes",
 "sleep 0.3\nredis CLIENT KILL TYPE normal SKIPME yes",
 "sleep 0.3\nredis CLIENT KILL TYPE normal SKIPME yes"]
--- error_code: 200
--- response_body_json_subset
{"status":"ok"}
--- error_log
mobispot: lost connection to redis
--- no_error_log
[alert]
[crit]



=== TEST 2: the same with SELECT: the request waits behind it
--- skip_slots
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT db=3;
--- config
    location /api/v1/ { mobispot_api; }
--- request eval
[("GET /api/v1/health") x 3]
--- before_request eval
["sleep 0.3",
 "redis CLIENT KILL TYPE normal SKIPME yes",
 "sleep 0.3\nredis CLIENT KILL TYPE normal SKIPME yes"]
--- error_code: 200
--- error_log
mobispot: lost connection to redis
--- no_error_log
[alert]



=== TEST 3: Redis stopped: the reconnect at once fails, 503 with Retry-After at once
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_redis_timeout 5s;
    mobispot_redis_connect_timeout 5s;
--- config
    location /api/v1/ { mobispot_api; }
--- request eval
[("GET /api/v1/health") x 3]
--- before_request eval
["", "redis_stop", "sleep 0.05"]
--- timeout: 1
--- error_code eval
[200, 503, 503]
--- response_headers eval
["!Retry-After", "Retry-After: 1", "Retry-After: 1"]
--- response_body_json_subset eval
['{"status":"ok"}', '{"error":{"code":"redis_unavailable"}}', '{"error":{"code":"redis_unavailable"}}']
--- error_log
mobispot: lost connection to redis
cannot connect to redis
