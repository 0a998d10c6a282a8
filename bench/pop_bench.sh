#!/bin/bash
# pop_bench.sh BUILD_DIR - what does POP-before-SMTP cost, and what does
# roamsmtpd's reuse of the login window and of the upstream session save?
# In one run, on 127.0.0.1, against the tests' Dovecot (tests/lib/dovecot.sh)
# and Postfix's smtp-sink:
#   (1) baseline, a POP login per message: N times a POP3S login with
#       Python's poplib (USER/PASS, QUIT), then one message by smtplib
#       straight to smtp-sink on a fresh SMTP connection; timed end to end;
#   (2) roamsmtpd with a [pop-before-smtp] profile (window = 300) relaying N
#       messages from smtp-source -d (one session) to smtp-sink: one POP
#       login, then the window and the upstream session are reused.  Dovecot
#       must have seen exactly one login, else the benchmark fails;
#   (3) the time of one POP login (the median of the baseline's N logins),
#       and from it an estimate of roamsmtpd if every message needed a
#       login.  It is not measured: the window is at least 10 s, so a run
#       where each message finds it expired would take N * 10 s.
# See bench/README.md.
#
# The report goes to stdout and to BUILD_DIR/pop-bench-results.txt; progress
# goes to stderr.  Dovecot's master must run as root: without root or
# without dovecot the benchmark is skipped, said on stderr and in the
# results file, and the script exits 0.
#
# Environment (all optional):
#   BENCH_POP_MSGS   N, messages (and baseline logins)    (default 500)
#   BENCH_QUICK=1    a smoke run: N = 20
#   BENCH_TIMEOUT    seconds one part may take            (default 600)
#   BENCH_KEEP=1     keep the temporary folder (configs, logs)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
LIB=$SRC/tests/lib

# The profile's window: long enough that the whole run fits in it.
POP_WINDOW=300
# Payload of each message, bytes (smtp-source's -l; the baseline's body).
MSG_SIZE=1024
POP_USER=bench
POP_PASSWORD='Bench-pop 1'

usage() {
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
}

die() {
	echo "pop_bench: $*" >&2
	exit 1
}

note() {
	echo "pop_bench: $*" >&2
}

[ $# -eq 1 ] || usage
[ -d "$1" ] || die "$1: no such build folder; run 'make build' first"
BUILD=$(cd "$1" && pwd)
DAEMON=$BUILD/daemon/roamsmtpd
CTL=$BUILD/daemon/roamsmtpctl
RESULTS=$BUILD/pop-bench-results.txt

dmsgs=500
[ "${BENCH_QUICK:-0}" = 1 ] && dmsgs=20
MSGS=${BENCH_POP_MSGS:-$dmsgs}
RUN_TIMEOUT=${BENCH_TIMEOUT:-600}
PYTHON=/usr/bin/python3	# Debian's (the tests' helpers use it too)

for v in MSGS RUN_TIMEOUT; do
	case ${!v} in
	''|*[!0-9]*|0) die "$v=${!v}: must be a positive whole number" ;;
	esac
done

# A report from an earlier run must not pass for this one's.
rm -f "$RESULTS"

skip() {
	note "SKIPPED: $*"
	printf 'roamsmtpd POP-before-SMTP benchmark SKIPPED: %s\n' "$*" |
	    tee "$RESULTS"
	exit 0
}

# --- tools ------------------------------------------------------------------

find_tool() {
	local t
	t=$(PATH=$PATH:/usr/sbin:/sbin command -v "$1") || return 1
	echo "$t"
}

[ -x "$DAEMON" ] || die "$DAEMON not found: build it first ('make build')"
[ -x "$CTL" ] || die "$CTL not found: build it first ('make build')"
SMTP_SOURCE=$(find_tool smtp-source) ||
	die "smtp-source not found: it comes with Postfix ('make bench'" \
	    "installs it, or: apt-get install postfix)"
SMTP_SINK=$(find_tool smtp-sink) ||
	die "smtp-sink not found: it comes with Postfix ('make bench'" \
	    "installs it, or: apt-get install postfix)"
