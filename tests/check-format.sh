#!/usr/bin/env bash
# Fails when a C file of the project is not formatted with the repo's .clang-format.
set -euo pipefail
cd "${AIQ_SOURCE_ROOT:-$(dirname "$0")/..}"
if [ -d .git ] && command -v git >/dev/null; then
  mapfile -t files < <(git ls-files -co --exclude-standard -- '*.c' '*.h')
else
  mapfile -t files < <(find src cli tests bench -name '*.[ch]' -not -path '*/build*')
fi
existing=()
for f in "${files[@]}"; do [ -f "$f" ] && existing+=("$f"); done
echo "checking ${#existing[@]} files with $(clang-format --version)"
if ! clang-format --dry-run --Werror "${existing[@]}"; then
  echo "not formatted: run  clang-format -i \$(git ls-files '*.c' '*.h')" >&2
  exit 1
fi
