#!/bin/bash
# run_fuzz.sh BINARY NAME SECONDS WORKDIR [libFuzzer flags...] - run one
# libFuzzer target for a bounded time, from its seed corpus
# (tests/fuzz/corpus/NAME, read only) and the inputs it found before in
# WORKDIR/corpus; with its dictionary, when it has one.
#
# A crash leaves its input in WORKDIR/artifacts and fails; the message says
# how to make it a regression test.  The last lines printed are libFuzzer's
# final statistics (stat::number_of_executed_units ...), which
# bench/reliability.sh adds up.
set -euo pipefail

bin=$1 name=$2 seconds=$3 work=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
seeds=$here/corpus/$name
mkdir -p "$work/corpus" "$work/artifacts"
# The session and control targets commit messages (fsync) and make a queue
# for every input: on tmpfs that costs nothing.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm
fi

flags=(-max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048
    -print_final_stats=1 -artifact_prefix="$work/artifacts/")
case $name in
smtp_parse|smtp_session) dict=smtp ;;
smtp_reply) dict=reply ;;
pop_reply) dict=pop ;;
profile|conf) dict=ini ;;
*) dict=json ;;
esac
flags+=(-dict="$here/dict/$dict.dict")
case $name in
# A session and the control socket read commands in a stream: let an input
# hold a whole transaction and more.
smtp_session|control) flags+=(-max_len=16384) ;;
esac

rc=0
"$bin" "${flags[@]}" "$@" "$work/corpus" "$seeds" 2> "$work/log" || rc=$?
grep -E '^(stat::|#[0-9]+ +DONE|INFO: (Loaded|seed corpus))' "$work/log" || true
if [ "$rc" -ne 0 ]; then
	tail -n 60 "$work/log" >&2
	for a in "$work"/artifacts/*; do
		[ -e "$a" ] || continue
		printf '\nfuzz/%s found %s; keep it as a regression test:\n' \
		    "$name" "$a" >&2
		printf '  cp %s %s/crash-%s-WHAT\n' "$a" "$seeds" "$name" >&2
	done
	exit "$rc"
fi
