#!/usr/bin/env perl
# The readers of usage on a large month, with the test harness's nginx and
# redis-server (loopback, free ports):
#
#   perl bench/usage.pl          (BENCH_SITES=50 BENCH_RECORDS=6000
#                                 BENCH_PASSPORTS=10000)
#
# Seeds a closed month of BENCH_SITES streams of BENCH_RECORDS usage
# records each and BENCH_PASSPORTS accounts holding a passport, then times
# GET settlement computed (three times, its stored figures deleted before
# each), GET settlement once stored, usage?site= of one stream and
# usage?company= over the month; during one more settlement, a child
# process sends GET health to the same worker for 1.5 s and prints the
# slowest answer (how long the worker is busy with one round's replies).
# docs/usage.md has the figures.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::Mobispot;
use Time::HiRes qw(time);
use POSIX ();

my $SITES = $ENV{BENCH_SITES} // 50;
my $RECORDS = $ENV{BENCH_RECORDS} // 6000;
my $PASSPORTS = $ENV{BENCH_PASSPORTS} // 10000;
my $M = '2026-03';
my $Q = "network=cowallonia&month=$M";

start_env(http_config => "    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n"
                         . "    mobispot_admin loopback;\n",
          config => "    location /api/v1/ { mobispot_api; }\n");

my $r = http_request({method => 'PUT', uri => '/api/v1/admin/networks/cowallonia',
                      body => '{"name":"N","passport":{"id":"p","name":"P",'
                              . '"monthly_price_eur":250}}'});
die "the network: $r->{status}\n" unless $r->{status} == 201;

for my $i (1 .. $SITES) {
    redis_cmd('EVAL', 'for i = 1, tonumber(ARGV[2]) do redis.call("XADD", '
              . 'KEYS[1], "*", "booking", "b" .. i, "site", ARGV[1], "user", '
              . '"u" .. (i % 10000), "company", "", "network", "cowallonia", '
              . '"kind", "desk", "resource", "", "from", "1", "to", "2", '
              . '"checkin", "1", "checkout", "2", "seconds", '
              . 'tostring(i % 7200), "end", "checkout") end',
              1, "ms:{site:s$i}:usage:$M", "s$i", $RECORDS);
    redis_cmd('SADD', "ms:usage:sites:$M", "s$i");
}
redis_cmd('EVAL', 'for i = 1, tonumber(ARGV[1]) do redis.call("HSET", '
          . '"ms:passports:cowallonia", "u" .. i, "2026-01-01/2026-12-31"); '
          . 'redis.call("HSET", "ms:{user:u" .. i .. "}:info", "passports", '
          . '"cowallonia/2026-01-01/2026-12-31") end', 0, $PASSPORTS);

sub timed {
    my ($what, $uri) = @_;
    my $t0 = time;
    my $res = http_request({uri => "/api/v1/$uri"}, timeout => 120);
    printf "%-40s %d in %8.1f ms\n", $what, $res->{status} // 0,
        (time - $t0) * 1000;
}

printf "%d sites x %d records, %d passports\n", $SITES, $RECORDS, $PASSPORTS;
for (1 .. 3) {
    redis_cmd('DEL', "ms:settlement:cowallonia:$M");
    timed('settlement, computed', "settlement?$Q");
}
timed('settlement, stored', "settlement?$Q");
timed('usage?site= (one stream)', "usage?site=s1&month=$M");
timed('usage?company= (every stream)', "usage?company=acme&month=$M");

redis_cmd('DEL', "ms:settlement:cowallonia:$M");
my $pid = fork() // die "fork: $!\n";
if (!$pid) {
    my ($max, $n, $end) = (0, 0, time + 1.5);
    while (time < $end) {
        my $t0 = time;
        http_request({uri => '/api/v1/health'});
        my $d = time - $t0;
        $max = $d if $d > $max;
        $n++;
    }
    printf "GET health during a settlement: %d answers, the slowest %.1f ms\n",
        $n, $max * 1000;
    POSIX::_exit(0);
}
http_request({uri => "/api/v1/settlement?$Q"}, timeout => 120);
waitpid($pid, 0);

my @problems = stop_env();
print "nginx: @problems\n" if @problems;