command -v openssl >/dev/null ||
	die "openssl not found (apt-get install openssl)"
[ "$(id -u)" -eq 0 ] ||
	skip "Dovecot's master must run as root; run this as root"
command -v dovecot >/dev/null || find_tool dovecot >/dev/null ||
	skip "dovecot not found (apt-get install dovecot-pop3d," \
	    "or packaging/install-deps.sh test)"
PATH=$PATH:/usr/sbin

# smtp-sink refuses to run as root without a user to switch to.
SINK_USER=(-u nobody)

# --- processes and cleanup -----------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/roamsmtp-popbench.XXXXXX") ||
	die "cannot make a temporary folder"
PIDS=()

stop_pid() {
	local pid=$1 _
	kill "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

forget_pid() {
	local i
	for i in "${!PIDS[@]}"; do
		[ "${PIDS[$i]}" = "$1" ] && unset 'PIDS[i]'
	done
}

# dovecot.sh's EXIT trap stops Dovecot, removes its socket folder and then
# calls cleanup.
cleanup() {
	local pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		note "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}

# What tests/lib/dovecot.sh and certs.sh expect of tests/lib/common.sh,
# without the rest of the test harness (set -e, pass(), ...).
# shellcheck disable=SC2034 # used by dovecot.sh
T=$WORK
PY=$PYTHON
# shellcheck disable=SC2034 # used by dovecot.sh
TEST_NAME=pop_bench
WAIT_DEADLINE=60
fail() { die "$*"; }
_stop_pid() { stop_pid "$1"; }
_show() {
	[ -s "$2" ] || return 0
	printf '\n----- %s (%s) -----\n' "$1" "$2" >&2
	tail -n 40 "$2" >&2
}
wait_for() {
	local what=$1 end
	shift
	end=$(($(date +%s) + WAIT_DEADLINE))
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] ||
		    fail "no $what within ${WAIT_DEADLINE}s"
		sleep 0.05
	done
}
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# shellcheck source=../tests/lib/certs.sh
. "$LIB/certs.sh"
# shellcheck source=../tests/lib/dovecot.sh
. "$LIB/dovecot.sh"	# sets the EXIT trap
trap 'exit 130' INT
trap 'exit 143' TERM

# --- peers --------------------------------------------------------------------

SINK_PID='' SINK_OUT=''

_sink_ready() {
	kill -0 "$SINK_PID" 2>/dev/null || {
		_show "smtp-sink errors" "$SINK_OUT.err"
		fail "smtp-sink exited while starting"
	}
	grep -q "$(printf '0100007F:%04X 00000000:0000 0A' "$1")" /proc/net/tcp
}

start_sink() {
	local port=$1
	SINK_OUT=$WORK/sink.$port.out
	"$SMTP_SINK" -c "${SINK_USER[@]}" "127.0.0.1:$port" 100 \
	    >"$SINK_OUT" 2>"$SINK_OUT.err" &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	wait_for "smtp-sink on 127.0.0.1:$port" _sink_ready "$port"
}

# sink_field mesg|sess - smtp-sink -c's counters ("sess=N quit=N mesg=N",
# CR-separated), written at every "." before it answers it.
sink_field() {
	tr '\r' '\n' <"$SINK_OUT" | grep "$1=" | tail -n 1 |
	    sed "s/.*$1=\([0-9]*\).*/\1/" | grep . || echo 0
}

stop_sink() {
	stop_pid "$SINK_PID"
	forget_pid "$SINK_PID"
}

# Good logins in Dovecot's own log, and in the post-login record.
dovecot_log_logins() {
	grep -c "Login: user=<$POP_USER>" "$DOVECOT_DIR/log" 2>/dev/null ||
	    true
}

_log_has_logins() {
	[ "$(dovecot_log_logins)" -ge "$1" ]
}

# check_logins WHAT EXPECTED: Dovecot's log and its post-login record must
# both count EXPECTED logins in all.
check_logins() {
	local what=$1 want=$2 log rec _
	# Dovecot's log process writes a moment after the login: give it up
	# to 5 s to catch up, then compare.
	for _ in $(seq 100); do
		_log_has_logins "$want" && break
		sleep 0.05
	done
	log=$(dovecot_log_logins)
	rec=$(dovecot_logins)
	if [ "$log" -ne "$want" ] || [ "$rec" -ne "$want" ]; then
		_show "dovecot log" "$DOVECOT_DIR/log"
		[ -z "$DAEMON_LOG" ] || _show "roamsmtpd log" "$DAEMON_LOG"
		die "$what: expected $want POP logins in all, Dovecot's log" \
		    "has $log and its post-login record $rec"
	fi
}

DAEMON_PID='' DAEMON_LOG='' DAEMON_CONF=''

_daemon_ready() {
	kill -0 "$DAEMON_PID" 2>/dev/null || {
		_show "roamsmtpd log" "$DAEMON_LOG"
		fail "roamsmtpd exited while starting"
	}
	"$CTL" -c "$DAEMON_CONF" status >/dev/null 2>&1
}

# start_daemon PORT SINKPORT: roamsmtpd with one default profile relaying to
# the sink after a POP3S login to Dovecot (USER/PASS, as the baseline).
start_daemon() {
	local port=$1 to=$2 dir=$WORK/roamsmtpd
	mkdir -p "$dir/state" "$dir/run" "$dir/profiles"
	chmod 700 "$dir/run"
	(umask 077; printf '%s\n' "$POP_PASSWORD" >"$dir/pop.pass")
	DAEMON_CONF=$dir/roamsmtp.conf
	DAEMON_LOG=$dir/roamsmtpd.log
	printf '%s\n' '[daemon]' "listen = 127.0.0.1:$port" \
	    "state-dir = $dir/state" "runtime-dir = $dir/run" \
	    "profiles-dir = $dir/profiles" 'network-backend = none' \
	    >"$DAEMON_CONF"
	printf '%s\n' '[match]' 'default = true' '' '[upstream]' \
	    'host = 127.0.0.1' "port = $to" 'tls = none' 'auth = none' '' \
	    '[pop-before-smtp]' 'host = 127.0.0.1' \
	    "port = $DOVECOT_POP3S_PORT" 'tls = tls' 'auth = user' \
	    "user = $POP_USER" "password-file = $dir/pop.pass" \
	    "ca-file = $WORK/certs/ca.crt" "window = $POP_WINDOW" \
	    >"$dir/profiles/isp.conf"
	"$DAEMON" -f -c "$DAEMON_CONF" >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	wait_for "answer from roamsmtpd's control socket" _daemon_ready
}

stop_daemon() {
	stop_pid "$DAEMON_PID"
	forget_pid "$DAEMON_PID"
}

# run_timed LOG COMMAND...: in the background, so that a signal's trap runs
# at once (bash runs it only after a foreground command); returns the
# command's status (124: timed out).
run_timed() {
	local log=$1 pid rc
	shift
	timeout "$RUN_TIMEOUT" "$@" >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait "$pid"
	rc=$?
	forget_pid "$pid"
	return $rc
}

# --- the benchmark ----------------------------------------------------------------

note "making test certificates, starting Dovecot"
make_certs "$WORK/certs"
dovecot_start "$POP_USER" "$POP_PASSWORD" "$WORK/certs" 2
(umask 077; printf '%s\n' "$POP_PASSWORD" >"$WORK/pop.pass")

# (1) Baseline: a POP login per message, then the message on its own SMTP
# connection.  Prints "total_s login_min login_median login_max smtp_median"
# (seconds); every login and every message must succeed.
note "(1) baseline: $MSGS x (POP3S login + one SMTP message)"
SINK_PORT=$(free_port)
start_sink "$SINK_PORT"
BASE_OUT=$WORK/baseline.out
# A file, not standard input: a background command's is /dev/null.
cat >"$WORK/baseline.py" <<'PY'
import poplib, smtplib, ssl, statistics, sys, time

pport, ca, user, pwfile, sport, n, size = sys.argv[1:8]
n, size = int(n), int(size)
pw = open(pwfile).read().rstrip("\n")
ctx = ssl.create_default_context(cafile=ca)
body = ("x" * 76 + "\r\n") * (size // 78) + "x" * (size % 78)
logins, smtps = [], []
t_start = time.perf_counter()
for i in range(n):
    t0 = time.perf_counter()
    p = poplib.POP3_SSL("127.0.0.1", int(pport), context=ctx, timeout=30)
    p.user(user)
    p.pass_(pw)
    p.quit()
    t1 = time.perf_counter()
    msg = ("From: sender@bench.example\r\nTo: rcpt@sink.example\r\n"
           "Subject: pop bench %d\r\n\r\n%s\r\n" % (i, body))
    s = smtplib.SMTP("127.0.0.1", int(sport), timeout=30)
    s.sendmail("sender@bench.example", ["rcpt@sink.example"], msg)
    s.quit()
    t2 = time.perf_counter()
    logins.append(t1 - t0)
    smtps.append(t2 - t1)
total = time.perf_counter() - t_start
print("%.6f %.6f %.6f %.6f %.6f" % (total, min(logins),
      statistics.median(logins), max(logins), statistics.median(smtps)))
PY
run_timed "$BASE_OUT" "$PYTHON" "$WORK/baseline.py" "$DOVECOT_POP3S_PORT" \
    "$WORK/certs/ca.crt" "$POP_USER" "$WORK/pop.pass" "$SINK_PORT" "$MSGS" \
    "$MSG_SIZE"
rc=$?
[ $rc -eq 124 ] && die "(1) baseline took more than ${RUN_TIMEOUT}s (BENCH_TIMEOUT)"
[ $rc -eq 0 ] || die "(1) baseline failed (exit $rc): $(tail -n 5 "$BASE_OUT")"
read -r B_TOTAL L_MIN L_MED L_MAX S_MED <"$BASE_OUT" ||
	die "(1) baseline: no result in $BASE_OUT"
got=$(sink_field mesg)
[ "$got" -eq "$MSGS" ] ||
	die "(1) baseline sent $MSGS messages but the sink received $got"
check_logins "(1) baseline" "$MSGS"
stop_sink

# (2) roamsmtpd: one session from smtp-source, one POP login for all.  The
# timed run starts with the daemon fresh (no window yet), so the one login
# is inside it.
note "(2) roamsmtpd: $MSGS messages, one smtp-source session, window $POP_WINDOW s"
SINK_PORT=$(free_port)
start_sink "$SINK_PORT"
DAEMON_PORT=$(free_port)
start_daemon "$DAEMON_PORT" "$SINK_PORT"
RELAY_OUT=$WORK/source.log
t0=$EPOCHREALTIME
run_timed "$RELAY_OUT" "$SMTP_SOURCE" -d -s 1 -m "$MSGS" -l "$MSG_SIZE" \
    -M bench.example -f sender@bench.example -t rcpt@sink.example \
    "127.0.0.1:$DAEMON_PORT"
rc=$?
t1=$EPOCHREALTIME
[ $rc -eq 124 ] && die "(2) smtp-source took more than ${RUN_TIMEOUT}s (BENCH_TIMEOUT)"
[ $rc -eq 0 ] || {
	_show "roamsmtpd log" "$DAEMON_LOG"
	die "(2) smtp-source exit $rc: $(tail -n 3 "$RELAY_OUT")"
}
got=$(sink_field mesg)
[ "$got" -eq "$MSGS" ] || {
	_show "roamsmtpd log" "$DAEMON_LOG"
	die "(2) smtp-source sent $MSGS messages but the sink received $got" \
	    "by the time the last was answered (queued instead of relayed?)"
}
check_logins "(2) roamsmtpd" $((MSGS + 1))
# The daemon's own time for its login: "pop login server=... delay=0.041s".
D_LOGIN=$(sed -n "s/.*pop login server=127\.0\.0\.1:$DOVECOT_POP3S_PORT auth=user delay=\([0-9.]*\)s.*/\1/p" \
    "$DAEMON_LOG" | head -n 1)
[ -n "$D_LOGIN" ] || {
	_show "roamsmtpd log" "$DAEMON_LOG"
	die "(2) roamsmtpd's log does not show its POP login"
}
stop_daemon
# smtp-sink counts a session when it ends: once the daemon has closed its
# upstream session.
_sink_sessions_ended() {
	[ "$(sink_field sess)" -ge 1 ]
}
WAIT_DEADLINE=10 wait_for "end of the upstream session at smtp-sink" \
    _sink_sessions_ended
R_SESS=$(sink_field sess)
stop_sink
R_TOTAL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')

# --- report -----------------------------------------------------------------------

REPORT=$WORK/report.txt
out() {
	# shellcheck disable=SC2059 # the formats are this script's
	printf "$@" >>"$REPORT"
}
calc() {
	awk "BEGIN { printf \"%.${1}f\", $2 }"
}

B_RATE=$(calc 1 "$MSGS / $B_TOTAL")
R_RATE=$(calc 1 "$MSGS / $R_TOTAL")
# (3): roamsmtpd's time per message in (2) without its one login, plus the
# baseline's median login for each message.
R_PER=$(calc 6 "($R_TOTAL - $D_LOGIN) / $MSGS")
E_RATE=$(calc 1 "1 / ($R_PER + $L_MED)")

out 'roamsmtpd POP-before-SMTP benchmark, %s\n' "$(date '+%Y-%m-%d %H:%M:%S %z')"
out 'machine: %s CPUs (nproc), %s, Linux %s %s\n' "$(nproc)" \
    "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
    "$(uname -r)" "$(uname -m)"
out 'load average at the start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
out 'daemon: %s\n' "$DAEMON"
out 'POP3S to Dovecot %s on 127.0.0.1 (USER/PASS, certificate verified);\n' \
    "$(dovecot --version 2>/dev/null | cut -d' ' -f1)"
out 'sink: smtp-sink; %d messages of %d bytes in each part, one run each.\n\n' \
    "$MSGS" "$MSG_SIZE"
out '%-44s %8s %9s %7s %6s\n' path msgs/s seconds logins ratio
out '%-44s %8s %9s %7s %6s\n' \
    "(1) POP login + SMTP connection per message" "$B_RATE" \
    "$(calc 3 "$B_TOTAL")" "$MSGS" 1.000
out '%-44s %8s %9s %7s %6s\n' \
    "(2) roamsmtpd, window $POP_WINDOW s reused" "$R_RATE" \
    "$(calc 3 "$R_TOTAL")" 1 "$(calc 3 "$R_RATE / $B_RATE")"
out '%-44s %8s %9s %7s %6s\n' \
    "(3) roamsmtpd, a login per message (est.)" "$E_RATE" - "$MSGS" \
    "$(calc 3 "$E_RATE / $B_RATE")"
out '\nratio: messages per second against (1).  (2) is %sx (1).\n' \
    "$(calc 1 "$R_RATE / $B_RATE")"
out 'one POP3S login (poplib: connect, TLS, USER, PASS, QUIT), of %d:\n' "$MSGS"
out '  min %s ms, median %s ms, max %s ms\n' "$(calc 2 "$L_MIN * 1000")" \
    "$(calc 2 "$L_MED * 1000")" "$(calc 2 "$L_MAX * 1000")"
out 'one SMTP message in (1) (connect, EHLO, MAIL, RCPT, DATA, QUIT): median %s ms\n' \
    "$(calc 2 "$S_MED * 1000")"
out 'in (2): the daemon'"'"'s POP login took %s ms by its own log (delay=);\n' \
    "$(calc 2 "$D_LOGIN * 1000")"
out 'Dovecot logged exactly 1 login (checked in its log and its post-login\n'
out 'record); smtp-sink counted %s SMTP session(s) from the daemon.\n' "$R_SESS"
out '(3) is not measured: the window is 10 s at least, so a run in which\n'
out 'every message finds it expired takes N x 10 s.  It is (2)'"'"'s time per\n'
out 'message without its one login, plus the median login for each message:\n'
out '1 / (%s ms + %s ms).\n' "$(calc 3 "$R_PER * 1000")" \
    "$(calc 2 "$L_MED * 1000")"

cat "$REPORT"
cp "$REPORT" "$RESULTS" || die "cannot write $RESULTS"
note "results written to $RESULTS"
