# Self-test of the test harness (t/lib/Test/Mobispot.pm).
#
# Uses only stock nginx directives, so it runs whether or not the module
# has been built: the module is loaded when build/ngx_http_mobispot_module.so
# (or $MOBISPOT_MODULE) exists, and left out otherwise.
#
#   prove -I t/lib t/000-harness.t
#   TEST_NGINX_USE_HUP=1 prove -I t/lib t/000-harness.t
#   TEST_NGINX_USE_VALGRIND=1 prove -I t/lib t/000-harness.t
#
# The blocks check what passes; the last part runs a small test file with
# deliberately wrong expectations and checks that each one fails.

use strict;
use warnings;

use File::Path ();
use FindBin ();
use lib "$FindBin::Bin/lib";

BEGIN {
    my $module = $ENV{MOBISPOT_MODULE}
        || "$FindBin::Bin/../build/ngx_http_mobispot_module.so";
    $ENV{MOBISPOT_NO_MODULE} = 1 unless -f $module;

    # Any TEST_NGINX_* variable is substituted in the sections (TEST 21).
    $ENV{TEST_NGINX_GREETING} = 'bonjour';
}

use Test::Mobispot;
use Test::Mobispot::Redis ();

my $Plain_tests = 27;
plan tests => planned_tests() + $Plain_tests;

run_tests();

# ------------------------------------------- the plain Perl helpers ---

{
    my $env = start_env(
        http_config => 'server_tokens off;',
        config      => 'location = /plain { return 200 "plain $server_port\n"; }',
        fake_redis  => join("\n",
            'reply +PONG',
            'delay 0.3 reply $3\r\nfoo',
            'error ERR boom',
            'reply *2\r\n$1\r\na\r\n:7',
            'silence'),
    );
    is($env->{server_port}, server_port(), 'start_env returns the ports');

    my $res = http_request('GET /plain');
    is($res->{status}, 200, 'http_request: status');
    is($res->{body}, "plain " . server_port() . "\n", 'http_request: body');
    is($res->{header}{server}, 'nginx', 'http_request: headers (server_tokens off)');

    my @two = http_request(
        { raw => "GET /plain HTTP/1.1\r\nHost: a\r\n\r\n"
               . "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
          count => 2 });
    is(join(' ', map { $_->{status} } @two), '200 404',
       'http_request: raw pipelined requests');

    is(redis_cmd('SET', 'x', 41), 'OK', 'redis_cmd: status reply');
    is(redis_cmd('INCR', 'x'), 42, 'redis_cmd: integer reply');
    is(redis_cmd('GET', 'nope'), undef, 'redis_cmd: nil reply');
    like(redis_cmd('NOSUCHCOMMAND'), qr/^\(error\) ERR unknown command/,
         'redis_cmd: error reply');

    # The fake Redis, spoken to with RESP from here.
    my $fake = Test::Mobispot::Redis->new(port => fake_redis_port(),
                                          timeout => 1);
    is($fake->command('PING'), 'PONG', 'fake_redis: reply');
    my $t0 = Time::HiRes::time();
    is($fake->command('GET', 'k'), 'foo', 'fake_redis: delayed bulk reply');
    cmp_ok(Time::HiRes::time() - $t0, '>=', 0.25, 'fake_redis: delay waited');
    is("" . $fake->command('SET', 'k', 'v'), '(error) ERR boom',
       'fake_redis: error reply');
    is_deeply($fake->command('LRANGE', 'l', 0, -1), ['a', 7],
              'fake_redis: array reply');
    my $silent = eval { $fake->command('PING'); 1 } ? '' : $@;
    like($silent, qr/timeout/, 'fake_redis: silence');
    $fake->close;

    # Pipelined commands in one write, then close and partial replies.
    fake_redis_start("reply +A\nreply +B\nclose");
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => fake_redis_port())
        or die "connect: $!";
    print {$sock} Test::Mobispot::Redis::encode_command('PING')
                . Test::Mobispot::Redis::encode_command('ECHO', "x\r\ny")
                . Test::Mobispot::Redis::encode_command('PING');
    my $got = do { local $/; <$sock> };
    is($got, "+A\r\n+B\r\n", 'fake_redis: pipelined commands, then close');
    close $sock;
    my @received = Test::Mobispot::FakeRedis::received_commands(
        servroot() . '/logs/fake_redis.log');
    is_deeply(\@received, ['PING', 'ECHO x\r\ny', 'PING'],
              'fake_redis: received commands are logged');

    fake_redis_start('partial $10\r\nabc');
    $fake = Test::Mobispot::Redis->new(port => fake_redis_port(), timeout => 2);
    my $partial = eval { $fake->command('GET', 'k'); 1 } ? '' : $@;
    like($partial, qr/closed/, 'fake_redis: partial reply, then close');
    $fake->close;

    like(nginx_conf(config => 'root $TEST_NGINX_HTML_DIR;'),
         qr{listen 127\.0\.0\.1:\d+;.*root \Q${\ html_dir()}\E;}s,
         'nginx_conf substitutes variables');

    is(nginx_hup(), undef, 'nginx_hup reloads') unless $ENV{TEST_NGINX_USE_VALGRIND};
    pass('nginx_hup is not used under valgrind (master_process off)')
        if $ENV{TEST_NGINX_USE_VALGRIND};
    is(http_request('GET /plain')->{status}, 200, 'nginx answers after HUP');

    is(join("\n", stop_env()), '', 'stop_env: nginx clean');
}

