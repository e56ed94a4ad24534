#!/usr/bin/env bash
# Debian's OpenStack Swift (account, container, object, proxy with the s3api layer) on free
# 127.0.0.1 ports, everything under DIR. A real SigV4-verifying S3 endpoint for integration tests.
#
#   scripts/servers/swift.sh start DIR   # prints `export TTLA_S3_*=...` lines, waits until ready
#   scripts/servers/swift.sh stop DIR    # kills by pid file; safe to repeat
#
# Run as root: the servers drop to the `swift` user (TTLA_SWIFT_USER), which must own the device
# directory. TTLA_SWIFT_START_TIMEOUT (seconds, default 180) bounds the wait for readiness.
# Swift logs to syslog; our stdout/stderr capture goes to DIR/log/.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
cmd=$1
D=$2
SERVERS=(account container object proxy)
SWIFT_USER=${TTLA_SWIFT_USER:-swift}

die() {
  echo "swift.sh: $*" >&2
  exit 1
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

free_port() {
  # Bind port 0 and report what the kernel chose; the window until the server binds is tiny.
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

print_env() {
  cat "$D/env"
}

stop() {
  [[ -d $D ]] || return 0
  local name pidfile pid
  for name in "${SERVERS[@]}"; do
    pidfile="$D/run/$name.pid"
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile")
    # Each server was started with setsid: its pid is its process group, which also holds the
    # worker it forked. Signal the group, then the pid alone in case the group is gone.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for name in "${SERVERS[@]}"; do
    pidfile="$D/run/$name.pid"
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 50); do
      kill -0 -- "-$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

write_confs() {
  local etc=$D/etc
  local suffix
  suffix=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  cat >"$etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = ttla-$suffix
swift_hash_path_prefix = ttla

[storage-policy:0]
name = Policy-0
default = yes
EOF
  local name port
  for name in account container object; do
    case $name in
      account) port=$ACCOUNT_PORT ;;
      container) port=$CONTAINER_PORT ;;
      object) port=$OBJECT_PORT ;;
    esac
    cat >"$etc/$name-server.conf" <<EOF
[DEFAULT]
swift_dir = $etc
devices = $D/srv
mount_check = false
bind_ip = 127.0.0.1
bind_port = $port
workers = 1
user = $SWIFT_USER
log_name = ttla-$name
log_level = WARNING

[pipeline:main]
pipeline = $name-server

[app:$name-server]
use = egg:swift#$name
EOF
  done
  cat >"$etc/proxy-server.conf" <<EOF
[DEFAULT]
swift_dir = $etc
bind_ip = 127.0.0.1
bind_port = $PROXY_PORT
workers = 1
user = $SWIFT_USER
log_name = ttla-proxy
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
# Nothing listens here (tempauth only needs the filter present; tokens are then not cached).
memcache_servers = 127.0.0.1:$MEMCACHE_PORT

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_object_versioning = true

[filter:symlink]
use = egg:swift#symlink
EOF
}

build_rings() {
  local etc=$D/etc name port
  for name in account container object; do
    case $name in
      account) port=$ACCOUNT_PORT ;;
      container) port=$CONTAINER_PORT ;;
      object) port=$OBJECT_PORT ;;
    esac
    (
      cd "$etc"
      swift-ring-builder "$name.builder" create 10 1 1 >/dev/null
      swift-ring-builder "$name.builder" add "r1z1-127.0.0.1:$port/sdb1" 100 >/dev/null
      # rebalance exits 1 on warnings (e.g. a single replica); the ring is written regardless.
      swift-ring-builder "$name.builder" rebalance >/dev/null 2>&1 || true
    )
    [[ -f $etc/$name.ring.gz ]] || die "ring $name was not built"
  done
}

start() {
  if alive "$D/run/proxy.pid" && [[ -f $D/env ]]; then
    print_env  # already running: starting twice is harmless
    return 0
  fi
  command -v swift-proxy-server >/dev/null || die "swift-proxy-server not installed (apt-get install swift-proxy swift-account swift-container swift-object)"
  id "$SWIFT_USER" >/dev/null 2>&1 || die "user $SWIFT_USER does not exist"
  stop  # leftovers of a half-started instance
  mkdir -p "$D/etc" "$D/srv/sdb1" "$D/run" "$D/log"
  D=$(cd "$D" && pwd)
  # The servers run as $SWIFT_USER: it must reach DIR and own the device tree.
  chmod 755 "$D"
  # The swift user must also be able to traverse the parent (mktemp -d makes 0700 folders).
  chmod a+x "$(dirname "$D")" 2>/dev/null || true
  chown -R "$SWIFT_USER:" "$D/srv"

  ACCOUNT_PORT=$(free_port)
  CONTAINER_PORT=$(free_port)
  OBJECT_PORT=$(free_port)
  PROXY_PORT=$(free_port)
  MEMCACHE_PORT=$(free_port)
  write_confs
  build_rings
  chmod -R a+rX "$D/etc"

  local name
  for name in "${SERVERS[@]}"; do
    setsid "swift-$name-server" "$D/etc/$name-server.conf" </dev/null >"$D/log/$name.log" 2>&1 &
    echo $! >"$D/run/$name.pid"
  done

  # Ready = the proxy's healthcheck answers and every backend answers HTTP (any status: they
  # have no health endpoint of their own). Not /auth/v1.0: tempauth needs a live memcache to
  # hand out Swift tokens, while S3 (SigV4) requests work without one.
  # Python start-up of four servers takes ~2 s idle but over a minute on a loaded 2-core box.
  local ready=0 port code deadline=$((SECONDS + ${TTLA_SWIFT_START_TIMEOUT:-180}))
  while ((SECONDS < deadline)); do
    for name in "${SERVERS[@]}"; do
      alive "$D/run/$name.pid" || {
        stop
        die "swift-$name-server exited during startup; see $D/log/$name.log"
      }
    done
    ready=1
    for port in "$ACCOUNT_PORT" "$CONTAINER_PORT" "$OBJECT_PORT"; do
      code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null || true)
      [[ $code != 000 && -n $code ]] || ready=0
    done
    if [[ $ready == 1 ]] && curl -fsS -o /dev/null -m 2 "http://127.0.0.1:$PROXY_PORT/healthcheck" 2>/dev/null; then
      break
    fi
    ready=0
    sleep 0.2
  done
  if [[ $ready != 1 ]]; then
    stop
    die "swift proxy not ready on 127.0.0.1:$PROXY_PORT after ${TTLA_SWIFT_START_TIMEOUT:-180} s; logs in $D/log"
  fi
  cat >"$D/env" <<EOF
export TTLA_S3_ENDPOINT=http://127.0.0.1:$PROXY_PORT
export TTLA_S3_ACCESS_KEY=test:tester
export TTLA_S3_SECRET_KEY=testing
export TTLA_S3_REGION=us-east-1
EOF
  print_env
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
