#!/usr/bin/env bash
# Side-by-side DynamoDB peer benchmark: same dynalite, same table, alternating runs.
#
#   bench/peer/run_dynamodb_peers.sh [--items N] [--rounds R] [--rss-flatness [--big-items M]]
#
# Loads an N-item table (default 200,000) once, then runs R rounds (default 3) of, in turn:
#   lambda      bench/peer/cleanup_monitor_lambda.py (boto3 paginated Scan, ttl < now, projection)
#   lambda-4t   the same with 4 parallel-scan threads
#   aws-cli     /usr/bin/aws dynamodb scan --select COUNT --filter-expression '#t < :now'
#   ttl-auditor ttl-auditor run (full classification, quantiles, groups, report + textfile)
# and prints the median wall time, client CPU (user+sys) and peak RSS of each, measured with
# /usr/bin/time. dynalite is single-threaded (~150k scanned items/s), so wall times mostly
# measure it; client CPU and RSS are the clients' own cost.
# --rss-flatness also loads an M-item table (default 2,000,000; a few minutes) and compares
# ttl-auditor's peak RSS on both: memory must not grow with the table.
# Env: TTLA_BIN (default build/ttl-auditor), TTLA_BENCH_KEEP=1 keeps the work dir.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
py=/usr/bin/python3
items=200000 rounds=3 flat=0 big=2000000 segments=4
while (($#)); do
  case $1 in
    --items) items=$2; shift 2;;
    --rounds) rounds=$2; shift 2;;
    --rss-flatness) flat=1; shift;;
    --big-items) big=$2; shift 2;;
    --segments) segments=$2; shift 2;;
    *) echo "usage: $0 [--items N] [--rounds R] [--segments S] [--rss-flatness [--big-items M]]" >&2; exit 2;;
  esac
done
bin=${TTLA_BIN:-$root/build/ttl-auditor}
[[ -x "$bin" ]] || { echo "no ttl-auditor at $bin (build it or set TTLA_BIN)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time missing (apt-get install time)" >&2; exit 1; }
[[ -x /usr/bin/aws ]] || { echo "/usr/bin/aws missing (apt-get install awscli)" >&2; exit 1; }

