#!/bin/bash
# large_message_30mb: a 30 MiB message relays byte for byte, and the daemon
# streams it: its peak resident memory (VmHWM) stays under 40 MB.  A memory
# bound, not a time bound.
. "$(dirname "$0")/../lib/common.sh"

LIMIT_KB=$((40 * 1024))
# Under AddressSanitizer freed blocks wait in a quarantine (256 MB by
# default) that would count as the daemon's: keep it small, so that the
# bound holds for the sanitizer build too.  Other builds ignore this.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1
up=$(free_port)
start_upstream up "$up"
plain_profile home "$up"
start_daemon

step "make a 30 MiB message"
"$PY" - "$T/big.eml" <<'EOP'
import random, sys
rng = random.Random(30)
out = bytearray(b"From: alice@example.org\r\nTo: bob@example.net\r\n"
                b"Subject: thirty mebibytes\r\n\r\n")
while len(out) < 30 * 1024 * 1024:
    n = rng.choice((0, 1, 76, 76, 76, 500, 998))
    line = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 .")
                 for _ in range(min(n, 40)))
    line = (line * (n // 40 + 1))[:n]
    if rng.random() < 0.01:
        line = b"." + line[1:] if line else b"."
    out += line + b"\r\n"
open(sys.argv[1], "wb").write(out)
EOP

step "send it"
smtplib send --from alice@example.org --to bob@example.net "$T/big.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 Ok: accepted by upstream as 0001$' "$CLIENT_OUT" \
    "final reply"
assert_same_bytes "$T/big.eml" "$(upstream_eml up 1)" "relayed message"

step "memory"
hwm=$(daemon_vmhwm_kb)
echo "roamsmtpd VmHWM: $hwm kB (limit $LIMIT_KB kB)"
[ "$hwm" -lt "$LIMIT_KB" ] ||
    fail "roamsmtpd peaked at $hwm kB resident, over $LIMIT_KB kB"
pass
