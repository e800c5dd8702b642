# Durability of bookings (issue 9): what a 201 (or a cancel's 200) means
# when Redis crashes or its replicas are gone.
#
#   1. nginx -t refuses bad values of mobispot_redis_wait;
#   2. appendfsync always: a booking answered 201 is there after kill -9 of
#      redis-server and its restart (and, as a control, the same steps
#      without persistence lose it: the test can tell);
#   3. a real replica and mobispot_redis_wait 1 500ms: a 201 implies the
#      replica has the record; with the replica gone, 503 replicas_timeout,
#      the claim released but the booking kept, so that the same request
#      sent again once the replica is back gets the 201 with the same id,
#      and nothing is booked twice; a refusal is still a refusal;
#   4. the same for DELETE (cancel), with the replica stopped (SIGSTOP).
#
#   prove -I t/lib t/401-bookings-durability.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use MobispotBookings qw(req account $API_LOCATION);
use Digest::SHA qw(sha256_hex);
use POSIX qw(strftime floor);
use Time::HiRes qw(time sleep);

# --- 1. nginx -t

my $REDIS = "mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;";

for my $good ('1 100ms', '2 500ms', 'off') {
    my ($st, $out) = nginx_test(http_config => "$REDIS\nmobispot_redis_wait $good;");
    is($st, 0, "nginx -t accepts mobispot_redis_wait $good") or diag($out);
}

my ($st, $out) = nginx_test(http_config => "$REDIS\nmobispot_redis_timeout 8s;\n"
                                          . "mobispot_redis_wait 1 4s;");
is($st, 0, 'a longer time with a longer mobispot_redis_timeout') or diag($out);

for my $bad (
    ['0 100ms', qr/invalid number of replicas "0"/],
    ['-1 100ms', qr/invalid number of replicas "-1"/],
    ['101 100ms', qr/invalid number of replicas "101"/],
    ['x 100ms', qr/invalid number of replicas "x"/],
    ['1 0', qr/invalid time "0"/],
    ['1 0ms', qr/invalid time "0ms"/],
    ['1 11s', qr/invalid time "11s"/],
    ['1 soon', qr/invalid time "soon"/],
    ['1', qr/takes "off" or a number of replicas and a time, not "1"/],
    ['on', qr/takes "off" or a number of replicas and a time, not "on"/],
    ['1 501ms', qr/must be at most half of mobispot_redis_timeout \(1000 ms\)/],
    ['1 1s', qr/must be at most half of mobispot_redis_timeout \(1000 ms\)/],
    ['1 2 3', qr/invalid number of arguments/],
) {
    my ($v, $re) = @$bad;
    my ($st, $out) = nginx_test(http_config => "$REDIS\nmobispot_redis_wait $v;");
    isnt($st, 0, "nginx -t refuses mobispot_redis_wait $v");
    like($out, $re, '... saying why');
}

($st, $out) = nginx_test(http_config => "$REDIS\nmobispot_redis_timeout 500ms;\n"
                                       . "mobispot_redis_wait 1 300ms;");
isnt($st, 0, 'a time over half of mobispot_redis_timeout is refused');
like($out, qr/must be at most half of mobispot_redis_timeout \(500 ms\)/, '... saying why');

($st, $out) = nginx_test(http_config => "$REDIS\nmobispot_redis_wait 1 100ms;\n"
                                       . "mobispot_redis_wait 1 100ms;");
isnt($st, 0, 'a second mobispot_redis_wait is refused');
like($out, qr/"mobispot_redis_wait" directive is duplicate/, '... as duplicate');

($st, $out) = nginx_test(http_config => "mobispot_redis_wait 1 100ms;");
isnt($st, 0, 'mobispot_redis_wait without mobispot_redis is refused');
like($out, qr/"mobispot_redis_wait" requires "mobispot_redis"/, '... saying why');

($st, $out) = nginx_test(config => "location / { mobispot_redis_wait 1 100ms; }");
isnt($st, 0, 'mobispot_redis_wait in a location is refused');
like($out, qr/"mobispot_redis_wait" directive is not allowed here/, '... not allowed');

# --- the catalogue and the requests, as in t/400-bookings.t

my $NET = '{"name":"CoWallonia","passport":{"id":"cw-pass",'
    . '"name":"CoWallonia pass","monthly_price_eur":250}}';
