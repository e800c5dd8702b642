package MobispotJourney;

# The sign-in journey's set-up over TLS on loopback, shared by the
# journey's tests (t/531 with curl and a cookie jar, t/532 in headless
# Chromium): a test certificate authority (MobispotTLS::tls_ca), one
# nginx with three TLS servers on one port, each its own host name, all
# resolved to 127.0.0.1 by the client:
#
#   sso.mobispot.test      the central issuer (location /sso/)
#   cowork-namur.test      the site gateway of the site namur
#   swc-liege.test         the site gateway of the site liege
#
# The three are different sites in the browser's sense (their registrable
# domains differ), so the form_post from the issuer to a site's callback
# is a cross-site POST, as in production.  The default plain server
# (localhost) keeps the admin API and an echo upstream the sites proxy
# to; its catalogue, the account ada and the clients are written through
# the admin API.
#
#   my $j = journey_start();        # { tls_port, iss, sites => {..}, ca }
#   my $b = journey_browser($j);    # MobispotTLS::Browser
#   my $r = journey_sign_in($j, $b, 'namur', '/desk');
#   my $a = journey_app_code($j, $b);     # the app's code + PKCE
#   my ($st, $json) = journey_token($j, grant_type => ...);
#   my $o = journey_logout($j, $b, client => 'namur-gw', uri => ..);
#   my $t = journey_refused($j, { namur => $token, ... }, 1.5);
#   my @hits = journey_log_hits([ $secret, ... ]);

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use Test::Mobispot ();
use Test::Mobispot::Util qw(free_port);
use MobispotSSO ();
use MobispotLogin ();
use MobispotTLS qw(tls_ca tls_browser html_form);
use JSON::PP ();
use Time::HiRes ();

our @EXPORT = qw(journey_start journey_browser journey_sign_in
                 journey_follow journey_names $ISS_HOST %SITE_HOST
                 journey_app_code journey_token journey_logout
                 journey_refused journey_log_hits);

our $ISS_HOST = 'sso.mobispot.test';
our %SITE_HOST = (namur => 'cowork-namur.test', liege => 'swc-liege.test');

sub _site_server {
    my ($j, $site) = @_;
    my $host = $SITE_HOST{$site};
    my $port = $j->{tls_port};
    my $base = "https://$host:$port";
    return <<"CONF";
    server {
        listen 127.0.0.1:$port ssl;
        server_name $host;
        ssl_certificate $j->{tls}{cert};
        ssl_certificate_key $j->{tls}{key};
        mobispot_jwt_audience $site;
        mobispot_sso_authorize_url $j->{iss}/authorize;
        mobispot_sso_client_id $site-gw;
        mobispot_sso_redirect_uri $base/sso/callback;
        mobispot_sso_token cookie=ms_site;
        location = /sso/callback { mobispot_sso_callback; }
        location / {
            mobispot_sso on;
            proxy_set_header X-Sub \$mobispot_sub;
            proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/echo;
        }
    }
CONF
}

