# Every directive in the module's command tables has its entry in
# docs/directives.md (a "### name" heading with syntax, default, context).
use strict;
use warnings;
use Test::More;
use FindBin;

my $root = "$FindBin::Bin/..";
my %directives;

for my $file (glob "$root/ngx_mobispot_module/*/*.c") {
    open my $fh, '<', $file or die "$file: $!";
    my $text = do { local $/; <$fh> };
    # a command table entry: "{ ngx_string("mobispot_..."),", then the
    # NGX_*_CONF flags (variable tables have the same opening)
    $directives{$1} = 1
        while $text =~ /\{\s*ngx_string\("(mobispot_[a-z0-9_]+)"\)\s*,\s*NGX_/g;
}

cmp_ok(scalar(keys %directives), '>=', 7, 'directives found in the sources');

open my $fh, '<', "$root/docs/directives.md" or die "directives.md: $!";
my $doc = do { local $/; <$fh> };

for my $d (sort keys %directives) {
    my ($entry) = $doc =~ /^### \Q$d\E\n(.*?)(?=^##|\z)/ms;
    ok(defined $entry, "$d is documented");
    like($entry // '', qr/\*\*syntax:\*\*.*\*\*default:\*\*.*\*\*context:\*\*/s,
         "$d has syntax, default and context");
}

done_testing();
