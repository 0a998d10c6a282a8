#!/bin/bash
# pipelining_smtplib: the client sends MAIL, three RCPTs and DATA in one
# write (RFC 2920).  The replies come back in order (the upstream refuses
# the middle recipient, so a reply out of place shows), and the message is
# delivered byte for byte.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
start_upstream up "$up" --reject-rcpt "nobody@example.net:550:5.1.1 No such user"
plain_profile home "$up"
start_daemon

make_message "$T/msg.eml" "pipelined"
smtplib pipeline --from alice@example.org --to bob@example.net \
    --to nobody@example.net --to carol@example.net "$T/msg.eml"
client_ok
assert_grep '^EHLO 250 .*PIPELINING' "$CLIENT_OUT" "PIPELINING offered"
# Each reply's step and code, with the recipient for RCPT.
sed -n '/^MAIL/,/^END/p' "$CLIENT_OUT" |
    awk '$1 == "RCPT" { print $1, $2, $3; next } { print $1, $2 }' > "$T/replies"
printf '%s\n' 'MAIL 250' 'RCPT bob@example.net 250' \
    'RCPT nobody@example.net 550' 'RCPT carol@example.net 250' \
    'DATA 354' 'END 250' > "$T/replies.expected"
cmp -s "$T/replies.expected" "$T/replies" || {
	diff "$T/replies.expected" "$T/replies" >&2 || true
	fail "pipelined replies out of order or wrong"
}
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "relayed message"
assert_eq '["bob@example.net", "carol@example.net"]' \
    "$(upstream_env up 1 'j["rcpt_tos"]')" "recipients"
pass
