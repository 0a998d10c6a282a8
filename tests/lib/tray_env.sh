# tray_env.sh - a desktop for roamsmtp-tray scenarios; source it after
# common.sh.  Everything runs headless and private to the test:
#
#	tray_x_start          Xvfb on a display it picks itself (-displayfd);
#	                      exports DISPLAY
#	tray_bus_start        a private session bus (no service activation);
#	                      exports DBUS_SESSION_BUS_ADDRESS
#	tray_notifyd_start    python3-dbusmock's notification_daemon on it,
#	                      recording every Notify call (log: $T/notify.log)
#	tray_watcher_start    a StatusNotifier watcher and host (tray_sni.py)
#	tray_watcher_stop
#	tray_start [ARGS]     roamsmtp-tray -c $CONF ARGS; log in $T/tray.log
#	tray_stop
#	tray_check_log        no sanitizer report in its log
#	sni ARGS              tray_sni.py: prop, menu, has, click (see there)
#	wait_menu REGEX [--enabled|--checked|--unchecked]
#	wait_icon NAME        the item's IconName
#	wait_notified N REGEX N notifications whose JSON line matches
#	                      ({"app", "icon", "summary", "body", "urgency",
#	                      "category"}: tray_sni.py notifications)
#	notified REGEX        how many do
#	shot_window WID FILE [CROP]   a screenshot that is not blank
#
# All processes join PIDS (common.sh stops them).  The screenshots of the
# last run stay in $TEST_TMPDIR/$TEST_NAME/screenshots/ even when the test
# passes (its temporary folder does not).

TRAY_BIN=${ROAMSMTP_TRAY:-$(dirname "$ROAMSMTPD")/../tray/roamsmtp-tray}
SHOTS=$TEST_TMPDIR/$TEST_NAME/screenshots
TRAY_PID=
TRAY_WATCHER_PID=

# A machine without the tray (WITH_TRAY=OFF, no X server): skipped, with
# ctest's SKIP_RETURN_CODE 77, and saying what is missing.
tray_require() {
	local missing= tool
	[ -x "$TRAY_BIN" ] || missing="$missing roamsmtp-tray($TRAY_BIN)"
	for tool in Xvfb xdotool xwininfo import convert trayer dbus-daemon; do
		command -v "$tool" >/dev/null || missing="$missing $tool"
	done
	"$PY" -c 'import dbusmock, gi' 2>/dev/null ||
	    missing="$missing python3-dbusmock/python3-gi"
	if [ -n "$missing" ]; then
		printf 'SKIP %s: missing%s (packaging/install-deps.sh tray)\n' \
		    "$TEST_NAME" "$missing"
		exit 77
	fi
}

tray_x_start() {
	mkdir -p "$T/x"
	: > "$T/x/display"
	Xvfb -displayfd 5 -screen 0 1024x600x24 -nolisten tcp \
	    5> "$T/x/display" 2> "$T/x/xvfb.log" &
	PIDS+=("$!")
	wait_for "Xvfb's display number" test -s "$T/x/display"
	DISPLAY=:$(head -n 1 "$T/x/display")
	export DISPLAY
}

tray_bus_start() {
	eval "$("$PY" "$LIB/tray_sni.py" bus "$T/bus")"
	PIDS+=("$TRAY_BUS_PID")
}

sni() {
	"$PY" "$LIB/tray_sni.py" "$@"
}

tray_notifyd_start() {
	"$PY" -m dbusmock --session -t notification_daemon \
	    -l "$T/notify.log" > "$T/notifyd.out" 2>&1 &
	PIDS+=("$!")
	wait_for "the notification daemon on the bus" \
	    sni owned org.freedesktop.Notifications
}

tray_watcher_start() {
	: > "$T/watcher.out"
	"$PY" "$LIB/tray_sni.py" watcher > "$T/watcher.out" 2>&1 &
	TRAY_WATCHER_PID=$!
	PIDS+=("$TRAY_WATCHER_PID")
	wait_for "READY from the StatusNotifier watcher" \
	    grep -q '^READY' "$T/watcher.out"
}

