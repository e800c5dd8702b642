package Test::Mobispot::Util;

# Process, port, file and text helpers shared by the Test::Mobispot harness.
# Nothing in here knows about nginx or Redis.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(
    free_port spawn wait_exit children_of process_alive signal_name
    slurp file_size spew
    unescape split_command_line escape_for_display trim
);

# ---------------------------------------------------------------- ports ---

my %Handed_out;    # ports already given to this test process

# Returns a loopback TCP port that is free right now.  Ports are taken
# below the kernel's ephemeral range, so that they cannot collide with the
# local port of an outgoing connection (ours or another test's).
sub free_port {
    my ($low_ephemeral) = (slurp('/proc/sys/net/ipv4/ip_local_port_range')
                           // '32768') =~ /(\d+)/;
    my $top = ($low_ephemeral > 12000 ? $low_ephemeral : 32768) - 1;
    my $bottom = 10000;

    for (1 .. 200) {
        my $port = $bottom + int(rand($top - $bottom));
        next if $Handed_out{$port};
        my $sock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => $port,
            Proto     => 'tcp',
            Listen    => 1,
        ) or next;
        close $sock;
        $Handed_out{$port} = 1;
        return $port;
    }

    # Crowded machine: let the kernel choose.
    my $sock = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1,
    ) or die "Test::Mobispot: cannot find a free port: $!\n";
    my $port = $sock->sockport;
    close $sock;
    $Handed_out{$port} = 1;
    return $port;
}

# ------------------------------------------------------------ processes ---

# Forks and execs $o{cmd} (array ref).  stdout and stderr are appended to
# the files $o{stdout} / $o{stderr} (default /dev/null).  Returns the pid.
sub spawn {
    my (%o) = @_;
    my @cmd = @{ $o{cmd} };

    my $pid = fork;
    die "Test::Mobispot: fork failed: $!\n" unless defined $pid;
    return $pid if $pid;

    # Child: restore default signal dispositions (the test process ignores
    # SIGPIPE, and ignored signals would survive exec).
    $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE QUIT CHLD USR1 USR2);
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', ($o{stdout} // '/dev/null');
    open STDERR, '>>', ($o{stderr} // $o{stdout} // '/dev/null');
    { no warnings 'exec'; exec { $cmd[0] } @cmd; }
    print STDERR "Test::Mobispot: exec $cmd[0] failed: $!\n";
    POSIX::_exit(127);
}

# Waits up to $timeout seconds (0: just look) for child $pid to exit.
# Returns the wait status, -1 when $pid is not (or no longer) our child,
# or undef when it is still running.
sub wait_exit {
    my ($pid, $timeout) = @_;
    my $deadline = time + ($timeout // 0);
    while (1) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        return $? if $r == $pid;
        return -1 if $r < 0;
        return undef if time >= $deadline;
        sleep 0.01;
    }
}

# True when a process with this pid exists and is not a zombie.
sub process_alive {
    my ($pid) = @_;
    my ($state) = _stat_fields($pid) or return 0;
    return $state ne 'Z';
}

# Pids of the live (non-zombie) children of $ppid, read from /proc
# (their number in scalar context).
sub children_of {
    my ($ppid) = @_;
    my @kids;
    opendir(my $dh, '/proc') or return;
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        my ($state, $parent) = _stat_fields($pid) or next;
        push @kids, $pid if $parent == $ppid && $state ne 'Z';
    }
    closedir $dh;
    return wantarray ? (sort { $a <=> $b } @kids) : scalar @kids;
}

# (state, ppid) of a process, or an empty list when it is gone.
# /proc/PID/stat is "pid (comm) state ppid ..."; comm may hold spaces and
# parentheses, hence the greedy match up to the last ")".
sub _stat_fields {
    my ($pid) = @_;
    my $stat = slurp("/proc/$pid/stat") // return;
    return $stat =~ /^.*\)\s+(\S)\s+(\d+)/s;
}

sub signal_name {
    my ($num) = @_;
    require Config;
    no warnings 'once';
    my @names = split ' ', $Config::Config{sig_name};
    return $names[$num] ? "SIG$names[$num]" : "signal $num";
}

# ---------------------------------------------------------------- files ---

