package NotifyTest;

# Helpers for the mod_notify Apache::Test suite (t/*.t).
#
# Loading it: t/TEST runs every test with the repository root (the parent
# of t/) as the current directory, but a test may also be run by hand from
# elsewhere, so load it relative to the test file itself:
#
#     use strict;
#     use warnings;
#     use FindBin;
#     use lib "$FindBin::Bin/lib";
#     use Apache::Test qw(-withtestmore);   # Test::More's functions, and
#                                           # Apache::Test's plan()
#     use NotifyTest;
#
# The server under test (see t/conf/extra.conf.in) uses the SQLite database
# t/var/test.db, created fresh from build/schema/sqlite.sql by t/TEST before
# httpd starts.
#
# Functions: dbh, new_app, new_session, valid_token, request, post_json,
# post_form, form_encode, json_body, row, count, max_id, error_log_mark,
# error_log_since, utc_time, random_hex, token_sha256, db_path,
# error_log_path, is_pg, stored_time, schema_path, connect_database,
# database_exists, create_database, raw_request, parse_raw_response,
# hostport, keepalive, log_allow, free_port, start_host, stop_host,
# host_children (each documented where it is defined).
#
# The error_log discipline (as mod_md's suite): a test file fails when
# t/logs/error_log got a line at warn or above while it ran that it did
# not declare with NotifyTest::log_allow(qr/.../), or when a 500 it got
# through request/post_json/post_form has no line at info or above naming
# that request (each carries an X-Notify-Test header, which the
# ErrorLogFormat of t/conf/extra.conf.in appends to the request's lines).
# Both are checked in an END block, which adds one failing test.
#
# Virtual hosts of t/conf/extra.conf.in (notify_nocache, ...): request,
# post_json and post_form take vhost => 'notify_nocache'; raw_request and
# keepalive take the same name.
#
# Nothing is exported: call the functions fully qualified, e.g.
#
#     my ($token, $app_id) = NotifyTest::new_app();
#     my $res  = NotifyTest::post_json({token => $token, key => 'k'});
#     my $body = NotifyTest::json_body($res);
#     is $body->{status}, 'action-successful';
#     my $n = NotifyTest::row(notifications => $body->{data}{notification}{id});
#
# Times written to the database are UTC text 'YYYY-MM-DDTHH:MM:SSZ', as the
# schema says.

use strict;
use warnings;

use Apache::Test ();
use Apache::TestRequest ();
use Carp qw(croak);
use DBI ();
use Digest::SHA qw(sha256_hex);
use File::Path ();
use File::Spec ();
use HTTP::Request ();
use HTTP::Response ();
use JSON ();
use POSIX qw(strftime);
use Time::HiRes ();

my $JSON = JSON->new->utf8->canonical(0)->allow_nonref;

# Apache::Test's plan() points Test::More's failure diagnostics at STDOUT,
# where the harness hides them unless run with -verbose: a failed CI run
# would not say why. Put them back on STDERR after plan() has run. The
# wrapper is compiled in package Apache::Test because test_pm_refresh finds
# the test's package by walking up the callers outside Apache::Test.
{
    package Apache::Test;    ## no critic (Modules::ProhibitMultiplePackages)
    no warnings 'redefine';
    my $refresh = \&test_pm_refresh;
    *test_pm_refresh = sub {
        my @r = $refresh->(@_);
        require Test::Builder;
        Test::Builder->new->failure_output(\*STDERR);
        return @r;
    };
}

# Directory t/ (Apache::Test's ServerRoot).
sub t_dir {
    my $dir = eval { Apache::Test::vars('t_dir') };
    return $dir if $dir;
    (my $here = __FILE__) =~ s{/lib/NotifyTest\.pm\z}{};
    return File::Spec->rel2abs($here);
}

# The SQLite file the test server is configured with.
sub db_path {
    return File::Spec->catfile(t_dir(), 'var', 'test.db');
}

# t/logs/error_log of the test server.
sub error_log_path {
    my $logs = eval { Apache::Test::vars('t_logs') }
        || File::Spec->catdir(t_dir(), 'logs');
    return File::Spec->catfile($logs, 'error_log');
}

