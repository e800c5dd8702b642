# Who may book: the caller's account (none: rule account), a passport of
# the site's network in the token and valid in the account on every local
# day of the window (else passport, passport_dates), a company account and
# its limits by zone and by network (company_limits), rooms for company
# accounts only (company_only), named and picked; what the record keeps
# (network or company) and what GET shows.  Every refusal writes nothing.
#
#   prove -I t/lib t/403-bookings-entitle.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use MobispotBookings;
use POSIX qw(strftime floor);
use JSON::PP ();

start_bookings();

my $n = 0;
sub book {
    my ($who, $body, $pass) = @_;
    $n++;
    return req('POST', 'bookings', $body, 'X-Test-User' => $who,
               'X-Test-Pass' => $pass // 'cw-pass other-pass',
               'Idempotency-Key' => "k$n");
}

# tomorrow (UTC) at 10:00, and that day's date
my $day = (floor(time / 86400) + 1) * 86400;
my ($F, $T) = (iso($day + 10 * 3600), iso($day + 11 * 3600));
my $D = strftime('%Y-%m-%d', gmtime($day));
my $TODAY = strftime('%Y-%m-%d', gmtime($day - 86400));
sub desk { qq({"spot":"$_[0]","kind":"desk","from":") . ($_[1] // $F)
           . '","to":"' . ($_[2] // $T) . '"}' }
sub room {
    my ($spot, $room, $from, $to) = @_;
    return qq({"spot":"$spot","kind":"meeting_room",)
        . (defined $room ? qq("resource":"$room",) : '')
        . '"from":"' . ($from // $F) . '","to":"' . ($to // $T) . '"}';
}

my $ROOMS = '[{"kind":"desk","capacity":5},'
    . '{"kind":"meeting_room","id":"r1","name":"One","seats":6,"company_only":true},'
    . '{"kind":"meeting_room","id":"r2","name":"Two","seats":6}]';
my $ONLY = '[{"kind":"desk","capacity":5},'
    . '{"kind":"meeting_room","id":"m1","name":"M","seats":6,"company_only":true}]';

is((req('PUT', 'admin/networks/cowallonia', $NET))[0]{status}, 201, 'network');
is((req('PUT', 'admin/networks/other', $NET2))[0]{status}, 201, 'network 2');
is((req('PUT', 'admin/sites/s1', site(zone => 'namur', resources => $ROOMS)))[0]{status},
   201, 's1: cowallonia, zone namur, r1 for companies');
is((req('PUT', 'admin/sites/s2', site(net => 'other', zone => 'liege',
                                          resources => '[{"kind":"desk","capacity":5}]')))[0]{status},
   201, 's2: other, zone liege');
is((req('PUT', 'admin/sites/s3', site(zone => 'mons', resources => $ONLY)))[0]{status},
   201, 's3: cowallonia, zone mons, its one room for companies');
is((req('PUT', 'admin/sites/sb', site(tz => 'Europe/Brussels')))[0]{status},
   201, 'sb: cowallonia, in Brussels time');

# --- the site's rooms for companies: the info, the document, the body
is(redis_cmd('HGET', 'ms:{site:s1}:info', 'company_rooms:meeting_room'), 'r1',
   'the info lists the rooms for companies');
is(redis_cmd('HGET', 'ms:{site:s1}:info', 'rooms:meeting_room'), 'r1,r2',
   'among all the rooms');
is(redis_cmd('HGET', 'ms:{site:sb}:info', 'company_rooms:meeting_room'), '',
   'none: empty');
my ($r, $j) = req('GET', 'spots/s1');
is_deeply([map { $_->{company_only} } grep { $_->{kind} eq 'meeting_room' } @{ $j->{resources} }],
          [JSON::PP::true(), undef], 'GET spots/{id}: company_only on that room only');
my $size = redis_cmd('DBSIZE');
($r, $j) = req('PUT', 'admin/sites/s9', site(resources =>
    '[{"kind":"meeting_room","id":"x","name":"X","seats":2,"company_only":1}]'));
is($r->{status}, 400, 'company_only not a boolean: 400');
is($j->{error}{field}, 'resources[0].company_only', 'naming it');
($r, $j) = req('PUT', 'admin/sites/s9', site(resources =>
    '[{"kind":"desk","capacity":2,"company_only":true}]'));
is($r->{status}, 400, 'company_only on a desk pool: 400');
is(redis_cmd('DBSIZE'), $size, 'nothing written');

# --- the accounts
my $CW = '[{"network":"cowallonia","from":"2020-01-01","to":"2099-12-31"}]';
is(account('ada'), 201, 'ada: a passport of cowallonia');
is(account('old', passports => qq([{"network":"cowallonia","from":"2020-01-01","to":"$TODAY"}])),
   201, 'old: a passport that ended today');
is(account('eve', passports => qq([{"network":"cowallonia","from":"2020-01-01","to":"$D"}])),
   201, 'eve: a passport that ends tomorrow');
is(account('two', passports => qq([{"network":"cowallonia","from":"2020-01-01","to":"$TODAY"},)
                               . qq({"network":"cowallonia","from":"$D","to":"2099-12-31"}])),
   201, 'two: two passports, the second from tomorrow');
is(account('acme1', passports => '[]', company => '{"id":"acme"}'), 201,
   'acme1: a company account, not limited');
is(account('zoned', passports => '[]', company => '{"id":"acme","zones":["namur"]}'), 201,
   'zoned: limited to the zone namur');
is(account('netted', passports => '[]', company => '{"id":"acme","networks":["other"]}'), 201,
   'netted: limited to the network other');
is(account('both', company => '{"id":"acme","zones":["liege"]}'), 201,
   'both: a passport and a company');

# --- refusals, each naming its rule, and nothing written
$size = redis_cmd('DBSIZE');
my @refused = (
    ['nobody', desk('s1'), 'account', 'no account'],
    ['ada', desk('s1'), 'passport', 'the token without the passport', ''],
    ['ada', desk('s2'), 'passport', 'a site of another network'],
    ['old', desk('s1'), 'passport_dates', 'the passport ended before the booking'],
    ['eve', desk('sb', iso($day + 23 * 3600), iso($day + 23 * 3600 + 1800)),
     'passport_dates', 'a window on the next local day at the site (Brussels)'],
    ['zoned', desk('s3'), 'company_limits', 'a company limited to another zone'],
    ['netted', desk('s1'), 'company_limits', 'a company limited to another network'],
    ['ada', room('s1', 'r1'), 'company_only', 'a room for companies, named'],
    ['ada', room('s3'), 'company_only', 'a site whose rooms are all for companies'],
    ['old', room('s3'), 'passport_dates', 'entitlement is decided before the room'],
);
for my $c (@refused) {
    my ($who, $body, $rule, $label, $pass) = @$c;
    ($r, $j) = book($who, $body, $pass);
    is($r->{status}, 403, "$label: 403") or diag $r->{body};
    is_deeply([$j->{error}{code}, $j->{error}{rule}], ['not_entitled', $rule],
              "  not_entitled, rule $rule");
}
is(redis_cmd('DBSIZE'), $size, 'no refusal wrote anything');

# --- entitled: by a passport, or as a company; what the record keeps
sub made {
    my ($who, $body, $label, $network, $company, $pass) = @_;
    my ($r, $j) = book($who, $body, $pass);
    is($r->{status}, 201, "$label: 201") or diag $r->{body};
    is_deeply([$j->{network}, $j->{company}], [$network, $company],
              '  its network and company');
    my $rec = "ms:{site:$j->{spot}}:booking:$j->{id}";
    is_deeply(redis_cmd('HMGET', $rec, 'network', 'company'),
              [$network // '', $company // ''], '  the record keeps them');
    return $j;
}
my $A = made('ada', desk('s1'), 'a passport of the network', 'cowallonia', undef);
($r, $j) = req('GET', "bookings/$A->{id}", undef, 'X-Test-User' => 'ada');
is_deeply([$j->{network}, $j->{company}], ['cowallonia', undef],
          'GET bookings/{id} shows them');
($r, $j) = req('GET', 'bookings', undef, 'X-Test-User' => 'ada');
is($j->{bookings}[0]{network}, 'cowallonia', 'and the list');
made('eve', desk('sb', iso($day + 21 * 3600), iso($day + 21 * 3600 + 1800)),
     'the last day of a passport, in the site\'s time', 'cowallonia', undef);
made('eve', desk('s1', iso($day + 23 * 3600), iso($day + 23 * 3600 + 1800)),
     'the same instant at a UTC site: still that day', 'cowallonia', undef);
made('two', desk('s1', iso($day - 3600), iso($day + 1800)),
     'a window across the junction of two passports', 'cowallonia', undef)
    if $day - 3600 > time + 1800;
made('acme1', desk('s2'), 'a company not limited, any network', undef, 'acme');
made('zoned', desk('s1'), 'a company limited to the site\'s zone', undef, 'acme');
made('netted', desk('s2'), 'a company limited to the site\'s network', undef, 'acme');
made('acme1', desk('s1'), 'a company, without passports in the token', undef, 'acme', '');
made('both', desk('s1'), 'a passport first, then the company', 'cowallonia', undef);
made('both', desk('s2'), 'the company where the passport does not reach', undef, 'acme');

# --- rooms for companies: named, picked, skipped
my ($F2, $T2) = (iso($day + 14 * 3600), iso($day + 15 * 3600));
$j = made('acme1', room('s1', 'r1', $F2, $T2), 'a company books the room for companies',
          undef, 'acme');
is($j->{resource}, 'r1', '  r1');
$j = made('ada', room('s1', undef, $F2, $T2), 'a subscriber gets a room picked',
          'cowallonia', undef);
is($j->{resource}, 'r2', '  r2, never r1');
my ($F3, $T3) = (iso($day + 16 * 3600), iso($day + 17 * 3600));
$j = made('ada', room('s1', undef, $F3, $T3), 'r1 free, r2 free: the subscriber',
          'cowallonia', undef);
is($j->{resource}, 'r2', '  still gets r2');
$size = redis_cmd('DBSIZE');
($r, $j) = book('ada', room('s1', undef, $F3, $T3));
is($r->{status}, 409, 'r2 taken, r1 free but for companies: 409');
is($j->{error}{code}, 'no_capacity', '  no_capacity');
is(redis_cmd('DBSIZE'), $size, '  nothing written');
$j = made('acme1', room('s1', undef, $F3, $T3), 'a company gets the room left',
          undef, 'acme');
is($j->{resource}, 'r1', '  r1');
$j = made('acme1', room('s3'), 'a company, on a site of company rooms only', undef, 'acme');
is($j->{resource}, 'm1', '  m1');

# --- the networks' passports come from the worker's cache, and a change
# of a network's passport reaches the next booking at once
sub hgetalls {
    my $info = redis_cmd('INFO', 'commandstats');
    return $info =~ /^cmdstat_hgetall:calls=(\d+)/m ? $1 : 0;
}
my ($F4, $T4) = (iso($day + 18 * 3600), iso($day + 19 * 3600));
made('ada', desk('s1', $F4, $T4), 'a booking: the passports read (or cached)',
     'cowallonia', undef);
my $asked = hgetalls();
made('ada', desk('s1', $F4, $T4), 'another: the passports from the cache',
     'cowallonia', undef);
is(hgetalls() - $asked, 0, '  no HGETALL of ms:{networks}:passport');
(my $NEW = $NET) =~ s/"cw-pass"/"cw-pass-2026"/;
is((req('PUT', 'admin/networks/cowallonia', $NEW))[0]{status}, 200,
   'the network\'s passport is now cw-pass-2026');
$size = redis_cmd('DBSIZE');
($r, $j) = book('ada', desk('s1', $F4, $T4));
is($r->{status}, 403, 'a token with the old passport: 403 at once');
is($j->{error}{rule}, 'passport', '  rule passport');
is(redis_cmd('DBSIZE'), $size, '  nothing written');
made('ada', desk('s1', $F4, $T4), 'a token with the new one books',
     'cowallonia', undef, 'cw-pass-2026');

my @problems = stop_env();
is(join("\n", @problems), '', 'nginx clean');
done_testing();
