#!/usr/bin/env bash
# Every side-by-side benchmark in one run, then the README's "Measured" rows as markdown.
#
#   bench/run_all.sh [--quick] [--skip-big] [--only dynamodb,s3,postgres,filesystem,micro]
#
# Runs, one after the other, each kind's own script (each also runs alone):
#   dynamodb    bench/peer/run_dynamodb_peers.sh [--rss-flatness]   ttl-auditor vs a boto3 cleanup-
#               monitor Lambda (1 and 4 threads) and `aws dynamodb scan --select COUNT`, 200k items;
#               the flatness pass adds a 2M-item table
#   s3          bench/peer/run_s3_peers.sh 20000 5 and --rss-flatness 20000 200000   ttl-auditor vs
#               `aws s3api list-objects-v2` and a boto3 paginator
#   postgres    bench/peer/run_postgres_bench.sh 1000000 5 and --rss-flatness   ttl-auditor vs the
#               one psql query a DBA would type
#   filesystem  bench/peer/run_filesystem_peers.sh 1000000 5 and --rss-flatness   ttl-auditor vs
#               find | awk
#   micro       the Google Benchmark binaries (scan_parse_bench, stats_bench)
# Every peer script alternates the tools run by run and prints medians and ratios; this script
# keeps each one's full output under $TTLA_BENCH_OUT (default /tmp/ttla-bench-all.<time>) and
# prints the table rows at the end, with the load average each was measured at.
#
# Runtime on the 2-core development VM (servers started and loaded here, machine shared):
#   full          about 90 minutes: loading dynalite with 2M items (~35 min) and Swift with 200k
#                 objects (10-30 min) dominate
#   --skip-big    about 20 minutes: no 2M-item table, no 200k-object bucket (no DynamoDB and S3
#                 flatness rows)
#   --quick       a few minutes: small sizes everywhere (20k items, 2k objects, 100k rows, 100k
#                 files), to check that everything runs; not the README's figures
#
# Needs a Release build with the benchmarks:
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DTTLA_BUILD_BENCH=ON
#   cmake --build build-rel -j2 --target ttl-auditor scan_parse_bench stats_bench
# TTLA_BIN (default build-rel/ttl-auditor, else build/ttl-auditor) and TTLA_BENCH_DIR (the
# directory holding the Google Benchmark binaries, default next to TTLA_BIN under bench/).
# Starts and stops its own dynalite, Swift and PostgreSQL (scripts/servers/*.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=0 big=1 only="dynamodb,s3,postgres,filesystem,micro"
while (($#)); do
  case $1 in
    --quick) quick=1; big=0; shift;;
    --skip-big) big=0; shift;;
    --only) only=$2; shift 2;;
    *) echo "usage: $0 [--quick] [--skip-big] [--only dynamodb,s3,postgres,filesystem,micro]" >&2; exit 2;;
  esac
done
if [[ -z "${TTLA_BIN:-}" ]]; then
  TTLA_BIN=$root/build-rel/ttl-auditor
  [[ -x $TTLA_BIN ]] || TTLA_BIN=$root/build/ttl-auditor
