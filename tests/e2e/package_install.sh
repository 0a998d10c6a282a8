#!/bin/bash
# package_install: the Debian packages, as a user gets them.  Build them
# with dpkg-buildpackage from a scratch copy of the tree
# (packaging/build-deb.sh), check them with lintian, install them with
# apt-get, start the INSTALLED daemon as a regular user with the systemd
# unit's own command line and $NOTIFY_SOCKET, on 127.0.0.1:25 (the file
# capability set by the postinst is what allows it; the daemon must have
# dropped every capability once bound), submit through port 25 and through
# /usr/sbin/sendmail as that user, see both at an aiosmtpd upstream, reload
# and stop it (READY=1, RELOADING=1, STOPPING=1), then purge the packages
# and check that their files are gone.
#
# Needs root (apt-get, useradd, setpriv) and the build dependencies of
# packaging/debian/control.  Installing roamsmtp-sendmail removes another
# mail transport agent (postfix, for the benchmark's tools): it is put back
# at the end.  The man pages are checked first: every key the code accepts
# must be in roamsmtp.conf(5).
. "$(dirname "$0")/../lib/common.sh"
SRC=$(cd "$TESTS_DIR/.." && pwd)
USERNAME=roamtest
CREATED_USER=
REMOVED_MTAS=
INSTALLED=

[ "$(id -u)" -eq 0 ] || fail "needs root (apt-get, useradd); CI runs as root"

