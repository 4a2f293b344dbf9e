#!/usr/bin/env bash
# Usage: deb-check.sh [path/to/libapache2-mod-notify_VERSION_ARCH.deb]
# `make deb-check`, as root: the Debian package's round trip. Builds it with
# `make deb` unless a .deb is given, runs lintian on it (errors fail),
# installs it (apt-get, so dependencies resolve), checks its files,
# `a2enmod notify` (which must enable dbd too), `apache2ctl configtest` and
# `apache2ctl -M`; then, as README shows, a private httpd of its own (own
# port, pid file and logs) with the enabled modules, a database from the
# packaged schema, the create route and notify-status: one create answers
# action-successful, is stored, and is counted by notify-status. Then
# `a2dismod notify`, purges the package and checks its files are gone.
#
# It never starts, restarts or reloads the apache2 service. It refuses to
# run when the package, or a mod_notify installed another way (make
# install), is already there, and it leaves the machine as it found it,
# also when a step fails: the private httpd stopped, the package purged,
# notify disabled, dbd enabled only if it was, a2enmod's state markers
# (/var/lib/apache2/module) for notify and dbd as they were.
# Any failure ends with a "FAIL: ..." line and a non-zero exit status.
set -euo pipefail
cd "$(dirname "$0")/../.."

pkg=libapache2-mod-notify
etc=/etc/apache2
statedir=/var/lib/apache2/module
so=/usr/lib/apache2/modules/mod_notify.so
sharedir=/usr/share/$pkg
schemas=(sqlite.sql pgsql.sql)
# What the package installs, or an earlier install left.
ours=("$so" "$etc/mods-available/notify.load" "$etc/mods-available/notify.conf"
      "$etc/mods-enabled/notify.load" "$etc/mods-enabled/notify.conf" "$sharedir")

export DEBIAN_FRONTEND=noninteractive
# Waits for another apt/dpkg run instead of failing on its lock.
apt_opts=(-y -q -o DPkg::Lock::Timeout=300)

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

pkg_status() {
    dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true
}

[[ $(id -u) -eq 0 ]] || fail "run as root: it installs and purges $pkg"
for tool in apt-get dpkg-deb a2enmod a2dismod apache2ctl; do
    command -v "$tool" >/dev/null || fail "$tool not found (is apache2 installed? make deps)"
done

# --- refuse to touch an existing install -----------------------------------
status=$(pkg_status)
if [[ -n $status && $status != not-installed ]]; then
    fail "$pkg is already on this machine (status: $status); not touching an admin's install"
fi
for f in "${ours[@]}"; do
    [[ -e $f || -L $f ]] \
        && fail "$f already exists (a mod_notify installed another way, e.g. make install); remove it first"
done

