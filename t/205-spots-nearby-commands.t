# What a nearby miss costs Redis, on the demo catalogue (tools/seed/sites.json,
# 15 sites, loaded through the admin API): the commands of one miss, counted
# with INFO commandstats, and four misses at once within a small
# mobispot_redis_max_pending, all answered 200.
#
#   prove -I t/lib t/205-spots-nearby-commands.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use JSON::PP;
use Time::HiRes qw(time sleep);

my $MAX_PENDING = 64;

start_env(http_config => <<"CONF", config => <<'CONF2');
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
    mobispot_redis_timeout 10s;
    mobispot_redis_max_pending $MAX_PENDING;
    # the heartbeat's GET and SET would be counted with the misses' commands
    mobispot_redis_heartbeat 1h;
    mobispot_admin loopback;
CONF
    location /api/v1/ { mobispot_api; }
CONF2

my $t = time;
sleep 0.05 while !defined http_request('GET /api/v1/health')->{status}
                 && time - $t < 5;

# the catalogue, as tools/seed/load.sh loads it
open my $fh, '<', 'tools/seed/sites.json' or die "sites.json: $!";
my $seed = decode_json(do { local $/; <$fh> });
close $fh;

my $json = JSON::PP->new->canonical;
my $loaded = 0;

for my $kind (qw(networks sites)) {
    for my $e (@{ $seed->{$kind} }) {
        my %body = %$e;
        my $id = delete $body{id};
        my $res = http_request({method => 'PUT',
                                uri => "/api/v1/admin/$kind/$id",
                                body => $json->encode(\%body)});
        $loaded++ if ($res->{status} // 0) =~ /^20[01]$/;
    }
}

my $sites = @{ $seed->{sites} };
is($loaded, @{ $seed->{networks} } + $sites, 'the demo catalogue is loaded');

# the commands Redis ran since the last call (INFO commandstats), without
# the test's own
sub commands {
    my %calls;
    for (split /\r?\n/, redis_cmd('INFO', 'commandstats')) {
        $calls{$1} = $2 if /^cmdstat_([^:]+):calls=(\d+)/;
    }
    delete $calls{$_} for grep { /^(info|config)/ } keys %calls;
    redis_cmd('CONFIG', 'RESETSTAT');
    my $total = 0;
    $total += $_ for values %calls;
    return ($total, join(', ', map { "$_ $calls{$_}" } sort keys %calls));
}

# every site of the catalogue is within 200 km of Namur; Monday 7
# December 2026, when every site is open from 08:30 to 18:00 local time
my $NEAR = '/api/v1/spots/nearby?radius_km=200';
my $HOUR = 'from=2026-12-07T09:00:00Z&to=2026-12-07T10:00:00Z';
my $DAY = 'from=2026-12-07T09:00:00Z&to=2026-12-08T09:00:00Z';

sub nearby {
    my ($query, $what, $max) = @_;
    commands();
    my $res = http_request("GET $NEAR&$query");
    my ($n, $list) = commands();
    is($res->{status}, 200, "$what: 200");
    diag("$what: $n commands ($list)");
    cmp_ok($n, '<=', $max, "$what: at most $max commands");
    return $res->{body};
}

# a miss whose sites' info the worker does not have (the loading bumped
# the catalogue version): GEOSEARCH and GET ms:version, then an HMGET of
# each site's info, then one HMGET of the booked slots of each open site
my $body = nearby("lat=50.4641&lon=4.8661&all=true&$HOUR", 'a miss, site info not known yet',
                  2 + 2 * $sites);
my $answer = decode_json($body);
is(scalar @{ $answer->{sites} }, $sites, 'every site is listed');
is((grep { $_->{open} && $_->{free} > 0 } @{ $answer->{sites} }), $sites,
   'every site is open, with room');

# 24 hours, the info not known (a new catalogue version): no site is open
# all of it, none has a slot to read
redis_cmd('INCR', 'ms:version');
nearby("lat=50.46&lon=4.8661&all=true&$DAY",
       'a 24-hour miss, site info not known', 2 + $sites);

# the info known: the five nearest sites are all that is read when they
# have room (the candidates are three times the limit)
nearby("lat=50.47&lon=4.8661&limit=5&$HOUR", 'a miss for the 5 nearest', 2 + 5);

# Four misses at once, the site info not known (a new catalogue version):
# what each has in flight fits in mobispot_redis_max_pending together.
# Redis is paused so that their GEOSEARCH replies come back together.
redis_cmd('INCR', 'ms:version');
sleep 0.2;

my @paths = map { "$NEAR&lat=50.4641&lon=4.8$_&all=true&$HOUR" } 1 .. 4;
redis_cmd('CLIENT', 'PAUSE', 300);
my @res = http_requests_at_once(\@paths, timeout => 10);

my $ok = grep { ($_->[0] // 0) == 200 } @res;
is($ok, 4, "four misses at once, max_pending $MAX_PENDING: all 200")
    or diag(join "\n", map { ($_->[0] // 'none') . ' ' . ($_->[1] // '') }
                           @res);

for my $r (@res) {
    my $a = eval { decode_json($r->[1] // '') } || {};
    is(scalar @{ $a->{sites} // [] }, $sites, 'each lists every site');
}

my $refusals = () = error_log_text() =~ /too many redis commands in flight/g;
is($refusals, 0, 'nothing refused for commands in flight');

my @problems = stop_env();
is_deeply(\@problems, [], 'nginx stopped cleanly');

Test::More::done_testing();
