#!/bin/bash
# auth_xoauth2_token_refresh: an upstream that takes AUTH XOAUTH2 (Gmail's
# format) after STARTTLS, and one bearer token.  The profile's
# token-command first prints an expired token: the upstream answers with
# Gmail's JSON error (status 401), the daemon sends the empty response, gets
# the 535, runs token-command once more and logs in with the fresh token on
# the same connection; the message is delivered online.  The fresh token is
# kept: the next connection logs in with it at once.  When the upstream
# refuses the fresh token too, the message waits in the queue with the
# upstream's 535 in last_error.  No token appears in the daemon's log.
. "$(dirname "$0")/../lib/common.sh"

make_certs "$T/certs"
up=$(free_port)
good=ya29.a0AfH6SMB-good-token
upstream_args=(--host localhost --starttls "$T/certs/server.crt"
    "$T/certs/server.key" --auth-require-tls --auth-mechs XOAUTH2,PLAIN)
start_upstream up "$up" "${upstream_args[@]}" --auth "alice@example.org:$good"

# The token source: an expired token on its first run, then a good one
# (or, once $T/revoked exists, a token the upstream no longer takes).
cat > "$T/token.sh" <<EOC
#!/bin/sh
n=\$(cat "$T/token.count" 2>/dev/null || echo 0)
n=\$((n + 1))
echo "\$n" > "$T/token.count"
if [ -e "$T/revoked" ]; then echo ya29.revoked-token
elif [ "\$n" -eq 1 ]; then echo ya29.expired-token
else echo "$good"; fi
EOC
chmod +x "$T/token.sh"
write_profile gmail <<EOC
[match]
default = true

[upstream]
host = localhost
port = $up
tls = starttls
auth = xoauth2
user = alice@example.org
token-command = $T/token.sh
ca-file = $T/certs/ca.crt
EOC
start_daemon

step "the first token is expired: one refresh, then delivered online"
make_message "$T/msg1.eml" "xoauth2 refresh"
smtplib send --from alice@example.org --to bob@example.net "$T/msg1.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: accepted by upstream as 0001$' "$CLIENT_OUT" \
    "the client got the upstream's final reply"
assert_same_bytes "$T/msg1.eml" "$(upstream_eml up 1)" "relayed message"
assert_eq alice@example.org "$(upstream_env up 1 'j["auth_user"]')" "user authenticated upstream"
assert_eq 2 "$(cat "$T/token.count")" "token-command runs"
conn=$(upstream_conn_of up 1)
assert_match '^CONNECT EHLO STARTTLS TLS EHLO AUTH AUTH-FAIL AUTH AUTH-OK MAIL RCPT DATA ACCEPT' \
    "$(upstream_conn_events up "$conn")" "one session: refused, refreshed, accepted"
assert_eq 2 "$(grep -c "^conn=$conn AUTH XOAUTH2$" "$(upstream_log up)")" "AUTH XOAUTH2 attempts"
# status=401 and no bad-dummy-response: the daemon answered the JSON error
# with the empty line Gmail expects.
assert_grep "^conn=$conn AUTH-FAIL XOAUTH2 user=alice@example.org status=401$" \
    "$(upstream_log up)" "the expired token's refusal"
assert_grep 'token refused \(status 401\): 535 5\.7\.8 .*asking for a fresh one' \
    "$DAEMON_LOG" "the refresh in the daemon's log"

step "a new connection logs in with the fresh token at once"
# Restarting the upstream ends the idle session the daemon keeps.
stop_upstream up
wait_for "the end of the idle session" grep -q 'idle session ended' "$DAEMON_LOG"
start_upstream up "$up" "${upstream_args[@]}" --auth "alice@example.org:$good"
make_message "$T/msg2.eml" "xoauth2 cached"
smtplib send --from alice@example.org --to bob@example.net "$T/msg2.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: accepted by upstream as 0002$' "$CLIENT_OUT" "reply"
assert_same_bytes "$T/msg2.eml" "$(upstream_eml up 2)" "second message"
conn=$(upstream_conn_of up 2)
assert_match '^CONNECT EHLO STARTTLS TLS EHLO AUTH AUTH-OK MAIL' \
    "$(upstream_conn_events up "$conn")" "second session"
assert_eq 2 "$(cat "$T/token.count")" "token-command runs (the fresh token was kept)"

step "the fresh token refused too: queued, with the upstream's 535"
stop_upstream up
wait_for "the end of the second idle session" \
    test "$(grep -c 'idle session ended' "$DAEMON_LOG")" -ge 2
touch "$T/revoked"
start_upstream up "$up" "${upstream_args[@]}" --auth "alice@example.org:ya29.rotated"
make_message "$T/msg3.eml" "xoauth2 revoked"
smtplib send --from alice@example.org --to bob@example.net "$T/msg3.eml"
client_ok
id=$(queued_id)
wait_queue_error "$id"
err=$(queue_field "$id" last_error)
assert_match 'refused the xoauth2 token of alice@example\.org \(status 401\), and the fresh one too: 535 5\.7\.8' \
    "$err" "last_error of $id"
assert_eq queued "$(queue_field "$id" state)" "state of $id"
assert_eq 3 "$(cat "$T/token.count")" "token-command runs (one refresh a session)"
assert_eq 2 "$(upstream_count up)" "messages at the upstream"

step "no token was logged"
for tok in "$good" ya29.expired-token ya29.revoked-token; do
	assert_no_grep "$tok" "$DAEMON_LOG" "token in the daemon log"
done
pass
