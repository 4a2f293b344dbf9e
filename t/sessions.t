# Session tokens (table sessions): the roles that may create, expiry by
# age (NotifySessionMaxAge, 604800) and by idle time
# (NotifySessionIdleTimeout, 259200) unless remember_me, the
# client-required answer and its `session` object, the order of those
# checks, last_used_at writes (NotifySessionTouchInterval, 60; 0 in the
# vhost notify_nocache), and application tokens winning over sessions.
# Ages are set 60 seconds away from each limit, so a second ticking
# during a request changes nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use NotifyTest;
use NotifyCheck qw(:all);

plan tests => 44;

my $MAX_AGE = 604800;
my $IDLE    = 259200;
my $SHORT   = '/short-session/notifications/create';   # max age 3600, idle 600
my $NOCACHE = 'notify_nocache';                         # touch interval 0

sub post {
    my ($token, %o) = @_;
    my @extra = @{ delete $o{params} || [] };
    return NotifyTest::post_json(json_obj(token => $token, key => 'session', @extra), %o);
}

sub send_with { my ($token, %o) = @_; return sub { post($token, %o) } }

# A session's last_used_at as 'YYYY-MM-DDTHH:MM:SSZ' (on SQLite and
# PostgreSQL alike).
sub last_used {
    my ($sid) = @_;
    return NotifyTest::stored_time(NotifyTest::row(sessions => $sid)->{last_used_at});
}

# --- every role may create; the row names the session, not an application
for my $role (qw(client employee liaison)) {
    my ($token, $sid) = NotifyTest::new_session(role => $role);
    check_created("$role session creates", send_with($token),
                  session_id => $sid, expect => {key => 'session'});
}

# --- age: 60 s under NotifySessionMaxAge passes, 60 s over is expired
{
    my ($token, $sid) = NotifyTest::new_session(age => $MAX_AGE - 60);
    check_created('session 60 s younger than the max age', send_with($token),
                  session_id => $sid);
    ($token) = NotifyTest::new_session(age => $MAX_AGE + 60);
    check_error('session 60 s older than the max age', send_with($token),
                401, 'session-expired');
}

# --- idle time: 60 s under NotifySessionIdleTimeout passes, over is expired
{
    my ($token, $sid) = NotifyTest::new_session(age => $IDLE - 60, idle => $IDLE - 60);
    check_created('session idle 60 s less than the idle timeout', send_with($token),
                  session_id => $sid);
    ($token) = NotifyTest::new_session(age => $IDLE + 60, idle => $IDLE + 60);
    check_error('session idle 60 s more than the idle timeout', send_with($token),
                401, 'session-expired');
}

# --- remember_me lifts both limits
{
    my ($token, $sid) = NotifyTest::new_session(age => $MAX_AGE + 60, idle => $IDLE + 60,
                                                remember_me => 1);
    check_created('remember_me: over the max age and the idle timeout', send_with($token),
                  session_id => $sid);
    ($token, $sid) = NotifyTest::new_session(age => 10 * $MAX_AGE, remember_me => 1);
    check_created('remember_me: ten times the max age', send_with($token),
                  session_id => $sid);
    ($token, $sid) = NotifyTest::new_session(age => $IDLE + 60, idle => $IDLE + 60,
                                             remember_me => 1);
    check_created('remember_me: idle over the timeout', send_with($token),
                  session_id => $sid);
}

# --- the limits are per Location (server, dir context)
{
    my ($token, $sid) = NotifyTest::new_session(age => 3600 - 60);
    check_created('short Location: 60 s younger than its 3600 s max age',
                  send_with($token, path => $SHORT), session_id => $sid);
    ($token, $sid) = NotifyTest::new_session(age => 3600 + 60);
    check_error('short Location: 60 s older than its 3600 s max age',
                send_with($token, path => $SHORT), 401, 'session-expired');
    check_created('the same session on the default route (7 days) still creates',
                  send_with($token), session_id => $sid);
    ($token, $sid) = NotifyTest::new_session(age => 600 - 60, idle => 600 - 60);
    check_created('short Location: idle 60 s less than its 600 s timeout',
                  send_with($token, path => $SHORT), session_id => $sid);
    ($token) = NotifyTest::new_session(age => 600 + 60, idle => 600 + 60);
    check_error('short Location: idle 60 s more than its 600 s timeout',
                send_with($token, path => $SHORT), 401, 'session-expired');
}

