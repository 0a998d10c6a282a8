#!/bin/bash
# relay_selfsigned_pinned: a self-signed upstream is trusted through the
# pin of its public key and nothing else.  With its pin the message is
# relayed byte for byte; with another key's pin it is queued and the
# upstream gets nothing.
. "$(dirname "$0")/../lib/common.sh"

make_certs "$T/certs"
up=$(free_port)
start_upstream up "$up" --starttls "$T/certs/selfsigned.crt" "$T/certs/selfsigned.key"
pinned_profile() {	# PIN
	write_profile self <<EOC
[match]
default = true

[upstream]
host = 127.0.0.1
port = $up
tls = starttls
auth = none
pin = $1
EOC
}

step "with the right pin the message is relayed"
pinned_profile "$(cert_pin "$T/certs/selfsigned.crt")"
start_daemon
make_message "$T/msg.eml" "self-signed pinned"
smtplib send --from alice@example.org --to bob@example.net "$T/msg.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: accepted by upstream as 0001$' "$CLIENT_OUT" \
    "smtplib got the upstream's final reply"
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "relayed message"
assert_grep "^conn=$(upstream_conn_of up 1) TLS starttls$" "$(upstream_log up)" \
    "upstream session encrypted"
stop_daemon

step "with another key's pin the message is queued, not sent"
pinned_profile "$(cert_pin "$T/certs/server.crt")"
start_daemon
make_message "$T/msg2.eml" "self-signed wrong pin"
smtplib send --from alice@example.org --to bob@example.net "$T/msg2.eml"
client_ok
id=$(queued_id)
assert_eq 1 "$(upstream_count up)" "messages at the upstream"
assert_eq queued "$(queue_field "$id" state)" "state of $id"
assert_eq 1 "$(upstream_events up MAIL)" "MAIL commands at the upstream"
pass
