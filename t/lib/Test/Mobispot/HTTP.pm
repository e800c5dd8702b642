package Test::Mobispot::HTTP;

# A raw HTTP/1.x client for the harness: builds requests, writes them on
# one connection (one request, or several pipelined), and reads the
# responses with a deadline.  Understands Content-Length, chunked
# transfer-encoding, read-until-close bodies, 1xx interim responses and
# bodiless responses (HEAD, 204, 304).
#
# A response is a hash:
#   status      "200" (undef when no status line arrived)
#   protocol    "HTTP/1.1"
#   reason      "OK"
#   headers     [[Name, value], ...] in arrival order
#   header      { lc name => values joined with ", " }
#   body        the decoded body
#   timed_out   1 when the deadline passed before the response was complete
#   error       text, when the connection failed or the response is broken

use strict;
use warnings;

use Exporter 'import';
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

our @EXPORT_OK = qw(parse_request_text build_request exchange);

# Parses the `--- request` format: "METHOD URI [HTTP/x.y]" on the first
# line, the body (if any) on the following lines.  With $chomp_body one
# final newline is removed from the body (the block format always ends a
# section with one).  Returns { method, uri, version, body }.
sub parse_request_text {
    my ($text, $chomp_body) = @_;
    die "empty request\n" unless defined $text && $text =~ /\S/;
    $text =~ s/\A\s*\n//;
    my ($line, $body) = split /\n/, $text, 2;
    $line =~ s/\s+\z//;
    $line =~ s/\A\s+//;

    my ($method, $uri) = $line =~ /^(\S+)\s+(.+)$/
        or die "bad request line: $line\n";
    my $version = 'HTTP/1.1';
    $version = $1 if $uri =~ s{\s+(HTTP/\d\.\d)$}{};

    if (defined $body) {
        $body =~ s/\n\z// if $chomp_body;
        $body = undef if $body eq '';
    }
    return { method => $method, uri => $uri, version => $version,
             body => $body };
}

