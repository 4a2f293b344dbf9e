package NotifyCheck;

# Assertions shared by the t/*.t files of the Create API contract
# (create, params, ranking, decoding, limits, token, routes). Built on
# NotifyTest (requests, database); this file only adds Test::More checks.
#
#     use FindBin;
#     use lib "$FindBin::Bin/lib";
#     use Apache::Test qw(-withtestmore);   # brings Test::More, but its own plan
#     use NotifyTest;
#     use NotifyCheck qw(:all);
#
# Every check_* function is exactly one Test::More test (a subtest), so a
# file's plan is the number of check_* calls plus its own ok/is calls.

use strict;
use warnings;

use B ();
use Exporter qw(import);
use JSON ();
use Test::More ();
use NotifyTest ();

our @EXPORT_OK = qw(
    JSON_CT @PARAMS @FIELDS @FM_FIELDS
    json_obj json_types check_error check_created check_row
    default_keys internal_keys
);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

use constant JSON_CT => 'application/json; charset=utf-8';

# Section 2's table, in its order (the order that ranks errors).
our @PARAMS = qw(
    token view key status email_from email_subject email_technician
    user_id olio_id tour_id client_id email_to email_cc email_bcc email_body
    notifyable_type notifyable_id updated_at_fm created_at_fm processed_at
    processed_at_fm updated_in processed notification_type phone_from
    phone_to media_url extension
);

