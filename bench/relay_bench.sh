#!/bin/bash
# relay_bench.sh BUILD_DIR - how much does roamsmtpd cost on the path of a
# message?  Postfix's smtp-source sends to Postfix's smtp-sink straight
# ("direct"), through a bare TCP relay (socat, the yardstick), and through
# roamsmtpd; then through roamsmtpd to a sink that offers STARTTLS; then one
# very large message, to show that the daemon streams.  Everything runs on
# 127.0.0.1 on free ports this script picks.  See bench/README.md.
#
# The report goes to stdout and to BUILD_DIR/bench-results.txt; progress
# goes to stderr.  Every measured run is checked: smtp-source must succeed
# and the sink must have received every message by the time smtp-source
# returns (the online path passes the upstream's 250 back, so a message that
# was queued instead of relayed shows up as missing).  A run that fails
# stops the benchmark with the daemon's log.
#
# Environment (all optional):
#   BENCH_MSGS_1K      messages a 1 KB run sends        (default 20000)
#   BENCH_MSGS_1M      messages a 1 MB run sends        (default 500)
#   BENCH_TLS_MSGS_1K  1 KB messages, STARTTLS part     (default 5000)
#   BENCH_TLS_MSGS_1M  1 MB messages, STARTTLS part     (default 100)
#   BENCH_BIG_MB       size of the one large message    (default 100)
#   BENCH_QUICK=1      a smoke run: few messages of each kind
#   BENCH_TLS=0        skip the STARTTLS part (1: insist on it; unset: run
#                      it if openssl and python3-aiosmtpd are there)
#   BENCH_RUNS         runs of each path; the best counts  (default 3)
#   BENCH_TIMEOUT      seconds one smtp-source run may take (default 600)
#   BENCH_KEEP=1       keep the temporary folder (configs, logs)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)

# The memory goal for the large message: the daemon streams, so its peak
# resident size must not grow with the message.
BIG_RSS_GOAL_KB=$((10 * 1024))
# Sizes, as smtp-source's -l takes them (payload bytes, without headers).
SIZE_1K=1024
SIZE_1M=1048576
# smtp-sink's and socat's listen backlog: 10 sessions connect at once.
BACKLOG=1000

usage() {
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
}

die() {
	echo "relay_bench: $*" >&2
	exit 1
}

note() {
	echo "relay_bench: $*" >&2
}

[ $# -eq 1 ] || usage
[ -d "$1" ] || die "$1: no such build folder; run 'make build' first"
BUILD=$(cd "$1" && pwd)
DAEMON=$BUILD/daemon/roamsmtpd
RESULTS=$BUILD/bench-results.txt

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	d1k=500 d1m=10 dt1k=200 dt1m=5 druns=1
else
	d1k=20000 d1m=500 dt1k=5000 dt1m=100 druns=3
fi
MSGS_1K=${BENCH_MSGS_1K:-$d1k}
MSGS_1M=${BENCH_MSGS_1M:-$d1m}
TLS_MSGS_1K=${BENCH_TLS_MSGS_1K:-$dt1k}
TLS_MSGS_1M=${BENCH_TLS_MSGS_1M:-$dt1m}
BIG_MB=${BENCH_BIG_MB:-100}
DO_TLS=${BENCH_TLS:-auto}
RUN_TIMEOUT=${BENCH_TIMEOUT:-600}
RUNS=${BENCH_RUNS:-$druns}
PYTHON=/usr/bin/python3	# Debian's, which can import python3-aiosmtpd

for v in MSGS_1K MSGS_1M TLS_MSGS_1K TLS_MSGS_1M BIG_MB RUN_TIMEOUT RUNS; do
	case ${!v} in
	''|*[!0-9]*|0) die "$v=${!v}: must be a positive whole number" ;;
	esac
done

# --- tools ------------------------------------------------------------------

# Postfix installs its test tools in /usr/sbin, which a user's PATH may lack.
find_tool() {
	local t
	t=$(PATH=$PATH:/usr/sbin:/sbin command -v "$1") || return 1
	echo "$t"
}

