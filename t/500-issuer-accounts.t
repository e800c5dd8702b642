# Passwords on the back office's accounts (issue 10): the write-only
# "password" of PUT admin/users/{id}, hashed with yescrypt in the thread
# pool (mobispot_thread_pool), stored as the info's password_hash, never
# returned, never logged, never in Redis but as its hash; a PUT without it
# keeps the hash; each refusal names the field and writes nothing; the
# hashing runs in a thread of the pool, not on the event loop (the debug
# log's thread ids, and GET health answered while 20 hashes wait); a
# request that goes while its hash is made leaves nothing behind.
#
#   prove -I t/lib t/500-issuer-accounts.t
use strict;
use warnings;
use lib 't/lib';
use Test::Mobispot;
use MobispotIssuer;
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

my $VALGRIND = $ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 0;

my $PW = 'correct horse battery staple';
my $PW2 = "\x{e9}t\x{e9} \x{e0} Li\x{e8}ge, 2026";    # UTF-8 on the wire
utf8::encode($PW2);

# an account's body (an email is one account's: another id than ada's gets
# its own, <id>@example.org)
sub user {
    my (%o) = @_;
    my $email = $o{id} && $o{id} ne 'ada' ? "$o{id}\@example.org" : 'ada@example.org';
    my $b = '{"name":"Ada Lovelace","email":"' . $email . '",'
        . '"passports":[{"network":"cowallonia","from":"2026-12-01",'
        . '"to":"2027-11-30"}],"roles":{"admin":false,"site_operator":[]}';
    $b .= ',"password":' . $o{password} if defined $o{password};
    return $b . '}';
}

sub put {
    my ($id, $body) = @_;
    $body =~ s/"ada\@example\.org"/"$id\@example.org"/ if $id ne 'ada';
    return http_request({ method => 'PUT', uri => "/api/v1/admin/users/$id",
                          body => $body });
}

# a PUT of an account with a password, on its own connection, not read
sub put_pw_async {
    my ($id, $pw) = @_;
    return put_async("/api/v1/admin/users/$id",
                     user(id => $id, password => json_str($pw)));
}

sub hash_of { return redis_cmd('HGET', "ms:{user:$_[0]}:info", 'password_hash') }

# ---------------------------------------------------------------------------
# mobispot_thread_pool at configuration time

my $API = "    location /api/v1/ { mobispot_api; }\n";
my $HTTP = "    mobispot_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n"
    . "    mobispot_admin loopback;\n";

my ($rc, $out) = nginx_test(http_config => $HTTP, config => $API);
is($rc, 0, 'no thread_pool line: nginx -t takes it (the default pool)')
    or diag($out);
($rc, $out) = nginx_test(main_config => 'thread_pool default threads=4;',
                         http_config => $HTTP, config => $API);
is($rc, 0, 'thread_pool default threads=4: taken') or diag($out);
($rc, $out) = nginx_test(http_config => $HTTP . "    mobispot_thread_pool nowhere;\n",
                         config => $API);
isnt($rc, 0, 'a pool that no thread_pool block defines: refused');
like($out, qr/unknown thread pool "nowhere"/, '... naming it');
($rc, $out) = nginx_test(main_config => 'thread_pool hash threads=2;',
                         http_config => $HTTP,
                         config => "    location /api/v1/ { mobispot_api;"
                                   . " mobispot_thread_pool hash; }\n");
is($rc, 0, 'a named pool in a location: taken') or diag($out);
($rc, $out) = nginx_test(main_config => 'thread_pool hash threads=2;',
                         http_config => $HTTP . "    mobispot_thread_pool hash;\n"
                                        . "    mobispot_thread_pool hash;\n",
                         config => $API);
isnt($rc, 0, 'twice in one block: refused');
like($out, qr/"mobispot_thread_pool" directive is duplicate/, '... as duplicate');

# ---------------------------------------------------------------------------
# one worker, one thread hashing (so that hashes wait in its queue)

# (lingering_close off: the old worker of the reload below does not wait
# for the test to read and close its connections)
start_env(main_config => 'thread_pool hash threads=1;',
          http_config => $HTTP . "    mobispot_thread_pool hash;\n"
                         . "    lingering_close off;\n",
          config => $API);

