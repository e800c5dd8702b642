package MobispotBookings;

# What the booking tests (t/4xx-bookings*.t) share: the API's location,
# where "set" stands in for mobispot_sso (the caller and its passports come
# from the X-Test-User and X-Test-Pass headers), a site body, the API's
# requests with their decoded JSON answers, the accounts, the availability
# of a window, and many requests sent at once.  They run against the nginx
# and Redis that Test::Mobispot's start_env() started.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use POSIX qw(strftime);
use Test::Mobispot ();
use Test::Mobispot::JSONDiff ();

our @EXPORT = qw($API_LOCATION $NET $NET2 start_bookings site req account
                 iso free_over post_at_once raw_post);

our $API_LOCATION = <<'CONF';
    location /api/v1/ {
        # stands in for mobispot_sso: the caller and its passports
        set $mobispot_sub $http_x_test_user;
        set $mobispot_pass $http_x_test_pass;
        mobispot_api;
    }
CONF

# the two networks, cowallonia (passport cw-pass) and other (other-pass)
our $NET = '{"name":"CoWallonia","passport":{"id":"cw-pass",'
    . '"name":"CoWallonia pass","monthly_price_eur":250}}';
our $NET2 = '{"name":"Other","passport":{"id":"other-pass",'
    . '"name":"Other pass","monthly_price_eur":100}}';

# nginx and Redis for the bookings, with $API_LOCATION
sub start_bookings {
    my (%o) = @_;
    return Test::Mobispot::start_env(%o, http_config => <<"CONF",
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
CONF
                                     config => $API_LOCATION);
}

my $ALLDAY = join ',', map { "\"$_\":[\"00:00-24:00\"]" }
    qw(mon tue wed thu fri sat sun);

# a site open all week, all day: options net (a network or an array ref),
# hours, resources, lat, lon, tz, zone
sub site {
    my (%o) = @_;
    my $hours = $o{hours} // "{$ALLDAY}";
    my @nets = ref $o{net} ? @{ $o{net} } : ($o{net} // 'cowallonia');
    my $res = $o{resources}
        // '[{"kind":"desk","capacity":2},'
        . '{"kind":"meeting_room","id":"r1","name":"One","seats":6},'
        . '{"kind":"meeting_room","id":"r2","name":"Two","seats":6}]';
    return '{"name":"S","town":"T","address":"x","latitude":'
        . ($o{lat} // 50.46) . ',"longitude":' . ($o{lon} // 4.86)
        . ',"time_zone":"' . ($o{tz} // 'UTC') . '","networks":['
        . join(',', map { "\"$_\"" } @nets) . '],'
        . (defined $o{zone} ? "\"zone\":\"$o{zone}\"," : '')
        . '"slot_minutes":30,"opening_hours":' . $hours . ','
        . '"resources":' . $res . '}';
}

# req(METHOD, 'bookings/ID', BODY or undef, HEADER => VALUE, ...): the
# response (as http_request() gives it) and its JSON body (undef if none)
sub req {
    my ($method, $uri, $body, %h) = @_;
    my @headers = map { [$_, $h{$_}] } sort keys %h;
    my $r = Test::Mobispot::http_request({ method => $method,
                                           uri => "/api/v1/$uri",
                                           headers => \@headers,
                                           (defined $body ? (body => $body) : ()) });
    my $json = eval { Test::Mobispot::JSONDiff::json_decode($r->{body}) };
    return ($r, $json);
}

# PUT admin/users/<id>: by default a passport of cowallonia for 2020-2099;
# the members given replace (raw JSON text), undef removes one
sub account {
    my ($id, %with) = @_;
    my %m = (name => '"U"', email => qq("$id\@example.org"),
             passports => '[{"network":"cowallonia","from":"2020-01-01",'
                          . '"to":"2099-12-31"}]',
             %with);
    my $body = '{' . join(',', map { "\"$_\":$m{$_}" }
                               grep { defined $m{$_} }
                               qw(name email passports company)) . '}';
    return (req('PUT', "admin/users/$id", $body))[0]{status};
}

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($_[0])) }

# the least free capacity over a window, as GET availability says it
sub free_over {
    my ($site, $from, $to, $kind) = @_;
    $kind //= 'desk';
    my (undef, $j) = req('GET', "spots/$site/availability?kind=$kind&from=$from&to=$to");
    my @f = map { $_->{free} } @{ $j->{slots} || [] };
    return @f ? (sort { $a <=> $b } @f)[0] : undef;
}

# every request written before any answer is read: [status, body] each
sub post_at_once {
    my (@reqs) = @_;
    my @socks;
    for my $q (@reqs) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => Test::Mobispot::server_port(),
                                      Proto => 'tcp')
            or die "connect: $!";
        push @socks, $s;
    }
    for my $i (0 .. $#reqs) {
        my $s = $socks[$i];
        print {$s} $reqs[$i];
    }
    my @out;
    for my $s (@socks) {
        local $/;
        $s->timeout(20);
        my $resp = <$s> // '';
        my ($st) = $resp =~ m{^HTTP/1\.\d (\d+)};
        my ($body) = $resp =~ /\r\n\r\n(.*)\z/s;
        push @out, [$st // 0, $body // ''];
        close $s;
    }
    return @out;
}

# a POST bookings as raw HTTP, by user, with the passport cw-pass
sub raw_post {
    my ($body, $key, $user) = @_;
    return "POST /api/v1/bookings HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\nX-Test-User: $user\r\nX-Test-Pass: cw-pass\r\n"
        . "Idempotency-Key: $key\r\nContent-Length: " . length($body)
        . "\r\n\r\n$body";
}

1;
