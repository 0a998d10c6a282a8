#!/bin/sh
# install-deps.sh build|tray|test|bench|all - install the Debian packages
# roamsmtp needs, only those missing.  Runs apt-get as root, or through sudo.
set -eu

build="build-essential cmake pkg-config libevent-dev libssl-dev
       libglib2.0-dev libjansson-dev libnm-dev libsecret-1-dev scdoc
       libc-ares-dev"
test="libcmocka-dev python3-aiosmtpd swaks libnet-ssleay-perl curl msmtp
      openssl util-linux procps iproute2 python3-dbusmock dbus-daemon
      dbus-bin gnome-keyring libsecret-tools dovecot-pop3d dnsmasq-base
      clang libclang-rt-14-dev"
bench="postfix socat openssl python3-aiosmtpd python3-dbusmock dbus-daemon dovecot-pop3d"
# roamsmtp-tray (optional: CMake builds it when these are found); the SVG
# loader draws its icons.  The tray scenarios add a headless X server, a
# system tray (trayer), X tools and GObject introspection for Python.
tray="libgtk-3-dev libayatana-appindicator3-dev libnotify-dev librsvg2-common"
tray_test="xvfb xdotool x11-utils trayer imagemagick python3-gi"
# The Debian packages (tests/e2e/package_install.sh builds, checks and
# installs them): debhelper, lintian, setcap for the postinst, setpriv.
package="debhelper dpkg-dev fakeroot lintian libcap2-bin util-linux"

want=$build
case "${1:-build}" in
build) ;;
tray) want="$build $tray" ;;
test) want="$build $tray $test $tray_test $package" ;;
bench) want="$build $bench" ;;
all) want="$build $tray $test $tray_test $package $bench" ;;
*) echo "usage: $0 build|tray|test|bench|all" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# Postfix only lends its smtp-source/smtp-sink load tools to the benchmark:
# keep it from configuring itself as this machine's mail server.
echo "postfix postfix/main_mailer_type select No configuration" |
	$sudo debconf-set-selections
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends $missing
