# build/openapi.yaml (SPEC section 14): a valid OpenAPI 3.0.3 document
# that names every status of the module's table with its HTTP code, and a
# checker (t/lib/NotifyOpenAPI.pm, which t/lib/NotifyTest.pm runs on every
# answer of the suite) that accepts real answers and rejects wrong shapes,
# so the check can fail.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Spec ();
use HTTP::Response ();
use JSON ();
use NotifyOpenAPI;
use NotifyTest;

my $schema = NotifyOpenAPI::schema();
is_deeply [map {"$_"} @{ $schema->errors }], [], 'build/openapi.yaml is a valid OpenAPI document';
is $schema->data->{openapi}, '3.0.3', 'OpenAPI 3.0.3';

# Every status of mod_notify/notify_status.c, with its HTTP code, is in
# the document under that code.
my $table = do {
    my $f = File::Spec->catfile($FindBin::Bin, File::Spec->updir, 'mod_notify', 'notify_status.c');
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    <$fh>;
};
my %code_of = $table =~ /\{"([a-z-]+)",\s*(\d{3}),/g;
is scalar(keys %code_of), 21, 'the status table read (21 statuses)';
my $yaml = do {
    open my $fh, '<', NotifyOpenAPI::document() or die $!;
    local $/;
    <$fh>;
};
my %documented;
for my $name (keys %code_of) {
    # A schema whose status enum holds the name, used under its code.
    $documented{$name} = 1 if $yaml =~ /enum: \[[^\]]*\b\Q$name\E\b[^\]]*\]/;
}
is_deeply [sort grep { !$documented{$_} } keys %code_of], [], 'every status is documented';

sub answer {
    my ($code, $body, %h) = @_;
    my $res = HTTP::Response->new($code, 'x',
        ['Content-Type' => $h{ct} // 'application/json; charset=utf-8'],
        ref $body ? JSON->new->utf8->encode($body) : $body);
    return $res;
}

# Real answers pass.
my ($token) = NotifyTest::new_app(name => 'openapi');
my $res = NotifyTest::post_json({ token => $token, key => 'openapi-1',
                                  view => 'default-with-proof' });
is $res->code, 200, 'a create';
is_deeply [NotifyOpenAPI::problems(POST => '/api/v1/notifications/create', $res)], [],
    'a real action-successful answer matches';
$res = NotifyTest::post_json({ token => $token, bogus => 1 });
is_deeply [NotifyOpenAPI::problems(POST => '/api/v1/notifications/create', $res)], [],
    'a real invalid-param answer matches';

# Wrong shapes are rejected.
my $ok = { status => 'invalid-param', message => 'x', param => 'email_to' };
is_deeply [NotifyOpenAPI::problems(POST => '/api/v1/notifications/create', answer(400, $ok))], [],
    'a hand-made invalid-param matches';
my @cases = (
    ['no message', 400, { status => 'invalid-param' }],
    ['a status under the wrong code', 200, $ok],
    ['a status outside the set', 400, { %$ok, status => 'bad-thing' }],
    ['a field the document does not name', 400, { %$ok, extra => 1 }],
    ['a notification id that is a string', 200, { status => 'action-successful', message => 'x',
        data => { notification => { id => '7', key => 'k', processed => 0,
            notification_type => undef, created_at => '2026-11-27T10:00:00Z',
            updated_at => '2026-11-27T10:00:00Z' } } }],
    ['a time that is not RFC 3339 UTC', 200, { status => 'action-successful', message => 'x',
        data => { notification => { id => 7, key => 'k', processed => 0,
            notification_type => undef, created_at => '2026-11-27 10:00:00',
            updated_at => '2026-11-27T10:00:00Z' } } }],
    ['a delivery failure without its proof', 500, { status => 'sms-failed', message => 'x',
        data => { notification => { id => 7, key => 'k', processed => 0,
            notification_type => 'sms', created_at => '2026-11-27T10:00:00Z',
            updated_at => '2026-11-27T10:00:00Z' } } }],
    ['an HTML page', 500, '<html>oops</html>', ct => 'text/html'],
    ['JSON without charset=utf-8', 400, $ok, ct => 'application/json'],
);
for my $c (@cases) {
    my ($what, $code, $body, %h) = @$c;
    my @p = NotifyOpenAPI::problems(POST => '/api/v1/notifications/create', answer($code, $body, %h));
    ok scalar(@p), "rejected: $what" or diag 'accepted';
}
ok scalar(NotifyOpenAPI::problems(GET => '/api/v1/webhooks/mandrill',
        answer(200, { status => 'webhook-accepted', message => 'x', data => { events => -1, matched => 0 } }))),
    'rejected: a negative event count';
is_deeply [NotifyOpenAPI::problems(GET => '/server-status', answer(200, '<html/>', ct => 'text/html'))], [],
    'paths that are not the module\'s are not checked';

done_testing();
