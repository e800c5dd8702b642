# Who may use the admin routes (mobispot_admin): nobody unless the
# configuration says so, checked before the request body is read, and a
# refusal writes nothing.
#
#   prove -I t/lib t/010-admin-access.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;

our $NET = '{"name":"CoWallonia","passport":{"id":"cowallonia-pass",'
    . '"name":"CoWallonia pass","monthly_price_eur":250}}';

run_tests();

__DATA__

=== TEST 1: the README's minimal configuration: anonymous PUT and DELETE are refused, Redis unchanged
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ { mobispot_api; }
--- redis
SET ms:{site:cw-namur}:doc {"id":"cw-namur"}
--- request eval
["DELETE /api/v1/admin/sites/cw-namur", "PUT /api/v1/admin/networks/cowallonia\n$::NET",
 "PUT /api/v1/admin/sites/x\n{}", "GET /api/v1/spots/cw-namur"]
--- error_code eval
[403, 403, 403, 200]
--- response_body_json_subset eval
[{error => {code => "admin_disabled"}}, {error => {code => "admin_disabled"}},
 {error => {code => "admin_disabled"}}, {id => "cw-namur"}]
--- redis_check
EXISTS ms:{site:cw-namur}:doc => 1
EXISTS ms:{networks}:doc => 0
GET ms:version => (nil)
--- no_error_log
[error]



=== TEST 2: mobispot_admin off says the same, at any level
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ {
        mobispot_admin off;
        mobispot_api;
    }
--- request
DELETE /api/v1/admin/sites/cw-namur
--- error_code: 403
--- response_body_json_subset eval
{error => {code => "admin_disabled"}}



=== TEST 3: the refusal comes before the body: a body over the limit is still a 403, not a 413
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ {
        mobispot_api_max_body 1k;
        mobispot_api;
    }
--- request eval
"PUT /api/v1/admin/networks/cowallonia\n" . ("x" x 4096)
--- error_code: 403
--- response_body_json_subset eval
{error => {code => "admin_disabled"}}
--- redis_check
EXISTS ms:{networks}:doc => 0



=== TEST 4: loopback: a caller on 127.0.0.1 may write
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ {
        mobispot_admin loopback;
        mobispot_api;
    }
--- request eval
"PUT /api/v1/admin/networks/cowallonia\n$::NET"
--- error_code: 201
--- redis_check
HGET ms:{networks}:passport cowallonia => cowallonia-pass



=== TEST 5: loopback: a caller elsewhere (its address set by the realip module) is refused, nothing written
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ {
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Real-IP;
        mobispot_admin loopback;
        mobispot_api;
    }
--- more_headers
X-Real-IP: 192.0.2.7
--- request eval
["PUT /api/v1/admin/networks/cowallonia\n$::NET", "DELETE /api/v1/admin/sites/a"]
--- error_code eval
[403, 403]
--- response_body_json_subset eval
[{error => {code => "forbidden"}}, {error => {code => "forbidden"}}]
--- redis_check
EXISTS ms:{networks}:doc => 0



=== TEST 6: the read routes need no admin policy
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ {
        mobispot_admin off;
        mobispot_api;
    }
--- request eval
["GET /api/v1/networks", "GET /api/v1/health"]
--- error_code eval
[200, 200]



=== TEST 7: bad values stop the configuration
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin role=;
--- config
    location /api/v1/ { mobispot_api; }
--- must_die
--- error_log
invalid value "role="
