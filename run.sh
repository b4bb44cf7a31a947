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
#   5. enrolls a local agent and runs five examples on the server through it,
#   6. on a machine with a display, opens the designer logged in to the demo
#      tenant (AIQ_NO_DESIGNER=1 to skip),
#   7. keeps the server running until Ctrl-C (AIQ_NO_SERVE=1 stops it at once).
set -euo pipefail
cd "$(dirname "$0")"
. tools/deps.sh
aiq_ensure_packages "${AIQ_BUILD_PACKAGES[@]}" sqlite3 curl

if [ ! -f build/build.ninja ]; then
  meson setup build -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build cli/aiqctl server/automateiq-server agent/automateiq-agent \
  app/automateiq-designer data/gschemas.compiled \
  tests/aiq-test-peer tests/aiq-smtp-sink >/dev/null
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
agent_pid=
designer_pid=
helper_pids=()
stop_server() {
  local pid
  for pid in $designer_pid $agent_pid "${helper_pids[@]}" "$server_pid"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
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

# ---- the agent: enrolled with the server, running the examples' steps ----
agent_home=demo-state/agent
agent_state=$agent_home/state
mkdir -p "$agent_home/files/drop" "$agent_home/files/outbox" "$agent_home/mail"
chmod 700 "$agent_home"
# the outside world the examples talk to: an HTTP API and a mail server
start_helper() {
  local out=$1
  shift
  "$@" >"$out" 2>&1 </dev/null &
  helper_pids+=($!)
  for _ in $(seq 1 100); do
    if grep -q '^port=' "$out"; then break; fi
    sleep 0.1
  done
  sed -n 's/^port=\([0-9]*\)$/\1/p' "$out"
}
peer_port=$(start_helper "$agent_home/peer.out" build/tests/aiq-test-peer --port 0)
sink_port=$(start_helper "$agent_home/smtp.out" build/tests/aiq-smtp-sink --dir "$agent_home/mail" --port 0)
[ -f "$agent_home/warehouse.db" ] || : >"$agent_home/warehouse.db"

abs() { (cd "$1" && pwd); }
cat >"$agent_home/agent.conf" <<CONF
# written by run.sh: the local agent of the demo
[agent]
capacity=16
labels=linux

[connection.warehouse]
driver=sqlite
path=$(abs "$agent_home")/warehouse.db

[file-roots]
drop=$(abs "$agent_home")/files/drop
outbox=$(abs "$agent_home")/files/outbox

[smtp]
url=smtp://127.0.0.1:$sink_port
starttls=none
from=automateiq@example.com
CONF
# enrolled once; again when the server moved (another AIQ_PORT)
if ! grep -qF "\"server\": \"$url\"" "$agent_state/enrollment.json" 2>/dev/null; then
  token=$($aiqctl enrollment-tokens create --name local-agent -o json |
    sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
  build/agent/automateiq-agent enroll --state-dir "$agent_state" -c "$agent_home/agent.conf" \
    --server "$url" --token "$token" --name local-agent --ca "$data/tls.crt"
fi
bus=--no-dbus
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then bus=--session; fi
build/agent/automateiq-agent run "$bus" --state-dir "$agent_state" -c "$agent_home/agent.conf" \
  >"$agent_home/agent.log" 2>&1 &
agent_pid=$!

echo
echo "== the examples on the server, run by the agent"
base_url=http://127.0.0.1:$peer_port
platform_ok=0
platform_failed=0
run_on_server() {
  local name=$1 expect=$2 rc=0
  shift 2
  $aiqctl run "$name" --wait --timeout 60s --quiet "$@" -o json >"$agent_home/$name.json" 2>&1 ||
    rc=$?
  if [ "$rc" = "$expect" ]; then
    platform_ok=$((platform_ok + 1))
    printf 'PASS  %-20s %s\n' "$name" "$(sed -n 's/^  "status" *: *"\([a-z_]*\)".*/\1/p' "$agent_home/$name.json" | head -n 1)"
  else
    platform_failed=$((platform_failed + 1))
    printf 'FAIL  %-20s exit %s, expected %s (see %s)\n' "$name" "$rc" "$expect" "$agent_home/$name.json"
  fi
}
run_on_server health-check 0 --input "base_url=$base_url" --input "dead_url=http://127.0.0.1:1"
run_on_server invoice-sync 0 --input "base_url=$base_url"
run_on_server fan-out 0 --input "base_url=$base_url"
run_on_server branching 0 --input "base_url=$base_url"
run_on_server error-path 1 --input "base_url=$base_url" --input oncall=oncall@example.com
echo
$aiqctl executions list --limit 10
last=$($aiqctl executions list --workflow invoice-sync --limit 1 -o json |
  sed -n 's/.*"id" *: *"\([0-9a-f-]*\)".*/\1/p' | head -n 1)
echo
$aiqctl executions get "$last"
echo
build/agent/automateiq-agent status --state-dir "$agent_state"

cat <<MSG

The server runs at $url (log: $data/server.log)
  TLS certificate SHA-256 fingerprint: $fingerprint
  demo tenant:     tenant "demo", user "demo", password $AIQ_DEMO_PASSWORD
  platform admin:  tenant "platform", user "admin", password $AIQ_ADMIN_PASSWORD
  (both kept in $data/credentials)
One agent, "local-agent", is enrolled in the demo tenant and runs every step
(state: $agent_state, config: $agent_home/agent.conf, log: $agent_home/agent.log).

aiqctl is logged in to the demo tenant. Try:
  $aiqctl run invoice-sync --input base_url=$base_url --wait
  $aiqctl executions list
  $aiqctl agents list
  build/agent/automateiq-agent status --state-dir $agent_state
  $aiqctl enrollment-tokens create --name site-a --labels site-a

Everything above ran locally too, without a server. Look around:
  $aiqctl show --state $state/journals/fan-out     a recorded execution
  ls $state/mail $state/files                        what the workflows sent and wrote
  $aiqctl kinds                                      step kinds and their parameters
MSG
if [ "$platform_failed" != 0 ]; then
  echo "$platform_failed example runs on the server did not end as expected" >&2
  exit 1
fi

if [ "${AIQ_NO_SERVE:-}" = 1 ]; then
  exit 0
fi

# the designer, logged in to the demo tenant, when there is a display
if [ "${AIQ_NO_DESIGNER:-}" != 1 ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  umask 077
  printf '%s\n' "$AIQ_DEMO_PASSWORD" >"$data/designer-password"
  echo
  echo "Opening AutomateIQ Designer (log: $data/designer.log)"
  GSETTINGS_SCHEMA_DIR=build/data build/app/automateiq-designer \
    --server "$url" --tenant demo --user demo \
    --password-file "$data/designer-password" --trust-fingerprint "$fingerprint" \
    >"$data/designer.log" 2>&1 &
  designer_pid=$!
  # it reads the file at start; do not leave the password lying around
  sleep 2
  rm -f "$data/designer-password"
fi
echo
echo "Serving until Ctrl-C."
wait "$server_pid"
