#!/usr/bin/env bash
# Whether two builds answer the same: each binary is started in turn on the same data
# directory (one holding the PyPI index, e.g. left by bench-side-by-side.sh), every body of
# BODIES (one JSON search per line, by default crates/bench/requests/pypi-answers.ndjson:
# filters, complements, ranges, sorts both ways with offsets, facets, ranking details) is sent
# to /indexes/$SAME_INDEX/search, and the responses' text, without processingTimeMs, is
# compared byte for byte (so the order of keys counts too). Prints "same answers" or the
# differing lines, and exits non-zero when they differ.
#
#   scripts/same-answers.sh DB BINARY_A BINARY_B [BODIES]
# SAME_INDEX picks the index (default pypi; e.g. debian with a Debian body file).
set -euo pipefail
cd "$(dirname "$0")/.."
db="$(realpath "$1")"
bodies="$(realpath "${4:-crates/bench/requests/pypi-answers.ndjson}")"
index="${SAME_INDEX:-pypi}"
port=7797
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for side in a b; do
  if [ "$side" = a ]; then binary="$2"; else binary="$3"; fi
  "$binary" --db-path "$db" --http-addr "127.0.0.1:$port" --log-level warn >"$out/$side.log" 2>&1 &
  server=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.2; done
  while IFS= read -r body; do
    curl -s "http://127.0.0.1:$port/indexes/$index/search" \
      -H 'content-type: application/json' -d "$body" | sed -E 's/"processingTimeMs":[0-9]+//'
    echo
  done <"$bodies" >"$out/$side.json"
  kill -INT "$server"
  wait "$server" || true
done
if cmp -s "$out/a.json" "$out/b.json"; then
  echo "same answers ($(wc -l <"$bodies") searches)"
else
  diff "$out/a.json" "$out/b.json" | head -20
  exit 1
fi
