# The log variables: $mobispot_route, $mobispot_redis_time, $mobispot_cache
# (and $mobispot_cache_status), $mobispot_booking, $mobispot_error, in an
# access log line of each kind of request: a read answered from Redis then
# from the cache, a booking made and read, a refusal, a route that does not
# exist, a location without the module.
#
#   prove -I t/lib t/017-log-vars.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use MobispotBookings;
use POSIX qw(floor);
use Time::HiRes qw(time sleep);

Test::Mobispot::start_env(http_config => <<'CONF', config => <<'CONF2');
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    log_format vars '$request_uri|$status|route=$mobispot_route|'
                    'redis=$mobispot_redis_time|cache=$mobispot_cache|'
                    'cache_status=$mobispot_cache_status|'
                    'booking=$mobispot_booking|error=$mobispot_error';
    access_log logs/vars.log vars;
CONF
    location /api/v1/ {
        set $mobispot_sub $http_x_test_user;
        set $mobispot_pass $http_x_test_pass;
        mobispot_api;
    }
    location /plain { return 200 "plain\n"; }
CONF2

my $log = servroot() . '/logs/vars.log';
sub line_of {
    my ($uri) = @_;
    my $line;
    ok(wait_until(sub {
        open my $fh, '<', $log or return 0;
        my @l = grep { index($_, "$uri|") == 0 } <$fh>;
        close $fh;
        $line = $l[-1];
        defined $line;
    }, "the log line of $uri"), "logged: $uri");
    chomp $line if defined $line;
    return { map { split /=/, $_, 2 } grep { /=/ } split /\|/, $line // '' };
}

is((req('PUT', 'admin/networks/cowallonia', $NET))[0]{status}, 201, 'network');
is((req('PUT', 'admin/sites/s1', site()))[0]{status}, 201, 'site');
is(account('ada'), 201, 'account');

my $f = line_of('/api/v1/admin/sites/s1');
is($f->{route}, 'admin/sites/{}', 'a write: its route pattern, not its path');
like($f->{redis}, qr/^\d+\.\d{3}$/, 'the time waited on Redis, in ms');
is($f->{error}, '-', 'no error');
is($f->{booking}, '-', 'no booking');

# a read: a miss, then a hit once tracking is on
ok(wait_until(sub { (redis_cmd('CLIENT', 'LIST') // '') =~ /flags=t/ }, 'tracking'),
   'tracking is on');
req('GET', 'spots/s1') for 1 .. 2;
sleep 0.2;
req('GET', 'spots/s1?n=3');
$f = line_of('/api/v1/spots/s1?n=3');
is($f->{route}, 'spots/{}', 'a read: its route');
is($f->{cache}, 'HIT', 'answered from the cache: HIT');
is($f->{cache_status}, 'HIT', '$mobispot_cache_status says the same');
is($f->{redis}, '-', 'a hit waited on no Redis');

# a booking
my $day = (floor(time / 86400) + 1) * 86400;
my ($F, $T) = (iso($day + 10 * 3600), iso($day + 11 * 3600));
my %ADA = ('X-Test-User' => 'ada', 'X-Test-Pass' => 'cw-pass');
my ($r, $j) = req('POST', 'bookings?v=1', qq({"spot":"s1","kind":"desk","from":"$F","to":"$T"}),
                  %ADA, 'Idempotency-Key' => 'log-1');
is($r->{status}, 201, 'a booking made');
$f = line_of('/api/v1/bookings?v=1');
is($f->{route}, 'bookings', 'its route');
is($f->{booking}, $j->{id}, 'its id in $mobispot_booking');
like($f->{redis}, qr/^\d+\.\d{3}$/, 'the time waited on Redis');
req('GET', "bookings/$j->{id}", undef, %ADA);
$f = line_of("/api/v1/bookings/$j->{id}");
is($f->{route}, 'bookings/{}', 'a read of it: bookings/{}');
is($f->{booking}, $j->{id}, 'and its id');

# refusals: the code of the JSON error
req('GET', 'spots/nearby?lat=91&lon=0');
$f = line_of('/api/v1/spots/nearby?lat=91&lon=0');
like($f->{error}, qr/^invalid_/, 'a bad parameter: its error code');
is($f->{route}, 'spots/nearby', 'and its route');
req('GET', 'bookings/nope..x', undef, %ADA);
$f = line_of('/api/v1/bookings/nope..x');
is($f->{error}, 'not_found', 'a bad booking id: not_found');
is($f->{booking}, '-', 'an id that is not one is never logged');
req('GET', 'no/such/route');
$f = line_of('/api/v1/no/such/route');
is($f->{route}, '-', 'no route: empty');
is($f->{error}, 'not_found', 'not_found');
http_request('GET /plain');
$f = line_of('/plain');
is(join(',', @$f{qw(route redis cache booking error)}), '-,-,-,-,-',
   'a location without the module: all empty');

stop_env();
done_testing();
