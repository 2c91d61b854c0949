#!/usr/bin/env bash
# Proves /api/openapi.json is a spec to generate clients from:
#  1. schemathesis (pinned) fuzzes a spawned `wahub serve` (debug build) with every check,
#     once with a bearer token and once with an API key;
#  2. openapi-python-client and openapi-typescript (pinned) generate clients, and a smoke
#     script drives register -> create session -> list -> QR -> API key with each.
# The server sends nothing off loopback (see serve.sh).
# Python tools live in a venv outside the repository; npm tools in tests/clients/node_modules.
# Ends with "# pass N" / "# fail N" lines (counted by .ci/run); exits non-zero on a failure.
set -uo pipefail
cd "$(dirname "$0")"
HERE="$(pwd)"
ROOT="$(cd ../.. && pwd)"
SCHEMATHESIS=4.32.5
PY_CLIENT=0.29.1
MAX_EXAMPLES="${FUZZ_EXAMPLES:-8}"
TOOLS="${CLIENTS_CACHE:-$HOME/.cache/wahub-clients}"
VENV="$TOOLS/venv"
WORK="$(mktemp -d)"
PASS=0
FAIL=0
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

record() { # name, status
  if [ "$2" -eq 0 ]; then PASS=$((PASS + 1)); echo "ok: $1"; else FAIL=$((FAIL + 1)); echo "FAILED: $1"; fi
}

echo "--- tools"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS" \
  || ! "$VENV/bin/pip" show openapi-python-client 2>/dev/null | grep -q "Version: $PY_CLIENT"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS" "openapi-python-client==$PY_CLIENT" || exit 1
fi
npm ci --no-audit --no-fund >/dev/null || exit 1

echo "--- server"
# shellcheck source=serve.sh
. "$HERE/serve.sh"
start_server "$WORK" || exit 1
curl -sf "$BASE/api/openapi.json" -o "$WORK/openapi.json" || { cat "$WORK/server.log"; exit 1; }

# The first account (admin).
TOKEN="$(curl -sf "$BASE/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"fuzz@example.com","password":"correct horse battery"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
[ -n "$TOKEN" ] || { echo "could not register"; exit 1; }

fuzz() { # label, auth section for the config, extra schemathesis arguments
  echo "--- schemathesis ($1)"
  # Credentials per security scheme (not as a raw header): schemathesis then does not also
  # generate the other scheme's header, which the server refuses (ambiguous_credentials).
  { cat "$HERE/schemathesis.toml"; printf '\n%s\n' "$2"; } >"$WORK/schemathesis-$1.toml"
  # Run from $WORK: schemathesis keeps a cache in the working directory.
  (cd "$WORK" && "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis-$1.toml" run "$WORK/openapi.json" \
    --url "$BASE" --checks all --max-examples "$MAX_EXAMPLES" --seed 1 --no-color \
    --suppress-health-check all "${@:3}") >"$WORK/fuzz-$1.log" 2>&1
  local status=$?
  if [ "$status" -eq 0 ]; then
    sed -n '/= SUMMARY =/,$p' "$WORK/fuzz-$1.log"
  else
    sed -n '/= FAILURES =/,$p' "$WORK/fuzz-$1.log"
  fi
  record "schemathesis with $1" "$status"
}
fuzz bearer "$(printf '[auth.openapi.BearerAuth]\nbearer = "%s"' "$TOKEN")"
# A key made after the bearer run (whose stateful phase deletes the keys it lists), without
# the admin scope (else the run can promote a user it registered and then disable its own
# account; the bearer run covers the admin routes), and deleteApiKey left out, so that the
# run cannot revoke its own credential.
KEY="$(curl -sf "$BASE/api/v1/api-keys" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"name":"fuzz","scopes":["read","send","control"]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
[ -n "$KEY" ] || { echo "could not create an API key"; exit 1; }
fuzz api-key "$(printf '[auth.openapi.ApiKeyAuth]\napi_key = "%s"' "$KEY")" --exclude-operation-id deleteApiKey

echo "--- python client"
mkdir -p "$WORK/py"
printf 'post_hooks: []\n' >"$WORK/py-config.yml"
"$VENV/bin/openapi-python-client" generate --path "$WORK/openapi.json" --meta none \
  --config "$WORK/py-config.yml" --output-path "$WORK/py/wahub_client" >"$WORK/py-gen.log" 2>&1 \
  && PYTHONPATH="$WORK/py" "$VENV/bin/python" smoke.py "$BASE"
record "generated python client" $?

echo "--- typescript client"
rm -rf out && mkdir -p out
npx openapi-typescript "$WORK/openapi.json" -o out/api.d.ts >/dev/null \
  && npx tsc -p tsconfig.json && node out/js/smoke.js "$BASE"
record "generated typescript client" $?

echo "--- dashboard types"
python3 schemas-only.py "$WORK/openapi.json" "$WORK/schemas.json" \
  && npx openapi-typescript "$WORK/schemas.json" -o "$WORK/api.d.ts" >/dev/null \
  && diff -q "$WORK/api.d.ts" "$ROOT/frontend/src/api/openapi.d.ts" >/dev/null
status=$?
[ $status -eq 0 ] || echo "frontend/src/api/openapi.d.ts is stale: run tests/clients/gen-dashboard-types.sh"
record "dashboard types up to date" $status

if [ "$FAIL" -ne 0 ]; then tail -n 30 "$WORK/server.log"; fi
echo "# pass $PASS"
echo "# fail $FAIL"
[ "$FAIL" -eq 0 ]
