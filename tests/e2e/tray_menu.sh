#!/bin/bash
# tray_menu: roamsmtp-tray on a headless desktop (Xvfb, a private session
# bus, a StatusNotifier watcher, a recording notification daemon), worked
# through its own menu as a tray host would: the menu exported over D-Bus
# (com.canonical.dbusmenu), its items clicked with Event("clicked").
#
# Choosing a profile makes roamsmtpd use it by hand; "Automatic" gives the
# choice back to matching; a notification says so, unless turned off (and
# that is remembered in tray.conf).  Two queued messages refused with a 5xx
# after "Send queued mail now" each give a notification with the reason
# and a red icon; the queue window's Retry sends one (and "Queued mail
# sent" is told), Delete removes the other.  The daemon restarting shows
# "not running" and the tray comes back by itself.  Without a watcher the
# icon goes into an XEmbed system tray (trayer) and pops its menu up on a
# click.  Screenshots of the menu and of the queue window are kept.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/tray_env.sh"
tray_require

status() {	# EXPR: a field of roamsmtpctl --json status
	ctl --json status 2>> "$T/ctl.err" | json "$1"
}

_status_is() {	# EXPR VALUE
	[ "$(status "$1" 2>/dev/null)" = "$2" ]
}

wait_status() {	# EXPR VALUE
	wait_for "status $1 = $2" _status_is "$1" "$2"
}

_gone() {	# PID: exited (a zombie until waited for)
	! kill -0 "$1" 2>/dev/null || ps -o stat= -p "$1" | grep -q '^Z'
}

# Home matches anywhere; office only when chosen by hand.
up=$(free_port)
up_office=$(free_port)
plain_profile home "$up"
write_profile office <<EOF
[upstream]
host = 127.0.0.1
port = $up_office
tls = none
auth = none
EOF
start_daemon

tray_x_start
tray_bus_start
tray_notifyd_start
tray_watcher_start
tray_start

step "the tray registers as a StatusNotifierItem and shows where mail goes"
wait_menu "Sending via 127\.0\.0\.1:$up"
assert_eq roamsmtp-tray "$(sni prop Id)" "the item's id"
assert_grep "REGISTERED .*/org/ayatana/NotificationItem/" "$T/watcher.out" \
    "the item registered with the watcher"
wait_menu "Profile: home \(.*\)"
wait_menu Automatic --checked
wait_menu "home \(127\.0\.0\.1:$up\)" --unchecked --enabled
wait_menu "office \(127\.0\.0\.1:$up_office\)" --unchecked --enabled
wait_menu "Queue: empty"
wait_icon roamsmtp-ok
assert_eq 0 "$(notified .)" "notifications before anything happened"

step "office chosen in the menu: roamsmtpd uses it by hand, and says so"
menu_click "office \(.*\)"
wait_status 'j["manual"]' office
assert_eq office "$(status 'j["profile"]["name"]')" "profile after choosing office"
wait_menu "office \(.*\)" --checked
wait_menu Automatic --unchecked
wait_menu "Profile: office \(chosen by hand\)"
wait_notified 1 '"summary": "Mail now goes by profile office", "body": "chosen by hand"'

step "Automatic gives the choice back to matching"
menu_click Automatic
wait_status 'j["manual"]' null
assert_eq home "$(status 'j["profile"]["name"]')" "profile after Automatic"
wait_menu Automatic --checked
wait_menu "office \(.*\)" --unchecked
wait_notified 1 '"summary": "Mail now goes by profile home"'

step "profile notifications turned off: remembered, and none comes"
[ ! -e "$T/xdg-config/roamsmtp/tray.conf" ] ||
    fail "tray.conf written before any setting changed"
menu_click "Notify on profile change"
wait_menu "Notify on profile change" --unchecked
wait_for "tray.conf" test -s "$T/xdg-config/roamsmtp/tray.conf"
assert_grep '^notify-profile-change=false$' "$T/xdg-config/roamsmtp/tray.conf" \
    "the setting saved"
