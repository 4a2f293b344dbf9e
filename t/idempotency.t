# Idempotency-Key (SPEC sections 6 and 9): replay of the first answer,
# reuse with another body, a request still in flight, malformed keys, the
# window, keys per token, a crash freeing the key, and 32 concurrent
# repeats ending in one row and one answer.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Digest::SHA qw(sha256_hex);
use JSON ();
use NotifyTest;

plan tests => 46;

# The staged crash below (t/lib/NotifyTest.pm fails on any other line at
# warn or above).
NotifyTest::log_allow(qr/\[notify:error\] .*storing the notification: notify_insert: (ERROR:\s+)?staged/);

my $J = JSON->new->utf8->canonical;
my ($token) = NotifyTest::new_app(name => 'idem-t');
my ($other) = NotifyTest::new_app(name => 'idem-t-other');

sub send_keyed {
    my ($body, $key, %o) = @_;
    return NotifyTest::post_json($body,
        headers => { defined $key ? ('Idempotency-Key' => $key) : () }, %o);
}

sub rows_with_key {
    my ($k) = @_;
    return NotifyTest::count('notifications', '"key" = ?', $k);
}

sub uniq { return "idem-" . NotifyTest::random_hex(6) }

# --- first answer, then a replay of it
{
    my $k    = uniq();
    my $body = $J->encode({ token => $token, key => $k, status => 'new' });
    my $r1   = send_keyed($body, "key-$k");
    is $r1->code, 200, 'first keyed create: 200';
    ok !defined $r1->header('Idempotent-Replayed'), 'first answer is not marked replayed';
    my $r2 = send_keyed($body, "key-$k");
    is $r2->code, 200, 'repeat: same code';
    is $r2->header('Idempotent-Replayed'), 'true', 'repeat: Idempotent-Replayed: true';
    is $r2->content, $r1->content, 'repeat: byte-identical body';
    is $r2->header('Content-Type'), 'application/json; charset=utf-8', 'repeat: JSON content type';
    is rows_with_key($k), 1, 'repeat: no new row';
    my $stored = NotifyTest::dbh()->selectrow_hashref(
        'SELECT http_status, response_body, request_sha256 FROM idempotency_keys'
        . ' WHERE idem_key = ?', undef, "key-$k");
    is $stored->{http_status}, 200, 'the key row holds the answer code';
    is $stored->{response_body}, $r1->content, 'the key row holds the answer body';
    is $stored->{request_sha256}, sha256_hex($body), 'the key row holds the body hash';

    # Same key, another body (even a single byte): 422, nothing stored.
    my $r3 = send_keyed($body . ' ', "key-$k");
    is $r3->code, 422, 'same key, other bytes: 422';
    is NotifyTest::json_body($r3)->{status}, 'idempotency-key-reused', 'idempotency-key-reused';
    my $r4 = send_keyed($J->encode({ token => $token, key => "$k-b" }), "key-$k");
    is $r4->code, 422, 'same key, other parameters: 422';
    is rows_with_key("$k-b"), 0, 'nothing stored for the reused key';

    # Keys belong to a token: the other application's same key is its own.
    my $r5 = send_keyed($J->encode({ token => $other, key => $k, status => 'new' }), "key-$k");
    is $r5->code, 200, 'another token, same key: 200';
    ok !defined $r5->header('Idempotent-Replayed'), 'another token: not a replay';
    is rows_with_key($k), 2, 'another token: its own row';

    # A repeat with a body that fails validation gets the validation error.
    my $r6 = send_keyed($J->encode({ token => $token, key => $k, email_to => 'bob@' }), "key-$k");
    is $r6->code, 400, 'reused key, invalid body: 400';
    is NotifyTest::json_body($r6)->{param}, 'email_to', 'reused key, invalid body: the validation error';
}

# --- malformed keys: invalid-param Idempotency-Key, checked last
{
    my $k = uniq();
    my @bad = ('', 'a b', "tab\there", 'x' x 256, "caf\xc3\xa9");
    for my $key (@bad) {
        my $res = send_keyed({ token => $token, key => $k }, $key);
        my $b = NotifyTest::json_body($res);
        is_deeply [ $res->code, $b->{status}, $b->{param} ],
            [ 400, 'invalid-param', 'Idempotency-Key' ],
            'malformed key (' . length($key) . ' bytes): invalid-param';
    }
    is rows_with_key($k), 0, 'malformed keys store nothing';
    my $ok = send_keyed({ token => $token, key => $k }, '~' x 255);
    is $ok->code, 200, '255 printable bytes are a key';
    my $rank = send_keyed({ token => $token, extension => [] }, 'a b');
    is NotifyTest::json_body($rank)->{param}, 'extension', 'a bad parameter outranks a bad key';
    my $auth = send_keyed({ token => 'nope-' . uniq() }, 'a b');
    is $auth->code, 401, 'a bad token outranks a bad key';
}

