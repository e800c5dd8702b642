# AUTH and SELECT on connect, with the password read from a file at
# configuration time and never logged.
use lib 't/lib';
use Test::Mobispot;

run_tests();

__DATA__

=== TEST 1: AUTH and SELECT are sent on connect, before any command
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT db=3 password_file=$TEST_NGINX_HTML_DIR/redis.pass;
    mobispot_api_cache off;
--- config
    location /api/v1/ { mobispot_api; }
--- user_files
>>> redis.pass
s3cret-pass
--- fake_redis
reply +OK
reply +OK
reply +PONG
--- request
GET /api/v1/health
--- before_request eval
["sleep 0.3"]
--- error_code: 200
--- fake_redis_received
AUTH s3cret-pass
SELECT 3
PING
--- no_error_log
s3cret-pass



=== TEST 2: a real Redis with a password
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password_file=$TEST_NGINX_HTML_DIR/redis.pass;
--- config
    location /api/v1/ { mobispot_api; }
--- user_files
>>> redis.pass
s3cret-pass
--- redis
CONFIG SET requirepass s3cret-pass
--- request
GET /api/v1/health
--- error_code: 200
--- response_body_json_subset
{"status":"ok"}
--- no_error_log
s3cret-pass
[error]



=== TEST 3: a wrong password: the worker says so (without the password) and answers 503
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password_file=$TEST_NGINX_HTML_DIR/redis.pass;
--- config
    location /api/v1/ { mobispot_api; }
--- user_files
>>> redis.pass
wrong-pass
--- redis
CONFIG SET requirepass s3cret-pass
--- request
GET /api/v1/health
--- before_request eval
["sleep 0.3"]
--- error_code: 503
--- response_body_json_subset
{"error":{"code":"redis_unavailable"}}
--- error_log
refused AUTH or SELECT (error reply WRONGPASS)
--- no_error_log
wrong-pass
s3cret-pass



=== TEST 4: a database that does not exist
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT db=5000;
--- config
    location /api/v1/ { mobispot_api; }
--- request
GET /api/v1/health
--- before_request eval
["sleep 0.3"]
--- error_code: 503
--- error_log
refused AUTH or SELECT (error reply ERR)



=== TEST 5: an empty password file is refused by nginx -t
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password_file=$TEST_NGINX_HTML_DIR/redis.pass;
--- config
--- user_files
>>> redis.pass

--- must_die
--- error_log eval
qr/password_file "[^"]*redis.pass" is empty or larger than 4096 bytes/



=== TEST 5b: a password file whose first line is empty, or too long, is refused by nginx -t
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password_file=$TEST_NGINX_HTML_DIR/redis.pass;
--- config
--- user_files eval
">>> redis.pass\n\nsecret\n"
--- must_die
--- error_log eval
qr/password_file "[^"]*redis.pass" is empty or its first line is longer than 1023 bytes/
