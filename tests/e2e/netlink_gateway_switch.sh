#!/bin/bash
# netlink_gateway_switch: roamsmtpd with the netlink watcher, in a laptop
# namespace (tests/lib/netns.sh), follows the network: at home (router A,
# matched by its gateway's MAC) mail goes to the home upstream behind A; in
# the cafe (router B, matched by subnet) to the cafe upstream behind B;
# unplugged, it is queued, and leaves through the cafe's profile when the
# cable is back; back home, the home profile wins again once the kernel
# knows A's MAC.  Each upstream is reachable only through its own router.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/netns.sh"

UP_PORT=2525		# per router namespace: no clash possible

netns_create
netns_wrapper "$T/roamsmtpd" "$ROAMSMTPD"
netns_wrapper "$T/py-lap" "$PY"
netns_wrapper "$T/py-a" "$PY" A
netns_wrapper "$T/py-b" "$PY" B
ROAMSMTPD=$T/roamsmtpd

# status FIELD-EXPR: a field of roamsmtpctl --json status.
status() {
	ctl --json status 2>> "$T/ctl.err" | json "$1"
}

_status_is() {	# EXPR VALUE
	[ "$(status "$1" 2>/dev/null)" = "$2" ]
}

wait_status() {	# EXPR VALUE
	wait_for "status $1 = $2" _status_is "$1" "$2"
}

send_from_laptop() {	# SUBJECT
	make_message "$T/$1.eml" "$1"
	PY=$T/py-lap smtplib send --from alice@example.org \
	    --to bob@example.net "$T/$1.eml"
	client_ok
}

step "at home: on A's network, the kernel knows A's MAC"
netns_join A
netns_traffic A
PY=$T/py-a start_upstream home "$UP_PORT" --host "$GW4_A"
PY=$T/py-b start_upstream cafe "$UP_PORT" --host "$GW4_B"
write_profile home <<EOF
[match]
gateway-mac = $MAC_A

[upstream]
host = $GW4_A
port = $UP_PORT
tls = none
auth = none
EOF
write_profile cafe <<EOF
[match]
subnet = 10.2.0.0/24

[upstream]
host = $GW4_B
port = $UP_PORT
tls = none
auth = none
EOF
write_conf "network-backend = netlink"
start_daemon
assert_grep 'network=netlink' "$DAEMON_LOG" "the backend the daemon says it uses"
wait_status 'j["network"]["gateways"][0]["mac"]' "$MAC_A"
wait_status 'j["profile"]["name"]' home
assert_eq netlink "$(status 'j["network"]["backend"]')" "network.backend"
assert_eq full "$(status 'j["network"]["connectivity"]')" "connectivity"
send_from_laptop "sent at home"
wait_upstream_count home 1
assert_same_bytes "$T/sent at home.eml" "$(upstream_eml home 1)" \
    "message at the home upstream"

step "in the cafe: A's link off, on B's network"
netns_ifdown A
netns_join B
wait_status 'j["profile"]["name"]' cafe
assert_eq "$GW4_B" "$(status 'j["network"]["gateways"][0]["addr"]')" \
    "the gateway"
send_from_laptop "sent in the cafe"
wait_upstream_count cafe 1
assert_same_bytes "$T/sent in the cafe.eml" "$(upstream_eml cafe 1)" \
    "message at the cafe upstream"
assert_eq 1 "$(upstream_count home)" "messages at the home upstream"

step "unplugged: mail is queued"
netns_unplug B
wait_status 'j["network"]["connectivity"]' none
send_from_laptop "written offline"
assert_grep 'queued as [0-9a-f]{16}' "$CLIENT_OUT" "reply when offline"
id=$(queued_id)
assert_eq 1 "$(queue_count)" "messages in the queue"

step "plugged in again: the queue leaves through the cafe's profile"
netns_plug B
wait_status 'j["network"]["connectivity"]' full
wait_upstream_count cafe 2
assert_same_bytes "$T/written offline.eml" "$(upstream_eml cafe 2)" \
    "queued message at the cafe upstream"
wait_queue_count 0
assert_queue_files_gone "$id"

step "home again by the default route: home wins once A's MAC is known"
netns_join A
wait_status 'j["network"]["gateways"][0]["addr"]' "$GW4_A"
netns_traffic A
wait_status 'j["network"]["gateways"][0]["mac"]' "$MAC_A"
wait_status 'j["profile"]["name"]' home
send_from_laptop "home again"
wait_upstream_count home 2
assert_same_bytes "$T/home again.eml" "$(upstream_eml home 2)" \
    "message at the home upstream"
assert_eq 2 "$(upstream_count cafe)" "messages at the cafe upstream"
pass
