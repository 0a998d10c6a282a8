#!/bin/bash
# load_garbage_never_reads: a client that pipelines 1 MB of garbage gets
# errors and is cut off (421 after ten errors); a client that writes
# commands and never reads a reply must not make the daemon pile replies
# up without bound (its peak memory stays bounded) — it writes up to 8 MB
# of EHLO lines and stops when the daemon stops reading it.  Meanwhile
# another client is served, and when both are gone the daemon's
# descriptors return to what they were.
. "$(dirname "$0")/../lib/common.sh"

RSS_MAX_KB=$((48 * 1024))
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1

up=$(free_port)
start_upstream up "$up"
plain_profile home "$up"
start_daemon
fds_before=$(ls "/proc/$DAEMON_PID/fd" | wc -l)

step "pipelined garbage: errors, then cut off"
"$PY" - "$DAEMON_PORT" > "$T/garbage.out" <<'PYEOF'
import os, random, socket, sys
rng = random.Random(7)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
junk = bytearray()
while len(junk) < 1 << 20:
    junk += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    junk += rng.choice([b"\r\n", b"\n", b"\r", b""])
try:
    s.sendall(b"EHLO garbage.test\r\n" + bytes(junk))
except OSError as e:
    print(f"SEND {type(e).__name__}")
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except OSError as e:
    print(f"RECV {type(e).__name__}")
for l in data.split(b"\r\n"):
    if l:
        print(l[:60].decode("ascii", "replace"))
PYEOF
assert_grep '^421 ' "$T/garbage.out" "the end of a garbage session"
[ "$(grep -c '^5[0-9][0-9] ' "$T/garbage.out")" -le 10 ] ||
    fail "more than ten errors answered before the 421"

step "a client that never reads"
"$PY" - "$DAEMON_PORT" > "$T/noread.out" <<'PYEOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(2)
chunk, sent = b"EHLO noread.test\r\n" * 4096, 0
try:
    while sent < 8 << 20:
        sent += s.send(chunk)
except socket.timeout:
    print(f"BLOCKED after {sent} bytes", flush=True)
except OSError as e:
    print(f"{type(e).__name__} after {sent} bytes", flush=True)
else:
    print(f"SENT {sent} bytes", flush=True)
time.sleep(3600)	# hold the connection until killed
PYEOF
noread=$!
PIDS+=("$noread")
_noread_done() {
	grep -q . "$T/noread.out"
}
wait_for "the non-reader to stop writing" _noread_done
cat "$T/noread.out"
rss_noread=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")

step "meanwhile another client is served"
make_message "$T/other.eml" "while one never reads"
smtplib send --from alice@example.org --to bob@example.net "$T/other.eml"
client_ok
assert_grep '^DATA 250 ' "$CLIENT_OUT" "the other client's message"
wait_upstream_count up 1

step "both gone: descriptors back, memory bounded"
_stop_pid "$noread"
_fds_back() {
	[ "$(ls "/proc/$DAEMON_PID/fd" | wc -l)" -le "$fds_before" ]
}
wait_for "descriptors back to $fds_before" _fds_back
hwm=$(daemon_vmhwm_kb)
printf '   VmRSS %s kB with the non-reader connected, VmHWM %s kB (bound %s kB)\n' \
    "$rss_noread" "$hwm" "$RSS_MAX_KB"
printf 'FIGURES load_garbage garbage_bytes=1048576 vmhwm_kb=%s\n' "$hwm"
# A client that never reads must not make its replies pile up: the
# daemon stops reading its commands past a bound.
[ "$hwm" -le "$RSS_MAX_KB" ] || fail "peak RSS ${hwm} KiB over ${RSS_MAX_KB} KiB"
pass