# ------------------------------- a child file: repeat_each, LAST, plan ---

{
    my $file = servroot() . '/repeat.t';
    open(my $fh, '>', $file) or die "$file: $!";
    print {$fh} <<'EOT';
use lib $ENV{HARNESS_LIB};
use Test::Mobispot;
repeat_each(2);
log_level('info');
run_tests();
__DATA__

=== TEST 1: repeated
--- redis
INCR n
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- response_body
t
--- redis_check
GET n => 1
--- no_error_log
[debug]

=== TEST 2: the last one
--- LAST
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- error_code: 200

=== TEST 3: after LAST: never runs
--- config
    location = /t { return 500; }
--- request
GET /t
--- error_code: 200
EOT
    close $fh;
    my $tap = _run_child($file);
    like($tap, qr/^1\.\.12$/m, 'repeat_each(2) doubles the plan; LAST stops');
    ok($? == 0 && $tap !~ /^not ok/m, 'the repeated file passes')
        or diag($tap);
}

# ------------------------------------------- failures are reported ---

{
    my $file = servroot() . '/failing.t';
    open(my $fh, '>', $file) or die "$file: $!";
    print {$fh} <<'EOT';
use lib $ENV{HARNESS_LIB};
use Test::Mobispot;
run_tests();
__DATA__

=== TEST 1: wrong code, body, headers, json
--- config
    location = /j { default_type application/json; return 200 '{"a":1,"b":[true]}'; }
--- request
GET /j
--- error_code: 201
--- response_body
nope
--- response_headers
!Content-Type
--- response_body_json
{"a":2,"b":[true]}
--- response_body_json_subset
{"b":[false]}

=== TEST 2: missing log line, unexpected log line, redis mismatch
--- config
    location = /e { return 404; }
--- request
GET /e
--- redis
SET k v
--- redis_check
GET k => w
--- error_log
no such line in the log
--- no_error_log
[notice]

=== TEST 3: client timeout without abort
--- fake_redis
silence
--- config
    location = /slow {
        proxy_read_timeout 3s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    }
--- request
GET /slow
--- timeout: 0.3
--- error_code: 200

=== TEST 4: an [alert] in the error log
--- main_config
worker_rlimit_nofile 999999999;
--- config
    location = /a { return 204; }
--- request
GET /a
--- error_code: 204

=== TEST 5: must_die, but the configuration is fine
--- config
    location = /a { return 204; }
--- must_die
EOT
    close $fh;

    my $tap = _run_child($file);
    my $status = $? >> 8;

    my @failed = $tap =~ /^not ok \d+ - (.*)$/mg;
    my @expected = (
        'TEST 1: wrong code, body, headers, json - error_code',
        'TEST 1: wrong code, body, headers, json - response_headers',
        'TEST 1: wrong code, body, headers, json - response_body',
        'TEST 1: wrong code, body, headers, json - response_body_json',
        'TEST 1: wrong code, body, headers, json - response_body_json_subset',
        'TEST 2: missing log line, unexpected log line, redis mismatch - redis_check: GET k => w',
        'TEST 2: missing log line, unexpected log line, redis mismatch - error_log: no such line in the log',
        'TEST 2: missing log line, unexpected log line, redis mismatch - no_error_log: [notice]',
        'TEST 3: client timeout without abort - error_code',
        'TEST 4: an [alert] in the error log - nginx clean (no alert, emerg, crash)',
        'TEST 5: must_die, but the configuration is fine - nginx fails to start (must_die)',
    );
    is_deeply(\@failed, \@expected, 'wrong expectations fail, right ones pass')
        or diag($tap);
    my ($planned) = $tap =~ /^1\.\.(\d+)$/m;
    my $ran = () = $tap =~ /^(?:not )?ok \d+/mg;
    ok($status == @expected && $planned && $planned == $ran,
       'the failing file exits with its number of failures, plan respected')
        or diag("exit status $status\n$tap");
    like($tap, qr/\$\.a: expected 2, got 1/, 'JSON differences are explained')
        or diag($tap);
}

