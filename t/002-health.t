# GET health through the worker's Redis connection, the router's errors,
# and the behaviour when Redis goes away and comes back.
use lib 't/lib';
use Test::Mobispot;

run_tests();

__DATA__

=== TEST 1: health answers 200 with the Redis round trip
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ { mobispot_api; }
--- request
GET /api/v1/health
--- error_code: 200
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like: ^\{"status":"ok","version":"\d+\.\d+\.\d+","redis":\{"connected":true,"latency_ms":\d+\.\d{3},"tracking":"(on|down)","subscriptions":"(up|down)","channels":2,"channels_up":[0-2]\}\}$
--- no_error_log
[error]



=== TEST 2: HEAD health: headers only
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ { mobispot_api; }
--- request
HEAD /api/v1/health
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body:



=== TEST 3: unknown route: 404 JSON
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ { mobispot_api; }
--- request eval
["GET /api/v1/nope", "GET /api/v1/", "GET /api/v1/health/", "GET /api/v1/healthz", "GET /api/v1/HEALTH"]
--- error_code eval
[404, 404, 404, 404, 404]
--- response_body_json eval
[('{"error":{"code":"not_found","message":"no such route"}}') x 5]
--- no_error_log
[error]



=== TEST 4: wrong method: 405 JSON with Allow
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ { mobispot_api; }
--- request eval
["POST /api/v1/health\nhello", "DELETE /api/v1/health"]
--- error_code eval
[405, 405]
--- response_headers eval
["Allow: GET, HEAD", "Allow: GET, HEAD"]
--- response_body_json eval
[('{"error":{"code":"method_not_allowed","message":"method not allowed on this route"}}') x 2]



=== TEST 5: routes are matched below the location prefix, with or without a slash
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /v2 { mobispot_api; }
    location = /status/health { mobispot_api; }
--- request eval
["GET /v2/health", "GET /status/health"]
--- error_code eval
[200, 404]



=== TEST 6: Redis stopped: 503 JSON with Retry-After, at once; back without reload
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_redis_timeout 5s;
--- config
    location /api/v1/ { mobispot_api; mobispot_api_retry_after 7s; }
--- request eval
["GET /api/v1/health", "GET /api/v1/health", "GET /api/v1/health", "GET /api/v1/health"]
--- before_request eval
["", "redis_stop", "", "redis_start\nsleep 3"]
--- timeout: 2
--- error_code eval
[200, 503, 503, 200]
--- response_headers eval
["!Retry-After", "Retry-After: 7", "Retry-After: 7", "!Retry-After"]
--- response_body_json_subset eval
['{"status":"ok"}', '{"error":{"code":"redis_unavailable"}}', '{"error":{"code":"redis_unavailable"}}', '{"status":"ok"}']
--- error_log
mobispot: lost connection to redis
mobispot: connected to redis
