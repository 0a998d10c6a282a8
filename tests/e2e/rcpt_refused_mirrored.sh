#!/bin/bash
# rcpt_refused_mirrored: the upstream refuses one of two recipients.  The
# client gets the upstream's own 550 and text for that one, at RCPT time,
# and the message reaches the other, byte for byte.
. "$(dirname "$0")/../lib/common.sh"

refusal='5.1.1 <nobody@example.net>: Recipient address rejected: no such user'
up=$(free_port)
start_upstream up "$up" --reject-rcpt "nobody@example.net:550:$refusal"
plain_profile home "$up"
start_daemon

step "one message to a good and a refused recipient"
make_message "$T/msg.eml" "one refused rcpt"
smtplib send --from alice@example.org --to bob@example.net \
    --to nobody@example.net "$T/msg.eml"
client_ok
assert_grep '^RCPT bob@example\.net 250 2\.1\.5 Ok$' "$CLIENT_OUT" "good recipient"
grep -qxF "RCPT nobody@example.net 550 $refusal" "$CLIENT_OUT" ||
    fail "the refused recipient did not get the upstream's '550 $refusal'"
assert_grep '^DATA 250 2\.0\.0 Ok: accepted by upstream as 0001$' "$CLIENT_OUT" \
    "final reply"

step "the good recipient got it, byte for byte"
assert_eq 1 "$(upstream_count up)" "messages at the upstream"
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "relayed message"
assert_eq '["bob@example.net"]' "$(upstream_env up 1 'j["rcpt_tos"]')" "recipients"
assert_eq 0 "$(queue_count)" "messages in the queue"
pass
