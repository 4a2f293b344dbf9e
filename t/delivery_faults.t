# Honest answers once Mandrill was called (SPEC section 9, "Once a
# provider was called ..."), against the mock of t/lib/MockMandrill.pm:
#  - a 200 whose entries carry no status, or are not objects, fails each
#    recipient: mandrill-email-failed with data.notification and
#    data.proof, processed 0; a repeat with the same Idempotency-Key
#    replays it; Mandrill got one request;
#  - Mandrill accepted but recording that failed (a trigger refuses the
#    delivery row): the answer never says that nothing was stored, and a
#    repeat replays it without a second email.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Spec ();
use JSON ();
use NotifyTest;

plan tests => 3;

# Lines these faults provoke (t/lib/NotifyTest.pm fails on any other).
NotifyTest::log_allow(
    qr/\[notify:error\] .*notification \d+ stored but not sent \(pending\): Mandrill accepted no recipient/,
    qr/\[notify:error\] .*notification \d+ was handed to mandrill; recording that: notify_delivery: (ERROR:\s+)?boom/);

my $J = JSON->new->utf8->canonical;
my $LOG = File::Spec->catfile(NotifyTest::t_dir(), 'var', 'mock-mandrill.log');
my ($token) = NotifyTest::new_app(name => 'delivery-faults-t');

# Requests the mock got since $mark whose body names $tag.
sub mock_requests {
    my ($mark, $tag) = @_;
    open my $fh, '<:raw', $LOG or return 0;
    seek $fh, $mark, 0;
    my $n = grep { /\Q$tag\E/ } <$fh>;
    close $fh;
    return $n;
}

sub email {
    my ($tag, %o) = @_;
    return $J->encode({ token => $token, key => $tag,
        notification_type => 'email', email_from => 'ops@example.com',
        email_subject => "faults $tag",
        email_to => 'jane@example.com, Bob <bob@example.com>',
        view => 'default-with-proof', %o });
}

sub post {
    my ($mode, $body, $key) = @_;
    return NotifyTest::post_json($body, path => "/mail/$mode/notifications/create",
        headers => { 'Idempotency-Key' => $key });
}

for my $mode (qw(nostatus nonobject)) {
    subtest "$mode: every recipient failed, replayed, sent once" => sub {
        my $tag  = "$mode-" . NotifyTest::random_hex(4);
        my $mark = -s $LOG // 0;
        my $res  = post($mode, email($tag), "k-$tag");
        my $b    = eval { NotifyTest::json_body($res) } || {};
        is $res->code, 500, 'HTTP 500' or diag $res->content;
        is $b->{status}, 'mandrill-email-failed', 'mandrill-email-failed';
        my $n = $b->{data}{notification} || {};
        ok $n->{id}, 'data.notification';
        is $n->{processed}, 0, 'processed 0';
        my $r = $b->{data}{proof}{recipients} || [];
        is_deeply [map { "$_->{email} $_->{status}" } @$r],
            ['jane@example.com error', 'bob@example.com error'],
            'data.proof: each recipient an error';
        ok !(grep { !defined $_->{error} } @$r), 'each says why';
        my $row = NotifyTest::row(notifications => $n->{id} // 0) || {};
        is $row->{processed}, 0, 'stored with processed 0';
        is NotifyTest::count('notification_deliveries',
            "notification_id = ? AND status = 'error'", $n->{id} // 0), 2,
            'two delivery rows, status error';
        my $again = post($mode, email($tag), "k-$tag");
        is $again->code . ' ' . ($again->header('Idempotent-Replayed') // ''),
            '500 true', 'a repeat is a replay';
        is $again->content, $res->content, 'the same body';
        is mock_requests($mark, $tag), 1, 'Mandrill got one request';
        is NotifyTest::count('notifications', '"key" = ?', $tag), 1, 'one notification';
    };
}

subtest 'recording the delivery fails after Mandrill accepted' => sub {
    my $tag  = 'unrecorded-' . NotifyTest::random_hex(4);
    my $who  = "record-fails-$tag\@example.com";
    my $dbh  = NotifyTest::dbh();
    if (NotifyTest::is_pg()) {
        $dbh->do(<<'SQL');
CREATE FUNCTION notify_test_boom() RETURNS trigger AS $$
BEGIN
    IF NEW.recipient LIKE 'record-fails-%' THEN
        RAISE EXCEPTION 'boom';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql
SQL
        $dbh->do('CREATE TRIGGER notify_test_boom BEFORE INSERT ON '
               . 'notification_deliveries FOR EACH ROW EXECUTE FUNCTION '
               . 'notify_test_boom()');
    }
    else {
        $dbh->do("CREATE TRIGGER notify_test_boom BEFORE INSERT ON "
               . "notification_deliveries WHEN NEW.recipient LIKE "
               . "'record-fails-%' BEGIN SELECT RAISE(ABORT, 'boom'); END");
    }
    my $mark = -s $LOG // 0;
    my $res  = post('sent', email($tag, email_to => $who), "k-$tag");
    my $again = post('sent', email($tag, email_to => $who), "k-$tag");
    if (NotifyTest::is_pg()) {
        $dbh->do('DROP TRIGGER notify_test_boom ON notification_deliveries');
        $dbh->do('DROP FUNCTION notify_test_boom()');
    }
    else {
        $dbh->do('DROP TRIGGER notify_test_boom');
    }
    my $b = eval { NotifyTest::json_body($res) } || {};
    is $res->code, 500, 'HTTP 500' or diag $res->content;
    is $b->{status}, 'application-crash', 'application-crash';
    unlike $b->{message} // '', qr/nothing was stored/i,
        'the answer does not say that nothing was stored';
    my $n = $b->{data}{notification} || {};
    ok $n->{id} && NotifyTest::row(notifications => $n->{id}),
        'it names the stored notification';
    is $again->code . ' ' . ($again->header('Idempotent-Replayed') // ''),
        '500 true', 'a repeat is a replay';
    is $again->content, $res->content, 'the same body';
    is mock_requests($mark, $tag), 1, 'Mandrill got one request: no second email';
    is NotifyTest::count('notifications', '"key" = ?', $tag), 1, 'one notification';
};
