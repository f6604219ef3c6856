# SPDX-License-Identifier: MIT
# A real PostgreSQL server for a test, from Debian's postgresql package: a
# fresh cluster in its own temp dir, listening on a Unix socket there only
# (listen_addresses ''), stopped and removed by pg_stop. Source it:
#
#   . tests/integration/pg.sh
#   pg_start || { echo "not ok - PostgreSQL: $PG_WHY"; exit 1; }
#   ... psql "$PG_CONNINFO" / gf-sp "store postgresql:$PG_CONNINFO" ...
#   pg_stop
#
# pg_start sets PG_CONNINFO (host=<socket dir> dbname=gf user=gf) and PG_DIR;
# on failure it returns 1 with PG_WHY saying why (a test must then fail,
# not skip). As root it runs the server as the user postgres (initdb
# refuses root), which then owns the temp dir. PG_BIN overrides the
# directory of initdb and pg_ctl.
# shellcheck shell=bash

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_DIR= PG_CONNINFO= PG_WHY= PG_USER=

# pg_run CMD...: CMD as the server's user.
pg_run() {
	if [ -n "$PG_USER" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

pg_start() {
	PG_WHY=
	if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
		PG_WHY="no initdb/pg_ctl in ${PG_BIN:-/usr/lib/postgresql/*/bin} (apt-get install postgresql)"
		return 1
	fi
	PG_USER=
	if [ "$(id -u)" = 0 ]; then
		if ! id postgres >/dev/null 2>&1; then
			PG_WHY="running as root and there is no user postgres to run the server as"
			return 1
		fi
		PG_USER=postgres
	fi
	PG_DIR=$(mktemp -d /tmp/gf-pg.XXXXXX) || { PG_WHY="mktemp failed"; return 1; }
	chmod 755 "$PG_DIR"
	[ -n "$PG_USER" ] && chown "$PG_USER" "$PG_DIR"
	# C locale: the same collation everywhere; trust on the socket only.
	if ! pg_run "$PG_BIN/initdb" -D "$PG_DIR/data" -U gf -A trust --locale=C -E UTF8 \
		--no-sync >"$PG_DIR/initdb.log" 2>&1; then
		PG_WHY="initdb failed: $(tail -2 "$PG_DIR/initdb.log" | tr '\n' ' ')"
		return 1
	fi
	if ! pg_run "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR' ${PG_OPTS:-}" \
		start >"$PG_DIR/pg_ctl.log" 2>&1; then
		PG_WHY="the server did not start: $(tail -3 "$PG_DIR/server.log" 2>/dev/null | tr '\n' ' ')"
		return 1
	fi
	if ! pg_run "$PG_BIN/createdb" -h "$PG_DIR" -U gf gf >>"$PG_DIR/pg_ctl.log" 2>&1; then
		PG_WHY="createdb failed: $(tail -1 "$PG_DIR/pg_ctl.log")"
		return 1
	fi
	PG_CONNINFO="host=$PG_DIR dbname=gf user=gf"
	return 0
}

# pg_sql SQL: runs SQL with psql, prints the rows unaligned without headers.
pg_sql() {
	psql -X -q -At -h "$PG_DIR" -U gf -d gf -c "$1"
}

# pg_stop: stops the server (fast) and removes its dir; safe to call twice.
pg_stop() {
	[ -n "$PG_DIR" ] && [ -d "$PG_DIR" ] || return 0
	if [ -f "$PG_DIR/data/postmaster.pid" ]; then
		pg_run "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1
	fi
	[ -n "${KEEP:-}" ] && { echo "# kept $PG_DIR"; return 0; }
	rm -rf "$PG_DIR"
	PG_DIR=
}