SMTP_SOURCE=$(find_tool smtp-source) ||
	die "smtp-source not found: it comes with Postfix ('make bench' installs" \
	    "it, or: apt-get install postfix)"
SMTP_SINK=$(find_tool smtp-sink) ||
	die "smtp-sink not found: it comes with Postfix ('make bench' installs" \
	    "it, or: apt-get install postfix)"
SOCAT=$(find_tool socat) ||
	die "socat not found ('make bench' installs it, or: apt-get install socat)"
[ -x "$DAEMON" ] ||
	die "$DAEMON not found: build it first ('make build')"
# The STARTTLS part needs openssl and aiosmtpd.  Left unset, BENCH_TLS runs
# it when they are there and says loudly that it was skipped when not;
# BENCH_TLS=1 insists on it.
TLS_SKIPPED=''
if [ "$DO_TLS" != 0 ]; then
	OPENSSL=$(find_tool openssl) ||
		TLS_SKIPPED="openssl not found (apt-get install openssl)"
	"$PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
		TLS_SKIPPED="${TLS_SKIPPED:+$TLS_SKIPPED; }$PYTHON cannot import aiosmtpd (apt-get install python3-aiosmtpd)"
	if [ -n "$TLS_SKIPPED" ]; then
		[ "$DO_TLS" = 1 ] && die "BENCH_TLS=1: $TLS_SKIPPED"
		note "SKIPPING the STARTTLS part: $TLS_SKIPPED"
		DO_TLS=0
	else
		DO_TLS=1
	fi
else
	TLS_SKIPPED="BENCH_TLS=0"
fi

# smtp-sink refuses to run as root without a user to switch to.
SINK_USER=()
[ "$(id -u)" -eq 0 ] && SINK_USER=(-u nobody)

# --- processes and cleanup ----------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/roamsmtp-bench.XXXXXX") ||
	die "cannot make a temporary folder"
PIDS=()

# Stop one process this script started, and the children it forked (socat
# forks one a connection), by their ids.
stop_pid() {
	local pid=$1 kids
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	# The command name in stat may hold spaces: read what follows ") ".
	kids=$(awk -v p="$pid" '{ sub(/^.*\) /, ""); if ($2 == p) {
	    f = FILENAME; gsub(/[^0-9]/, "", f); print f } }' \
	    /proc/[0-9]*/stat 2>/dev/null)
	# shellcheck disable=SC2086 # a list of ids
	kill -TERM "$pid" $kids 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

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
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
	local i
	for i in "${!PIDS[@]}"; do
		[ "${PIDS[$i]}" = "$1" ] && unset 'PIDS[i]'
	done
}

# --- ports --------------------------------------------------------------------

USED_PORTS=" "

port_in_use() {
	local hex
	hex=$(printf ':%04X ' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q "$hex"
}

# Set PORT to one nothing on this machine uses and that this run has not
# handed out yet (not in a $(...) subshell: USED_PORTS must remember it).
free_port() {
	local p tries=0
	while [ $tries -lt 200 ]; do
		p=$((20000 + RANDOM % 30000))
		tries=$((tries + 1))
		case $USED_PORTS in *" $p "*) continue ;; esac
		port_in_use "$p" && continue
		USED_PORTS="$USED_PORTS$p "
		PORT=$p
		return 0
	done
	die "no free TCP port found in 20000-49999"
}

# Wait until 127.0.0.1:PORT is listening (state 0A in /proc/net/tcp), while
# PID lives.  Reading /proc does not open a session on the server.
wait_listen() {
	local port=$1 pid=$2 what=$3 log=$4 i pat
	pat=$(printf '0100007F:%04X 00000000:0000 0A' "$port")
	for i in $(seq 100); do
		grep -q "$pat" /proc/net/tcp && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	note "$what did not come up on 127.0.0.1:$port; its output:"
	tail -n 30 "$log" >&2
	exit 1
}