my $ALLDAY = join ',', map { "\"$_\":[\"00:00-24:00\"]" }
    qw(mon tue wed thu fri sat sun);
my $SITE = '{"name":"S","town":"T","address":"x","latitude":50.46,'
    . '"longitude":4.86,"time_zone":"UTC","networks":["cowallonia"],'
    . '"slot_minutes":30,"opening_hours":{' . $ALLDAY . '},'
    . '"resources":[{"kind":"desk","capacity":2}]}';

my %ADA = ('X-Test-User' => 'ada', 'X-Test-Pass' => 'cw-pass');

sub book {
    my ($body, $key) = @_;
    return req('POST', 'bookings', $body, %ADA, 'Idempotency-Key' => $key);
}

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

my $day = (floor(time / 86400) + 1) * 86400;
my ($F, $T) = (iso($day + 10 * 3600), iso($day + 11 * 3600));
my $BODY = qq({"spot":"s1","kind":"desk","from":"$F","to":"$T"});
my $date = strftime('%Y-%m-%d', gmtime($day));
my $BOOKED = "ms:{site:s1}:booked:desk:$date";
my $INDEX = 'ms:{user:ada}:bookings';

sub idem_key { 'ms:{user:ada}:idem:' . sha256_hex("ada\n$_[0]") }
sub record_key { "ms:{site:s1}:booking:$_[0]" }

sub free_over {
    my (undef, $j) = req('GET', "spots/s1/availability?kind=desk&from=$F&to=$T");
    my @f = map { $_->{free} } @{ $j->{slots} || [] };
    return @f ? (sort { $a <=> $b } @f)[0] : undef;
}

# polls until $cond is true or $seconds pass; the test asserts the
# condition, never the time it took
sub eventually {
    my ($cond, $seconds) = @_;
    my $deadline = time + $seconds;
    while (time < $deadline) {
        my $ok = eval { $cond->() };
        return 1 if $ok;
        sleep 0.05;
    }
    return 0;
}

sub health_ok {
    return eventually(sub { (req('GET', 'health'))[0]{status} == 200 }, 20);
}

sub catalogue {
    is((req('PUT', 'admin/networks/cowallonia', $NET))[0]{status}, 201,
       'network');
    is((req('PUT', 'admin/sites/s1', $SITE))[0]{status}, 201,
       'site s1, 2 desks');
    # who may book is t/403's matter: ada has a passport of the network
    is(account('ada'), 201, 'ada\'s account');
}

# --- 2. appendfsync always, kill -9, restart

redis_args('--appendonly', 'yes', '--appendfsync', 'always');
start_env(http_config => "$REDIS\n    mobispot_admin loopback;",
          config => $API_LOCATION);
is(redis_cmd('CONFIG', 'GET', 'appendfsync')->[1], 'always',
   'redis runs with appendfsync always');
catalogue();

my ($r, $j) = book($BODY, 'crash');
is($r->{status}, 201, 'booked: 201');
my $ID = $j->{id} // '';

redis_kill();
ok(!defined redis_pid(), 'redis-server killed with SIGKILL right after the 201');
redis_start();
ok(health_ok(), 'restarted on the same port and directory: nginx reconnects '
   . 'by itself (GET health 200)');

my ($r2, $j2) = req('GET', "bookings/$ID", undef, %ADA);
is($r2->{status}, 200, 'the booking survived the crash');
is_deeply($j2, $j, 'the same booking');
is(free_over(), 1, 'availability still counts it');
is(redis_cmd('HGET', $BOOKED, '600'), '1', 'its slot counted once');
($r2) = book($BODY, 'crash');
is($r2->{status}, 201, 'a replay after the crash: 201');
is($r2->{body}, $r->{body}, '... the first answer (kept, or the record: the booking)');

# the control: the same steps without persistence lose the booking

redis_args();
redis_start();
ok(health_ok(), 'redis without persistence: nginx reconnects');
is(redis_cmd('CONFIG', 'GET', 'appendonly')->[1], 'no', 'appendonly no');
catalogue();
($r, $j) = book($BODY, 'crash-control');
is($r->{status}, 201, 'booked: 201');
redis_kill();
redis_start();
ok(health_ok(), 'restarted');
($r2) = req('GET', "bookings/$j->{id}", undef, %ADA);
is($r2->{status}, 404, 'without persistence, the crash lost the booking');

