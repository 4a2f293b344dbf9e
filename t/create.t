# A successful create: the answer, the stored row, the three views, and
# the same request as JSON and as a form storing the same row.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use NotifyTest;
use NotifyCheck qw(:all);

plan tests => 15;

my ($token, $app_id) = NotifyTest::new_app(name => 'create-t');

# Every parameter, some in a form that the module normalises.
my @full = (
    token             => $token,
    key               => 'order-confirmed',
    status            => 'pending',
    email_from        => 'Ops Team <ops@example.com>',
    email_subject     => "Your tour is booked \x{2013} see you soon",
    email_technician  => 'tech@example.com',
    user_id           => \'123',
    olio_id           => '9001',
    tour_id           => \'77',
    client_id         => 'C-42',
    email_to          => 'Ann <ann@example.com>, bob@example.com',
    email_cc          => 'cc@example.com',
    email_bcc         => 'bcc1@example.com,bcc2@example.com',
    email_body        => "<p>Hello \x{e9}</p>\r\n<p>Line two</p>\n",
    notifyable_type   => 'Order',
    notifyable_id     => \'42',
    updated_at_fm     => '2026-11-27T10:00:00Z',
    created_at_fm     => '2026-11-26 09:30:00',
    processed_at      => '2026-11-27T11:00:00+01:00',
    processed_at_fm   => '2026-11-27T10:00:00.250Z',
    updated_in        => 'orders#confirm',
    processed         => \'1',
    notification_type => 'email',
    phone_from        => '+15551234567',
    phone_to          => '5557654321',
    media_url         => 'https://cdn.example.com/tours/77.jpg?w=800',
    extension         => 'jpg',
);

# What the answer (and the row) must hold for @full.
my %full_want = (
    key               => 'order-confirmed',
    status            => 'pending',
    email_from        => 'Ops Team <ops@example.com>',
    email_subject     => "Your tour is booked \x{2013} see you soon",
    email_technician  => 'tech@example.com',
    user_id           => '123',
    olio_id           => '9001',
    tour_id           => '77',
    client_id         => 'C-42',
    email_to          => 'Ann <ann@example.com>, bob@example.com',
    email_cc          => 'cc@example.com',
    email_bcc         => 'bcc1@example.com,bcc2@example.com',
    email_body        => "<p>Hello \x{e9}</p>\r\n<p>Line two</p>\n",
    notifyable_type   => 'Order',
    notifyable_id     => 42,
    updated_at_fm     => '2026-11-27T10:00:00Z',
    created_at_fm     => '2026-11-26T09:30:00Z',
    processed_at      => '2026-11-27T10:00:00Z',
    processed_at_fm   => '2026-11-27T10:00:00Z',
    updated_in        => 'orders#confirm',
    processed         => 1,
    notification_type => 'email',
    phone_from        => '+15551234567',
    phone_to          => '5557654321',
    media_url         => 'https://cdn.example.com/tours/77.jpg?w=800',
    extension         => 'jpg',
);
my %fm_want   = map { $_ => $full_want{$_} } @FM_FIELDS;
my %shown_want = map { $_ => $full_want{$_} } grep { !exists $fm_want{$_} } keys %full_want;

# 1. default view (no view parameter): every field but the *_fm ones, no proof.
my ($n1, $b1) = check_created('all parameters, default view',
    sub { NotifyTest::post_json(json_obj(@full)) },
    expect => \%shown_want, row => \%fm_want, app_id => $app_id);

# 2. The answer carries the message and nothing but notification in data.
is_deeply([sort keys %{ $b1->{data} || {} }], ['notification'],
          'default view: data holds only notification');

# 3. explicit default-view is the same shape.
check_created('view default-view given explicitly',
    sub { NotifyTest::post_json(json_obj(@full, view => 'default-view')) },
    expect => \%shown_want, row => \%fm_want, app_id => $app_id);