work=$(mktemp -d /tmp/ttla-peers.XXXXXX)
cleanup() {
  bash "$root/scripts/servers/dynalite.sh" stop "$work/dynalite" || true
  [[ "${TTLA_BENCH_KEEP:-0}" == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT
eval "$(bash scripts/servers/dynalite.sh start "$work/dynalite")"
ep=$TTLA_DYNALITE_ENDPOINT
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_DEFAULT_REGION=us-east-1 \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN
now=$(date -u +%s)

load() {  # table items
  "$py" tests/tools/dynamo_gen.py --endpoint "$ep" --table "$1" --items "$2" --as-of "$now" \
    --seed 42 --truth "$work/$1.truth.json" --threads 6 --quiet
  echo "loaded $2 items into $1"
}

config() {  # table -> path
  cat > "$work/$1.yaml" <<EOF
targets:
  - name: bench
    kind: dynamodb
    table: $1
    region: us-east-1
    endpoint_url: $ep
    ttl_attribute: ttl
    segments: $segments
    group_by: {attribute: pk, split: "#", part: 0}
EOF
  echo "$work/$1.yaml"
}

# measure NAME cmd... : appends "wall cpu rss_kb" to $work/NAME.times, output to $work/NAME.out
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.tmp" "$@" > "$work/$name.out" 2> "$work/$name.err" || {
    local rc=$?
    # ttl-auditor exits 1 for critical anomalies (dynalite's TTL is DISABLED): a finished run.
    if [[ $name != ttl-auditor* || $rc -ne 1 ]]; then
      echo "$name failed (exit $rc):" >&2; tail -5 "$work/$name.err" >&2; exit 1
    fi
  }
  tail -n 1 "$work/time.tmp" | awk '{printf "%s %.3f %s\n", $1, $2 + $3, $4}' >> "$work/$name.times"
}

median_table() {
  "$py" - "$work" "$@" <<'PY'
import statistics, sys
work, names = sys.argv[1], sys.argv[2:]
print(f"{'client':<22}{'runs':>5}{'wall s':>9}{'CPU s':>8}{'peak RSS MB':>13}")
for n in names:
    rows = [list(map(float, l.split())) for l in open(f"{work}/{n}.times")]
    med = lambda i: statistics.median(r[i] for r in rows)
    print(f"{n:<22}{len(rows):>5}{med(0):>9.2f}{med(1):>8.2f}{med(2) / 1024:>13.1f}")
PY
}

load peers "$items"
cfg=$(config peers)
names=(lambda lambda-4t aws-cli ttl-auditor)
for r in $(seq 1 "$rounds"); do
  measure lambda "$py" bench/peer/cleanup_monitor_lambda.py --table peers --endpoint-url "$ep" --now "$now"
  measure lambda-4t "$py" bench/peer/cleanup_monitor_lambda.py --table peers --endpoint-url "$ep" \
    --now "$now" --threads 4
  measure aws-cli /usr/bin/aws dynamodb scan --table-name peers --endpoint-url "$ep" --select COUNT \
    --filter-expression '#t < :now' --expression-attribute-names '{"#t":"ttl"}' \
    --expression-attribute-values "{\":now\":{\"N\":\"$now\"}}" --output json
  measure ttl-auditor "$bin" run --config "$cfg" --as-of "$now" --report "$work/peers.report.json" \
    --textfile "$work/peers.prom" --log-level warn
  echo "round $r of $rounds done"
done

echo
echo "DynamoDB peers: $items items on dynalite, $rounds alternating rounds, medians ($(nproc) CPUs, load $(cut -d" " -f1-3 /proc/loadavg), $(date -u +%FT%TZ))"
median_table "${names[@]}"
"$py" - "$work" <<'PY'
import json, sys
w = sys.argv[1]
t = json.load(open(f"{w}/peers.truth.json"))
lam = json.loads(open(f"{w}/lambda.out").read())
cli = json.loads(open(f"{w}/aws-cli.out").read())
rep = json.load(open(f"{w}/peers.report.json"))["targets"][0]
print()
print("what each one found (truth from the generator):")
print(f"  truth       expired {t['expired']['count']}, oldest overdue {t['expired']['oldest_overdue_seconds']:.0f}s, "
      f"hygiene {sum(v for k, v in t['classes'].items() if k not in ('expired', 'not_yet_expired'))}")
print(f"  lambda      'expired' {lam['count']} (ttl < now: counts 0/negative/5y+ TTLs, misses ms and string TTLs), "
      f"oldest overdue {lam.get('oldest_overdue_seconds', 0):.0f}s")
print(f"  aws-cli     'expired' {cli['Count']} (same filter), nothing else")
print(f"  ttl-auditor expired {rep['expired']['count']}, oldest overdue {rep['expired']['oldest_overdue_seconds']:.0f}s, "
      f"p50/p90/p99 {'/'.join(str(round(v)) for v in rep['expired']['overdue_seconds_quantiles'].values())}s, "
      f"hygiene {sum(rep['hygiene'].values()) - rep['hygiene'].get('not_yet_expired', 0)}")
PY

if ((flat)); then
  echo
  echo "RSS flatness: loading $big items (takes a few minutes)..."
  load flat "$big"
  bigcfg=$(config flat)
  for r in $(seq 1 "$rounds"); do
    measure ttl-auditor-small "$bin" run --config "$cfg" --as-of "$now" --report "$work/small.json" --log-level warn
    measure ttl-auditor-big "$bin" run --config "$bigcfg" --as-of "$now" --report "$work/big.json" --log-level warn
  done
  echo
  echo "ttl-auditor peak RSS: $items vs $big items"
  median_table ttl-auditor-small ttl-auditor-big
  "$py" - "$work" <<'PY'
import json, sys
w = sys.argv[1]
for n in ("small", "big"):
    t = json.load(open(f"{w}/{n}.json"))["targets"][0]
    print(f"  {n}: scanned {t['scan']['items_scanned']} items, expired {t['expired']['count']}")
PY
fi
