# The outbox (SPEC section 11) against the mock Mandrill, in the vhost
# notify_outbox of t/conf/extra.conf.in: three attempts at most, a second
# apart; the worker (httpd's watchdog) wakes every second. Each case
# polls the database up to a deadline and asserts states and counts,
# never timings.
#  - sync, Mandrill 503 then accepting: mandrill-email-failed at once
#    (proof pending), then the worker sends it once more: sent, processed
#    1, two attempts recorded, two requests to Mandrill;
#  - queued: 200 at once with proof state queued, then sent by the worker;
#  - a permanent failure (every recipient rejected): failed at once, a
#    delivery-failed system-error, no second attempt;
#  - a Mandrill that always answers 503: failed after exactly 3 attempts;
#  - the outbox row refused (a trigger): the notification is not stored
#    either (on PostgreSQL both are one statement, on SQLite one
#    transaction), application-crash, nothing sent.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Spec ();
use JSON ();
use NotifyTest;
use Time::HiRes ();

plan tests => 5;

# The failed attempts these cases provoke (t/lib/NotifyTest.pm fails on
# any other line at warn or above).
NotifyTest::log_allow(
    qr/\[notify:error\] .*notification \d+ stored but not sent \((pending|failed)\): Mandrill (answered HTTP 503|rejected every recipient)/,
    qr/\[notify:(warn|error)\] .*notification \d+: attempt \d failed \((pending|failed)\): Mandrill answered HTTP 503/,
    qr/\[notify:error\] .*storing the notification: notify_(insert_with_outbox|outbox_insert): (ERROR:\s+)?outbox refused/);

my $J     = JSON->new->utf8->canonical;
my $VHOST = 'notify_outbox';
my $LOG   = File::Spec->catfile(NotifyTest::t_dir(), 'var', 'mock-mandrill.log');
my ($token) = NotifyTest::new_app(name => 'outbox-t');

sub create {
    my ($route, $tag) = @_;
    my $res = NotifyTest::post_json({ token => $token, key => $tag,
            notification_type => 'email', email_from => 'ops@example.com',
            email_subject => "outbox $tag", email_to => 'jane@example.com',
            view => 'default-with-proof' },
        path => "/ob/$route/notifications/create", vhost => $VHOST);
    return ($res, eval { NotifyTest::json_body($res) } || {});
}