fi
export TTLA_BIN
[[ -x $TTLA_BIN ]] || { echo "no ttl-auditor at $TTLA_BIN (see the build commands above)" >&2; exit 1; }
benchdir=${TTLA_BENCH_DIR:-$(dirname "$TTLA_BIN")/bench}
out=${TTLA_BENCH_OUT:-/tmp/ttla-bench-all.$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"
wants() { [[ ",$only," == *",$1,"* ]]; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
started=$(date +%s)

swift_dir=""
cleanup() { [[ -n $swift_dir ]] && bash scripts/servers/swift.sh stop "$swift_dir" > /dev/null 2>&1 || true; }
trap cleanup EXIT

step() {  # NAME command...: runs it, output to $out/NAME.log (and the terminal), load before/after
  local name=$1; shift
  echo "== $name: $* (load $(load))" | tee "$out/$name.log"
  "$@" 2>&1 | tee -a "$out/$name.log"
  echo "== $name done, load $(load)" | tee -a "$out/$name.log"
}

if ((quick)); then
  ddb_items=20000 s3_objects=2000 pg_rows=100000 fs_files=100000 runs=3
else
  ddb_items=200000 s3_objects=20000 pg_rows=1000000 fs_files=1000000 runs=5
fi

if wants dynamodb; then
  args=(--items "$ddb_items" --rounds 3)
  ((big)) && args+=(--rss-flatness)
  step dynamodb bench/peer/run_dynamodb_peers.sh "${args[@]}"
fi
if wants s3; then
  if [[ -z "${TTLA_S3_ENDPOINT:-}" ]]; then
    swift_dir=$(mktemp -d /tmp/ttla-bench-swift.XXXXXX)
    eval "$(bash scripts/servers/swift.sh start "$swift_dir")"
  fi
  step s3 bench/peer/run_s3_peers.sh "$s3_objects" "$runs"
  ((big)) && step s3-flat bench/peer/run_s3_peers.sh --rss-flatness "$s3_objects" $((s3_objects * 10))
fi
if wants postgres; then
  step postgres bench/peer/run_postgres_bench.sh "$pg_rows" "$runs"
  ((quick)) || step postgres-flat bench/peer/run_postgres_bench.sh --rss-flatness
fi
if wants filesystem; then
  step filesystem bench/peer/run_filesystem_peers.sh "$fs_files" "$runs"
  ((quick)) || step filesystem-flat bench/peer/run_filesystem_peers.sh --rss-flatness
fi
if wants micro; then
  for b in scan_parse_bench stats_bench; do
    if [[ -x $benchdir/$b ]]; then
      step "$b" "$benchdir/$b" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
    else
      echo "skipping $b: not built at $benchdir/$b" | tee "$out/$b.log"
    fi
  done
fi

echo
echo "All logs in $out ($(( ($(date +%s) - started) / 60 )) min)."
echo "README \"Measured\" rows (medians; wall times depend on the load shown):"
echo
/usr/bin/python3 - "$out" <<'PY'
import os, re, sys
out = sys.argv[1]

def log(name):
    p = os.path.join(out, name + ".log")
    return open(p).read() if os.path.exists(p) else ""

def load_of(text):
    m = re.search(r"\(load ([\d.]+) ([\d.]+) ([\d.]+)\)", text)
    return f"load {m.group(1)}" if m else "load ?"

rows = []
t = log("dynamodb")
if t:
    med = {}
    for line in t.splitlines():
        f = line.split()
        if len(f) == 5 and f[1].isdigit() and re.match(r"^[\d.]+$", f[2]):
            med[f[0]] = f[2:]
    m = re.search(r"DynamoDB peers: (\d+) items", t)
    if "ttl-auditor" in med:
        def d(n):
            w, c, r = med[n]
            return f"{c} s CPU, {r} MB, {w} s"
        rows.append(f"| DynamoDB, {int(m.group(1)):,} items on dynalite, medians of 3 alternating runs "
                    f"| `bench/peer/run_dynamodb_peers.sh` | ttl-auditor {d('ttl-auditor')}; boto3 "
                    f"cleanup-monitor Lambda {d('lambda')}, 4 threads {d('lambda-4t')}; "
                    f"`aws dynamodb scan --select COUNT` {d('aws-cli')} ({load_of(t)}) |")
    if "ttl-auditor-big" in med:
        s, b = float(med["ttl-auditor-small"][2]), float(med["ttl-auditor-big"][2])
        rows.append(f"| DynamoDB RSS, small vs big table, medians of 3 | "
                    f"`bench/peer/run_dynamodb_peers.sh --rss-flatness` | {s} MB vs {b} MB "
                    f"({(b / s - 1) * 100:+.0f}%, target under 10%) |")

t = log("s3")
if t:
    r = {}
    for line in t.splitlines():
        m = re.match(r"^(aws s3api list-objects-v2|boto3 paginator|ttl-auditor run \(s3\))\s+([\d.]+)\s+([\d.]+)\s+(\d+)", line)
        if m:
            r[m.group(1)] = (m.group(2), m.group(3), int(m.group(4)) / 1024)
    m = re.search(r"objects=(\d+) runs=(\d+)", t)
    if len(r) == 3:
        d = lambda n: f"{r[n][0]} s wall, {r[n][1]} s CPU, {r[n][2]:.1f} MB"
        rows.append(f"| S3, {int(m.group(1)):,} objects in Swift, medians of {m.group(2)} | "
                    f"`bench/peer/run_s3_peers.sh {m.group(1)} {m.group(2)}` | ttl-auditor "
                    f"{d('ttl-auditor run (s3)')}; boto3 paginator {d('boto3 paginator')}; "
                    f"`aws s3api list-objects-v2` {d('aws s3api list-objects-v2')} ({load_of(t)}) |")
t = log("s3-flat")
if t:
    r = re.findall(r"^(\d+)\s+[\d.]+\s+[\d.]+\s+(\d+)", t, re.M)
    g = re.search(r"growth: ([+-][\d.]+%)", t)
    if len(r) == 2 and g:
        rows.append(f"| S3 RSS, {int(r[0][0]):,} vs {int(r[1][0]):,} objects, medians of 3 | "
                    f"`bench/peer/run_s3_peers.sh --rss-flatness` | {int(r[0][1]) / 1024:.1f} MB vs "
                    f"{int(r[1][1]) / 1024:.1f} MB ({g.group(1)}, target under 10%) |")

t = log("postgres")
if t:
    m = re.search(r"rows=(\d+) runs=(\d+) load=([\d.]+)", t)
    for label, what in (("no index", "no index"), ("index on ts", "b-tree index on the timestamp")):
        r = re.search(re.escape(label) + r"\s+psql\s+([\d.]+)s\s+(\d+) KB \| ttl-auditor\s+([\d.]+)s\s+(\d+) KB \| ratio ([\d.]+)", t)
        if r and m:
            rows.append(f"| PostgreSQL, {int(m.group(1)):,} rows, 30% past retention, {what}, medians of "
                        f"{m.group(2)} alternating runs | `bench/peer/run_postgres_bench.sh {m.group(1)} {m.group(2)}` | "
                        f"ttl-auditor {r.group(3)} s, {int(r.group(4)) / 1024:.1f} MB vs the DBA's `psql` query "
                        f"{r.group(1)} s, {int(r.group(2)) / 1024:.1f} MB: **ratio {r.group(5)}** (target 1.5; "
                        f"load {m.group(3)}) |")
t = log("postgres-flat")
if t:
    r = re.findall(r"rows=(\d+) ttl-auditor median peak RSS (\d+) KB", t)
    if len(r) == 2:
        s, b = int(r[0][1]), int(r[1][1])
        rows.append(f"| PostgreSQL RSS, {int(r[0][0]):,} vs {int(r[1][0]):,} rows | "
                    f"`bench/peer/run_postgres_bench.sh --rss-flatness` | {s / 1024:.1f} MB vs "
                    f"{b / 1024:.1f} MB ({(b / s - 1) * 100:+.0f}%) |")

t = log("filesystem")
if t:
    m = re.search(r"files=(\d+) runs=(\d+) threads=(\S+) load=([\d.]+)", t)
    f = re.search(r"^find\+awk\s+([\d.]+)\s+([\d.]+)\s+(\d+)", t, re.M)
    a = re.search(r"^ttl-auditor\s+([\d.]+)\s+([\d.]+)\s+(\d+)", t, re.M)
    ratio = re.search(r"ratio ttl-auditor/find wall: ([\d.]+)", t)
    cf = re.search(r"find\+awk says \(files bytes\): (\d+) (\d+)", t)
    ca = re.search(r"ttl-auditor says \(files bytes\): (\d+) (\d+)", t)
    if m and f and a and ratio:
        same = "identical counts" if cf and ca and cf.groups() == ca.groups() else "COUNTS DIFFER"
        rows.append(f"| Filesystem, {int(m.group(1)):,} files, medians of {m.group(2)} alternating runs | "
                    f"`bench/peer/run_filesystem_peers.sh {m.group(1)} {m.group(2)}` | ttl-auditor "
                    f"({m.group(3)} threads) {a.group(1)} s wall, {a.group(2)} s CPU, "
                    f"{int(a.group(3)) / 1024:.1f} MB; `find ! -newermt \\| awk` {f.group(1)} s, "
                    f"{f.group(2)} s CPU, {int(f.group(3)) / 1024:.1f} MB: ratio {ratio.group(1)} "
                    f"(target 0.6; load {m.group(4)}); {same} |")
t = log("filesystem-flat")
if t:
    r = re.findall(r"files=(\d+) ttl-auditor median peak RSS (\d+) KB", t)
    if len(r) == 2:
        s, b = int(r[0][1]), int(r[1][1])
        rows.append(f"| Filesystem RSS, {int(r[0][0]):,} vs {int(r[1][0]):,} files | "
                    f"`bench/peer/run_filesystem_peers.sh --rss-flatness` | {s / 1024:.1f} MB vs "
                    f"{b / 1024:.1f} MB ({(b / s - 1) * 100:+.0f}%) |")

for b in ("scan_parse_bench", "stats_bench"):
    t = log(b)
    figs = []
    for line in t.splitlines():
        m = re.match(r"^(BM_\S+)_median\s+([\d.]+) (\w+)\s+([\d.]+) (\w+)\s+\d+(.*)$", line)
        if m:
            extra = " ".join(m.group(6).split())
            figs.append(f"{m.group(1)} {m.group(4)} {m.group(5)}" + (f" ({extra})" if extra else ""))
    if figs:
        rows.append(f"| {b} (CPU time, medians of 3) | `{b} --benchmark_repetitions=3` | "
                    + "; ".join(figs) + f" ({load_of(t)}) |")

print("| what | command | figure |")
print("|---|---|---|")
for r in rows:
    print(r)
PY
