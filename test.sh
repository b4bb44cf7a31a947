#!/usr/bin/env bash
# Runs every test of AutomateIQ:
#   1. all suites, warnings as errors            (build-test/)
#   2. unit and http suites under ASan + UBSan   (build-asan/)
#   3. the fuzzers, each for a bounded time      (build-fuzz/, clang + libFuzzer)
# and ends with one line "N passed, N failed" counted from meson's test logs.
set -euo pipefail
cd "$(dirname "$0")"
. tools/deps.sh
aiq_ensure_packages "${AIQ_BUILD_PACKAGES[@]}" "${AIQ_TEST_PACKAGES[@]}"

jobs=$(nproc)
fuzz_seconds=${AIQ_FUZZ_SECONDS:-60}
export AIQ_FUZZ_SECONDS=$fuzz_seconds
status=0

setup() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

run_suites() {
  local dir=$1; shift
  echo "== $dir: meson test $*" >&2
  meson test -C "$dir" --print-errorlogs --num-processes "$jobs" "$@" </dev/null || status=1
}

setup build-test -Dwerror=true -Dbuildtype=debugoptimized
meson compile -C build-test
run_suites build-test

setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbuildtype=debug
meson compile -C build-asan
run_suites build-asan --suite unit --suite http --suite dbus

CC=clang setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbuildtype=debugoptimized -Dslow_tests=false
ninja -C build-fuzz tests/fuzz-definition tests/fuzz-expression
run_suites build-fuzz --suite fuzz --no-rebuild

# meson's own counts, from each build's test log
passed=0; failed=0; skipped=0
for log in build-test/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
           build-fuzz/meson-logs/testlog.json; do
  [ -f "$log" ] || continue
  p=$(grep -c '"result": "OK"' "$log" || true)
  e=$(grep -c '"result": "EXPECTEDFAIL"' "$log" || true)
  f=$(grep -Ec '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  s=$(grep -c '"result": "SKIP"' "$log" || true)
  passed=$((passed + p + e)); failed=$((failed + f)); skipped=$((skipped + s))
done
if [ "$skipped" -gt 0 ]; then
  echo "($skipped skipped: they count as neither passed nor failed)"
fi
echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  status=1
fi
exit $status
