#!/usr/bin/env bash
# Measures restart-to-first-search (issue 6): loads the PyPI corpus (886k documents) into a
# fresh release instance with quarry-bench, stops it, then starts it RUNS times and reports how
# long after each start the first search answered with hits, and the median.
# Usage: scripts/restart-first-search.sh [DB_DIR] [PORT] [RUNS]   (after
# `cargo build --release -p quarry -p quarry-bench`)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${1:-/tmp/quarry-restart/pypi.db}
PORT=${2:-7791}
RUNS=${3:-2}
rm -rf "$DB"
mkdir -p "$(dirname "$DB")"
./target/release/quarry --db-path "$DB" --http-addr "127.0.0.1:$PORT" --log-level warn &
PID=$!
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.2; done
./target/release/quarry-bench index --corpus pypi --url "http://127.0.0.1:$PORT" --pid "$PID" --db-path "$DB"
kill -TERM "$PID"
wait "$PID" || true
times=()
for run in $(seq 1 "$RUNS"); do
  seconds="$(scripts/first-search.py "$PORT" pypi requests -- ./target/release/quarry --db-path "$DB" \
    --http-addr "127.0.0.1:$PORT" --log-level warn | sed 's/.*: *\([0-9.]*\)}/\1/')"
  ms="$(python3 -c "print(round($seconds * 1000))")"
  echo "run $run: first search answered $ms ms after the start"
  times+=("$ms")
done
printf '%s\n' "${times[@]}" | sort -n | python3 -c "import sys, statistics; v=[int(l) for l in sys.stdin]; print(f'median of {len(v)}: {statistics.median(v):.0f} ms')"
