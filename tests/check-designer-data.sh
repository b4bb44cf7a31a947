#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Checks the designer's desktop integration and data files: the built desktop
# file (desktop-file-validate) and AppStream metadata (appstreamcli validate),
# the GSettings schemas (glib-compile-schemas --strict), the .ui, GResource
# and icon files (well-formed XML; symbolic icons drawn with fills only, since
# GTK recolours them by their fill), and that every icon name the designer
# and the step kinds use is in adwaita-icon-theme or in the app's GResource.
#
# Usage: check-designer-data.sh DESKTOP-FILE METAINFO-FILE (meson passes the
# built ones). Needs (Debian 12): desktop-file-utils, appstream,
# libglib2.0-bin, libxml2-utils, adwaita-icon-theme.
set -euo pipefail

src=${AIQ_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
desktop=${1:-${AIQ_BUILD_ROOT:-}/data/io.automateiq.Designer.desktop}
metainfo=${2:-${AIQ_BUILD_ROOT:-}/data/io.automateiq.Designer.metainfo.xml}
app_id=io.automateiq.Designer
adwaita=/usr/share/icons/Adwaita

missing=()
for tool in desktop-file-validate appstreamcli glib-compile-schemas xmllint; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing ${missing[*]}: install the test packages" \
    "(desktop-file-utils appstream libglib2.0-bin libxml2-utils)" >&2
  exit 1
fi
for f in "$desktop" "$metainfo"; do
  if [ ! -f "$f" ]; then
    echo "$f is not built: ninja -C \$builddir data/$(basename "$f")" >&2
    exit 1
  fi
done

failures=0
ok() { echo "ok   $*"; }
fail() {
  echo "FAIL $*" >&2
  failures=$((failures + 1))
}
note() { echo "     $*"; }

# --- desktop file --------------------------------------------------------------

# it exits 0 on warnings and hints: those fail here too (hints are only shown)
rc=0
out=$(desktop-file-validate "$desktop" 2>&1) || rc=$?
if [ $rc -ne 0 ] || printf '%s\n' "$out" | grep -qE '(error|warning):'; then
  fail "desktop-file-validate $(basename "$desktop"):"
  printf '%s\n' "$out" >&2
else
  ok "desktop-file-validate $(basename "$desktop")"
  [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/     /'
fi
key() { sed -n "s/^$1=//p" "$desktop" | head -1; }
[ "$(key Icon)" = "$app_id" ] || fail "desktop file: Icon=$(key Icon), not $app_id"
[ "$(key Exec)" = automateiq-designer ] || fail "desktop file: Exec=$(key Exec), not automateiq-designer"
# D-Bus activation needs a D-Bus service file, which is not shipped
case "$(key DBusActivatable)" in
"" | false) ;;
*) fail "desktop file: DBusActivatable=$(key DBusActivatable) without a D-Bus service file" ;;
esac
ok "desktop file: Icon=$(key Icon) Exec=$(key Exec)"

# --- AppStream metadata -------------------------------------------------------

rc=0
out=$(appstreamcli validate --no-net --pedantic "$metainfo" 2>&1) || rc=$?
if [ $rc -ne 0 ]; then
  fail "appstreamcli validate --no-net $(basename "$metainfo"):"
  printf '%s\n' "$out" >&2
else
  ok "appstreamcli validate --no-net $(basename "$metainfo")"
  printf '%s\n' "$out" | grep -E '^[IP]:' | sed 's/^/     /' || true
fi
xp() { xmllint --xpath "string($1)" "$metainfo"; }
[ "$(xp /component/id)" = "$app_id" ] || fail "metainfo: id $(xp /component/id), not $app_id"
launchable=$(xp '/component/launchable[@type="desktop-id"]')
[ "$launchable" = "$(basename "$desktop")" ] ||
  fail "metainfo: launchable $launchable, not the desktop file $(basename "$desktop")"
[ "$(xp '/component/provides/binary')" = "$(key Exec)" ] ||
  fail "metainfo: provides binary $(xp '/component/provides/binary'), desktop file runs $(key Exec)"
version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -1)
[ "$(xp '/component/releases/release[1]/@version')" = "$version" ] ||
  fail "metainfo: newest release $(xp '/component/releases/release[1]/@version'), project version $version"
