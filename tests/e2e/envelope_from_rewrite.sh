#!/bin/bash
# envelope_from_rewrite: an ISP relay that takes only its own customers'
# senders.  The profile's envelope-from replaces the sender the upstream
# sees, on the online path and from the queue; the message itself (its
# From: header) is untouched, and the queue keeps the real sender.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
write_profile isp <<EOF
[match]
default = true

[upstream]
host = 127.0.0.1
port = $up
tls = none
envelope-from = alice@isp.example
EOF
start_daemon
start_upstream up "$up"

step "online: the upstream sees the ISP address as the sender"
make_message "$T/a.eml" "via the isp"
smtplib send --from alice@home.example --to bob@example.net "$T/a.eml"
client_ok
wait_upstream_count up 1
assert_eq alice@isp.example "$(upstream_env up 1 'j["mail_from"]')" "sender upstream"
assert_same_bytes "$T/a.eml" "$(upstream_eml up 1)" "message"

step "queued: the same rewrite when it leaves the queue"
stop_upstream up
make_message "$T/b.eml" "queued via the isp"
smtplib send --from alice@home.example --to bob@example.net "$T/b.eml"
client_ok
id=$(queued_id)
assert_eq alice@home.example "$(queue_field "$id" from)" "the queue keeps the real sender"
start_upstream later "$up"
ctl_ok flush
wait_upstream_count later 1
assert_eq alice@isp.example "$(upstream_env later 1 'j["mail_from"]')" "sender upstream"
assert_same_bytes "$T/b.eml" "$(upstream_eml later 1)" "message"
pass
