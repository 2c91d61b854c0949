#!/usr/bin/env bash
# Runs N wahub nodes (default 3) on this machine as one cluster: one PostgreSQL database,
# the NATS server at $NATS_URL, HTTP on 127.0.0.1:8081.. . Ctrl-C stops them all.
#   nats-server -a 127.0.0.1 -p 4222 &
#   docs/deploy/cluster-local.sh            # or: NODES=5 DATABASE_URL=postgres://... docs/deploy/cluster-local.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
NODES="${NODES:-3}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wahub_cluster}"
NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
DATA="${DATA:-./data-cluster}"
mkdir -p "$DATA"
# All nodes must seal engine keys with the same key.
[ -f "$DATA/wahub.key" ] || head -c 32 /dev/urandom | base64 > "$DATA/wahub.key"
chmod 600 "$DATA/wahub.key"
db_name="${DATABASE_URL##*/}"
psql "${DATABASE_URL%/*}/postgres" -qtc "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1 \
  || psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db_name\""
cargo build -q -p wahub
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
for i in $(seq 1 "$NODES"); do
  mkdir -p "$DATA/node-$i"
  WAHUB_BIND="127.0.0.1:$((8080 + i))" WAHUB_DATA_DIR="$DATA/node-$i" WAHUB_NODE_ID="node-$i" \
    WAHUB_DATABASE_URL="$DATABASE_URL" WAHUB_NATS_URL="$NATS_URL" \
    WAHUB_ENCRYPTION_KEY="$(cat "$DATA/wahub.key")" \
    "${CARGO_TARGET_DIR:-target}/debug/wahub" serve &
  pids+=("$!")
done
echo "nodes on http://127.0.0.1:8081 .. http://127.0.0.1:$((8080 + NODES)); Ctrl-C stops them"
wait
