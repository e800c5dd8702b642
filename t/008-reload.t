# Reloads (SIGHUP) while requests keep coming: none is refused, none gets
# a 5xx, because a fresh worker takes requests while it connects to Redis
# and an old one answers what it took before it exits.
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

if ($ENV{TEST_NGINX_USE_VALGRIND}) {
    Test::More::plan(skip_all => 'reloads need the master process (off under valgrind)');
}

# a cluster (TEST_NGINX_REDIS_SLOTS) has no SELECT: there, database 0
my $db = redis_slots_mode() ? '' : ' db=1';
start_env(http_config => <<"CONF", config => <<'CONF2');
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT$db;
    mobispot_redis_timeout 3s;
CONF
    location /api/v1/ { mobispot_api; }
CONF2

my $port = server_port();

# The child opens a new request every 10 ms, whether or not the earlier
# ones were answered (so requests keep arriving while Redis is paused), and
# counts the status codes it gets.
pipe(my $rd, my $wr) or die "pipe: $!";
my $pid = fork // die "fork: $!";

if ($pid == 0) {
    close $rd;
    my (%count, %buf, $stop);
    local $SIG{TERM} = sub { $stop = 1 };
    my $sel = IO::Select->new;
    my $next = 0;

    while (!$stop || $sel->count) {
        if (!$stop && time >= $next) {
            $next = time + 0.01;
            my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                          Timeout => 5);
            if ($s) {
                print $s "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n"
                         . "Connection: close\r\n\r\n";
                $sel->add($s);
                $buf{fileno $s} = '';
            } else {
                $count{connect_error}++;
            }
        }
        for my $s ($sel->can_read(0.005)) {
            my $n = sysread($s, my $chunk, 4096);
            if ($n) { $buf{fileno $s} .= $chunk; next; }
            my ($code) = $buf{fileno $s} =~ m{^HTTP/1\.1 (\d+)};
            $count{$code // 'none'}++;
            delete $buf{fileno $s};
            $sel->remove($s);
            close $s;
        }
    }
    print $wr join(',', map { "$_=$count{$_}" } sort keys %count), "\n";
    close $wr;
    exit 0;
}

close $wr;
sleep 0.3;

# Each reload happens while Redis holds every command for 300 ms: the new
# worker's SELECT waits too, so requests reach it before its connection is
# ready.
for my $i (1 .. 5) {
    redis_cmd('CLIENT', 'PAUSE', 300);
    my $err = nginx_hup();
    ok(!$err, "reload $i done" . ($err ? ": $err" : ''));
    sleep 0.2;
}

sleep 0.3;
kill 'TERM', $pid;
my $result = <$rd> // '';
waitpid $pid, 0;
chomp $result;
my %count = map { split /=/ } split /,/, $result;

cmp_ok($count{200} // 0, '>', 100, "requests were served during the reloads ($result)");
is(scalar(grep { $_ ne '200' } keys %count), 0,
   'every request during the reloads was answered 200');

my @problems = stop_env();
is_deeply(\@problems, [], 'nginx stopped cleanly, no alert, no crash');

Test::More::done_testing();
