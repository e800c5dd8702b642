# The site's side of a sign-in, end to end with a cookie jar, and the
# silent re-sign-in: a site token that expired sends the browser to
# authorize again with a new state; the issuer (played here: it writes the
# code's record into Redis as docs/sso.md says, and answers at once, as it
# does with a live central session) posts a new code; the callback sets a
# new token cookie and the browser is through, with nothing left of the
# first sign-in in its way.  Two tabs signing in at once each get through.

use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use Test::More;
use MobispotSSO;
use Digest::SHA qw(sha256);
use MIME::Base64 qw(decode_base64);
use Test::Mobispot::HTTP qw(build_request exchange);

sso_keys();

my $env = start_env(
    http_config => '
    mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    mobispot_jwt_key $TEST_NGINX_SSO_KEYS/hs256.secret alg=HS256;
    mobispot_jwt_issuer https://sso.mobispot.test;
    mobispot_jwt_audience namur;
    mobispot_sso_token cookie=ms_sso;
    mobispot_sso_authorize_url https://sso.mobispot.test/sso/authorize;
    mobispot_sso_client_id namur-gw;
    mobispot_sso_redirect_uri http://localhost:$TEST_NGINX_SERVER_PORT/sso/callback;
',
    config => '
    location = /sso/callback { mobispot_sso_callback; }
    location /p { mobispot_sso on; try_files /none @in; }
    location @in { return 200 "in\n"; }
',
);

my $port = $env->{server_port};
my $origin = "http://localhost:$port";
my %jar;

sub unb64 { my ($s) = @_; $s =~ tr{-_}{+/}; $s .= '=' x ((4 - length($s) % 4) % 4); return decode_base64($s) }

sub request {
    my ($method, $uri, $body, @headers) = @_;
    my $cookies = join('; ', map { "$_=$jar{$_}" } sort keys %jar);
    push @headers, ['Cookie', $cookies] if length $cookies;
    push @headers, ['Content-Type', 'application/x-www-form-urlencoded'] if defined $body;
    my ($res) = exchange(port => $port, methods => [$method],
                         data => build_request({ method => $method, uri => $uri, body => $body,
                                                 headers => \@headers, close => 1 }));
    for my $h (@{ $res->{headers} }) {
        next unless lc $h->[0] eq 'set-cookie';
        my ($name, $value, $attrs) = $h->[1] =~ /^([^=]+)=([^;]*)(.*)$/ or next;
        if ($attrs =~ /Max-Age=0\b/) { delete $jar{$name} } else { $jar{$name} = $value }
    }
    return $res;
}

my $n = 0;

# the browser's redirect, checked; returns the state and the challenge
sub to_authorize {
    my ($path) = @_;
    my $res = request('GET', $path, undef, ['Accept', 'text/html']);
    is($res->{status}, 302, "$path: a browser is sent to sign in");
    my ($state) = ($res->{header}{location} // '') =~ /[?&]state=([^&]+)/;
    my ($challenge) = ($res->{header}{location} // '') =~ /[?&]code_challenge=([^&]+)/;
    ok(defined $state && defined $challenge, 'to authorize, with a state and a challenge');
    my $value = $jar{"__Host-mobispot_state_$state"};
    ok(defined $value, 'a state cookie named by the state');
    my ($verifier, $back) = split /\./, $value // '', 2;
    is(b64url(sha256($verifier // '')), $challenge, 'the cookie keeps the verifier of the challenge');
    is(unb64($back // ''), "$origin$path", 'and the return_to, from the server name and port');
    return ($state, $challenge);
}

# the issuer: a code whose record holds a token for the site
sub issue {
    my ($challenge, $token) = @_;
    my $code = sprintf('code%03d', ++$n) . ('k' x 36);
    my $rec = '{"client":"namur-gw","redirect_uri":"' . "$origin/sso/callback"
              . '","challenge":"' . $challenge . '","sid":"sess-1","sub":"alice",'
              . '"scope":"openid","auth_time":' . time() . ',"token":"' . $token . '"}';
    redis_cmd('SET', 'ms:{code:' . unpack('H*', sha256($code)) . '}', $rec, 'PX', 60000);
    return $code;
}

sub callback {
    my ($code, $state) = @_;
    return request('POST', '/sso/callback',
                   "code=$code&state=$state&iss=https%3A%2F%2Fsso.mobispot.test");
}

sub fresh { tok('hs256.secret', 'HS256', '{"typ":"at+jwt","alg":"HS256"}', claims(@_)) }

# 1. a first sign-in, with an expired token cookie in the jar
$jar{ms_sso} = fresh(exp => time() - 60);
my ($state1, $ch1) = to_authorize('/p/page?x=1');
my $t1 = fresh(exp => time() + 600, jti => 'one');
my $res = callback(issue($ch1, $t1), $state1);
is($res->{status}, 303, 'the callback answers 303');
is($res->{header}{location}, "$origin/p/page?x=1", 'to return_to');
is($jar{ms_sso}, $t1, 'the new token is the cookie');
ok(!exists $jar{"__Host-mobispot_state_$state1"}, 'the state cookie is cleared');
like($res->{header}{'set-cookie'}, qr/ms_sso=[^;]+; Path=\/; Max-Age=(59\d|600); Secure; HttpOnly; SameSite=Lax/,
     'the token cookie lives as long as the token');
$res = request('GET', '/p/page?x=1', undef, ['Accept', 'text/html']);
is($res->{status}, 200, 'through');

# 2. the token expires: silent re-sign-in, a new state, a new cookie; a
# state cookie of an abandoned sign-in in the jar changes nothing
$jar{ms_sso} = fresh(exp => time() - 1, jti => 'one');
$jar{'__Host-mobispot_state_' . ('Z' x 43)} = 'stale';
my ($state2, $ch2) = to_authorize('/p/again');
isnt($state2, $state1, 'a new state');
isnt($ch2, $ch1, 'a new challenge');
my $t2 = fresh(exp => time() + 600, jti => 'two');
$res = callback(issue($ch2, $t2), $state2);
is($res->{status}, 303, 'the new code is taken');
is($res->{header}{location}, "$origin/p/again", 'back where the browser was');
is($jar{ms_sso}, $t2, 'the new token');
$res = request('GET', '/p/again', undef, ['Accept', 'text/html']);
is($res->{status}, 200, 'through again, no form seen');

# 3. two tabs: two sign-ins started, finished in the other order
$jar{ms_sso} = fresh(exp => time() - 1);
my ($sa, $ca) = to_authorize('/p/a');
my ($sb, $cb) = to_authorize('/p/b');
my $res_b = callback(issue($cb, fresh(jti => 'b')), $sb);
my $res_a = callback(issue($ca, fresh(jti => 'a')), $sa);
is($res_b->{status}, 303, 'tab b signs in');
is($res_a->{status}, 303, 'tab a signs in');
is($res_a->{header}{location}, "$origin/p/a", 'tab a back to its page');
is($res_b->{header}{location}, "$origin/p/b", 'tab b back to its page');

# 4. a state cookie replayed with an old state after its callback: refused
$res = callback(issue($ca, fresh()), $sa);
is($res->{status}, 403, 'a finished sign-in cannot be finished again');

is(join("\n", stop_env()), '', 'nginx clean');

done_testing();
