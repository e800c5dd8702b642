# A scripted fake Redis in place of the real one: silence, error replies,
# a connection closed in the middle of a reply.
use lib 't/lib';
use Test::Mobispot;

run_tests();

__DATA__

=== TEST 1: Redis never answers: 504 after mobispot_redis_timeout; the worker still serves
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_api_cache off;
    mobispot_redis_timeout 300ms;
--- config
    location /api/v1/ { mobispot_api; }
    location = /ok { return 200 "ok\n"; }
--- fake_redis
silence
--- request eval
["GET /api/v1/health", "GET /ok", "GET /api/v1/health"]
--- before_request eval
["sleep 0.3", "", "sleep 0.5"]
--- timeout: 3
--- error_code eval
[504, 200, 504]
--- response_headers eval
["Retry-After: 1", undef, "Retry-After: 1"]
--- response_body_json eval
['{"error":{"code":"redis_timeout","message":"the data store did not answer in time"}}', undef, '{"error":{"code":"redis_timeout","message":"the data store did not answer in time"}}']
--- error_log
did not answer within 300 ms
--- no_error_log
[alert]



=== TEST 2: Redis answers with an error reply: 502 JSON
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_api_cache off;
--- config
    location /api/v1/ { mobispot_api; }
--- fake_redis
error ERR something went wrong
--- request
GET /api/v1/health
--- before_request eval
["sleep 0.3"]
--- error_code: 502
--- response_body_json
{"error":{"code":"redis_error","message":"the data store answered with an error"}}
--- error_log
mobispot: redis answered PING with a error reply



=== TEST 3: Redis closes the connection in the middle of a reply: 503 JSON
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_api_cache off;
--- config
    location /api/v1/ { mobispot_api; }
--- fake_redis
partial $10\r\nPON
--- request
GET /api/v1/health
--- before_request eval
["sleep 0.3"]
--- error_code: 503
--- response_headers
Retry-After: 1
--- response_body_json
{"error":{"code":"redis_unavailable","message":"the connection to the data store was lost"}}
--- error_log
mobispot: lost connection to redis



=== TEST 4: Redis closes the connection on the command: 503 JSON
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_api_cache off;
--- config
    location /api/v1/ { mobispot_api; }
--- fake_redis
close
--- request
GET /api/v1/health
--- before_request eval
["sleep 0.3"]
--- error_code: 503
--- response_body_json_subset
{"error":{"code":"redis_unavailable"}}



=== TEST 5: a reply of the wrong type to PING: 502 JSON
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_api_cache off;
--- config
    location /api/v1/ { mobispot_api; }
--- fake_redis
reply :42\r\n
--- request
GET /api/v1/health
--- before_request eval
["sleep 0.3"]
--- error_code: 502
--- error_log
mobispot: redis answered PING with a integer reply



=== TEST 6: a protocol violation from the server: 503 JSON, no crash
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_api_cache off;
--- config
    location /api/v1/ { mobispot_api; }
--- fake_redis
reply ?garbage\r\n
--- request
GET /api/v1/health
--- before_request eval
["sleep 0.3"]
--- error_code: 503
--- error_log
mobispot: lost connection to redis



=== TEST 7: a slow Redis within the timeout is fine
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    mobispot_api_cache off;
    mobispot_redis_timeout 2s;
--- config
    location /api/v1/ { mobispot_api; }
--- fake_redis
delay 0.3 +PONG\r\n
--- request
GET /api/v1/health
--- before_request eval
["sleep 0.3"]
--- error_code: 200
--- response_body_json_subset
{"status":"ok","redis":{"connected":true}}



=== TEST 8: connect timeout: a server that accepts nothing in time
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT password_file=$TEST_NGINX_HTML_DIR/redis.pass;
    mobispot_api_cache off;
    mobispot_redis_connect_timeout 200ms;
--- config
    location /api/v1/ { mobispot_api; }
--- user_files
>>> redis.pass
secret
--- fake_redis
silence
--- request
GET /api/v1/health
--- before_request eval
["sleep 0.6"]
--- error_code: 503
--- error_log
timed out after 200 ms
--- no_error_log
secret