# --- peers --------------------------------------------------------------------

SINK_PID='' SINK_OUT='' SINK_KIND=''

# start_sink smtp-sink|aiosmtpd|aiosmtpd-tls PORT
start_sink() {
	local kind=$1 port=$2
	SINK_KIND=$kind
	SINK_OUT=$WORK/sink.$port.out
	case $kind in
	smtp-sink)
		"$SMTP_SINK" -c "${SINK_USER[@]}" "127.0.0.1:$port" $BACKLOG \
		    >"$SINK_OUT" 2>"$SINK_OUT.err" &
		;;
	aiosmtpd)
		"$PYTHON" "$HERE/aiosmtpd_sink.py" "$port" \
		    >"$SINK_OUT" 2>"$SINK_OUT.err" &
		;;
	aiosmtpd-tls)
		"$PYTHON" "$HERE/aiosmtpd_sink.py" "$port" \
		    "$WORK/tls/server.crt" "$WORK/tls/server.key" \
		    >"$SINK_OUT" 2>"$SINK_OUT.err" &
		;;
	esac
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	wait_listen "$port" "$SINK_PID" "$kind" "$SINK_OUT.err"
}

# Messages the sink has counted so far.  smtp-sink -c writes its counters
# ("sess=N quit=N mesg=N", CR-separated) at every "." it receives, before it
# answers it; aiosmtpd_sink.py writes a line "messages=N tls=T plain=P"
# before it answers.
sink_count() {
	case $SINK_KIND in
	smtp-sink)
		tr '\r' '\n' <"$SINK_OUT" | grep 'mesg=' | tail -n 1 |
		    sed 's/.*mesg=\([0-9]*\).*/\1/' | grep . || echo 0
		;;
	*)
		tail -n 1 "$SINK_OUT" | sed -n 's/^messages=\([0-9]*\).*/\1/p' |
		    grep . || echo 0
		;;
	esac
}

# Count of messages the aiosmtpd sink received inside TLS.
sink_tls_count() {
	tail -n 1 "$SINK_OUT" | sed -n 's/.* tls=\([0-9]*\).*/\1/p'
}

stop_sink() {
	stop_pid "$SINK_PID"
	forget_pid "$SINK_PID"
}

RELAY_PID='' RELAY_LOG='' RELAY_KIND=''

start_socat() {
	local port=$1 to=$2
	RELAY_KIND=socat
	RELAY_LOG=$WORK/socat.$port.log
	# nodelay on both legs, as any relay meant for SMTP should have (see
	# DESIGN.md, Speed): without it the final ".\r\n" can wait for a
	# delayed ACK, and the yardstick would be unfairly slow.
	"$SOCAT" \
	    "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,backlog=$BACKLOG,nodelay" \
	    "TCP:127.0.0.1:$to,nodelay" 2>"$RELAY_LOG" &
	RELAY_PID=$!
	PIDS+=("$RELAY_PID")
	wait_listen "$port" "$RELAY_PID" socat "$RELAY_LOG"
}

# start_roamsmtpd PORT UPSTREAM_PORT none|starttls
start_roamsmtpd() {
	local port=$1 to=$2 tls=$3 dir
	dir=$WORK/roamsmtpd.$port
	mkdir -p "$dir/state" "$dir/runtime" "$dir/profiles"
	chmod 700 "$dir/runtime"
	# max-message-size: room for the large message and its headers.
	cat >"$dir/roamsmtp.conf" <<-EOF
	[daemon]
	listen = 127.0.0.1:$port
	state-dir = $dir/state
	runtime-dir = $dir/runtime
	profiles-dir = $dir/profiles
	max-message-size = $(( (BIG_MB + 16) * 1024 * 1024 ))
	EOF
	{
		printf '%s\n' '[match]' 'default = true' '' '[upstream]' \
		    'host = 127.0.0.1' "port = $to" "tls = $tls"
		[ "$tls" = none ] || echo "ca-file = $WORK/tls/ca.crt"
	} >"$dir/profiles/bench.conf"
	RELAY_KIND=roamsmtpd
	RELAY_LOG=$dir/roamsmtpd.log
	"$DAEMON" -f -c "$dir/roamsmtp.conf" >"$RELAY_LOG" 2>&1 &
	RELAY_PID=$!
	PIDS+=("$RELAY_PID")
	wait_listen "$port" "$RELAY_PID" roamsmtpd "$RELAY_LOG"
}

