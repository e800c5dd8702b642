#!/usr/bin/perl
# The demo's sign-in journey, as a browser would walk it (curl with a
# cookie jar, t/lib/MobispotTLS.pm): a page of cw-namur sends it to the
# issuer's sign-in; the demo account signs in; the form_post brings it
# back to the page, served with its identity; cw-liege then serves it
# without a sign-in; signing out at the issuer ends both.  Run by
# tools/demo-check.sh against a running tools/demo.sh.
#
#   perl tools/demo-journey.pl DEMO_DIR TLS_PORT
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use MobispotTLS qw(tls_browser html_form);

my ($dir, $port) = @ARGV;
die "usage: demo-journey.pl DEMO_DIR TLS_PORT\n" unless $dir && $port;
my @names = qw(sso.localhost cw-namur.localhost cw-liege.localhost);
my $b = tls_browser(ca => "$dir/tls/ca.pem", port => $port, names => \@names);
my $iss = "https://sso.localhost:$port/sso";
my $failed = 0;

sub check {
    my ($ok, $what) = @_;
    print +($ok ? 'ok' : 'FAILED'), " - $what\n";
    $failed++ unless $ok;
    return $ok;
}

sub fields { my ($f) = @_; return { map { @$_ } @{ $f ? $f->{fields} : [] } } }

sub page {
    my ($site) = @_;
    return $b->follow($b->get("https://cw-$site.localhost:$port/desk",
                          headers => ['Accept: text/html']));
}

# the callback's form_post, submitted as the page's script would
sub form_post {
    my ($r) = @_;
    my $f = html_form($r->{body} // '') or return $r;
    return $r unless ($f->{action} // '') =~ m{/sso/callback$};
    return $b->follow($b->post($f->{action}, $f->{fields}));
}

my $r = page('namur');
my $f = fields(html_form($r->{body} // ''));
check($r->{status} == 200 && exists $f->{password},
      'cw-namur sends the browser to the sign-in form');
$r = $b->follow($b->post("$iss/login", [
    [csrf => $f->{csrf} // ''], [username => 'demo@mobispot.demo'],
    [password => 'demo password 2026'], [continue => $f->{continue} // '']]));
$r = form_post($r);
check($r->{status} == 200 && $r->{body} =~ /^cw-namur service: sub=demo-user /,
      'signed in: the cw-namur page, with the identity');
$r = form_post(page('liege'));
check($r->{status} == 200 && $r->{body} =~ /^cw-liege service: sub=demo-user /,
      'cw-liege: served without a sign-in');
$r = $b->get("$iss/logout");
$r = $b->follow($b->post("$iss/logout", html_form($r->{body} // '')->{fields}));
check($r->{status} == 200, 'signed out at the issuer');
select undef, undef, undef, 1;
for my $site (qw(namur liege)) {
    $r = $b->get("https://cw-$site.localhost:$port/desk");
    check($r->{status} == 401, "cw-$site refuses the signed-out session");
}
exit($failed ? 1 : 0);
