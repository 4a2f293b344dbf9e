package MockMandrill;

# A mock of Mandrill's messages/send.json, run inside the test httpd as a
# mod_perl response handler (t/conf/extra.conf.in, block "t/mandrill.t"):
#
#     <Location /mock-mandrill>
#         SetHandler perl-script
#         PerlResponseHandler MockMandrill
#         PerlSetVar MockMandrillLog @ServerRoot@/var/mock-mandrill.log
#     </Location>
#
# The mode is the last segment of the path (/mock-mandrill/<mode>):
#
#   sent       200, every recipient "sent"
#   queued     200, every recipient "queued"
#   scheduled  200, every recipient "scheduled"
#   mixed      200, the first recipient "sent", the others "rejected"
#              (reject_reason "hard-bounce")
#   rejected   200, every recipient "rejected" (reject_reason "hard-bounce")
#   invalid    200, every recipient "invalid" (reject_reason null)
#   empty      200, an empty list
#   nostatus   200, one entry per recipient with "email" and "_id" but no
#              "status"
#   nonobject  200, a list of numbers and strings, one per recipient
#   error500   500, Mandrill's error object (name "Invalid_Key")
#   http503    503, an HTML page (a proxy in the way)
#   junk       200, a body that is not JSON
#   hang       sleeps 4 seconds (longer than NotifyMandrillTimeout 1),
#              then answers as "sent"
#   slow       sleeps 0.2 seconds, then answers as "sent"
#   flakyN     (N a digit) answers 503 to the first N requests about a
#              notification (by message.metadata.notification_id and
#              message.subject, so a database made anew does not meet
#              the counts of an earlier one's ids), then
#              as "sent"; the count is kept in a file per notification
#              beside MockMandrillLog, so every process of the server
#              sees it
#   anything else: 404 with a Mandrill error object (name "Unknown_Mode")
#
# Each recipient result is {"email","status","_id","reject_reason"}, one per
# entry of message.to, in order; every _id is a fresh 32-hex id.
#
# Every request is recorded, before answering, as one JSON line appended to
# the MockMandrillLog file (flock'ed, so concurrent requests never mix):
#
#   {"mode", "method", "content_type", "body" (the raw request body),
#    "first" (1 when this was the first request on its TCP connection:
#    Apache2::Connection's keepalives == 0), "keepalives", "pid",
#    "http_status", "answer" (the body sent back), "time"}
#
# Nothing is written to the error_log: the request body holds the
# Mandrill key, which must never appear there (t/mandrill.t checks).

use strict;
use warnings;

use Apache2::Connection ();
use Apache2::RequestIO ();
use Apache2::RequestRec ();
use Apache2::RequestUtil ();
use Apache2::Response ();
use APR::Table ();
use Apache2::Const -compile => qw(OK);
use Digest::MD5 ();
use Encode ();
use Fcntl qw(:flock);
use JSON ();
use Time::HiRes ();

my $JSON = JSON->new->utf8->canonical->allow_nonref;
my $SEQ  = 0;

# How long "hang" keeps Mandrill silent.
our $HANG_SECONDS = 4;

my %ALL = (
    sent      => ['sent', undef],
    queued    => ['queued', undef],
    scheduled => ['scheduled', undef],
    rejected  => ['rejected', 'hard-bounce'],
    invalid   => ['invalid', undef],
    hang      => ['sent', undef],
    slow      => ['sent', undef],
);

sub _id {
    my ($i) = @_;
    $SEQ++;
    return Digest::MD5::md5_hex(join ' ', $$, Time::HiRes::time(), $SEQ, $i,
                                rand());
}

