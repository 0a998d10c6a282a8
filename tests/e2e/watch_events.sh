#!/bin/bash
# watch_events: "roamsmtpctl watch --json" in the background, one event a
# line in a file, while the laptop joins its home Wi-Fi, sends a message,
# goes offline and queues one, comes back (the queue leaves), is chosen a
# profile by hand, and queues one that the office upstream then refuses for
# good.  The file must hold, in order: network, profile, sent (online),
# network + profile (offline), queued, network + profile + sent (the queued
# one), profile (manual), queued, failed; each with the fields a tray
# needs.  A second watcher without --json prints the same events for
# people.  When roamsmtpd stops, both watchers end with status 3.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/nm_mock.sh"

HOME_UUID=11111111-1111-4111-8111-111111111111
OFFICE_UUID=33333333-3333-4333-8333-333333333333
EV=$T/watch.jsonl

status() {	# EXPR: a field of roamsmtpctl --json status
	ctl --json status 2>> "$T/ctl.err" | json "$1"
}

_status_is() {	# EXPR VALUE
	[ "$(status "$1" 2>/dev/null)" = "$2" ]
}

wait_status() {	# EXPR VALUE
	wait_for "status $1 = $2" _status_is "$1" "$2"
}

send() {	# SUBJECT
	make_message "$T/$1.eml" "$1"
	smtplib send --from alice@example.org --to bob@example.net "$T/$1.eml"
	client_ok
}

# events PYTHON-EXPR: EXPR over evs, the events since the mark (a list of
# dicts); strings print bare, the rest as JSON.
events() {
	"$PY" -c '
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]]
v = eval(sys.argv[3])
print(v if isinstance(v, str) else json.dumps(v))' "$EV" "$MARK" "$1"
}

_event_seen() {	# PYTHON-CONDITION on e
	[ "$(events "any($1 for e in evs)")" = true ]
}

wait_event() {	# WHAT PYTHON-CONDITION
	wait_for "$1 event" _event_seen "$2"
}

# mark: later checks look only at events after this point.
mark() {
	MARK=$(wc -l < "$EV")
}

nm_mock_start
start_upstream home "$(free_port)"
start_upstream office "$(free_port)" --reject-data '554:5.7.1 not from outside'
HOME_PORT=$(awk '/^READY / { print $2 }' "$T/up-home/stdout")
OFFICE_PORT=$(awk '/^READY / { print $2 }' "$T/up-office/stdout")
ssid_profile() {	# NAME SSID PORT
	printf '%s\n' '[match]' "ssid = $2" '' '[upstream]' 'host = 127.0.0.1' \
	    "port = $3" 'tls = none' 'auth = none' | write_profile "$1"
}
ssid_profile home HomeWifi "$HOME_PORT"
ssid_profile office OfficeWifi "$OFFICE_PORT"
write_conf "network-backend = networkmanager"
start_daemon

step "two watchers: --json into a file, and one for people"
ctl watch > "$T/watch.txt" 2> "$T/watch-txt.err" &
TXT_PID=$!
PIDS+=("$TXT_PID")
wait_for "the watcher's greeting" grep -q '^watching roamsmtpd' "$T/watch.txt"
ctl --json watch > "$EV" 2> "$T/watch-json.err" &
JSON_PID=$!
PIDS+=("$JSON_PID")
# Nothing says when the daemon has registered the --json watcher: change
# the network (metered on and off) until it reports a change.
_watcher_heard() {
	grep -q '"event": *"network"' "$EV" && return 0
	nm metered yes
	nm metered unknown
	return 1
}
wait_for "the --json watcher's first network event" _watcher_heard
wait_status 'j["network"]["metered"]' false
mark

step "home Wi-Fi: network and profile events"
nm wifi --id Home --uuid "$HOME_UUID" --ssid HomeWifi \
    --bssid aa:bb:cc:00:00:01 --addr 192.168.1.23/24 --gw 192.168.1.1 --primary
nm connectivity full
wait_event "profile home" 'e["event"] == "profile" and e["profile"] == "home"'
assert_eq '{"ssid": "HomeWifi", "bssid": "aa:bb:cc:00:00:01", "connectivity": "full", "backend": "networkmanager"}' \
    "$(events '[{k: e["facts"][k] for k in ("ssid", "bssid", "connectivity", "backend")} for e in evs if e["event"] == "network"][-1]')" \
    "the last network event's facts before the profile"
assert_eq '[false]' "$(events '[e["manual"] for e in evs if e["event"] == "profile"]')" \
    "profile events so far: manual"
