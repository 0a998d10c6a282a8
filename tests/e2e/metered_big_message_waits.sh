#!/bin/bash
# metered_big_message_waits: on a phone hotspot that NetworkManager calls
# metered, a message over metered-max-size (8 KiB here) waits in the queue
# while a small one goes at once.  "Over" is found both ways: curl declares
# SIZE= on MAIL; smtplib declares nothing and the size is found while the
# body streams.  A flush does not send them; "roamsmtpctl retry ID" sends
# one anyway; the other leaves when the network is no longer metered.
# Everything that reaches the upstream is compared byte for byte.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/nm_mock.sh"

PHONE_UUID=66666666-6666-4666-8666-666666666666
LIMIT=8192

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
start_upstream phone "$(free_port)"
port=$(awk '/^READY / { print $2 }' "$T/up-phone/stdout")
write_profile phone <<EOF2
[match]
ssid = Alice's Phone

[upstream]
host = 127.0.0.1
port = $port
tls = none
auth = none
EOF2
write_conf "network-backend = networkmanager" "metered-max-size = $LIMIT"
start_daemon

step "a metered phone hotspot"
nm wifi --id "Alice's Phone" --uuid "$PHONE_UUID" --ssid "Alice's Phone" \
    --bssid 02:00:5e:00:00:07 --addr 172.20.10.2/28 --gw 172.20.10.1 --primary
nm metered yes
nm connectivity full
wait_status 'j["profile"]["name"]' phone
wait_status 'j["network"]["metered"]' true

make_message "$T/small.eml" "small one"
make_message "$T/big streamed.eml" "big streamed" 200
make_message "$T/big declared.eml" "big declared" 200
for f in small "big streamed" "big declared"; do
	echo "$f: $(stat -c %s "$T/$f.eml") bytes"
done
[ "$(stat -c %s "$T/small.eml")" -le "$LIMIT" ] || fail "small.eml is not small"
[ "$(stat -c %s "$T/big streamed.eml")" -gt "$LIMIT" ] || fail "big streamed.eml is not big"

step "a small message goes at once"
smtplib send --from alice@example.org --to bob@example.net "$T/small.eml"
client_ok
assert_grep '^DATA 250 .*accepted by upstream' "$CLIENT_OUT" "the upstream's own 250"
wait_upstream_count phone 1
assert_same_bytes "$T/small.eml" "$(upstream_eml phone 1)" "the small message"
assert_eq 0 "$(queue_count)" "messages in the queue"

step "a big message found while streaming is queued"
smtplib send --from alice@example.org --to bob@example.net "$T/big streamed.eml"
client_ok
id_streamed=$(queued_id)
assert_queue_files "$id_streamed"

step "a big message with SIZE declared is queued"
curl_send "$T/big declared.eml" alice@example.org bob@example.net carol@example.net
client_ok
assert_grep "MAIL FROM:<alice@example.org> SIZE=$(stat -c %s "$T/big declared.eml")" \
    "$CLIENT_OUT" "curl declared SIZE"
id_declared=$(queued_id)
assert_queue_files "$id_declared"

step "both wait, even after a flush"
ctl_ok flush
for id in "$id_streamed" "$id_declared"; do
	assert_eq queued "$(queue_field "$id" state)" "state of $id"
	assert_eq true "$(queue_field "$id" metered_hold)" "metered_hold of $id"
	assert_eq 0 "$(queue_field "$id" attempts)" "attempts of $id"
done
assert_eq 2 "$(queue_count)" "messages in the queue"
assert_eq 1 "$(upstream_count phone)" "messages at the upstream"

step "retry ID sends one anyway"
ctl_ok retry "$id_streamed"
wait_upstream_count phone 2
assert_same_bytes "$T/big streamed.eml" "$(upstream_eml phone 2)" \
    "the big message sent by hand"
wait_queue_count 1
assert_queue_files_gone "$id_streamed"
assert_eq queued "$(queue_field "$id_declared" state)" "state of $id_declared"
assert_eq true "$(queue_field "$id_declared" metered_hold)" \
    "metered_hold of $id_declared after the other's retry"

step "not metered any more: the other one leaves"
nm metered no
wait_status 'j["network"]["metered"]' false
wait_upstream_count phone 3
assert_same_bytes "$T/big declared.eml" "$(upstream_eml phone 3)" \
    "the big message once not metered"
assert_eq '["bob@example.net", "carol@example.net"]' \
    "$(upstream_env phone 3 'j["rcpt_tos"]')" "its envelope recipients"
wait_queue_count 0
assert_queue_files_gone "$id_declared"

step "not metered: a big message goes at once"
make_message "$T/big unmetered.eml" "big unmetered" 200
smtplib send --from alice@example.org --to bob@example.net "$T/big unmetered.eml"
client_ok
assert_grep '^DATA 250 .*accepted by upstream' "$CLIENT_OUT" "the upstream's own 250"
wait_upstream_count phone 4
assert_same_bytes "$T/big unmetered.eml" "$(upstream_eml phone 4)" \
    "the big message, unmetered"
pass