# The requests Mandrill got about notification $id.
sub sends_of {
    my ($id) = @_;
    open my $fh, '<:raw', $LOG or return 0;
    my $n = 0;
    while (my $line = <$fh>) {
        my $e = eval { $J->decode($line) } or next;
        my $req = eval { $J->decode($e->{body}) } or next;
        $n++ if ($req->{message}{metadata}{notification_id} // '') eq $id;
    }
    close $fh;
    return $n;
}

sub outbox_of {
    my ($id) = @_;
    return NotifyTest::dbh()->selectrow_hashref(
        'SELECT * FROM notification_outbox WHERE notification_id = ?', undef, $id)
        || {};
}

# Polls until the outbox row of $id is in $state (at most 30 s).
sub wait_state {
    my ($id, $state) = @_;
    my $deadline = Time::HiRes::time() + 30;
    while (Time::HiRes::time() < $deadline) {
        return 1 if (outbox_of($id)->{state} // '') eq $state;
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

sub deliveries_of {
    my ($id) = @_;
    return NotifyTest::dbh()->selectall_arrayref(
        'SELECT attempt, status FROM notification_deliveries'
        . ' WHERE notification_id = ? ORDER BY id', undef, $id);
}

sub dev_keys_of {
    my ($id) = @_;
    return NotifyTest::dbh()->selectcol_arrayref(
        "SELECT \"key\" FROM notifications WHERE notification_type = 'system-error'"
        . " AND notifyable_type = 'Notification' AND notifyable_id = ? ORDER BY id",
        undef, $id);
}

subtest 'sync: 503, then the worker sends it once more' => sub {
    my ($res, $b) = create(flaky => 'ob-flaky-' . NotifyTest::random_hex(4));
    my $id = $b->{data}{notification}{id};
    is $res->code, 500, 'the first attempt failed: 500';
    is $b->{status}, 'mandrill-email-failed', 'mandrill-email-failed';
    is $b->{data}{proof}{state}, 'pending', 'proof: pending';
    is $b->{data}{proof}{attempts}, 1, 'proof: 1 attempt';
    like $b->{data}{proof}{next_attempt_at} // '', qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\z/,
        'proof: next_attempt_at';
    ok wait_state($id, 'sent'), 'the outbox row becomes sent'
        or diag explain outbox_of($id);
    is outbox_of($id)->{attempts}, 2, 'two attempts counted';
    is NotifyTest::row(notifications => $id)->{processed}, 1, 'processed 1';
    is_deeply deliveries_of($id), [[1, 'error'], [2, 'sent']],
        'two attempts recorded: an error, then sent';
    is sends_of($id), 2, 'Mandrill got two requests';
    is_deeply dev_keys_of($id), ['mandrill-email-failed'],
        'the dev team heard of the failed first attempt only';
};

subtest 'queued: answered at once, sent by the worker' => sub {
    my ($res, $b) = create(queued => 'ob-queued-' . NotifyTest::random_hex(4));
    my $id = $b->{data}{notification}{id};
    is $res->code, 200, 'HTTP 200';
    is $b->{status}, 'action-successful', 'action-successful';
    is $b->{data}{notification}{processed}, 0, 'not processed yet';
    is $b->{data}{proof}{state}, 'queued', 'proof: queued';
    is $b->{data}{proof}{attempts}, 0, 'proof: no attempt';
    is_deeply $b->{data}{proof}{recipients}, [], 'proof: no recipient yet';
    ok wait_state($id, 'sent'), 'the worker sent it' or diag explain outbox_of($id);
    is NotifyTest::row(notifications => $id)->{processed}, 1, 'processed 1';
    is sends_of($id), 1, 'Mandrill got one request';
    is_deeply deliveries_of($id), [[1, 'sent']], 'one attempt recorded';
};

subtest 'permanent failure: failed at once, no second attempt' => sub {
    my ($res, $b) = create(rejected => 'ob-rejected-' . NotifyTest::random_hex(4));
    my $id = $b->{data}{notification}{id};
    is $res->code, 500, 'HTTP 500';
    is $b->{data}{proof}{state}, 'failed', 'proof: failed';
    is outbox_of($id)->{state}, 'failed', 'outbox: failed';
    is_deeply dev_keys_of($id), ['mandrill-email-failed', 'delivery-failed'],
        'a delivery-failed system-error';
    # Three passes of the worker (one a second) would have retried it.
    Time::HiRes::sleep(3.5);
    is sends_of($id), 1, 'Mandrill got one request only';
    is outbox_of($id)->{attempts}, 1, 'one attempt counted';
};

subtest 'attempts exhausted: failed after exactly 3' => sub {
    my ($res, $b) = create(down => 'ob-down-' . NotifyTest::random_hex(4));
    my $id = $b->{data}{notification}{id};
    is $res->code, 200, 'queued: 200';
    ok wait_state($id, 'failed'), 'the outbox row ends failed'
        or diag explain outbox_of($id);
    my $ob = outbox_of($id);
    is $ob->{attempts}, 3, 'three attempts';
    like $ob->{last_error} // '', qr/503/, 'last_error: the latest reason';
    is sends_of($id), 3, 'Mandrill got three requests';
    is_deeply [map { $_->[0] } @{ deliveries_of($id) }], [1, 2, 3],
        'each attempt recorded with its number';
    is_deeply dev_keys_of($id), ['delivery-failed'], 'a delivery-failed system-error';
    is NotifyTest::row(notifications => $id)->{processed}, 0, 'processed 0';
};

subtest 'the outbox row refused: nothing stored' => sub {
    my $tag = 'ob-refused-' . NotifyTest::random_hex(4);
    my $dbh = NotifyTest::dbh();
    if (NotifyTest::is_pg()) {
        $dbh->do(<<'SQL');
CREATE FUNCTION notify_test_ob_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'outbox refused';
END $$ LANGUAGE plpgsql
SQL
        $dbh->do('CREATE TRIGGER notify_test_ob_refuse BEFORE INSERT ON '
               . 'notification_outbox FOR EACH ROW EXECUTE FUNCTION '
               . 'notify_test_ob_refuse()');
    }
    else {
        $dbh->do('CREATE TRIGGER notify_test_ob_refuse BEFORE INSERT ON '
               . "notification_outbox BEGIN SELECT RAISE(ABORT, 'outbox refused'); END");
    }
    my $mark = -s $LOG // 0;
    my ($res, $b) = create(queued => $tag);
    if (NotifyTest::is_pg()) {
        $dbh->do('DROP TRIGGER notify_test_ob_refuse ON notification_outbox');
        $dbh->do('DROP FUNCTION notify_test_ob_refuse()');
    }
    else {
        $dbh->do('DROP TRIGGER notify_test_ob_refuse');
    }
    is $res->code, 500, 'HTTP 500' or diag $res->content;
    is $b->{status}, 'application-crash', 'application-crash';
    is NotifyTest::count('notifications', '"key" = ?', $tag), 0,
        'the notification was not stored without its outbox row';
    my ($again, $b2) = create(queued => $tag);
    is $again->code, 200, 'the same create, the trigger gone: 200';
    my $id = $b2->{data}{notification}{id} // 0;
    is NotifyTest::count('notification_outbox', 'notification_id = ?', $id), 1,
        'stored with its outbox row';
};