# --- the package to check --------------------------------------------------
if [[ $# -gt 0 ]]; then
    deb=$1
    [[ -f $deb ]] || fail "$deb: no such file"
else
    step "make deb"
    make --no-print-directory deb || fail "make deb"
    arch=$(dpkg --print-architecture)
    shopt -s nullglob
    debs=(build/deb-out/"${pkg}"_*_"$arch".deb)
    shopt -u nullglob
    [[ ${#debs[@]} -gt 0 ]] || fail "make deb left no build/deb-out/${pkg}_*_$arch.deb"
    # the newest, when several versions are there
    deb=${debs[0]}
    for d in "${debs[@]}"; do
        if [[ $d -nt $deb ]]; then deb=$d; fi
    done
fi
deb=$(realpath "$deb")
[[ $(dpkg-deb -f "$deb" Package) == "$pkg" ]] || fail "$deb is not a $pkg package"
version=$(dpkg-deb -f "$deb" Version)
echo "checking $deb ($pkg $version)"

step "lintian"
lintian --fail-on error "$deb" || fail "lintian found errors in $deb"

# --- what to restore -------------------------------------------------------
dbd_before=no
[[ -e $etc/mods-enabled/dbd.load ]] && dbd_before=yes
# a2enmod/a2dismod's markers (enabled_by_admin/dbd, disabled_by_admin/notify...)
markers_before=$(find "$statedir" -type f \( -name notify -o -name dbd \) 2>/dev/null | sort || true)
packages_before=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" {print $2}' | sort)

step "apache2ctl configtest before installing"
out=$(apache2ctl configtest 2>&1) \
    || { echo "$out" >&2; fail "apache2ctl configtest fails before $pkg is installed: fix that first"; }

installed=no
# Undoes whatever of the install is still there; run on every exit.
cleanup() {
    local m new
    if [[ -n ${endpoint:-} && -d ${endpoint:-/nonexistent} ]]; then
        stop_endpoint
    fi
    if [[ $installed == yes ]]; then
        if [[ -e $etc/mods-enabled/notify.load ]]; then
            a2dismod -q -f notify >/dev/null
        fi
        if [[ $dbd_before == no && -e $etc/mods-enabled/dbd.load ]]; then
            a2dismod -q -f dbd >/dev/null
        fi
        status=$(pkg_status)
        if [[ -n $status && $status != not-installed ]]; then
            apt-get purge "${apt_opts[@]}" "$pkg" >/dev/null \
                || dpkg --purge "$pkg" >/dev/null \
                || echo "FAIL: could not purge $pkg: dpkg --purge $pkg" >&2
        fi
        # The markers as they were: none added, none lost.
        while IFS= read -r m; do
            [[ -n $m ]] || continue
            grep -qxF -- "$m" <<<"$markers_before" || rm -f -- "$m"
        done < <(find "$statedir" -type f \( -name notify -o -name dbd \) 2>/dev/null)
        while IFS= read -r m; do
            [[ -n $m && ! -e $m ]] || continue
            mkdir -p -- "$(dirname -- "$m")" && touch -- "$m"
        done <<<"$markers_before"
        new=$(comm -13 <(echo "$packages_before") \
            <(dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" {print $2}' | sort))
        if [[ -n $new ]]; then
            echo "note: installed as dependencies of $pkg (left installed): ${new//$'\n'/ }"
        fi
    fi
}
on_exit() {
    local rc=$?
    trap - EXIT
    set +e
    if [[ $rc -ne 0 && $installed == yes ]]; then
        echo "cleaning up after the failure"
    fi
    cleanup
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# --- install ---------------------------------------------------------------
step "apt-get install $deb"
installed=yes
apt-get install "${apt_opts[@]}" --no-install-recommends "$deb" \
    || fail "apt-get install $deb"
[[ $(pkg_status) == installed ]] || fail "$pkg is not installed after apt-get install (status: $(pkg_status))"
[[ $(dpkg-query -W -f='${Version}' "$pkg") == "$version" ]] || fail "installed version is not $version"

step "files"
for f in "$so" "$etc/mods-available/notify.load" "$etc/mods-available/notify.conf" \
         "${schemas[@]/#/$sharedir/schema/}"; do
    [[ -f $f ]] || fail "$f not installed"
done
# (nm's output kept whole: grep -q ending a pipe early fails it under pipefail)
symbols=$(nm -D --defined-only "$so" 2>&1) || fail "nm -D $so: $symbols"
grep -qw notify_module <<<"$symbols" || fail "$so does not export notify_module"
grep -q "^LoadModule notify_module $so\$" "$etc/mods-available/notify.load" \
    || fail "$etc/mods-available/notify.load does not load $so"
grep -q '^# Depends: dbd' "$etc/mods-available/notify.load" \
    || fail "$etc/mods-available/notify.load does not say # Depends: dbd"
# Installing does not enable it (dh_apache2 --noenable).
[[ ! -e $etc/mods-enabled/notify.load ]] || fail "installing $pkg enabled notify"

step "a2enmod notify"
a2enmod -q notify || fail "a2enmod notify"
[[ -e $etc/mods-enabled/notify.load ]] || fail "a2enmod notify did not enable notify.load"
[[ -e $etc/mods-enabled/notify.conf ]] || fail "a2enmod notify did not enable notify.conf"
[[ -e $etc/mods-enabled/dbd.load ]] || fail "a2enmod notify did not enable dbd (# Depends: dbd)"

step "apache2ctl configtest"
out=$(apache2ctl configtest 2>&1) || { echo "$out" >&2; fail "apache2ctl configtest with notify enabled"; }
echo "$out"
grep -q 'Syntax OK' <<<"$out" || fail "apache2ctl configtest did not say Syntax OK"

step "apache2ctl -M"
out=$(apache2ctl -M 2>&1) || { echo "$out" >&2; fail "apache2ctl -M"; }
for m in notify_module dbd_module; do
    grep -qw "$m" <<<"$out" || { echo "$out" >&2; fail "apache2ctl -M does not list $m"; }
    grep -w "$m" <<<"$out"
done

step "a working, monitored endpoint from the package (as README shows)"
# A private httpd (its own port, pid file and logs; the machine's apache2
# service is not touched) with the modules a2enmod enabled, a database
# made from the packaged schema, the create route and notify-status.
endpoint=$(mktemp -d /tmp/notify-deb-check.XXXXXX)
chmod 755 "$endpoint"
endpoint_pid=
stop_endpoint() {
    if [[ -n $endpoint_pid ]] && kill -0 "$endpoint_pid" 2>/dev/null; then
        /usr/sbin/apache2 -f "$endpoint/httpd.conf" -k stop >/dev/null 2>&1 || kill "$endpoint_pid"
        for _ in $(seq 1 50); do kill -0 "$endpoint_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    endpoint_pid=
    rm -rf "$endpoint"
}
sqlite3 "$endpoint/notify.db" <"$sharedir/schema/sqlite.sql" >/dev/null || fail "the packaged sqlite.sql did not load"
token=deb-check-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
sqlite3 "$endpoint/notify.db" "INSERT INTO api_applications (name, token_sha256, active, created_at)
    VALUES ('deb-check', '$(printf %s "$token" | sha256sum | cut -d' ' -f1)', 1, '2026-01-01T00:00:00Z')"
chown -R www-data: "$endpoint"
port=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0)->sockport')
mpm_load=$(ls "$etc"/mods-enabled/mpm_*.load 2>/dev/null | head -n 1)
[[ -n $mpm_load ]] || mpm_load=$etc/mods-available/mpm_event.load
cat >"$endpoint/httpd.conf" <<CONF
ServerRoot /etc/apache2
ServerName localhost
Listen 127.0.0.1:$port
PidFile $endpoint/httpd.pid
DefaultRuntimeDir $endpoint
ErrorLog $endpoint/error_log
User www-data
Group www-data
Include $mpm_load
Include $etc/mods-available/authz_core.load
Include $etc/mods-available/authz_host.load
Include $etc/mods-enabled/dbd.load
Include $etc/mods-enabled/notify.load
Include $etc/mods-enabled/notify.conf
DBDriver  sqlite3
DBDParams $endpoint/notify.db
<Location /api/v1>
    SetHandler notify-api
</Location>
<Location /api/v1/notifications/create>
    SetHandler notify-create
</Location>
<Location /notify-status>
    SetHandler notify-status
    Require ip 127.0.0.1
</Location>
CONF
/usr/sbin/apache2 -t -f "$endpoint/httpd.conf" || fail "the endpoint's configuration"
/usr/sbin/apache2 -f "$endpoint/httpd.conf" -k start || fail "the endpoint's httpd did not start"
for _ in $(seq 1 100); do [[ -s $endpoint/httpd.pid ]] && break; sleep 0.1; done
endpoint_pid=$(cat "$endpoint/httpd.pid" 2>/dev/null || true)
[[ -n $endpoint_pid ]] || { cat "$endpoint/error_log" >&2; fail "the endpoint's httpd wrote no pid file"; }
answers=$(perl -MHTTP::Tiny -e '
    my ($port, $token) = @ARGV;
    my $ua = HTTP::Tiny->new(timeout => 30);
    my $r;
    for (1 .. 50) { $r = $ua->get("http://127.0.0.1:$port/notify-status"); last if $r->{status} != 599; select undef, undef, undef, 0.1 }
    $r = $ua->post("http://127.0.0.1:$port/api/v1/notifications/create",
        { headers => { "Content-Type" => "application/json" },
          content => qq({"token":"$token","key":"deb-check","status":"new"}) });
    print "create $r->{status} $r->{content}\n";
    $r = $ua->get("http://127.0.0.1:$port/notify-status?format=prometheus");
    print "status $r->{status}\n$r->{content}";
' "$port" "$token")
echo "$answers" | head -n 1
grep -q '^create 200 .*"status":"action-successful"' <<<"$answers" \
    || { echo "$answers" >&2; cat "$endpoint/error_log" >&2; stop_endpoint; fail "the packaged module did not create a notification"; }
grep -q '^notify_requests_total{status="action-successful"} 1$' <<<"$answers" \
    || { echo "$answers" >&2; stop_endpoint; fail "notify-status does not count the create"; }
grep '^notify_requests_total{status="action-successful"}' <<<"$answers"
rows=$(sqlite3 "$endpoint/notify.db" "SELECT count(*) FROM notifications WHERE \"key\" = 'deb-check'")
[[ $rows == 1 ]] || { stop_endpoint; fail "the create left $rows rows"; }
stop_endpoint

step "a2dismod notify"
a2dismod -q notify || fail "a2dismod notify"
[[ ! -e $etc/mods-enabled/notify.load && ! -e $etc/mods-enabled/notify.conf ]] \
    || fail "a2dismod notify left notify in $etc/mods-enabled"
if [[ $dbd_before == no ]]; then
    a2dismod -q dbd || fail "a2dismod dbd"
fi

step "apt-get purge $pkg"
apt-get purge "${apt_opts[@]}" "$pkg" || fail "apt-get purge $pkg"
status=$(pkg_status)
[[ -z $status || $status == not-installed ]] || fail "$pkg still there after purge (status: $status)"
for f in "${ours[@]}"; do
    [[ ! -e $f && ! -L $f ]] || fail "$f still there after purge"
done
if [[ $dbd_before == yes ]]; then
    [[ -e $etc/mods-enabled/dbd.load ]] || fail "dbd was enabled before and is not any more"
else
    [[ ! -e $etc/mods-enabled/dbd.load ]] || fail "dbd was not enabled before and is now"
fi

trap - EXIT
cleanup
markers_now=$(find "$statedir" -type f \( -name notify -o -name dbd \) 2>/dev/null | sort || true)
[[ $markers_now == "$markers_before" ]] \
    || fail "a2enmod state markers in $statedir changed: before [$markers_before] after [$markers_now]"
echo "deb round trip: ok"
