#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pg_cluster.sh - a throwaway PostgreSQL cluster for one test: initdb in a
# temporary folder, the server listening only on a Unix socket in that
# folder, a database "officemeter" owned by the superuser "officemeter"
# (trust authentication: only this machine's users can reach the socket,
# and the folder is the test's own).
#
#   pg_cluster.sh start          prints three lines: the folder, the URI of
#                                the database, the PostgreSQL bin folder;
#                                exit 77 when PostgreSQL is not installed
#   pg_cluster.sh stop FOLDER    stops the server and removes the folder
#
# PostgreSQL refuses to run as root. As root (CI), the server runs as
# Debian's "postgres" user when it exists, else as "officemeter-test",
# created here on first use; the folder is that user's. Durability is off
# in these clusters (fsync=off): they hold test data for seconds; the
# benchmarks turn it on (OM_PG_FSYNC=on).
set -euo pipefail

bindir() {
    local d
    if [ -n "${OM_PG_BINDIR:-}" ]; then echo "$OM_PG_BINDIR"; return 0; fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
    return 1
}

server_user() {
    if [ "$(id -u)" -ne 0 ]; then id -un; return 0; fi
    if id postgres >/dev/null 2>&1; then echo postgres; return 0; fi
    id officemeter-test >/dev/null 2>&1 ||
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
            officemeter-test
    echo officemeter-test
}

# Runs a server-side command as the server's user.
as_user() {
    local user=$1
    shift
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$user" -- "$@"
    else
        "$@"
    fi
}

start() {
    local bin user dir
    bin=$(bindir) || { echo "pg_cluster.sh: PostgreSQL is not installed (no initdb)" >&2; exit 77; }
    user=$(server_user)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/om-pg.XXXXXX")
    chmod 700 "$dir"
    [ "$(id -u)" -ne 0 ] || chown "$user" "$dir"
    if ! as_user "$user" "$bin/initdb" -D "$dir/data" -U officemeter --auth=trust -E UTF8 \
            --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        echo "pg_cluster.sh: initdb failed" >&2
        exit 1
    fi
    if ! as_user "$user" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-k $dir -c listen_addresses= -c fsync=${OM_PG_FSYNC:-off} -c full_page_writes=${OM_PG_FSYNC:-off} -c max_connections=50" \
            start >/dev/null 2>&1; then
        cat "$dir/server.log" >&2 || true
        rm -rf "$dir"
        echo "pg_cluster.sh: the server did not start" >&2
        exit 1
    fi
    "$bin/psql" -X -q -h "$dir" -U officemeter -d postgres -c "CREATE DATABASE officemeter" >/dev/null
    echo "$dir"
    echo "postgresql:///officemeter?host=$dir&user=officemeter"
    echo "$bin"
}

stop() {
    local dir=$1 bin user
    [ -d "$dir" ] || return 0
    bin=$(bindir) || true
    user=$(stat -c %U "$dir")
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
        as_user "$user" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:?stop needs the folder}" ;;
    *) echo "usage: pg_cluster.sh start | stop FOLDER" >&2; exit 2 ;;
esac
