#!/usr/bin/env python3
"""Prints a ttl-auditor JSON report as a short human summary (standard library only)."""
import json
import sys


def age(seconds):
    s = float(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            whole = int(s // size)
            rest = s - whole * size
            if unit == "d":
                return f"{whole}d {int(rest // 3600)}h"
            if unit == "h":
                return f"{whole}h {int(rest // 60)}m"
            return f"{whole}m {int(rest)}s"
    return f"{s:.0f}s"


def main(path):
    with open(path) as f:
        report = json.load(f)
    run = report["run"]
    print(f"run {run.get('id', '?')}  as of {run['as_of']}  status {run['status']}  "
          f"({run.get('duration_seconds', 0):.2f}s)")
    for t in report["targets"]:
        print()
        print(f"target {t['name']} ({t['kind']})  status {t['status']}"
              + (f"  error: {t['error']}" if t.get("error") else ""))
        scan = t.get("scan", {})
        print(f"  scanned {scan.get('items_scanned', 0):,} items in "
              f"{scan.get('duration_seconds', 0):.2f}s, {scan.get('segments_total', 0)} segments, "
              f"{scan.get('consumed_read_units', 0):,.0f} read units ({scan.get('mode', 'full')})")
        e = t.get("expired")
        if e:
            est = " (estimated)" if e.get("estimated") else ""
            print(f"  expired but still present: {e['count']:,.0f}{est}")
            if e["count"]:
                q = e.get("overdue_seconds_quantiles", {})
                print(f"    oldest overdue {age(e['oldest_overdue_seconds'])}, newest "
                      f"{age(e['newest_overdue_seconds'])}; overdue p50 {age(q.get('p50', 0))}, "
                      f"p90 {age(q.get('p90', 0))}, p99 {age(q.get('p99', 0))}")
                groups = e.get("top_groups") or []
                if groups:
                    print("    top groups: " + ", ".join(f"{g['group']} {g['count']}"
                                                       for g in groups[:5]))
                oldest = e.get("oldest_items") or []
                if oldest:
                    print(f"    oldest item: {oldest[0]['key']} overdue "
                          f"{age(oldest[0]['overdue_seconds'])}")
        h = t.get("hygiene")
        if h:
            print("  TTL hygiene: " + ", ".join(f"{k} {v:,}" for k, v in h.items()))
        tm = t.get("table_metrics")
        if tm:
            print(f"  table: status {tm.get('table_status')}, TTL {tm.get('ttl_status')} on "
                  f"'{tm.get('ttl_attribute')}'")
        for a in t.get("anomalies", []):
            print(f"  ANOMALY [{a['severity']}] {a['rule']}: {a['message']}")


if __name__ == "__main__":
    main(sys.argv[1])
