# Start-up checks and the files an Apache admin installs (SPEC section 14):
#  - a notify handler without mod_dbd, or where no DBDriver applies, stops
#    httpd at start and in `apache2 -t` (configtest), with a message naming
#    the fix; a virtual host inheriting the main server's DBDriver is fine;
#  - build/apache2/notify.load and notify.conf, as a2enmod links them,
#    pass `apache2 -t`; every directive of the module is in notify.conf,
#    and each of its commented defaults is accepted when uncommented;
#  - mod_notify/<version> (include/notify_version.h) is among httpd's
#    version components, in the running test server's Server header.
# Each configuration is written to a temporary folder and checked with
# `apache2 -t -f <file>` (no server is started).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Spec ();
use File::Temp ();
use NotifyTest;

my $HTTPD   = $ENV{HTTPD} || '/usr/sbin/apache2';
my $MODULES = '/usr/lib/apache2/modules';
my $TOP     = File::Spec->rel2abs(File::Spec->catdir(NotifyTest::t_dir(), File::Spec->updir));
my $SO      = "$TOP/mod_notify/.libs/mod_notify.so";

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    return <$fh>;
}

# Runs `apache2 -t` on a configuration: the common head (ServerRoot, an
# MPM, a Listen) and then $body. Returns (exit code, output).
sub config_test {
    my ($body) = @_;
    my $dir  = File::Temp->newdir('notify-startup-XXXXXX', TMPDIR => 1);
    my $port = NotifyTest::free_port();
    my $vport = NotifyTest::free_port();
    # Two asks may get the same free port: httpd refuses a repeated Listen.
    $vport = NotifyTest::free_port() while $vport == $port;
    $body =~ s/__DIR__/$dir/g;
    $body =~ s/__VPORT__/$vport/g;
    my $file = "$dir/httpd.conf";
    open my $fh, '>', $file or die "$file: $!";
    print {$fh} <<"EOF" . $body;
ServerRoot "$dir"
ServerName localhost
DefaultRuntimeDir "$dir"
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
Listen 127.0.0.1:$port
LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
EOF
    close $fh;
    my $out  = `'$HTTPD' -t -f '$file' 2>&1`;
    my $code = $? == -1 ? -1 : $? >> 8;
    return ($code, $out);
}

my $DBD      = "LoadModule dbd_module $MODULES/mod_dbd.so\n";
my $NOTIFY   = qq{LoadModule notify_module "$SO"\n};
my $DATABASE = "DBDriver sqlite3\nDBDParams __DIR__/notify.db\n";
my $CREATE   = "<Location /api/v1/notifications/create>\n    SetHandler notify-create\n</Location>\n";

sub refused {
    my ($label, $body, $fix) = @_;
    subtest "refused: $label" => sub {
        my ($code, $out) = config_test($body);
        isnt $code, 0, 'httpd -t fails';
        unlike $out, qr/Syntax OK/, 'no Syntax OK';
        like $out, qr/mod_notify: /, 'the message is the module\'s';
        like $out, $fix, 'the message names the fix' or diag "output: $out";
    };
}

sub accepted {
    my ($label, $body) = @_;
    subtest "accepted: $label" => sub {
        my ($code, $out) = config_test($body);
        is $code, 0, 'httpd -t succeeds' or diag "output: $out";
        like $out, qr/Syntax OK/, 'Syntax OK';
    };
}

# ---- start-up refusals
refused('a notify handler without mod_dbd', $NOTIFY . $DATABASE . $CREATE,
    qr/mod_dbd is not loaded.*a2enmod dbd/s);
refused('a notify handler without mod_dbd (webhook)', $NOTIFY . $DATABASE
    . "<Location /hook>\n    SetHandler notify-mandrill-webhook\n</Location>\n",
    qr/LoadModule dbd_module/);
refused('a notify handler where no DBDriver applies', $DBD . $NOTIFY . $CREATE,
    qr/set in the main server but no DBDriver applies to it: add DBDriver/);
refused('a virtual host with a notify handler and no DBDriver',
    $DBD . $NOTIFY . "Listen 127.0.0.1:__VPORT__\n<VirtualHost 127.0.0.1:__VPORT__>\n"
    . $CREATE . "</VirtualHost>\n",
    qr/set in the virtual host at \S+httpd\.conf:\d+ but no DBDriver applies/);
accepted('a virtual host inheriting the main server\'s DBDriver',
    $DBD . $NOTIFY . $DATABASE . "Listen 127.0.0.1:__VPORT__\n"
    . "<VirtualHost 127.0.0.1:__VPORT__>\n" . $CREATE . "</VirtualHost>\n");
accepted('the module loaded without mod_dbd and without a handler', $NOTIFY);

# ---- notify.load and notify.conf, as a2enmod enables them
my $load = slurp("$TOP/build/apache2/notify.load");
like $load, qr/^# Depends: dbd$/m, 'notify.load says it depends on dbd';
like $load, qr{^LoadModule notify_module /usr/lib/apache2/modules/mod_notify\.so$}m,
    'notify.load loads the installed module';
(my $load_here = $load) =~ s{/usr/lib/apache2/modules/mod_notify\.so}{"$SO"};
my $conf = slurp("$TOP/build/apache2/notify.conf");
accepted('notify.load and notify.conf with mod_dbd', $DBD . $load_here . $conf);

# Every directive the module declares (its command table) is documented.
my @declared = slurp("$TOP/mod_notify/mod_notify_config.c") =~ /AP_INIT_\w+\("(Notify\w+)"/g;
cmp_ok scalar(@declared), '>=', 20, 'the module\'s directives found in its command table';
my %documented = map { $_ => 1 } ($conf =~ /^\s*#(Notify\w+) /mg);
is_deeply [grep { !$documented{$_} } @declared], [],
    'every directive is in notify.conf with its default';

# Each commented default, uncommented, is accepted: in the server where
# httpd allows it there, else in a <Location>.
my @lines = $conf =~ /^\s*#(Notify\w+ .*)$/mg;
subtest 'notify.conf: each default accepted when uncommented' => sub {
    plan tests => scalar @lines;
    for my $line (@lines) {
        (my $l = $line) =~ s{(KeyFile|TokenFile) \S+}{$1 __DIR__/secret};
        my $ok;
        for my $place ("$l\n", "<Location /x>\n    $l\n</Location>\n") {
            my $body = $DBD . $NOTIFY . $DATABASE . $place;
            my ($c, $out) = config_test_with_secret($body);
            if ($c == 0) {
                $ok = 1;
                last;
            }
            diag "$l: $out" unless $out =~ /not allowed here/;
        }
        ok $ok, "accepted: $l";
    }
};

# config_test, with a key file __DIR__/secret written first.
sub config_test_with_secret {
    my ($body) = @_;
    my $dir = File::Temp->newdir('notify-secret-XXXXXX', TMPDIR => 1);
    open my $fh, '>', "$dir/secret" or die "$dir/secret: $!";
    print {$fh} "a-secret-from-a-file\n";
    close $fh;
    $body =~ s/__DIR__\/secret/$dir\/secret/g;
    return config_test($body);
}

# ---- the version component
my ($version) = slurp("$TOP/include/notify_version.h") =~ /#define NOTIFY_VERSION "([^"]+)"/;
ok $version, "include/notify_version.h defines the version ($version)";
my $res = NotifyTest::request(GET => '/api/v1/nope');
like $res->header('Server') // '', qr{\bmod_notify/\Q$version\E\b},
    'the Server header names mod_notify/<version>';

done_testing();