is(join("\n", stop_env()), '', 'nginx clean');

# --- 3. a replica and mobispot_redis_wait

sub synced {
    return eventually(sub {
        my $info = redis_cmd('INFO', 'replication');
        my $rinfo = redis_replica_cmd('INFO', 'replication');
        $info =~ /^connected_slaves:1\r?$/m
            && $info =~ /^slave0:.*state=online/m
            && $rinfo =~ /^master_link_status:up\r?$/m;
    }, 30);
}

# (a long mobispot_redis_timeout: under valgrind too, the call's timer
# must not end a WAIT's round trip before Redis does)
start_env(http_config => "$REDIS\n    mobispot_admin loopback;\n"
                         . "    mobispot_redis_timeout 5s;\n"
                         . "    mobispot_redis_wait 1 500ms;",
          config => $API_LOCATION);
redis_replica_start();
ok(synced(), 'the replica is in sync');
catalogue();

($r, $j) = book($BODY, 'k1');
is($r->{status}, 201, 'booked with a replica: 201');
my $ID1 = $j->{id} // '';
my %rec = @{ redis_replica_cmd('HGETALL', record_key($ID1)) || [] };
is($rec{user}, 'ada', 'the replica has the record at once, read right after '
   . 'the 201');
is($rec{status}, 'confirmed', '... confirmed');
is(redis_replica_cmd('HGET', $BOOKED, '600'), '1', '... and the slot count');

# the replica gone: 503, the booking kept, the claim released

redis_replica_stop();
($r, $j) = book($BODY, 'k2');
is($r->{status}, 503, 'the replica gone: 503');
is($j->{error}{code}, 'replicas_timeout', '... replicas_timeout');
ok(defined $r->{header}{'retry-after'}, '... with Retry-After');
my @ids = grep { $_ ne $ID1 } @{ redis_cmd('ZRANGE', $INDEX, 0, -1) };
is(scalar @ids, 1, 'the id stays in the caller\'s index');
my $ID2 = $ids[0] // '';
is(redis_cmd('HGET', record_key($ID2), 'status'), 'confirmed',
   'the booking was made on the primary');
is(redis_cmd('EXISTS', idem_key('k2')), 0, 'the claim on the key is released');
is(redis_cmd('HGET', $BOOKED, '600'), '2', 'two seats taken');

($r, $j) = book($BODY, 'k2');
is($r->{status}, 503, 'the same request again, still no replica: 503');
is($j->{error}{code}, 'replicas_timeout', '... replicas_timeout');
is(redis_cmd('EXISTS', idem_key('k2')), 0,
   '... and no answer kept under the key');
is(redis_cmd('HGET', $BOOKED, '600'), '2', 'still two seats taken');

($r, $j) = book($BODY, 'k3');
is($r->{status}, 409, 'a refusal without replicas is still the refusal (409)');
is($j->{error}{code}, 'no_capacity', '... no_capacity');
is(redis_cmd('EXISTS', idem_key('k3')), 0, '... its claim released');
is(redis_cmd('ZCARD', $INDEX), 2, '... and its id gone from the index');

# min-replicas-to-write: the primary itself refuses every write, and the
# module answers 503 at once, nothing written

is(redis_cmd('CONFIG', 'SET', 'min-replicas-to-write', '1'), 'OK',
   'min-replicas-to-write 1 on the primary');
