# Redis goes away and comes back many times: each time the worker
# reconnects by itself, and it keeps no file descriptor or connection from
# the earlier ones.
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Time::HiRes qw(time sleep);

sub worker_pids {
    open my $fh, '<', servroot() . '/logs/nginx.pid' or return ();
    chomp(my $master = <$fh> // '');
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $s, '<', $stat or next;
        my $line = <$s> // next;
        my ($pid, $ppid) = $line =~ /^(\d+) \(.*\) \S+ (\d+)/ or next;
        push @pids, $pid if $ppid == $master;
    }
    # without a master (the valgrind mode) the one process is the worker
    return @pids ? @pids : ($master);
}

sub fd_count {
    my ($pid) = @_;
    my @fds = glob "/proc/$pid/fd/*";
    return scalar @fds;
}

sub health_status {
    my $r = http_request("GET /api/v1/health", timeout => 3);
    return $r->{status} // 0;
}

sub wait_health {
    my ($want) = @_;
    my $t = time;
    my $got = 0;
    while (time - $t < 8) {
        $got = health_status();
        return $got if $got == $want;
        sleep 0.1;
    }
    return $got;
}

start_env(http_config => <<"CONF", config => <<'CONF2');
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
CONF
    location /api/v1/ { mobispot_api; }
CONF2

is(wait_health(200), 200, 'health 200 at start');

my ($worker) = worker_pids();
ok($worker, 'found the worker process');
# the baseline: the lowest count over a moment (a client connection of
# the health check above may still be closing)
my $fds = fd_count($worker);
for (1 .. 5) {
    sleep 0.1;
    my $n = fd_count($worker);
    $fds = $n if $n < $fds;
}

for my $round (1 .. 8) {
    redis_stop();
    is(health_status(), 503, "round $round: Redis down, 503 at once");
    redis_start();
    is(wait_health(200), 200, "round $round: Redis back, 200 without reload");
}

# a client connection may still be closing: give it a moment, a leak of
# one descriptor per reconnect would stay
my $t = time;
sleep 0.1 while fd_count($worker) > $fds && time - $t < 3;
cmp_ok(fd_count($worker), '<=', $fds,
       "the worker holds no more descriptors than before ($fds)");

my @problems = stop_env();
is_deeply(\@problems, [], 'nginx stopped cleanly, no alert, no crash');

my $log = error_log_text();
my $lost = () = $log =~ /mobispot: lost connection to redis/g;
my $connected = () = $log =~ /mobispot: connected to redis/g;
is($lost, 8, 'each loss logged once');
is($connected, 9, 'each reconnect logged once');

Test::More::done_testing();
