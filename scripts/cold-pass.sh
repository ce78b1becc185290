#!/usr/bin/env bash
# What a fresh snapshot costs: for each binary in turn, starts it on a fresh copy of the data
# directory DB (one holding the corpus's index, e.g. left by bench-side-by-side.sh), waits
# SETTLE seconds (the first-keystroke warm-up runs then), and replays CORPUS's keystroke log
# once on one connection, reading each search's server-side time from `showPerformanceDetails`
# (so the client and the HTTP round trip are left out). Prints the process's resident memory
# before the pass, and the pass's total, p50, p99 and slowest search, and its slowest one-letter
# search; then how many searches took over SLOW_US microseconds (default 1500, the issue's
# 1-connection p99), in the whole pass and in its latter 57% (what the issue's 15 s window
# after 3 s of warmup holds of a first PyPI pass), and how many of those were a word of nine
# letters or more (two typos allowed).
#
#   scripts/cold-pass.sh DB CORPUS SETTLE BINARY...
#   e.g. scripts/cold-pass.sh /tmp/sbs/quarry.db pypi 6 /tmp/old/quarry target/release/quarry
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/serve-copy.sh
db="$(realpath "$1")"
corpus="$2"
settle="$3"
shift 3
log="$(realpath ../shared/queries/"$corpus".dev.keystrokes.txt)"
port=7797
copy="$(mktemp -d)"
trap 'rm -rf "$copy"' EXIT
for binary in "$@"; do
  serve_copy "$binary" "$db" "$copy" "$port"
  sleep "$settle"
  rss_kb="$(awk '/^VmRSS/ {print $2}' "/proc/$server/status")"
  python3 - "$port" "$corpus" "$log" "$binary" "$rss_kb" "${SLOW_US:-1500}" <<'PY'
import http.client, json, re, sys
port, index, path, binary, rss_kb, slow_us = sys.argv[1:7]
slow_us = float(slow_us)
units = {"ns": 1e-3, "µs": 1.0, "ms": 1e3, "s": 1e6}
def micros(text):
    value, unit = re.match(r"([\d.]+)(ns|µs|ms|s)$", text).groups()
    return float(value) * units[unit]
conn = http.client.HTTPConnection("127.0.0.1", int(port))
times = []
for q in (line.rstrip("\n") for line in open(path)):
    if not q.strip():
        continue
    body = json.dumps({"q": q, "showPerformanceDetails": True})
    conn.request("POST", f"/indexes/{index}/search", body, {"Content-Type": "application/json"})
    answer = json.loads(conn.getresponse().read())
    times.append((q, micros(answer["performanceDetails"]["search"])))
spent = sorted(t for _, t in times)
n = len(spent)
one_letter = max((t for q, t in times if len(q) == 1), default=0.0)
print("%s: RSS before %.0f MB; %d searches, total %.0f ms, p50 %.0f us, p99 %.0f us, "
      "max %.1f ms, slowest one-letter %.1f ms" % (
          binary, int(rss_kb) / 1024, n, sum(spent) / 1e3, spent[n // 2],
          spent[n * 99 // 100], spent[-1] / 1e3, one_letter / 1e3))
latter = times[int(n * 0.43):]
slow = [q for q, t in latter if t > slow_us]
long_words = [q for q in slow if len(q.split(" ")[-1]) >= 9]
print("  over %.0f us: %d of the pass; %d of its latter 57%%, %d of them a word of 9 letters "
      "or more" % (slow_us, sum(1 for t in spent if t > slow_us), len(slow), len(long_words)))
PY
  stop_server
done