ok "metainfo: id, launchable, binary and release $version agree with the desktop file and meson.build"
# screenshots: the ui tests take them, and they are committed in data/screenshots
shots=$(xmllint --xpath '//screenshot/image/text()' "$metainfo" | sed 's|.*/data/screenshots/||')
if [ -d "$src/data/screenshots" ]; then
  for s in $shots; do
    [ -f "$src/data/screenshots/$s" ] || fail "metainfo shows $s, which data/screenshots/ lacks"
  done
  ok "data/screenshots/ has the metainfo's screenshots:" "$(printf %s "$shots" | tr "\n" " ")"
else
  note "data/screenshots/ does not exist yet: not checking" "$(printf %s "$shots" | tr "\n" " ")"
fi

# --- GSettings schemas --------------------------------------------------------

if out=$(glib-compile-schemas --strict --dry-run "$src/data" 2>&1); then
  ok "glib-compile-schemas --strict:" "$(cd "$src/data" && echo ./*.gschema.xml)"
else
  fail "glib-compile-schemas --strict --dry-run data/:"
  printf '%s\n' "$out" >&2
fi

# --- .ui, GResource and icon files ----------------------------------------------

n=0
for f in "$src"/data/ui/*.ui "$src"/data/ui/*.gresource.xml \
  $(find "$src/data/icons" -name '*.svg' | sort); do
  [ -f "$f" ] || continue
  if out=$(xmllint --noout "$f" 2>&1); then
    n=$((n + 1))
  else
    fail "${f#"$src"/}:"
    printf '%s\n' "$out" >&2
  fi
done
ok "$n .ui, GResource and icon files are well-formed XML"
for f in $(find "$src/data/icons" -name '*-symbolic.svg' | sort); do
  if grep -q 'stroke' "$f"; then
    fail "${f#"$src"/}: uses stroke; GTK recolours symbolic icons by their fill"
  fi
  size=$(xmllint --xpath 'concat(/*[local-name()="svg"]/@width, "x", /*[local-name()="svg"]/@height)' "$f")
  [ "$size" = 16x16 ] || fail "${f#"$src"/}: ${size}, not 16x16"
done
ok "symbolic icons are 16x16 and drawn with fills only"

# every icon the app loads: Adwaita has it, or the GResource carries it
gresource=$src/data/ui/aiq-designer.gresource.xml
in_gresource() {
  grep -qE "alias=\"icons/[a-z]+/[a-z]+/$1\\.svg\"" "$gresource"
}
if [ -d "$adwaita" ]; then
  names=$( (grep -hoE '"[a-z0-9-]+-symbolic"' "$src"/app/*.c "$src"/src/shared/*.c 2>/dev/null || true
    grep -hoE 'name="icon-name">[A-Za-z0-9.-]+<' "$src"/data/ui/*.ui 2>/dev/null || true
    grep -hoE 'icon-name="[A-Za-z0-9.-]+"' "$src"/data/ui/*.ui 2>/dev/null || true) |
    sed -E 's/^"//; s/"$//; s/^name="icon-name">//; s/<$//; s/^icon-name="//' | sort -u)
  unknown=()
  for name in $names; do
    if [ -n "$(find "$adwaita" -name "$name.svg" -o -name "$name.symbolic.png" | head -1)" ]; then
      continue
    fi
    in_gresource "$name" || unknown+=("$name")
  done
  if [ ${#unknown[@]} -gt 0 ]; then
    fail "icons neither in $adwaita nor in the GResource (draw them in data/icons/actions/):" \
      "${unknown[*]}"
  else
    ok "$(echo "$names" | wc -w) icon names, each in $adwaita or the GResource"
  fi
else
  note "$adwaita is not installed: not checking icon names"
fi
for name in $app_id $app_id-symbolic; do
  in_gresource "$name" || fail "the GResource lacks the app icon $name"
done
for f in "$src"/data/icons/actions/*.svg; do
  [ -f "$f" ] || continue
  in_gresource "$(basename "$f" .svg)" || fail "data/icons/actions/$(basename "$f") is not in the GResource"
done

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all designer data checks passed"
