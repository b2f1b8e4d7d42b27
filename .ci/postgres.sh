#!/usr/bin/env bash
# Give the server tests a real PostgreSQL on loopback: install Debian's server if missing, start its cluster on
# 127.0.0.1:5432, and make the role `osler` (password `osler`, allowed to create the per-worker databases of a
# parallel test run) and the database `osler_test` it owns. Safe to run again. Everything goes to stderr except the one line that tells the tests where the database is, so use it as
#   eval "$(bash .ci/postgres.sh)"
set -euo pipefail

export LC_ALL=C.UTF-8 LANG=C.UTF-8  # always present on Debian; initdb fails on a locale that isn't generated
export DEBIAN_FRONTEND=noninteractive

HOST=127.0.0.1
PORT=5432
ROLE=osler
PASSWORD=osler
DATABASE=osler_test
WAIT_SECONDS=30

log() { echo "postgres.sh: $*" >&2; }

# All of the work runs with stdout sent to stderr (see the call at the bottom). The caller's stdout must not be
# held in any descriptor meanwhile: the server started here would inherit it, and `$(...)` would then wait for it
# to exit, forever.
setup() {
  if [ "$(id -u)" = 0 ]; then
    SUDO=()
    as_postgres() { (cd / && runuser -u postgres -- "$@"); }
  elif command -v sudo >/dev/null; then
    SUDO=(sudo)
    as_postgres() { (cd / && sudo -u postgres -- "$@"); }
  else
    log "needs root or sudo to install and start PostgreSQL"
    exit 1
  fi

  if ! dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "install ok installed"; then
    log "installing Debian's postgresql"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi

  # The newest server version installed (Debian 12: 15).
  version=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' | cut -d/ -f5 | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    log "no PostgreSQL server under /usr/lib/postgresql after installing"
    exit 1
  fi

  if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
    log "creating cluster $version/main"
    "${SUDO[@]}" pg_createcluster "$version" main >/dev/null
  fi

  # Loopback only, on the port the tests expect, through a drop-in that Debian's postgresql.conf includes last (not
  # pg_conftool, which writes 127.0.0.1 unquoted, as if a number, and the server then refuses to start). A running
  # cluster whose settings change is restarted.
  dropin=/etc/postgresql/$version/main/conf.d/osler-loopback.conf
  settings="listen_addresses = '$HOST'
  port = $PORT"
  changed=0
  if [ "$(cat "$dropin" 2>/dev/null)" != "$settings" ]; then
    echo "$settings" | "${SUDO[@]}" tee "$dropin" >/dev/null
    changed=1
  fi

  if pg_ctlcluster "$version" main status >/dev/null 2>&1; then
    if [ "$changed" = 1 ]; then
      log "restarting cluster $version/main to listen on $HOST:$PORT"
      "${SUDO[@]}" pg_ctlcluster "$version" main restart
    fi
  else
    log "starting cluster $version/main on $HOST:$PORT"
    "${SUDO[@]}" pg_ctlcluster "$version" main start
  fi

  for ((i = 0; i < WAIT_SECONDS; i++)); do
    pg_isready -q -h "$HOST" -p "$PORT" && break
    sleep 1
  done
  if ! pg_isready -h "$HOST" -p "$PORT"; then
    log "PostgreSQL $version not ready on $HOST:$PORT after ${WAIT_SECONDS}s; its log:"
    tail -n 30 "/var/log/postgresql/postgresql-$version-main.log" || true
    exit 1
  fi

  # Create the role and the database if missing, and (re)set the password and owner either way. CREATE DATABASE
  # cannot run inside a DO block, hence \gexec.
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN CREATE ROLE $ROLE; END IF;
END \$\$;
ALTER ROLE $ROLE WITH LOGIN CREATEDB PASSWORD '$PASSWORD';
SELECT 'CREATE DATABASE $DATABASE OWNER $ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DATABASE')
\gexec
ALTER DATABASE $DATABASE OWNER TO $ROLE;
SQL

  log "PostgreSQL $version ready: database $DATABASE for role $ROLE on $HOST:$PORT"
}

setup </dev/null >&2
echo "export OSLER_TEST_DATABASE_URL=postgresql+psycopg://$ROLE:$PASSWORD@$HOST:$PORT/$DATABASE"