tray_watcher_stop() {
	_stop_pid "$TRAY_WATCHER_PID"
	wait_for "the watcher to leave the bus" \
	    _name_gone org.kde.StatusNotifierWatcher
}

_name_gone() {
	! sni owned "$1"
}

# GTK keeps its one-time allocations to the end: leak reports from a
# sanitizer build of the tray would be all GTK's; errors still count
# (tray_check_log).
tray_start() {
	printf '=== roamsmtp-tray %s\n' "$*" >> "$T/tray.log"
	NO_AT_BRIDGE=1 GSETTINGS_BACKEND=memory GDK_BACKEND=x11 \
	    XDG_CONFIG_HOME=$T/xdg-config \
	    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    "$TRAY_BIN" -c "$CONF" "$@" >> "$T/tray.log" 2>&1 &
	TRAY_PID=$!
	PIDS+=("$TRAY_PID")
}

tray_stop() {
	_stop_pid "$TRAY_PID"
	TRAY_PID=
}

# No sanitizer report from the tray (a sanitizer build).
tray_check_log() {
	assert_no_grep 'ERROR: AddressSanitizer|runtime error:' "$T/tray.log" \
	    "sanitizer report from roamsmtp-tray"
}

_tray_alive() {
	[ -z "$TRAY_PID" ] || kill -0 "$TRAY_PID" 2>/dev/null || {
		_show "roamsmtp-tray log" "$T/tray.log"
		fail "roamsmtp-tray exited"
	}
}

_menu_has() {
	_tray_alive
	sni has "$@" 2>> "$T/sni.err"
}

menu_dump() {
	sni menu > "$T/menu.json" 2>&1 || true
	_show "the tray's menu" "$T/menu.json"
	_show "roamsmtp-tray log" "$T/tray.log"
}

# wait_menu REGEX [FLAGS]: as wait_for, and a failure shows the menu as
# it was.
wait_menu() {
	local end=$(($(date +%s) + WAIT_DEADLINE))
	until _menu_has "$@"; do
		if [ "$(date +%s)" -ge "$end" ]; then
			menu_dump
			fail "no menu item /$1/ ${*:2} within ${WAIT_DEADLINE}s"
		fi
		sleep 0.05
	done
}

menu_click() {	# REGEX
	sni click "$1" 2>> "$T/sni.err" || {
		menu_dump
		fail "no enabled menu item /$1/ to click"
	}
}

_icon_is() {
	_tray_alive
	[ "$(sni prop IconName 2>/dev/null)" = "$1" ]
}

wait_icon() {	# NAME
	wait_for "icon $1" _icon_is "$1"
}

notified() {	# REGEX: how many Notify calls match
	local n
	sni notifications > "$T/notifications.json" 2>> "$T/sni.err" ||
	    fail "cannot read the notification daemon's calls"
	n=$(grep -Ec -- "$1" "$T/notifications.json" || true)
	echo "$n"
}

_notified_n() {
	[ "$(notified "$2")" -ge "$1" ]
}

wait_notified() {	# N REGEX
	wait_for "notification $1 matching /$2/" _notified_n "$1" "$2"
}

# shot_window WID FILE [CROP]: a screenshot of a window (or the root with
# a crop, WxH+X+Y); taken again until it has more than a few colours, so a
# window caught before it drew itself does not count.
_shot() {
	local wid=$1 file=$2 crop=${3:-} colours
	if [ -n "$crop" ]; then
		import -window "$wid" -crop "$crop" +repage "$file" 2>> "$T/import.err" ||
		    return 1
	else
		import -window "$wid" "$file" 2>> "$T/import.err" || return 1
	fi
	colours=$(convert "$file" -format '%k' info: 2>/dev/null || echo 0)
	[ "$colours" -gt 16 ]
}

shot_window() {
	wait_for "a drawn screenshot $(basename "$2")" _shot "$@"
	mkdir -p "$SHOTS"
	cp "$2" "$SHOTS/"
}
