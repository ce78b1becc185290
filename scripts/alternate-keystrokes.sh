#!/usr/bin/env bash
# Compares builds on keystroke load, taking turns so that the machine's slow and fast moments
# fall on every build: for each of ROUNDS rounds, each binary in turn is started on a fresh copy
# of the data directory DB (one holding the corpus's index, e.g. left by bench-side-by-side.sh)
# and `quarry-bench keystrokes` replays CORPUS for SECONDS (after a 3 s warmup) on CONNECTIONS
# keep-alive connections. Prints one line per run: round, binary, QPS and latency percentiles.
#
#   scripts/alternate-keystrokes.sh DB CORPUS ROUNDS SECONDS CONNECTIONS BINARY...
#   e.g. scripts/alternate-keystrokes.sh /tmp/sbs/quarry.db debian 3 10 4 /tmp/old/quarry \
#          target/release/quarry
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/serve-copy.sh
db="$(realpath "$1")"
corpus="$2"
rounds="$3"
seconds="$4"
connections="$5"
shift 5
bench="${CARGO_TARGET_DIR:-target}/release/quarry-bench"
[ -x "$bench" ] || { echo "build it first: cargo build --release -p quarry-bench" >&2; exit 1; }
port=7796
copy="$(mktemp -d)"
trap 'rm -rf "$copy"' EXIT
for round in $(seq 1 "$rounds"); do
  for binary in "$@"; do
    serve_copy "$binary" "$db" "$copy" "$port"
    result="$("$bench" --url "http://127.0.0.1:$port" --json keystrokes --corpus "$corpus" \
      --connections "$connections" --duration "${seconds}s" --warmup 3s)"
    stop_server
    echo "$result" | python3 -c '
import json, sys
d = json.load(sys.stdin)
l = d["latency"]
print("round %s  %s  QPS %.0f  p50 %.3f  p90 %.3f  p99 %.3f  max %.2f ms" % (
    sys.argv[1], sys.argv[2], d["qps"], l["p50_ms"], l["p90_ms"], l["p99_ms"], l["max_ms"]))
' "$round" "$binary"
  done
done
