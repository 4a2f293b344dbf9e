#!/usr/bin/env bash
# `make run`: serves mod_notify in the foreground on 127.0.0.1:$PORT.
# Creates var/notify.db from the SQLite schema when absent, (re)issues the
# token of the application "demo" and prints it once with a curl line,
# generates var/httpd.conf from build/conf/httpd.conf.in, then runs httpd
# until Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")/../.."
repo=$(pwd -P)
var=$repo/var
port=${PORT:-8080}
httpd=${HTTPD:-/usr/sbin/apache2}
module=$repo/mod_notify/.libs/mod_notify.so
schema=$repo/build/schema/sqlite.sql
server_user=www-data

if [[ ! -f $module ]]; then
    echo "$module is missing: run make first" >&2
    exit 1
fi
mkdir -p "$var/run"

# As root, httpd's children run as www-data, which needs write access to
# the database and its folder (SQLite's -wal and -shm files). A clone under
# a folder www-data cannot enter (e.g. /root) gets its database elsewhere,
# with var/notify.db as a symlink to it.
user_group=
dbdir=$var
as_server=()
if [[ $(id -u) -eq 0 ]]; then
    user_group="User $server_user
Group $server_user"
    as_server=(runuser -u "$server_user" --)
    if [[ -L $var/notify.db ]]; then
        dbdir=$(dirname "$(readlink -f "$var/notify.db")")
    elif ! runuser -u "$server_user" -- test -x "$var"; then
        hash=$(printf %s "$repo" | sha256sum | cut -c1-12)
        dbdir=/var/lib/mod_notify/run-$hash
    fi
    if [[ $dbdir != "$var" ]]; then
        echo "note: $server_user cannot enter $var; the database lives in $dbdir (var/notify.db links to it)"
    fi
    mkdir -p "$dbdir"
    chown "$server_user:" "$dbdir"
    if [[ -f $dbdir/notify.db ]]; then
        chown "$server_user:" "$dbdir/notify.db"
    fi
fi
db=$dbdir/notify.db
mkdir -p "$dbdir/htdocs"

# sqlite3 runs as the server user so any -wal/-shm file is the server's.
if [[ ! -f $db ]]; then
    "${as_server[@]}" rm -f "$db.new"
    "${as_server[@]}" sqlite3 -bail "$db.new" <"$schema" >/dev/null
    "${as_server[@]}" mv "$db.new" "$db"
    echo "created $db from $schema"
fi
if [[ $db != "$var/notify.db" ]]; then
    ln -sfn "$db" "$var/notify.db"
fi

# A fresh token for the single "demo" application: only its SHA-256 is
# stored, so the token can be shown this once; the previous one stops
# working.
token=$(head -c 33 /dev/urandom | base64 | tr '+/' '-_')
sha=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"${as_server[@]}" sqlite3 -bail "$db" >/dev/null <<SQL
PRAGMA busy_timeout = 5000;
UPDATE api_applications SET token_sha256 = '$sha', active = 1, created_at = '$now'
    WHERE name = 'demo';
INSERT INTO api_applications (name, token_sha256, active, created_at)
    SELECT 'demo', '$sha', 1, '$now'
    WHERE NOT EXISTS (SELECT 1 FROM api_applications WHERE name = 'demo');
SQL

# httpd reopens these paths; a non-root server cannot reopen a stderr that
# is, say, a file owned by root.
error_log=/dev/stderr
access_log=/dev/stdout
[[ -w /dev/stderr ]] || error_log=$var/error_log
[[ -w /dev/stdout ]] || access_log=$var/access_log

conf=$var/httpd.conf
sed -e "s|@VAR@|$var|g" -e "s|@PORT@|$port|g" -e "s|@MODULE@|$module|g" \
    -e "s|@DB@|$db|g" -e "s|@REPO@|$repo|g" -e "s|@HTDOCS@|$dbdir/htdocs|g" \
    -e "s|@ERROR_LOG@|$error_log|g" -e "s|@ACCESS_LOG@|$access_log|g" \
    build/conf/httpd.conf.in >"$conf.new"
# Multi-line value: substituted separately (sed's s/// takes one line).
awk -v ug="$user_group" '{ if ($0 == "@USER_GROUP@") print ug; else print }' \
    "$conf.new" >"$conf"
rm -f "$conf.new"

cat <<INFO

mod_notify on http://127.0.0.1:$port (config $conf, database $db)
errors: $error_log, access log: $access_log; Ctrl-C stops the server.

demo application token (shown once): $token

curl -sS -X POST http://127.0.0.1:$port/api/v1/notifications/create \\
     -H 'Content-Type: application/json' \\
     -d '{"token":"$token","key":"demo-notification","status":"new"}'

INFO

exec "$httpd" -f "$conf" -DFOREGROUND
