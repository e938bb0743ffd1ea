#!/usr/bin/env bash
# Run a fuzz target for SECONDS.
#
#   tests/fuzz/run.sh BINARY SECONDS [SEEDDIR]
#
# The seed corpus (SEEDDIR, by default tests/fuzz/corpus, the parse +
# translate target's) is copied into build/fuzz/<name of SEEDDIR>, which
# libFuzzer grows with what it finds (the repository's seeds only change
# on purpose, through make_corpus*.py). Crashing inputs go to
# build/fuzz/findings/ (findings-<suffix>/ for a SEEDDIR corpus_<suffix>,
# so two targets never mix theirs), the log to build/fuzz/last-run.log
# (last-run-<suffix>.log). FUZZ_MAX_LEN (default 2048) is libFuzzer's
# -max_len. Exits non-zero when libFuzzer fails or leaves any new
# finding; reproduce one with `BINARY build/fuzz/findings/crash-...`.
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 BINARY SECONDS [SEEDDIR]" >&2
	exit 2
fi
bin=$1
secs=$2

root=$(cd "$(dirname "$0")/../.." && pwd)
seeds=${3:-$root/tests/fuzz/corpus}
seeds=$(cd "$seeds" && pwd)
name=$(basename "$seeds")
case $name in
corpus) tag= ;;
corpus_*) tag=-${name#corpus_} ;;
*) tag=-$name ;;
esac
scratch=$root/build/fuzz/$name
findings=$root/build/fuzz/findings$tag
log=$root/build/fuzz/last-run$tag.log

mkdir -p "$scratch" "$findings"
cp -p "$seeds"/* "$scratch"/ 2>/dev/null || true
stamp=$(mktemp "$root/build/fuzz/.start.XXXXXX")
trap 'rm -f "$stamp"' EXIT

echo "[+] fuzzing $bin for ${secs}s: $(ls "$scratch" | wc -l) inputs in $scratch"
# -max_len: by default big enough for the 576/1280-byte ICMP error limits
# and 1500 MTUs; a target fed sequences of packets wants more.
rc=0
"$bin" -max_total_time="$secs" -max_len="${FUZZ_MAX_LEN:-2048}" -timeout=10 -print_final_stats=1 \
	-artifact_prefix="$findings/" "$scratch" "$seeds" >"$log" 2>&1 || rc=$?

grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb)' \
	"$log" || true
new=$(find "$findings" -type f -newer "$stamp" | sort)
if [ -n "$new" ]; then
	echo "[!] findings:"
	echo "$new"
	# The report's head (the faulting frames), then the tail (the stats);
	# each finding as base64 so a CI log alone is enough to replay it.
	grep -m1 -B 4 -A 40 -E '^==[0-9]+==|deadly signal|^(SUMMARY|INFO): .*(leak|timeout|abort)' "$log" || true
	tail -n 12 "$log"
	for f in $new; do
		echo "[!] $(basename "$f") as base64 (base64 -d > input):"
		base64 -w 0 "$f" | head -c 24000
		echo
	done
	[ "$rc" -ne 0 ] || rc=1
elif [ "$rc" -ne 0 ]; then
	echo "[!] $bin exited with $rc; last lines of $log:"
	tail -n 60 "$log"
fi
echo "[+] corpus now $(ls "$scratch" | wc -l) inputs; full log: $log"
exit "$rc"