# relay_mem_kb FIELD - VmHWM (peak resident size), RssAnon, RssFile... of
# the running relay, in kB.
relay_mem_kb() {
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$RELAY_PID/status" \
	    2>/dev/null
}

stop_relay() {
	[ -n "$RELAY_PID" ] || return 0
	stop_pid "$RELAY_PID"
	forget_pid "$RELAY_PID"
	RELAY_PID=
}

# --- one run ------------------------------------------------------------------

RUN_SECONDS='' RUN_HWM_KB='' RUN_BASE_KB='' RUN_BASE_ANON='' RUN_BASE_FILE=''
BEST=() BEST_HWM_KB='' BEST_BASE_KB=''
REPORT=$WORK/report.txt

fail_run() {
	note "FAILED: $*"
	if [ -n "$RELAY_LOG" ] && [ -s "$RELAY_LOG" ]; then
		note "last lines of the $RELAY_KIND log ($RELAY_LOG):"
		tail -n 40 "$RELAY_LOG" >&2
	fi
	note "last lines of the sink's errors:"
	tail -n 10 "$SINK_OUT.err" >&2
	note "(BENCH_KEEP=1 keeps $WORK for a closer look)"
	if [ -s "$REPORT" ]; then
		note "what was measured before the failure (not written to" \
		    "$RESULTS):"
		cat "$REPORT" >&2
	fi
	exit 1
}

# source_to PORT SESSIONS MSGS SIZE LOG - send; returns smtp-source's exit
# status (124: timed out).  It runs in the background and the script waits
# for it with the wait builtin, which a signal interrupts: bash would run
# the INT/TERM trap (and so the cleanup) only after a foreground command.
source_to() {
	local port=$1 s=$2 m=$3 l=$4 log=$5 pid rc
	timeout "$RUN_TIMEOUT" "$SMTP_SOURCE" -d -s "$s" -m "$m" -l "$l" \
	    -M bench.example -f sender@bench.example -t rcpt@sink.example \
	    "127.0.0.1:$port" >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait "$pid"
	rc=$?
	forget_pid "$pid"
	return $rc
}

