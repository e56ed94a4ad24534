#!/usr/bin/env bash
# Side by side on one prefix of OBJECTS objects in Swift's S3 layer (scripts/servers/swift.sh):
#   aws s3api list-objects-v2 (Debian awscli v2, paging through everything, JMESPath count+sum;
#   JSON output: with text output awscli applies --query to each page separately)
#   a boto3 ListObjectsV2 paginator summing count and bytes (what a hand-written monitor does)
#   ttl-auditor run on an s3 target (retention 1d: versioning, lifecycle, listing, uploads)
# Alternating runs; medians of wall time, client CPU (user+sys) and peak RSS (GNU time).
#   bench/peer/run_s3_peers.sh [OBJECTS] [RUNS]      (default 20000 objects, 5 runs)
#   bench/peer/run_s3_peers.sh --rss-flatness [SMALL] [BIG]   (ttl-auditor's peak RSS on a SMALL-
#       and a BIG-object prefix, default 20000 and 200000, 3 alternating runs each; loading 200k
#       objects into Swift takes 10-30 minutes, done once per server: a marker file remembers it)
# Needs TTLA_S3_ENDPOINT (and TTLA_S3_ACCESS_KEY / TTLA_S3_SECRET_KEY) from swift.sh start.
set -euo pipefail
cd "$(dirname "$0")/../.."
flat=0
if [ "${1:-}" = "--rss-flatness" ]; then flat=1; shift; fi
objects="${1:-20000}"
runs="${2:-5}"
bin="${TTLA_BIN:-build/ttl-auditor}"
[ -x "$bin" ] || { echo "build first: cmake --build build --target ttl-auditor (or set TTLA_BIN)" >&2; exit 2; }
: "${TTLA_S3_ENDPOINT:?start Swift first: eval \"\$(scripts/servers/swift.sh start DIR)\"}"
export AWS_ACCESS_KEY_ID="${TTLA_S3_ACCESS_KEY:-test:tester}"
export AWS_SECRET_ACCESS_KEY="${TTLA_S3_SECRET_KEY:-testing}"
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
prefix="bench/"
port="${TTLA_S3_ENDPOINT##*:}"

load() {  # OBJECTS: the bucket ttla-bench-OBJECTS, loaded once per server
  local marker="/tmp/ttla-s3-bench-$port-$1.loaded" start
  [ -f "$marker" ] && return 0
  echo "loading $1 objects into s3://ttla-bench-$1/$prefix (parallel boto3) ..." >&2
  start=$(date +%s)
  /usr/bin/python3 tests/tools/s3_fixture.py objects "ttla-bench-$1" "$prefix" "$1" 100 32 > /dev/null
  echo "loaded in $(( $(date +%s) - start )) s" >&2
  touch "$marker"
}

tmp="$(mktemp -d /tmp/ttla-s3-bench.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
config() {  # OBJECTS -> $tmp/cfg-OBJECTS.yaml
  cat > "$tmp/cfg-$1.yaml" <<YAML
targets:
  - name: bench_s3
    kind: s3
    bucket: ttla-bench-$1
    prefix: $prefix
    region: us-east-1
    endpoint_url: $TTLA_S3_ENDPOINT
    retention: 1d
YAML
}
cat > "$tmp/paginator.py" <<'PY'
import os, sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["TTLA_S3_ENDPOINT"], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
n = b = 0
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[1], Prefix=sys.argv[2]):
    for o in page.get("Contents", []):
        n += 1
        b += o["Size"]
print(n, b)
PY

measure() {  # appends "wall cpu rss_kb" to $1, stdout of the command to $1.out
  local out=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" > "$out.out" 2> "$out.err" || { cat "$out.err" >&2; exit 1; }
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$tmp/t" >> "$out"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

if ((flat)); then
  small="${1:-20000}" big="${2:-200000}"
  load "$small"; load "$big"; config "$small"; config "$big"
  for ((i = 0; i < 3; i++)); do
    for n in "$small" "$big"; do
      measure "$tmp/flat-$n" "$bin" run --config "$tmp/cfg-$n.yaml" --report "$tmp/report-$n.json" \
        --fail-on never --no-progress --log-level warn
    done
  done
  echo "ttl-auditor peak RSS, $small vs $big objects, 3 alternating runs (medians), load=$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-10s %8s %8s %12s   %s\n' objects wall_s cpu_s peak_rss_kb "listed"
  for n in "$small" "$big"; do
    printf '%-10s %8s %8s %12s   %s\n' "$n" "$(cut -d' ' -f1 "$tmp/flat-$n" | median)" \
      "$(cut -d' ' -f2 "$tmp/flat-$n" | median)" "$(cut -d' ' -f3 "$tmp/flat-$n" | median)" \
      "$(/usr/bin/python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["targets"][0]; print(t["s3"]["objects"], "status=" + t["status"])' "$tmp/report-$n.json")"
  done
  awk -v s="$(cut -d' ' -f3 "$tmp/flat-$small" | median)" -v b="$(cut -d' ' -f3 "$tmp/flat-$big" | median)" \
    'BEGIN {printf "growth: %+.1f%% (target < 10%%)\n", (b / s - 1) * 100}'
  exit 0
fi

load "$objects"
config "$objects"
bucket="ttla-bench-$objects"

for ((i = 0; i < runs; i++)); do
  measure "$tmp/awscli" /usr/bin/aws s3api list-objects-v2 --bucket "$bucket" --prefix "$prefix" \
    --endpoint-url "$TTLA_S3_ENDPOINT" --query "[length(Contents), sum(Contents[].Size)]" --output json
  measure "$tmp/boto3" /usr/bin/python3 "$tmp/paginator.py" "$bucket" "$prefix"
  measure "$tmp/auditor" "$bin" run --config "$tmp/cfg-$objects.yaml" --report "$tmp/report.json" \
    --fail-on never --no-progress --log-level warn
done

echo "objects=$objects runs=$runs endpoint=$TTLA_S3_ENDPOINT load=$(cut -d' ' -f1-3 /proc/loadavg) (medians)"
printf '%-28s %8s %8s %12s   %s\n' tool wall_s cpu_s peak_rss_kb "count bytes"
row() {
  printf '%-28s %8s %8s %12s   %s\n' "$1" "$(cut -d' ' -f1 "$2" | median)" \
    "$(cut -d' ' -f2 "$2" | median)" "$(cut -d' ' -f3 "$2" | median)" "$3"
}
row "aws s3api list-objects-v2" "$tmp/awscli" "$(tr -d '[],\n' < "$tmp/awscli.out" | tr -s ' ')"
row "boto3 paginator" "$tmp/boto3" "$(cat "$tmp/boto3.out")"
row "ttl-auditor run (s3)" "$tmp/auditor" "$(/usr/bin/python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["targets"][0]
print(t["s3"]["objects"], t["s3"]["bytes"], "requests=%s" % t["s3"]["requests"]["LIST"], "status=" + t["status"])
' "$tmp/report.json")"
