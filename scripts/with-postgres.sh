#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 cluster, then stop and delete the cluster.
#
#   scripts/with-postgres.sh .venv/bin/pytest -q
#
# The cluster uses the machine's own PostgreSQL binaries, runs as the `postgres` user when we
# are root (initdb refuses to run as root), lives in a temporary directory and listens on a
# free port on 127.0.0.1 only. The command gets STREAMWISE_DATABASE_URL pointing at it.
# Cleanup runs on success, failure and interruption (EXIT, INT, TERM).
set -euo pipefail

pg_bin=""
for candidate in /usr/lib/postgresql/15/bin "$(pg_config --bindir 2>/dev/null || true)"; do
  if [ -n "$candidate" ] && [ -x "$candidate/initdb" ]; then pg_bin=$candidate; break; fi
done
if [ -z "$pg_bin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "with-postgres: PostgreSQL 15 not found; installing postgresql-15 with apt-get" >&2
    (apt-get install -y -q postgresql-15 >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q postgresql-15 >/dev/null; })
    pg_bin=/usr/lib/postgresql/15/bin
  else
    echo "with-postgres: no PostgreSQL 15 binaries (initdb, pg_ctl) found; install postgresql-15" >&2
    exit 1
  fi
fi

as_owner=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
  as_owner=(runuser -u postgres --)
fi

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/streamwise-pg.XXXXXX")
chmod 755 "$work_dir"
data_dir="$work_dir/data"
[ ${#as_owner[@]} -gt 0 ] && chown postgres "$work_dir"

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$data_dir" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$work_dir"
  exit "$status"
}
child=""
stop_child() {
  # Forward the signal to the command, let it finish its own cleanup, then clean up ours.
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null
  exit "$1"
}
trap cleanup EXIT
trap 'stop_child 130' INT
trap 'stop_child 143' TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"${as_owner[@]}" "$pg_bin/initdb" -D "$data_dir" -U postgres --auth=trust -E UTF8 \
  --locale=C.UTF-8 >"$work_dir/initdb.log" 2>&1 \
  || { cat "$work_dir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$pg_bin/pg_ctl" -D "$data_dir" -l "$work_dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$work_dir \
      -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null \
  || { cat "$work_dir/server.log" >&2; exit 1; }

export STREAMWISE_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
# Run the command in the background and wait for it: a shell only runs its traps between
# commands, and `wait` is interruptible where a foreground child is not.
set +e
"$@" &
child=$!
wait "$child"
status=$?
set -e
exit "$status"
