#!/bin/bash
# relay_implicit_tls_login_curl: the upstream speaks TLS from the first byte
# (port-465 style) and wants AUTH LOGIN; the password comes from a
# password-command.  curl submits; the upstream gets the message byte for
# byte and curl sees the upstream's final reply.
. "$(dirname "$0")/../lib/common.sh"

make_certs "$T/certs"
up=$(free_port)
start_upstream up "$up" --implicit-tls "$T/certs/server.crt" "$T/certs/server.key" \
    --auth bob:L0gin-pw-42
write_profile work <<EOC
[match]
default = true

[upstream]
host = 127.0.0.1
port = $up
tls = tls
auth = login
user = bob
password-command = echo L0gin-pw-42
ca-file = $T/certs/ca.crt
EOC
start_daemon

step "curl sends one message"
make_message "$T/msg.eml" "implicit tls login"
curl_send "$T/msg.eml" bob@example.org carol@example.net
client_ok
assert_grep '^< 250 2\.0\.0 Ok: accepted by upstream as 0001' "$CLIENT_OUT" \
    "curl got the upstream's final reply"

step "the upstream got it over implicit TLS after AUTH LOGIN, byte for byte"
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "relayed message"
assert_eq bob "$(upstream_env up 1 'j["auth_user"]')" "user authenticated upstream"
assert_eq '["carol@example.net"]' "$(upstream_env up 1 'j["rcpt_tos"]')" "recipients"
conn=$(upstream_conn_of up 1)
assert_match '^CONNECT TLS EHLO AUTH AUTH-OK MAIL RCPT DATA ACCEPT' \
    "$(upstream_conn_events up "$conn")" "upstream session"
assert_grep "^conn=$conn AUTH LOGIN$" "$(upstream_log up)" "AUTH mechanism"
assert_no_grep 'L0gin-pw-42' "$DAEMON_LOG" "password in the daemon log"
pass
