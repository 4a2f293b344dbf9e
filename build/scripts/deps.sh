#!/usr/bin/env bash
# Usage: deps.sh [bench]
# Installs the Debian packages mod_notify needs to build, run and test
# (and, with "bench", to benchmark and profile it: `make bench`, `make profile`).
# As root: apt-get update once, then apt-get install what is missing.
# Otherwise: prints the sudo line to run and exits 1.
# Quiet no-op when everything is present.
set -euo pipefail

packages=(
    # build
    apache2 apache2-dev libapr1-dev libaprutil1-dev
    libjansson-dev libcurl4-openssl-dev libssl-dev pkg-config make gcc
    # run: mod_dbd drivers, the sqlite3 shell
    libaprutil1-dbd-sqlite3 libaprutil1-dbd-pgsql sqlite3
    # tests: check (C), Apache::Test (in libapache2-mod-perl2) and its helpers
    check libapache2-mod-perl2 libdbi-perl libdbd-sqlite3-perl libjson-perl
    libwww-perl
    # every answer of the suite checked against build/openapi.yaml
    libjson-validator-perl libyaml-libyaml-perl
    # tests against a real PostgreSQL
    postgresql libdbd-pg-perl
    # make fuzz (libFuzzer comes with clang's runtime libraries); the
    # sanitizer pass uses gcc's libasan, which gcc already brings
    clang libclang-rt-dev
    # as-user.sh: runuser and useradd
    util-linux passwd
    # make deb: dpkg-buildpackage, dh (dh_apache2 is in apache2-dev), lintian
    dpkg-dev debhelper fakeroot lintian
)
if [[ ${1:-} == bench ]]; then
    # the load generator, callgrind, and procps (ps) for memory readings
    packages+=(wrk valgrind procps)
fi

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != installed ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "missing packages; run:" >&2
    echo "sudo apt-get install -y ${missing[*]}"
    exit 1
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}" </dev/null
