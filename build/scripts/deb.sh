#!/usr/bin/env bash
# Usage: deb.sh
# `make deb`: builds the Debian binary package libapache2-mod-notify.
# Copies the tree (the files git tracks or would track: not what
# .gitignore names, such as build outputs; outside a git checkout, the tree
# without .git and build outputs) to a temporary folder, puts
# build/debian there as debian/, writes debian/changelog for the version in
# include/notify_version.h, runs dpkg-buildpackage -b, and copies the .deb
# files to build/deb-out/. The temporary folder is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD

fail() { echo "deb: $*" >&2; exit 1; }

for tool in dpkg-buildpackage dh dh_apache2; do
    command -v "$tool" >/dev/null \
        || fail "$tool not found (apt-get install dpkg-dev debhelper apache2-dev, or make deps)"
done

header=include/notify_version.h
[[ -f $header ]] || fail "$header not found: it defines NOTIFY_VERSION"
version=$(sed -n 's/^#define[[:space:]]\{1,\}NOTIFY_VERSION[[:space:]]\{1,\}"\([^"]*\)".*/\1/p' "$header")
[[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] \
    || fail "no usable NOTIFY_VERSION in $header (got '${version}')"
# The Debian revision: the package is built from the upstream tree as is.
debversion="$version-${DEB_REVISION:-1}"

package=libapache2-mod-notify
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mod_notify-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src="$tmp/$package-$version"
mkdir "$src"

if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked and new files as they are in the work tree (edits included,
    # deleted ones and ignored ones left out).
    git -C "$top" ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do
              [[ -e $f || -L $f ]] && printf '%s\0' "$f"
          done \
        | tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
else
    tar -C "$top" -cf - --exclude=.git --exclude=./build/deb-out \
        --exclude='*.o' --exclude='*.lo' --exclude='*.la' --exclude='*.slo' \
        --exclude=.libs --exclude=./var --exclude=./t/fuzz/build . \
        | tar -C "$src" -xf -
fi
[[ -d $src/build/debian ]] || fail "build/debian is missing"
rm -rf "$src/debian"
cp -a "$src/build/debian" "$src/debian"

# The changelog is generated, not kept: the version lives in one place.
{
    echo "$package ($debversion) unstable; urgency=medium"
    echo
    echo "  * mod_notify $version; its changes are in build/ChangeLog"
    echo "    (/usr/share/doc/$package/changelog.gz)."
    echo
    echo " -- mod_notify developers <notify@example.com>  $(date -R)"
} >"$src/debian/changelog"

echo "building $package $debversion in $src"
(cd "$src" && dpkg-buildpackage -b -us -uc)

mkdir -p "$top/build/deb-out"
shopt -s nullglob
debs=("$tmp"/*_"$debversion"_*.deb)
[[ ${#debs[@]} -gt 0 ]] || fail "dpkg-buildpackage made no .deb"
for deb in "${debs[@]}"; do
    cp "$deb" "$top/build/deb-out/"
    echo "built build/deb-out/${deb##*/}"
done
