# The sign-in journey in a real browser: headless Chromium, driven through
# selenium by t/lib/mobispot_browser.py (run by /usr/bin/python3), against
# the TLS set-up of t/lib/MobispotJourney.pm (the issuer and two site
# gateways on their own host names, all on 127.0.0.1).  A cookie jar
# ignores SameSite; Chromium does not: the form_post from the issuer to a
# site's callback is a cross-site POST, where a SameSite=Lax cookie is not
# sent, and authorize from another site is a cross-site navigation.
#
#   open namur's page -> the issuer's sign-in form -> filled by its labels,
#   sent with Enter -> the form_post -> namur's page (sub=ada) -> liege's
#   page without a form -> sign out at the issuer (its confirmation, then
#   the site's post-logout URI) -> both sites refuse; then, with script
#   off, the sign-in and the form_post's Continue button.
#
# Each line "ok - NAME" / "not ok - NAME" of the script is an assertion
# here.  Skipped, with the reason, where selenium or Chromium cannot run.
# HUP mode reloads nginx between the two sites (the session lives on).
#
#   prove -I t/lib t/532-sso-browser.t
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotJourney;
use MobispotLogin ();
use JSON::PP ();
use POSIX ();
use IO::Select;
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(time sleep);

my $py = '/usr/bin/python3';
my $script = 't/lib/mobispot_browser.py';
my $valgrind = $ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 0;
my $hup = $ENV{TEST_NGINX_USE_HUP} && !$valgrind;

# runs the script in its own process group; calls $on_line->($line, $in)
# for each line of its output ($in: its stdin); kills the group after
# $timeout s.  Returns (exit status or undef on timeout, lines)
sub run_script {
    my ($timeout, $on_line, @args) = @_;
    pipe(my $out_r, my $out_w) or die "pipe: $!";
    pipe(my $in_r, my $in_w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        close $out_r; close $in_w;
        open STDOUT, '>&', $out_w or POSIX::_exit(127);
        open STDIN, '<&', $in_r or POSIX::_exit(127);
        exec $py, $script, @args or POSIX::_exit(127);
    }
    POSIX::setpgid($pid, $pid);
    close $out_w; close $in_r;
    $in_w->autoflush(1);
    my ($sel, $buf, @lines) = (IO::Select->new($out_r), '');
    my $end = time + $timeout;
    my $eof;
    while (!$eof && time < $end) {
        next unless $sel->can_read($end - time);
        my $n = sysread $out_r, $buf, 4096, length $buf;
        $eof = 1 unless $n;
        while ($buf =~ s/^(.*)\n//) {
            push @lines, $1;
            $on_line->($1, $in_w) if $on_line;
        }
    }
    my $status;
    if ($eof) {
        waitpid $pid, 0;
        $status = $? >> 8;
    } else {
        diag("$script: no end after $timeout s, its processes killed");
    }
    for my $sig ('TERM', 'KILL') {           # whatever is left of the group
        kill $sig, -$pid;
        last if $eof && !kill 0, -$pid;
        sleep 0.5;
    }
    waitpid $pid, 0 unless $eof;
    close $out_r; close $in_w;
    return ($status, @lines);
}

# can selenium and Chromium run here at all?
my $why;
if (!-x $py || system($py, '-c', 'import selenium') != 0) {
    $why = "$py cannot import selenium (Debian's python3-selenium)";
} elsif (!-x '/usr/bin/chromium' || !-x '/usr/bin/chromedriver') {
    $why = 'no /usr/bin/chromium or /usr/bin/chromedriver (Debian\'s '
         . 'chromium, chromium-driver)';
} else {
    my ($st, @out) = run_script(60, undef, '--probe');
    $why = 'headless Chromium does not start here: '
         . (join(' ', grep { /probe/ } @out) || 'no answer in 60 s')
        unless defined $st && grep { $_ eq 'probe ok' } @out;
}
plan skip_all => $why if $why;

my $j = journey_start();
# an app of the browser (its redirect URI on liege's origin, which serves
# something at that path): its sign-in while signed out ends at the app
my $app_uri = "$j->{sites}{liege}/app/callback";
MobispotLogin::put_client('browser-app', 'public_app', [$app_uri]);
my (undef, $challenge) = MobispotLogin::pkce();
my $app_authorize = "$j->{iss}/authorize?" . MobispotLogin::form(
    response_type => 'code', client_id => 'browser-app',
    redirect_uri => $app_uri, state => 'app-state', scope => 'openid',
    code_challenge => $challenge, code_challenge_method => 'S256');
my $dir = tempdir(CLEANUP => 1);
my $cfg = "$dir/journey.json";
open my $fh, '>', $cfg or die "$cfg: $!";
print $fh JSON::PP->new->encode({
    iss => $j->{iss}, sites => $j->{sites}, names => [journey_names()],
    ca => $j->{ca}, cert => $j->{tls}{cert}, user => 'ada@example.org',
    password => $MobispotLogin::PW,
    app_authorize => $app_authorize, app_redirect => $app_uri,
    hup => $hup ? JSON::PP::true : JSON::PP::false,
    wait => $valgrind ? 60 : 10, refuse_wait => $valgrind ? 20 : 3,
});
close $fh;

my ($status, @lines) = run_script($valgrind ? 900 : 180, sub {
    my ($line, $in) = @_;
    if ($line =~ /^(not )?ok - (.*)$/) {
        ok(!$1, $2);
    } elsif ($line =~ /^# (.*)$/) {
        my $text = $1;
        if ($text =~ /^(Chromium trusts|\w+ refused after)/) {
            note($text);
        } else {
            diag($text);
        }
    } elsif ($line eq 'hup') {
        is(nginx_hup(), undef, 'nginx reloaded between the two sites');
        print $in "go\n";
    }
}, $cfg);
is($status, 0, 'the browser script ran to its end');
ok((grep { $_ eq 'done' } @lines), 'every step of the journey was run');
unlink $cfg;

my $logs = join '', map { Test::Mobispot::Util::slurp($_) // '' }
    glob(servroot() . '/logs/*.log');
unlike($logs, qr/\Q$MobispotLogin::PW\E/, 'no password in any log');

is(join("\n", stop_env()), '', 'nginx clean');
done_testing();
