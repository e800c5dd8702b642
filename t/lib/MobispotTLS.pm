package MobispotTLS;

# TLS on loopback for the sign-in journeys: a test certificate authority
# made by the openssl command for the run, one server certificate for the
# host names of the journey, and a browser of sorts: curl with a cookie
# jar, every host name resolved to 127.0.0.1, redirects followed by the
# test itself (each step is checked), forms read out of the HTML.

use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);

our @EXPORT = qw(tls_ca tls_browser html_form);

# tls_ca($dir, @names): { ca, cert, key } (PEM files in $dir)
sub tls_ca {
    my ($dir, @names) = @_;
    my $san = join ',', map { "DNS:$_" } @names;
    my @run = (
        "openssl ecparam -name prime256v1 -genkey -noout -out $dir/ca.key",
        "openssl req -x509 -new -key $dir/ca.key -days 2 -subj '/CN=Mobispot test CA'"
          . " -addext basicConstraints=critical,CA:TRUE"
          . " -addext keyUsage=critical,keyCertSign,cRLSign -out $dir/ca.pem",
        "openssl ecparam -name prime256v1 -genkey -noout -out $dir/server.key",
        "openssl req -new -key $dir/server.key -subj '/CN=$names[0]' -out $dir/server.csr",
    );
    for my $cmd (@run) {
        system("$cmd 2>/dev/null") == 0 or die "tls_ca: $cmd failed\n";
    }
    open my $ext, '>', "$dir/server.ext" or die "$dir/server.ext: $!";
    print $ext "subjectAltName=$san\nextendedKeyUsage=serverAuth\n"
      . "basicConstraints=CA:FALSE\n";
    close $ext;
    system("openssl x509 -req -in $dir/server.csr -CA $dir/ca.pem -CAkey $dir/ca.key"
           . " -CAcreateserial -days 2 -extfile $dir/server.ext -out $dir/server.pem"
           . " 2>/dev/null") == 0
      or die "tls_ca: signing the server certificate failed\n";
    return { ca => "$dir/ca.pem", cert => "$dir/server.pem", key => "$dir/server.key" };
}

# tls_browser(ca => FILE, port => PORT, names => [..]): a browser object
sub tls_browser { return MobispotTLS::Browser->new(@_) }

# html_form($html): { action, method, fields => [[name, value], ...] } of
# the first form, hidden and filled inputs (a value="" attribute) only
sub html_form {
    my ($html) = @_;
    my ($attrs, $inner) = $html =~ m{<form\b([^>]*)>(.*?)</form>}si or return undef;
    my %f = (fields => []);
    ($f{action}) = $attrs =~ /\baction="([^"]*)"/i;
    ($f{method}) = $attrs =~ /\bmethod="([^"]*)"/i;
    $f{method} = uc($f{method} // 'GET');
    for my $input ($inner =~ /<input\b([^>]*)>/gi) {
        my ($name) = $input =~ /\bname="([^"]*)"/i or next;
        my ($value) = $input =~ /\bvalue="([^"]*)"/i;
        push @{ $f{fields} }, [ _unhtml($name), _unhtml($value // '') ];
    }
    $f{action} = _unhtml($f{action}) if defined $f{action};
    return \%f;
}

sub _unhtml {
    my ($s) = @_;
    $s =~ s/&quot;/"/g; $s =~ s/&#39;/'/g; $s =~ s/&lt;/</g; $s =~ s/&gt;/>/g;
    $s =~ s/&#x([0-9a-f]+);/chr hex $1/gie; $s =~ s/&#([0-9]+);/chr $1/ge;
    $s =~ s/&amp;/&/g;
    return $s;
}

package MobispotTLS::Browser;

use File::Temp qw(tempdir);

sub new {
    my ($class, %o) = @_;
    my $self = bless { %o, dir => tempdir(CLEANUP => 1) }, $class;
    $self->{jar} = "$self->{dir}/jar";
    open my $fh, '>', $self->{jar} or die "$self->{jar}: $!";
    close $fh;
    return $self;
}

# request($method, $url, form => [[k, v], ...], headers => [...],
# target => the request line's target when it is not $url's path):
# { status, headers => { lc name => [values] }, body, location }
sub request {
    my ($self, $method, $url, %o) = @_;
    my $d = $self->{dir};
    my @cmd = ('curl', '-sS', '--max-time', '30', '--cacert', $self->{ca},
               '-b', $self->{jar}, '-c', $self->{jar},
               '-D', "$d/h", '-o', "$d/b", '-w', '%{http_code}', '-X', $method);
    push @cmd, '--resolve', "$_:$self->{port}:127.0.0.1" for @{ $self->{names} };
    push @cmd, '-H', $_ for @{ $o{headers} // [] };
    push @cmd, '--request-target', $o{target} if defined $o{target};
    if ($o{form}) {
        push @cmd, '-H', 'Content-Type: application/x-www-form-urlencoded';
        push @cmd, '--data-binary',
          join '&', map { _esc($_->[0]) . '=' . _esc($_->[1]) } @{ $o{form} };
    }
    push @cmd, $url;
    open my $p, '-|', @cmd or die "curl: $!";
    my $code = do { local $/; <$p> };
    close $p;
    my %r = (status => $code + 0, headers => {});
    if (open my $h, '<', "$d/h") {
        while (my $line = <$h>) {
            $line =~ s/\r?\n\z//;
            push @{ $r{headers}{ lc $1 } }, $2 if $line =~ /^([^:\s]+):\s*(.*)$/;
        }
        close $h;
    }
    $r{body} = do { local $/; open my $b, '<', "$d/b" or return \%r; <$b> } // '';
    ($r{location}) = @{ $r{headers}{location} // [] };
    unlink "$d/h", "$d/b";
    return \%r;
}

# follows redirects (301, 302, 303, 307) from $r, at most $max (8); the
# last answer
sub follow {
    my ($self, $r, $max) = @_;
    $max //= 8;
    while ($max-- > 0 && $r->{status} =~ /^30[1237]$/ && $r->{location}) {
        $r = $self->get($r->{location});
    }
    return $r;
}

sub get  { my ($self, $url, %o) = @_; return $self->request('GET', $url, %o) }
sub post { my ($self, $url, $form, %o) = @_; return $self->request('POST', $url, form => $form, %o) }

# the cookies the jar holds for a host: { name => value }
sub cookies {
    my ($self, $host) = @_;
    my %c;
    open my $fh, '<', $self->{jar} or return \%c;
    while (my $line = <$fh>) {
        $line =~ s/^#HttpOnly_//;
        next if $line =~ /^#/ || $line !~ /\t/;
        chomp $line;
        my @f = split /\t/, $line;
        $c{ $f[5] } = $f[6] if $f[0] eq $host;
    }
    close $fh;
    return \%c;
}

# sets a cookie of a host in the jar (a Secure, HttpOnly cookie with
# Path=/, as the module sets its own), replacing one of that name: what a
# page of an attacker's could not do, but a test must
sub set_cookie {
    my ($self, $host, $name, $value) = @_;
    open my $fh, '<', $self->{jar} or die "$self->{jar}: $!";
    my @keep = grep {
        my @f = split /\t/, ($_ =~ s/^#HttpOnly_//r);
        !(@f > 6 && $f[0] eq $host && $f[5] eq $name);
    } <$fh>;
    close $fh;
    open $fh, '>', $self->{jar} or die "$self->{jar}: $!";
    print $fh @keep, "#HttpOnly_$host\tFALSE\t/\tTRUE\t0\t$name\t$value\n";
    close $fh;
}

sub _esc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

1;