# The stored parameters: the table without token and view.
our @FIELDS = @PARAMS[2 .. $#PARAMS];

# Shown only in internal-applications-view.
our @FM_FIELDS = qw(updated_at_fm created_at_fm processed_at_fm);

my %IS_FM = map { $_ => 1 } @FM_FIELDS;

# Keys of data.notification in default-view / default-with-proof.
sub default_keys {
    return sort('id', 'created_at', 'updated_at', grep { !$IS_FM{$_} } @FIELDS);
}

# Keys of data.notification in internal-applications-view.
sub internal_keys {
    return sort('id', 'created_at', 'updated_at', @FIELDS);
}

my $ENC = JSON->new->utf8->allow_nonref->canonical;

# A JSON object as bytes, keys in the order given (duplicates kept).
# A value that is a SCALAR reference is inserted as a raw JSON literal
# (\'1e3', \'true', \'"a\u0000b"'); anything else is JSON-encoded.
sub json_obj {
    my @pairs = @_;
    my @out;
    while (@pairs) {
        my ($k, $v) = splice @pairs, 0, 2;
        push @out, $ENC->encode($k) . ':'
            . (ref $v eq 'SCALAR' ? $$v : $ENC->encode($v));
    }
    return '{' . join(',', @out) . '}';
}

sub _type_of {
    my ($v) = @_;
    return 'null' unless defined $v;
    return 'bool' if JSON::is_bool($v);
    return lc ref $v if ref $v;
    my $f = B::svref_2object(\$v)->FLAGS;
    return 'string' if $f & B::SVf_POK;
    return 'int'    if $f & B::SVf_IOK;
    return 'float'  if $f & B::SVf_NOK;
    return 'unknown';
}

# The JSON type of every value of an object inside the answer's body,
# decoded afresh so no earlier comparison has stringified a number.
# @path: keys down to the object, e.g. ('data', 'notification').
# Returns { key => 'int' | 'string' | 'null' | 'bool' | 'float' | 'array'
# | 'hash' }.
sub json_types {
    my ($res, @path) = @_;
    my $obj = JSON->new->utf8->decode($res->content);
    $obj = $obj->{$_} for @path;
    return { map { $_ => _type_of($obj->{$_}) } keys %$obj };
}

sub _decode {
    my ($res) = @_;
    my $body = eval { NotifyTest::json_body($res) };
    return ($body, $@);
}

sub _describe {
    my ($res) = @_;
    my $c = $res->content;
    $c = substr($c, 0, 400) . '...' if length $c > 400;
    return 'answer: ' . $res->code . ' ' . ($res->header('Content-Type') // '(no type)')
        . ' ' . $c;
}

# One test: sends with $send->(), expects an error answer.
#   $code, $status: HTTP code and status string
#   $param: the expected `param` (undef: not checked)
# Also checks the content type and that no notification was stored.
# Returns the response.
sub check_error {
    my ($name, $send, $code, $status, $param) = @_;
    my $res;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::subtest($name => sub {
        my $before = NotifyTest::max_id('notifications');
        my $rows   = NotifyTest::count('notifications');
        $res = $send->();
        my ($body, $err) = _decode($res);
        Test::More::is($res->code, $code, "HTTP $code") or Test::More::diag(_describe($res));
        Test::More::is($res->header('Content-Type'), JSON_CT, 'content type');
        Test::More::ok(!$err && ref $body eq 'HASH', 'body is a JSON object')
            or Test::More::diag($err);
        $body = {} unless ref $body eq 'HASH';
        Test::More::is($body->{status}, $status, "status $status");
        if (defined $param) {
            Test::More::is($body->{param}, $param, "param $param");
        }
        Test::More::ok(defined $body->{message} && !ref $body->{message}
                       && length $body->{message}, 'has a message');
        Test::More::is(NotifyTest::count('notifications'), $rows, 'nothing stored');
        Test::More::is(NotifyTest::max_id('notifications'), $before, 'no row id used');
    });
    return $res;
}

# One test: sends with $send->(), expects 200 action-successful with a
# data.notification whose stored row matches it field by field (check_row).
# %o: expect => { field => value } checked against the answer (and so the
# row); view => the view asked for (default-view) to check the key set.
# Returns (notification hashref, whole body, response); the notification
# is undef when the request failed.
sub check_created {
    my ($name, $send, %o) = @_;
    my ($n, $body, $res);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::subtest($name => sub {
        my $rows = NotifyTest::count('notifications');
        $res = $send->();
        my $err;
        ($body, $err) = _decode($res);
        Test::More::is($res->code, 200, 'HTTP 200') or Test::More::diag(_describe($res));
        Test::More::is($res->header('Content-Type'), JSON_CT, 'content type');
        $body = {} unless ref $body eq 'HASH';
        Test::More::is($body->{status}, 'action-successful', 'status action-successful')
            or Test::More::diag("param: " . ($body->{param} // '-')
                                . ", message: " . ($body->{message} // '-'));
        Test::More::is(NotifyTest::count('notifications'), $rows + 1, 'one row stored');
        $n = ref $body->{data} eq 'HASH' ? $body->{data}{notification} : undef;
        unless (ref $n eq 'HASH') {
            Test::More::fail('data.notification is an object');
            $n = undef;
            return;
        }
        my $types = json_types($res, 'data', 'notification');
        Test::More::is($types->{id}, 'int', 'id is a JSON integer');
        Test::More::is($types->{processed}, 'int', 'processed is a JSON integer');
        Test::More::like($types->{notifyable_id}, qr/\A(?:int|null)\z/,
                         'notifyable_id is a JSON integer or null');
        my @bad = grep { $types->{$_} !~ /\A(?:string|null)\z/ }
                  grep { exists $types->{$_} }
                  grep { !/\A(?:notifyable_id|processed)\z/ } @FIELDS;
        Test::More::is("@bad", '', 'every other field is a string or null');
        my $view = $o{view} // 'default-view';
        my @want = $view eq 'internal-applications-view' ? internal_keys()
                                                           : default_keys();
        Test::More::is_deeply([sort keys %$n], \@want, "keys of $view");
        if ($view eq 'default-with-proof') {
            Test::More::ok(exists $body->{data}{proof}, 'data.proof present');
        }
        else {
            Test::More::ok(!exists $body->{data}{proof}, 'no data.proof');
        }
        for my $t (qw(created_at updated_at)) {
            Test::More::like($n->{$t} // '', qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\z/,
                             "$t is RFC 3339 UTC");
        }
        if (my $e = $o{expect}) {
            for my $k (sort keys %$e) {
                Test::More::is($n->{$k}, $e->{$k}, "answer's $k")
                    or Test::More::diag("sent for $k and got back something else");
            }
        }
        check_row($n, \%o, 1);
    });
    return ($n, $body, $res);
}

# A stored time as the API shows it: SQLite keeps 'YYYY-MM-DDTHH:MM:SSZ'
# already; PostgreSQL's timestamptz reads back as '2026-11-27 10:00:00+00'.
sub _stored_time {
    my ($k, $v) = @_;
    return $v unless defined $v && $k =~ /(?:_at|_fm)\z/;
    $v =~ s/\A(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\+00(?::?00)?|Z)\z/$1T$2Z/;
    return $v;
}

# Compares the stored row with the answer: every field of the answer, the
# times, the creator (app_id => the application's id, or session_id =>
# the session's id); with $o->{row} ({ field => value }) also fields that
# the view hides. Called inside check_created (as part of its subtest) or
# alone (then it is one test).
sub check_row {
    my ($n, $o, $inside) = @_;
    $o ||= {};
    my $body = sub {
        my $row = NotifyTest::row(notifications => $n->{id});
        Test::More::ok($row, "row $n->{id} exists") or return;
        my (%got, %want);
        for my $k (sort keys %$n) {
            $got{$k}  = _stored_time($k, $row->{$k});
            $want{$k} = $n->{$k};
        }
        Test::More::is_deeply(\%got, \%want, 'stored row equals the answer');
        if (my $r = $o->{row}) {
            for my $k (sort keys %$r) {
                Test::More::is(_stored_time($k, $row->{$k}), $r->{$k}, "stored $k");
            }
        }
        if (defined $o->{app_id}) {
            Test::More::is($row->{created_by_application_id}, $o->{app_id},
                           'created_by_application_id');
            Test::More::ok(!defined $row->{created_by_session_id},
                           'created_by_session_id is null');
        }
        if (defined $o->{session_id}) {
            Test::More::is($row->{created_by_session_id}, $o->{session_id},
                           'created_by_session_id');
            Test::More::ok(!defined $row->{created_by_application_id},
                           'created_by_application_id is null');
        }
    };
    if ($inside) {
        $body->();
    }
    else {
        local $Test::Builder::Level = $Test::Builder::Level + 1;
        Test::More::subtest("row $n->{id} matches", $body);
    }
}

1;
