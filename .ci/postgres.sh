#!/usr/bin/env bash
# Starts a PostgreSQL server for the tests and prints its URL (the last line
# of stdout; everything else goes to stderr). Installs Debian's `postgresql`
# package if no server binaries are present. Idempotent: a second run finds
# the server running and prints the same URL.
#
# The server is a data directory of its own (ROUTEC_PG_DIR, default
# /tmp/routec-postgres), run by the `postgres` user, listening on 127.0.0.1
# only, on the first free port from ROUTEC_PG_PORT (default 55432). The role
# `routec` (password `routec`, allowed to create databases: each test makes
# its own) owns the database `routec`.
set -euo pipefail

dir=${ROUTEC_PG_DIR:-/tmp/routec-postgres}
first_port=${ROUTEC_PG_PORT:-55432}

log() { echo "postgres.sh: $*" >&2; }

apt() {
    # Another apt or dpkg may be running: wait for its lock, then retry.
    local try
    for try in 1 2 3 4 5; do
        if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@" >&2; then
            return 0
        fi
        log "apt-get $* failed (try $try), retrying"
        sleep 10
    done
    return 1
}

server_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

bin=$(server_bin)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    log "installing PostgreSQL from the distribution's packages"
    apt update
    apt install -y --no-install-recommends postgresql
    bin=$(server_bin)
fi
[ -x "$bin/initdb" ] || { log "no initdb after installing postgresql"; exit 1; }

as_postgres() { runuser -u postgres -- "$@"; }

if [ ! -f "$dir/PG_VERSION" ]; then
    log "creating a cluster in $dir"
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    chmod 700 "$dir"
    as_postgres "$bin/initdb" -D "$dir" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >&2
fi

port_file="$dir/routec-port"
if as_postgres "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    port=$(cat "$port_file")
else
    port=$first_port
    while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    echo "$port" >"$port_file"
    log "starting PostgreSQL on 127.0.0.1:$port"
    as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300" start >&2
fi

psql() { as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'routec'")" != 1 ]; then
    psql -d postgres -c "CREATE ROLE routec LOGIN CREATEDB PASSWORD 'routec'"
fi
if [ "$(psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'routec'")" != 1 ]; then
    psql -d postgres -c "CREATE DATABASE routec OWNER routec"
fi

echo "postgres://routec:routec@127.0.0.1:$port/routec"
