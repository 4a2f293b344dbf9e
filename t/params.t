# Each parameter type's good and bad values, and the boundaries of the
# length limits. A good value must come back normalised in the answer and
# the row; a bad one must be invalid-param naming the field, storing nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use NotifyTest;
use NotifyCheck qw(:all);

my ($token, $app_id) = NotifyTest::new_app(name => 'params-t');

# A comma-separated list of addresses exactly $len bytes long.
sub email_list {
    my ($len) = @_;
    my (@e, $s);
    $s = '';
    while (length($s) + 30 < $len) {
        push @e, sprintf('u%04d@example.com', scalar @e);
        $s = join ',', @e;
    }
    push @e, ('p' x ($len - length($s) - 1 - length('@example.com'))) . '@example.com';
    $s = join ',', @e;
    die "email_list($len) is " . length($s) unless length $s == $len;
    return $s;
}

my $e_acute = "\x{e9}";              # 2 bytes in UTF-8
my $url2048 = 'https://example.com/' . ('a' x 2028);
my $list4096 = email_list(4096);
my $list4097 = email_list(4097);
die 'bad fixture' unless length($url2048) == 2048;

# [ label, [extra params...], expectation ]
#   ok      => { field => value in the answer and the row }
#   invalid => the param named by invalid-param
# A SCALAR ref value is a raw JSON literal (see NotifyCheck::json_obj).
my @cases = (
    # --- one-line strings
    ['key plain',                [key => 'order-123'],            ok => {key => 'order-123'}],
    ['key non-ASCII',            [key => "caf${e_acute} \x{1F600}"], ok => {key => "caf${e_acute} \x{1F600}"}],
    ['key with CR',              [key => "a\rb"],                 invalid => 'key'],
    ['key with LF',              [key => "a\nb"],                 invalid => 'key'],
    ['status with LF',           [status => "sent\n"],            invalid => 'status'],
    ['email_subject header injection', [email_subject => "Hi\r\nBcc: x\@example.com"], invalid => 'email_subject'],
    ['email_technician with CR', [email_technician => "a\rb"],   invalid => 'email_technician'],
    ['updated_in with LF',       [updated_in => "\n"],            invalid => 'updated_in'],
    ['notification_type with LF', [notification_type => "sms\n"], invalid => 'notification_type'],
    ['extension with CR',        [extension => "\rjpg"],          invalid => 'extension'],
    ['notifyable_type with LF',  [notifyable_type => "Ord\ner", notifyable_id => \'1'], invalid => 'notifyable_type'],
    ['client_id with LF',        [client_id => "C\n1"],           invalid => 'client_id'],
    ['email_body may hold CR LF', [email_body => "line 1\r\nline 2\n"], ok => {email_body => "line 1\r\nline 2\n"}],
    ['key with \u0000',          [key => \'"a\u0000b"'],          invalid => 'key'],
    ['email_body with \u0000',   [email_body => \'"a\u0000b"'],   invalid => 'email_body'],
    ['key 255 bytes',            [key => 'k' x 255],              ok => {key => 'k' x 255}],
    ['key 256 bytes',            [key => 'k' x 256],              invalid => 'key'],
    ['key 255 bytes of 2-byte characters', [key => ($e_acute x 127) . 'x'], ok => {key => ($e_acute x 127) . 'x'}],
    ['key 256 bytes in 128 characters',    [key => $e_acute x 128], invalid => 'key'],
    ['status 256 bytes',         [status => 's' x 256],           invalid => 'status'],
    ['email_subject 256 bytes',  [email_subject => 's' x 256],    invalid => 'email_subject'],
    ['updated_in 256 bytes',     [updated_in => 'u' x 256],       invalid => 'updated_in'],
    ['extension 256 bytes',      [extension => 'e' x 256],        invalid => 'extension'],
    ['user_id string 256 bytes', [user_id => '1' x 256],          invalid => 'user_id'],
    ['email_body longer than 255', [email_body => 'b' x 20000],   ok => {email_body => 'b' x 20000}],
    ['key as a JSON number',     [key => \'5'],                   invalid => 'key'],
    ['key as true',              [key => \'true'],                invalid => 'key'],
    ['status as a float',        [status => \'1.5'],              invalid => 'status'],
    ['email_body as a number',   [email_body => \'5'],            invalid => 'email_body'],
    ['notification_type as false', [notification_type => \'false'], invalid => 'notification_type'],
    ['key as an array',          [key => \'["a"]'],               invalid => 'key'],
    ['key as an object',         [key => \'{"a":"b"}'],           invalid => 'key'],
    ['email_subject as an empty array', [email_subject => \'[]'], invalid => 'email_subject'],
    ['extension as an empty object', [extension => \'{}'],        invalid => 'extension'],

    # --- view
    ['view unknown',             [view => 'admin-view'],          invalid => 'view'],
    ['view as a number',         [view => \'1'],                  invalid => 'view'],
    ['view as an array',         [view => \'["default-view"]'],   invalid => 'view'],
    ['view with LF',             [view => "default-view\n"],      invalid => 'view'],

    # --- one email address
    ['email_from bare',          [email_from => 'a@example.com'], ok => {email_from => 'a@example.com'}],
    ['email_from with a name',   [email_from => 'Bob Smith <bob@example.com>'], ok => {email_from => 'Bob Smith <bob@example.com>'}],
    ['email_from without domain', [email_from => 'bob@'],         invalid => 'email_from'],
    ['email_from without @',     [email_from => 'bob'],           invalid => 'email_from'],
    ['email_from without local part', [email_from => '@example.com'], invalid => 'email_from'],
    ['email_from unclosed <',    [email_from => 'Bob <bob@example.com'], invalid => 'email_from'],
    ['email_from holding a list', [email_from => 'a@example.com, b@example.com'], invalid => 'email_from'],
    ['email_from as an array',   [email_from => \'["a@example.com"]'], invalid => 'email_from'],

    # --- email lists
    ['email_to one',             [email_to => 'a@example.com'],   ok => {email_to => 'a@example.com'}],
    ['email_to two, no space',   [email_to => 'a@example.com,b@example.com'], ok => {email_to => 'a@example.com,b@example.com'}],
    ['email_to two, space after comma', [email_to => 'a@example.com, b@example.com'], ok => {email_to => 'a@example.com, b@example.com'}],
    ['email_to with names',      [email_to => 'Ann Lee <ann@example.com>, Bob <bob@example.com>, c@example.com'],
                                 ok => {email_to => 'Ann Lee <ann@example.com>, Bob <bob@example.com>, c@example.com'}],
    ['email_to empty entry',     [email_to => 'a@example.com,,b@example.com'], invalid => 'email_to'],
    ['email_to trailing comma',  [email_to => 'a@example.com,'],  invalid => 'email_to'],
    ['email_to leading comma',   [email_to => ',a@example.com'],  invalid => 'email_to'],
    ['email_to one bad entry',   [email_to => 'a@example.com, bob@'], invalid => 'email_to'],
    ['email_to quoted name with comma', [email_to => '"Doe, John" <john@example.com>'], invalid => 'email_to'],
    ['email_to 4096 bytes',      [email_to => $list4096],         ok => {email_to => $list4096}],
    ['email_to 4097 bytes',      [email_to => $list4097],         invalid => 'email_to'],
    ['email_cc with names',      [email_cc => 'Ann <ann@example.com>, b@example.com'], ok => {email_cc => 'Ann <ann@example.com>, b@example.com'}],
    ['email_cc trailing comma',  [email_cc => 'a@example.com, '], invalid => 'email_cc'],
    ['email_cc 4097 bytes',      [email_cc => $list4097],         invalid => 'email_cc'],
    ['email_bcc two',            [email_bcc => 'a@example.com, b@example.com'], ok => {email_bcc => 'a@example.com, b@example.com'}],
    ['email_bcc not an address', [email_bcc => 'nobody'],         invalid => 'email_bcc'],
    ['email_bcc as a number',    [email_bcc => \'7'],             invalid => 'email_bcc'],

    # --- ids: strings, or integral JSON numbers stored as decimal text
    ['user_id JSON number',      [user_id => \'123'],             ok => {user_id => '123'}],
    ['olio_id JSON number',      [olio_id => \'0'],               ok => {olio_id => '0'}],
    ['tour_id beyond double precision', [tour_id => \'9007199254740993'], ok => {tour_id => '9007199254740993'}],
    ['client_id JSON number',    [client_id => \'4242'],          ok => {client_id => '4242'}],
    ['client_id string',         [client_id => 'C-42'],           ok => {client_id => 'C-42'}],
    ['user_id 1.5',              [user_id => \'1.5'],             invalid => 'user_id'],
    ['olio_id 1e3',              [olio_id => \'1e3'],             invalid => 'olio_id'],
    ['tour_id true',             [tour_id => \'true'],            invalid => 'tour_id'],
    ['client_id array',          [client_id => \'[1]'],           invalid => 'client_id'],

    # --- notifyable_id (with its notifyable_type)
    ['notifyable_id JSON integer', [notifyable_type => 'Order', notifyable_id => \'42'], ok => {notifyable_id => 42, notifyable_type => 'Order'}],
    ['notifyable_id digit string', [notifyable_type => 'Order', notifyable_id => '42'], ok => {notifyable_id => 42}],
    ['notifyable_id 1',          [notifyable_type => 'Order', notifyable_id => \'1'], ok => {notifyable_id => 1}],
    ['notifyable_id max int64',  [notifyable_type => 'Order', notifyable_id => \'9223372036854775807'], ok => {notifyable_id => '9223372036854775807'}],
    ['notifyable_id max int64 as a string', [notifyable_type => 'Order', notifyable_id => '9223372036854775807'], ok => {notifyable_id => '9223372036854775807'}],
    ['notifyable_id 0',          [notifyable_type => 'Order', notifyable_id => \'0'], invalid => 'notifyable_id'],
    ['notifyable_id "0"',        [notifyable_type => 'Order', notifyable_id => '0'], invalid => 'notifyable_id'],
    ['notifyable_id -1',         [notifyable_type => 'Order', notifyable_id => \'-1'], invalid => 'notifyable_id'],
    ['notifyable_id "-1"',       [notifyable_type => 'Order', notifyable_id => '-1'], invalid => 'notifyable_id'],
    ['notifyable_id int64 max + 1', [notifyable_type => 'Order', notifyable_id => \'9223372036854775808'], invalid => 'notifyable_id'],
    ['notifyable_id "int64 max + 1"', [notifyable_type => 'Order', notifyable_id => '9223372036854775808'], invalid => 'notifyable_id'],
    ['notifyable_id 1.5',        [notifyable_type => 'Order', notifyable_id => \'1.5'], invalid => 'notifyable_id'],
    ['notifyable_id 1e3',        [notifyable_type => 'Order', notifyable_id => \'1e3'], invalid => 'notifyable_id'],
    ['notifyable_id "abc"',      [notifyable_type => 'Order', notifyable_id => 'abc'], invalid => 'notifyable_id'],
    ['notifyable_id "4 2"',      [notifyable_type => 'Order', notifyable_id => '4 2'], invalid => 'notifyable_id'],
    ['notifyable_id true',       [notifyable_type => 'Order', notifyable_id => \'true'], invalid => 'notifyable_id'],
    ['notifyable_id array',      [notifyable_type => 'Order', notifyable_id => \'[42]'], invalid => 'notifyable_id'],
    ['notifyable_type as a number', [notifyable_type => \'3', notifyable_id => \'42'], invalid => 'notifyable_type'],

    # --- processed
    ['processed 0',              [processed => \'0'],             ok => {processed => 0}],
    ['processed 1',              [processed => \'1'],             ok => {processed => 1}],
    ['processed true',           [processed => \'true'],          ok => {processed => 1}],
    ['processed false',          [processed => \'false'],         ok => {processed => 0}],
    ['processed "0"',            [processed => '0'],              ok => {processed => 0}],
    ['processed "1"',            [processed => '1'],              ok => {processed => 1}],
    ['processed 2',              [processed => \'2'],             invalid => 'processed'],
    ['processed -1',             [processed => \'-1'],            invalid => 'processed'],
    ['processed 1.5',            [processed => \'1.5'],           invalid => 'processed'],
    ['processed "2"',            [processed => '2'],              invalid => 'processed'],
    ['processed "true"',         [processed => 'true'],           invalid => 'processed'],
    ['processed "yes"',          [processed => 'yes'],            invalid => 'processed'],
    ['processed array',          [processed => \'[1]'],           invalid => 'processed'],

    # --- datetimes, normalised to RFC 3339 UTC with Z
    ['processed_at Z',           [processed_at => '2026-11-27T10:00:00Z'],       ok => {processed_at => '2026-11-27T10:00:00Z'}],
    ['processed_at +01:00',      [processed_at => '2026-11-27T11:00:00+01:00'],  ok => {processed_at => '2026-11-27T10:00:00Z'}],
    ['processed_at -05:30',      [processed_at => '2026-11-27T04:30:00-05:30'],  ok => {processed_at => '2026-11-27T10:00:00Z'}],
    ['processed_at offset crossing the year', [processed_at => '2026-01-01T00:30:00+01:00'], ok => {processed_at => '2025-12-31T23:30:00Z'}],
    ['processed_at space form',  [processed_at => '2026-11-27 10:00:00'],        ok => {processed_at => '2026-11-27T10:00:00Z'}],
    ['processed_at space form with offset', [processed_at => '2026-11-27 12:00:00+02:00'], ok => {processed_at => '2026-11-27T10:00:00Z'}],
    ['processed_at space form with Z', [processed_at => '2026-11-27 10:00:00Z'], ok => {processed_at => '2026-11-27T10:00:00Z'}],
    ['processed_at fraction dropped', [processed_at => '2026-11-27T10:00:00.987654Z'], ok => {processed_at => '2026-11-27T10:00:00Z'}],
    ['processed_at lowercase t and z', [processed_at => '2026-11-27t10:00:00z'], ok => {processed_at => '2026-11-27T10:00:00Z'}],
    ['processed_at without offset is UTC', [processed_at => '2026-11-27T10:00:00'], ok => {processed_at => '2026-11-27T10:00:00Z'}],
    ['processed_at 29 Feb of a leap year', [processed_at => '2028-02-29T00:00:00Z'], ok => {processed_at => '2028-02-29T00:00:00Z'}],
    ['updated_at_fm offset',     [updated_at_fm => '2026-11-27T11:00:00+01:00'], ok => {updated_at_fm => '2026-11-27T10:00:00Z'}],
    ['created_at_fm space form', [created_at_fm => '2026-11-26 09:30:00'],       ok => {created_at_fm => '2026-11-26T09:30:00Z'}],
    ['processed_at_fm fraction', [processed_at_fm => '2026-11-27T10:00:00.5+00:00'], ok => {processed_at_fm => '2026-11-27T10:00:00Z'}],
    ['processed_at 2026-02-30',  [processed_at => '2026-02-30T10:00:00Z'],       invalid => 'processed_at'],
    ['processed_at 29 Feb of a common year', [processed_at => '2026-02-29T10:00:00Z'], invalid => 'processed_at'],
    ['processed_at second 60',   [processed_at => '2026-11-27T10:00:60Z'],       invalid => 'processed_at'],
    ['processed_at hour 24',     [processed_at => '2026-11-27T24:00:00Z'],       invalid => 'processed_at'],
    ['processed_at month 13',    [processed_at => '2026-13-01T10:00:00Z'],       invalid => 'processed_at'],
    ['processed_at date only',   [processed_at => '2026-11-27'],                 invalid => 'processed_at'],
    ['processed_at words',       [processed_at => 'yesterday'],                  invalid => 'processed_at'],
    ['processed_at epoch number', [processed_at => \'1700000000'],               invalid => 'processed_at'],
    ['updated_at_fm impossible', [updated_at_fm => '2026-04-31T10:00:00Z'],      invalid => 'updated_at_fm'],
    ['created_at_fm second 60, space form', [created_at_fm => '2026-11-27 10:00:60'], invalid => 'created_at_fm'],
    ['processed_at_fm garbage after', [processed_at_fm => '2026-11-27T10:00:00Zjunk'], invalid => 'processed_at_fm'],

    # --- phones
    ['phone_from 7 digits',      [phone_from => '1234567'],          ok => {phone_from => '1234567'}],
    ['phone_to 15 digits and +', [phone_to => '+123456789012345'],   ok => {phone_to => '+123456789012345'}],
    ['phone_to 15 digits',       [phone_to => '123456789012345'],    ok => {phone_to => '123456789012345'}],
    ['phone_from 6 digits',      [phone_from => '123456'],           invalid => 'phone_from'],
    ['phone_from +6 digits',     [phone_from => '+123456'],          invalid => 'phone_from'],
    ['phone_to 16 digits',       [phone_to => '1234567890123456'],   invalid => 'phone_to'],
    ['phone_to +16 digits',      [phone_to => '+1234567890123456'],  invalid => 'phone_to'],
    ['phone_to only +',          [phone_to => '+'],                  invalid => 'phone_to'],
    ['phone_to dashes',          [phone_to => '555-123-4567'],       invalid => 'phone_to'],
    ['phone_to spaces',          [phone_to => '+1 5551234567'],      invalid => 'phone_to'],
    ['phone_to double +',        [phone_to => '++15551234567'],      invalid => 'phone_to'],
    ['phone_from as a number',   [phone_from => \'15551234567'],     invalid => 'phone_from'],

    # --- media_url
    ['media_url http',           [media_url => 'http://example.com/a.jpg'], ok => {media_url => 'http://example.com/a.jpg'}],
    ['media_url https with query', [media_url => 'https://cdn.example.com/p/x.png?w=1&h=2'], ok => {media_url => 'https://cdn.example.com/p/x.png?w=1&h=2'}],
    ['media_url 2048 bytes',     [media_url => $url2048],             ok => {media_url => $url2048}],
    ['media_url 2049 bytes',     [media_url => $url2048 . 'a'],       invalid => 'media_url'],
    ['media_url ftp',            [media_url => 'ftp://example.com/a.jpg'], invalid => 'media_url'],
    ['media_url relative',       [media_url => '/images/a.jpg'],      invalid => 'media_url'],
    ['media_url no scheme',      [media_url => 'example.com/a.jpg'],  invalid => 'media_url'],
    ['media_url no host',        [media_url => 'http://'],            invalid => 'media_url'],
    ['media_url javascript',     [media_url => 'javascript:alert(1)'], invalid => 'media_url'],
    ['media_url with a space',   [media_url => 'https://exa mple.com/a.jpg'], invalid => 'media_url'],

    # --- unknown parameters, including the columns a caller may not set
    ['unknown parameter',        [foo => 'bar'],                     invalid => 'foo'],
    ['parameter name is case-sensitive', [Key => 'x'],               invalid => 'Key'],
    ['misspelt field',           [email_form => 'a@example.com'],    invalid => 'email_form'],
    ['unknown parameter with null', [foo => \'null'],                invalid => 'foo'],
    ['id',                       [id => \'5'],                       invalid => 'id'],
    ['created_at',               [created_at => '2026-11-27T10:00:00Z'], invalid => 'created_at'],
    ['updated_at',               [updated_at => '2026-11-27T10:00:00Z'], invalid => 'updated_at'],
    ['created_by_application_id', [created_by_application_id => \'1'], invalid => 'created_by_application_id'],
    ['created_by_session_id',    [created_by_session_id => \'1'],    invalid => 'created_by_session_id'],

    # --- the same key twice
    ['duplicate JSON key',       [key => 'a', key => 'b'],           invalid => 'key'],
    ['duplicate JSON key, same value', [status => 'x', status => 'x'], invalid => 'status'],
    ['duplicate JSON key, first null', [email_body => \'null', email_body => 'b'], invalid => 'email_body'],
);

