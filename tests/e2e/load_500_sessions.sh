#!/bin/bash
# load_500_sessions: 500 clients connect at once and hold their sessions
# (max-sessions is 500): each is greeted and says EHLO; the 501st is
# refused with a 421 that says why; the control socket still answers.
# Then all 500 send a message at the same time through the upstream (500
# upstream sessions at once) and every one gets a 250 and reaches it.  When
# they hang up the daemon's descriptors return to what they were, and its
# peak memory stays bounded.
. "$(dirname "$0")/../lib/common.sh"

SESSIONS=${SESSIONS:-500}
# Peak RSS allowed: a session costs a few KiB plus its buffers.
RSS_MAX_KB=$((96 * 1024))
# ASan's quarantine would count as the daemon's memory (see
# large_message_30mb.sh); other builds ignore this.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1

# The recording upstream of hostile_upstream.py (aiosmtpd, as upstream.py)
# for its deep listen backlog: 500 connections at once must not overflow
# the upstream's accept queue (that would be another test: never answers).
up=$(free_port)
mkdir -p "$T/up-up"
"$PY" "$LIB/hostile_upstream.py" --mode record --port "$up" \
    --outdir "$T/up-up/msgs" --log "$T/up-up/log" > "$T/up-up/stdout" \
    2>> "$T/up-up/stderr" &
PIDS+=($!)
UPSTREAMS+=(up)
wait_for "READY from the upstream" _upstream_ready up "$!"
plain_profile home "$up"
write_conf "max-sessions = $SESSIONS"
start_daemon
fds_before=$(ls "/proc/$DAEMON_PID/fd" | wc -l)

cat > "$T/many.py" <<'EOF'
import asyncio, subprocess, sys
port, n, ctl = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]

async def reply(r):
    while True:
        line = await r.readline()
        if not line:
            return "EOF"
        if line[3:4] != b"-":
            return line.decode().strip()

async def session(i, held, go):
    r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    g = await reply(r)
    assert g.startswith("220"), f"session {i} greeting: {g}"
    w.write(b"EHLO load.test\r\n")
    assert (await reply(r)).startswith("250")
    held.append(i)
    await go.wait()
    w.write(f"MAIL FROM:<load{i}@test>\r\nRCPT TO:<sink@test>\r\nDATA\r\n"
            .encode())
    for what in ("MAIL", "RCPT", "DATA"):
        x = await reply(r)
        assert x[:1] in "23", f"session {i} {what}: {x}"
    w.write(f"Subject: load {i}\r\nMessage-ID: <load{i}@test>\r\n\r\n"
            f"message {i}\r\n.\r\n".encode())
    x = await reply(r)
    w.write(b"QUIT\r\n")
    await reply(r)
    w.close()
    return x

async def main():
    held, go = [], asyncio.Event()
    tasks = [asyncio.create_task(session(i, held, go)) for i in range(n)]
    while len(held) < n:
        await asyncio.sleep(0.05)
        for t in tasks:
            if t.done() and t.exception():
                raise t.exception()
    print(f"HELD {len(held)}", flush=True)
    # One more: refused, and says why.
    r, w = await asyncio.open_connection("127.0.0.1", port)
    print(f"EXTRA {await reply(r)}", flush=True)
    w.close()
    # The daemon still answers its control socket with all sessions held.
    ok = subprocess.run(ctl + ["status"], capture_output=True).returncode
    print(f"CONTROL {ok}", flush=True)
    go.set()
    res = await asyncio.gather(*tasks)
    good = sum(x.startswith("250") for x in res)
    print(f"SENT {good}", flush=True)
    for x in res:
        if not x.startswith("250"):
            print(f"BAD {x}", flush=True)

asyncio.run(main())
EOF

step "$SESSIONS sessions held at once, the next one refused"
run_client many bash -c 'ulimit -n 4096; exec "$@"' many "$PY" "$T/many.py" \
    "$DAEMON_PORT" "$SESSIONS" "$ROAMSMTPCTL" -c "$CONF"
client_ok
assert_grep "^HELD $SESSIONS\$" "$CLIENT_OUT" "sessions held"
assert_grep '^EXTRA 421 .*([Tt]oo many|max-sessions)' "$CLIENT_OUT" \
    "the session past the limit"
assert_grep '^CONTROL 0$' "$CLIENT_OUT" "roamsmtpctl status under load"

step "all $SESSIONS send at once: each gets its 250 and reaches the upstream"
assert_grep "^SENT $SESSIONS\$" "$CLIENT_OUT" "messages accepted"
wait_upstream_count up "$SESSIONS"
assert_eq 0 "$(queue_count)" "messages left in the queue"

step "descriptors back to where they were, memory bounded"
_fds_back() {
	[ "$(ls "/proc/$DAEMON_PID/fd" | wc -l)" -le "$fds_before" ]
}
# Idle upstream sessions are kept a few seconds for reuse, then closed.
wait_for "descriptors back to $fds_before" _fds_back
hwm=$(daemon_vmhwm_kb)
[ "$hwm" -le "$RSS_MAX_KB" ] || fail "peak RSS ${hwm} KiB over ${RSS_MAX_KB} KiB"
printf 'FIGURES load_sessions held=%s sent=%s vmhwm_kb=%s fds_before=%s\n' \
    "$SESSIONS" "$SESSIONS" "$hwm" "$fds_before"
pass
