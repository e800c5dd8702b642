# The module loads into the system nginx (binary compatibility) and every
# directive of the foundation is checked by nginx -t.
use lib 't/lib';
use Test::Mobispot;

run_tests();

__DATA__

=== TEST 1: the module loads and a full configuration is accepted
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT db=0;
    mobispot_redis_connect_timeout 500ms;
    mobispot_redis_timeout 2s;
    mobispot_redis_max_pending 100;
    mobispot_api_max_body 16k;
    mobispot_api_retry_after 3s;
--- config
    location = /ok { return 200 "ok\n"; }
    location /api/v1/ { mobispot_api; }
--- request
GET /ok
--- error_code: 200
--- response_body
ok
--- no_error_log
[error]
[alert]



=== TEST 2: a unix socket address is accepted
--- http_config
    mobispot_redis unix:/run/does-not-exist/redis.sock;
--- config
    location = /ok { return 200 "ok\n"; }
--- request
GET /ok
--- error_code: 200



=== TEST 3: a host name is resolved at configuration time
--- http_config
    mobispot_redis localhost:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ { mobispot_api; }
--- request
GET /api/v1/health
--- error_code: 200
--- response_body_json_subset
{"status":"ok"}



=== TEST 4: bad address: port out of range
--- http_config
    mobispot_redis 127.0.0.1:70000;
--- config
--- must_die
--- error_log
invalid redis address "127.0.0.1:70000": invalid port



=== TEST 5: bad address: IPv6 without brackets
--- http_config
    mobispot_redis ::1:6379;
--- config
--- must_die
--- error_log
IPv6 addresses must be written in brackets



=== TEST 6: bad address: relative unix path
--- http_config
    mobispot_redis unix:redis.sock;
--- config
--- must_die
--- error_log
unix socket path must be absolute



=== TEST 7: bad address: a name that does not resolve
--- http_config
    mobispot_redis no-such-host.invalid:6379;
--- config
--- must_die
--- error_log
cannot resolve redis host "no-such-host.invalid"



=== TEST 7a: bad address: 127.0.0.1:0
--- http_config
    mobispot_redis 127.0.0.1:0;
--- config
--- must_die
--- error_log
invalid redis address "127.0.0.1:0": invalid port



=== TEST 7b: bad address: 127.0.0.1:
--- http_config
    mobispot_redis 127.0.0.1:;
--- config
--- must_die
--- error_log
invalid redis address "127.0.0.1:"



=== TEST 7c: bad address: 127.0.0.1:63x9
--- http_config
    mobispot_redis 127.0.0.1:63x9;
--- config
--- must_die
--- error_log
invalid redis address "127.0.0.1:63x9": invalid port



=== TEST 7d: bad address: [::1
--- http_config
    mobispot_redis [::1;
--- config
--- must_die
--- error_log
invalid redis address "[::1"



=== TEST 7e: bad address: [127.0.0.1]:6379
--- http_config
    mobispot_redis [127.0.0.1]:6379;
--- config
--- must_die
--- error_log
invalid redis address "[127.0.0.1]:6379"



=== TEST 7f: bad address: redis://127.0.0.1:6379
--- http_config
    mobispot_redis redis://127.0.0.1:6379;
--- config
--- must_die
--- error_log
IPv6 addresses must be written in brackets



=== TEST 7g: bad address: 127.0.0.1:6379/0
--- http_config
    mobispot_redis 127.0.0.1:6379/0;
--- config
--- must_die
--- error_log
invalid redis address "127.0.0.1:6379/0"



=== TEST 7h: bad address: ""
--- http_config
    mobispot_redis "";
--- config
--- must_die
--- error_log
invalid redis address ""



=== TEST 7y: good addresses: IPv6 in brackets, with a port
--- http_config
    mobispot_redis [::1]:6380;
--- config
    location = /ok { return 200 "ok\n"; }
--- request
GET /ok
--- error_code: 200



=== TEST 7x: good addresses: a name without a port (6379)
--- http_config
    mobispot_redis localhost;
--- config
    location = /ok { return 200 "ok\n"; }
--- request
GET /ok
--- error_code: 200



=== TEST 7z: good addresses: IPv6 in brackets without a port
--- http_config
    mobispot_redis [::1];
--- config
    location = /ok { return 200 "ok\n"; }
--- request
GET /ok
--- error_code: 200



=== TEST 8: unknown parameter
--- http_config
    mobispot_redis 127.0.0.1:6379 dbx=2;
--- config
--- must_die
--- error_log
invalid parameter "dbx=2"



=== TEST 9: bad database number
--- http_config
    mobispot_redis 127.0.0.1:6379 db=two;
--- config
--- must_die
--- error_log
invalid redis database "db=two"



=== TEST 10: missing password file
--- http_config
    mobispot_redis 127.0.0.1:6379 password_file=/nonexistent/redis.pass;
--- config
--- must_die
--- error_log
/nonexistent/redis.pass



=== TEST 11: bad time
--- http_config
    mobispot_redis 127.0.0.1:6379;
    mobispot_redis_timeout 10parsecs;
--- config
--- must_die
--- error_log
"mobispot_redis_timeout" directive invalid value



=== TEST 12: zero timeout
--- http_config
    mobispot_redis 127.0.0.1:6379;
    mobispot_redis_timeout 0;
--- config
--- must_die
--- error_log
must be greater than 0



=== TEST 13: max_pending out of range
--- http_config
    mobispot_redis 127.0.0.1:6379;
    mobispot_redis_max_pending 0;
--- config
--- must_die
--- error_log
"mobispot_redis_max_pending" directive: "0" must be between 1 and 1000000



=== TEST 14: mobispot_api without mobispot_redis
--- config
    location /api/v1/ { mobispot_api; }
--- must_die
--- error_log
"mobispot_api" requires "mobispot_redis"



=== TEST 15: mobispot_redis twice
--- http_config
    mobispot_redis 127.0.0.1:6379;
    mobispot_redis 127.0.0.1:6380;
--- config
--- must_die
--- error_log
"mobispot_redis" directive is duplicate



=== TEST 16: mobispot_redis in a server block
--- config
    mobispot_redis 127.0.0.1:6379;
--- must_die
--- error_log
"mobispot_redis" directive is not allowed here



=== TEST 17: mobispot_api in a regex location needs a base
--- http_config
    mobispot_redis 127.0.0.1:6379;
--- config
    location ~ ^/api/ { mobispot_api; }
--- must_die
--- error_log
"mobispot_api" in a regex location needs base=



=== TEST 18: mobispot_api takes base= only
--- http_config
    mobispot_redis 127.0.0.1:6379;
--- config
    location /api/ { mobispot_api on; }
--- must_die
--- error_log
invalid parameter "on"
