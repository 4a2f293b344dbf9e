# Content types, JSON and form decoding, and bodies without parameters.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use NotifyTest;
use NotifyCheck qw(:all);

my ($token, $app_id) = NotifyTest::new_app(name => 'decoding-t');

my $good_json = json_obj(token => $token, key => 'decoding');
my $good_form = "token=$token&key=decoding";

# Content types that must be accepted: [content type, body].
my @accepted = (
    ['application/json',                      $good_json],
    ['application/json; charset=utf-8',       $good_json],
    ['application/json; charset=UTF-8',       $good_json],
    ['application/json;charset=utf8',         $good_json],
    ['application/json; charset="utf-8"',     $good_json],
    ['application/json; charset="UTF8"',      $good_json],
    ['Application/JSON; Charset=Utf-8',       $good_json],
    ['application/json; foo=bar',             $good_json],
    ['application/json; foo=bar; charset=utf-8', $good_json],
    ['application/x-www-form-urlencoded',     $good_form],
    ['application/x-www-form-urlencoded; charset=UTF-8', $good_form],
    ['APPLICATION/X-WWW-FORM-URLENCODED',     $good_form],
);

# Content types that must be refused, each with a body that would be fine.
my @refused = (
    ['application/json; charset=latin1',      $good_json],
    ['application/json; charset=iso-8859-1',  $good_json],
    ['application/json; charset=utf-16',      $good_json],
    ['application/x-www-form-urlencoded; charset=latin1', $good_form],
    ['text/plain',                            $good_json],
    ['text/json',                             $good_json],
    ['application/jsonx',                     $good_json],
    ['application/json-patch+json',           $good_json],
    ['multipart/form-data; boundary=xyz',     $good_form],
    ['',                                      $good_json],
);