pkg_cleanup() {
	local rc=$? p
	set +e
	trap - ERR
	if [ -n "$INSTALLED" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq \
		    roamsmtp roamsmtp-sendmail roamsmtp-tray > /dev/null 2>&1
	fi
	if [ -n "$REMOVED_MTAS" ]; then
		echo "postfix postfix/main_mailer_type select No configuration" |
		    debconf-set-selections
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends $REMOVED_MTAS > /dev/null 2>&1 ||
		    printf 'WARNING: could not reinstall %s\n' "$REMOVED_MTAS" >&2
	fi
	for p in "${PIDS[@]}"; do
		kill "$p" 2> /dev/null
	done
	[ -z "$CREATED_USER" ] || userdel -r "$USERNAME" > /dev/null 2>&1
	_rc() { return "$1"; }
	_rc "$rc"
	cleanup
}
trap pkg_cleanup EXIT

# ---------------------------------------------------------------- man pages

step "roamsmtp.conf(5) documents every key the code accepts"
keys() {	# FILE ARRAY: the strings of a C array of key names
	sed -n "/$2\[\] = {/,/NULL };/p" "$1" | grep -o '"[a-z0-9-]*"' | tr -d '"'
}
man5=$SRC/packaging/man/roamsmtp.conf.5.scd
for k in $(keys "$SRC/daemon/conf.c" daemon_keys) \
    $(keys "$SRC/profiles/profile.c" match_keys) \
    $(keys "$SRC/profiles/profile.c" upstream_keys) \
    $(keys "$SRC/profiles/profile_pop.c" profile_pop_keys); do
	grep -q -- "\*$k\*" "$man5" || fail "roamsmtp.conf(5) lacks the key $k"
done
[ "$(keys "$SRC/daemon/conf.c" daemon_keys | wc -l)" -ge 12 ] ||
    fail "could not read the daemon's keys from daemon/conf.c"

# ---------------------------------------------------------------- build

step "dpkg-buildpackage -us -uc -b, in a scratch copy of the tree"
DEB=$T/deb
"$SRC/packaging/build-deb.sh" "$DEB" > "$T/build.log" 2>&1 || {
	tail -n 60 "$T/build.log" >&2
	fail "the package build failed (log: $T/build.log)"
}
for p in roamsmtp roamsmtp-sendmail; do
	ls "$DEB/${p}_"*.deb > /dev/null 2>&1 || fail "no $p package built"
done
git -C "$SRC" status --porcelain -- debian 2> /dev/null | grep -q . &&
    fail "the build wrote debian/ into the source tree"
[ ! -e "$SRC/debian" ] || fail "the build left $SRC/debian"

step "lintian: no error or warning (overrides say why)"
lintian --fail-on error,warning "$DEB"/roamsmtp_*.changes > "$T/lintian.out" 2>&1 || {
	cat "$T/lintian.out" >&2
	fail "lintian found problems"
}

# ---------------------------------------------------------------- install

step "apt-get install the packages"
# A mail transport agent already installed (postfix) conflicts with
# roamsmtp-sendmail; note it to put it back.
REMOVED_MTAS=$(dpkg-query -W -f='${Package} ${Provides} ${db:Status-Status}\n' 2> /dev/null |
    awk '$NF == "installed" && /mail-transport-agent/ && $1 !~ /^roamsmtp/ { print $1 }' |
    tr '\n' ' ')
debs=("$DEB"/roamsmtp_*.deb "$DEB"/roamsmtp-sendmail_*.deb)
tray_deb=$(ls "$DEB"/roamsmtp-tray_*.deb 2> /dev/null || true)
[ -z "$tray_deb" ] || debs+=("$tray_deb")
INSTALLED=1
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "${debs[@]}" > "$T/apt.log" 2>&1 || {
	cat "$T/apt.log" >&2
	fail "apt-get install failed"
}
getcap /usr/sbin/roamsmtpd | grep -q 'cap_net_bind_service[=+]ep' ||
    fail "postinst did not set cap_net_bind_service on /usr/sbin/roamsmtpd: $(getcap /usr/sbin/roamsmtpd)"
assert_eq /usr/sbin/roamsmtp-sendmail "$(readlink -f /usr/sbin/sendmail)" "/usr/sbin/sendmail"
unit=/usr/lib/systemd/user/roamsmtpd.service
[ -f "$unit" ] || fail "no $unit"
for m in man8/roamsmtpd.8 man1/roamsmtpctl.1 man5/roamsmtp.conf.5 \
    man8/roamsmtp-sendmail.8; do
	[ -f "/usr/share/man/$m.gz" ] || fail "no man page /usr/share/man/$m.gz"
done
if [ -n "$tray_deb" ]; then
	[ -x /usr/bin/roamsmtp-tray ] || fail "no /usr/bin/roamsmtp-tray"
	[ -f /etc/xdg/autostart/roamsmtp-tray.desktop ] ||
	    fail "no autostart file for the tray"
	[ -f /usr/share/man/man1/roamsmtp-tray.1.gz ] || fail "no roamsmtp-tray(1)"
fi
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
assert_eq "/usr/sbin/roamsmtpd -f" "$exec_start" "the unit's ExecStart"
assert_grep '^Type=notify$' "$unit" "the unit's type"
assert_no_grep '^NoNewPrivileges=yes' "$unit" "NoNewPrivileges in the unit"

# ---------------------------------------------------------------- run

step "the installed daemon, as user $USERNAME, on 127.0.0.1:25"
if ! id "$USERNAME" > /dev/null 2>&1; then
	useradd -m -s /bin/bash "$USERNAME"
	CREATED_USER=1
fi
uid=$(id -u "$USERNAME")
home=$(getent passwd "$USERNAME" | cut -d: -f6)
"$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 25), 1)' 2> /dev/null &&
    fail "something already listens on 127.0.0.1:25"

as_user() {	# COMMAND...: as the test user, in its environment
	(cd / && exec setpriv --reuid="$uid" --regid="$(id -g "$USERNAME")" \
	    --init-groups env -i HOME="$home" USER="$USERNAME" \
	    LOGNAME="$USERNAME" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    XDG_RUNTIME_DIR="$home/run" "$@")
}
rm -rf "$home/.config/roamsmtp" "$home/.local/state/roamsmtp" "$home/run"
up=$(free_port)
start_upstream up "$up"
as_user mkdir -p -m 700 "$home/run" "$home/.config/roamsmtp/profiles"
as_user sh -c "printf '%s\n' '[daemon]' 'listen = 127.0.0.1:25' \
    'network-backend = none' > '$home/.config/roamsmtp/roamsmtp.conf'"
as_user sh -c "printf '%s\n' '[match]' 'default = true' '' '[upstream]' \
    'host = 127.0.0.1' 'port = $up' 'tls = none' 'auth = none' \
    > '$home/.config/roamsmtp/profiles/up.conf'"

# The service manager's end of sd_notify: a datagram socket, each message
# a line in notify.log.
(cd / && exec setpriv --reuid="$uid" --regid="$(id -g "$USERNAME")" \
    --init-groups "$PY" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    print("LISTENING", file=f)
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$home/run/notify" "$home/run/notify.log") &
PIDS+=("$!")
wait_for "the notify socket" grep -q LISTENING "$home/run/notify.log"

# shellcheck disable=SC2086
(cd / && exec setpriv --reuid="$uid" --regid="$(id -g "$USERNAME")" \
    --init-groups env -i HOME="$home" USER="$USERNAME" LOGNAME="$USERNAME" \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin XDG_RUNTIME_DIR="$home/run" \
    NOTIFY_SOCKET="$home/run/notify" $exec_start) >> "$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
_ready() {
	kill -0 "$DAEMON_PID" 2> /dev/null || fail "roamsmtpd exited while starting"
	grep -q '^READY=1' "$home/run/notify.log"
}
wait_for "READY=1 from the installed roamsmtpd" _ready
assert_grep 'smtp listening on 127\.0\.0\.1:25' "$DAEMON_LOG" "listener on port 25"
status=/proc/$DAEMON_PID/status
assert_eq "$uid" "$(awk '/^Uid:/ { print $3 }' "$status")" "the daemon's effective uid"
for set in CapEff CapPrm CapInh CapAmb; do
	assert_eq 0000000000000000 "$(awk -v s="$set:" '$1 == s { print $2 }' "$status")" \
	    "$set after binding"
done
assert_eq 1 "$(awk '/^NoNewPrivs:/ { print $2 }' "$status")" "no_new_privs after binding"

step "a message through port 25, as $USERNAME"
make_message "$T/msg.eml" "through port 25"
# swaks adds a CRLF of its own before the final dot.
head -c -2 "$T/msg.eml" > "$home/msg.eml"
chown "$USERNAME" "$home/msg.eml"
run_client swaks as_user swaks --server 127.0.0.1 --port 25 --helo client.test \
    --from alice@example.org --to bob@example.net --data "@$home/msg.eml"
client_ok
wait_upstream_count up 1
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "message through port 25"

step "a message through /usr/sbin/sendmail, as $USERNAME"
printf '%s\n' 'From: alice@example.org' 'To: bob@example.net' \
    'Bcc: carol@example.org' 'Subject: through sendmail' '' 'hello' \
    '.dot' > "$home/sm.txt"
run_client sendmail as_user sh -c "/usr/sbin/sendmail -t -i < '$home/sm.txt'"
client_ok
wait_upstream_count up 2
assert_eq '["bob@example.net", "carol@example.org"]' "$(upstream_env up 2 'j["rcpt_tos"]')" \
    "recipients through sendmail"
assert_grep '^\.dot'$'\r''$' "$(upstream_eml up 2)" "body through sendmail"
assert_no_grep '^Bcc:' "$(upstream_eml up 2)" "Bcc: header"

step "reload (SIGHUP, as ExecReload) and stop"
kill -HUP "$DAEMON_PID"
_reloaded() { grep -A1 '^RELOADING=1' "$home/run/notify.log" | grep -q '^READY=1'; }
wait_for "RELOADING=1 then READY=1" _reloaded
stop_daemon
assert_grep '^STOPPING=1' "$home/run/notify.log" "STOPPING=1"

step "with the daemon stopped, sendmail keeps the message: status 75"
run_client sendmail as_user sh -c "/usr/sbin/sendmail -i bob@example.net < '$home/sm.txt'"
assert_eq 75 "$CLIENT_RC" "exit status with the daemon stopped"
ls "$home/.local/state/roamsmtp/outbox/"*.eml > /dev/null 2>&1 ||
    fail "no message kept in $home/.local/state/roamsmtp/outbox"

step "without the file capability the daemon says what is missing"
setcap -r /usr/sbin/roamsmtpd
rc=0
(cd / && exec setpriv --reuid="$uid" --regid="$(id -g "$USERNAME")" \
    --init-groups env -i HOME="$home" XDG_RUNTIME_DIR="$home/run" \
    /usr/sbin/roamsmtpd -f) > "$T/nocap.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "roamsmtpd started on port 25 without the capability"
assert_grep 'cannot listen on 127\.0\.0\.1:25: permission denied\. .*lacks.*sudo setcap cap_net_bind_service=\+ep /usr/sbin/roamsmtpd' \
    "$T/nocap.log" "the reason, and the command that fixes it"

# ---------------------------------------------------------------- purge

step "apt-get purge: the packages and their files are gone"
files=$(dpkg -L roamsmtp roamsmtp-sendmail ${tray_deb:+roamsmtp-tray} |
    grep -v -e '^/usr$' -e '^/usr/[a-z]*$' -e '^/usr/share/[a-z]*$' -e '^/etc$' |
    sort -u)
DEBIAN_FRONTEND=noninteractive apt-get purge -y roamsmtp roamsmtp-sendmail \
    ${tray_deb:+roamsmtp-tray} > "$T/purge.log" 2>&1 || {
	cat "$T/purge.log" >&2
	fail "apt-get purge failed"
}
INSTALLED=
for p in roamsmtp roamsmtp-sendmail roamsmtp-tray; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2> /dev/null || true)
	[ -z "$st" ] || [ "$st" = not-installed ] || fail "$p is still $st"
done
left=
for f in $files; do
	# Folders may be shared with other packages; files and links not.
	[ -d "$f" ] && [ ! -L "$f" ] && continue
	if [ -e "$f" ] || [ -L "$f" ]; then
		left="$left $f"
	fi
done
[ -z "$left" ] || fail "left after purge:$left"
for f in /usr/sbin/roamsmtpd /usr/sbin/sendmail /usr/share/doc/roamsmtp \
    "$unit"; do
	[ ! -e "$f" ] || fail "$f left after purge"
done
pass
