# Errors httpd raises itself inside the API come back as JSON from the
# status set: a body over LimitRequestBody (413 request-too-large, with
# Content-Length and chunked), broken chunked encoding (400
# invalid-encoded-params), and a TRACE, which httpd's core would answer
# itself, is route-non-existent like any method but POST. Unknown paths
# and GET/PUT/DELETE/HEAD/OPTIONS on the create route are in t/routes.t.
#
# /limited/notifications/create (t/conf/extra.conf.in) is the create route
# with httpd's own `LimitRequestBody 100` (NotifyMaxBodySize keeps its
# 1048576 default there).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use NotifyTest;
use NotifyCheck qw(:all);

plan tests => 20;

my ($token, $app_id) = NotifyTest::new_app(name => 'errors-t');
my $LIMITED = '/limited/notifications/create';
my $CREATE  = '/api/v1/notifications/create';
my $LIMIT   = 100;
my $host    = NotifyTest::hostport();

# A valid JSON body of exactly $len bytes.
sub json_of_len {
    my ($len) = @_;
    my $base = length json_obj(token => $token, key => '');
    my $body = json_obj(token => $token, key => 'k' x ($len - $base));
    die "json_of_len($len)" unless length $body == $len;
    return $body;
}

# A chunked POST over a raw socket: $head_extra is added to the headers,
# $chunks the raw chunked body as sent (see chunked()).
sub raw_post {
    my ($path, $chunked_body, %o) = @_;
    my $req = "POST $path HTTP/1.1\r\nHost: $host\r\n"
            . 'Content-Type: ' . ($o{content_type} // 'application/json') . "\r\n"
            . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            . $chunked_body;
    return NotifyTest::raw_request($req);
}

# The chunked encoding of @pieces, with the last chunk.
sub chunked {
    my @pieces = @_;
    return join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) } @pieces) . "0\r\n\r\n";
}

# --- LimitRequestBody 100, Content-Length
check_created('LimitRequestBody: a body of exactly 100 bytes is read',
    sub { NotifyTest::post_json(json_of_len($LIMIT), path => $LIMITED) },
    app_id => $app_id);
check_error('LimitRequestBody: 101 bytes',
    sub { NotifyTest::post_json(json_of_len($LIMIT + 1), path => $LIMITED) },
    413, 'request-too-large');
check_error('LimitRequestBody: 200 bytes',
    sub { NotifyTest::post_json(json_of_len(200), path => $LIMITED) },
    413, 'request-too-large');
check_error('LimitRequestBody: 200-byte form',
    sub { NotifyTest::post_form("token=$token&key=" . ('f' x 200), path => $LIMITED) },
    413, 'request-too-large');
check_error('LimitRequestBody: Content-Length over the limit with Expect: 100-continue',
    sub {
        NotifyTest::raw_request("POST $LIMITED HTTP/1.1\r\nHost: $host\r\n"
            . "Content-Type: application/json\r\nContent-Length: 200\r\n"
            . "Expect: 100-continue\r\nConnection: close\r\n\r\n");
    },
    413, 'request-too-large');
# The order of checks holds when the body is over httpd's limit too: the
# method and the content type come before the size.
check_error('LimitRequestBody: a refused content type is named first',
    sub { NotifyTest::post_json(json_of_len(200), path => $LIMITED, content_type => 'text/plain') },
    400, 'invalid-content-type');
{
    my $res = check_error('LimitRequestBody: PUT with a 200-byte body is route-non-existent',
        sub { NotifyTest::request(PUT => $LIMITED, content => json_of_len(200),
                                  content_type => 'application/json') },
        500, 'route-non-existent');
    is($res->header('Allow'), 'POST', 'PUT over the limit: Allow: POST');
}

# --- LimitRequestBody 100, chunked
check_created('LimitRequestBody: chunked, exactly 100 bytes',
    sub { raw_post($LIMITED, chunked(unpack '(a25)*', json_of_len($LIMIT))) },
    app_id => $app_id);
check_error('LimitRequestBody: chunked, 200 bytes in 50-byte chunks',
    sub { raw_post($LIMITED, chunked(unpack '(a50)*', json_of_len(200))) },
    413, 'request-too-large');
check_error('LimitRequestBody: chunked, one 200-byte chunk',
    sub { raw_post($LIMITED, chunked(json_of_len(200))) },
    413, 'request-too-large');

# --- broken chunked encoding on the create route
my $good = json_obj(token => $token, key => 'chunk');
check_error("chunk size 'zz'",
    sub { raw_post($CREATE, "zz\r\n$good\r\n0\r\n\r\n") },
    400, 'invalid-encoded-params');
check_error('chunk size with junk after the digits',
    sub { raw_post($CREATE, sprintf("%xq\r\n%s\r\n0\r\n\r\n", length $good, $good)) },
    400, 'invalid-encoded-params');
check_error('chunk longer than its size (no CRLF where it ends)',
    sub { raw_post($CREATE, sprintf("%x\r\n%sEXTRA\r\n0\r\n\r\n", 5, $good)) },
    400, 'invalid-encoded-params');
check_error('body ends inside a chunk',
    sub { raw_post($CREATE, sprintf("%x\r\n%s", length($good) + 10, $good)) },
    400, 'invalid-encoded-params');
check_error('body ends before the last chunk',
    sub { raw_post($CREATE, sprintf("%x\r\n%s\r\n", length $good, $good)) },
    400, 'invalid-encoded-params');
check_created('well-formed chunks on the same route create',
    sub { raw_post($CREATE, chunked(unpack '(a7)*', $good)) },
    app_id => $app_id, expect => {key => 'chunk'});

# --- TRACE: any method but POST is route-non-existent
{
    my $res = check_error('TRACE on the create route',
        sub { NotifyTest::raw_request("TRACE $CREATE HTTP/1.1\r\nHost: $host\r\n"
                                      . "X-Probe: secret\r\nConnection: close\r\n\r\n") },
        500, 'route-non-existent');
    is($res->header('Allow'), 'POST', 'TRACE on the create route: Allow: POST');
}
check_error('TRACE on an unknown route under /api/v1',
    sub { NotifyTest::raw_request("TRACE /api/v1/foo HTTP/1.1\r\nHost: $host\r\n"
                                  . "Connection: close\r\n\r\n") },
    500, 'route-non-existent');
