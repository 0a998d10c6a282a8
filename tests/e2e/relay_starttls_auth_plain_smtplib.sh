#!/bin/bash
# relay_starttls_auth_plain_smtplib: the upstream needs STARTTLS (verified
# against the test CA given as ca-file, host name "localhost") and AUTH
# PLAIN, offered only after TLS.  smtplib submits; the upstream gets the
# message byte for byte from an authenticated TLS session, and the password
# appears nowhere in the daemon's log or status.
. "$(dirname "$0")/../lib/common.sh"

make_certs "$T/certs"
up=$(free_port)
start_upstream up "$up" --host localhost \
    --starttls "$T/certs/server.crt" "$T/certs/server.key" \
    --auth alice:Pl41n-s3cret --auth-require-tls
write_secret "$T/home.pass" Pl41n-s3cret
write_profile home <<EOC
[match]
default = true

[upstream]
host = localhost
port = $up
tls = starttls
auth = plain
user = alice
password-file = $T/home.pass
ca-file = $T/certs/ca.crt
EOC
start_daemon

step "smtplib sends one message"
make_message "$T/msg.eml" "starttls auth plain"
smtplib send --from alice@example.org --to bob@example.net "$T/msg.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: accepted by upstream as 0001$' "$CLIENT_OUT" \
    "smtplib got the upstream's final reply"

step "the upstream got it over TLS, after AUTH PLAIN, byte for byte"
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "relayed message"
assert_eq alice "$(upstream_env up 1 'j["auth_user"]')" "user authenticated upstream"
conn=$(upstream_conn_of up 1)
assert_match '^CONNECT EHLO STARTTLS TLS EHLO AUTH AUTH-OK MAIL RCPT DATA ACCEPT' \
    "$(upstream_conn_events up "$conn")" "upstream session"
assert_grep "^conn=$conn AUTH PLAIN$" "$(upstream_log up)" "AUTH mechanism"

step "the password is in no log and no status"
ctl --json status > "$T/status.json"
assert_no_grep 'Pl41n-s3cret' "$DAEMON_LOG" "daemon log"
assert_no_grep 'Pl41n-s3cret' "$T/status.json" "status"
pass
