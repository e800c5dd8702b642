package MobispotSSO;

# Keys and tokens for the SSO gateway tests (t/1xx-sso-*.t), made at test
# time: the keys with the openssl CLI in a temporary directory exported as
# $TEST_NGINX_SSO_KEYS, the tokens with t/lib/mobispot_token.py (which
# signs raw header and payload JSON, so that malformed tokens can be built).

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);

our @EXPORT = qw(sso_keys tok claims b64url jwks);

our $ISS = 'https://sso.mobispot.test';

my $Dir;
my $Helper = File::Spec->rel2abs(dirname(__FILE__) . '/mobispot_token.py');

sub run {
    my ($cmd) = @_;
    system("$cmd >/dev/null 2>&1") == 0 or die "failed: $cmd\n";
}

sub secret {
    my ($file, $bytes) = @_;
    open my $fh, '<:raw', '/dev/urandom' or die;
    my $raw;
    read($fh, $raw, $bytes);
    close $fh;
    my $s = unpack('H*', $raw);
    open my $out, '>', $file or die "$file: $!";
    print $out "$s\n";
    close $out;
}

# The keys, made once per test file.
sub sso_keys {
    return $Dir if $Dir;

    $Dir = tempdir('mobispot-sso-XXXXXX', TMPDIR => 1, CLEANUP => 1);

    secret("$Dir/hs256.secret", 32);
    secret("$Dir/hs384.secret", 48);
    secret("$Dir/hs512.secret", 64);
    secret("$Dir/short.secret", 8);

    for my $k (qw(rsa rsa2)) {
        run("openssl genrsa -out $Dir/$k.key 2048");
        run("openssl rsa -in $Dir/$k.key -pubout -out $Dir/$k.pub");
    }

    run("openssl genrsa -out $Dir/rsa1024.key 1024");
    run("openssl rsa -in $Dir/rsa1024.key -pubout -out $Dir/rsa1024.pub");

    for my $c (['ec256', 'prime256v1'], ['ec384', 'secp384r1'],
               ['ec521', 'secp521r1'])
    {
        run("openssl ecparam -name $c->[1] -genkey -noout -out $Dir/$c->[0].key");
        run("openssl ec -in $Dir/$c->[0].key -pubout -out $Dir/$c->[0].pub");
    }

    $ENV{TEST_NGINX_SSO_KEYS} = $Dir;

    return $Dir;
}

# A token: signed with key file $key (a secret or a private key) using
# $alg ("none" for no signature), from raw header and payload JSON.
sub tok {
    my ($key, $alg, $header, $payload) = @_;

    my $dir = sso_keys();
    $key = "$dir/$key" unless $key =~ m{^/};

    my @cmd = ('/usr/bin/python3', $Helper, $key, $alg, $header, $payload);
    open my $fh, '-|', @cmd or die "cannot run $Helper: $!";
    local $/;
    my $t = <$fh>;
    close $fh or die "$Helper failed for $header $payload\n";

    return $t;
}

# A JWKS document of public keys: specs "file:kid:alg" (kid, alg optional).
sub jwks {
    my (@specs) = @_;
    my $dir = sso_keys();
    @specs = map { m{^/} ? $_ : "$dir/$_" } @specs;
    open my $fh, '-|', '/usr/bin/python3', $Helper, '--jwks', @specs
        or die "cannot run $Helper: $!";
    local $/;
    my $doc = <$fh>;
    close $fh or die "$Helper --jwks failed\n";
    return $doc;
}

# Standard claims as JSON text, with overrides (undef removes a claim);
# numbers stay numbers, other values are JSON strings unless they start
# with [ or { or are "true"/"false" (then written as they are).
sub claims {
    my (%o) = @_;
    my $now = time();
    my %c = (
        iss  => "\"$ISS\"",
        aud  => '"namur"',
        sub  => '"alice"',
        sid  => '"sess-1"',
        pass => '"cowallonia"',
        iat  => $now - 10,
        exp  => $now + 3600,
    );

    for my $k (keys %o) {
        if (!defined $o{$k}) {
            delete $c{$k};
            next;
        }

        my $v = $o{$k};
        if ($v =~ /^-?[0-9]+(\.[0-9]+)?([eE][0-9]+)?$/ || $v =~ /^[\[{]/
            || $v eq 'true' || $v eq 'false' || $v eq 'null')
        {
            $c{$k} = $v;
        } else {
            $c{$k} = "\"$v\"";
        }
    }

    return '{' . join(',', map { "\"$_\":$c{$_}" } sort keys %c) . '}';
}

sub b64url {
    my ($s) = @_;
    require MIME::Base64;
    my $b = MIME::Base64::encode_base64($s, '');
    $b =~ tr{+/}{-_};
    $b =~ s/=+$//;
    return $b;
}

1;
