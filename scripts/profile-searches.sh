#!/usr/bin/env bash
# Instruction counts of some searches, free of the machine's noise: a Quarry binary is started
# under callgrind (instrumentation off) on an existing data directory, left SETTLE seconds
# (default 20) for its restart warm-up, sent every query once (their caches warm), then every
# query PASSES more times with instrumentation on; the profile of those is written to OUT.1
# (read it with `callgrind_annotate --inclusive=yes OUT.1`; the line of `Index>::search_in` is
# the searches' cost). Needs valgrind.
#
#   scripts/profile-searches.sh DB OUT INDEX PASSES QUERY...
#   e.g. scripts/profile-searches.sh /tmp/sbs/quarry-1.db /tmp/cg pypi 1 "django d" "odoo a"
# QUARRY_BIN picks the binary (default target/release/quarry), SETTLE the wait. COLD=1 skips the
# warming pass: each query's first search is the one measured (a fresh server's cold pass, when
# no query repeats).
set -euo pipefail
cd "$(dirname "$0")/.."
db="$1"
out="$(realpath -m "$2")"
index="$3"
passes="$4"
shift 4
bin="${QUARRY_BIN:-target/release/quarry}"
port=7798
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" "$bin" \
  --db-path "$db" --http-addr "127.0.0.1:$port" --log-level warn >"$out.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.5; done
sleep "${SETTLE:-20}"
search() {
  local body
  body="$(python3 -c 'import json,sys; print(json.dumps({"q": sys.argv[1]}))' "$1")"
  curl -s -o /dev/null "http://127.0.0.1:$port/indexes/$index/search" \
    -H 'content-type: application/json' --data "$body"
}
if [ -z "${COLD:-}" ]; then
  for q in "$@"; do search "$q"; done
fi
callgrind_control -i on "$server" >/dev/null
for _ in $(seq 1 "$passes"); do
  for q in "$@"; do search "$q"; done
done
callgrind_control -d "$server" >/dev/null
kill "$server"
wait "$server" || true
echo "profile: $out.1"
