package Test::Mobispot;

=head1 NAME

Test::Mobispot - Test::Nginx-style block tests for ngx_mobispot_module,
against a real nginx, a real Redis and (on demand) a scripted fake Redis.

=head1 SYNOPSIS

    use lib 't/lib';
    use Test::Mobispot;

    run_tests();        # plans by itself (see "Number of tests")

    __DATA__

    === TEST 1: health
    --- http_config
        mobispot_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    --- config
        location /api/v1/ { mobispot_api; }
    --- request
    GET /api/v1/health
    --- error_code: 200
    --- response_body_json_subset
    {"status":"ok","redis":{"connected":true}}
    --- no_error_log
    [error]

Run with C<prove -I t/lib t/> (or C<prove -r t/>; the .t files C<use lib 't/lib'>).

=head1 WHAT HAPPENS PER FILE AND PER BLOCK

Per test file: a temporary directory (the nginx prefix, "servroot") with
F<conf/ logs/ html/ tmp/ redis/>, three free loopback ports (nginx, the real
Redis, the fake Redis) and one C<redis-server> child process without
persistence.  Everything is stopped at the end of the file, also when the
file dies or is interrupted (INT/TERM).

Per block, in this order:

=over

=item 1. Redis is made empty (C<FLUSHALL> and C<SCRIPT FLUSH>).  If it is not
running (a block stopped it), refuses (a block set a password) or its users
are not as it started with them (a block ran C<ACL SETUSER>), it is
restarted on its port.

=item 2. C<--- fake_redis>, if present, is started.

=item 3. C<--- redis> commands are run; C<--- user_files> are written.

=item 4. nginx is started with the block's configuration (or reloaded with
SIGHUP in HUP mode) and the harness waits until it listens and has a worker.

=item 5. For each request: its C<--- before_request> action, then the
request; then its checks.

=item 6. C<--- redis_check>, C<--- fake_redis_received>.

=item 7. C<--- wait> seconds; nginx is stopped (SIGQUIT, SIGKILL after 10 s;
60 s under valgrind; without a master the SIGQUIT is repeated each second),
except in HUP mode when the next block reloads it.

=item 8. C<--- error_log> / C<--- no_error_log> on the part of F<error.log>
written during the block; the health check; the valgrind check.

=back

=head1 SECTIONS

