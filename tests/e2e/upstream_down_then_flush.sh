#!/bin/bash
# upstream_down_then_flush: nothing listens on the upstream's port, so the
# message is queued.  The upstream starts, "roamsmtpctl flush" sends the
# queue, and the upstream gets the message byte for byte; the queue is then
# empty, on disk too.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
plain_profile home "$up"
start_daemon

step "with the upstream down the message is queued"
make_message "$T/msg.eml" "down then flush"
smtplib send --from alice@example.org --to bob@example.net \
    --to carol@example.net "$T/msg.eml"
client_ok
id=$(queued_id)
assert_queue_files "$id"
assert_eq queued "$(queue_field "$id" state)" "state of $id"
assert_eq alice@example.org "$(queue_field "$id" from)" "sender of $id"
assert_eq '["bob@example.net", "carol@example.net"]' "$(queue_field "$id" rcpt)" \
    "recipients of $id"
assert_eq "down then flush" "$(queue_field "$id" subject)" "subject of $id"

step "the upstream comes up; flush delivers"
start_upstream up "$up"
ctl_ok flush
wait_upstream_count up 1
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "delivered message"
assert_eq alice@example.org "$(upstream_env up 1 'j["mail_from"]')" "envelope sender"
assert_eq '["bob@example.net", "carol@example.net"]' \
    "$(upstream_env up 1 'j["rcpt_tos"]')" "envelope recipients"
wait_queue_count 0
assert_queue_files_gone "$id"
assert_eq 1 "$(upstream_count up)" "messages at the upstream"
pass
