#!/bin/bash
# captive_portal_waits: on a hotel Wi-Fi behind a captive portal no profile
# is active and nothing is attempted: mail is queued, "roamsmtpctl flush"
# says why it waits, the upstream (listening all along) sees no connection.
# Once the user has logged in (connectivity limited, then full) the queue
# leaves through the hotel's profile, byte for byte.  The order is checked
# in the daemon's own event stream (roamsmtpctl watch --json): the message
# is sent only after the network event that ends the portal.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/nm_mock.sh"

HOTEL_UUID=55555555-5555-4555-8555-555555555555

status() {	# EXPR: a field of roamsmtpctl --json status
	ctl --json status 2>> "$T/ctl.err" | json "$1"
}

_status_is() {	# EXPR VALUE
	[ "$(status "$1" 2>/dev/null)" = "$2" ]
}

wait_status() {	# EXPR VALUE
	wait_for "status $1 = $2" _status_is "$1" "$2"
}

nm_mock_start
start_upstream hotel "$(free_port)"
port=$(awk '/^READY / { print $2 }' "$T/up-hotel/stdout")
write_profile hotel <<EOF2
[match]
ssid = HotelGuest

[upstream]
host = 127.0.0.1
port = $port
tls = none
auth = none
EOF2
write_conf "network-backend = networkmanager"
start_daemon
# The watcher: once it is registered, a network change shows in its file.
# Nothing tells when the daemon has registered it, so the network changes
# (metered on and off) until the watcher reports one.
ctl --json watch > "$T/watch.jsonl" 2> "$T/watch.err" &
PIDS+=("$!")
_watcher_heard() {
	grep -q '"event": *"network"' "$T/watch.jsonl" && return 0
	nm metered yes
	nm metered unknown
	return 1
}
wait_for "the watcher's first network event" _watcher_heard

step "the hotel's Wi-Fi, behind a captive portal: no profile"
nm wifi --id Hotel --uuid "$HOTEL_UUID" --ssid HotelGuest \
    --bssid 02:40:7e:00:00:01 --addr 172.20.4.9/22 --gw 172.20.4.1 --primary
nm connectivity portal
wait_status 'j["network"]["connectivity"]' portal
assert_eq HotelGuest "$(status 'j["network"]["ssid"]')" "network.ssid"
assert_eq null "$(status 'j["profile"]')" "profile behind the portal"
assert_match 'portal' "$(status 'j["reason"]')" "reason behind the portal"
ctl --json profiles > "$T/profiles.json"
assert_eq null "$(json 'j["active"]' < "$T/profiles.json")" "profiles: active"
assert_eq '[true, false]' \
    "$(json '[j["profiles"][0]["matches"], j["profiles"][0]["active"]]' < "$T/profiles.json")" \
    "the hotel profile matches but is not active"

step "mail written behind the portal is queued; a flush attempts nothing"
make_message "$T/behind the portal.eml" "behind the portal"
smtplib send --from alice@example.org --to bob@example.net \
    "$T/behind the portal.eml"
client_ok
id=$(queued_id)
assert_queue_files "$id"
ctl_ok flush
assert_match 'portal' "$(json 'j["waiting"]' < "$T/ctl-flush.out")" \
    "flush says why it waits"
ctl_ok retry "$id"
assert_match 'portal' "$(json 'j["waiting"]' < "$T/ctl-retry.out")" \
    "retry says why it waits"
assert_eq queued "$(queue_field "$id" state)" "state of $id behind the portal"
assert_eq 0 "$(queue_field "$id" attempts)" "attempts behind the portal"
assert_eq 0 "$(upstream_events hotel CONNECT)" \
    "connections to the upstream behind the portal"

step "logged in: connectivity limited, the queue leaves by the hotel profile"
nm connectivity limited
wait_status 'j["profile"]["name"]' hotel
assert_match 'ssid=HotelGuest' "$(status 'j["reason"]')" "reason after the portal"
wait_upstream_count hotel 1
assert_same_bytes "$T/behind the portal.eml" "$(upstream_eml hotel 1)" \
    "queued message at the hotel upstream"
wait_queue_count 0
assert_queue_files_gone "$id"
assert_eq 1 "$(upstream_events hotel CONNECT)" "connections to the upstream"

step "the event stream: portal, then limited, then sent"
_sent_event() {
	grep -q '"event": *"sent"' "$T/watch.jsonl"
}
wait_for "a sent event" _sent_event
"$PY" - "$T/watch.jsonl" "$id" <<'PYEOF' || fail "events out of order; see $T/watch.jsonl"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
def first(pred):
    return next(i for i, e in enumerate(evs) if pred(e))
portal = first(lambda e: e["event"] == "network"
               and e["facts"]["connectivity"] == "portal")
back = first(lambda e: e["event"] == "network"
             and e["facts"]["connectivity"] == "limited")
sent = first(lambda e: e["event"] == "sent" and e["id"] == sys.argv[2])
active = first(lambda e: e["event"] == "profile" and e["profile"] == "hotel")
print(f"portal={portal} limited={back} profile={active} sent={sent}")
assert portal < back < active < sent, "portal < limited < profile < sent"
assert not any(e["event"] in ("sent", "failed") for e in evs[:back]), \
    "nothing sent or failed before the portal ended"
PYEOF

step "connectivity full changes nothing: still the hotel"
nm connectivity full
wait_status 'j["network"]["connectivity"]' full
assert_eq hotel "$(status 'j["profile"]["name"]')" "profile at full connectivity"
pass
