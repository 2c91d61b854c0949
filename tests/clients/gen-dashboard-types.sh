#!/usr/bin/env bash
# Regenerates frontend/src/api/openapi.d.ts from a spawned server's /api/openapi.json
# (run.sh fails when the committed file is stale).
set -euo pipefail
cd "$(dirname "$0")"
WORK="$(mktemp -d)"
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
. ./serve.sh
start_server "$WORK"
curl -sf "$BASE/api/openapi.json" -o "$WORK/openapi.json"
npm ci --no-audit --no-fund >/dev/null
python3 schemas-only.py "$WORK/openapi.json" "$WORK/schemas.json"
npx openapi-typescript "$WORK/schemas.json" -o ../../frontend/src/api/openapi.d.ts
