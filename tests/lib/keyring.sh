# keyring.sh - a real Secret Service for a scenario: gnome-keyring-daemon on
# a private D-Bus session bus, its keyrings under $T.  Source after
# common.sh.
# shellcheck shell=bash
#
#	keyring_require        skip (exit 77) without dbus-daemon,
#	                       gnome-keyring-daemon and secret-tool
#	keyring_start PASSWORD the bus (no service activation: nothing starts
#	                       behind the test's back) and the keyring daemon,
#	                       its login keyring unlocked with PASSWORD;
#	                       exports DBUS_SESSION_BUS_ADDRESS, so a daemon
#	                       started afterwards uses this bus
#	keyring_stop           the keyring daemon and its bus go away (a
#	                       session that ended)
#	keyring_store LABEL SECRET ATTR VALUE...
#	                       secret-tool store, the secret on standard input
#	keyring_lookup ATTR VALUE...
#
# Both processes join PIDS (common.sh stops them).

keyring_require() {
	local missing= tool
	for tool in dbus-daemon gnome-keyring-daemon secret-tool; do
		command -v "$tool" >/dev/null || missing="$missing $tool"
	done
	if [ -n "$missing" ]; then
		printf 'SKIP %s: missing%s (packaging/install-deps.sh test)\n' \
		    "$TEST_NAME" "$missing"
		exit 77
	fi
}

_keyring_owned() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus \
	    /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
	    string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'
}

keyring_start() {
	local pw=$1 dir=$T/keyring
	mkdir -p "$dir/home" "$dir/data" "$dir/config" "$dir/run"
	chmod 700 "$dir/run"
	cat > "$dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$dir/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
	dbus-daemon --nofork --nosyslog --config-file="$dir/bus.conf" \
	    > "$dir/bus.out" 2>&1 &
	KEYRING_BUS_PID=$!
	PIDS+=("$KEYRING_BUS_PID")
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$dir/bus"
	wait_for "the private session bus" test -S "$dir/bus"
	# The keyring files go under XDG_DATA_HOME; its control socket
	# under XDG_RUNTIME_DIR.  Only the keyring daemon sees these.
	printf '%s' "$pw" | HOME=$dir/home XDG_DATA_HOME=$dir/data \
	    XDG_CONFIG_HOME=$dir/config XDG_RUNTIME_DIR=$dir/run \
	    gnome-keyring-daemon --foreground --unlock --components=secrets \
	    > "$dir/keyring.out" 2>&1 &
	KEYRING_PID=$!
	PIDS+=("$KEYRING_PID")
	wait_for "gnome-keyring-daemon on the bus" _keyring_owned
}

keyring_stop() {
	_stop_pid "$KEYRING_PID"
	_stop_pid "$KEYRING_BUS_PID"
}

keyring_store() {	# LABEL SECRET ATTR VALUE...
	local label=$1 secret=$2
	shift 2
	printf '%s' "$secret" | secret-tool store --label="$label" "$@"
}

keyring_lookup() {	# ATTR VALUE...
	secret-tool lookup "$@"
}
