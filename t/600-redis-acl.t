# Least privilege in Redis: the ACL users of docs/operations.md ("Redis
# users: least privilege"), read from that page and created in the test's
# Redis, then each role run against its user: an API node (mobispot-api)
# reads the catalogue and books, and an admin route on it is refused by
# Redis, answered 502 redis_denied with nothing written and an error line
# naming the ACL; a site gateway (mobispot-gateway) verifies tokens,
# checks its site, hears a sign-out, and writes nothing; and the site
# gateway of "A site gateway, step by step" on that page, as written there,
# runs under the gateway's user (health, metrics, the sign-in redirect).
#
#   prove -I t/lib t/600-redis-acl.t

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use MobispotBookings;
use MobispotSSO;
use File::Temp qw(tempdir);
use POSIX qw(floor);
use Time::HiRes qw(time sleep);

my $root = $ENV{TEST_NGINX_ROOT} // '.';
my $dir = tempdir('mobispot-acl-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $PASSWORD = 'acl-test-password-0123456789';
open my $pw, '>', "$dir/redis.pass" or die "$dir/redis.pass: $!";
print $pw "$PASSWORD\n";
close $pw;

# the users, as the page gives them
open my $fh, '<', "$root/docs/operations.md" or die "operations.md: $!";
my %users;
while (<$fh>) {
    $users{$1} = [ split ' ', $2 ] if /^ACL SETUSER (mobispot-[a-z]+) (.+)$/;
}
close $fh;
is(join(',', sort keys %users), 'mobispot-admin,mobispot-api,mobispot-gateway',
   'docs/operations.md gives the three users');

# --- the catalogue and an account, loaded as mobispot-admin through the
# admin API (the back office's role)
start_bookings();
for my $u (sort keys %users) {
    my @rules = map { $_ eq '>PASSWORD' ? ">$PASSWORD" : $_ } @{ $users{$u} };
    is(redis_cmd('ACL', 'SETUSER', $u, @rules), 'OK', "ACL SETUSER $u");
}

sub node {
    my ($user, %o) = @_;
    start_env(redis => 0, http_config => <<"CONF" . ($o{http} // ''),
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT user=$user password_file=$dir/redis.pass;
    mobispot_admin loopback;
CONF
              config => $o{config} // $API_LOCATION);
    ok(wait_until(sub { (redis_cmd('CLIENT', 'LIST') // '') =~ /\buser=\Q$user\E\b/ },
                "a connection of $user"), "nginx signs in to Redis as $user");
    # its data connection is up (under valgrind the first connect may time
    # out and be made again)
    wait_until(sub { http_request('GET /api/v1/health')->{status} == 200 }, 'health')
        unless $o{config};
}

node('mobispot-admin');
is((req('PUT', 'admin/networks/cowallonia', $NET))[0]{status}, 201,
   'admin: PUT a network');
is((req('PUT', 'admin/sites/s1', site()))[0]{status}, 201, 'admin: PUT a site');
is(account('ada'), 201, 'admin: PUT an account');
unlike(error_log_text(), qr/refused a command by its ACL/, 'admin: no refusal');

# --- an API node
node('mobispot-api');
my %ADA = ('X-Test-User' => 'ada', 'X-Test-Pass' => 'cw-pass');
is((req('GET', 'health'))[0]{status}, 200, 'api: GET health');
is((req('GET', 'spots/s1'))[0]{status}, 200, 'api: GET spots/s1');
is((req('GET', 'networks'))[0]{status}, 200, 'api: GET networks');
is((req('GET', 'spots/nearby?lat=50.46&lon=4.86&radius_km=5'))[0]{status}, 200,
   'api: GET spots/nearby');
my $day = (floor(time / 86400) + 1) * 86400;
my ($F, $T) = (iso($day + 10 * 3600), iso($day + 11 * 3600));
is((req('GET', "spots/s1/availability?kind=desk&from=$F&to=$T"))[0]{status}, 200,
   'api: GET availability');
my ($r, $j) = req('POST', 'bookings',
                  qq({"spot":"s1","kind":"desk","from":"$F","to":"$T"}),
                  %ADA, 'Idempotency-Key' => 'acl-1');
is($r->{status}, 201, 'api: POST bookings (its scripts, indexes, deadline)');
my $id = $j->{id} // 'none';
is((req('GET', "bookings/$id", undef, %ADA))[0]{status}, 200, 'api: GET the booking');
is((req('GET', 'bookings', undef, %ADA))[0]{status}, 200, 'api: GET bookings');
is((req('DELETE', "bookings/$id", undef, %ADA))[0]{status}, 200, 'api: cancel it');
unlike(error_log_text(), qr/refused a command by its ACL|NOPERM/,
       'api: no refusal on its own routes');

# an admin route on an API node: Redis refuses, the module answers cleanly
# (a network and an account: their keys are read-only for mobispot-api; a
# site's own keys are not, docs/operations.md says why)
my $keys = redis_cmd('DBSIZE');
($r, $j) = req('PUT', 'admin/networks/other', $NET2);
is($r->{status}, 502, 'api: PUT admin/networks: 502');
is($j->{error}{code}, 'redis_denied', 'api: the error says redis_denied');
is(redis_cmd('HEXISTS', 'ms:{networks}:doc', 'other'), 0, 'api: the network was not written');
is(account('eve'), 502, 'api: PUT admin/users: 502 as well');
is(redis_cmd('EXISTS', 'ms:{user:eve}:info'), 0, 'api: the account was not written');
is(redis_cmd('DBSIZE'), $keys, 'api: no key was added');
like(error_log_text(),
     qr/redis 127\.0\.0\.1:\d+ refused a command by its ACL \(user "mobispot-api"\): "NOPERM [^"]*"; the request gets 502/,
     'api: the error log names the ACL and its user');
unlike(error_log_text(), qr/\Q$PASSWORD\E/, 'api: the password is not logged');
is((req('GET', 'health'))[0]{status}, 200, 'api: still healthy afterwards');

# --- a site gateway
sso_keys();
my $hs = sub { tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(@_)) };
my $ok = $hs->(aud => 's1', pass => 'cw-pass', sid => 'acl-s1');
my $gw = <<'CONF';
    location /echo { return 200 "through\n"; }
    location /p {
        mobispot_sso on;
        mobispot_site s1;
        mobispot_jwt_audience s1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
CONF
node('mobispot-gateway', config => $gw, http => <<'CONF');
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_keys_redis on;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_sso_revocation on;
CONF
sub gateway {
    my ($tok) = @_;
    return http_request({ uri => '/p', headers => ["Authorization: Bearer $tok"] })->{status} // 0;
}
ok(wait_until(sub { gateway($ok) == 200 }, 'the gateway lets the token through'),
   'gateway: a token for its site goes through (the site read)');
is(gateway($hs->(aud => 's1', pass => 'other-pass')), 403,
   'gateway: a passport of another network is refused');
redis_cmd('ZADD', 'ms:sso:revoked', time + 3600, 'acl-s1');
redis_cmd('PUBLISH', 'ms:sso:revoked', 'acl-s1 ' . int(time + 3600));
ok(wait_until(sub { gateway($ok) == 401 }, 'the sign-out heard'),
   'gateway: a sign-out published is heard (its subscription)');
unlike(error_log_text(), qr/by its ACL|NOPERM|refused CLIENT TRACKING|refused the heartbeat/,
       'gateway: nothing of its own is refused');

# what the gateway's user may not do, asked of Redis directly
my $as_gw = sub {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => redis_port())
        or die "redis: $!";
    print $s "AUTH mobispot-gateway $PASSWORD\r\n";
    my $auth = <$s>;
    print $s join(' ', @_) . "\r\n";
    my $line = <$s>;
    close $s;
    return ($auth // '') . ($line // '');
};
like($as_gw->('ZADD', 'ms:sso:revoked', '1', 'x'), qr/^\+OK\r\n-NOPERM/,
     'gateway user: cannot sign anyone out');
like($as_gw->('SET', 'ms:sso:jwks', 'x'), qr/^\+OK\r\n-NOPERM/,
     'gateway user: cannot write the key set');
like($as_gw->('PUBLISH', 'ms:sso:jwks', 'changed'), qr/^\+OK\r\n-NOPERM/,
     'gateway user: cannot publish');
like($as_gw->('HSET', 'ms:{site:s1}:info', 'networks', 'x'), qr/^\+OK\r\n-NOPERM/,
     'gateway user: cannot change its site');

stop_env();

# --- the site gateway of "A site gateway, step by step", as the page gives
# it: only Redis's address, the password file, the ports and TLS replaced
open $fh, '<', "$root/docs/operations.md" or die "operations.md: $!";
my $page = do { local $/; <$fh> };
close $fh;
my ($doc) = $page =~ /^4\. \*\*The configuration\*\*.*?^```nginx\n(.*?)^```$/ms;
ok($doc && $doc =~ /^http \{\n(.*)^\}\n\z/ms, 'the page gives the site gateway\'s http block');
my $inner = $1 // '';
$inner =~ s/redis\.mobispot\.example:6379/127.0.0.1:\$TEST_NGINX_REDIS_PORT/;
$inner =~ s{/etc/nginx/mobispot/redis\.pass}{$dir/redis.pass};
$inner =~ s/listen 443 ssl;/listen 127.0.0.1:\$TEST_NGINX_SERVER_PORT;/;
$inner =~ s/^\s*ssl_certificate.*\n//mg;
$inner =~ s/listen 127\.0\.0\.1:9113;/listen 127.0.0.1:\$TEST_NGINX_SERVER_PORT; server_name monitor.test;/;
$inner =~ s{proxy_pass http://127\.0\.0\.1:8000;}{try_files /none =204;};   # after access
start_env(redis => 0, http_config => $inner, config => '');
ok(wait_until(sub { (redis_cmd('CLIENT', 'LIST') // '') =~ /\buser=mobispot-gateway\b/ },
              'the documented gateway signs in'),
   'doc gateway: signs in to Redis as mobispot-gateway');
my $mon = sub {
    return http_request({ uri => $_[0], headers => ['Host: monitor.test'] });
};
ok(wait_until(sub { ($mon->('/metrics')->{body} // '') =~ /^mobispot_redis_up\{worker="0"\} 1$/m },
              'redis_up'), 'doc gateway: its metrics say Redis is up');
my $h = eval { JSON::PP::decode_json($mon->('/api/v1/health')->{body} // '') } // {};
is($h->{sso_revocation}{state}, 'ok', 'doc gateway: health: the revocation feed is ok');
my $site = http_request({ uri => '/desk',
                          headers => ['Host: cowork-namur.example', 'Accept: text/html'] });
is($site->{status}, 302, 'doc gateway: a browser without a session is sent to sign in');
like($site->{header}{location} // '',
     qr{^https://sso\.mobispot\.example/sso/authorize\?response_type=code&client_id=cw-namur-gw&},
     '  to the issuer\'s authorize, as the gateway\'s client');
is(http_request({ uri => '/desk', headers => ['Host: cowork-namur.example'] })->{status}, 401,
   'doc gateway: a client that takes no HTML gets 401');
unlike(error_log_text(), qr/by its ACL|NOPERM/, 'doc gateway: nothing refused by its ACL');
stop_env();

# nginx -t: user= needs a password, and a name Redis takes on one line
for my $c (['user=mobispot-api', 'needs "password_file="'],
           ["user= password_file=$dir/redis.pass", '1 to 128 characters'],
           ['user=' . ('u' x 129) . " password_file=$dir/redis.pass", '1 to 128 characters'],
           ["user=a\x01b password_file=$dir/redis.pass", 'printable ASCII'],
           ["user=a user=b password_file=$dir/redis.pass", 'duplicate "user="'],
           ["db=1 user=a user=b password_file=$dir/redis.pass", 'invalid number of arguments'])
{
    my ($status, $out) = nginx_test(
        http_config => "    mobispot_redis 127.0.0.1:1 $c->[0];\n");
    isnt($status, 0, "nginx -t refuses mobispot_redis ... $c->[0]");
    like($out, qr/\Q$c->[1]\E/, "and says: $c->[1]");
}
my ($status) = nginx_test(http_config =>
    "    mobispot_redis 127.0.0.1:1 db=2 user=mobispot-api password_file=$dir/redis.pass;\n");
is($status, 0, 'nginx -t takes db=, user= and password_file= together');

redis_cmd('ACL', 'DELUSER', sort keys %users);
done_testing();
