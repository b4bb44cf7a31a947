#!/usr/bin/env bash
# The main job of AutomateIQ, on this machine:
#   1. installs what it needs (apt-get as root; otherwise prints the line),
#   2. builds everything (build/),
#   3. validates the example workflows and runs each one with
#      `aiqctl run-local` against local stand-ins for the outside world
#      (an HTTP API, an SMTP server, a SQLite database, file drop folders),
#   4. initialises the server (once) in demo-state/server with a platform
#      admin and a demo tenant, starts it on https://127.0.0.1:8443 (AIQ_PORT
#      to change), logs aiqctl in, applies the examples to the demo tenant and
#      prints the URL and the credentials,
#   5. keeps the server running until Ctrl-C (AIQ_NO_SERVE=1 stops it at once).
set -euo pipefail
cd "$(dirname "$0")"
. tools/deps.sh
aiq_ensure_packages "${AIQ_BUILD_PACKAGES[@]}" sqlite3 curl

if [ ! -f build/build.ninja ]; then
  meson setup build -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build cli/aiqctl server/automateiq-server tests/aiq-test-peer tests/aiq-smtp-sink >/dev/null
aiqctl=build/cli/aiqctl
server=build/server/automateiq-server

state="demo-state/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$state"
echo "== AutomateIQ $($aiqctl --version | cut -d' ' -f2): running the example workflows"
echo "   state: $state"
AIQCTL=$aiqctl AIQ_TEST_PEER=build/tests/aiq-test-peer \
  AIQ_SMTP_SINK=build/tests/aiq-smtp-sink examples/run-examples.sh "$state"

# the server, with its data kept across runs
data=demo-state/server
port=${AIQ_PORT:-8443}
url="https://127.0.0.1:$port"
mkdir -p "$data"
chmod 700 "$data"
if [ ! -f "$data/credentials" ]; then
  # generated once, kept next to the data (0600)
  (
    umask 077
    printf 'AIQ_ADMIN_PASSWORD=%s\nAIQ_DEMO_PASSWORD=%s\n' \
      "$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')" \
      "$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')" >"$data/credentials"
  )
fi
# shellcheck disable=SC1091
. "$data/credentials"
export AIQ_ADMIN_PASSWORD AIQ_DEMO_PASSWORD
echo
echo "== the server: $data"
$server init --data-dir "$data" --admin admin --demo demo </dev/null

if curl -s -o /dev/null --max-time 2 -k "$url/healthz"; then
  echo "something already listens on port $port; set AIQ_PORT to another port" >&2
  exit 1
fi
$server run --data-dir "$data" --listen 127.0.0.1 --port "$port" >"$data/server.log" 2>&1 &
server_pid=$!
stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}
trap stop_server EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 100); do
  if grep -q "fingerprint" "$data/server.log" 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$data/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
fingerprint=$(sed -n 's/.*fingerprint: \([0-9A-F:]*\).*/\1/p' "$data/server.log" | head -n 1)
for _ in $(seq 1 50); do
  if curl -s -o /dev/null -k --fail "$url/readyz"; then break; fi
  sleep 0.1
done

# aiqctl trusts the server's self-signed certificate by its fingerprint
printf '%s\n' "$AIQ_DEMO_PASSWORD" |
  $aiqctl login --server "$url" --tenant demo --user demo --password-stdin \
    --trust-fingerprint "$fingerprint" >/dev/null
$aiqctl apply -f examples/*.yaml
echo
$aiqctl workflows list

cat <<MSG

The server runs at $url (log: $data/server.log)
  TLS certificate SHA-256 fingerprint: $fingerprint
  demo tenant:     tenant "demo", user "demo", password $AIQ_DEMO_PASSWORD
  platform admin:  tenant "platform", user "admin", password $AIQ_ADMIN_PASSWORD
  (both kept in $data/credentials)

aiqctl is logged in to the demo tenant. Try:
  $aiqctl workflows list
  $aiqctl workflows get health-check -o yaml
  $aiqctl run health-check
  $aiqctl executions list
  $aiqctl enrollment-tokens create --name site-a --labels site-a
Without an agent (the next step of the project) runs stay queued.

Everything above ran locally too, without a server. Look around:
  $aiqctl show --state $state/journals/fan-out     a recorded execution
  ls $state/mail $state/files                        what the workflows sent and wrote
  $aiqctl kinds                                      step kinds and their parameters
MSG

if [ "${AIQ_NO_SERVE:-}" = 1 ]; then
  exit 0
fi
echo
echo "Serving until Ctrl-C."
wait "$server_pid"
