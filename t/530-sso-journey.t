# The whole sign-in, the module at both ends, on one nginx over plain
# HTTP on loopback (over TLS across host names: t/531): a site gateway
# sends a browser to the issuer's authorize; the issuer asks for the
# sign-in, then answers with a form_post whose
# code's record carries an access token minted for the site; the site's
# callback redeems it once, sets its cookie and sends the browser back;
# the page is served; a replayed code is refused; signing out at the
# issuer makes the site refuse the same cookie within a second; a second
# authorize with a live session needs no form.
#
#   prove -I t/lib t/530-sso-journey.t
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotLogin;
use MobispotTLS qw(html_form);
use Test::More;
use Time::HiRes qw(time sleep);

my $dir = MobispotSSO::sso_keys();
chmod 0600, "$dir/ec256.key";
my $port = server_port();
my $site = "http://localhost:$port";

issuer_start(http_config => <<"CONF", config => <<'CONF2');
    mobispot_sso_authorize_url http://localhost:$port/sso/authorize;
    mobispot_sso_client_id namur-gw;
    mobispot_sso_redirect_uri http://localhost:$port/site/callback;
    mobispot_sso_token cookie=ms_site;
    mobispot_jwt_keys_redis on;           # the issuer's published key set
CONF
    location = /site/callback { mobispot_sso_callback; }
    location /site/ {
        mobispot_sso on;
        proxy_set_header X-Sub $mobispot_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
CONF2

# the catalogue, an account, the site's client
my $net = '{"name":"CoWallonia","passport":{"id":"cw-pass","name":"P","monthly_price_eur":1}}';
is(req('PUT', '/api/v1/admin/networks/cowallonia', body => $net,
       headers => ['Content-Type: application/json'])->{status}, 201, 'a network');
my $hours = join ',', map { "\"$_\":[\"00:00-24:00\"]" } qw(mon tue wed thu fri sat sun);
my $s = '{"name":"Namur","town":"Namur","address":"x","latitude":50.46,"longitude":4.86,'
    . '"time_zone":"UTC","networks":["cowallonia"],"slot_minutes":30,'
    . "\"opening_hours\":{$hours},\"resources\":[{\"kind\":\"desk\",\"capacity\":2}]}";
is(req('PUT', '/api/v1/admin/sites/namur', body => $s,
       headers => ['Content-Type: application/json'])->{status}, 201, 'the site namur');
put_user('ada', $MobispotLogin::PW);
put_client('namur-gw', 'site_gateway', ["$site/site/callback"], ["$site/site/"], 'namur');

my %jar;
my $path = sub { my ($u) = @_; $u =~ s{^https?://[^/]+}{}; return $u };

# 1. the site sends the browser to authorize
my $r = req('GET', '/site/desk', jar => \%jar, headers => ['Accept: text/html']);
is($r->{status}, 302, 'the site: 302 to sign in');
like($r->{header}{location} // '', qr{^http://localhost:$port/sso/authorize\?.*response_mode=form_post},
     'to the issuer\'s authorize, by form_post');
my $authorize = $path->($r->{header}{location});

# 2. no central session: the sign-in first
$r = req('GET', $authorize, jar => \%jar);
like($r->{status}, qr/^30[23]$/, 'authorize without a session: to the sign-in');
my $login = $path->($r->{header}{location} // '');
like($login, qr{^/sso/login\?continue=}, 'the sign-in keeps the request');
$r = req('GET', $login, jar => \%jar);
is($r->{status}, 200, 'the sign-in form');
my $f = html_form($r->{body});
my %fields = map { @$_ } @{ $f->{fields} };
$r = req('POST', '/sso/login', jar => \%jar,
         body => form(csrf => $fields{csrf}, username => 'ada@example.org',
                      password => $MobispotLogin::PW, continue => $fields{continue}));
is($r->{status}, 303, 'signed in: 303');
my $back = $path->($r->{header}{location} // '');
my ($st0) = $authorize =~ /[?&]state=([^&]+)/;
like($back, qr{^/sso/authorize\?.*[?&]state=\Q$st0\E(&|$)}, 'back to the same authorize');

# 3. authorize with the session: the form_post to the site's callback
$r = req('GET', $authorize, jar => \%jar);
is($r->{status}, 200, 'authorize: the form_post page');
$f = html_form($r->{body});
is($f->{action}, "$site/site/callback", 'posting to the registered callback');
%fields = map { @$_ } @{ $f->{fields} };
ok($fields{code} && $fields{state} && $fields{iss}, 'with code, state and iss');
my @post = map { @$_ } @{ $f->{fields} };

# 4. the callback redeems the code (its record has the minted token)
$r = req('POST', '/site/callback', jar => \%jar, body => form(@post));
is($r->{status}, 303, 'the callback: 303');
is($path->($r->{header}{location} // ''), '/site/desk', 'back where the browser was');
ok($jar{ms_site}, 'the site\'s token cookie is set');
my $tok = $jar{ms_site} // '';
my ($payload) = $tok =~ /^[^.]+\.([^.]+)\./;
$payload =~ tr{-_}{+/} if defined $payload;
require MIME::Base64;
my $claims = MIME::Base64::decode_base64(($payload // '') . '=' x ((4 - length($payload // '') % 4) % 4));
like($claims, qr/"aud":"namur"/, 'the token is for the site namur');
like($claims, qr/"sub":"ada"/, 'and for ada');

# 5. the page
$r = req('GET', '/site/desk', jar => \%jar);
is($r->{status}, 200, 'the site\'s page');
like($r->{body}, qr/sub=ada/, 'with the identity handed to the upstream');

# 6. a replayed code
my %thief = map { /^__Host-mobispot_state_/ ? () : ($_ => $jar{$_}) } keys %jar;
$r = req('POST', '/site/callback', jar => { %jar }, body => form(@post));
like($r->{status}, qr/^4/, 'the same code again: refused');

# 7. a second authorize needs no form (the session is live)
my %tab = %jar;
delete $tab{ms_site};
$r = req('GET', '/site/other', jar => \%tab, headers => ['Accept: text/html']);
$r = req('GET', $path->($r->{header}{location} // ''), jar => \%tab);
is($r->{status}, 200, 'authorize again: the form_post at once, no sign-in');

# 8. signing out at the issuer ends the site's cookie within a second
$r = req('GET', '/sso/logout', jar => \%jar);
is($r->{status}, 200, 'logout: the confirmation');
$f = html_form($r->{body});
$r = req('POST', '/sso/logout', jar => \%jar, body => form(map { @$_ } @{ $f->{fields} }));
like($r->{status}, qr/^(200|303)$/, 'signed out');
my $t0 = time;
my $st;
do {
    $st = req('GET', '/site/desk', headers => ["Cookie: ms_site=$tok"])->{status};
    sleep 0.05 if $st == 200;
} while ($st == 200 && time - $t0 < 3);
is($st, 401, 'the site refuses the cookie of the session signed out');
cmp_ok(time - $t0, '<', 1.5, 'within a second or so');

unlike(Test::Mobispot::error_log_text(), qr/\Q$MobispotLogin::PW\E/, 'no password in the error log');

stop_env();
done_testing();
