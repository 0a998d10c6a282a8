#!/bin/bash
# permanent_failure_kept: two queued messages meet an upstream that refuses
# them with a 5xx.  Both are kept as "failed" (not retried by themselves).
# "retry ID" after the upstream is fixed delivers one byte for byte;
# "delete ID" removes the other, from the listing and from disk.
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

step "the upstream refuses them for good: both failed"
start_upstream up "$up" --reject-data "554:5.7.1 Message refused by policy"
ctl_ok flush
wait_queue_state "$a" failed
wait_queue_state "$b" failed
assert_match '5\.7\.1 Message refused by policy' "$(queue_field "$a" last_error)" \
    "last_error of $a"
assert_eq 0 "$(upstream_count up)" "messages at the upstream"

step "fixed upstream; retry delivers one"
stop_upstream up
assert_eq 2 "$(upstream_events up REFUSE-DATA)" \
    "refusals (one attempt each: a 5xx is not retried)"
start_upstream up "$up"
ctl_ok retry "$a"
wait_upstream_count up 1
assert_same_bytes "$T/a.eml" "$(upstream_eml up 1)" "retried message"
wait_queue_count 1
assert_queue_files_gone "$a"
assert_eq failed "$(queue_field "$b" state)" "state of $b"

step "delete removes the other"
ctl_ok delete "$b"
assert_eq 0 "$(queue_count)" "messages in the queue"
assert_queue_files_gone "$b"
assert_eq 1 "$(upstream_count up)" "messages at the upstream"
pass
