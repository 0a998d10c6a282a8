#!/bin/bash
# other_user_refused: the daemon serves only its own user.  A client run as
# "nobody" gets a 554 5.7.1 greeting that says why, and the connection
# closes; nothing reaches the upstream.  The daemon's own user (root here)
# still gets through.
. "$(dirname "$0")/../lib/common.sh"

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

up=$(free_port)
start_upstream up "$up"
plain_profile home "$up"
start_daemon
make_message "$T/msg.eml" "other user"

step "nobody connects: 554 5.7.1 greeting, then the connection closes"
# The script comes on standard input: the test folder is not nobody's.
run_client greet-nobody as_nobody "$PY" - greet --port "$DAEMON_PORT" \
    < "$LIB/submit.py"
assert_grep '^GREETING 554 5\.7\.1 .*[[:alpha:]]{3}' "$CLIENT_OUT" "greeting"
assert_eq EOF "$(tail -n 1 "$CLIENT_OUT")" "end of the connection"
assert_eq 1 "$(grep -c '^GREETING' "$CLIENT_OUT")" "replies from the daemon"

step "nobody with swaks: refused"
run_client swaks-nobody as_nobody swaks --server 127.0.0.1 --port "$DAEMON_PORT" \
    --from alice@example.org --to bob@example.net --data - < "$T/msg.eml"
[ "$CLIENT_RC" -ne 0 ] || fail "swaks as nobody succeeded"
assert_grep '^<\*\* +554 5\.7\.1 ' "$CLIENT_OUT" "swaks saw the 554 greeting"
assert_no_grep '^ -> MAIL' "$CLIENT_OUT" "swaks got as far as MAIL"

step "nothing reached the upstream; root still gets through"
assert_eq 0 "$(upstream_count up)" "messages at the upstream"
smtplib send --from alice@example.org --to bob@example.net "$T/msg.eml"
client_ok
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "root's message"
pass
