#!/usr/bin/env bash
# The Apache::Test part of `make test-suite` (run as a non-root user; the
# module and the C unit tests are already built and passed).
# Generates t/TEST from t/TEST.PL, runs it against a fresh configuration
# (t/TEST creates t/var/test.db before httpd starts), then fails if
# t/logs/error_log shows a crash even when every test passed.
set -euo pipefail

cd "$(dirname "$0")/../.."

httpd=${HTTPD:-/usr/sbin/apache2}
apxs=$(command -v "${APXS:-apxs}")
port=${TEST_PORT:-auto}
log=t/logs/error_log

if [[ $(id -u) -eq 0 ]]; then
    echo "Apache::Test refuses root: use 'make test', which switches user" >&2
    exit 1
fi

perl -MApache::TestMM -e \
    'Apache::TestMM::filter_args(); Apache::TestMM::generate_script("t/TEST")' \
    -- -httpd "$httpd" -apxs "$apxs"

# shellcheck disable=SC2317 # run by the trap
stop_server() {
    if [[ -s t/logs/httpd.pid ]] && kill -0 "$(cat t/logs/httpd.pid)" 2>/dev/null; then
        t/TEST -stop >/dev/null 2>&1 || true
    fi
}
trap stop_server EXIT

# "auto": a port the kernel says is free now. Apache::Test's own "select"
# checks the port at configure time only, so two suites starting at once on
# one machine both take 8529.
if [[ $port == auto ]]; then
    port=$(perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(Listen => 1, LocalPort => 0)->sockport')
fi

# One pass of the suite; $1 names it, the rest goes to t/TEST.
status=0
run_pass() {
    local name=$1 pass=0
    shift
    echo "==== Apache::Test suite on $name ===="
    t/TEST -clean >/dev/null
    t/TEST -httpd "$httpd" -apxs "$apxs" -port "$port" "$@" || pass=$?
    if [[ ! -f $log ]]; then
        echo "FAIL: $log is missing (did httpd start?)" >&2
        pass=1
    elif grep -nE 'exit signal|Segmentation|AddressSanitizer|double free' "$log"; then
        echo "FAIL: $log shows a crash (lines above)" >&2
        pass=1
    fi
    if [[ $pass -ne 0 && -f $log ]]; then
        echo "---- last 40 lines of $log ($name) ----" >&2
        tail -n 40 "$log" >&2
    fi
    echo "==== $name: $([[ $pass -eq 0 ]] && echo passed || echo FAILED) ===="
    [[ $pass -eq 0 ]] || status=1
}

# A PostgreSQL server of our own: initdb into a temporary folder as this
# (unprivileged) user, listening only on a unix socket there; stopped and
# removed on exit, also on failure.
pgdir=
# shellcheck disable=SC2317 # run by the trap
stop_pg() {
    if [[ -n $pgdir ]]; then
        "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$pgdir"
        pgdir=
    fi
}
start_pg() {
    pgbin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)
    if [[ -z $pgbin ]]; then
        echo "FAIL: no PostgreSQL server under /usr/lib/postgresql (make deps)" >&2
        return 1
    fi
    pgdir=$(mktemp -d /tmp/mod_notify-pg.XXXXXX)
    "$pgbin/initdb" -D "$pgdir/data" -A trust -U notify -E UTF8 --no-sync >/dev/null
    # fsync off: a test database, thrown away after the run.
    "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
        -o "-k $pgdir -c listen_addresses='' -c fsync=off -c max_connections=300" \
        start >/dev/null
    "$pgbin/createdb" -h "$pgdir" -U notify notify
    export NOTIFY_TEST_PG="host=$pgdir dbname=notify user=notify"
    export NOTIFY_TEST_PG_LATE="host=$pgdir dbname=notify_late user=notify"
    # For tests that restart the server (t/pgsql.t).
    export NOTIFY_TEST_PG_CTL="$pgbin/pg_ctl"
    export NOTIFY_TEST_PG_DATA="$pgdir/data"
    export NOTIFY_TEST_PG_OPTS="-k $pgdir -c listen_addresses='' -c fsync=off -c max_connections=300"
    echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on $pgdir"
}
trap 'stop_server; stop_pg' EXIT

run_pass SQLite
# Once more on SQLite under prefork: the module must be fork-safe too.
NOTIFY_TEST_MPM=prefork run_pass "SQLite (prefork MPM)" -defines NOTIFY_PREFORK
if ! grep -q 'mpm_prefork:notice' "$log"; then
    echo "FAIL: the prefork pass did not run under mpm_prefork" >&2
    status=1
fi
if start_pg; then
    run_pass PostgreSQL -defines NOTIFY_PG
    stop_server
    stop_pg
else
    status=1
fi
exit "$status"
