#!/usr/bin/env bash
# Starts (or stops) every real server the integration tests use, on free 127.0.0.1 ports, with
# state under DIR. `start` writes DIR/env.sh with the endpoints (source it); `stop` kills by pid.
# In CI (CI=true) or with TTLA_REQUIRE_ALL=1 a server that does not start makes `start` exit 1:
# its tests would otherwise skip and a green run would mean nothing. Elsewhere it is loud but
# allowed (DIR/skipped lists what is missing, for the run's closing summary).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:?usage: all.sh start|stop DIR}"
dir="${2:?usage: all.sh start|stop DIR}"
servers=(dynalite swift postgres prometheus moto)
mkdir -p "$dir"
# Swift and PostgreSQL run as their own users: they must be able to reach DIR (mktemp -d is 0700).
chmod 755 "$dir"
case "$cmd" in
  start)
    : > "$dir/env.sh"
    : > "$dir/skipped"
    failed=0
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
        tail -20 "$dir/$s.start.log" >&2
        if [ "${CI:-}" = true ] || [ "${TTLA_REQUIRE_ALL:-0}" = 1 ]; then
          echo "servers: $s FAILED to start (CI=true or TTLA_REQUIRE_ALL=1: this fails the run)" >&2
          failed=1
        else
          echo "servers: $s FAILED to start; its tests will SKIP (this would fail in CI)" >&2
          echo "$s: server did not start (see $dir/$s.start.log)" >> "$dir/skipped"
        fi
      fi
    done
    exit $failed
    ;;
  stop)
    for s in "${servers[@]}"; do
      [ -f "$here/$s.sh" ] && bash "$here/$s.sh" stop "$dir/$s" >/dev/null 2>&1
    done
    ;;
  *) echo "usage: all.sh start|stop DIR" >&2; exit 2 ;;
esac
