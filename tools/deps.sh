# shellcheck shell=bash
# Debian 12 packages AutomateIQ needs, and a function that installs the
# missing ones (as root) or prints the exact apt-get line (otherwise).

AIQ_BUILD_PACKAGES=(
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libyaml-dev libsqlite3-dev
  liblua5.4-dev libsodium-dev libcurl4-openssl-dev libpq-dev libgnutls28-dev
  glib-networking ca-certificates libpolkit-gobject-1-dev polkitd
  libgtk-4-dev libadwaita-1-dev libgtksourceview-5-dev libsecret-1-dev
)
# prometheus: its promtool checks the /metrics output (test-http-metrics)
AIQ_TEST_PACKAGES=(
  clang clang-format libclang-rt-14-dev postgresql sqlite3 procps psmisc
  systemd dbus libxml2-utils
  xvfb xauth gnome-keyring dbus-x11 desktop-file-utils appstream libglib2.0-bin
  adwaita-icon-theme fonts-cantarell
  prometheus
)
# bench/api drives the server with wrk (HTTPS, Lua scripts); bench/replicas
# runs the server's replicas on a throwaway PostgreSQL cluster
AIQ_BENCH_PACKAGES=(wrk postgresql)

aiq_ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "AutomateIQ needs these packages; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
}
