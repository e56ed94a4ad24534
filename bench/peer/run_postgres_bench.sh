#!/usr/bin/env bash
# Side by side on a ROWS-row soft-delete table (30% of the rows past a 30-day retention, 10% NULL
# timestamps): ttl-auditor's postgres audit against the one psql query a DBA would type instead,
#   SELECT count(*), min(deleted_at), max(deleted_at),
#          percentile_disc(ARRAY[0.5,0.9,0.99]) WITHIN GROUP (ORDER BY deleted_at)
#   FROM moc_instructions WHERE tenant_id <> 0 AND deleted_at < now() - interval '30 days'
# alternating runs, medians of wall time and peak RSS (GNU time), the ratio; first without an
# index, then with a b-tree index on deleted_at. Starts its own throwaway PostgreSQL
# (scripts/servers/postgres.sh).
#   bench/peer/run_postgres_bench.sh [ROWS] [RUNS]      (default 1000000 rows, 5 runs each)
#   bench/peer/run_postgres_bench.sh --rss-flatness      (peak RSS at 100k and at 1M rows)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${TTLA_BIN:-build/ttl-auditor}"
[ -x "$bin" ] || { echo "build first: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build" >&2; exit 2; }
dir="$(mktemp -d /tmp/ttla-pgbench.XXXXXX)"
trap 'bash scripts/servers/postgres.sh stop "$dir/pg" >/dev/null 2>&1; rm -rf "$dir"' EXIT
eval "$(bash scripts/servers/postgres.sh start "$dir/pg")"

load_table() {  # ROWS
  psql -q "$TTLA_PG_DSN" <<SQL
DROP TABLE IF EXISTS moc_instructions;
CREATE TABLE moc_instructions (id bigint PRIMARY KEY, tenant_id int, deleted_at timestamptz, body text);
INSERT INTO moc_instructions
  SELECT g, g % 50,
         CASE WHEN g % 10 = 0 THEN NULL
              WHEN g % 10 < 4 THEN now() - interval '30 days' - random() * interval '60 days'
              ELSE now() - random() * interval '29 days' END,
         repeat('x', 40)
  FROM generate_series(1, $1) g;
VACUUM ANALYZE moc_instructions;
SQL
}
cat > "$dir/config.yaml" <<YAML
targets:
  - name: mocs
    kind: postgres
    dsn: "$TTLA_PG_DSN"
    table: moc_instructions
    timestamp_column: deleted_at
    key_column: id
    retention: 30d
    where: "tenant_id <> 0"
YAML
dba_sql="SELECT count(*), min(deleted_at), max(deleted_at), percentile_disc(ARRAY[0.5,0.9,0.99]) WITHIN GROUP (ORDER BY deleted_at) FROM moc_instructions WHERE tenant_id <> 0 AND deleted_at < now() - interval '30 days'"

measure() {  # appends "wall_seconds max_rss_kb" to $1
  local out="$1"; shift
  /usr/bin/time -f "%e %M" -o "$dir/t" "$@" > "$dir/out" 2>/dev/null || true
  cat "$dir/t" >> "$out"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
audit=("$bin" run --config "$dir/config.yaml" --report "$dir/r.json" --fail-on never --no-progress)

side_by_side() {  # LABEL RUNS
  : > "$dir/a"; : > "$dir/p"
  for ((i = 0; i < $2; i++)); do
    measure "$dir/p" psql -X -q -A -t "$TTLA_PG_DSN" -c "$dba_sql"
    measure "$dir/a" "${audit[@]}"
  done
  local pw aw
  pw="$(cut -d' ' -f1 "$dir/p" | median)"; aw="$(cut -d' ' -f1 "$dir/a" | median)"
  printf '%-12s psql %6.3fs %7d KB | ttl-auditor %6.3fs %7d KB | ratio %.2f\n' "$1" "$pw" \
    "$(cut -d' ' -f2 "$dir/p" | median)" "$aw" "$(cut -d' ' -f2 "$dir/a" | median)" \
    "$(awk -v a="$aw" -v p="$pw" 'BEGIN {print a / p}')"
}

if [ "${1:-}" = "--rss-flatness" ]; then
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
  for rows in 100000 1000000; do
    load_table "$rows"
    : > "$dir/a"
    for i in 1 2 3; do measure "$dir/a" "${audit[@]}"; done
    echo "rows=$rows ttl-auditor median peak RSS $(cut -d' ' -f2 "$dir/a" | median) KB, wall $(cut -d' ' -f1 "$dir/a" | median) s"
  done
  exit 0
fi

rows="${1:-1000000}"
runs="${2:-5}"
load_table "$rows"
echo "rows=$rows runs=$runs load=$(cut -d' ' -f1-3 /proc/loadavg) (medians, alternating)"
side_by_side "no index" "$runs"
psql -q "$TTLA_PG_DSN" -c "CREATE INDEX ON moc_instructions (deleted_at)" -c "ANALYZE moc_instructions"
side_by_side "index on ts" "$runs"
echo "psql says: $(psql -X -q -A -t "$TTLA_PG_DSN" -c "$dba_sql")"
/usr/bin/python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['targets'][0]; e=t['expired']; print('ttl-auditor says: status', t['status'], 'expired', e['count'], 'quantiles', e['overdue_seconds_quantiles'])" "$dir/r.json"
