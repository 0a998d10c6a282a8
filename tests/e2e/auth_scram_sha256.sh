#!/bin/bash
# auth_scram_sha256: an upstream that offers SCRAM-SHA-256, PLAIN and LOGIN;
# the profile leaves auth to auto, and the daemon picks SCRAM-SHA-256 (the
# upstream never sees the password).  Delivered online, byte for byte.
# Then, picked by hand: a profile with a wrong password is refused (535),
# and the message waits in the queue with that 535 in last_error; and an
# upstream that knows the user but not the password (its SCRAM server
# signature is wrong) gets no message: the daemon hangs up, and last_error
# says the signature was wrong.
. "$(dirname "$0")/../lib/common.sh"

pw='Scr4m pencil,=7'
up=$(free_port)
imp=$(free_port)
start_upstream up "$up" --auth "carol:$pw" --auth-mechs SCRAM-SHA-256,PLAIN,LOGIN
start_upstream imp "$imp" --auth "carol:$pw" --auth-mechs SCRAM-SHA-256,PLAIN \
    --scram-bad-signature
write_secret "$T/good.pass" "$pw"
write_secret "$T/wrong.pass" 'Scr4m pencil,=8'
profile() {	# NAME PORT PASSWORD-FILE [MATCH-LINE]
	write_profile "$1" <<EOC
[match]
${4:-}

[upstream]
host = 127.0.0.1
port = $2
tls = none
user = carol
password-file = $3
allow-plaintext-auth = yes
EOC
}
profile home "$up" "$T/good.pass" 'default = true'
profile wrong "$up" "$T/wrong.pass"
profile impostor "$imp" "$T/good.pass"
start_daemon

step "auth = auto picks SCRAM-SHA-256 over PLAIN"
make_message "$T/msg1.eml" "scram sha 256"
msmtp_send "$T/msg1.eml" carol@example.org dave@example.net
client_ok
assert_grep '^<-- 250 2\.0\.0 Ok: accepted by upstream as 0001' "$CLIENT_OUT" \
    "msmtp got the upstream's final reply"
assert_same_bytes "$T/msg1.eml" "$(upstream_eml up 1)" "relayed message"
assert_eq carol "$(upstream_env up 1 'j["auth_user"]')" "user authenticated upstream"
conn=$(upstream_conn_of up 1)
assert_match '^CONNECT EHLO AUTH AUTH-OK MAIL RCPT DATA ACCEPT' \
    "$(upstream_conn_events up "$conn")" "upstream session"
assert_grep "^conn=$conn AUTH SCRAM-SHA-256$" "$(upstream_log up)" "AUTH mechanism"
assert_grep "^conn=$conn AUTH-OK SCRAM-SHA-256 user=carol$" "$(upstream_log up)" \
    "the upstream checked the proof"

step "a wrong password: queued, with the upstream's 535"
ctl_ok use wrong
make_message "$T/msg2.eml" "scram wrong password"
msmtp_send "$T/msg2.eml" carol@example.org dave@example.net
client_ok
id=$(queued_id)
wait_queue_error "$id"
assert_match 'refused the login of carol: 535 5\.7\.8' \
    "$(queue_field "$id" last_error)" "last_error of $id"
assert_eq queued "$(queue_field "$id" state)" "state of $id"
assert_grep '^conn=[0-9]+ AUTH-FAIL SCRAM-SHA-256 user=carol$' "$(upstream_log up)" \
    "the upstream refused the proof"
assert_eq 1 "$(upstream_count up)" "messages at the upstream"

step "a wrong server signature: the daemon hangs up, nothing is sent"
ctl_ok use impostor
make_message "$T/msg3.eml" "scram impostor"
msmtp_send "$T/msg3.eml" carol@example.org dave@example.net
client_ok
id=$(queued_id)
wait_queue_error "$id"
assert_match "SCRAM-SHA-256 login of carol: the server's SCRAM signature is wrong" \
    "$(queue_field "$id" last_error)" "last_error of $id"
# (aiosmtpd drops the AUTH handler when the client hangs up: no AUTH-OK,
# no AUTH-FAIL, just the end of the connection)
wait_for "the end of the impostor's first session" \
    grep -q '^conn=1 CLOSE$' "$(upstream_log imp)"
assert_eq "CONNECT EHLO AUTH CLOSE" "$(upstream_conn_events imp 1)" \
    "the impostor's session"
assert_eq 0 "$(upstream_events imp MAIL)" "MAIL commands at the impostor"
assert_eq 0 "$(upstream_count imp)" "messages at the impostor"
assert_no_grep 'Scr4m' "$DAEMON_LOG" "password in the daemon log"
pass
