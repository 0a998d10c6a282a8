#!/bin/bash
# hostile_upstream_silent: an upstream that accepts connections and never
# says a word.  While it is silent, a client's message waits on it (the
# daemon is waiting for the greeting), the queue's delivery attempt waits
# too, and the daemon keeps serving: roamsmtpctl answers, and the queued
# message stays queued, intact.  The daemon gives up on its own once the
# upstream has not become ready within TIMEOUT_CLIENT_SETUP (30 s): the
# waiting client gets "250 queued as ID" and nothing is lost.
. "$(dirname "$0")/../lib/common.sh"

start_hostile() {
	local name=$1 port=$2 dir=$T/up-$1 pid
	shift 2
	mkdir -p "$dir"
	: > "$dir/stdout"
	"$PY" "$LIB/hostile_upstream.py" --port "$port" --outdir "$dir/msgs" \
	    --log "$dir/log" "$@" > "$dir/stdout" 2>> "$dir/stderr" &
	pid=$!
	PIDS+=("$pid")
	printf -v "UPSTREAM_PID_$name" '%s' "$pid"
	UPSTREAMS+=("$name")
	wait_for "READY from upstream $name" _upstream_ready "$name" "$pid"
}

up=$(free_port)
plain_profile home "$up"
start_daemon

step "a message queued while nothing listens"
make_message "$T/a.eml" "silent A"
smtplib send --from alice@example.org --to bob@example.net "$T/a.eml"
client_ok
id_a=$(queued_id)
cp "$QUEUE_DIR/$id_a.msg" "$T/a.msg"

step "the upstream accepts and stays silent; a client waits on it"
start_hostile silent "$up" --mode silent
ctl_ok flush
make_message "$T/b.eml" "silent B"
"$PY" "$LIB/submit.py" send --port "$DAEMON_PORT" --from alice@example.org \
    --to bob@example.net "$T/b.eml" > "$T/b.out" 2>&1 &
client=$!
_two_connects() {
	[ "$(upstream_events silent CONNECT)" -ge 2 ]
}
wait_for "the queue and the client both waiting on the upstream" _two_connects

step "meanwhile the daemon serves, and the queue is intact"
ctl_ok status
assert_match "^(queued|sending)$" "$(queue_field "$id_a" state)" "state of $id_a"
assert_same_bytes "$T/a.msg" "$QUEUE_DIR/$id_a.msg" "queued body of A"
kill -0 "$client" 2>/dev/null || { cat "$T/b.out"; fail "the client did not wait"; }

step "the daemon gives up on its own (TIMEOUT_CLIENT_SETUP)"
WAIT_DEADLINE=90 wait_for "the client's reply" eval '! kill -0 $client'
wait "$client" || true
cat "$T/b.out"
assert_grep '^DATA 250 2\.0\.0 Ok: queued as [0-9a-f]{16}$' "$T/b.out" \
    "the waiting client's reply"
wait_queue_count 2
assert_grep 'was not ready within 30 seconds' "$DAEMON_LOG" "the reason logged"
assert_eq 0 "$(upstream_count silent)" "messages at the silent upstream"
printf 'FIGURES hostile_silent faults=1 survived=1\n'
pass
