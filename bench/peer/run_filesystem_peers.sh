#!/usr/bin/env bash
# Side by side on one generated tree: ttl-auditor's filesystem audit against
#   find DIR -type f ! -newermt @CUTOFF -printf '%s\n' | awk '{n++; b+=$1} END {print n, b}'
# (CUTOFF = now - 7 days, the same instant ttl-auditor gets with --as-of, so both count the same
# files; `-mmin +10080` would move with each run's own clock, and ~8 files cross the line between
# two runs on a 1M-file tree). Alternating runs, medians of wall time, CPU (user+sys) and peak RSS
# (GNU time), and the ratio. The tree has FILES
# files, 100 per folder (1M files: 10k folders under 100 top-level ones), with modification times
# spread over 30 days, generated once and reused. TTLA_FS_THREADS sets --threads (default: auto).
# RUNS=0 only generates the tree.
#   bench/peer/run_filesystem_peers.sh [FILES] [RUNS]     (default 1000000 files, 5 runs)
#   bench/peer/run_filesystem_peers.sh --rss-flatness     (ttl-auditor's peak RSS, 100k vs 1M files)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = "--rss-flatness" ]; then
  here="$(pwd)"
  for n in 100000 1000000; do "$here/bench/peer/run_filesystem_peers.sh" "$n" 0; done
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
  for n in 100000 1000000; do
    cfg="$(mktemp /tmp/ttla-fs-flat.XXXXXX.yaml)"
    printf 'targets:\n  - name: bench_tree\n    kind: filesystem\n    path: %s\n    retention: 7d\n' \
      "${TTLA_BENCH_TREE_BASE:-/tmp/ttla-bench-tree}-$n" > "$cfg"
    for i in 1 2 3; do
      /usr/bin/time -f "%M" -o "$cfg.t" "${TTLA_BIN:-build/ttl-auditor}" run --config "$cfg" \
        --report "$cfg.json" --fail-on never --no-progress > /dev/null 2>&1 || true
      cat "$cfg.t"
    done | sort -n | sed -n 2p > "$cfg.m"
    echo "files=$n ttl-auditor median peak RSS $(cat "$cfg.m") KB"
    echo "$(cat "$cfg.m")" >> /tmp/ttla-fs-flat.$$
    rm -f "$cfg" "$cfg.t" "$cfg.json" "$cfg.m"
  done
  awk 'NR==1 {s=$1} NR==2 {printf "growth 100k -> 1M files: %+.1f%% (target < 10%%)\n", ($1 / s - 1) * 100}' /tmp/ttla-fs-flat.$$
  rm -f /tmp/ttla-fs-flat.$$
  exit 0
fi
files="${1:-1000000}"
runs="${2:-5}"
bin="${TTLA_BIN:-build/ttl-auditor}"
tree="${TTLA_BENCH_TREE:-${TTLA_BENCH_TREE_BASE:-/tmp/ttla-bench-tree}-$files}"
[ -x "$bin" ] || { echo "build first: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build" >&2; exit 2; }

if [ ! -f "$tree/.complete" ]; then
  echo "generating $files files under $tree ..." >&2
  rm -rf "$tree"
  /usr/bin/python3 - "$tree" "$files" <<'PY'
import os, random, sys, time
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
now = time.time()
per_dir = 100
for i in range(n):
    d = os.path.join(root, f"u{i // (per_dir * 100) % 100:02d}", f"s{i // per_dir:05d}")
    if i % per_dir == 0:
        os.makedirs(d, exist_ok=True)
    p = os.path.join(d, f"f{i}.bin")
    with open(p, "wb") as f:
        f.write(b"x" * (i % 1024))
    t = now - rng.uniform(0, 30 * 86400)
    os.utime(p, (t, t))
open(os.path.join(root, ".complete"), "w").close()
PY
fi
[ "$runs" -gt 0 ] || exit 0
threads=()
[ -n "${TTLA_FS_THREADS:-}" ] && threads=(--threads "$TTLA_FS_THREADS")

cfg="$(mktemp /tmp/ttla-fs-bench.XXXXXX.yaml)"
cat > "$cfg" <<YAML
targets:
  - name: bench_tree
    kind: filesystem
    path: $tree
    retention: 7d
YAML

# One instant for both: ttl-auditor --as-of NOW, find ! -newermt @(NOW - 7 days).
now="$(date -u +%s)"
cutoff=$((now - 7 * 86400))

measure() {  # prints "wall_seconds max_rss_kb cpu_seconds"
  /usr/bin/time -f "%e %M %U %S" -o /tmp/ttla-time.$$ "$@" > /tmp/ttla-out.$$ 2>/dev/null || true
  awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' /tmp/ttla-time.$$
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: > /tmp/ttla-find.$$; : > /tmp/ttla-audit.$$
for ((i = 0; i < runs; i++)); do
  measure bash -c "find '$tree' -type f ! -newermt @$cutoff -printf '%s\n' | awk '{n++; b+=\$1} END {print n, b}'" >> /tmp/ttla-find.$$
  cp /tmp/ttla-out.$$ /tmp/ttla-find-out.$$
  measure "$bin" run --config "$cfg" --report /tmp/ttla-fs-report.$$.json --fail-on never --no-progress --as-of "$now" "${threads[@]}" >> /tmp/ttla-audit.$$
done
echo "files=$files runs=$runs threads=${TTLA_FS_THREADS:-auto} load=$(cut -d' ' -f1-3 /proc/loadavg) (medians)"
printf '%-14s %10s %8s %12s\n' tool wall_s cpu_s peak_rss_kb
for t in find:find+awk audit:ttl-auditor; do
  f=/tmp/ttla-${t%%:*}.$$
  printf '%-14s %10s %8s %12s\n' "${t#*:}" "$(cut -d' ' -f1 "$f" | median)" "$(cut -d' ' -f3 "$f" | median)" \
    "$(cut -d' ' -f2 "$f" | median)"
done
fw="$(cut -d' ' -f1 /tmp/ttla-find.$$ | median)"; aw="$(cut -d' ' -f1 /tmp/ttla-audit.$$ | median)"
awk -v a="$aw" -v f="$fw" 'BEGIN {printf "ratio ttl-auditor/find wall: %.2f\n", a / f}'
echo "find+awk says (files bytes): $(cat /tmp/ttla-find-out.$$)"
/usr/bin/python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['targets'][0]; print('ttl-auditor says (files bytes):', t['expired']['count'], t['expired']['bytes'])" /tmp/ttla-fs-report.$$.json
rm -f /tmp/ttla-*.$$ /tmp/ttla-fs-report.$$.json "$cfg"
