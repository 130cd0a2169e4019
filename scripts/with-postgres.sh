#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server on loopback:
#   scripts/with-postgres.sh dotnet test ...
# Installs Debian's postgresql if it is missing, initdb's a cluster in a temporary directory (as the
# 'postgres' system user when run as root: root cannot run the server), starts it on a free port on
# 127.0.0.1 only, creates the database kps_test, exports KPS_TEST_POSTGRES (an Npgsql connection
# string) for the command, and stops and removes the cluster afterwards, whatever the command did.
set -euo pipefail
log() { printf '[postgres] %s\n' "$*" >&2; }

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  log "installing Debian's postgresql"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")

as_db_user=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home /nonexistent --shell /usr/sbin/nologin postgres
  as_db_user=(runuser -u postgres --)
fi
dir=$(mktemp -d /tmp/kps-postgres.XXXXXX)
chmod 0755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  "${as_db_user[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_db_user[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
"${as_db_user[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c synchronous_commit=on -c max_connections=300" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
"${as_db_user[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres kps_test
log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
export KPS_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=kps_test;Pooling=true"
set +e
"$@"
rc=$?
set -e
exit $rc