redis_cmd('HSET', 'ms:{networks}:passport', 'cowallonia', 'cowallonia-pass');
my $hashed = 0;    # the PUTs whose password was hashed
my @pws;           # and their passwords

my $r = put('ada', user(password => json_str($PW)));
$hashed++;
is($r->{status}, 201, 'PUT with a password: 201');
my $doc = eval { decode_json($r->{body}) } // {};
ok(!exists $doc->{password} && !exists $doc->{password_hash},
   'the answer holds neither the password nor its hash');
unlike($r->{body}, qr/\Q$PW\E|\$y\$/, '... not even as text');

my $h1 = hash_of('ada') // '';
like($h1, qr/^\$y\$[.\/0-9A-Za-z]+\$[.\/0-9A-Za-z]+\$[.\/0-9A-Za-z]+$/,
     'the info holds a yescrypt hash');
is(crypt($PW, $h1), $h1, "libcrypt's crypt() (Perl) verifies the password");
isnt(crypt('correct horse battery stapl', $h1), $h1, '... and no other');
is(redis_cmd('HGET', 'ms:{user:ada}:info', 'passports'),
   'cowallonia/2026-12-01/2027-11-30', 'the other fields are written too');
unlike(redis_cmd('GET', 'ms:{user:ada}:doc'), qr/password|\$y\$/,
       'the stored document holds neither');

$r = http_request('GET /api/v1/admin/users/ada');
is($r->{status}, 200, 'GET the account');
my $got = eval { decode_json($r->{body}) } // {};
is_deeply([sort keys %$got],
          [qw(email id name passports roles)],
          'GET: the members of the account, no password, no hash');
unlike($r->{body}, qr/\Q$PW\E|\$y\$/, 'GET: neither as text');

# a PUT without a password keeps the hash
$r = put('ada', user() =~ s/Ada Lovelace/Ada King/r);
is($r->{status}, 200, 'PUT without a password: 200');
is(hash_of('ada'), $h1, '... the stored hash is kept');
like(redis_cmd('GET', 'ms:{user:ada}:doc'), qr/Ada King/, '... the rest is written');

# a new password replaces it
$r = put('ada', user(password => json_str($PW2)));
$hashed++;
is($r->{status}, 200, 'PUT with another password (UTF-8): 200');
my $h2 = hash_of('ada') // '';
isnt($h2, $h1, '... a new hash');
is(crypt($PW2, $h2), $h2, '... of the new password');
isnt(crypt($PW, $h2), $h2, '... the old one no longer matches');

# the same password twice: another salt
$r = put('bob', user(password => json_str($PW)));
$hashed++;
is($r->{status}, 201, 'another account, the same password');
isnt(hash_of('bob'), $h1, '... another salt, another hash');

# the edges of the rule: 12 and 256 bytes are taken
$r = put('edge12', user(password => json_str('x' x 12)));
$hashed++;
is($r->{status}, 201, 'a password of 12 bytes: taken');
my $pw256 = "\x{e9}" x 128;
utf8::encode($pw256);
$r = put('edge256', user(password => json_str($pw256)));
$hashed++;
is($r->{status}, 201, 'a password of 256 bytes (128 two-byte characters): taken');
is(crypt($pw256, hash_of('edge256')), hash_of('edge256'), '... and verifies');

# DELETE removes the hash with the account
$r = http_request('DELETE /api/v1/admin/users/bob');
is($r->{status}, 200, 'DELETE an account with a password');
is(redis_cmd('EXISTS', 'ms:{user:bob}:info'), 0, '... its hash is gone with it');

# ---------------------------------------------------------------------------
# refusals: the field named, nothing written

