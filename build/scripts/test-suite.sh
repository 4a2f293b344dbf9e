#!/usr/bin/env bash
# The Apache::Test part of `make test-suite` (run as a non-root user; the
# module and the C unit tests are already built and passed).
# Generates t/TEST from t/TEST.PL, runs it against a fresh configuration
# (t/TEST creates t/var/test.db before httpd starts), then fails if
# t/logs/error_log shows a crash even when every test passed.
# Passes: SQLite, SQLite under prefork, PostgreSQL, then SQLite once more
# against the module built with ASan and UBSan (build/scripts/httpd-asan).
# SANITIZE=1: every pass runs against the sanitized module.
set -euo pipefail

cd "$(dirname "$0")/../.."

httpd=${HTTPD:-/usr/sbin/apache2}
apxs=$(command -v "${APXS:-apxs}")
port=${TEST_PORT:-auto}
sanitize=${SANITIZE:-}
log=t/logs/error_log
san_dir=

if [[ $(id -u) -eq 0 ]]; then
    echo "Apache::Test refuses root: use 'make test', which switches user" >&2
    exit 1
fi

# t/TEST, for the httpd in $httpd: Apache::Test keeps the httpd it was
# generated for over a -httpd given later.
generate_t_test() {
    perl -MApache::TestMM -e \
        'Apache::TestMM::filter_args(); Apache::TestMM::generate_script("t/TEST")' \
        -- -httpd "$httpd" -apxs "$apxs"
}
generate_t_test

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
# What a failed pass printed is kept and repeated at the very end, where a
# CI log that shows only its tail still has it.
status=0
failures=$(mktemp)
run_pass() {
    local name=$1 pass=0 out
    shift
    out=$(mktemp)
    echo "==== Apache::Test suite on $name ===="
    t/TEST -clean >/dev/null
    t/TEST -httpd "$httpd" -apxs "$apxs" -port "$port" "$@" 2>&1 \
        | grep --line-buffered -v '^apache2: Could not open configuration file' \
        | tee "$out" || pass=$?
    if [[ -n $san_dir ]] && [[ ! -s $san_dir.started ]]; then
        echo "FAIL: httpd did not run through build/scripts/httpd-asan" | tee -a "$out" >&2
        pass=1
    fi
    [[ -z $san_dir ]] || rm -f "$san_dir.started"
    if [[ -n $san_dir ]] && [[ -n $(ls -A "$san_dir") ]]; then
        for f in "$san_dir"/*; do
            echo "---- sanitizer report $(basename "$f") ----"
            head -n 40 "$f"
        done | tee -a "$out" >&2
        echo "FAIL: ASan/UBSan reported (above)" | tee -a "$out" >&2
        rm -f "$san_dir"/*
        pass=1
    fi
    if [[ ! -f $log ]]; then
        echo "FAIL: $log is missing (did httpd start?)" | tee -a "$out" >&2
        pass=1
    elif grep -nE 'exit signal|Segmentation|AddressSanitizer|double free' "$log" \
            | tee -a "$out"; then
        echo "FAIL: $log shows a crash (lines above)" | tee -a "$out" >&2
        pass=1
    fi
    # UBSan's findings, in the error_log of the test server or of the
    # servers a test starts itself (t/var/*/error_log).
    if grep -nE -A 3 'runtime error:' "$log" t/var/*/error_log 2>/dev/null \
            | tee -a "$out"; then
        echo "FAIL: UBSan reported (lines above)" | tee -a "$out" >&2
        pass=1
    fi
    if [[ $pass -ne 0 ]]; then
        {
            echo "---- $name: failed tests and their diagnostics ----"
            grep -E '^(not ok|#|t/.*(Failed|Dubious|Wstat)|\s*Failed|FAIL)' "$out" \
                | grep -vE '^# (Subtest|load:)' | tail -n 60
            if [[ -f $log ]]; then
                echo "---- $name: last lines of $log at warn or above ----"
                grep -E ':(warn|error|crit|alert|emerg)\]' "$log" | tail -n 15
            fi
        } >>"$failures"
    fi
    rm -f "$out"
    echo "==== $name: $([[ $pass -eq 0 ]] && echo passed || echo FAILED) ===="
    [[ $pass -eq 0 ]] || status=1
}

# A PostgreSQL server of our own (build/scripts/pg.sh): initdb into a
# temporary folder as this (unprivileged) user, listening only on a unix
# socket there; stopped and removed on exit, also on failure.
# shellcheck source=build/scripts/pg.sh
. build/scripts/pg.sh
trap 'stop_server; pg_stop; [[ -z $san_dir ]] || rm -rf "$san_dir" "$san_dir.started"' EXIT

# From here on, httpd is the wrapper that preloads the sanitizer runtimes,
# and the module is (re)built with SANITIZE=1.
use_sanitizers() {
    local build
    build=$(mktemp)
    if ! make --no-print-directory all SANITIZE=1 >"$build" 2>&1; then
        cat "$build" >&2
        echo "FAIL: the module did not build with SANITIZE=1" | tee -a "$failures" >&2
        status=1
    fi
    rm -f "$build"
    san_dir=$(mktemp -d /tmp/mod_notify-san.XXXXXX)
    export NOTIFY_REAL_HTTPD=$httpd NOTIFY_SAN_DIR=$san_dir
    httpd=$PWD/build/scripts/httpd-asan
    export HTTPD=$httpd
    generate_t_test
}
san_label=
if [[ $sanitize == 1 ]]; then
    use_sanitizers
    san_label=", ASan+UBSan"
fi

run_pass "SQLite$san_label"
# Once more on SQLite under prefork: the module must be fork-safe too.
NOTIFY_TEST_MPM=prefork run_pass "SQLite (prefork MPM$san_label)" \
    -defines NOTIFY_PREFORK
if ! grep -q 'mpm_prefork:notice' "$log"; then
    echo "FAIL: the prefork pass did not run under mpm_prefork" | tee -a "$failures" >&2
    status=1
fi
if pg_start; then
    run_pass "PostgreSQL$san_label" -defines NOTIFY_PG
    stop_server
    pg_stop
else
    status=1
fi
if [[ $sanitize != 1 ]]; then
    use_sanitizers
    run_pass "SQLite (ASan+UBSan)"
fi
if [[ -s $failures ]]; then
    cat "$failures" >&2
fi
rm -f "$failures"
exit "$status"
