# Email delivery through Mandrill (SPEC sections 3, 5, 9 "Mandrill", 10)
# against the mock Mandrill of t/lib/MockMandrill.pm, which runs inside
# the test httpd (mod_perl) and records every request it gets in
# t/var/mock-mandrill.log. The /mail/<mode>/notifications/create
# Locations of t/conf/extra.conf.in send to /mock-mandrill/<mode>.
#
# Checked for every mode: the answer (status, HTTP code, data.proof), the
# exact request body Mandrill got, the stored notification, its
# notification_deliveries rows and the dev team's system-error
# notification; then the cases that send nothing, the hang bound,
# Idempotency-Key replays (no second email), a load of 320 creates at 16
# connections (curl handles reused, no stall), and that the key shows in
# no answer and nowhere in the error_log.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use File::Spec ();
use IO::Socket::INET ();
use JSON ();
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes ();
use NotifyTest;
use NotifyCheck qw(:all);

plan tests => 47;

# Each failed delivery is logged (t/lib/NotifyTest.pm fails on any other
# line at warn or above).
NotifyTest::log_allow(qr/\[notify:error\] .*notification \d+ stored but not sent \((pending|failed)\): (Mandrill|Mandrill's) /);

# NotifyMandrillKey of every /mail/ Location but /mail/nokey.
my $KEY = 'md-TEST-KEY-5f3a9c1e7b2d4680';

my $JSON = JSON->new->utf8->canonical->allow_nonref;
my $MOCK_LOG = File::Spec->catfile(NotifyTest::t_dir(), 'var',
                                   'mock-mandrill.log');
my $RFC3339 = qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\z/;

my ($token, $app_id) = NotifyTest::new_app(name => 'mandrill-t');

# This run's requests only (httpd appends with O_APPEND: truncating is safe).
if (open my $fh, '>', $MOCK_LOG) { close $fh }

# Every answer's head and body, searched for the key at the end.
my @ANSWERS;

sub mail_post {
    my ($mode, $data, %o) = @_;
    my $res = NotifyTest::post_json($data,
        path => "/mail/$mode/notifications/create", headers => $o{headers});
    push @ANSWERS, $res->as_string;
    return $res;
}

# ---- the mock's log ----

sub mock_mark { return -s $MOCK_LOG // 0 }

# The requests the mock recorded since $mark, decoded (oldest first).
sub mock_since {
    my ($mark) = @_;
    open my $fh, '<:raw', $MOCK_LOG or return ();
    seek $fh, $mark // 0, 0;
    my @lines;
    while (my $line = <$fh>) {
        chomp $line;
        push @lines, $JSON->decode($line) if length $line;
    }
    close $fh;
    return @lines;
}

# ---- what is sent ----

# The email notification used by most cases: names in every form,
# recipients in all three lists, non-ASCII subject and body.
sub email_params {
    return (
        token             => $token,
        key               => 'order-confirmed',
        notification_type => 'email',
        email_from        => 'Ops Team <ops@example.com>',
        email_subject     => "Your tour is booked \x{2013} see you soon",
        email_to          => 'Jane Doe <jane@example.com>, bob@example.com',
        email_cc          => "Jos\x{e9} <jose\@example.net>",
        email_bcc         => 'audit@example.org,"Ops Archive" <archive@example.org>',
        email_body        => "<p>Hello Jos\x{e9}</p>\r\n<p>Line two</p>\n",
        @_,
    );
}

# What Mandrill must get for email_params (overridden by %o).
sub expected_request {
    my (%o) = @_;
    return {
        key     => $KEY,
        message => {
            html       => "<p>Hello Jos\x{e9}</p>\r\n<p>Line two</p>\n",
            subject    => "Your tour is booked \x{2013} see you soon",
            from_email => 'ops@example.com',
            from_name  => 'Ops Team',
            to         => [
                {email => 'jane@example.com',    name => 'Jane Doe',    type => 'to'},
                {email => 'bob@example.com',     name => undef,         type => 'to'},
                {email => 'jose@example.net',    name => "Jos\x{e9}",   type => 'cc'},
                {email => 'audit@example.org',   name => undef,         type => 'bcc'},
                {email => 'archive@example.org', name => 'Ops Archive', type => 'bcc'},
            ],
            %o,
        },
    };
}

# Checks the one request the mock got since $mark: method, content type,
# exact body, whose message carries metadata naming notification $id and
# attempt 1 (SPEC 5). Returns the mock's log entry (or undef).
sub check_mock_request {
    my ($mark, $mode, $want, $id) = @_;
    $want = {%$want, message => {%{ $want->{message} },
        metadata => {notification_id => "$id", attempt => '1'}}};
    my @got = mock_since($mark);
    is(scalar @got, 1, "Mandrill got exactly one request") or return;
    my $m = $got[0];
    is($m->{mode}, $mode, "it went to /mock-mandrill/$mode");
    is($m->{method}, 'POST', 'POST');
    like($m->{content_type} // '', qr{\Aapplication/json\b}i,
         'Content-Type application/json');
    my $body = eval { $JSON->decode($m->{body}) };
    ok(ref $body eq 'HASH', 'the body is a JSON object')
        or diag("body: $m->{body}");
    is_deeply($body, $want, 'the exact messages/send.json body')
        or diag("got: $m->{body}");
    return $m;
}

# ---- what is stored ----

sub deliveries_of {
    my ($id) = @_;
    return NotifyTest::dbh()->selectall_arrayref(
        'SELECT * FROM notification_deliveries WHERE notification_id = ?'
        . ' ORDER BY id', {Slice => {}}, $id);
}

sub dev_notifications_of {
    my ($id) = @_;
    return NotifyTest::dbh()->selectall_arrayref(
        "SELECT * FROM notifications WHERE notification_type = 'system-error'"
        . " AND notifyable_type = 'Notification' AND notifyable_id = ?"
        . ' ORDER BY id', {Slice => {}}, $id);
}

# Compares proof recipients (and the notification_deliveries rows) with
# the expected list of {email, type, status, provider_id, reject_reason,
# error}; error may be a qr// (then every entry's error must match it).
sub check_recipients {
    my ($proof, $id, $want) = @_;
    ok(ref $proof eq 'HASH', 'data.proof is an object') or return;
    is($proof->{channel}, 'email', 'proof channel email');
    is($proof->{provider}, 'mandrill', 'proof provider mandrill');
    my $got = $proof->{recipients};
    ok(ref $got eq 'ARRAY', 'proof recipients is a list') or return;
    is(scalar @$got, scalar @$want, 'one proof entry per result')
        or diag($JSON->encode($got));
    my $rows = deliveries_of($id);
    is(scalar @$rows, scalar @$want, 'one notification_deliveries row each');
    for my $i (0 .. $#$want) {
        my ($w, $g, $row) = ($want->[$i], $got->[$i] || {}, $rows->[$i] || {});
        my $who = "recipient $i ($w->{email})";
        is_deeply([sort keys %$g],
                  [sort qw(email type status provider_id reject_reason error)],
                  "$who: proof entry keys");
        for my $k (qw(email type status provider_id reject_reason)) {
            is($g->{$k}, $w->{$k}, "$who: proof $k");
        }
        my %col = (email => 'recipient', type => 'recipient_type');
        for my $k (qw(email type status provider_id reject_reason)) {
            is($row->{$col{$k} // $k}, $w->{$k}, "$who: stored " . ($col{$k} // $k));
        }
        if (ref $w->{error} eq 'Regexp') {
            like($g->{error} // '', $w->{error}, "$who: proof error says why");
            is($row->{error}, $g->{error}, "$who: stored error as in the proof");
        }
        else {
            is($g->{error}, $w->{error}, "$who: proof error");
            is($row->{error}, $w->{error}, "$who: stored error");
        }
        is($row->{channel}, 'email', "$who: stored channel");
        is($row->{provider}, 'mandrill', "$who: stored provider");
        like(NotifyTest::stored_time($row->{created_at}) // '', $RFC3339,
             "$who: stored created_at");
    }
}

# The results the mock answered, as expected proof entries.
sub results_of {
    my ($mock, $req, %o) = @_;
    my $answer = eval { $JSON->decode($mock->{answer}) } || [];
    my @to = @{ $req->{message}{to} };
    return [map {
        {email => $answer->[$_]{email}, type => $to[$_]{type},
         status => $answer->[$_]{status}, provider_id => $answer->[$_]{_id},
         reject_reason => $answer->[$_]{reject_reason}, error => undef}
    } 0 .. $#$answer];
}

sub near_now {
    my ($t) = @_;
    return 0 unless defined $t && $t =~ /\A(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z\z/;
    my $epoch = POSIX::mktime($6, $5, $4, $3, $2 - 1, $1 - 1900);
    # mktime reads local time; undo the offset the same way for "now".
    my $now = POSIX::mktime(gmtime time);
    return abs($epoch - $now) <= 10;
}

# One test: an email Mandrill accepts. %o: mode, params (a list appended
# to email_params), view, want (expected request body), statuses
# (expected status per recipient, default all "sent"-like from the mock).
sub check_delivered {
    my ($name, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    subtest $name => sub {
        my $mark  = mock_mark();
        my $rows  = NotifyTest::count('notifications');
        my $devs  = NotifyTest::count('notifications',
                                      "notification_type = 'system-error'");
        my %p = email_params(@{ $o{params} || [] });
        $p{view} = $o{view} if $o{view};
        my $res  = mail_post($o{mode}, \%p);
        my $body = eval { NotifyTest::json_body($res) } || {};
        is($res->code, 200, 'HTTP 200') or diag($res->content);
        is($res->header('Content-Type'), JSON_CT, 'content type');
        is($body->{status}, 'action-successful', 'action-successful');
        my $n = $body->{data}{notification};
        ok(ref $n eq 'HASH', 'data.notification') or return;
        is($n->{processed}, 1, 'answer: processed 1');
        ok(near_now($n->{processed_at}), 'answer: processed_at is now')
            or diag('processed_at: ' . ($n->{processed_at} // 'null'));
        NotifyCheck::check_row($n, {app_id => $app_id}, 1);
        my $row = NotifyTest::row(notifications => $n->{id}) || {};
        is($row->{processed}, 1, 'stored processed 1');
        is(NotifyTest::stored_time($row->{processed_at}), $n->{processed_at},
           'stored processed_at');
        is(NotifyTest::count('notifications'), $rows + 1,
           'one notification stored, no dev notification');
        is(NotifyTest::count('notifications', "notification_type = 'system-error'"),
           $devs, 'no system-error notification');
        my $want = $o{want} || expected_request();
        my $mock = check_mock_request($mark, $o{mode}, $want, $n->{id})
            or return;
        my $results = results_of($mock, $want);
        is(scalar @$results, scalar @{ $want->{message}{to} },
           'the mock answered one result per recipient');
        is_deeply([map { $_->{status} } @$results], $o{statuses},
                  'statuses as the mode says') if $o{statuses};
        if (($o{view} // '') eq 'default-with-proof') {
            check_recipients($body->{data}{proof}, $n->{id}, $results);
        }
        else {
            ok(!exists $body->{data}{proof}, "no data.proof in this view");
            my $d = deliveries_of($n->{id});
            is_deeply([map { [@$_{qw(recipient recipient_type status provider_id
                                      reject_reason error)}] } @$d],
                      [map { [@$_{qw(email type status provider_id reject_reason
                                      error)}] } @$results],
                      'notification_deliveries: one row per result');
        }
    };
}

# One test: an email Mandrill did not take. %o: mode, view, params,
# transport (1: one "error" entry per address; 0: Mandrill's results),
# entry_error (with transport: the entries' error, where the dev team's
# reason says it in other words),
# reason (qr// the reason must match), max_seconds, no_request (nothing
# reached the mock), want, permanent (a retry would be refused the same
# way: the outbox gives up at once and the dev team also gets a
# delivery-failed notification, SPEC 11).
sub check_failed {
    my ($name, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    subtest $name => sub {
        my $mark = mock_mark();
        my $max  = NotifyTest::max_id('notifications');
        my $rows = NotifyTest::count('notifications');
        my %p = email_params(@{ $o{params} || [] });
        $p{view} = $o{view} if $o{view};
        my $t0   = Time::HiRes::time();
        my $res  = mail_post($o{mode}, \%p);
        my $took = Time::HiRes::time() - $t0;
        my $body = eval { NotifyTest::json_body($res) } || {};
        is($res->code, 500, 'HTTP 500') or diag($res->content);
        is($res->header('Content-Type'), JSON_CT, 'content type');
        is($body->{status}, 'mandrill-email-failed', 'mandrill-email-failed');
        ok(defined $body->{message} && length $body->{message}, 'a message');
        if (defined $o{max_seconds}) {
            cmp_ok($took, '<', $o{max_seconds},
                   "answered within $o{max_seconds} s")
                or diag(sprintf 'took %.2f s', $took);
        }
        my $n = $body->{data}{notification};
        ok(ref $n eq 'HASH', 'data.notification') or return;
        my @want_keys = ($o{view} // '') eq 'internal-applications-view'
                      ? internal_keys() : default_keys();
        is_deeply([sort keys %$n], \@want_keys, 'notification in the view asked');
        is($n->{processed}, 0, 'answer: processed 0');
        is($n->{processed_at}, undef, 'answer: processed_at null');
        NotifyCheck::check_row($n, {app_id => $app_id}, 1);
        my $row = NotifyTest::row(notifications => $n->{id}) || {};
        is($row->{processed}, 0, 'stored processed 0');
        my $dev_count = $o{permanent} ? 2 : 1;
        is(NotifyTest::count('notifications'), $rows + 1 + $dev_count,
           "the notification and $dev_count dev notification(s) stored");

        # the request Mandrill got
        my $want = $o{want} || expected_request();
        my $mock;
        if ($o{no_request}) {
            is_deeply([mock_since($mark)], [], 'nothing reached the mock');
        }
        else {
            $mock = check_mock_request($mark, $o{mode}, $want, $n->{id});
        }

        # data.proof (always there for this status) and the deliveries
        my $proof = $body->{data}{proof};
        ok(exists $body->{data}{proof}, 'data.proof present');
        my $expect;
        if ($o{transport}) {
            $expect = [map {
                {email => $_->{email}, type => $_->{type}, status => 'error',
                 provider_id => undef, reject_reason => undef,
                 error => $o{entry_error} || $o{reason} || qr/\S/}
            } @{ $want->{message}{to} }];
        }
        else {
            $expect = $mock ? results_of($mock, $want) : [];
        }
        check_recipients($proof, $n->{id}, $expect);
        my %errors = map { ($_->{error} // '') => 1 }
                     @{ ref $proof eq 'HASH' && $proof->{recipients} || [] };
        is(scalar keys %errors, 1, 'every entry gives the same reason')
            if $o{transport};

        # the dev team's notification
        my $devs = dev_notifications_of($n->{id});
        is(scalar @$devs, $dev_count, "$dev_count system-error notification(s) about it")
            or return;
        if ($o{permanent}) {
            is($devs->[1]{key}, 'delivery-failed', 'dev: delivery-failed too');
            like($devs->[1]{email_body} // '', qr/gave up after 1 attempt/,
                 'dev: the outbox gave up at once');
        }
        my $want_state = $o{permanent} ? 'failed' : 'pending';
        my ($ob) = NotifyTest::dbh()->selectrow_array(
            'SELECT state FROM notification_outbox WHERE notification_id = ?',
            undef, $n->{id});
        is($ob, $want_state, "outbox: $want_state");
        my $dev = $devs->[0];
        cmp_ok($dev->{id}, '>', $max, 'stored by this request');
        is($dev->{key}, 'mandrill-email-failed', 'dev: key');
        is($dev->{notification_type}, 'system-error', 'dev: notification_type');
        is($dev->{notifyable_type}, 'Notification', 'dev: notifyable_type');
        is($dev->{notifyable_id}, $n->{id}, 'dev: notifyable_id is the failed one');
        ok(defined $dev->{email_body} && $dev->{email_body} =~ /\S/,
           'dev: email_body holds the reason')
            or diag('email_body: ' . ($dev->{email_body} // 'null'));
        like($dev->{email_body} // '', $o{reason}, 'dev: the reason says why')
            if $o{reason};
        if ($o{transport} && !$o{entry_error}) {
            my ($e) = keys %errors;
            is($dev->{email_body}, $e, 'dev: email_body is the proof error');
        }
        is($dev->{processed}, 0, 'dev: processed 0');
        is(index($dev->{email_body} // '', $KEY), -1, 'dev: no key in the reason');
    };
}

# ---- 1-2. the test rig ----

# 1. The mock itself (mod_perl loaded, t/lib reachable, log written).
subtest 'mock Mandrill answers and records' => sub {
    my $mark = mock_mark();
    my $req  = $JSON->encode({key => 'x', message => {to => [
        {email => 'a@example.com', name => undef, type => 'to'},
        {email => 'b@example.com', name => undef, type => 'cc'}]}});
    my $res = NotifyTest::request(POST => '/mock-mandrill/mixed',
        content => $req, content_type => 'application/json');
    is($res->code, 200, 'HTTP 200 from /mock-mandrill/mixed')
        or diag('is mod_perl loaded (libapache2-mod-perl2)? answer: '
                . $res->code . ' ' . $res->content);
    my $list = eval { $JSON->decode($res->content) } || [];
    is_deeply([map { [$_->{email}, $_->{status}, $_->{reject_reason}] } @$list],
              [['a@example.com', 'sent', undef],
               ['b@example.com', 'rejected', 'hard-bounce']], 'its answer');
    like($_->{_id} // '', qr/\A[0-9a-f]{32}\z/, '_id') for @$list;
    my @log = mock_since($mark);
    is(scalar @log, 1, 'one line in t/var/mock-mandrill.log');
    is($log[0]{body}, $req, 'the raw body recorded') if @log;
    is($log[0]{answer}, $res->content, 'the answer recorded') if @log;
};

# 2. The "closed" Location relies on nothing listening on 127.0.0.1:9.
ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => 9,
                          Proto => 'tcp', Timeout => 2),
   'nothing listens on 127.0.0.1:9 (the closed-port case)');

# ---- 3-6. Mandrill accepts ----

# 3. All sent; the proof lists every recipient with its type.
check_delivered('sent: 200, processed, proof per recipient',
    mode => 'sent', view => 'default-with-proof',
    params => [processed_at => '2026-01-01T00:00:00Z'],
    statuses => [('sent') x 5]);

# 4. Queued, a bare from address (from_name null), no cc/bcc, processed 0
# given explicitly, default view (no data.proof).
check_delivered('queued: accepted; bare from address gives from_name null',
    mode => 'queued',
    params => [email_from => 'noreply@example.com', email_cc => undef,
               email_bcc => undef, processed => \0],
    want => expected_request(from_email => 'noreply@example.com',
        from_name => undef,
        to => [{email => 'jane@example.com', name => 'Jane Doe', type => 'to'},
               {email => 'bob@example.com', name => undef, type => 'to'}]),
    statuses => [('queued') x 2]);

# 5. Scheduled, internal-applications-view, processed "0" as a string.
check_delivered('scheduled: accepted',
    mode => 'scheduled', view => 'internal-applications-view',
    params => [processed => '0'],
    statuses => [('scheduled') x 5]);

# 6. Mixed: one recipient sent is enough; the rejected ones are in the proof.
check_delivered('mixed: one sent, the rest rejected, is accepted',
    mode => 'mixed', view => 'default-with-proof',
    statuses => ['sent', ('rejected') x 4]);

# ---- 7-15. Mandrill does not accept ----

# 7. Every recipient rejected.
check_failed('rejected: mandrill-email-failed with Mandrill\'s results',
    mode => 'rejected', transport => 0, permanent => 1);

# 8. Every recipient invalid, internal-applications-view.
check_failed('invalid: mandrill-email-failed in the view asked',
    mode => 'invalid', transport => 0, view => 'internal-applications-view',
    permanent => 1);

# 9. An empty result list accepts nobody: each address failed (SPEC 9).
check_failed('empty result list: mandrill-email-failed',
    mode => 'empty', transport => 1, entry_error => qr/no result/,
    reason => qr/accepted no recipient/);

# 10. HTTP 500 with Mandrill's error object.
check_failed('error500: Mandrill error object',
    mode => 'error500', transport => 1, view => 'default-with-proof',
    reason => qr/Invalid_Key/);

# 11. HTTP 503 from something in front of Mandrill.
check_failed('http503: HTTP error',
    mode => 'http503', transport => 1, reason => qr/503/);

# 12. 200 but not JSON.
check_failed('junk: the answer is not JSON',
    mode => 'junk', transport => 1);

# 13. Mandrill never answers: the bound is NotifyMandrillTimeout (1 s) + 1 s.
check_failed('hang: timeout, answered within timeout + 1 s',
    mode => 'hang', transport => 1, max_seconds => 2,
    reason => qr/tim(?:e|ed) ?out/i);

# 14. Connection refused.
check_failed('closed port: connection refused',
    mode => 'closed', transport => 1, no_request => 1,
    reason => qr/connect|refused/i);

# 15. A transport failure with a single recipient: one entry.
check_failed('error500 with one recipient',
    mode => 'error500', transport => 1, reason => qr/Invalid_Key/,
    params => [email_cc => undef, email_bcc => undef,
               email_to => 'Solo Person <solo@example.com>'],
    want => expected_request(to => [
        {email => 'solo@example.com', name => 'Solo Person', type => 'to'}]));

# ---- 16-27. nothing is sent ----

# 16-21. The email fields are required (section 2 table order), nothing
# stored, nothing sent.
{
    my $mark = mock_mark();
    my %base = (token => $token, key => 'needs-fields',
                notification_type => 'email');
    my @cases = (
        ['no email field'           => {}, 'email_from'],
        ['only email_from'          => {email_from => 'a@example.com'}, 'email_subject'],
        ['no email_to'              => {email_from => 'a@example.com',
                                        email_subject => 'S'}, 'email_to'],
        ['cc and bcc, no email_to'  => {email_from => 'a@example.com',
                                        email_subject => 'S',
                                        email_cc => 'c@example.com',
                                        email_bcc => 'b@example.com'}, 'email_to'],
        ['empty email_subject, processed 0' => {email_from => 'a@example.com',
                                        email_subject => '', processed => 0,
                                        email_to => 't@example.com'}, 'email_subject'],
        ['processed false, no email_from' => {email_subject => 'S',
                                        processed => JSON::false,
                                        email_to => 't@example.com'}, 'email_from'],
    );
    for my $c (@cases) {
        my ($name, $extra, $param) = @$c;
        check_error("missing-param: $name",
            sub { mail_post(sent => {%base, %$extra}) },
            400, 'missing-param', $param);
    }
    # 22.
    is_deeply([mock_since($mark)], [], 'missing-param: nothing sent to Mandrill');
}

# Sends with $send, expects 200 with processed as given, nothing sent,
# no delivery rows, data.proof null.
sub check_not_sent {
    my ($name, $send, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    subtest $name => sub {
        my $mark = mock_mark();
        my $rows = NotifyTest::count('notifications');
        my $res  = $send->();
        push @ANSWERS, $res->as_string;
        my $body = eval { NotifyTest::json_body($res) } || {};
        is($res->code, 200, 'HTTP 200') or diag($res->content);
        is($body->{status}, 'action-successful', 'action-successful');
        my $n = $body->{data}{notification};
        ok(ref $n eq 'HASH', 'data.notification') or return;
        is($n->{processed}, $o{processed}, "processed $o{processed}");
        is($n->{processed_at}, $o{processed_at}, 'processed_at as given');
        NotifyCheck::check_row($n, {app_id => $app_id}, 1);
        is(NotifyTest::count('notifications'), $rows + 1, 'one row stored');
        ok(exists $body->{data}{proof} && !defined $body->{data}{proof},
           'data.proof is null: nothing sent');
        is_deeply([mock_since($mark)], [], 'nothing reached the mock');
        is_deeply(deliveries_of($n->{id}), [], 'no notification_deliveries row');
        is_deeply(dev_notifications_of($n->{id}), [], 'no dev notification');
    };
}

# 23. processed 1: stored as given, not sent (even with the key set).
check_not_sent('processed 1: stored as given, not sent',
    sub { mail_post(sent => {email_params(processed => 1,
                processed_at => '2026-11-27T10:00:00Z',
                view => 'default-with-proof')}) },
    processed => 1, processed_at => '2026-11-27T10:00:00Z');

# 24. processed 1 needs no email fields.
check_not_sent('processed 1 without the email fields: stored, not sent',
    sub { mail_post(sent => {token => $token, key => 'already-sent',
                notification_type => 'email', processed => JSON::true,
                view => 'default-with-proof'}) },
    processed => 1, processed_at => undef);

# 25. Not an email notification.
check_not_sent('sms notification on a route with a key: not sent',
    sub { mail_post(sent => {email_params(notification_type => 'sms',
                phone_to => '+4915112345678', phone_from => '+4915100000000',
                email_body => 'on my way', view => 'default-with-proof')}) },
    processed => 0, processed_at => undef);

# 26. No NotifyMandrillKey (a URL alone is not enough).
check_not_sent('no NotifyMandrillKey (/mail/nokey): stored unsent',
    sub { mail_post(nokey => {email_params(view => 'default-with-proof')}) },
    processed => 0, processed_at => undef);

# 27. The plain create route has no key either.
check_not_sent('no NotifyMandrillKey (/api/v1): stored unsent',
    sub {
        my $res = NotifyTest::post_json({email_params(view => 'default-with-proof')});
        return $res;
    },
    processed => 0, processed_at => undef);

# ---- 28-30. form body and repeated sends ----

# 28. The same email as a form is sent the same way.
subtest 'form body: the same request reaches Mandrill' => sub {
    my $mark = mock_mark();
    my %p = email_params();
    # characters, so that the helper sends them as UTF-8 (not Latin-1)
    utf8::upgrade($_) for values %p;
    my $res = NotifyTest::post_form([map { $_ => $p{$_} } sort keys %p],
        path => '/mail/sent/notifications/create');
    push @ANSWERS, $res->as_string;
    is($res->code, 200, 'HTTP 200') or diag($res->content);
    my $id = eval { NotifyTest::json_body($res)->{data}{notification}{id} };
    check_mock_request($mark, 'sent', expected_request(), $id);
};

# 29. Each create is one Mandrill request, and a second one of the same
# content is sent again (no idempotency key): two rows, two sends.
subtest 'two identical creates: two notifications, two sends' => sub {
    my $mark = mock_mark();
    my @ids;
    for (1, 2) {
        my $res = mail_post(sent => {email_params()});
        is($res->code, 200, "create $_: HTTP 200");
        push @ids, (eval { NotifyTest::json_body($res)->{data}{notification}{id} } // 0);
    }
    isnt($ids[0], $ids[1], 'two notifications');
    is(scalar(my @l = mock_since($mark)), 2, 'two requests to Mandrill');
    is(scalar @{ deliveries_of($_) }, 5, "notification $_: 5 delivery rows")
        for @ids;
};

# 30. A failure in the middle leaves the next request unharmed (the
# handle that timed out is not reused in a bad state).
subtest 'after a timeout the next email is delivered' => sub {
    my $r1 = mail_post(hang => {email_params()});
    is($r1->code, 500, 'hang: 500');
    for my $i (1 .. 3) {
        my $r = mail_post(sent => {email_params()});
        is($r->code, 200, "then sent #$i: 200") or diag($r->content);
    }
};

# ---- 31-32. Idempotency-Key: a replay sends no second email ----

# Sends the same body twice with one Idempotency-Key on $mode: the second
# answer is the first one replayed, with no new row and no new email.
sub check_replay {
    my ($name, $mode, $code) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    subtest $name => sub {
        my $idem = 'mandrill-' . NotifyTest::random_hex(8);
        my %p = email_params(key => "replay-$mode");
        my $r1 = mail_post($mode => \%p, headers => {'Idempotency-Key' => $idem});
        is($r1->code, $code, "first: HTTP $code") or diag($r1->content);
        my $mark  = mock_mark();
        my $rows  = NotifyTest::count('notifications');
        my $dels  = NotifyTest::count('notification_deliveries');
        my $r2 = mail_post($mode => \%p, headers => {'Idempotency-Key' => $idem});
        is($r2->code, $code, "repeat: HTTP $code");
        is($r2->header('Idempotent-Replayed'), 'true', 'repeat: Idempotent-Replayed');
        is($r2->content, $r1->content, 'repeat: the first body');
        is_deeply([mock_since($mark)], [], 'repeat: no second email');
        is(NotifyTest::count('notifications'), $rows,
           'repeat: no new notification (nor dev notification)');
        is(NotifyTest::count('notification_deliveries'), $dels,
           'repeat: no new delivery row');
    };
}

# 31.
check_replay('Idempotency-Key replay of a sent email', sent => 200);
# 32.
check_replay('Idempotency-Key replay of mandrill-email-failed', rejected => 500);

# 32b. 32 concurrent creates with one Idempotency-Key: one row, one email
# at the mock, and one answer for all (clients honour Retry-After on 409).
subtest '32 concurrent creates, one Idempotency-Key: one email' => sub {
    my $idem = 'race-' . NotifyTest::random_hex(8);
    my $key  = "race-$idem";
    my $body = $JSON->encode({ email_params(key => $key) });
    my $mark = mock_mark();
    my (%codes, %bodies);
    my @answers = NotifyTest::concurrent_until_done(32, sub {
        NotifyTest::post_json($body, path => '/mail/sent/notifications/create',
                              headers => { 'Idempotency-Key' => $idem });
    });
    for (@answers) {
        $codes{ $_->[0] }++;
        $bodies{ $_->[1] }++;
    }
    is_deeply(\%codes, { 200 => 32 }, 'every request ends in 200');
    is(scalar(keys %bodies), 1, 'one identical answer');
    is(NotifyTest::count('notifications', '"key" = ?', $key), 1, 'one row');
    is(scalar(mock_since($mark)), 1, 'one email at the mock');
};

# ---- 33-41. load: 320 creates at 16 connections ----

# Each of 16 forked clients (LWP, keep-alive) sends 20 email creates to
# the "sent" route. Mandrill (the mock) must see one request per create
# and far fewer new TCP connections than requests: the module's curl
# handles, and their connections, are reused. A client stops sending
# after $DEADLINE s, so a stalled server fails these tests instead of
# hanging the suite.
my $CLIENTS  = 16;
my $PER      = 20;
my $REQUESTS = $CLIENTS * $PER;
my $DEADLINE = 60;     # seconds for the whole load
my $SLOWEST  = 8;      # seconds one create may take under this load (a
                       # stall on SQLite's 10 s busy timeout exceeds it)
my %load;
{
    my $url  = Apache::TestRequest::resolve_url('/mail/sent/notifications/create');
    my $mark = mock_mark();
    my $rows = NotifyTest::count('notifications');
    my $max  = NotifyTest::max_id('notifications');
    my $dels = NotifyTest::count('notification_deliveries');
    my $devs = NotifyTest::count('notifications', "notification_type = 'system-error'");
    my (@kids, @answers);
    my $t0  = Time::HiRes::time();
    my $end = $t0 + $DEADLINE;
    for my $c (1 .. $CLIENTS) {
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            close $rd;
            my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 30);
            for my $i (1 .. $PER) {
                if (Time::HiRes::time() > $end) {
                    print {$wr} "0 not-sent-deadline 0 0\n";
                    next;
                }
                my $t = Time::HiRes::time();
                my $res = $ua->post($url,
                    'Content-Type' => 'application/json',
                    Content => $JSON->encode({token => $token,
                        key => "load-$c-$i", notification_type => 'email',
                        email_from => 'Load <load@example.com>',
                        email_subject => "load $c/$i",
                        email_to => "load-$c-$i\@example.com",
                        email_body => '<p>load</p>'}));
                my $took = Time::HiRes::time() - $t;
                my $st = eval { $JSON->decode($res->content)->{status} } // '-';
                my $leak = index($res->as_string, $KEY) >= 0 ? 1 : 0;
                printf {$wr} "%d %s %d %.3f\n", $res->code, $st, $leak, $took;
            }
            close $wr;
            POSIX::_exit(0);    # no DBI or Test::Builder destructors in a child
        }
        close $wr;
        push @kids, [$pid, $rd];
    }
    for my $k (@kids) {
        my ($pid, $rd) = @$k;
        while (my $line = <$rd>) {
            chomp $line;
            push @answers, [split / /, $line];
        }
        close $rd;
        waitpid $pid, 0;
    }
    my $took = Time::HiRes::time() - $t0;
    # Requests a client gave up on may still run in httpd: let them end
    # before counting, and before the next test file uses the server.
    my $drained  = (grep { $_->[0] != 200 } @answers) ? drain_server(30) : 1;
    my $unlocked = write_lock_free(15);
    # A wedged server would fail every later test file too: restart it,
    # so that the failures stay in this file.
    restart_server() unless $drained && $unlocked;
    my @mock = mock_since($mark);
    my $firsts = grep { $_->{first} } @mock;
    my ($slowest) = sort { $b <=> $a } map { $_->[3] } @answers;
    %load = (answers => \@answers, mock => \@mock, firsts => $firsts,
             unlocked => $unlocked,
             slowest => $slowest // 0,
             rows => safe_count('notifications') - $rows,
             new_failed => safe_count('notifications',
                 'id > ? AND processed = 0', $max),
             dels => safe_count('notification_deliveries') - $dels,
             devs => safe_count('notifications',
                 "notification_type = 'system-error'") - $devs);
    diag(sprintf 'load: %d creates at %d connections in %.1f s (slowest %.2f s);'
         . ' Mandrill saw %d requests on %d new TCP connections',
         scalar @answers, $CLIENTS, $took, $load{slowest}, scalar @mock, $firsts);
}

# NotifyTest::count, undef (a failed test, not a dead file) when the
# database cannot be read.
sub safe_count {
    my @args = @_;
    my $n = eval { NotifyTest::count(@args) };
    diag("count(@args[0,1]): $@") unless defined $n;
    return $n;
}

# Whether a writer could take the database within $max s: nothing (a
# transaction httpd left open, a stalled one) keeps it locked. SQLite: the
# write lock itself; PostgreSQL: no open transaction wrote notifications.
sub write_lock_free {
    my ($max) = @_;
    my $until = Time::HiRes::time() + $max;
    while (1) {
        my $ok = eval {
            my $dbh = NotifyTest::dbh();
            if (NotifyTest::is_pg()) {
                $dbh->begin_work;
                $dbh->do("SET LOCAL lock_timeout = '${max}s'");
                $dbh->do('LOCK TABLE notifications IN SHARE MODE');
                $dbh->rollback;
            }
            else {
                $dbh->do('BEGIN IMMEDIATE');
                $dbh->do('ROLLBACK');
            }
            1;
        };
        return 1 if $ok;
        diag("database still locked: $@") if Time::HiRes::time() >= $until;
        eval { NotifyTest::dbh()->rollback } if NotifyTest::is_pg();
        return 0 if Time::HiRes::time() >= $until;
    }
}

# Waits (up to $max s) until httpd has no request in flight but the
# /server-status one asking.
sub drain_server {
    my ($max) = @_;
    my $until = Time::HiRes::time() + $max;
    while (Time::HiRes::time() < $until) {
        my $res = NotifyTest::request(GET => '/server-status?auto');
        if ($res->code != 200) {    # restarting, or mod_status absent
            return 1 if $res->code == 404;
            sleep 1;
            next;
        }
        my ($busy) = $res->content =~ /^BusyWorkers:\s*(\d+)/m;
        return 1 if !defined $busy || $busy <= 1;
        sleep 1;
    }
    diag("httpd still busy after $max s");
    return 0;
}

# Restarts httpd (SIGHUP: its children end at once) and waits until it
# answers with nothing in flight and the database is free.
sub restart_server {
    my $pidfile = File::Spec->catfile(NotifyTest::t_dir(), 'logs', 'httpd.pid');
    open my $fh, '<', $pidfile or return diag("no $pidfile: httpd not restarted");
    my ($pid) = <$fh> =~ /(\d+)/;
    close $fh;
    diag("restarting httpd (pid $pid) so that later test files find it working");
    kill 'HUP', $pid or return diag("cannot signal httpd: $!");
    sleep 2;
    drain_server(60);
    write_lock_free(30);
}

# 33. (Counting below needs the database; a lock httpd never gives back
# would also fail every later test file.)
ok($load{unlocked}, 'load: afterwards httpd does not keep the database locked');

# 34.
my @bad = grep { $_->[0] != 200 || $_->[1] ne 'action-successful' } @{ $load{answers} };
my $ok200 = @{ $load{answers} } - @bad;
is($ok200, $REQUESTS, "load: all $REQUESTS answers are 200 action-successful")
    or do {
        my %why;
        $why{"$_->[0] $_->[1]"}++ for @bad;
        diag(join "\n", map { "  $why{$_} x $_" } sort keys %why);
    };
# 35. No create waited on a lock for long: a stall (SQLite's busy timeout
# hit inside httpd, say) is a failure even when the answer is a 200.
cmp_ok($load{slowest}, '<', $SLOWEST,
       "load: every create answered within $SLOWEST s");
# 36.
is($load{rows}, $ok200, 'load: notifications grew by exactly the number of 200s');
# 37.
is($load{new_failed} + $load{devs}, 0,
   'load: every new notification processed, no system-error notification');
# 38.
is(scalar @{ $load{mock} }, $ok200, 'load: Mandrill got one request per 200');
# 39. curl handles (and their connections) are reused: far fewer TCP
# connections than requests.
cmp_ok($load{firsts}, '<', $REQUESTS / 2,
       'load: Mandrill saw fewer new TCP connections than half the requests');
# 40.
is($load{dels}, $ok200, 'load: one notification_deliveries row per 200');
# 41.
is(scalar(grep { $_->[2] } @{ $load{answers} }), 0, 'load: no answer holds the key');

# ---- 42-46. the key stays secret ----

# 42.
my @leaks = grep { index($_, $KEY) >= 0 } @ANSWERS;
is(scalar @leaks, 0, 'the Mandrill key appears in no answer (' . scalar(@ANSWERS)
   . ' answers checked)') or diag($leaks[0]);

# 43. The key is in the mock's log (so the searches here are meaningful).
{
    open my $fh, '<:raw', $MOCK_LOG or die "$MOCK_LOG: $!";
    my $all = do { local $/; <$fh> };
    close $fh;
    ok(index($all, $KEY) >= 0, 'the key did reach Mandrill (mock log)');
}

# 44. Stored text holds no key.
is((safe_count('notifications', 'email_body LIKE ? OR "key" LIKE ?',
                "%$KEY%", "%$KEY%") // 1)
   + (safe_count('notification_deliveries', 'error LIKE ?', "%$KEY%") // 1),
   0, 'the key is in no stored notification nor delivery row');

# 45-46. The whole error_log (the failures above were logged there).
{
    my $log = NotifyTest::error_log_since(0);
    ok(length $log > 0, 'error_log read');
    is(index($log, $KEY), -1, 'the Mandrill key appears nowhere in t/logs/error_log');
}
