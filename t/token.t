# The token: absent or empty, not a string, unknown, an inactive
# application's; where its checks sit in the order of checks; and that no
# token ever reaches the error log.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use NotifyTest;
use NotifyCheck qw(:all);

plan tests => 32;

my $mark = NotifyTest::error_log_mark();

my ($token, $app_id)       = NotifyTest::new_app(name => 'token-t');
my ($inactive, $inactive_id) = NotifyTest::new_app(name => 'token-t-inactive', active => 0);
my $unknown = NotifyTest::random_hex(32);   # never stored
my @secrets = ($token, $inactive, $unknown);

sub json { my @p = @_; return sub { NotifyTest::post_json(json_obj(@p)) } }
sub form { my $b = shift; return sub { NotifyTest::post_form($b) } }

# --- absent or empty: missing-param token
check_error('no token',          json(key => 'k'),                 400, 'missing-param', 'token');
check_error('empty token',       json(token => '', key => 'k'),    400, 'missing-param', 'token');
check_error('null token',        json(token => \'null', key => 'k'), 400, 'missing-param', 'token');
check_error('form: no token',    form('key=k'),                    400, 'missing-param', 'token');
check_error('form: empty token', form('token=&key=k'),             400, 'missing-param', 'token');

# --- not a string: invalid-param token
check_error('token as a number', json(token => \'12345', key => 'k'), 400, 'invalid-param', 'token');
check_error('token as a float',  json(token => \'1.5', key => 'k'),   400, 'invalid-param', 'token');
check_error('token as true',     json(token => \'true', key => 'k'),  400, 'invalid-param', 'token');
check_error('token as an array', json(token => [$token], key => 'k'), 400, 'invalid-param', 'token');
check_error('token as an object', json(token => {t => $token}, key => 'k'), 400, 'invalid-param', 'token');

# --- no active application has it: invalid-token 401
check_error('unknown token',     json(token => $unknown, key => 'k'), 401, 'invalid-token');
check_error('valid token plus a character', json(token => $token . 'x', key => 'k'), 401, 'invalid-token');
check_error('valid token less a character', json(token => substr($token, 0, -1), key => 'k'), 401, 'invalid-token');
check_error('upper-cased valid token', json(token => uc $token, key => 'k'), 401, 'invalid-token');
check_error("the token's SHA-256 as the token", json(token => NotifyTest::token_sha256($token), key => 'k'),
            401, 'invalid-token');
check_error('inactive application', json(token => $inactive, key => 'k'), 401, 'invalid-token');
check_error('form: unknown token', form("token=$unknown&key=k"),  401, 'invalid-token');
check_error('form: inactive application', form("token=$inactive&key=k"), 401, 'invalid-token');

# --- order of checks around the token
check_error('refused content type before a missing token',
    sub { NotifyTest::post_json(json_obj(key => 'k'), content_type => 'text/plain') },
    400, 'invalid-content-type');
check_error('refused content type before an unknown token',
    sub { NotifyTest::post_json(json_obj(token => $unknown), content_type => 'text/plain') },
    400, 'invalid-content-type');
check_error('undecodable body before a missing token',
    sub { NotifyTest::post_json('{"key":"k"') }, 400, 'invalid-encoded-params');
check_error('no parameters before a missing token',
    sub { NotifyTest::post_json('{}') }, 400, 'no-params-decoded');
check_error('missing token before a bad and an unknown parameter',
    json(key => \'5', bogus => 'x'), 400, 'missing-param', 'token');
check_error('unknown token before a bad parameter',
    json(token => $unknown, key => \'5', email_to => 'bob@'), 401, 'invalid-token');
check_error('inactive application before a bad parameter',
    json(token => $inactive, processed => \'7'), 401, 'invalid-token');
check_error('inactive application before the email rule',
    json(token => $inactive, notification_type => 'email'), 401, 'invalid-token');
check_error('non-string token before a bad view',
    json(token => \'42', view => 'nope'), 400, 'invalid-param', 'token');

# --- the good token works and is recorded as the creator
check_created('active application token', json(token => $token, key => 'k'),
              app_id => $app_id, expect => {key => 'k'});
check_created('form: active application token', form("token=$token&key=f"),
              app_id => $app_id, expect => {key => 'f'});

# An application switched off stops working at once.
NotifyTest::dbh()->do('UPDATE api_applications SET active = 0 WHERE id = ?', undef, $app_id);
check_error('application deactivated after use', json(token => $token, key => 'k'), 401, 'invalid-token');
NotifyTest::dbh()->do('UPDATE api_applications SET active = 1 WHERE id = ?', undef, $app_id);

# --- no token in the error log
{
    # Give httpd a moment to write anything it writes after answering.
    my $log = NotifyTest::error_log_since($mark, wait_for => qr/\Q$token\E/, timeout => 1);
    my @leaked = grep { index($log, $_) >= 0 } @secrets;
    is(scalar @leaked, 0, 'the error log holds none of the tokens sent')
        or diag('found in error_log: ' . join(', ', map { substr($_, 0, 8) . '...' } @leaked));
}
{
    # Only client-required echoes the caller's token; invalid-token must not.
    my $res = NotifyTest::post_json(json_obj(token => $unknown, key => 'k'));
    ok(index($res->content, $unknown) < 0, 'an invalid-token answer does not echo the token');
}
