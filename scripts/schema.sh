#!/usr/bin/env bash
# Regenerates crates/tenancy/src/schema.rs from migrations/ with `diesel print-schema`, against a
# throwaway PostgreSQL cluster. With --check, only compares and fails when the file has drifted.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-write}

command -v diesel >/dev/null || { echo "schema.sh: diesel CLI not found (cargo install diesel_cli --no-default-features --features postgres)" >&2; exit 1; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "schema.sh: PostgreSQL server binaries not found" >&2; exit 1; }

tmp=$(mktemp -d /tmp/insights-schema.XXXXXX)
chmod 755 "$tmp"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$tmp"; as_pg=(runuser -u postgres --); fi
stop() { "${as_pg[@]}" "$bin/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap stop EXIT

"${as_pg[@]}" "$bin/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 -N >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/data/log" -w \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null
url="postgres://postgres@127.0.0.1:$port/schema"

# Apply the migrations with psql: `diesel migration run` would rewrite schema.rs as a side effect.
psql -q -X -v ON_ERROR_STOP=1 "postgres://postgres@127.0.0.1:$port/postgres" -c "CREATE DATABASE schema"
for up in migrations/*/up.sql; do
  psql -q -X -v ON_ERROR_STOP=1 "$url" -f "$up" >/dev/null
done
diesel print-schema --database-url "$url" > "$tmp/schema.rs"
if [ "$mode" = "--check" ]; then
  if ! diff -u crates/tenancy/src/schema.rs "$tmp/schema.rs"; then
    echo "schema.sh: crates/tenancy/src/schema.rs differs from what the migrations produce; run scripts/schema.sh" >&2
    exit 1
  fi
  echo "schema.rs matches the migrations"
else
  cp "$tmp/schema.rs" crates/tenancy/src/schema.rs
  echo "wrote crates/tenancy/src/schema.rs"
fi
