# GET/POST userinfo (OIDC Core 5.3, docs/sso.md "userinfo"): the Bearer
# access token of this issuer (its own keys, typ at+jwt, iss, the API's
# audience, exp), its sid neither revoked nor ended; answers sub, name and
# email of the account; errors as RFC 6750 3 says (WWW-Authenticate:
# Bearer, error="invalid_token").  An RS256 key: the mint signs in the
# thread pool.
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;
use MobispotIssuer;
use MobispotToken;
use IO::Socket::INET;
use Time::HiRes ();

my $dir = sso_keys();
my $root = $ENV{TEST_NGINX_ROOT};
system("make -s -C $root/tools >/dev/null") == 0
    or die "cannot build tools/mobispot-jwt\n";
my $CLI = "$root/tools/build/mobispot-jwt";

token_env(key => 'rsa.key', kid => 'r1');
seed_clients();
seed_user('u1');

sub tokens_for {
    my ($sid) = @_;
    seed_session($sid, 'u1');
    my ($code, $verifier) = seed_code(sid => $sid, scope => 'openid');
    my ($st, $j) = token_post(form(grant_type => 'authorization_code', code => $code,
                                   redirect_uri => APP_URI, code_verifier => $verifier,
                                   client_id => 'app'));
    die "code grant: $st\n" unless $st == 200;
    return $j;
}