my $DBH;
my $DBH_PID = -1;

# A DBI handle on the test server's database (one per process, reused).
sub dbh {
    return $DBH if $DBH && $DBH_PID == $$ && $DBH->ping;
    if (my $params = $ENV{NOTIFY_TEST_PG}) {
        # The PostgreSQL pass (see build/scripts/test-suite.sh).
        (my $dsn = $params) =~ s/\s+/;/g;
        $DBH = DBI->connect("dbi:Pg:$dsn", '', '', {
            RaiseError => 1, PrintError => 0, AutoCommit => 1,
            pg_enable_utf8 => 1,
        }) or croak "cannot connect to PostgreSQL: $DBI::errstr";
        $DBH->do("SET TIME ZONE 'UTC'");
        $DBH_PID = $$;
        return $DBH;
    }
    my $path = db_path();
    croak "test database $path does not exist (start the suite with t/TEST)"
        unless -e $path;
    $DBH = DBI->connect("dbi:SQLite:dbname=$path", '', '', {
        RaiseError     => 1,
        PrintError     => 0,
        AutoCommit     => 1,
        sqlite_unicode => 1,
    }) or croak "cannot open $path: $DBI::errstr";
    $DBH->sqlite_busy_timeout(5000);
    $DBH_PID = $$;
    return $DBH;
}

# True in the suite's PostgreSQL pass (build/scripts/test-suite.sh sets
# NOTIFY_TEST_PG), false on SQLite.
sub is_pg {
    return $ENV{NOTIFY_TEST_PG} ? 1 : 0;
}

# A time as read back from the database, in the API's form
# 'YYYY-MM-DDTHH:MM:SSZ': SQLite stores that text already; PostgreSQL's
# timestamptz reads back as '2026-11-27 10:00:00+00' (dbh() sets UTC).
sub stored_time {
    my ($v) = @_;
    return $v unless defined $v;
    $v =~ s/\A(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.\d+)?(?:\+00(?::?00)?|Z)\z/$1T$2Z/;
    return $v;
}

