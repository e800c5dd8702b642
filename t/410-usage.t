# Usage and the monthly settlement on a scripted month (March 2026, 31
# days), seeded straight into Redis with the fields of the usage contract:
# the three views with exact figures, shares adding up to the cent, CSV
# parsed back, a stale index entry skipped, a closed month unchanged after
# an account change, paging, and every refusal.
#
#   prove -I t/lib t/410-usage.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use POSIX qw(strftime);

start_env(http_config => <<"CONF", config => <<'CONF2');
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
CONF
    location /api/v1/ {
        # stands in for mobispot_sso: the caller and its roles
        set $mobispot_sub $http_x_test_user;
        set $mobispot_roles $http_x_test_roles;
        mobispot_admin role=admin;
        mobispot_api;
    }
CONF2

sub req {
    my ($method, $uri, $body, %h) = @_;
    my @headers = map { [$_, $h{$_}] } sort keys %h;
    my $r = http_request({ method => $method, uri => "/api/v1/$uri",
                           headers => \@headers,
                           (defined $body ? (body => $body) : ()) });
    my $json = eval { Test::Mobispot::JSONDiff::json_decode($r->{body}) };
    return ($r, $json);
}

my %ADMIN = ('X-Test-User' => 'root', 'X-Test-Roles' => 'admin');
my %OLGA = ('X-Test-User' => 'olga');
sub admin { return req('GET', $_[0], undef, %ADMIN, @_[1 .. $#_]) }

# the error's code and the parameter or rule it names
sub refusal {
    my ($r, $j) = @_;
    my $e = $j->{error} // {};
    return join ' ', $r->{status}, $e->{code} // '-',
        $e->{parameter} // $e->{rule} // '-';
}

sub network {
    my ($price) = @_;
    return '{"name":"N","passport":{"id":"p","name":"P",'
        . "\"monthly_price_eur\":$price}}";
}

sub account {
    my ($passports, @operator) = @_;
    my $ops = join ',', map { "\"$_\"" } @operator;
    return '{"name":"U","email":"u@example.org","passports":['
        . join(',', map {
              my ($n, $f, $t) = split m{/};
              "{\"network\":\"$n\",\"from\":\"$f\",\"to\":\"$t\"}"
          } @$passports)
        . "],\"roles\":{\"admin\":false,\"site_operator\":[$ops]}}";
}

# one usage record, with the fields of the contract in its order
my $SEQ = 0;
sub usage {
    my ($month, $site, %f) = @_;
    my %r = (booking => "$site.b" . ++$SEQ, site => $site, user => 'ada',
             company => '', network => 'cowallonia', kind => 'desk',
             resource => '', from => 1772445600, to => 1772532000,
             checkin => 1772445600, checkout => 1772449200,
             end => 'checkout', %f);
    my $id = $f{id} // '*';
    delete $r{id};
    redis_cmd('XADD', "ms:{site:$site}:usage:$month", $id,
              map { ($_, $r{$_}) } qw(booking site user company network kind
                                     resource from to checkin checkout
                                     seconds end));
    redis_cmd('SADD', "ms:usage:sites:$month", $site);
}

# --- the catalogue and the accounts, through the admin API

is((req('PUT', 'admin/networks/cowallonia', network(250), %ADMIN))[0]{status},
   201, 'network cowallonia, 250 EUR');
is((req('PUT', 'admin/networks/swc', network(99.99), %ADMIN))[0]{status},
   201, 'network swc, 99.99 EUR');
is((req('PUT', 'admin/networks/odd', network('10.005'), %ADMIN))[0]{status},
   201, 'network odd, a price that is not whole cents');
for my $s (qw(site-a site-b site-c)) {
    redis_cmd('HSET', 'ms:sites', $s,
              '{"name":"S","town":"T","networks":["cowallonia"]}');
}

my %ACCOUNTS = (
    ada => account(['cowallonia/2026-01-01/2026-12-31']),     # 31 days
    bob => account(['cowallonia/2026-03-17/2026-12-31']),     # 15 days
    cyd => account(['cowallonia/2025-06-01/2026-05-31']),     # 31 days
    eve => account(['swc/2026-01-01/2026-12-31']),
    olga => account([], 'site-a'),
);
for my $u (sort keys %ACCOUNTS) {
    is((req('PUT', "admin/users/$u", $ACCOUNTS{$u} =~ s/u\@example/$u\@example/r,
            %ADMIN))[0]{status}, 201,
       "account $u");
}
# stale index entries: an account gone, an account without the passport
redis_cmd('HSET', 'ms:passports:cowallonia', 'dan', '2026-01-01/2026-12-31',
          'eve', '2026-01-01/2026-12-31');

# --- the scripted month: 10 h, 20 h and 3.5 h of cowallonia passports

usage('2026-03', 'site-a', id => '1772445600000-0', seconds => 7200);
usage('2026-03', 'site-a', id => '1772445600000-1', seconds => 28800,
      kind => 'meeting_room', resource => 'r1');
usage('2026-03', 'site-a', id => '1772532000000-0', seconds => 5400,
      kind => 'meeting_room', resource => 'r1', company => 'acme',
      network => '', user => 'zoe', end => 'booking_end');
usage('2026-03', 'site-b', seconds => 36000);
usage('2026-03', 'site-b', seconds => 36000, user => 'bob');
usage('2026-03', 'site-b', seconds => 3600, network => 'swc', user => 'eve');
usage('2026-03', 'site-c', seconds => 12600, user => 'cyd');
usage('2026-03', 'site-c', seconds => 1800, company => 'acme',
      network => '', user => 'zoe');
redis_cmd('SADD', 'ms:usage:sites:2026-03', 'site-d');  # listed, no entry

# --- usage?site=

my ($r, $j) = admin('usage?site=site-a&month=2026-03');
is($r->{status}, 200, 'usage of a site: 200');
is($r->{header}{'content-type'}, 'application/json', 'JSON');
is_deeply([@$j{qw(site month entries seconds hours)}],
          ['site-a', '2026-03', 3, 41400, 11.5], 'the month\'s sums');
ok($j->{closed}, 'a month ended long ago is closed');
like($r->{body}, qr/"seconds":41400,"hours":11.50,/,
     'hours with two decimals');
is_deeply($j->{kinds}{desk}, {entries => 1, seconds => 7200, hours => 2},
          'desk');
is_deeply($j->{kinds}{meeting_room},
          {entries => 2, seconds => 34200, hours => 9.5}, 'meeting rooms');
is($j->{kinds}{training_room}{seconds}, 0, 'every kind is there');
is_deeply([map { $_->{id} } @{ $j->{records} }],
          ['1772445600000-0', '1772445600000-1', '1772532000000-0'],
          'the records, in order');
is_deeply($j->{records}[2],
          {id => '1772532000000-0', booking => 'site-a.b3', site => 'site-a',
           user => 'zoe', company => 'acme', network => '',
           kind => 'meeting_room', resource => 'r1', from => 1772445600,
           to => 1772532000, checkin => 1772445600, checkout => 1772449200,
           seconds => 5400, end => 'booking_end'},
          'a record as the stream holds it');
is($j->{next}, undef, 'one page');

($r, $j) = admin('usage?site=site-a&month=2026-03&limit=2');
is_deeply([map { $_->{id} } @{ $j->{records} }],
          ['1772445600000-0', '1772445600000-1'], 'limit=2: two records');
is($j->{next}, '1772445600000-1', 'next names the last');
is($j->{seconds}, 41400, 'the sums are the whole month\'s');
($r, $j) = admin("usage?site=site-a&month=2026-03&limit=2&after=$j->{next}");
is_deeply([map { $_->{id} } @{ $j->{records} }], ['1772532000000-0'],
          'after: the next page');
is($j->{next}, undef, 'the last page');

($r, $j) = req('GET', 'usage?site=site-a&month=2026-03', undef, %OLGA);
is($r->{status}, 200, 'the site\'s operator reads it');
is($j->{seconds}, 41400, 'the same figures');

($r, $j) = admin('usage?site=site-z&month=2026-03');
is_deeply([$r->{status}, $j->{entries}, $j->{seconds}, scalar @{ $j->{records} }],
          [200, 0, 0, 0], 'a site without usage: zeros');

# a month of 2100 records: the sums read the stream in pages of 1000
redis_cmd('EVAL', 'for i = 1, 2100 do redis.call("XADD", KEYS[1], "*", '
          . '"booking", "b" .. i, "site", "site-p", "user", "ada", '
          . '"company", "", "network", "cowallonia", "kind", "desk", '
          . '"resource", "", "from", "1", "to", "2", "checkin", "1", '
          . '"checkout", "2", "seconds", "60", "end", "checkout") end', 1,
          'ms:{site:site-p}:usage:2026-02');
($r, $j) = admin('usage?site=site-p&month=2026-02&limit=1000');
is_deeply([@$j{qw(entries seconds hours)}], [2100, 126000, 35],
          '2100 records summed across three pages');
is(scalar @{ $j->{records} }, 1000, 'a page of 1000 records');
ok(defined $j->{next}, 'and a next page');

# --- usage?company=

($r, $j) = admin('usage?company=acme&month=2026-03');
is($r->{status}, 200, 'usage of a company: 200');
is_deeply([@$j{qw(company month entries seconds hours)}],
          ['acme', '2026-03', 2, 7200, 2], 'its month');
is_deeply($j->{kinds}{meeting_room}, {entries => 1, seconds => 5400, hours => 1.5},
          'by kind');
is_deeply([map { [$_->{site}, $_->{seconds}, $_->{hours}] } @{ $j->{sites} }],
          [['site-a', 5400, 1.5], ['site-c', 1800, 0.5]],
          'by site, only the sites it used');
is($j->{sites}[1]{kinds}{desk}{seconds}, 1800, 'and by site and kind');

# --- the settlement

my $EXPECT = {
    network => 'cowallonia', month => '2026-03', closed => \1,
    price_cents => 25000, days_in_month => 31, passports => 3,
    passport_days => 77, skipped_index_entries => 2,
    revenue_cents => 62097, allocated_cents => 62097, unallocated_cents => 0,
    seconds => 120600, hours => 33.5,
    sites => [
        {site => 'site-a', entries => 2, seconds => 36000, hours => 10,
         share_cents => 18536},
        {site => 'site-b', entries => 2, seconds => 72000, hours => 20,
         share_cents => 37073},
        {site => 'site-c', entries => 1, seconds => 12600, hours => 3.5,
         share_cents => 6488},
    ],
};
is(redis_cmd('EXISTS', 'ms:settlement:cowallonia:2026-03'), 0,
   'nothing stored yet');
($r, $j) = admin('settlement?network=cowallonia&month=2026-03');
is($r->{status}, 200, 'settlement: 200');
is(Test::Mobispot::JSONDiff::json_diff($EXPECT, $j, subset => 1), undef,
   '250 EUR x 77/31 days = 620.97 EUR, split 10 : 20 : 3.5 hours');
my $sum = 0;
$sum += $_->{share_cents} for @{ $j->{sites} };
is($sum, 62097, 'the shares add up to the revenue, to the cent');
like($j->{computed_at} // '', qr/^\d+$/, 'computed_at');
my $FIRST = $r->{body};
is(redis_cmd('GET', 'ms:settlement:cowallonia:2026-03'), $FIRST,
   'a closed month is stored as answered');

# CSV
($r) = admin('settlement?network=cowallonia&month=2026-03',
             Accept => 'application/xml;q=0.5, text/csv');
is($r->{status}, 200, 'CSV: 200');
like($r->{header}{'content-type'}, qr{^text/csv}, 'text/csv');
my @rows = map { [split /,/] } split /\r\n/, $r->{body};
is_deeply(\@rows, [[qw(site seconds hours share_cents)],
                   ['site-a', 36000, '10.00', 18536],
                   ['site-b', 72000, '20.00', 37073],
                   ['site-c', 12600, '3.50', 6488]],
          'a header, one row a site');
like($r->{body}, qr/\r\n\z/, 'every row ends with CRLF');
$sum = 0;
$sum += $_->[3] for @rows[1 .. $#rows];
is($sum, 62097, 'the CSV adds up too');

# the closed month after an account change: the same figures
is((req('PUT', 'admin/users/bob', account([]) =~ s/u\@example/bob\@example/r,
        %ADMIN))[0]{status}, 200,
   'bob loses his passport');
($r) = admin('settlement?network=cowallonia&month=2026-03');
is($r->{body}, $FIRST, 'a closed month answers its first figures');
redis_cmd('DEL', 'ms:settlement:cowallonia:2026-03');
($r, $j) = admin('settlement?network=cowallonia&month=2026-03');
is_deeply([@$j{qw(passports passport_days revenue_cents)}], [2, 62, 50000],
          'computed again (its key deleted), the change would count');

# no usage at all: nothing allocated
($r, $j) = admin('settlement?network=cowallonia&month=2026-01');
is_deeply([@$j{qw(revenue_cents allocated_cents unallocated_cents)}],
          [50000, 0, 50000], 'no usage: the revenue is not allocated');
is_deeply($j->{sites}, [], 'and no site');

# another network: its own passports and entries
($r, $j) = admin('settlement?network=swc&month=2026-03');
is_deeply([@$j{qw(revenue_cents passports)}, $j->{sites}],
          [9999, 1, [{site => 'site-b', entries => 1, seconds => 3600,
                      hours => 1, share_cents => 9999}]],
          'swc: 99.99 EUR, all to site-b');

# the open month: computed live, never stored
my $NOW = strftime('%Y-%m', gmtime);
usage($NOW, 'site-a', seconds => 3600);
($r, $j) = admin("settlement?network=cowallonia&month=$NOW");
is($r->{status}, 200, 'the current month: 200');
ok(!$j->{closed}, 'not closed');
is($j->{sites}[0]{share_cents}, $j->{revenue_cents}, 'one site takes it all');
is(redis_cmd('EXISTS', "ms:settlement:cowallonia:$NOW"), 0, 'not stored');

# --- refusals

my @cases = (
    # [what, method, uri, headers, expected "status code name"]
    ['no caller', 'usage?site=site-a&month=2026-03', {},
     '401 unauthenticated -'],
    ['an operator of another site', 'usage?site=site-b&month=2026-03', \%OLGA,
     '403 forbidden site_operator'],
    ['a caller without an account', 'usage?site=site-a&month=2026-03',
     {'X-Test-User' => 'zed'}, '403 forbidden site_operator'],
    ['a subject that is not a user id', 'usage?site=site-a&month=2026-03',
     {'X-Test-User' => 'a:b'}, '403 forbidden user_id'],
    ['a company for a non-admin', 'usage?company=acme&month=2026-03', \%OLGA,
     '403 forbidden -'],
    ['a settlement for a non-admin',
     'settlement?network=cowallonia&month=2026-03', \%OLGA,
     '403 forbidden -'],
    ['a settlement for a caller without roles',
     'settlement?network=cowallonia&month=2026-03', {},
     '403 forbidden -'],
    ['no month', 'usage?site=site-a', \%ADMIN, '400 missing_parameter month'],
    ['a one-digit month', 'usage?site=site-a&month=2026-3', \%ADMIN,
     '400 invalid_parameter month'],
    ['month 13', 'usage?site=site-a&month=2026-13', \%ADMIN,
     '400 invalid_parameter month'],
    ['a date', 'usage?site=site-a&month=2026-03-01', \%ADMIN,
     '400 invalid_parameter month'],
    ['a future month', 'usage?site=site-a&month=2099-01', \%ADMIN,
     '400 month_in_future month'],
    ['a future month, settlement', 'settlement?network=cowallonia&month=2099-01',
     \%ADMIN, '400 month_in_future month'],
    ['site and company', 'usage?site=site-a&company=acme&month=2026-03',
     \%ADMIN, '400 conflicting_parameters company'],
    ['neither site nor company', 'usage?month=2026-03', \%ADMIN,
     '400 missing_parameter site'],
    ['a bad site id', 'usage?site=Site%7Ba%7D&month=2026-03', \%ADMIN,
     '400 invalid_parameter site'],
    ['a bad company id', 'usage?company=ACME&month=2026-03', \%ADMIN,
     '400 invalid_parameter company'],
    ['limit 0', 'usage?site=site-a&month=2026-03&limit=0', \%ADMIN,
     '400 invalid_parameter limit'],
    ['limit 1001', 'usage?site=site-a&month=2026-03&limit=1001', \%ADMIN,
     '400 invalid_parameter limit'],
    ['a bad after', 'usage?site=site-a&month=2026-03&after=12-x', \%ADMIN,
     '400 invalid_parameter after'],
    ['an after past 64 bits',
     'usage?site=site-a&month=2026-03&after=18446744073709551616-0', \%ADMIN,
     '400 invalid_parameter after'],
    ['an after at the highest id',
     'usage?site=site-a&month=2026-03&after=18446744073709551615-18446744073709551615',
     \%ADMIN, '400 invalid_parameter after'],
    ['limit for a company', 'usage?company=acme&month=2026-03&limit=5',
     \%ADMIN, '400 invalid_parameter limit'],
    ['a month twice', 'usage?site=site-a&month=2026-03&month=2026-02',
     \%ADMIN, '400 duplicate_parameter month'],
    ['no network', 'settlement?month=2026-03', \%ADMIN,
     '400 missing_parameter network'],
    ['an unknown network', 'settlement?network=nope&month=2026-03', \%ADMIN,
     '404 unknown_network network'],
    ['a price that is not whole cents', 'settlement?network=odd&month=2026-03',
     \%ADMIN, '503 price_invalid -'],
);
for my $c (@cases) {
    my ($what, $uri, $h, $want) = @$c;
    is(refusal(req('GET', $uri, undef, %$h)), $want, "refused: $what");
}
is((req('POST', 'usage?site=site-a&month=2026-03', '{}', %ADMIN))[0]{status},
   405, 'POST usage: 405');
is(redis_cmd('EXISTS', 'ms:settlement:odd:2026-03')
   + redis_cmd('EXISTS', 'ms:settlement:nope:2026-03'),
   0, 'no refusal stored anything');

# a malformed record fails closed: no figures from it
usage('2026-04', 'site-x', seconds => -5);
($r, $j) = admin('usage?site=site-x&month=2026-04');
is(refusal($r, $j), '502 redis_error -', 'a malformed record: 502');
usage('2026-05', 'site-x', seconds => 10, site => 'site-y');
($r, $j) = admin('usage?site=site-x&month=2026-05');
is($r->{status}, 502, 'a record of another site in the stream: 502');

my @errors = grep { !/malformed usage record|unexpected redis reply to (a |XRANGE)|not a price in whole cents/ }
             grep { /\[error\]/ } split /\n/, error_log_text();
is(join("\n", @errors), '', 'no other error logged');
my @problems = stop_env();
is(join("\n", @problems), '', 'nginx clean');
done_testing();
