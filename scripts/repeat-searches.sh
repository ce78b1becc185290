#!/usr/bin/env bash
# Server-side time of a few searches, each repeated, for comparing builds on the keystrokes an
# optimisation is for: for each binary in turn, starts it on a fresh copy of the data directory
# DB (one holding the index, e.g. left by bench-side-by-side.sh), waits SETTLE seconds (default
# 8: the restart's warm-up and segment tables), sends every query of QUERIES (one a line) once,
# then all of them REPS more times on one connection, reading each search's time from
# `showPerformanceDetails` (the client and the HTTP round trip are left out). Prints, per
# binary, the sum of the queries' median times and each query's median (microseconds). Give
# the binaries more than once (OLD NEW OLD NEW) to see the machine's noise.
#
#   scripts/repeat-searches.sh DB INDEX REPS QUERIES BINARY...
#   e.g. scripts/repeat-searches.sh /tmp/sbs/quarry.db debian 20 slow.txt /tmp/old/quarry \
#          target/release/quarry /tmp/old/quarry target/release/quarry
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/serve-copy.sh
db="$(realpath "$1")"
index="$2"
reps="$3"
queries="$(realpath "$4")"
shift 4
port=7795
copy="$(mktemp -d)"
trap 'rm -rf "$copy"' EXIT
for binary in "$@"; do
  serve_copy "$binary" "$db" "$copy" "$port"
  sleep "${SETTLE:-8}"
  python3 - "$port" "$index" "$reps" "$queries" "$binary" <<'PY'
import http.client, json, re, sys
port, index, reps, path, binary = sys.argv[1:6]
units = {"ns": 1e-3, "µs": 1.0, "ms": 1e3, "s": 1e6}
def micros(text):
    value, unit = re.match(r"([\d.]+)(ns|µs|ms|s)$", text).groups()
    return float(value) * units[unit]
queries = [line.rstrip("\n") for line in open(path) if line.strip()]
conn = http.client.HTTPConnection("127.0.0.1", int(port))
def search(q):
    body = json.dumps({"q": q, "showPerformanceDetails": True})
    conn.request("POST", f"/indexes/{index}/search", body, {"Content-Type": "application/json"})
    return micros(json.loads(conn.getresponse().read())["performanceDetails"]["search"])
for q in queries:
    search(q)
times = {q: [] for q in queries}
for _ in range(int(reps)):
    for q in queries:
        times[q].append(search(q))
medians = [sorted(times[q])[len(times[q]) // 2] for q in queries]
print("%s: sum of medians %.0f us; %s" % (
    binary, sum(medians), " ".join("%.0f" % m for m in medians)))
PY
  stop_server
done
