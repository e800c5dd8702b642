# POST token, grant_type=authorization_code (docs/sso.md, "The token
# endpoint"): the client's authentication (none, client_secret_basic,
# client_secret_post; a site gateway refused), the code redeemed once,
# its client, redirect URI and PKCE verifier; the minted access token
# verified by gateway locations of the same nginx (its audience, its
# entitlement claims), the ID token verified against the JWKS by
# python3-cryptography, with an ES256 key and with an RS256 key (signed in
# the thread pool); hostile forms, each refused with nothing changed in
# Redis.
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;
use MobispotIssuer;
use MobispotToken;
use MIME::Base64 qw(encode_base64);

sub basic { return 'Authorization: Basic ' . encode_base64($_[0], '') }

# nginx -t: the directives
{
    my $dir = sso_keys();
    chmod 0600, "$dir/ec256.key";
    my $base = "    mobispot_redis 127.0.0.1:1;\n"
             . "    mobispot_sso_signing_key $dir/ec256.key kid=e1;\n";
    my $loc = "location /sso/ { mobispot_sso_issuer; "
            . "mobispot_sso_issuer_url https://sso.example/sso; }";
    for my $bad (['mobispot_sso_api_audience namur;', qr/could be a site id/],
                 ['mobispot_sso_api_audience app-api_2;', qr/could be a site id/],
                 ['mobispot_sso_token_lifetime 13h;', qr/1s to 12h/],
                 ['mobispot_sso_token_lifetime 0;', qr/1s to 12h/],
                 ['mobispot_sso_token_lifetime 10m; mobispot_sso_token_lifetime 5m;',
                  qr/is duplicate/],
                 ['mobispot_sso_api_audience "a b";', qr/without blanks/])
    {
        my ($rc, $out) = nginx_test(http_config => $base . "    $bad->[0]\n",
                                    config => $loc);
        isnt($rc, 0, "nginx -t refuses $bad->[0]");
        like($out, $bad->[1], '  with its reason');
    }
    for my $good ('mobispot_sso_api_audience https://api.mobispot.example;',
                  'mobispot_sso_api_audience Namur;',
                  'mobispot_sso_token_lifetime 12h;')
    {
        my ($rc, $out) = nginx_test(http_config => $base . "    $good\n",
                                    config => $loc);
        is($rc, 0, "nginx -t takes $good") or diag($out);
    }
}

