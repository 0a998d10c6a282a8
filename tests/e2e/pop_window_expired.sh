#!/bin/bash
# pop_window_expired: the provider's window after a POP3 login runs out in
# the middle of things.
#   1. The profile's window (10 s, the least it takes) runs out while an
#      upstream session sits in the pool: the next message logs in to POP3
#      again before its transaction, and goes over the same session.
#   2. The provider's window is shorter than the profile says (2 s against
#      10): the upstream refuses a recipient with "554 5.7.1 Relay access
#      denied"; the daemon logs in once more and asks again, and the client
#      sees only the second verdict, a 250.
#   3. The same from the queue: the refused message is tried once more after
#      a new login, and delivered instead of failed.
# Waits poll the age of the last login; the longest is the 10 s window.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/dovecot.sh"

make_certs "$T/certs"
dovecot_start alice Window-pw "$T/certs" 1
before=$(dovecot_mailbox)
up=$(free_port)
start_upstream up "$up" --pop-window "$DOVECOT_LOGINS:10"
write_secret "$T/pop.pass" Window-pw
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
window = 10
EOC
start_daemon
for i in 1 2 3 4 5; do
	make_message "$T/msg$i.eml" "window $i"
done

# _login_older_than SECONDS: the last POP3 login is older than that.
_login_older_than() {
	"$PY" -c 'import os, sys, time
sys.exit(time.time() - os.path.getmtime(sys.argv[1]) <= float(sys.argv[2]))' \
	    "$DOVECOT_LOGINS" "$1"
}
wait_login_age() {	# SECONDS
	wait_for "a POP3 login older than ${1}s" _login_older_than "$1"
}

send() {	# N: message N from alice to bob, which must be taken
	smtplib send --from alice@example.org --to bob@example.net "$T/msg$1.eml"
	client_ok
}

step "message 1: a login, then relay"
send 1
assert_eq 1 "$(dovecot_logins)" "POP3 logins"
assert_same_bytes "$T/msg1.eml" "$(upstream_eml up 1)" "message 1 at the upstream"

step "message 2, late in the window: no login, the pooled session"
wait_login_age 7
send 2
assert_eq 1 "$(dovecot_logins)" "POP3 logins after message 2"

step "message 3, the window run out: a login first, then the same session"
wait_login_age 10.5
send 3
assert_eq 2 "$(dovecot_logins)" "POP3 logins after message 3"
assert_same_bytes "$T/msg3.eml" "$(upstream_eml up 3)" "message 3 at the upstream"
assert_eq 1 "$(upstream_events up CONNECT)" "SMTP connections for three messages"
assert_eq 0 "$(upstream_events up RELAY-DENIED)" "relay refusals so far"

step "the provider's window is shorter than the profile's"
stop_upstream up
start_upstream up "$up" --pop-window "$DOVECOT_LOGINS:2"
wait_login_age 2.5
send 4
assert_grep '^RCPT bob@example.net 250' "$CLIENT_OUT" \
    "the client's RCPT verdict (the second one)"
assert_same_bytes "$T/msg4.eml" "$(upstream_eml up 4)" "message 4 at the upstream"
assert_eq 1 "$(upstream_events up RELAY-DENIED)" "relay refusals"
assert_eq 3 "$(dovecot_logins)" "POP3 logins after the refusal"
assert_grep 'refused to relay: POP3 login again' "$DAEMON_LOG" \
    "the relogin in the daemon's log"

step "from the queue: refused, a new login, tried once more"
stop_upstream up
send 5
id=$(queued_id)
assert_queue_files "$id"
start_upstream up "$up" --pop-window "$DOVECOT_LOGINS:2"
wait_login_age 2.5
ctl_ok flush
wait_upstream_count up 5
assert_same_bytes "$T/msg5.eml" "$(upstream_eml up 5)" "message 5 at the upstream"
wait_queue_count 0
assert_queue_files_gone "$id"
assert_eq 2 "$(upstream_events up RELAY-DENIED)" "relay refusals"
assert_eq 4 "$(dovecot_logins)" "POP3 logins after the queue's retry"
assert_grep "$id queue retry after POP3 login" "$DAEMON_LOG" \
    "the queue's retry in the daemon's log"

step "the mailbox is as it was"
assert_eq "$before" "$(dovecot_mailbox)" "messages in the mailbox"
assert_no_grep 'retr=[1-9]|del=[1-9]' "$T/dovecot/log" "RETR or DELE at Dovecot"
pass