my @bad = (
    ['eleven byte', 422, 'invalid_value', '11 bytes'],
    ["\x{e9}" x 6 . 'x' x 0, 422, 'invalid_value', '6 two-byte characters (12 bytes... no: 12)'],
);
@bad = (
    [json_str('x' x 11), 422, 'invalid_value', '11 bytes'],
    [json_str("\xc3\xa9" x 5 . 'x'), 422, 'invalid_value',
     '6 characters but 11 bytes'],
    [json_str('x' x 257), 422, 'invalid_value', '257 bytes'],
    [json_str("\xc3\xa9" x 128 . 'x'), 422, 'invalid_value',
     '129 characters, 257 bytes'],
    ['""', 422, 'invalid_value', 'empty'],
    ['123456789012', 400, 'invalid_field', 'a number'],
    ['null', 400, 'invalid_field', 'null'],
    ['true', 400, 'invalid_field', 'true'],
    ['["correct horse battery"]', 400, 'invalid_field', 'an array'],
    ['{"p":"correct horse battery"}', 400, 'invalid_field', 'an object'],
    ['"correct horse\u0000battery"', 422, 'invalid_value', 'an escaped NUL'],
    ["\"correct horse\x00battery\"", 422, 'invalid_value', 'a raw NUL'],
    ["\"correct horse \xc3 battery\"", 422, 'invalid_value', 'a cut UTF-8 sequence'],
    ["\"correct horse \xed\xa0\x80 battery\"", 422, 'invalid_value',
     'an encoded surrogate'],
    ['"correct horse \ud800 battery"', 422, 'invalid_value', 'a lone surrogate escape'],
    ["\"correct horse \xc0\xaf battery\"", 422, 'invalid_value', 'an overlong sequence'],
);
for my $b (@bad) {
    my ($raw, $status, $code, $what) = @$b;
    for my $id ('ada', 'newbie') {
        my $before = redis_dump();
        $r = put($id, user(password => $raw));
        is($r->{status}, $status, "password $what ($id): $status");
        my $e = (eval { decode_json($r->{body}) } // {})->{error} // {};
        if (defined $code) {
            is($e->{code}, $code, "... $code");
            is($e->{field}, 'password', '... naming the field');
        } else {
            ok(defined $e->{code}, '... a JSON error');
        }
        unlike($r->{body}, qr/correct horse|xxxxxxxxxxx/,
               '... the value is not echoed');
        is(redis_dump(), $before, '... nothing written');
    }
}
my $before = redis_dump();
$r = put('ada', user(password => json_str($PW)) =~ s/"roles":\{[^}]*\}/"roles":1/r);
is($r->{status}, 400, 'a good password with a bad field elsewhere: refused');
is(redis_dump(), $before, '... nothing written, nothing hashed');
$r = put('ada', user(password => json_str($PW)) =~ s/cowallonia/nowhere/r);
is($r->{status}, 422, 'a good password, an unknown network: refused');
is(redis_dump(), $before, '... nothing written');

# ---------------------------------------------------------------------------
# the hashing runs in a thread: GET health answers while hashes wait

my $N = $VALGRIND ? 3 : 20;
my $port = server_port();
my (@puts, %answer);
push @puts, put_pw_async("load$_", "$PW $_") for 1 .. $N;
$hashed += $N;

my $hs = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Proto => 'tcp')
    or die "connect: $!";
my $sel = IO::Select->new(@puts);
my ($health_sent, $health_buf, $health_total, $health_ok, $health_during,
    $health_before) = (0, '', 0, 0, 0, 0);
my $deadline = time + 60 * ($VALGRIND ? 5 : 1);
my $answered = 0;