sub userinfo {
    my (%o) = @_;
    my $r = http_request({ method => $o{method} // 'GET', uri => '/sso/userinfo',
                           headers => $o{headers} // [], body => $o{body} });
    return ($r->{status}, decode($r->{body}), $r);
}

sub bearer { return ["Authorization: Bearer $_[0]"] }

sub wait_for_log {
    my ($re, $secs) = @_;
    my $t = Time::HiRes::time();
    while (Time::HiRes::time() - $t < $secs) {
        return 1 if error_log_text() =~ $re;
        Time::HiRes::sleep(0.02);
    }
    return 0;
}

# a token signed with key file $key, kid $kid, of these claims
sub mint {
    my ($key, $kid, $claims, @opt) = @_;
    my $json = JSON::PP->new->canonical->encode($claims);
    my $t = `$CLI mint --key $dir/$key --alg RS256 --kid $kid @opt '$json'`;
    chomp $t;
    return $t;
}

my $sid = new_sid();
my $j = tokens_for($sid);

my ($st, $u, $r) = userinfo(headers => bearer($j->{access_token}));
is($st, 200, 'GET userinfo with the access token: 200') or diag($r->{body});
is_deeply($u, { sub => 'u1', name => 'Ada Lovelace', email => 'ada@example.org' },
          '  sub, name, email');
is($r->{header}{'cache-control'}, 'no-store', '  Cache-Control: no-store');
($st, $u) = userinfo(method => 'POST', headers => bearer($j->{access_token}), body => '');
is($st, 200, 'POST userinfo: 200');
is($u->{sub}, 'u1', '  sub');

# refusals
my %good = (iss => iss(), aud => api_aud(), sub => 'u1', sid => $sid);
my @cases = (
    ['no Authorization', [], 401, undef],
    ['Basic', ['Authorization: Basic dTE6cA=='], 400, 'invalid_request'],
    ['a token that is no JWT', bearer('abc'), 401, 'invalid_token'],
    ['the ID token', bearer($j->{id_token}), 401, 'invalid_token'],
    ['a token of another key with the kid', bearer(mint('rsa2.key', 'r1', \%good)), 401,
     'invalid_token'],
    ['a token of an unknown kid', bearer(mint('rsa.key', 'zz', \%good)), 401, 'invalid_token'],
    ['a site\'s audience', bearer(mint('rsa.key', 'r1', { %good, aud => 'cw-namur' })),
     401, 'invalid_token'],
    ['another issuer', bearer(mint('rsa.key', 'r1', { %good, iss => 'https://evil.example' })),
     401, 'invalid_token'],
    ['no sid', bearer(mint('rsa.key', 'r1', { %good, sid => undef })), 401, 'invalid_token'],
    ['a sid that breaks a key', bearer(mint('rsa.key', 'r1', { %good, sid => 'a}b:cdefghijklmnopqrst' })),
     401, 'invalid_token'],
    ['expired', bearer(mint('rsa.key', 'r1', { %good, iat => time - 7200, exp => time - 3600 })),
     401, 'invalid_token'],
    ['a JWT typ', bearer(mint('rsa.key', 'r1', \%good, '--typ', 'JWT')), 401, 'invalid_token'],
    ['no typ', bearer(mint('rsa.key', 'r1', \%good, '--typ', '-')), 401, 'invalid_token'],
    ['a huge token', bearer('a' x 5000), 401, 'invalid_token'],
);
for my $case (@cases) {
    my ($name, $headers, $status, $error) = @$case;
    delete $good{sid} if 0;
    my ($s, $e, $res) = userinfo(headers => $headers);
    is($s, $status, "$name: $status") or diag($res->{body});
    my $www = $res->{header}{'www-authenticate'} // '';
    if (defined $error) {
        like($www, qr/^Bearer realm="mobispot", error="\Q$error\E"$/, "  WWW-Authenticate: Bearer error=\"$error\"");
        is($e->{error}, $error, "  the JSON error $error");
    } else {
        is($www, 'Bearer realm="mobispot"', '  WWW-Authenticate: Bearer, no error');
    }
}
my $own = mint('rsa.key', 'r1', \%good);
($st) = userinfo(headers => bearer($own));
is($st, 200, 'a token of the issuer\'s own key and claims: 200 (the refusals above are theirs)');

# the session signed out, ended; the account deleted
redis_cmd('ZADD', 'ms:sso:revoked', time + 3600, $sid);
($st, $u, $r) = userinfo(headers => bearer($j->{access_token}));
is($st, 401, 'a revoked sid: 401');
like($u->{message} // $u->{error_description} // '', qr/signed out/, '  signed out');
redis_cmd('ZREM', 'ms:sso:revoked', $sid);
is((userinfo(headers => bearer($j->{access_token})))[0], 200, 'not revoked again: 200');
redis_cmd('DEL', "ms:{sess:$sid}");
($st, $u) = userinfo(headers => bearer($j->{access_token}));
is($st, 401, 'the session ended: 401');
seed_session($sid, 'u1');
redis_cmd('DEL', 'ms:{user:u1}:doc');
($st, $u) = userinfo(headers => bearer($j->{access_token}));
is($st, 401, 'the account deleted: 401');

# clients that go while their RS256 token is signed in the pool, or a
# secret is checked there: the tasks end alone, nothing leaks (valgrind)
seed_session($sid, 'u1');
redis_cmd('SET', 'ms:{user:u1}:doc', '{"id":"u1","name":"Ada Lovelace"}');
# each client goes a little later than the one before, until one went
# while its task ran (valgrind: much later)
my $gone = qr/mobispot: thread task #\d+ done, its request has gone/;
my $seen = 0;
for my $i (1 .. 40) {
    my ($code, $verifier) = seed_code(sid => $sid, scope => 'openid');
    my $body = $i % 2
        ? form(grant_type => 'authorization_code', code => $code, redirect_uri => APP_URI,
               code_verifier => $verifier, client_id => 'app')
        : form(grant_type => 'refresh_token', refresh_token => $j->{refresh_token},
               client_id => 'back', client_secret => APP_SECRET);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . server_port(), Proto => 'tcp')
        or die "connect: $!";
    print $s "POST /sso/token HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . "Content-Type: application/x-www-form-urlencoded\r\n"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    select undef, undef, undef, 0.002 * 1.2 ** $i;
    close $s;
    last if ($ENV{TEST_NGINX_LOG_LEVEL} // 'debug') ne 'debug';
    $seen = wait_for_log($gone, 0.3) and last;
}
SKIP: {
    skip 'the thread tasks are told in the debug log', 1
        if ($ENV{TEST_NGINX_LOG_LEVEL} // 'debug') ne 'debug';
    ok($seen || wait_for_log($gone, 5), 'a task outlived its request');
}
($st, $u) = userinfo(headers => bearer($j->{access_token}));
is($st, 200, 'after clients that went away, userinfo answers');
is($u->{name}, 'Ada Lovelace', '  the account');

# methods
my $m = http_request({ method => 'PUT', uri => '/sso/userinfo', body => 'x' });
is($m->{status}, 405, 'PUT userinfo: 405');
like($m->{header}{allow} // '', qr/GET.*POST|POST.*GET/, '  Allow: GET, POST');

is(join("\n", stop_env()), '', 'nginx clean');

Test::More::done_testing();
