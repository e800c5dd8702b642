package MobispotLogin;

# What the tests of the issuer's sign-in share (t/512-issuer-login.t,
# t/513-issuer-authorize.t, t/514-issuer-logout.t): the issuer's nginx
# (an issuer location /sso/, the admin API, a gateway location /p with
# mobispot_sso_revocation), accounts and clients written through the admin
# API, a browser's cookie jar (a hash name => value), the sign-in form and
# its CSRF token, and form encoding.

use strict;
use warnings;

use Exporter 'import';
use Test::Mobispot ();
use MobispotSSO ();
use Digest::SHA qw(sha256 sha256_hex);
use MIME::Base64 qw(encode_base64url);

our @EXPORT = qw(issuer_start put_user put_client form req cookies_in
                 jar_header csrf_of login_get login_post sign_in continue_of
                 pkce redis_keys redis_state $ISS $PW);

our $ISS = 'https://sso.mobispot.test/sso';
our $PW = 'correct horse battery staple';

# the issuer's nginx; %o: extra http_config, config, main_config
sub issuer_start {
    my (%o) = @_;
    my $dir = MobispotSSO::sso_keys();
    chmod 0600, "$dir/ec256.key";
    my $http = "    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n"
        . "    mobispot_admin loopback;\n"
        . "    mobispot_sso_signing_key $dir/ec256.key kid=e1;\n"
        . "    mobispot_jwt_key $dir/ec256.pub alg=ES256;\n"
        . "    mobispot_jwt_issuer $ISS;\n"
        . "    mobispot_jwt_audience namur;\n"
        . "    mobispot_sso_revocation on;\n"
        . "    lingering_close off;\n"
        . ($o{http_config} // '');
    my $conf = "    location /api/v1/ { mobispot_api; }\n"
        . "    location /sso/ {\n        mobispot_sso_issuer;\n"
        . "        mobispot_sso_issuer_url $ISS;\n"
        . ($o{issuer} // '') . "    }\n"
        . "    location /echo { return 200 \"sub=\$http_x_sub\\n\"; }\n"
        . "    location /p {\n        mobispot_sso on;\n"
        . "        proxy_set_header X-Sub \$mobispot_sub;\n"
        . "        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/echo;\n"
        . "    }\n" . ($o{config} // '');
    return Test::Mobispot::start_env(
        main_config => $o{main_config} // 'thread_pool default threads=2;',
        http_config => $http, config => $conf);
}

sub put_user {
    my ($id, $pw, $email) = @_;
    my $b = '{"name":"Ada Lovelace","email":"' . ($email // "$id\@example.org")
        . '","passports":[],"roles":{"admin":false,"site_operator":[]}'
        . (defined $pw ? ',"password":"' . $pw . '"' : '') . '}';
    my $r = Test::Mobispot::http_request({ method => 'PUT',
        uri => "/api/v1/admin/users/$id", body => $b });
    die "PUT user $id: $r->{status} $r->{body}\n" unless $r->{status} =~ /^20/;
    return $r;
}

# a client: kind, redirect URIs, post-logout URIs, site
sub put_client {
    my ($id, $kind, $uris, $post, $site) = @_;
    my $b = '{"kind":"' . $kind . '","name":"Client ' . $id . '",'
        . '"redirect_uris":[' . join(',', map { "\"$_\"" } @$uris) . ']'
        . ($post ? ',"post_logout_redirect_uris":['
                   . join(',', map { "\"$_\"" } @$post) . ']' : '')
        . ($site ? ",\"site\":\"$site\"" : '') . '}';
    my $r = Test::Mobispot::http_request({ method => 'PUT',
        uri => "/api/v1/admin/clients/$id", body => $b });
    die "PUT client $id: $r->{status} $r->{body}\n" unless $r->{status} =~ /^20/;
    return $r;
}

# application/x-www-form-urlencoded of pairs (an array: order kept)
sub form {
    my @kv = @_;
    my @out;
    while (@kv) {
        my ($k, $v) = splice(@kv, 0, 2);
        push @out, esc($k) . '=' . esc($v);
    }
    return join '&', @out;
}
sub esc { my ($s) = @_; $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge; return $s }

sub jar_header {
    my ($jar) = @_;
    return () unless $jar && %$jar;
    return ('Cookie: ' . join('; ', map { "$_=$jar->{$_}" } sort keys %$jar));
}

# a request with the jar's cookies, its Set-Cookie lines kept in the jar
sub req {
    my ($method, $uri, %o) = @_;
    my @h = (jar_header($o{jar}), @{ $o{headers} // [] });
    push @h, 'Content-Type: application/x-www-form-urlencoded'
        if defined $o{body} && !grep { /^content-type:/i } @h;
    my $r = Test::Mobispot::http_request({ method => $method, uri => $uri,
        headers => \@h, body => $o{body} });
    cookies_in($r, $o{jar}) if $o{jar};
    return $r;
}

sub cookies_in {
    my ($r, $jar) = @_;
    for my $h (@{ $r->{headers} // [] }) {
        next unless lc $h->[0] eq 'set-cookie';
        my ($name, $value) = $h->[1] =~ /^([^=]+)=([^;]*)/ or next;
        if ($h->[1] =~ /Max-Age=0/i) { delete $jar->{$name} } else { $jar->{$name} = $value }
    }
}

sub csrf_of { my ($r) = @_; return ($r->{body} // '') =~ /name="csrf" value="([^"]+)"/ ? $1 : undef }

# the hidden "continue" of a form, HTML-unescaped
sub continue_of {
    my ($r) = @_;
    my ($v) = ($r->{body} // '') =~ /name="continue" value="([^"]*)"/ or return undef;
    $v =~ s/&amp;/&/g; $v =~ s/&quot;/"/g; $v =~ s/&lt;/</g; $v =~ s/&gt;/>/g; $v =~ s/&#x27;/'/g;
    return $v;
}

sub login_get { my ($jar, $query) = @_; return req('GET', '/sso/login' . ($query // ''), jar => $jar) }

sub login_post {
    my ($jar, $name, $pw, %o) = @_;
    my $g = login_get($jar, $o{query});
    my @f = (csrf => $o{csrf} // csrf_of($g), username => $name, password => $pw);
    my $cont = $o{continue} // continue_of($g);
    push @f, continue => $cont if defined $cont;
    return req('POST', '/sso/login', jar => $jar, body => form(@f));
}

# signs in: the jar gets the session cookie
sub sign_in {
    my ($jar, $name, $pw) = @_;
    my $r = login_post($jar, $name, $pw // $PW);
    die "sign in as $name: $r->{status}\n" unless $r->{status} == 303;
    return $r;
}

# a PKCE pair: verifier, challenge
sub pkce {
    my $v = encode_base64url(join '', map { chr int rand 256 } 1 .. 32);
    return ($v, encode_base64url(sha256($v)));
}

# the keys of Redis, but the workers' own
sub redis_keys {
    return join ',', sort grep { !/^ms:beat:/ }
        @{ Test::Mobispot::redis_cmd('KEYS', '*') };
}
sub redis_state { require MobispotIssuer; return MobispotIssuer::redis_dump() }

1;
