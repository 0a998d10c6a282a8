#!/bin/bash
# load_100mb_message: a 100 MB message, online (relayed as it streams) and
# offline (queued, then delivered from the queue), arrives byte for byte,
# and the daemon's peak resident memory (VmHWM) stays bounded: it never
# holds the message.  A memory bound, not a time bound.
. "$(dirname "$0")/../lib/common.sh"

SIZE=$((100 * 1000 * 1000))
LIMIT_KB=$((40 * 1024))
# ASan's quarantine would count as the daemon's memory (see
# large_message_30mb.sh); other builds ignore this.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1

up=$(free_port)
plain_profile home "$up"
write_conf "max-message-size = $((SIZE * 2))"
start_daemon

step "make a 100 MB message"
"$PY" - "$T/big.eml" "$SIZE" <<'EOP'
import random, sys
rng = random.Random(100)
size = int(sys.argv[2])
lines = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 .")
               for _ in range(n)) for n in (0, 1, 76, 76, 500, 998)]
lines += [b".", b"..", b".starts with a dot"]
with open(sys.argv[1], "wb") as f:
    f.write(b"From: alice@example.org\r\nTo: bob@example.net\r\n"
            b"Subject: one hundred megabytes\r\n\r\n")
    n = 0
    while n < size:
        chunk = b"".join(rng.choice(lines) + b"\r\n" for _ in range(4096))
        f.write(chunk)
        n += len(chunk)
EOP

step "online: relayed as it streams"
start_upstream up "$up"
smtplib send --from alice@example.org --to bob@example.net "$T/big.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: accepted by upstream' "$CLIENT_OUT" "final reply"
assert_same_bytes "$T/big.eml" "$(upstream_eml up 1)" "relayed message"
hwm_online=$(daemon_vmhwm_kb)

step "offline: queued while the upstream is down, then delivered"
stop_upstream up
smtplib send --from alice@example.org --to bob@example.net "$T/big.eml"
client_ok
id=$(queued_id)
assert_queue_files "$id"
start_upstream up "$up"
ctl_ok flush
WAIT_DEADLINE=300 wait_upstream_count up 2
wait_queue_count 0
assert_same_bytes "$T/big.eml" "$(upstream_eml up 2)" "message from the queue"

step "memory"
hwm=$(daemon_vmhwm_kb)
printf '   VmHWM %s kB after the online message, %s kB in all (limit %s kB)\n' \
    "$hwm_online" "$hwm" "$LIMIT_KB"
[ "$hwm" -lt "$LIMIT_KB" ] ||
    fail "roamsmtpd peaked at $hwm kB resident, over $LIMIT_KB kB"
printf 'FIGURES load_100mb bytes=%s vmhwm_kb=%s\n' "$(stat -c %s "$T/big.eml")" "$hwm"
pass
