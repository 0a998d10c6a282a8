#!/bin/bash
# session_reuse: two messages in a row on one client connection, then one
# more on a second client connection, all go through one authenticated
# upstream session: the upstream's log shows one connection and one AUTH,
# and each message arrives byte for byte.
. "$(dirname "$0")/../lib/common.sh"

make_certs "$T/certs"
up=$(free_port)
start_upstream up "$up" --starttls "$T/certs/server.crt" "$T/certs/server.key" \
    --auth alice:R3use-pw --auth-require-tls
write_secret "$T/home.pass" R3use-pw
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
ca-file = $T/certs/ca.crt
EOC
start_daemon
for i in 1 2 3; do
	make_message "$T/msg$i.eml" "reuse $i"
done

step "two messages on one client connection"
smtplib send --from alice@example.org --to bob@example.net "$T/msg1.eml" "$T/msg2.eml"
client_ok
assert_eq 2 "$(grep -c '^DATA 250 2\.0\.0 Ok: accepted by upstream' "$CLIENT_OUT")" \
    "messages accepted by the upstream"

step "one more on a second client connection"
smtplib send --from alice@example.org --to bob@example.net "$T/msg3.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: accepted by upstream as 0003$' "$CLIENT_OUT" \
    "third message"

step "one upstream connection, one AUTH, three messages"
for i in 1 2 3; do
	assert_same_bytes "$T/msg$i.eml" "$(upstream_eml up "$i")" "message $i"
done
assert_eq 1 "$(upstream_events up CONNECT)" "connections to the upstream"
assert_eq 1 "$(upstream_events up AUTH)" "AUTH commands at the upstream"
assert_eq 3 "$(upstream_events up ACCEPT)" "messages accepted upstream"
pass
