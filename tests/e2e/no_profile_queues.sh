#!/bin/bash
# no_profile_queues: with no profile at all the message is queued: 250
# "queued as ID" (16 lowercase hex digits), listed by "roamsmtpctl queue"
# with its envelope and subject, kept on disk as ID.msg (the message in
# transfer form) + ID.env, and still there after a restart.
. "$(dirname "$0")/../lib/common.sh"

start_daemon
assert_eq null "$(ctl --json status | json 'j["profile"]')" "active profile"

step "a message with nowhere to go is queued"
make_message "$T/msg.eml" "no profile"
smtplib send --from alice@example.org --to bob@example.net \
    --to carol@example.net "$T/msg.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: queued as [0-9a-f]{16}$' "$CLIENT_OUT" "reply"
id=$(queued_id)

step "the queue lists it"
assert_eq 1 "$(queue_count)" "messages in the queue"
assert_eq queued "$(queue_field "$id" state)" "state"
assert_eq alice@example.org "$(queue_field "$id" from)" "sender"
assert_eq '["bob@example.net", "carol@example.net"]' "$(queue_field "$id" rcpt)" \
    "recipients"
assert_eq "no profile" "$(queue_field "$id" subject)" "subject"
assert_eq 1 "$(ctl --json status | json 'j["queue"]["queued"]')" "status: queued"
assert_eq 0 "$(ctl --json status | json 'j["queue"]["failed"]')" "status: failed"

step "on disk: ID.msg is the message in transfer form"
assert_queue_files "$id"
"$PY" - "$QUEUE_DIR/$id.msg" "$T/unstuffed.eml" <<'EOP'
import sys
data = open(sys.argv[1], "rb").read()
lines = data.split(b"\r\n")
open(sys.argv[2], "wb").write(
    b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines))
EOP
assert_same_bytes "$T/msg.eml" "$T/unstuffed.eml" "$id.msg, dot-unstuffed"
assert_eq "$(stat -c %s "$QUEUE_DIR/$id.msg")" "$(queue_field "$id" size)" \
    "size listed"

step "still queued after a restart"
stop_daemon
start_daemon
assert_eq queued "$(queue_field "$id" state)" "state after a restart"
assert_eq 1 "$(queue_count)" "messages in the queue after a restart"
pass
