#!/bin/bash
# relay_plain_swaks: swaks submits through roamsmtpd to a plain-text upstream
# without AUTH (the online path).  The upstream gets the message byte for
# byte, swaks sees the upstream's own final reply, nothing is queued.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
start_upstream up "$up"
plain_profile home "$up"
start_daemon

step "status names the profile and its upstream"
ctl --json status > "$T/status.json"
assert_eq home "$(json 'j["profile"]["name"]' < "$T/status.json")" "active profile"
assert_eq "127.0.0.1:$up" "$(json 'j["profile"]["upstream"]' < "$T/status.json")" \
    "profile's upstream"

step "swaks sends one message"
make_message "$T/msg.eml" "plain swaks"
# swaks always ends DATA with CRLF . CRLF after the data, adding a CRLF of
# its own: give it the message without its last one.
head -c -2 "$T/msg.eml" > "$T/msg-swaks.eml"
swaks_send "$T/msg-swaks.eml" alice@example.org bob@example.net
client_ok
assert_grep '^<- +250 2\.0\.0 Ok: accepted by upstream as 0001$' "$CLIENT_OUT" \
    "swaks got the upstream's final reply"

step "the upstream has it, byte for byte"
assert_eq 1 "$(upstream_count up)" "messages at the upstream"
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "relayed message"
assert_eq alice@example.org "$(upstream_env up 1 'j["mail_from"]')" "envelope sender"
assert_eq '["bob@example.net"]' "$(upstream_env up 1 'j["rcpt_tos"]')" "envelope recipients"
assert_eq 0 "$(queue_count)" "messages in the queue"
pass
