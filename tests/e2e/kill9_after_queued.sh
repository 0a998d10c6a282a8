#!/bin/bash
# kill9_after_queued: a message queued while the upstream is down survives
# kill -9 of the daemon; when the upstream is up and the daemon starts
# again, it delivers the message by itself (no flush), byte for byte.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
plain_profile home "$up"
start_daemon

step "queued while the upstream is down, then kill -9"
make_message "$T/msg.eml" "kill9 after queued"
smtplib send --from alice@example.org --to bob@example.net "$T/msg.eml"
client_ok
id=$(queued_id)
assert_queue_files "$id"
kill9_daemon

step "upstream up, daemon restarted: delivered without a flush"
start_upstream up "$up"
start_daemon
wait_upstream_count up 1
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "delivered message"
wait_queue_count 0
assert_queue_files_gone "$id"
assert_eq 1 "$(upstream_count up)" "messages at the upstream"
pass
