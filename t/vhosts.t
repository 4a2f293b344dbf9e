# Virtual hosts with their own DBDParams have their own databases (SPEC
# section 9): nothing one host's request writes or reads touches another
# host's database, under any concurrency. The vhosts notify_db_a and
# notify_db_b of t/conf/extra.conf.in each have a database of their own
# (SQLite files t/var/vhost-a.db and vhost-b.db; in the PostgreSQL pass
# the databases of NOTIFY_TEST_PG_A and _B); both inherit the main
# server's create Location.
#  - 400 creates spread over both hosts from 16 clients at once: every
#    answer is 200, and each row is in its own host's database only (and
#    none in the main server's);
#  - one Idempotency-Key used on both hosts: one row in each, neither
#    answer a replay; a repeat on one host replays that host's answer.
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

plan tests => 12;

my $J    = JSON->new->utf8->canonical;
my $PATH = '/api/v1/notifications/create';
my %HOST = (A => 'notify_db_a', B => 'notify_db_b');
my %DB   = NotifyTest::is_pg()
    ? (A => $ENV{NOTIFY_TEST_PG_A}, B => $ENV{NOTIFY_TEST_PG_B})
    : (A => File::Spec->catfile(NotifyTest::t_dir(), 'var', 'vhost-a.db'),
       B => File::Spec->catfile(NotifyTest::t_dir(), 'var', 'vhost-b.db'));
my %URL;
$URL{$_} = 'http://' . NotifyTest::hostport($HOST{$_}) . $PATH for sort keys %HOST;

# One application token known to both databases.
my $token = NotifyTest::random_hex(32);
for my $h (qw(A B)) {
    NotifyTest::connect_database($DB{$h})->do(
        'INSERT INTO api_applications (name, token_sha256, active, created_at)'
        . ' VALUES (?, ?, 1, ?)', undef,
        "vhosts-$h", NotifyTest::token_sha256($token), NotifyTest::utc_time());
}

sub count_in {
    my ($h, $key) = @_;
    my ($n) = NotifyTest::connect_database($DB{$h})->selectrow_array(
        'SELECT COUNT(*) FROM notifications WHERE "key" = ?', undef, $key);
    return $n;
}

sub post {
    my ($ua, $h, $body, %headers) = @_;
    return $ua->post($URL{$h}, 'Content-Type' => 'application/json',
                     %headers, Content => $body);
}

# ---- 400 creates over both hosts from 16 clients
{
    my $tag = NotifyTest::random_hex(4);
    my ($clients, $each) = (16, 25);
    my $out = File::Spec->catdir(NotifyTest::t_dir(), 'var', "vhosts-$tag");
    File::Path::make_path($out);
    my @pids;
    for my $i (1 .. $clients) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 60);
            open my $fh, '>', "$out/$i" or POSIX::_exit(1);
            for my $k (1 .. $each) {
                my $h = ($i + $k) % 2 ? 'A' : 'B';
                my $res = post($ua, $h, $J->encode({ token => $token,
                    key => "$h-$tag", status => "$i-$k" }));
                my $b = eval { $J->decode($res->content) } || {};
                print {$fh} join(' ', $h, $res->code,
                                 $b->{status} // 'not-json',
                                 $b->{data}{notification}{id} // '-'), "\n";
            }
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my (@lines, %ids);
    for my $i (1 .. $clients) {
        open my $fh, '<', "$out/$i" or next;
        chomp(my @l = <$fh>);
        push @lines, @l;
    }
    File::Path::remove_tree($out);
    my @bad = grep { !/\A[AB] 200 action-successful \d+\z/ } @lines;
    is scalar(@lines), $clients * $each, 'every create was answered';
    is_deeply \@bad, [], 'every answer is 200 action-successful'
        or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
    for (@lines) {
        my ($h, undef, undef, $id) = split ' ';
        push @{ $ids{$h} }, $id;
    }
    my $half = $clients * $each / 2;
    is count_in(A => "A-$tag"), $half, "host A's database holds A's $half creates";
    is count_in(B => "B-$tag"), $half, "host B's database holds B's $half creates";
    is count_in(A => "B-$tag") + count_in(B => "A-$tag"), 0,
        "neither database holds the other host's creates";
    is NotifyTest::count('notifications', '"key" IN (?, ?)', "A-$tag", "B-$tag"),
        0, "the main server's database holds none";
    my @mismatch;
    for my $h (qw(A B)) {
        my $rows = NotifyTest::connect_database($DB{$h})->selectall_hashref(
            'SELECT id, "key" FROM notifications WHERE "key" = ?', 'id',
            undef, "$h-$tag");
        push @mismatch, grep { !$rows->{$_} } @{ $ids{$h} };
    }
    is_deeply \@mismatch, [], "each answer's id is a row of its own host's database";
}

# ---- one Idempotency-Key on both hosts
{
    my $tag  = 'vh-idem-' . NotifyTest::random_hex(4);
    my $body = $J->encode({ token => $token, key => $tag });
    my $ua   = LWP::UserAgent->new(timeout => 30);
    my %res  = map { $_ => post($ua, $_, $body, 'Idempotency-Key' => "k-$tag") }
               qw(A B);
    is_deeply [map { $res{$_}->code } qw(A B)], [200, 200],
        'the same key on both hosts: 200 on each';
    is_deeply [grep { $res{$_}->header('Idempotent-Replayed') } qw(A B)], [],
        'neither is a replay of the other host';
    is count_in(A => $tag) . '/' . count_in(B => $tag), '1/1',
        'one row in each database';
    my $again = post($ua, 'A', $body, 'Idempotency-Key' => "k-$tag");
    is(($again->header('Idempotent-Replayed') // '') . ' ' . $again->content,
       'true ' . $res{A}->content, "a repeat on host A replays host A's answer");
    is count_in(A => $tag), 1, 'and stores nothing';
}
