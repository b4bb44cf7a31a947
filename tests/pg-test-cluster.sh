#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs a command with a throwaway PostgreSQL cluster:
#
#   tests/pg-test-cluster.sh COMMAND [ARGS…]
#
# The cluster lives in a new temporary directory, listens on 127.0.0.1 on a
# free port (and on a unix socket in that directory only), and has a database
# `aiq_test` owned by a role `aiq_test` with a random password; TCP logins
# need that password (scram-sha-256). The command sees:
#
#   AIQ_TEST_PG_DSN        host=127.0.0.1 port=P dbname=aiq_test user=aiq_test password=…
#   AIQ_TEST_PG_ADMIN_DSN  the superuser over the unix socket (trust), for set-up
#   AIQ_TEST_PG_RESTART    a command that restarts the cluster on the same port:
#                          without an argument `pg_ctl restart -m fast -w`; with
#                          SECONDS, a fast stop, `stopped` on its output, SECONDS
#                          of outage, a start, then `started`
#
# The cluster is stopped and its directory removed however the command ends,
# and the script exits with the command's status. Run as root, the server runs
# as the `postgres` system user (initdb and postgres refuse root); otherwise as
# the current user. PostgreSQL missing is an error, never a silent skip.

set -u
set -o pipefail

me=$(basename "$0")

die() {
	echo "$me: $*" >&2
	exit 1
}

[ $# -ge 1 ] || die "usage: $me COMMAND [ARGS…]"

# ---- the server binaries ----

find_bindir() {
	local dir
	if [ -n "${AIQ_PG_BINDIR:-}" ]; then
		echo "$AIQ_PG_BINDIR"
		return
	fi
	if command -v pg_config >/dev/null 2>&1; then
		dir=$(pg_config --bindir 2>/dev/null)
		if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
			echo "$dir"
			return
		fi
	fi
	# the newest installed major version
	for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4 -V -r); do
		if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
			echo "$dir"
			return
		fi
	done
}

bindir=$(find_bindir)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ] ||
	[ ! -x "$bindir/postgres" ] || [ ! -x "$bindir/psql" ]; then
	die "PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) not found;" \
		"install postgresql (Debian: apt-get install postgresql-15) or set AIQ_PG_BINDIR"
fi

# ---- who runs the server ----

if [ "$(id -u)" -eq 0 ]; then
	pg_user=postgres
	id -u "$pg_user" >/dev/null 2>&1 ||
		die "running as root needs a '$pg_user' system user to run the server as"
	if command -v runuser >/dev/null 2>&1; then
		as_pg() { runuser -u "$pg_user" -- "$@"; }
	elif command -v setpriv >/dev/null 2>&1; then
		as_pg() {
			setpriv --reuid="$pg_user" --regid="$(id -g "$pg_user")" --init-groups \
				--reset-env -- "$@"
		}
	else
		die "running as root needs runuser or setpriv to drop to '$pg_user'"
	fi
else
	pg_user=$(id -un)
	as_pg() { "$@"; }
fi

# ---- a private directory; unix socket paths are short, so stay near / ----

