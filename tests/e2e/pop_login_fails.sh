#!/bin/bash
# pop_login_fails: the POP3 password is wrong.  The message is not lost and
# not sent a weaker way: it is queued, its reason names the POP3 server and
# Dovecot's own -ERR, nothing reaches the SMTP upstream, and the password
# appears in no log.  With the password fixed, a flush delivers it.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/dovecot.sh"

make_certs "$T/certs"
dovecot_start alice 'Right-pw' "$T/certs" 1
up=$(free_port)
start_upstream up "$up" --pop-window "$DOVECOT_LOGINS:60"
write_secret "$T/pop.pass" 'Wrong-pw-42'
write_profile isp <<EOC
[match]
default = true

[upstream]
host = 127.0.0.1
port = $up
tls = none
auth = none

[pop-before-smtp]
host = 127.0.0.1
port = $DOVECOT_POP3S_PORT
tls = tls
user = alice
password-file = $T/pop.pass
ca-file = $T/certs/ca.crt
EOC
start_daemon
make_message "$T/msg.eml" "pop login fails"

step "a wrong POP3 password: the message is queued"
smtplib send --from alice@example.org --to bob@example.net "$T/msg.eml"
client_ok
id=$(queued_id)
assert_queue_files "$id"
wait_queue_error "$id"
err=$(queue_field "$id" last_error)
assert_match "POP-before-SMTP login failed: POP3 server 127\.0\.0\.1:$DOVECOT_POP3S_PORT refused the login of alice \(user\): -ERR \[AUTH\] Authentication failed" \
    "$err" "the queued message's reason"
assert_eq queued "$(queue_field "$id" state)" "the message's state"
assert_eq 0 "$(upstream_events up CONNECT)" "SMTP connections to the upstream"
assert_eq 0 "$(dovecot_logins)" "POP3 logins"
assert_grep 'auth failed.*user=<alice>|Disconnected.*auth failed' "$T/dovecot/log" \
    "Dovecot's view of the failed login"
assert_no_grep 'Wrong-pw-42' "$DAEMON_LOG" "the password in the daemon's log"
ctl --json queue > "$T/queue.json" 2>> "$T/ctl.err"
assert_no_grep 'Wrong-pw-42' "$T/queue.json" "the password in roamsmtpctl queue"

step "the password fixed, a flush delivers it"
write_secret "$T/pop.pass" 'Right-pw'
ctl_ok flush
wait_upstream_count up 1
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "the message at the upstream"
wait_queue_count 0
assert_eq 1 "$(dovecot_logins)" "POP3 logins"
pass
