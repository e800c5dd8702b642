# The issuer's authorize endpoint (issue 10): without a session, the
# sign-in first (login?continue=, then back); with one, a code of 256
# bits stored as its SHA-256 with the authorization's JSON for 60 s, sent
# in query mode (303) or form_post mode (an auto-submitting page, CSP
# script hash, a button in <noscript>); errors before the client and its
# redirect_uri are known good are HTML pages, never redirects; after, the
# OAuth error response with state and iss; prompt=none; POST; hostile
# requests that write nothing.
#
#   prove -I t/lib t/513-issuer-authorize.t
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotLogin;
use Test::More;
use JSON::PP;
use Digest::SHA qw(sha256 sha256_hex);
use MIME::Base64 qw(encode_base64);

sub hdr {
    my ($r, $name) = @_;
    return join "\n", map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $r->{headers} };
}
sub qparams {
    my ($url) = @_;
    my ($q) = $url =~ /\?(.*)$/ or return {};
    my %p;
    for (split /&/, $q) {
        my ($k, $v) = split /=/, $_, 2;
        $v //= '';
        $v =~ s/\+/ /g;
        $v =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        $p{$k} = $v;
    }
    return \%p;
}
sub hidden {
    my ($body) = @_;
    my %p = ($body // '') =~ /<input type="hidden" name="([^"]+)" value="([^"]*)">/g;
    return \%p;
}

issuer_start();
put_user('ada', $PW);
redis_cmd('HSET', 'ms:sites', 'namur', '{}');
put_client('app', 'public_app', ['https://app.example/cb', 'https://app.example/cb2?x=1'],
           ['https://app.example/bye']);
put_client('gw', 'site_gateway', ['https://namur.example/sso/callback'], [], 'namur');

my ($verifier, $challenge) = pkce();
my %base = (response_type => 'code', client_id => 'app',
            redirect_uri => 'https://app.example/cb', state => 'st-1 &x',
            code_challenge => $challenge, code_challenge_method => 'S256',
            scope => 'openid offline_access', nonce => 'n-0S6');
my @order = qw(response_type client_id redirect_uri state code_challenge
               code_challenge_method scope nonce);
sub az_query {
    my (%o) = (%base, @_);
    return form(map { defined $o{$_} ? ($_ => $o{$_}) : () }
                (@order, grep { my $k = $_; !grep { $_ eq $k } @order } sort keys %o));
}
sub authorize { my ($jar, %o) = @_; return req('GET', '/sso/authorize?' . az_query(%o), jar => $jar) }

# ---------------------------------------------------------------------------
# no session: the sign-in first, then back

my %jar;
my $before = redis_state();
my $r = authorize(\%jar);
is($r->{status}, 303, 'no session: 303');
like($r->{header}{location}, qr{/sso/login\?continue=%2Fsso%2Fauthorize%3F}, '... to login?continue=');
my $cont = qparams($r->{header}{location})->{continue};
my $parked = qparams($cont);
is_deeply($parked, { %base }, '... which carries every parameter of the request');
is(redis_state(), $before, '... nothing written');

$r = login_get(\%jar, '?continue=' . MobispotLogin::esc($cont));
is(continue_of($r), $cont, 'the form carries it');
# the form's answer ends at the app's redirect URI (login's 303, then
# authorize's): a browser holds those redirects to the page's form-action
like(hdr($r, 'Content-Security-Policy'), qr{form-action 'self' https://app\.example(;|$)},
     '... its CSP: form-action \'self\' and the registered redirect URI\'s origin');
{
    my %j2;
    my $other = $cont =~ s/redirect_uri=https%3A%2F%2Fapp\.example%2Fcb/redirect_uri=https%3A%2F%2Fevil.example%2Fcb/r;
    isnt($other, $cont, '(a parked request with another redirect URI)');
    my $g = login_get(\%j2, '?continue=' . MobispotLogin::esc($other));
    like(hdr($g, 'Content-Security-Policy'), qr/form-action 'self'(;|$)/,
         'a redirect URI the client does not have: form-action \'self\' only');
    my $u = $cont =~ s/client_id=app/client_id=nobody/r;
    isnt($u, $cont, '(a parked request of another client)');
    $g = login_get(\%j2, '?continue=' . MobispotLogin::esc($u));
    like(hdr($g, 'Content-Security-Policy'), qr/form-action 'self'(;|$)/,
         'an unknown client: form-action \'self\' only');
    $g = login_post(\%j2, 'ada', 'not the password', query => '?continue=' . MobispotLogin::esc($cont));
    is($g->{status}, 401, 'a wrong password: the form again');
    like(hdr($g, 'Content-Security-Policy'), qr{form-action 'self' https://app\.example(;|$)},
         '... with the same form-action');
    redis_cmd('DEL', grep { /^ms:\{login:/ } @{ redis_cmd('KEYS', 'ms:{login:*') });
}
$r = login_post(\%jar, 'ada', $PW, query => '?continue=' . MobispotLogin::esc($cont));
is($r->{status}, 303, 'signed in: 303');
like($r->{header}{location}, qr{^http://[^/]+\Q$cont\E$}, '... back to authorize');
my ($sid) = ($jar{'__Host-mobispot_session'} // '') =~ /^(.{22})\./;

# ---------------------------------------------------------------------------
# a live session: the code, query mode

$r = req('GET', $cont, jar => \%jar);
is($r->{status}, 303, 'authorize with a session: 303');
my $loc = $r->{header}{location} // '';
like($loc, qr{^https://app\.example/cb\?code=}, '... to the redirect_uri');
my $p = qparams($loc);
like($p->{code}, qr/^[A-Za-z0-9_-]{43}$/, '... a code of 256 bits (43 base64url characters)');
is($p->{state}, 'st-1 &x', '... the state, as sent');
is($p->{iss}, $ISS, '... iss (RFC 9207)');
is(hdr($r, 'Cache-Control'), 'no-store', '... no-store');
is(hdr($r, 'Referrer-Policy'), 'no-referrer', '... no-referrer');
my $key = 'ms:{code:' . sha256_hex($p->{code}) . '}';
my $rec = eval { decode_json(redis_cmd('GET', $key) // '') } // {};
is_deeply($rec, { client => 'app', redirect_uri => 'https://app.example/cb',
                  challenge => $challenge, sid => $sid, sub => 'ada',
                  scope => 'openid offline_access', auth_time => $rec->{auth_time},
                  nonce => 'n-0S6' },
          'the code is stored as its SHA-256, with the authorization');
like($rec->{auth_time} // '', qr/^\d+$/, '... auth_time a number');
my $pttl = redis_cmd('PTTL', $key);
ok($pttl > 55_000 && $pttl <= 60_000, "... for 60 s ($pttl ms)");
is(scalar(grep { /^ms:\{code:/ } @{ redis_cmd('KEYS', '*') }), 1, '... one code, the code itself in no key');

$r = authorize(\%jar, nonce => undef, scope => undef);
$p = qparams($r->{header}{location});
$rec = eval { decode_json(redis_cmd('GET', 'ms:{code:' . sha256_hex($p->{code}) . '}')) } // {};
ok(!exists $rec->{nonce}, 'no nonce asked: none stored');
is($rec->{scope}, '', '... no scope: an empty one');

$r = authorize(\%jar, redirect_uri => 'https://app.example/cb2?x=1');
like($r->{header}{location}, qr{^https://app\.example/cb2\?x=1&code=[^&]+&state=}, 'a redirect_uri with a query: &code=');

$r = authorize(\%jar, prompt => 'none');
like($r->{header}{location}, qr{^https://app\.example/cb\?code=}, 'prompt=none with a session: a code');

$r = req('POST', '/sso/authorize', jar => \%jar, body => az_query());
is($r->{status}, 303, 'POST authorize (a form body): 303');
like($r->{header}{location}, qr{^https://app\.example/cb\?code=}, '... a code');

# ---------------------------------------------------------------------------
# form_post

$r = authorize(\%jar, client_id => 'gw', redirect_uri => 'https://namur.example/sso/callback');
is($r->{status}, 200, 'a site gateway: 200, form_post always');
my $h = hidden($r->{body});
like($h->{code} // '', qr/^[A-Za-z0-9_-]{43}$/, '... the code in the form');
is($h->{state}, 'st-1 &amp;x', '... the state, HTML-escaped');
is($h->{iss}, $ISS, '... iss');
like($r->{body}, qr{<form method="post" action="https://namur\.example/sso/callback">}, '... posted to the callback');
like($r->{body}, qr{<noscript>.*<button type="submit">Continue</button>.*</noscript>}s, '... a button without script');
my ($script) = $r->{body} =~ m{<script>(.*?)</script>}s;
my $csp = hdr($r, 'Content-Security-Policy');
my $sh = encode_base64(sha256($script // ''), '');
like($csp, qr/script-src 'sha256-\Q$sh\E'/, "... the script allowed by its hash only");
like($csp, qr/form-action https:\/\/namur\.example(;|$)/, '... form-action: the callback\'s origin');
like($csp, qr/frame-ancestors 'none'/, "... frame-ancestors 'none'");
$rec = eval { decode_json(redis_cmd('GET', 'ms:{code:' . sha256_hex($h->{code}) . '}')) } // {};
is($rec->{client}, 'gw', '... the code is the gateway\'s');
my ($tp) = ($rec->{token} // '') =~ /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$/;
ok(defined $tp, '... with the access token minted for the site (a JWS)');
$tp //= '';
$tp =~ tr{-_}{+/};
my $tc = eval { decode_json(MIME::Base64::decode_base64($tp . '=' x ((4 - length($tp) % 4) % 4))) } // {};
is($tc->{aud}, 'namur', '... its audience: the gateway\'s site');
is($tc->{sid}, $rec->{sid}, '... and the session\'s sid');

$r = authorize(\%jar, response_mode => 'form_post');
is($r->{status}, 200, 'response_mode=form_post for an app: 200');
like($r->{body}, qr{action="https://app\.example/cb"}, '... posted to its redirect_uri');

$r = authorize(\%jar, client_id => 'gw', redirect_uri => 'https://namur.example/sso/callback',
               response_mode => 'query');
is($r->{status}, 200, 'a site gateway asking query mode: the error, by form_post');
is(hidden($r->{body})->{error}, 'invalid_request', '... invalid_request');
is(hidden($r->{body})->{code}, undef, '... no code');

# ---------------------------------------------------------------------------
# errors before the client and its redirect_uri are known: HTML, no redirect

$before = redis_state();
my @early = (
    ['no client_id', { client_id => undef }],
    ['an unknown client', { client_id => 'nobody' }],
    ['a client_id that is no id', { client_id => 'App!' }],
    ['no redirect_uri', { redirect_uri => undef }],
    ['an unregistered redirect_uri', { redirect_uri => 'https://evil.example/cb' }],
    ['a redirect_uri with a slash more', { redirect_uri => 'https://app.example/cb/' }],
    ['a prefix of the redirect_uri', { redirect_uri => 'https://app.example/c' }],
    ['a redirect_uri in another case', { redirect_uri => 'https://APP.example/cb' }],
    ['the other client\'s redirect_uri', { redirect_uri => 'https://namur.example/sso/callback' }],
    ['both registered URIs as one', { redirect_uri => 'https://app.example/cb https://app.example/cb2?x=1' }],
);
for my $e (@early) {
    $r = authorize(\%jar, %{ $e->[1] });
    is($r->{status}, 400, "$e->[0]: 400");
    is($r->{header}{location}, undef, '... no redirect');
    like(hdr($r, 'Content-Type'), qr{^text/html}, '... an HTML page');
}
for my $raw ('client_id=app&client_id=gw', 'client_id=%zz', 'client_id=app%00',
             'state=%FF', 'redirect_uri=https%3A%2F%2Fapp.example%2Fcb&redirect_uri=https%3A%2F%2Fevil.example',
             'state=' . ('s' x 3000))
{
    $r = req('GET', '/sso/authorize?' . az_query() . "&$raw", jar => \%jar);
    is($r->{status}, 400, "a malformed request ($raw): 400") if length $raw < 100;
    is($r->{status}, 400, 'a parameter of 3000 bytes: 400') if length $raw >= 100;
    is($r->{header}{location}, undef, '... no redirect');
}
is(redis_state(), $before, 'the early refusals wrote nothing');

# ---------------------------------------------------------------------------
# errors after: the OAuth error response, with state and iss

my @late = (
    ['response_type=token', { response_type => 'token' }, 'unsupported_response_type'],
    ['no response_type', { response_type => undef }, 'unsupported_response_type'],
    ['no state', { state => undef }, 'invalid_request'],
    ['an empty state', { state => '' }, 'invalid_request'],
    ['a state of 513 bytes', { state => 's' x 513 }, 'invalid_request'],
    ['no code_challenge', { code_challenge => undef }, 'invalid_request'],
    ['code_challenge_method=plain', { code_challenge_method => 'plain' }, 'invalid_request'],
    ['no code_challenge_method', { code_challenge_method => undef }, 'invalid_request'],
    ['a challenge of 42 characters', { code_challenge => substr($challenge, 0, 42) }, 'invalid_request'],
    ['a challenge not base64url', { code_challenge => ('+' x 43) }, 'invalid_request'],
    ['a nonce of 513 bytes', { nonce => 'n' x 513 }, 'invalid_request'],
    ['scope openid email', { scope => 'openid email' }, 'invalid_scope'],
    ['response_mode=fragment', { response_mode => 'fragment' }, 'invalid_request'],
);
for my $e (@late) {
    $r = authorize(\%jar, %{ $e->[1] });
    is($r->{status}, 303, "$e->[0]: 303 to the client");
    $p = qparams($r->{header}{location} // '');
    like($r->{header}{location} // '', qr{^https://app\.example/cb\?error=}, '... its redirect_uri');
    is($p->{error}, $e->[2], "... error=$e->[2]");
    ok(length($p->{error_description} // ''), '... with a description');
    is($p->{iss}, $ISS, '... and iss');
    is($p->{code}, undef, '... no code');
    my $st = exists $e->[1]{state} ? $e->[1]{state} : $base{state};
    if (!(defined $st && length $st && length $st <= 512)) {
        is($p->{state}, undef, '... no state to send back');
    } else {
        is($p->{state}, $st, '... the state sent back');
    }
}
is(redis_state(), $before, 'the late refusals wrote nothing');

# prompt=none without a session
$r = authorize({}, prompt => 'none');
$p = qparams($r->{header}{location} // '');
is($p->{error}, 'login_required', 'prompt=none without a session: login_required');
is($p->{state}, $base{state}, '... with the state');

# a session cookie that is not a session's
my ($s, $secret) = $jar{'__Host-mobispot_session'} =~ /^(.{22})\.(.{43})$/;
for my $c (["$s." . ('A' x 43), 'a wrong secret'], ['A' x 22 . ".$secret", 'an unknown sid'],
           ["$s.$secret" . 'x', 'a malformed cookie'], ['', 'an empty cookie'])
{
    $r = authorize({ '__Host-mobispot_session' => $c->[0] });
    is($r->{status}, 303, "$c->[1]: 303");
    like($r->{header}{location}, qr{/sso/login\?continue=}, '... to the sign-in');
}
my $exp = redis_cmd('HGET', "ms:{sess:$s}", 'exp');
redis_cmd('HSET', "ms:{sess:$s}", 'exp', time - 1);
$r = authorize(\%jar);
like($r->{header}{location}, qr{/sso/login\?continue=}, 'a session whose exp has passed: the sign-in');
redis_cmd('HSET', "ms:{sess:$s}", 'exp', $exp);
$r = authorize(\%jar);
like($r->{header}{location}, qr{^https://app\.example/cb\?code=}, '... and the same, live again: a code');

# methods and types
$before = redis_state();
for my $m (qw(PUT DELETE)) {
    $r = Test::Mobispot::http_request({ method => $m, uri => '/sso/authorize?' . az_query(), body => '' });
    is($r->{status}, 405, "$m authorize: 405");
    like($r->{header}{allow} // '', qr/POST/, '... Allow');
}
$r = req('POST', '/sso/authorize', jar => \%jar, body => '{"client_id":"app"}',
         headers => ['Content-Type: application/json']);
is($r->{status}, 415, 'POST authorize with JSON: 415');
$r = req('POST', '/sso/authorize', jar => \%jar, body => az_query() . '&client_id=gw');
is($r->{status}, 400, 'POST authorize with client_id twice: 400');
$r = req('POST', '/sso/authorize', jar => \%jar, body => az_query() . '&x=' . ('y' x 2_000_000));
is($r->{status}, 413, 'POST authorize with a huge body: 413');
is(redis_state(), $before, 'nothing written');

my @problems = stop_env();
is("@problems", '', 'nginx stopped cleanly');

done_testing();
