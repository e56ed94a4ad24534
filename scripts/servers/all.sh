#!/usr/bin/env bash
# Starts (or stops) every real server the integration tests use, on free 127.0.0.1 ports, with
# state under DIR. `start` writes DIR/env.sh with the endpoints (source it); `stop` kills by pid.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:?usage: all.sh start|stop DIR}"
dir="${2:?usage: all.sh start|stop DIR}"
servers=(dynalite swift postgres prometheus)
mkdir -p "$dir"
# Swift and PostgreSQL run as their own users: they must be able to reach DIR (mktemp -d is 0700).
chmod 755 "$dir"
case "$cmd" in
  start)
    : > "$dir/env.sh"
    for s in "${servers[@]}"; do
      if [ ! -x "$here/$s.sh" ] && [ ! -f "$here/$s.sh" ]; then
        echo "servers: $s.sh not present, skipping" >&2
        continue
      fi
      mkdir -p "$dir/$s"
      if out=$(bash "$here/$s.sh" start "$dir/$s" 2> "$dir/$s.start.log"); then
        echo "$out" | grep '^export ' >> "$dir/env.sh"
        echo "servers: $s started" >&2
      else
        echo "servers: $s FAILED to start; its tests will skip. Log:" >&2
        tail -20 "$dir/$s.start.log" >&2
      fi
    done
    ;;
  stop)
    for s in "${servers[@]}"; do
      [ -f "$here/$s.sh" ] && bash "$here/$s.sh" stop "$dir/$s" >/dev/null 2>&1
    done
    ;;
  *) echo "usage: all.sh start|stop DIR" >&2; exit 2 ;;
esac
