#!/usr/bin/env bash
# Runs the app locally the way `func start` would: Azurite in memory on
# loopback (blob 10000, queue 10001, table 10002), the settings of
# local.settings.json as environment variables, and the handler on
# FUNCTIONS_CUSTOMHANDLER_PORT (7071). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-./app}"

# local.settings.json Values become environment variables (the host does
# the same); variables already set win.
eval "$(node -e '
  const v = (require("./local.settings.json").Values) || {};
  for (const [k, val] of Object.entries(v)) {
    if (process.env[k] === undefined) console.log(`export ${k}=${JSON.stringify(String(val))}`);
  }')"
export FUNCTIONS_CUSTOMHANDLER_PORT="${FUNCTIONS_CUSTOMHANDLER_PORT:-7071}"
export FUNCTIONS_APP_ROOT_PATH="$PWD"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

if (exec 3<>/dev/tcp/127.0.0.1/10001) 2>/dev/null; then
  echo "run: something already listens on 127.0.0.1:10001; using it as Azurite" >&2
else
  node_modules/.bin/azurite --silent --inMemoryPersistence --disableTelemetry --skipApiVersionCheck \
    --blobHost 127.0.0.1 --blobPort 10000 --queueHost 127.0.0.1 --queuePort 10001 \
    --tableHost 127.0.0.1 --tablePort 10002 &
  pids+=($!)
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/10002) 2>/dev/null && break
    sleep 0.1
  done
  echo "run: Azurite is up on 127.0.0.1:10000-10002 (in memory)"
fi

"$bin" &
pids+=($!)
echo "run: handler on http://localhost:${FUNCTIONS_CUSTOMHANDLER_PORT} (Ctrl-C stops)"
echo "run: try  curl -i -X POST http://localhost:${FUNCTIONS_CUSTOMHANDLER_PORT}/api/orchestrators/HelloCities"
wait -n "${pids[@]}"
