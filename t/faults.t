# Faults (issue 11): for each, the answer is JSON from the status set,
# nothing is half-written, and the host recovers without a restart.
#  - Mandrill resetting the connection mid-answer, answering 100 MB,
#    answering a byte at a time (a raw TCP server of this test);
#  - SQLite: the database full (PRAGMA max_page_count through DBDInitSQL),
#    then room made again;
#  - every httpd child killed with SIGKILL under a stream of creates;
#  - apachectl -k graceful under a stream of creates;
#  - PostgreSQL killed with SIGKILL (every process of the server) under a
#    stream of creates, then started again.
# The faults run on a host of this test's own (NotifyTest::start_host) on
# the test server's database; the mock Mandrill of the test server takes
# its emails.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use DBI ();
use File::Spec ();
use IO::Socket::INET ();
use JSON ();
use LWP::UserAgent ();
use NotifyTest;
use POSIX ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes ();

plan tests => 8;

my $J    = JSON->new->utf8->canonical;
my $t    = NotifyTest::t_dir();
my $KEY  = 'md-TEST-KEY-5f3a9c1e7b2d4680';
my $mock = 'http://127.0.0.1:' . Apache::Test::vars('port') . '/mock-mandrill';
my $MOCK_LOG = File::Spec->catfile($t, 'var', 'mock-mandrill.log');
my ($token) = NotifyTest::new_app(name => 'faults-t');
# The outages below (t/lib/NotifyTest.pm fails on any other line at warn
# or above in t/logs/error_log): on PostgreSQL the test server loses its
# database too while the server is killed.
NotifyTest::log_allow(
    qr/\[dbd:(error|crit)\] .*AH0(0629|0633|0636|0639|2655):/,
    qr/\[notify:(warn|error)\] .*(no database connection|terminating connection|server closed the connection|the database system is (shutting down|starting up|in recovery mode)|No such file or directory|Connection refused)/)
    if NotifyTest::is_pg();

my %STATUSES = map { $_ => 1 } qw(action-successful application-crash
    identify-request-error mandrill-email-failed);

# ---- a Mandrill that misbehaves: a raw TCP server, forked
my $BAD_LOG = File::Spec->catfile($t, 'var', 'bad-mandrill.log');
unlink $BAD_LOG;
my $bad_pid;
my $bad_port = do {
    my $srv = IO::Socket::INET->new(Listen => 32, LocalAddr => '127.0.0.1',
                                    LocalPort => 0, ReuseAddr => 1)
        or die "listen: $!";
    my $port = $srv->sockport;
    $bad_pid = fork;
    die "fork: $!" unless defined $bad_pid;
    if (!$bad_pid) {
        $SIG{CHLD} = 'IGNORE';
        $SIG{PIPE} = 'IGNORE';
        while (1) {
            my $c = $srv->accept or next;
            my $kid = fork;
            if (defined $kid && !$kid) {
                misbehave($c);
                POSIX::_exit(0);
            }
            close $c;
        }
    }
    close $srv;
    $port;
};
END { kill 'KILL', $bad_pid if $bad_pid }

sub bad_log {
    my ($line) = @_;
    open my $fh, '>>', $BAD_LOG or return;
    print {$fh} "$line\n";
    close $fh;
}