# Form-specific cases: [label, [pairs...] or raw body, expectation].
my @form_cases = (
    ['form: good values',        [key => 'f-1', notifyable_type => 'Order', notifyable_id => '7', processed => '1',
                                  user_id => '55', processed_at => '2026-11-27T11:00:00+01:00'],
                                 ok => {key => 'f-1', notifyable_id => 7, processed => 1, user_id => '55',
                                        processed_at => '2026-11-27T10:00:00Z'}],
    ['form: plus is a space',    "key=two+words", ok => {key => 'two words'}],
    ['form: percent-encoded UTF-8', "key=caf%C3%A9", ok => {key => "caf${e_acute}"}],
    ['form: email_body with CR LF', "email_body=a%0D%0Ab", ok => {email_body => "a\r\nb"}],
    ['form: empty value is not given', "key=k&status=", ok => {key => 'k', status => undef}],
    ['form: key with CR',        "key=a%0Db",          invalid => 'key'],
    ['form: key with NUL',       "key=a%00b",          invalid => 'key'],
    ['form: repeated field',     "key=a&key=b",        invalid => 'key'],
    ['form: repeated field, same value', "processed=1&processed=1", invalid => 'processed'],
    ['form: unknown field',      "colour=red",         invalid => 'colour'],
    ['form: processed 2',        "processed=2",        invalid => 'processed'],
    ['form: notifyable_id 0',    "notifyable_type=Order&notifyable_id=0", invalid => 'notifyable_id'],
    ['form: email_to trailing comma', "email_to=a%40example.com%2C", invalid => 'email_to'],
);

plan tests => @cases + @form_cases;

for my $c (@cases) {
    my ($label, $extra, $kind, $want) = @$c;
    my %given = @$extra;
    my @view = exists $given{view} ? () : (view => 'internal-applications-view');
    my $body = json_obj(token => $token, @$extra, @view);
    run_case("json: $label", sub { NotifyTest::post_json($body) }, $kind, $want);
}

for my $c (@form_cases) {
    my ($label, $extra, $kind, $want) = @$c;
    my $body = ref $extra
        ? NotifyTest::form_encode([token => $token, @$extra, view => 'internal-applications-view'])
        : "token=$token&$extra&view=internal-applications-view";
    run_case($label, sub { NotifyTest::post_form($body) }, $kind, $want);
}

sub run_case {
    my ($label, $send, $kind, $want) = @_;
    if ($kind eq 'ok') {
        check_created($label, $send, view => 'internal-applications-view',
                      expect => $want, app_id => $app_id);
    }
    else {
        check_error($label, $send, 400, 'invalid-param', $want);
    }
}