while ($answered < $N && time < $deadline) {
    if (!$health_sent) {
        print $hs "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n";
        $health_sent = 1;
    }
    for my $s (IO::Select->new($sel->handles, $hs)->can_read(0.05)) {
        my $n = sysread($s, my $chunk, 65536);
        if ($s == $hs) {
            if (!$n) {    # keepalive_requests reached: another connection
                $hs->close;
                $hs = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                            Proto => 'tcp')
                    or die "connect: $!";
                ($health_buf, $health_sent) = ('', 0);
                last;
            }
            $health_buf .= $chunk;
            while ($health_buf =~ /^HTTP\/1\.1 (\d+)(.*?)\r\n\r\n/s) {
                my ($st, $head) = ($1, $2);
                my ($len) = $head =~ /^Content-Length: (\d+)/mi;
                my $need = length("HTTP/1.1 $st$head\r\n\r\n") + ($len // 0);
                last if length($health_buf) < $need;
                substr($health_buf, 0, $need, '');
                $health_total++;
                $health_ok++ if $st == 200;
                $health_during++ if $answered < $N;
                $health_before++ if $answered == 0;
                $health_sent = 0;
            }
            next;
        }
        if ($n) {
            $answer{fileno $s} .= $chunk;
        } else {
            $sel->remove($s);
            $answered++;
        }
    }
}
my @st = map { ($answer{fileno $_} // '') =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0 } @puts;
$_->close for @puts;
$hs->close;
is(scalar(grep { $_ == 201 } @st), $N, "$N PUTs with passwords at once: all 201");
cmp_ok($health_before, '>=', 1,
       'GET health answered before the first of them was (its hashes wait in '
       . 'the pool, the event loop does not)');
cmp_ok($health_during, '>=', $VALGRIND ? 1 : 5,
       "GET health answered again and again while they were outstanding "
       . "($health_during times)");
is($health_ok, $health_total, "every health answer was 200 ($health_total)");
for my $i (1 .. $N) {
    my $h = hash_of("load$i") // '';
    is(crypt("$PW $i", $h), $h, "load$i: its own password's hash") if $i <= 3;
}

# ---------------------------------------------------------------------------
# the request goes while its hash is made: nothing written, nothing touched

# what the error log gets from now on, read as it grows
open my $logfh, '<', servroot() . '/logs/error.log' or die $!;
seek($logfh, 0, 2);
my $tail = '';
my $wait_log = sub {
    my ($re) = @_;
    my $t0 = time;
    until (ref $re eq 'CODE' ? $re->() : $tail =~ $re) {
        return 0 if time - $t0 > 30 * ($VALGRIND ? 5 : 1);
        sleep 0.01;
        seek($logfh, 0, 1);
        local $/;
        my $more = <$logfh>;
        $tail .= $more if defined $more;
    }
    return 1;
};

my $AHEAD = $VALGRIND ? 6 : 5;
SKIP: {
    # under valgrind (one process, its threads serialized, every step tens
    # of times slower) nginx may not see the client's FIN before the hash
    # is done, so the request is answered instead of orphaned: CI saw it
    # once (the log said the client went only when the answer was sent);
    # the normal and HUP runs prove the orphaned task
    skip 'valgrind: the client\'s close may be seen only after the hash', 11
        if $VALGRIND;

    # hashes ahead of it in the one thread, so that its task waits long after
    # it is posted (more under valgrind, where the test and nginx are slower)
    my @ahead = map { put_pw_async("first$_", "$PW first$_") } 1 .. $AHEAD;
    # its task posted, the client goes (a client that sends its FIN with the
    # request is read to its end: nginx sees the FIN with the data)
    my $s = put_pw_async('gone', "$PW gone");
    $hashed += $AHEAD + 1;
    ok($wait_log->(qr/\*(\d+) http request line: "PUT \/api\/v1\/admin\/users\/gone /),
       'its request is read');
    my ($conn) = $tail =~ /\*(\d+) http request line: "PUT \/api\/v1\/admin\/users\/gone /;
    ok($wait_log->(qr/\*\Q$conn\E mobispot: thread task #\d+ posted/),
       'its task is posted');
    close $s;
    ok($wait_log->(qr/thread task #\d+ done, its request has gone/),
       'the task of a request that went: done, and only its own memory freed');
    ok($wait_log->(qr/client prematurely closed connection.*users\/gone/),
       '... the request went first');
    for my $c (@ahead) {
        my $first = '';
        while (sysread($c, my $chunk, 65536)) { $first .= $chunk }
        close $c;
        like($first, qr{^HTTP/1\.1 201}, 'a request ahead of it: 201');
    }
    is(redis_cmd('EXISTS', 'ms:{user:gone}:info'), 0, '... nothing written for it');
}
$r = http_request('GET /api/v1/health');
is($r->{status}, 200, 'the worker goes on');

# ---------------------------------------------------------------------------
# a reload while hashes wait: the old worker answers them before it exits

SKIP: {
    skip 'a reload needs the master process (off under valgrind)', 6
        if $VALGRIND;
    my $mark = length $tail;
    my @during = map { put_pw_async("reload$_", "$PW reload$_") } 1 .. 4;
    $hashed += 4;
    ok($wait_log->(sub {
        my @p = substr($tail, $mark) =~ /thread task #\d+ posted/g;
        @p == 4;
    }), 'four hashes posted');
    is(nginx_hup(), undef, 'nginx reloaded (SIGHUP) while they wait');
    for my $i (1 .. 4) {
        my $got = '';
        while (sysread($during[$i - 1], my $chunk, 65536)) { $got .= $chunk }
        close $during[$i - 1];
        like($got, qr{^HTTP/1\.1 201}, "reload$i: answered 201 by the old worker");
    }
    push @pws, map { "$PW reload$_" } 1 .. 4;
}

# ---------------------------------------------------------------------------
# where the passwords are not

my @problems = stop_env();
is(join("\n", @problems), '', 'nginx clean (no alert, no crash; valgrind)');

my $log = error_log_text();
my @hashing = $log =~ /^\S+ \S+ \[debug\] (\d+)#(\d+): .*hashing a secret in a thread/mg;
is(scalar(@hashing) / 2, $hashed, 'every hash is logged as made in a thread');
my $on_loop = 0;
while (my ($pid, $tid) = splice(@hashing, 0, 2)) {
    $on_loop++ if $pid == $tid;
}
is($on_loop, 0, '... none by the worker\'s own thread (the event loop)');

push @pws, $PW, $PW2, $pw256, 'x' x 12, (map { "$PW $_" } 1 .. $N),
           "$PW gone", map { "$PW first$_" } 1 .. $AHEAD;
my $access = do {
    open my $fh, '<', servroot() . '/logs/access.log' or die $!;
    local $/;
    <$fh>;
};
for my $p (@pws) {
    my $q = quotemeta $p;
    unlike($log, qr/$q/, 'the error log (debug) holds no password');
    unlike($access, qr/$q/, 'nor the access log');
}
unlike($log, qr/\$y\$/, 'the error log holds no hash either');

my $dump = redis_dump();
my $values = 0;
for my $p (@pws) {
    $values++ if index($dump, $p) >= 0;
}
is($values, 0, 'no Redis key nor value holds a password');
my @fields = $dump =~ /"password_hash":"\$y\$/g;
cmp_ok(scalar(@fields), '>=', 5, 'only the hashes are there');

# ---------------------------------------------------------------------------
# a full queue: 503 overloaded, nothing written

# (a long Redis timeout: under valgrind the queued hashes hold the one
# process long enough for a write's reply to miss 1 s, whose 504 drops
# the connection and answers the others 503 redis_unavailable)
start_env(main_config => 'thread_pool tiny threads=1 max_queue=1;',
          http_config => $HTTP . "    mobispot_thread_pool tiny;\n"
                         . "    mobispot_redis_timeout 10s;\n"
                         . "    lingering_close off;\n",
          config => $API);
redis_cmd('HSET', 'ms:{networks}:passport', 'cowallonia', 'cowallonia-pass');

my @at_once = map { put_pw_async("q$_", "$PW q$_") } 1 .. 8;
my (%by_status, $retry_after, $over_written);
for my $i (1 .. 8) {
    my $got = '';
    while (sysread($at_once[$i - 1], my $chunk, 65536)) { $got .= $chunk }
    close $at_once[$i - 1];
    my ($st) = $got =~ m{^HTTP/1\.1 (\d+)};
    $st //= 0;
    $by_status{$st}++;
    next unless $st == 503;
    $retry_after++ if $got =~ /^Retry-After: \d+\r$/mi && $got =~ /"code":"overloaded"/;
    $over_written++ if redis_cmd('EXISTS', "ms:{user:q$i}:info");
}
# (valgrind runs one thread at a time: its hashing thread may empty the
# queue before the worker reads the next request, so no overflow is due)
SKIP: {
    skip 'valgrind serializes the threads', 1 if $VALGRIND;
    cmp_ok($by_status{503} // 0, '>=', 1,
           '8 hashes at once, one thread and a queue of one: some 503');
}
is(($by_status{503} // 0) + ($by_status{201} // 0), 8, '... the others 201');
is($retry_after // 0, $by_status{503} // 0, '... each 503 overloaded, with Retry-After');
is($over_written // 0, 0, '... nothing written for them');
@problems = stop_env();
is(join("\n", @problems), '', 'nginx clean');
like(error_log_text(), qr/thread pool "tiny" queue overflow/, 'nginx logs the overflow')
    if $by_status{503};

done_testing();
