# SetHandler notify-status and server-status (SPEC section 14):
#  - JSON by default: answers by status, delivery attempts and latency by
#    provider, the outbox read from the database;
#  - counters summed over every child (shared memory): a run of refused
#    creates, each on a connection of its own (under prefork each child
#    serves a connection at a time), moves the figure by exactly that many;
#  - delivery attempts move as Mandrill accepts and Twilio rejects;
#  - ?format=prometheus: the text format 0.0.4, checked by a small parser
#    of this test (which also rejects a deliberately broken text);
#  - the outbox figures follow rows put in the database;
#  - server-status?auto carries Notify... lines agreeing with the JSON;
#  - anything but GET/HEAD: JSON route-non-existent.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use NotifyTest;

NotifyTest::log_allow(
    qr/\[notify:error\] .*notification \d+ stored but not sent \(failed\): Twilio/);

my ($token) = NotifyTest::new_app(name => 'status');

sub status_json {
    my $res = NotifyTest::request(GET => '/notify-status');
    is $res->code, 200, 'notify-status answers 200' or diag $res->content;
    like $res->header('Content-Type') // '', qr{\Aapplication/json}, 'as JSON';
    return NotifyTest::json_body($res);
}

sub delivery {
    my ($s, $provider) = @_;
    my ($d) = grep { $_->{provider} eq $provider } @{ $s->{deliveries} || [] };
    return $d || {};
}

# ---- the shape
my $s0 = status_json();
ok exists $s0->{requests}{'action-successful'}, 'requests by status';
is scalar(keys %{ $s0->{requests} }), 21, 'every status of the set';
is_deeply [sort map { "$_->{channel}/$_->{provider}" } @{ $s0->{deliveries} }],
    ['email/mandrill', 'sms/twilio'], 'deliveries by channel and provider';
ok exists delivery($s0, 'mandrill')->{latency}{buckets}{'+Inf'}, 'a latency histogram';
is ref $s0->{outbox}, 'HASH', 'the outbox was read from the database';

# ---- summed over children
my $n = 24;
for my $i (1 .. $n) {
    # A fresh user agent each time: a connection of its own.
    Apache::TestRequest::user_agent(reset => 1, keep_alive => 0);
    my $res = NotifyTest::post_json({ token => $token, key => "status-$i",
                                      notification_type => 'email',
                                      email_to => 'not an address' });
    is $res->code, 400, "refused create $i" unless $res->code == 400;
}
my $s1 = status_json();
is $s1->{requests}{'invalid-param'} - $s0->{requests}{'invalid-param'}, $n,
    "$n refused creates counted once each, whichever child served them";

# ---- delivery attempts
my $res = NotifyTest::post_json({ token => $token, key => 'status-mail',
        notification_type => 'email', email_from => 'ops@example.com',
        email_to => 'jane@example.com', email_subject => 'status',
        email_body => 'hello' }, path => '/mail/sent/notifications/create');
is $res->code, 200, 'an email Mandrill accepts' or diag $res->content;
$res = NotifyTest::post_json({ token => $token, key => 'status-sms',
        notification_type => 'sms', phone_to => '+15557654321',
        phone_from => '+15550009999', email_body => 'hi' },
    path => '/sms/invalid/notifications/create');
is $res->code, 500, 'an SMS Twilio rejects' or diag $res->content;
my $s2 = status_json();
my ($m1, $m2) = (delivery($s1, 'mandrill'), delivery($s2, 'mandrill'));
my ($t1, $t2) = (delivery($s1, 'twilio'), delivery($s2, 'twilio'));
cmp_ok $m2->{accepted} - $m1->{accepted}, '>=', 1, 'Mandrill: an accepted attempt';
cmp_ok $m2->{latency}{count} - $m1->{latency}{count}, '>=', 1, 'Mandrill: its latency';
cmp_ok $t2->{rejected} - $t1->{rejected}, '>=', 1, 'Twilio: a rejected attempt';
is $s2->{requests}{'sms-failed'} - $s1->{requests}{'sms-failed'}, 1, 'sms-failed counted';
is $t2->{latency}{buckets}{'+Inf'}, $t2->{latency}{count}, '+Inf bucket = count';

