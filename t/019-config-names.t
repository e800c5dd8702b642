# nginx -t names the directive and its reason for every bad value: one bad
# value (or more) of each directive that takes a value, each refusal's
# line checked for the directive's name in quotes.  A family's own rules
# (what a value must be) are tested with their families (t/001, t/102,
# t/510, t/520, ...); this file holds every family to the same form.
#
#   prove -I t/lib t/019-config-names.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;

my $R = 'mobispot_redis 127.0.0.1:6379;';

# [directive, where (http | loc), the bad line, what else the http block needs]
my @cases = (
    ['mobispot_redis', 'http', 'mobispot_redis 127.0.0.1:99999;', ''],
    ['mobispot_redis', 'http', 'mobispot_redis 127.0.0.1 db=x;', ''],
    ['mobispot_redis', 'http', 'mobispot_redis 127.0.0.1 colour=red;', ''],
    ['mobispot_redis_timeout', 'http', 'mobispot_redis_timeout soon;', $R],
    ['mobispot_redis_connect_timeout', 'http', 'mobispot_redis_connect_timeout 0;', $R],
    ['mobispot_redis_max_pending', 'http', 'mobispot_redis_max_pending lots;', $R],
    ['mobispot_redis_heartbeat', 'http', 'mobispot_redis_heartbeat often;', $R],
    ['mobispot_redis_wait', 'http', 'mobispot_redis_wait some;', $R],
    ['mobispot_api_cache', 'http', 'mobispot_api_cache maybe;', $R],
    ['mobispot_api_max_body', 'loc', 'mobispot_api; mobispot_api_max_body huge;', $R],
    ['mobispot_api_retry_after', 'loc', 'mobispot_api; mobispot_api_retry_after later;', $R],
    ['mobispot_admin', 'loc', 'mobispot_api; mobispot_admin everyone;', $R],
    ['mobispot_time_zones', 'http', 'mobispot_time_zones /no/such/dir;', $R],
    ['mobispot_bookings_hold', 'http', 'mobispot_bookings_hold forever;', $R],
    ['mobispot_bookings_no_show', 'http', 'mobispot_bookings_no_show never;', $R],
    ['mobispot_bookings_grace', 'http', 'mobispot_bookings_grace x;', $R],
    ['mobispot_bookings_horizon', 'http', 'mobispot_bookings_horizon 1d;', $R],
    ['mobispot_bookings_deadlines', 'http', 'mobispot_bookings_deadlines sometimes;', $R],
    ['mobispot_checkin', 'loc', 'mobispot_checkin nowhere;', $R],
    ['mobispot_metrics', 'loc', 'mobispot_metrics allow=all;', ''],
    ['mobispot_metrics_zone_size', 'http', 'mobispot_metrics_zone_size 1;', ''],
    ['mobispot_sso', 'loc', 'mobispot_sso sometimes;', ''],
    ['mobispot_sso_token', 'loc', 'mobispot_sso_token pigeon;', ''],
    ['mobispot_jwt_key', 'http', 'mobispot_jwt_key /no/such/key alg=RS256;', ''],
    ['mobispot_jwt_jwks', 'http', 'mobispot_jwt_jwks /no/such/jwks;', ''],
    ['mobispot_jwt_leeway', 'http', 'mobispot_jwt_leeway long;', ''],
    ['mobispot_jwt_max_lifetime', 'http', 'mobispot_jwt_max_lifetime 100d;', ''],
    ['mobispot_jwt_max_size', 'http', 'mobispot_jwt_max_size big;', ''],
    ['mobispot_jwt_typ', 'http', 'mobispot_jwt_typ "a b";', ''],
    ['mobispot_jwt_keys_redis', 'http', 'mobispot_jwt_keys_redis perhaps;', ''],
    ['mobispot_site_cache_ttl', 'http', 'mobispot_site_cache_ttl x;', ''],
    ['mobispot_site_max_stale', 'http', 'mobispot_site_max_stale x;', ''],
    ['mobispot_sso_cache_size', 'http', 'mobispot_sso_cache_size many;', ''],
    ['mobispot_sso_revocation', 'http', 'mobispot_sso_revocation maybe;', ''],
    ['mobispot_sso_revocation_max_stale', 'http', 'mobispot_sso_revocation_max_stale x;', ''],
    ['mobispot_sso_revocation_zone_size', 'http', 'mobispot_sso_revocation_zone_size tiny;', ''],
    ['mobispot_sso_public_url', 'http', 'mobispot_sso_public_url x;', ''],
    ['mobispot_sso_pass_token', 'loc', 'mobispot_sso_pass_token maybe;', ''],
    ['mobispot_sso_issuer_url', 'http', 'mobispot_sso_issuer_url ftp://x;', ''],
);

for my $c (@cases) {
    my ($name, $where, $line, $needs) = @$c;
    my %conf = $where eq 'http'
        ? (http_config => "    $needs\n    $line\n")
        : (http_config => "    $needs\n", config => "    location /x/ { $line }\n");
    my ($status, $out) = nginx_test(%conf);
    isnt($status, 0, "nginx -t refuses: $line");
    my @err = $out =~ /\[emerg\][^:]*: (.*)/g;     # the log grows: the last
    my $err = $err[-1] // $out;
    like($err, qr/"\Q$name\E"/, "and its line names \"$name\"") or diag($err);
}

done_testing();
