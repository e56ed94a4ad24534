#!/usr/bin/env bash
# moto's AWS server (an independent implementation of the DynamoDB, S3, STS, IAM, CloudWatch and
# SQS wire protocols) on a free 127.0.0.1 port, for the integration tests that need what dynalite
# and Swift lack: TTL status, lifecycle configuration, STS, IAM enforcement, CloudWatch.
#   start DIR  -> pid + log in DIR, waits until GET /moto-api/ answers, prints
#                 `export TTLA_MOTO_ENDPOINT=http://127.0.0.1:PORT` on stdout
#   stop DIR   -> kills the pid recorded in DIR (only that process)
# INITIAL_NO_AUTH_ACTION_COUNT in the environment is passed through (moto's IAM enforcement).
# moto_server comes with the machine's preinstalled Python (not a Debian package); where it is
# missing, start fails and says so.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd=$1 dir=$2

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

case "$cmd" in
  start)
    bin=$(command -v moto_server || true)
    [[ -n "$bin" ]] || { echo "moto_server not found on PATH (it comes with pip's moto[server])" >&2; exit 1; }
    mkdir -p "$dir"
    if [[ -f "$dir/moto.pid" ]] && kill -0 "$(cat "$dir/moto.pid")" 2>/dev/null; then
      echo "moto already running (pid $(cat "$dir/moto.pid")) for $dir" >&2; exit 1
    fi
    for attempt in 1 2 3; do
      port=$(free_port)
      # No real credentials and no metadata service may ever be consulted by the server.
      AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
        setsid "$bin" -H 127.0.0.1 -p "$port" > "$dir/moto.log" 2>&1 < /dev/null &
      pid=$!
      echo "$pid" > "$dir/moto.pid"
      echo "$port" > "$dir/moto.port"
      for _ in $(seq 1 200); do
        if curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/moto-api/" 2>/dev/null | grep -q '^200$'; then
          echo "export TTLA_MOTO_ENDPOINT=http://127.0.0.1:$port"
          exit 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
      done
      kill "$pid" 2>/dev/null || true
      echo "moto did not come up on port $port (attempt $attempt): $(tail -n 3 "$dir/moto.log")" >&2
    done
    rm -f "$dir/moto.pid"
    exit 1
    ;;
  stop)
    pidfile="$dir/moto.pid"
    [[ -f "$pidfile" ]] || exit 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile" "$dir/moto.port"
    ;;
  *) usage ;;
esac
