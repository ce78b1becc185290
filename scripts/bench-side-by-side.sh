#!/usr/bin/env bash
# The performance issue's table, measured side by side: for each engine binary given, RUNS
# times, a fresh server on an empty data directory is loaded with PyPI and Debian through the
# HTTP API and measured (quarry-bench index, keystrokes, requests), then restarted to time its
# first answered search. Every figure is kept as JSON under OUT; the table printed at the end
# holds the median of the runs for each engine.
#
#   scripts/bench-side-by-side.sh OUT RUNS SECONDS ENGINE=BINARY [ENGINE=BINARY...]
#   e.g. scripts/bench-side-by-side.sh /tmp/sbs 3 15 \
#          quarry=target/release/quarry meilisearch=/path/to/meilisearch
#
# An engine named meilisearch* is started with `--no-analytics --max-indexing-threads 2`
# (what the issue's Meilisearch figures used), any other with Quarry's flags. Needs
# target/release/quarry-bench (CARGO_TARGET_DIR is honoured). The engines run one after the
# other, never together; the client shares the machine's two cores with the server. After each
# load the script waits until the server is idle (`--settle-idle`: less than 5% of a core for a
# second), so work an engine does after its tasks (Quarry's background segment merge) is over
# before searches are measured; the table shows how long that took ("idle after"), and the
# peak RSS and data dir size are read after it.
# QUARRY_BENCH_WARMUP=25s replays keystrokes after a warmup of that length instead of 3 s.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "$1")"
runs="$2"
seconds="$3"
shift 3
repo="$(pwd)"
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
bench="$target_dir/release/quarry-bench"
[ -x "$bench" ] || { echo "build it first: cargo build --release -p quarry-bench" >&2; exit 1; }
mkdir -p "$out"
port=7795
# Keystroke warmup: 3 s by default; 25s covers one pass of the PyPI file (warm caches).
warmup="${QUARRY_BENCH_WARMUP:-3s}"
url="http://127.0.0.1:$port"

start_server() { # name binary db
  local name="$1" binary="$2" db="$3"
  case "$name" in
  meilisearch*)
    # Run from the data directory's parent so no stray config.toml is picked up.
    (cd "$(dirname "$db")" && exec "$binary" --db-path "$db" --http-addr "127.0.0.1:$port" \
      --no-analytics --max-indexing-threads 2 --log-level WARN >"$db.log" 2>&1) &
    ;;
  *)
    "$binary" --db-path "$db" --http-addr "127.0.0.1:$port" --log-level warn >"$db.log" 2>&1 &
    ;;
  esac
  server=$!
  until curl -sf "$url/health" >/dev/null; do sleep 0.1; done
}

stop_server() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}

for run in $(seq 1 "$runs"); do
  for spec in "$@"; do
    name="${spec%%=*}"
    binary="$(realpath "${spec#*=}")"
    db="$out/$name.db"
    prefix="$out/$name.run$run"
    rm -rf "$db"
    echo "== $name run $run"
    start_server "$name" "$binary" "$db"
    "$bench" --url "$url" --json index --corpus pypi --pid "$server" --db-path "$db" --settle-idle \
      >"$prefix.index-pypi.json"
    "$bench" --url "$url" --json keystrokes --corpus pypi --connections 1 \
      --duration "${seconds}s" --warmup "$warmup" >"$prefix.keys-pypi-1.json"
    "$bench" --url "$url" --json keystrokes --corpus pypi --connections 4 \
      --duration "${seconds}s" --warmup "$warmup" >"$prefix.keys-pypi-4.json"
    "$bench" --url "$url" --json requests --index pypi --connections 1 \
      --duration "${seconds}s" --warmup 2s --body @crates/bench/requests/pypi-combined.json \
      >"$prefix.combined-1.json"
    "$bench" --url "$url" --json index --corpus debian --pid "$server" --db-path "$db" --settle-idle \
      >"$prefix.index-debian.json"
    "$bench" --url "$url" --json keystrokes --corpus debian --connections 4 \
      --duration "${seconds}s" --warmup "$warmup" >"$prefix.keys-debian-4.json"
    # Restart with both indexes on disk; time from exec to the first search with hits.
    stop_server
    case "$name" in
    meilisearch*) extra=(--no-analytics --max-indexing-threads 2) ;;
    *) extra=() ;;
    esac
    FIRST_SEARCH_CWD="$(dirname "$db")" scripts/first-search.py "$port" pypi requests -- \
      "$binary" --db-path "$db" --http-addr "127.0.0.1:$port" "${extra[@]}" >"$prefix.restart.json"
  done
