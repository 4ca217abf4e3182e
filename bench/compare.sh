#!/usr/bin/env bash
# Runs the benchmark targets of docs/BENCHMARKS.md: each one a
# `roomcast-bench compare` of Roomcast's examples/reference against the
# Node.js socket.io 4.8.4 server of bench/node, alternated A B A B.
#
#   bench/compare.sh                 # every target
#   bench/compare.sh fanout-w10 echo # some of them
#   QUICK=1 bench/compare.sh         # small sizes, a smoke test of the whole chain
#
# Environment: ROUNDS (default 2), DURATION (default 30s), OUT (default
# /tmp/roomcast-bench-<time>): where each target's table, JSON and SVG go;
# REDIS (default redis://127.0.0.1:6379/0): the Redis of cluster2.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-30s}
OUT=${OUT:-/tmp/roomcast-bench-$(date +%Y%m%d-%H%M%S)}
HOLD=5m
REDIS=${REDIS:-redis://127.0.0.1:6379/0} # cluster2: two servers of each kind joined through it
N_FAN=1000 N_ECHO=100 N_CONN=10000 N_IDLE=100000
if [[ -n "${QUICK:-}" ]]; then
	DURATION=3s HOLD=10s N_FAN=200 N_ECHO=20 N_CONN=2000 N_IDLE=5000
fi

declare -A TARGETS=(
	[fanout-w10]="-scenario fanout -n $N_FAN -rooms 10 -window 10 -d $DURATION"
	[fanout-w40]="-scenario fanout -n $N_FAN -rooms 10 -window 40 -d $DURATION"
	[fanout-1room]="-scenario fanout -n $N_FAN -rooms 1 -window 10 -d $DURATION"
	[fanout-rate500]="-scenario fanout -n $N_FAN -rooms 10 -rate 500 -d $DURATION"
	[echo]="-scenario echo -n $N_ECHO -d $DURATION"
	[connect]="-scenario connect -n $N_CONN -c 200"
	[idle-100k]="-scenario connect -n $N_IDLE -c 500 -hold $HOLD -timeout 30m"
	[cluster2]="-scenario fanout -n $N_FAN -rooms 10 -window 10 -cluster 2 -redis $REDIS -d $DURATION"
)
ORDER=(fanout-w10 fanout-w40 fanout-1room fanout-rate500 echo connect cluster2 idle-100k)
if (($# > 0)); then ORDER=("$@"); fi

mkdir -p "$OUT"
go build -o "$OUT/roomcast-bench" ./cmd/roomcast-bench
go build -o "$OUT/reference" ./examples/reference
(cd bench/node && { [[ -d node_modules/socket.io ]] || npm ci --no-audit --no-fund; })

for name in "${ORDER[@]}"; do
	args=${TARGETS[$name]:?unknown target $name (${!TARGETS[*]})}
	echo "== $name: $args" >&2
	# shellcheck disable=SC2086 # args is a list of flags
	"$OUT/roomcast-bench" compare $args -rounds "$ROUNDS" -reference-bin "$OUT/reference" \
		-chart "$OUT/$name.svg" -progress 5s >"$OUT/$name.txt" 2>"$OUT/$name.log"
	sed '$d' "$OUT/$name.txt" # the table, without the summary JSON line
	tail -n 1 "$OUT/$name.txt" >"$OUT/$name.json"
	echo
done
echo "results in $OUT" >&2