Every section's text has C<$TEST_NGINX_*> variables substituted (also in the
elements of C<eval> arrays and in C<qr//> patterns): C<$TEST_NGINX_SERVER_PORT>,
C<$TEST_NGINX_REDIS_PORT>, C<$TEST_NGINX_FAKE_REDIS_PORT>, C<$TEST_NGINX_HTML_DIR>,
C<$TEST_NGINX_SERVROOT>, C<$TEST_NGINX_ROOT> (repository root) and any
environment variable whose name starts with C<TEST_NGINX_>; C<${NAME}> works
too.  The harness exports its own values in C<%ENV> when the module is
loaded, so C<eval> sections may also say C<$ENV{TEST_NGINX_SERVER_PORT}>.
Inside C<eval> code write the variables in single quotes
(C<'GET /x?p=$TEST_NGINX_SERVER_PORT'>), or as C<\$TEST_NGINX_...> inside
C<qr//> and double quotes: eval code runs under C<use strict>.
A failing C<eval> stops the file with the error (instead of silently
becoming the section's text).  Unknown section names stop the file too
(typos would otherwise be silently ignored).

=head2 Configuration

=over

=item main_config, http_config, config

Text placed in the main context, in C<http {}>, and in the default
C<server { listen 127.0.0.1:$TEST_NGINX_SERVER_PORT; server_name localhost; }>.
The generated F<conf/nginx.conf> is:

    load_module <module>;        # unless MOBISPOT_NO_MODULE=1
    user root;                   # when the tests run as root (no user in main_config)
    <main_config>
    daemon off;                  # nginx always runs as a child of the test
    master_process on;           # off under valgrind (see below)
    worker_processes 1;          # unless main_config sets it
    error_log logs/error.log debug;
    pid logs/nginx.pid;
    events { worker_connections 1024; }
    http {
        access_log logs/access.log;
        default_type text/plain;
        client_body_temp_path tmp/client_body;  # and proxy, fastcgi, uwsgi, scgi
        <http_config>
        server { listen 127.0.0.1:PORT; server_name localhost; <config> }
    }

=item user_files

Files created in C<$TEST_NGINX_HTML_DIR> (nginx's default root) for the
block: C<< >>> name >> lines followed by the content; with C<eval>, an array
of C<[name, content]>.

=item must_die

nginx must fail to start: one assertion that it exited with a non-zero
status (a crash by a signal fails).  C<--- error_log> / C<--- no_error_log>
are then matched against nginx's stderr plus the error log.  Requests and
their checks are ignored.

=back

=head2 Requests

=over

=item request

C<METHOD URI [HTTP/1.x]> on the first line; the following lines are the
body, without the section's final newline (exact when given with C<eval>).
With C<eval>, an array of such strings: the requests are sent in order, each
on its own connection.  Requests carry C<Host: localhost>,
C<Connection: close> (unless C<more_headers> has a Connection header) and,
when there is a body or the method is POST/PUT/PATCH, C<Content-Length>
(unless C<more_headers> has Content-Length or Transfer-Encoding).

=item raw_request

Bytes sent as they are (a string, or an array with C<eval>).

=item pipelined_requests

C<eval> array of requests written at once on one connection; only the last
one says C<Connection: close>.  The responses are read in order.

=item more_headers

C<Name: value> lines added to every request; with C<eval> and several
requests, an array with one string of lines per request.

=item request_body

The body (replaces a body given in C<request>); without C<eval> the final
newline is removed.  With C<eval> and several requests, one body per request.

=item timeout

Client timeout in seconds per request (default 5; fractions allowed).

=item abort

A client timeout is expected: the connection is closed, the checks of that
request are reported as skipped, and the block goes on (logs are checked
after nginx stopped, or after 0.3 s in HUP mode).

=item before_request

C<eval> array aligned with the requests; each element is C<"">/C<undef> or
one or more actions (separated by newlines, or an array): C<redis_stop>
(SIGTERM to the real redis-server, wait until it is gone), C<redis_start>
(start it again on the same port, wait until it answers PING),
C<sleep SECONDS>, C<tracking> (wait until a Redis connection has
client-side tracking on, as the worker's data connection does once its
answer cache can start), C<hup> (SIGHUP to the nginx master, wait until a new
worker runs and the old ones left), C<redis CMD ARGS...>.  Without C<eval>,
the section's lines are the actions run before the first request.  For
pipelined requests only the first element is used.

=back

=head2 Checks on each response

When there are several requests, each of these may be an C<eval> array with
one element per request (C<undef> skips that request); a single value applies
to every request.

=over

=item error_code

The status code.

=item response_body

The exact body (the section's text includes its final newline; use C<eval>
or C<--- response_body chomp> for a body without one).

=item response_body_like

A regex (string, compiled with C</s>, final newline removed; or C<qr//>
with C<eval>).

=item response_body_json

The body parsed as JSON equals the expected JSON structurally: any key order;
types must match (C<1> is not C<"1">, C<true> is not C<1>); numbers compare
numerically.  The expectation is JSON text (trailing commas and C<#> comments
allowed), or with C<eval> a Perl structure (C<\1>/C<\0> or C<JSON::PP::true>
for booleans).

=item response_body_json_subset

Like C<response_body_json>, but an expected object only needs its own keys
to be present and equal (recursively); extra keys are fine.  Arrays must
have the same length and match element by element.

=item response_headers

C<Name: value> lines (names case-insensitive, repeated headers joined with
C<", ">); C<!Name> means the header must be absent.

=item response_headers_like

C<Name: regex> lines; the header must be present and match.

=back

=head2 Checks after the requests

=over

=item error_log, no_error_log

Lines (substrings) that must / must not appear in the error log written
during the block; with C<eval>, a string, a C<qr//> or an array of both.
One assertion per pattern.  In HUP mode, while nginx keeps running, the
harness polls up to 3 s for C<error_log> patterns; lines from the worker
processes of the previous configuration are ignored.

=item redis_check

Lines C<COMMAND ARGS... =E<gt> EXPECTED> run against the real Redis after
the requests (one assertion per line; C<#> comments allowed).  Arguments are
split like redis-cli (blanks, C<"double quotes"> with C<\n \r \t \xHH \" \\>,
C<'single quotes'>).  The reply is rendered simply: an integer as its number,
a status or bulk reply as its text, nil as C<(nil)>, an error as
C<(error) MESSAGE>, an array as a JSON array of strings (nil elements as
C<null>).  EXPECTED is compared with that rendering; a C<[...]> expectation is
compared as JSON with scalars as strings (so C<[1, "a"]> matches C<["1","a"]>);
a C<"quoted"> expectation is a JSON string (for empty values or blanks at
the ends).  C<COMMAND ARGS =~ REGEX> (or C</REGEX/flags>) matches the
rendering instead.  Examples:

    GET k => v
    GET missing => (nil)
    HGETALL h => ["field","value"]
    INCR n => 1
    TTL k =~ ^[0-9]+$

=item fake_redis_received

Lines (substrings; C<qr//> with C<eval>) each of which must match at least
one command received by the fake Redis, rendered as C<CMD arg arg>.

=back

=head2 Fake Redis

=over

=item fake_redis

Starts a scripted fake Redis on C<$TEST_NGINX_FAKE_REDIS_PORT> before nginx
and stops it after the block.  One action per line (blank lines and C<#>
comments ignored; with C<eval>, an array of lines), applied to the received
commands in order (over all connections); the last action repeats:

    reply RAW           RAW with \r \n \t \\ \xHH escapes; \r\n appended unless present
    error MSG           -MSG\r\n
    silence             never answer on this connection again (keep it open)
    close               close the connection
    partial RAW         send RAW as is, then close
    delay SECS ACTION   the action, SECS after the command arrived
    delay SECS RAW      same as delay SECS reply RAW

Example: C<reply +PONG>, C<reply $3\r\nfoo>, C<error ERR boom>,
C<delay 0.5 +PONG>.  The script applies to every command (AUTH and SELECT
too, when the module is configured to send them).  Received commands are
logged in F<logs/fake_redis.log>.

=back

=head2 Flags

C<--- skip_valgrind> (in valgrind mode, run this block without valgrind),
C<--- skip_hup> (in HUP mode, run this block with a fresh nginx),
C<--- skip_slots> (with TEST_NGINX_REDIS_SLOTS=1, the block is not run: it
needs SELECT or REPLICAOF, which a Redis cluster refuses), and
Test::Base's C<--- ONLY>, C<--- SKIP>, C<--- LAST>.  C<--- wait: SECONDS>
sleeps before the logs are checked.

=head1 NUMBER OF TESTS

Unless the test file planned already, C<run_tests()> plans
C<planned_tests()>: per block one assertion per response check section per
request, one per C<redis_check> / C<fake_redis_received> line, one per
C<error_log> / C<no_error_log> pattern, one for C<must_die>, plus one
health assertion (no C<[alert]>/C<[emerg]>, no crashed process, nginx
started and stopped cleanly, seeds and actions succeeded) and, in valgrind
mode, one valgrind assertion; the sum times C<repeat_each()>.
Test::Nginx-style C<plan tests =E<gt> repeat_each() * N * blocks()> lines are
best removed: the harness counts better.

=head1 MODES AND ENVIRONMENT

=over

=item TEST_NGINX_USE_HUP=1

nginx keeps running across the blocks of a file; each block writes its
configuration and sends SIGHUP, then waits for a new worker and for the old
ones to exit.  Blocks with C<must_die> or C<skip_hup> run with a fresh nginx.

=item TEST_NGINX_REDIS_SLOTS=1

The real Redis runs as a cluster of one node that holds all 16384 slots
(C<--cluster-enabled yes>, then C<CLUSTER ADDSLOTSRANGE 0 16383>): every
command, transaction and script whose keys are not in one hash slot fails
with C<CROSSSLOT>, as on a Redis Cluster, so the suite proves the data
model's hash tags.  Blocks with C<skip_slots> are not run; C<redis_slots_mode()>
tells a plain test file.

=item TEST_NGINX_USE_VALGRIND=1

nginx runs under C<valgrind --tool=memcheck --leak-check=full
--show-possibly-lost=no --errors-for-leak-kinds=definite> with C<daemon off;
master_process off;> (C<master_process on> for blocks with a C<hup>
action: the worker is a fork of the valgrind'd master), logging to
F<logs/valgrind.log>.  One more assertion per block fails when valgrind
reports errors or definitely lost bytes (the log is then copied to
F<logs/valgrind.TEST-N.log>).  C<must_die> blocks run with
C<--leak-check=no> (nginx does not free memory when it fails to start).
Suppressions: F<t/lib/Test/Mobispot/nginx.supp> (known nginx core leaks) and
F<t/valgrind.suppress> when present.  Request timeouts are multiplied by 5
(except in C<abort> blocks, where the timeout is the point); HUP mode is off.

=item TEST_NGINX_TIMEOUT_FACTOR

Overrides that factor (default 1, or 5 under valgrind).

=item TEST_NGINX_NO_CLEAN=1

Keep the servroot (it is also kept, and its path printed, when a test
fails).

=item TEST_NGINX_LOG_LEVEL

Level of F<logs/error.log> (default C<debug>); also C<log_level('info')>.

=item NGINX_BIN, REDIS_SERVER_BIN

The nginx binary (default F</usr/sbin/nginx>) and redis-server (default:
from C<PATH>).

=item MOBISPOT_MODULE, MOBISPOT_NO_MODULE=1

The module to load (default F<build/ngx_http_mobispot_module.so> in the
repository); C<MOBISPOT_NO_MODULE=1> omits C<load_module> (harness
self-tests).  A missing module stops the file with a message.

=back

Ports are picked at random below the kernel's ephemeral port range and
re-picked when a server cannot bind.  Values of C<TEST_NGINX_SERVER_PORT>,
C<TEST_NGINX_REDIS_PORT>, C<TEST_NGINX_FAKE_REDIS_PORT>,
C<TEST_NGINX_SERVROOT>, C<TEST_NGINX_HTML_DIR> and C<TEST_NGINX_ROOT> found
in the environment are replaced by the harness's.

=head1 FUNCTIONS

Exported with Test::Base's and Test::More's usual functions (C<plan>,
C<blocks>, C<ok>, C<is>, C<like>, C<is_deeply>, C<diag>, ...).

=over

=item run_tests()

Runs the blocks of C<__DATA__>.

=item repeat_each(N), planned_tests(), log_level(LEVEL)

Run each block N times (consecutively); the number of assertions
C<run_tests()> will make; the error log level.  C<no_shuffle()> and
C<no_long_string()> exist for Test::Nginx compatibility and do nothing.

=item start_env(%opts) / stop_env()

For plain Perl tests.  C<start_env> starts (or empties) Redis, starts the fake
Redis when C<fake_redis =E<gt> SCRIPT> is given, writes the configuration
from C<main_config>, C<http_config>, C<config> and starts nginx (C<valgrind>,
C<master> override the mode).  It dies when nginx does not start, and returns
C<{ server_port, redis_port, fake_redis_port, servroot }>.  C<redis =E<gt> 0>
skips Redis.  C<stop_env> stops nginx and the fake Redis and returns a list
of problems (alerts, crashes, valgrind findings); empty means clean:
C<is(join("\n", stop_env()), '', 'nginx clean')>.  Redis runs until the end
of the file.

=item nginx_conf(main_config =E<gt> ..., http_config =E<gt> ..., config =E<gt> ..., master =E<gt> 1)

The configuration text the harness would write (variables substituted).

=item nginx_hup()

SIGHUP to the running nginx; waits for the reload.  Returns undef or an error.

=item error_log_text()

The error log written since the current block or C<start_env> began.

=item server_port(), redis_port(), fake_redis_port(), servroot(), html_dir(), module_path()

=item redis_cmd(@args)

Runs a command on the real Redis and returns the reply: a string (bulk or
status), a number, undef (nil), an array ref, or a
C<Test::Mobispot::Redis::Error> object (stringifies as C<(error) MSG>).
Dies on I/O errors.

=item redis_stop(), redis_start()

Stop / start the real Redis (same port, same data directory).

=item redis_args(@args), redis_kill(), redis_pid()

For durability tests.  C<redis_args> sets extra C<redis-server> arguments
for the next starts of the real Redis (after the harness's own, so that they
override them: C<'--appendonly', 'yes', '--appendfsync', 'always'>); when
they differ from those of the running server, it is stopped, and the next
C<redis_cmd>, C<redis_start> or C<start_env> starts it with them.  Its data
directory is C<servroot/redis> (C<--dir>).  C<redis_kill> sends SIGKILL to
the real Redis and waits for it to be gone (nothing is flushed: the crash);
C<redis_start> brings it back on the same port and directory.

=item redis_replica_start(), redis_replica_stop(), redis_replica_port(), redis_replica_pid(), redis_replica_cmd(@args)

A second C<redis-server>, a replica of the real Redis (C<--replicaof>), on
a port of its own, with its data in C<servroot/replica>; it is stopped at
the end of the file.  C<redis_replica_start> returns its port once it
answers C<PING> (not once it is in sync: poll C<INFO replication>).

=item nginx_test(main_config =E<gt> ..., http_config =E<gt> ..., config =E<gt> ...)

Runs C<nginx -t> on that configuration (written to C<conf/nginx-t.conf>)
and returns C<(exit status, output)>.

=item fake_redis_start($script), fake_redis_stop()

Start (returns the port) / stop the fake Redis; C<$script> as in C<--- fake_redis>
(text or array of lines).

=item wait_until(sub { ... }, $what)

1 as soon as the condition holds, within 10 s (times the timeout
factor); otherwise a C<diag> that names C<$what>, and 0: the check is the
caller's (C<ok(wait_until(...), ...)>).

=item http_request($request, %opts)

Sends one request and returns the response hash (C<status>, C<reason>,
C<headers> as C<[[name, value], ...]>, C<header> as C<{lc name =E<gt> value}>,
C<body>, C<timed_out>, C<error>).  C<$request> is a string in the
C<--- request> format, or a hash: C<method> (GET), C<uri> (/), C<version>,
C<headers> (hash, array of pairs or of "Name: value", or text), C<body>,
C<keepalive> (no C<Connection: close>), or C<raw> (bytes sent as they are)
with C<count> (number of responses to read; in list context all of them are
returned).  Options: C<timeout> (seconds, default 5), C<port>.

=item http_requests_at_once(\@paths, %opts)

Opens one connection per path, writes every C<GET> before reading any
answer, and returns C<[status, body]> per path (C<[undef, undef]> for one
that got nothing in time).  Options: C<timeout> (seconds, default 5, for
all of them), C<port>.

=item json_diff($expected, $got, subset =E<gt> 1)

Undef when the decoded JSON value C<$got> matches C<$expected>, otherwise a
description of the first difference.

=back

=cut

use strict;
use warnings;

use Test::Base -base;

use Cwd ();
use File::Basename ();
use File::Copy ();
use File::Path ();
use File::Temp ();
use Time::HiRes qw(time sleep);

use Test::Mobispot::FakeRedis
    qw(parse_script start_fake_redis received_commands);
use Test::Mobispot::HTTP qw(parse_request_text build_request exchange);
use Test::Mobispot::JSONDiff qw(json_diff json_decode json_type);
use Test::Mobispot::Redis
    qw(render_reply reply_matches start_server stop_server);
use Test::Mobispot::Util qw(
    free_port spawn wait_exit children_of process_alive signal_name
    slurp file_size spew split_command_line escape_for_display trim
);

our @EXPORT = qw(
    run_tests repeat_each planned_tests log_level no_shuffle no_long_string
    start_env stop_env nginx_conf nginx_hup error_log_text
    server_port redis_port fake_redis_port servroot html_dir module_path
    redis_cmd redis_stop redis_start fake_redis_start fake_redis_stop
    redis_args redis_kill redis_pid redis_replica_start redis_replica_stop
    redis_replica_port redis_replica_pid redis_replica_cmd nginx_test
    redis_slots_mode
    http_request http_requests_at_once json_diff wait_until
);

# --------------------------------------------------------- constants ---

my $Lib_dir = Cwd::abs_path(File::Basename::dirname(__FILE__) . '/..');
my $Root = Cwd::abs_path("$Lib_dir/../..");

my %Known_sections = map { ($_ => 1) } qw(
    main_config http_config config user_files must_die
    request raw_request pipelined_requests more_headers request_body
    timeout abort before_request wait
    error_code response_body response_body_like response_body_json
    response_body_json_subset response_headers response_headers_like
    error_log no_error_log redis redis_check fake_redis fake_redis_received
    skip_valgrind skip_hup skip_slots ONLY SKIP LAST
);

# Checks made on each response, in this order.
my @Request_checks = qw(
    error_code response_headers response_headers_like response_body
    response_body_like response_body_json response_body_json_subset
);

# Sections where, with a single request, an array is one value for that
# request (not a list of per-request values).
my %Array_is_value = map { ($_ => 1) } qw(
    more_headers response_headers response_headers_like
    response_body_json response_body_json_subset
);

my $Valgrind_exit = 99;            # valgrind --error-exitcode
my $Default_timeout = 5;           # client timeout per request
my $Log_poll = 3;                  # seconds to wait for error_log lines (HUP)

# ------------------------------------------------------------- state ---

my %Cfg;                           # settings read from the environment
my %S = (                          # this test file's environment
    owner      => 0,               # pid of the process that set it up
    servroot   => undef,
    used       => 0,               # a server was started (keep logs?)
    server_port => undef,          # the three ports of this file
    redis_port => undef,
    fake_port  => undef,
    nginx      => {},              # pid, master, valgrind, persistent
    redis_pid  => undef,
    redis_acl  => undef,           # ACL LIST of a fresh redis-server
    redis_args => [],              # redis_args(): extra arguments
    replica_pid => undef,          # redis_replica_start()
    replica_port => undef,
    replica_client => undef,
    redis_client => undef,         # connection used by redis_cmd()
    fake_pid   => undef,
    log_start  => 0,               # error.log offset where this block began
    user_files => [],              # files written by --- user_files
    env_valgrind => 0,             # start_env() started nginx under valgrind
    prerequisites_ok => 0,
    told_servroot => 0,            # its path was printed already
);
my $Repeat_each = 1;
my $Log_level = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';

# ------------------------------------------------- Test::Nginx compat ---

sub repeat_each {
    $Repeat_each = shift if @_;
    return $Repeat_each;
}

sub log_level {
    $Log_level = shift if @_;
    return $Log_level;
}

sub no_shuffle { }
sub no_long_string { }

# ----------------------------------------------------- setup/teardown ---

sub import {
    _setup();
    goto &Test::Base::import;
}

sub _config {
    return if %Cfg;
    my $valgrind = $ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 0;
    %Cfg = (
        nginx_bin => $ENV{NGINX_BIN} || '/usr/sbin/nginx',
        redis_bin => $ENV{REDIS_SERVER_BIN} || _which('redis-server'),
        module    => $ENV{MOBISPOT_NO_MODULE} ? undef
                   : $ENV{MOBISPOT_MODULE}
                     || "$Root/build/ngx_http_mobispot_module.so",
        valgrind  => $valgrind,
        hup       => ($ENV{TEST_NGINX_USE_HUP} && !$valgrind) ? 1 : 0,
        no_clean  => $ENV{TEST_NGINX_NO_CLEAN} ? 1 : 0,
        factor    => $ENV{TEST_NGINX_TIMEOUT_FACTOR} || ($valgrind ? 5 : 1),
        slots     => $ENV{TEST_NGINX_REDIS_SLOTS} ? 1 : 0,
    );
}

# Creates this file's servroot and picks its ports (once per process).
sub _setup {
    return if $S{owner} == $$;
    _config();
    $S{owner} = $$;

    my $dir = File::Temp::tempdir('mobispot-t-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 0);
    chmod 0755, $dir;
    mkdir "$dir/$_" for qw(conf logs html tmp redis);
    $S{servroot} = $dir;
    $S{server_port} = free_port();
    $S{redis_port} = free_port();
    $S{fake_port} = free_port();
    _export_vars();

    $SIG{PIPE} = 'IGNORE';
    $SIG{INT} = sub { exit 130 };
    $SIG{TERM} = sub { exit 143 };
}

sub _export_vars {
    $ENV{TEST_NGINX_SERVER_PORT} = $S{server_port};
    $ENV{TEST_NGINX_REDIS_PORT} = $S{redis_port};
    $ENV{TEST_NGINX_FAKE_REDIS_PORT} = $S{fake_port};
    $ENV{TEST_NGINX_SERVROOT} = $S{servroot};
    $ENV{TEST_NGINX_HTML_DIR} = "$S{servroot}/html";
    $ENV{TEST_NGINX_ROOT} = $Root;
}

sub _check_prerequisites {
    return if $S{prerequisites_ok};
    die "Test::Mobispot: nginx not found at $Cfg{nginx_bin} (set NGINX_BIN)\n"
        unless -x $Cfg{nginx_bin};
    die "Test::Mobispot: redis-server not found (set REDIS_SERVER_BIN)\n"
        unless $Cfg{redis_bin} && -x $Cfg{redis_bin};
    die "Test::Mobispot: valgrind not found in PATH\n"
        if $Cfg{valgrind} && !_which('valgrind');
    if (defined $Cfg{module} && !-f $Cfg{module}) {
        die "Test::Mobispot: module not found at $Cfg{module}\n"
            . "  build it (bash tools/build.sh), point MOBISPOT_MODULE at it,\n"
            . "  or set MOBISPOT_NO_MODULE=1 to run nginx without it\n";
    }
    $S{prerequisites_ok} = 1;
}

sub _which {
    my ($prog) = @_;
    for my $dir (split /:/, $ENV{PATH} // '') {
        return "$dir/$prog" if -x "$dir/$prog";
    }
    return undef;
}

END {
    # Runs before Test::Builder's own END (modules loaded later end first).
    _teardown() if $S{owner} && $S{owner} == $$;
}

sub _teardown {
    my $exit = $?;
    local $?;                  # keep the test's exit status
    local $@;

    eval { _nginx_stop([]) };
    eval { fake_redis_stop() };
    eval { _redis_server_stop() };
    eval { redis_replica_stop() };

    my $tb = Test::Builder->new;
    my $incomplete = $tb->has_plan && $tb->has_plan =~ /^\d+$/
        && $tb->current_test != $tb->has_plan;
    my $dir = $S{servroot};
    return unless $dir && -d $dir;
    if ($S{used}
        && ($Cfg{no_clean} || $exit || $incomplete || !$tb->is_passing))
    {
        _tell_servroot();
    }
    else {
        File::Path::remove_tree($dir);
    }
}

# Prints (once) where the configuration and the logs can be read.
sub _tell_servroot {
    return if $S{told_servroot}++;
    Test::Builder->new->diag(
        "Test::Mobispot: configuration and logs kept in $S{servroot}");
}

# ------------------------------------------------------- accessors ---

sub server_port { _setup(); return $S{server_port} }
sub redis_port { _setup(); return $S{redis_port} }
sub fake_redis_port { _setup(); return $S{fake_port} }
sub servroot { _setup(); return $S{servroot} }
sub html_dir { _setup(); return "$S{servroot}/html" }
sub module_path { _config(); return $Cfg{module} }

sub _error_log_file { return "$S{servroot}/logs/error.log" }

sub error_log_text {
    return slurp(_error_log_file(), $S{log_start}) // '';
}

# ================================================== running blocks ===

sub run_tests {
    _setup();
    my @blocks = _blocks();
    _validate(@blocks);
    _check_prerequisites();

    my $tb = Test::Builder->new;
    unless ($tb->has_plan) {
        my $n = planned_tests();
        if ($n) { plan(tests => $n) }
        else { plan(skip_all => 'no test blocks') }
    }
    $tb->diag('Test::Mobispot: TEST_NGINX_USE_HUP is ignored under valgrind')
        if $ENV{TEST_NGINX_USE_HUP} && $Cfg{valgrind};

    # Each block runs repeat_each() times in a row.
    my @runs = map {
        my $block = $_;
        map { [$block, $_] } 1 .. $Repeat_each
    } @blocks;
    for my $i (0 .. $#runs) {
        my ($block, $rep) = @{ $runs[$i] };
        my $next = $runs[$i + 1];
        my $keep_running = _uses_hup($block) && $next && _uses_hup($next->[0]);
        _run_block($block, $rep, $keep_running);
    }
    _nginx_stop([]);
}

sub planned_tests {
    my $total = 0;
    $total += _count_block($_) for _blocks();
    return $total * $Repeat_each;
}

# The blocks this mode runs: with TEST_NGINX_REDIS_SLOTS, not those marked
# skip_slots (they need what a cluster refuses: SELECT, REPLICAOF)
sub _blocks {
    _config();
    return grep { !($Cfg{slots} && exists $_->{skip_slots}) } blocks();
}

sub _count_block {
    my ($block) = @_;
    my $spec = _spec($block, 0);
    my $v = $spec->{v};

    # (The helpers return lists: count them in list context.)
    my @logs = (_patterns($spec, 'error_log'), _patterns($spec, 'no_error_log'));
    my $n = 1 + @logs;                          # health, log patterns
    $n++ if _valgrind_for($spec);
    return $n + 1 if exists $v->{must_die};

    my ($kind, $is_list, @items) = _request_items($spec);
    my @checks = grep { exists $v->{$_} } @Request_checks;
    my @redis_checks = _lines($spec, 'redis_check');
    my @received = _patterns($spec, 'fake_redis_received');
    return $n + @items * @checks + @redis_checks + @received;
}

sub _uses_hup {
    my ($block) = @_;
    return $Cfg{hup} && !exists $block->{must_die}
        && !exists $block->{skip_hup};
}

sub _valgrind_for {
    my ($spec) = @_;
    return $Cfg{valgrind} && !exists $spec->{v}{skip_valgrind};
}

# The block's sections: { v => {name => value}, evaled => {name => bool} }.
# A section holding several values (an eval returning a list) becomes an
# array ref.  With $expand, $TEST_NGINX_* variables are substituted.
sub _spec {
    my ($block, $expand) = @_;
    my (%v, %evaled);
    my $map = $block->{_section_map}[0] || {};
    for my $name (@{ $block->{_section_order}[0] || [] }) {
        my @list = @{ $block->{$name} || [] };
        my $value = @list == 1 ? $list[0] : [@list];
        $v{$name} = $expand ? _expand($value) : $value;
        $evaled{$name} = ($map->{$name}{filters} // '') =~ /\beval\b/ ? 1 : 0;
    }
    return { v => \%v, evaled => \%evaled, name => scalar $block->name };
}

sub _expand {
    my ($value) = @_;
    my $ref = ref $value;
    # Numbers stay numbers (a regex on them would make them strings, and
    # JSON comparisons care).
    return $value if !$ref && json_type($value) ne 'string';
    return _expand_str($value) unless $ref;
    return [ map { _expand($_) } @$value ] if $ref eq 'ARRAY';
    return { map { ($_ => _expand($value->{$_})) } keys %$value }
        if $ref eq 'HASH';
    if ($ref eq 'Regexp' && "$value" =~ /\$\{?TEST_NGINX_/) {
        my $re = _expand_str("$value", 1);
        return qr/$re/;
    }
    return $value;
}

# Substitutes $TEST_NGINX_NAME and ${TEST_NGINX_NAME}; unknown names stay.
# In a regex ($in_regex) the value is quoted, and "\$NAME" (the way to
# write the variable inside qr// in eval code) counts as "$NAME".
sub _expand_str {
    my ($s, $in_regex) = @_;
    return $s unless defined $s;
    my $prefix = $in_regex ? qr/\\?/ : qr//;
    $s =~ s{$prefix\$(\{)?(TEST_NGINX_[A-Z0-9_]+)(?(1)\})}{
        !exists $ENV{$2} ? $&
        : $in_regex ? quotemeta $ENV{$2}
        : $ENV{$2}
    }ge;
    return $s;
}

# ---------------------------------------------- reading the sections ---

# ($kind, $is_list, @items) of the block's request section; $kind is
# request, raw_request, pipelined_requests or none.
sub _request_items {
    my ($spec) = @_;
    for my $kind (qw(request raw_request pipelined_requests)) {
        next unless exists $spec->{v}{$kind};
        my $value = $spec->{v}{$kind};
        return ($kind, 1, @$value) if ref $value eq 'ARRAY';
        return ($kind, $kind eq 'pipelined_requests' ? 1 : 0, $value);
    }
    return ('none', 0);
}

# The values of section $name for each of $n requests (undef: nothing for
# that request).  Dies when an array does not match the requests.
sub _per_request {
    my ($spec, $name, $n, $is_list) = @_;
    my $value = $spec->{v}{$name};
    if (ref $value eq 'ARRAY' && ($is_list || !$Array_is_value{$name})) {
        die "section '--- $name' has " . scalar(@$value)
            . " elements for $n request(s)\n" unless @$value == $n;
        return @$value;
    }
    return ($value) x $n;
}

# Patterns of error_log-like sections: strings (substrings) and qr//.
sub _patterns {
    my ($spec, $name) = @_;
    return () unless exists $spec->{v}{$name};
    my $value = $spec->{v}{$name};
    return () unless defined $value;
    return @$value if ref $value eq 'ARRAY';
    return ($value) if ref $value || $spec->{evaled}{$name};
    return grep { length } map { trim($_) } split /\n/, $value;
}

# Lines of line-oriented sections (redis, redis_check), without blank lines
# and # comments; with eval, the array's elements.
sub _lines {
    my ($spec, $name) = @_;
    my $value = $spec->{v}{$name};
    return () unless defined $value;
    return @$value if ref $value eq 'ARRAY';
    return grep { length && !/^#/ } map { trim($_) } split /\n/, $value;
}

# The before_request actions: one array ref of action strings per request.
sub _actions {
    my ($spec, $n, $is_list) = @_;
    my $value = $spec->{v}{before_request};
    return map { [] } 1 .. $n unless defined $value;

    my @per;
    if (ref $value eq 'ARRAY') {
        @per = _per_request($spec, 'before_request', $n, $is_list);
    }
    else {
        @per = ($value, (undef) x ($n - 1));
    }
    my @actions;
    for my $element (@per) {
        my @list = ref $element eq 'ARRAY' ? @$element
                 : split /\n/, $element // '';
        @list = grep { length } map { trim($_ // '') } @list;
        for my $action (@list) {
            die "unknown before_request action: $action\n"
                unless $action =~ /^(?:redis_stop|redis_start|hup|tracking)$/
                    || $action =~ /^sleep\s+(?:\d+\.?\d*|\.\d+)$/
                    || $action =~ /^redis\s+\S/;
        }
        push @actions, \@list;
    }
    return @actions;
}

# Builds the requests: a list of { raw, method, desc }.
sub _build_requests {
    my ($spec) = @_;
    my ($kind, $is_list, @items) = _request_items($spec);
    return () if $kind eq 'none';
    my $n = @items;
    my $v = $spec->{v};

    my @headers = exists $v->{more_headers}
        ? _per_request($spec, 'more_headers', $n, $is_list) : ();
    my @bodies = exists $v->{request_body}
        ? _per_request($spec, 'request_body', $n, $is_list) : ();
    my $pipelined = $kind eq 'pipelined_requests';

    my @requests;
    for my $i (0 .. $n - 1) {
        my $item = $items[$i];
        die "request " . ($i + 1) . " is empty\n"
            unless defined $item && $item =~ /\S/;

        if ($kind eq 'raw_request') {
            my ($first) = $item =~ /^\s*([^\r\n]*)/;
            my ($method) = $first =~ /^(\S+)/;
            push @requests, { raw => $item, method => $method // 'GET',
                              desc => $first };
            next;
        }

        my $r = parse_request_text($item, !$spec->{evaled}{$kind});
        if (defined $bodies[$i]) {
            my $body = $bodies[$i];
            $body =~ s/\n\z// unless $spec->{evaled}{request_body};
            $r->{body} = $body;
        }
        $r->{headers} = _header_pairs($headers[$i]);
        $r->{close} = !$pipelined || $i == $n - 1;
        push @requests, { raw => build_request($r), method => $r->{method},
                          desc => "$r->{method} $r->{uri}" };
    }
    return @requests;
}

# Header lists: text lines, an array of lines or of [name, value], a hash.
sub _header_pairs {
    my ($h) = @_;
    return [] unless defined $h;
    return [ map { [$_, $h->{$_}] } sort keys %$h ] if ref $h eq 'HASH';
    my @pairs;
    for my $line (ref $h eq 'ARRAY' ? @$h : split /\n/, $h) {
        if (ref $line eq 'ARRAY') {
            push @pairs, [@$line];
            next;
        }
        $line = trim($line // '');
        next unless length $line;
        my ($name, $value) = $line =~ /^([^:\s]+)\s*:\s*(.*)$/
            or die "bad header line: $line\n";
        push @pairs, [$name, $value];
    }
    return \@pairs;
}

# Stops the file early, with every problem of every block, when a block is
# malformed (unknown section, failed eval, bad request line ...).
sub _validate {
    my @errors;
    for my $block (@_) {
        my $spec = _spec($block, 0);
        my $v = $spec->{v};
        my @bad;

        for my $name (sort keys %$v) {
            push @bad, "unknown section '--- $name'"
                unless $Known_sections{$name};
            my $value = $v->{$name};
            if ($spec->{evaled}{$name} && defined $value && !ref $value
                && $value =~ /\(eval \d+\) line \d+/)
            {
                push @bad, "eval of section '--- $name' failed: " . trim($value)
                    . ($value =~ /Global symbol "\$TEST_NGINX_/
                       ? ' (write $TEST_NGINX_* in single quotes in eval code)'
                       : '');
            }
        }
        my @kinds = grep { exists $v->{$_} }
            qw(request raw_request pipelined_requests);
        push @bad, 'use only one of --- request, --- raw_request, '
            . '--- pipelined_requests' if @kinds > 1;

        unless (@bad) {
            my ($kind, $is_list, @items) = _request_items($spec);
            my $n = @items;
            for my $check (@Request_checks) {
                next unless exists $v->{$check};
                eval { _per_request($spec, $check, $n, $is_list) };
                push @bad, trim($@) if $@;
            }
            eval { _build_requests($spec) };
            push @bad, trim($@) if $@;
            eval { _actions($spec, $n, $is_list) };
            push @bad, trim($@) if $@;
            if (exists $v->{fake_redis}) {
                eval { parse_script($v->{fake_redis}) };
                push @bad, trim($@) if $@;
            }
            for my $line (_lines($spec, 'redis')) {
                next if ref $line;
                eval { split_command_line($line) };
                push @bad, trim($@) if $@;
            }
            for my $line (_lines($spec, 'redis_check')) {
                eval { _parse_redis_check(ref $line ? undef : $line) };
                push @bad, trim($@) if $@;
            }
            for my $name (qw(timeout wait)) {
                next unless exists $v->{$name};
                push @bad, "--- $name must be a number of seconds"
                    unless trim($v->{$name} // '') =~ /^\d*\.?\d+$/;
            }
        }
        push @errors, map { "$spec->{name}: $_" } @bad;
    }
    die "Test::Mobispot: bad test blocks:\n  " . join("\n  ", @errors) . "\n"
        if @errors;
}

# -------------------------------------------------------- one block ---

sub _run_block {
    my ($block, $rep, $keep_running) = @_;
    my $tb = Test::Builder->new;
    my $label = $block->name . ($Repeat_each > 1 ? " (repeat $rep)" : '');
    my @problems;              # reported by the health assertion

    my $raw = _spec($block, 0);
    my $must_die = exists $raw->{v}{must_die};
    my $valgrind = _valgrind_for($raw);

    # Redis running and empty; the fake one started; both before nginx,
    # which may connect at startup.
    _redis_reset(\@problems);
    if (exists $raw->{v}{fake_redis}) {
        eval { fake_redis_start(_expand($raw->{v}{fake_redis})) };
        push @problems, "fake_redis: " . trim($@) if $@;
    }

    my $spec = _spec($block, 1);
    _seed_redis($spec, \@problems);
    _write_user_files($spec, \@problems);

    if ($must_die) {
        _run_must_die($spec, $label, $valgrind, \@problems);
        _end_block($spec, $label, $valgrind, \@problems, '');
        return;
    }

    # nginx: reload it (HUP mode) or start it; a port taken by someone else
    # meanwhile gets replaced.
    my %old_workers;
    my $nginx_ok;
    $S{log_start} = file_size(_error_log_file());
    my $health_start = $S{log_start};
    for my $attempt (1 .. 3) {
        my $result = _nginx_for_block($spec, $block, \@problems,
                                      \%old_workers, $attempt == 3);
        $nginx_ok = $result eq 'ok';
        last unless $result eq 'address in use';
        $S{server_port} = free_port();
        _export_vars();
        $spec = _spec($block, 1);
    }

    # The requests.
    my ($kind, $is_list, @items) = _request_items($spec);
    my @requests = _build_requests($spec);
    my $n = @requests;
    my @actions = _actions($spec, $n, $is_list);
    my $abort = exists $spec->{v}{abort};
    my $timeout = trim($spec->{v}{timeout} // $Default_timeout);
    $timeout *= $Cfg{factor} unless $abort;

    my @responses;
    my $down = { headers => [], header => {}, body => '',
                 error => 'nginx is not running (it failed to start)' };
    if ($kind eq 'pipelined_requests') {
        _run_actions($actions[0], \@problems) if $n;
        @responses = $nginx_ok
            ? exchange(port => $S{server_port},
                       data => join('', map { $_->{raw} } @requests),
                       count => $n,
                       methods => [ map { $_->{method} } @requests ],
                       timeout => $timeout)
            : ($down) x $n;
    }
    else {
        for my $i (0 .. $n - 1) {
            _run_actions($actions[$i], \@problems);
            push @responses, $nginx_ok
                ? (exchange(port => $S{server_port},
                            data => $requests[$i]{raw},
                            methods => [ $requests[$i]{method} ],
                            timeout => $timeout))[0]
                : $down;
        }
    }

    # Checks on each response.
    my %expect = map {
        ($_ => [ _per_request($spec, $_, $n, $is_list) ])
    } grep { exists $spec->{v}{$_} } @Request_checks;

    for my $i (0 .. $n - 1) {
        my $res = $responses[$i];
        my $prefix = $n > 1 ? "$label - req " . ($i + 1) : $label;
        for my $check (grep { $expect{$_} } @Request_checks) {
            my $name = "$prefix - $check";
            my $want = $expect{$check}[$i];
            if (!defined $want) {
                $tb->skip("$name: nothing expected for this request");
            }
            elsif ($res->{timed_out} && $abort) {
                $tb->skip("$name: request timed out as expected (abort)");
            }
            elsif ($res->{timed_out} || !defined $res->{status}) {
                _assert(0, $name, "$requests[$i]{desc}: "
                    . ($res->{timed_out} ? "no complete response within ${timeout}s"
                                         : $res->{error} // 'no response'));
            }
            else {
                my ($ok, @diag) = _check_response($check, $res, $want,
                                                  $spec->{evaled}{$check});
                push @diag, "response error: $res->{error}"
                    if !$ok && $res->{error};
                _assert($ok, $name, @diag);
            }
        }
    }

    # Checks on Redis and on what the fake Redis received.
    for my $line (_lines($spec, 'redis_check')) {
        my ($ok, @diag) = _check_redis_line($line);
        _assert($ok, "$label - redis_check: " . _short($line), @diag);
    }
    if (my @patterns = _patterns($spec, 'fake_redis_received')) {
        my @cmds = received_commands("$S{servroot}/logs/fake_redis.log");
        for my $p (@patterns) {
            my $ok = grep { _matches($_, $p) } @cmds;
            _assert($ok, "$label - fake_redis_received: " . _pattern_desc($p),
                    'commands received:',
                    (map { "  $_" } @cmds[0 .. ($#cmds < 29 ? $#cmds : 29)]));
        }
    }

    # Logs: stop nginx first (flushes everything), unless it keeps running
    # for the next block (HUP mode): then wait for the lines to show up.
    my $wait = trim($spec->{v}{wait} // 0);
    sleep $wait if $wait;
    my $running = $keep_running && $S{nginx}{pid};
    if ($running) {
        sleep 0.3 if $abort;
    }
    else {
        _nginx_stop(\@problems);
    }
    _check_error_logs($spec, $label, $running, \%old_workers);

    my $health = slurp(_error_log_file(), $health_start) // '';
    _end_block($spec, $label, $valgrind, \@problems, $health);
}

# The health assertion, the valgrind assertion, and cleaning up.
sub _end_block {
    my ($spec, $label, $valgrind, $problems, $log) = @_;
    my $must_die = exists $spec->{v}{must_die};

    fake_redis_stop();
    unlink @{ $S{user_files} };
    $S{user_files} = [];

    push @$problems, _log_problems($log, $must_die);
    _assert(!@$problems, "$label - nginx clean (no alert, emerg, crash)",
            @$problems);

    if ($valgrind) {
        my @found = _valgrind_problems($spec);
        _assert(!@found, "$label - valgrind clean", @found);
    }

    _tell_servroot() unless Test::Builder->new->is_passing;
}

sub _run_must_die {
    my ($spec, $label, $valgrind, $problems) = @_;
    _nginx_stop($problems);        # a nginx kept running by HUP mode

    my $err_log = _error_log_file();
    my $start = file_size($err_log);
    my $r = _nginx_start(conf => _conf_for($spec, !$valgrind, $label),
                         valgrind => $valgrind, leak_check => 0,
                         master => !$valgrind);

    my ($ok, @diag);
    if ($r->{ok}) {
        @diag = ('nginx started, but it was expected to fail');
        _nginx_stop($problems);
    }
    elsif ($r->{timed_out}) {
        @diag = ('nginx neither started nor exited within the timeout');
    }
    elsif ($r->{exited} & 127) {
        @diag = ('nginx was killed by ' . signal_name($r->{exited} & 127)
                 . ' while starting');
    }
    else {
        $ok = ($r->{exited} >> 8) != 0;
        @diag = ('nginx exited with status 0') unless $ok;
    }
    _assert($ok, "$label - nginx fails to start (must_die)", @diag,
            (length($r->{stderr} // '') ? ('stderr:', $r->{stderr}) : ()));

    my $text = ($r->{stderr} // '') . (slurp($err_log, $start) // '');
    for my $p (_patterns($spec, 'error_log')) {
        _assert(_matches($text, $p), "$label - error_log: " . _pattern_desc($p),
                "nginx's stderr and error log (above [debug]):",
                _tail(_no_debug($text)));
    }
    for my $p (_patterns($spec, 'no_error_log')) {
        _assert(!_matches($text, $p),
                "$label - no_error_log: " . _pattern_desc($p),
                _matching_lines($text, $p));
    }
    push @$problems, _log_problems($text, 1);
}

# Starts or reloads nginx for a block.  Returns 'ok', 'failed' or
# 'address in use' (the server port was taken: the caller picks another
# port and tries again, unless this was the $last_try).
sub _nginx_for_block {
    my ($spec, $block, $problems, $old_workers, $last_try) = @_;
    my $hup = _uses_hup($block);
    my $valgrind = _valgrind_for($spec);
    my $master = !$valgrind || _has_hup_action($spec);
    my $conf = _conf_for($spec, $master, scalar $block->name);

    if ($S{nginx}{pid} && $hup && $S{nginx}{persistent}) {
        spew("$S{servroot}/conf/nginx.conf", $conf);
        my ($err, $old) = _nginx_reload();
        unless ($err) {
            %$old_workers = %$old;
            return 'ok';
        }
        push @$problems, "reload with SIGHUP failed: $err";
    }
    _nginx_stop($problems) if $S{nginx}{pid};

    my $r = _nginx_start(conf => $conf, valgrind => $valgrind,
                         master => $master);
    if ($r->{ok}) {
        $S{nginx}{persistent} = $hup;
        return 'ok';
    }
    my $stderr = $r->{stderr} // '';
    return 'address in use'
        if $stderr =~ /Address already in use/ && !$last_try;
    push @$problems, "nginx failed to start:\n" . _tail($stderr);
    return 'failed';
}

sub _has_hup_action {
    my ($spec) = @_;
    my $v = $spec->{v}{before_request} // return 0;
    my @all = ref $v eq 'ARRAY'
        ? map { ref $_ eq 'ARRAY' ? @$_ : split /\n/, $_ // '' } @$v
        : split /\n/, $v;
    return grep { trim($_ // '') eq 'hup' } @all;
}

sub _conf_for {
    my ($spec, $master, $label) = @_;
    my $v = $spec->{v};
    return _conf_text(main_config => $v->{main_config},
                      http_config => $v->{http_config},
                      config => $v->{config},
                      master => $master, label => $label);
}

sub _seed_redis {
    my ($spec, $problems) = @_;
    for my $line (_lines($spec, 'redis')) {
        my @args = ref $line eq 'ARRAY' ? @$line : split_command_line($line);
        my $reply = eval { redis_cmd(@args) };
        my $desc = ref $line ? join(' ', @$line) : $line;
        if ($@) {
            push @$problems, "--- redis '$desc': " . trim($@);
        }
        elsif (ref $reply eq 'Test::Mobispot::Redis::Error') {
            push @$problems, "--- redis '$desc': $reply";
        }
    }
}

sub _write_user_files {
    my ($spec, $problems) = @_;
    my $value = $spec->{v}{user_files} // return;
    my @files;
    if (ref $value eq 'ARRAY') {
        @files = grep { ref $_ eq 'ARRAY' } @$value;
    }
    else {
        my @parts = split /^>>>[ \t]*(\S+)[ \t]*\n/m, $value;
        shift @parts;
        while (@parts) {
            my ($name, $content) = splice(@parts, 0, 2);
            push @files, [$name, $content // ''];
        }
    }
    for my $f (@files) {
        my ($name, $content) = @$f;
        if ($name =~ m{(?:^|/)\.\.(?:/|$)} || $name =~ m{^/}) {
            push @$problems, "user_files: bad file name $name";
            next;
        }
        my $path = "$S{servroot}/html/$name";
        File::Path::make_path(File::Basename::dirname($path));
        spew($path, $content);
        push @{ $S{user_files} }, $path;
    }
}

sub _run_actions {
    my ($actions, $problems) = @_;
    for my $a (@{ $actions || [] }) {
        if ($a eq 'redis_stop') {
            redis_stop();
        }
        elsif ($a eq 'redis_start') {
            eval { redis_start() };
            push @$problems, "before_request redis_start: " . trim($@) if $@;
        }
        elsif ($a =~ /^sleep\s+(\S+)$/) {
            sleep $1;
        }
        elsif ($a eq 'tracking') {
            # a connection with client-side tracking on (CLIENT LIST flag
            # t): the worker's cache can begin, once it read the reply
            my $deadline = time + 30 * ($ENV{TEST_NGINX_USE_VALGRIND} ? 5 : 1);
            my $on;
            until ($on || time >= $deadline) {
                my $list = eval { redis_cmd('CLIENT', 'LIST') } // '';
                $on = $list =~ /\bflags=\S*t\S*\s/;
                sleep 0.05 unless $on;
            }
            push @$problems, "before_request tracking: never on" unless $on;
        }
        elsif ($a eq 'hup') {
            my $err = nginx_hup();
            push @$problems, "before_request hup: $err" if $err;
        }
        elsif ($a =~ /^redis\s+(.+)$/) {
            my $reply = eval { redis_cmd(split_command_line($1)) };
            my $err = $@ ? trim($@)
                    : ref $reply eq 'Test::Mobispot::Redis::Error' ? "$reply"
                    : undef;
            push @$problems, "before_request '$a': $err" if $err;
        }
    }
}

# ------------------------------------------------------------ checks ---

# Reports one assertion; @diag lines are shown when it fails.  Failures
# are located in the test file (the line calling run_tests), not in here.
sub _assert {
    my ($ok, $name, @diag) = @_;
    my $tb = Test::Builder->new;
    my $level = 1;
    $level++ while (caller($level) // '') =~ /^Test::(?:Mobispot|Base)\b/;
    local $Test::Builder::Level = $level + 1;
    $tb->ok($ok ? 1 : 0, $name);
    $tb->diag(join("\n", grep { defined } @diag)) if !$ok && @diag;
    return $ok;
}

# Checks one response; returns ($ok, @diagnostics).
sub _check_response {
    my ($check, $res, $want, $evaled) = @_;
    my $body = $res->{body} // '';

    if ($check eq 'error_code') {
        $want = trim("$want");
        return (1) if $res->{status} eq $want;
        return (0, "got status $res->{status}, expected $want",
                'body: ' . escape_for_display($body));
    }

    if ($check eq 'response_body') {
        return (1) if $body eq $want;
        return (0, _text_diff($want, $body));
    }

    if ($check eq 'response_body_like') {
        my $re = ref $want eq 'Regexp' ? $want : do {
            (my $p = $want) =~ s/\n\z//;
            eval { qr/$p/s } or return (0, "bad regex: $@");
        };
        return (1) if $body =~ $re;
        return (0, "body does not match $re",
                'body: ' . escape_for_display($body));
    }

    if ($check =~ /^response_body_json(_subset)?$/) {
        my $subset = $1 ? 1 : 0;
        my $got;
        eval { $got = json_decode($body); 1 }
            or return (0, 'response body is not JSON: ' . trim($@),
                       'body: ' . escape_for_display($body));
        my $expected = $want;
        unless (ref $want) {
            eval { $expected = json_decode($want, 1); 1 }
                or return (0, 'the expected JSON does not parse: ' . trim($@));
        }
        my $diff = json_diff($expected, $got, subset => $subset);
        return (1) unless defined $diff;
        return (0, $diff, 'body: ' . escape_for_display($body, 2000));
    }

    if ($check =~ /^response_headers(_like)?$/) {
        my $like = $1 ? 1 : 0;
        my @lines = ref $want eq 'ARRAY' ? @$want : split /\n/, $want;
        my @bad;
        for my $line (map { trim($_) } @lines) {
            next unless length $line;
            if (!$like && $line =~ /^!\s*(\S+)$/) {
                my $got = $res->{header}{ lc $1 };
                push @bad, "$1 should be absent, got: $got" if defined $got;
                next;
            }
            my ($name, $value) = $line =~ /^([^:\s]+)\s*:\s*(.*)$/ or do {
                push @bad, "bad line in --- $check: $line";
                next;
            };
            my $got = $res->{header}{ lc $name };
            my $match = !defined $got ? 0
                      : $like ? eval { $got =~ /$value/ }
                      : $got eq $value;
            if ($like && $@) {
                push @bad, "bad regex for $name: " . trim($@);
            }
            elsif (!defined $got) {
                push @bad, "$name is missing";
            }
            elsif (!$match) {
                push @bad, "$name: got '$got', expected "
                    . ($like ? "to match /$value/" : "'$value'");
            }
        }
        return (1) unless @bad;
        return (0, @bad, 'response headers:',
                map { "  $_->[0]: $_->[1]" } @{ $res->{headers} });
    }

    die "unknown check $check";
}

# Splits "COMMAND args => expected" (or "=~ regex") at the first "=>" or
# "=~" word outside quotes.  Returns ([command words], op, expected);
# dies when the line is malformed.
sub _parse_redis_check {
    my ($line) = @_;
    die "redis_check lines must be strings\n" unless defined $line;
    my $quote = '';
    for (my $i = 0; $i < length $line; $i++) {
        my $c = substr($line, $i, 1);
        if ($quote) {
            if ($c eq '\\') { $i++ }
            elsif ($c eq $quote) { $quote = '' }
            next;
        }
        if ($c eq '"' || $c eq "'") {
            $quote = $c;
            next;
        }
        my ($op) = substr($line, $i) =~ /^(=[>~])(?:\s|$)/ or next;
        next if $i > 0 && substr($line, $i - 1, 1) !~ /\s/;
        my @cmd = split_command_line(substr($line, 0, $i));
        die "redis_check line without a command: $line\n" unless @cmd;
        return (\@cmd, $op, trim(substr($line, $i + 2)));
    }
    die "redis_check line without ' => ' or ' =~ ': $line\n";
}

# Runs a redis_check line; returns ($ok, @diagnostics).
sub _check_redis_line {
    my ($line) = @_;
    my ($cmd, $op, $expected) = eval { _parse_redis_check($line) };
    return (0, trim($@)) if $@;

    my $reply = eval { redis_cmd(@$cmd) };
    return (0, "redis: " . trim($@)) if $@;
    my $shown = render_reply($reply);

    if ($op eq '=>') {
        return (1) if reply_matches($reply, $expected);
        return (0, "got:      $shown", "expected: $expected");
    }
    my $re = $expected =~ m{^/(.*)/([imsx]*)$}s
        ? ($2 ? "(?$2)$1" : $1) : $expected;
    my $match = eval { $shown =~ /$re/ };
    return (0, "bad regex: " . trim($@)) if $@;
    return (1) if $match;
    return (0, "got: $shown", "expected to match: $expected");
}

sub _check_error_logs {
    my ($spec, $label, $running, $old_workers) = @_;
    my @want = _patterns($spec, 'error_log');
    my @unwanted = _patterns($spec, 'no_error_log');
    return unless @want || @unwanted;

    my $log = _block_log($old_workers);
    if ($running) {
        # nginx still runs: log lines may come a little after the response.
        my $deadline = time + $Log_poll * $Cfg{factor};
        while (grep { !_matches($log, $_) } @want) {
            last if time > $deadline;
            sleep 0.05;
            $log = _block_log($old_workers);
        }
    }

    for my $p (@want) {
        _assert(_matches($log, $p), "$label - error_log: " . _pattern_desc($p),
                "not found in the block's part of $S{servroot}/logs/error.log;"
                . ' its last lines above [debug]:', _tail(_no_debug($log)));
    }
    for my $p (@unwanted) {
        _assert(!_matches($log, $p),
                "$label - no_error_log: " . _pattern_desc($p),
                _matching_lines($log, $p));
    }
}

# The error log written since the block began, without the lines of the
# worker processes that ran the previous configuration (HUP mode).
sub _block_log {
    my ($old_workers) = @_;
    my $log = slurp(_error_log_file(), $S{log_start}) // '';
    return $log unless $old_workers && %$old_workers;
    return join '', grep {
        !(/^\S+ \S+ \[\w+\] (\d+)#/ && $old_workers->{$1})
    } split /^/, $log;
}

sub _log_problems {
    my ($text, $must_die) = @_;
    my @found;
    for my $line (split /\n/, $text // '') {
        push @found, $line
            if $line =~ /exited on signal|\(core dumped\)/
            || (!$must_die && $line =~ /\[(?:alert|emerg)\]/);
    }
    if (@found > 20) {
        my $more = @found - 20;
        splice(@found, 20);
        push @found, "... and $more more";
    }
    return @found;
}

sub _matches {
    my ($text, $pattern) = @_;
    return ref $pattern eq 'Regexp' ? scalar($text =~ $pattern)
                                    : index($text, $pattern) >= 0;
}

sub _matching_lines {
    my ($text, $pattern) = @_;
    my @lines = grep { _matches($_, $pattern) } split /\n/, $text;
    splice(@lines, 10) if @lines > 10;
    return ('found:', map { "  $_" } @lines);
}

sub _pattern_desc {
    my ($p) = @_;
    return _short(ref $p eq 'Regexp' ? "qr/$p/" : $p);
}

sub _short {
    my ($s) = @_;
    $s = escape_for_display($s, 70);
    return $s;
}

sub _no_debug {
    my ($text) = @_;
    return join '', grep { !/^\S+ \S+ \[debug\] / } split /^/, $text // '';
}

# The last lines of a text (logs can be long at debug level).
sub _tail {
    my ($text) = @_;
    my @lines = split /\n/, $text // '';
    splice(@lines, 0, @lines - 40) if @lines > 40;
    return join "\n", @lines;
}

sub _text_diff {
    my ($want, $got) = @_;
    if ($want =~ /\n./s || $got =~ /\n./s) {
        if (eval { require Text::Diff; 1 }) {
            return ('body differs (- expected, + got):',
                    Text::Diff::diff(\$want, \$got, { STYLE => 'Unified' }));
        }
    }
    return ('got:      ' . escape_for_display($got, 2000),
            'expected: ' . escape_for_display($want, 2000));
}

# ============================================================ nginx ===

sub nginx_conf {
    my (%o) = @_;
    _setup();
    return _conf_text(
        (map { ($_ => _expand($o{$_})) } qw(main_config http_config config)),
        master => $o{master} // 1,
    );
}

sub _conf_text {
    my (%o) = @_;
    my $main = $o{main_config} // '';
    my $http = $o{http_config} // '';
    my $server = $o{config} // '';
    s/\s+\z// for $main, $http, $server;

    my @c = ('# Generated by Test::Mobispot'
             . ($o{label} ? " for $o{label}" : ''));
    push @c, "load_module $Cfg{module};" if defined $Cfg{module};
    push @c, 'user root;' if $> == 0 && $main !~ /^\s*user\s/m;
    push @c, $main if length $main;
    push @c, 'daemon off;',
             'master_process ' . ($o{master} ? 'on' : 'off') . ';';
    push @c, 'worker_processes 1;' unless $main =~ /^\s*worker_processes\s/m;
    push @c, "error_log logs/error.log $Log_level;", 'pid logs/nginx.pid;',
             '', 'events {', '    worker_connections 1024;', '}', '',
             'http {',
             '    access_log logs/access.log;',
             '    default_type text/plain;',
             map({ "    ${_}_temp_path tmp/$_;" }
                 qw(client_body proxy fastcgi uwsgi scgi));
    push @c, $http if length $http;
    push @c, '    server {',
             "        listen 127.0.0.1:$S{server_port};",
             '        server_name localhost;';
    push @c, $server if length $server;
    push @c, '    }', '}', '';
    return join "\n", @c;
}

# Starts nginx in the foreground as our child.  Returns { ok => 1 } once
# it wrote its pid file (so it listens) and, with a master, has a worker;
# else { exited => wait status, stderr } or { timed_out => 1, stderr }.
sub _nginx_start {
    my (%o) = @_;
    my $root = $S{servroot};
    spew("$root/conf/nginx.conf", $o{conf});
    unlink "$root/logs/nginx.pid";
    my $stderr = "$root/logs/stderr.log";
    spew($stderr, '');

    my @cmd = ($Cfg{nginx_bin}, '-p', "$root/", '-c', 'conf/nginx.conf');
    if ($o{valgrind}) {
        unlink "$root/logs/valgrind.log";
        unshift @cmd, _valgrind_cmd($o{leak_check} // 1);
    }
    $S{used} = 1;
    my $pid = spawn(cmd => \@cmd, stdout => $stderr, stderr => $stderr);
    $S{nginx} = { pid => $pid, master => $o{master},
                  valgrind => $o{valgrind} };

    my $deadline = time + ($o{valgrind} ? 120 : 10);
    while (1) {
        my $status = wait_exit($pid, 0);
        if (defined $status) {
            $S{nginx} = {};
            return { exited => $status, stderr => slurp($stderr) };
        }
        my $pidfile = slurp("$root/logs/nginx.pid") // '';
        if ($pidfile =~ /^\s*\Q$pid\E\s*$/
            && (!$o{master} || children_of($pid)))
        {
            return { ok => 1 };
        }
        if (time > $deadline) {
            _nginx_stop([]);
            return { timed_out => 1, stderr => slurp($stderr) };
        }
        sleep 0.01;
    }
}

# Stops the running nginx (SIGQUIT: graceful), adding to @$problems what
# went wrong: a crash, a non-zero exit, a KILL after the timeout.
sub _nginx_stop {
    my ($problems) = @_;
    my $n = $S{nginx};
    my $pid = $n->{pid} or return;
    my @workers = children_of($pid);

    # Without a master, the signal reaches the one process directly, and
    # nginx only looks at ngx_quit after an event-loop turn: a SIGQUIT
    # that lands after that check and before epoll_wait() waits for the
    # next event, which on an idle nginx with no timer never comes (under
    # valgrind the window is wide).  Repeating the signal each second
    # closes that race; it changes nothing else, since without a master
    # a quit is immediate.  With a master the signal is sent once: the
    # master passes it to the workers on their channel, with no race, and
    # a worker that does not leave is a finding.
    my $limit = $n->{valgrind} ? 60 : 10;
    my $status;
    my $deadline = time + $limit;
    do {
        kill 'QUIT', $pid;
        $status = wait_exit($pid, $n->{master} ? $limit : 1);
    } until defined $status || $n->{master} || time >= $deadline;
    if (!defined $status) {
        push @$problems, "nginx did not exit within ${limit}s of SIGQUIT "
            . "(killed with SIGKILL)";
        kill 'KILL', $pid, @workers, children_of($pid);
        wait_exit($pid, 5);
        kill 'KILL', grep { process_alive($_) } @workers;
    }
    elsif ($status > 0) {
        if ($status & 127) {
            push @$problems, "nginx (pid $pid) was killed by "
                . signal_name($status & 127);
        }
        elsif ((my $code = $status >> 8) != $Valgrind_exit
               || !$n->{valgrind})
        {
            push @$problems, "nginx exited with status $code";
        }
    }
    $S{nginx} = {};
}

# SIGHUP to the master; waits for a new worker, then for the old workers to
# leave (until then they could still accept connections).  Returns
# (error or undef, { old worker pid => 1 }).
sub _nginx_reload {
    my $pid = $S{nginx}{pid} or return ('nginx is not running', {});
    my %old = map { ($_ => 1) } children_of($pid);
    my $log = _error_log_file();
    my $offset = file_size($log);

    kill 'HUP', $pid;
    my $deadline = time + 10 * $Cfg{factor};
    while (1) {
        return ('the nginx master exited', \%old)
            if defined wait_exit($pid, 0);
        last if grep { !$old{$_} } children_of($pid);
        my $text = slurp($log, $offset) // '';
        return ("new configuration refused: $1", \%old)
            if $text =~ /(\[emerg\][^\n]*)/;
        return ('no new worker process appeared', \%old)
            if time > $deadline;
        sleep 0.01;
    }

    my $old_deadline = time + 5 * $Cfg{factor};
    while (1) {
        my %now = map { ($_ => 1) } children_of($pid);
        my @left = grep { $now{$_} } keys %old;
        last unless @left;
        if (time > $old_deadline) {
            Test::Builder->new->diag("Test::Mobispot: old nginx worker(s) "
                . "@left still running 5s after SIGHUP");
            last;
        }
        sleep 0.01;
    }
    return (undef, \%old);
}

sub nginx_hup {
    my ($err) = _nginx_reload();
    return $err;
}

sub _valgrind_cmd {
    my ($leak_check) = @_;
    my @cmd = (
        'valgrind', '--tool=memcheck',
        '--leak-check=' . ($leak_check ? 'full' : 'no'),
        '--show-possibly-lost=no', '--errors-for-leak-kinds=definite',
        '--num-callers=30', "--error-exitcode=$Valgrind_exit",
        "--log-file=$S{servroot}/logs/valgrind.log",
    );
    push @cmd, "--suppressions=$_"
        for grep { -f } ("$Lib_dir/Test/Mobispot/nginx.supp",
                         "$Root/t/valgrind.suppress");
    return @cmd;
}

sub _valgrind_problems {
    my ($spec) = @_;
    my $file = "$S{servroot}/logs/valgrind.log";
    my $log = slurp($file);
    return ('no valgrind log: nginx did not run under valgrind')
        unless defined $log;

    my @found;
    my @summaries = $log =~ /ERROR SUMMARY: ([\d,]+) errors/g;
    my $errors = 0;
    $errors += s/,//gr for @summaries;
    my $lost = 0;
    $lost += s/,//gr for $log =~ /definitely lost: ([\d,]+) bytes/g;

    push @found, 'valgrind did not finish (no ERROR SUMMARY): '
        . 'nginx was killed or crashed' unless @summaries;
    push @found, "valgrind: $errors error(s)" if $errors;
    push @found, "valgrind: $lost bytes definitely lost" if $lost;
    return () unless @found;

    (my $tag = $spec->{name}) =~ s/^(\S+\s+\d+).*/$1/;
    $tag =~ s/\W+/-/g;
    my $copy = "$S{servroot}/logs/valgrind.$tag.log";
    File::Copy::copy($file, $copy);

    # The interesting part: what follows the banner, up to 80 lines.
    my @lines = split /\n/, $log;
    shift @lines while @lines && $lines[0] !~ /^==\d+==\s*$/;
    splice(@lines, 80) if @lines > 80;
    return (@found, "full log: $copy", @lines);
}

# ============================================================ Redis ===

sub redis_cmd {
    my (@args) = @_;
    _setup();
    _redis_ensure();
    if (!$S{redis_client} || $S{redis_client}{port} != $S{redis_port}) {
        $S{redis_client} = Test::Mobispot::Redis->new(
            port => $S{redis_port}, timeout => 5 * $Cfg{factor});
    }
    return $S{redis_client}->command(@args);
}

sub redis_stop {
    _setup();
    _redis_server_stop();
}

sub redis_start {
    _setup();
    return if $S{redis_pid} && !defined wait_exit($S{redis_pid}, 0);
    my @problems;
    _redis_server_start(\@problems, 1)
        or die join("\n", @problems) . "\n";
}

sub _redis_ensure {
    return if $S{redis_pid} && !defined wait_exit($S{redis_pid}, 0);
    my @problems;
    _redis_server_start(\@problems) or die join("\n", @problems) . "\n";
}

# Makes the real Redis running and empty.
sub _redis_reset {
    my ($problems) = @_;
    if (!$S{redis_pid} || defined wait_exit($S{redis_pid}, 0)) {
        _redis_server_start($problems) or return;
    }
    my $client = Test::Mobispot::Redis->new(port => $S{redis_port});
    my $clean = eval {
        my $acl = $client->command('ACL', 'LIST');
        $S{redis_acl} //= join "\n", @$acl;
        !ref $client->command('FLUSHALL')
            && !ref $client->command('SCRIPT', 'FLUSH')
            && join("\n", @$acl) eq $S{redis_acl};
    };
    $client->close;
    return if $clean;

    # Unusable (a block set a password, renamed commands, changed the
    # users' rights, as ACL SETUSER does ...): restart it.
    _redis_server_stop();
    _redis_server_start($problems);
}

# Starts redis-server; with $same_port it must come back on its port (a
# few tries), else another port is picked when the current one is taken.
sub _redis_server_start {
    my ($problems, $same_port) = @_;
    _check_prerequisites();
    my $root = $S{servroot};
    $S{used} = 1;
    for my $attempt (1 .. 3) {
        my $pid = start_server(bin => $Cfg{redis_bin}, port => $S{redis_port},
                               dir => "$root/redis",
                               log => "$root/logs/redis.log",
                               args => [ ($Cfg{slots} ? _slots_args() : ()),
                                         @{ $S{redis_args} } ],
                               timeout => 10 * $Cfg{factor});
        if ($pid && $Cfg{slots} && !_slots_assign($S{redis_port})) {
            push @$problems, "redis-server: $@";
            stop_server($pid, 10);
            return 0;
        }
        if ($pid) {
            $S{redis_pid} = $pid;
            $S{redis_acl} = undef;    # its users, as the next reset finds them
            return 1;
        }
        if ($same_port) {
            sleep 0.2;
            next;
        }
        $S{redis_port} = free_port();
        _export_vars();
    }
    push @$problems, "cannot start redis-server: $@ (see $root/logs/redis.log)";
    return 0;
}

# TEST_NGINX_REDIS_SLOTS=1: the real Redis is a cluster of one node that
# holds every slot, so that a command, transaction or script whose keys
# are not all in one hash slot fails with CROSSSLOT, as on a cluster.
sub _slots_args {
    return ('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', '5000');
}

sub _slots_assign {
    my ($port) = @_;
    my $client = Test::Mobispot::Redis->new(port => $port, timeout => 5);
    my $ok = eval {
        my $info = $client->command('CLUSTER', 'INFO');
        if ($info =~ /cluster_slots_assigned:0\b/) {
            my $r = $client->command('CLUSTER', 'ADDSLOTSRANGE', 0, 16383);
            die "CLUSTER ADDSLOTSRANGE: $r\n" if ref $r;
        }
        my $deadline = time + 10 * $Cfg{factor};
        while (time < $deadline) {
            return 1 if $client->command('CLUSTER', 'INFO') =~ /cluster_state:ok/;
            sleep 0.05;
        }
        die "the one-node cluster did not reach cluster_state:ok\n";
    };
    $@ = $@ || 'the one-node cluster failed' unless $ok;
    $client->close;
    return $ok;
}

sub redis_slots_mode { _config(); return $Cfg{slots} }

sub _redis_server_stop {
    $S{redis_client}->close if $S{redis_client};
    return unless $S{redis_pid};
    stop_server($S{redis_pid}, 10);
    $S{redis_pid} = undef;
}

sub redis_args {
    my (@args) = @_;
    _setup();
    return if join("\0", @args) eq join("\0", @{ $S{redis_args} });
    _redis_server_stop();
    $S{redis_args} = [@args];
}

sub redis_pid {
    _setup();
    return $S{redis_pid};
}

sub redis_kill {
    _setup();
    my $pid = $S{redis_pid} or return;
    $S{redis_client}->close if $S{redis_client};
    $S{redis_client} = undef;
    kill 'KILL', $pid;
    wait_exit($pid, 10);
    $S{redis_pid} = undef;
}

sub redis_replica_start {
    _setup();
    _check_prerequisites();
    _redis_ensure();
    return $S{replica_port}
        if $S{replica_pid} && !defined wait_exit($S{replica_pid}, 0);
    my $root = $S{servroot};
    mkdir "$root/replica";
    $S{used} = 1;
    for my $attempt (1 .. 3) {
        $S{replica_port} //= free_port();
        my $pid = start_server(bin => $Cfg{redis_bin},
                               port => $S{replica_port},
                               dir => "$root/replica",
                               log => "$root/logs/replica.log",
                               args => ['--replicaof', '127.0.0.1',
                                        $S{redis_port}],
                               timeout => 10 * $Cfg{factor});
        if ($pid) {
            $S{replica_pid} = $pid;
            return $S{replica_port};
        }
        $S{replica_port} = undef;
    }
    die "cannot start the replica: $@ (see $root/logs/replica.log)\n";
}

sub redis_replica_stop {
    $S{replica_client}->close if $S{replica_client};
    $S{replica_client} = undef;
    return unless $S{replica_pid};
    kill 'CONT', $S{replica_pid};    # a test may have stopped it
    stop_server($S{replica_pid}, 10);
    $S{replica_pid} = undef;
}

sub redis_replica_port { return $S{replica_port} }
sub redis_replica_pid { return $S{replica_pid} }

sub redis_replica_cmd {
    my (@args) = @_;
    die "redis_replica_cmd: no replica\n" unless $S{replica_port};
    if (!$S{replica_client}) {
        $S{replica_client} = Test::Mobispot::Redis->new(
            port => $S{replica_port}, timeout => 5 * $Cfg{factor});
    }
    return $S{replica_client}->command(@args);
}

# ======================================================= fake Redis ===

sub fake_redis_start {
    my ($script) = @_;
    _setup();
    fake_redis_stop();
    my $log = "$S{servroot}/logs/fake_redis.log";
    $S{used} = 1;
    spew($log, '');
    my $actions = parse_script($script);
    for my $attempt (1 .. 3) {
        my $pid = start_fake_redis(script => $actions, port => $S{fake_port},
                                   log => $log);
        if ($pid) {
            $S{fake_pid} = $pid;
            return $S{fake_port};
        }
        $S{fake_port} = free_port();
        _export_vars();
    }
    die "cannot start the fake redis: $@\n";
}

sub fake_redis_stop {
    my $pid = $S{fake_pid} or return;
    kill 'KILL', $pid;
    wait_exit($pid, 5);
    $S{fake_pid} = undef;
}

# =============================================== plain Perl helpers ===

sub start_env {
    my (%o) = @_;
    _setup();
    _check_prerequisites();
    my @problems;

    _nginx_stop([]);               # one left by an earlier start_env
    _redis_reset(\@problems) unless exists $o{redis} && !$o{redis};
    fake_redis_start($o{fake_redis}) if defined $o{fake_redis};

    my $valgrind = $o{valgrind} // $Cfg{valgrind};
    my $master = $o{master} // !$valgrind;
    $S{env_valgrind} = $valgrind;
    $S{log_start} = file_size(_error_log_file());

    my $r = _nginx_start(conf => nginx_conf(%o, master => $master),
                         valgrind => $valgrind, master => $master);
    die "start_env: nginx failed to start:\n" . ($r->{stderr} // '') . "\n"
        unless $r->{ok};
    die "start_env: " . join("\n", @problems) . "\n" if @problems;

    return { server_port => $S{server_port}, redis_port => $S{redis_port},
             fake_redis_port => $S{fake_port}, servroot => $S{servroot} };
}

sub nginx_test {
    my (%o) = @_;
    _setup();
    _check_prerequisites();
    my $root = $S{servroot};
    spew("$root/conf/nginx-t.conf", nginx_conf(%o));
    my $out = "$root/logs/nginx-t.log";
    my $pid = spawn(cmd => [$Cfg{nginx_bin}, '-p', "$root/", '-c',
                            'conf/nginx-t.conf', '-t'],
                    stdout => $out, stderr => $out);
    my $status = wait_exit($pid, 30 * $Cfg{factor});
    if (!defined $status) {
        kill 'KILL', $pid;
        wait_exit($pid, 5);
    }
    return ($status, slurp($out) // '');
}

sub stop_env {
    my @problems;
    _nginx_stop(\@problems);
    push @problems, _log_problems(error_log_text(), 0);
    push @problems, _valgrind_problems({ name => 'start_env' })
        if $S{env_valgrind};
    $S{env_valgrind} = 0;
    fake_redis_stop();
    return @problems;
}

# Opens one connection per path, sends every GET before reading any
# answer, and returns [status, body] per path (undef, undef when nothing
# came back within the timeout).
sub http_requests_at_once {
    my ($paths, %o) = @_;
    require IO::Socket::INET;
    require IO::Select;
    _setup();
    my $port = $o{port} // $S{server_port};
    my $deadline = time + ($o{timeout} // $Default_timeout) * $Cfg{factor};
    my (@socks, %got);

    for my $path (@$paths) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                      Proto => 'tcp')
            or die "http_requests_at_once: connect: $!";
        print $s "GET $path HTTP/1.1\r\nHost: localhost\r\n"
                 . "Connection: close\r\n\r\n";
        push @socks, $s;
    }

    my $sel = IO::Select->new(@socks);
    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read(0.2)) {
            my $n = sysread($s, my $chunk, 65536);
            if ($n) {
                $got{fileno $s} .= $chunk;
            } else {
                $sel->remove($s);
            }
        }
    }

    return map {
        my $r = delete $got{fileno $_};
        close $_;
        defined $r && $r =~ m{^HTTP/1\.1 (\d+)[^\r]*\r\n.*?\r\n\r\n(.*)\z}s
            ? [$1, $2] : [undef, undef];
    } @socks;
}

# wait_until(sub { COND }, WHAT): 1 once COND holds, within 10 s (times
# TEST_NGINX_TIMEOUT_FACTOR); otherwise a diag naming WHAT, and 0
sub wait_until {
    my ($cond, $what) = @_;
    _setup();
    my $end = Time::HiRes::time() + 10 * $Cfg{factor};
    while (Time::HiRes::time() < $end) {
        return 1 if $cond->();
        Time::HiRes::sleep(0.05);
    }
    Test::More::diag("gave up waiting: $what");
    return 0;
}

sub http_request {
    my ($req, %o) = @_;
    _setup();
    my ($data, @methods);
    my $count = 1;

    if (!ref $req) {
        my $r = parse_request_text($req, 0);
        $r->{close} = 1;
        $data = build_request($r);
        @methods = ($r->{method});
    }
    elsif (defined $req->{raw}) {
        $data = $req->{raw};
        $count = $req->{count} // 1;
        my @m = $data =~ /^([A-Z]+) \S+ HTTP\//mg;
        @methods = @m ? @m : ('GET');
    }
    else {
        my $r = {
            method => $req->{method} // 'GET', uri => $req->{uri} // '/',
            version => $req->{version}, body => $req->{body},
            headers => _header_pairs($req->{headers}),
            close => !$req->{keepalive},
        };
        $data = build_request($r);
        @methods = ($r->{method});
    }

    my $timeout = ($o{timeout} // (ref $req ? $req->{timeout} : undef)
                   // $Default_timeout) * $Cfg{factor};
    my @res = exchange(port => $o{port} // (ref $req ? $req->{port} : undef)
                               // $S{server_port},
                       data => $data, count => $count,
                       methods => \@methods, timeout => $timeout);
    return wantarray ? @res : $res[0];
}

1;
