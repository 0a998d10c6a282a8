#!/bin/bash
# reload_keeps_old_on_error: a profile set that does not load is refused
# and the running one kept, whether the reload comes from "roamsmtpctl
# reload" (which exits 1 and names file:line) or from SIGHUP (which says so
# in the log); mail keeps going to the old upstream.  A good reload takes
# effect at once without dropping a client that is mid-transaction: MAIL
# and RCPT before the reload, DATA after it, and that message is delivered
# where its transaction began; the next message goes by the new profile.
. "$(dirname "$0")/../lib/common.sh"

status() {	# EXPR: a field of roamsmtpctl --json status
	ctl --json status 2>> "$T/ctl.err" | json "$1"
}

_status_is() {	# EXPR VALUE
	[ "$(status "$1" 2>/dev/null)" = "$2" ]
}

wait_status() {	# EXPR VALUE
	wait_for "status $1 = $2" _status_is "$1" "$2"
}

send() {	# SUBJECT
	make_message "$T/$1.eml" "$1"
	smtplib send --from alice@example.org --to bob@example.net "$T/$1.eml"
	client_ok
}

counts() {	# A B C
	assert_eq "$1 $2 $3" "$(upstream_count a) $(upstream_count b) \
$(upstream_count c)" "messages at upstreams a, b, c"
}

port_of() {	# NAME: an upstream's port, from its READY line
	awk '/^READY / { print $2 }' "$T/up-$1/stdout"
}

# main_profile PORT [LINE...]: profiles/main.conf, the default profile, on
# 127.0.0.1:PORT; extra [upstream] lines from line 8 on.
main_profile() {
	local port=$1
	shift
	printf '%s\n' '[match]' 'default = true' '' '[upstream]' \
	    'host = 127.0.0.1' "port = $port" 'tls = none' "$@" |
	    write_profile main
}

reloads_refused() {
	grep -c 'reload refused' "$DAEMON_LOG" || true
}

_reloads_refused_are() {	# N
	[ "$(reloads_refused)" = "$1" ]
}

for name in a b c; do
	start_upstream "$name" "$(free_port)"
done
PORT_A=$(port_of a) PORT_B=$(port_of b) PORT_C=$(port_of c)
main_profile "$PORT_A"
write_conf "network-backend = none"
start_daemon
wait_status 'j["profile"]["name"]' main
assert_eq "127.0.0.1:$PORT_A" "$(status 'j["profile"]["upstream"]')" "upstream at start"

step "roamsmtpctl reload with a bad value: refused, file:line named"
main_profile "$PORT_B" 'tls = sometimes'
rc=0
ctl reload > "$T/reload-1.out" 2> "$T/reload-1.err" || rc=$?
assert_eq 1 "$rc" "exit status of a refused reload"
assert_grep "$PROFILES/main\.conf:8: \[upstream\] tls:" "$T/reload-1.err" \
    "the refusal names file:line, group and key"
assert_grep 'kept' "$T/reload-1.err" "the refusal says the old set is kept"
rc=0
ctl --json reload > "$T/reload-1.json" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of a refused reload (--json)"
assert_eq false "$(json 'j["ok"]' < "$T/reload-1.json")" "reload's ok"
assert_match 'main\.conf:8: \[upstream\] tls:' \
    "$(json 'j["error"]' < "$T/reload-1.json")" "reload's error"
assert_eq "127.0.0.1:$PORT_A" "$(status 'j["profile"]["upstream"]')" \
    "upstream after a refused reload"
send "after a refused reload"
wait_upstream_count a 1
assert_same_bytes "$T/after a refused reload.eml" "$(upstream_eml a 1)" \
    "message at the old upstream"
counts 1 0 0

step "SIGHUP with a fallback that names no profile: refused, logged"
main_profile "$PORT_B" 'auth = none' 'fallback = nosuch'
n=$(reloads_refused)
kill -HUP "$DAEMON_PID"
wait_for "a refused reload in the log" _reloads_refused_are $((n + 1))
refused=$((n + 1))
assert_grep "reload refused: .*$PROFILES/main\.conf:9: \[upstream\] fallback:.*nosuch" \
    "$DAEMON_LOG" "the log names file:line, group and key"
