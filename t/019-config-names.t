# nginx -t names the directive and its reason for every bad value: one bad
# value (or more) of each directive that takes a value, each refusal's
# line checked for the directive's name in quotes.  Then the refusals made
# once a block is read (a merge, postconfiguration: a directive without
# the others it needs, values that contradict each other): each names its
# directive too, and where nginx read that directive, the file:line it
# gives is that directive's line, not the end of the http block.  A
# family's own rules (what a value must be) are tested with their
# families (t/001, t/102, t/510, t/520, ...); this file holds every
# family to the same form.
#
#   prove -I t/lib t/019-config-names.t

use strict;
use warnings;
use lib 't/lib';
use File::Temp qw(tempdir);
use Test::Mobispot;
use Test::More;

my $R = 'mobispot_redis 127.0.0.1:6379;';

# an issuer's signing keys (private, mode 0600) and a gateway's secret
my $K = tempdir('mobispot-019-XXXXXX', TMPDIR => 1, CLEANUP => 1);
for my $k (qw(ec ec2)) {
    system("openssl ecparam -name prime256v1 -genkey -noout -out $K/$k.key"
           . " 2>/dev/null") == 0 or die "openssl ecparam failed\n";
    chmod 0600, "$K/$k.key";
}
system("cp $K/ec.key $K/open.key") == 0 or die;
chmod 0644, "$K/open.key";
open(my $fh, '>', "$K/hs.secret") or die;
print $fh 'x' x 32;
close $fh;
chmod 0600, "$K/hs.secret";

my $SIGN = "mobispot_sso_signing_key $K/ec.key kid=e1;";
my $GW = "mobispot_jwt_key $K/hs.secret alg=HS256; "
         . 'mobispot_jwt_issuer https://sso.mobispot.test; '
         . 'mobispot_jwt_audience namur;';
