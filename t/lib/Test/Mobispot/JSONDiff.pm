package Test::Mobispot::JSONDiff;

# Structural comparison of JSON values, for response_body_json (exact) and
# response_body_json_subset.
#
# Types must agree: the number 1 differs from the string "1", true from 1,
# null from "".  Numbers compare numerically (1 equals 1.0).  Object key
# order never matters.  In subset mode an expected object matches when
# every key it names is present in the actual object and matches
# (recursively); arrays must have the same length and match element by
# element (each element in subset mode).

use strict;
use warnings;

use B ();
use Exporter 'import';
use JSON::PP ();

our @EXPORT_OK = qw(json_diff json_decode json_type json_encode);

my $Decoder = JSON::PP->new->utf8->allow_nonref;
my $Relaxed = JSON::PP->new->utf8->allow_nonref->relaxed;
my $Encoder = JSON::PP->new->utf8->allow_nonref->canonical;

# Decodes JSON text; with $relaxed, trailing commas and # comments are
# allowed (for expectations written in test files).  Dies on bad JSON.
sub json_decode {
    my ($text, $relaxed) = @_;
    my $bytes = $text;
    utf8::encode($bytes) if utf8::is_utf8($bytes);
    return ($relaxed ? $Relaxed : $Decoder)->decode($bytes);
}

sub json_encode {
    my ($value) = @_;
    my $text = eval { $Encoder->encode(_normalize($value)) };
    return defined $text ? $text : "$value";
}

# The JSON type of a decoded value: object, array, string, number, bool
# or null.  Perl values written in a test (`\1`, `\0`) count as booleans.
sub json_type {
    my ($v) = @_;
    return 'null' unless defined $v;
    if (my $ref = ref $v) {
        return 'object' if $ref eq 'HASH';
        return 'array' if $ref eq 'ARRAY';
        return 'bool' if JSON::PP::is_bool($v);
        return 'bool' if $ref eq 'SCALAR' && defined $$v && $$v =~ /^[01]$/;
        return $ref;
    }
    my $flags = B::svref_2object(\$v)->FLAGS;
    return 'number'
        if $flags & (B::SVp_IOK | B::SVp_NOK) && !($flags & B::SVp_POK);
    return 'string';
}

# Returns undef when $got matches $expected, or a one-line description of
# the first difference, e.g. `$.spots[2].free: expected 3, got 2`.
sub json_diff {
    my ($expected, $got, %o) = @_;
    return _diff($expected, $got, '$', $o{subset});
}

sub _diff {
    my ($e, $g, $path, $subset) = @_;
    my ($te, $tg) = (json_type($e), json_type($g));

    if ($te ne $tg) {
        return "$path: expected $te " . json_encode($e)
            . ", got $tg " . json_encode($g);
    }

    if ($te eq 'object') {
        for my $k (sort keys %$e) {
            my $p = _child_path($path, $k);
            return "$p: missing (expected " . json_encode($e->{$k}) . ')'
                unless exists $g->{$k};
            my $d = _diff($e->{$k}, $g->{$k}, $p, $subset);
            return $d if defined $d;
        }
        return undef if $subset;
        for my $k (sort keys %$g) {
            next if exists $e->{$k};
            return _child_path($path, $k) . ': unexpected key (got '
                . json_encode($g->{$k}) . ')';
        }
        return undef;
    }

    if ($te eq 'array') {
        if (@$e != @$g) {
            return "$path: expected an array of " . scalar(@$e)
                . ' elements, got ' . scalar(@$g) . ': ' . json_encode($g);
        }
        for my $i (0 .. $#$e) {
            my $d = _diff($e->[$i], $g->[$i], "$path\[$i]", $subset);
            return $d if defined $d;
        }
        return undef;
    }

    my $same = $te eq 'null'   ? 1
             : $te eq 'bool'   ? (_truth($e) == _truth($g))
             : $te eq 'number' ? ($e == $g)
             :                   ($e eq $g);
    return undef if $same;
    return "$path: expected " . json_encode($e) . ', got ' . json_encode($g);
}

sub _child_path {
    my ($path, $key) = @_;
    return $key =~ /^[A-Za-z_][A-Za-z0-9_]*$/
        ? "$path.$key" : $path . '[' . json_encode("$key") . ']';
}

sub _truth {
    my ($v) = @_;
    return ref $v eq 'SCALAR' ? ($$v ? 1 : 0) : ($v ? 1 : 0);
}

# Turns test-written booleans (\1, \0) into JSON::PP booleans for encoding.
sub _normalize {
    my ($v) = @_;
    return [ map { _normalize($_) } @$v ] if ref $v eq 'ARRAY';
    return { map { ($_ => _normalize($v->{$_})) } keys %$v }
        if ref $v eq 'HASH';
    return $$v ? JSON::PP::true() : JSON::PP::false()
        if ref $v eq 'SCALAR';
    return $v;
}

1;
