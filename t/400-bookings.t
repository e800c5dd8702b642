# Bookings: POST bookings (desks and rooms, the window's rules, entitlement,
# idempotency keys), GET one and the caller's list, DELETE (cancel before
# the start), and the races: 200 clients for 3 seats, 50 replays of one key.
#
#   prove -I t/lib t/400-bookings.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use MobispotBookings;
use Digest::SHA qw(sha256_hex);
use POSIX qw(strftime floor);
use Time::HiRes qw(time sleep);

start_bookings(main_config => 'worker_processes 2;');

my %ADA = ('X-Test-User' => 'ada', 'X-Test-Pass' => 'cw-pass');
my %BOB = ('X-Test-User' => 'bob', 'X-Test-Pass' => 'cw-pass');

sub book {
    my ($body, $key, %who) = @_;
    %who = %ADA unless %who;
    return req('POST', 'bookings', $body, %who,
               defined $key ? ('Idempotency-Key' => $key) : ());
}

# a window tomorrow at 10:00 UTC, and one the day after
my $day = (floor(time / 86400) + 1) * 86400;
my ($F, $T) = (iso($day + 10 * 3600), iso($day + 11 * 3600));
my $BODY = qq({"spot":"s1","kind":"desk","from":"$F","to":"$T"});
my $date = strftime('%Y-%m-%d', gmtime($day));

is((req('PUT', 'admin/networks/cowallonia', $NET))[0]{status}, 201, 'network');
is((req('PUT', 'admin/networks/other', $NET2))[0]{status}, 201, 'network 2');
is((req('PUT', 'admin/sites/s1', site()))[0]{status}, 201, 'site s1');
is((req('PUT', 'admin/sites/s2', site(net => 'other')))[0]{status}, 201,
   'site s2, another network');
is((req('PUT', 'admin/sites/s3', site(hours => '{"mon":["08:00-09:00"]}')))[0]{status},
   201, 'site s3, open one hour on Mondays');
is(redis_cmd('HGET', 'ms:{site:s1}:info', 'rooms:meeting_room'), 'r1,r2',
   'the info hash lists the rooms of a kind');

# every caller has an account with a passport of the network (who may book
# is t/403's matter); the race's clients too
is(account($_), 201, "account $_") for qw(ada bob zed);
my @accounts = grep { account("u$_") != 201 } 1 .. 200;
is("@accounts", '', 'the race\'s 200 accounts');

