#!/bin/bash
# crash_kill9_stream: a stream of messages, on the online path (upstream up,
# slow to answer the end of DATA) and the offline path (upstream down, so
# every message is committed to the queue), with the daemon killed by
# SIGKILL again and again at points a seeded PRNG picks:
#   after-ack   right after the client got its Nth 250
#   mid-data    after K bytes of a message's DATA
#   after-dot   0-20 ms after the client sent the final dot (the daemon is
#               writing and fsyncing the queue, or waiting on the upstream)
#   clock       at a random moment, from outside
#   flush       0-400 ms after a restart with a full queue and the upstream
#               back (mid-delivery of the queue)
# and restarted each time.  At the end every message that got a 250 must
# have reached the upstream at least once, intact (its body's SHA-256 is in
# a header); duplicates are counted and printed (a kill between the
# upstream's 250 and ours makes one; that is the price of "at least once").
#
# SEED=N reruns the same sequence of kill points; CRASH_SECONDS (default
# 40) bounds the stream.  The last line before PASS is the figures line
# that bench/reliability.sh reads.
. "$(dirname "$0")/../lib/common.sh"

SEED=${SEED:-1414}
CRASH_SECONDS=${CRASH_SECONDS:-40}
RANDOM=$SEED
printf 'seed %s, %s seconds of kills\n' "$SEED" "$CRASH_SECONDS"

cat > "$T/stream_client.py" <<'EOF'
"""A client that sends numbered messages and records every 250 it gets;
it may SIGKILL the daemon itself at a precise point of the dialogue."""
import argparse, hashlib, os, random, signal, socket, sys, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int)
p.add_argument("--prefix")
p.add_argument("--count", type=int)
p.add_argument("--acks")
p.add_argument("--pid", type=int)
p.add_argument("--plan", default="none")
p.add_argument("--seed", type=int)
o = p.parse_args()
rnd = random.Random(o.seed)
kind, *args = o.plan.split(":")
args = [int(a) for a in args]
acks = open(o.acks, "a", buffering=1)
nacks = 0


def kill():
    try:
        os.kill(o.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    sys.exit(0)


def message(i):
    msgid = f"<{o.prefix}.{i}@crash.test>"
    size = rnd.choice([200, 3000, 40000, 70000, 150000])
    line = (f"{msgid} " * 4)[:70]
    body = b"".join(f"{n:06d} {line}\r\n".encode()
                    for n in range(size // 80 + 1))
    head = (f"From: crash@test\r\nTo: sink@test\r\nSubject: crash {i}\r\n"
            f"Message-ID: {msgid}\r\n"
            f"X-Body-SHA256: {hashlib.sha256(body).hexdigest()}\r\n\r\n")
    return msgid, head.encode() + body


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", o.port), timeout=60)
        self.f = self.s.makefile("rb")

    def reply(self):
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("closed")
            if line[3:4] != b"-":
                return line.decode(errors="replace").strip()

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.reply()


def run():
    global nacks
    i = 0
    while i < o.count:
        c = Conn()
        c.reply()
        c.cmd("EHLO stream.test")
        for _ in range(rnd.randint(1, 4)):
            if i >= o.count:
                break
            msgid, data = message(i)
            i += 1
            if not c.cmd("MAIL FROM:<crash@test>").startswith("250"):
                continue
            if not c.cmd("RCPT TO:<sink@test>").startswith("250"):
                c.cmd("RSET")
                continue
            if not c.cmd("DATA").startswith("354"):
                continue
            if kind == "mid-data" and args[0] == i:
                c.s.sendall(data[:args[1] % len(data)])
                time.sleep(0.01)
                kill()
            c.s.sendall(data + b".\r\n")
            if kind == "after-dot" and args[0] == i:
                time.sleep(args[1] / 1000.0)
                kill()
            r = c.reply()
            if r.startswith("250"):
                acks.write(f"ACK {msgid} {r}\n")
                nacks += 1
                if kind == "after-ack" and args[0] == nacks:
                    kill()
            else:
                acks.write(f"NACK {msgid} {r}\n")
        try:
            c.cmd("QUIT")
        except OSError:
            pass
        c.s.close()


try:
    run()
except (OSError, ConnectionError):
    pass
EOF

# A recording upstream (aiosmtpd) slow to answer the end of DATA.
up=$(free_port)
UP_DIR=$T/up-up
start_record() {
	local pid
	mkdir -p "$UP_DIR"
	: > "$UP_DIR/stdout"
	"$PY" "$LIB/hostile_upstream.py" --mode record --port "$up" \
	    --outdir "$UP_DIR/msgs" --log "$UP_DIR/log" --dot-delay 0:80 \
	    --seed "$RANDOM" > "$UP_DIR/stdout" 2>> "$UP_DIR/stderr" &
	pid=$!
	PIDS+=("$pid")
	UPSTREAM_PID_up=$pid
	case " ${UPSTREAMS[*]} " in *" up "*) ;; *) UPSTREAMS+=(up) ;; esac
	wait_for "READY from the upstream" _upstream_ready up "$pid"
	UP_RUNNING=1
}
stop_record() {
	_stop_pid "$UPSTREAM_PID_up"
	UP_RUNNING=0
}

daemon_dead() {
	! kill -0 "$DAEMON_PID" 2>/dev/null
}

# reap: the daemon was (or is now) killed; collect it.
reap() {
	kill -9 "$DAEMON_PID" 2>/dev/null || true
	# (bash's "Killed" notice for the job goes to the braces' stderr)
	{ wait "$DAEMON_PID"; } 2>/dev/null || true
	DAEMON_PID=
}

plain_profile home "$up"
start_record
start_daemon

declare -A kills=()
iter=0 msgs=0 UP_RUNNING=1
end=$(($(date +%s) + CRASH_SECONDS))
while [ "$(date +%s)" -lt "$end" ]; do
	iter=$((iter + 1))
	# Two thirds online, one third offline.
	if [ $((RANDOM % 3)) -eq 0 ]; then
		[ "$UP_RUNNING" = 0 ] || stop_record
	else
		[ "$UP_RUNNING" = 1 ] || start_record
	fi
	count=$((RANDOM % 6 + 2))
	case $((RANDOM % 5)) in
	0) plan="after-ack:$((RANDOM % count + 1))" ;;
	1) plan="mid-data:$((RANDOM % count + 1)):$RANDOM" ;;
	2) plan="after-dot:$((RANDOM % count + 1)):$((RANDOM % 21))" ;;
	3) plan=clock ;;
	4) plan=flush ;;
	esac
	kind=${plan%%:*}
	path=$([ "$UP_RUNNING" = 1 ] && echo online || echo offline)
	if [ "$kind" = flush ]; then
		# The queue goes out at once after a restart: kill it mid-way.
		[ "$UP_RUNNING" = 1 ] || start_record
		path=online
		reap
		start_daemon
		sleep "0.$(printf '%03d' $((RANDOM % 400)))"
		reap
		kills[flush]=$((${kills[flush]:-0} + 1))
		start_daemon
		continue
	fi
	"$PY" "$T/stream_client.py" --port "$DAEMON_PORT" --prefix "i$iter" \
	    --count "$count" --acks "$T/acks" --pid "$DAEMON_PID" \
	    --plan "$plan" --seed "$RANDOM" 2>> "$T/client.err" &
	client=$!
	msgs=$((msgs + count))
	if [ "$kind" = clock ]; then
		sleep "0.$(printf '%03d' $((RANDOM % 800)))"
		kill -9 "$DAEMON_PID" 2>/dev/null || true
	fi
	wait "$client" || true
	if daemon_dead; then
		kills["$kind/$path"]=$((${kills["$kind/$path"]:-0} + 1))
	else
		# The plan's point came after the last message: kill now.
		kills["idle/$path"]=$((${kills["idle/$path"]:-0} + 1))
	fi
	reap
	start_daemon