kill -0 "$DAEMON_PID" || fail "roamsmtpd died on SIGHUP"
assert_eq "127.0.0.1:$PORT_A" "$(status 'j["profile"]["upstream"]')" \
    "upstream after a refused SIGHUP"
assert_eq null "$(ctl --json profiles | json 'j["profiles"][0]["fallback"]')" \
    "the old profile's fallback"
send "after a refused SIGHUP"
wait_upstream_count a 2
assert_same_bytes "$T/after a refused SIGHUP.eml" "$(upstream_eml a 2)" \
    "message at the old upstream"
counts 2 0 0

step "a good reload while a client is between RCPT and DATA"
make_message "$T/in flight.eml" "in flight"
cat > "$T/midtx.py" <<'PYEOF'
# EHLO, MAIL, RCPT; then "ready" and wait for "go" (a deadline against a
# hang, not a measurement); then DATA and QUIT.  Exit 0 when DATA got 2xx.
import os, smtplib, sys, time
port, path, ready, go = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60)
print("EHLO", *s.ehlo(), flush=True)
print("MAIL", *s.mail("alice@example.org"), flush=True)
print("RCPT", *s.rcpt("bob@example.net"), flush=True)
open(ready, "w").close()
end = time.monotonic() + 60
while not os.path.exists(go):
    if time.monotonic() > end:
        sys.exit("no go within 60s")
    time.sleep(0.05)
try:
    code, text = s.data(open(path, "rb").read())
except smtplib.SMTPDataError as e:
    code, text = e.smtp_code, e.smtp_error
print("DATA", code, text, flush=True)
print("QUIT", *s.quit(), flush=True)
sys.exit(0 if code // 100 == 2 else 1)
PYEOF
"$PY" "$T/midtx.py" "$DAEMON_PORT" "$T/in flight.eml" "$T/midtx.ready" \
    "$T/midtx.go" > "$T/midtx.out" 2>&1 &
MIDTX_PID=$!
PIDS+=("$MIDTX_PID")
wait_for "the client between RCPT and DATA" test -e "$T/midtx.ready"
assert_grep '^RCPT 250' "$T/midtx.out" "the client's RCPT"
main_profile "$PORT_B" 'auth = none'
ctl_ok reload
assert_eq 1 "$(json 'j["profiles"]' < "$T/ctl-reload.out")" "profiles reloaded"
assert_eq "127.0.0.1:$PORT_B" "$(status 'j["profile"]["upstream"]')" \
    "upstream after a good reload"
touch "$T/midtx.go"
rc=0
wait "$MIDTX_PID" || rc=$?
CLIENT_OUT=$T/midtx.out
assert_eq 0 "$rc" "the mid-transaction client's exit status"
assert_grep '^DATA 250' "$T/midtx.out" "DATA after the reload"
wait_upstream_count a 3
assert_same_bytes "$T/in flight.eml" "$(upstream_eml a 3)" \
    "the message in flight, where its transaction began"
counts 3 0 0

step "the next message goes by the reloaded profile"
send "after a good reload"
wait_upstream_count b 1
assert_same_bytes "$T/after a good reload.eml" "$(upstream_eml b 1)" \
    "message at the new upstream"
counts 3 1 0

step "a good reload by SIGHUP"
main_profile "$PORT_C" 'auth = none'
kill -HUP "$DAEMON_PID"
wait_status 'j["profile"]["upstream"]' "127.0.0.1:$PORT_C"
send "after a good SIGHUP"
wait_upstream_count c 1
assert_same_bytes "$T/after a good SIGHUP.eml" "$(upstream_eml c 1)" \
    "message at the upstream of the SIGHUP"
counts 3 1 1
assert_eq "$refused" "$(reloads_refused)" "refused reloads in the log"
pass
