# POST token, grant_type=refresh_token (docs/sso.md, "Refresh tokens"):
# rotation at each use, the previous token's grace for a client whose
# reply was lost, reuse of a rotated token revoking the whole session
# (the session deleted, its sid in ms:sso:revoked and published: a gateway
# with mobispot_sso_revocation refuses its tokens within 1 s); a token
# that was never issued, another client's, a wider scope, a session gone:
# refused with nothing changed.
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotSSO;
use MobispotIssuer;
use MobispotToken;
use Digest::SHA qw(sha256_hex);
use IO::Select;
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time sleep);

token_env(key => 'ec256.key', kid => 'e1');
seed_clients();
seed_user('u1');

# the first tokens of a session, through a code
sub first_tokens {
    my (%o) = @_;
    my $sid = new_sid();
    seed_session($sid, 'u1');
    my ($code, $verifier) = seed_code(sid => $sid, scope => $o{scope} // 'openid',
                                      client => $o{client} // 'app',
                                      redirect_uri => $o{uri} // APP_URI);
    my ($st, $j) = token_post(form(grant_type => 'authorization_code', code => $code,
                                   redirect_uri => $o{uri} // APP_URI,
                                   code_verifier => $verifier,
                                   client_id => $o{client} // 'app',
                                   ($o{secret} ? (client_secret => $o{secret}) : ())));
    die "code grant: $st\n" unless $st == 200 && $j->{refresh_token};
    return ($sid, $j);
}

sub refresh {
    my ($rt, @more) = @_;
    my %more = @more;
    return token_post(form(grant_type => 'refresh_token', refresh_token => $rt,
                           ($more{client_id} ? () : (client_id => 'app')), @more));
}

# our own subscriber, to see the PUBLISH of a revocation
my $sub = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => redis_port(),
                                Proto => 'tcp') or die "subscriber: $!";
print $sub "SUBSCRIBE ms:sso:revoked\r\n";
my $heard = '';
sub heard {
    my $sel = IO::Select->new($sub);
    while ($sel->can_read(0.05)) {
        my $n = sysread($sub, my $buf, 65536);
        last unless $n;
        $heard .= $buf;
    }
    return $heard;
}

