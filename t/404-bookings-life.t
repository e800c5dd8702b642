# A booking's life after it is made: holds and confirm, check-in and
# check-out (at the API and at the site's door), usage records, and the
# deadlines: a hold that runs out, a no-show, a booking closed at its end;
# each released once, also when nginx was down when it came.
#
#   prove -I t/lib t/404-bookings-life.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotBookings qw(req account $API_LOCATION);
use MobispotSSO;
use Test::More;
use POSIX qw(strftime floor);
use Time::HiRes qw(time sleep);

my $NET = '{"name":"CoWallonia","passport":{"id":"cw-pass",'
    . '"name":"CoWallonia pass","monthly_price_eur":250}}';
my $ALLDAY = join ',', map { "\"$_\":[\"00:00-24:00\"]" }
    qw(mon tue wed thu fri sat sun);
my $SITE = '{"name":"S","town":"T","address":"x","latitude":50.46,'
    . '"longitude":4.86,"time_zone":"UTC","networks":["cowallonia"],'
    . '"slot_minutes":30,"opening_hours":{' . $ALLDAY . '},'
    . '"resources":[{"kind":"desk","capacity":2},'
    . '{"kind":"meeting_room","id":"r1","name":"One","seats":6}]}';

my $SERVER = $API_LOCATION . <<'CONF';

    # the site's door: stands in for mobispot_sso with mobispot_site s1
    location = /door.html {
        set $mobispot_sub $http_x_test_user;
        set $mobispot_sso_site s1;
        mobispot_checkin on;
    }

    # the site's door behind the real SSO gateway
    location = /sso-door.html {
        mobispot_sso on;
        mobispot_site s1;
        mobispot_checkin on;
    }

    location = /other.html {
        set $mobispot_sub $http_x_test_user;
        set $mobispot_sso_site s1;
    }
CONF

sso_keys();

sub env {
    my (%t) = @_;
    my $keep = delete $t{keep};
    my $times = join "\n", map { "    mobispot_bookings_$_ $t{$_};" }
        sort keys %t;
    start_env(main_config => 'worker_processes 2;', redis => $keep ? 0 : 1,
              http_config => <<"CONF", config => $SERVER);
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_jwt_key \$TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience s1;
$times
CONF
}

my %ADA = ('X-Test-User' => 'ada', 'X-Test-Pass' => 'cw-pass');
my %BOB = ('X-Test-User' => 'bob', 'X-Test-Pass' => 'cw-pass');
my $n = 0;
my $SPOT = "s1";

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

