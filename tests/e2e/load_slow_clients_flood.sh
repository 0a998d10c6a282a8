#!/bin/bash
# load_slow_clients_flood: while five clients dribble a transaction at a
# byte every 50 ms (bounded: about five seconds), others are served at once;
# then a flood of 2000 connections (most hang up at once, 400 say
# nothing and sit there) and, in the middle of it, a normal message still goes
# through.  The slow clients' messages arrive intact, the silent ones are
# let go, and the daemon's descriptors return to what they were.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
start_upstream up "$up"
plain_profile home "$up"
write_conf "max-sessions = 500"
start_daemon
fds_before=$(ls "/proc/$DAEMON_PID/fd" | wc -l)

cat > "$T/slow.py" <<'PYEOF'
import socket, sys, time
port, i = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=60)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if not l or l[3:4] != b"-":
            return l.decode().strip()
reply()
# Every command and the message, one byte at a time; replies read as they
# come (they do not interleave: each command is whole before its reply).
script = [b"EHLO slow.test\r\n", b"MAIL FROM:<slow@test>\r\n",
          b"RCPT TO:<sink@test>\r\n", b"DATA\r\n",
          f"Subject: slow {i}\r\n\r\nslow body {i}\r\n.\r\n".encode(),
          b"QUIT\r\n"]
for cmd in script:
    for b in cmd:
        s.sendall(bytes([b]))
        time.sleep(0.05)
    print(reply(), flush=True)
PYEOF

step "five slow clients, and meanwhile normal ones are served"
for i in 1 2 3 4 5; do
	"$PY" "$T/slow.py" "$DAEMON_PORT" "$i" > "$T/slow$i.out" 2>&1 &
	slow[$i]=$!
done
for i in 1 2 3; do
	make_message "$T/fast$i.eml" "fast $i"
	smtplib send --from alice@example.org --to bob@example.net "$T/fast$i.eml"
	client_ok
	assert_grep '^DATA 250 ' "$CLIENT_OUT" "fast client $i"
	# The slow ones are still at it: the daemon did not wait for them.
	kill -0 "${slow[1]}" 2>/dev/null || fail "slow client 1 already done"
done
for i in 1 2 3 4 5; do
	wait "${slow[$i]}" || { cat "$T/slow$i.out"; fail "slow client $i failed"; }
	assert_grep '^250 2\.0\.0 Ok: accepted by upstream' "$T/slow$i.out" \
	    "slow client $i's message"
done
wait_upstream_count up 8

step "a flood of 2000 connections, a message in the middle of it"
cat > "$T/flood.py" <<'PYEOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
held, refused = [], 0
for i in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        refused += 1
        continue
    if i % 5:
        s.close()		# connect and hang up at once
    else:
        held.append(s)		# connect and say nothing (400: under
				# max-sessions, so the test message fits)
    if i == n // 2:
        print("HALF", flush=True)
        sys.stdin.readline()	# the test sends a message now
print(f"FLOOD held={len(held)} refused={refused}", flush=True)
sys.stdin.readline()
PYEOF
coproc FLOOD { bash -c 'ulimit -n 4096; exec "$0" "$@"' "$PY" "$T/flood.py" "$DAEMON_PORT" 2000; }
read -r -u "${FLOOD[0]}" line
assert_eq HALF "$line" "flood half way"
make_message "$T/mid.eml" "in the flood"
smtplib send --from alice@example.org --to bob@example.net "$T/mid.eml"
client_ok
assert_grep '^DATA 250 ' "$CLIENT_OUT" "a message in the middle of the flood"
echo >&"${FLOOD[1]}"
read -r -u "${FLOOD[0]}" line
printf '   %s\n' "$line"
ctl_ok status
echo >&"${FLOOD[1]}"
wait "$FLOOD_PID" || true

step "descriptors back to where they were"
_fds_back() {
	[ "$(ls "/proc/$DAEMON_PID/fd" | wc -l)" -le "$fds_before" ]
}
wait_for "descriptors back to $fds_before" _fds_back
wait_upstream_count up 9
assert_same_bytes "$T/mid.eml" "$(upstream_eml up 9)" "the message in the flood"
printf 'FIGURES load_flood slow_clients=5 connections=2000 fds_before=%s vmhwm_kb=%s\n' \
    "$fds_before" "$(daemon_vmhwm_kb)"
pass