menu_click "office \(.*\)"
wait_status 'j["manual"]' office
wait_menu "Profile: office \(chosen by hand\)"
# On again, and back to automatic: the watch delivers events in order, so
# once "home" is told the "office" event before it was handled in silence.
menu_click "Notify on profile change"
wait_menu "Notify on profile change" --checked
assert_grep '^notify-profile-change=true$' "$T/xdg-config/roamsmtp/tray.conf" \
    "the setting saved again"
menu_click Automatic
wait_status 'j["manual"]' null
wait_notified 2 '"summary": "Mail now goes by profile home"'
assert_eq 1 "$(notified '"summary": "Mail now goes by profile office"')" \
    "notifications about office (one while turned off)"

step "two messages wait while the upstream is down"
make_message "$T/a.eml" "Minutes of Monday"
smtplib send --from alice@example.org --to bob@example.net "$T/a.eml"
client_ok
a=$(queued_id)
make_message "$T/b.eml" "Holiday plans"
smtplib send --from alice@example.org --to carol@example.net "$T/b.eml"
client_ok
b=$(queued_id)
wait_menu "Queue: 2 waiting"
wait_menu "Send queued mail now" --enabled
wait_icon roamsmtp-queued

step "Send queued mail now: the upstream refuses both for good"
start_upstream up "$up" \
    --reject-rcpt "bob@example.net:550:5.1.1 No such user here" \
    --reject-rcpt "carol@example.net:550:5.1.1 No such user here"
menu_click "Send queued mail now"
wait_queue_state "$a" failed
wait_queue_state "$b" failed
wait_notified 2 '"summary": "Mail could not be sent"'
assert_eq 1 "$(notified '"summary": "Mail could not be sent", "body": "“Minutes of Monday” to bob@example\.net was refused: .*5\.1\.1 No such user here.*"urgency": 2')" \
    "failure notification for $a: subject, recipient, reason, critical"
assert_eq 1 "$(notified '"summary": "Mail could not be sent", "body": "“Holiday plans” to carol@example\.net was refused: .*5\.1\.1')" \
    "failure notification for $b"
wait_icon roamsmtp-failed
wait_menu "Queue: 2 failed"
# roamsmtpd reports each failure to the sender: mail the user never wrote,
# so its leaving is no news.
wait_upstream_count up 2
assert_eq '["alice@example.org"]' "$(upstream_env up 1 'j["rcpt_tos"]')" \
    "the report's recipient"
wait_menu "Queue: 2 failed"
assert_eq 0 "$(notified '"summary": "Queued mail sent"')" \
    "notifications for the delivery reports"

step "Show queue…: the window lists them; Retry sends one"
menu_click "Show queue…"
wait_for "the queue window" xdotool search --onlyvisible --name '^roamsmtp queue$'
win=$(xdotool search --onlyvisible --name '^roamsmtp queue$' | head -n 1)
shot_window "$win" "$T/queue-window.png"
stop_upstream up
start_upstream fixed "$up"
# The first row (the oldest message) is selected; Alt+R is Retry.
xdotool windowfocus --sync "$win"
xdotool key --clearmodifiers alt+r
wait_upstream_count fixed 1
assert_same_bytes "$T/a.eml" "$(upstream_eml fixed 1)" "the retried message"
wait_notified 1 '"summary": "Queued mail sent", "body": "“Minutes of Monday” to bob@example\.net has left, by profile home"'
wait_menu "Queue: 1 failed"

step "Delete removes the other"
# The selection moved to the one left; Alt+D is Delete.
xdotool windowfocus --sync "$win"
xdotool key --clearmodifiers alt+d
wait_queue_count 0
assert_queue_files_gone "$b"
assert_eq 1 "$(upstream_count fixed)" "messages at the fixed upstream"
wait_menu "Queue: empty"
wait_icon roamsmtp-ok
assert_eq 0 "$(notified '"summary": "Queued mail sent", "body": "“Holiday plans')" \
    "a deleted message is not reported as sent"