my $FLOW = 'mobispot_sso_authorize_url https://sso.mobispot.test/sso/authorize; '
           . 'mobispot_sso_client_id namur-gw; '
           . 'mobispot_sso_redirect_uri https://namur.example/sso/callback;';

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
    ['mobispot_redis_heartbeat', 'http', 'mobispot_redis_heartbeat 10ms;', $R],
    ['mobispot_redis_timeout', 'http', 'mobispot_redis_timeout 0;', $R],
    ['mobispot_redis_max_pending', 'http', 'mobispot_redis_max_pending 0;', $R],
    ['mobispot_api', 'loc', 'mobispot_api prefix=/x/;', $R],
    ['mobispot_api_cache', 'http', 'mobispot_api_cache on entries=3;', $R],
    ['mobispot_api_cache', 'http', 'mobispot_api_cache on size=3;', $R],
    ['mobispot_thread_pool', 'loc', 'mobispot_thread_pool a; mobispot_thread_pool b;', ''],
    ['mobispot_bookings_hold', 'http', 'mobispot_bookings_hold 2h;', $R],
    ['mobispot_bookings_no_show', 'http', 'mobispot_bookings_no_show 5h;', $R],
    ['mobispot_bookings_grace', 'http', 'mobispot_bookings_grace 2h;', $R],
    ['mobispot_jwt_max_size', 'http', 'mobispot_jwt_max_size 8;', ''],
    ['mobispot_jwt_max_lifetime', 'http', 'mobispot_jwt_max_lifetime 31d;', ''],
    ['mobispot_sso_cache_size', 'http', 'mobispot_sso_cache_size 2000000;', ''],
    ['mobispot_jwt_audience', 'http', 'mobispot_jwt_audience namur "";', ''],
    ['mobispot_jwt_require', 'http', 'mobispot_jwt_require "";', ''],
    ['mobispot_jwt_issuer', 'http', 'mobispot_jwt_issuer a; mobispot_jwt_issuer b;', ''],
    ['mobispot_site', 'loc', 'mobispot_site a; mobispot_site b;', ''],
    ['mobispot_sso_login_url', 'loc', 'mobispot_sso_login_url a; mobispot_sso_login_url b;', ''],
    ['mobispot_sso_authorize_url', 'http', 'mobispot_sso_authorize_url ftp://sso.example/authorize;', ''],
    ['mobispot_sso_redirect_uri', 'loc', 'mobispot_sso_redirect_uri http://namur.example/cb;', ''],
    ['mobispot_sso_client_id', 'http', 'mobispot_sso_client_id "namur gw";', ''],
    ['mobispot_sso_callback', 'loc', 'mobispot_sso_callback; mobispot_sso_callback;', ''],
    # the issuer's directives
    ['mobispot_sso_issuer', 'http', 'server { location = /sso { mobispot_sso_issuer; } }', ''],
    ['mobispot_sso_issuer', 'loc', 'mobispot_sso_issuer; mobispot_sso_issuer;', ''],
    ['mobispot_sso_issuer_url', 'loc', 'mobispot_sso_issuer_url https://sso.example/x/;', ''],
    ['mobispot_sso_issuer_url', 'loc', 'mobispot_sso_issuer_url http://sso.example;', ''],
    ['mobispot_sso_token_lifetime', 'http', 'mobispot_sso_token_lifetime 13h;', ''],
    ['mobispot_sso_token_lifetime', 'loc', 'mobispot_sso_token_lifetime soon;', ''],
    ['mobispot_sso_api_audience', 'http', 'mobispot_sso_api_audience namur;', ''],
    ['mobispot_sso_api_audience', 'http', 'mobispot_sso_api_audience "my api";', ''],
    ['mobispot_sso_signing_key', 'http', "mobispot_sso_signing_key $K/ec.key e1;", ''],
    ['mobispot_sso_signing_key', 'http', "mobispot_sso_signing_key $K/ec.key kid=\"a b\";", ''],
    ['mobispot_sso_signing_key', 'http', "mobispot_sso_signing_key $K/none.key kid=e1;", ''],
    ['mobispot_sso_signing_key', 'http', "mobispot_sso_signing_key $K/open.key kid=e1;", ''],
    ['mobispot_sso_signing_key', 'http', "mobispot_sso_signing_key $K/hs.secret kid=e1;", ''],
    ['mobispot_sso_signing_key', 'http', "$SIGN $SIGN", ''],
    ['mobispot_sso_session_lifetime', 'http', 'mobispot_sso_session_lifetime 1m;', ''],
    ['mobispot_sso_session_lifetime', 'loc', 'mobispot_sso_session_lifetime 31d;', ''],
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
    note($err);
}

# The refusals made once the http block is read: [the directive named,
# the http block, the server block, the text of the line the refusal
# points at (undef: a main-level rule, told at the end of the http block)]
my $ISS = 'location /sso/ { mobispot_sso_issuer; '
          . 'mobispot_sso_issuer_url https://sso.example/sso; }';
