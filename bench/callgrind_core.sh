#!/bin/sh
# Instructions per packet of the engine, phase by phase, under callgrind:
# repeatable where timings on a shared machine are not.
#
#   bench/callgrind_core.sh BUILD/bench-core [bench-core options]
#
# Default options: -P -f 16384 -r 1 -w 1000 (a profile run: no memory
# child, no scaling). Every run_engine() pass is dumped on its own (see
# bench_core.c); this prints Ir/packet per pass, the copy included
# (about 50 instructions), and leaves the dumps in $OUT (default
# /tmp/callgrind-core.$$) for callgrind_annotate.
set -eu
bin=$1
shift
[ $# -gt 0 ] || set -- -P -f 16384 -r 1 -w 1000
out=${OUT:-/tmp/callgrind-core.$$}
mkdir -p "$out"
valgrind --tool=callgrind --compress-strings=no --compress-pos=no --callgrind-out-file="$out/cg.out" \
	"$bin" "$@" >"$out/bench.txt" 2>"$out/valgrind.txt"
for f in $(ls "$out"/cg.out.* | sort -t. -k3 -n); do
	desc=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")
	ir=$(sed -n 's/^totals: //p' "$f" | cut -d' ' -f1)
	n=${desc##*packets }
	printf '%-44s %8.0f Ir/packet\n' "${desc%%; packets*}" "$(echo "$ir / $n" | bc -l)"
done
echo "(dumps in $out)"
