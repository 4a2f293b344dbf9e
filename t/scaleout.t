# Many Apache hosts on one database (SPEC sections 6 and 9): a second httpd
# on its own port, sharing the test server's database, then
#  - 2,000 creates spread over both at 32 connections: every 200 is exactly
#    one row and no other status appears;
#  - 32 concurrent creates with one Idempotency-Key over both: one row,
#    one answer;
#  - on PostgreSQL, the server restarted in the middle of a run: answers in
#    the outage are JSON identify-request-error or application-crash, the
#    module reconnects by itself, and no acknowledged create is missing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Path ();
use JSON ();
use LWP::UserAgent ();
use NotifyTest;
use POSIX ();
use Time::HiRes ();

plan tests => 14;

# The PostgreSQL outage below: mod_dbd's failed connections, and the
# module's failures for want of one (t/lib/NotifyTest.pm fails on any
# other line at warn or above).
NotifyTest::log_allow(
    qr/\[dbd:(error|crit)\] .*AH0(0629|0633|0636|0639|2655):/,
    qr/\[notify:(warn|error)\] .*(no database connection|terminating connection|server closed the connection|the database system is (shutting down|starting up)|No such file or directory)/)
    if NotifyTest::is_pg();

my $J     = JSON->new->utf8->canonical;
my $t     = NotifyTest::t_dir();
my ($token) = NotifyTest::new_app(name => 'scaleout-t');
my $PATH  = '/api/v1/notifications/create';

# ---- the second host (stopped when the test ends)
my $second = NotifyTest::start_host('second', conf => <<"CONF");
# Threads to spare for the 32 clients: near MaxRequestWorkers the event
# MPM closes idle keep-alive connections (AH10159).
StartServers 2
ThreadsPerChild 32
MaxRequestWorkers 128
MinSpareThreads 32
MaxSpareThreads 128
<Location /api/v1>
    SetHandler notify-api
</Location>
<Location $PATH>
    SetHandler notify-create
</Location>
CONF
my ($dir, $port) = @$second{qw(dir port)};

my @hosts = ('http://' . NotifyTest::hostport(), "http://127.0.0.1:$port");

sub post {
    my ($ua, $host, $body, %headers) = @_;
    return $ua->post("$host$PATH", 'Content-Type' => 'application/json',
                     %headers, Content => $body);
}

# Forks $n clients; each runs $fn->($i, $ua) and returns lines, gathered
# from a file per client.
sub clients {
    my ($n, $fn) = @_;
    my $out = "$dir/out-" . NotifyTest::random_hex(4);
    mkdir $out;
    my @pids;
    for my $i (0 .. $n - 1) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            # No keep-alive: a connection the server closes between two
            # requests would make LWP answer 500 itself for a request that
            # may or may not have been sent.
            my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 60);
            my @lines = $fn->($i, $ua);
            open my $o, '>', "$out/$i" or POSIX::_exit(1);
            print {$o} map { "$_\n" } @lines;
            close $o;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my @all;
    for my $i (0 .. $n - 1) {
        open my $in, '<', "$out/$i" or next;
        chomp(my @l = <$in>);
        push @all, @l;
        close $in;
    }
    File::Path::remove_tree($out);
    return @all;
}

