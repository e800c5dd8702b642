# The metrics of a mobispot_metrics location: the Prometheus text format
# read by the official client's parser (python3-prometheus-client) and
# checked by promtool; counters that move as requests are made, summed
# over 2 workers through the shared zone, kept by a reload (HUP); the
# location refuses other methods and, by default, other hosts than
# loopback (allow=any opens it).
#
#   prove -I t/lib t/018-metrics.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use MobispotBookings;
use MobispotSSO;
use IPC::Open2;
use POSIX qw(floor);
use Time::HiRes qw(time sleep);

my $root = $ENV{TEST_NGINX_ROOT} // '.';
sso_keys();

start_env(main_config => 'worker_processes 2;', http_config => <<'CONF', config => <<'CONF2');
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
CONF
    location /api/v1/ {
        set $mobispot_sub $http_x_test_user;
        set $mobispot_pass $http_x_test_pass;
        mobispot_api;
    }
    location = /metrics { mobispot_metrics; }
    location /echo { return 200 "ok\n"; }
    location /p {
        mobispot_sso on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
CONF2

# a scrape, parsed: { 'name{labels}' => value }, and the parser's verdict
my $last_text;
sub scrape {
    my $r = http_request('GET /metrics');
    $last_text = $r->{body} // '';
    my $pid = open2(my $out, my $in, '/usr/bin/python3', "$root/t/lib/mobispot_metrics.py");
    print $in $last_text;
    close $in;
    my %v;
    my $ok = 1;
    while (my $line = <$out>) {
        chomp $line;
        $ok = 0, diag($line) if $line =~ /^parse error/;
        $v{$1} = $2 if $line =~ /^(\S+) (\S+)$/;
    }
    waitpid $pid, 0;
    $ok = 0 if $?;
    return ($r, \%v, $ok);
}
sub val { my ($v, $k) = @_; return ($v->{$k} // 0) + 0 }

my ($r, $m, $ok) = scrape();
is($r->{status}, 200, 'GET /metrics: 200');
like($r->{header}{'content-type'} // '', qr{^text/plain; version=0\.0\.4}, 'the text format 0.0.4');
ok($ok, 'the official parser reads it');
# under valgrind nginx runs as one process (no master, one worker)
my $workers = $ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 2;
ok(wait_until(sub { my $v = (scrape())[1];
                    !grep { val($v, "mobispot_redis_up{worker=\"$_\"}") != 1 }
                         0 .. $workers - 1 }, 'the workers up'),
   'each worker tells its Redis connection (every second)');
($r, $m) = scrape();
is(val($m, "mobispot_redis_up{worker=\"$_\"}"), 1, "worker $_ connected")
    for 0 .. $workers - 1;
cmp_ok(val($m, 'mobispot_redis_connections_total{}'), '>=', $workers,
       'a connection made by each');

# promtool's own lint of the scrape
SKIP: {
    skip 'promtool is not installed (Debian package prometheus)', 1
        unless -x '/usr/bin/promtool';
    my $pid = open2(my $out, my $in, '/usr/bin/promtool', 'check', 'metrics');
    print $in $last_text;
    close $in;
    my $said = do { local $/; <$out> } // '';
    waitpid $pid, 0;
    is($? >> 8, 0, 'promtool check metrics finds nothing') or diag($said);
}

SKIP: {
    skip 'promtool is not installed (Debian package prometheus)', 1
        unless -x '/usr/bin/promtool';
    my $said = `/usr/bin/promtool check rules $root/docs/prometheus/mobispot-alerts.yml 2>&1`;
    is($? >> 8, 0, 'promtool check rules: docs/prometheus/mobispot-alerts.yml') or diag($said);
}

# requests, on new connections: both workers take some
my %before = %$m;
http_request('GET /api/v1/health') for 1 .. 20;
http_request('GET /api/v1/no/such') for 1 .. 3;
is((req('PUT', 'admin/networks/cowallonia', $NET))[0]{status}, 201, 'network');
is((req('PUT', 'admin/sites/s1', site()))[0]{status}, 201, 'site');
is(account($_), 201, "account $_") for qw(ada bob cy);

my $day = (floor(time / 86400) + 1) * 86400;
my ($F, $T) = (iso($day + 10 * 3600), iso($day + 11 * 3600));
my $body = qq({"spot":"s1","kind":"desk","from":"$F","to":"$T"});
my @booked;
for my $u (qw(ada bob)) {
    my ($b, $j) = req('POST', 'bookings', $body, 'X-Test-User' => $u,
                      'X-Test-Pass' => 'cw-pass', 'Idempotency-Key' => "m-$u");
    is($b->{status}, 201, "$u books");
    push @booked, $j->{id};
}
is((req('POST', 'bookings', $body, 'X-Test-User' => 'ada', 'X-Test-Pass' => 'cw-pass',
        'Idempotency-Key' => 'm-ada'))[0]{status}, 201, 'ada asks again: her booking');
is((req('POST', 'bookings', $body, 'X-Test-User' => 'cy', 'X-Test-Pass' => 'cw-pass',
        'Idempotency-Key' => 'm-cy'))[0]{status}, 409, 'cy: no capacity');
is((req('DELETE', "bookings/$booked[1]", undef, 'X-Test-User' => 'bob',
        'X-Test-Pass' => 'cw-pass'))[0]{status}, 200, 'bob cancels');

my $tok = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims());
is(http_request({ uri => '/p', headers => ["Authorization: Bearer $tok"] })->{status}, 200,
   'a token goes through');
http_request({ uri => '/p', headers => ["Authorization: Bearer $tok"] });
is(http_request('GET /p')->{status}, 401, 'no token: 401');

($r, $m, $ok) = scrape();
ok($ok, 'the parser reads it after the requests');
sub moved { my ($k) = @_; return val($m, $k) - val(\%before, $k) }
is(moved('mobispot_http_requests_total{code="2xx",route="health"}'), 20,
   'health: 20 requests of 2xx, summed over both workers');
is(moved('mobispot_http_requests_total{code="4xx",route="-"}'), 3,
   'three requests of no route, under route="-"');
is(moved('mobispot_http_request_duration_seconds_count{route="health"}'), 20,
   'and their times');
is(val($m, 'mobispot_http_request_duration_seconds_bucket{le="+Inf",route="health"}'),
   val($m, 'mobispot_http_request_duration_seconds_count{route="health"}'),
   'the +Inf bucket holds every observation');
is(moved('mobispot_bookings_total{event="created"}'), 2, 'two bookings created');
is(moved('mobispot_bookings_total{event="replayed"}'), 1, 'one answered again');
is(moved('mobispot_bookings_total{event="conflict"}'), 1, 'one conflict');
is(moved('mobispot_bookings_total{event="cancelled"}'), 1, 'one cancelled');
is(moved('mobispot_sso_verdicts_total{status="ok"}'), 2, 'two SSO verdicts ok');
is(moved('mobispot_sso_verdicts_total{status="missing"}'), 1, 'one missing');
is(moved('mobispot_sso_token_cache_total{result="hit"}')
   + moved('mobispot_sso_token_cache_total{result="miss"}'), 2,
   'two token cache lookups');
cmp_ok(moved('mobispot_redis_call_duration_seconds_count{}'), '>=', 20,
       'Redis calls timed');
unlike($last_text, qr/ada|bob|\bcy\b|s1\.[0-9a-f]|Bearer|eyJ/,
       'no label carries an id, a subject or a token');

# a reload keeps the zone and its values
SKIP: {
    skip 'no reload without a master process (valgrind mode)', 4
        if $ENV{TEST_NGINX_USE_VALGRIND};
    my %kept = %$m;
    is(nginx_hup(), undef, 'reloaded');
    ok(wait_until(sub { my ($rr) = scrape(); ($rr->{status} // 0) == 200 }, 'after the HUP'),
       'scraped after the reload');
    http_request('GET /api/v1/health') for 1 .. 5;
    ($r, $m) = scrape();
    is(val($m, 'mobispot_http_requests_total{code="2xx",route="health"}'),
       val(\%kept, 'mobispot_http_requests_total{code="2xx",route="health"}') + 5,
       'the counters survive the reload and go on');
    is(val($m, 'mobispot_bookings_total{event="created"}'),
       val(\%kept, 'mobispot_bookings_total{event="created"}'), 'bookings kept');
}

# its methods and who may read it
my $post = http_request({ method => 'POST', uri => '/metrics', body => 'x' });
is($post->{status}, 405, 'POST /metrics: 405');
stop_env();

# another host than loopback (as the realip module makes it): refused,
# unless allow=any
start_env(http_config => <<'CONF', config => <<'CONF2');
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Real-IP;
CONF
    location = /metrics { mobispot_metrics; }
    location = /open { mobispot_metrics allow=any; }
CONF2
my $far = ['X-Real-IP: 192.0.2.7'];
is(http_request({ uri => '/metrics', headers => $far })->{status}, 403,
   'from 192.0.2.7: 403 (loopback only by default)');
is(http_request({ uri => '/metrics' })->{status}, 200, 'from loopback: 200');
is(http_request({ uri => '/open', headers => $far })->{status}, 200,
   'allow=any: 200 from 192.0.2.7');
stop_env();

my ($st, $out) = nginx_test(config => "    location /m { mobispot_metrics allow=everyone; }\n");
isnt($st, 0, 'nginx -t refuses allow=everyone');
like($out, qr/allow=loopback \(the default\) or allow=any/, 'and says what it takes');
($st, $out) = nginx_test(http_config => "    mobispot_metrics_zone_size 1k;\n");
isnt($st, 0, 'nginx -t refuses a zone of 1k');
like($out, qr/64k to 64m/, 'and says the range');

done_testing();