for my $k (['ec256.key', 'e1', 'ES256'], ['rsa.key', 'r1', 'RS256']) {
    my ($key, $kid, $alg) = @$k;
    token_env(key => $key, kid => $kid);
    seed_clients();
    seed_user('u1');
    my $sid = new_sid();
    seed_session($sid, 'u1');

    # --- a public app: client_id alone, PKCE
    my ($code, $verifier) = seed_code(sid => $sid, nonce => 'n-0S6_WzA2Mj',
                                      scope => 'openid');
    my $log0 = length error_log_text();
    my ($st, $j, $r) = token_post(form(grant_type => 'authorization_code',
                                       code => $code, redirect_uri => APP_URI,
                                       code_verifier => $verifier,
                                       client_id => 'app'));
    is($st, 200, "$alg: the app's code redeemed: 200") or diag($r->{body});
    my @tasks = substr(error_log_text(), $log0) =~ /mobispot: thread task #\d+ posted/g;
    SKIP: {
        skip 'the thread tasks are told in the debug log', 1
            if ($ENV{TEST_NGINX_LOG_LEVEL} // 'debug') ne 'debug';
        is(scalar(@tasks) ? 'pool' : 'event loop',
           $alg eq 'RS256' ? 'pool' : 'event loop',
           "  $alg signs " . ($alg eq 'RS256' ? 'in the thread pool' : 'on the event loop'));
    }
    is($r->{header}{'cache-control'}, 'no-store', 'Cache-Control: no-store');
    is($r->{header}{pragma}, 'no-cache', 'Pragma: no-cache');
    is($j->{token_type}, 'Bearer', 'token_type Bearer');
    is($j->{expires_in}, 600, 'expires_in: 10 minutes by default');
    is($j->{scope}, 'openid', 'the scope granted');
    like($j->{refresh_token} // '', qr/^\Q$sid\E\.[A-Za-z0-9_-]{43}$/,
         'a public app gets a refresh token <sid>.<random>');
    my ($h, $c) = jwt_parts($j->{access_token});
    is_deeply($h, { alg => $alg, typ => 'at+jwt', kid => $kid },
              'the access token\'s header');
    is($c->{iss}, iss(), 'iss');
    is($c->{aud}, api_aud(), 'aud: the API\'s audience');
    is($c->{sub}, 'u1', 'sub');
    is($c->{sid}, $sid, 'sid');
    is($c->{client_id}, 'app', 'client_id');
    is($c->{exp} - $c->{iat}, 600, 'exp - iat: the lifetime');
    like($c->{jti} // '', qr/^[A-Za-z0-9_-]{22}$/, 'a jti');
    is($c->{pass}, 'cowallonia-pass', 'pass: the passport valid today');
    is_deeply($c->{nets}, ['cowallonia'], 'nets: its network');
    ok(!exists $c->{roles} && !exists $c->{company}, 'no roles, no company');

    my ($ih, $ic) = jwt_parts($j->{id_token});
    is_deeply($ih, { alg => $alg, typ => 'JWT', kid => $kid }, 'the ID token\'s header');
    is($ic->{aud}, 'app', 'the ID token\'s aud: the client');
    is($ic->{nonce}, 'n-0S6_WzA2Mj', 'its nonce');
    is($ic->{sid}, $sid, 'its sid');
    ok($ic->{auth_time} && $ic->{auth_time} <= $ic->{iat}, 'its auth_time');
    is(verify_jwks($j->{id_token}), "verified $alg",
       'the ID token verifies against GET jwks (python3-cryptography)');
    is(verify_jwks($j->{access_token}), "verified $alg",
       'so does the access token');

    my $stored = redis_cmd('HGET', "ms:{sess:$sid}", 'rt:app') // '';
    like($stored, qr/^[0-9a-f]{64} \d+$/, 'the session holds rt:app "<sha256> <time>"');
    is((split / /, $stored)[0], Digest::SHA::sha256_hex($j->{refresh_token}),
       '  the refresh token\'s SHA-256, not the token');
    is(redis_cmd('HGET', "ms:{sess:$sid}", 'rt_scope:app'), 'openid', '  and its scope');
    is(redis_cmd('EXISTS', 'ms:{code:' . Digest::SHA::sha256_hex($code) . '}'), 0,
       'the code is gone');
    unlike(redis_dump(), qr/\Q$j->{refresh_token}\E/, 'no refresh token in Redis');

    # the gateways
    my ($gs, $gb) = gateway('/gw/api', $j->{access_token});
    is($gs, 200, 'a gateway of the API\'s audience takes the access token');
    like($gb, qr/sub=u1 pass=cowallonia-pass/, '  with its sub and pass');
    is(gateway('/gw/namur', $j->{access_token}), 401,
       'a gateway of a site\'s audience refuses it');
    is(gateway('/gw/site', $j->{access_token}), 200,
       'mobispot_site cw-namur: entitled by its passport');
    is(gateway('/gw/api', $j->{id_token}), 401, 'the ID token is no access token');

    # --- a replay: invalid_grant, nothing changed
    my $before = redis_dump();
    ($st, $j) = token_post(form(grant_type => 'authorization_code', code => $code,
                                redirect_uri => APP_URI, code_verifier => $verifier,
                                client_id => 'app'));
    is($st, 400, 'the code replayed: 400');
    is($j->{error}, 'invalid_grant', '  invalid_grant');
    is(redis_dump(), $before, '  nothing changed');

    # --- a confidential client: Basic, and post; offline_access
    ($code, $verifier) = seed_code(sid => $sid, client => 'back',
                                   redirect_uri => 'https://back.example/cb',
                                   scope => 'offline_access');
    ($st, $j, $r) = token_post(form(grant_type => 'authorization_code', code => $code,
                                    redirect_uri => 'https://back.example/cb',
                                    code_verifier => $verifier),
                               basic('back:' . APP_SECRET));
    is($st, 200, "$alg: a confidential client by client_secret_basic") or diag($r->{body});
    ok($j->{refresh_token} && !$j->{id_token}, '  offline_access: a refresh token; no openid: no ID token');
    ($code, $verifier) = seed_code(sid => $sid, client => 'back',
                                   redirect_uri => 'https://back.example/cb',
                                   scope => 'openid');
    ($st, $j) = token_post(form(grant_type => 'authorization_code', code => $code,
                                redirect_uri => 'https://back.example/cb',
                                code_verifier => $verifier, client_id => 'back',
                                client_secret => APP_SECRET));
    is($st, 200, 'by client_secret_post');
    ok($j->{id_token} && !$j->{refresh_token}, '  openid alone: an ID token, no refresh token');
    is((jwt_parts($j->{access_token}))[1]{client_id}, 'back', '  client_id back');

    # an account that is an admin, with a company limited to zones
    seed_user('u2', company => 'acme', company_zones => 'namur-province',
              passports => '', admin => '1', operator_of => 'cw-namur');
    my $sid2 = new_sid();
    seed_session($sid2, 'u2');
    ($code, $verifier) = seed_code(sid => $sid2, sub => 'u2', scope => 'openid');
    ($st, $j) = token_post(form(grant_type => 'authorization_code', code => $code,
                                redirect_uri => APP_URI, code_verifier => $verifier,
                                client_id => 'app'));
    is($st, 200, 'a company account\'s code');
    $c = (jwt_parts($j->{access_token}))[1];
    is($c->{company}, 'acme', 'company');
    is_deeply($c->{zones}, ['namur-province'], 'zones: the company\'s');
    is_deeply([sort @{ $c->{nets} }], ['cowallonia', 'other-net'],
              'nets: every network (a company limited by zones alone)');
    ok(!exists $c->{pass}, 'no pass');
    is_deeply($c->{roles}, ['admin', 'site_operator'], 'roles');

    # --- refusals, each with nothing changed
    ($code, $verifier) = seed_code(sid => $sid);
    my $ok_form = sub { form(grant_type => 'authorization_code', code => $code,
                             redirect_uri => APP_URI, code_verifier => $verifier,
                             client_id => 'app', @_) };
    my $big = 'x' x 5000;
    my @cases = (
        ['wrong verifier', 400, 'invalid_grant',
         [form(grant_type => 'authorization_code', code => $code, redirect_uri => APP_URI,
               code_verifier => 'A' x 43, client_id => 'app')]],
        ['wrong redirect_uri', 400, 'invalid_grant',
         [form(grant_type => 'authorization_code', code => $code,
               redirect_uri => APP_URI . '/', code_verifier => $verifier, client_id => 'app')]],
        ['another client\'s code', 400, 'invalid_grant',
         [form(grant_type => 'authorization_code', code => $code, redirect_uri => APP_URI,
               code_verifier => $verifier, client_id => 'other')]],
        ['an unknown code', 400, 'invalid_grant',
         [form(grant_type => 'authorization_code', code => 'nope', redirect_uri => APP_URI,
               code_verifier => $verifier, client_id => 'app')]],
        ['a short verifier', 400, 'invalid_request',
         [form(grant_type => 'authorization_code', code => $code, redirect_uri => APP_URI,
               code_verifier => 'A' x 42, client_id => 'app')]],
        ['a verifier out of the alphabet', 400, 'invalid_request',
         [form(grant_type => 'authorization_code', code => $code, redirect_uri => APP_URI,
               code_verifier => ('A' x 42) . '+', client_id => 'app')]],
        ['no verifier', 400, 'invalid_request',
         [form(grant_type => 'authorization_code', code => $code, redirect_uri => APP_URI,
               client_id => 'app')]],
        ['an unknown client', 401, 'invalid_client', [$ok_form->() =~ s/client_id=app/client_id=nobody/r]],
        ['no client', 401, 'invalid_client', [$ok_form->() =~ s/&client_id=app//r]],
        ['a public app with a secret', 401, 'invalid_client',
         [$ok_form->(client_secret => 'x' x 40)]],
        ['the wrong secret (basic)', 401, 'invalid_client',
         [$ok_form->() =~ s/&client_id=app//r, basic('back:' . ('w' x 40))]],
        ['the wrong secret (post)', 401, 'invalid_client',
         [$ok_form->() =~ s/client_id=app/client_id=back&client_secret=wrongwrongwrongwrongwrongwrong42/r]],
        ['a confidential client without its secret', 401, 'invalid_client',
         [$ok_form->() =~ s/client_id=app/client_id=back/r]],
        ['a site gateway', 400, 'unauthorized_client',
         [$ok_form->() =~ s/client_id=app/client_id=cw-namur-gw/r]],
        ['Basic and client_secret', 400, 'invalid_request',
         [$ok_form->(client_secret => APP_SECRET) =~ s/client_id=app&//r,
          basic('back:' . APP_SECRET)]],
        ['Basic of another client than client_id', 400, 'invalid_request',
         [$ok_form->(), basic('back:' . APP_SECRET)]],
        ['a Basic header not base64', 401, 'invalid_client',
         [$ok_form->(), 'Authorization: Basic %%%']],
        ['a Basic header without a colon', 401, 'invalid_client',
         [$ok_form->(), 'Authorization: Basic ' . encode_base64('back', '')]],
        ['a Bearer header', 401, 'invalid_client', [$ok_form->(), 'Authorization: Bearer x']],
        ['a bad escape', 400, 'invalid_request', [$ok_form->() . '&x=%zz']],
        ['a NUL', 400, 'invalid_request', [$ok_form->() . '&x=%00']],
        ['not UTF-8', 400, 'invalid_request', [$ok_form->() . '&x=%ff%fe']],
        ['code twice', 400, 'invalid_request', [$ok_form->() . "&code=$code"]],
        ['client_id twice', 400, 'invalid_request', [$ok_form->() . '&client_id=app']],
        ['grant_type twice', 400, 'invalid_request', [$ok_form->() . '&grant_type=authorization_code']],
        ['a huge code', 400, 'invalid_request', [$ok_form->() =~ s/code=[^&]+/code=$big/r]],
        ['a huge redirect_uri', 400, 'invalid_request',
         [$ok_form->() =~ s/redirect_uri=[^&]+/redirect_uri=$big/r]],
        ['no grant_type', 400, 'invalid_request', [$ok_form->() =~ s/grant_type=[^&]+&//r]],
        ['the password grant', 400, 'unsupported_grant_type',
         [$ok_form->() =~ s/grant_type=[^&]+/grant_type=password/r]],
        ['implicit', 400, 'unsupported_grant_type',
         [$ok_form->() =~ s/grant_type=[^&]+/grant_type=token/r]],
        ['JSON', 415, 'invalid_request', ['{"grant_type":"authorization_code"}',
                                          'Content-Type: application/json']],
        ['no Content-Type', 415, 'invalid_request', [$ok_form->(), 'Content-Type:']],
        ['a form type with a suffix', 415, 'invalid_request',
         [$ok_form->(), 'Content-Type: application/x-www-form-urlencodedx']],
        ['a form type and a word', 415, 'invalid_request',
         [$ok_form->(), 'Content-Type: application/x-www-form-urlencoded json']],
        ['an empty body', 400, 'invalid_request', ['']],
    );
    $before = redis_dump();
    for my $case (@cases) {
        my ($name, $status, $error, $args) = @$case;
        my ($s, $e, $res) = token_post(@$args);
        is($s, $status, "$alg: $name: $status") or diag($res->{body});
        is($e->{error}, $error, "  $error");
        ok(defined $e->{error_description}, '  with a description');
        like($res->{header}{'www-authenticate'} // '', qr/^Basic realm="mobispot"$/,
             '  and WWW-Authenticate: Basic') if $status == 401;
    }
    is(redis_dump(), $before, "$alg: no refusal changed anything in Redis");
    my $alog = do { local (@ARGV, $/) = (servroot() . '/logs/token.log'); <> } // '';
    like($alog, qr{^/sso/token 401 invalid_client$}m, '  $mobispot_error logs the OAuth error');

    # the code is still good after all that (a charset parameter is fine)
    ($st, $j) = token_post($ok_form->(),
        'Content-Type: Application/X-WWW-Form-Urlencoded ; charset=UTF-8');
    is($st, 200, 'the code, refused so many times, is still redeemed once');

    # an expired code (authorize gives it 60 s), and a body over the limit
    my ($xcode, $xverifier) = seed_code(sid => $sid);
    redis_cmd('PEXPIRE', 'ms:{code:' . Digest::SHA::sha256_hex($xcode) . '}', 1);
    select undef, undef, undef, 0.05;
    ($st, $j) = token_post(form(grant_type => 'authorization_code', code => $xcode,
                                redirect_uri => APP_URI, code_verifier => $xverifier,
                                client_id => 'app'));
    is($st, 400, 'an expired code: 400');
    is($j->{error}, 'invalid_grant', '  invalid_grant');
    $before = redis_dump();
    ($st) = token_post($ok_form->() . '&pad=' . ('p' x (2 * 1024 * 1024)));
    is($st, 413, 'a body of 2 MB: 413');
    is(redis_dump(), $before, '  nothing changed');

    # methods
    my $m = http_request('GET /sso/token');
    is($m->{status}, 405, 'GET token: 405');
    like($m->{header}{allow} // '', qr/POST/, '  Allow: POST');
    $m = http_request({ method => 'PUT', uri => '/sso/token', body => 'a=b' });
    is($m->{status}, 405, 'PUT token: 405');

    # a session that ended, an account deleted
    ($code, $verifier) = seed_code(sid => $sid);
    redis_cmd('DEL', "ms:{sess:$sid}");
    ($st, $j) = token_post($ok_form->() =~ s/code=[^&]+/code=$code/r
                                        =~ s/code_verifier=[^&]+/code_verifier=$verifier/r);
    is($st, 400, 'the session ended (a logout): 400');
    is($j->{error}, 'invalid_grant', '  invalid_grant');
    is(redis_cmd('EXISTS', "ms:{sess:$sid}"), 0, '  the session is not made again');

    seed_session($sid, 'u1');
    redis_cmd('DEL', 'ms:{user:u1}:info', 'ms:{user:u1}:doc');
    ($code, $verifier) = seed_code(sid => $sid);
    ($st, $j) = token_post(form(grant_type => 'authorization_code', code => $code,
                                redirect_uri => APP_URI, code_verifier => $verifier,
                                client_id => 'app'));
    is($st, 400, 'a deleted account gets no token');
    is($j->{error}, 'invalid_grant', '  invalid_grant');

    is(join("\n", stop_env()), '', "$alg: nginx clean");
}

my @secrets = grep { /\Q${\ APP_SECRET}\E/ } split /\n/, error_log_text();
is(scalar @secrets, 0, 'the client\'s secret is in no log line');

Test::More::done_testing();
