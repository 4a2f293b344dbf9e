# NotifyMaxBodySize: a body of exactly the limit is read, one byte more is
# request-too-large (413), with Content-Length and with a chunked body.
# /small/notifications/create is the create route with a 1000-byte limit
# (t/conf/extra.conf.in); /api/v1/notifications/create keeps the default,
# 1048576.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Response ();
use NotifyTest;
use NotifyCheck qw(:all);

plan tests => 20;

my ($token, $app_id) = NotifyTest::new_app(name => 'limits-t');

my $SMALL   = '/small/notifications/create';
my $LIMIT   = 1000;
my $DEFAULT = 1048576;

# A valid JSON body of exactly $len bytes (padded in email_body).
sub json_of_len {
    my ($len) = @_;
    my $base = length json_obj(token => $token, key => 'limit', email_body => '');
    my $body = json_obj(token => $token, key => 'limit', email_body => 'x' x ($len - $base));
    die "json_of_len($len)" unless length $body == $len;
    return $body;
}

# A valid form body of exactly $len bytes.
sub form_of_len {
    my ($len) = @_;
    my $base = length "token=$token&key=limit&email_body=";
    return "token=$token&key=limit&email_body=" . ('y' x ($len - $base));
}

# Sends a POST with Transfer-Encoding: chunked over a raw socket; @chunks
# are the chunk payloads. Returns an HTTP::Response (de-chunked).
sub post_chunked {
    my ($path, $ct, @chunks) = @_;
    my $host = Apache::TestRequest::hostport();
    my $req = "POST $path HTTP/1.1\r\nHost: $host\r\n"
            . "Content-Type: $ct\r\nTransfer-Encoding: chunked\r\n"
            . "Connection: close\r\n\r\n";
    $req .= sprintf("%x\r\n%s\r\n", length $_, $_) for @chunks;
    $req .= "0\r\n\r\n";
    # The server may answer 413 and stop reading early: raw_request keeps
    # whatever of the request could be written, then reads the answer.
    return NotifyTest::raw_request($req);
}

# Splits $s into pieces of at most $n bytes.
sub pieces {
    my ($s, $n) = @_;
    return unpack "(a$n)*", $s;
}

# --- Content-Length bodies on the 1000-byte route
check_created('JSON body of exactly the limit is accepted',
    sub { NotifyTest::post_json(json_of_len($LIMIT), path => $SMALL) },
    app_id => $app_id, expect => {key => 'limit'});
check_error('JSON body one byte over the limit',
    sub { NotifyTest::post_json(json_of_len($LIMIT + 1), path => $SMALL) },
    413, 'request-too-large');
check_created('form body of exactly the limit is accepted',
    sub { NotifyTest::post_form(form_of_len($LIMIT), path => $SMALL) },
    app_id => $app_id, expect => {key => 'limit'});
check_error('form body one byte over the limit',
    sub { NotifyTest::post_form(form_of_len($LIMIT + 1), path => $SMALL) },
    413, 'request-too-large');
check_error('body far over the limit',
    sub { NotifyTest::post_json(json_of_len(200_000), path => $SMALL) },
    413, 'request-too-large');

# --- order: content type, then size, then decoding and the token
check_error('over the limit and undecodable: size first',
    sub { NotifyTest::post_json('{' . ('"' x $LIMIT), path => $SMALL) },
    413, 'request-too-large');
check_error('over the limit without a token: size first',
    sub { NotifyTest::post_json(json_obj(key => 'k' x $LIMIT), path => $SMALL) },
    413, 'request-too-large');
check_error('over the limit with an unknown token: size first',
    sub { NotifyTest::post_json(json_obj(token => 'nope', key => 'k' x $LIMIT), path => $SMALL) },
    413, 'request-too-large');
check_error('over the limit with a refused content type: content type first',
    sub { NotifyTest::post_json(json_of_len($LIMIT + 1), path => $SMALL,
                                content_type => 'text/plain') },
    400, 'invalid-content-type');

# --- chunked bodies: the limit counts the de-chunked bytes
check_created('chunked body, small',
    sub { post_chunked($SMALL, 'application/json',
                       pieces(json_obj(token => $token, key => 'chunked'), 7)) },
    app_id => $app_id, expect => {key => 'chunked'});
check_created('chunked body of exactly the limit, 100-byte chunks',
    sub { post_chunked($SMALL, 'application/json', pieces(json_of_len($LIMIT), 100)) },
    app_id => $app_id, expect => {key => 'limit'});
check_error('chunked body one byte over the limit, 100-byte chunks',
    sub { post_chunked($SMALL, 'application/json', pieces(json_of_len($LIMIT + 1), 100)) },
    413, 'request-too-large');
check_error('chunked body over the limit in its last 1-byte chunk',
    sub { my $b = json_of_len($LIMIT + 1);
          post_chunked($SMALL, 'application/json', substr($b, 0, $LIMIT), substr($b, $LIMIT)) },
    413, 'request-too-large');
check_error('chunked body over the limit in one big chunk',
    sub { post_chunked($SMALL, 'application/json', json_of_len(4 * $LIMIT)) },
    413, 'request-too-large');
check_created('chunked form of exactly the limit',
    sub { post_chunked($SMALL, 'application/x-www-form-urlencoded', pieces(form_of_len($LIMIT), 333)) },
    app_id => $app_id, expect => {key => 'limit'});
check_created('chunked body on the default route',
    sub { post_chunked('/api/v1/notifications/create', 'application/json',
                       pieces(json_obj(token => $token, key => 'chunked-default'), 5)) },
    app_id => $app_id, expect => {key => 'chunked-default'});

# --- the default limit, 1048576 bytes
{
    my ($n) = check_created('default limit: a body of exactly 1048576 bytes is accepted',
        sub { NotifyTest::post_json(json_of_len($DEFAULT)) },
        app_id => $app_id, expect => {key => 'limit'});
    my $row = NotifyTest::row(notifications => $n ? $n->{id} : 0) || {};
    is(length($row->{email_body} // ''), $DEFAULT - length(json_obj(token => $token, key => 'limit', email_body => '')),
       'the whole email_body was stored');
}
check_error('default limit: 1048577 bytes',
    sub { NotifyTest::post_json(json_of_len($DEFAULT + 1)) },
    413, 'request-too-large');
check_error('default limit: chunked 1048577 bytes',
    sub { post_chunked('/api/v1/notifications/create', 'application/json',
                       pieces(json_of_len($DEFAULT + 1), 65536)) },
    413, 'request-too-large');
