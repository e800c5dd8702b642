# The issuer's sign-in (issue 10): GET login (an accessible form, its
# headers, its CSRF cookie, a "continue" that can only be the issuer's own
# authorize), POST login (a session in Redis and its cookie; wrong, unknown
# and password-less accounts answered alike; CSRF; throttling per account
# and per address with 429 + Retry-After; hostile forms that change
# nothing), mobispot_sso_session_lifetime, and no password in any log.
#
#   prove -I t/lib t/512-issuer-login.t
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotLogin;
use Test::More;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(time sleep);

my $WRONG = 'Wrong horse battery staple';
my $dir = MobispotSSO::sso_keys();
chmod 0600, "$dir/ec256.key";

sub hdr {
    my ($r, $name) = @_;
    return join "\n", map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $r->{headers} };
}
sub masked { my ($b) = @_; $b //= ''; $b =~ s/value="[A-Za-z0-9_-]{43}"/value="TOKEN"/g; return $b }

# ---------------------------------------------------------------------------
# mobispot_sso_session_lifetime at configuration time

for my $case (['1m', 0], ['31d', 0], ['soon', 0], ['1h', 1], ['30d', 1]) {
    my ($rc, $out) = nginx_test(
        http_config => "    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n"
            . "    mobispot_sso_signing_key $dir/ec256.key kid=e1;\n",
        config => "    location /sso/ { mobispot_sso_issuer;\n"
            . "        mobispot_sso_issuer_url $ISS;\n"
            . "        mobispot_sso_session_lifetime $case->[0]; }\n");
    if ($case->[1]) {
        is($rc, 0, "mobispot_sso_session_lifetime $case->[0] is taken") or diag($out);
    } else {
        isnt($rc, 0, "mobispot_sso_session_lifetime $case->[0] is refused");
        like($out, qr/mobispot_sso_session_lifetime/, '... naming the directive');
    }
}

issuer_start(issuer => "        mobispot_sso_session_lifetime 2h;\n",
             config => "    listen [::1]:\$TEST_NGINX_SERVER_PORT;\n");
put_user('ada', $PW);
put_user('nopw', undef);

# ---------------------------------------------------------------------------
# GET login: the form

my %jar;
my $r = login_get(\%jar);
is($r->{status}, 200, 'GET login: 200');
like(hdr($r, 'Content-Type'), qr{^text/html; charset=utf-8$}, '... HTML in UTF-8');
is(hdr($r, 'Cache-Control'), 'no-store', '... Cache-Control: no-store');
is(hdr($r, 'X-Content-Type-Options'), 'nosniff', '... nosniff');
is(hdr($r, 'Referrer-Policy'), 'no-referrer', '... no-referrer');
my $csp = hdr($r, 'Content-Security-Policy');
like($csp, qr/^default-src 'none'; /, "... CSP default-src 'none'");
like($csp, qr/form-action 'self'/, "... form-action 'self'");
like($csp, qr/frame-ancestors 'none'/, "... frame-ancestors 'none'");
unlike($csp, qr/script-src|unsafe-inline/, '... no script, nothing inline but the hashed style');
my ($style) = $r->{body} =~ m{<style>(.*?)</style>}s;
my $style_hash = MIME::Base64::encode_base64(Digest::SHA::sha256($style), '');
like($csp, qr/style-src 'sha256-\Q$style_hash\E'/, "... the style named by its hash");
like(hdr($r, 'Set-Cookie'),
     qr/^__Host-mobispot_csrf=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict$/,
     '... the CSRF cookie: __Host-, Strict, HttpOnly, Secure');
is(csrf_of($r), $jar{'__Host-mobispot_csrf'}, '... its token is the hidden field');
like($r->{body}, qr/<html lang="en">/, '... the page has its language');
like($r->{body}, qr/<label for="username">.*<input id="username" name="username" type="text" autocomplete="username"/s,
     '... the name has its label and autocomplete=username');
like($r->{body}, qr/<label for="password">.*<input id="password" name="password" type="password" autocomplete="current-password"/s,
     '... the password has its label and autocomplete=current-password');
like($r->{body}, qr/<button type="submit">Sign in<\/button>/, '... a real submit button (keyboard: Enter)');
like($r->{body}, qr/:focus\{outline:3px/, '... a visible focus');
unlike($r->{body}, qr/<script|tabindex="-|onclick/i, '... no script');
unlike($r->{body}, qr/name="continue"/, '... no continue when none is asked');

my $again = login_get(\%jar);
isnt(csrf_of($again), csrf_of($r), 'each form has its own token');

$r = http_request('HEAD /sso/login');
is($r->{status}, 200, 'HEAD login: 200');
is($r->{body}, '', '... no body');

my $cont = '/sso/authorize?client_id=app&state=a%20b';
$r = login_get(\%jar, '?continue=' . MobispotLogin::esc($cont));
is(continue_of($r), $cont, 'a continue to the issuer\'s authorize is carried in the form');
like($r->{body}, qr/value="\/sso\/authorize\?client_id=app&amp;state=a%20b"/, '... HTML-escaped');

for my $bad ('https://evil.example/sso/authorize?x=1', '//evil.example/sso/authorize?x=1',
             '/sso/token?x=1', '/sso/authorize', '/elsewhere/authorize?x=1',
             "/sso/authorize?x=\"><script>alert(1)</script>", '/sso/authorize?x=1#frag')
{
    $r = login_get(\%jar, '?continue=' . MobispotLogin::esc($bad));
    is($r->{status}, 200, "continue $bad: the form");
    is(continue_of($r), undef, '... without it (no open redirect)');
}

for my $q ('?continue=%zz', '?continue=%00', '?continue=%FF', '?continue=a&continue=b') {
    $r = login_get(\%jar, $q);
    is($r->{status}, 400, "GET login$q: 400");
    like($r->{body}, qr/malformed/, '... an HTML page that says so');
}

# ---------------------------------------------------------------------------
# POST login: a session

my $before = redis_state();
%jar = ();
$r = login_post(\%jar, 'ada', $PW);
is($r->{status}, 303, 'POST login with the right password: 303');
like($r->{header}{location}, qr{/sso/signed-in$}, '... to the signed-in page');
my $set = hdr($r, 'Set-Cookie');
like($set, qr/^__Host-mobispot_session=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}; Max-Age=7200; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
     '... the session cookie: __Host-, Path=/, Secure, HttpOnly, Lax, the lifetime');
my ($sid, $secret) = ($jar{'__Host-mobispot_session'} // '') =~ /^(.{22})\.(.{43})$/;
my %sess = @{ redis_cmd('HGETALL', "ms:{sess:$sid}") };
is($sess{user}, 'ada', 'the session hash: user');
is($sess{key}, sha256_hex($secret), '... key: the SHA-256 of the secret (the secret is not stored)');
ok(abs($sess{auth_time} - time) < 5, '... auth_time: now');
is($sess{exp}, $sess{auth_time} + 7200, '... exp: auth_time + mobispot_sso_session_lifetime');
my $ttl = redis_cmd('TTL', "ms:{sess:$sid}");
ok($ttl > 7190 && $ttl <= 7200, "... it expires with the session ($ttl s)");
unlike(redis_state(), qr/\Q$secret\E|\Q$PW\E/, 'Redis holds neither the secret nor the password');

$r = req('GET', $r->{header}{location} =~ s{^https?://[^/]+}{}r, jar => \%jar);
is($r->{status}, 200, 'the signed-in page');
like($r->{body}, qr/You are signed in/, '... says so');

%jar = ();
$r = login_post(\%jar, 'ADA', $PW);
is($r->{status}, 401, 'an account id is case-sensitive: ADA is not ada');

# the email, in any case (the admin API's index ms:{email:<sha256 hex>})
my $ekey = 'ms:{email:' . sha256_hex('ada@example.org') . '}';
is(redis_cmd('GET', $ekey), 'ada', 'the admin API wrote the email index');
is(redis_cmd('HGET', 'ms:{user:ada}:info', 'email'), 'ada@example.org', '... and the email in the info');
for my $name ('ada@example.org', 'Ada@Example.ORG') {
    %jar = ();
    $r = login_post(\%jar, $name, $PW);
    is($r->{status}, 303, "signed in by email as $name");
    my ($s) = ($jar{'__Host-mobispot_session'} // '') =~ /^(.{22})\./;
    is(redis_cmd('HGET', "ms:{sess:$s}", 'user'), 'ada', '... the session is ada\'s');
}
put_user('ada', $PW, 'Lovelace@Example.org');
is(redis_cmd('EXISTS', $ekey), 0, 'a new email: the old entry goes');
is(redis_cmd('GET', 'ms:{email:' . sha256_hex('lovelace@example.org') . '}'), 'ada',
   '... the new one (lowercased) is written');
%jar = ();
$r = login_post(\%jar, 'ada@example.org', $PW);
is($r->{status}, 401, '... the old email signs in no more');
redis_cmd('SET', $ekey, 'ada');
$r = login_post(\%jar, 'ada@example.org', $PW);
is($r->{status}, 401, '... not even through a stale index entry');
redis_cmd('DEL', $ekey);
%jar = ();
$r = login_post(\%jar, 'LOVELACE@example.org', $PW);
is($r->{status}, 303, '... the new one does');
put_user('gone', $PW, 'gone@example.org');
Test::Mobispot::http_request({ method => 'DELETE', uri => '/api/v1/admin/users/gone' });
is(redis_cmd('EXISTS', 'ms:{email:' . sha256_hex('gone@example.org') . '}'), 0,
   'a deleted account: its email entry goes');
redis_cmd('DEL', grep { /^ms:\{login:/ } @{ redis_cmd('KEYS', '*') });

%jar = ();
$r = login_post(\%jar, 'ada', $PW, query => '?continue=' . MobispotLogin::esc($cont));
is($r->{status}, 303, 'with a continue: 303');
like($r->{header}{location}, qr{^http://[^/]+\Q$cont\E$}, '... to the parked authorize request');

%jar = ();
$r = login_post(\%jar, 'ada', $PW, continue => 'https://evil.example/');
is($r->{status}, 303, 'with a foreign continue: 303');
like($r->{header}{location}, qr{/sso/signed-in$}, '... to the signed-in page, not there');

# ---------------------------------------------------------------------------
# wrong credentials: the same answer whatever was wrong

redis_cmd('DEL', grep { /^ms:\{login:/ } @{ redis_cmd('KEYS', '*') }) if grep { /^ms:\{login:/ } @{ redis_cmd('KEYS', '*') };
my @bodies;
for my $case (['ada', $WRONG, 'a wrong password'], ['nobody', $PW, 'an unknown account'],
              ['nopw', $PW, 'an account without a password'],
              ['bad name!', $PW, 'a name that is no id'])
{
    %jar = ();
    my $t = time;
    $r = login_post(\%jar, $case->[0], $case->[1]);
    is($r->{status}, 401, "$case->[2]: 401");
    like($r->{body}, qr/The sign-in name or the password is not right\./, '... one generic message');
    unlike(hdr($r, 'Set-Cookie'), qr/mobispot_session/, '... no session');
    push @bodies, masked($r->{body} =~ s/value="\Q$case->[0]\E"/value="NAME"/r);
}
is(scalar(grep { $_ eq $bodies[0] } @bodies), 4, 'the four answers are the same page');

# ---------------------------------------------------------------------------
# CSRF

$before = redis_state();
%jar = ();
login_get(\%jar);
$r = req('POST', '/sso/login', jar => \%jar, body => form(username => 'ada', password => $PW));
is($r->{status}, 403, 'no csrf field: 403');
$r = req('POST', '/sso/login', jar => \%jar,
         body => form(csrf => 'A' x 43, username => 'ada', password => $PW));
is($r->{status}, 403, 'a wrong csrf field: 403');
my $tok = $jar{'__Host-mobispot_csrf'};
$r = req('POST', '/sso/login', body => form(csrf => $tok, username => 'ada', password => $PW));
is($r->{status}, 403, 'no csrf cookie: 403');
$r = req('POST', '/sso/login', jar => \%jar,
         body => form(csrf => substr($tok, 0, 42), username => 'ada', password => $PW));
is($r->{status}, 403, 'a csrf field cut short: 403');
unlike(hdr($r, 'Set-Cookie'), qr/mobispot_session/, '... no session');
is(redis_state(), $before, 'the refusals changed nothing in Redis (no session, no count)');

# ---------------------------------------------------------------------------
# hostile forms: each its 4xx, nothing changed

%jar = ();
login_get(\%jar);
$tok = $jar{'__Host-mobispot_csrf'};
my $good = "csrf=$tok&username=ada&password=" . MobispotLogin::esc($PW);
my @hostile = (
    ['a bad escape', "$good&x=%zz", 400],
    ['a NUL', "csrf=$tok&username=ada%00&password=x", 400],
    ['not UTF-8', "csrf=$tok&username=%FF%FE&password=x", 400],
    ['a cut UTF-8 sequence', "csrf=$tok&username=%C3&password=x", 400],
    ['a control character', "csrf=$tok&username=ada%0D%0A&password=x", 400],
    ['the name twice', "$good&username=bob", 400],
    ['the password twice', "$good&password=x", 400],
    ['the csrf twice', "$good&csrf=$tok", 400],
    ['a name of 300 bytes', "csrf=$tok&username=" . ('a' x 300) . '&password=x', 400],
    ['a password of 300 bytes', "csrf=$tok&username=ada&password=" . ('p' x 300), 400],
    ['no password', "csrf=$tok&username=ada", 400],
    ['an empty name', "csrf=$tok&username=&password=x", 400],
    ['a huge body', "$good&pad=" . ('x' x 2_000_000), 413],
);
$before = redis_state();
for my $h (@hostile) {
    $r = req('POST', '/sso/login', jar => { %jar }, body => $h->[1]);
    is($r->{status}, $h->[2], "$h->[0]: $h->[2]");
    unlike(hdr($r, 'Set-Cookie'), qr/mobispot_session/, '... no session');
}
for my $type ('text/plain', 'application/json', 'multipart/form-data; boundary=x',
              'application/x-www-form-urlencodedx')
{
    $r = req('POST', '/sso/login', jar => { %jar }, body => $good,
             headers => ["Content-Type: $type"]);
    is($r->{status}, 415, "Content-Type $type: 415");
}
$r = Test::Mobispot::http_request({ method => 'POST', uri => '/sso/login',
    headers => [jar_header(\%jar)], body => $good });
is($r->{status}, 415, 'no Content-Type: 415');
is(redis_state(), $before, 'the hostile forms changed nothing in Redis');

for my $m (qw(PUT DELETE PATCH)) {
    $r = Test::Mobispot::http_request({ method => $m, uri => '/sso/login', body => '' });
    is($r->{status}, 405, "$m login: 405");
    like($r->{header}{allow} // '', qr/GET.*HEAD.*POST|POST.*GET/, '... Allow names GET, HEAD and POST');
}
$r = Test::Mobispot::http_request({ method => 'POST', uri => '/sso/signed-in', body => '' });
is($r->{status}, 405, 'POST signed-in: 405');

# ---------------------------------------------------------------------------
# throttling per account: from the 5th failure on, 1 s, doubling

put_user('bob', $PW);
my $acct = 'ms:{login:acct:' . sha256_hex('bob') . '}';
for my $i (1 .. 4) {
    %jar = ();
    $r = login_post(\%jar, 'bob', $WRONG);
    is($r->{status}, 401, "bob's failure $i: 401");
}
is(redis_cmd('GET', "$acct:fails"), 4, 'the account\'s failures are counted');
ok(redis_cmd('TTL', "$acct:fails") > 86000, '... kept 24 h');
is(redis_cmd('EXISTS', "$acct:wait"), 0, '... no wait yet');
%jar = ();
$r = login_post(\%jar, 'BOB', $WRONG);
is($r->{status}, 401, 'the 5th failure (any case of the name): 401');
my $pttl = redis_cmd('PTTL', "$acct:wait");
ok($pttl > 0 && $pttl <= 1000, "... a wait of 1 s starts ($pttl ms)");
%jar = ();
$r = login_post(\%jar, 'bob', $PW);
is($r->{status}, 429, 'during the wait, even the right password: 429');
like(hdr($r, 'Retry-After'), qr/^[12]$/, '... Retry-After: 1');
like($r->{body}, qr/Too many failed sign-ins/, '... an HTML page that says so');
unlike(hdr($r, 'Set-Cookie'), qr/mobispot_session/, '... no session');
sleep 1.1;
%jar = ();
$r = login_post(\%jar, 'bob', $WRONG);
is($r->{status}, 401, 'after the wait, the 6th failure: 401');
$pttl = redis_cmd('PTTL', "$acct:wait");
ok($pttl > 1000 && $pttl <= 2000, "... the wait doubles: 2 s ($pttl ms)");
$r = login_post(\%jar, 'bob', $PW);
is($r->{status}, 429, '... 429 again');
is(hdr($r, 'Retry-After'), 2, '... Retry-After: 2');
redis_cmd('SET', "$acct:fails", 30);
redis_cmd('DEL', "$acct:wait");
$r = login_post(\%jar, 'bob', $WRONG);
$pttl = redis_cmd('PTTL', "$acct:wait");
ok($pttl > 899_000 && $pttl <= 900_000, "the 31st failure waits the cap, 15 min ($pttl ms)");
redis_cmd('DEL', "$acct:wait");
%jar = ();
$r = login_post(\%jar, 'bob', $PW);
is($r->{status}, 303, 'once the wait is over, the right password signs in');
is(redis_cmd('EXISTS', "$acct:fails"), 0, '... and clears the account\'s failures');
ok(redis_cmd('GET', 'ms:{login:addr:127.0.0.1}:fails') > 0, '... not the address\'s');

# per address: from the 20th failure on, whatever the names
redis_cmd('SET', 'ms:{login:addr:127.0.0.1}:fails', 19);
%jar = ();
$r = login_post(\%jar, 'someone-new', $WRONG);
is($r->{status}, 401, 'the address\'s 20th failure: 401');
ok(redis_cmd('PTTL', 'ms:{login:addr:127.0.0.1}:wait') > 0, '... a wait starts for the address');
%jar = ();
$r = login_post(\%jar, 'ada', $PW);
is($r->{status}, 429, 'any account from that address waits: 429');
like(hdr($r, 'Retry-After'), qr/^\d+$/, '... with Retry-After');
redis_cmd('DEL', 'ms:{login:addr:127.0.0.1}:wait', 'ms:{login:addr:127.0.0.1}:fails');

# an IPv6 client is throttled by its /64 (its host may take any address
# of it): a failure from ::1 counts for 0000:0000:0000:0000::/64
{
    my $jar6 = servroot() . '/jar6';
    my $base6 = 'http://[::1]:' . server_port() . '/sso/login';
    my $page = `curl -sg -c $jar6 -b $jar6 '$base6'`;
    my ($csrf6) = $page =~ /name="csrf" value="([^"]+)"/;
    my $code = `curl -sg -o /dev/null -w '%{http_code}' -c $jar6 -b $jar6 --data-binary 'csrf=$csrf6&username=ada&password=wrong-password-6' '$base6'`;
    is($code, 401, 'a failure from ::1: 401');
    is(redis_cmd('GET', 'ms:{login:addr:0000:0000:0000:0000::/64}:fails'), 1,
       '... counted for its /64');
    is(redis_cmd('EXISTS', 'ms:{login:addr:::1}:fails'), 0,
       '... not for the address alone');
    redis_cmd('DEL', 'ms:{login:addr:0000:0000:0000:0000::/64}:fails',
              'ms:{login:acct:' . sha256_hex('ada') . '}:fails');
}

# ---------------------------------------------------------------------------
# the password in no log

my @problems = stop_env();
is("@problems", '', 'nginx stopped cleanly');
my $logs = '';
for my $f (glob(servroot() . '/logs/*')) {
    open my $fh, '<', $f or next;
    local $/;
    $logs .= <$fh> // '';
}
like($logs, qr/\[debug\]/, 'the error log is at debug level');
unlike($logs, qr/\Q$PW\E/, 'the password is in no log');
unlike($logs, qr/\Q$WRONG\E/, 'nor the wrong one');
# (nginx's own debug lines dump every header, the cookies too: a debug
# log is a developer's, never production's; the access log has none)
my $access = do { local $/; open my $fh, '<', servroot() . '/logs/access.log'; <$fh> } // '';
unlike($access, qr/\Q$secret\E/, "the session's secret is not in the access log");
my $pw_escaped = MobispotLogin::esc($PW);
unlike($logs, qr/\Q$pw_escaped\E/, 'nor the password as the form escaped it');

done_testing();
