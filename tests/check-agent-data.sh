#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Checks the files that make automateiq-agent a system service (data/): the
# systemd unit's sandbox (systemd-analyze security, at most 2.0) and syntax
# (systemd-analyze verify), the sysusers.d entry (systemd-sysusers into a
# scratch root), the polkit actions (DTD, ids, defaults) and the D-Bus policy
# and activation file, loaded by a real dbus-daemon that is then asked who may
# own the name and which calls get through.
#
# Needs (Debian 12): systemd, libxml2-utils, dbus (dbus-daemon, dbus-send and the
# dbus.socket the unit needs), polkitd (the policy DTD).
set -euo pipefail

src=${AIQ_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
build=${AIQ_BUILD_ROOT:?AIQ_BUILD_ROOT is not set: run this with meson test agent-data}
max_exposure=2.0
name=io.automateiq.Agent1
user=automateiq-agent
me=$(id -un 2>/dev/null || id -u)

unit=$build/data/automateiq-agent.service
policy=$build/data/$name.policy
polkit_dtd=/usr/share/polkit-1/policyconfig-1.dtd

missing=()
for tool in systemd-analyze systemd-sysusers xmllint dbus-daemon dbus-send; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[ -f "$polkit_dtd" ] || missing+=("$polkit_dtd")
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing ${missing[*]}: install the test packages" \
    "(systemd libxml2-utils dbus polkitd, see tools/deps.sh)" >&2
  exit 1
fi
for f in "$unit" "$policy"; do
  if [ ! -f "$f" ]; then
    echo "$f is not built: ninja -C $build data/$(basename "$f")" >&2
    exit 1
  fi
done

tmp=$(mktemp -d)
bus_pid=
cleanup() {
  if [ -n "$bus_pid" ]; then
    kill "$bus_pid" 2>/dev/null || true
    wait "$bus_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
ok() { echo "ok   $*"; }
fail() {
  echo "FAIL $*" >&2
  failures=$((failures + 1))
}
note() { echo "     $*"; }

# --- the systemd unit -------------------------------------------------------

# exposure is 0.0 to 10.0; --threshold= takes it in tenths
threshold=$(awk -v e="$max_exposure" 'BEGIN { printf "%d", e * 10 + 0.5 }')
rc=0
out=$(systemd-analyze security --offline=true --threshold="$threshold" "$unit" 2>&1) || rc=$?
exposure=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$exposure" ]; then
  fail "systemd-analyze security printed no exposure level:"
  printf '%s\n' "$out" >&2
elif [ $rc -ne 0 ] || awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e > m) }'; then
  fail "systemd-analyze security: exposure $exposure, more than $max_exposure"
  printf '%s\n' "$out" | grep '✗' >&2 || true
else
  ok "systemd-analyze security: exposure $exposure (at most $max_exposure); left open:"
  printf '%s\n' "$out" | grep '✗' | sed 's/^✗ */       /; s/  \+/  /g' || true
fi

