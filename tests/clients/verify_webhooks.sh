#!/usr/bin/env bash
# Verifies real webhook deliveries of a spawned `wahub serve` with the published
# `standardwebhooks` Python package (pinned), the way users will. Ends with one
# "N passed, N failed" line; exits non-zero on any failure.
#
# The Python environment lives outside the repository (never commit it):
#   WAHUB_CLIENTS_DIR (default $HOME/.cache/wahub-clients)/venv-webhooks
set -euo pipefail
cd "$(dirname "$0")/../.."
STANDARDWEBHOOKS_VERSION=1.1.0
CLIENTS_DIR="${WAHUB_CLIENTS_DIR:-$HOME/.cache/wahub-clients}"
VENV="$CLIENTS_DIR/venv-webhooks"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

if ! "$VENV/bin/python" -c "import standardwebhooks, sys; sys.exit(0)" 2>/dev/null \
   || [ "$("$VENV/bin/pip" show standardwebhooks 2>/dev/null | sed -n 's/^Version: //p')" != "$STANDARDWEBHOOKS_VERSION" ]; then
  mkdir -p "$CLIENTS_DIR"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "standardwebhooks==$STANDARDWEBHOOKS_VERSION"
fi

# WAHUB_BIN: a wahub binary already built (else this builds one).
if [ -n "${WAHUB_BIN:-}" ]; then
  BIN="$WAHUB_BIN"
else
  cargo build --quiet -p wahub
  BIN="$TARGET_DIR/debug/wahub"
fi

PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATA=$(mktemp -d)
LOG="$DATA/wahub.log"
cleanup() {
  if [ -n "${SERVER_PID:-}" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT

# Loopback receivers need allow_private_targets; settings come from the environment only.
(cd "$DATA" && exec env WAHUB_BIND="127.0.0.1:$PORT" WAHUB_DATA_DIR="$DATA" \
  WAHUB_ALLOW_PRIVATE_TARGETS=true WAHUB_WEBHOOK_POLL_MS=50 WAHUB_SIM_PAIR_DELAY_MS=50 \
  "$BIN" serve >"$LOG" 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 300); do
  if "$BIN" healthcheck --addr "127.0.0.1:$PORT" 2>/dev/null; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "wahub serve exited:"; cat "$LOG"; exit 1; fi
  sleep 0.2
done

"$VENV/bin/python" tests/clients/verify_webhooks.py "http://127.0.0.1:$PORT"
