#!/bin/bash
# auth_oauthbearer: an upstream that takes AUTH OAUTHBEARER (RFC 7628) after
# STARTTLS and offers PLAIN too; the profile asks for oauthbearer.  The
# token-command's first token is refused the RFC 7628 way (334 with
# {"status":"invalid_token"}; the daemon answers %x01, the upstream says
# 535); the daemon runs token-command again and logs in on the same
# connection, naming the upstream's host and port in the message as the
# RFC asks.  Delivered online, byte for byte; no token in the log.
. "$(dirname "$0")/../lib/common.sh"

make_certs "$T/certs"
up=$(free_port)
good=eyJhbGciOiJSUzI1NiJ9.good.sig
start_upstream up "$up" --host localhost \
    --starttls "$T/certs/server.crt" "$T/certs/server.key" --auth-require-tls \
    --auth-mechs OAUTHBEARER,PLAIN --auth "alice@example.org:$good"
cat > "$T/token.sh" <<EOC
#!/bin/sh
n=\$(cat "$T/token.count" 2>/dev/null || echo 0)
n=\$((n + 1))
echo "\$n" > "$T/token.count"
if [ "\$n" -eq 1 ]; then echo stale-token; else echo "$good"; fi
EOC
chmod +x "$T/token.sh"
write_profile m365 <<EOC
[match]
default = true

[upstream]
host = localhost
port = $up
tls = starttls
auth = oauthbearer
user = alice@example.org
token-command = $T/token.sh
ca-file = $T/certs/ca.crt
EOC
start_daemon

step "curl sends one message"
make_message "$T/msg.eml" "oauthbearer"
curl_send "$T/msg.eml" alice@example.org bob@example.net
client_ok
assert_grep '^< 250 2\.0\.0 Ok: accepted by upstream as 0001' "$CLIENT_OUT" \
    "curl got the upstream's final reply"

step "the upstream got it after AUTH OAUTHBEARER with the fresh token"
assert_same_bytes "$T/msg.eml" "$(upstream_eml up 1)" "relayed message"
assert_eq alice@example.org "$(upstream_env up 1 'j["auth_user"]')" "user authenticated upstream"
conn=$(upstream_conn_of up 1)
assert_match '^CONNECT EHLO STARTTLS TLS EHLO AUTH AUTH-FAIL AUTH AUTH-OK MAIL RCPT DATA ACCEPT' \
    "$(upstream_conn_events up "$conn")" "one session: refused, refreshed, accepted"
assert_eq 2 "$(grep -c "^conn=$conn AUTH OAUTHBEARER$" "$(upstream_log up)")" \
    "AUTH OAUTHBEARER attempts (never PLAIN)"
# no bad-dummy-response: the daemon answered the error with %x01
assert_grep "^conn=$conn AUTH-FAIL OAUTHBEARER user=alice@example\.org status=invalid_token$" \
    "$(upstream_log up)" "the stale token's refusal"
assert_grep "^conn=$conn AUTH-OK OAUTHBEARER user=alice@example\.org host=localhost port=$up$" \
    "$(upstream_log up)" "host and port in the OAUTHBEARER message"
assert_eq 2 "$(cat "$T/token.count")" "token-command runs"
assert_no_grep 'stale-token|good\.sig' "$DAEMON_LOG" "token in the daemon log"
pass