# Runs a test file in normal mode (whatever mode this one runs in) and
# returns its output; $? is its exit status.  Its servroot, kept when it
# fails, is removed.
sub _run_child {
    my ($file) = @_;
    my %env = %ENV;
    delete @env{qw(TEST_NGINX_USE_VALGRIND TEST_NGINX_USE_HUP
                   TEST_NGINX_TIMEOUT_FACTOR TEST_NGINX_NO_CLEAN)};
    $env{HARNESS_LIB} = "$FindBin::Bin/lib";
    my $out = "$file.out";
    {
        local %ENV = %env;
        system("$^X $file >$out 2>&1");
    }
    my $status = $?;
    open(my $fh, '<', $out) or die "$out: $!";
    my $tap = do { local $/; <$fh> };
    close $fh;
    for my $dir ($tap =~ /kept in (\S+)/g) {
        File::Path::remove_tree($dir) if $dir =~ m{/mobispot-t-\w+$};
    }
    $? = $status;
    return $tap;
}

__DATA__

=== TEST 1: status, body, headers
--- config
    location = /hello {
        add_header X-Test yes;
        return 200 "hello\n";
    }
--- request
GET /hello
--- error_code: 200
--- response_body
hello
--- response_headers
X-Test: yes
Content-Type: text/plain
!X-Nope
--- response_headers_like
Server: ^nginx/
Content-Length: ^6$
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: JSON exact and subset, several requests, per-request expectations
--- config
    location = /json {
        default_type application/json;
        return 200 '{"status":"ok","redis":{"connected":true,"port":$server_port},"list":[1,"2",null]}';
    }
    location = /missing {
        default_type application/json;
        return 404 '{"error":{"code":"not_found","message":"no such spot"}}';
    }
--- request eval
["GET /json", "GET /missing", "GET /json"]
--- error_code eval
[200, 404, 200]
--- response_body_json eval
[
  '{"list":[1,"2",null],"redis":{"port":$TEST_NGINX_SERVER_PORT,"connected":true},"status":"ok"}',
  '{"error":{"message":"no such spot","code":"not_found"}}',
  { status => "ok", list => [1, "2", undef],
    redis => { connected => \1, port => $ENV{TEST_NGINX_SERVER_PORT} + 0 } },
]
--- response_body_json_subset eval
['{"redis":{"connected":true}}', '{"error":{"code":"not_found"}}', undef]
--- response_headers
Content-Type: application/json



