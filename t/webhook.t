# Mandrill's webhook (SPEC section 12) at /ob/hook of the vhost
# notify_outbox (t/conf/extra.conf.in, key whsec-1), on deliveries made
# through the mock Mandrill; and the schema's upgrade file on a database
# filled by the schema before it (t/data/*-before-upgrade-1.sql).
#  - HEAD and GET answer 200 (Mandrill checks the URL);
#  - a signed batch moves statuses, appends events, skips an unknown _id;
#    the same batch again is not recorded twice;
#  - a wrong or missing signature is 403 and writes nothing; a body that
#    does not decode is 400; no key configured is 500 with a log line
#    naming the directive; NotifyMandrillWebhookURL is the signed URL;
#  - the upgrade keeps every row and adds what the module needs.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Digest::SHA qw(hmac_sha1_base64);
use File::Spec ();
use JSON ();
use NotifyTest;

plan tests => 10;

# The webhook without a key (t/lib/NotifyTest.pm fails on any other line
# at warn or above).
NotifyTest::log_allow(qr/\[notify:error\] .*Mandrill webhook at \/ob\/hook-nokey: NotifyMandrillWebhookKey is not set/);

my $J     = JSON->new->utf8->canonical;
my $VHOST = 'notify_outbox';
my $KEY   = 'whsec-1';
my ($token) = NotifyTest::new_app(name => 'webhook-t');

# Mandrill's signature: base64 HMAC-SHA1 over the URL and each POST field's
# name and value, sorted by name (Digest::SHA leaves out the padding).
sub sign {
    my ($url, %fields) = @_;
    my $b64 = hmac_sha1_base64(join('', $url, map { $_, $fields{$_} } sort keys %fields),
                               $KEY);
    return $b64 . '=' x ((4 - length($b64) % 4) % 4);
}

