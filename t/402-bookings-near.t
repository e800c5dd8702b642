# Book the nearest: "near" instead of "spot".  The nearest free site is
# booked; a full one, one the caller is not entitled to, one without the
# kind and one closed over the window are skipped; 409 naming the sites
# tried and skipped when none is free; a replay, and a retry after a lost
# answer even once the candidates changed, name the first booking; bad
# bodies; and the race: 100 clients, 5 sites of 2 desks, exactly 10 × 201.
#
#   prove -I t/lib t/402-bookings-near.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use MobispotBookings;
use Digest::SHA qw(sha256_hex);
use POSIX qw(floor);

start_bookings(main_config => 'worker_processes 2;');

sub book {
    my ($who, $body, $key) = @_;
    return req('POST', 'bookings', $body, 'X-Test-User' => $who,
               'X-Test-Pass' => 'cw-pass', 'Idempotency-Key' => $key);
}

my $day = (floor(time / 86400) + 1) * 86400;
my ($F, $T) = (iso($day + 10 * 3600), iso($day + 11 * 3600));
sub near {
    my ($lat, $lon, $radius, %o) = @_;
    return qq({"near":{"lat":$lat,"lon":$lon,"radius_km":$radius},)
        . '"kind":"' . ($o{kind} // 'desk') . '","from":"' . ($o{from} // $F)
        . '","to":"' . ($o{to} // $T) . '"}';
}
my $NEAR = near(50.0, 4.0, 20);
sub desks { '[{"kind":"desk","capacity":' . $_[0] . '}]' }

is((req('PUT', 'admin/networks/cowallonia', $NET))[0]{status}, 201, 'network');
is((req('PUT', 'admin/networks/other', $NET2))[0]{status}, 201, 'network 2');

# six sites north of (50, 4), 1.1 km apart, nearest first
my %SITES = (
    n1 => [site(lat => 50.01, lon => 4.0, resources => desks(1)), 'one desk'],
    n2 => [site(lat => 50.02, lon => 4.0, resources => desks(1)), 'one desk'],
    n3 => [site(lat => 50.03, lon => 4.0, net => 'other', resources => desks(9)),
           'another network'],
    n4 => [site(lat => 50.04, lon => 4.0, resources =>
                '[{"kind":"meeting_room","id":"m","name":"M","seats":4}]'), 'no desk'],
    n5 => [site(lat => 50.05, lon => 4.0, hours => '{"mon":["08:00-09:00"]}',
                resources => desks(9)), 'closed then'],
    n6 => [site(lat => 50.06, lon => 4.0, resources => desks(2)), 'two desks'],
);
for my $id (sort keys %SITES) {
    is((req('PUT', "admin/sites/$id", $SITES{$id}[0]))[0]{status}, 201,
       "site $id: $SITES{$id}[1]");
}
is(account($_), 201, "account $_") for qw(ada bob carl dave eve);

# --- the nearest, then the next when it is full
my ($r, $j) = book('ada', $NEAR, 'a1');
is($r->{status}, 201, 'near: 201') or diag $r->{body};
is($j->{spot}, 'n1', 'the nearest site');
like($j->{id}, qr/^n1\.[0-9a-f]{24}$/, 'the id names it');
is($r->{header}{location}, "/api/v1/bookings/$j->{id}", 'Location');
is($j->{network}, 'cowallonia', 'entitled by the passport');
is_deeply(redis_cmd('ZRANGE', 'ms:{user:ada}:bookings', 0, -1), [$j->{id}],
          'the caller\'s index holds it, and nothing else');

($r, $j) = book('bob', $NEAR, 'b1');
is_deeply([$r->{status}, $j->{spot}], [201, 'n2'], 'the nearest is full: the next one');
is_deeply(redis_cmd('ZRANGE', 'ms:{user:bob}:bookings', 0, -1), [$j->{id}],
          'the attempt at the full site left no index entry');
my @due = grep { /^n[12]\.\Q${\ substr($j->{id}, 3)}\E$/ } @{ redis_cmd('ZRANGE', 'ms:due', 0, -1) };
is_deeply(\@due, [$j->{id}], 'nor a deadline: only the booking made has one');

($r, $j) = book('carl', $NEAR, 'c1');
is_deeply([$r->{status}, $j->{spot}], [201, 'n6'],
          'full, not entitled, no desk, closed: skipped, n6 booked') or diag $r->{body};
my $CARL = $r->{body};
my $CID = $j->{id};
# one key at a time: they are in five hash slots (TEST_NGINX_REDIS_SLOTS)
is(join('', map { redis_cmd('EXISTS', "ms:{site:$_}:booking:" . ($CID =~ s/^n6/$_/r)) }
                qw(n1 n2 n3 n4 n5)),
   '00000', 'no record at the sites before it');

# --- a replay, and the same key with another body
($r) = book('carl', $NEAR, 'c1');
is_deeply([$r->{status}, $r->{body}, $r->{header}{location}], [201, $CARL, "/api/v1/bookings/$CID"],
          'a replay: the first answer, its Location');
($r, $j) = book('carl', near(50.0, 4.0, 21), 'c1');
is_deeply([$r->{status}, $j->{error}{code}], [422, 'idempotency_key_reused'],
          'the same key, another body: 422');

# --- none free: 409 with the sites tried and skipped, nothing written
($r, $j) = book('dave', $NEAR, 'd1');
is_deeply([$r->{status}, $j->{spot}], [201, 'n6'], 'the last desk of n6');
my $size = redis_cmd('DBSIZE');
my $deadlines = redis_cmd('ZCARD', 'ms:due');
($r, $j) = book('eve', $NEAR, 'e1');
is($r->{status}, 409, 'none free: 409') or diag $r->{body};
is($j->{error}{code}, 'no_capacity', 'no_capacity');
is_deeply($j->{error}{tried}, [qw(n1 n2 n6)], 'the sites tried, nearest first');
is_deeply($j->{error}{skipped},
          [{spot => 'n3', rule => 'passport'}, {spot => 'n4', rule => 'kind_not_offered'},
           {spot => 'n5', rule => 'outside_opening_hours'}],
          'the sites skipped, and why');
is(redis_cmd('DBSIZE'), $size, 'nothing written (no index entry, no key)');
is(redis_cmd('ZCARD', 'ms:due'), $deadlines, 'and no deadline left behind');
($r, $j) = book('eve', near(10.0, 10.0, 50), 'e2');
is_deeply([$r->{status}, $j->{error}{tried}, $j->{error}{skipped}], [409, [], []],
          'no site in the radius: 409');
($r, $j) = book('eve', near(50.0, 4.0, 20, kind => 'training_room'), 'e3');
is($r->{status}, 409, 'no site with the kind: 409');
is(scalar @{ $j->{error}{skipped} }, 6, 'every one skipped');
($r, $j) = book('nobody', $NEAR, 'x1');
is_deeply([$r->{status}, $j->{error}{rule}], [403, 'account'], 'no account: 403, rule account');
is(redis_cmd('DBSIZE'), $size, 'still nothing written');

# --- a lost answer (nginx killed after the script): the retry names the
# first booking, even once the candidates changed
my $idem = 'ms:{user:carl}:idem:' . sha256_hex("carl\nc1");
ok(redis_cmd('EXISTS', $idem), 'carl\'s key keeps its answer');
redis_cmd('DEL', $idem);
is((req('PUT', 'admin/sites/n0', site(lat => 50.0, lon => 4.0, resources => desks(5))))[0]{status},
   201, 'a free site nearer than all');
($r) = book('carl', $NEAR, 'c1');
is_deeply([$r->{status}, $r->{body}], [201, $CARL], 'the retry: the booking at n6 again');
is_deeply(redis_cmd('KEYS', 'ms:{site:n0}:booking:*'), [], 'nothing booked at n0');
redis_cmd('DEL', $idem);
is((req('PUT', 'admin/sites/n6', site(lat => 51.0, lon => 4.0, resources => desks(2))))[0]{status},
   200, 'n6 moved out of the radius');
($r) = book('carl', $NEAR, 'c1');
is_deeply([$r->{status}, $r->{body}], [201, $CARL],
          'the retry: still n6, found through the caller\'s index');
is_deeply(redis_cmd('KEYS', 'ms:{site:n0}:booking:*'), [], 'still nothing at n0');
is_deeply(redis_cmd('ZRANGE', 'ms:{user:carl}:bookings', 0, -1), [$CID], 'one index entry');

# an earlier try that died after its attempt at a full site: its entry
# leaves the index at the retry
redis_cmd('ZADD', 'ms:{user:eve}:bookings', $day + 36000,
          'n2.' . substr(sha256_hex(sha256_hex("eve\ne9") . "\n"
                                    . substr(sha256_hex($NEAR), 0, 32)), 0, 24));
($r, $j) = book('eve', $NEAR, 'e9');
is_deeply([$r->{status}, $j->{spot}], [201, 'n0'], 'eve gets n0');
is_deeply(redis_cmd('ZRANGE', 'ms:{user:eve}:bookings', 0, -1), [$j->{id}],
          'the earlier try\'s entry is gone');

# --- a hold of the nearest
my ($HF, $HT) = (iso($day + 15 * 3600), iso($day + 16 * 3600));
($r, $j) = book('dave', near(50.0, 4.0, 20, from => $HF, to => $HT) =~ s/\}$/,"hold":true}/r, 'h1');
is_deeply([$r->{status}, $j->{spot}, $j->{status}], [201, 'n0', 'held'],
          'with "hold": true, the nearest is held') or diag $r->{body};
ok(defined redis_cmd('ZSCORE', 'ms:due', $j->{id}), 'its deadline is queued');

# --- bodies
$size = redis_cmd('DBSIZE');
my @bad = (
    [422, 'near', qq({"spot":"n1","near":{"lat":50,"lon":4},"kind":"desk","from":"$F","to":"$T"})],
    [422, 'resource', qq({"near":{"lat":50,"lon":4},"kind":"meeting_room","resource":"m","from":"$F","to":"$T"})],
    [400, 'near', qq({"near":[50,4],"kind":"desk","from":"$F","to":"$T"})],
    [400, 'near', qq({"near":null,"kind":"desk","from":"$F","to":"$T"})],
    [400, 'near.lat', qq({"near":{"lon":4},"kind":"desk","from":"$F","to":"$T"})],
    [400, 'near.lat', qq({"near":{"lat":"50","lon":4},"kind":"desk","from":"$F","to":"$T"})],
    [422, 'near.lat', near(85.1, 4, 1)],
    [422, 'near.lon', near(50, 180.5, 1)],
    [422, 'near.radius_km', near(50, 4, 0)],
    [422, 'near.radius_km', near(50, 4, 500.01)],
    [400, 'near.x', qq({"near":{"lat":50,"lon":4,"x":1},"kind":"desk","from":"$F","to":"$T"})],
    [400, 'spot', qq({"kind":"desk","from":"$F","to":"$T"})],
    [422, 'kind', near(50, 4, 1, kind => 'sofa')],
);
my $k = 0;
for my $b (@bad) {
    my ($status, $field, $body) = @$b;
    ($r, $j) = book('ada', $body, 'bad' . $k++);
    is_deeply([$r->{status}, $j->{error}{field}], [$status, $field], "$status naming $field")
        or diag $r->{body};
}
($r, $j) = book('ada', qq({"near":{"lat":50,"lon":4},"kind":"desk","from":"$F","to":"$F"}), 'bad-w');
is_deeply([$r->{status}, $j->{error}{rule}], [422, 'window_empty'], 'the window\'s rules: 422');
is(redis_cmd('DBSIZE'), $size, 'no bad body wrote anything');

# --- the race: 100 clients at once, 5 sites of 2 desks, each its own key
my @P = map { "p$_" } 1 .. 5;
for my $i (0 .. 4) {
    is((req('PUT', "admin/sites/$P[$i]",
            site(lat => 40.0, lon => 10.0 + 0.01 * $i, resources => desks(2))))[0]{status},
       201, "race site $P[$i]");
}
my @accounts = grep { account("w$_") != 201 } 1 .. 100;
is("@accounts", '', '100 accounts');
my ($RF, $RT) = (iso($day + 12 * 3600), iso($day + 12 * 3600 + 1800));
my $RACE = near(40.0, 10.0, 5, from => $RF, to => $RT);
$deadlines = redis_cmd('ZCARD', 'ms:due');
my @res = post_at_once(map { raw_post($RACE, "race-$_", "w$_") } 1 .. 100);
my (%count, %at);
$count{$_->[0]}++ for @res;
for (grep { $_->[0] == 201 } @res) {
    my $b = Test::Mobispot::JSONDiff::json_decode($_->[1]);
    $at{$b->{spot}}++;
}
is($count{201} // 0, 10, '100 clients, 5 sites of 2 desks: exactly 10 × 201');
is($count{409} // 0, 90, 'and 90 × 409');
is_deeply(\%at, { map { $_ => 2 } @P }, 'two at each site');
my $date = POSIX::strftime('%Y-%m-%d', gmtime($day));
is_deeply([map { redis_cmd('HGET', "ms:{site:$_}:booked:desk:$date", 720) } @P],
          [(2) x 5], 'each site\'s count says 2');
is_deeply([map { scalar @{ redis_cmd('KEYS', "ms:{site:$_}:booking:*") } } @P],
          [(2) x 5], 'and 2 records each');
is_deeply([map { free_over($_, $RF, $RT) } @P], [(0) x 5], 'availability agrees: none free');
my $entries = 0;
$entries += redis_cmd('ZCARD', "ms:{user:w$_}:bookings") for 1 .. 100;
is($entries, 10, 'the callers\' indexes hold the 10 bookings and nothing else');
is(redis_cmd('ZCARD', 'ms:due') - $deadlines, 10, 'and the deadlines\' queue the 10');

my @problems = stop_env();
is(join("\n", @problems), '', 'nginx clean');
done_testing();
