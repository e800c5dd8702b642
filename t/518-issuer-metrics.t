# The issuer's sign-ins in the metrics: mobispot_issuer_logins_total by
# result (ok, failed, throttled), as a scrape of mobispot_metrics says
# after real sign-ins through POST login.
#
#   prove -I t/lib t/518-issuer-metrics.t
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotLogin;
use Test::More;

issuer_start(config => "    location = /metrics { mobispot_metrics; }\n");
put_user('ada', $MobispotLogin::PW);

sub logins {
    my $body = http_request('GET /metrics')->{body} // '';
    my %v = $body =~ /^mobispot_issuer_logins_total\{result="(\w+)"\} (\d+)$/mg;
    return \%v;
}

my %jar;
is(logins()->{ok}, 0, 'no sign-in yet');
sign_in(\%jar, 'ada');
is(logins()->{ok}, 1, 'a sign-in: ok 1');

my %other;
my $r = login_post(\%other, 'ada@example.org', 'Wrong horse battery staple');
is($r->{status}, 401, 'a wrong password: 401');
is(logins()->{failed}, 1, 'failed 1');

my $st = 0;
for (1 .. 6) {
    $st = login_post(\%other, 'ada@example.org', 'Wrong horse battery staple')->{status};
    last if $st == 429;
}
is($st, 429, 'repeated failures: 429');
my $v = logins();
is($v->{throttled}, 1, 'throttled 1');
cmp_ok($v->{failed}, '>=', 5, 'and the failures before it');
is($v->{ok}, 1, 'ok unchanged');

stop_env();
done_testing();
