# The issuer's logout (issue 10, OIDC RP-Initiated Logout): GET asks for
# a confirmation (a form with a CSRF token: a cross-site GET signs nobody
# out); POST ends the session: ms:{sess:<sid>} deleted, the sid in
# ms:sso:revoked for 12 h and published, so that a gateway with
# mobispot_sso_revocation refuses that session's tokens within 1 s; the
# cookie cleared; 303 to a registered post_logout_redirect_uri with state,
# or a signed-out page.  Unregistered URIs, missing CSRF and hostile
# requests are refused and change nothing.
#
#   prove -I t/lib t/514-issuer-logout.t
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotLogin;
use MobispotSSO;
use Test::More;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

sub hdr {
    my ($r, $name) = @_;
    return join "\n", map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $r->{headers} };
}
sub hidden {
    my ($body) = @_;
    my %p = ($body // '') =~ /<input type="hidden" name="([^"]+)" value="([^"]*)">/g;
    return \%p;
}
sub gateway {
    my ($tok) = @_;
    return Test::Mobispot::http_request({ uri => '/p',
        headers => ["Authorization: Bearer $tok"] })->{status} // 0;
}

issuer_start();
put_user('ada', $PW);
put_client('app', 'public_app', ['https://app.example/cb'],
           ['https://app.example/bye', 'https://app.example/bye2?x=1']);

my $URI = 'https://app.example/bye';
my %jar;
sign_in(\%jar, 'ada');
my ($sid) = ($jar{'__Host-mobispot_session'} // '') =~ /^(.{22})\./;
ok(redis_cmd('EXISTS', "ms:{sess:$sid}"), 'signed in: a session');

# a token of that session, as the token endpoint will sign it
my $tok = tok('ec256.key', 'ES256', '{"alg":"ES256","typ":"at+jwt"}',
              claims(iss => $ISS, sub => 'ada', sid => $sid));
is(gateway($tok), 200, 'the gateway takes a token of the session');

# ---------------------------------------------------------------------------
# GET: the confirmation, nothing ends

my $before = redis_state();
my $r = req('GET', '/sso/logout?' . form(client_id => 'app', post_logout_redirect_uri => $URI,
                                          state => 'bye-1', id_token_hint => 'x.y.z'),
            jar => \%jar);
is($r->{status}, 200, 'GET logout: 200, a confirmation');
like($r->{body}, qr{<form method="post" action="logout">}, '... a form posting to logout');
like($r->{body}, qr{<button type="submit">Sign out</button>}, '... one button');
my $h = hidden($r->{body});
is($h->{csrf}, $jar{'__Host-mobispot_csrf'}, '... its CSRF token, in the cookie too');
is($h->{client_id}, 'app', '... client_id carried');
is($h->{post_logout_redirect_uri}, $URI, '... the URI carried');
is($h->{state}, 'bye-1', '... state carried');
ok(!exists $h->{id_token_hint}, '... the hint is not carried (not used)');
# the POST's 303 goes to the URI: a browser holds it to form-action too
like(hdr($r, 'Content-Security-Policy'), qr{form-action 'self' https://app\.example(;|$)},
     '... its CSP: form-action \'self\' and the post-logout URI\'s origin');
is(hdr($r, 'Cache-Control'), 'no-store', '... no-store');
unlike(hdr($r, 'Set-Cookie'), qr/mobispot_session/, '... the session cookie untouched');
is(redis_state(), $before, '... nothing changed in Redis');
is(gateway($tok), 200, '... and the token still passes');

# refusals
for my $case (
    ['an unregistered post_logout_redirect_uri', form(client_id => 'app', post_logout_redirect_uri => 'https://evil.example/')],
    ['a URI with a slash more', form(client_id => 'app', post_logout_redirect_uri => "$URI/")],
    ['a redirect_uri, not a post-logout one', form(client_id => 'app', post_logout_redirect_uri => 'https://app.example/cb')],
    ['a URI without client_id', form(post_logout_redirect_uri => $URI)],
    ['a URI of an unknown client', form(client_id => 'nobody', post_logout_redirect_uri => $URI)],
    ['a client_id that is no id', form(client_id => 'A B', post_logout_redirect_uri => $URI)],
    ['a bad escape', 'client_id=%zz'],
    ['a NUL', 'state=a%00'],
    ['not UTF-8', 'state=%FF'],
    ['state twice', 'state=a&state=b'],
    ['a state of 600 bytes', 'state=' . ('s' x 600)],
    ['a URI of 3000 bytes', 'client_id=app&post_logout_redirect_uri=' . ('u' x 3000)],
)
{
    $r = req('GET', "/sso/logout?$case->[1]", jar => \%jar);
    is($r->{status}, 400, "GET logout, $case->[0]: 400");
    is($r->{header}{location}, undef, '... no redirect');
}
is(redis_state(), $before, 'the refusals changed nothing');

# POST without the CSRF token, with a wrong one, without the cookie
for my $case (['no csrf field', form(client_id => 'app', post_logout_redirect_uri => $URI), \%jar],
              ['a wrong csrf field', form(csrf => 'A' x 43), \%jar],
              ['no csrf cookie', form(csrf => $h->{csrf}),
               { '__Host-mobispot_session' => $jar{'__Host-mobispot_session'} }])
{
    $r = req('POST', '/sso/logout', jar => { %{ $case->[2] } }, body => $case->[1]);
    is($r->{status}, 403, "POST logout, $case->[0]: 403");
    unlike(hdr($r, 'Set-Cookie'), qr/mobispot_session/, '... the cookie kept');
}
for my $type ('text/plain', 'application/json') {
    $r = req('POST', '/sso/logout', jar => { %jar }, body => form(csrf => $h->{csrf}),
             headers => ["Content-Type: $type"]);
    is($r->{status}, 415, "POST logout as $type: 415");
}
$r = req('POST', '/sso/logout', jar => { %jar },
         body => form(csrf => $h->{csrf}, client_id => 'app', post_logout_redirect_uri => 'https://evil.example/'));
is($r->{status}, 400, 'POST logout to an unregistered URI: 400');
$r = req('POST', '/sso/logout', jar => { %jar }, body => form(csrf => $h->{csrf}) . '&csrf=x');
is($r->{status}, 400, 'POST logout with csrf twice: 400');
$r = Test::Mobispot::http_request({ method => 'PUT', uri => '/sso/logout', body => '' });
is($r->{status}, 405, 'PUT logout: 405');
like($r->{header}{allow} // '', qr/GET.*POST|POST.*GET/, '... Allow');
is(redis_state(), $before, 'nothing ended');
is(gateway($tok), 200, 'the token still passes');

# ---------------------------------------------------------------------------
# POST: the session ends, everywhere

my $sub = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => redis_port(), Proto => 'tcp')
    or die "subscriber: $!";
print $sub "SUBSCRIBE ms:sso:revoked\r\n";
my $heard = '';
my $sel = IO::Select->new($sub);
sub hear { while ($sel->can_read(0.05)) { sysread($sub, my $b, 65536) or last; $heard .= $b } }
hear() for 1 .. 10;

$r = req('POST', '/sso/logout', jar => \%jar,
         body => form(csrf => $h->{csrf}, client_id => 'app', post_logout_redirect_uri => $URI,
                      state => 'bye 1'));
my $t0 = time;
is($r->{status}, 303, 'POST logout: 303');
is($r->{header}{location}, "$URI?state=bye%201", '... to the registered URI, with state');
like(hdr($r, 'Set-Cookie'), qr/^__Host-mobispot_session=; Max-Age=0; Path=\/; Secure; HttpOnly; SameSite=Lax$/m,
     '... the cookie cleared');
ok(!exists $jar{'__Host-mobispot_session'}, '... gone from the jar');
is(redis_cmd('EXISTS', "ms:{sess:$sid}"), 0, 'the session hash is deleted (its refresh tokens with it)');
my $score = redis_cmd('ZSCORE', 'ms:sso:revoked', $sid) // 0;
ok(abs($score - (time + 43200)) < 5, 'the sid is in ms:sso:revoked for 12 h');
hear() for 1 .. 10;
like($heard, qr/\Q$sid $score\E/, 'and published: "<sid> <exp>"');

my $refused = 0;
while (time - $t0 < 1) {
    if (gateway($tok) == 401) { $refused = 1; last }
    sleep 0.05;
}
ok($refused, 'the gateway refuses the session\'s token within 1 s');

# once more: nothing to end, no session, still the redirect
$before = redis_state();
$r = login_get(\%jar);
$r = req('GET', '/sso/logout?' . form(client_id => 'app', post_logout_redirect_uri => 'https://app.example/bye2?x=1'), jar => \%jar);
$h = hidden($r->{body});
$r = req('POST', '/sso/logout', jar => \%jar,
         body => form(csrf => $h->{csrf}, client_id => 'app',
                      post_logout_redirect_uri => 'https://app.example/bye2?x=1', state => 's'));
is($r->{status}, 303, 'POST logout without a session: 303');
is($r->{header}{location}, 'https://app.example/bye2?x=1&state=s', '... a URI with a query: &state=');
is(redis_cmd('ZCARD', 'ms:sso:revoked'), 1, '... nothing more revoked');

# a session of someone else, named by its sid but without its secret
my %other;
sign_in(\%other, 'ada');
my ($sid2) = $other{'__Host-mobispot_session'} =~ /^(.{22})\./;
my %forged = ('__Host-mobispot_session' => "$sid2." . ('A' x 43));
$r = req('GET', '/sso/logout', jar => \%forged);
like(hdr($r, 'Content-Security-Policy'), qr/form-action 'self'(;|$)/,
     'the confirmation without a URI: form-action \'self\' only');
$h = hidden($r->{body});
$r = req('POST', '/sso/logout', jar => \%forged, body => form(csrf => $h->{csrf}));
is($r->{status}, 200, 'POST logout without a URI: 200');
like($r->{body}, qr/You are signed out/, '... the signed-out page');
ok(redis_cmd('EXISTS', "ms:{sess:$sid2}"), 'a sid without its secret ends nothing');
is(redis_cmd('ZSCORE', 'ms:sso:revoked', $sid2), undef, '... revokes nothing');

my @problems = stop_env();
is("@problems", '', 'nginx stopped cleanly');

done_testing();
