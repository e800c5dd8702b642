# Many requests of one worker share its one Redis connection: 500 requests
# in flight at once are all answered, pipelined on a single connection; and
# mobispot_redis_max_pending bounds what is in flight.
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

my $N = 500;

# n connections at once, each with GET path: [status, body] for each
sub fire {
    my ($port, $path, $n, $timeout) = @_;
    return http_requests_at_once([($path) x $n], port => $port,
                                 timeout => $timeout);
}

sub worker_connections_to_redis {
    my $list = redis_cmd('CLIENT', 'LIST');
    my @clients = grep { /\S/ } split /\n/, $list;
    # the test's own connection is the one that ran CLIENT LIST; the
    # worker's cache tracker (subscribed to __redis__:invalidate) carries
    # no request
    return scalar(grep { !/cmd=client\|list/ && !/ sub=[1-9]/ } @clients);
}

sub trackers_subscribed {
    return scalar(grep { / sub=[1-9]/ } split /\n/, redis_cmd('CLIENT', 'LIST'));
}

start_env(http_config => <<"CONF", config => <<'CONF2');
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
    mobispot_redis_timeout 10s;
CONF
    location /api/v1/ { mobispot_api; }
CONF2

# the worker connects at start, and its tracker subscribes (until then the
# tracker cannot be told from a connection that carries requests): wait
my $t = time;
sleep 0.05
    while (worker_connections_to_redis() < 1 || trackers_subscribed() < 1)
    && time - $t < 10;
is(worker_connections_to_redis(), 1, 'one worker, one Redis connection');

# Redis stops serving commands for 1.5 s: every PING waits in the pipeline
redis_cmd('CLIENT', 'PAUSE', 1500);
my @res = fire(server_port(), '/api/v1/health', $N, 20);

my $ok = grep { defined $_->[0] && $_->[0] == 200
                && $_->[1] =~ /^\{"status":"ok",.*"redis":\{"connected":true,/ }
         @res;
is($ok, $N, "$N requests in flight at once: all answered 200");

my $latency_ok = grep { defined $_->[1] && $_->[1] =~ /"latency_ms":(\d+)/
                        && $1 >= 100 } @res;
cmp_ok($latency_ok, '>', $N / 2,
       'they really waited for Redis together (latency reflects the pause)');

is(worker_connections_to_redis(), 1, 'still one Redis connection');

my $info = redis_cmd('INFO', 'stats');
my ($conns) = $info =~ /total_connections_received:(\d+)/;
# the worker's connection and its cache tracker, and the test's own (and
# the harness's, that gave a one-node cluster its slots)
cmp_ok($conns, '<=', 5 + (redis_slots_mode() ? 1 : 0),
       "Redis saw no connection per request ($conns in all)");

my @problems = stop_env();
is_deeply(\@problems, [], 'nginx stopped cleanly, no alert, no crash');

# a small bound: half the requests are refused at once with 503 overloaded
start_env(http_config => <<"CONF", config => <<'CONF2');
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
    mobispot_redis_timeout 10s;
    mobispot_redis_max_pending 10;
CONF
    location /api/v1/ { mobispot_api; }
CONF2

$t = time;
sleep 0.05 while worker_connections_to_redis() < 1 && time - $t < 5;

redis_cmd('CLIENT', 'PAUSE', 1000);
@res = fire(server_port(), '/api/v1/health', 20, 20);

my $served = grep { defined $_->[0] && $_->[0] == 200 } @res;
my $refused = grep { defined $_->[0] && $_->[0] == 503
                     && $_->[1] =~ /"code":"overloaded"/ } @res;
is($served, 10, 'mobispot_redis_max_pending 10: ten requests served');
is($refused, 10, 'the ten others refused at once with 503 overloaded');

@problems = stop_env();
is_deeply(\@problems, [], 'nginx stopped cleanly');

my $lines = () = error_log_text() =~ /too many redis commands in flight/g;
cmp_ok($lines, '>=', 1, 'the refusal is logged');
# once a second at most: ten refusals within the one-second pause
cmp_ok($lines, '<', 5, "but not once per refusal ($lines lines)");

Test::More::done_testing();
