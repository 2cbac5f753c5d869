#!/usr/bin/env bash
# Runs the browser tests: starts the already-built `target/debug/insights serve` with its own
# embedded PostgreSQL in a throwaway data folder on a free loopback port, reads the demo admin's
# one-time password from its banner, runs the suite in headless Chromium with Node's test
# runner, and stops the server (by its PID, with SIGTERM) however the run ends.
# Screenshots land in artifacts/screenshots/, the server's log in artifacts/e2e-server.log.
# Needs `bash e2e/install.sh` first and a built binary (`cargo build -p server`, or any
# `cargo test` that builds it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bin="${INSIGHTS_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/insights}"
if [ ! -x "$bin" ]; then
  echo "e2e: $bin is missing: build it first with 'cargo build -p server'" >&2
  exit 1
fi
if [ ! -d e2e/node_modules/playwright-core ]; then
  echo "e2e: playwright-core is not installed: run 'bash e2e/install.sh' first" >&2
  exit 1
fi

artifacts="$root/artifacts"
rm -rf "$artifacts/screenshots" "$artifacts/downloads"
mkdir -p "$artifacts/screenshots" "$artifacts/downloads"
log="$artifacts/e2e-server.log"

# As root the embedded PostgreSQL runs as `postgres`, which must be able to reach the folder.
data="$(mktemp -d /tmp/insights-e2e.XXXXXX)"
chmod 755 "$data"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

server_pid=""
node_pid=""
cleanup() {
  local status=$?
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$log" ]; then
    echo "e2e: failed; the server's last log lines:" >&2
    tail -n 40 "$log" >&2
  fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # The server stops its PostgreSQL itself on SIGTERM; give it time to.
    for _ in $(seq 1 60); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      echo "e2e: the server did not stop in 30 s; killing it" >&2
      kill -KILL "$server_pid" 2>/dev/null || true
      # Its PostgreSQL was started by it for this run only: stop that one too, by its PID.
      pg_pid="$(head -n 1 "$data/postgres/postmaster.pid" 2>/dev/null || true)"
      if [ -n "$pg_pid" ]; then kill -TERM "$pg_pid" 2>/dev/null || true; sleep 2; fi
    fi
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$data"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "e2e: starting $bin serve on 127.0.0.1:$port (data in $data)"
env -u DATABASE_URL \
  INSIGHTS_DATA_DIR="$data" \
  INSIGHTS_BIND="127.0.0.1:$port" \
  INSIGHTS_LOG_FORMAT=json \
  INSIGHTS_NOTICE_INTERVAL_SECONDS=2 \
  RUST_LOG="${RUST_LOG:-info}" \
  "$bin" serve >"$log" 2>&1 &
server_pid=$!

# Wait (at most 120 s) for the banner that ends with "Press Ctrl-C".
for _ in $(seq 1 240); do
  grep -q "Press Ctrl-C" "$log" 2>/dev/null && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "e2e: the server exited early:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.5
done
if ! grep -q "Press Ctrl-C" "$log"; then
  echo "e2e: the server did not start within 120 s:" >&2
  tail -n 50 "$log" >&2
  exit 1
fi

password="$(sed -n 's/^ *one-time password: *//p' "$log" | head -n 1)"
if [ -z "$password" ]; then
  echo "e2e: no one-time password in the server's banner:" >&2
  cat "$log" >&2
  exit 1
fi

INSIGHTS_URL="http://127.0.0.1:$port" \
  INSIGHTS_BIN="$bin" \
  INSIGHTS_DATA_DIR="$data" \
  INSIGHTS_BIND="127.0.0.1:$port" \
  INSIGHTS_ADMIN_EMAIL="admin@demo.example" \
  INSIGHTS_ONE_TIME_PASSWORD="$password" \
  SCREENSHOT_DIR="$artifacts/screenshots" \
  DOWNLOAD_DIR="$artifacts/downloads" \
  node --test --test-concurrency=1 e2e/tests/console.test.mjs e2e/tests/oidc.test.mjs &
# Waiting on a background job lets a SIGTERM or Ctrl-C reach the trap at once.
node_pid=$!
wait "$node_pid"
node_pid=""
