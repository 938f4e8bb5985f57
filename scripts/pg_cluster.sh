#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for running the project on PostgreSQL (tests, trying it out).
#
#   scripts/pg_cluster.sh start [DIR] [PORT]   install PostgreSQL if missing, start a cluster in DIR
#                                              on 127.0.0.1:PORT, create the database and roles,
#                                              print the environment to use (eval-able `export` lines)
#   scripts/pg_cluster.sh env [DIR]            print that environment again
#   scripts/pg_cluster.sh stop [DIR]           stop the cluster and remove DIR
#
# DIR defaults to $PG_CLUSTER_DIR or /tmp/trading_warehouse_pg, PORT to $PG_CLUSTER_PORT or 55432.
# The server runs as the unprivileged `postgres` user (initdb refuses root), listens on loopback
# only, keeps its socket in DIR/socket, and runs with fsync=off: it is for tests, not for data
# you want to keep. Roles: `builder` (owns the database, dbt and the loader use it) and
# `analyst` (may only read the marts; the grants come from dbt). Passwords are random per cluster.
#
# Usage: eval "$(scripts/pg_cluster.sh start)" && DBT_TARGET=postgres .venv/bin/dbt build
# Exit codes: 0 ok, 1 failed (the server log is shown), 2 bad arguments.
set -euo pipefail

ACTION="${1:-}"
DIR="${2:-${PG_CLUSTER_DIR:-/tmp/trading_warehouse_pg}}"
PORT="${3:-${PG_CLUSTER_PORT:-55432}}"
DATABASE="${PG_CLUSTER_DATABASE:-warehouse}"

say() { echo "pg_cluster: $*" >&2; }

pg_bindir() {
    local initdb
    initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$initdb" ] && dirname "$initdb"
}

install_postgres() {
    if [ -n "$(pg_bindir)" ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        say "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
        exit 1
    fi
    say "installing PostgreSQL from Debian's packages (apt-get install postgresql)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # The package's own main cluster is not used (and not started without systemd).
    apt-get install -y -qq --no-install-recommends postgresql >&2
    if [ -z "$(pg_bindir)" ]; then
        say "apt-get install postgresql did not provide initdb under /usr/lib/postgresql"
        exit 1
    fi
}

# Run a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        /usr/sbin/runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

print_env() {
    if [ ! -f "$DIR/env.sh" ]; then
        say "no cluster in $DIR (start one with: $0 start $DIR)"
        exit 1
    fi
    cat "$DIR/env.sh"
}

random_password() {
    head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

start() {
    install_postgres
    local bin
    bin="$(pg_bindir)"
    if [ -f "$DIR/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" status -D "$DIR/data" >/dev/null 2>&1; then
        say "already running in $DIR"
        print_env
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR/data" "$DIR/socket"
    chmod 755 "$DIR"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$DIR/data" "$DIR/socket"
    fi
    chmod 700 "$DIR/data"

    local builder_password analyst_password
    builder_password="$(random_password)"
    analyst_password="$(random_password)"

    as_owner "$bin/initdb" -D "$DIR/data" --encoding=UTF8 --locale=C.UTF-8 --username=postgres \
        --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 || {
        cat "$DIR/initdb.log" >&2
        say "initdb failed"
        exit 1
    }
    touch "$DIR/server.log"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR/server.log"
    as_owner "$bin/pg_ctl" start -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC" \
        >/dev/null || {
        cat "$DIR/server.log" >&2
        say "the server did not start (port $PORT in use?)"
        exit 1
    }
    as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR/socket" -p "$PORT" -U postgres -d postgres >/dev/null <<SQL
create role builder login password '$builder_password';
create role analyst login password '$analyst_password';
create database $DATABASE owner builder encoding 'UTF8';
\connect $DATABASE
revoke all on database $DATABASE from public;
grant connect on database $DATABASE to analyst;
SQL
    cat >"$DIR/env.sh" <<ENV
export PGHOST=127.0.0.1
export PGPORT=$PORT
export PGDATABASE=$DATABASE
export PGUSER=builder
export PGPASSWORD=$builder_password
export DBT_PG_ANALYST_USER=analyst
export DBT_PG_ANALYST_PASSWORD=$analyst_password
ENV
    chmod 600 "$DIR/env.sh"
    say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT, database $DATABASE, data in $DIR"
    print_env
}

stop() {
    local bin
    bin="$(pg_bindir)"
    if [ -n "$bin" ] && [ -f "$DIR/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" stop -D "$DIR/data" -m fast -w >/dev/null || true
    fi
    if [ -d "$DIR" ]; then
        rm -rf "$DIR"
        say "stopped and removed $DIR"
    fi
}

case "$ACTION" in
    start) start ;;
    stop) stop ;;
    env) print_env ;;
    -h|--help|help)
        sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
        ;;
    *)
        say "usage: $0 start|env|stop [DIR] [PORT]"
        exit 2
        ;;
esac
