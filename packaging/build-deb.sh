#!/bin/sh
# build-deb.sh [OUTDIR] - build the Debian packages of this checkout with
# dpkg-buildpackage -us -uc -b, in a scratch copy of the tree whose debian/
# is packaging/debian/ (the source tree itself is never written to).  The
# .deb, .changes and .buildinfo files land in OUTDIR (default: build/deb).
#
# Without GTK 3, libayatana-appindicator3 or libnotify (or without tray/),
# the build uses the pkg.roamsmtp.notray profile and roamsmtp-tray is not
# built.  Needs the build dependencies in packaging/debian/control
# (packaging/install-deps.sh test installs them).
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/roamsmtp-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/roamsmtp

# The files of a clean checkout: tracked ones and new ones git does not
# ignore, not build folders.
mkdir "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
	    tar -C "$src" --null --ignore-failed-read -T - -cf - |
	    tar -C "$tree" -xf -
else
	tar -C "$src" --exclude=./build --exclude=./build-asan --exclude=./.git \
	    -cf - . | tar -C "$tree" -xf -
fi
rm -rf "$tree/debian"
cp -a "$src/packaging/debian" "$tree/debian"

profiles=${DEB_BUILD_PROFILES:-}
if [ ! -f "$tree/tray/CMakeLists.txt" ] ||
    ! pkg-config --exists gtk+-3.0 ayatana-appindicator3-0.1 libnotify; then
	echo "build-deb: no tray (tray/ or its libraries missing):" \
	    "building without roamsmtp-tray" >&2
	profiles="$profiles pkg.roamsmtp.notray"
fi

cd "$tree"
DEB_BUILD_PROFILES=$(echo $profiles) \
DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -us -uc -b
for f in "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo; do
	[ -e "$f" ] && cp "$f" "$out/"
done
ls "$out"
