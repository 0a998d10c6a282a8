#!/bin/bash
# fallback_when_port_blocked: on a hotel Wi-Fi whose firewall refuses the
# submission port, the default profile's upstream cannot be reached; its
# fallback chain (submission -> tls465, also refused -> relay) is walked
# and the relay delivers, byte for byte.  Which link worked is remembered
# for this network: status shows "via", state-dir/fallbacks.json says so,
# and after a restart the next message goes straight to the relay (the
# blocked port is not tried again).  On another network nothing is
# remembered yet.  An upstream that answers but refuses is not a reason to
# fall back: its refusal reaches the client.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/nm_mock.sh"

HOTEL_UUID=77777777-7777-4777-8777-777777777777
CAFE_UUID=22222222-2222-4222-8222-222222222222
OFFICE_UUID=33333333-3333-4333-8333-333333333333

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
}

# fallbacks EXPR: EXPR on state-dir/fallbacks.json (a list of
# {network, profile, use, when}).
fallbacks() {
	json "$1" < "$T/state/fallbacks.json"
}

# attempts_on PORT: how many times the daemon's log (since its last start)
# says it connected to 127.0.0.1:PORT.
attempts_on() {
	awk '/^=== roamsmtpd starts/ { n = 0 } index($0, "connecting to 127.0.0.1:" p) { n++ }
	    END { print n + 0 }' p="$1" "$DAEMON_LOG"
}

wifi() {	# ID UUID SSID
	nm wifi --id "$1" --uuid "$2" --ssid "$3" --bssid 02:00:00:00:aa:01 \
	    --addr 10.1.2.3/24 --gw 10.1.2.1 --primary
}

nm_mock_start
start_upstream relay "$(free_port)"
start_upstream strict "$(free_port)" \
    --reject-rcpt 'bob@example.net:550:5.1.1 no such user here'
RELAY=$(awk '/^READY / { print $2 }' "$T/up-relay/stdout")
STRICT=$(awk '/^READY / { print $2 }' "$T/up-strict/stdout")
BLOCKED=$(free_port)		# nothing listens: connection refused
BLOCKED2=$(free_port)
while [ "$BLOCKED2" = "$BLOCKED" ]; do BLOCKED2=$(free_port); done
write_profile submission <<EOF2
[match]
default = true

[upstream]
host = 127.0.0.1
port = $BLOCKED
tls = none
auth = none
fallback = tls465
EOF2
write_profile tls465 <<EOF2
[upstream]
host = 127.0.0.1
port = $BLOCKED2
tls = none
auth = none
fallback = relay
EOF2
write_profile relay <<EOF2
[upstream]
host = 127.0.0.1
port = $RELAY
tls = none
auth = none
EOF2
write_profile office <<EOF2
[match]
ssid = OfficeWifi

[upstream]
host = 127.0.0.1
port = $STRICT
tls = none
auth = none
fallback = relay
EOF2
write_conf "network-backend = networkmanager"
start_daemon

step "in the hotel: submission and tls465 refused, the relay delivers"
wifi Hotel "$HOTEL_UUID" HotelGuest
nm connectivity full
wait_status 'j["profile"]["name"]' submission
assert_eq null "$(status 'j["profile"]["via"]')" "via before any mail"
send "first from the hotel"
client_ok
assert_grep '^DATA 250 .*accepted by upstream' "$CLIENT_OUT" "the relay's own 250"
wait_upstream_count relay 1
assert_same_bytes "$T/first from the hotel.eml" "$(upstream_eml relay 1)" \
    "message at the relay"
assert_eq 1 "$(attempts_on "$BLOCKED")" "attempts on the blocked submission port"
assert_eq 1 "$(attempts_on "$BLOCKED2")" "attempts on the blocked 465 port"

step "remembered: status says via relay, fallbacks.json too"
assert_eq submission "$(status 'j["profile"]["name"]')" "profile"
assert_eq relay "$(status 'j["profile"]["via"]')" "via"
assert_eq "127.0.0.1:$RELAY" "$(status 'j["profile"]["upstream"]')" \
    "the upstream actually used"
[ -f "$T/state/fallbacks.json" ] || fail "no $T/state/fallbacks.json"
assert_eq '[["submission", "relay"]]' \
    "$(fallbacks '[[e["profile"], e["use"]] for e in j]')" \
    "fallbacks.json: profile and the link that worked"
hotel_key=$(fallbacks 'j[0]["network"]')

step "the second message goes by the relay too"
send "second from the hotel"
client_ok
wait_upstream_count relay 2
assert_same_bytes "$T/second from the hotel.eml" "$(upstream_eml relay 2)" \
    "second message at the relay"

step "after a restart: still remembered, the blocked ports are not tried"
stop_daemon
start_daemon
wait_status 'j["network"]["ssid"]' HotelGuest
wait_status 'j["profile"]["name"]' submission
assert_eq relay "$(status 'j["profile"]["via"]')" "via after a restart"
send "after a restart"
client_ok
wait_upstream_count relay 3
assert_same_bytes "$T/after a restart.eml" "$(upstream_eml relay 3)" \
    "message at the relay after a restart"
assert_eq 0 "$(attempts_on "$BLOCKED")" "attempts on the blocked port after a restart"
assert_eq 0 "$(attempts_on "$BLOCKED2")" "attempts on the 465 port after a restart"

step "in the cafe: nothing remembered there yet"
nm down --all
wifi Cafe "$CAFE_UUID" CafeNet
wait_status 'j["network"]["ssid"]' CafeNet
assert_eq submission "$(status 'j["profile"]["name"]')" "profile in the cafe"
assert_eq null "$(status 'j["profile"]["via"]')" "via in the cafe"
send "from the cafe"
client_ok
wait_upstream_count relay 4
assert_same_bytes "$T/from the cafe.eml" "$(upstream_eml relay 4)" \
    "message from the cafe at the relay"
assert_eq 1 "$(attempts_on "$BLOCKED")" "attempts on the blocked port in the cafe"
assert_eq relay "$(status 'j["profile"]["via"]')" "via in the cafe, now"
assert_eq 2 "$(fallbacks 'len(j)')" "networks in fallbacks.json"
assert_eq 1 "$(fallbacks "len([e for e in j if e['network'] == '$hotel_key'])")" \
    "the hotel's entry kept"

step "an upstream that refuses is no reason to fall back"
nm down --all
wifi Office "$OFFICE_UUID" OfficeWifi
wait_status 'j["profile"]["name"]' office
send "refused at the office"
[ "$CLIENT_RC" -ne 0 ] || fail "the client succeeded though the upstream refused"
assert_grep '^RCPT bob@example.net 550 .*no such user here' "$CLIENT_OUT" \
    "the upstream's own refusal"
assert_eq 4 "$(upstream_count relay)" "messages at the relay"
assert_eq 0 "$(upstream_count strict)" "messages at the strict upstream"
assert_eq null "$(status 'j["profile"]["via"]')" "via at the office"
assert_eq 0 "$(fallbacks "len([e for e in j if e['profile'] == 'office'])")" \
    "fallbacks.json entries for the office profile"
assert_eq 0 "$(queue_count)" "messages in the queue"
pass