# --- a booking
my ($r, $j) = book($BODY, 'k1');
is($r->{status}, 201, 'POST bookings: 201');
like($j->{id} // '', qr/^s1\.[0-9a-f]{24}$/, 'the id names the site');
is_deeply([@$j{qw(spot kind resource status)}], ['s1', 'desk', undef, 'confirmed'],
          'the booking as made');
is($j->{from}, iso($day + 10 * 3600) =~ s/Z$/+00:00/r, 'from, in UTC');
is($r->{header}{location}, "/api/v1/bookings/$j->{id}", 'Location names it');
my $ID = $j->{id};
my $first = $r->{body};
my $booked = "ms:{site:s1}:booked:desk:$date";
is_deeply(redis_cmd('HGETALL', $booked), ['600', '1', '630', '1'],
          'both slots of the window are taken');
ok(redis_cmd('TTL', $booked) > 86400 * 90, 'the counts expire 90 days on');
is(redis_cmd('ZSCORE', 'ms:{user:ada}:bookings', $ID), $day + 36000,
   'the caller\'s index holds it');

is(free_over('s1', $F, $T), 1, 'availability shows the seat taken');

# --- idempotency
($r) = book($BODY, 'k1');
is($r->{status}, 201, 'a replay: 201 again');
is($r->{body}, $first, 'the same body');
is($r->{header}{location}, "/api/v1/bookings/$ID", 'and Location');
is_deeply(redis_cmd('HGETALL', $booked), ['600', '1', '630', '1'], 'booked once');

($r, $j) = book($BODY =~ s/"s1"/"s2"/r, 'k1');
is($r->{status}, 422, 'the same key with another body (another site): 422');
is($j->{error}{code}, 'idempotency_key_reused', 'its code');
is(redis_cmd('ZCARD', 'ms:{user:ada}:bookings'), 1, 'the index unchanged');

my $idem = 'ms:{user:ada}:idem:' . sha256_hex("ada\nk1");
is(substr(redis_cmd('GET', $idem), 0, 36), 'D' . substr(sha256_hex($BODY), 0, 32) . '201',
   'the key keeps the first answer');
ok(redis_cmd('TTL', $idem) > 86000, 'for a day');

# the answer lost (nginx killed after the script): the retry finds the booking
redis_cmd('DEL', $idem);
($r) = book($BODY, 'k1');
is($r->{status}, 201, 'after a lost answer, the retry: 201');
is($r->{body}, $first, 'the same booking');
is_deeply(redis_cmd('HGETALL', $booked), ['600', '1', '630', '1'], 'never booked twice');

# the answer not kept yet (it is written after the 201, not waited for; or
# Redis died before it): the claim still "P", the record there, a retry
# gets the booking at once, not a 409
redis_cmd('SET', $idem, 'P' . substr(sha256_hex($BODY), 0, 32), 'PX', 30000);
($r) = book($BODY, 'k1');
is($r->{status}, 201, 'the claim in flight but the booking made: 201');
is($r->{body}, $first, 'the same booking');
is($r->{header}{location}, "/api/v1/bookings/$ID", 'and Location');
my $kept = '';
for (1 .. 50) {
    $kept = substr(redis_cmd('GET', $idem) // '', 0, 1);
    last if $kept eq 'D';
    select(undef, undef, undef, 0.1);
}
is($kept, 'D', '... and the answer is kept again after it');
is_deeply(redis_cmd('HGETALL', $booked), ['600', '1', '630', '1'], 'booked once');

# a request still in flight
my $idem2 = 'ms:{user:ada}:idem:' . sha256_hex("ada\nk2");
my $B2 = qq({"spot":"s1","kind":"desk","from":"$F","to":"$T","resource":null});
redis_cmd('SET', $idem2, 'P' . substr(sha256_hex($BODY), 0, 32), 'PX', 30000);
($r, $j) = book($BODY, 'k2');
is($r->{status}, 409, 'a key in flight: 409');
is($j->{error}{code}, 'request_in_flight', 'its code');
redis_cmd('DEL', $idem2);

# --- the last seat, then none
($r, $j) = book($BODY, 'k3', %BOB);
is($r->{status}, 201, 'bob takes the last seat');
my $BOBID = $j->{id};
my $size = redis_cmd('DBSIZE');
($r, $j) = book($BODY, 'k4');
is($r->{status}, 409, 'no seat left: 409');
is($j->{error}{code}, 'no_capacity', 'its code');
is_deeply($j->{error}{conflicts},
          [{from => iso($day + 36000) =~ s/Z/+00:00/r, to => iso($day + 37800) =~ s/Z/+00:00/r},
           {from => iso($day + 37800) =~ s/Z/+00:00/r, to => iso($day + 39600) =~ s/Z/+00:00/r}],
          'the conflicting slots are listed');
is(redis_cmd('DBSIZE'), $size, 'a refusal writes nothing');
my $k4 = 's1.' . substr(sha256_hex(sha256_hex("ada\nk4") . "\n"
                                   . substr(sha256_hex($BODY), 0, 32)), 0, 24);
is(redis_cmd('ZSCORE', 'ms:{user:ada}:bookings', $k4), undef, 'not even in the index');

# --- reads
($r, $j) = req('GET', "bookings/$ID", undef, %ADA);
is($r->{status}, 200, 'GET bookings/{id}');
is($r->{body}, $first, 'the booking');
($r, $j) = req('GET', "bookings/$ID", undef, %BOB);
is($r->{status}, 404, 'another caller\'s booking: 404');
($r) = req('GET', "bookings/nothing.0123", undef, %ADA);
is($r->{status}, 404, 'not an id: 404');
($r, $j) = req('GET', 'bookings', undef, %ADA);
is($r->{status}, 200, 'GET bookings');
is_deeply([map { $_->{id} } @{ $j->{bookings} }], [$ID], 'the caller\'s own');
ok(!exists $j->{next_offset}, 'one page');
redis_cmd('ZADD', 'ms:{user:ada}:bookings', $day, 's9.0123456789abcdef01234567');
($r, $j) = req('GET', 'bookings?limit=1', undef, %ADA);
is_deeply([map { $_->{id} } @{ $j->{bookings} }], [], 'an entry without its booking is not listed');
is($j->{next_offset}, 1, 'the page was full: next_offset');
($r, $j) = req('GET', 'bookings?limit=0', undef, %ADA);
is($r->{status}, 400, 'limit=0: 400');

# --- cancel
($r, $j) = req('DELETE', "bookings/$ID", undef, %BOB);
is($r->{status}, 404, 'cancel of another caller\'s booking: 404');
($r, $j) = req('DELETE', "bookings/$ID", undef, %ADA);
is($r->{status}, 200, 'cancel: 200');
is($j->{status}, 'cancelled', 'cancelled');
is_deeply(redis_cmd('HGETALL', $booked), ['600', '1', '630', '1'],
          'its seat is given back (bob\'s stays)');
is(free_over('s1', $F, $T), 1, 'availability shows it at once');
($r, $j) = req('DELETE', "bookings/$ID", undef, %ADA);
is($r->{status}, 200, 'cancel again: 200');
is_deeply(redis_cmd('HGETALL', $booked), ['600', '1', '630', '1'], 'given back once');
# a booking that has started
redis_cmd('HSET', "ms:{site:s1}:booking:$BOBID", 'from', int(time) - 60);
($r, $j) = req('DELETE', "bookings/$BOBID", undef, %BOB);
is($r->{status}, 409, 'cancel after the start: 409');
is($j->{error}{code}, 'already_started', 'its code');

# --- rooms
my $RB = qq({"spot":"s1","kind":"meeting_room","from":"$F","to":"$T"});
($r, $j) = book($RB, 'r-a');
is_deeply([$r->{status}, $j->{resource}], [201, 'r1'], 'a room picked: r1');
($r, $j) = book($RB, 'r-b');
is_deeply([$r->{status}, $j->{resource}], [201, 'r2'], 'the next: r2');
($r, $j) = book($RB, 'r-c');
is($r->{status}, 409, 'no room left: 409');
my ($F2, $T2) = (iso($day + 12 * 3600), iso($day + 13 * 3600));
($r, $j) = book(qq({"spot":"s1","kind":"meeting_room","resource":"r2","from":"$F2","to":"$T2"}), 'r-d');
is_deeply([$r->{status}, $j->{resource}], [201, 'r2'], 'the room asked for');
my $RD = $j->{id};
($r, $j) = book(qq({"spot":"s1","kind":"meeting_room","resource":"r2","from":"$F2","to":"$T2"}), 'r-e');
is($r->{status}, 409, 'that room again: 409');
is(redis_cmd('HGET', "ms:{site:s1}:rooms:meeting_room:$date", 'r2/720'),
   "ms:{site:s1}:booking:$RD", 'the room map names its booking');

# --- a Redis that lost the scripts (restart, flush): EVAL once
redis_cmd('SCRIPT', 'FLUSH');
($r) = book(qq({"spot":"s1","kind":"desk","from":"$F2","to":"$T2"}), 'after-flush');
is($r->{status}, 201, 'NOSCRIPT: sent again with EVAL, 201');

# --- refusals: each its status and code, and nothing written
$size = redis_cmd('DBSIZE');
my $past = iso(floor(time / 1800) * 1800 - 3600);
my $pastend = iso(floor(time / 1800) * 1800);
my @bad = (
    [401, 'unauthenticated', $BODY, 'x', 'X-Test-Pass' => 'cw-pass'],
    [400, 'idempotency_key_required', $BODY, undef],
    [400, 'invalid_idempotency_key', $BODY, "a\x01b"],
    [400, 'invalid_idempotency_key', $BODY, 'x' x 256],
    [400, 'malformed_json', '{"spot":', 'b1'],
    [400, 'invalid_field', qq({"spot":"s1","kind":"desk","from":"$F","to":"$T","x":1}), 'b2'],
    [400, 'invalid_field', qq({"spot":1,"kind":"desk","from":"$F","to":"$T"}), 'b3'],
    [422, 'invalid_value', qq({"spot":"s1","kind":"sofa","from":"$F","to":"$T"}), 'b4'],
    [422, 'invalid_value', qq({"spot":"s1","kind":"desk","from":"tomorrow","to":"$T"}), 'b5'],
    [422, 'window_empty', qq({"spot":"s1","kind":"desk","from":"$T","to":"$F"}), 'b6'],
    [422, 'window_too_long', qq({"spot":"s1","kind":"desk","from":"$F","to":") . iso($day + 2 * 86400) . '"}', 'b7'],
    [422, 'window_in_past', qq({"spot":"s1","kind":"desk","from":"$past","to":"$pastend"}), 'b8'],
    [422, 'window_not_on_slots', qq({"spot":"s1","kind":"desk","from":") . iso($day + 36600) . qq(","to":"$T"}), 'b9'],
    [422, 'outside_opening_hours', qq({"spot":"s3","kind":"desk","from":"$F","to":"$T"}), 'b10'],
    [422, 'unknown_spot', qq({"spot":"nowhere","kind":"desk","from":"$F","to":"$T"}), 'b11'],
    [422, 'kind_not_offered', qq({"spot":"s1","kind":"training_room","from":"$F","to":"$T"}), 'b12'],
    [422, 'unknown_resource', qq({"spot":"s1","kind":"meeting_room","resource":"r9","from":"$F","to":"$T"}), 'b13'],
    [422, 'invalid_value', qq({"spot":"s1","kind":"desk","resource":"r1","from":"$F","to":"$T"}), 'b14'],
    [403, 'not_entitled', qq({"spot":"s2","kind":"desk","from":"$F","to":"$T"}), 'b15'],
    [403, 'not_entitled', $BODY, 'b16', 'X-Test-User' => 'ada'],
);
for my $b (@bad) {
    my ($status, $code, $body, $key, %who) = @$b;
    %who = %ADA unless %who;
    ($r, $j) = book($body, $key, %who);
    is($r->{status}, $status, "refused: $code ($status)")
        or diag $r->{body};
    is($j->{error}{code} // '', $code, "  its code: $code") or diag $r->{body};
}
is(redis_cmd('DBSIZE'), $size, 'no refusal wrote anything');
($r) = req('PUT', 'bookings', $BODY, %ADA, 'Idempotency-Key' => 'm');
is($r->{status}, 405, 'PUT bookings: 405');

# --- races: 200 clients for 3 seats of one slot, each its own key
is((req('PUT', 'admin/sites/pool', site(resources => '[{"kind":"desk","capacity":3}]')))[0]{status},
   201, 'a desk pool of 3');
my ($PF, $PT) = (iso($day + 9 * 3600), iso($day + 9 * 3600 + 1800));
my $PB = qq({"spot":"pool","kind":"desk","from":"$PF","to":"$PT"});
my @res = post_at_once(map { raw_post($PB, "race-$_", "u$_") } 1 .. 200);
my %count;
$count{$_->[0]}++ for @res;
is($count{201} // 0, 3, '200 clients, 3 seats: exactly 3 × 201');
is($count{409} // 0, 197, 'and 197 × 409');
is(redis_cmd('HGET', "ms:{site:pool}:booked:desk:$date", '540'), 3,
   'the count says 3');
my @made = grep { @{ redis_cmd('KEYS', "ms:{site:pool}:booking:*") } } 1;
is(scalar @{ redis_cmd('KEYS', 'ms:{site:pool}:booking:*') }, 3,
   'and 3 booking records exist');
is(free_over('pool', $PF, $PT), 0, 'availability agrees: none free');

# 50 replays of one key at once: one booking
my ($QF, $QT) = (iso($day + 14 * 3600), iso($day + 14 * 3600 + 1800));
my $QB = qq({"spot":"pool","kind":"desk","from":"$QF","to":"$QT"});
@res = post_at_once(map { raw_post($QB, 'same', 'zed') } 1 .. 50);
%count = ();
$count{$_->[0]}++ for @res;
is(($count{201} // 0) + ($count{409} // 0), 50, '50 replays: each 201 or 409 (in flight)');
ok(($count{201} // 0) >= 1, 'at least one 201');
my %bodies = map { $_->[1] => 1 } grep { $_->[0] == 201 } @res;
is(scalar keys %bodies, 1, 'every 201 has the same body');
is(redis_cmd('HGET', "ms:{site:pool}:booked:desk:$date", '840'), 1,
   'exactly one booking');
is(redis_cmd('ZCARD', 'ms:{user:zed}:bookings'), 1, 'one index entry');

my @problems = stop_env();
is(join("\n", @problems), '', 'nginx clean');
done_testing();