# measure VARIANT SINKKIND SESSIONS MSGS SIZE [TLS]
# VARIANT is direct, socat or roamsmtpd; sets RUN_SECONDS, and for roamsmtpd
# RUN_HWM_KB (its VmHWM at the end) and RUN_BASE_* (VmHWM, RssAnon and
# RssFile after the warm-up message, before the measured run).
measure() {
	local variant=$1 sinkkind=$2 s=$3 m=$4 l=$5 tls=${6:-none}
	local sink_port relay_port port before after t0 t1 rc i log tlsn

	free_port
	sink_port=$PORT
	RELAY_KIND='' RELAY_LOG=''
	start_sink "$sinkkind" "$sink_port"
	port=$sink_port
	case $variant in
	direct) ;;
	socat)
		free_port
		relay_port=$PORT
		start_socat "$relay_port" "$sink_port"
		port=$relay_port
		;;
	roamsmtpd)
		free_port
		relay_port=$PORT
		start_roamsmtpd "$relay_port" "$sink_port" "$tls"
		port=$relay_port
		;;
	esac
	log=$WORK/source.$variant.$sink_port.log

	# One warm-up message, not timed: the relay must hand it to the sink
	# before answering, else it is not relaying (a daemon still deciding
	# which network it is on gets a few tries).
	for i in 1 2 3 4 5 6 7 8 9 10; do
		before=$(sink_count)
		source_to "$port" 1 1 "$SIZE_1K" "$log" ||
		    fail_run "$variant: warm-up message: $(tail -n 3 "$log")"
		after=$(sink_count)
		[ "$after" -eq $((before + 1)) ] && break
		[ $i -eq 10 ] && fail_run "$variant: warm-up message got its" \
		    "250 but the sink did not receive it: $variant queued" \
		    "instead of relaying"
		sleep 0.5
	done
	RUN_HWM_KB='' RUN_BASE_KB='' RUN_BASE_ANON='' RUN_BASE_FILE=''
	if [ "$variant" = roamsmtpd ]; then
		RUN_BASE_KB=$(relay_mem_kb VmHWM)
		RUN_BASE_ANON=$(relay_mem_kb RssAnon)
		RUN_BASE_FILE=$(relay_mem_kb RssFile)
	fi

	before=$(sink_count)
	t0=$EPOCHREALTIME
	source_to "$port" "$s" "$m" "$l" "$log"
	rc=$?
	t1=$EPOCHREALTIME
	after=$(sink_count)
	[ $rc -eq 124 ] && fail_run "$variant: smtp-source took more than" \
	    "${RUN_TIMEOUT}s (BENCH_TIMEOUT)"
	[ $rc -eq 0 ] || fail_run "$variant: smtp-source exit $rc:" \
	    "$(tail -n 3 "$log")"
	[ $((after - before)) -eq "$m" ] || fail_run "$variant: smtp-source" \
	    "sent $m messages but the sink received $((after - before))" \
	    "by the time the last was answered"
	[ "$variant" = roamsmtpd ] && RUN_HWM_KB=$(relay_mem_kb VmHWM)
	stop_relay
	stop_sink
	if [ "$tls" = starttls ]; then
		tlsn=$(sink_tls_count)
		[ "$tlsn" = "$(sink_count)" ] || fail_run "$variant: the sink" \
		    "took $(sink_count) messages, but only ${tlsn:-0} inside TLS"
	fi
	RUN_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# best_of NAME SESSIONS MSGS SIZE VARIANT:SINK[:TLS]...
# Measure every path RUNS times, interleaved (so that a burst of load from
# elsewhere on the machine hits all of them alike), and keep each path's
# fastest run in BEST[i], seconds: the least disturbed one.  BEST_HWM_KB is
# the largest VmHWM of the last path's runs (the roamsmtpd one), and
# BEST_BASE_KB that run's VmHWM before its measured part.
best_of() {
	local name=$1 s=$2 m=$3 l=$4 r i spec variant sink tls
	shift 4
	BEST=() BEST_HWM_KB='' BEST_BASE_KB=''
	for r in $(seq "$RUNS"); do
		i=0
		for spec in "$@"; do
			IFS=: read -r variant sink tls <<<"$spec"
			note "$name: $variant${tls:+ (tls = $tls)}," \
			    "$m messages, run $r of $RUNS"
			measure "$variant" "$sink" "$s" "$m" "$l" "${tls:-none}"
			if [ -z "${BEST[$i]:-}" ] || awk -v a="$RUN_SECONDS" \
			    -v b="${BEST[$i]}" 'BEGIN { exit !(a < b) }'; then
				BEST[i]=$RUN_SECONDS
			fi
			i=$((i + 1))
		done
		if [ -n "$RUN_HWM_KB" ] && { [ -z "$BEST_HWM_KB" ] ||
		    [ "$RUN_HWM_KB" -gt "$BEST_HWM_KB" ]; }; then
			BEST_HWM_KB=$RUN_HWM_KB
			BEST_BASE_KB=$RUN_BASE_KB
		fi
	done
}

# --- report helpers -------------------------------------------------------------

rate() {
	awk -v m="$1" -v t="$2" 'BEGIN { printf "%.1f", (t > 0) ? m / t : 0 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'
}

mb() {
	[ -n "$1" ] || { echo "?"; return; }
	awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'
}

