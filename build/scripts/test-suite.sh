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

t/TEST -clean >/dev/null
status=0
t/TEST -httpd "$httpd" -apxs "$apxs" -port "$port" || status=$?

if [[ ! -f $log ]]; then
    echo "FAIL: $log is missing (did httpd start?)" >&2
    status=1
elif grep -nE 'exit signal|Segmentation|AddressSanitizer|double free' "$log"; then
    echo "FAIL: $log shows a crash (lines above)" >&2
    status=1
fi

if [[ $status -ne 0 && -f $log ]]; then
    echo "---- last 40 lines of $log ----" >&2
    tail -n 40 "$log" >&2
fi
exit "$status"
