# Directive values are checked when httpd reads its configuration: a bad
# value (not a whole number, negative, trailing junk, 0 where 0 is not
# allowed, a word other than On/Off, a URL that is not http or https)
# stops httpd with a message naming the directive; a directive outside its
# context is refused. Each case writes a minimal httpd configuration that
# loads the built module into a temporary folder and runs
# `apache2 -t -f <file>` on it (no server is started).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Spec ();
use File::Temp ();
use IO::Socket::INET ();
use NotifyTest;

my $HTTPD   = $ENV{HTTPD} || '/usr/sbin/apache2';
my $MODULES = '/usr/lib/apache2/modules';
my $SO      = File::Spec->rel2abs(File::Spec->catfile(
    NotifyTest::t_dir(), File::Spec->updir, 'mod_notify', '.libs', 'mod_notify.so'));

# [directive line, where: 'server' | 'location' | 'vhost']
my @bad = (
    ['NotifyMaxBodySize 12x'],
    ['NotifyMaxBodySize -1'],
    ['NotifyMaxBodySize 0'],
    ['NotifyMaxBodySize +5'],
    ['NotifyMaxBodySize 1e3'],
    ['NotifyMaxBodySize ""'],
    ['NotifyMaxBodySize 99999999999999999999999'],
    # upper bounds: far from any overflow of what the module computes
    ['NotifyMaxBodySize 1073741825'],
    ['NotifyMaxBodySize 9223372036854775807'],
    ['NotifyMandrillTimeout 3601'],
    ['NotifyMandrillTimeout 9223372036854775807', 'location'],
    ['NotifyIdempotencyWindow 315360001'],
    ['NotifySessionMaxAge 315360001'],
    ['NotifySessionIdleTimeout 9223372036854775807'],
    ['NotifySessionTouchInterval 315360001'],
    ['NotifyRouteCacheSeconds 86401'],
    ['NotifyMaxBodySize 12x', 'location'],
    ['NotifySessionMaxAge abc'],
    ['NotifySessionMaxAge 0', 'location'],
    ['NotifySessionIdleTimeout 0'],
    ['NotifySessionIdleTimeout 3h'],
    ['NotifySessionTouchInterval -1'],
    ['NotifySessionTouchInterval 60s'],
    ['NotifyRouteCacheSeconds -5'],
    ['NotifyRouteCacheSeconds five'],
    ['NotifyRouteRegistry maybe'],
    ['NotifyRouteRegistry 1'],
    ['NotifyMandrillURL ftp://x'],
    ['NotifyMandrillURL mandrillapp.com/api/1.0/messages/send.json'],
    ['NotifyMandrillURL http://'],
    ['NotifyMandrillURL ftp://x', 'location'],
    ['NotifyMandrillTimeout 0'],
    ['NotifyMandrillTimeout 2.5'],
    ['NotifyIdempotencyWindow 1.5'],
    ['NotifyIdempotencyWindow 0'],
    ['NotifyIdempotencyWindow -86400', 'location'],
    ['NotifyRouteName ""', 'location'],
    # server context only
    ['NotifyRouteCacheSeconds 0', 'location'],
    ['NotifyRouteCacheSeconds 5', 'location'],
    ['NotifySessionTouchInterval 0', 'location'],
    # directory context only
    ['NotifyRouteName notifications.create', 'server'],
    # the outbox (SPEC 11)
    ['NotifyDeliveryMode later'],
    ['NotifyDeliveryMode ""', 'location'],
    ['NotifyDeliveryAttempts 0'],
    ['NotifyDeliveryAttempts 101'],
    ['NotifyDeliveryAttempts 3', 'location'],
    ['NotifyDeliveryBackoff 60 30'],
    ['NotifyDeliveryBackoff 0 30'],
    ['NotifyDeliveryBackoff 30'],
    ['NotifyDeliveryBackoff 30 2592001'],
    ['NotifyDeliveryInterval 0'],
    ['NotifyDeliveryInterval 2s'],
    # Mandrill's webhook (SPEC 12), directory context only
    ['NotifyMandrillWebhookURL ftp://x/hook', 'location'],
    ['NotifyMandrillWebhookKey ""', 'location'],
    ['NotifyMandrillWebhookKey k', 'server'],
    # secrets read from files at start-up (SPEC 14)
    ['NotifyMandrillKeyFile /nonexistent/mandrill.key'],
    ['NotifyMandrillKeyFile __EMPTY__', 'location'],
    # Twilio (SPEC 13)
    ['NotifyTwilioFrom 555-0100'],
    ['NotifyTwilioFrom +12', 'location'],
    ['NotifyTwilioURL ftp://api.twilio.com'],
    ['NotifyTwilioTimeout 0'],
    ['NotifyTwilioTimeout 3601', 'location'],
    ['NotifyTwilioCallbackURL twilio-callback'],
    ['NotifyTwilioAccountSid ""'],
    ['NotifyTwilioAuthToken ""', 'location'],
    ['NotifyTwilioAuthTokenFile /nonexistent/twilio.token'],
    ['NotifyTwilioAuthTokenFile __EMPTY__', 'location'],
);