sub book {
    my ($from, $to, %o) = @_;
    my $who = delete $o{who} // \%ADA;
    my $extra = join '', map { qq(,"$_":$o{$_}) } sort keys %o;
    my $kind = $o{kind} // '"desk"';
    my $body = qq({"spot":"$SPOT","kind":"desk","from":") . iso($from)
        . qq(","to":") . iso($to) . qq("$extra});
    $n++;
    return req('POST', 'bookings', $body, %$who, 'Idempotency-Key' => "k$n");
}

sub get { return req('GET', "bookings/$_[0]", undef, %{ $_[1] // \%ADA }) }
sub move { return req('POST', "bookings/$_[0]/$_[1]", '', %{ $_[2] // \%ADA }) }

# until the booking's status is $want (the deadlines run by themselves)
sub status_becomes {
    my ($id, $want) = @_;
    my $deadline = time + 30;
    my $j;
    while (time < $deadline) {
        (undef, $j) = get($id);
        return 1 if ($j->{status} // '') eq $want;
        sleep 0.2;
    }
    diag("status of $id: " . ($j->{status} // 'none'));
    return 0;
}

# how many PUBLISH Redis has run (its command statistics)
sub publishes {
    my $info = redis_cmd('INFO', 'commandstats');
    return $info =~ /^cmdstat_publish:calls=(\d+)/m ? $1 : 0;
}

sub free_now {
    my ($from, $to) = @_;
    my (undef, $j) = req('GET', "spots/$SPOT/availability?kind=desk&from="
                         . iso($from) . '&to=' . iso($to));
    my @f = map { $_->{free} } @{ $j->{slots} || [] };
    return @f ? (sort { $a <=> $b } @f)[0] : undef;
}

# the slot running now, and the next one: a window that has not ended
my $S0 = floor(time / 1800) * 1800;
my ($NOW_F, $NOW_T) = ($S0, $S0 + 3600);
my $day = (floor(time / 86400) + 2) * 86400;
my ($F, $T) = ($day + 10 * 3600, $day + 11 * 3600);

# ----------------------------------------------- phase A: long times ---

env(hold => '1h', no_show => '1h', grace => '15m');

is((req('PUT', 'admin/networks/cowallonia', $NET))[0]{status}, 201, 'network');
is((req('PUT', 'admin/sites/s1', $SITE))[0]{status}, 201, 'site s1');
is((req('PUT', 'admin/sites/s2', $SITE))[0]{status}, 201, 'site s2');
# who may book is t/403's matter: the callers have a passport of the network
is(account($_), 201, "account $_") for qw(ada bob cyd);

# --- a hold, confirmed
my ($r, $j) = book($F, $T, hold => 'true');
is($r->{status}, 201, 'a hold: 201');
is($j->{status}, 'held', 'status held');
ok($j->{hold_until}, 'with its hold_until');
my $H = $j->{id};
is(free_now($F, $T), 1, 'availability counts the hold as taken');

($r, $j) = move($H, 'checkin');
is($r->{status}, 409, 'a hold cannot be checked in');
is($j->{error}{code}, 'not_confirmed', 'not_confirmed');

($r, $j) = move($H, 'confirm', \%BOB);
is($r->{status}, 404, 'another caller cannot confirm it');

($r, $j) = move($H, 'confirm');
is($r->{status}, 200, 'confirm: 200');
is($j->{status}, 'confirmed', 'now confirmed');
ok(!exists $j->{hold_until}, 'no hold_until once confirmed');
($r, $j) = move($H, 'confirm');
is($r->{status}, 200, 'confirm again: 200, the same booking');
is($j->{status}, 'confirmed', 'still confirmed');
is(free_now($F, $T), 1, 'still one seat taken');

($r, $j) = book($F, $T, hold => '"yes"');
is($r->{status}, 400, 'hold must be a boolean');
is($j->{error}{field}, 'hold', 'naming the field');

# --- check-in and check-out rules
($r, $j) = move($H, 'checkin');
is($r->{status}, 409, 'a check-in two days ahead: 409');
is($j->{error}{code}, 'checkin_too_early', 'checkin_too_early');
($r, $j) = move($H, 'checkout');
is($r->{status}, 409, 'a check-out before the check-in: 409');
is($j->{error}{code}, 'not_checked_in', 'not_checked_in');

($r, $j) = book($NOW_F, $NOW_T);
is($r->{status}, 201, 'a booking of now');
my $B = $j->{id};
is(free_now($NOW_F, $NOW_T), 1, 'one seat taken now');

($r, $j) = move($B, 'checkin', \%BOB);
is($r->{status}, 404, 'another caller cannot check it in');
($r, $j) = move($B, 'checkin');
is($r->{status}, 200, 'check-in: 200');
is($j->{status}, 'checked_in', 'checked_in');
ok($j->{checked_in_at}, 'with checked_in_at');
($r, $j) = move($B, 'checkin');
is($r->{status}, 409, 'only once');
is($j->{error}{code}, 'already_checked_in', 'already_checked_in');
($r, $j) = req('DELETE', "bookings/$B", undef, %ADA);
is($r->{status}, 409, 'a started booking cannot be cancelled');

my $month = strftime('%Y-%m', gmtime(time));
is(redis_cmd('SISMEMBER', "ms:usage:sites:$month", 's1'), 1,
   'the check-in listed the site in the month\'s usage index');

($r, $j) = move($B, 'checkout');
is($r->{status}, 200, 'check-out: 200');
is($j->{status}, 'done', 'done');
ok($j->{checked_out_at}, 'with checked_out_at');
($r, $j) = move($B, 'checkout');
is($r->{status}, 409, 'only once');
is($j->{error}{code}, 'already_checked_out', 'already_checked_out');
($r, $j) = move($B, 'checkin');
is($r->{status}, 409, 'no check-in after the check-out');

my $usage = redis_cmd('XRANGE', "ms:{site:s1}:usage:$month", '-', '+');
is(scalar @$usage, 1, 'one usage record');
my %u = @{ $usage->[0][1] };
is($u{booking}, $B, 'of the booking');
is_deeply([@u{qw(site user company network kind end)}],
          ['s1', 'ada', '', 'cowallonia', 'desk', 'checkout'],
          'its fields (booked with a passport of cowallonia)');
ok($u{seconds} >= 0 && $u{seconds} <= $u{checkout} - $u{checkin},
   'seconds: the time between check-in and check-out');
is_deeply([map { $usage->[0][1][2 * $_] } 0 .. 12],
          [qw(booking site user company network kind resource from to
              checkin checkout seconds end)], 'in the documented order');
($r, $j) = req('GET', "usage?site=s1&month=$month");
is($r->{status}, 200, 'GET usage of the site and month');
is_deeply([map { $_->{booking} } @{ $j->{records} || [] }], [$B],
          'the usage route reads the record the check-out added');
is($j->{seconds}, $u{seconds}, 'and sums its seconds');
is(free_now(floor(time / 1800) * 1800 + 1800, $NOW_T), 2,
   'leaving gives the remaining slots back');

# --- the door
open my $fh, '>', html_dir() . '/door.html' or die;
print $fh "door\n";
close $fh;
open $fh, '>', html_dir() . '/other.html' or die;
print $fh "other\n";
close $fh;

($r, $j) = book($NOW_F, $NOW_T);
my $D = $j->{id};
($r, $j) = book($NOW_F, $NOW_T, who => \%BOB);
my $D2 = $j->{id};

$r = http_request({ uri => '/other.html', headers => [['X-Test-User', 'ada']] });
is($r->{status}, 200, 'a page without mobispot_checkin');
is((get($D))[1]{status}, 'confirmed', 'checks nothing in');

$r = http_request({ uri => '/door.html' });
is($r->{status}, 200, 'the door without a caller: served');
$r = http_request({ uri => '/door.html', headers => [['X-Test-User', 'ada']] });
is($r->{status}, 200, 'the door, signed in: served');
is($r->{body}, "door\n", 'the page itself');
is((get($D))[1]{status}, 'checked_in', 'the booking is checked in');
is((get($D2, \%BOB))[1]{status}, 'confirmed', 'another caller\'s is not');
$r = http_request({ uri => '/door.html', headers => [['X-Test-User', 'ada']] });
is($r->{status}, 200, 'the door again: served');
is((get($D))[1]{status}, 'checked_in', 'still checked in once');
$r = http_request({ uri => '/door.html', headers => [['X-Test-User', 'zed']] });
is($r->{status}, 200, 'a caller with no booking: served');

# the same behind the real gateway: the token's subject is the caller
is((move($D2, 'checkin', \%BOB))[0]{status}, 200, 'bob checks in');
is((move($D2, 'checkout', \%BOB))[0]{status}, 200, 'and leaves: a seat free');
my %CYD = ('X-Test-User' => 'cyd', 'X-Test-Pass' => 'cw-pass');
($r, $j) = book($NOW_F, $NOW_T, who => \%CYD);
is($r->{status}, 201, 'cyd books it');
my $C = $j->{id};
open $fh, '>', html_dir() . '/sso-door.html' or die;
print $fh "welcome\n";
close $fh;
my $cyd = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}',
              claims(sub => 'cyd', aud => 's1', pass => 'cw-pass'));
$r = http_request({ uri => '/sso-door.html' });
is($r->{status}, 401, 'the real door without a token: refused by mobispot_sso');
is((get($C, \%CYD))[1]{status}, 'confirmed', 'and nothing checked in');
$r = http_request({ uri => '/sso-door.html',
                    headers => [['Authorization', "Bearer $cyd"]] });
is($r->{status}, 200, 'the real door with the token: served');
is((get($C, \%CYD))[1]{status}, 'checked_in',
   'the subscriber signed in at the site is checked in');

# --- the end of a checked-in booking closes it (its end made the past)
my $rec = "ms:{site:s1}:booking:$D";
my $t0 = int(time);
redis_cmd('HSET', $rec, 'due_at', $t0 - 1);
redis_cmd('ZADD', 'ms:due', $t0 - 1, $D);
redis_cmd('PUBLISH', 'ms:due', $t0 - 1);
ok(status_becomes($D, 'done'), 'a checked-in booking is closed at its end');
$usage = redis_cmd('XRANGE', "ms:{site:s1}:usage:$month", '-', '+');
is(scalar @$usage, 3, 'with a usage record (after bob\'s)');
%u = @{ $usage->[-1][1] };
is_deeply([@u{qw(booking end checkout)}], [$D, 'booking_end', $NOW_T],
          'closed at the booking\'s end');
is(redis_cmd('ZSCORE', 'ms:due', $D), undef, 'its deadline is gone');

# --- cancel of a hold, and the states a cancel refuses
($r, $j) = book($F, $T, hold => 'true');
my $H2 = $j->{id};
($r, $j) = req('DELETE', "bookings/$H2", undef, %ADA);
is($r->{status}, 200, 'a hold can be cancelled');
is($j->{status}, 'cancelled', 'cancelled');
($r, $j) = move($H2, 'confirm');
is($r->{status}, 409, 'a cancelled hold cannot be confirmed');
is($j->{error}{code}, 'wrong_state', 'wrong_state');

for my $m (qw(confirm checkin checkout)) {
    ($r, $j) = move('s1.000000000000000000000000', $m);
    is($r->{status}, 404, "$m of no booking: 404");
    ($r) = req('GET', "bookings/$H2/$m", undef, %ADA);
    is($r->{status}, 405, "GET $m: 405");
}

stop_env();

# -------------------------------------- phase B: short hold, no-show ---

env(hold => '2s', no_show => '3s', grace => '15m', keep => 1);
$SPOT = "s2";

my $before = free_now($NOW_F, $NOW_T);
my $published = publishes();
($r, $j) = book($NOW_F, $NOW_T, hold => 'true');
is($r->{status}, 201, 'a short hold');
is(publishes() - $published, 1,
   'its deadline, within the horizon, is announced (PUBLISH ms:due)');
my $X = $j->{id};
is(free_now($NOW_F, $NOW_T), $before - 1, 'taken');
ok(status_becomes($X, 'expired'), 'the hold runs out by itself');
is(free_now($NOW_F, $NOW_T), $before, 'its seat is given back');
($r, $j) = move($X, 'confirm');
is($r->{status}, 409, 'too late to confirm');
is($j->{error}{code}, 'hold_expired', 'hold_expired');

($r, $j) = book($NOW_F, $NOW_T);
my $NS = $j->{id};
is(free_now($NOW_F, $NOW_T), $before - 1, 'a booking of now, not checked in');
ok(status_becomes($NS, 'no_show'), 'released as a no-show');
is(free_now(floor(time / 1800) * 1800, $NOW_T), $before,
   'its remaining slots are free');
($r, $j) = move($NS, 'checkin');
is($r->{status}, 409, 'no check-in after a no-show');
is($j->{error}{code}, 'no_show', 'no_show');

# nginx down when the deadline comes: released once it is back
($r, $j) = book($NOW_F, $NOW_T, hold => 'true');
my $Y = $j->{id};
stop_env();
sleep 3;
is(redis_cmd('HGET', "ms:{site:s2}:booking:$Y", 'status'), 'held',
   'nobody ran the deadline while nginx was down');
env(hold => '2s', no_show => '3s', grace => '15m', keep => 1);
ok(status_becomes($Y, 'expired'), 'released once nginx is back');
is(free_now($NOW_F, $NOW_T), $before, 'given back once, not twice');
my $counts = redis_cmd('HGETALL', "ms:{site:s2}:booked:desk:"
                       . strftime('%Y-%m-%d', gmtime($NOW_F)));
my %c = @$counts;
ok(!grep({ $_ < 0 } values %c), 'no count below zero');

# a gap in pub/sub: a deadline added while the bus was away is not lost
# (the data connection starts its tracking again too: a 503 meanwhile is
# sent again with the same key)
redis_cmd('CLIENT', 'KILL', 'TYPE', 'pubsub');
($r, $j) = book($NOW_F, $NOW_T, hold => 'true');
for (1 .. 25) {
    last if $r->{status} == 201;
    sleep 0.2;
    $n--;
    ($r, $j) = book($NOW_F, $NOW_T, hold => 'true');
}
is($r->{status}, 201, 'a hold made around the gap');
my $Z = $j->{id};
ok(status_becomes($Z, 'expired'), 'released after the bus reconnects');

stop_env();

# ------------------------- phase C: a deadline beyond the horizon ---
# not announced, yet found by the runner's read once per horizon: with no
# announcement and no later (re)subscription, that read alone finds it

env(hold => '5s', no_show => '5s', grace => '15m', horizon => '2s', keep => 1);
$published = publishes();
($r, $j) = book($NOW_F, $NOW_T, hold => 'true');
is($r->{status}, 201, 'a hold of 5 s, beyond a horizon of 2 s');
is(publishes() - $published, 0, 'its deadline is not announced');
my $W = $j->{id};
ok(status_becomes($W, 'expired'), 'the runner finds it all the same');
is(free_now($NOW_F, $NOW_T), $before, 'its seat is given back');

stop_env();

done_testing();
