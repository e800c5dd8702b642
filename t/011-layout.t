# The layout of ngx_mobispot_module/ (docs/development.md, "Layout"): one
# folder per concern, includes that point one way (core <- redis <- http <-
# the resources), no include circle, no resource that includes another,
# nothing of nginx in core/, and no source file over 800 lines unless
# docs/development.md says why.
use strict;
use warnings;
use Test::More;
use FindBin;

my $root = "$FindBin::Bin/..";
my $mod = "$root/ngx_mobispot_module";
my %rank = (core => 0, redis => 1, http => 2);  # every other folder: 3
# a resource built on another one, which it alone may include
my %over = (bookings => 'spots', usage => 'spots', issuer => 'sso');
my $MAX_LINES = 800;

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    return <$fh>;
}

my @files = map { s{^\Q$mod\E/}{}r } glob "$mod/*/*.[ch]";
cmp_ok(scalar(@files), '>=', 20, 'sources found in the folders');
is_deeply([glob "$mod/*.[ch]"], [], 'no source outside a folder');

# the folders config builds are the folders that exist
my $config = slurp("$root/config");
my ($list) = $config =~ /^MOBISPOT_FOLDERS="([^"]*)"/m;
ok(defined $list, 'config names its folders');
my @dirs = sort map { m{^(\w+)/} } @files;
my %seen;
@dirs = grep { !$seen{$_}++ } @dirs;
is_deeply([sort split ' ', $list // ''], \@dirs, 'config builds every folder');

# the exceptions to the size rule, each with its reason
my $dev = slurp("$root/docs/development.md");
my %long = map { $_ => 1 } $dev =~ /^- `ngx_mobispot_module\/([^`]+)` \(over 800 lines\)/mg;

my (%edges, @bad);
for my $f (sort @files) {
    my ($dir) = $f =~ m{^(\w+)/};
    my $r = $rank{$dir} // 3;
    my $text = slurp("$mod/$f");
    my $lines = () = $text =~ /\n/g;

    if ($lines > $MAX_LINES) {
        ok($long{$f}, "$f: $lines lines, over $MAX_LINES only with a reason "
           . "in docs/development.md");
    }

    if ($dir eq 'core') {
        unlike($text, qr/^#include\s+<ngx_/m, "$f: core includes no nginx header");
    }

    while ($text =~ /^#include\s+"([^"]+)"/mg) {
        my $inc = $1;
        my ($idir) = $inc =~ m{^(\w+)/};
        if (!defined $idir || !-f "$mod/$inc") {
            push @bad, "$f includes \"$inc\": not a path below ngx_mobispot_module/";
            next;
        }
        my $ir = $rank{$idir} // 3;
        push @{ $edges{$f} }, $inc;
        next if $idir eq $dir;
        next if ($over{$dir} // '') eq $idir;
        push @bad, "$f ($dir) includes $inc ($idir): "
            . ($ir == 3 && $r == 3 ? 'a resource includes another'
                                   : 'an include against the direction')
            if $ir >= $r;
    }
}

is_deeply(\@bad, [], 'every include points down or within its folder')
    or diag(join "\n", @bad);

# no circle: a depth-first walk of the include graph
my (%state, @circle);
sub walk {
    my ($f, @path) = @_;
    return if ($state{$f} // 0) == 2;
    if (($state{$f} // 0) == 1) {
        push @circle, join(' -> ', @path, $f);
        return;
    }
    $state{$f} = 1;
    walk($_, @path, $f) for @{ $edges{$f} // [] };
    $state{$f} = 2;
}
walk($_) for sort keys %edges;
is_deeply(\@circle, [], 'no include circle') or diag(join "\n", @circle);

done_testing();
