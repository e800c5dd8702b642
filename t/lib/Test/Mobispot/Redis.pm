package Test::Mobispot::Redis;

# A small blocking RESP2 client (enough for seeding and checking a test
# Redis), the rendering of replies used by `--- redis_check`, and the
# start/stop of a redis-server child process.

use strict;
use warnings;

use Exporter 'import';
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Time::HiRes qw(time sleep);

use Test::Mobispot::Util qw(spawn wait_exit);

our @EXPORT_OK = qw(render_reply reply_matches start_server stop_server);

# An error reply (-ERR ...).  Stringifies as redis-cli shows it.
package Test::Mobispot::Redis::Error {
    use overload '""' => sub { '(error) ' . ${ $_[0] } }, fallback => 1;
    sub new { my ($class, $msg) = @_; return bless \$msg, $class }
    sub message { ${ $_[0] } }
}

# ----------------------------------------------------------- the client ---

sub new {
    my ($class, %o) = @_;
    return bless {
        host    => $o{host} // '127.0.0.1',
        port    => $o{port},
        timeout => $o{timeout} // 5,
        sock    => undef,
        buf     => '',
    }, $class;
}

sub close {
    my ($self) = @_;
    CORE::close($self->{sock}) if $self->{sock};
    $self->{sock} = undef;
    $self->{buf} = '';
}

# Runs one command and returns its reply: a string (status or bulk), a
# number (integer), undef (nil), an array ref (multi-bulk) or a
# Test::Mobispot::Redis::Error.  Dies on I/O errors and timeouts.
sub command {
    my ($self, @args) = @_;
    $self->_connect;
    my $deadline = time + $self->{timeout};
    $self->_write(encode_command(@args), $deadline);
    return $self->_read_reply($deadline);
}

sub encode_command {
    my @args = @_;
    my $out = '*' . scalar(@args) . "\r\n";
    for my $arg (@args) {
        my $bytes = $arg // '';
        utf8::encode($bytes) if utf8::is_utf8($bytes);
        $out .= '$' . length($bytes) . "\r\n$bytes\r\n";
    }
    return $out;
}

sub _connect {
    my ($self) = @_;

    # A connection the server has closed (e.g. it was restarted) reads as
    # EOF right away: drop it and connect again.
    if ($self->{sock} && IO::Select->new($self->{sock})->can_read(0)) {
        my $n = sysread($self->{sock}, my $junk, 4096);
        $self->close unless $n;
    }
    return if $self->{sock};

    $self->{sock} = IO::Socket::INET->new(
        PeerAddr => $self->{host},
        PeerPort => $self->{port},
        Proto    => 'tcp',
        Timeout  => $self->{timeout},
    ) or die "cannot connect to redis at $self->{host}:$self->{port}: $!\n";
    binmode $self->{sock};
    $self->{buf} = '';
}

sub _write {
    my ($self, $data, $deadline) = @_;
    my $sel = IO::Select->new($self->{sock});
    while (length $data) {
        my $left = $deadline - time;
        if ($left <= 0 || !$sel->can_write($left)) {
            $self->close;
            die "timeout writing to redis\n";
        }
        my $n = syswrite($self->{sock}, $data);
        if (!defined $n) {
            my $err = $!;
            $self->close;
            die "cannot write to redis: $err\n";
        }
        substr($data, 0, $n, '');
    }
}

# Makes sure $self->{buf} holds at least $want bytes.
sub _fill {
    my ($self, $want, $deadline) = @_;
    my $sel = IO::Select->new($self->{sock});
    while (length($self->{buf}) < $want) {
        my $left = $deadline - time;
        if ($left <= 0 || !$sel->can_read($left)) {
            $self->close;
            die "timeout reading from redis\n";
        }
        my $n = sysread($self->{sock}, my $chunk, 65536);
        if (!$n) {
            $self->close;
            die "redis closed the connection\n";
        }
        $self->{buf} .= $chunk;
    }
}

sub _read_line {
    my ($self, $deadline) = @_;
    while ((my $i = index($self->{buf}, "\r\n")) < 0) {
        $self->_fill(length($self->{buf}) + 1, $deadline);
    }
    my $i = index($self->{buf}, "\r\n");
    my $line = substr($self->{buf}, 0, $i);
    substr($self->{buf}, 0, $i + 2, '');
    return $line;
}

