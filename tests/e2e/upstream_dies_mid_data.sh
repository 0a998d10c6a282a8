#!/bin/bash
# upstream_dies_mid_data: the upstream closes the connection after 4 KiB of
# DATA, without a reply.  The client still gets 250 "queued" (the spooled
# copy is made durable).  A working upstream takes the port; flush delivers
# the message byte for byte.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
start_upstream up "$up" --drop-mid-data 4096
plain_profile home "$up"
start_daemon

step "the upstream drops the connection in the middle of DATA"
make_message "$T/msg.eml" "dies mid data" 400	# about 30 KiB
smtplib send --from alice@example.org --to bob@example.net "$T/msg.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: queued as [0-9a-f]{16}$' "$CLIENT_OUT" "reply"
id=$(queued_id)
assert_queue_files "$id"
assert_grep '^conn=[0-9]+ DROP ' "$(upstream_log up)" "the upstream dropped mid-DATA"
assert_eq 0 "$(upstream_count up)" "messages at the upstream"

step "a working upstream on the same port; flush delivers"
stop_upstream up
start_upstream up "$up"
ctl_ok flush
wait_upstream_count up 1
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "delivered message"
wait_queue_count 0
assert_queue_files_gone "$id"
pass