# ---- Prometheus
# Problems of a Prometheus text (format 0.0.4) as this module writes it: a
# TYPE before each family's samples, names prefixed notify_, counters
# ending in _total, numeric values, cumulative buckets ending at +Inf
# with the count.
sub prometheus_problems {
    my ($text) = @_;
    my (@bad, %type, %buckets, %count);
    for my $line (split /\n/, $text) {
        if ($line =~ /\A# HELP (\S+) \S/) { next }
        if ($line =~ /\A# TYPE (notify_\w+) (counter|gauge|histogram)\z/) {
            $type{$1} = $2;
            next;
        }
        my ($name, $labels, $value) =
            $line =~ /\A(notify_\w+)(?:\{((?:\w+="[^"]*",?)*)\})? (\S+)\z/
            or do { push @bad, "not a sample: $line"; next };
        push @bad, "not a number: $line" unless $value =~ /\A\d+(?:\.\d+)?\z/;
        (my $family = $name) =~ s/_(bucket|sum|count)\z// if $name =~ /_(bucket|sum|count)\z/;
        $family //= $name;
        $family = $name unless $type{$family};
        my $t = $type{$family} or do { push @bad, "no TYPE before: $line"; next };
        push @bad, "counter without _total: $name" if $t eq 'counter' && $name !~ /_total\z/;
        if ($t eq 'histogram') {
            (my $series = $labels // '') =~ s/,?le="[^"]*"//;
            if ($name =~ /_bucket\z/) {
                my ($le) = ($labels // '') =~ /le="([^"]+)"/;
                push @bad, "bucket without le: $line" unless defined $le;
                my $prev = $buckets{$series}[-1];
                push @bad, "buckets not cumulative: $line"
                    if $prev && $value < $prev->[1];
                push @{ $buckets{$series} }, [$le, $value];
            }
            $count{$series} = $value if $name =~ /_count\z/;
        }
    }
    for my $series (keys %buckets) {
        my $last = $buckets{$series}[-1];
        push @bad, "last bucket of {$series} is not +Inf" unless $last->[0] eq '+Inf';
        push @bad, "+Inf bucket of {$series} is not its count"
            unless defined $count{$series} && $count{$series} == $last->[1];
    }
    return @bad;
}

$res = NotifyTest::request(GET => '/notify-status?format=prometheus');
is $res->code, 200, 'Prometheus: 200';
like $res->header('Content-Type') // '', qr{\Atext/plain; version=0\.0\.4}, 'text/plain; version=0.0.4';
my $prom = $res->content;
is_deeply [prometheus_problems($prom)], [], 'a valid Prometheus text';
my ($inv) = $prom =~ /^notify_requests_total\{status="invalid-param"\} (\d+)$/m;
cmp_ok $inv // 0, '>=', $s1->{requests}{'invalid-param'}, 'the same counters as the JSON';
(my $broken = $prom) =~ s/(notify_requests_total\{status="invalid-param"\}) \d+/$1 many/;
$broken =~ s/le="\+Inf"/le="99"/g;
my @caught = prometheus_problems($broken);
ok scalar(grep { /not a number/ } @caught), 'the checker rejects a value that is no number';
ok scalar(grep { /not \+Inf/ } @caught), 'and buckets that do not end at +Inf';

# ---- the outbox figures follow the database
my $dbh = NotifyTest::dbh();
my ($app) = $dbh->selectrow_array('SELECT id FROM api_applications WHERE name = ?', undef, 'status');
my @ids;
for my $row (['pending', 7200], ['failed', 60]) {
    my ($state, $ago) = @$row;
    my $t = NotifyTest::utc_time($ago);
    $dbh->do(q{INSERT INTO notifications ("key", processed, notification_type,
               created_at, updated_at, created_by_application_id)
               VALUES (?, 0, 'email', ?, ?, ?)}, undef, "status-ob-$state", $t, $t, $app);
    my ($id) = $dbh->selectrow_array(q{SELECT MAX(id) FROM notifications WHERE "key" = ?},
                                     undef, "status-ob-$state");
    push @ids, $id;
    # Due in a day: the worker leaves it alone.
    $dbh->do(q{INSERT INTO notification_outbox (notification_id, channel, state,
               attempts, next_attempt_at, created_at, updated_at)
               VALUES (?, 'email', ?, 0, ?, ?, ?)}, undef,
             $id, $state, NotifyTest::utc_time(-86400), $t, $t);
}
my $s3 = status_json();
cmp_ok $s3->{outbox}{pending} - $s2->{outbox}{pending}, '>=', 1, 'outbox: the pending row';
cmp_ok $s3->{outbox}{failed} - $s2->{outbox}{failed}, '>=', 1, 'outbox: the failed row';
cmp_ok $s3->{outbox}{oldest_pending_age_seconds} // 0, '>=', 7200 - 60,
    'outbox: the oldest pending row is two hours old';
$dbh->do('DELETE FROM notification_outbox WHERE notification_id = ?', undef, $_) for @ids;
$dbh->do('DELETE FROM notifications WHERE id = ?', undef, $_) for @ids;

# ---- server-status
$res = NotifyTest::request(GET => '/server-status?auto');
is $res->code, 200, 'server-status?auto answers';
my %auto = $res->content =~ /^(Notify\w[\w-]*): (\d+)$/mg;
ok exists $auto{NotifyRequestsTotal}, 'server-status has NotifyRequestsTotal'
    or diag $res->content;
my $s4 = status_json();
cmp_ok $auto{'NotifyRequests_invalid-param'} // -1, '==', $s4->{requests}{'invalid-param'},
    'server-status agrees with notify-status';
cmp_ok $auto{NotifyDeliveryRejected} // 0, '>=', 1, 'NotifyDeliveryRejected';

# ---- other methods
$res = NotifyTest::request(POST => '/notify-status', content => '{}',
                           content_type => 'application/json');
is NotifyTest::json_body($res)->{status}, 'route-non-existent', 'POST: route-non-existent';
like $res->header('Allow') // '', qr/GET/, 'with Allow';

done_testing();
