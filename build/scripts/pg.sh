# shellcheck shell=bash
# A throw-away PostgreSQL server, for build/scripts/test-suite.sh and
# build/bench/bench.sh (sourced by both; run as an unprivileged user).
#
#   pg_start    initdb into a fresh folder under /tmp, start the server on a
#               unix socket there (no TCP), create database "notify"; exports
#               NOTIFY_TEST_PG* (libpq/DBDParams strings, pg_ctl and its
#               options for tests that restart the server) and PG_PSQL
#   pg_stop     stop it, remove the folder and unset NOTIFY_TEST_PG* (safe
#               to call twice; the callers run it from an EXIT trap, so
#               also on failure)
#
# fsync is off: the data is thrown away after the run.

pg_dir=

pg_stop() {
    if [[ -n $pg_dir ]]; then
        "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$pg_dir"
        pg_dir=
    fi
    unset NOTIFY_TEST_PG NOTIFY_TEST_PG_LATE NOTIFY_TEST_PG_A NOTIFY_TEST_PG_B \
        NOTIFY_TEST_PG_CTL NOTIFY_TEST_PG_DATA NOTIFY_TEST_PG_OPTS
}

pg_start() {
    local opts
    pg_bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null |
        sort -V | tail -n 1)
    if [[ -z $pg_bin ]]; then
        echo "FAIL: no PostgreSQL server under /usr/lib/postgresql (make deps)" >&2
        return 1
    fi
    pg_dir=$(mktemp -d /tmp/mod_notify-pg.XXXXXX)
    opts="-k $pg_dir -c listen_addresses='' -c fsync=off -c max_connections=300"
    "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U notify -E UTF8 --no-sync >/dev/null
    "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -o "$opts" \
        start >/dev/null
    "$pg_bin/createdb" -h "$pg_dir" -U notify notify
    export NOTIFY_TEST_PG="host=$pg_dir dbname=notify user=notify"
    export NOTIFY_TEST_PG_LATE="host=$pg_dir dbname=notify_late user=notify"
    # two more databases, each the own of a virtual host (t/vhosts.t)
    export NOTIFY_TEST_PG_A="host=$pg_dir dbname=notify_a user=notify"
    export NOTIFY_TEST_PG_B="host=$pg_dir dbname=notify_b user=notify"
    export NOTIFY_TEST_PG_CTL="$pg_bin/pg_ctl"
    export NOTIFY_TEST_PG_DATA="$pg_dir/data"
    export NOTIFY_TEST_PG_OPTS="$opts"
    PG_PSQL=("$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_dir" -U notify notify)
    echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on $pg_dir"
}
