# The outbox with several hosts on one database (SPEC section 11): two
# more httpd instances on the test server's database, each with the same
# queued routes and so its own worker, sending to the mock Mandrill of the
# test server. Polls with deadlines; asserts on states and counts.
#  - 200 queued emails, a slow Mandrill: every notification is sent
#    exactly once (counted per metadata.notification_id in the mock's log);
#  - the children of both hosts killed with SIGKILL while an email is in
#    Mandrill's hands: the row stays claimed until its lock expires, then
#    is taken again and sent at most once more;
#  - a graceful restart of both hosts during a backlog: nothing lost,
#    nothing sent twice.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Spec ();
use JSON ();
use LWP::UserAgent ();
use NotifyTest;
use POSIX ();
use Time::HiRes ();

plan tests => 9;

my $J     = JSON->new->utf8->canonical;
my $t     = NotifyTest::t_dir();
my $httpd = NotifyTest::httpd_binary();
my $LOG   = File::Spec->catfile($t, 'var', 'mock-mandrill.log');
my $mock  = 'http://127.0.0.1:' . Apache::Test::vars('port') . '/mock-mandrill';
my $KEY   = 'md-TEST-KEY-5f3a9c1e7b2d4680';
my ($token) = NotifyTest::new_app(name => 'outbox-hosts-t');

# Two more hosts, each with its own worker (stopped when the test ends).
my @hosts = map { NotifyTest::start_host($_, conf => <<"CONF") } qw(outbox-host-1 outbox-host-2);
StartServers 2
ThreadsPerChild 16
MaxRequestWorkers 64
NotifyDeliveryInterval 1
NotifyDeliveryBackoff 1 1
NotifyMandrillKey $KEY
NotifyDeliveryMode queued
<Location /hq/notifications/create>
    SetHandler notify-create
    NotifyMandrillURL $mock/slow
</Location>
<Location /hq-hang/notifications/create>
    SetHandler notify-create
    NotifyMandrillURL $mock/hang
    NotifyMandrillTimeout 10
</Location>
CONF

sub create {
    my ($ua, $host, $route, $tag) = @_;
    my $res = $ua->post("http://127.0.0.1:$host->{port}/$route/notifications/create",
        'Content-Type' => 'application/json',
        Content => $J->encode({ token => $token, key => $tag,
            notification_type => 'email', email_from => 'ops@example.com',
            email_subject => "hosts $tag", email_to => 'jane@example.com' }));
    my $b = eval { $J->decode($res->content) } || {};
    return $res->code == 200 ? $b->{data}{notification}{id} : undef;
}

# notification_id -> requests the mock got about it
sub sends {
    my %n;
    open my $fh, '<:raw', $LOG or return \%n;
    while (my $line = <$fh>) {
        my $e = eval { $J->decode($line) } or next;
        my $req = eval { $J->decode($e->{body}) } or next;
        my $id = $req->{message}{metadata}{notification_id} // next;
        $n{$id}++;
    }
    close $fh;
    return \%n;
}

sub sends_of {
    my ($id) = @_;
    return sends()->{$id // 0} // 0;
}

sub states_of {
    my ($tag) = @_;
    my $rows = NotifyTest::dbh()->selectall_arrayref(
        'SELECT o.state, COUNT(*) FROM notification_outbox o JOIN notifications n'
        . ' ON n.id = o.notification_id WHERE n."key" = ? GROUP BY o.state', undef, $tag);
    return { map { @$_ } @$rows };
}

sub wait_all_sent {
    my ($tag, $n, $seconds) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    while (Time::HiRes::time() < $deadline) {
        return 1 if (states_of($tag)->{sent} // 0) == $n;
        Time::HiRes::sleep(0.2);
    }
    return 0;
}

my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 30);

# ---- 200 queued emails over two hosts
{
    my $tag = 'hosts-' . NotifyTest::random_hex(4);
    my @ids = grep { defined } map { create($ua, $hosts[$_ % 2], 'hq', $tag) } 1 .. 200;
    is scalar(@ids), 200, '200 queued creates answered 200';
    ok wait_all_sent($tag, 200, 120), 'every one is sent'
        or diag explain states_of($tag);
    my $sends = sends();
    my @wrong = grep { ($sends->{$_} // 0) != 1 } @ids;
    is_deeply \@wrong, [], 'each notification reached Mandrill exactly once'
        or diag join ', ', map { "$_: " . ($sends->{$_} // 0) } @wrong[0 .. ($#wrong < 9 ? $#wrong : 9)];
}

# ---- the worker's child killed while Mandrill holds the email
{
    my $tag = 'hosts-kill-' . NotifyTest::random_hex(4);
    my $id = create($ua, $hosts[0], 'hq-hang', $tag);
    my $deadline = Time::HiRes::time() + 30;
    Time::HiRes::sleep(0.1) until sends_of($id) >= 1 || Time::HiRes::time() > $deadline;
    is sends_of($id), 1, 'the email is in Mandrill\'s hands';
    for my $h (@hosts) {
        open my $p, '<', "$h->{dir}/httpd.pid" or next;
        chomp(my $parent = <$p>);
        for my $child (split ' ', `pgrep -P $parent`) {
            kill 'KILL', $child;
        }
    }
    Time::HiRes::sleep(3);
    my ($state) = NotifyTest::dbh()->selectrow_array(
        'SELECT state FROM notification_outbox WHERE notification_id = ?', undef, $id);
    is $state, 'sending', 'killed mid-send: still claimed, not sent again while locked';
    # Its lock expires (NotifyMandrillTimeout 10 + 60 s): made to now.
    NotifyTest::dbh()->do('UPDATE notification_outbox SET locked_until = ? WHERE'
                          . ' notification_id = ?', undef, NotifyTest::utc_time(1), $id);
    ok wait_all_sent($tag, 1, 60), 'taken again and sent after its lock';
    is sends_of($id), 2, 'sent at most once more';
}

# ---- a graceful restart during a backlog
{
    my $tag = 'hosts-graceful-' . NotifyTest::random_hex(4);
    my @ids = grep { defined } map { create($ua, $hosts[$_ % 2], 'hq', $tag) } 1 .. 60;
    Time::HiRes::sleep(0.5);
    system($httpd, '-f', "$_->{dir}/httpd.conf", '-k', 'graceful') for @hosts;
    ok wait_all_sent($tag, 60, 120), 'every one is sent, none lost'
        or diag explain states_of($tag);
    my $sends = sends();
    my @wrong = grep { ($sends->{$_} // 0) != 1 } @ids;
    is_deeply \@wrong, [], 'none sent twice';
}
