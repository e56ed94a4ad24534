#!/usr/bin/env python3
"""Compares a ttl-auditor report with the truth the demo's generator computed from the values it
wrote (standard library only). Exit 0 when every class count and the oldest overdue age match;
otherwise prints each difference and exits 1.

    check_truth.py REPORT.json TRUTH.json
"""
import json
import sys


def main(report_path, truth_path):
    report = json.load(open(report_path))
    truth = json.load(open(truth_path))
    targets = [t for t in report["targets"] if t["kind"] == "dynamodb"]
    if len(targets) != 1:
        print(f"check_truth: expected one dynamodb target in {report_path}, found {len(targets)}")
        return 1
    t = targets[0]
    problems = []
    if t["status"] != "ok":
        problems.append(f"status {t['status']} ({t.get('error')})")
    if t["scan"]["mode"] != "full":
        problems.append(f"scan mode {t['scan']['mode']}: the demo audits exactly")
    want = truth["classes"]
    got = {"expired": t["expired"]["count"], **t["hygiene"]}
    for name, count in want.items():
        if got.get(name) != count:
            problems.append(f"{name}: report {got.get(name)}, truth {count}")
    scanned = sum(want.values())
    if t["scan"]["items_scanned"] != scanned:
        problems.append(f"items_scanned: report {t['scan']['items_scanned']}, truth {scanned}")
    oldest_truth = truth["expired"]["oldest_overdue_seconds"]
    oldest = t["expired"]["oldest_overdue_seconds"]
    if abs(oldest - oldest_truth) > 1:
        problems.append(f"oldest_overdue_seconds: report {oldest}, truth {oldest_truth}")
    for p in problems:
        print("check_truth: MISMATCH " + p)
    if not problems:
        print(f"check_truth: report matches the generator's truth ({scanned:,} items, "
              f"{want['expired']:,} expired, oldest overdue {oldest_truth:.0f}s)")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: check_truth.py REPORT.json TRUTH.json")
    sys.exit(main(sys.argv[1], sys.argv[2]))