=== TEST 3: request bodies, request_body, more_headers, Content-Length
--- config
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sink;
        proxy_set_header X-Body $request_body;
        proxy_set_header X-Method $request_method;
        proxy_set_header X-Length $content_length;
    }
    location = /sink {
        return 200 "$http_x_method [$http_x_body] [$http_x_foo] $http_x_length\n";
    }
--- request eval
["POST /echo\n{\"a\":1}", "PUT /echo", "POST /echo"]
--- request_body eval
[undef, "put-body", undef]
--- more_headers eval
["X-Foo: one", "X-Foo: two\nX-Other: 1", ""]
--- response_body eval
["POST [{\"a\":1}] [one] 7\n", "PUT [put-body] [two] 8\n", "POST [] [] 0\n"]



=== TEST 4: body lines of the request section lose their last newline
--- config
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sink;
        proxy_set_header X-Body $request_body;
    }
    location = /sink { return 200 "[$http_x_body] $http_x_foo\n"; }
--- request
POST /echo
hello body
--- more_headers
X-Foo: bar
--- response_body
[hello body] bar



=== TEST 5: user_files and a chunked response
--- user_files
>>> dir/page.txt
aaa line one
aaa line two
--- config
    location /dir/ {
        sub_filter 'aaa' 'bbb';
        sub_filter_once off;
        sub_filter_types text/plain;
    }
--- request
GET /dir/page.txt
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
bbb line one
bbb line two



=== TEST 6: redis seeding and redis_check
--- redis
SET k v
SET "spaced key" "a b\tc"
HSET h f1 v1 f2 v2
RPUSH list a b c
INCRBY n 41
SET empty ""
--- config
    location = /t { return 204; }
--- request
GET /t
--- error_code: 204
--- response_body eval
""
--- redis_check
GET k => v
GET "spaced key" => "a b\tc"
GET empty => ""
GET missing => (nil)
HGETALL h => ["f1", "v1", "f2", "v2"]
LRANGE list 0 -1 => ["a","b","c"]
INCR n => 42
TYPE h => hash
TTL k => -1
NOSUCHCMD =~ /^\(error\) ERR unknown command/
DBSIZE =~ ^[0-9]+$



=== TEST 7: redis is flushed between blocks
--- config
    location = /t { return 204; }
--- request
GET /t
--- error_code: 204
--- redis_check
GET k => (nil)
DBSIZE => 0



=== TEST 8: before_request: redis_stop, redis_start, redis, sleep
--- redis
SET before 1
--- config
    location = /redis {
        add_header X-Connect $upstream_connect_time always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REDIS_PORT;
    }
--- request eval
["GET /redis", "GET /redis", "GET /redis"]
--- before_request eval
["", "redis_stop", "redis_start\nredis SET after restart\nsleep 0.05"]
--- error_code eval
[502, 502, 502]
--- response_headers_like eval
["X-Connect: ^[0-9.]+\$", "X-Connect: ^-\$", "X-Connect: ^[0-9.]+\$"]
--- redis_check
GET after => restart
GET before => (nil)
--- error_log
connect() failed (111: Connection refused)



=== TEST 9: redis is back for the next block after a redis_stop
--- redis
SET back yes
--- before_request eval
["redis_stop"]
--- config
    location = /t { return 204; }
--- request
GET /t
--- error_code: 204



=== TEST 10: the next block finds redis running again
--- config
    location = /t { return 204; }
--- request
GET /t
--- redis_check
PING => PONG
GET back => (nil)



