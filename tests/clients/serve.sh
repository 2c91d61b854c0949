# Sourced by run.sh and gen-dashboard-types.sh: builds and starts a debug `wahub serve`
# on a free loopback port with a throwaway data dir. Sets BASE and SERVER_PID.
# Webhook and media requests go to `outbound_proxy`, a closed loopback port: nothing
# leaves the machine, and no target name is resolved. SERVER_BIN=path skips the build.
start_server() { # work dir
  local work="$1" root target port closed
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  target="${CARGO_TARGET_DIR:-$root/target}"
  local bin="${SERVER_BIN:-$target/debug/wahub}"
  if [ -z "${SERVER_BIN:-}" ]; then (cd "$root" && cargo build -q -p wahub) || return 1; fi
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  closed="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  BASE="http://127.0.0.1:$port"
  WAHUB_BIND="127.0.0.1:$port" WAHUB_DATA_DIR="$work/data" WAHUB_ENGINE=sim \
    WAHUB_OUTBOUND_PROXY="http://127.0.0.1:$closed" WAHUB_ALLOW_PRIVATE_TARGETS=false \
    WAHUB_AUTH_IP_BUDGET=100000 WAHUB_LOGIN_MAX_FAILURES=100000 WAHUB_MAX_SESSIONS_PER_USER=100000 \
    WAHUB_WEBHOOK_MAX_ATTEMPTS=1 WAHUB_SESSION_CALL_TIMEOUT_MS=4000 RUST_LOG=warn \
    "$bin" serve >"$work/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 240); do
    curl -sf "$BASE/readyz" >/dev/null && return 0
    sleep 0.5
  done
  cat "$work/server.log"
  return 1
}
