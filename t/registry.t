# The route registry: the module finds its api_routes record by name
# (NotifyRouteName) joined to api_services; a missing or undeployed route
# is route-not-found (404), a missing or undeployed service
# service-not-found (503). Lookups are cached per process for
# NotifyRouteCacheSeconds (keyed by route name); NotifyRouteRegistry Off
# reads neither table. Routes marked sensitive_params take a base64 body.
# A database that is missing when httpd starts gives identify-request-error
# until it appears; a database broken after identification gives
# application-crash; the module recovers by itself from both.
#
# Vhosts of t/conf/extra.conf.in used here:
#   notify_nocache  NotifyRouteCacheSeconds 0 (and NotifySessionTouchInterval
#                   0); /reg/* Locations, each naming its own route
#   notify_cache2   NotifyRouteCacheSeconds 2; /reg/cached-a, /reg/cached-b
#   notify_latedb   DBDParams t/var/late/notify.db, a folder that does not
#                   exist when httpd starts (PostgreSQL pass: the database
#                   NOTIFY_TEST_PG_LATE names, dropped before the start);
#                   the schema is broken and repaired there, never in the
#                   main database
# Every route row is inserted before the first request to its Location.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Path ();
use File::Spec ();
use MIME::Base64 qw(encode_base64);
use Time::HiRes ();
use NotifyTest;
use NotifyCheck qw(:all);

plan tests => 74;

my $NOCACHE = 'notify_nocache';
my $CACHE2  = 'notify_cache2';
my $LATE    = 'notify_latedb';
my $CREATE  = '/api/v1/notifications/create';

my $dbh = NotifyTest::dbh();
my ($token, $app_id) = NotifyTest::new_app(name => 'registry-t');
my ($notifications_service) = $dbh->selectrow_array(
    q{SELECT id FROM api_services WHERE name = 'notifications'});

sub add_service {
    my ($name, $deployed) = @_;
    $dbh->do('INSERT INTO api_services (name, deployed) VALUES (?, ?)',
             undef, $name, $deployed);
    return $dbh->last_insert_id(undef, undef, 'api_services', 'id');
}

