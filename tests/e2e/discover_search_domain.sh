#!/bin/bash
# discover_search_domain: host = auto, discover = search-domain, the "local
# ISP relay" a network's DHCP names by its DNS search domain.  On a Wi-Fi
# (python-dbusmock NetworkManager) whose search domain is isp.test, a DNS
# server on loopback (dnsmasq) knows smtp.isp.test (127.0.0.2: a server that
# greets, then never ends its EHLO answer) and mail.isp.test (127.0.0.1: a
# relay).  The daemon checks each with EHLO: smtp.isp.test fails the check,
# mail.isp.test relays, byte for byte, and the next message takes the same
# session.  On a network without a search domain the message is queued,
# saying why.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/nm_mock.sh"
. "$LIB/dns.sh"

ISP_UUID=55555555-5555-4555-8555-555555555555
up=$(free_port)
dns_start --host-record=smtp.isp.test,127.0.0.2 \
    --host-record=mail.isp.test,127.0.0.1
mkdir -p "$T/up-bad"
"$PY" "$LIB/hostile_upstream.py" --mode endless --where ehlo --host 127.0.0.2 \
    --port "$up" --outdir "$T/up-bad/msgs" --log "$T/up-bad/log" \
    > "$T/up-bad/stdout" 2>> "$T/up-bad/stderr" &
bad=$!
PIDS+=("$bad")
UPSTREAMS+=(bad)
wait_for "READY from smtp.isp.test" _upstream_ready bad "$bad"
start_upstream isp "$up"
write_profile isp <<EOC
[match]
default = true

[upstream]
host = auto
discover = search-domain
port = $up
tls = none
auth = none
EOC
nm_mock_start
write_conf "network-backend = networkmanager"
start_daemon
make_message "$T/msg1.eml" "search domain 1"
make_message "$T/msg2.eml" "search domain 2"
make_message "$T/msg3.eml" "search domain 3"

status() {
	ctl --json status 2>> "$T/ctl.err" | json "$1"
}
_status_is() {
	[ "$(status "$1" 2>/dev/null)" = "$2" ]
}

step "on the ISP's Wi-Fi: smtp.isp.test fails the EHLO check, mail.isp.test relays"
nm wifi --id "ISP Wi-Fi" --uuid "$ISP_UUID" --ssid IspWifi \
    --bssid 02:00:00:00:07:01 --addr 10.7.0.23/24 --gw 10.7.0.1 \
    --dns isp.test --primary
nm connectivity full
wait_for "the search domain isp.test" _status_is 'j["network"]["dns"]' '["isp.test"]'
wait_for "the isp profile" _status_is 'j["profile"]["name"]' isp
smtplib send --from alice@example.org --to bob@example.net "$T/msg1.eml"
client_ok
assert_same_bytes "$T/msg1.eml" "$(upstream_eml isp 1)" "message 1 at mail.isp.test"
assert_grep '^conn=1 EHLO' "$T/up-bad/log" "the EHLO check of smtp.isp.test"
assert_grep "smtp\.isp\.test:$up failed, trying mail\.isp\.test:$up" "$DAEMON_LOG" \
    "the move to the next candidate"
assert_grep "upstream=mail\.isp\.test:$up found by search-domain" "$DAEMON_LOG" \
    "the relay found"
[ "$(dns_queries smtp.isp.test)" -ge 1 ] || fail "no query for smtp.isp.test"
[ "$(dns_queries mail.isp.test)" -ge 1 ] || fail "no query for mail.isp.test"

step "the next message: the same session to mail.isp.test"
smtplib send --from alice@example.org --to bob@example.net "$T/msg2.eml"
client_ok
assert_same_bytes "$T/msg2.eml" "$(upstream_eml isp 2)" "message 2 at mail.isp.test"
assert_eq 1 "$(upstream_events isp CONNECT)" "connections to mail.isp.test"
assert_eq 1 "$(awk '$2 == "CONNECT"' "$T/up-bad/log" | wc -l)" \
    "connections to smtp.isp.test"

step "a network without a search domain: queued, saying why"
nm ip "$ISP_UUID" --addr 10.7.0.23/24 --gw 10.7.0.1
wait_for "no search domain" _status_is 'j["network"]["dns"]' '[]'
smtplib send --from alice@example.org --to bob@example.net "$T/msg3.eml"
client_ok
id=$(queued_id)
assert_match 'gives no DNS search domain' "$(queue_field "$id" last_error)" \
    "the queued message's reason"
assert_eq 2 "$(upstream_count isp)" "messages at mail.isp.test"
pass