# hwm PEAK BASE - "11.6 MB (+0.3)": the peak, and what the run added.
hwm() {
	if [ -z "$1" ] || [ -z "$2" ]; then
		echo "?"
		return
	fi
	awk -v p="$1" -v b="$2" \
	    'BEGIN { printf "%.1f MB (+%.1f)", p / 1024, (p - b) / 1024 }'
}

size_name() {
	case $1 in
	"$SIZE_1K") echo "1 KB" ;;
	"$SIZE_1M") echo "1 MB" ;;
	*) echo "$1 B" ;;
	esac
}

# out FORMAT ARGS... - a line of the report (the formats are this script's).
out() {
	# shellcheck disable=SC2059
	printf "$@" >>"$REPORT"
}

# --- the benchmark ----------------------------------------------------------------

# A report from an earlier run must not pass for this one's.
rm -f "$RESULTS"

out 'roamsmtpd relay benchmark, %s\n' "$(date '+%Y-%m-%d %H:%M:%S %z')"
out 'machine: %s CPUs (nproc), %s, Linux %s %s\n' "$(nproc)" \
    "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
    "$(uname -r)" "$(uname -m)"
out 'load average at the start: %s (other work on the machine slows every row)\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
out 'memory: %s\n' "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' \
    /proc/meminfo)"
out 'daemon: %s\n' "$DAEMON"
out 'client: smtp-source -d (one connection a session, reused); sink: smtp-sink\n'
if [ "$RUNS" -gt 1 ]; then
	out 'rates in messages/second, each the best of %s runs, the paths taking\n' \
	    "$RUNS"
	out 'turns; '
else
	out 'rates in messages/second, one run each; '
fi
out 'ratios against direct (1.000 = costs nothing).\n'
out 'VmHWM: roamsmtpd'"'"'s peak resident size at the end of the run, (+N) the\n'
out 'part of it the measured run added to the daemon after its warm-up message\n\n'
out '%-16s %6s %10s %10s %10s %8s %8s  %s\n' case msgs direct socat \
    roamsmtpd socat/d roam/d "roamsmtpd VmHWM"

for size in $SIZE_1K $SIZE_1M; do
	msgs=$MSGS_1K
	[ "$size" = $SIZE_1M ] && msgs=$MSGS_1M
	for s in 1 10; do
		name="$(size_name "$size"), $s sess"
		best_of "$name" "$s" "$msgs" "$size" direct:smtp-sink \
		    socat:smtp-sink roamsmtpd:smtp-sink
		r_d=$(rate "$msgs" "${BEST[0]}")
		r_s=$(rate "$msgs" "${BEST[1]}")
		r_r=$(rate "$msgs" "${BEST[2]}")
		out '%-16s %6s %10s %10s %10s %8s %8s  %s\n' "$name" "$msgs" \
		    "$r_d" "$r_s" "$r_r" "$(ratio "$r_s" "$r_d")" \
		    "$(ratio "$r_r" "$r_d")" "$(hwm "$BEST_HWM_KB" "$BEST_BASE_KB")"
	done
done

