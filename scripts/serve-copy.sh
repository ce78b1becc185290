# Sourced by the scripts that compare builds on the same data: `serve_copy BINARY DB COPY PORT`
# replaces COPY/db with a fresh copy of the data directory DB, starts BINARY on it at
# 127.0.0.1:PORT, waits until it answers /health, and leaves its pid in `server`;
# `stop_server` stops it.
serve_copy() {
  local binary="$1" db="$2" copy="$3" port="$4"
  rm -rf "$copy/db"
  cp -r "$db" "$copy/db"
  "$binary" --db-path "$copy/db" --http-addr "127.0.0.1:$port" --log-level warn >/dev/null 2>&1 &
  server=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.1; done
}

stop_server() {
  kill -INT "$server"
  wait "$server" || true
}
