#!/usr/bin/env bash
# dynalite (DynamoDB on LevelDB, in memory) on a free 127.0.0.1 port for integration tests, demo
# and benchmarks.
#   start DIR  -> pid + log in DIR, waits until ListTables answers, prints
#                 `export TTLA_DYNALITE_ENDPOINT=http://127.0.0.1:PORT` on stdout
#   stop DIR   -> kills the pid recorded in DIR (only that process)
# Needs tests/node_modules (scripts/install-node-deps.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cli="$root/tests/node_modules/dynalite/cli.js"

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd=$1 dir=$2

free_port() {
  # Ask the kernel for an ephemeral port on loopback; the tiny race until dynalite binds it is
  # covered by the retry loop in start.
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

ready() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 1 -X POST "http://127.0.0.1:$1/" \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'X-Amz-Date: 20200101T000000Z' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=ready/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}' 2>/dev/null | grep -q '^200$'
}

case "$cmd" in
  start)
    [[ -f "$cli" ]] || { echo "dynalite not installed: run scripts/install-node-deps.sh" >&2; exit 1; }
    mkdir -p "$dir"
    if [[ -f "$dir/dynalite.pid" ]] && kill -0 "$(cat "$dir/dynalite.pid")" 2>/dev/null; then
      echo "dynalite already running (pid $(cat "$dir/dynalite.pid")) for $dir" >&2; exit 1
    fi
    for attempt in 1 2 3 4 5; do
      port=$(free_port)
      # setsid: the server outlives this script and ignores the caller's terminal signals.
      setsid node "$cli" --host 127.0.0.1 --port "$port" --createTableMs 0 --deleteTableMs 0 \
        >"$dir/dynalite.log" 2>&1 < /dev/null &
      pid=$!
      echo "$pid" > "$dir/dynalite.pid"
      echo "$port" > "$dir/dynalite.port"
      for _ in $(seq 1 100); do
        if ready "$port"; then
          echo "export TTLA_DYNALITE_ENDPOINT=http://127.0.0.1:$port"
          exit 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
      done
      kill "$pid" 2>/dev/null || true
      echo "dynalite did not come up on port $port (attempt $attempt): $(tail -n 3 "$dir/dynalite.log")" >&2
    done
    rm -f "$dir/dynalite.pid"
    exit 1
    ;;
  stop)
    pidfile="$dir/dynalite.pid"
    [[ -f "$pidfile" ]] || exit 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile" "$dir/dynalite.port"
    ;;
  *) usage ;;
esac
