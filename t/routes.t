# route-non-existent (500): unknown paths under /api/v1 (notify-api
# handler), any method but POST on the create route (with Allow: POST), and
# any path below the create path. Only the exact create path creates; a
# query string does not change the path.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use NotifyTest;
use NotifyCheck qw(:all);

my ($token, $app_id) = NotifyTest::new_app(name => 'routes-t');
my $good = json_obj(token => $token, key => 'routes');
my $CREATE = '/api/v1/notifications/create';

my @methods = qw(GET PUT DELETE OPTIONS PATCH);

# [label, method, path]: a good body and token, still no such route.
my @unknown = (
    ['POST below the create path',        POST => "$CREATE/extra"],
    ['POST create path with a trailing /', POST => "$CREATE/"],
    ['POST two levels below',             POST => "$CREATE/a/b"],
    ['POST create path with a suffix',    POST => "${CREATE}x"],
    ['POST unknown route under /api/v1',  POST => '/api/v1/foo'],
    ['POST /api/v1 itself',               POST => '/api/v1'],
    ['POST /api/v1/',                     POST => '/api/v1/'],
    ['POST /api/v1/notifications',        POST => '/api/v1/notifications'],
    ['POST /api/v1/notifications/list',   POST => '/api/v1/notifications/list'],
    ['GET unknown route under /api/v1',   GET  => '/api/v1/notifications/show'],
    ['DELETE unknown route under /api/v1', DELETE => '/api/v1/users/1'],
    ['GET below the create path',         GET  => "$CREATE/1"],
);

plan tests => 2 * @methods + @unknown + 8;

# Any method but POST on the create route: 500 with Allow: POST. The body
# would be a valid create, so nothing but the method is wrong.
for my $m (@methods) {
    my $res = check_error("$m on the create route",
        sub { NotifyTest::request($m => $CREATE, content => $good,
                                  content_type => 'application/json') },
        500, 'route-non-existent');
    is($res->header('Allow'), 'POST', "$m on the create route: Allow: POST");
}

# HEAD: the same status line and headers, no body.
{
    my $rows = NotifyTest::count('notifications');
    my $res = NotifyTest::request(HEAD => $CREATE);
    is($res->code, 500, 'HEAD on the create route: 500');
    is($res->header('Allow'), 'POST', 'HEAD on the create route: Allow: POST');
    is($res->header('Content-Type'), JSON_CT, 'HEAD on the create route: JSON content type');
    is(NotifyTest::count('notifications'), $rows, 'HEAD stores nothing');
}

# The method is checked first: a GET with a refused content type and no
# token is still route-non-existent.
check_error('GET with a refused content type and no body',
    sub { NotifyTest::request(GET => $CREATE, content_type => 'text/plain') },
    500, 'route-non-existent');

for my $c (@unknown) {
    my ($label, $m, $path) = @$c;
    check_error($label,
        sub { NotifyTest::request($m => $path, content => $good,
                                  content_type => 'application/json') },
        500, 'route-non-existent');
}

# A query string is ignored: this is the create route.
check_created('POST with a query string creates',
    sub { NotifyTest::post_json($good, path => "$CREATE?x=1&key=ignored") },
    app_id => $app_id, expect => {key => 'routes'});

# Below the create path, a refused content type is still route-non-existent
# (route before content type).
check_error('POST below the create path with a refused content type',
    sub { NotifyTest::request(POST => "$CREATE/x", content => 'x', content_type => 'text/plain') },
    500, 'route-non-existent');

# And an ordinary POST to the exact path still works after all that.
check_created('POST on the exact create path',
    sub { NotifyTest::post_json($good) },
    app_id => $app_id, expect => {key => 'routes'});
