# The issuer's key set in Redis: worker 0 writes ms:sso:jwks and publishes
# "changed" on the channel ms:sso:jwks at start, after a reload with
# another key list, and after Redis lost it; a gateway with
# mobispot_jwt_keys_redis and no key of its own verifies the tokens the
# signing core makes (tools/mobispot-jwt signs with core/mobispot_jws.c),
# and refuses those of a key that left the list.
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my $dir = sso_keys();
chmod 0600, map { "$dir/$_" } qw(rsa.key rsa2.key ec256.key);
my $root = $ENV{TEST_NGINX_ROOT};

system("make -s -C $root/tools >/dev/null") == 0
    or die "cannot build tools/mobispot-jwt\n";
my $CLI = "$root/tools/build/mobispot-jwt";

my $claims = q('{"iss":"https://sso.mobispot.test","aud":"namur","sub":"u1","sid":"s1"}');
sub mint {
    my ($key, $alg, $kid) = @_;
    my $t = `$CLI mint --key $dir/$key --alg $alg --kid $kid $claims`;
    chomp $t;
    die "mint failed\n" unless $t;
    return $t;
}

my %T = (r1 => mint('rsa.key', 'RS256', 'r1'),
         e1 => mint('ec256.key', 'ES256', 'e1'),
         r2 => mint('rsa2.key', 'RS256', 'r2'));

# the key list lives in an included file, rewritten before a reload
my $keys_conf = "$dir/keys.conf";
sub keys_conf {
    open my $fh, '>', $keys_conf or die "$keys_conf: $!";
    print $fh "mobispot_sso_signing_key $dir/$_->[0] kid=$_->[1];\n" for @_;
    close $fh;
}

# a client of our own on the channel, to see the PUBLISH
my $sub;
my $heard = '';
sub listen_jwks {
    $sub = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => redis_port(),
                                 Proto => 'tcp') or die "subscriber: $!";
    print $sub "SUBSCRIBE ms:sso:jwks\r\n";
    wait_for(sub { $heard =~ /subscribe/ }, 'the test subscribed');
}
sub read_sub {
    my $sel = IO::Select->new($sub);
    while ($sel->can_read(0.05)) {
        my $n = sysread($sub, my $buf, 65536);
        last unless $n;
        $heard .= $buf;
    }
}
sub changed_count { read_sub(); my @m = $heard =~ /\$7\r\nchanged\r\n/g; return scalar @m }

# waits for a condition, 10 s at most (valgrind is slow); the check is the caller's
sub wait_for {
    my ($cond, $what) = @_;
    my $t = time;
    while (time - $t < 10) {
        read_sub() if $sub;
        return 1 if $cond->();
        sleep 0.05;
    }
    diag("gave up waiting: $what");
    return 0;
}