# ---- 2,000 creates over both hosts at 32 connections
{
    my $tag = 'scale-' . NotifyTest::random_hex(4);
    my ($n, $per) = (32, 2000 / 32);
    my @results = clients($n, sub {
        my ($i, $ua) = @_;
        my @r;
        for my $k (1 .. int($per + ($i < 2000 % $n ? 1 : 0))) {
            my $res = post($ua, $hosts[($i + $k) % 2],
                           $J->encode({ token => $token, key => $tag, status => "$i-$k" }));
            my $b = eval { $J->decode($res->content) } || {};
            push @r, join ' ', $res->code, $b->{status} // 'not-json',
                $b->{data}{notification}{id} // '-',
                $res->code == 200 ? ()
                    : ($res->header('Client-Warning') // '', $res->content =~ s/\s+/ /gr);
        }
        return @r;
    });
    my %codes;
    $codes{(split ' ', $_)[0]}++ for @results;
    is scalar(@results), 2000, 'scale-out: 2,000 answers';
    is_deeply \%codes, { 200 => 2000 }, 'scale-out: every answer is 200'
        or diag(join "\n", grep { !/\A200 / } @results);
    my @ids = sort { $a <=> $b } map { (split ' ', $_)[2] } @results;
    my $rows = NotifyTest::dbh()->selectcol_arrayref(
        'SELECT id FROM notifications WHERE "key" = ? ORDER BY id', undef, $tag);
    is scalar(@$rows), 2000, 'scale-out: 2,000 rows';
    is_deeply \@ids, $rows, 'scale-out: every 200 is exactly one row';
}

# ---- one Idempotency-Key, 32 concurrent requests over both hosts
{
    my $tag  = 'scale-idem-' . NotifyTest::random_hex(4);
    my $body = $J->encode({ token => $token, key => $tag });
    my (%codes, %bodies);
    my $ua = LWP::UserAgent->new(timeout => 60);
    for (NotifyTest::concurrent_until_done(32, sub {
            post($ua, $hosts[$_[0] % 2], $body, 'Idempotency-Key' => "k-$tag") })) {
        $codes{ $_->[0] }++;
        $bodies{ $_->[1] }++;
    }
    is_deeply \%codes, { 200 => 32 }, 'two hosts, one key: every request ends in 200';
    is scalar(keys %bodies), 1, 'two hosts, one key: one identical answer';
    is NotifyTest::count('notifications', '"key" = ?', $tag), 1, 'two hosts, one key: one row';
}

# ---- PostgreSQL restarted in the middle of a run
SKIP: {
    skip 'restarts the PostgreSQL server of the PostgreSQL pass', 7
        unless NotifyTest::is_pg() && $ENV{NOTIFY_TEST_PG_CTL};
    my $tag = 'restart-' . NotifyTest::random_hex(4);
    my $restarter = fork;
    die "fork: $!" unless defined $restarter;
    if (!$restarter) {
        # Down for 1.5 s, so requests surely meet the outage.
        my @ctl = ($ENV{NOTIFY_TEST_PG_CTL}, '-D', $ENV{NOTIFY_TEST_PG_DATA}, '-w');
        Time::HiRes::sleep(1.0);
        system(@ctl, '-m', 'fast', 'stop');
        Time::HiRes::sleep(1.5);
        system(@ctl, '-o', $ENV{NOTIFY_TEST_PG_OPTS},
               '-l', "$ENV{NOTIFY_TEST_PG_DATA}/../restart.log", 'start');
        POSIX::_exit(0);
    }
    my $t0 = Time::HiRes::time();
    my @results = clients(8, sub {
        my ($i, $ua) = @_;
        my @r;
        my $k = 0;
        while (Time::HiRes::time() - $t0 < 5) {
            $k++;
            my $res = post($ua, $hosts[($i + $k) % 2],
                           $J->encode({ token => $token, key => $tag, status => "$i-$k" }));
            my $b = eval { $J->decode($res->content) } || {};
            push @r, join ' ', $res->code, $b->{status} // 'not-json',
                $b->{data}{notification}{id} // '-';
            Time::HiRes::sleep(0.01);
        }
        return @r;
    });
    waitpid $restarter, 0;
    my %statuses;
    $statuses{(split ' ', $_)[1]}++ for @results;
    ok $statuses{'action-successful'}, 'restart: creates succeed around the outage';
    my @odd = grep { !/\A(?:action-successful|identify-request-error|application-crash)\z/ }
              keys %statuses;
    is_deeply \@odd, [], 'restart: every other answer is identify-request-error or application-crash (JSON)';
    ok $statuses{'identify-request-error'} || $statuses{'application-crash'},
        'restart: the outage was seen';
    my @acked = sort { $a <=> $b } map { (split ' ', $_)[2] }
                grep { (split ' ', $_)[1] eq 'action-successful' } @results;
    my $rows = NotifyTest::dbh()->selectcol_arrayref(
        'SELECT id FROM notifications WHERE "key" = ? ORDER BY id', undef, $tag);
    my %stored = map { $_ => 1 } @$rows;
    is_deeply [ grep { !$stored{$_} } @acked ], [], 'restart: every acknowledged create is stored';
    # Recovery: both hosts answer again, without any restart of httpd.
    my $ua = LWP::UserAgent->new;
    my @after = map {
        my $res = post($ua, $_, $J->encode({ token => $token, key => "$tag-after" }));
        $res->code
    } (@hosts) x 5;
    is_deeply \@after, [ (200) x 10 ], 'restart: both hosts recovered by themselves';
    is NotifyTest::count('notifications', '"key" = ?', "$tag-after"), 10, 'restart: recovered creates stored';
    ok !grep(/exit signal|Segmentation/, do { local (@ARGV, $/) = ("$dir/error_log"); <> }),
        'restart: the second host did not crash';
}
