#!/bin/bash
# pop_before_smtp_relays: a provider that relays only after a POP3 login.
# The daemon logs in to Dovecot (POP3S, USER/PASS) before it opens the SMTP
# session, the upstream (which relays only for a recent login) takes the
# message byte for byte, and the next message in the window needs no new
# login.  Then the same through STLS on the plain port, and APOP without
# TLS.  The mailbox is never touched: the same messages before and after,
# and Dovecot's own log says nothing was retrieved or deleted.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/dovecot.sh"

make_certs "$T/certs"
dovecot_start alice 'Pop-pw 1' "$T/certs" 2
before=$(dovecot_mailbox)
assert_eq 2 "$(echo "$before" | wc -l)" "messages in the mailbox at the start"
up=$(free_port)
start_upstream up "$up" --pop-window "$DOVECOT_LOGINS:60"
write_secret "$T/pop.pass" 'Pop-pw 1'

pop_profile() {	# TLS PORT AUTH [EXTRA LINE]
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
port = $2
tls = $1
auth = $3
user = alice
password-file = $T/pop.pass
ca-file = $T/certs/ca.crt
window = 300
${4:-}
EOC
}
pop_profile tls "$DOVECOT_POP3S_PORT" auto
start_daemon
for i in 1 2 3 4; do
	make_message "$T/msg$i.eml" "pop before smtp $i"
done

step "without a POP3 login the upstream refuses (the test's premise)"
"$PY" - "$up" > "$T/premise.out" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("premise.test"); s.mail("alice@example.org")
print(*s.rcpt("bob@example.net")); s.quit()
PY
assert_grep '^554 b?.?5\.7\.1 Relay access denied' "$T/premise.out" "direct RCPT"

step "the first message: POP3S login, then relay"
smtplib send --from alice@example.org --to bob@example.net "$T/msg1.eml"
client_ok
assert_grep '^RCPT bob@example.net 250' "$CLIENT_OUT" "RCPT through the proxy"
assert_same_bytes "$T/msg1.eml" "$(upstream_eml up 1)" "message 1 at the upstream"
assert_eq 1 "$(dovecot_logins)" "POP3 logins"
assert_grep "pop login server=127\.0\.0\.1:$DOVECOT_POP3S_PORT auth=user" \
    "$DAEMON_LOG" "the login in the daemon's log"
assert_grep 'Login: user=<alice>, method=PLAIN.*TLS' "$T/dovecot/log" \
    "Dovecot saw a TLS login"

step "the second message, within the window: no new login"
smtplib send --from alice@example.org --to bob@example.net "$T/msg2.eml"
client_ok
assert_same_bytes "$T/msg2.eml" "$(upstream_eml up 2)" "message 2 at the upstream"
assert_eq 1 "$(dovecot_logins)" "POP3 logins after message 2"
assert_eq 1 "$(upstream_events up RELAY-DENIED)" \
    "relay refusals (the premise's only)"

step "STLS on the plain port (a reload forgets the window)"
pop_profile starttls "$DOVECOT_POP3_PORT" user
ctl_ok reload
smtplib send --from alice@example.org --to bob@example.net "$T/msg3.eml"
client_ok
assert_same_bytes "$T/msg3.eml" "$(upstream_eml up 3)" "message 3 at the upstream"
assert_eq 2 "$(dovecot_logins)" "POP3 logins after STLS"
assert_grep "pop login server=127\.0\.0\.1:$DOVECOT_POP3_PORT auth=user" \
    "$DAEMON_LOG" "the STLS login in the daemon's log"

step "APOP without TLS: the password never crosses the wire"
pop_profile none "$DOVECOT_POP3_PORT" apop
ctl_ok reload
smtplib send --from alice@example.org --to bob@example.net "$T/msg4.eml"
client_ok
assert_same_bytes "$T/msg4.eml" "$(upstream_eml up 4)" "message 4 at the upstream"
assert_eq 3 "$(dovecot_logins)" "POP3 logins after APOP"
assert_grep "pop login server=127\.0\.0\.1:$DOVECOT_POP3_PORT auth=apop" \
    "$DAEMON_LOG" "the APOP login in the daemon's log"
assert_grep 'Login: user=<alice>, method=APOP' "$T/dovecot/log" \
    "Dovecot saw an APOP login"

step "the mailbox is as it was"
assert_eq "$before" "$(dovecot_mailbox)" "messages in the mailbox"
assert_no_grep 'retr=[1-9]|del=[1-9]' "$T/dovecot/log" "RETR or DELE at Dovecot"
assert_eq 3 "$(grep -c 'Logged out top=0/0, retr=0/0, del=0/2' "$T/dovecot/log")" \
    "clean QUITs at Dovecot"
assert_no_grep 'Pop-pw 1' "$DAEMON_LOG" "the POP3 password in the daemon's log"
pass