# --- rotation
my ($sid, $t0) = first_tokens();
my ($st, $t1, $r) = refresh($t0->{refresh_token});
is($st, 200, 'a refresh: 200') or diag($r->{body});
is($r->{header}{'cache-control'}, 'no-store', '  Cache-Control: no-store');
like($t1->{refresh_token} // '', qr/^\Q$sid\E\.[A-Za-z0-9_-]{43}$/, '  a new refresh token of the sid');
isnt($t1->{refresh_token}, $t0->{refresh_token}, '  another one');
ok($t1->{access_token} && $t1->{id_token}, '  a new access token and ID token (openid)');
is($t1->{scope}, 'openid', '  the scope granted');
my ($h, $c) = jwt_parts($t1->{access_token});
is($c->{sid}, $sid, '  the access token of the same sid');
is($c->{sub}, 'u1', '  and sub');
ok(!exists((jwt_parts($t1->{id_token}))[1]{nonce}), '  the ID token has no nonce');
is(gateway('/gw/api', $t1->{access_token}), 200, '  the gateway takes it');
my %s = @{ redis_cmd('HGETALL', "ms:{sess:$sid}") };
is((split / /, $s{'rt:app'})[0], sha256_hex($t1->{refresh_token}), 'rt:app: the new token\'s hash');
like($s{'rt_prev:app'}, qr/^\Q${\ sha256_hex($t0->{refresh_token})}\E \d+$/,
     'rt_prev:app: the rotated token\'s hash and when');

# --- the grace: the reply of the last refresh was lost; the client retries
($st, my $t2) = refresh($t0->{refresh_token});
is($st, 200, 'the previous token within the grace: 200, a new pair');
isnt($t2->{refresh_token}, $t1->{refresh_token}, '  another refresh token again');
%s = @{ redis_cmd('HGETALL', "ms:{sess:$sid}") };
is((split / /, $s{'rt:app'})[0], sha256_hex($t2->{refresh_token}), '  which is now the current one');
like($s{'rt_used:app'}, qr/\Q${\ sha256_hex($t1->{refresh_token})}\E/,
     '  the one of the lost reply is among the used ones');
($st, my $t3) = refresh($t2->{refresh_token});
is($st, 200, 'the current token rotates on');

# --- refusals that change nothing
my $before = redis_dump();
my @cases = (
    ['a token never issued, of a live sid', 400, 'invalid_grant',
     [$sid . '.' . ('A' x 43)]],
    ['another client\'s use', 400, 'invalid_grant',
     [$t3->{refresh_token}, client_id => 'other']],
    ['a wider scope', 400, 'invalid_scope', [$t3->{refresh_token}, scope => 'openid offline_access']],
    ['a malformed token', 400, 'invalid_grant', ['abc']],
    ['a token without its dot', 400, 'invalid_grant', ['A' x 66]],
    ['a token of another alphabet', 400, 'invalid_grant', [$sid . '.' . ('+' x 43)]],
    ['an unknown sid', 400, 'invalid_grant', [new_sid() . '.' . ('A' x 43)]],
    ['a huge token', 400, 'invalid_request', ['A' x 5000]],
    ['a public app with a secret', 401, 'invalid_client',
     [$t3->{refresh_token}, client_secret => 'x' x 40]],
    ['an unknown client', 401, 'invalid_client', [$t3->{refresh_token}, client_id => 'nobody']],
);
for my $case (@cases) {
    my ($name, $status, $error, $args) = @$case;
    my ($s1, $e, $res) = refresh(@$args);
    is($s1, $status, "$name: $status") or diag($res->{body});
    is($e->{error}, $error, "  $error");
}
for my $bad (['no refresh_token', form(grant_type => 'refresh_token', client_id => 'app')],
             ['refresh_token twice', form(grant_type => 'refresh_token', client_id => 'app',
                                          refresh_token => $t3->{refresh_token},
                                          refresh_token => $t3->{refresh_token})],
             ['a NUL in it', 'grant_type=refresh_token&client_id=app&refresh_token=a%00b'],
             ['not UTF-8', 'grant_type=refresh_token&client_id=app&refresh_token=%c3%28'])
{
    my ($s1, $e) = token_post($bad->[1]);
    is($s1, 400, "$bad->[0]: 400");
    is($e->{error}, 'invalid_request', '  invalid_request');
}
is(redis_dump(), $before, 'none of these changed anything in Redis');
is(heard() =~ /\$7\r\nmessage\r\n/ ? 1 : 0, 0, 'and nothing was published');

# a narrower scope is taken
($st, my $t4) = refresh($t3->{refresh_token}, scope => '');
is($st, 200, 'an empty scope parameter: the token rotates');
is($t4->{scope}, 'openid', '  with the scope granted (empty is as omitted)');
($st, my $t5) = refresh($t4->{refresh_token}, scope => 'openid');
is($st, 200, 'the scope granted, asked again: 200');

# --- reuse: a rotated token comes back after the grace
my $access = $t5->{access_token};
is(gateway('/gw/api', $access), 200, 'the gateway takes the session\'s access token');
my $t0_again = time;
($st, my $e) = refresh($t1->{refresh_token});      # used (the lost reply's)
is($st, 400, 'a used refresh token: 400');
is($e->{error}, 'invalid_grant', '  invalid_grant');
like($e->{error_description}, qr/revoked/, '  the session is revoked');
is(redis_cmd('EXISTS', "ms:{sess:$sid}"), 0, '  the session is deleted');
my $score = redis_cmd('ZSCORE', 'ms:sso:revoked', $sid);
ok(defined $score && $score > time + 12 * 3600 - 60 && $score <= time + 12 * 3600 + 1,
   '  its sid in ms:sso:revoked until now + 12 h');
ok(wait_for(sub { heard() =~ /\Q$sid\E \d+/ }, 'the PUBLISH'),
   '  "<sid> <exp>" published on ms:sso:revoked');
ok(wait_for(sub { gateway('/gw/api', $access) != 200 }, 'the gateway refuses'),
   'the gateway refuses the session\'s access token');
ok(time - $t0_again < 1.5, '  within a second (' . sprintf('%.2f', time - $t0_again) . ' s)');
($st, $e) = refresh($t5->{refresh_token});
is($st, 400, 'the current token of a revoked session: 400');
is($e->{error}, 'invalid_grant', '  invalid_grant');
like(error_log_text(), qr/a rotated refresh token of session "\Q$sid\E" was used again/,
     'the reuse is logged (the sid, never the token)');
unlike(error_log_text(), qr/\Q$t1->{refresh_token}\E/, 'no refresh token in the log');

# the previous token after its grace is a reuse too (its time set back)
($sid, $t0) = first_tokens();
($st, $t1) = refresh($t0->{refresh_token});
my $prev = redis_cmd('HGET', "ms:{sess:$sid}", 'rt_prev:app');
my ($ph, $pt) = split / /, $prev;
redis_cmd('HSET', "ms:{sess:$sid}", 'rt_prev:app', "$ph " . ($pt - 31));
($st, $e) = refresh($t0->{refresh_token});
is($st, 400, 'the previous token 31 s after its rotation: 400');
is(redis_cmd('EXISTS', "ms:{sess:$sid}"), 0, '  reuse: the session is revoked');

# a refresh after the session ended (a logout)
($sid, $t0) = first_tokens();
redis_cmd('DEL', "ms:{sess:$sid}");
($st, $e) = refresh($t0->{refresh_token});
is($st, 400, 'a refresh of an ended session: 400');
is($e->{error}, 'invalid_grant', '  invalid_grant');
is(redis_cmd('EXISTS', "ms:{sess:$sid}"), 0, '  the session is not made again');

# a confidential client, by Basic; offline_access
($sid, $t0) = first_tokens(client => 'back', uri => 'https://back.example/cb',
                           secret => APP_SECRET, scope => 'offline_access');
($st, $t1) = token_post(form(grant_type => 'refresh_token',
                             refresh_token => $t0->{refresh_token}),
                        'Authorization: Basic ' . encode_base64('back:' . APP_SECRET, ''));
is($st, 200, 'a confidential client refreshes with client_secret_basic');
ok(!$t1->{id_token}, '  no openid: no ID token');
($st, $e) = token_post(form(grant_type => 'refresh_token',
                            refresh_token => $t1->{refresh_token}),
                       'Authorization: Basic ' . encode_base64('back:' . ('w' x 40), ''));
is($st, 401, '  with a wrong secret: 401');
is(redis_cmd('EXISTS', "ms:{sess:$sid}"), 1, '  the session is still there');

# the account deleted meanwhile
($sid, $t0) = first_tokens();
redis_cmd('DEL', 'ms:{user:u1}:info');
($st, $e) = refresh($t0->{refresh_token});
is($st, 400, 'a deleted account: 400');
is($e->{error}, 'invalid_grant', '  invalid_grant');

is(join("\n", stop_env()), '', 'nginx clean');
my @errors = grep { !/mobispot: a rotated refresh token/ }
             error_log_text() =~ /^.*\[(?:error|crit|alert|emerg)\].*$/mg;
is(join("\n", @errors), '', 'no other error in the log');

Test::More::done_testing();
