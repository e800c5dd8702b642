# The request body of the API (mobispot_api_max_body): held in memory, never
# in a temporary file, whatever its framing; a JSON 413 past the limit.  And
# mobispot_api base=: a location below the API's base holds part of it with
# its own rules.
#
#   prove -I t/lib t/012-api-body-base.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;

our $NET = '{"name":"CoWallonia","passport":{"id":"cowallonia-pass",'
    . '"name":"CoWallonia pass","monthly_price_eur":250}}';

# a request whose body is sent in chunks of $size bytes
sub chunked {
    my ($line, $body, $size) = @_;
    my $raw = "$line HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n";
    for (my $i = 0; $i < length $body; $i += $size) {
        my $part = substr($body, $i, $size);
        $raw .= sprintf("%x\r\n%s\r\n", length $part, $part);
    }
    return $raw . "0\r\n\r\n";
}

run_tests();

__DATA__

=== TEST 1: a chunked body past the limit: a JSON 413, nothing spooled to a file, nothing written
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ {
        mobispot_api_max_body 4k;
        mobispot_api;
    }
--- raw_request eval
::chunked("PUT /api/v1/admin/networks/cowallonia", $::NET . (" " x 100000), 8000)
--- error_code: 413
--- response_body_json_subset eval
{error => {code => "body_too_large"}}
--- redis_check
EXISTS ms:{networks}:doc => 0
--- no_error_log
buffered to a temporary file
[error]



=== TEST 2: a chunked body within the limit in one-byte chunks (framing larger than the buffer) is read whole
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ {
        client_body_buffer_size 1k;
        mobispot_api_max_body 1k;
        mobispot_api;
    }
--- raw_request eval
::chunked("PUT /api/v1/admin/networks/cowallonia", $::NET . (" " x 700), 1)
--- error_code: 201
--- redis_check
HGET ms:{networks}:passport cowallonia => cowallonia-pass
--- no_error_log
buffered to a temporary file
[error]



=== TEST 3: a declared length past the limit is refused before the body is read
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
--- config
    location /api/v1/ {
        mobispot_api_max_body 1k;
        mobispot_api;
    }
--- request eval
"PUT /api/v1/admin/networks/cowallonia\n" . $::NET . (" " x 2000)
--- error_code: 413
--- response_body_json_subset eval
{error => {code => "body_too_large"}}
--- redis_check
EXISTS ms:{networks}:doc => 0



=== TEST 4: the limit is bounded: 1m at most
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ {
        mobispot_api_max_body 2m;
        mobispot_api;
    }
--- must_die
--- error_log
must be from 1 to 1m



=== TEST 5: base=: the admin part of the API in a location of its own, the rest closed
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ {
        mobispot_admin off;
        mobispot_api;
    }
    location /api/v1/admin/ {
        mobispot_admin loopback;
        mobispot_api base=/api/v1/;
    }
--- request eval
["PUT /api/v1/admin/networks/cowallonia\n$::NET", "GET /api/v1/networks",
 "GET /api/v1/admin/../networks"]
--- error_code eval
[201, 200, 200]
--- redis_check
HGET ms:{networks}:passport cowallonia => cowallonia-pass
--- no_error_log
[error]



=== TEST 6: base=: the routes below the base are matched in the admin location (an unknown site, an unknown route)
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/v1/ {
        mobispot_api;
    }
    location /api/v1/admin/ {
        mobispot_admin loopback;
        mobispot_api base=/api/v1/;
    }
--- request eval
["DELETE /api/v1/admin/sites/x", "GET /api/v1/admin/nothing"]
--- error_code eval
[404, 404]
--- response_body_json_subset eval
[{error => {code => "unknown_site"}}, {error => {code => "not_found"}}]



=== TEST 7: a base that is not a prefix of its location is refused
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /admin/ {
        mobispot_api base=/api/v1/;
    }
--- must_die
--- error_log
is not a prefix of the location



=== TEST 8: a regex location holds the API only with a base
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location ~ ^/api/v[12]/ {
        mobispot_api;
    }
--- must_die
--- error_log
needs base=



=== TEST 9: a regex location with a base
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location ~ ^/api/v1/(networks|health)$ {
        mobispot_api base=/api/v1/;
    }
--- request eval
["GET /api/v1/networks", "GET /api/v1/health"]
--- error_code eval
[200, 200]



=== TEST 10: base= must be a path
--- http_config
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /api/ {
        mobispot_api base=api/;
    }
--- must_die
--- error_log
must be a path