step "roamsmtpd stops: the tray says so; it starts: the tray is back"
stop_daemon
wait_menu "roamsmtpd is not running"
wait_icon roamsmtp-offline
if sni has Automatic --enabled; then
	fail "Automatic is enabled while roamsmtpd is not running"
fi
start_daemon
wait_menu "Sending via 127\.0\.0\.1:$up"
wait_menu "home \(.*\)" --enabled
wait_icon roamsmtp-ok
assert_grep 'connected to roamsmtpd' "$T/tray.log" "the tray's log"

step "no StatusNotifier watcher: the icon goes into the XEmbed tray"
# A message waits, so the menu shows the queue at work.
stop_upstream fixed
make_message "$T/c.eml" "Train tickets"
smtplib send --from alice@example.org --to bob@example.net "$T/c.eml"
client_ok
tray_stop
tray_watcher_stop
trayer --edge top --align left --widthtype request --height 32 \
    --SetDockType true --expand false --transparent false \
    --tint 0xdddddd > "$T/trayer.log" 2>&1 &
PIDS+=("$!")
wait_for "trayer's panel" xdotool search --onlyvisible --class trayer
tray_start
wait_for "the XEmbed icon" xdotool search --onlyvisible --class roamsmtp-tray
assert_grep 'icon: XEmbed' "$T/tray.log" "the backend chosen without a watcher"
icon=$(xdotool search --onlyvisible --class roamsmtp-tray | head -n 1)
panel=$(xdotool search --onlyvisible --class trayer | head -n 1)
xwininfo -tree -id "$panel" > "$T/panel.tree"
assert_grep "$(printf '0x%x' "$icon")" "$T/panel.tree" "the icon inside trayer's panel"
_title_has() {
	xwininfo -id "$icon" | grep -q "$1"
}
wait_for "the icon's title to show the queue" _title_has 'Queue: 1 waiting'
eval "$(xdotool getwindowgeometry --shell "$icon")"
xdotool mousemove $((X + WIDTH / 2)) $((Y + HEIGHT / 2)) click 3
_popup_menu() {
	local w
	for w in $(xdotool search --onlyvisible --class roamsmtp-tray); do
		xprop -id "$w" _NET_WM_WINDOW_TYPE 2>/dev/null |
		    grep -q _NET_WM_WINDOW_TYPE_POPUP_MENU && { echo "$w"; return 0; }
	done
	return 1
}
wait_for "the menu to pop up" _popup_menu
menu=$(_popup_menu)
eval "$(xdotool getwindowgeometry --shell "$menu")"
shot_window root "$T/tray-menu.png" "$((X + WIDTH + 8))x$((Y + HEIGHT + 8))+0+0"
xdotool key Escape

step "Quit ends the tray"
tray_check_log
tray_stop
tray_watcher_start
# libayatana-appindicator sometimes fails to get its D-Bus connection when a
# new watcher has just appeared ("g_dbus_proxy_new: assertion
# G_IS_DBUS_CONNECTION" in its log): not the tray's doing, so one restart
# is allowed before the menu must be there.
tray_start --backend sni
_quit_shown() {
	local end=$(($(date +%s) + 20))
	until _menu_has Quit --enabled; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.05
	done
}
if ! _quit_shown; then
	grep -q 'G_IS_DBUS_CONNECTION' "$T/tray.log" ||
	    { menu_dump; fail "no menu item /Quit/ and no appindicator failure"; }
	tray_stop
	tray_start --backend sni
fi
wait_menu Quit --enabled
# The tray may quit before D-Bus carries the click's reply back: the
# proof is that it goes away, checked next.
sni click Quit 2>> "$T/sni.err" || true
wait_for "the tray to quit" _gone "$TRAY_PID"
wait "$TRAY_PID" || fail "roamsmtp-tray exited with status $? on Quit"
TRAY_PID=
tray_check_log
pass