tmp_base=${TMPDIR:-/tmp}
[ ${#tmp_base} -le 60 ] || tmp_base=/tmp
workdir=$(mktemp -d "$tmp_base/aiq-pg.XXXXXX") || die "cannot create a temporary directory"
datadir=$workdir/data
logfile=$workdir/postgres.log
started=0

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local status=$?
	trap - EXIT INT TERM HUP
	# a restart cut short (its caller died) may have a server starting: let
	# it write its pid file, so that it is stopped below
	if [ -e "$workdir/restarting" ]; then
		sleep 2
	fi
	if [ "$started" -eq 1 ] && [ -f "$datadir/postmaster.pid" ]; then
		if ! as_pg "$bindir/pg_ctl" -D "$datadir" -m fast -w -t 30 stop \
			</dev/null >/dev/null 2>&1 &&
			! as_pg "$bindir/pg_ctl" -D "$datadir" -m immediate -w -t 10 stop \
				</dev/null >/dev/null 2>&1; then
			# last resort: never leave a server running on a removed directory
			kill -QUIT "$(head -n 1 "$datadir/postmaster.pid")" 2>/dev/null
		fi
	fi
	rm -rf "$workdir"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

chmod 700 "$workdir"
if [ "$(id -u)" -eq 0 ]; then
	chown "$pg_user:" "$workdir" || die "cannot hand $workdir to $pg_user"
fi

show_log() {
	if [ -s "$logfile" ]; then
		echo "$me: --- server log ---" >&2
		tail -n 30 "$logfile" >&2
	fi
}

# ---- initdb ----

password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

# the superuser has no password: it logs in over the private socket only
if ! as_pg "$bindir/initdb" -D "$datadir" -U postgres \
	--auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync \
	</dev/null >"$workdir/initdb.log" 2>&1; then
	cat "$workdir/initdb.log" >&2
	die "initdb failed"
fi

# ---- start on a free port; another process may take it first, so retry ----

pick_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null && return
	fi
	echo $((20000 + RANDOM % 40000))
}

pg_settings="-c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
port=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	candidate=$(pick_port)
	: >"$logfile"
	[ "$(id -u)" -ne 0 ] || chown "$pg_user:" "$logfile"
	# from here on the cleanup stops whatever runs, even if a signal comes mid-start
	started=1
	if as_pg "$bindir/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 -s \
		-o "-p $candidate -k $workdir $pg_settings" \
		start </dev/null >/dev/null 2>&1; then
		port=$candidate
		break
	fi
	if ! grep -qiE 'could not bind|address already in use|could not create any TCP/IP sockets' "$logfile"; then
		show_log
		die "the server did not start"
	fi
done
[ -n "$port" ] || {
	show_log
	die "no free port found for the server after 10 attempts"
}

# ---- the test database and role ----

if ! as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$workdir" -p "$port" -U postgres \
	-d postgres </dev/null >"$workdir/setup.log" 2>&1 \
	-c "CREATE ROLE aiq_test LOGIN PASSWORD '$password'" \
	-c "CREATE DATABASE aiq_test OWNER aiq_test"; then
	cat "$workdir/setup.log" >&2
	show_log
	die "cannot create the test database"
fi

# ---- the restart command, run as the user the server runs as ----

restart=$workdir/restart
{
	echo '#!/bin/bash'
	echo "# written by $me: restarts its cluster; usage: $restart [SECONDS_DOWN]"
	echo 'set -u'
	printf 'pg_user=%q bindir=%q datadir=%q logfile=%q workdir=%q\n' \
		"$pg_user" "$bindir" "$datadir" "$logfile" "$workdir"
	printf 'pg_opts=%q\n' "-p $port -k $workdir $pg_settings"
	declare -f as_pg
	cat <<'EOF'
[ $# -le 1 ] || {
	echo "usage: $0 [SECONDS_DOWN]" >&2
	exit 2
}
# the cluster's cleanup waits for a start this may have begun
echo $$ >"$workdir/restarting"
trap 'rm -f "$workdir/restarting"' EXIT
pg_ctl() {
	if ! as_pg "$bindir/pg_ctl" -D "$datadir" "$@" </dev/null >>"$workdir/restart.log" 2>&1; then
		echo "pg_ctl $*: failed" >&2
		tail -n 20 "$workdir/restart.log" "$logfile" >&2
		exit 1
	fi
}
if [ $# -eq 0 ]; then
	pg_ctl -l "$logfile" -m fast -w -t 60 -s -o "$pg_opts" restart
else
	pg_ctl -m fast -w -t 60 -s stop
	echo stopped
	sleep "$1"
	pg_ctl -l "$logfile" -w -t 60 -s -o "$pg_opts" start
fi
echo started
EOF
} >"$restart" || die "cannot write $restart"
chmod 755 "$restart"

export AIQ_TEST_PG_RESTART=$restart
export AIQ_TEST_PG_DSN="host=127.0.0.1 port=$port dbname=aiq_test user=aiq_test password=$password"
export AIQ_TEST_PG_ADMIN_DSN="host=$workdir port=$port dbname=aiq_test user=postgres"
# nothing from the caller's libpq environment may point the tests elsewhere
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE \
	PGOPTIONS PGSSLMODE PGCONNECT_TIMEOUT

# ---- the command; not exec, so that the trap cleans up ----

# In the background (with its standard input kept) so that a signal to this
# script is handled at once: passed on to the command, then the cleanup.
"$@" <&0 &
child=$!
# shellcheck disable=SC2317 # called by the traps
forward() {
	kill "-$1" "$child" 2>/dev/null
	wait "$child"
	exit "$2"
}
trap 'forward INT 130' INT
trap 'forward TERM 143' TERM
trap 'forward HUP 129' HUP
wait "$child"
exit $?
