#!/usr/bin/env bash
# The README's main job, end to end on this machine: a DynamoDB table full of expired-but-undeleted
# upload sessions (on a local dynalite), audited read-only by `ttl-auditor run`.
#
#   bash scripts/demo.sh      # installs what is missing (scripts/install-deps.sh), builds
#                             # build/ttl-auditor if needed, then runs the audit
#
# Environment: TTLA_BIN (use this binary instead of build/ttl-auditor), TTLA_DEMO_ITEMS (20000),
# TTLA_DEMO_KEEP=1 (keep the work directory).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=/usr/bin/python3  # Debian's, with boto3 (PATH may put another python first)
items=${TTLA_DEMO_ITEMS:-20000}

# Debian packages and dynalite: a no-op when everything is present.
[[ "${TTLA_DEMO_SKIP_INSTALL:-0}" == 1 ]] || bash scripts/install-deps.sh

[[ -f tests/node_modules/dynalite/cli.js ]] ||
  { echo "demo: dynalite is not installed: run scripts/install-deps.sh first" >&2; exit 1; }
"$py" -c 'import boto3' 2>/dev/null ||
  { echo "demo: $py has no boto3: run scripts/install-deps.sh first" >&2; exit 1; }

bin=${TTLA_BIN:-$root/build/ttl-auditor}
if [[ ! -x "$bin" ]]; then
  echo "demo: building $bin (Release; a few minutes the first time)"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTTLA_BUILD_TESTS=OFF -DTTLA_BUILD_BENCH=OFF \
    > /tmp/ttla-demo-cmake.log 2>&1 || { cat /tmp/ttla-demo-cmake.log; exit 1; }
  cmake --build build -j"$(nproc)" --target ttl-auditor > /tmp/ttla-demo-build.log 2>&1 ||
    { grep -E "error" -A5 /tmp/ttla-demo-build.log | head -60; exit 1; }
  bin=$root/build/ttl-auditor
fi

work=$(mktemp -d /tmp/ttla-demo.XXXXXX)
cleanup() {
  bash "$root/scripts/servers/dynalite.sh" stop "$work/dynalite" || true
  if [[ "${TTLA_DEMO_KEEP:-0}" != 1 ]]; then
    # The reports, config and truth stay for the user to look at; the server's files go.
    rm -rf "$work/dynalite" "$work/gen.log"
  fi
}
trap cleanup EXIT

eval "$(bash scripts/servers/dynalite.sh start "$work/dynalite")"
export TTLA_DYNALITE_ENDPOINT
# dynalite checks only that a request is signed; these are not real credentials.
export AWS_ACCESS_KEY_ID=AKIDDEMO AWS_SECRET_ACCESS_KEY=demo-secret AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE
echo "demo: dynalite on $TTLA_DYNALITE_ENDPOINT"

as_of=$(date -u +%s)
echo "demo: loading $items upload sessions into UploadSessions (keys user#session, TTLs over weeks)"
# Mostly sessions that expire in the coming days plus a backlog of expired ones that the (here
# absent) TTL process never deleted, and a few of every TTL hygiene problem.
"$py" tests/tools/dynamo_gen.py --endpoint "$TTLA_DYNALITE_ENDPOINT" --table UploadSessions \
  --items "$items" --as-of "$as_of" --seed 2026 --users 400 --payload-bytes 120 \
  --max-overdue-days 35 --no-boundaries --truth "$work/truth.json" \
  --mix expired=0.30,not_yet_expired=0.66,missing_ttl=0.01,non_numeric_ttl=0.01,milliseconds_ttl=0.01,beyond_five_years=0.01 \
  2> "$work/gen.log" || { cat "$work/gen.log"; exit 1; }
sed 's/^dynamo_gen: /demo: /; s/ classes=.*//' "$work/gen.log"

cp scripts/demo/ttl-auditor.yaml "$work/ttl-auditor.yaml"
mkdir -p "$work/reports"
echo "demo: $bin run --config $work/ttl-auditor.yaml --report-dir $work/reports --textfile $work/ttl_auditor.prom --html $work/report.html"
echo
set +e
"$bin" run --config "$work/ttl-auditor.yaml" --as-of "$as_of" --report-dir "$work/reports" \
  --textfile "$work/ttl_auditor.prom" --html "$work/report.html" --log-level warn
rc=$?
set -e

# --report-dir writes a timestamped report and a copy named latest.json.
report=$(ls -t "$work"/reports/*.json 2>/dev/null | grep -v '/latest\.json$' | head -n 1 || true)
[[ -n "$report" ]] || report=$(ls "$work"/reports/latest.json 2>/dev/null || true)
if [[ -z "$report" ]]; then
  echo "demo: ttl-auditor exited $rc and wrote no report" >&2
  exit 1
fi
echo
"$py" scripts/demo/summarize.py "$report"
echo
if [[ -f "$work/ttl_auditor.prom" ]]; then
  echo "Prometheus textfile ($work/ttl_auditor.prom), a few lines:"
  grep -E '^ttl_auditor_(expired_items|oldest_overdue_seconds|ttl_hygiene_items|anomaly)\{' \
    "$work/ttl_auditor.prom" | head -n 8 | sed 's/^/  /'
  echo
fi
"$py" - "$work/truth.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
print("cross-check, computed by the generator from the values it wrote: expired "
      f"{t['expired']['count']:,}, oldest overdue {t['expired']['oldest_overdue_seconds']:.0f}s, "
      + ", ".join(f"{k} {v:,}" for k, v in t["classes"].items() if k != "expired"))
PY
# The demo is only a success when the audit agrees with that truth, class by class.
"$py" scripts/demo/check_truth.py "$report" "$work/truth.json" || { echo "demo: the report does not match the truth" >&2; exit 1; }
echo "report: $report"
[[ -f "$work/report.html" ]] && echo "html: $work/report.html (one self-contained page: open it in a browser)"
echo "truth: $work/truth.json"
echo "config: $work/ttl-auditor.yaml"

case $rc in
  0) echo "demo: ttl-auditor exited 0 (clean)";;
  1) critical=$("$py" -c 'import json,sys; print(", ".join(sorted({a["rule"] for t in json.load(open(sys.argv[1]))["targets"] for a in t.get("anomalies", []) if a["severity"] == "critical"})))' "$report")
     echo "demo: ttl-auditor exited 1 because critical anomalies fired ($critical). Expected here:"
     echo "      dynalite has no TTL process, so DescribeTimeToLive says DISABLED (ttl_disabled)"
     echo "      and nothing is ever deleted - exactly the backlog the auditor exists to find."
     echo "      In a cron job or CI step, --fail-on never|warning|critical picks what fails it.";;
  *) echo "demo: ttl-auditor exited $rc (2 = usage/config error, 3 = a target failed)" >&2
     exit "$rc";;
esac
exit 0
