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

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use Test::Mobispot ();
use Test::Mobispot::Util qw(free_port);
use MobispotSSO ();
use MobispotLogin ();
use MobispotTLS qw(tls_ca tls_browser html_form);

our @EXPORT = qw(journey_start journey_browser journey_sign_in
                 journey_follow journey_names $ISS_HOST %SITE_HOST);

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
    $max //= 8;
    while ($max-- > 0 && $r->{status} =~ /^30[1237]$/ && $r->{location}) {
        $r = $b->get($r->{location});
    }
    return $r;
}

# the whole sign-in from a site's page: the site sends the browser to
# authorize; the sign-in form when there is no central session (the
# credentials given, or ada's); the form_post to the site's callback; the
# callback's 303 back to the page.  Returns { page => the last answer,
# steps => [ [what, status], ... ], form_post => the posted fields }.
sub journey_sign_in {
    my ($j, $b, $site, $path, %o) = @_;
    my @steps;
    my $r = $b->get("$j->{sites}{$site}$path",
                    headers => ['Accept: text/html']);
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
    $r = journey_follow($b, $r);
    push @steps, ['page', $r->{status}];
    return { page => $r, steps => \@steps, form_post => \@post,
             action => $f->{action} };
}

1;