sub add_route {
    my ($name, %o) = @_;
    $dbh->do('INSERT INTO api_routes (name, method, path, api_service_id, deployed,'
             . ' sensitive_params) VALUES (?, ?, ?, ?, ?, ?)', undef,
             $name, 'POST', $o{path} // "/$name",
             exists $o{service} ? $o{service} : $notifications_service,
             $o{deployed} // 1, $o{sensitive} // 0);
    return $dbh->last_insert_id(undef, undef, 'api_routes', 'id');
}

# Runs $code with foreign keys not enforced, to set up a route whose
# service record is missing: SQLite does not enforce them unless asked;
# in the PostgreSQL pass they are switched off for this session only.
sub without_fk {
    my ($code) = @_;
    $dbh->do('SET session_replication_role = replica') if NotifyTest::is_pg();
    my $ok = eval { $code->(); 1 };
    my $err = $@;
    $dbh->do('SET session_replication_role = DEFAULT') if NotifyTest::is_pg();
    die $err unless $ok;
    return;
}

sub body { return json_obj(token => $token, key => shift // 'registry') }

# A request to a Location of a vhost; %o as for NotifyTest::post_json.
sub to {
    my ($vhost, $path, %o) = @_;
    my $content = exists $o{body} ? delete $o{body} : body();
    return sub { NotifyTest::post_json($content, vhost => $vhost, path => $path, %o) };
}

# ---------------------------------------------------------------------------
# Route and service records, read on every request (no cache)

add_route('test.toggle', deployed => 0);
check_error('route not deployed', to($NOCACHE, '/reg/toggle'), 404, 'route-not-found');
$dbh->do(q{UPDATE api_routes SET deployed = 1 WHERE name = 'test.toggle'});
check_created('route deployed: the next request creates', to($NOCACHE, '/reg/toggle'),
              app_id => $app_id, expect => {key => 'registry'});
$dbh->do(q{UPDATE api_routes SET deployed = 0 WHERE name = 'test.toggle'});
check_error('route undeployed again', to($NOCACHE, '/reg/toggle'), 404, 'route-not-found');
$dbh->do(q{UPDATE api_routes SET deployed = 1 WHERE name = 'test.toggle'});
check_created('and deployed again', to($NOCACHE, '/reg/toggle'), app_id => $app_id);
$dbh->do(q{DELETE FROM api_routes WHERE name = 'test.toggle'});
check_error('route record deleted', to($NOCACHE, '/reg/toggle'), 404, 'route-not-found');

# A route name with no record at all; the registry comes before the
# content type, the body and the token.
check_error('route record never existed', to($NOCACHE, '/reg/absent'), 404, 'route-not-found');
check_error('no record: a refused content type is still route-not-found',
            to($NOCACHE, '/reg/absent', content_type => 'text/plain'), 404, 'route-not-found');
check_error('no record: an undecodable body without a token is still route-not-found',
            to($NOCACHE, '/reg/absent', body => '{"key":'), 404, 'route-not-found');
check_error('no record: an unknown token is still route-not-found',
            to($NOCACHE, '/reg/absent', body => json_obj(token => 'nope')), 404, 'route-not-found');
{
    # The method is checked before the registry.
    my $res = check_error('GET on a Location whose route has no record',
        sub { NotifyTest::request(GET => '/reg/absent', vhost => $NOCACHE) },
        500, 'route-non-existent');
    is($res->header('Allow'), 'POST', 'GET: Allow: POST');
}

# The service
{
    my $svc = add_service('test-svc-off', 0);
    add_route('test.svc_off', service => $svc);
    check_error('service not deployed', to($NOCACHE, '/reg/svc-off'), 503, 'service-not-found');
    check_error('service not deployed: before the content type',
                to($NOCACHE, '/reg/svc-off', content_type => 'text/plain'),
                503, 'service-not-found');
    $dbh->do('UPDATE api_services SET deployed = 1 WHERE id = ?', undef, $svc);
    check_created('service deployed: the next request creates', to($NOCACHE, '/reg/svc-off'),
                  app_id => $app_id);
    $dbh->do('UPDATE api_services SET deployed = 0 WHERE id = ?', undef, $svc);
    $dbh->do(q{UPDATE api_routes SET deployed = 0 WHERE name = 'test.svc_off'});
    check_error('route and service both undeployed: the route is named first',
                to($NOCACHE, '/reg/svc-off'), 404, 'route-not-found');
    $dbh->do(q{UPDATE api_routes SET deployed = 1 WHERE name = 'test.svc_off'});
    without_fk(sub { $dbh->do('DELETE FROM api_services WHERE id = ?', undef, $svc) });
    check_error('service record deleted', to($NOCACHE, '/reg/svc-off'), 503, 'service-not-found');
}
without_fk(sub { add_route('test.svc_missing', service => 987654) });
check_error('api_service_id names no service', to($NOCACHE, '/reg/svc-missing'),
            503, 'service-not-found');
add_route('test.svc_null', service => undef);
check_error('api_service_id is NULL', to($NOCACHE, '/reg/svc-null'), 503, 'service-not-found');

# NotifyRouteRegistry Off: neither table is read (the name has no record).
check_created('NotifyRouteRegistry Off: a route name without a record creates',
              to($NOCACHE, '/reg/off'), app_id => $app_id);

# ---------------------------------------------------------------------------
# The cache: NotifyRouteCacheSeconds 2, per process, keyed by route name.
# One keep-alive connection keeps requests in one httpd process; it lives
# as long as the answers are 200 (httpd may close it after an error).
{
    add_route('test.cached_a');
    add_route('test.cached_b');
    my $conn = NotifyTest::keepalive($CACHE2);
    my $send_a = sub { $conn->post_json(body(), path => '/reg/cached-a') };

    check_created('cache: route A answers and is cached', $send_a, app_id => $app_id);
    $dbh->do(q{UPDATE api_routes SET deployed = 0 WHERE name IN ('test.cached_a', 'test.cached_b')});
    check_created('cache: A undeployed, the next request (same process) still uses the cached record',
                  $send_a, app_id => $app_id);
    check_error('cache: B (never looked up) is read from the table',
                to($CACHE2, '/reg/cached-b'), 404, 'route-not-found');

    # Same process, until the cached record is older than 2 s.
    my ($seen, $tries, $err, @codes) = (0, 0, '');
    my $deadline = Time::HiRes::time() + 6;
    while (Time::HiRes::time() < $deadline) {
        my $res = eval { $send_a->() };
        unless ($res) { $err = $@; last }
        $tries++;
        push @codes, $res->code;
        if ($res->code == 404
            && (eval { NotifyTest::json_body($res)->{status} } // '') eq 'route-not-found') {
            $seen = 1;
            last;
        }
        Time::HiRes::sleep(0.2);
    }
    ok($seen, 'cache: route-not-found appears once the cached record is older than 2 s')
        or diag("answers in $tries tries: @codes $err");
    ok(!$err, 'cache: every poll went over the same keep-alive connection')
        or diag($err);
    $conn->close;

    $dbh->do(q{UPDATE api_routes SET deployed = 1 WHERE name = 'test.cached_a'});
    ($seen, $tries) = (0, 0);
    $deadline = Time::HiRes::time() + 6;
    while (Time::HiRes::time() < $deadline) {
        my $res = to($CACHE2, '/reg/cached-a', body => body('cache-back'))->();
        $tries++;
        if ($res->code == 200) { $seen = 1; last }
        Time::HiRes::sleep(0.2);
    }
    ok($seen, 'cache: deployed again, the route answers 200 within the poll window')
        or diag("no 200 in $tries tries");
}

# ---------------------------------------------------------------------------
# sensitive_params: the body is base64 (standard alphabet, padding
# optional, whitespace ignored), counted by NotifyMaxBodySize as received.
add_route('test.sensitive', sensitive => 1);
{
    my $b64 = sub { my $s = encode_base64(shift, ''); return $s };

    # A JSON body whose base64 needs "==" padding.
    my $key = 'sensitive';
    $key .= 'x' while length(body($key)) % 3 != 1;
    my $json = body($key);
    my $enc = $b64->($json);
    like($enc, qr/==\z/, 'the padded form ends in ==');
    check_created('sensitive: base64 of a JSON body, padded',
                  to($NOCACHE, '/reg/sensitive', body => $enc),
                  app_id => $app_id, expect => {key => $key});
    (my $unpadded = $enc) =~ s/=+\z//;
    check_created('sensitive: base64 without padding',
                  to($NOCACHE, '/reg/sensitive', body => $unpadded),
                  app_id => $app_id, expect => {key => $key});
    my $lines = encode_base64(body('sensitive-' . ('l' x 100)), "\r\n");
    like($lines, qr/\A[A-Za-z0-9+\/]{76}\r\n/, 'the folded form has 76-character lines');
    check_created('sensitive: base64 with CRLF every 76 characters',
                  to($NOCACHE, '/reg/sensitive', body => $lines),
                  app_id => $app_id, expect => {key => 'sensitive-' . ('l' x 100)});
    (my $spaced = $enc) =~ s/(.{10})/$1 \t\n/g;
    check_created('sensitive: base64 with spaces, tabs and LF',
                  to($NOCACHE, '/reg/sensitive', body => $spaced),
                  app_id => $app_id, expect => {key => $key});
    my $form = "token=$token&key=sensitive-form&status=new";
    check_created('sensitive: base64 of a form body',
                  to($NOCACHE, '/reg/sensitive', body => $b64->($form),
                     content_type => 'application/x-www-form-urlencoded'),
                  app_id => $app_id, expect => {key => 'sensitive-form', status => 'new'});

    check_error('sensitive: raw JSON is not base64',
                to($NOCACHE, '/reg/sensitive', body => $json), 400, 'invalid-encoded-params');
    check_error('sensitive: raw form is not base64',
                to($NOCACHE, '/reg/sensitive', body => $form,
                   content_type => 'application/x-www-form-urlencoded'),
                400, 'invalid-encoded-params');
    (my $star = $enc) =~ s/\A(.{8})/$1*/;
    check_error("sensitive: a '*' inside the base64", to($NOCACHE, '/reg/sensitive', body => $star),
                400, 'invalid-encoded-params');
    # The URL-safe alphabet ('-', '_') is not the standard one.
    my $k = 'u';
    $k .= '?' until $b64->(body($k)) =~ m{[+/]};
    (my $urlsafe = $b64->(body($k))) =~ tr{+/}{-_};
    check_error('sensitive: URL-safe base64 alphabet', to($NOCACHE, '/reg/sensitive', body => $urlsafe),
                400, 'invalid-encoded-params');
    check_error('sensitive: base64 of malformed JSON',
                to($NOCACHE, '/reg/sensitive', body => $b64->('{"token":')),
                400, 'invalid-encoded-params');
    check_error('sensitive: base64 of {}', to($NOCACHE, '/reg/sensitive', body => $b64->('{}')),
                400, 'no-params-decoded');
    check_error('sensitive: base64 of a body without a token',
                to($NOCACHE, '/reg/sensitive', body => $b64->(json_obj(key => 'k'))),
                400, 'missing-param', 'token');
    check_error('sensitive: a refused content type comes before decoding',
                to($NOCACHE, '/reg/sensitive', body => $enc, content_type => 'text/plain'),
                400, 'invalid-content-type');

    # The flag is read with the route (no cache here).
    $dbh->do(q{UPDATE api_routes SET sensitive_params = 0 WHERE name = 'test.sensitive'});
    check_created('sensitive_params switched off: raw JSON creates',
                  to($NOCACHE, '/reg/sensitive', body => $json), app_id => $app_id);
    check_error('sensitive_params switched off: base64 is not JSON',
                to($NOCACHE, '/reg/sensitive', body => $enc), 400, 'invalid-encoded-params');
    $dbh->do(q{UPDATE api_routes SET sensitive_params = 1 WHERE name = 'test.sensitive'});

    # NotifyRouteRegistry Off: no route is sensitive.
    check_created('registry Off on a sensitive route name: raw JSON creates',
                  to($NOCACHE, '/reg/sensitive-off', body => $json), app_id => $app_id);
    check_error('registry Off on a sensitive route name: base64 is not decoded',
                to($NOCACHE, '/reg/sensitive-off', body => $enc), 400, 'invalid-encoded-params');

    # NotifyMaxBodySize 200 on /reg/sensitive-small: the base64 text counts.
    my $k150 = 's';
    $k150 .= 's' while length(body($k150)) < 150;
    die 'cannot build a 150-byte body' unless length(body($k150)) == 150;
    my $enc200 = $b64->(body($k150));
    is(length $enc200, 200, 'a 150-byte JSON body is 200 bytes of base64');
    check_created('size: 200 bytes of base64 on a 200-byte limit',
                  to($NOCACHE, '/reg/sensitive-small', body => $enc200),
                  app_id => $app_id, expect => {key => $k150});
    my $enc204 = $b64->(body($k150 . 's'));
    check_error('size: 204 bytes of base64 (151 decoded) on a 200-byte limit',
                to($NOCACHE, '/reg/sensitive-small', body => $enc204), 413, 'request-too-large');
    my $folded = encode_base64(body($k150), "\r\n");
    check_error('size: the 200 base64 characters plus their line breaks',
                to($NOCACHE, '/reg/sensitive-small', body => $folded), 413, 'request-too-large');
}

# ---------------------------------------------------------------------------
# A database that is not there when httpd starts (vhost notify_latedb):
# the SQLite file t/var/late/notify.db, whose folder t/TEST removes before
# starting httpd, or in the PostgreSQL pass the database named by
# NOTIFY_TEST_PG_LATE, which t/TEST drops.
my $late_dir = File::Spec->catdir(NotifyTest::t_dir(), 'var', 'late');
my $late_db  = NotifyTest::is_pg()
    ? ($ENV{NOTIFY_TEST_PG_LATE}
       || die "NOTIFY_TEST_PG_LATE is not set (build/scripts/test-suite.sh sets it)\n")
    : File::Spec->catfile($late_dir, 'notify.db');
ok(!NotifyTest::database_exists($late_db) && (NotifyTest::is_pg() || !-e $late_dir),
   "the late database does not exist yet ($late_db)");
check_error('database missing: identify-request-error',
            to($LATE, '/late/create'), 500, 'identify-request-error');
check_error('database missing: again (no crash, no stale state)',
            to($LATE, '/late/create'), 500, 'identify-request-error');

my ($late_token, $late_app, $ldbh);
{
    File::Path::make_path($late_dir) unless NotifyTest::is_pg();
    $ldbh = NotifyTest::create_database($late_db);
    $late_token = NotifyTest::random_hex(32);
    $ldbh->do('INSERT INTO api_applications (name, token_sha256, active, created_at)'
              . ' VALUES (?, ?, 1, ?)', undef,
              'late-app', NotifyTest::token_sha256($late_token), NotifyTest::utc_time());
    $late_app = $ldbh->last_insert_id(undef, undef, 'api_applications', 'id');
    my ($service) = $ldbh->selectrow_array(
        q{SELECT id FROM api_services WHERE name = 'notifications'});
    for my $name (qw(late.create late.fresh)) {
        $ldbh->do(q{INSERT INTO api_routes (name, method, path, api_service_id, deployed,
                    sensitive_params) VALUES (?, 'POST', '/late', ?, 1, 0)},
                  undef, $name, $service);
    }
    # The seeded notifications.create record is not deployed in this
    # database (the cross-server check below).
    $ldbh->do(q{UPDATE api_routes SET deployed = 0 WHERE name = 'notifications.create'});
}

# A request to the late vhost; checks like check_error / check_created,
# counting rows in the late database.
sub late_post {
    my ($path, $token_, $key) = @_;
    return NotifyTest::post_json(json_obj(token => $token_, key => $key // 'late'),
                                 vhost => $LATE, path => $path);
}
sub late_count { my ($n) = $ldbh->selectrow_array('SELECT COUNT(*) FROM notifications'); $n }
sub late_check {
    my ($name, $send, $code, $status) = @_;
    my $res;
    subtest($name => sub {
        my $before = late_count();
        $res = $send->();
        my $body = eval { NotifyTest::json_body($res) } || {};
        is($res->code, $code, "HTTP $code")
            or diag('answer: ' . $res->code . ' ' . substr($res->content, 0, 300));
        is($res->header('Content-Type'), JSON_CT, 'content type');
        is($body->{status}, $status, "status $status");
        is(late_count(), $before + ($code == 200 ? 1 : 0),
           $code == 200 ? 'one row stored in the late database'
                        : 'nothing stored in the late database');
    });
    return $res;
}

{
    my ($res, @codes);
    for (1 .. 20) {
        $res = late_post('/late/create', $late_token);
        push @codes, $res->code;
        last if $res->code == 200;
        Time::HiRes::sleep(0.25);
    }
    is($res->code, 200, 'database created: the server recovers by itself') or diag("answers: @codes");
    my $id = eval { NotifyTest::json_body($res)->{data}{notification}{id} };
    my $row = $id ? $ldbh->selectrow_hashref('SELECT * FROM notifications WHERE id = ?',
                                             undef, $id) : undef;
    ok($row && $row->{key} eq 'late' && $row->{created_by_application_id} == $late_app,
       "the notification is stored in the vhost's own database");
    late_check('and the next request too', sub { late_post('/late/create', $late_token) },
               200, 'action-successful');
    late_check("the main server's application token is unknown to the new database",
               sub { late_post('/late/create', $token) }, 401, 'invalid-token');

    # The route cache is per process and keyed by route name; a server
    # with a database of its own must not be answered from a record
    # cached from another database. notifications.create is deployed in
    # the main database and not deployed in this one: /late/shared/create
    # must always be route-not-found, even right after the main server
    # cached its record in the same process (3 processes, 30 tries).
    my %seen;
    for (1 .. 30) {
        NotifyTest::post_json(body('warm-cache'));
        my $r = late_post('/late/shared/create', $late_token, 'shared');
        my $st = eval { NotifyTest::json_body($r)->{status} } // $r->code;
        $seen{$st}++;
    }
    my ($stored) = $ldbh->selectrow_array(q{SELECT COUNT(*) FROM notifications WHERE "key" = 'shared'});
    is_deeply(\%seen, {'route-not-found' => 30},
              "a vhost's own undeployed route is never answered from another database's cached record")
        or do {
            diag('answers: ' . join(', ', map { "$_ x $seen{$_}" } sort keys %seen)
                 . "; rows stored in the late database: $stored");
            # Then the main server may equally be answered from this
            # database's record (not deployed) for the next 5 s: let
            # those entries expire before the next test file runs.
            sleep 6;
        };
}

# ---------------------------------------------------------------------------
# The database broken after the route was identified, then repaired. The
# statements mod_dbd prepared on its connections go stale with any schema
# change; the module must prepare them again. Done on the late database,
# so the main database's connections (which the other test files use)
# never see a schema change.
#
# Which answer a broken table gives depends on whether the route was
# identified first. /late/noreg/create (NotifyRouteRegistry Off) is
# identified without the database, so a broken api_applications,
# sessions or notifications table is application-crash there whatever
# the process's connections; /late/fresh/create's route was never looked
# up (not cached), so a broken api_routes is identify-request-error.
sub rename_table {
    my ($from, $to) = @_;
    $ldbh->do(qq{ALTER TABLE "$from" RENAME TO "$to"});
}

# Sessions in the late database.
sub late_session {
    my (%o) = @_;
    my $stoken = NotifyTest::random_hex(32);
    $ldbh->do('INSERT INTO users (email) VALUES (?)', undef, 'late@example.com');
    my $uid = $ldbh->last_insert_id(undef, undef, 'users', 'id');
    $ldbh->do('INSERT INTO clients (user_id) VALUES (?)', undef, $uid);
    $ldbh->do('INSERT INTO sessions (user_id, token_sha256, created_at, last_used_at, remember_me)'
              . ' VALUES (?, ?, ?, ?, 0)', undef, $uid, NotifyTest::token_sha256($stoken),
              NotifyTest::utc_time($o{idle} // 0), NotifyTest::utc_time($o{idle} // 0));
    return ($stoken, $ldbh->last_insert_id(undef, undef, 'sessions', 'id'));
}
sub late_last_used {
    my ($sid) = @_;
    my ($t) = $ldbh->selectrow_array('SELECT last_used_at FROM sessions WHERE id = ?', undef, $sid);
    return NotifyTest::stored_time($t);
}

# One keep-alive connection: its requests reach one process, whose
# database connection was opened before the schema changes below. Only
# 200 answers go through it (httpd closes the connection after a 500).
my $lconn = NotifyTest::keepalive($LATE);
sub via_conn {
    my ($path, $tok, $key) = @_;
    return sub { $lconn->post_json(json_obj(token => $tok, key => $key // 'late'), path => $path) };
}
late_check('keep-alive connection: creates', via_conn('/late/create', $late_token),
           200, 'action-successful');

# An unrelated schema change: every statement of that connection works on,
# the session's last_used_at write included (idle 120 s is over the 60 s
# touch interval).
{
    $ldbh->do('CREATE TABLE unrelated_table (id INTEGER PRIMARY KEY)');
    late_check('after a schema change: an application token creates',
               via_conn('/late/create', $late_token), 200, 'action-successful');
    my ($stoken, $sid) = late_session(idle => 120);
    my $was = late_last_used($sid);
    my $t0 = NotifyTest::utc_time();
    late_check('after a schema change: a session token creates',
               via_conn('/late/create', $stoken), 200, 'action-successful');
    my $now = late_last_used($sid);
    ok($now ne $was && $now ge $t0,
       "after a schema change: the session's last_used_at is still written")
        or diag("last_used_at was $was, is $now after a use at $t0 or later");
}

rename_table(api_applications => 'api_applications_gone');
late_check('api_applications renamed: application-crash',
           sub { late_post('/late/noreg/create', $late_token) }, 500, 'application-crash');
late_check('api_applications renamed: again',
           sub { late_post('/late/noreg/create', $late_token) }, 500, 'application-crash');
rename_table(api_applications_gone => 'api_applications');
late_check('api_applications back: creates',
           sub { late_post('/late/noreg/create', $late_token) }, 200, 'action-successful');
late_check('api_applications back: creates on the kept connection',
           via_conn('/late/create', $late_token), 200, 'action-successful');

rename_table(api_routes => 'api_routes_gone');
late_check('api_routes renamed: identify-request-error',
           sub { late_post('/late/fresh/create', $late_token) }, 500, 'identify-request-error');
rename_table(api_routes_gone => 'api_routes');
late_check('api_routes back: creates',
           sub { late_post('/late/fresh/create', $late_token) }, 200, 'action-successful');

{
    my ($stoken) = late_session();
    rename_table(sessions => 'sessions_gone');
    late_check('sessions renamed: a session token gets application-crash',
               sub { late_post('/late/noreg/create', $stoken) }, 500, 'application-crash');
    late_check('sessions renamed: an application token still creates (looked up first)',
               via_conn('/late/create', $late_token), 200, 'action-successful');
    rename_table(sessions_gone => 'sessions');
    late_check('sessions back: the session token creates',
               sub { late_post('/late/noreg/create', $stoken) }, 200, 'action-successful');
}
{
    my $before = late_count();
    rename_table(notifications => 'notifications_gone');
    my $res = late_post('/late/noreg/create', $late_token);
    my $st = eval { NotifyTest::json_body($res)->{status} } // '';
    ok($res->code == 500 && $st eq 'application-crash',
       'notifications renamed: 500 application-crash')
        or diag('answer: ' . $res->code . ' ' . $res->content);
    my ($after) = $ldbh->selectrow_array('SELECT COUNT(*) FROM notifications_gone');
    is($after, $before, 'notifications renamed: nothing stored');
    rename_table(notifications_gone => 'notifications');
    late_check('notifications back: creates',
               sub { late_post('/late/noreg/create', $late_token) }, 200, 'action-successful');
    late_check('notifications back: creates on the kept connection',
               via_conn('/late/create', $late_token), 200, 'action-successful');
}
ok($lconn->reused, 'the kept connection served every request meant for it');
$lconn->close;
$ldbh->disconnect;
