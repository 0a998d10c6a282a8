#!/bin/bash
# smtp_smuggling: a body that hides a second transaction behind a
# non-standard end of data ("\n.\n", "\r\n.\n", "\n.\r\n") must never become
# a second message upstream: the client gets a 5xx for the message (bare
# LF), the smuggled commands get no reply, and the upstream and the queue
# get nothing.  A clean message afterwards goes through.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
start_upstream up "$up"
plain_profile home "$up"
start_daemon

smuggled='MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nFrom: evil@example.org\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n'

n=0
for sep in '\n.\n' '\r\n.\n' '\n.\r\n'; do
	n=$((n + 1))
	step "smuggling attempt $n: end of data written as '$sep'"
	printf 'Subject: attempt %s\r\n\r\nhello'"$sep$smuggled"'.\r\n' "$n" \
	    > "$T/attempt$n.data"
	smtplib raw --from alice@example.org --to bob@example.net "$T/attempt$n.data"
	client_ok
	assert_grep '^END 5[0-9][0-9] ' "$CLIENT_OUT" "reply to attempt $n"
	assert_no_grep '^AFTER (250|354)' "$CLIENT_OUT" \
	    "smuggled commands answered in attempt $n"
	assert_eq 0 "$(upstream_count up)" "messages at the upstream"
done

step "no trace upstream or in the queue"
assert_no_grep 'evil@example\.org|victim@example\.net' "$(upstream_log up)" \
    "smuggled envelope at the upstream"
assert_eq 0 "$(queue_count)" "messages in the queue"

step "a clean message goes through"
printf 'Subject: clean\r\n\r\nhello\r\n' > "$T/clean.eml"
printf 'Subject: clean\r\n\r\nhello\r\n.\r\n' > "$T/clean.data"
smtplib raw --from alice@example.org --to bob@example.net "$T/clean.data"
client_ok
assert_grep '^END 250 ' "$CLIENT_OUT" "reply to the clean message"
assert_eq 1 "$(upstream_count up)" "messages at the upstream"
assert_same_bytes "$T/clean.eml" "$(upstream_eml up 1)" "relayed message"
pass
