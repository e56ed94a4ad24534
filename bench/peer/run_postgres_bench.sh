#!/usr/bin/env bash
# Rows audited per second on a ROWS-row soft-delete table, without and then with an index on the
# timestamp column. Starts its own throwaway PostgreSQL (scripts/servers/postgres.sh).
#   bench/peer/run_postgres_bench.sh [ROWS] [RUNS]      (default 1000000 rows, 3 runs each)
set -euo pipefail
cd "$(dirname "$0")/../.."
rows="${1:-1000000}"
runs="${2:-3}"
bin="${TTLA_BIN:-build/ttl-auditor}"
[ -x "$bin" ] || { echo "build first: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build" >&2; exit 2; }
dir="$(mktemp -d /tmp/ttla-pgbench.XXXXXX)"
trap 'bash scripts/servers/postgres.sh stop "$dir/pg" >/dev/null 2>&1; rm -rf "$dir"' EXIT
eval "$(bash scripts/servers/postgres.sh start "$dir/pg")"
psql -q "$TTLA_PG_DSN" <<SQL
CREATE TABLE moc_instructions (id bigint PRIMARY KEY, tenant_id int, deleted_at timestamptz, body text);
INSERT INTO moc_instructions
  SELECT g, g % 50,
         CASE WHEN g % 4 = 0 THEN NULL ELSE now() - (random() * interval '90 days') END,
         repeat('x', 40)
  FROM generate_series(1, $rows) g;
VACUUM ANALYZE moc_instructions;
SQL
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
run_set() {
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f "%e %M" -o "$dir/t" "$bin" run --config "$dir/config.yaml" --report "$dir/r.json" \
      --fail-on never --no-progress >/dev/null 2>&1 || true
    cat "$dir/t"
  done | sort -n | awk -v rows="$rows" -v label="$1" '{w[NR]=$1; m[NR]=$2} END {
      mid=int((NR+1)/2); printf "%-16s median wall %.3fs  rows/s %.0f  peak RSS %d KB\n", label, w[mid], rows / w[mid], m[mid] }'
}
run_set "no index"
psql -q "$TTLA_PG_DSN" -c "CREATE INDEX ON moc_instructions (deleted_at)" -c "ANALYZE moc_instructions"
run_set "index on ts"
/usr/bin/python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['targets'][0]; print('last report: status', t['status'], 'expired', t['expired']['count'], 'p50', t['expired']['overdue_seconds_quantiles']['p50'])" "$dir/r.json"
