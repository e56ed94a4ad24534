#!/usr/bin/env bash
# Prometheus + Pushgateway on free 127.0.0.1 ports for the end-to-end observability test.
#   start DIR  -> both servers with state, logs and pid files under DIR; Prometheus scrapes the
#                 Pushgateway every second (honor_labels: true) and evaluates the repository's
#                 alerts/*.rules.yml every second. Waits until both are ready, then prints
#                   export TTLA_PROMETHEUS_URL=http://127.0.0.1:PORT
#                   export TTLA_PUSHGATEWAY_URL=http://127.0.0.1:PORT
#   stop DIR   -> kills the two recorded pids (only those processes)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# 200 from a readiness URL within ~15 s, while the process lives.
wait_ready() {
  local url=$1 pid=$2 name=$3
  for _ in $(seq 1 150); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null)" == 200 ]]; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "$name exited: $(tail -n 5 "$dir/$name.log")" >&2; return 1; }
    sleep 0.1
  done
  echo "$name not ready at $url: $(tail -n 5 "$dir/$name.log")" >&2
  return 1
}

stop_pid() {
  local pidfile=$1 pid
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}

start_server() {  # name, readiness path, then the command; retries on a port race
  local name=$1 path=$2; shift 2
  local attempt port pid
  for attempt in 1 2 3; do
    port=$(free_port)
    # setsid: the server outlives this script and ignores the caller's terminal signals.
    setsid "$@" "--web.listen-address=127.0.0.1:$port" >"$dir/$name.log" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" > "$dir/$name.pid"
    if wait_ready "http://127.0.0.1:$port$path" "$pid" "$name"; then
      echo "$port" > "$dir/$name.port"
      return 0
    fi
    stop_pid "$dir/$name.pid"
    echo "$name: attempt $attempt failed" >&2
  done
  return 1
}

case "$cmd" in
  start)
    for bin in prometheus prometheus-pushgateway; do
      command -v "$bin" >/dev/null || { echo "$bin not installed (apt-get install prometheus prometheus-pushgateway)" >&2; exit 1; }
    done
    for name in prometheus pushgateway; do
      if [[ -f "$dir/$name.pid" ]] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
        echo "$name already running (pid $(cat "$dir/$name.pid")) for $dir" >&2; exit 1
      fi
    done
    # Debian's build defaults --persistence.file to /var/lib/prometheus/pushgateway.data: every
    # instance would share (and reload) the same groups across runs. Keep ours in memory.
    start_server pushgateway /-/ready prometheus-pushgateway --persistence.file=
    pg_port=$(cat "$dir/pushgateway.port")

    rule_files=""
    for f in "$root"/alerts/*.rules.yml; do
      [[ -f "$f" ]] && rule_files+="  - $f"$'\n'
    done
    cat > "$dir/prom.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
${rule_files}scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:${pg_port}"]
YAML
    rm -rf "$dir/data"
    if ! start_server prometheus /-/ready prometheus --config.file="$dir/prom.yml" \
        --storage.tsdb.path="$dir/data" --storage.tsdb.retention.time=1d \
        --web.enable-lifecycle --log.level=warn; then
      stop_pid "$dir/pushgateway.pid"
      exit 1
    fi
    echo "export TTLA_PROMETHEUS_URL=http://127.0.0.1:$(cat "$dir/prometheus.port")"
    echo "export TTLA_PUSHGATEWAY_URL=http://127.0.0.1:${pg_port}"
    ;;
  stop)
    stop_pid "$dir/prometheus.pid"
    stop_pid "$dir/pushgateway.pid"
    rm -f "$dir/prometheus.port" "$dir/pushgateway.port"
    ;;
  *) usage ;;
esac
