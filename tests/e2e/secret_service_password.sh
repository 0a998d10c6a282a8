#!/bin/bash
# secret_service_password: the profile's password lives in the Secret
# Service (gnome-keyring on a private D-Bus session), found by the
# attributes of password-secret.  Before it is stored the message waits in
# the queue, and last_error names the attributes and the secret-tool
# command that stores it; once stored, a flush delivers it through an
# upstream that takes only that password, and the password appears nowhere
# in the daemon's log or the queue.  When the keyring's session bus goes
# away the daemon stays up and says it cannot reach the Secret Service;
# with a new session's bus it finds the keyring again.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/keyring.sh"

keyring_require
pw='K3yr1ng pass-w0rd'
up=$(free_port)
start_upstream up "$up" --auth alice:"$pw"
keyring_start keyring-unlock-pw
write_profile home <<EOC
[match]
default = true

[upstream]
host = 127.0.0.1
port = $up
tls = none
auth = plain
user = alice
password-secret = service=roamsmtp user=alice
allow-plaintext-auth = yes
EOC
# started after keyring_start: it talks to that bus
start_daemon

step "no such secret yet: queued, and the error says how to store it"
make_message "$T/msg.eml" "secret service"
smtplib send --from alice@example.org --to bob@example.net "$T/msg.eml"
client_ok
id=$(queued_id)
wait_queue_error "$id"
err=$(queue_field "$id" last_error)
case $err in
*"built without libsecret"*)
	printf 'SKIP %s: roamsmtpd built without libsecret (-DWITH_LIBSECRET)\n' \
	    "$TEST_NAME"
	exit 77 ;;
esac
assert_match 'has no password with service=roamsmtp user=alice' "$err" \
    "last_error of $id"
assert_match "secret-tool store --label='roamsmtp home' service roamsmtp user alice" \
    "$err" "last_error of $id (the command that fixes it)"
assert_eq 0 "$(upstream_events up AUTH)" "AUTH commands before the secret exists"

step "stored with secret-tool, the queued message leaves"
keyring_store "roamsmtp home" "$pw" service roamsmtp user alice
assert_eq "$pw" "$(keyring_lookup service roamsmtp user alice)" "secret-tool lookup"
ctl_ok flush
wait_upstream_count up 1
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "relayed message"
assert_eq alice "$(upstream_env up 1 'j["auth_user"]')" "user authenticated upstream"
assert_grep '^conn=[0-9]+ AUTH-OK PLAIN user=alice$' "$(upstream_log up)" "AUTH at the upstream"
wait_queue_count 0

step "the session's keyring goes away: an error, and the daemon stays"
# A password the upstream no longer takes is asked for again; by then the
# bus is gone.  GIO would end the process with the bus (exit-on-close).
keyring_stop
stop_upstream up
wait_for "the end of the idle session" grep -q 'idle session ended' "$DAEMON_LOG"
start_upstream up "$up" --auth alice:changed-on-the-server
make_message "$T/msg2.eml" "secret service gone"
smtplib send --from alice@example.org --to bob@example.net "$T/msg2.eml"
client_ok
id=$(queued_id)
wait_queue_error "$id"
assert_match 'refused the login of alice: 535' "$(queue_field "$id" last_error)" \
    "last_error of $id (the old password)"
ctl_ok flush
wait_for "the Secret Service error on $id" eval \
    '[[ $(queue_field "$id" last_error) == *"cannot ask the Secret Service for service=roamsmtp user=alice"* ]]'
kill -0 "$DAEMON_PID" || fail "roamsmtpd ended with the session bus"
assert_eq 1 "$(upstream_count up)" "messages at the upstream"

step "a new session's keyring, the new password: the daemon reconnects"
keyring_start keyring-unlock-pw
keyring_store "roamsmtp home" changed-on-the-server service roamsmtp user alice
ctl_ok flush
wait_upstream_count up 2
assert_same_bytes "$T/msg2.eml" "$(upstream_eml up 2)" "second message"
wait_queue_count 0

step "the password was never logged"
queue_json > "$T/queue.json"
assert_no_grep 'K3yr1ng' "$DAEMON_LOG" "password in the daemon log"
assert_no_grep 'K3yr1ng' "$T/queue.json" "password in the queue listing"
pass