# starts nginx and Redis, writes the catalogue, the account ada (password
# $MobispotLogin::PW) and the clients namur-gw, liege-gw (site gateways)
# and app (a public app with a loopback redirect URI); %o: extra
# http_config, main_config
sub journey_start {
    my (%o) = @_;
    my $j = { tls_port => free_port() };
    my $port = $j->{tls_port};
    $j->{dir} = tempdir(CLEANUP => 1);
    $j->{tls} = tls_ca($j->{dir}, $ISS_HOST, values %SITE_HOST);
    $j->{ca} = $j->{tls}{ca};
    $j->{iss} = "https://$ISS_HOST:$port/sso";
    $j->{sites} = { map { ($_ => "https://$SITE_HOST{$_}:$port") }
                    keys %SITE_HOST };
    $j->{app_uri} = 'http://127.0.0.1:1/app/callback';

    my $keys = MobispotSSO::sso_keys();
    chmod 0600, "$keys/ec256.key";
    my $http = <<"CONF";
    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;
    mobispot_admin loopback;
    mobispot_sso_signing_key $keys/ec256.key kid=e1;
    mobispot_jwt_keys_redis on;
    mobispot_jwt_issuer $j->{iss};
    mobispot_sso_revocation on;
    lingering_close off;
    log_format journey '\$host \$request \$status \$mobispot_error';
    server {
        listen 127.0.0.1:$port ssl;
        server_name $ISS_HOST;
        ssl_certificate $j->{tls}{cert};
        ssl_certificate_key $j->{tls}{key};
        access_log logs/issuer.log journey;
        location /sso/ {
            mobispot_sso_issuer;
            mobispot_sso_issuer_url $j->{iss};
        }
    }
CONF
    $http .= _site_server($j, $_) for sort keys %SITE_HOST;
    $http .= $o{http_config} // '';
    Test::Mobispot::start_env(
        main_config => $o{main_config} // 'thread_pool default threads=2;',
        http_config => $http, config => <<'CONF');
    location /api/v1/ { mobispot_api; }
    location /echo { return 200 "sub=$http_x_sub\n"; }
CONF
    Test::Mobispot::wait_until(
        sub { (Test::Mobispot::redis_cmd('GET', 'ms:sso:jwks') // '') =~ /e1/ },
        'the key set in Redis');
    _catalogue($j);
    return $j;
}

sub _put {
    my ($uri, $body) = @_;
    my $r = Test::Mobispot::http_request({ method => 'PUT', uri => $uri,
        body => $body, headers => ['Content-Type: application/json'] });
    die "PUT $uri: $r->{status} $r->{body}\n" unless $r->{status} =~ /^20/;
}

sub _catalogue {
    my ($j) = @_;
    _put('/api/v1/admin/networks/cowallonia', '{"name":"CoWallonia",'
         . '"passport":{"id":"cw-pass","name":"P","monthly_price_eur":1}}');
    my $hours = join ',', map { "\"$_\":[\"00:00-24:00\"]" }
        qw(mon tue wed thu fri sat sun);
    for my $site (sort keys %SITE_HOST) {
        _put("/api/v1/admin/sites/$site", '{"name":"' . ucfirst($site)
             . '","town":"' . ucfirst($site) . '","address":"x",'
             . '"latitude":50.5,"longitude":4.8,"time_zone":"UTC",'
             . '"networks":["cowallonia"],"slot_minutes":30,'
             . "\"opening_hours\":{$hours},"
             . '"resources":[{"kind":"desk","capacity":2}]}');
        MobispotLogin::put_client("$site-gw", 'site_gateway',
            ["$j->{sites}{$site}/sso/callback"], ["$j->{sites}{$site}/"],
            $site);
    }
    MobispotLogin::put_client('app', 'public_app', [$j->{app_uri}]);
    MobispotLogin::put_user('ada', $MobispotLogin::PW);
}

sub journey_names { return ($ISS_HOST, values %SITE_HOST) }

# a curl browser that trusts the test CA and resolves the three names
sub journey_browser {
    my ($j) = @_;
    return tls_browser(ca => $j->{ca}, port => $j->{tls_port},
                       names => [journey_names()]);
}

# follows redirects (301, 302, 303, 307) from $r; the last answer
sub journey_follow {
    my ($b, $r, $max) = @_;
    return $b->follow($r, $max);
}

# the whole sign-in from a site's page: the site sends the browser to
# authorize; the sign-in form when there is no central session (the
# credentials given, or ada's); the form_post to the site's callback; the
# callback's 303 back to the page.  Returns { page => the last answer,
# steps => [ [what, status], ... ], form_post => the posted fields,
# callback => the callback's answer }.  %o: username, password, target
# (the first request line's target, when it is not $path)
sub journey_sign_in {
    my ($j, $b, $site, $path, %o) = @_;
    my @steps;
    my $r = $b->get("$j->{sites}{$site}$path",
                    headers => ['Accept: text/html'],
                    (defined $o{target} ? (target => $o{target}) : ()));
    push @steps, ['site', $r->{status}];
    $r = journey_follow($b, $r);
    push @steps, ['authorize', $r->{status}];
    my $f = html_form($r->{body} // '');
    if ($f && grep({ $_->[0] eq 'password' } @{ $f->{fields} })) {
        my %fields = map { @$_ } @{ $f->{fields} };
        $r = $b->post("$j->{iss}/login", [
            [csrf => $fields{csrf} // ''],
            [username => $o{username} // 'ada@example.org'],
            [password => $o{password} // $MobispotLogin::PW],
            [continue => $fields{continue} // ''],
        ]);
        push @steps, ['login', $r->{status}];
        $r = journey_follow($b, $r);
        push @steps, ['authorize', $r->{status}];
        $f = html_form($r->{body} // '');
    }
    return { page => $r, steps => \@steps } unless $f && $f->{action};
    my @post = map { [@$_] } @{ $f->{fields} };
    $r = $b->post($f->{action}, \@post);
    push @steps, ['callback', $r->{status}];
    my $callback = $r;
    $r = journey_follow($b, $r);
    push @steps, ['page', $r->{status}];
    return { page => $r, steps => \@steps, form_post => \@post,
             action => $f->{action}, callback => $callback };
}

# the app's authorization (a public app, code + PKCE S256, response_mode
# query) through the browser's central session, the redirect not followed
# (the app's loopback URI): { r => the answer, code, state, verifier }
sub journey_app_code {
    my ($j, $b, %o) = @_;
    my ($verifier, $challenge) = MobispotLogin::pkce();
    my $state = $o{state} // 'app-' . int(rand 1e9);
    my $r = $b->get("$j->{iss}/authorize?" . MobispotLogin::form(
        response_type => 'code', client_id => 'app',
        redirect_uri => $j->{app_uri}, scope => $o{scope} // 'openid',
        state => $state, code_challenge => $challenge,
        code_challenge_method => 'S256'));
    my ($code) = ($r->{location} // '') =~ /[?&]code=([^&]+)/;
    return { r => $r, code => $code, state => $state,
             verifier => $verifier };
}

# POST token over TLS as the app does (no cookie): (status, JSON, answer)
sub journey_token {
    my ($j, @kv) = @_;
    my @form;
    push @form, [splice @kv, 0, 2] while @kv;
    my $r = journey_browser($j)->post("$j->{iss}/token", \@form);
    my $json = eval { JSON::PP::decode_json($r->{body}) } // {};
    return ($r->{status}, $json, $r);
}

# RP-initiated logout in the browser: GET logout (client_id,
# post_logout_redirect_uri and state when given), then its confirmation
# form posted: { confirm => the GET's answer, done => the POST's }
sub journey_logout {
    my ($j, $b, %o) = @_;
    my @q;
    push @q, client_id => $o{client} if defined $o{client};
    push @q, post_logout_redirect_uri => $o{uri} if defined $o{uri};
    push @q, state => $o{state} if defined $o{state};
    my $r = $b->get("$j->{iss}/logout"
                    . (@q ? '?' . MobispotLogin::form(@q) : ''));
    my $f = html_form($r->{body} // '');
    return { confirm => $r } unless $r->{status} == 200 && $f;
    my $action = $f->{action} // 'logout';    # relative to .../sso/logout
    $action = $action =~ m{^https?://} ? $action
        : $action =~ m{^/} ? "https://$ISS_HOST:$j->{tls_port}$action"
        : "$j->{iss}/$action";
    return { confirm => $r, done => $b->post($action, $f->{fields}) };
}

# polls each site with its token cookie (as an API client: no Accept
# text/html) until it answers 401, $bound seconds at most; { site =>
# seconds it took, or undef when it never refused }
sub journey_refused {
    my ($j, $tokens, $bound) = @_;
    my $b = journey_browser($j);
    my %left = %$tokens;
    my %took;
    my $t0 = Time::HiRes::time();
    while (%left) {
        for my $site (sort keys %left) {
            my $r = $b->get("$j->{sites}{$site}/desk",
                            headers => ["Cookie: ms_site=$left{$site}"]);
            next unless $r->{status} == 401;
            $took{$site} = Time::HiRes::time() - $t0;
            delete $left{$site};
        }
        last if Time::HiRes::time() - $t0 > $bound;
        Time::HiRes::sleep(0.05) if %left;
    }
    $took{$_} //= undef for keys %$tokens;
    return \%took;
}

# every line of every file under the servroot's logs/ that holds one of
# @$secrets: [ "file:line: text", ... ].  nginx's own debug dumps of the
# client's HTTP messages are set aside unless $o{dumps}: the request's
# header lines ("http header:"; "parse header:", nginx's cookie parser),
# and the response header it writes ("HTTP/1.1 303 ..." and the header
# lines under it).  nginx prints them at debug level whatever a module
# does; what is proxied to an upstream is not set aside.
my $NGINX_DUMP = qr{^\S+ \S+ \[debug\] \d+#\d+: (?:\*\d+ )?}
    . qr{(?:http header: "|parse header: "|HTTP/1\.[01] \d{3} )};

sub journey_log_hits {
    my ($secrets, %o) = @_;
    my @secrets = grep { defined && length } @$secrets;
    my $logs = Test::Mobispot::servroot() . '/logs';
    my @hits;
    my @files = ($logs);
    while (defined(my $f = shift @files)) {
        if (-d $f) {
            opendir my $d, $f or die "$f: $!";
            push @files, map { "$f/$_" } sort grep { !/^\.\.?$/ } readdir $d;
            closedir $d;
            next;
        }
        open my $fh, '<', $f or die "$f: $!";
        my $dump = 0;
        while (my $line = <$fh>) {
            if ($line =~ m{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[}) {
                $dump = $line =~ $NGINX_DUMP;
            }
            next if $dump && !$o{dumps};
            for my $s (@secrets) {
                next if index($line, $s) < 0;
                chomp(my $text = $line);
                (my $name = $f) =~ s{^\Q$logs\E/}{};
                push @hits, "$name:$.: " . substr($text, 0, 200);
                last;
            }
        }
        close $fh;
    }
    return @hits;
}

1;