# Reads one request, then answers as its path says; logs
# "<mode> <bytes of the answer written> <how it ended>".
sub misbehave {
    my ($c) = @_;
    my $buf = '';
    while (index($buf, "\r\n\r\n") < 0) {
        sysread($c, $buf, 65536, length $buf) or return;
    }
    my ($mode) = $buf =~ m{\A\w+ /(\w+)};
    my ($len)  = $buf =~ /^Content-Length:\s*(\d+)/mi;
    my $have = length($buf) - index($buf, "\r\n\r\n") - 4;
    while ($have < ($len // 0)) {
        my $n = sysread($c, my $more, 65536) or last;
        $have += $n;
    }
    my $written = 0;
    my $send = sub {
        my $w = syswrite($c, $_[0]);
        $written += $w if $w;
        return defined $w && $w == length $_[0];
    };
    $mode //= '';
    if ($mode eq 'reset') {
        # Half an answer, then a TCP reset (SO_LINGER 0).
        $send->("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
              . "Content-Length: 400\r\n\r\n[{\"email\":\"jane\@exa");
        setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
        close $c;
        return bad_log("reset $written reset");
    }
    if ($mode eq 'huge') {
        # 100 MB of a JSON list that never ends well.
        my $size = 100 * 1024 * 1024;
        my $ok = $send->("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       . "Content-Length: $size\r\n\r\n[");
        my $chunk = ' ' x 65536;
        $ok = $send->($chunk) while $ok && $written < $size;
        close $c;
        return bad_log("huge $written " . ($ok ? 'all-sent' : 'peer-closed'));
    }
    if ($mode eq 'trickle') {
        # A byte every 200 ms, for a minute at most.
        my $answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   . "Content-Length: 300\r\n\r\n" . ('[' . ' ' x 298 . ']');
        my $ok = 1;
        for my $i (0 .. length($answer) - 1) {
            last if $i > 300;
            $ok = $send->(substr $answer, $i, 1) or last;
            Time::HiRes::sleep(0.2);
        }
        close $c;
        return bad_log("trickle $written " . ($ok ? 'all-sent' : 'peer-closed'));
    }
    $send->("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    close $c;
    return bad_log("unknown $written");
}

# ---- the host: its main server on the test database; on SQLite, a
# virtual host on a database of its own that fills up.
my $full_db   = File::Spec->catfile($t, 'var', 'faults-full.db');
my $FULL_TOKEN;
my $full_port = NotifyTest::free_port();
my $full_conf = '';
if (!NotifyTest::is_pg()) {
    unlink grep { -e } map { "$full_db$_" } '', '-wal', '-shm', '-mod_notify.lock';
    my $h = DBI->connect("dbi:SQLite:dbname=$full_db", '', '',
        { RaiseError => 1, PrintError => 0, sqlite_allow_multiple_statements => 1 });
    $h->do(do { local (@ARGV, $/) = (NotifyTest::schema_path()); <> });
    my ($pages) = $h->selectrow_array('PRAGMA page_count');
    $FULL_TOKEN = NotifyTest::random_hex(32);
    $h->do('INSERT INTO api_applications (name, token_sha256, active, created_at)'
           . ' VALUES (?, ?, 1, ?)', undef, 'faults-full',
           NotifyTest::token_sha256($FULL_TOKEN), NotifyTest::utc_time());
    $h->disconnect;
    # Room for a few dozen notifications beyond the schema.
    my $max = $pages + 40;
    $full_conf = <<"CONF";
Listen 127.0.0.1:$full_port
<VirtualHost 127.0.0.1:$full_port>
    DBDriver sqlite3
    DBDParams $full_db
    DBDInitSQL "PRAGMA max_page_count = $max"
    <Location /full/create>
        SetHandler notify-create
        NotifyMandrillURL $mock/sent
    </Location>
</VirtualHost>
CONF
}

my $host = NotifyTest::start_host('faults-host', conf => <<"CONF");
StartServers 2
ThreadsPerChild 16
MaxRequestWorkers 64
MinSpareThreads 16
MaxSpareThreads 64
NotifyMandrillKey $KEY
NotifyDeliveryInterval 1
NotifyDeliveryBackoff 3600 3600
<Location /f/create>
    SetHandler notify-create
    NotifyMandrillURL $mock/sent
</Location>
<Location /f/slow>
    SetHandler notify-create
    NotifyMandrillURL $mock/slow
</Location>
<Location /f/plain>
    SetHandler notify-create
    NotifyMandrillURL $mock/sent
</Location>
<Location /f/reset>
    SetHandler notify-create
    NotifyMandrillURL http://127.0.0.1:$bad_port/reset
    NotifyMandrillTimeout 5
</Location>
<Location /f/huge>
    SetHandler notify-create
    NotifyMandrillURL http://127.0.0.1:$bad_port/huge
    NotifyMandrillTimeout 20
</Location>
<Location /f/trickle>
    SetHandler notify-create
    NotifyMandrillURL http://127.0.0.1:$bad_port/trickle
    NotifyMandrillTimeout 3
</Location>
$full_conf
CONF


my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 90);

sub create {
    my ($path, %f) = @_;
    my $port = delete $f{port} // $host->{port};
    my $res = $ua->post("http://127.0.0.1:$port$path",
        'Content-Type' => 'application/json',
        Content => $J->encode({ token => $token, notification_type => 'email',
            email_from => 'ops@example.com', email_subject => 'faults',
            email_to => 'jane@example.com', %f }));
    my $body = eval { $J->decode($res->content) };
    return ($res, $body);
}

sub outbox_state {
    my ($id) = @_;
    my ($state) = NotifyTest::dbh()->selectrow_array(
        'SELECT state FROM notification_outbox WHERE notification_id = ?', undef, $id);
    return $state // '';
}

# The requests the mock Mandrill got with subject $subject, per
# notification id.
sub mock_sends {
    my ($subject) = @_;
    my %n;
    open my $fh, '<:raw', $MOCK_LOG or return \%n;
    while (my $line = <$fh>) {
        my $e = eval { $J->decode($line) } or next;
        my $req = eval { $J->decode($e->{body}) } or next;
        next unless ($req->{message}{subject} // '') eq $subject;
        my $id = $req->{message}{metadata}{notification_id} // next;
        $n{$id}++;
    }
    close $fh;
    return \%n;
}

sub bad_lines {
    my ($mode) = @_;
    open my $fh, '<', $BAD_LOG or return ();
    my @l = grep { /\A\Q$mode\E / } <$fh>;
    close $fh;
    chomp @l;
    return @l;
}

sub host_alive {
    my ($res, $body) = create('/f/plain', key => 'faults-alive');
    return $res->code == 200 && ($body->{status} // '') eq 'action-successful';
}

# ---- 1-3. Mandrill misbehaving
for my $case (['reset', 'resetting the connection mid-answer'],
              ['huge', 'answering 100 MB'],
              ['trickle', 'answering a byte at a time']) {
    my ($mode, $what) = @$case;
    subtest "Mandrill $what" => sub {
        my $tag = "faults-$mode-" . NotifyTest::random_hex(4);
        my ($res, $b) = create("/f/$mode", key => $tag);
        is $res->code, 500, 'HTTP 500';
        is $b->{status} // '', 'mandrill-email-failed', 'JSON mandrill-email-failed';
        my $id = $b->{data}{notification}{id};
        ok $id, 'the notification was stored';
        is NotifyTest::row(notifications => $id)->{processed}, 0, 'processed 0';
        is outbox_state($id), 'pending', 'its outbox row waits for another attempt';
        my $deadline = Time::HiRes::time() + 30;
        Time::HiRes::sleep(0.1) until bad_lines($mode) || Time::HiRes::time() > $deadline;
        my ($line) = bad_lines($mode);
        ok defined $line, "the misbehaving server was reached ($mode)";
        if ($mode eq 'huge') {
            my ($written, $end) = ($line // '') =~ /\Ahuge (\d+) (\S+)/;
            is $end, 'peer-closed', 'the module hung up before 100 MB';
            cmp_ok $written // 0, '<', 100 * 1024 * 1024, 'less than 100 MB was sent';
        }
        if ($mode eq 'trickle') {
            like $line // '', qr/peer-closed\z/, 'the module gave up on the trickle';
        }
        ok host_alive(), 'the host answers the next create';
    };
}

# ---- 4. SQLite full
SKIP: {
    skip 'SQLite only: max_page_count', 1 if NotifyTest::is_pg();
    subtest 'SQLite database full, then room again' => sub {
        my $big = 'x' x 6000;
        my (@ok, $refused);
        for my $i (1 .. 200) {
            my ($res, $b) = create('/full/create', port => $full_port,
                token => $FULL_TOKEN, key => "full-$i", notification_type => 'email',
                email_body => "$i $big");
            if ($res->code == 200) {
                push @ok, [$i, $b->{data}{notification}{id}];
                next;
            }
            $refused = [$i, $res->code, $b];
            last;
        }
        ok $refused, 'the database filled up (' . scalar(@ok) . ' creates before)';
        my ($i, $code, $b) = @{ $refused // [0, 0, {}] };
        is $code, 500, 'HTTP 500';
        is $b->{status} // '', 'application-crash', 'JSON application-crash';
        # The write that found the disk full was either the notification's
        # (nothing stored) or, after the email went out, its delivery's
        # (stored; the answer says not to send it again).
        my $stored = ($b->{message} // '') =~ /\AThe notification was stored/ ? 1 : 0;
        like $b->{message} // '', qr/nothing was stored|\AThe notification was stored/,
            'the answer says what was stored';
        my $h = DBI->connect("dbi:SQLite:dbname=$full_db", '', '', { RaiseError => 1 });
        $h->sqlite_busy_timeout(5000);
        my ($rows) = $h->selectrow_array('SELECT COUNT(*) FROM notifications');
        is $rows, scalar(@ok) + $stored, 'a row for each 200, and for the refused create only if stored';
        my ($boxes) = $h->selectrow_array('SELECT COUNT(*) FROM notification_outbox');
        is $boxes, $rows, 'an outbox row for each, none half-written';
        my ($mine) = $h->selectrow_array(
            q{SELECT COUNT(*) FROM notifications WHERE "key" = ?}, undef, "full-$i");
        is $mine, $stored, 'the refused create stored exactly as its answer says';
        # Room again: the first half of the rows deleted (pages go to the
        # free list, which SQLite reuses).
        my @gone = map { $_->[1] } @ok[0 .. int($#ok / 2)];
        $h->do('DELETE FROM notification_outbox WHERE notification_id = ?', undef, $_) for @gone;
        $h->do('DELETE FROM notification_deliveries WHERE notification_id = ?', undef, $_) for @gone;
        $h->do('DELETE FROM notifications WHERE id = ?', undef, $_) for @gone;
        $h->disconnect;
        my ($res2, $b2) = create('/full/create', port => $full_port,
            token => $FULL_TOKEN, key => 'full-again', email_body => 'room again');
        is $res2->code, 200, 'room again: the next create succeeds without a restart'
            or diag $res2->content;
    };
}

# ---- a stream of creates from $n forked clients, each sending $per with
# its own key; while it runs, $fault->() is called once. Returns the
# answers: [key, code, body-or-undef].
sub stream {
    my ($tag, $n, $per, $fault, %o) = @_;
    my $dir = File::Spec->catdir($t, 'var', "stream-$tag");
    mkdir $dir;
    my @pids;
    for my $c (1 .. $n) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            my $cua = LWP::UserAgent->new(keep_alive => 0, timeout => 60);
            open my $out, '>', "$dir/$c" or POSIX::_exit(1);
            for my $i (1 .. $per) {
                my $key = "$tag-$c-$i";
                my $res = $cua->post("$host->{url}$o{path}",
                    'Content-Type' => 'application/json',
                    Content => $J->encode({ token => $token, key => $key,
                        notification_type => 'email', email_from => 'ops@example.com',
                        email_subject => $tag, email_to => 'jane@example.com' }));
                my $b = eval { $J->decode($res->content) };
                my $lwp = $res->header('Client-Warning') ? 1 : 0;
                print {$out} $J->encode([$key, $res->code, $b, $lwp]), "\n";
                Time::HiRes::sleep($o{pause} // 0);
            }
            close $out;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    Time::HiRes::sleep($o{fault_after} // 1);
    $fault->();
    waitpid $_, 0 for @pids;
    my @answers;
    for my $c (1 .. $n) {
        open my $in, '<', "$dir/$c" or next;
        push @answers, map { $J->decode($_) } <$in>;
        close $in;
    }
    File::Path::remove_tree($dir);
    return @answers;
}

# /proc/<pid>/stat of a process, or undef when it is gone.
sub proc_stat {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return undef;
    my $line = <$fh>;
    close $fh;
    return $line;
}

# Rows stored for the keys of a stream: key -> count.
sub rows_by_key {
    my ($tag) = @_;
    my $rows = NotifyTest::dbh()->selectall_arrayref(
        q{SELECT "key", COUNT(*) FROM notifications WHERE "key" LIKE ? GROUP BY "key"},
        undef, "$tag-%");
    return { map { @$_ } @$rows };
}

# The checks every stream fault shares.
sub check_stream {
    my ($tag, $answers, %o) = @_;
    my $rows = rows_by_key($tag);
    my @ok   = grep { $_->[1] == 200 } @$answers;
    my @lost = grep { ($rows->{ $_->[0] } // 0) != 1 } @ok;
    is_deeply [map { $_->[0] } @lost], [], 'every 200 has exactly one row';
    my @twice = grep { $rows->{$_} > 1 } keys %$rows;
    is_deeply \@twice, [], 'no create stored twice';
    # A row without a 200 only for a request that got no answer (its
    # connection was cut) or a 500 (the fault came after the commit).
    my %answered_ok = map { $_->[0] => 1 } @ok;
    my %cut = map { $_->[0] => 1 } grep { $_->[3] || $_->[1] == 500 } @$answers;
    my @stray = grep { !$answered_ok{$_} && !$cut{$_} } keys %$rows;
    is_deeply \@stray, [], 'no row without a 200 beyond the requests in flight';
    my @bad = grep { !$_->[3] && !($_->[2] && $STATUSES{ $_->[2]{status} // '' }) } @$answers;
    is_deeply [map { "$_->[0]: $_->[1]" } @bad], [],
        'every answer is JSON with a status from the set';
    if ($o{sends}) {
        my $sends = mock_sends($tag);
        my @ids = map { $_->[2]{data}{notification}{id} } @ok;
        my @dup = grep { ($sends->{$_} // 0) > 1 } @ids;
        is_deeply \@dup, [], 'no email sent twice';
    }
    return scalar @ok;
}

# ---- 5. an httpd child killed with SIGKILL under load
subtest 'httpd children killed with SIGKILL under load' => sub {
    my $tag = 'faults-kill-' . NotifyTest::random_hex(4);
    my @killed;
    # Mandrill takes 0.2 s (mock "slow"): requests are in the children
    # when every child is killed.
    my @answers = stream($tag, 8, 15, sub {
        @killed = NotifyTest::host_children($host);
        kill 'KILL', @killed;
    }, path => '/f/slow');
    ok scalar(@killed), 'children killed: ' . join(' ', @killed);
    my @cut = grep { $_->[3] } @answers;
    ok scalar(@cut), scalar(@cut) . ' requests were cut off with their child';
    my $n = check_stream($tag, \@answers, sends => 1);
    cmp_ok $n, '>', 0, "creates succeeded around the kill ($n of 120)";
    my $deadline = Time::HiRes::time() + 20;
    my $alive;
    until (($alive = host_alive()) || Time::HiRes::time() > $deadline) {
        Time::HiRes::sleep(0.2);
    }
    ok $alive, 'the host answers after the kill';
};

# ---- 6. a graceful restart under load
subtest 'apachectl -k graceful under load' => sub {
    my $tag = 'faults-graceful-' . NotifyTest::random_hex(4);
    my @answers = stream($tag, 8, 25, sub {
        system(NotifyTest::httpd_binary(), '-f', $host->{conf}, '-k', 'graceful') == 0
            or diag 'graceful failed';
    }, path => '/f/create', pause => 0.02);
    my @not = grep { $_->[1] != 200 } @answers;
    is_deeply [map { "$_->[0]: $_->[1]" } @not], [], 'every create answered 200';
    check_stream($tag, \@answers, sends => 1);
};

# ---- 7. PostgreSQL killed with SIGKILL under load
SKIP: {
    skip 'kills the PostgreSQL server of the PostgreSQL pass', 1
        unless NotifyTest::is_pg() && $ENV{NOTIFY_TEST_PG_CTL};
    subtest 'PostgreSQL killed with SIGKILL under load' => sub {
        my $tag = 'faults-pgkill-' . NotifyTest::random_hex(4);
        my $data = $ENV{NOTIFY_TEST_PG_DATA};
        my $killed = 0;
        my @answers = stream($tag, 8, 40, sub {
            open my $fh, '<', "$data/postmaster.pid" or return diag("no postmaster.pid: $!");
            chomp(my $pm = <$fh>);
            close $fh;
            # The postmaster, then every process it started: no clean stop.
            my @kids = grep { (proc_stat($_) // '') =~ /\A\d+ \(.*\) \S+ (\d+) / && $1 == $pm }
                       map { m{/proc/(\d+)/} ? $1 : () } glob '/proc/[0-9]*/stat';
            $killed = kill 'KILL', $pm, @kids;
            # Started again once the killed processes are gone (until then
            # PostgreSQL finds its shared memory still in use).
            my $deadline = Time::HiRes::time() + 30;
            my $started;
            while (!$started && Time::HiRes::time() < $deadline) {
                Time::HiRes::sleep(0.5);
                next if grep { kill 0, $_ } $pm, @kids;
                $started = system($ENV{NOTIFY_TEST_PG_CTL}, '-D', $data, '-w', '-o',
                    $ENV{NOTIFY_TEST_PG_OPTS}, '-l', "$data/../restart.log", 'start') == 0;
            }
            diag 'PostgreSQL did not start again' unless $started;
        }, path => '/f/plain', pause => 0.02, fault_after => 1);
        ok $killed, "the PostgreSQL server was killed ($killed processes)";
        NotifyTest::dbh();    # a new connection after the restart
        my $n = check_stream($tag, \@answers);
        cmp_ok $n, '>', 0, "creates succeeded around the outage ($n of 320)";
        my $deadline = Time::HiRes::time() + 30;
        my $alive;
        until (($alive = host_alive()) || Time::HiRes::time() > $deadline) {
            Time::HiRes::sleep(0.5);
        }
        ok $alive, 'creates succeed again without restarting httpd';
    };
}

# The host's own log: no crash.
my $log = do { local (@ARGV, $/) = ("$host->{dir}/error_log"); <> } // '';
unlike $log, qr/exit signal (?!Killed)|Segmentation|AddressSanitizer/,
    "the host's error_log shows no crash";