my @merges = (
    # the gateway: mobispot_sso without its keys, issuer or audience
    ['mobispot_sso', '', 'location /p/ { mobispot_sso on; }', 'mobispot_sso on;'],
    ['mobispot_sso', "mobispot_jwt_key $K/hs.secret alg=HS256;",
     'location /p/ { mobispot_sso optional; }', 'mobispot_sso optional;'],
    ['mobispot_jwt_audience', "mobispot_jwt_key $K/hs.secret alg=HS256; "
     . 'mobispot_jwt_issuer https://sso.mobispot.test;',
     'location /p/ { mobispot_sso on; }', 'mobispot_sso on;'],
    ['mobispot_sso', "mobispot_sso on; mobispot_jwt_key $K/hs.secret alg=HS256;",
     'location /p/ { }', 'mobispot_sso on;'],
    ['mobispot_site', $GW,
     'location /p/ { mobispot_sso on; mobispot_site namur; }', 'mobispot_sso on;'],
    # the site's sign-in flow
    ['mobispot_sso_login_url', "$GW $FLOW",
     'location /p/ { mobispot_sso on; mobispot_sso_login_url https://x.example/; }',
     'mobispot_sso on;'],
    ['mobispot_sso_client_id', "$GW mobispot_sso_authorize_url https://sso.example/a;",
     'location /p/ { mobispot_sso on; }', 'mobispot_sso on;'],
    ['mobispot_sso_callback', "$GW mobispot_sso_token cookie=ms_sso;",
     'location = /sso/callback { mobispot_sso_callback; }', 'mobispot_sso_callback;'],
    ['mobispot_sso_callback', "$GW $FLOW mobispot_sso_token cookie=ms_sso;",
     'location = /sso/callback { mobispot_sso_callback; }', 'mobispot_sso_callback;'],
    ['mobispot_sso_callback', "$R $GW $FLOW",
     'location = /sso/callback { mobispot_sso_callback; }', 'mobispot_sso_callback;'],
    ['mobispot_sso_callback', "$R $GW $FLOW mobispot_sso_token cookie=ms_sso;",
     'location = /elsewhere { mobispot_sso_callback; }', 'mobispot_sso_callback;'],
    ['mobispot_sso_callback', "$R mobispot_sso_token cookie=ms_sso; $FLOW "
     . "mobispot_jwt_key $K/hs.secret alg=HS256;",
     'location = /sso/callback { mobispot_sso_callback; }', 'mobispot_sso_callback;'],
    # the issuer: its URL, keys and Redis, one set of keys
    ['mobispot_sso_issuer_url', "$R $SIGN",
     'location /sso/ { mobispot_sso_issuer; }', 'mobispot_sso_issuer;'],
    ['mobispot_sso_issuer_url', "$R $SIGN",
     'location /sso/ { mobispot_sso_issuer; '
     . 'mobispot_sso_issuer_url https://sso.example/other; }', 'mobispot_sso_issuer;'],
    ['mobispot_sso_signing_key', $R, $ISS, 'mobispot_sso_issuer;'],
    ['mobispot_redis', $SIGN, $ISS, 'mobispot_sso_issuer;'],
    ['mobispot_sso_signing_key', "$R $SIGN",
     "$ISS } server { listen 127.0.0.1:1; "
     . "mobispot_sso_signing_key $K/ec2.key kid=e2; $ISS",
     'mobispot_sso_issuer;'],
    # the API, Redis and its writes' WAIT, bookings' times
    ['mobispot_api', '', 'location /api/ { mobispot_api; }', 'mobispot_api;'],
    ['mobispot_redis_wait', 'mobispot_redis_wait 1 100ms;', '', 'mobispot_redis_wait'],
    ['mobispot_redis_wait', "$R mobispot_redis_timeout 300ms; mobispot_redis_wait 1 200ms;",
     '', 'mobispot_redis_wait'],
    ['mobispot_bookings_no_show', "$R mobispot_bookings_hold 30m; "
     . 'mobispot_bookings_no_show 10m;', '', undef],
    # main-level rules of the gateway
    ['mobispot_jwt_keys_redis', 'mobispot_jwt_keys_redis on;', '', undef],
    ['mobispot_sso_revocation', 'mobispot_sso_revocation on;', '', undef],
    ['mobispot_sso_revocation_zone_size', "$R mobispot_sso_revocation on; "
     . 'mobispot_sso_revocation_zone_size 4k;', '', undef],
);

for my $c (@merges) {
    my ($name, $http, $server, $line) = @$c;
    my ($status, $out) = nginx_test(http_config => "    $http\n",
                                    config => "    $server\n");
    isnt($status, 0, "nginx -t refuses: $http | $server");
    my @err = $out =~ /\[emerg\][^:]*: (.*)/g;
    my $err = $err[-1] // $out;
    like($err, qr/"\Q$name\E/, "and its line names \"$name\"") or diag($err);
    note($err);
    next unless defined $line;
    my ($file, $n) = $err =~ / in (\S+):(\d+)$/;
    my @conf;
    if (defined $file && open(my $in, '<', $file)) {
        @conf = <$in>;
    }
    like($n && $conf[$n - 1] // '', qr/\Q$line\E/,
         "and points at the line of \"$line\"") or diag($err);
}

done_testing();
