#!/usr/bin/env bash
# Side by side on one prefix of OBJECTS objects in Swift's S3 layer (scripts/servers/swift.sh):
#   aws s3api list-objects-v2 (Debian awscli v2, paging through everything, JMESPath count+sum;
#   JSON output: with text output awscli applies --query to each page separately)
#   a boto3 ListObjectsV2 paginator summing count and bytes (what a hand-written monitor does)
#   ttl-auditor run on an s3 target (retention 1d: versioning, lifecycle, listing, uploads)
# Alternating runs; medians of wall time, client CPU (user+sys) and peak RSS (GNU time).
#   bench/peer/run_s3_peers.sh [OBJECTS] [RUNS]      (default 20000 objects, 5 runs)
# Needs TTLA_S3_ENDPOINT (and TTLA_S3_ACCESS_KEY / TTLA_S3_SECRET_KEY) from swift.sh start.
set -euo pipefail
cd "$(dirname "$0")/../.."
objects="${1:-20000}"
runs="${2:-5}"
bin="${TTLA_BIN:-build/ttl-auditor}"
[ -x "$bin" ] || { echo "build first: cmake --build build --target ttl-auditor (or set TTLA_BIN)" >&2; exit 2; }
: "${TTLA_S3_ENDPOINT:?start Swift first: eval \"\$(scripts/servers/swift.sh start DIR)\"}"
export AWS_ACCESS_KEY_ID="${TTLA_S3_ACCESS_KEY:-test:tester}"
export AWS_SECRET_ACCESS_KEY="${TTLA_S3_SECRET_KEY:-testing}"
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
bucket="ttla-bench-$objects"
prefix="bench/"
port="${TTLA_S3_ENDPOINT##*:}"
marker="/tmp/ttla-s3-bench-$port-$objects.loaded"

if [ ! -f "$marker" ]; then
  echo "loading $objects objects into s3://$bucket/$prefix (parallel boto3) ..." >&2
  start=$(date +%s)
  /usr/bin/python3 tests/tools/s3_fixture.py objects "$bucket" "$prefix" "$objects" 100 32 > /dev/null
  echo "loaded in $(( $(date +%s) - start )) s" >&2
  touch "$marker"
fi

tmp="$(mktemp -d /tmp/ttla-s3-bench.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/cfg.yaml" <<YAML
targets:
  - name: bench_s3
    kind: s3
    bucket: $bucket
    prefix: $prefix
    region: us-east-1
    endpoint_url: $TTLA_S3_ENDPOINT
    retention: 1d
YAML
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

for ((i = 0; i < runs; i++)); do
  measure "$tmp/awscli" /usr/bin/aws s3api list-objects-v2 --bucket "$bucket" --prefix "$prefix" \
    --endpoint-url "$TTLA_S3_ENDPOINT" --query "[length(Contents), sum(Contents[].Size)]" --output json
  measure "$tmp/boto3" /usr/bin/python3 "$tmp/paginator.py" "$bucket" "$prefix"
  measure "$tmp/auditor" "$bin" run --config "$tmp/cfg.yaml" --report "$tmp/report.json" \
    --fail-on never --no-progress --log-level warn
done

echo "objects=$objects runs=$runs server=swift-s3api (medians)"
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