# verify needs ExecStart= to exist: point it at the built agent
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
case "$exec_start" in
/*/automateiq-agent\ run) ok "ExecStart=$exec_start" ;;
*) fail "ExecStart=$exec_start: want an absolute path to automateiq-agent, and run" ;;
esac
if grep -n '@[A-Za-z_]*@' "$unit" >&2; then
  fail "$unit: placeholders left unsubstituted"
fi
agent=$build/agent/automateiq-agent
if [ ! -x "$agent" ]; then
  note "agent/automateiq-agent is not built: verifying with /bin/true in ExecStart="
  agent=/bin/true
fi
mkdir "$tmp/unit"
sed "s|^ExecStart=.*|ExecStart=$agent run|" "$unit" >"$tmp/unit/automateiq-agent.service"
rc=0
out=$(systemd-analyze verify "$tmp/unit/automateiq-agent.service" 2>&1) || rc=$?
ours=$(printf '%s\n' "$out" | grep 'automateiq-agent' || true)
if [ $rc -ne 0 ] || [ -n "$ours" ]; then
  fail "systemd-analyze verify:"
  printf '%s\n' "$out" >&2
else
  ok "systemd-analyze verify: no complaints"
  # about units it pulled in from this machine, not ours
  [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/     (this machine) /'
fi

# --- the system user ---------------------------------------------------------

mkdir -p "$tmp/root/etc"
rc=0
out=$(systemd-sysusers --root="$tmp/root" "$src/data/automateiq-agent.sysusers" 2>&1) || rc=$?
entry=$(grep "^$user:" "$tmp/root/etc/passwd" 2>/dev/null || true)
if [ $rc -ne 0 ] || [ -z "$entry" ]; then
  fail "systemd-sysusers did not create $user:"
  printf '%s\n' "$out" >&2
else
  ok "systemd-sysusers creates $entry"
  home=$(printf '%s\n' "$entry" | cut -d: -f6)
  state=/var/lib/$(sed -n 's/^StateDirectory=//p' "$unit")
  [ "$home" = "$state" ] || fail "$user's home $home is not the unit's StateDirectory $state"
fi
# every file names the same user
for f in "$unit" "$src/data/$name.service"; do
  u=$(sed -n 's/^User=//p' "$f")
  [ "$u" = "$user" ] || fail "$(basename "$f"): User=$u, not $user"
done
grep -q "<policy user=\"$user\">" "$src/data/$name.conf" ||
  fail "$name.conf: no <policy user=\"$user\">"
ok "the unit, the activation file and the D-Bus policy name user $user"

# --- polkit -----------------------------------------------------------------

if out=$(xmllint --noout --dtdvalid "$polkit_dtd" "$policy" 2>&1); then
  ok "$name.policy is valid against policyconfig-1.dtd"
else
  fail "$name.policy:"
  printf '%s\n' "$out" >&2
fi
xmllint --noout "$src/data/$name.policy.in" || fail "$name.policy.in is not well-formed XML"
actions=$(xmllint --xpath '//action/@id' "$policy" | grep -o '"[^"]*"' | tr -d '"' | sort | xargs)
want="io.automateiq.agent.enroll io.automateiq.agent.test-step"
if [ "$actions" = "$want" ]; then
  ok "polkit actions: $actions"
else
  fail "polkit actions are \"$actions\", not \"$want\""
fi
defaults=$(xmllint --xpath '//defaults/*/text()' "$policy" | sort -u | xargs)
if [ "$defaults" = "auth_admin_keep" ]; then
  ok "polkit defaults: auth_admin_keep for any, inactive and active sessions"
else
  fail "polkit defaults are \"$defaults\", not only auth_admin_keep"
fi
# each action the agent checks is declared
while read -r id; do
  case " $actions " in
  *" $id "*) ok "the agent checks $id, which is declared" ;;
  *) fail "agent/ checks polkit action $id, which $name.policy does not declare" ;;
  esac