# JSON bodies that cannot be decoded.
my @undecodable_json = (
    ['truncated object',          qq({"token":"$token","key":)],
    ['trailing comma',            qq({"token":"$token","key":"a",})],
    ['single quotes',             qq({'token':'$token'})],
    ['not JSON at all',           'token=' . $token],
    ['garbage after the object',  qq({"token":"$token"} x)],
    ['two objects',               qq({"token":"$token"}{"key":"a"})],
    ['top-level array',           qq([{"token":"$token","key":"a"}])],
    ['empty top-level array',     '[]'],
    ['top-level string',          qq("$token")],
    ['top-level number',          '42'],
    ['top-level null',            'null'],
    ['invalid UTF-8 byte 0xff',   qq({"token":"$token","key":"a\xffb"})],
    ['truncated UTF-8 sequence',  qq({"token":"$token","key":"a\xc3"})],
    ['overlong UTF-8 /',          qq({"token":"$token","key":"a\xc0\xafb"})],
    ['UTF-8 encoded surrogate',   qq({"token":"$token","key":"a\xed\xa0\x80b"})],
    ['invalid UTF-8 in a key name', qq({"token":"$token","k\xffey":"a"})],
    ['lone high surrogate escape', qq({"token":"$token","key":"a\\ud800b"})],
    ['lone low surrogate escape', qq({"token":"$token","key":"\\udc00"})],
    ['high surrogate at the end', qq({"token":"$token","key":"\\ud83d"})],
    ['bad escape',                qq({"token":"$token","key":"\\x41"})],
    ['raw control character in a string', qq({"token":"$token","key":"a\tb"})],
    ['33 levels of arrays',       qq({"token":"$token","key":) . ('[' x 32) . (']' x 32) . '}'],
    ['33 levels of objects',      qq({"token":"$token","key":) . ('{"a":' x 31) . '{}' . ('}' x 31) . '}'],
);

# Form bodies that cannot be decoded.
my @undecodable_form = (
    ['%ff in a value',            "token=$token&key=a%ffb"],
    ['%c3 alone in a value',      "token=$token&key=a%c3"],
    ['%ff in a name',             "token=$token&k%ffey=a"],
    ['raw byte 0xff in a value',  "token=$token&key=a\xffb"],
    ['bad percent escape',        "token=$token&key=%zz"],
    ['truncated percent escape',  "token=$token&key=a%4"],
);

# Bodies that decode to no parameters at all.
my @empty = (
    ['JSON empty body',           'application/json', ''],
    ['JSON {}',                   'application/json', '{}'],
    ['JSON { } with whitespace',  'application/json', " { }\n"],
    ['form empty body',           'application/x-www-form-urlencoded', ''],
);

plan tests => @accepted + @refused + 2 + @undecodable_json
            + @undecodable_form + @empty + 10;

for my $c (@accepted) {
    my ($ct, $body) = @$c;
    check_created("accepted: '$ct'",
        sub { NotifyTest::request(POST => '/api/v1/notifications/create',
                                  content => $body, content_type => $ct) },
        expect => {key => 'decoding'}, app_id => $app_id);
}

for my $c (@refused) {
    my ($ct, $body) = @$c;
    check_error("refused: '$ct'",
        sub { NotifyTest::request(POST => '/api/v1/notifications/create',
                                  content => $body, content_type => $ct) },
        400, 'invalid-content-type');
}

check_error('no Content-Type header',
    sub { NotifyTest::request(POST => '/api/v1/notifications/create',
                              content => $good_json, content_type => undef) },
    400, 'invalid-content-type');

# The content type is checked before the body is decoded.
check_error('refused content type with an undecodable body',
    sub { NotifyTest::request(POST => '/api/v1/notifications/create',
                              content => '{nope', content_type => 'text/plain') },
    400, 'invalid-content-type');

for my $c (@undecodable_json) {
    my ($label, $body) = @$c;
    check_error("JSON: $label", sub { NotifyTest::post_json($body) },
                400, 'invalid-encoded-params');
}

for my $c (@undecodable_form) {
    my ($label, $body) = @$c;
    check_error("form: $label", sub { NotifyTest::post_form($body) },
                400, 'invalid-encoded-params');
}

for my $c (@empty) {
    my ($label, $ct, $body) = @$c;
    check_error($label,
        sub { NotifyTest::request(POST => '/api/v1/notifications/create',
                                  content => $body, content_type => $ct) },
        400, 'no-params-decoded');
}

# 32 levels (the outer object is level 1) still decode: the value is then
# an invalid parameter, not an undecodable body.
check_error('32 levels of arrays decode; the array is an invalid key',
    sub { NotifyTest::post_json(qq({"token":"$token","key":) . ('[' x 31) . (']' x 31) . '}') },
    400, 'invalid-param', 'key');
check_error('32 levels of objects decode; the object is an invalid key',
    sub { NotifyTest::post_json(qq({"token":"$token","key":) . ('{"a":' x 30) . '{}' . ('}' x 30) . '}') },
    400, 'invalid-param', 'key');

# Decoding comes before the token checks: no token, still undecodable.
check_error('undecodable JSON without a token',
    sub { NotifyTest::post_json('{"key":') }, 400, 'invalid-encoded-params');
check_error('{} is no-params-decoded, not missing token',
    sub { NotifyTest::post_json('{}') }, 400, 'no-params-decoded');
check_error('undecodable JSON with an unknown token',
    sub { NotifyTest::post_json('{"token":"no-such-token","key":"\ud800"}') },
    400, 'invalid-encoded-params');

# Valid escapes and characters come through intact.
check_created('surrogate pair escape decodes to one character',
    sub { NotifyTest::post_json(qq({"token":"$token","key":"smile \\ud83d\\ude00"})) },
    expect => {key => "smile \x{1F600}"});
check_created('escapes \\" \\\\ \\/ \\u00e9 decode',
    sub { NotifyTest::post_json(qq({"token":"$token","key":"q\\"b\\\\s\\/\\u00e9"})) },
    expect => {key => "q\"b\\s/\x{e9}"});
check_created('whitespace around JSON tokens is fine',
    sub { NotifyTest::post_json(qq(\n { "token" : "$token" ,\t"key" : "ws" } \n)) },
    expect => {key => 'ws'});
check_created('form: percent-encoded names and values',
    sub { NotifyTest::post_form("%74oken=$token&key=a%2Bb%26c%3Dd") },
    expect => {key => 'a+b&c=d'});

# A byte string reaches the module as bytes: UTF-8 passes through.
{
    my $bytes = qq({"token":"$token","key":"caf\xc3\xa9 \xe2\x82\xac"});
    check_created('raw UTF-8 bytes in JSON',
        sub { NotifyTest::post_json($bytes) },
        expect => {key => "caf\x{e9} \x{20ac}"});
}
