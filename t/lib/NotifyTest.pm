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
# error_log_path (each documented where it is defined).
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
use File::Spec ();
use HTTP::Request ();
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

# Sends one request and returns the HTTP::Response.
# Options:
#   content       request body, bytes (a string with characters above 0xFF
#                 dies; encode it first)
#   content_type  Content-Type header; pass undef explicitly to send none
#   headers       hashref of extra headers
# Redirects are not followed.
sub request {
    my ($method, $path, %o) = @_;
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
    $UA ||= Apache::TestRequest->new;
    my $res = $UA->simple_request($req);
    # t/TEST -debug lwp (or APACHE_TEST_DEBUG_LWP=1) traces the exchange.
    Apache::TestRequest::lwp_trace($res)
        if do { no warnings 'once'; $Apache::TestRequest::DebugLWP };
    return $res;
}

# POSTs JSON. $data: a reference (encoded as UTF-8 JSON) or a raw byte
# string sent as is. Options: path (the create route), content_type
# ('application/json'; undef for none), headers.
sub post_json {
    my ($data, %o) = @_;
    my $body = ref $data ? $JSON->encode($data) : $data;
    return request(POST => $o{path} // '/api/v1/notifications/create',
        content      => $body,
        content_type => exists $o{content_type} ? $o{content_type}
                                                : 'application/json',
        headers      => $o{headers});
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
        headers      => $o{headers});
}

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

1;