done < <(grep -ho 'io\.automateiq\.agent\.[a-z-]*' "$src"/agent/*.c 2>/dev/null | sort -u)

# --- D-Bus policy -------------------------------------------------------------

conf=$src/data/$name.conf
xml=$src/src/shared/$name.xml
xmllint --noout "$conf" || fail "$name.conf is not well-formed XML"
note "not validated against busconfig.dtd: the DTD dbus ships (libdbus-1-dev) predates"
note "send_destination and friends and rejects every policy; dbus-daemon loads it below"
# every method of the interface is open, and nothing else of it
methods=$(xmllint --xpath "//interface[@name=\"$name\"]/method/@name" "$xml" |
  grep -o '"[^"]*"' | tr -d '"' | sort | xargs)
allowed=$(xmllint --xpath "//policy[@context=\"default\"]/allow[@send_interface=\"$name\"]/@send_member" \
  "$conf" | grep -o '"[^"]*"' | tr -d '"' | sort | xargs)
if [ "$methods" = "$allowed" ]; then
  ok "$name.conf opens the interface's methods: $allowed"
else
  fail "$name.conf opens \"$allowed\" but the interface has \"$methods\""
fi
broad=$(xmllint --xpath "count(//policy[@context=\"default\"]/allow[not(@send_destination=\"$name\") or not(@send_interface) or not(@send_member)])" "$conf")
[ "$broad" = 0 ] || fail "$name.conf: $broad default rules not limited to one method of $name"
[ "$(sed -n 's/^Name=//p' "$src/data/$name.service")" = "$name" ] ||
  fail "$name.service: Name= is not $name (the system bus wants the file named after it)"

# a bus with the system bus's default policy (deny own, deny method calls)
# plus ours, and the activation file, whose Exec=/bin/false answers
# Spawn.ChildExited to a call that got through the policy
start_bus() { # $1: policy file to include
  local dir=$tmp/bus
  rm -rf "$dir"
  mkdir -p "$dir/services"
  cp "$src/data/$name.service" "$dir/services/"
  cat >"$dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path=$dir/socket</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$dir/services</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
  </policy>
  <include>$1</include>
</busconfig>
EOF
  dbus-daemon --config-file="$dir/bus.conf" --nofork --print-address=3 \
    3>"$dir/address" 2>"$dir/log" &
  bus_pid=$!
  for _ in $(seq 100); do
    [ -s "$dir/address" ] && break
    kill -0 "$bus_pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ ! -s "$dir/address" ]; then
    wait "$bus_pid" 2>/dev/null || true
    bus_pid=
    fail "dbus-daemon refused $(basename "$1"):"
    cat "$dir/log" >&2
    return 1
  fi
  bus=unix:path=$dir/socket
}
stop_bus() {
  kill "$bus_pid"
  wait "$bus_pid" 2>/dev/null || true
  bus_pid=
  # anything it logged beyond what the calls above make it log; an unknown
  # user is expected where the package is not installed
  grep -v -e 'Unknown username "'"$user"'"' -e 'Failed to set fd limit' \
    -e 'Activating service name=' -e 'Activated service .* failed' \
    -e 'Rejected send message' -e 'Connection .* is not allowed to own' "$tmp/bus/log" |
    sed 's/^/     dbus-daemon: /' || true
}
# $1: interface.member; prints the error name, or "ok"
call() {
  local reply
  reply=$(timeout 10 dbus-send --bus="$bus" --print-reply --dest="$name" /io/automateiq/Agent1 \
    "$1" 2>&1) && { echo ok; return; }
  printf '%s\n' "$reply" | sed -n 's/^Error \([^:]*\):.*/\1/p' | head -1
}
request_name() {
  timeout 10 dbus-send --bus="$bus" --print-reply --dest=org.freedesktop.DBus \
    /org/freedesktop/DBus org.freedesktop.DBus.RequestName string:"$name" uint32:4 2>&1
}

if start_bus "$conf"; then
  ok "dbus-daemon loads $name.conf and the activation file"
  if [ "$me" != "$user" ]; then
    reply=$(request_name || true)
    if printf '%s\n' "$reply" | grep -q '^Error org.freedesktop.DBus.Error.AccessDenied'; then
      ok "$me may not own $name"
    else
      fail "$me may own $name"
    fi
  fi
  for m in org.freedesktop.DBus.Introspectable.Introspect \
    org.freedesktop.DBus.Properties.Get org.freedesktop.DBus.Properties.GetAll \
    $(for x in $methods; do echo "$name.$x"; done); do
    got=$(call "$m")
    if [ "$got" = org.freedesktop.DBus.Error.Spawn.ChildExited ]; then
      ok "$m gets through (to activation)"
    else
      fail "$m: $got, not through the policy to activation"
    fi
  done
  for m in org.freedesktop.DBus.Properties.Set org.freedesktop.DBus.Peer.Ping \
    "$name.NoSuchMethod" io.automateiq.Other1.Enroll; do
    got=$(call "$m")
    if [ "$got" = org.freedesktop.DBus.Error.AccessDenied ]; then
      ok "$m is denied"
    else
      fail "$m: $got, not AccessDenied"
    fi
  done
  stop_bus
fi
# the same policy with this user in place of automateiq-agent: it may own the name
sed "s/user=\"$user\"/user=\"$me\"/" "$conf" >"$tmp/as-me.conf"
if start_bus "$tmp/as-me.conf"; then
  reply=$(request_name || true)
  if printf '%s\n' "$reply" | grep -q 'uint32 1'; then
    ok "the user the policy names may own $name"
  else
    fail "the user the policy names may not own $name: $reply"
  fi
  stop_bus
fi

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all agent data checks passed"
