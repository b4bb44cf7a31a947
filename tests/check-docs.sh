#!/usr/bin/env bash
# docs/step-kinds.md is generated from the step kinds' declarations; fail when stale.
set -euo pipefail
root="${AIQ_SOURCE_ROOT:-$(dirname "$0")/..}"
if ! diff -u "$root/docs/step-kinds.md" <("$AIQCTL" kinds --output markdown); then
  echo "docs/step-kinds.md is stale: run  aiqctl kinds --output markdown > docs/step-kinds.md" >&2
  exit 1
fi
echo "docs/step-kinds.md is current"
