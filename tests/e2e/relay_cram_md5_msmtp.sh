#!/bin/bash
# relay_cram_md5_msmtp: an upstream without TLS that takes AUTH CRAM-MD5;
# the profile allows that with allow-plaintext-auth = yes.  msmtp submits;
# the upstream gets the message byte for byte from an authenticated session.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
start_upstream up "$up" --auth carol:Cr4m-pw
write_secret "$T/lan.pass" Cr4m-pw
write_profile lan <<EOC
[match]
default = true

[upstream]
host = 127.0.0.1
port = $up
tls = none
auth = cram-md5
user = carol
password-file = $T/lan.pass
allow-plaintext-auth = yes
EOC
start_daemon

step "msmtp sends one message"
make_message "$T/msg.eml" "cram-md5 msmtp"
msmtp_send "$T/msg.eml" carol@example.org dave@example.net
client_ok
assert_grep '^<-- 250 2\.0\.0 Ok: accepted by upstream as 0001' "$CLIENT_OUT" \
    "msmtp got the upstream's final reply"

step "the upstream got it after AUTH CRAM-MD5, byte for byte"
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "relayed message"
assert_eq carol "$(upstream_env up 1 'j["auth_user"]')" "user authenticated upstream"
conn=$(upstream_conn_of up 1)
assert_match '^CONNECT EHLO AUTH AUTH-OK MAIL RCPT DATA ACCEPT' \
    "$(upstream_conn_events up "$conn")" "upstream session"
assert_grep "^conn=$conn AUTH CRAM-MD5$" "$(upstream_log up)" "AUTH mechanism"
pass
