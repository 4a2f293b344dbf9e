# Smoke test: the module is loaded, creates a notification with a fresh
# application token, and answers unknown routes with JSON.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use NotifyTest;

plan tests => 9;

my ($token) = NotifyTest::new_app(name => 'smoke');
my $res = NotifyTest::post_json({token => $token, key => 'smoke-test',
                                 status => 'new'});
is $res->code, 200, 'create answers 200';
like $res->header('Content-Type'), qr{^application/json;\s*charset=utf-8}i,
    'create answers JSON';
my $body = NotifyTest::json_body($res);
is $body->{status}, 'action-successful', 'status is action-successful';
my $id = $body->{data}{notification}{id};
ok $id, 'the answer carries the notification id';
my $row = NotifyTest::row(notifications => $id);
is $row && $row->{key}, 'smoke-test', 'the notification is stored';

$res = NotifyTest::request(GET => '/api/v1/nope');
is $res->code, 500, 'unknown route answers 500';
like $res->header('Content-Type'), qr{^application/json}i,
    'unknown route answers JSON';
$body = NotifyTest::json_body($res);
is $body->{status}, 'route-non-existent', 'status is route-non-existent';
ok defined $body->{message}, 'with a message';
