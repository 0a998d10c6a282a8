#!/bin/bash
# starttls_missing_queued: the profile asks for STARTTLS and the upstream
# does not offer it (it does offer AUTH in plain text, a trap).  No silent
# downgrade: the message is queued, the upstream's log shows no AUTH and no
# MAIL, and the queue names the missing STARTTLS.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
start_upstream up "$up" --no-starttls --auth alice:Dn-grade-pw
write_secret "$T/home.pass" Dn-grade-pw
write_profile home <<EOC
[match]
default = true

[upstream]
host = 127.0.0.1
port = $up
tls = starttls
auth = plain
user = alice
password-file = $T/home.pass
EOC
start_daemon

step "the message is queued"
make_message "$T/msg.eml" "starttls missing"
smtplib send --from alice@example.org --to bob@example.net "$T/msg.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: queued as [0-9a-f]{16}$' "$CLIENT_OUT" "reply"
id=$(queued_id)

step "another attempt stops at EHLO too, and says why"
ctl_ok flush
wait_queue_error "$id"
assert_match '(STARTTLS|starttls|StartTLS)' "$(queue_field "$id" last_error)" \
    "last_error of $id"
wait_for "upstream connection closed" \
    grep -q '^conn=[0-9]* CLOSE$' "$(upstream_log up)"

step "the upstream got no AUTH, no MAIL, no message"
assert_grep '^conn=[0-9]+ EHLO ' "$(upstream_log up)" "the daemon talked to the upstream"
assert_eq 0 "$(upstream_events up AUTH)" "AUTH commands at the upstream"
assert_eq 0 "$(upstream_events up MAIL)" "MAIL commands at the upstream"
assert_eq 0 "$(upstream_count up)" "messages at the upstream"
pass
