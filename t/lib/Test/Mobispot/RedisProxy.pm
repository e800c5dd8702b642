package Test::Mobispot::RedisProxy;

# A TCP relay between nginx and the real Redis, forked from the test, that
# can go deaf one way: what Redis sends to a connection in subscribe mode
# (one that has sent SUBSCRIBE) is dropped while the relay is muted, and
# the TCP connection stays up.  This is the failure a heartbeat must
# notice: a proxy or firewall that stops forwarding, a peer gone silent.
#
#   my $proxy = start_redis_proxy(port => $p, redis_port => $r);
#   redis_proxy_mute($proxy);     # also connections made while muted
#   redis_proxy_unmute($proxy);
#   stop_redis_proxy($proxy);
#
# The control is a signal (USR1 mutes, USR2 unmutes), acknowledged by a
# line in the relay's log ("muted 1" / "muted 0") so that the test waits
# until it has taken effect.  Every other byte is relayed as is.

use strict;
use warnings;

use Exporter 'import';
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(start_redis_proxy stop_redis_proxy redis_proxy_mute
                    redis_proxy_unmute);

sub start_redis_proxy {
    my (%o) = @_;
    my $listen = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => $o{port}, Proto => 'tcp',
        Listen => 128, ReuseAddr => 1,
    ) or die "redis proxy: cannot listen on 127.0.0.1:$o{port}: $!\n";

    my $log = $o{log} // "/tmp/mobispot-redis-proxy-$$-$o{port}.log";
    unlink $log;

    my $pid = fork;
    die "redis proxy: fork failed: $!\n" unless defined $pid;
    if ($pid) {
        close $listen;
        return { pid => $pid, log => $log, port => $o{port} };
    }

    $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP QUIT);
    $SIG{PIPE} = 'IGNORE';
    eval { _serve($listen, $o{redis_port}, $log) };
    POSIX::_exit(0);
}

sub _note {
    my ($log, $line) = @_;
    open my $fh, '>>', $log or return;
    print $fh "$line\n";
    close $fh;
}

sub _serve {
    my ($listen, $redis_port, $log) = @_;
    require POSIX;

    my $muted = 0;
    my $flip;
    $SIG{USR1} = sub { $flip = 1 };
    $SIG{USR2} = sub { $flip = 0 };

    my $sel = IO::Select->new($listen);
    my %peer;     # fileno => the other socket
    my %side;     # fileno => 'client' or 'server'
    my %pair;     # fileno => the pair record { sub => 0|1 }

    while (1) {
        if (defined $flip) {
            $muted = $flip;
            undef $flip;
            _note($log, "muted $muted");
        }

        my @ready = $sel->can_read(0.05);
        for my $fh (@ready) {
            if ($fh == $listen) {
                my $c = $listen->accept or next;
                my $s = IO::Socket::INET->new(
                    PeerAddr => '127.0.0.1', PeerPort => $redis_port,
                    Proto => 'tcp');
                unless ($s) { close $c; next }
                my $p = { sub => 0 };
                @peer{fileno $c, fileno $s} = ($s, $c);
                @side{fileno $c, fileno $s} = ('client', 'server');
                @pair{fileno $c, fileno $s} = ($p, $p);
                $sel->add($c, $s);
                next;
            }

            my $fd = fileno $fh;
            my $n = sysread($fh, my $buf, 65536);
            my $other = $peer{$fd};
            if (!$n) {
                for my $x ($fh, $other) {
                    $sel->remove($x);
                    delete $peer{fileno $x}; delete $side{fileno $x};
                    delete $pair{fileno $x};
                    close $x;
                }
                next;
            }

            my $p = $pair{$fd};
            if ($side{$fd} eq 'client') {
                $p->{sub} = 1 if $buf =~ /SUBSCRIBE/i;
            }
            elsif ($muted && $p->{sub}) {
                next;                # Redis's messages go nowhere
            }
            my $off = 0;
            while ($off < length $buf) {
                my $w = syswrite($other, $buf, length($buf) - $off, $off);
                last unless defined $w;
                $off += $w;
            }
        }
    }
}

sub _signal {
    my ($proxy, $sig, $want) = @_;
    kill $sig, $proxy->{pid};
    my $deadline = time + 5;
    while (time < $deadline) {
        if (open my $fh, '<', $proxy->{log}) {
            my @l = <$fh>;
            return if @l && $l[-1] eq "muted $want\n";
        }
        sleep 0.02;
    }
    die "redis proxy: no acknowledgement of $sig\n";
}

sub redis_proxy_mute   { _signal($_[0], 'USR1', 1) }
sub redis_proxy_unmute { _signal($_[0], 'USR2', 0) }

sub stop_redis_proxy {
    my ($proxy) = @_;
    return unless $proxy && $proxy->{pid};
    kill 'TERM', $proxy->{pid};
    waitpid $proxy->{pid}, 0;
    unlink $proxy->{log};
    $proxy->{pid} = undef;
}

1;
