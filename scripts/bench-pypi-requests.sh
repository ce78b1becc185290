#!/usr/bin/env bash
# The PyPI request set of the filters and performance issues over HTTP, against any server
# speaking the Meilisearch API: loads the corpus (unless QUARRY_BENCH_SKIP_LOAD=1), then runs
# every crates/bench/requests/pypi-*.json body at 1 and 4 connections, RUNS times each, and
# prints one line per run (p50/p99 in ms, QPS). Quote the median of the runs.
#
#   scripts/bench-pypi-requests.sh [URL] [RUNS] [SECONDS]
#
# Default: http://127.0.0.1:7700, 3 runs, 10 s each. Needs target/release/quarry-bench
# (cargo build --release -p quarry-bench); CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
url="${1:-http://127.0.0.1:7700}"
runs="${2:-3}"
seconds="${3:-10}"
bench="${CARGO_TARGET_DIR:-target}/release/quarry-bench"
if [ ! -x "$bench" ]; then
  echo "build it first: cargo build --release -p quarry-bench" >&2
  exit 1
fi
if [ "${QUARRY_BENCH_SKIP_LOAD:-0}" != 1 ]; then
  "$bench" index --corpus pypi --url "$url"
fi
printf '%-14s %5s %4s %9s %9s %8s\n' request conns run p50_ms p99_ms qps
for body in crates/bench/requests/pypi-*.json; do
  name="$(basename "$body" .json)"
  name="${name#pypi-}"
  for conns in 1 4; do
    for run in $(seq 1 "$runs"); do
      out="$("$bench" requests --url "$url" --index pypi --connections "$conns" \
        --duration "${seconds}s" --warmup 2s --body "@$body")"
      p50="$(sed -n 's/.*p50 \([0-9.]*\).*/\1/p' <<<"$out")"
      p99="$(sed -n 's/.*p99 \([0-9.]*\).*/\1/p' <<<"$out")"
      qps="$(sed -n 's/^QPS: *\([0-9.]*\).*/\1/p' <<<"$out")"
      printf '%-14s %5s %4s %9s %9s %8s\n' "$name" "$conns" "$run" "$p50" "$p99" "$qps"
    done
  done
done
