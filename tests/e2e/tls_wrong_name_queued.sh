#!/bin/bash
# tls_wrong_name_queued: the upstream's certificate is signed by the
# profile's CA but is for another host (wrong.example).  The message is
# queued (250 queued as ID), the upstream gets no AUTH, no MAIL and no
# message, and the queue says why, naming the certificate or the name.
. "$(dirname "$0")/../lib/common.sh"

make_certs "$T/certs"
up=$(free_port)
start_upstream up "$up" \
    --starttls "$T/certs/wrongname.crt" "$T/certs/wrongname.key" \
    --auth alice:Nm-pw-7 --auth-require-tls
write_secret "$T/home.pass" Nm-pw-7
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

step "the message is queued"
make_message "$T/msg.eml" "wrong name"
smtplib send --from alice@example.org --to bob@example.net "$T/msg.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: queued as [0-9a-f]{16}$' "$CLIENT_OUT" "reply"
id=$(queued_id)
assert_queue_files "$id"

step "another attempt fails the same way, and says why"
ctl_ok flush
wait_queue_error "$id"
assert_eq queued "$(queue_field "$id" state)" "state of $id (a TLS failure is temporary)"
err=$(queue_field "$id" last_error)
assert_match '[Cc]ertificate|[Hh]ost ?name|name mismatch' "$err" "last_error of $id"

step "the upstream got nothing past STARTTLS"
assert_eq 0 "$(upstream_count up)" "messages at the upstream"
assert_eq 0 "$(upstream_events up AUTH)" "AUTH commands at the upstream"
assert_eq 0 "$(upstream_events up MAIL)" "MAIL commands at the upstream"
assert_no_grep 'Nm-pw-7' "$DAEMON_LOG" "password in the daemon log"
pass
