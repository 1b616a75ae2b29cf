#!/usr/bin/env bash
# Serves a throwaway Switchboard on a free loopback port and runs graphql-http's audit on it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
export DATABASE_URL="sqlite://$work/audit.sqlite3" SWITCHBOARD_DATA_DIR="$work/data"
unset REDIS_URL SWITCHBOARD_SECRET_KEY || true
port=$("$root/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$root/.venv/bin/switchboard" migrate >/dev/null
token=$("$root/.venv/bin/switchboard" demo | "$root/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$root/.venv/bin/switchboard" serve --host 127.0.0.1 --port "$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
node "$here/audit.mjs" "http://127.0.0.1:$port/graphql" "Bearer $token"
