#!/usr/bin/env bash
# Static checks of what operators deploy and watch: alert rules (promtool check + unit tests +
# a mutation pass proving every alert's tests can fail), the Grafana dashboard (JSON, template
# variables, `$target` matchers, metric names against the contract, PromQL syntax via promtool),
# the systemd units (systemd-analyze verify and an offline security score, when available) and
# the Kubernetes manifests (YAML, security context, the fields the design relies on).
# Exit 0 only when every check that could run passed; skipped checks say why.
#   scripts/check-observability.sh            # from anywhere
#   TTLA_BINARY=build/ttl-auditor scripts/check-observability.sh   # also check-config examples
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
py=/usr/bin/python3
work=$(mktemp -d /tmp/ttla-obs-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok:   $*"; }
# In CI (CI=true or TTLA_REQUIRE_ALL=1) a check that cannot run is a failure, not a skip.
skip() {
  if [ "${CI:-}" = true ] || [ "${TTLA_REQUIRE_ALL:-0}" = 1 ]; then fail "required check could not run: $*"; else echo "SKIP: $*"; fi
}

# ---------------------------------------------------------------------------------------------
# Alert rules
# ---------------------------------------------------------------------------------------------
rules=(alerts/*.rules.yml)
tests=(alerts/tests/*.test.yml)
if ! command -v promtool >/dev/null; then
  fail "promtool not installed (apt-get install prometheus)"
else
  if out=$(promtool check rules "${rules[@]}" 2>&1); then
    ok "promtool check rules: $(echo "$out" | grep -o '[0-9]* rules found' | paste -sd, -)"
  else
    fail "promtool check rules"; echo "$out" >&2
  fi
  if out=$(promtool test rules "${tests[@]}" 2>&1); then
    n=$($py -c 'import sys,yaml
n=0
for f in sys.argv[1:]:
    for t in yaml.safe_load(open(f))["tests"]:
        n+=len(t.get("alert_rule_test",[]))+len(t.get("promql_expr_test",[]))
print(n)' "${tests[@]}")
    ok "promtool test rules: $n alert/expression test cases passed"
  else
    fail "promtool test rules"; echo "$out" >&2
  fi

  # Mutation pass: for each alerting rule, a copy of the rules where that one rule never fires
  # and one where it always fires must each make the unit tests fail. This proves every alert
  # has both a firing and a not-firing test.
  $py - "$work" "${rules[@]}" <<'PY' || fail "could not build rule mutants"
import os, sys, yaml
work, files = sys.argv[1], sys.argv[2:]
n = 0
for path in files:
    doc = yaml.safe_load(open(path))
    for gi, group in enumerate(doc["groups"]):
        for ri, rule in enumerate(group["rules"]):
            if "alert" not in rule:
                continue
            for mode, expr in (("never", "vector(1) == 0"), ("always", "vector(1)")):
                mutant = yaml.safe_load(open(path))
                r = mutant["groups"][gi]["rules"][ri]
                r["expr"] = expr
                r["for"] = "0m"
                d = os.path.join(work, "mut%03d" % n)
                os.makedirs(d)
                with open(os.path.join(d, os.path.basename(path)), "w") as f:
                    yaml.safe_dump(mutant, f, sort_keys=False)
                with open(os.path.join(d, "name"), "w") as f:
                    f.write("%s #%d (%s)" % (rule["alert"], ri, mode))
                n += 1
PY
  for d in "$work"/mut*; do
    [ -d "$d" ] || continue
    mkdir -p "$d/tests"
    for t in "${tests[@]}"; do cp "$t" "$d/tests/"; done
    for r in "${rules[@]}"; do [ -f "$d/$(basename "$r")" ] || cp "$r" "$d/"; done
  done
  # Two at a time: the machine's cores are shared. Each mutant records whether its tests passed.
  find "$work" -maxdepth 1 -name 'mut*' -type d -print0 | xargs -0 -r -P 2 -I{} sh -c \
    'cd "{}/tests" && if promtool test rules ./*.test.yml >/dev/null 2>&1; then echo survived > ../result; else echo killed > ../result; fi'
  killed=$(cat "$work"/mut*/result 2>/dev/null | grep -c killed)
  total=$(find "$work" -maxdepth 1 -name 'mut*' -type d | wc -l)
  for d in "$work"/mut*; do
    [ "$(cat "$d/result" 2>/dev/null)" = killed ] || fail "alert tests do not notice $(cat "$d/name")"
  done
  [ "$killed" -eq "$total" ] && [ "$total" -gt 0 ] && ok "rule mutants: $killed of $total caught by the unit tests"
fi

# Rule metadata and runbook anchors.
$py - "${rules[@]}" <<'PY' || fail "alert rule metadata (see above)"
import re, sys, yaml
runbook = open("README.md").read()
anchors = {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-")
           for h in re.findall(r"^#+\s+(.*)$", runbook, re.M)}
bad = 0
names = set()
for path in sys.argv[1:]:
    for group in yaml.safe_load(open(path))["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            name = rule["alert"]
            names.add(name)
            def err(msg):
                global bad
                bad += 1
                print("  %s: %s" % (name, msg), file=sys.stderr)
            if not re.fullmatch(r"TTLAuditor[A-Z][A-Za-z0-9]*", name):
                err("name is not CamelCase with the TTLAuditor prefix")
            labels = rule.get("labels") or {}
            # The catch-all keeps the anomaly's own severity label from the series.
            # Without its own label a rule must pass the series' severity through: either it
            # selects on it or it is the catch-all that names it in its description.
            if "severity" not in labels and "severity" not in rule["expr"] \
                    and "$labels.severity" not in (rule.get("annotations") or {}).get("description", ""):
                err("no severity label")
            if labels.get("severity", "warning") not in ("critical", "warning", "info"):
                err("severity must be critical|warning|info")
            ann = rule.get("annotations") or {}
            for key in ("summary", "description", "runbook_url"):
                if not ann.get(key):
                    err("missing annotation " + key)
            if "$labels.target" not in ann.get("summary", "") + ann.get("description", "") \
                    and "absent(" not in rule["expr"]:
                err("summary/description do not name $labels.target")
            anchor = ann.get("runbook_url", "").rpartition("#")[2]
            if anchor not in anchors:
                err("runbook_url anchor #%s has no heading in README.md" % anchor)
            if anchor != name.lower():
                err("runbook_url anchor should be #" + name.lower())
print("ok:   %d alerts have severity, summary, description and a runbook section" % len(names))
sys.exit(1 if bad else 0)
PY

# ---------------------------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------------------------
$py - dashboards/ttl-auditor.json "$work/dashboard-rules.yml" <<'PY' || fail "dashboard (see above)"
import json, re, sys, yaml
path, rules_out = sys.argv[1], sys.argv[2]
# Metric names the sinks export (CONTRACT + the observability brief); histograms by base name.
known = {
    "ttl_auditor_expired_items", "ttl_auditor_expired_items_ci95", "ttl_auditor_expired_bytes",
    "ttl_auditor_oldest_overdue_seconds", "ttl_auditor_newest_overdue_seconds",
    "ttl_auditor_overdue_quantile_seconds", "ttl_auditor_overdue_seconds_bucket",
    "ttl_auditor_overdue_seconds_sum", "ttl_auditor_overdue_seconds_count",
    "ttl_auditor_not_yet_expired_items", "ttl_auditor_ttl_hygiene_items", "ttl_auditor_anomaly",
    "ttl_auditor_target_success", "ttl_auditor_last_success_timestamp_seconds",
    "ttl_auditor_items_scanned", "ttl_auditor_consumed_read_units", "ttl_auditor_requests",
    "ttl_auditor_scan_duration_seconds", "ttl_auditor_table_items", "ttl_auditor_table_size_bytes",
    "ttl_auditor_ttl_enabled", "ttl_auditor_stale_multipart_uploads",
    "ttl_auditor_multipart_oldest_age_seconds", "ttl_auditor_noncurrent_expired_items",
    "ttl_auditor_noncurrent_expired_bytes", "ttl_auditor_backlog_drain_estimate_seconds",
    "ttl_auditor_ttl_deleted_items_per_hour",
    "ttl_auditor_sqs_messages", "ttl_auditor_sqs_oldest_message_age_seconds",
    "ttl_auditor_orphan_files", "ttl_auditor_orphan_bytes",
    "ttl_auditor_run_duration_seconds", "ttl_auditor_last_run_timestamp_seconds",
    "ttl_auditor_build_info",
}
per_run = {"ttl_auditor_run_duration_seconds", "ttl_auditor_last_run_timestamp_seconds",
           "ttl_auditor_build_info"}
errors = []
try:
    d = json.load(open(path))
except Exception as e:  # noqa: BLE001 - report any parse problem
    print("  %s: not valid JSON: %s" % (path, e), file=sys.stderr)
    sys.exit(1)
if "__inputs" in d:
    errors.append("has __inputs (must import as is)")
if d.get("uid") != "ttl-auditor":
    errors.append("uid must be ttl-auditor")
if not 36 <= d.get("schemaVersion", 0) <= 41:
    errors.append("schemaVersion %s out of range" % d.get("schemaVersion"))
vars_ = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
if vars_.get("datasource", {}).get("type") != "datasource" or vars_["datasource"].get("query") != "prometheus":
    errors.append("templating: datasource variable of type datasource/prometheus missing")
for name in ("target", "kind"):
    v = vars_.get(name)
    if not v or v.get("type") != "query" or not v.get("multi") or not v.get("includeAll"):
        errors.append("templating: %s must be a multi-select query variable with All" % name)
if "label_values(ttl_auditor_target_success, target)" not in json.dumps(vars_.get("target", {})):
    errors.append("templating: target must query label_values(ttl_auditor_target_success, target)")

panels, ids, exprs = [], set(), []
def walk(ps):
    for p in ps:
        panels.append(p)
        walk(p.get("panels", []))
walk(d.get("panels", []))
for p in panels:
    title = p.get("title", "?")
    if p.get("id") in ids:
        errors.append("duplicate panel id %s" % p.get("id"))
    ids.add(p.get("id"))
    if p.get("type") == "row":
        continue
    if "gridPos" not in p:
        errors.append("%s: no gridPos" % title)
    if p.get("datasource", {}).get("uid") != "${datasource}":
        errors.append("%s: datasource must be ${datasource}" % title)
    targets = p.get("targets") or []
    if not targets:
        errors.append("%s: no targets" % title)
    for t in targets:
        e = t.get("expr", "")
        where = "%s/%s" % (title, t.get("refId"))
        if t.get("datasource", {}).get("uid") != "${datasource}":
            errors.append("%s: target datasource must be ${datasource}" % where)
        if 'target=~"$target' not in e:
            errors.append('%s: no target=~"$target" matcher: %s' % (where, e))
        metrics = set(re.findall(r"\bttl_auditor_[a-z0-9_]+", e))
        if not metrics:
            errors.append("%s: no ttl_auditor metric" % where)
        for m in metrics - known:
            errors.append("%s: unknown metric %s" % (where, m))
        if metrics - per_run and 'kind=~"$kind"' not in e:
            errors.append('%s: no kind=~"$kind" matcher' % where)
        # Every selector of a ttl_auditor metric carries the matchers (not just one of them).
        for m, sel in re.findall(r"\b(ttl_auditor_[a-z0-9_]+)(\{[^}]*\})?", e):
            if "$target" not in sel:
                errors.append("%s: selector %s has no $target matcher" % (where, m))
        exprs.append((where, e))
# PromQL syntax: the queries (variables substituted as Grafana would for "All") as recording
# rules, which promtool parses.
def grafana_subst(e):
    return (e.replace("$__rate_interval", "5m").replace("$__interval", "1m")
             .replace("$__range", "1h").replace("${datasource}", "prom")
             .replace("$target", ".*").replace("$kind", ".*"))
rules = [{"record": "dashboard:query_%d" % i, "expr": grafana_subst(e)} for i, (_, e) in enumerate(exprs)]
for a in d.get("annotations", {}).get("list", []):
    if a.get("expr"):
        rules.append({"record": "dashboard:annotation", "expr": grafana_subst(a["expr"])})
with open(rules_out, "w") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
for e in errors:
    print("  dashboard: " + e, file=sys.stderr)
if not errors:
    print("ok:   dashboard: %d panels, %d queries, all with $target/$kind matchers and known metrics"
          % (sum(1 for p in panels if p.get("type") != "row"), len(exprs)))
sys.exit(1 if errors else 0)
PY
if command -v promtool >/dev/null && [ -f "$work/dashboard-rules.yml" ]; then
  if out=$(promtool check rules "$work/dashboard-rules.yml" 2>&1); then
    ok "dashboard queries parse as PromQL"
  else
    fail "dashboard queries do not parse"; echo "$out" >&2
  fi
fi

# ---------------------------------------------------------------------------------------------
# systemd units
# ---------------------------------------------------------------------------------------------
units=(deploy/systemd/*.service deploy/systemd/*.timer)
if command -v systemd-analyze >/dev/null; then
  # verify insists that ExecStart= exists: point it at a real executable in a scratch copy.
  mkdir -p "$work/units"
  for u in "${units[@]}"; do
    sed 's#/usr/local/bin/ttl-auditor#/bin/true#g' "$u" > "$work/units/$(basename "$u")"
  done
  # verify returns 0 on unknown keys and only prints them, so any output is a failure.
  out=$(cd "$work/units" && systemd-analyze verify --man=no "${units[@]##*/}" 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && [ -z "$out" ]; then
    ok "systemd-analyze verify: ${#units[@]} units clean"
  else
    fail "systemd-analyze verify (rc=$rc)"; echo "$out" >&2
  fi
  for u in "$work"/units/*.service; do
    # --threshold is on the 0-100 scale (the printed level times ten): fail above 3.0.
    if out=$(systemd-analyze security --offline=yes --threshold=30 "$u" 2>&1); then
      ok "systemd-analyze security $(basename "$u"): $(echo "$out" | grep -o 'exposure level.*' | sed 's/ for [^:]*//')"
    else
      fail "systemd-analyze security $(basename "$u") above 3.0"; echo "$out" | tail -5 >&2
    fi
  done
else
  skip "systemd-analyze not installed (Debian package systemd); units not verified"
fi
# Timer/service facts the docs and alerts rely on.
grep -q '^Persistent=true' deploy/systemd/ttl-auditor.timer || fail "timer: Persistent=true missing"
grep -q '^OnCalendar=hourly' deploy/systemd/ttl-auditor.timer || fail "timer: not hourly"
grep -q '^Type=oneshot' deploy/systemd/ttl-auditor.service || fail "service: not Type=oneshot"

# ---------------------------------------------------------------------------------------------
# Kubernetes manifests
# ---------------------------------------------------------------------------------------------
$py - "$work" deploy/kubernetes/*.yaml <<'PY' || fail "kubernetes manifests (see above)"
import os, sys, yaml
work, files = sys.argv[1], sys.argv[2:]
errors, configs, ndocs = [], [], 0
def pod_specs(doc):
    k, s = doc["kind"], doc.get("spec", {})
    if k == "CronJob":
        return [s["jobTemplate"]["spec"]["template"]["spec"]]
    if k in ("Job", "Deployment", "StatefulSet", "DaemonSet"):
        return [s["template"]["spec"]]
    return []
for f in files:
    try:
        docs = [x for x in yaml.safe_load_all(open(f)) if x]
    except yaml.YAMLError as e:
        errors.append("%s: YAML: %s" % (f, e)); continue
    for doc in docs:
        ndocs += 1
        where = "%s: %s/%s" % (f, doc.get("kind"), doc.get("metadata", {}).get("name")
                                or doc.get("metadata", {}).get("generateName"))
        for key in ("apiVersion", "kind", "metadata"):
            if key not in doc:
                errors.append("%s: no %s" % (where, key))
        if doc.get("kind") == "ConfigMap":
            for name, text in doc.get("data", {}).items():
                if name.endswith((".yaml", ".yml")):
                    try:
                        yaml.safe_load(text)
                    except yaml.YAMLError as e:
                        errors.append("%s: %s: %s" % (where, name, e))
                    p = os.path.join(work, "k8s-%d-%s" % (len(configs), name))
                    open(p, "w").write(text)
                    configs.append(p)
        if doc.get("kind") == "CronJob" and doc["spec"].get("concurrencyPolicy") != "Forbid":
            errors.append("%s: concurrencyPolicy must be Forbid" % where)
        if doc.get("kind") == "ServiceAccount" and \
                "eks.amazonaws.com/role-arn" not in doc["metadata"].get("annotations", {}):
            errors.append("%s: no IRSA role annotation" % where)
        if doc.get("kind") == "Job" and doc["spec"].get("completionMode") == "Indexed":
            s = doc["spec"]
            c = s["template"]["spec"]["containers"][0]
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            if not (s.get("completions") == s.get("parallelism") == int(env.get("SHARDS", -1))):
                errors.append("%s: completions, parallelism and SHARDS differ" % where)
            script = " ".join(c.get("args", []) + c.get("command", []))
            for needle in ("--shard", "JOB_COMPLETION_INDEX", "ttl-auditor merge"):
                if needle not in script:
                    errors.append("%s: shard script lacks %s" % (where, needle))
        for ps in pod_specs(doc):
            sc = ps.get("securityContext", {})
            if sc.get("runAsNonRoot") is not True:
                errors.append("%s: pod runAsNonRoot" % where)
            for c in ps.get("containers", []):
                csc = c.get("securityContext", {})
                if csc.get("readOnlyRootFilesystem") is not True:
                    errors.append("%s: %s readOnlyRootFilesystem" % (where, c["name"]))
                if csc.get("allowPrivilegeEscalation") is not False:
                    errors.append("%s: %s allowPrivilegeEscalation" % (where, c["name"]))
                if "ALL" not in csc.get("capabilities", {}).get("drop", []):
                    errors.append("%s: %s must drop ALL capabilities" % (where, c["name"]))
                if not c.get("resources", {}).get("limits", {}).get("memory"):
                    errors.append("%s: %s has no memory limit" % (where, c["name"]))
for e in errors:
    print("  " + e, file=sys.stderr)
open(os.path.join(work, "k8s-configs"), "w").write("\n".join(configs))
if not errors:
    print("ok:   kubernetes: %d documents in %d files parse and pass the policy checks" % (ndocs, len(files)))
sys.exit(1 if errors else 0)
PY

# ---------------------------------------------------------------------------------------------
# Example configs against the real parser, when a built binary is at hand.
# ---------------------------------------------------------------------------------------------
bin="${TTLA_BINARY:-}"
if [ -z "$bin" ]; then
  for b in build-test/ttl-auditor build/ttl-auditor build-*/ttl-auditor; do
    [ -x "$b" ] && { bin=$b; break; }
  done
fi
if [ -n "$bin" ] && [ -x "$bin" ]; then
  echo "      (binary: $bin)"
  configs=(deploy/systemd/config.example.yaml)
  [ -f "$work/k8s-configs" ] && while read -r c || [ -n "$c" ]; do [ -n "$c" ] && configs+=("$c"); done < "$work/k8s-configs"
  for c in "${configs[@]}"; do
    # The example interpolates ${PGPASSWORD}; give it a value so only real problems show.
    if out=$(PGPASSWORD=x "$bin" check-config --config "$c" 2>&1); then
      ok "check-config $(basename "$c")"
    else
      fail "check-config $c"; echo "$out" >&2
    fi
  done
  # A real audit needing no server (a filesystem target): its metrics must lint clean and use
  # only the metric families the dashboard and alerts are written against.
  mkdir -p "$work/fs/data"
  touch -d '10 days ago' "$work/fs/data/old"; touch "$work/fs/data/new"
  printf 'targets:\n  - name: obs_check\n    kind: filesystem\n    path: %s\n    retention: 1d\n' \
    "$work/fs/data" > "$work/fs/config.yaml"
  if "$bin" run --config "$work/fs/config.yaml" --textfile "$work/fs/metrics.prom" --fail-on never \
      --no-progress > "$work/fs/run.log" 2>&1; then
    if command -v promtool >/dev/null && ! out=$(promtool check metrics < "$work/fs/metrics.prom" 2>&1); then
      fail "promtool check metrics on the exported metrics"; echo "$out" >&2
    fi
    $py - "$work/fs/metrics.prom" "$work/dashboard-rules.yml" alerts/*.rules.yml <<'PY' || fail "exported metric families vs dashboard/alerts"
import re, sys
text = open(sys.argv[1]).read()
families = set(re.findall(r"^# TYPE (\S+)", text, re.M))
used = set()
for f in sys.argv[2:]:
    used |= set(re.findall(r"\bttl_auditor_[a-z0-9_]+", open(f).read()))
# Histogram/summary series names map back to their family.
used_families = {re.sub(r"_(bucket|sum|count)$", "", m) if re.sub(r"_(bucket|sum|count)$", "", m) in families else m for m in used}
missing = sorted(m for m in ("ttl_auditor_target_success", "ttl_auditor_last_success_timestamp_seconds",
                             "ttl_auditor_anomaly", "ttl_auditor_expired_items",
                             "ttl_auditor_oldest_overdue_seconds", "ttl_auditor_build_info",
                             "ttl_auditor_run_duration_seconds") if m not in families)
unknown = sorted(f for f in families if f not in used_families)
for m in missing:
    print("  exported metrics lack %s (dashboard/alerts use it)" % m, file=sys.stderr)
for f in unknown:
    print("  note: exported family %s is on no dashboard panel or alert" % f)
print("ok:   a filesystem audit exports %d families, lint clean, all core families present" % len(families))
sys.exit(1 if missing else 0)
PY
  else
    fail "ttl-auditor run on a filesystem target"; tail -5 "$work/fs/run.log" >&2
  fi
else
  skip "no ttl-auditor binary (set TTLA_BINARY): example configs and exported metrics not checked"
fi

if [ "$failures" -gt 0 ]; then
  echo "check-observability: $failures check(s) FAILED" >&2
  exit 1
fi
echo "check-observability: all checks passed"
