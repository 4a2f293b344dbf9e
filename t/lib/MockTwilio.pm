package MockTwilio;

# A mock of Twilio's Messages resource, run inside the test httpd as a
# mod_perl response handler (t/conf/extra.conf.in):
#
#   POST /mock-twilio/<mode>/Accounts/<sid>/Messages.json
#
# with the form To, From, Body, MediaUrl, StatusCallback. Modes:
#   accept     201 {"sid": "SM<32 hex>", "status": "queued", ...}
#   invalid    400 {"code": 21211, "message": "The 'To' number ... is not a
#              valid phone number.", "status": 400}
#   busy       429 {"code": 20429, "message": "Too Many Requests"}
#   error      500 {"code": 20500, "message": "Internal Server Error"}
#   flakyN     (N a digit) 503 to the first N requests about one Body (a
#              count file per Body beside MockTwilioLog), then as accept
#   hang       sleeps 4 seconds, then as accept
#   anything else: 404 {"code": 20404}
#
# Every request is recorded, before answering, as one JSON line appended
# to the MockTwilioLog file (flock'ed):
#   {"mode", "method", "path", "content_type", "authorization" (the
#    Authorization header as sent: it holds the token, so nothing is
#    written to the error_log), "form" (the fields, decoded), "raw"
#    (the body), "http_status", "answer", "time"}

use strict;
use warnings;

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

my $JSON = JSON->new->utf8->canonical;
my $SEQ  = 0;

our $HANG_SECONDS = 4;

sub _form {
    my ($body) = @_;
    my %f;
    for my $pair (split /&/, $body) {
        next unless length $pair;
        my ($k, $v) = split /=/, $pair, 2;
        for ($k, $v) {
            $_ //= '';
            tr/+/ /;
            s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        }
        $f{ Encode::decode('UTF-8', $k) } = Encode::decode('UTF-8', $v);
    }
    return \%f;
}

sub _count {
    my ($dir, $key) = @_;
    my $id = Digest::MD5::md5_hex(Encode::encode('UTF-8', $key));
    open my $fh, '+>>', "$dir/mock-twilio-flaky-$id" or return 1;
    flock $fh, LOCK_EX;
    seek $fh, 0, 0;
    my $n = (<$fh> // 0) + 1;
    truncate $fh, 0;
    print {$fh} $n;
    close $fh;
    return $n;
}

sub _answer {
    my ($mode, $form, $dir) = @_;
    if ($mode =~ /\Aflaky(\d)\z/) {
        return (503, { code => 20503, message => 'Service Unavailable' })
            if _count($dir, $form->{Body} // '') <= $1;
        $mode = 'accept';
    }
    if ($mode eq 'accept' || $mode eq 'hang') {
        my $sid = 'SM' . Digest::MD5::md5_hex($$ . Time::HiRes::time() . ++$SEQ);
        return (201, { sid => $sid, status => 'queued', to => $form->{To},
                       from => $form->{From}, body => $form->{Body},
                       num_media => defined $form->{MediaUrl} ? '1' : '0' });
    }
    return (400, { code => 21211, status => 400, more_info =>
                   'https://www.twilio.com/docs/errors/21211',
                   message => "The 'To' number $form->{To} is not a valid phone number." })
        if $mode eq 'invalid';
    return (429, { code => 20429, status => 429, message => 'Too Many Requests' })
        if $mode eq 'busy';
    return (500, { code => 20500, status => 500, message => 'Internal Server Error' })
        if $mode eq 'error';
    return (404, { code => 20404, status => 404, message => 'Unknown mode' });
}

sub handler {
    my ($r) = @_;
    my ($mode) = $r->uri =~ m{/mock-twilio/([^/]+)/};
    $mode //= '';
    my $body = '';
    while (1) {
        my $n = $r->read(my $chunk, 65536);
        last unless $n;
        $body .= $chunk;
    }
    my $log = $r->dir_config('MockTwilioLog');
    (my $dir = $log // '/tmp/x') =~ s{/[^/]*\z}{};
    my $form = _form($body);
    my ($status, $doc) = _answer($mode, $form, $dir);
    my $answer = $JSON->encode($doc);
    if ($log && open my $fh, '>>:raw', $log) {
        flock $fh, LOCK_EX;
        print {$fh} $JSON->encode({
            mode          => $mode,
            method        => $r->method,
            path          => $r->uri,
            content_type  => scalar $r->headers_in->{'Content-Type'},
            authorization => scalar $r->headers_in->{'Authorization'},
            form          => $form,
            raw           => $body,
            http_status   => $status,
            answer        => $answer,
            time          => Time::HiRes::time(),
        }) . "\n";
        close $fh;
    }
    sleep $HANG_SECONDS if $mode eq 'hang';
    $r->status($status);
    $r->content_type('application/json');
    $r->set_content_length(length $answer);
    eval { $r->print($answer); $r->rflush; 1 };
    return Apache2::Const::OK;
}

1;
