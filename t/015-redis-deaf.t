# The worker's bus goes deaf while its TCP connection stays up (issue 8,
# C23): a relay between nginx and Redis drops what Redis sends to the
# connection in subscribe mode.  The heartbeat notices it, the bus is made
# anew, and the answer cache stops serving while the bus cannot hear: a
# write made straight into Redis meanwhile is seen at once.  When the
# relay forwards again, the cache serves again, and invalidations work.
#
#   prove -I t/lib t/015-redis-deaf.t

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Mobispot;
use Test::Mobispot::Util qw(free_port);
use Test::Mobispot::RedisProxy qw(start_redis_proxy stop_redis_proxy
                                  redis_proxy_mute redis_proxy_unmute);
use JSON::PP;
use Time::HiRes qw(time sleep);

my $H = '540-1020;540-1020;540-1020;540-1020;540-1020;540-1020;540-1020';

my $proxy_port = free_port();
my $proxy = start_redis_proxy(port => $proxy_port,
                              redis_port => redis_port(),
                              log => servroot() . "/redis-proxy.log");

start_env(http_config => <<"CONF", config => <<'CONF2');
    mobispot_redis 127.0.0.1:$proxy_port;
    mobispot_redis_heartbeat 200ms;
    mobispot_redis_timeout 500ms;
    mobispot_redis_connect_timeout 500ms;
CONF
    location /api/v1/ {
        mobispot_api;
        add_header X-Cache $mobispot_cache_status always;
    }
CONF2

redis_cmd('HSET', 'ms:{site:a}:info', name => 'A', town => 'Namur',
          tz => 'Europe/Brussels', slot => 30, hours => $H, closed => '',
          networks => 'cowallonia', 'cap:desk' => 10);

sub doc {
    my ($name) = @_;
    redis_cmd('SET', 'ms:{site:a}:doc', qq({"id":"a","name":"$name"}));
}

# [X-Cache, name] of GET spots/a
sub get_a {
    my $res = http_request('GET /api/v1/spots/a');
    my $body = eval { decode_json($res->{body}) } || {};
    return [$res->{header}{'x-cache'} // '', $body->{name} // ''];
}

# polls until GET spots/a is a HIT (the cache serves): the last answer
sub until_hit {
    my $t = time;
    my $r;
    do { $r = get_a(); sleep 0.05 if $r->[0] ne 'HIT' }
        while $r->[0] ne 'HIT' && time - $t < 10;
    return $r;
}

doc('A');

is_deeply(until_hit(), ['HIT', 'A'], 'the answer is cached while the bus hears');

# the bus goes deaf: invalidations, and the heartbeat's, go nowhere
redis_proxy_mute($proxy);
doc('A2');
sleep 1;    # five heartbeats

my @seen = (get_a(), get_a());
is_deeply(\@seen, [['BYPASS', 'A2'], ['BYPASS', 'A2']],
          'while the bus is deaf nothing is served from the cache: the write is seen');

like(error_log_text(),
     qr/the subscriptions on redis 127\.0\.0\.1:\d+ heard no heartbeat within 200 ms: they are made anew/,
     'the deaf bus is logged');

# the relay forwards again: the new bus subscribes, the cache serves again
redis_proxy_unmute($proxy);

is_deeply(until_hit(), ['HIT', 'A2'], 'the cache serves again once the bus hears');

# and Redis's invalidations reach it again
doc('A3');
my $t = time;
my $r;
do { $r = get_a(); sleep 0.05 if $r->[1] ne 'A3' }
    while $r->[1] ne 'A3' && time - $t < 5;
is($r->[1], 'A3', 'a write after the recovery is seen (invalidated)');
isnt($r->[0], 'HIT', 'and that answer did not come from the cache');

# the heartbeat key expires by itself
my @beat;
$t = time;
do { @beat = @{ redis_cmd('KEYS', 'ms:beat:*') || [] }; sleep 0.05 unless @beat }
    while !@beat && time - $t < 5;
ok(@beat >= 1, 'the heartbeat key is in Redis');
# the longest: a worker before a reload (HUP mode) leaves its key to expire
my ($ttl) = sort { $b <=> $a } map { redis_cmd('PTTL', $_) } @beat ? @beat : ('none');
ok($ttl > 0 && $ttl <= 2000, "it expires (10 heartbeats): $ttl ms");

# Redis stops answering (paused) while every request is a HIT: the
# heartbeat notices that the client's connection is stuck, and makes it
# anew, as a call's timeout would; the cache stops serving meanwhile
is_deeply(until_hit(), ['HIT', 'A3'], 'cached again');
my $connected = () = error_log_text() =~ /\] \d+#\d+: mobispot: connected to redis/g;
redis_cmd('CLIENT', 'PAUSE', 1500);
sleep 1.6;
like(error_log_text(),
     qr/redis 127\.0\.0\.1:\d+ did not answer the heartbeat within 500 ms/,
     'a heartbeat left unanswered past the timeout is logged');
is_deeply(until_hit(), ['HIT', 'A3'], 'and the cache serves again after the pause');
my $now = () = error_log_text() =~ /\] \d+#\d+: mobispot: connected to redis/g;
cmp_ok($now, '>', $connected, 'the connection was made anew');

is(join("\n", stop_env()), '', 'nginx clean');
stop_redis_proxy($proxy);

done_testing();
