#!/bin/sh
# install-deps.sh build|test|bench - install the Debian packages roamsmtp
# needs, only those missing.  Runs apt-get as root, or through sudo.
set -eu

build="build-essential cmake pkg-config libevent-dev libssl-dev
       libglib2.0-dev libjansson-dev libnm-dev"
test="libcmocka-dev python3-aiosmtpd swaks libnet-ssleay-perl curl msmtp
      openssl util-linux procps iproute2 python3-dbusmock dbus-daemon"
bench="postfix socat"

want=$build
case "${1:-build}" in
build) ;;
test) want="$build $test" ;;
bench) want="$build $bench" ;;
all) want="$build $test $bench" ;;
*) echo "usage: $0 build|test|bench|all" >&2; exit 2 ;;
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