($r, $j) = book($BODY, 'k5');
is($r->{status}, 503, 'a booking, the primary refusing writes: 503');
is($j->{error}{code}, 'redis_unavailable', '... redis_unavailable');
like($j->{error}{message} // '', qr/NOREPLICAS/, '... naming NOREPLICAS');
is(redis_cmd('EXISTS', idem_key('k5')), 0, '... no claim written');
is(redis_cmd('ZCARD', $INDEX), 2, '... no id in the index');
is(redis_cmd('HGET', $BOOKED, '600'), '2', '... no seat taken');
is(redis_cmd('CONFIG', 'SET', 'min-replicas-to-write', '0'), 'OK',
   'min-replicas-to-write 0 again');

# the replica back: the same request gets the 201, booked once

redis_replica_start();
ok(synced(), 'the replica is back, in sync');
($r, $j) = book($BODY, 'k2');
is($r->{status}, 201, 'the same request, sent again: 201');
is($j->{id}, $ID2, '... the same booking');
%rec = @{ redis_replica_cmd('HGETALL', record_key($ID2)) || [] };
is($rec{user}, 'ada', 'the replica has it, read right after the 201');
is(redis_cmd('HGET', $BOOKED, '600'), '2', 'booked once: two seats taken');
is(redis_cmd('ZCARD', $INDEX), 2, 'two bookings in the index');
my $first = $r->{body};
($r) = book($BODY, 'k2');
is($r->{status}, 201, 'a replay: 201');
is($r->{body}, $first, '... the same answer');

# book the nearest: the same rule (its attempt's script is followed by
# WAIT too), with the replica stopped (SIGSTOP), then continued

my ($F2, $T2) = (iso($day + 12 * 3600), iso($day + 13 * 3600));
my $NEAR = qq({"near":{"lat":50.46,"lon":4.86,"radius_km":5},"kind":"desk",)
    . qq("from":"$F2","to":"$T2"});
kill 'STOP', redis_replica_pid();
($r, $j) = book($NEAR, 'n1');
is($r->{status}, 503, 'book the nearest, the replica not answering: 503');
is($j->{error}{code}, 'replicas_timeout', '... replicas_timeout');
is(redis_cmd('EXISTS', idem_key('n1')), 0, '... the claim on the key released');
is(redis_cmd('HGET', $BOOKED, '720'), '1', '... booked on the primary');
kill 'CONT', redis_replica_pid();
ok(synced(), 'the replica answers again, in sync');
($r, $j) = book($NEAR, 'n1');
is($r->{status}, 201, 'the same request again: 201');
is($j->{spot}, 's1', '... at the one site near');
%rec = @{ redis_replica_cmd('HGETALL', record_key($j->{id} // '')) || [] };
is($rec{user}, 'ada', '... the replica has it, read right after the 201');
is(redis_cmd('HGET', $BOOKED, '720'), '1', '... booked once');

# --- 4. cancel: the replica stopped (SIGSTOP), then continued

kill 'STOP', redis_replica_pid();
($r, $j) = req('DELETE', "bookings/$ID1", undef, %ADA);
is($r->{status}, 503, 'cancel, the replica not answering: 503');
is($j->{error}{code}, 'replicas_timeout', '... replicas_timeout');
is(redis_cmd('HGET', record_key($ID1), 'status'), 'cancelled',
   'cancelled on the primary');
is(redis_cmd('HGET', $BOOKED, '600'), '1', 'its seat given back');
kill 'CONT', redis_replica_pid();

($r, $j) = req('DELETE', "bookings/$ID1", undef, %ADA);
is($r->{status}, 200, 'the same cancel again, the replica answering: 200');
is($j->{status}, 'cancelled', '... cancelled');
is(redis_replica_cmd('HGET', record_key($ID1), 'status'), 'cancelled',
   'the replica has it, read right after the 200');
is(redis_cmd('HGET', $BOOKED, '600'), '1', 'the seat was given back once');
is(free_over(), 1, 'availability shows one seat free');
($r, $j) = req('DELETE', "bookings/$ID1", undef, %ADA);
is($r->{status}, 200, 'and again: 200');
is($j->{status}, 'cancelled', '... cancelled');

like(error_log_text(), qr/0 of 1 replicas acknowledged a booking write within 500 ms/,
     'the short WAIT is logged');

is(join("\n", stop_env()), '', 'nginx clean');

# the control: without mobispot_redis_wait, a replica that is not in step
# (detached by REPLICAOF NO ONE) lacks a booking answered 201

start_env(http_config => "$REDIS\n    mobispot_admin loopback;",
          config => $API_LOCATION);
ok(synced(), 'the replica is in sync');
catalogue();
is(redis_replica_cmd('REPLICAOF', 'NO', 'ONE'), 'OK', 'the replica detached');
($r, $j) = book($BODY, 'k4');
is($r->{status}, 201, 'without mobispot_redis_wait: 201');
is(redis_replica_cmd('EXISTS', record_key($j->{id} // '')), 0,
   '... and the replica does not have it: the test can tell');

is(join("\n", stop_env()), '', 'nginx clean');

done_testing();
