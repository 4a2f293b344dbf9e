# SMS through Twilio (SPEC sections 13, 12 and 11) against the mock
# Twilio (t/lib/MockTwilio.pm), Locations of t/conf/extra.conf.in:
#  - accepted: 201 queued; the form (To, From, Body, MediaUrl,
#    StatusCallback) and the basic auth Twilio got; the proof, the
#    delivery row, processed 1;
#  - NotifyTwilioFrom stands in for phone_from; no StatusCallback without
#    NotifyTwilioCallbackURL; the token read from NotifyTwilioAuthTokenFile;
#  - a permanent failure (21211, invalid To): sms-failed, failed at once,
#    no second attempt, the dev team told;
#  - 429, 5xx and a hang are retryable: sms-failed, the outbox row pending;
#  - 503 then success: the worker sends it once more (vhost notify_outbox);
#  - missing phone_to, text, phone_from: missing-param in that order; a
#    text over 1600 characters: invalid-param;
#  - no Twilio configured: stored unsent, no outbox row;
#  - the status callback: a good signature moves the delivery's status and
#    records the event once; a bad or missing one is 403;
#  - the auth token is in no answer and no error_log line.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Digest::SHA qw(hmac_sha1_base64);
use File::Spec ();
use JSON ();
use MIME::Base64 ();
use NotifyTest;
use Time::HiRes ();

plan tests => 12;

my $J     = JSON->new->utf8->canonical;
my $SID   = 'ACtest0123456789abcdef0123456789ab';
my $TOKEN = 'tw-TEST-TOKEN-7c1d9e2f4a6b8053';
my $CALLBACK = 'https://notify.example.com/sms/callback';
my $LOG   = File::Spec->catfile(NotifyTest::t_dir(), 'var', 'mock-twilio.log');
my ($token) = NotifyTest::new_app(name => 'sms-t');
my @answers;    # every answer body, searched for the token at the end

# The failures these cases provoke (t/lib/NotifyTest.pm fails on any
# other line at warn or above).
NotifyTest::log_allow(
    qr/\[notify:error\] .*notification \d+ stored but not sent \((pending|failed)\): Twilio (error|unreachable|answered)/,
    qr/\[notify:error\] .*Twilio status callback at \/sms-none\/callback: NotifyTwilioAuthToken is not set/);

sub sms {
    my ($path, %f) = @_;
    my $vhost = delete $f{vhost};
    my $res = NotifyTest::post_json({ token => $token, notification_type => 'sms',
            phone_to => '+15557654321', phone_from => '+15550009999',
            view => 'default-with-proof', %f },
        path => $path, vhost => $vhost);
    push @answers, $res->content;
    return ($res, eval { NotifyTest::json_body($res) } || {});
}