# (http status, content type, body) for a mode and the decoded request.
sub _answer {
    my ($mode, $req) = @_;
    my @to;
    if (ref $req eq 'HASH' && ref $req->{message} eq 'HASH'
        && ref $req->{message}{to} eq 'ARRAY') {
        @to = @{ $req->{message}{to} };
    }
    my $email = sub {
        my ($t) = @_;
        return ref $t eq 'HASH' ? $t->{email} : undef;
    };
    my @results;
    if ($mode =~ /\Aflaky(\d)\z/) {
        my $failures = $1;
        my $msg = ref $req eq 'HASH' && ref $req->{message} eq 'HASH'
                ? $req->{message} : {};
        my $id = join '-',
            (ref $msg->{metadata} eq 'HASH'
                ? $msg->{metadata}{notification_id} // 'none' : 'none'),
            Digest::MD5::md5_hex(Encode::encode('UTF-8', $msg->{subject} // ''));
        if (_count($id) <= $failures) {
            return (503, 'text/html', "<html>flaky: busy</html>\n");
        }
        $mode = 'sent';
    }
    if (my $all = $ALL{$mode}) {
        my $i = 0;
        @results = map {
            { email => $email->($_), status => $all->[0],
              _id => _id($i++), reject_reason => $all->[1] }
        } @to;
    }
    elsif ($mode eq 'mixed') {
        my $i = 0;
        @results = map {
            my $first = $i == 0;
            { email => $email->($_),
              status => $first ? 'sent' : 'rejected',
              _id => _id($i++),
              reject_reason => $first ? undef : 'hard-bounce' }
        } @to;
    }
    elsif ($mode eq 'empty') {
        @results = ();
    }
    elsif ($mode eq 'nostatus') {
        my $i = 0;
        @results = map { { email => $email->($_), _id => _id($i++) } } @to;
    }
    elsif ($mode eq 'nonobject') {
        my $i = 0;
        @results = map { $i++ % 2 ? $email->($_) : 42 } @to;
    }
    elsif ($mode eq 'error500') {
        return (500, 'application/json', $JSON->encode({
            status => 'error', code => -1, name => 'Invalid_Key',
            message => 'Invalid API key' }));
    }
    elsif ($mode eq 'http503') {
        return (503, 'text/html',
                "<html><body><h1>503 Service Unavailable</h1></body></html>\n");
    }
    elsif ($mode eq 'junk') {
        return (200, 'text/html', "<html><body>this is not JSON</body></html>\n");
    }
    else {
        return (404, 'application/json', $JSON->encode({
            status => 'error', code => -404, name => 'Unknown_Mode',
            message => "mock-mandrill has no mode '$mode'" }));
    }
    return (200, 'application/json', $JSON->encode(\@results));
}

# Counts a request about notification $id; returns how many so far.
our $COUNT_DIR;

sub _count {
    my ($id) = @_;
    $id =~ s/[^0-9A-Za-z]//g;
    open my $fh, '+>>', "$COUNT_DIR/mock-flaky-$id" or return 1;
    flock $fh, LOCK_EX;
    seek $fh, 0, 0;
    my $n = (<$fh> // 0) + 1;
    truncate $fh, 0;
    print {$fh} $n;
    close $fh;
    return $n;
}

sub _record {
    my ($r, $entry) = @_;
    my $path = $r->dir_config('MockMandrillLog') or return;
    open my $fh, '>>:raw', $path or return;
    flock $fh, LOCK_EX;
    print {$fh} $JSON->encode($entry) . "\n";
    close $fh;    # flushes, then unlocks
    return;
}

sub handler {
    my ($r) = @_;
    my @seg  = grep { length } split m{/}, $r->uri;
    my $mode = @seg ? $seg[-1] : '';

    my $body = '';
    while (1) {
        my $n = $r->read(my $chunk, 65536);
        last unless $n;
        $body .= $chunk;
    }
    my $keepalives = $r->connection->keepalives;
    my $req = eval { $JSON->decode($body) };
    ($COUNT_DIR = $r->dir_config('MockMandrillLog') // '/tmp/x') =~ s{/[^/]*\z}{};
    my ($status, $ctype, $answer) = _answer($mode, $req);

    _record($r, {
        mode         => $mode,
        method       => $r->method,
        content_type => scalar $r->headers_in->{'Content-Type'},
        body         => $body,
        first        => $keepalives == 0 ? 1 : 0,
        keepalives   => $keepalives + 0,
        pid          => $$,
        http_status  => $status,
        answer       => $answer,
        time         => Time::HiRes::time(),
    });

    sleep $HANG_SECONDS if $mode eq 'hang';
    Time::HiRes::sleep(0.2) if $mode eq 'slow';

    $r->status($status);
    $r->content_type($ctype);
    $r->set_content_length(length $answer);
    # The client may be gone (hang): a failed write is not worth a log line.
    eval { $r->print($answer); $r->rflush; 1 };
    return Apache2::Const::OK;
}

1;