# Reads a whole file (from byte $offset), or returns undef when it cannot.
sub slurp {
    my ($file, $offset) = @_;
    open(my $fh, '<:raw', $file) or return undef;
    seek($fh, $offset, 0) if $offset;
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data // '';
}

sub file_size {
    my ($file) = @_;
    return -s $file // 0;
}

sub spew {
    my ($file, $data) = @_;
    open(my $fh, '>:raw', $file)
        or die "Test::Mobispot: cannot write $file: $!\n";
    print {$fh} $data;
    close $fh or die "Test::Mobispot: cannot write $file: $!\n";
}

# ----------------------------------------------------------------- text ---

sub trim {
    my ($s) = @_;
    return $s unless defined $s;
    $s =~ s/\A\s+//;
    $s =~ s/\s+\z//;
    return $s;
}

# Interprets backslash escapes: \r \n \t \0 \e \\ \" \' and \xHH.
# Any other backslash pair is kept as it is.
sub unescape {
    my ($s) = @_;
    my %simple = (r => "\r", n => "\n", t => "\t", 0 => "\0", e => "\e",
                  '\\' => '\\', '"' => '"', "'" => "'");
    $s =~ s{\\(?:x([0-9a-fA-F]{2})|(.))}{
        defined $1 ? chr(hex $1)
        : exists $simple{$2} ? $simple{$2}
        : "\\$2"
    }gse;
    return $s;
}

# Makes bytes printable for diagnostics: control characters and bytes
# above 0x7e become escapes; long values are cut.
sub escape_for_display {
    my ($s, $max) = @_;
    return '(undef)' unless defined $s;
    $max //= 400;
    my $cut = length($s) > $max;
    $s = substr($s, 0, $max) if $cut;
    $s =~ s{([^\x20-\x7e])}{
        $1 eq "\r" ? '\r' : $1 eq "\n" ? '\n' : $1 eq "\t" ? '\t'
        : sprintf('\x%02x', ord $1)
    }ge;
    return $s . ($cut ? '...' : '');
}

# Splits a command line the way redis-cli does: words separated by blanks;
# "double quoted" words understand \n \r \t \b \a \\ \" and \xHH;
# 'single quoted' words only understand \'.  A closing quote must be
# followed by a blank or the end of the line.
#
# Returns a list of words; with $positions true, a list of
# [word, quoted, start offset, end offset] instead.  Dies on bad quoting.
sub split_command_line {
    my ($line, $positions) = @_;
    my @words;
    my $len = length $line;
    my $i = 0;

    while (1) {
        $i++ while $i < $len && substr($line, $i, 1) =~ /\s/;
        last if $i >= $len;

        my $start = $i;
        my $word = '';
        my $quote = substr($line, $i, 1);

        if ($quote eq '"' || $quote eq "'") {
            $i++;
            while (1) {
                die "unbalanced quotes in: $line\n" if $i >= $len;
                my $c = substr($line, $i, 1);
                if ($c eq $quote) {
                    $i++;
                    die "closing quote must be followed by a space in: $line\n"
                        if $i < $len && substr($line, $i, 1) !~ /\s/;
                    last;
                }
                if ($c eq '\\' && $i + 1 < $len) {
                    my $n = substr($line, $i + 1, 1);
                    if ($quote eq "'") {
                        if ($n eq "'") { $word .= "'"; $i += 2; next }
                    }
                    elsif ($n eq 'x'
                           && substr($line, $i + 2, 2) =~ /^[0-9a-fA-F]{2}$/)
                    {
                        $word .= chr hex substr($line, $i + 2, 2);
                        $i += 4;
                        next;
                    }
                    else {
                        my %esc = (n => "\n", r => "\r", t => "\t",
                                   b => "\b", a => "\a");
                        $word .= $esc{$n} // $n;
                        $i += 2;
                        next;
                    }
                }
                $word .= $c;
                $i++;
            }
            push @words, $positions ? [$word, 1, $start, $i] : $word;
        }
        else {
            $i++ while $i < $len && substr($line, $i, 1) !~ /\s/;
            $word = substr($line, $start, $i - $start);
            push @words, $positions ? [$word, 0, $start, $i] : $word;
        }
    }
    return @words;
}

1;
