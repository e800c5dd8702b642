package MobispotBookings;

# What the booking tests (t/4xx-bookings*.t) share: one API request under
# /api/v1/ with its decoded JSON answer, and the API's location, where
# "set" stands in for mobispot_sso (the caller and its passports come
# from the X-Test-User and X-Test-Pass headers).

use strict;
use warnings;

use Exporter 'import';
use Test::Mobispot ();
use Test::Mobispot::JSONDiff ();

our @EXPORT = qw(req $API_LOCATION);

our $API_LOCATION = <<'CONF';
    location /api/v1/ {
        # stands in for mobispot_sso: the caller and its passports
        set $mobispot_sub $http_x_test_user;
        set $mobispot_pass $http_x_test_pass;
        mobispot_api;
    }
CONF

# req(METHOD, 'bookings/ID', BODY or undef, HEADER => VALUE, ...): the
# response (as http_request() gives it) and its JSON body (undef if none)
sub req {
    my ($method, $uri, $body, %h) = @_;
    my @headers = map { [$_, $h{$_}] } sort keys %h;
    my $r = Test::Mobispot::http_request({
        method => $method, uri => "/api/v1/$uri", headers => \@headers,
        (defined $body ? (body => $body) : ()) });
    my $json = eval { Test::Mobispot::JSONDiff::json_decode($r->{body}) };
    return ($r, $json);
}

1;