done

step "upstream up, one more restart: the queue drains"
[ "$UP_RUNNING" = 1 ] || start_record
reap
start_daemon
WAIT_DEADLINE=120 wait_queue_count 0

step "every 250 reached the upstream"
total_kills=0
for k in "${!kills[@]}"; do
	printf '  kills %-18s %s\n' "$k" "${kills[$k]}"
	total_kills=$((total_kills + kills[$k]))
done
"$PY" - "$T/acks" "$UP_DIR/msgs" > "$T/verdict" <<'EOF'
import collections, hashlib, os, re, sys
acks, outdir = sys.argv[1], sys.argv[2]
acked = set()
nacked = 0
if os.path.exists(acks):
    for line in open(acks):
        kind, msgid = line.split()[:2]
        if kind == "ACK":
            acked.add(msgid)
        else:
            nacked += 1
seen = collections.Counter()
damaged = []
for name in sorted(os.listdir(outdir)):
    if not name.endswith(".eml"):
        continue
    data = open(os.path.join(outdir, name), "rb").read()
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"^Message-ID: (\S+)", head, re.M | re.I)
    h = re.search(rb"^X-Body-SHA256: (\S+)", head, re.M)
    if not m or not h or hashlib.sha256(body).hexdigest() != h.group(1).decode():
        damaged.append(name)
        continue
    seen[m.group(1).decode()] += 1
lost = sorted(acked - set(seen))
dups = sorted(k for k, v in seen.items() if v > 1)
# Delivered without a 250: the upstream took it, the daemon died before
# telling the client.  The client would send it again: not lost.
unacked = len(set(seen) - acked)
print(f"acked={len(acked)} refused={nacked} delivered={sum(seen.values())} "
      f"unique={len(seen)} delivered_unacked={unacked} lost={len(lost)} "
      f"duplicates={len(dups)} damaged={len(damaged)}")
for x in lost:
    print(f"LOST {x}")
for x in dups:
    print(f"DUPLICATE {x} x{seen[x]}")
for x in damaged:
    print(f"DAMAGED {x}")
EOF
cat "$T/verdict"
read -r summary < "$T/verdict"
assert_match ' lost=0 ' "$summary" "messages lost"
assert_match ' damaged=0$' "$summary" "messages damaged"
assert_no_grep 'move it away or delete it' "$DAEMON_LOG" "a damaged queue file"
acked=$(sed -E 's/.*acked=([0-9]+).*/\1/' <<< "$summary")
[ "$acked" -gt 0 ] || fail "no message got a 250: the stream tested nothing"
printf 'FIGURES crash seed=%s iterations=%s kills=%s messages=%s %s\n' \
    "$SEED" "$iter" "$total_kills" "$msgs" "$summary"
pass