my @good = (
    ['NotifyRouteCacheSeconds 0'],
    ['NotifySessionTouchInterval 0'],
    ['NotifyMaxBodySize 1'],
    ['NotifyMaxBodySize 1', 'location'],
    ['NotifyRouteCacheSeconds 0', 'vhost'],
    ['NotifySessionTouchInterval 0', 'vhost'],
    ['NotifySessionMaxAge 1', 'location'],
    ['NotifySessionIdleTimeout 1', 'location'],
    ['NotifyRouteRegistry off', 'location'],
    ['NotifyRouteRegistry On'],
    ['NotifyRouteName test.other', 'location'],
    ['NotifyMandrillURL https://mandrill.example/api/1.0/messages/send.json'],
    ['NotifyMandrillURL http://127.0.0.1:9/send.json', 'location'],
    ['NotifyMandrillTimeout 1'],
    ['NotifyIdempotencyWindow 1'],
    ['NotifyMaxBodySize 1073741824'],
    ['NotifyMandrillTimeout 3600'],
    ['NotifyIdempotencyWindow 315360000', 'location'],
    ['NotifySessionMaxAge 315360000'],
    ['NotifyRouteCacheSeconds 86400'],
    ['NotifyDeliveryMode queued', 'location'],
    ['NotifyDeliveryMode SYNC'],
    ['NotifyDeliveryAttempts 1', 'vhost'],
    ['NotifyDeliveryBackoff 1 1'],
    ['NotifyDeliveryBackoff 30 2592000', 'vhost'],
    ['NotifyDeliveryInterval 3600'],
    ['NotifyMandrillWebhookKey whsec', 'location'],
    ['NotifyMandrillWebhookURL https://notify.example.com/mandrill', 'location'],
    ['NotifyMandrillKeyFile __KEY__', 'location'],
    ['NotifyTwilioAccountSid AC0123', 'location'],
    ['NotifyTwilioAuthToken token', 'vhost'],
    ['NotifyTwilioAuthTokenFile __KEY__'],
    ['NotifyTwilioFrom +15550001111', 'location'],
    ['NotifyTwilioURL https://api.twilio.com/2010-04-01'],
    ['NotifyTwilioTimeout 3600', 'location'],
    ['NotifyTwilioCallbackURL https://notify.example.com/sms/callback', 'vhost'],
);

plan tests => 1 + @bad + @good;

ok(-e $SO, "the built module exists ($SO)");

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# Writes the configuration with $line placed in $where and runs
# `apache2 -t`; returns (exit code, output).
sub config_test {
    my ($line, $where) = @_;
    $where //= 'server';
    my $dir  = File::Temp->newdir('notify-directive-XXXXXX', TMPDIR => 1);
    # A key file, and an empty one, for NotifyMandrillKeyFile.
    for ([__KEY__ => "md-from-a-file\n"], [__EMPTY__ => " \n"]) {
        my ($mark, $text) = @$_;
        next unless $line =~ /\Q$mark\E/;
        open my $kf, '>', "$dir/key" or die "$dir/key: $!";
        print {$kf} $text;
        close $kf;
        $line =~ s/\Q$mark\E/$dir\/key/;
    }
    my $port = free_port();
    my ($server, $location, $vhost) = ('', '', '');
    if    ($where eq 'server')   { $server   = "$line\n" }
    elsif ($where eq 'location') { $location = "    $line\n" }
    elsif ($where eq 'vhost')    { $vhost    = "    $line\n" }
    else                         { die "bad place $where" }
    my $vport = free_port();
    # Two asks may get the same free port: httpd refuses a repeated Listen.
    $vport = free_port() while $vport == $port;
    my $conf = <<"EOF";
ServerRoot "$dir"
ServerName localhost
DefaultRuntimeDir "$dir"
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
Listen 127.0.0.1:$port
LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule dbd_module $MODULES/mod_dbd.so
LoadModule notify_module "$SO"
DBDriver sqlite3
DBDParams "$dir/notify.db"
$server<Location /api/v1/notifications/create>
    SetHandler notify-create
$location</Location>
Listen 127.0.0.1:$vport
<VirtualHost 127.0.0.1:$vport>
$vhost</VirtualHost>
EOF
    my $file = "$dir/httpd.conf";
    open my $fh, '>', $file or die "$file: $!";
    print $fh $conf;
    close $fh;
    my $out = `'$HTTPD' -t -f '$file' 2>&1`;
    my $code = $? == -1 ? -1 : $? >> 8;
    return ($code, $out, $conf);
}

for my $case (@bad) {
    my ($line, $where) = @$case;
    my ($name) = $line =~ /\A(\S+)/;
    my $label = "refused: $line" . ($where ? " (in $where)" : '');
    subtest($label => sub {
        my ($code, $out, $conf) = config_test($line, $where);
        isnt($code, 0, 'httpd -t fails');
        like($out, qr/\Q$name\E/, 'the message names the directive')
            or diag("output: $out");
        unlike($out, qr/Syntax OK/, 'no Syntax OK');
        unlike($out, qr/Invalid command/, 'the directive itself is known');
    });
}

for my $case (@good) {
    my ($line, $where) = @$case;
    my $label = "accepted: $line" . ($where ? " (in $where)" : '');
    subtest($label => sub {
        my ($code, $out) = config_test($line, $where);
        is($code, 0, 'httpd -t succeeds') or diag("output: $out");
        like($out, qr/Syntax OK/, 'Syntax OK');
    });
}