sub _read_reply {
    my ($self, $deadline) = @_;
    my $line = $self->_read_line($deadline);
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return $rest if $type eq '+';
    return Test::Mobispot::Redis::Error->new($rest) if $type eq '-';
    return 0 + $rest if $type eq ':';
    if ($type eq '$') {
        return undef if $rest < 0;
        $self->_fill($rest + 2, $deadline);
        my $data = substr($self->{buf}, 0, $rest);
        substr($self->{buf}, 0, $rest + 2, '');
        return $data;
    }
    if ($type eq '*') {
        return undef if $rest < 0;
        return [ map { $self->_read_reply($deadline) } 1 .. $rest ];
    }
    $self->close;
    die "unexpected reply from redis: $line\n";
}

# ------------------------------------------------- rendering of replies ---

# The simple rendering used by redis_check: integers as numbers, bulk and
# status replies as the string, nil as (nil), errors as "(error) MSG" and
# arrays as a JSON array of strings (nil elements as null).
sub render_reply {
    my ($reply) = @_;
    return '(nil)' unless defined $reply;
    return "$reply" unless ref $reply eq 'ARRAY';
    return JSON::PP->new->canonical->allow_nonref->encode(_stringify($reply));
}

sub _stringify {
    my ($v) = @_;
    return undef unless defined $v;
    return [ map { _stringify($_) } @$v ] if ref $v eq 'ARRAY';
    return "$v";
}

# Compares a reply with the expected text of a redis_check line:
#   (nil)              the reply is nil
#   [...]              a JSON array; scalars compare as strings
#   "quoted"           a JSON string (for empty values or edge blanks)
#   anything else      compared with the rendered reply
sub reply_matches {
    my ($reply, $expected) = @_;

    return !defined $reply if $expected eq '(nil)';
    return 0 unless defined $reply;

    if ($expected =~ /^\[/ && ref $reply eq 'ARRAY') {
        my $want = eval { JSON::PP->new->allow_nonref->decode($expected) };
        return _same_strings($want, _stringify($reply)) if ref $want;
    }
    if ($expected =~ /^".*"$/s) {
        my $want = eval { JSON::PP->new->allow_nonref->decode($expected) };
        return !ref $reply && "$reply" eq $want if defined $want;
    }
    return render_reply($reply) eq $expected;
}

sub _same_strings {
    my ($want, $got) = @_;
    return !defined $got if !defined $want;
    return 0 if !defined $got;
    if (ref $want eq 'ARRAY') {
        return 0 unless ref $got eq 'ARRAY' && @$want == @$got;
        for my $i (0 .. $#$want) {
            return 0 unless _same_strings($want->[$i], $got->[$i]);
        }
        return 1;
    }
    return 0 if ref $want || ref $got;
    return "$want" eq "$got";
}

# ------------------------------------------------------- redis-server ---

# Starts redis-server on 127.0.0.1:$o{port} as a child process, without
# persistence, and waits until it answers PING.  Returns the pid, or
# undef (with the reason in $@) when it did not come up.
sub start_server {
    my (%o) = @_;
    my $pid = spawn(
        cmd => [
            $o{bin}, '--port', $o{port}, '--bind', '127.0.0.1',
            '--save', '', '--appendonly', 'no', '--daemonize', 'no',
            '--dir', $o{dir}, '--logfile', '',
            # extra arguments (persistence, --replicaof): a later argument
            # overrides an earlier one
            @{ $o{args} || [] },
        ],
        stdout => $o{log},
    );

    my $deadline = time + ($o{timeout} // 10);
    while (time < $deadline) {
        if (defined wait_exit($pid, 0)) {
            $@ = "redis-server exited at startup (see $o{log})";
            return undef;
        }
        my $client = __PACKAGE__->new(port => $o{port}, timeout => 1);
        my $pong = eval { $client->command('PING') };
        $client->close;
        return $pid if defined $pong && !ref $pong && $pong eq 'PONG';
        sleep 0.02;
    }
    kill 'KILL', $pid;
    wait_exit($pid, 5);
    $@ = "redis-server did not answer PING within the timeout";
    return undef;
}

# Stops a redis-server child: SIGTERM, then SIGKILL after $timeout s.
sub stop_server {
    my ($pid, $timeout) = @_;
    return unless $pid;
    kill 'TERM', $pid;
    return if defined wait_exit($pid, $timeout // 10);
    kill 'KILL', $pid;
    wait_exit($pid, 5);
}

1;