=== TEST 11: fake redis: port substituted, script answers, commands logged
--- fake_redis
# nginx speaks HTTP to it: the request line is the first (inline) command
partial HTTP/1.0 200 OK\r\nX-From: fake\r\n\r\nhello from fake\n
--- config
    location = /fake {
        proxy_http_version 1.0;
        proxy_pass http://127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    }
--- request
GET /fake
--- error_code: 200
--- response_headers
X-From: fake
--- response_body
hello from fake
--- fake_redis_received
GET /fake HTTP/1.0
--- no_error_log
[error]



=== TEST 12: abort: the client gives up, nginx notices
--- fake_redis
silence
--- config
    location = /slow {
        proxy_read_timeout 5s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT;
    }
--- request
GET /slow
--- timeout: 0.5
--- abort
--- error_code: 200
--- error_log
client prematurely closed connection
--- no_error_log
[alert]



=== TEST 13: pipelined requests share one connection, separate ones do not
--- config
    location = /n { return 200 "$connection_requests\n"; }
    location = /h { return 200 "head\n"; }
--- pipelined_requests eval
["GET /n", "GET /n", "HEAD /h", "GET /n"]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
["1\n", "2\n", "", "4\n"]



=== TEST 14: separate requests use separate connections
--- config
    location = /n { return 200 "$connection_requests\n"; }
--- request eval
["GET /n", "GET /n"]
--- response_body eval
["1\n", "1\n"]



=== TEST 15: raw_request, HTTP/1.0, eval patterns with variables
--- config
    location = /port { return 200 "$server_port"; }
--- raw_request eval
"GET /port?p=\$TEST_NGINX_SERVER_PORT HTTP/1.0\r\nHost: x\r\n\r\n"
--- response_body eval
'$TEST_NGINX_SERVER_PORT'
--- error_log eval
[qr/http request line: "GET \/port\?p=\d+ HTTP\/1\.0"/,
 qr/http args: "p=\$TEST_NGINX_SERVER_PORT"/]
--- no_error_log
[error]



=== TEST 16: response_body_like and more request methods
--- config
    location = /m { return 200 "method=$request_method uri=$uri args=$args\n"; }
--- request
DELETE /m?x=1&y=2
--- response_body_like
^method=DELETE uri=/m args=x=1&y=2$



=== TEST 17: a before_request hup reloads nginx between requests
--- config
    location = /pid { return 200 "$pid\n"; }
--- request eval
["GET /pid", "GET /pid"]
--- before_request eval
["", "hup"]
--- response_body_like eval
[qr/^\d+$/, qr/^\d+$/]
--- error_log
reconfiguring



=== TEST 18: must_die with an unknown directive
--- config
    location = /t { retrun 200; }
--- must_die
--- error_log eval
qr/unknown directive "retrun"/
--- no_error_log
[alert]



=== TEST 19: must_die with a bad value
--- config
    location = /t { client_max_body_size lots; }
--- must_die
--- error_log
"client_max_body_size" directive invalid value



=== TEST 20: skip_hup and skip_valgrind blocks run on a fresh nginx
--- skip_hup
--- skip_valgrind
--- config
    location = /t { return 200 "fresh\n"; }
--- request
GET /t
--- response_body
fresh



=== TEST 21: main_config, http_config, TEST_NGINX_* from the environment
--- main_config
env MOBISPOT_HARNESS_TEST;
--- http_config
    map $uri $kind { default other; /k one; }
--- config
    location = /k { return 200 "$kind $TEST_NGINX_GREETING ${TEST_NGINX_GREETING}s\n"; }
--- request
GET /k
--- response_body
one bonjour bonjours



=== TEST 22: keep-alive responses are read by their length, not until EOF
--- config
    location = /k { return 200 "kept\n"; }
    location = /c { gzip on; gzip_min_length 1; gzip_types text/plain; return 200 "chunked\n"; }
--- request eval
["GET /k", "GET /c"]
--- more_headers eval
["Connection: keep-alive", "Connection: keep-alive\nAccept-Encoding: gzip"]
--- timeout: 3
--- response_headers eval
["Connection: keep-alive", "Transfer-Encoding: chunked\nContent-Encoding: gzip"]
--- response_body_like eval
[qr/^kept$/, qr/^\x1f\x8b/]



=== TEST 23: a SKIP block does not run
--- SKIP
--- config
    location = /t { return 500; }
--- request
GET /t
--- error_code: 200
