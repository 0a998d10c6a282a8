#!/bin/bash
# queue_expiry_reports: a message that can't leave first earns its sender a
# delay warning (Action: delayed), then expires (Action: failed): it stays in
# the queue as failed, and both reports reach the sender, from <>, once an
# upstream is there.  (Short delay-warning and queue-lifetime; the daemon
# checks them on every flush, so the test need not wait for its timer.)
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
write_conf "delay-warning = 1" "queue-lifetime = 3"
plain_profile home "$up"
start_daemon

step "queued while the upstream is down"
make_message "$T/m.eml" "late one"
smtplib send --from alice@example.org --to bob@example.net "$T/m.eml"
client_ok
id=$(queued_id)

step "past delay-warning: a delay report is queued (the upstream is still down)"
_delayed() { ctl_ok flush >/dev/null; [ "$(queue_count)" -ge 2 ]; }
wait_for "a delay report in the queue" _delayed
assert_eq queued "$(queue_field "$id" state)" "state of $id after the warning"

step "past queue-lifetime: expired, kept as failed, a failure report is queued"
_expired() { ctl_ok flush >/dev/null; [ "$(queue_field "$id" state)" = failed ]; }
wait_for "$id to expire" _expired
assert_match 'could not be sent' "$(queue_field "$id" last_error)" "last_error of $id"
assert_eq 3 "$(queue_count)" "the message and two reports"

step "an upstream appears: both reports reach alice"
start_upstream up "$up"
ctl_ok flush
wait_upstream_count up 2
actions=
for n in 1 2; do
	eml=$(upstream_eml up $n)
	assert_eq "<>" "$(upstream_env up $n 'j["mail_from"]')" "report $n's sender"
	assert_eq '["alice@example.org"]' "$(upstream_env up $n 'j["rcpt_tos"]')" \
	    "report $n's recipient"
	assert_grep '^Final-Recipient: rfc822; bob@example.net' "$eml" "report $n"
	assert_grep '^Subject: late one' "$eml" "report $n quotes the headers"
	actions="$actions $(sed -n 's/^Action: \([a-z]*\).*/\1/p' "$eml")"
done
assert_eq " delayed failed" "$actions" "the reports' actions, in order"
wait_queue_count 1
assert_eq failed "$(queue_field "$id" state)" "the expired message is kept"
pass
