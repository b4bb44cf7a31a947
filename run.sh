#!/usr/bin/env bash
# The main job of AutomateIQ, on this machine:
#   1. installs what it needs (apt-get as root; otherwise prints the line),
#   2. builds everything (build/),
#   3. validates the example workflows and runs each one with
#      `aiqctl run-local` against local stand-ins for the outside world
#      (an HTTP API, an SMTP server, a SQLite database, file drop folders),
#   4. leaves the journals, the database and the mail in demo-state/ so you
#      can look at them with `aiqctl show`.
set -euo pipefail
cd "$(dirname "$0")"
. tools/deps.sh
aiq_ensure_packages "${AIQ_BUILD_PACKAGES[@]}" sqlite3

if [ ! -f build/build.ninja ]; then
  meson setup build -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build cli/aiqctl tests/aiq-test-peer tests/aiq-smtp-sink >/dev/null

state="demo-state/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$state"
echo "== AutomateIQ $(build/cli/aiqctl --version | cut -d' ' -f2): running the example workflows"
echo "   state: $state"
AIQCTL=build/cli/aiqctl AIQ_TEST_PEER=build/tests/aiq-test-peer \
  AIQ_SMTP_SINK=build/tests/aiq-smtp-sink examples/run-examples.sh "$state"
cat <<MSG

Everything above ran locally, without a server. Look around:
  build/cli/aiqctl show --state $state/journals/fan-out     a recorded execution
  ls $state/mail $state/files                                 what the workflows sent and wrote
  build/cli/aiqctl kinds                                      step kinds and their parameters
  build/cli/aiqctl run-local --help                           run your own workflow
MSG