# Current UTC time minus $ago seconds, as 'YYYY-MM-DDTHH:MM:SSZ'.
sub utc_time {
    my ($ago) = @_;
    return strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time - ($ago // 0)));
}

# $n random bytes as lowercase hex (2 * $n characters).
sub random_hex {
    my ($n) = @_;
    $n //= 32;
    open my $fh, '<:raw', '/dev/urandom' or croak "/dev/urandom: $!";
    my $buf;
    my $got = read $fh, $buf, $n;
    close $fh;
    croak "short read from /dev/urandom" unless defined $got && $got == $n;
    return unpack 'H*', $buf;
}

# Lowercase hex SHA-256 of a token's UTF-8 bytes, as stored by the schema.
sub token_sha256 {
    my ($token) = @_;
    utf8::encode($token) if utf8::is_utf8($token);
    return sha256_hex($token);
}

# Inserts an application; returns ($token, $app_id).
# Options: name ('test-app'), active (1), token (random 64 hex chars),
# created_at (now).
sub new_app {
    my (%o) = @_;
    my $token = $o{token} // random_hex(32);
    my $dbh = dbh();
    $dbh->do(
        'INSERT INTO api_applications (name, token_sha256, active, created_at)'
        . ' VALUES (?, ?, ?, ?)', undef,
        $o{name} // 'test-app', token_sha256($token), $o{active} // 1,
        $o{created_at} // utc_time());
    return ($token, $dbh->last_insert_id(undef, undef, 'api_applications', 'id'));
}

my %ROLE_TABLE = (client => 'clients', employee => 'employees',
                  liaison => 'liaisons');

# Inserts a user, its role row and a session; returns
# ($token, $session_id, $user_id).
# Options: role ('client' | 'employee' | 'liaison' | 'none'; default
# 'client'), email (random), age (seconds since created_at, 0),
# idle (seconds since last_used_at, 0), remember_me (0), token (random).
sub new_session {
    my (%o) = @_;
    my $role = $o{role} // 'client';
    croak "unknown role '$role'"
        unless $role eq 'none' || exists $ROLE_TABLE{$role};
    my $token = $o{token} // random_hex(32);
    my $dbh = dbh();
    $dbh->do('INSERT INTO users (email) VALUES (?)', undef,
             $o{email} // ('user-' . random_hex(6) . '@example.com'));
    my $user_id = $dbh->last_insert_id(undef, undef, 'users', 'id');
    if ($role ne 'none') {
        $dbh->do("INSERT INTO $ROLE_TABLE{$role} (user_id) VALUES (?)",
                 undef, $user_id);
    }
    $dbh->do(
        'INSERT INTO sessions (user_id, token_sha256, created_at, last_used_at,'
        . ' remember_me) VALUES (?, ?, ?, ?, ?)', undef,
        $user_id, token_sha256($token), utc_time($o{age} // 0),
        utc_time($o{idle} // 0), $o{remember_me} // 0);
    my $session_id = $dbh->last_insert_id(undef, undef, 'sessions', 'id');
    return ($token, $session_id, $user_id);
}

my $VALID_TOKEN;

# One application token created on first use and reused by the process.
sub valid_token {
    ($VALID_TOKEN) = new_app(name => 'shared-test-app') unless $VALID_TOKEN;
    return $VALID_TOKEN;
}

my $UA;

# ---- the error_log discipline (see the top of this file) ----
my ($LOG_FILE) = ($0 =~ m{([^/]+)\z});
my $LOG_PID = $$;
my $LOG_START;           # the size of error_log when the test file began
my @LOG_ALLOWED;         # lines the test file provokes
my @FIVE_HUNDREDS;       # "id (METHOD path)" of the 500s it got
my $REQUEST_SEQ = 0;

# Loading the module marks where this test file's part of error_log begins.
sub import {
    $LOG_START //= error_log_mark();
    return;
}

# Declares lines at warn or above that the test provokes: each pattern is
# matched against the message part of a line (after the brackets).
sub log_allow {
    push @LOG_ALLOWED, @_;
    return;
}

# Lines at warn or above written since the test file began, not allowed.
sub _unexpected_log_lines {
    my $text = error_log_since($LOG_START);
    my @bad;
    for my $line (split /\n/, $text) {
        next unless $line =~ /\A\[[^\]]*\] \[[\w.]+:(warn|error|crit|alert|emerg)\]/;
        next if grep { $line =~ $_ } @LOG_ALLOWED;
        push @bad, $line;
    }
    return @bad;
}

# Every answer this process receives is checked against build/openapi.yaml
# (t/lib/NotifyOpenAPI.pm); the END block below fails the file on any
# problem.
my @OPENAPI_PROBLEMS;

sub check_answer {
    my ($method, $path, $res) = @_;
    return unless $$ == $LOG_PID;
    require NotifyOpenAPI;
    push @OPENAPI_PROBLEMS, NotifyOpenAPI::problems($method, $path, $res);
    return;
}

END {
    if (@OPENAPI_PROBLEMS && $$ == $LOG_PID) {
        local $?;
        require Test::More;
        Test::More::ok(0, "$LOG_FILE: every answer matches build/openapi.yaml");
        my %seen;
        Test::More::diag("OpenAPI: $_") for grep { !$seen{$_}++ } @OPENAPI_PROBLEMS;
    }
}

END {
    if (defined $LOG_START && $$ == $LOG_PID && -e error_log_path()) {
        local $?;
        my @bad  = _unexpected_log_lines();
        # A virtual host may log to a file of its own in t/logs.
        my $text = error_log_since($LOG_START);
        for my $other (grep { $_ ne error_log_path() }
                       glob(File::Spec->catfile(t_dir(), 'logs', '*error_log'))) {
            open my $fh, '<:raw', $other or next;
            local $/;
            $text .= <$fh> // '';
            close $fh;
        }
        my @silent;
        for my $five (@FIVE_HUNDREDS) {
            my ($id) = split / /, $five;
            push @silent, $five unless $text =~
                /^\[[^\]]*\] \[[\w.]+:(?:info|notice|warn|error|crit|alert|emerg)\][^\n]*, test \Q$id\E$/m;
        }
        if (@bad || @silent) {
            require Test::More;
            Test::More::ok(0, "$LOG_FILE: error_log holds only lines the test provoked,"
                . ' and a line naming each 500');
            Test::More::diag("unexpected at warn or above: $_") for @bad;
            Test::More::diag("a 500 with no line at info or above naming it: $_")
                for @silent;
        }
    }
}

# Sends one request and returns the HTTP::Response.
# Options:
#   content       request body, bytes (a string with characters above 0xFF
#                 dies; encode it first)
#   content_type  Content-Type header; pass undef explicitly to send none
#   headers       hashref of extra headers
#   vhost         a <VirtualHost name> of t/conf/extra.conf.in (default:
#                 the main server)
# Redirects are not followed.
sub request {
    my ($method, $path, %o) = @_;
    local $Apache::TestRequest::Module = $o{vhost} if defined $o{vhost};
    my $req = HTTP::Request->new($method => Apache::TestRequest::resolve_url($path));
    my $headers = $o{headers} || {};
    $req->header($_ => $headers->{$_}) for sort keys %$headers;
    $req->header('Content-Type' => $o{content_type})
        if defined $o{content_type};
    if (defined $o{content}) {
        $req->content($o{content});
        $req->header('Content-Length' => length $o{content})
            unless defined $req->header('Content-Length');
    }
    elsif ($method eq 'POST' || $method eq 'PUT') {
        $req->header('Content-Length' => 0);
    }
    my $id = sprintf '%s/%d/%d', $LOG_FILE, $$, ++$REQUEST_SEQ;
    $req->header('X-Notify-Test' => $id);
    $UA ||= Apache::TestRequest->new;
    my $res = $UA->simple_request($req);
    check_answer($method, $path, $res);
    # (not LWP's own 500s, nor a stored answer replayed for an
    # Idempotency-Key: its cause was logged when it was first given)
    push @FIVE_HUNDREDS, "$id ($method $path)"
        if $res->code == 500 && $$ == $LOG_PID
           && !$res->header('Client-Warning')
           && !$res->header('Idempotent-Replayed');
    # t/TEST -debug lwp (or APACHE_TEST_DEBUG_LWP=1) traces the exchange.
    Apache::TestRequest::lwp_trace($res)
        if do { no warnings 'once'; $Apache::TestRequest::DebugLWP };
    return $res;
}

# POSTs JSON. $data: a reference (encoded as UTF-8 JSON) or a raw byte
# string sent as is. Options: path (the create route), content_type
# ('application/json'; undef for none), headers, vhost.
sub post_json {
    my ($data, %o) = @_;
    my $body = ref $data ? $JSON->encode($data) : $data;
    return request(POST => $o{path} // '/api/v1/notifications/create',
        content      => $body,
        content_type => exists $o{content_type} ? $o{content_type}
                                                : 'application/json',
        headers      => $o{headers},
        vhost        => $o{vhost});
}

# Percent-encodes the UTF-8 bytes of a string for a form body.
sub form_escape {
    my ($s) = @_;
    $s //= '';
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# Encodes [k1 => v1, k2 => v2, ...] as application/x-www-form-urlencoded.
sub form_encode {
    my ($pairs) = @_;
    my @p = @$pairs;
    my @out;
    while (@p) {
        my ($k, $v) = splice @p, 0, 2;
        push @out, form_escape($k) . '=' . form_escape($v);
    }
    return join '&', @out;
}

# POSTs a form. $data: an arrayref of pairs, a hashref (sorted by key), or
# a raw byte string. Options as for post_json; content type defaults to
# 'application/x-www-form-urlencoded'.
sub post_form {
    my ($data, %o) = @_;
    my $body = ref $data eq 'ARRAY' ? form_encode($data)
             : ref $data eq 'HASH'  ? form_encode([map { $_ => $data->{$_} }
                                                   sort keys %$data])
             : $data;
    return request(POST => $o{path} // '/api/v1/notifications/create',
        content      => $body,
        content_type => exists $o{content_type}
                        ? $o{content_type}
                        : 'application/x-www-form-urlencoded',
        headers      => $o{headers},
        vhost        => $o{vhost});
}

# build/schema/sqlite.sql, or build/schema/pgsql.sql in the PostgreSQL
# pass.
sub schema_path {
    return File::Spec->catfile(t_dir(), File::Spec->updir, 'build', 'schema',
                               is_pg() ? 'pgsql.sql' : 'sqlite.sql');
}

# A DBI handle on another database of the same kind as the test server's:
# $target is a SQLite file, or in the PostgreSQL pass a libpq parameter
# string ("host=... dbname=... user=...").
sub connect_database {
    my ($target) = @_;
    if (is_pg()) {
        (my $dsn = $target) =~ s/\s+/;/g;
        my $h = DBI->connect("dbi:Pg:$dsn", '', '', {
            RaiseError => 1, PrintError => 0, AutoCommit => 1,
            pg_enable_utf8 => 1,
        }) or croak "cannot connect to $target: $DBI::errstr";
        $h->do("SET TIME ZONE 'UTC'");
        return $h;
    }
    my $h = DBI->connect("dbi:SQLite:dbname=$target", '', '', {
        RaiseError => 1, PrintError => 0, AutoCommit => 1,
        sqlite_unicode => 1, sqlite_allow_multiple_statements => 1,
    }) or croak "cannot open $target: $DBI::errstr";
    $h->sqlite_busy_timeout(5000);
    return $h;
}

# Whether the database $target (as for connect_database) exists.
sub database_exists {
    my ($target) = @_;
    if (is_pg()) {
        my ($name) = $target =~ /\bdbname=(\w+)/ or croak "no dbname in '$target'";
        my ($n) = dbh()->selectrow_array(
            'SELECT COUNT(*) FROM pg_database WHERE datname = ?', undef, $name);
        return $n > 0;
    }
    return -e $target;
}

# Creates the database $target (as for connect_database; for SQLite its
# folder must exist) from the schema (schema_path) and returns a DBI
# handle on it. In the PostgreSQL pass the database is created on the
# test server's PostgreSQL, through dbh().
sub create_database {
    my ($target) = @_;
    if (is_pg()) {
        my ($name) = $target =~ /\bdbname=(\w+)/ or croak "no dbname in '$target'";
        dbh()->do(qq{CREATE DATABASE "$name"});
    }
    my $schema = schema_path();
    open my $fh, '<', $schema or croak "cannot read $schema: $!";
    my $sql = do { local $/; <$fh> };
    close $fh;
    my $h = connect_database($target);
    $h->do('SET client_min_messages = warning') if is_pg();
    $h->do($sql);
    return $h;
}

# Parses a raw HTTP/1.1 answer (head and body as read from the socket)
# into an HTTP::Response, undoing chunked transfer coding and skipping
# interim 1xx answers. In list context also returns the bytes left after
# the answer (a next answer on a keep-alive connection) and whether the
# answer was complete.
sub parse_raw_response {
    my ($raw) = @_;
    # Interim 1xx answers (100 Continue) come before the answer.
    $raw =~ s/\AHTTP\/1\.\d 1\d\d[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n//
        while $raw =~ /\AHTTP\/1\.\d 1\d\d .*?\r\n\r\n/s;
    my $at = index $raw, "\r\n\r\n";
    return wantarray ? (undef, $raw, 0) : undef if $at < 0;
    my $head = substr $raw, 0, $at + 4;
    my $rest = substr $raw, $at + 4;
    my $res = HTTP::Response->parse($head);
    my ($body, $complete) = ('', 1);
    if (lc($res->header('Transfer-Encoding') // '') eq 'chunked') {
        $complete = 0;
        while ($rest =~ /\A([0-9a-fA-F]+)[^\r\n]*\r\n/) {
            my $n = hex $1;
            my $hlen = length $&;
            if ($n == 0) {
                # last chunk, no trailers expected
                last unless length($rest) >= $hlen + 2;
                $rest = substr $rest, $hlen + 2;
                $complete = 1;
                last;
            }
            last unless length($rest) >= $hlen + $n + 2;
            $body .= substr $rest, $hlen, $n;
            $rest = substr $rest, $hlen + $n + 2;
        }
    }
    elsif (defined(my $cl = $res->header('Content-Length'))) {
        $complete = length($rest) >= $cl;
        $body = substr $rest, 0, $cl;
        $rest = length($rest) > $cl ? substr($rest, $cl) : '';
    }
    else {
        ($body, $rest) = ($rest, '');    # until the connection closes
    }
    $res->content($body);
    return wantarray ? ($res, $rest, $complete) : $res;
}

# Writes the bytes $req (a whole HTTP request, as is) on a new connection
# to the test server, half-closes it and reads the answer until the server
# closes. Returns an HTTP::Response (a 599 one when nothing came back).
# The server may answer and stop reading early (a 413): whatever of the
# request could be written is kept. Options: vhost.
sub raw_request {
    my ($req, %o) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $sock = Apache::TestRequest::vhost_socket($o{vhost})
        or croak "cannot connect to the test server: $!";
    binmode $sock;
    my $off = 0;
    while ($off < length $req) {
        my $w = syswrite $sock, $req, length($req) - $off, $off;
        last unless $w;
        $off += $w;
    }
    shutdown $sock, 1;
    my $raw = '';
    while (1) {
        my $n = sysread $sock, my $buf, 65536;
        last unless $n;
        $raw .= $buf;
    }
    close $sock;
    my $res = parse_raw_response($raw) // HTTP::Response->new(599, 'no answer', [], $raw);
    check_answer($1, $2, $res) if $req =~ /\A(\S+) (\S+) HTTP/;
    return $res;
}

# The host:port of the main server or of a vhost, for a Host header.
sub hostport {
    my ($vhost) = @_;
    {
        # Loading the configuration clobbers $_ (a caller's map alias).
        local $_;
        Apache::Test::config();
    }
    local $Apache::TestRequest::Module = $vhost if defined $vhost;
    return Apache::TestRequest::hostport();
}

# One keep-alive connection: every request sent through it reaches the
# same httpd process (the route cache is per process).
#
#     my $conn = NotifyTest::keepalive('notify_cache2');
#     my $res  = $conn->post_json($body, path => '/reg/cached-a');
#     $conn->reused   # true while every answer came on this connection
#
# Each request dies when the server closed the connection before
# answering; reused() is false once an answer said Connection: close.
sub keepalive {
    my ($vhost) = @_;
    return NotifyTest::KeepAlive->new($vhost);
}

package NotifyTest::KeepAlive;    ## no critic (Modules::ProhibitMultiplePackages)

use Carp qw(croak);

sub new {
    my ($class, $vhost) = @_;
    my $sock = Apache::TestRequest::vhost_socket($vhost)
        or croak "cannot connect to the test server: $!";
    binmode $sock;
    return bless { sock => $sock, vhost => $vhost, open => 1,
                   host => NotifyTest::hostport($vhost) }, $class;
}

sub reused { return $_[0]{open} }

# request($method, $path, content => ..., content_type => ...,
# headers => {...}) -> HTTP::Response.
sub request {
    my ($self, $method, $path, %o) = @_;
    croak 'the server closed this keep-alive connection' unless $self->{open};
    my $body = $o{content} // '';
    my $req = "$method $path HTTP/1.1\r\nHost: $self->{host}\r\n";
    $req .= "Content-Type: $o{content_type}\r\n" if defined $o{content_type};
    my $h = $o{headers} || {};
    $req .= "$_: $h->{$_}\r\n" for sort keys %$h;
    $req .= 'Content-Length: ' . length($body) . "\r\n\r\n" . $body;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $req) {
        my $w = syswrite $self->{sock}, $req, length($req) - $off, $off;
        croak "write on the keep-alive connection failed: $!" unless $w;
        $off += $w;
    }
    my $raw = '';
    while (1) {
        my ($res, $rest, $complete) = NotifyTest::parse_raw_response($raw);
        if ($res && $complete) {
            croak 'unexpected bytes after the answer' if length $rest;
            $self->{open} = 0
                if lc($res->header('Connection') // '') eq 'close';
            NotifyTest::check_answer($method, $path, $res);
            return $res;
        }
        my $n = sysread $self->{sock}, my $buf, 65536;
        unless ($n) {
            $self->{open} = 0;
            croak 'the server closed the keep-alive connection'
                . ($res ? ' in the middle of an answer' : ' without answering');
        }
        $raw .= $buf;
    }
}

sub post_json {
    my ($self, $body, %o) = @_;
    return $self->request(POST => $o{path} // '/api/v1/notifications/create',
        content => $body, content_type => $o{content_type} // 'application/json',
        headers => $o{headers});
}

sub close {    ## no critic (Subroutines::ProhibitBuiltinHomonyms)
    my ($self) = @_;
    CORE::close($self->{sock}) if $self->{sock};
    $self->{open} = 0;
    delete $self->{sock};
    return;
}

package NotifyTest;

# The decoded JSON body of a response; dies showing the raw body if it is
# not JSON.
sub json_body {
    my ($res) = @_;
    my $raw = $res->content;
    my $data = eval { $JSON->decode($raw) };
    croak 'response (' . $res->code . ") is not JSON: $@\nbody: $raw"
        if $@;
    return $data;
}

# One row of $table by id, as a hashref (undef when absent).
sub row {
    my ($table, $id) = @_;
    croak "bad table name '$table'" unless $table =~ /\A\w+\z/;
    return dbh()->selectrow_hashref("SELECT * FROM $table WHERE id = ?",
                                    undef, $id);
}

# Rows of $table, optionally restricted by a WHERE clause with binds.
sub count {
    my ($table, $where, @bind) = @_;
    croak "bad table name '$table'" unless $table =~ /\A\w+\z/;
    my $sql = "SELECT COUNT(*) FROM $table";
    $sql .= " WHERE $where" if defined $where && length $where;
    my ($n) = dbh()->selectrow_array($sql, undef, @bind);
    return $n;
}

# The id of the last row of $table (0 when empty): handy as a high-water
# mark before a request.
sub max_id {
    my ($table) = @_;
    croak "bad table name '$table'" unless $table =~ /\A\w+\z/;
    my ($n) = dbh()->selectrow_array("SELECT COALESCE(MAX(id), 0) FROM $table");
    return $n;
}

# A TCP port on 127.0.0.1 the kernel says is free now.
sub free_port {
    require IO::Socket::INET;
    return IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                 LocalPort => 0)->sockport;
}

# ---- more httpd instances, for tests of several hosts and of faults ----

my @HOSTS;

# Starts one more httpd (event MPM) in t/var/$name with the module, on the
# test server's database (the SQLite file, or the PostgreSQL pass's
# server), and $o{conf} appended to its configuration; waits until it
# accepts connections. $o{db} replaces the DBDriver/DBDParams lines.
# Returns {name, dir, port, url, conf}; stopped by stop_host, or when the
# test ends.
sub start_host {
    my ($name, %o) = @_;
    my $t    = t_dir();
    my $dir  = File::Spec->catdir($t, 'var', $name);
    my $mods = '/usr/lib/apache2/modules';
    my $port = $o{port} // free_port();
    File::Path::remove_tree($dir);
    File::Path::make_path($dir);
    my $db = $o{db} // (is_pg()
        ? qq{DBDriver pgsql\nDBDParams "$ENV{NOTIFY_TEST_PG}"}
        : 'DBDriver sqlite3' . "\nDBDParams " . db_path());
    my $conf = File::Spec->catfile($dir, 'httpd.conf');
    open my $fh, '>', $conf or croak "$conf: $!";
    print {$fh} <<"CONF", $o{conf} // '', "\n";
ServerRoot $dir
ServerName localhost
Listen 127.0.0.1:$port
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
LogLevel info
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dbd_module $mods/mod_dbd.so
LoadModule notify_module $t/../mod_notify/.libs/mod_notify.so
$db
CONF
    close $fh;
    my $h = { name => $name, dir => $dir, port => $port, conf => $conf,
              url => "http://127.0.0.1:$port" };
    system(httpd_binary(), '-f', $conf, '-k', 'start') == 0
        or croak "host $name did not start (see $dir/error_log)";
    push @HOSTS, $h;
    require IO::Socket::INET;
    my $deadline = Time::HiRes::time() + 10;
    until (IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")) {
        croak "host $name does not accept connections" if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.1);
    }
    return $h;
}

# The httpd binary under test (a wrapper in the sanitizer pass).
sub httpd_binary {
    return eval { Apache::Test::vars('httpd') } || $ENV{HTTPD} || '/usr/sbin/apache2';
}

# The pid of a host's parent process (undef when it is not running).
sub host_pid {
    my ($h) = @_;
    open my $fh, '<', "$h->{dir}/httpd.pid" or return undef;
    chomp(my $pid = <$fh> // '');
    close $fh;
    return $pid =~ /\A\d+\z/ && kill(0, $pid) ? $pid : undef;
}

# The pids of a host's children.
sub host_children {
    my ($h) = @_;
    my $parent = host_pid($h) or return ();
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // '';
        close $fh;
        # pid (comm) state ppid ...
        push @kids, $1 if $line =~ /\A(\d+) \(.*\) \S+ (\d+) / && $2 == $parent;
    }
    return @kids;
}

# Stops a host (apachectl -k stop) and waits until its parent is gone.
sub stop_host {
    my ($h) = @_;
    my $pid = host_pid($h) or return;
    system(httpd_binary(), '-f', $h->{conf}, '-k', 'stop');
    my $deadline = Time::HiRes::time() + 15;
    Time::HiRes::sleep(0.1) while kill(0, $pid) && Time::HiRes::time() < $deadline;
    return;
}

END {
    if ($$ == $LOG_PID) {
        local $?;
        stop_host($_) for @HOSTS;
    }
}

# Current size of t/logs/error_log, to pass to error_log_since.
sub error_log_mark {
    return -s error_log_path() // 0;
}

# Text appended to t/logs/error_log since $mark. httpd may write a line
# just after the response went out; with wait_for => qr/.../ it polls for
# up to `timeout` seconds (default 3) until the text matches.
sub error_log_since {
    my ($mark, %o) = @_;
    my $deadline = Time::HiRes::time() + ($o{timeout} // 3);
    while (1) {
        my $text = '';
        if (open my $fh, '<:raw', error_log_path()) {
            seek $fh, $mark // 0, 0;
            local $/;
            $text = <$fh> // '';
            close $fh;
        }
        return $text if !$o{wait_for} || $text =~ $o{wait_for}
                        || Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.05);
    }
}


# Sends from $n forked clients at once: client $i calls $send->($i), which
# returns an HTTP::Response, and repeats it while the answer is 409,
# sleeping Retry-After seconds between tries as a caller should. Returns
# the final answers as [code, body] pairs (for Idempotency-Key races).
sub concurrent_until_done {
    my ($n, $send) = @_;
    my $dir = File::Spec->catdir(t_dir(), 'var', "race-$$-" . random_hex(4));
    mkdir $dir or croak "$dir: $!";
    my @pids;
    for my $i (1 .. $n) {
        my $pid = fork;
        croak "fork: $!" unless defined $pid;
        if (!$pid) {
            my ($res, $tries) = (undef, 0);
            do {
                sleep($res->header('Retry-After') || 1) if $res;
                $res = $send->($i);
            } while ($res->code == 409 && ++$tries < 30);
            open my $fh, '>', "$dir/$i" or POSIX::_exit(1);
            print {$fh} $res->code, "\n", $res->content;
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my @answers;
    for my $i (1 .. $n) {
        open my $fh, '<', "$dir/$i" or next;
        chomp(my $code = <$fh> // '');
        my $body = do { local $/; <$fh> } // '';
        close $fh;
        push @answers, [ $code, $body ];
    }
    File::Path::remove_tree($dir);
    return @answers;
}

1;
