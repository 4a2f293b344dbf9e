# Which error wins when several parameters are wrong: the first bad one in
# the order of SPEC section 2's table (whatever the order in the body),
# then unknown parameters, then the rules that tie fields together (the
# email fields of an email notification, the notifyable pair).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use NotifyTest;
use NotifyCheck qw(:all);

my ($token, $app_id) = NotifyTest::new_app(name => 'ranking-t');

# [label, [params in body order], status, param]
my @errors = (
    # field checks in table order, body order reversed
    ['email_from after key in the table', [email_from => 'bob@', key => \'5'], 'invalid-param', 'key'],
    ['key before email_from, body order', [key => \'5', email_from => 'bob@'], 'invalid-param', 'key'],
    ['view ranks before key',             [key => \'[]', view => 'nope'], 'invalid-param', 'view'],
    ['status before user_id',             [user_id => \'1.5', status => \'{}'], 'invalid-param', 'status'],
    ['email_to before email_cc and email_bcc', [email_bcc => 'x', email_cc => 'y', email_to => 'z'], 'invalid-param', 'email_to'],
    ['email_cc before email_bcc',         [email_bcc => 'x', email_cc => 'y'], 'invalid-param', 'email_cc'],
    ['email_subject before email_to',     [email_to => 'bob@', email_subject => "a\nb"], 'invalid-param', 'email_subject'],
    ['notifyable_type before notifyable_id', [notifyable_id => \'0', notifyable_type => \'[]'], 'invalid-param', 'notifyable_type'],
    ['processed_at before processed',     [processed => \'2', processed_at => '2026-02-30T00:00:00Z'], 'invalid-param', 'processed_at'],
    ['updated_at_fm before created_at_fm', [created_at_fm => 'x', updated_at_fm => 'y'], 'invalid-param', 'updated_at_fm'],
    ['phone_from before phone_to',        [phone_to => '1', phone_from => '2'], 'invalid-param', 'phone_from'],
    ['media_url before extension',        [extension => \'1', media_url => 'ftp://x.example/a'], 'invalid-param', 'media_url'],
    ['client_id before email_to',         [email_to => 'a@example.com,', client_id => \'1e3'], 'invalid-param', 'client_id'],
    ['email_body before notifyable_type', [notifyable_type => \'1', notifyable_id => \'1', email_body => \'"\u0000"'], 'invalid-param', 'email_body'],

    # unknown parameters after every table parameter
    ['unknown first in body, bad extension', [aaa => 'x', extension => \'[]'], 'invalid-param', 'extension'],
    ['unknown first in body, bad media_url', [aaa => 'x', media_url => 'relative/x'], 'invalid-param', 'media_url'],
    ['id first in body, bad processed',   [id => \'1', processed => 'true'], 'invalid-param', 'processed'],

    # the tying rules come after every field's own check
    ['email type missing fields, bad phone_to',
        [notification_type => 'email', phone_to => '12'], 'invalid-param', 'phone_to'],
    ['email type, bad email_from is invalid, not missing',
        [notification_type => 'email', email_from => 'bob@', email_to => 'a@example.com', email_subject => 's'],
        'invalid-param', 'email_from'],
    ['notifyable_type alone, bad extension',
        [notifyable_type => 'Order', extension => \'2'], 'invalid-param', 'extension'],
    ['notifyable_id alone, bad key',
        [notifyable_id => \'42', key => \'true'], 'invalid-param', 'key'],
    ['notifyable_id 0 alone: its own check first',
        [notifyable_id => \'0'], 'invalid-param', 'notifyable_id'],
    ['misspelt email_from with an email notification',
        [notification_type => 'email', email_form => 'a@example.com', email_to => 'b@example.com', email_subject => 's'],
        'invalid-param', 'email_form'],
    ['unknown parameter with notifyable_type alone',
        [notifyable_type => 'Order', zzz => 'x'], 'invalid-param', 'zzz'],

    # the email rule: the first absent field in table order
    ['email type, nothing else',          [notification_type => 'email'], 'missing-param', 'email_from'],
    ['email type, processed 0',           [notification_type => 'email', processed => \'0', email_to => 'a@example.com', email_subject => 's'],
                                          'missing-param', 'email_from'],
    ['email type, processed false',       [notification_type => 'email', processed => \'false', email_from => 'a@example.com', email_to => 'b@example.com'],
                                          'missing-param', 'email_subject'],
    ['email type, processed "0"',         [notification_type => 'email', processed => '0', email_from => 'a@example.com', email_subject => 's'],
                                          'missing-param', 'email_to'],
    ['email type, email_subject and email_to absent',
                                          [notification_type => 'email', email_from => 'a@example.com'], 'missing-param', 'email_subject'],
    ['email type, empty email_from',      [notification_type => 'email', email_from => '', email_to => 'b@example.com', email_subject => 's'],
                                          'missing-param', 'email_from'],
    ['email type, null email_to',         [notification_type => 'email', email_from => 'a@example.com', email_to => \'null', email_subject => 's'],
                                          'missing-param', 'email_to'],

    # the notifyable pair: missing-param names the absent one
    ['notifyable_type alone',             [notifyable_type => 'Order'], 'missing-param', 'notifyable_id'],
    ['notifyable_id alone',               [notifyable_id => \'42'], 'missing-param', 'notifyable_type'],
    ['notifyable_id alone as a string',   [notifyable_id => '42'], 'missing-param', 'notifyable_type'],
    ['notifyable_type with empty id',     [notifyable_type => 'Order', notifyable_id => ''], 'missing-param', 'notifyable_id'],
    ['notifyable_id with null type',      [notifyable_type => \'null', notifyable_id => \'9'], 'missing-param', 'notifyable_type'],
    ['notifyable_id with empty type',     [notifyable_type => '', notifyable_id => \'9'], 'missing-param', 'notifyable_type'],
);

# Cases where the tying rules do not apply: the request succeeds.
my @fine = (
    ['email type, processed 1: no email fields needed',
        [notification_type => 'email', processed => \'1'], {notification_type => 'email', processed => 1, email_from => undef}],
    ['email type, processed true: no email fields needed',
        [notification_type => 'email', processed => \'true'], {processed => 1}],
    ['email type with from, to and subject (no Mandrill key: stored unsent)',
        [notification_type => 'email', email_from => 'a@example.com', email_to => 'b@example.com', email_subject => 's'],
        {notification_type => 'email', processed => 0, processed_at => undef}],
    ['other notification types need no email fields',
        [notification_type => 'push'], {notification_type => 'push'}],
    ['sms with its phones and text needs no email fields',
        [notification_type => 'sms', phone_to => '+4915112345678',
         phone_from => '+4915100000000', email_body => 'hi'], {notification_type => 'sms'}],
    ['sms, processed 1: nothing required',
        [notification_type => 'sms', processed => \'1'], {notification_type => 'sms', processed => 1}],
    ['notifyable pair complete',
        [notifyable_id => \'5', notifyable_type => 'Tour'], {notifyable_id => 5, notifyable_type => 'Tour'}],
);

plan tests => @errors + @fine;

for my $c (@errors) {
    my ($label, $params, $status, $param) = @$c;
    my $body = json_obj(token => $token, @$params);
    check_error($label, sub { NotifyTest::post_json($body) }, 400, $status, $param);
}

for my $c (@fine) {
    my ($label, $params, $want) = @$c;
    my $body = json_obj(token => $token, @$params);
    check_created($label, sub { NotifyTest::post_json($body) },
                  expect => $want, app_id => $app_id);
}
