#!/usr/bin/env bash
# Usage: as-user.sh TARGET [VAR=value ...]
# Runs `make TARGET` as an unprivileged user: `make test` (test-suite) and
# `make bench` (bench-run) go through here.
# Apache::Test refuses to run as root, initdb too, and a clone may sit in a
# folder other users cannot enter (/root/...), so as root this copies the
# tree (without .git and build outputs) into a fresh folder owned by the
# system user notifytest, runs the target there as that user, and removes
# the copy. Not root: runs `make TARGET` in place.
set -euo pipefail

cd "$(dirname "$0")/../.."
target=${1:?usage: as-user.sh TARGET [VAR=value ...]}
shift

if [[ $(id -u) -ne 0 ]]; then
    exec make --no-print-directory "$target" "$@"
fi

user=notifytest
if ! id -u "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$user"
    echo "created system user $user"
fi

work=$(mktemp -d /tmp/mod_notify-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

tar -cf - \
    --exclude=./.git --exclude=./var \
    --exclude=./t/logs --exclude=./t/var --exclude=./t/TEST --exclude=./t/SMOKE \
    --exclude=./t/conf/apache_test_config.pm --exclude=./t/conf/httpd.conf \
    --exclude=./t/conf/extra.conf --exclude=./t/unit/runner \
    --exclude='*.o' --exclude='*.lo' --exclude='*.la' --exclude='*.slo' \
    --exclude=.libs --exclude=./t/fuzz/build --exclude=./mod_notify/.build-flags \
    . | tar -C "$work" -xf -
chown -R "$user:" "$work"
chmod 755 "$work"
echo "running make $target as $user in $work"

cd "$work"
status=0
runuser -u "$user" -- env HOME="$work" make --no-print-directory "$target" "$@" \
    </dev/null || status=$?
if [[ $status -ne 0 ]]; then
    echo "make $target: FAILED (exit $status)" >&2
fi
exit "$status"
