#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on a free 127.0.0.1 port with its socket and data under DIR.
# Every statement is logged (log_statement=all) so tests can prove the auditor never writes.
set -euo pipefail
cmd="${1:?usage: postgres.sh start|stop DIR}"
dir="$(mkdir -p "${2:?DIR}" && cd "$2" && pwd)"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    [ -n "$bin" ] || { echo "postgres.sh: PostgreSQL server binaries not found" >&2; exit 1; }
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    data="$dir/data"
    rm -rf "$data"
    # The postgres user must be able to reach DIR (mktemp -d makes 0700 folders).
    chmod a+x "$dir" "$(dirname "$dir")" 2>/dev/null || true
    if [ "$(id -u)" = 0 ]; then install -d -o postgres -g postgres -m 700 "$data"; chown postgres "$dir"; else install -d -m 700 "$data"; fi
    as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1
    as_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c log_statement=all -c log_line_prefix=%m\ app=%a\  -c log_destination=stderr -c logging_collector=off" \
      start >/dev/null
    echo "$port" > "$dir/port"
    echo "export TTLA_PG_DSN='host=127.0.0.1 port=$port user=postgres dbname=postgres'"
    echo "export TTLA_PG_LOG=$dir/server.log"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: postgres.sh start|stop DIR" >&2; exit 2 ;;
esac