sub hook {
    my ($path, $events, %o) = @_;
    my $url = 'http://' . NotifyTest::hostport($VHOST) . $path;
    my %fields = (mandrill_events => ref $events ? $J->encode($events) : $events);
    my $sig = exists $o{signature} ? $o{signature} : sign($o{signed_url} // $url, %fields);
    return NotifyTest::post_form([%fields], path => $path, vhost => $VHOST,
        headers => { defined $sig ? ('X-Mandrill-Signature' => $sig) : () });
}

sub count_events { NotifyTest::count('delivery_events') }

# An email sent through the mock: its two delivery rows.
my $res = NotifyTest::post_json({ token => $token, key => 'webhook-t',
        notification_type => 'email', email_from => 'ops@example.com',
        email_subject => 'webhook', email_to => 'Jane <jane@example.com>, bob@example.com' },
    path => '/mail/sent/notifications/create');
my $nid = eval { NotifyTest::json_body($res)->{data}{notification}{id} } // 0;
my $rows = NotifyTest::dbh()->selectall_hashref(
    'SELECT id, recipient, provider_id, status FROM notification_deliveries'
    . ' WHERE notification_id = ?', 'recipient', undef, $nid);
my ($jane, $bob) = @$rows{'jane@example.com', 'bob@example.com'};
my $ts = 1795773600;
my @batch = (
    { event => 'send', _id => $jane->{provider_id}, ts => $ts,
      msg => { _id => $jane->{provider_id}, email => 'jane@example.com', state => 'sent' } },
    { event => 'open', _id => $jane->{provider_id}, ts => $ts + 60,
      msg => { _id => $jane->{provider_id}, email => 'jane@example.com' } },
    { event => 'hard_bounce', _id => $bob->{provider_id}, ts => $ts + 5,
      msg => { _id => $bob->{provider_id}, email => 'bob@example.com' } },
    { event => 'send', _id => 'no-such-id', ts => $ts,
      msg => { _id => 'no-such-id', email => 'jane@example.com' } },
);

subtest 'HEAD and GET answer 200' => sub {
    for my $method (qw(GET HEAD)) {
        my $r = NotifyTest::request($method => '/ob/hook', vhost => $VHOST);
        is $r->code, 200, "$method: 200";
    }
    my $b = NotifyTest::json_body(NotifyTest::request(GET => '/ob/hook', vhost => $VHOST));
    is $b->{status}, 'webhook-accepted', 'GET: webhook-accepted';
};

subtest 'a signed batch is recorded' => sub {
    ok $jane && $bob, 'two deliveries to report on' or return;
    my $before = count_events();
    my $r = hook('/ob/hook', \@batch);
    my $b = eval { NotifyTest::json_body($r) } || {};
    is $r->code, 200, 'HTTP 200' or diag $r->content;
    is $b->{status}, 'webhook-accepted', 'webhook-accepted';
    is_deeply $b->{data}, { events => 4, matched => 3 }, 'data: 4 events, 3 matched';
    my $st = NotifyTest::dbh()->selectall_hashref(
        'SELECT recipient, status FROM notification_deliveries WHERE notification_id = ?',
        'recipient', undef, $nid);
    is $st->{'jane@example.com'}{status}, 'delivered', 'send: delivered (open changes nothing)';
    is $st->{'bob@example.com'}{status}, 'bounced', 'hard_bounce: bounced';
    is count_events(), $before + 3, 'three events appended, the unknown _id skipped';
    my $ev = NotifyTest::dbh()->selectrow_hashref(
        'SELECT * FROM delivery_events WHERE delivery_id = ? AND event = ?',
        undef, $bob->{id}, 'hard_bounce') || {};
    is NotifyTest::stored_time($ev->{occurred_at}), '2026-11-27T10:00:05Z', 'occurred_at from ts';
    is eval { $J->decode($ev->{detail})->{event} }, 'hard_bounce', 'detail: the event\'s JSON';
};

subtest 'the same batch again is not recorded twice' => sub {
    my $before = count_events();
    NotifyTest::dbh()->do("UPDATE notification_deliveries SET status = 'sent' WHERE id = ?",
                          undef, $jane->{id});
    my $r = hook('/ob/hook', \@batch);
    is $r->code, 200, 'HTTP 200';
    is count_events(), $before, 'no event recorded twice';
    is NotifyTest::row(notification_deliveries => $jane->{id})->{status}, 'sent',
        'no status moved again';
};

subtest 'a wrong or missing signature is 403 and writes nothing' => sub {
    my $before = count_events();
    my @late = ({ %{ $batch[0] }, ts => $ts + 999 });
    for my $case ([wrong => 'bm90IHRoZSBzaWduYXR1cmU='], [missing => undef],
                  ['another URL' => 'signed_url']) {
        my ($name, $sig) = @$case;
        my $r = $name eq 'another URL'
            ? hook('/ob/hook', \@late, signed_url => 'http://elsewhere/ob/hook')
            : hook('/ob/hook', \@late, signature => $sig);
        my $b = eval { NotifyTest::json_body($r) } || {};
        is $r->code . ' ' . ($b->{status} // ''), '403 invalid-signature', "$name: 403";
    }
    is count_events(), $before, 'nothing written';
};

subtest 'NotifyMandrillWebhookURL is the URL signed' => sub {
    my @late = ({ %{ $batch[0] }, ts => $ts + 1000 });
    my $r = hook('/ob/hook-fixed-url', \@late,
                 signed_url => 'https://notify.example.com/mandrill');
    is $r->code, 200, 'signed over the configured URL: 200';
    $r = hook('/ob/hook-fixed-url', \@late);
    is $r->code, 403, 'signed over the URL as seen: 403';
};

subtest 'bodies that do not decode: 400' => sub {
    my $r = NotifyTest::post_form('mandrill_events=%zz', path => '/ob/hook', vhost => $VHOST,
        headers => { 'X-Mandrill-Signature' => 'x' });
    is NotifyTest::json_body($r)->{status}, 'invalid-encoded-params', 'not a form';
    $r = hook('/ob/hook', '{"not":"a list"}');
    my $b = NotifyTest::json_body($r);
    is $r->code . ' ' . $b->{status}, '400 invalid-encoded-params', 'not a JSON list (signed)';
    $r = NotifyTest::post_json('[]', path => '/ob/hook', vhost => $VHOST);
    is NotifyTest::json_body($r)->{status}, 'invalid-content-type', 'not a form POST';
};

subtest 'no key configured: 500, and the log names the directive' => sub {
    my $mark = NotifyTest::error_log_mark();
    my $r = hook('/ob/hook-nokey', \@batch);
    my $b = eval { NotifyTest::json_body($r) } || {};
    is $r->code . ' ' . ($b->{status} // ''), '500 application-crash', '500 application-crash';
    like NotifyTest::error_log_since($mark, wait_for => qr/NotifyMandrillWebhookKey/),
        qr/NotifyMandrillWebhookKey/, 'the log names NotifyMandrillWebhookKey';
};

subtest 'the upgrade file keeps every row' => sub {
    my $schema = File::Spec->catfile(NotifyTest::t_dir(), 'data',
        (NotifyTest::is_pg() ? 'pgsql' : 'sqlite') . '-before-upgrade-1.sql');
    my $upgrade = File::Spec->catfile(NotifyTest::t_dir(), File::Spec->updir, 'build',
        'schema', (NotifyTest::is_pg() ? 'pgsql' : 'sqlite') . '-upgrade-1.sql');
    my $target;
    if (NotifyTest::is_pg()) {
        NotifyTest::dbh()->do('DROP DATABASE IF EXISTS notify_upgrade');
        ($target = $ENV{NOTIFY_TEST_PG}) =~ s/dbname=\w+/dbname=notify_upgrade/;
        NotifyTest::dbh()->do('CREATE DATABASE notify_upgrade');
    }
    else {
        $target = File::Spec->catfile(NotifyTest::t_dir(), 'var', 'upgrade.db');
        unlink $target;
    }
    my $h = NotifyTest::connect_database($target);
    $h->do('SET client_min_messages = warning') if NotifyTest::is_pg();
    $h->do(slurp($schema));
    my $now = NotifyTest::utc_time();
    $h->do('INSERT INTO notifications ("key", processed, created_at, updated_at)'
           . " VALUES ('before', 0, ?, ?)", undef, $now, $now);
    $h->do('INSERT INTO notification_deliveries (notification_id, channel, provider,'
           . " recipient, status, created_at) SELECT id, 'email', 'mandrill',"
           . " 'a\@example.com', 'sent', ? FROM notifications", undef, $now);
    $h->do(slurp($upgrade));
    is $h->selectrow_array('SELECT COUNT(*) FROM notifications'), 1, 'the notification kept';
    is_deeply [$h->selectrow_array('SELECT attempt, recipient, status FROM notification_deliveries')],
        [1, 'a@example.com', 'sent'], 'the delivery kept, as attempt 1';
    is NotifyTest::stored_time(scalar $h->selectrow_array(
        'SELECT updated_at FROM notification_deliveries')), $now, 'its updated_at set';
    ok eval { $h->selectrow_array('SELECT COUNT(*) FROM notification_outbox WHERE route IS NULL'); 1 },
        'notification_outbox is there';
    ok eval { $h->selectrow_array('SELECT COUNT(*) FROM delivery_events'); 1 },
        'delivery_events is there';
    $h->disconnect;
    NotifyTest::dbh()->do('DROP DATABASE notify_upgrade') if NotifyTest::is_pg();
};

subtest 'the upgraded schema equals the new one' => sub {
    # Every table and column the schema file makes, the upgrade makes too.
    my $columns = sub {
        my ($h) = @_;
        my %c;
        for my $t (qw(notifications notification_deliveries notification_outbox delivery_events)) {
            my $sth = $h->prepare("SELECT * FROM $t WHERE 1 = 0");
            $sth->execute;
            $c{$t} = join ',', sort @{ $sth->{NAME_lc} };
            $sth->finish;
        }
        return \%c;
    };
    my $kind = NotifyTest::is_pg() ? 'pgsql' : 'sqlite';
    my ($old, $new);
    if (NotifyTest::is_pg()) {
        ($old = $ENV{NOTIFY_TEST_PG}) =~ s/dbname=\w+/dbname=notify_upgrade/;
        NotifyTest::dbh()->do('CREATE DATABASE notify_upgrade');
        $new = $ENV{NOTIFY_TEST_PG};
    }
    else {
        $old = File::Spec->catfile(NotifyTest::t_dir(), 'var', 'upgrade.db');
        unlink $old;
        $new = NotifyTest::db_path();
    }
    my $h = NotifyTest::connect_database($old);
    $h->do('SET client_min_messages = warning') if NotifyTest::is_pg();
    $h->do(slurp(File::Spec->catfile(NotifyTest::t_dir(), 'data', "$kind-before-upgrade-1.sql")));
    $h->do(slurp(File::Spec->catfile(NotifyTest::t_dir(), File::Spec->updir, 'build',
                                     'schema', "$kind-upgrade-1.sql")));
    is_deeply $columns->($h), $columns->(NotifyTest::connect_database($new)),
        'the same tables and columns';
    $h->disconnect;
    NotifyTest::dbh()->do('DROP DATABASE notify_upgrade') if NotifyTest::is_pg();
};

subtest 'start-up says when the schema is older than the module needs' => sub {
    my $kind = NotifyTest::is_pg() ? 'pgsql' : 'sqlite';
    my $dir  = File::Spec->catdir(NotifyTest::t_dir(), 'var', 'old-schema');
    require File::Path;
    File::Path::remove_tree($dir);
    File::Path::make_path($dir);
    my ($params, $driver);
    if (NotifyTest::is_pg()) {
        NotifyTest::dbh()->do('DROP DATABASE IF EXISTS notify_upgrade');
        NotifyTest::dbh()->do('CREATE DATABASE notify_upgrade');
        ($params = $ENV{NOTIFY_TEST_PG}) =~ s/dbname=\w+/dbname=notify_upgrade/;
        ($driver, $params) = ('pgsql', qq{"$params"});
        my $h = NotifyTest::connect_database(
            do { (my $p = $ENV{NOTIFY_TEST_PG}) =~ s/dbname=\w+/dbname=notify_upgrade/; $p });
        $h->do('SET client_min_messages = warning');
        $h->do(slurp(File::Spec->catfile(NotifyTest::t_dir(), 'data', "$kind-before-upgrade-1.sql")));
        $h->disconnect;
    }
    else {
        $params = "$dir/old.db";
        $driver = 'sqlite3';
        NotifyTest::connect_database($params)->do(
            slurp(File::Spec->catfile(NotifyTest::t_dir(), 'data', "$kind-before-upgrade-1.sql")));
    }
    require IO::Socket::INET;
    my $port = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                     LocalPort => 0)->sockport;
    my $httpd = Apache::Test::vars('httpd') || '/usr/sbin/apache2';
    my $mods = '/usr/lib/apache2/modules';
    my $t = NotifyTest::t_dir();
    open my $fh, '>', "$dir/httpd.conf" or die $!;
    print {$fh} <<"CONF";
ServerRoot $dir
ServerName localhost
Listen 127.0.0.1:$port
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dbd_module $mods/mod_dbd.so
LoadModule notify_module $t/../mod_notify/.libs/mod_notify.so
DBDriver $driver
DBDParams $params
<Location /api/v1/notifications/create>
    SetHandler notify-create
</Location>
CONF
    close $fh;
    is system($httpd, '-f', "$dir/httpd.conf", '-k', 'start'), 0, 'httpd starts';
    my $log = '';
    for (1 .. 50) {
        $log = -e "$dir/error_log" ? slurp("$dir/error_log") : '';
        last if $log =~ /older than mod_notify needs/;
        select undef, undef, undef, 0.1;
    }
    system($httpd, '-f', "$dir/httpd.conf", '-k', 'stop');
    like $log, qr/schema .* is older than mod_notify needs \(no notification_deliveries\.attempt\): apply build\/schema\/$kind-upgrade-1\.sql/,
        'the error log says so, and which file to apply';
    for (1 .. 50) {
        last unless -e "$dir/httpd.pid";
        select undef, undef, undef, 0.1;
    }
    NotifyTest::dbh()->do('DROP DATABASE IF EXISTS notify_upgrade') if NotifyTest::is_pg();
};

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    return scalar <$fh>;
}
