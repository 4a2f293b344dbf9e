package NotifyOpenAPI;

# Checks answers against build/openapi.yaml with JSON::Validator's OpenAPI
# v3 support (Debian's libjson-validator-perl), so the document cannot
# drift from the code. t/lib/NotifyTest.pm passes every answer it receives
# here and fails the test file on any problem (in its END block).
#
#   my @problems = NotifyOpenAPI::problems($method, $path, $res);
#
# A test path is mapped to the document's path by the handler it reaches
# (t/conf/extra.conf.in mounts the handlers at many paths): .../create
# routes to /api/v1/notifications/create, webhook and callback Locations
# to /api/v1/webhooks/{mandrill,twilio}, /notify-status to itself, any
# other path under /api/v1 to /api/v1/{route}. Other paths (the mocks,
# server-status) are not the module's and are not checked.

use strict;
use warnings;

use File::Spec ();
use FindBin ();
use JSON ();
use JSON::Validator ();

my $JSON = JSON->new->utf8->allow_nonref;
my $SCHEMA;

sub document {
    return File::Spec->catfile($FindBin::Bin, File::Spec->updir, 'build', 'openapi.yaml');
}

sub schema {
    return $SCHEMA if $SCHEMA;
    $SCHEMA = JSON::Validator->new->schema(document())->schema;
    $SCHEMA->resolve;
    # Types as they are: no "7" taken for 7 (JSON::Validator coerces
    # numbers, strings and booleans for OpenAPI by default).
    $SCHEMA->coerce({});
    return $SCHEMA;
}

# The document's path for a request path, or undef when the module does
# not serve it.
sub spec_path {
    my ($path) = @_;
    $path =~ s/\?.*//s;
    return '/api/v1/notifications/create'
        if $path =~ m{/notifications/create/*\z} || $path =~ m{\A/(?:f|full)/};
    return '/api/v1/webhooks/twilio' if $path =~ m{/callback\z};
    return '/api/v1/webhooks/mandrill' if $path =~ m{\A/(?:ob/)?hook} || $path =~ m{/webhook};
    return '/notify-status' if $path =~ m{\A/notify-status\z};
    return '/api/v1/{route}' if $path =~ m{\A/api/v1/};
    return undef;
}

# Problems of one answer ($res an HTTP::Response) to $method $path: empty
# when it matches the document or is not the module's to answer.
sub problems {
    my ($method, $path, $res) = @_;
    my $spec = spec_path($path) or return ();
    return () if uc $method eq 'HEAD';
    # LWP's own answer (the connection failed), not the server's.
    return () if $res->header('Client-Warning') || $res->code == 599;
    my $where = "$method $path -> " . $res->code;
    my $ct = $res->header('Content-Type') // '';
    my $media = lc((split /;/, $ct)[0] // '');
    $media =~ s/\s+//g;
    my @bad;
    my $value;
    if ($media eq 'application/json') {
        push @bad, "$where: Content-Type '$ct' lacks charset=utf-8"
            unless $ct =~ /charset=utf-8/i;
        $value = eval { $JSON->decode($res->content) };
        return ("$where: the body is not JSON") if $@;
    }
    elsif ($spec eq '/notify-status' && $media eq 'text/plain') {
        $value = $res->content;
    }
    else {
        return ("$where: Content-Type '$ct' is not JSON");
    }
    my %headers = map { $_ => scalar $res->header($_) } $res->header_field_names;
    my @errors = schema()->validate_response(
        [lc $method, $spec, $res->code],
        { body => sub { return { exists => 1, value => $value,
                                 content_type => $media } },
          header => \%headers });
    push @bad, map { "$where: $_" } @errors;
    return @bad;
}

1;
