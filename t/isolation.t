# A slow provider never holds up requests that send nothing (SPEC section
# 9): no database connection is held while Mandrill is called. The vhost
# notify_smallpool of t/conf/extra.conf.in reaches the main database
# through a pool of 2 connections per child; its /slow/ route sends to a
# mock Mandrill that hangs 4 s, then accepts (within a 10 s timeout).
#  - 24 email creates are sent at once and wait on Mandrill (the mock has
#    all 24 requests);
#  - then plain creates on the same host: each is answered, and every one
#    of them before any email create (order only, never a timing).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Path ();
use File::Spec ();
use JSON ();
use LWP::UserAgent ();
use NotifyTest;
use POSIX ();
use Time::HiRes ();

plan tests => 6;

my $J     = JSON->new->utf8->canonical;
my $VHOST = 'notify_smallpool';
my $BASE  = 'http://' . NotifyTest::hostport($VHOST);
my $LOG   = File::Spec->catfile(NotifyTest::t_dir(), 'var', 'mock-mandrill.log');
my ($token) = NotifyTest::new_app(name => 'isolation-t');
my $tag   = NotifyTest::random_hex(4);
my $EMAILS = 24;
my $PLAIN  = 20;

sub hang_requests_since {
    my ($mark) = @_;
    open my $fh, '<:raw', $LOG or return 0;
    seek $fh, $mark, 0;
    my $n = grep { /"mode":"hang"/ && /\Q$tag\E/ } <$fh>;
    close $fh;
    return $n;
}

my $mark = -s $LOG // 0;
my $out  = File::Spec->catdir(NotifyTest::t_dir(), 'var', "isolation-$tag");
File::Path::make_path($out);

# the email creates, each in a client of its own
my @pids;
for my $i (1 .. $EMAILS) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 60);
        my $res = $ua->post("$BASE/slow/notifications/create",
            'Content-Type' => 'application/json',
            Content => $J->encode({ token => $token, key => "slow-$tag",
                notification_type => 'email', email_from => 'ops@example.com',
                email_subject => "isolation $tag", email_to => 'a@example.com' }));
        my $done = Time::HiRes::time();
        open my $fh, '>', "$out/$i" or POSIX::_exit(1);
        print {$fh} join(' ', $done, $res->code), "\n";
        close $fh;
        POSIX::_exit(0);
    }
    push @pids, $pid;
}

# every email create is waiting on Mandrill
my $deadline = Time::HiRes::time() + 30;
my $waiting = 0;
while (Time::HiRes::time() < $deadline) {
    $waiting = hang_requests_since($mark);
    last if $waiting >= $EMAILS;
    Time::HiRes::sleep(0.05);
}
is $waiting, $EMAILS, "all $EMAILS email creates reached the hanging Mandrill";

# plain creates meanwhile, on the same host and pool
my $ua = LWP::UserAgent->new(timeout => 60);
my (@plain_done, @plain_codes);
for my $k (1 .. $PLAIN) {
    my $res = $ua->post("$BASE/api/v1/notifications/create",
        'Content-Type' => 'application/json',
        Content => $J->encode({ token => $token, key => "plain-$tag", status => "$k" }));
    push @plain_done, Time::HiRes::time();
    push @plain_codes, $res->code;
}

waitpid $_, 0 for @pids;
my (@email_done, @email_codes);
for my $i (1 .. $EMAILS) {
    open my $fh, '<', "$out/$i" or next;
    my ($t, $code) = split ' ', scalar <$fh>;
    push @email_done, $t;
    push @email_codes, $code;
}
File::Path::remove_tree($out);

is_deeply \@plain_codes, [(200) x $PLAIN], 'every plain create is answered 200';
is_deeply \@email_codes, [(200) x $EMAILS], 'every email create ends 200 (Mandrill accepted)';
my ($last_plain) = sort { $b <=> $a } @plain_done;
my ($first_email) = sort { $a <=> $b } @email_done;
ok @email_done == $EMAILS && $last_plain < $first_email,
    'every plain create was answered before any email create'
    or diag(sprintf 'last plain %.3f, first email %.3f',
            $last_plain // 0, $first_email // 0);
is NotifyTest::count('notifications', '"key" = ?', "plain-$tag"), $PLAIN,
    'the plain creates are stored';
is NotifyTest::count('notifications', '"key" = ? AND processed = 1', "slow-$tag"),
    $EMAILS, 'the email creates are stored and sent';