done

python3 - "$out" "$runs" "$@" <<'PY'
import json, statistics, sys
out, runs, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
names = [s.split("=", 1)[0] for s in specs]

def load(name, run, what):
    with open(f"{out}/{name}.run{run}.{what}.json") as f:
        return json.load(f)

measures = [
    ("index pypi: wall s", lambda n, r: load(n, r, "index-pypi")["wall_seconds"]),
    ("index pypi: server CPU s", lambda n, r: (load(n, r, "index-pypi").get("cpu") or {}).get("seconds")),
    ("index pypi: idle after s", lambda n, r: load(n, r, "index-pypi")["idle_after_seconds"]),
    ("index pypi: peak RSS MB", lambda n, r: load(n, r, "index-pypi")["peak_rss"]["vm_hwm_bytes"] / 1e6),
    ("index pypi: data dir MB", lambda n, r: load(n, r, "index-pypi")["disk"]["bytes"] / 1e6),
    ("index debian: wall s", lambda n, r: load(n, r, "index-debian")["wall_seconds"]),
    ("index debian: idle after s", lambda n, r: load(n, r, "index-debian")["idle_after_seconds"]),
    ("keys pypi 4 conn: QPS", lambda n, r: load(n, r, "keys-pypi-4")["qps"]),
    ("keys pypi 4 conn: p99 ms", lambda n, r: load(n, r, "keys-pypi-4")["latency"]["p99_ms"]),
    ("keys pypi 1 conn: p50 ms", lambda n, r: load(n, r, "keys-pypi-1")["latency"]["p50_ms"]),
    ("keys pypi 1 conn: p99 ms", lambda n, r: load(n, r, "keys-pypi-1")["latency"]["p99_ms"]),
    ("keys pypi 1 conn: QPS", lambda n, r: load(n, r, "keys-pypi-1")["qps"]),
    ("keys debian 4 conn: QPS", lambda n, r: load(n, r, "keys-debian-4")["qps"]),
    ("keys debian 4 conn: p99 ms", lambda n, r: load(n, r, "keys-debian-4")["latency"]["p99_ms"]),
    ("pypi combined 1 conn: QPS", lambda n, r: load(n, r, "combined-1")["qps"]),
    ("pypi combined 1 conn: p50 ms", lambda n, r: load(n, r, "combined-1")["latency"]["p50_ms"]),
    ("restart to first search ms", lambda n, r: load(n, r, "restart")["restart_first_search_seconds"] * 1000),
]
print(f"median of {runs} run(s); each cell: median (all runs)")
print("| measure | " + " | ".join(names) + " |")
print("|---|" + "---|" * len(names))
for label, get in measures:
    cells = []
    for name in names:
        values = []
        for run in range(1, runs + 1):
            try:
                v = get(name, run)
            except (OSError, KeyError, TypeError):
                v = None
            if v is not None:
                values.append(v)
        if values:
            fmt = (lambda v: f"{v:.2f}") if max(values) < 100 else (lambda v: f"{v:.0f}")
            cells.append(f"{fmt(statistics.median(values))} ({', '.join(fmt(v) for v in values)})")
        else:
            cells.append("-")
    print(f"| {label} | " + " | ".join(cells) + " |")
PY
