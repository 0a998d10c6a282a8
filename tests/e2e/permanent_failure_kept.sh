#!/bin/bash
# permanent_failure_kept: two queued messages meet an upstream that refuses
# their recipient with a 5xx.  Both are kept as "failed" (not retried by
# themselves), and the sender gets a delivery report (RFC 3464) for each,
# from <>, through the same upstream.  "retry ID" after the upstream is
# fixed delivers one byte for byte; "delete ID" removes the other, from the
# listing and from disk.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
plain_profile home "$up"
start_daemon

step "two messages queued while the upstream is down"
make_message "$T/a.eml" "to be retried"
smtplib send --from alice@example.org --to bob@example.net "$T/a.eml"
client_ok
a=$(queued_id)
make_message "$T/b.eml" "to be deleted"
smtplib send --from alice@example.org --to bob@example.net "$T/b.eml"
client_ok
b=$(queued_id)

step "the upstream refuses bob for good: both failed, alice gets reports"
start_upstream up "$up" --reject-rcpt "bob@example.net:550:5.1.1 No such user here"
ctl_ok flush
wait_queue_state "$a" failed
wait_queue_state "$b" failed
assert_match '5\.1\.1 No such user here' "$(queue_field "$a" last_error)" \
    "last_error of $a"
wait_upstream_count up 2
for n in 1 2; do
	assert_eq "<>" "$(upstream_env up $n 'j["mail_from"]')" "report $n's sender (<>)"
	assert_eq '["alice@example.org"]' "$(upstream_env up $n 'j["rcpt_tos"]')" \
	    "report $n's recipient"
	eml=$(upstream_eml up $n)
	assert_grep '^Content-Type: multipart/report; report-type=delivery-status' "$eml" "report $n"
	assert_grep '^Final-Recipient: rfc822; bob@example.net' "$eml" "report $n"
	assert_grep '^Action: failed' "$eml" "report $n"
	assert_grep '^Status: 5\.1\.1' "$eml" "report $n"
	assert_grep '^Subject: (to be retried|to be deleted)' "$eml" "report $n quotes the headers"
done
assert_eq 2 "$(queue_count)" "messages in the queue (the reports left)"

step "fixed upstream; retry delivers one"
stop_upstream up
start_upstream fixed "$up"
ctl_ok retry "$a"
wait_upstream_count fixed 1
assert_same_bytes "$T/a.eml" "$(upstream_eml fixed 1)" "retried message"
wait_queue_count 1
assert_queue_files_gone "$a"
assert_eq failed "$(queue_field "$b" state)" "state of $b"

step "delete removes the other"
ctl_ok delete "$b"
assert_eq 0 "$(queue_count)" "messages in the queue"
assert_queue_files_gone "$b"
assert_eq 1 "$(upstream_count fixed)" "messages at the fixed upstream"
pass