# 4. internal-applications-view adds the *_fm fields.
check_created('internal-applications-view',
    sub { NotifyTest::post_json(json_obj(@full, view => 'internal-applications-view')) },
    view => 'internal-applications-view',
    expect => \%full_want, app_id => $app_id);

# 5. default-with-proof: data.proof is null since nothing was sent
# (processed 1 email, and no Mandrill key on this route).
my (undef, $b5) = check_created('default-with-proof',
    sub { NotifyTest::post_json(json_obj(@full, view => 'default-with-proof')) },
    view => 'default-with-proof',
    expect => \%shown_want, row => \%fm_want, app_id => $app_id);
ok(exists $b5->{data}{proof} && !defined $b5->{data}{proof},
   'default-with-proof: data.proof is null when nothing was sent');

# 6. An sms notification where no Twilio is configured: stored unsent,
# its proof null too (t/sms.t sends them).
check_created('default-with-proof, sms notification',
    sub { NotifyTest::post_json({token => $token, key => 'sms-1',
                                 notification_type => 'sms',
                                 phone_to => '+4915112345678',
                                 phone_from => '+4915100000000',
                                 email_body => 'on my way',
                                 view => 'default-with-proof'}) },
    view => 'default-with-proof',
    expect => {notification_type => 'sms', phone_to => '+4915112345678'});

# 7. Minimal request: processed 0, every other field null.
check_created('only token and key',
    sub { NotifyTest::post_json({token => $token, key => 'minimal',
                                 view => 'internal-applications-view'}) },
    view => 'internal-applications-view',
    app_id => $app_id,
    expect => {(map { $_ => undef } @FIELDS), key => 'minimal', processed => 0});

# 8. null and "" mean "not given".
check_created('null and empty strings are stored as null',
    sub { NotifyTest::post_json(json_obj(token => $token, key => 'nulls',
        status => \'null', email_body => '', email_subject => '',
        user_id => \'null', processed_at => '', media_url => \'null',
        notifyable_type => '', notifyable_id => \'null', processed => \'null')) },
    expect => {key => 'nulls', status => undef, email_body => undef,
               email_subject => undef, user_id => undef, processed_at => undef,
               media_url => undef, notifyable_type => undef,
               notifyable_id => undef, processed => 0});

# 9-10. The same notification as JSON (numbers, booleans) and as a form
# (all text) stores the same row and answers the same notification.
# Form values go out as UTF-8 bytes, JSON literals as their text.
my @form_full = map {
    my $v = ref $_ eq 'SCALAR' ? $$_ : $_;
    utf8::encode($v);
    $v;
} @full;
my ($nj) = check_created('all parameters as JSON',
    sub { NotifyTest::post_json(json_obj(@full, view => 'internal-applications-view')) },
    view => 'internal-applications-view', expect => \%full_want, app_id => $app_id);
my ($nf) = check_created('all parameters as a form',
    sub { NotifyTest::post_form([@form_full, view => 'internal-applications-view']) },
    view => 'internal-applications-view', expect => \%full_want, app_id => $app_id);

# 11. rows identical but for id and times.
{
    my $strip = sub {
        my %r = %{ NotifyTest::row(notifications => $_[0]) || {} };
        delete @r{qw(id created_at updated_at)};
        return \%r;
    };
    is_deeply($strip->($nf->{id} // 0), $strip->($nj->{id} // 0),
              'JSON and form requests store identical rows');
}

# 12. answers identical but for id and times.
{
    my %a = %{ $nj || {} };
    my %b = %{ $nf || {} };
    delete @a{qw(id created_at updated_at)};
    delete @b{qw(id created_at updated_at)};
    ok(%a && %b, 'both answers have a notification');
    is_deeply(\%b, \%a, 'JSON and form answers hold the same notification');
}

# 14. ids grow: two creates are two rows.
ok(($nf->{id} // 0) > ($nj->{id} // 0) && ($nj->{id} // 0) > ($n1->{id} // 0),
   'each create gets a new, larger id');
