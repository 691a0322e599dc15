#!/bin/sh
# run.sh — make bench: print performance figures. Never gates anything.
cd "$(dirname "$0")/../.." || exit 1
echo "== recoveryd benchmarks on $(nproc) cores, $(date -u +%Y-%m-%d)"
build/bench/bench_core contrib/samples/events.jsonl "${BENCH_SECONDS:-3}"
