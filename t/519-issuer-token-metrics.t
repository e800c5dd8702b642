# The token endpoint and the gateway's gauges in the metrics:
# mobispot_issuer_tokens_total by grant, mobispot_issuer_refresh_reuse_total,
# mobispot_sso_revoked_sessions (the revocation zone) and
# mobispot_sso_keys_age_seconds{worker} (the key set read from Redis), as a
# scrape says after real grants, a refresh token's reuse and a sign-out.
#
#   prove -I t/lib t/519-issuer-token-metrics.t
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotToken;
use Test::More;

token_env(key => 'ec256.key', kid => 'e1',
          config => "    location = /metrics { mobispot_metrics; }\n");
seed_clients();
seed_user('u1');

sub scrape {
    my $body = http_request('GET /metrics')->{body} // '';
    my %v;
    while ($body =~ /^(mobispot_(?:issuer_tokens_total|issuer_refresh_reuse_total
                     |sso_revoked_sessions|sso_keys_age_seconds)(?:\{[^}]*\})?)\ (\S+)$/mgx)
    {
        $v{$1} = $2;
    }
    return \%v;
}

my $CODE = 'mobispot_issuer_tokens_total{grant="authorization_code"}';
my $REFRESH = 'mobispot_issuer_tokens_total{grant="refresh_token"}';
my $REUSE = 'mobispot_issuer_refresh_reuse_total';
my $REVOKED = 'mobispot_sso_revoked_sessions';
my $AGE = 'mobispot_sso_keys_age_seconds{worker="0"}';

my $v = scrape();
is($v->{$CODE}, 0, 'no code grant yet');
is($v->{$REFRESH}, 0, 'no refresh grant yet');
is($v->{$REUSE}, 0, 'no reuse yet');
ok(wait_for(sub { defined scrape()->{$REVOKED} }, 'the revocation gauge'),
   'the revocation zone is a gauge');
is(scrape()->{$REVOKED}, 0, '  with no session in it');
ok(defined $v->{$AGE} && $v->{$AGE} >= 0 && $v->{$AGE} < 5,
   'the key set was read a moment ago (' . ($v->{$AGE} // 'none') . ' s)');

sub refresh {
    my ($rt) = @_;
    return token_post(form(grant_type => 'refresh_token', refresh_token => $rt,
                           client_id => 'app'));
}

my $sid = new_sid();
seed_session($sid, 'u1');
my ($code, $verifier) = seed_code(sid => $sid, scope => 'openid');
my ($st, $t0) = token_post(form(grant_type => 'authorization_code', code => $code,
                                redirect_uri => APP_URI, code_verifier => $verifier,
                                client_id => 'app'));
is($st, 200, 'a code grant: 200');
is(scrape()->{$CODE}, 1, '  authorization_code 1');

($st, my $e) = token_post(form(grant_type => 'authorization_code', code => $code,
                               redirect_uri => APP_URI, code_verifier => $verifier,
                               client_id => 'app'));
is($st, 400, 'the code again: 400');
is(scrape()->{$CODE}, 1, '  a refusal issues nothing: still 1');

($st, my $t1) = refresh($t0->{refresh_token});
is($st, 200, 'a refresh: 200');
($st, my $t2) = refresh($t1->{refresh_token});
is($st, 200, 'and another');
$v = scrape();
is($v->{$REFRESH}, 2, '  refresh_token 2');
is($v->{$REUSE}, 0, '  no reuse');

# the first token again, long after its rotation: a reuse, the session revoked
($st, $e) = refresh($t0->{refresh_token});
is($st, 400, 'a rotated token again: 400');
like($e->{error_description} // '', qr/revoked/, '  the session is revoked');
$v = scrape();
is($v->{$REUSE}, 1, '  refresh_reuse 1');
is($v->{$REFRESH}, 2, '  refresh_token still 2');
ok(wait_for(sub { (scrape()->{$REVOKED} // 0) == 1 }, 'the gauge'),
   'the revoked sid reaches the zone: revoked_sessions 1');

# the key set's age grows while nothing changes it
my $age0 = scrape()->{$AGE};
sleep 2.2;
cmp_ok(scrape()->{$AGE}, '>', $age0, 'the key set\'s age grows (told every second)');

# a new key set read resets the age
redis_cmd('PUBLISH', 'ms:sso:jwks', 'changed');
ok(wait_for(sub { scrape()->{$AGE} <= 1 }, 'the age reset'),
   'a key set read again: its age back near 0');

stop_env();
done_testing();
