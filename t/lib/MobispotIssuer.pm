package MobispotIssuer;

# What the issuer's tests (t/5xx-issuer*.t) share: every key and value
# Redis holds as one canonical text (to prove that a refusal wrote nothing
# and that no secret is stored), and a PUT written on its own connection
# and not read (many at once).  They run against the nginx and Redis that
# Test::Mobispot's start_env() started.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use JSON::PP ();
use Test::Mobispot ();

our @EXPORT = qw(redis_dump put_async json_str);

my $json = JSON::PP->new->canonical;

# every key and value, but the workers' heartbeat (ms:beat:<host>:<pid>),
# which changes by itself every second
sub redis_dump {
    my %all;
    for my $k (sort grep { !/^ms:beat:/ }
               @{ Test::Mobispot::redis_cmd('KEYS', '*') })
    {
        my $type = Test::Mobispot::redis_cmd('TYPE', $k);
        my @v = $type eq 'string' ? ('GET', $k)
              : $type eq 'hash' ? ('HGETALL', $k)
              : $type eq 'set' ? ('SMEMBERS', $k)
              : $type eq 'zset' ? ('ZRANGE', $k, 0, -1, 'WITHSCORES')
              : $type eq 'list' ? ('LRANGE', $k, 0, -1)
              : ();
        my $got = @v ? Test::Mobispot::redis_cmd(@v) : "($type)";
        $all{$k} = $type eq 'hash' ? { @$got }
                 : $type eq 'set' ? [sort @$got]
                 : $got;
    }
    return $json->encode(\%all);
}

# PUT uri with body on a connection of its own, not read: the socket
sub put_async {
    my ($uri, $body) = @_;
    my $s = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1:' . Test::Mobispot::server_port(),
        Proto => 'tcp')
        or die "connect: $!";
    print $s "PUT $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    return $s;
}

# a JSON string of bytes that are already UTF-8 (or not: hostile input)
sub json_str {
    my ($s) = @_;
    return '"' . ($s =~ s/(["\\])/\\$1/gr) . '"';
}

1;
