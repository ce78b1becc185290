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
python3 - "$DB" "$PORT" "$RUNS" <<'PY'
import json, statistics, subprocess, sys, time, urllib.request
db, port, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = f"http://127.0.0.1:{port}/indexes/pypi/search?q=requests"
times = []
for run in range(runs):
    start = time.monotonic()
    server = subprocess.Popen(["./target/release/quarry", "--db-path", db,
                               "--http-addr", f"127.0.0.1:{port}", "--log-level", "warn"])
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200 and json.load(response)["hits"]:
                    break
        except Exception:
            pass
        time.sleep(0.005)
    elapsed = time.monotonic() - start
    times.append(elapsed)
    print(f"run {run + 1}: first search answered {elapsed * 1000:.0f} ms after the start", flush=True)
    server.terminate()
    server.wait()
print(f"median of {runs}: {statistics.median(times) * 1000:.0f} ms")
PY