# Builds the bytes of a request.  $r: method, uri, version, body,
# headers ([[name, value], ...]), close (add "Connection: close").
# Host is added unless given; Content-Length is added when there is a body
# (or the method is POST/PUT/PATCH) unless Content-Length or
# Transfer-Encoding is given.
sub build_request {
    my ($r) = @_;
    my @headers = @{ $r->{headers} || [] };
    my %has = map { (lc $_->[0] => 1) } @headers;

    my $body = $r->{body};
    utf8::encode($body) if defined $body && utf8::is_utf8($body);

    my @lines = ("$r->{method} $r->{uri} " . ($r->{version} // 'HTTP/1.1'));
    push @lines, 'Host: localhost' unless $has{host};
    push @lines, map { "$_->[0]: $_->[1]" } @headers;
    push @lines, 'Connection: close' if $r->{close} && !$has{connection};
    if ((defined $body || $r->{method} =~ /^(?:POST|PUT|PATCH)$/)
        && !$has{'content-length'} && !$has{'transfer-encoding'})
    {
        push @lines, 'Content-Length: ' . length($body // '');
    }
    return join("\r\n", @lines) . "\r\n\r\n" . ($body // '');
}

# Connects to 127.0.0.1:$o{port}, writes $o{data}, reads $o{count}
# responses (default 1) within $o{timeout} seconds.  $o{methods} lists the
# request methods (HEAD responses have no body).  Returns the list of
# responses; responses that did not arrive carry timed_out or error.
sub exchange {
    my (%o) = @_;
    my $count = $o{count} // 1;
    my @methods = @{ $o{methods} || [] };
    my $deadline = time + ($o{timeout} // 5);

    my $missing = sub {
        my (%why) = @_;
        return { headers => [], header => {}, body => '', %why };
    };

    my $sock = IO::Socket::INET->new(
        PeerAddr => $o{host} // '127.0.0.1',
        PeerPort => $o{port},
        Proto    => 'tcp',
        Timeout  => _left($deadline) || 0.1,
    ) or return map { $missing->(error => "cannot connect to port $o{port}: $!") }
        1 .. $count;
    binmode $sock;
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);

    # Write everything (the server may answer early and stop reading,
    # e.g. 413: then stop writing and read what it said).
    my $out = $o{data};
    my $write_error;
    while (length $out) {
        my $left = _left($deadline);
        last unless $left && $sel->can_write($left);
        my $n = syswrite($sock, $out);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $write_error = "write failed: $!";
            last;
        }
        substr($out, 0, $n, '');
    }

    my @responses;
    my $buf = '';
    my $eof = 0;
    my $read_error;
    while (@responses < $count) {
        my $res = _parse_response(\$buf, $eof, $methods[@responses] // 'GET');
        if ($res) {
            push @responses, $res;
            next;
        }
        if ($eof) {
            my $why = $read_error // $write_error
                // 'connection closed before a response arrived';
            push @responses, $missing->(error => $why)
                while @responses < $count;
            last;
        }
        my $left = _left($deadline);
        if (!$left || !$sel->can_read($left)) {
            my $partial = _parse_partial($buf);
            push @responses, { %$partial, timed_out => 1 };
            push @responses, $missing->(timed_out => 1)
                while @responses < $count;
            last;
        }
        my $n = sysread($sock, my $chunk, 65536);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $read_error = "read failed: $!";
            $eof = 1;
        }
        elsif ($n == 0) {
            $eof = 1;
        }
        else {
            $buf .= $chunk;
        }
    }
    close $sock;
    return @responses[0 .. $count - 1];
}

sub _left {
    my ($deadline) = @_;
    my $left = $deadline - time;
    return $left > 0 ? $left : 0;
}

# Tries to take one complete response off the front of $$buf.  Returns it,
# or undef when more bytes are needed.  At EOF ($eof) an incomplete
# response is returned with an error.
sub _parse_response {
    my ($buf, $eof, $method) = @_;

    while (1) {
        my $end = index($$buf, "\r\n\r\n");
        if ($end < 0) {
            return undef unless $eof;
            return undef unless length $$buf;
            my $partial = _parse_partial($$buf);
            $$buf = '';
            return { %$partial,
                     error => 'connection closed inside the response headers' };
        }

        my $res = _parse_head(substr($$buf, 0, $end));
        my $pos = $end + 4;

        # Interim responses (100 Continue ...): skip them.
        if (defined $res->{status} && $res->{status} =~ /^1/) {
            substr($$buf, 0, $pos, '');
            next;
        }

        my $te = $res->{header}{'transfer-encoding'} // '';
        my $cl = $res->{header}{'content-length'};

        if (!defined $res->{status}) {
            $res->{body} = substr($$buf, $pos);
            substr($$buf, 0, length $$buf, '');
            return $res;
        }
        if ($method eq 'HEAD' || $res->{status} =~ /^(?:204|304)$/) {
            $res->{body} = '';
            substr($$buf, 0, $pos, '');
            return $res;
        }
        if ($te =~ /chunked/i) {
            my ($body, $done_at, $error) = _dechunk($buf, $pos, $eof);
            return undef unless defined $done_at || $eof;
            $res->{body} = $body;
            $res->{error} = $error if $error;
            substr($$buf, 0, $done_at // length $$buf, '');
            return $res;
        }
        if (defined $cl && $cl =~ /^\s*(\d+)\s*$/) {
            my $len = $1;
            if (length($$buf) - $pos < $len) {
                return undef unless $eof;
                $res->{body} = substr($$buf, $pos);
                $res->{error} = 'connection closed before the end of the body';
                substr($$buf, 0, length $$buf, '');
                return $res;
            }
            $res->{body} = substr($$buf, $pos, $len);
            substr($$buf, 0, $pos + $len, '');
            return $res;
        }

        # No length: the body ends when the connection closes.
        return undef unless $eof;
        $res->{body} = substr($$buf, $pos);
        substr($$buf, 0, length $$buf, '');
        return $res;
    }
}

# Decodes a chunked body starting at $pos.  Returns (body, offset just
# after the body and its trailers or undef when incomplete, error).
sub _dechunk {
    my ($buf, $pos, $eof) = @_;
    my $body = '';
    while (1) {
        my $eol = index($$buf, "\r\n", $pos);
        return ($body, undef, $eof ? 'truncated chunked body' : undef)
            if $eol < 0;
        my $size_line = substr($$buf, $pos, $eol - $pos);
        my ($hex) = $size_line =~ /^\s*([0-9a-fA-F]+)/
            or return ($body, length $$buf, "bad chunk size line: $size_line");
        my $size = hex $hex;
        $pos = $eol + 2;

        if ($size == 0) {
            # Optional trailers, then an empty line.
            return ($body, $pos + 2) if substr($$buf, $pos, 2) eq "\r\n";
            my $end = index($$buf, "\r\n\r\n", $pos);
            return ($body, $end + 4) if $end >= 0;
            return ($body, undef, $eof ? 'truncated chunked trailer' : undef);
        }
        if (length($$buf) < $pos + $size + 2) {
            return ($body . substr($$buf, $pos), undef,
                    $eof ? 'truncated chunked body' : undef);
        }
        $body .= substr($$buf, $pos, $size);
        $pos += $size + 2;
    }
}

# Parses a status line and header lines.
sub _parse_head {
    my ($head) = @_;
    my ($status_line, @lines) = split /\r\n/, $head;
    my %res = (headers => [], header => {}, body => '');
    if (defined $status_line
        && $status_line =~ m{^(HTTP/\d\.\d)\s+(\d{3})(?:\s+(.*))?$})
    {
        @res{qw(protocol status reason)} = ($1, $2, $3 // '');
    }
    else {
        $res{error} = 'bad status line: ' . ($status_line // '');
    }
    for my $line (@lines) {
        my ($name, $value) = $line =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/ or next;
        push @{ $res{headers} }, [$name, $value];
        my $key = lc $name;
        $res{header}{$key} = exists $res{header}{$key}
            ? "$res{header}{$key}, $value" : $value;
    }
    return \%res;
}

# Whatever can be made of an incomplete response (for timeouts).
sub _parse_partial {
    my ($data) = @_;
    my $end = index($data, "\r\n\r\n");
    return { headers => [], header => {}, body => '', raw => $data }
        if $end < 0;
    my $res = _parse_head(substr($data, 0, $end));
    $res->{body} = substr($data, $end + 4);
    return $res;
}

1;
