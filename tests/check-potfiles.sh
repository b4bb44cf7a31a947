#!/usr/bin/env bash
# Fails when a file with translatable strings is missing from po/POTFILES.in,
# or when POTFILES.in names a file that does not exist.
set -euo pipefail
cd "${AIQ_SOURCE_ROOT:-$(dirname "$0")/..}"
listed=$(grep -v '^#' po/POTFILES.in | sed '/^$/d' | sort -u)
if [ -d .git ] && command -v git >/dev/null; then
  candidates=$(git ls-files -co --exclude-standard -- '*.c' '*.ui' '*.xml' '*.in' '*.desktop.in')
else
  candidates=$(find src cli server agent app data -type f 2>/dev/null)
fi
needed=$(for f in $candidates; do
  case "$f" in tests/*|bench/*|po/*) continue ;; esac
  [ -f "$f" ] || continue
  if grep -qE '(^|[^A-Za-z0-9_])(N?_|C_|NC_|ngettext)\(|translatable="yes"' "$f"; then echo "$f"; fi
done | sort -u)
rc=0
missing=$(comm -13 <(echo "$listed") <(echo "$needed"))
if [ -n "$missing" ]; then
  echo "po/POTFILES.in lacks these files with translatable strings:" >&2
  echo "$missing" >&2
  rc=1
fi
for f in $listed; do
  if [ ! -f "$f" ]; then echo "po/POTFILES.in names a missing file: $f" >&2; rc=1; fi
done
[ $rc -eq 0 ] && echo "$(echo "$listed" | wc -l) files listed, all present and complete"
exit $rc