# --- client-required: a user with no client, employee or liaison row
sub check_client_required {
    my ($name, %s) = @_;
    my ($token, $sid, $uid) = NotifyTest::new_session(role => 'none', %s);
    my $stored = NotifyTest::row(sessions => $sid);
    $stored->{$_} = NotifyTest::stored_time($stored->{$_}) for qw(created_at last_used_at);
    my $res = check_error($name, send_with($token), 401, 'client-required');
    subtest("$name: the session object" => sub {
        my $body = eval { NotifyTest::json_body($res) } || {};
        my $s = $body->{session};
        is(ref $s, 'HASH', 'body has a session object') or return;
        is_deeply([sort keys %$s],
                  [sort qw(token user_id created_at last_used_at remember_me)],
                  'session keys');
        is($s->{token}, $token, "token is the caller's own token");
        is($s->{user_id}, $uid, 'user_id');
        is($s->{created_at}, $stored->{created_at}, 'created_at as stored');
        is($s->{last_used_at}, $stored->{last_used_at},
           'last_used_at as stored before this request');
        is($s->{remember_me}, $s{remember_me} // 0, 'remember_me');
        like($s->{$_} // '', qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\z/, "$_ is RFC 3339 UTC")
            for qw(created_at last_used_at);
        my $types = json_types($res, 'session');
        is($types->{user_id}, 'int', 'user_id is a JSON integer');
        is($types->{remember_me}, 'int', 'remember_me is a JSON integer');
        is($types->{token}, 'string', 'token is a JSON string');
        is(last_used($sid), $stored->{last_used_at},
           'a refused session does not rewrite last_used_at');
    });
    return $res;
}

check_client_required('user without a role');
check_client_required('user without a role, remember_me, idle 120 s, 8 days old',
                      remember_me => 1, idle => 120, age => 8 * 86400);
check_client_required('user without a role, idle 300 s (over the touch interval)',
                      idle => 300, age => 3000);

# --- expiry is checked before the role
{
    my ($token) = NotifyTest::new_session(role => 'none', age => $MAX_AGE + 60);
    check_error('too old and without a role: session-expired', send_with($token),
                401, 'session-expired');
    ($token) = NotifyTest::new_session(role => 'none', age => $IDLE + 60, idle => $IDLE + 60);
    check_error('idle too long and without a role: session-expired', send_with($token),
                401, 'session-expired');
}

# --- token checks come before parameter validation
{
    my ($token) = NotifyTest::new_session(age => $MAX_AGE + 60);
    check_error('expired session before a bad parameter',
                send_with($token, params => [email_to => 'bob@', bogus => 1]),
                401, 'session-expired');
    ($token) = NotifyTest::new_session(role => 'none');
    check_error('client-required before a bad parameter',
                send_with($token, params => [processed => \'7']),
                401, 'client-required');
}

# --- last_used_at: written when older than the touch interval (60 s)
{
    my ($token, $sid) = NotifyTest::new_session(idle => 120);
    my $before = NotifyTest::utc_time();
    check_created('session idle 120 s creates', send_with($token), session_id => $sid);
    my $after = NotifyTest::utc_time();
    my $used = last_used($sid);
    ok($used ge $before && $used le $after,
       'idle 120 s (over the interval): last_used_at rewritten to now')
        or diag("last_used_at $used, request between $before and $after");
}
{
    my ($token, $sid) = NotifyTest::new_session(idle => 10);
    my $was = last_used($sid);
    check_created('session idle 10 s creates', send_with($token), session_id => $sid);
    is(last_used($sid), $was, 'idle 10 s (within the interval): last_used_at unchanged');
    check_created('and again', send_with($token), session_id => $sid);
    is(last_used($sid), $was, 'a second use within the interval: still unchanged');
}
{
    my ($token, $sid) = NotifyTest::new_session(idle => 120, age => $MAX_AGE + 60);
    my $was = last_used($sid);
    check_error('too old, idle 120 s', send_with($token), 401, 'session-expired');
    is(last_used($sid), $was, 'an expired session does not rewrite last_used_at');
    ($token, $sid) = NotifyTest::new_session(idle => $IDLE + 60, age => $IDLE + 60);
    $was = last_used($sid);
    check_error('idle too long', send_with($token), 401, 'session-expired');
    is(last_used($sid), $was, 'an idle-expired session does not rewrite last_used_at');
}

# --- NotifySessionTouchInterval 0 (vhost notify_nocache): every use writes
{
    my ($token, $sid) = NotifyTest::new_session(idle => 10);
    my $was = last_used($sid);
    my $before = NotifyTest::utc_time();
    check_created('touch interval 0: session idle 10 s creates',
                  send_with($token, vhost => $NOCACHE), session_id => $sid);
    my $after = NotifyTest::utc_time();
    my $used = last_used($sid);
    ok($used ne $was && $used ge $before && $used le $after,
       'touch interval 0: last_used_at rewritten on use')
        or diag("was $was, now $used, request between $before and $after");

    my $again = NotifyTest::utc_time(5);
    NotifyTest::dbh()->do('UPDATE sessions SET last_used_at = ? WHERE id = ?',
                          undef, $again, $sid);
    $before = NotifyTest::utc_time();
    check_created('touch interval 0: the next use',
                  send_with($token, vhost => $NOCACHE), session_id => $sid);
    $after = NotifyTest::utc_time();
    $used = last_used($sid);
    ok($used ne $again && $used ge $before && $used le $after,
       'touch interval 0: last_used_at rewritten again (5 s after the last write)')
        or diag("was $again, now $used");
}

# --- application tokens are looked up first
{
    my $shared = NotifyTest::random_hex(32);
    my ($t, $app_id) = NotifyTest::new_app(name => 'sessions-t', token => $shared);
    my (undef, $sid) = NotifyTest::new_session(token => $shared, role => 'none',
                                               age => $MAX_AGE + 60, idle => 120);
    my $was = last_used($sid);
    check_created('a token that is both an application and an (expired, roleless) session',
                  send_with($shared), app_id => $app_id);
    is(last_used($sid), $was, "the session's last_used_at is not touched");

    my $other = NotifyTest::random_hex(32);
    my (undef, $inactive_id) = NotifyTest::new_app(name => 'sessions-t-off',
                                                   token => $other, active => 0);
    my (undef, $sid2) = NotifyTest::new_session(token => $other);
    check_created('an inactive application does not hide a good session',
                  send_with($other), session_id => $sid2);
}
check_error('unknown token', send_with(NotifyTest::random_hex(32)), 401, 'invalid-token');
{
    my ($token, $sid) = NotifyTest::new_session();
    check_error("a session token's SHA-256 is not the token",
                send_with(NotifyTest::token_sha256($token)), 401, 'invalid-token');
}
