#!/bin/bash
# disk_full_452: the state folder is a 2 MiB tmpfs the test mounts (root
# needed; skipped otherwise).  With the disk full, a client's message gets
# a 452 temporary error (never a 250), the message queued before the disk
# filled is untouched, nothing is left half written, and the daemon goes on
# answering.  Online, a small message still relays (its safety copy is in
# memory) and a large one either relays or gets a 452.  Once space returns,
# the refused message is sent again and everything reaches the upstream,
# byte for byte.
. "$(dirname "$0")/../lib/common.sh"

SKIP=77
if [ "$(id -u)" -ne 0 ] || ! mkdir -p "$T/state" ||
    ! mount -t tmpfs -o size=2m,mode=0700 roamsmtp-test "$T/state" 2>/dev/null; then
	echo "SKIP $TEST_NAME: cannot mount a tmpfs (needs root)"
	exit "$SKIP"
fi
# The mount goes before the folder does; then the harness cleans up as
# usual (with the exit status of the test).
trap '_rc=$?; umount -l "$T/state" 2>/dev/null; (exit $_rc); cleanup' EXIT

fill_disk() {
	dd if=/dev/zero of="$T/state/filler" bs=4k 2>/dev/null || true
	sync
	local avail
	avail=$(df --output=avail -k "$T/state" | tail -n 1 | tr -d ' ')
	[ "$avail" -le 4 ] || fail "the tmpfs still has ${avail} KiB free"
}

up=$(free_port)
plain_profile home "$up"
start_daemon

step "upstream down: a message is queued while there is room"
make_message "$T/a.eml" "disk full A"
smtplib send --from alice@example.org --to bob@example.net "$T/a.eml"
client_ok
id_a=$(queued_id)
assert_queue_files "$id_a"
cp "$QUEUE_DIR/$id_a.msg" "$QUEUE_DIR/$id_a.env" "$T/"

step "the disk fills: offline, a message gets 452, nothing else"
fill_disk
make_message "$T/b.eml" "disk full B" 400
smtplib send --from alice@example.org --to bob@example.net "$T/b.eml"
assert_grep '^(DATA|MAIL|RCPT|ERROR) 452 ' "$CLIENT_OUT" "reply on a full disk"
assert_no_grep ' 250 2\.0\.0 Ok: queued' "$CLIENT_OUT" "a 250 on a full disk"
make_message "$T/c.eml" "disk full C"
smtplib send --from alice@example.org --to bob@example.net "$T/c.eml"
assert_grep '^(DATA|MAIL|RCPT|ERROR) 452 ' "$CLIENT_OUT" "reply to a small message"
assert_match '[Ss]pace|[Qq]ueue' "$(grep -E ' 452 ' "$CLIENT_OUT" | head -n 1)" \
    "the 452 says why"

step "what was accepted is intact, nothing half written is left"
assert_same_bytes "$T/$id_a.msg" "$QUEUE_DIR/$id_a.msg" "queued body of A"
assert_same_bytes "$T/$id_a.env" "$QUEUE_DIR/$id_a.env" "queued envelope of A"
assert_eq 1 "$(queue_count)" "messages in the queue"
left=$(find "$QUEUE_DIR" -type f ! -name "$id_a.*" | wc -l)
tmp=$(find "$QUEUE_DIR/tmp" -type f 2>/dev/null | wc -l)
assert_eq 0 "$tmp" "files left in the queue's tmp/"
assert_eq 0 "$left" "files in the queue besides A's"
ctl_ok status

step "online with the disk still full"
start_upstream up "$up"
ctl_ok flush
wait_upstream_count up 1
assert_same_bytes "$T/a.eml" "$(upstream_eml up 1)" "A, delivered from the queue"
wait_queue_count 0
# Delivery freed A's files; fill again what that gave back.
fill_disk
make_message "$T/d.eml" "disk full D small"
smtplib send --from alice@example.org --to bob@example.net "$T/d.eml"
client_ok
assert_grep '^DATA 250 ' "$CLIENT_OUT" "a small message online"
wait_upstream_count up 2
assert_same_bytes "$T/d.eml" "$(upstream_eml up 2)" "D, relayed"
make_message "$T/e.eml" "disk full E large" 2000
smtplib send --from alice@example.org --to bob@example.net "$T/e.eml"
n_up=2
if grep -Eq '^DATA 250 ' "$CLIENT_OUT"; then
	n_up=3
	wait_upstream_count up 3
	assert_same_bytes "$T/e.eml" "$(upstream_eml up 3)" "E, relayed"
	e_sent=1
else
	assert_grep '^(DATA|MAIL|RCPT|ERROR) 452 ' "$CLIENT_OUT" \
	    "a large message online with a full disk"
	e_sent=0
fi

step "space returns: what was refused is sent again and goes through"
rm -f "$T/state/filler"
stop_upstream up
for m in b c; do
	smtplib send --from alice@example.org --to bob@example.net "$T/$m.eml"
	client_ok
	assert_queue_files "$(queued_id)"
done
if [ "$e_sent" = 0 ]; then
	smtplib send --from alice@example.org --to bob@example.net "$T/e.eml"
	client_ok
fi
start_upstream up "$up"
ctl_ok flush
total=$((n_up + 2 + (1 - e_sent)))
wait_upstream_count up "$total"
wait_queue_count 0
for m in b c; do
	found=0
	for i in $(seq "$total"); do
		cmp -s "$T/$m.eml" "$(upstream_eml up "$i")" && found=1
	done
	[ "$found" = 1 ] || fail "message $m did not reach the upstream intact"
done
assert_eq "$total" "$(upstream_count up)" "messages at the upstream"
printf 'FIGURES disk_full refused_452=2 damaged=0 delivered_after=%s\n' "$total"
pass
