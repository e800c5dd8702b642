package Test::Mobispot::FakeRedis;

# A scripted fake Redis server, forked from the test process, for the
# `--- fake_redis` section.
#
# The script is a list of actions, one per line.  Each command the server
# receives (from any connection, in arrival order) takes the next action;
# the last action repeats forever.  Blank lines and lines starting with #
# are ignored.
#
#   reply RAW          send RAW; a final \r\n is added unless RAW ends with one
#   error MSG          send "-MSG\r\n"
#   silence            never answer on this connection again (the command and
#                      later ones on the same connection are read and dropped,
#                      the connection stays open)
#   close              close the connection (after the replies queued before)
#   partial RAW        send RAW exactly as given, then close the connection
#   delay SECS ACTION  perform ACTION SECS seconds after the command arrived;
#                      "delay SECS RAW" (no action word) means "reply RAW"
#
# RAW and MSG understand \r \n \t \\ \0 and \xHH escapes, so a bulk reply is
# written `reply $3\r\nfoo` and an array `reply *2\r\n$1\r\na\r\n$1\r\nb`.
#
# Commands are parsed as RESP arrays of bulk strings (several may arrive in
# one read) or as inline commands.  Every received command is appended to a
# log file as "c<connection number><TAB><command words>".

use strict;
use warnings;

use Exporter 'import';
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time);

use Test::Mobispot::Util qw(unescape escape_for_display);

our @EXPORT_OK = qw(parse_script start_fake_redis received_commands);

# Parses a script (text, or array ref of lines) into a list of actions.
# Dies with a message naming the bad line.
sub parse_script {
    my ($script) = @_;
    my @lines = ref $script eq 'ARRAY' ? @$script : split /\n/, $script // '';
    my @actions;
    for my $line (@lines) {
        next unless defined $line;
        $line =~ s/\A\s+|\s+\z//g;
        next if $line eq '' || $line =~ /^#/;
        push @actions, _parse_action($line);
    }
    die "fake_redis: the script has no action\n" unless @actions;
    return \@actions;
}

sub _parse_action {
    my ($line) = @_;
    my $delay = 0;
    my $rest = $line;
    while ($rest =~ s/^delay\s+(\d+(?:\.\d*)?|\.\d+)(?:\s+|\z)//) {
        $delay += $1;
    }

    my %a = (delay => $delay, text => $line);
    if ($rest =~ /^reply\s+(.+)$/s) {
        my $raw = unescape($1);
        $raw .= "\r\n" unless $raw =~ /\r\n\z/;
        @a{qw(type data)} = ('reply', $raw);
    }
    elsif ($rest =~ /^error\s+(.+)$/s) {
        @a{qw(type data)} = ('reply', '-' . unescape($1) . "\r\n");
    }
    elsif ($rest =~ /^partial\s+(.+)$/s) {
        @a{qw(type data)} = ('partial', unescape($1));
    }
    elsif ($rest eq 'silence' || $rest eq 'close') {
        $a{type} = $rest;
    }
    elsif ($delay && length $rest) {
        my $raw = unescape($rest);
        $raw .= "\r\n" unless $raw =~ /\r\n\z/;
        @a{qw(type data)} = ('reply', $raw);
    }
    else {
        die "fake_redis: cannot understand script line: $line\n";
    }
    return \%a;
}

# Binds 127.0.0.1:$port (before forking, so that it accepts connections as
# soon as this returns) and forks the server.  Returns the child's pid or
# undef (reason in $@) when the port cannot be bound.
sub start_fake_redis {
    my (%o) = @_;
    my $actions = ref $o{script} eq 'ARRAY' && ref $o{script}[0] eq 'HASH'
        ? $o{script} : parse_script($o{script});

    my $listen = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => $o{port},
        Proto     => 'tcp',
        Listen    => 128,
        ReuseAddr => 1,
    );
    unless ($listen) {
        $@ = "cannot listen on 127.0.0.1:$o{port}: $!";
        return undef;
    }

    my $pid = fork;
    die "Test::Mobispot: fork failed: $!\n" unless defined $pid;
    if ($pid) {
        close $listen;
        return $pid;
    }

    # Child: never return into the test program (no END blocks, no TAP).
    $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP QUIT);
    $SIG{PIPE} = 'IGNORE';
    local $SIG{__DIE__};
    eval { _serve($listen, $actions, $o{log}) };
    POSIX::_exit(0);
}

