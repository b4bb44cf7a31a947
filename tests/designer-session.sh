#!/bin/sh
# Runs a designer test (or any command) in a world of its own: an X server
# (Xvfb), a private D-Bus session bus, and gnome-keyring serving the Secret
# Service on that bus with a fresh keyring in a temporary home. Nothing of
# the user's session, keyring or settings is touched.
#
#   designer-session.sh COMMAND [ARGS...]
set -eu

if [ -z "${AIQ_DESIGNER_SESSION_INNER:-}" ]; then
  home=$(mktemp -d "${TMPDIR:-/tmp}/aiq-designer-home.XXXXXX")
  trap 'rm -rf "$home"' EXIT INT TERM
  export HOME="$home" XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" \
    XDG_CACHE_HOME="$home/cache" XDG_RUNTIME_DIR="$home/run"
  mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
  export AIQ_DESIGNER_SESSION_INNER=1
  # -s: a screen big enough for the main window and its screenshots
  rc=0
  xvfb-run -a -s "-screen 0 1400x900x24" dbus-run-session -- "$0" "$@" || rc=$?
  exit $rc
fi

# inside the private bus: a keyring with an empty password, unlocked
eval "$(printf 'aiq-test' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
rc=0
"$@" || rc=$?
# this session's keyring only: the one serving our private runtime dir
for pid in $(fuser "$XDG_RUNTIME_DIR/keyring/control" 2>/dev/null); do
  kill "$pid" 2>/dev/null || true
done
exit $rc
