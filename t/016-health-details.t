# GET health's details: the module's version (debian/changelog's), the
# worker's connections (tracking for the answer cache, the subscriptions
# and their channels), the key set of mobispot_jwt_keys_redis (none, ok,
# stale) beside the revocation feed, and what makes the status degraded.
#
#   prove -I t/lib t/016-health-details.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use MobispotSSO;
use Test::Mobispot::JSONDiff qw(json_decode);
use Time::HiRes qw(time sleep);

my $root = $ENV{TEST_NGINX_ROOT} // '.';

sub health {
    my $r = http_request('GET /api/v1/health');
    return eval { json_decode($r->{body}) } // {};
}
open my $fh, '<', "$root/debian/changelog" or die "debian/changelog: $!";
my ($deb) = <$fh> =~ /\(([^)]+)\)/;
close $fh;

sso_keys();
start_env(http_config => <<'CONF', config => <<'CONF2');
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_jwt_keys_redis on;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_sso_revocation on;
CONF
    location /api/v1/ { mobispot_api; }
CONF2

ok(wait_until(sub { (health()->{redis}{subscriptions} // '') eq 'up' }, 'subscribed'),
   'the subscriptions come up');
my $h = health();
is($h->{version}, $deb, 'the version is debian/changelog\'s');
is($h->{redis}{connected}, 1, 'the data connection');
is($h->{redis}{channels}, 4,
   'four channels: invalidations, deadlines, sign-outs, the key set');
is($h->{redis}{channels_up}, 4, 'all subscribed');
ok(wait_until(sub { (health()->{redis}{tracking} // '') eq 'on' }, 'tracking'),
   'tracking for the answer cache is on');
is($h->{sso_keys}{state}, 'none', 'no key set in Redis yet');
is($h->{sso_keys}{keys}, 0, 'no key');
cmp_ok($h->{sso_keys}{read_s}, '>=', 0, 'but Redis was read');
is($h->{status}, 'degraded', 'no key set: degraded');

# the issuer's key set arrives
redis_cmd('SET', 'ms:sso:jwks', jwks('rsa.pub:k1:RS256', 'ec256.pub:k2:ES256'));
redis_cmd('PUBLISH', 'ms:sso:jwks', 'changed');
ok(wait_until(sub { (health()->{sso_keys}{state} // '') eq 'ok' }, 'keys read'),
   'the key set read: ok');
$h = health();
is($h->{sso_keys}{keys}, 2, 'its two keys');
ok(wait_until(sub { (health()->{status} // '') eq 'ok' }, 'status ok'),
   'the status is ok once the revocation feed is fresh too');

# the subscriptions are lost (and cannot be made again while Redis refuses
# SUBSCRIBE): told, and the key set is stale; they come back
redis_cmd('ACL', 'SETUSER', 'default', '-subscribe');
redis_cmd('CLIENT', 'KILL', 'TYPE', 'pubsub');
my $seen;
ok(wait_until(sub { $h = health(); $seen = $h->{sso_keys}{state} // '';
                  $seen eq 'stale' }, 'stale'),
   'while the subscriptions are lost, the key set is stale');
isnt($h->{redis}{subscriptions}, 'up', 'and the subscriptions are not up');
is($h->{status}, 'degraded', 'degraded');
is($h->{sso_keys}{keys}, 2, 'the keys in use are kept');
redis_cmd('ACL', 'SETUSER', 'default', '+subscribe');
ok(wait_until(sub { (health()->{sso_keys}{state} // '') eq 'ok' }, 'back'),
   'back to ok once they are made again');
is(health()->{redis}{subscriptions}, 'up', 'subscriptions up');

stop_env();

# a node with no answer cache and no channel
start_env(http_config => <<'CONF', config => <<'CONF2');
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_api_cache off;
CONF
    location /api/v1/ { mobispot_api; }
CONF2
$h = health();
is($h->{redis}{tracking}, 'off', 'no answer cache: tracking off');
ok(!exists $h->{sso_keys}, 'no key set part without mobispot_jwt_keys_redis');
is($h->{status}, 'ok', 'ok');
stop_env();

done_testing();