# The mock's requests whose Body is $body.
sub twilio_requests {
    my ($body) = @_;
    open my $fh, '<:raw', $LOG or return ();
    my @r;
    while (my $line = <$fh>) {
        my $e = eval { $J->decode($line) } or next;
        push @r, $e if ($e->{form}{Body} // '') eq $body;
    }
    close $fh;
    return @r;
}

sub outbox_of {
    my ($id) = @_;
    return NotifyTest::dbh()->selectrow_hashref(
        'SELECT * FROM notification_outbox WHERE notification_id = ?', undef, $id) || {};
}

sub deliveries_of {
    my ($id) = @_;
    return NotifyTest::dbh()->selectall_arrayref(
        'SELECT * FROM notification_deliveries WHERE notification_id = ? ORDER BY id',
        { Slice => {} }, $id);
}

sub dev_keys_of {
    my ($id) = @_;
    return NotifyTest::dbh()->selectcol_arrayref(
        "SELECT \"key\" FROM notifications WHERE notification_type = 'system-error'"
        . " AND notifyable_type = 'Notification' AND notifyable_id = ? ORDER BY id",
        undef, $id);
}

my $delivered_sid;
my $delivered_id;

subtest 'accepted: the form, the basic auth, the proof' => sub {
    my $text = 'Your photographer is on the way ' . NotifyTest::random_hex(4);
    my ($res, $b) = sms('/sms/accept/notifications/create', email_body => $text,
        media_url => 'https://example.com/photo.jpg');
    is $res->code, 200, 'HTTP 200';
    is $b->{status}, 'action-successful', 'action-successful';
    my $id = $b->{data}{notification}{id};
    my $proof = $b->{data}{proof} // {};
    is $proof->{channel}, 'sms', 'proof: channel sms';
    is $proof->{provider}, 'twilio', 'proof: provider twilio';
    is $proof->{state}, 'sent', 'proof: state sent';
    my ($rc) = @{ $proof->{recipients} // [] };
    is $rc->{phone}, '+15557654321', 'proof: the phone';
    is $rc->{status}, 'queued', "proof: Twilio's status";
    like $rc->{provider_id} // '', qr/\ASM[0-9a-f]{32}\z/, 'proof: the message sid';
    my @req = twilio_requests($text);
    is scalar(@req), 1, 'Twilio got one request';
    my $r = $req[0] // {};
    is $r->{path}, "/mock-twilio/accept/Accounts/$SID/Messages.json", 'POST .../Accounts/{sid}/Messages.json';
    like $r->{content_type} // '', qr{\Aapplication/x-www-form-urlencoded}, 'a form';
    is $r->{authorization}, 'Basic ' . MIME::Base64::encode_base64("$SID:$TOKEN", ''),
        'basic auth sid:token';
    is_deeply $r->{form}, { To => '+15557654321', From => '+15550009999', Body => $text,
        MediaUrl => 'https://example.com/photo.jpg', StatusCallback => $CALLBACK },
        'To, From, Body, MediaUrl, StatusCallback';
    is NotifyTest::row(notifications => $id)->{processed}, 1, 'processed 1';
    my ($d) = @{ deliveries_of($id) };
    is_deeply [@{ $d // {} }{qw(channel provider recipient status provider_id attempt)}],
        ['sms', 'twilio', '+15557654321', 'queued', $rc->{provider_id}, 1],
        'the delivery row';
    is outbox_of($id)->{state}, 'sent', 'outbox: sent';
    ($delivered_sid, $delivered_id) = ($rc->{provider_id}, $d->{id});
};

subtest 'NotifyTwilioFrom, no callback URL, the token from a file' => sub {
    my $text = 'from default ' . NotifyTest::random_hex(4);
    my ($res, $b) = sms('/sms/from/notifications/create', email_body => $text,
                        phone_from => undef);
    is $res->code, 200, 'no phone_from: 200 with NotifyTwilioFrom';
    my ($r) = twilio_requests($text);
    is $r->{form}{From}, '+15550001111', 'From is NotifyTwilioFrom';
    ok !exists $r->{form}{MediaUrl}, 'no MediaUrl without media_url';
    my $text2 = 'plain ' . NotifyTest::random_hex(4);
    ($res, $b) = sms('/sms-plain/notifications/create', email_body => $text2);
    is $res->code, 200, 'a route without a callback URL: 200';
    ($r) = twilio_requests($text2);
    ok $r && !exists $r->{form}{StatusCallback}, 'no StatusCallback';
    is $r->{authorization}, 'Basic ' . MIME::Base64::encode_base64("$SID:$TOKEN", ''),
        'the token read from NotifyTwilioAuthTokenFile, its newline left out';
    is $r->{path}, "/mock-twilio/accept/Accounts/$SID/Messages.json",
        'a trailing / of NotifyTwilioURL is not doubled';
};

subtest 'a permanent failure: 21211' => sub {
    my $text = 'invalid ' . NotifyTest::random_hex(4);
    my ($res, $b) = sms('/sms/invalid/notifications/create', email_body => $text);
    is $res->code, 500, 'HTTP 500';
    is $b->{status}, 'sms-failed', 'sms-failed';
    my $id = $b->{data}{notification}{id};
    ok $id, 'data.notification';
    is $b->{data}{proof}{state}, 'failed', 'proof: failed at once';
    my ($rc) = @{ $b->{data}{proof}{recipients} // [] };
    is $rc->{status}, 'error', 'proof: error';
    like $rc->{error} // '', qr/HTTP 400\): 21211: The 'To' number/, "proof: Twilio's code and message";
    is NotifyTest::row(notifications => $id)->{processed}, 0, 'processed 0';
    is outbox_of($id)->{state}, 'failed', 'outbox: failed';
    is_deeply dev_keys_of($id), ['sms-failed', 'delivery-failed'],
        'the dev team told: sms-failed, delivery-failed';
    is scalar(twilio_requests($text)), 1, 'no second attempt';
};

subtest '429, 5xx and a hang are retried later' => sub {
    for my $mode (qw(busy error hang)) {
        my $text = "$mode " . NotifyTest::random_hex(4);
        my ($res, $b) = sms("/sms/$mode/notifications/create", email_body => $text);
        is $b->{status}, 'sms-failed', "$mode: sms-failed";
        my $id = $b->{data}{notification}{id};
        is $b->{data}{proof}{state}, 'pending', "$mode: proof pending";
        is outbox_of($id)->{state}, 'pending', "$mode: outbox pending";
        is $b->{data}{proof}{attempts}, 1, "$mode: one attempt";
    }
};

subtest '503, then the worker sends it' => sub {
    my $text = 'flaky ' . NotifyTest::random_hex(4);
    my ($res, $b) = sms('/ob/sms-flaky/notifications/create', email_body => $text,
                        vhost => 'notify_outbox');
    is $b->{status}, 'sms-failed', 'the first attempt: sms-failed';
    my $id = $b->{data}{notification}{id};
    my $deadline = Time::HiRes::time() + 30;
    Time::HiRes::sleep(0.2) until (outbox_of($id)->{state} // '') eq 'sent'
                                  || Time::HiRes::time() > $deadline;
    is outbox_of($id)->{state}, 'sent', 'sent by the worker';
    is outbox_of($id)->{attempts}, 2, 'two attempts';
    is NotifyTest::row(notifications => $id)->{processed}, 1, 'processed 1';
    is_deeply [map { [$_->{attempt}, $_->{status}] } @{ deliveries_of($id) }],
        [[1, 'error'], [2, 'queued']], 'two attempts recorded';
    is scalar(twilio_requests($text)), 2, 'Twilio got two requests';
};

subtest 'missing-param in the order of SPEC section 13' => sub {
    my @cases = (
        [{ phone_to => undef, email_body => undef, phone_from => undef }, 'phone_to'],
        [{ email_body => undef, phone_from => undef }, 'email_body'],
        [{ email_body => 'hi', phone_from => undef }, 'phone_from'],
    );
    for my $c (@cases) {
        my ($f, $want) = @$c;
        # undef: the field is left out
        my $body = { token => $token, notification_type => 'sms',
                     phone_to => '+15557654321', phone_from => '+15550009999',
                     email_body => 'x' };
        $body->{$_} = $f->{$_} for keys %$f;
        delete @$body{ grep { !defined $body->{$_} } keys %$body };
        my $b = NotifyTest::json_body(
            NotifyTest::post_json($body, path => '/sms/accept/notifications/create'));
        is $b->{status}, 'missing-param', "without $want: missing-param";
        is $b->{param}, $want, "names $want";
    }
    my $res = NotifyTest::post_json({ token => $token, notification_type => 'sms',
        processed => 1 }, path => '/sms/accept/notifications/create');
    is NotifyTest::json_body($res)->{status}, 'action-successful',
        'processed 1: nothing is required';
};

subtest 'the text: at most 1600 characters' => sub {
    my ($res, $b) = sms('/sms/accept/notifications/create', email_body => 'x' x 1601);
    is $b->{status}, 'invalid-param', '1601 characters: invalid-param';
    is $b->{param}, 'email_body', 'names email_body';
    my $text = "\x{e9}" x 1596 . NotifyTest::random_hex(2);
    ($res, $b) = sms('/sms/accept/notifications/create', email_body => $text);
    is $b->{status}, 'action-successful', '1600 characters (3196 bytes): accepted';
    my ($r) = twilio_requests($text);
    is length($r->{form}{Body} // ''), 1600, 'sent whole';
};

subtest 'no Twilio configured: stored unsent' => sub {
    my ($res, $b) = sms('/sms-none/notifications/create', email_body => 'unsent');
    is $res->code, 200, 'HTTP 200';
    my $id = $b->{data}{notification}{id};
    is NotifyTest::row(notifications => $id)->{processed}, 0, 'processed 0';
    is_deeply outbox_of($id), {}, 'no outbox row';
    is $b->{data}{proof}, undef, 'proof: null';
};

# Twilio's signature: base64 HMAC-SHA1 with the auth token over the URL
# and each POST field's name and value, sorted by name.
sub sign {
    my ($url, %fields) = @_;
    my $b64 = hmac_sha1_base64(join('', $url, map { $_, $fields{$_} } sort keys %fields),
                               $TOKEN);
    return $b64 . '=' x ((4 - length($b64) % 4) % 4);
}

sub callback {
    my ($path, %o) = @_;
    my %fields = (MessageSid => $delivered_sid // 'none', AccountSid => $SID,
                  To => '+15557654321', %{ $o{fields} // {} });
    my $sig = exists $o{signature} ? $o{signature} : sign($CALLBACK, %fields);
    my $res = NotifyTest::post_form([%fields], path => $path,
        headers => { defined $sig ? ('X-Twilio-Signature' => $sig) : () });
    push @answers, $res->content;
    return ($res, eval { NotifyTest::json_body($res) } || {});
}

sub events_of {
    my ($delivery) = @_;
    return NotifyTest::dbh()->selectcol_arrayref(
        'SELECT event FROM delivery_events WHERE delivery_id = ? ORDER BY id', undef, $delivery);
}

subtest 'the status callback' => sub {
    my ($res, $b) = callback('/sms/callback', fields => { MessageStatus => 'sent' });
    is $res->code, 200, 'signed: 200';
    is $b->{status}, 'webhook-accepted', 'webhook-accepted';
    is_deeply $b->{data}, { events => 1, matched => 1 }, 'one event, matched';
    is NotifyTest::row(notification_deliveries => $delivered_id)->{status}, 'sent', 'status: sent';
    ($res, $b) = callback('/sms/callback', fields => { MessageStatus => 'delivered' });
    is NotifyTest::row(notification_deliveries => $delivered_id)->{status}, 'delivered',
        'status: delivered';
    ($res, $b) = callback('/sms/callback', fields => { MessageStatus => 'delivered' });
    is $res->code, 200, 'the same callback again: 200';
    is_deeply events_of($delivered_id), ['sent', 'delivered'], 'each event recorded once';
    my $detail = NotifyTest::dbh()->selectrow_array(
        q{SELECT detail FROM delivery_events WHERE delivery_id = ? AND event = 'delivered'},
        undef, $delivered_id);
    is eval { $J->decode($detail)->{MessageStatus} }, 'delivered', 'detail: the fields as JSON';
    ($res, $b) = callback('/sms/callback', fields => { MessageSid => 'SMnosuch', MessageStatus => 'failed' });
    is_deeply $b->{data}, { events => 1, matched => 0 }, 'an unknown sid: skipped';
};

subtest 'the status callback refuses' => sub {
    my ($res, $b) = callback('/sms/callback', fields => { MessageStatus => 'failed' },
                             signature => 'AAAA' . substr(sign($CALLBACK, x => 1), 4));
    is $res->code, 403, 'a wrong signature: 403';
    is $b->{status}, 'invalid-signature', 'invalid-signature';
    ($res, $b) = callback('/sms/callback', fields => { MessageStatus => 'failed' },
                          signature => undef);
    is $res->code, 403, 'no signature: 403';
    is NotifyTest::row(notification_deliveries => $delivered_id)->{status}, 'delivered',
        'the status did not move';
    ($res, $b) = callback('/sms/callback', fields => {});
    is $b->{status}, 'invalid-encoded-params', 'no MessageStatus: invalid-encoded-params';
    ($res, $b) = callback('/sms-none/callback', fields => { MessageStatus => 'sent' });
    is $res->code, 500, 'no auth token configured: 500';
    like NotifyTest::error_log_since(0, wait_for => qr/NotifyTwilioAuthToken is not set/),
        qr/Twilio status callback at \/sms-none\/callback: NotifyTwilioAuthToken is not set/,
        'a log line names the directive';
};

subtest 'HEAD and GET of the callback answer 200' => sub {
    for my $method (qw(GET HEAD)) {
        is NotifyTest::request($method => '/sms/callback')->code, 200, "$method: 200";
    }
};

subtest 'the auth token appears in no answer and no log line' => sub {
    is scalar(grep { index($_, $TOKEN) >= 0 } @answers), 0,
        'in none of ' . scalar(@answers) . ' answers';
    my $log = NotifyTest::error_log_since(0);
    ok length $log, 'error_log read';
    is index($log, $TOKEN), -1, 'not in t/logs/error_log';
};