# --- a first request still in flight: 409 with Retry-After; an abandoned
# claim (older than NotifyMandrillTimeout + 60 s) is taken over.
{
    my $k    = uniq();
    my $body = $J->encode({ token => $token, key => $k });
    my $dbh  = NotifyTest::dbh();
    my $ins  = 'INSERT INTO idempotency_keys (principal, idem_key, request_sha256,'
             . ' created_at) VALUES (?, ?, ?, ?)';
    $dbh->do($ins, undef, NotifyTest::token_sha256($token), "fly-$k",
             sha256_hex($body), NotifyTest::utc_time(1));
    my $res = send_keyed($body, "fly-$k");
    is $res->code, 409, 'in flight: 409';
    is NotifyTest::json_body($res)->{status}, 'request-in-progress', 'request-in-progress';
    like $res->header('Retry-After') // '', qr/\A[0-9]+\z/, 'Retry-After is whole seconds';
    is rows_with_key($k), 0, 'in flight: nothing stored';

    $dbh->do($ins, undef, NotifyTest::token_sha256($token), "dead-$k",
             sha256_hex($body), NotifyTest::utc_time(600));
    my $taken = send_keyed($body, "dead-$k");
    is $taken->code, 200, 'an abandoned claim is taken over';
    is rows_with_key($k), 1, 'taken over: one row';
}

# --- after NotifyIdempotencyWindow (86400 s) the key is free again
{
    my $k    = uniq();
    my $body = $J->encode({ token => $token, key => $k });
    my $r1   = send_keyed($body, "win-$k");
    is $r1->code, 200, 'window: first create';
    NotifyTest::dbh()->do('UPDATE idempotency_keys SET created_at = ? WHERE idem_key = ?',
        undef, NotifyTest::utc_time(86400 + 60), "win-$k");
    my $r2 = send_keyed($body, "win-$k");
    is $r2->code, 200, 'after the window: 200';
    ok !defined $r2->header('Idempotent-Replayed'), 'after the window: not a replay';
    isnt NotifyTest::json_body($r2)->{data}{notification}{id},
         NotifyTest::json_body($r1)->{data}{notification}{id}, 'after the window: a new notification';
    is rows_with_key($k), 2, 'after the window: a second row';
}

# --- an application-crash frees the key (nothing was written). A trigger
# makes the insert fail for one key value.
{
    my $dbh  = NotifyTest::dbh();
    my $k    = uniq();
    my $body = $J->encode({ token => $token, key => $k });
    my $pg   = $dbh->{Driver}{Name} eq 'Pg';
    if ($pg) {
        $dbh->do(qq{CREATE FUNCTION idem_crash() RETURNS trigger AS \$\$
                    BEGIN IF NEW."key" = '$k' THEN RAISE EXCEPTION 'staged';
                    END IF; RETURN NEW; END \$\$ LANGUAGE plpgsql});
        $dbh->do('CREATE TRIGGER idem_crash BEFORE INSERT ON notifications'
                 . ' FOR EACH ROW EXECUTE FUNCTION idem_crash()');
    }
    else {
        $dbh->do(qq{CREATE TRIGGER idem_crash BEFORE INSERT ON notifications
                    WHEN NEW."key" = '$k' BEGIN SELECT RAISE(ABORT, 'staged'); END});
    }
    my $r1 = send_keyed($body, "crash-$k");
    $dbh->do($pg ? 'DROP TRIGGER idem_crash ON notifications' : 'DROP TRIGGER idem_crash');
    $dbh->do('DROP FUNCTION idem_crash()') if $pg;
    is $r1->code, 500, 'staged crash: 500';
    is NotifyTest::json_body($r1)->{status}, 'application-crash', 'application-crash';
    is NotifyTest::count('idempotency_keys', 'idem_key = ?', "crash-$k"), 0,
        'the crash freed the key';
    my $r2 = send_keyed($body, "crash-$k");
    is $r2->code, 200, 'the same key then creates';
}

# --- 32 concurrent repeats: one row, one answer. Clients honour
# Retry-After on 409, as a caller should.
{
    my $k    = uniq();
    my $body = $J->encode({ token => $token, key => $k, status => 'race' });
    my $n    = 32;
    my (%codes, %bodies);
    for (NotifyTest::concurrent_until_done($n, sub { send_keyed($body, "race-$k") })) {
        $codes{ $_->[0] }++;
        $bodies{ $_->[1] }++;
    }
    is_deeply \%codes, { 200 => $n }, '32 concurrent repeats all end in 200';
    is scalar(keys %bodies), 1, '... with one identical body';
    is rows_with_key($k), 1, '... and one row';
}