# The commands the fake server logged (a list of "CMD arg ..." strings).
sub received_commands {
    my ($log) = @_;
    open(my $fh, '<', $log) or return ();
    my @cmds = map { chomp; (split /\t/, $_, 2)[1] // '' } <$fh>;
    close $fh;
    return @cmds;
}

# ------------------------------------------------------------ the server ---

sub _serve {
    my ($listen, $actions, $log) = @_;
    my $next = 0;          # index of the next script action (shared)
    my $nconn = 0;
    my %conns;             # fileno => connection state

    open(my $logfh, '>>', $log) or die "cannot open $log: $!";
    $logfh->autoflush(1);

    my $sel = IO::Select->new($listen);

    my $drop = sub {
        my ($c) = @_;
        $sel->remove($c->{sock});
        delete $conns{ fileno $c->{sock} };
        close $c->{sock};
    };

    while (1) {
        # Sleep until a socket is readable or the next delayed reply is due.
        my $due;
        for my $c (values %conns) {
            next unless @{ $c->{queue} };
            my $at = $c->{queue}[0]{at};
            $due = $at if !defined $due || $at < $due;
        }
        my $wait = defined $due ? ($due - time > 0 ? $due - time : 0) : undef;

        for my $fh ($sel->can_read($wait)) {
            if ($fh == $listen) {
                my $sock = $listen->accept or next;
                binmode $sock;
                $nconn++;
                $conns{ fileno $sock } = {
                    sock => $sock, id => $nconn, in => '', queue => [],
                    mute => 0, closing => 0,
                };
                $sel->add($sock);
                next;
            }

            my $c = $conns{ fileno $fh } or next;
            my $n = sysread($fh, my $chunk, 65536);
            if (!$n) {
                $drop->($c);
                next;
            }
            next if $c->{closing};
            $c->{in} .= $chunk;

            while (defined(my $cmd = _take_command(\$c->{in}))) {
                next unless @$cmd;
                print {$logfh} "c$c->{id}\t",
                    join(' ', map { escape_for_display($_, 200) } @$cmd), "\n";
                next if $c->{mute};

                my $a = $actions->[$next];
                $next++ if $next < $#$actions;
                _apply($c, $a);
                last if $c->{closing};
            }
        }

        # Send what is due; close connections whose script said so.
        my $now = time;
        for my $c (values %conns) {
            while (@{ $c->{queue} } && $c->{queue}[0]{at} <= $now) {
                my $item = shift @{ $c->{queue} };
                if (defined $item->{data} && !_write_all($c->{sock}, $item->{data})) {
                    $drop->($c);
                    last;
                }
                if ($item->{close}) {
                    $drop->($c);
                    last;
                }
            }
        }
    }
}

# Queues the answer of action $a for connection $c.  Answers keep the
# order of the commands: a delayed answer holds back the ones after it.
sub _apply {
    my ($c, $a) = @_;
    if ($a->{type} eq 'silence') {
        $c->{mute} = 1;
        return;
    }
    my $at = time + $a->{delay};
    my $last = $c->{queue}[-1];
    $at = $last->{at} if $last && $last->{at} > $at;

    my %item = (at => $at);
    $item{data} = $a->{data} if defined $a->{data};
    if ($a->{type} eq 'close' || $a->{type} eq 'partial') {
        $item{close} = 1;
        $c->{closing} = 1;
    }
    push @{ $c->{queue} }, \%item;
}

# Takes one complete command off the front of $$buf.  Returns an array
# ref of its words, or undef when the buffer holds no complete command.
sub _take_command {
    my ($buf) = @_;
    return undef unless length $$buf;

    if (substr($$buf, 0, 1) eq '*') {
        my $pos = 0;
        my $line = _line_at($buf, \$pos) // return undef;
        my ($count) = $line =~ /^\*(-?\d+)$/ or return _inline($buf);
        my @args;
        for (1 .. ($count > 0 ? $count : 0)) {
            my $hdr = _line_at($buf, \$pos) // return undef;
            my ($len) = $hdr =~ /^\$(\d+)$/ or return _inline($buf);
            return undef if length($$buf) < $pos + $len + 2;
            push @args, substr($$buf, $pos, $len);
            $pos += $len + 2;
        }
        substr($$buf, 0, $pos, '');
        return \@args;
    }
    return _inline($buf);
}

# Inline command: one line of words separated by blanks.
sub _inline {
    my ($buf) = @_;
    my $i = index($$buf, "\n");
    return undef if $i < 0;
    my $line = substr($$buf, 0, $i + 1, '');
    $line =~ s/\r?\n\z//;
    return [ split ' ', $line ];
}

sub _line_at {
    my ($buf, $pos) = @_;
    my $i = index($$buf, "\r\n", $$pos);
    return undef if $i < 0;
    my $line = substr($$buf, $$pos, $i - $$pos);
    $$pos = $i + 2;
    return $line;
}

sub _write_all {
    my ($sock, $data) = @_;
    while (length $data) {
        my $n = syswrite($sock, $data);
        return 0 unless $n;
        substr($data, 0, $n, '');
    }
    return 1;
}

1;