assert_match 'ssid=HomeWifi' "$(events '[e["reason"] for e in evs if e["event"] == "profile"][0]')" \
    "the profile event's reason"
assert_eq true "$(events 'all(isinstance(e["time"], int) and e["time"] > 0 for e in evs)')" \
    "every event has a time"

step "a message sent online: a sent event"
mark
send "online at home"
wait_upstream_count home 1
wait_event sent 'e["event"] == "sent"'
sid=$(awk '/ relay delivered profile=home / { print $2 }' "$DAEMON_LOG" | tail -n 1)
assert_eq "[\"$sid\", \"home\", \"127.0.0.1:$HOME_PORT\"]" \
    "$(events '[[e["id"], e["profile"], e["upstream"]] for e in evs if e["event"] == "sent"][0]')" \
    "the sent event: id (the daemon's log), profile, upstream"

step "offline: network and profile events; a queued event"
mark
nm connectivity none
wait_event "profile none" 'e["event"] == "profile" and e["profile"] is None'
assert_eq '["network", "profile"]' "$(events '[e["event"] for e in evs]')" \
    "events going offline"
assert_eq none "$(events 'evs[0]["facts"]["connectivity"]')" "connectivity offline"
assert_match '^offline' "$(events 'evs[1]["reason"]')" "why no profile"
send "written offline"
qid=$(queued_id)
wait_event queued "e['event'] == 'queued' and e['id'] == '$qid'"
assert_match 'offline' "$(events "[e['reason'] for e in evs if e['event'] == 'queued'][0]")" \
    "the queued event's reason"

step "online again: network, profile, then sent for the queued message"
mark
nm connectivity full
wait_event "sent $qid" "e['event'] == 'sent' and e['id'] == '$qid'"
wait_upstream_count home 2
assert_same_bytes "$T/written offline.eml" "$(upstream_eml home 2)" \
    "the queued message at the home upstream"
assert_eq '["network", "profile", "sent"]' "$(events '[e["event"] for e in evs]')" \
    "events coming back online"
assert_eq '["home", "home"]' "$(events '[evs[1]["profile"], evs[2]["profile"]]')" \
    "profile of the profile and sent events"

step "a profile chosen by hand: a profile event with manual true"
mark
ctl_ok use office
wait_event "manual profile" 'e["event"] == "profile" and e["manual"]'
assert_eq '[["office", true]]' "$(events '[[e["profile"], e["manual"]] for e in evs]')" \
    "the manual choice's event"
ctl_ok use auto
wait_event "automatic profile" 'e["event"] == "profile" and not e["manual"]'

step "queued offline, refused for good at the office: a failed event"
mark
nm connectivity none
wait_status 'j["profile"]' null
send "refused at the office"
fid=$(queued_id)
nm down --all
nm wifi --id Office --uuid "$OFFICE_UUID" --ssid OfficeWifi \
    --bssid aa:bb:cc:00:00:02 --addr 10.20.0.5/16 --gw 10.20.0.1 --primary
nm connectivity full
wait_event "failed $fid" "e['event'] == 'failed' and e['id'] == '$fid'"
assert_match '554' "$(events "[e['error'] for e in evs if e['event'] == 'failed'][0]")" \
    "the failed event carries the upstream's refusal"
# Only this message's events and the profiles' count here: the daemon may
# queue more of its own (a bounce to the sender) after the failure.
assert_eq '[["queued", "'"$fid"'"], ["profile", "office"], ["failed", "'"$fid"'"]]' \
    "$(events "[[e['event'], e.get('id', e.get('profile'))] for e in evs if e.get('id') == '$fid' or (e['event'] == 'profile' and e['profile'])]")" \
    "events: queued, the office profile, failed (and never sent)"
wait_queue_state "$fid" failed

step "the watcher for people printed the same kinds of events"
for kind in network profile sent queued failed; do
	assert_grep "^[^ ].*  $kind +" "$T/watch.txt" "a $kind line for people"
done
assert_grep 'office \(manual choice\)' "$T/watch.txt" "the manual choice for people"
assert_grep "$fid: .*554" "$T/watch.txt" "the failure for people"

step "roamsmtpd stops: both watchers end with status 3"
stop_daemon
for pid in "$JSON_PID" "$TXT_PID"; do
	rc=0
	wait "$pid" || rc=$?
	assert_eq 3 "$rc" "exit status of a watcher when roamsmtpd stops"
done
assert_grep 'closed the watch' "$T/watch-json.err" "the watcher says why it ended"
pass
