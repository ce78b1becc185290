#!/usr/bin/env bash
# Instruction counts of the slow searches of a first (cold) pass, each in its place: a Quarry
# binary is started under callgrind (instrumentation off) on a fresh copy of a data directory,
# left SETTLE seconds (default 20) for its warm-up, and sent a keystroke log in order on one
# connection; instrumentation is switched on around the searches whose line numbers (0-based,
# one per line) are in INDICES only, so each is measured with exactly the caches the searches
# before it left, as in a benchmark's first pass. The profile is written to OUT.1 (read it with
# `callgrind_annotate --inclusive=yes OUT.1`). Needs valgrind.
#
#   scripts/profile-cold-tail.sh DB OUT INDEX INDICES
#   e.g. scripts/profile-cold-tail.sh /tmp/sbs/quarry-1.db /tmp/cg-tail pypi slow-lines.txt
# QUARRY_BIN picks the binary (default target/release/quarry; a build without LTO names the
# functions better), KEYSTROKES the log (default ../shared/queries/INDEX.dev.keystrokes.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
db="$(realpath "$1")"
out="$(realpath -m "$2")"
index="$3"
indices="$(realpath "$4")"
log="$(realpath "${KEYSTROKES:-../shared/queries/$index.dev.keystrokes.txt}")"
bin="${QUARRY_BIN:-target/release/quarry}"
port=7795
copy="$(mktemp -d)"
cp -r "$db" "$copy/db"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" "$bin" \
  --db-path "$copy/db" --http-addr "127.0.0.1:$port" --log-level warn >"$out.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$copy"' EXIT
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.5; done
sleep "${SETTLE:-20}"
python3 - "$port" "$index" "$log" "$indices" "$server" <<'PY'
import http.client, json, subprocess, sys
port, index, log, indices, pid = sys.argv[1:6]
measured = {int(line) for line in open(indices) if line.strip()}
queries = [line.rstrip("\n") for line in open(log) if line.strip()]
conn = http.client.HTTPConnection("127.0.0.1", int(port))
on = False
def instrument(state):
    subprocess.run(["callgrind_control", "-i", state, pid], capture_output=True, check=True)
for i, q in enumerate(queries[: max(measured, default=-1) + 1]):
    # Switched only where the state changes: a run of measured lines stays instrumented (each
    # switch costs a `callgrind_control` call, a fraction of a second).
    if (i in measured) != on:
        on = not on
        instrument("on" if on else "off")
    conn.request("POST", f"/indexes/{index}/search", json.dumps({"q": q}),
                 {"Content-Type": "application/json"})
    conn.getresponse().read()
PY
callgrind_control -d "$server" >/dev/null
kill "$server"
wait "$server" || true
echo "profile: $out.1"
