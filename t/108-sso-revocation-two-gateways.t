# Single sign-out across two gateways: two nginx instances (two sites'
# gateways) on the same Redis; a session revoked by the issuer (ZADD +
# PUBLISH) is refused at both within one second.  Plain Perl test on the
# harness's start_env (gateway A) and a second nginx started here (B).

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use MobispotSSO;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

sso_keys();

my $exp = int(time()) + 3600;
my $token = tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}',
                claims(sid => 'sess-two', exp => $exp));

my %conf = (
    http_config => '
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_sso_revocation on;
',
    config => '
    location /ok { return 204; }
    location /p {
        mobispot_sso on; mobispot_jwt_issuer https://sso.mobispot.test; mobispot_jwt_audience namur;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
',
);

my $env = start_env(%conf);

# gateway B: the same configuration on another port and prefix
my $port_b = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1:0')
             ->sockport;
my $prefix = tempdir('mobispot-b-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$prefix/$_" for qw(conf logs tmp);
my $text = nginx_conf(%conf);
$text =~ s/127\.0\.0\.1:$env->{server_port}\b/127.0.0.1:$port_b/g;
open my $fh, '>', "$prefix/conf/nginx.conf" or die $!;
print $fh $text;
close $fh;

my $pid_b = fork();
die "fork: $!" unless defined $pid_b;
if ($pid_b == 0) {
    open STDOUT, '>', "$prefix/logs/stdout";
    open STDERR, '>', "$prefix/logs/stderr";
    exec($ENV{NGINX_BIN} // '/usr/sbin/nginx', '-p', "$prefix/",
         '-c', "$prefix/conf/nginx.conf") or POSIX::_exit(127);
}

sub status {
    my ($port) = @_;
    my $res = http_request({ uri => '/p', port => $port,
                             headers => ["Authorization: Bearer $token"] });
    return $res->{status} // 0;
}

# both gateways up, subscribed, and letting the session in
my $deadline = time() + 10;
sleep 0.1 while time() < $deadline
                && (status($env->{server_port}) != 204 || status($port_b) != 204);

is(status($env->{server_port}), 204, 'gateway A lets the session in');
is(status($port_b), 204, 'gateway B lets the session in');

# the issuer signs the session out
redis_cmd('ZADD', 'ms:sso:revoked', $exp, 'sess-two');
redis_cmd('PUBLISH', 'ms:sso:revoked', "sess-two $exp");
my $t0 = time();

my ($sa, $sb) = (0, 0);
while (time() - $t0 < 1) {
    $sa = status($env->{server_port});
    $sb = status($port_b);
    last if $sa == 401 && $sb == 401;
    sleep 0.02;
}
my $elapsed = time() - $t0;

is($sa, 401, 'gateway A refuses the revoked session');
is($sb, 401, 'gateway B refuses the revoked session');
cmp_ok($elapsed, '<', 1, sprintf('both within 1 s (%.3f s)', $elapsed));

kill 'QUIT', $pid_b;
waitpid($pid_b, 0);
is($? & 127, 0, 'gateway B exited without a crash');

is(join("\n", stop_env()), '', 'gateway A clean');

done_testing();