if [ "$DO_TLS" = 1 ]; then
	note "STARTTLS: making a CA and a certificate for 127.0.0.1/localhost"
	mkdir -p "$WORK/tls"
	(
		cd "$WORK/tls" || exit 1
		"$OPENSSL" req -x509 -newkey rsa:2048 -nodes -days 2 \
		    -subj "/CN=roamsmtp bench CA" \
		    -keyout ca.key -out ca.crt &&
		"$OPENSSL" req -newkey rsa:2048 -nodes \
		    -subj "/CN=localhost" -keyout server.key -out server.csr &&
		printf '%s\n' 'subjectAltName = IP:127.0.0.1, DNS:localhost' \
		    'basicConstraints = CA:FALSE' \
		    'keyUsage = digitalSignature, keyEncipherment' \
		    'extendedKeyUsage = serverAuth' >server.ext &&
		"$OPENSSL" x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -days 2 -extfile server.ext \
		    -out server.crt &&
		"$OPENSSL" verify -CAfile ca.crt -verify_ip 127.0.0.1 server.crt
	) >"$WORK/tls/openssl.log" 2>&1 || {
		cat "$WORK/tls/openssl.log" >&2
		die "could not make the test CA and certificate"
	}

	out '\nSTARTTLS to the upstream.  smtp-sink has no TLS, so the sink here is\n'
	out 'aiosmtpd (bench/aiosmtpd_sink.py), far slower than smtp-sink: compare\n'
	out 'these rows with each other, not with the table above.  smtp-source has\n'
	out 'no TLS either, so "direct" is plain SMTP to the same sink; roamsmtpd\n'
	out 'relays once in plain text (none) and once over STARTTLS, verifying the\n'
	out 'certificate against a CA made for this run.  The sink checks that every\n'
	out 'message of the STARTTLS run arrived inside TLS.\n\n'
	out '%-16s %6s %10s %10s %10s %8s %8s  %s\n' case msgs direct \
	    roam-none roam-tls none/d tls/d "roam-tls VmHWM"
	for size in $SIZE_1K $SIZE_1M; do
		msgs=$TLS_MSGS_1K
		[ "$size" = $SIZE_1M ] && msgs=$TLS_MSGS_1M
		for s in 1 10; do
			name="$(size_name "$size"), $s sess"
			best_of "STARTTLS $name" "$s" "$msgs" "$size" \
			    direct:aiosmtpd roamsmtpd:aiosmtpd:none \
			    roamsmtpd:aiosmtpd-tls:starttls
			r_d=$(rate "$msgs" "${BEST[0]}")
			r_n=$(rate "$msgs" "${BEST[1]}")
			r_t=$(rate "$msgs" "${BEST[2]}")
			out '%-16s %6s %10s %10s %10s %8s %8s  %s\n' "$name" \
			    "$msgs" "$r_d" "$r_n" "$r_t" \
			    "$(ratio "$r_n" "$r_d")" "$(ratio "$r_t" "$r_d")" \
			    "$(hwm "$BEST_HWM_KB" "$BEST_BASE_KB")"
		done
	done
else
	out '\nSTARTTLS part SKIPPED: %s.\n' "$TLS_SKIPPED"
fi

big=$((BIG_MB * 1024 * 1024))
out '\nOne %d MB message, one session (seconds, MB/s)\n' "$BIG_MB"
best_of "one $BIG_MB MB message" 1 1 "$big" direct:smtp-sink socat:smtp-sink \
    roamsmtpd:smtp-sink
i=0
for variant in direct socat roamsmtpd; do
	line=$(printf '%-10s %8s s %8s MB/s' "$variant" "${BEST[$i]}" \
	    "$(rate "$BIG_MB" "${BEST[$i]}")")
	out '%s\n' "$line"
	i=$((i + 1))
done
verdict="within the goal of $(mb $BIG_RSS_GOAL_KB)"
[ -n "$BEST_HWM_KB" ] && [ "$BEST_HWM_KB" -le $BIG_RSS_GOAL_KB ] ||
    verdict="OVER THE GOAL of $(mb $BIG_RSS_GOAL_KB)"
out 'roamsmtpd VmHWM %s: %s.\n' "$(hwm "$BEST_HWM_KB" "$BEST_BASE_KB")" \
    "$verdict"
out '  The message added %s to what the daemon held after its 1 KB warm-up\n' \
    "$(awk -v p="$BEST_HWM_KB" -v b="$BEST_BASE_KB" \
    'BEGIN { printf "%.1f MB", (p - b) / 1024 }')"
out '  message: RssAnon %s (its own memory), RssFile %s (mapped files: the\n' \
    "$(mb "$RUN_BASE_ANON")" "$(mb "$RUN_BASE_FILE")"
out '  program and its shared libraries, shared with other processes).\n'


cat "$REPORT"
cp "$REPORT" "$RESULTS" || die "cannot write $RESULTS"
note "results written to $RESULTS"