sub kids { my ($doc) = @_; return join ',', ($doc // '') =~ /"kid":"([^"]+)"/g }
sub gateway { my ($tok) = @_;
    return http_request({ uri => '/p', headers => ["Authorization: Bearer $tok"] })->{status} // 0 }
sub jwks_body { return http_request('GET /sso/jwks')->{body} }

keys_conf(['rsa.key', 'r1'], ['ec256.key', 'e1']);
redis_cmd('FLUSHALL');
listen_jwks();

start_env(http_config => <<"HTTP", config => <<'CONF');
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
    include $keys_conf;
    mobispot_jwt_keys_redis on;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
HTTP
    location /sso/ {
        mobispot_sso_issuer;
        mobispot_sso_issuer_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sso;
    }
    location /echo { return 200 "sub=$http_x_sub\n"; }
    location /p {
        mobispot_sso on;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
CONF

# at start
ok(wait_for(sub { kids(redis_cmd('GET', 'ms:sso:jwks')) eq 'r1,e1' },
            'ms:sso:jwks at start'), 'the key set is in Redis after the start');
is(redis_cmd('GET', 'ms:sso:jwks'), jwks_body(), 'Redis holds what GET jwks serves');
ok(wait_for(sub { changed_count() >= 1 }, 'a PUBLISH'), '"changed" published on ms:sso:jwks');
is(redis_cmd('TTL', 'ms:sso:jwks'), -1, 'the key set has no expiry');

ok(wait_for(sub { gateway($T{r1}) == 200 }, 'the gateway takes r1'),
   'the gateway verifies an RS256 token of the core through the published keys');
is(gateway($T{e1}), 200, 'and an ES256 one');
is(gateway($T{r2}), 401, 'a key that is not listed is refused');

# Redis lost the key set: a reconnection writes it again, and so does a
# message on ms:sso:issuer
redis_cmd('DEL', 'ms:sso:jwks');
redis_cmd('CLIENT', 'KILL', 'TYPE', 'pubsub');   # ours too: made again
listen_jwks();
ok(wait_for(sub { kids(redis_cmd('GET', 'ms:sso:jwks')) eq 'r1,e1' }, 'republished'),
   'written again once the bus is back');
redis_cmd('DEL', 'ms:sso:jwks');
redis_cmd('PUBLISH', 'ms:sso:issuer', 'publish');
ok(wait_for(sub { kids(redis_cmd('GET', 'ms:sso:jwks')) eq 'r1,e1' }, 'asked'),
   'written again when asked on ms:sso:issuer');

# Redis refuses the write (an ACL without SET): logged once, tried again
# with the backoff until it is allowed
redis_cmd('ACL', 'SETUSER', 'default', '-set');
redis_cmd('DEL', 'ms:sso:jwks');
redis_cmd('PUBLISH', 'ms:sso:issuer', 'publish');
ok(wait_for(sub { error_log_text() =~ /refused the issuer's keys \(SET\/PUBLISH ms:sso:jwks\): NOPERM; trying again/ },
            'the refusal logged'), 'a refused write is logged with its reason');
redis_cmd('ACL', 'SETUSER', 'default', '+set');
ok(wait_for(sub { kids(redis_cmd('GET', 'ms:sso:jwks')) eq 'r1,e1' }, 'allowed again'),
   'written once Redis takes it again');
like(error_log_text(), qr/the issuer's keys are in redis \S+ \(ms:sso:jwks\) again/,
     'and that is logged');
my @refusals = error_log_text() =~ /refused the issuer's keys/g;
is(scalar @refusals, 1, 'the refusal was logged once');

# Redis away for a while, and back without the key set: worker 0 tries
# again until it is written
redis_cmd('DEL', 'ms:sso:jwks');
redis_stop();
sleep 0.5;
redis_start();
listen_jwks();
ok(wait_for(sub { kids(redis_cmd('GET', 'ms:sso:jwks')) eq 'r1,e1' }, 'back'),
   'written again once Redis is back');
ok(wait_for(sub { gateway($T{r1}) == 200 }, 'the gateway again'),
   'the gateway verifies again');

SKIP: {
    skip 'no reload without a master process (valgrind mode)', 6
        if $ENV{TEST_NGINX_USE_VALGRIND};

    # rotation, as docs/sso.md says: r1 left, e1 stays, r2 added last (it signs)
    my $before = changed_count();
    keys_conf(['ec256.key', 'e1'], ['rsa2.key', 'r2']);
    is(nginx_hup(), undef, 'reloaded with another key list');
    ok(wait_for(sub { kids(redis_cmd('GET', 'ms:sso:jwks')) eq 'e1,r2' }, 'the new set'),
       'the new key set is in Redis after the reload');
    is(redis_cmd('GET', 'ms:sso:jwks'), jwks_body(), 'the same as the new GET jwks');
    ok(wait_for(sub { changed_count() > $before }, 'another PUBLISH'), 'and published');
    ok(wait_for(sub { gateway($T{r2}) == 200 }, 'r2 taken'), 'the new key verifies at once');
    is(gateway($T{r1}), 401, 'the key that left the list no longer does');
}

is(join("\n", stop_env()), '', 'nginx clean');
# the errors expected: the bus lost to CLIENT KILL, the ACL, Redis away
# (and, on a one-node cluster, its CLUSTERDOWN while it comes back)
my @errors = grep { !/mobispot: (lost (the subscriptions on|connection to)|cannot connect to) redis|refused the (issuer's keys|heartbeat)/ }
             grep { !(redis_slots_mode() && /error reply to the snapshot/) }
             error_log_text() =~ /^.*\[(?:error|crit|alert|emerg)\].*$/mg;
is(join("\n", @errors), '', 'no other error in the log');

Test::More::done_testing();
