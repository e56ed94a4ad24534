#!/usr/bin/python3
"""The peer: a TTL cleanup-monitor Lambda as teams typically write it.

A boto3 paginated Scan with `FilterExpression ttl < now` and a projection of the key and the TTL,
counting the expired items and tracking the oldest/newest one. `lambda_handler` is the Lambda
entry point; run as a script it reads its settings from flags (for bench/peer/run_dynamodb_peers.sh).

What it does not do, as such scripts usually don't: it counts 0, negative and >5-year-old TTLs
as expired (DynamoDB never deletes them), misses millisecond TTLs entirely, ignores string TTLs,
has no quantiles, groups, rate limit or cost accounting.
"""
import argparse
import json
import os
import threading
import time

import boto3


def scan_segment(client, table, attr, now, segment, total, out, lock):
    count = scanned = 0
    oldest = newest = None
    kwargs = dict(TableName=table,
                  FilterExpression="#t < :now",
                  ProjectionExpression="#k, #t",
                  ExpressionAttributeNames={"#t": attr, "#k": "pk"},
                  ExpressionAttributeValues={":now": {"N": str(now)}})
    if total > 1:
        kwargs.update(Segment=segment, TotalSegments=total)
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(**kwargs):
        scanned += page["ScannedCount"]
        for item in page["Items"]:
            ttl = float(item[attr]["N"])
            count += 1
            if oldest is None or ttl < oldest:
                oldest = ttl
            if newest is None or ttl > newest:
                newest = ttl
    with lock:
        out["count"] += count
        out["scanned"] += scanned
        if oldest is not None and (out["oldest_ttl"] is None or oldest < out["oldest_ttl"]):
            out["oldest_ttl"] = oldest
        if newest is not None and (out["newest_ttl"] is None or newest > out["newest_ttl"]):
            out["newest_ttl"] = newest


def lambda_handler(event, context):
    table = event.get("table") or os.environ["TABLE_NAME"]
    attr = event.get("ttl_attribute") or os.environ.get("TTL_ATTRIBUTE", "ttl")
    now = int(event.get("now") or time.time())
    threads = int(event.get("threads") or os.environ.get("SCAN_THREADS", "1"))
    client = boto3.client("dynamodb", endpoint_url=event.get("endpoint_url") or None)
    out = {"count": 0, "scanned": 0, "oldest_ttl": None, "newest_ttl": None}
    lock = threading.Lock()
    if threads == 1:
        scan_segment(client, table, attr, now, 0, 1, out, lock)
    else:
        workers = [threading.Thread(target=scan_segment,
                                    args=(client, table, attr, now, s, threads, out, lock))
                   for s in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    if out["oldest_ttl"] is not None:
        out["oldest_overdue_seconds"] = now - out["oldest_ttl"]
        out["newest_overdue_seconds"] = now - out["newest_ttl"]
    return out


def main():
    p = argparse.ArgumentParser(description="TTL cleanup-monitor Lambda, run locally")
    p.add_argument("--table", required=True)
    p.add_argument("--endpoint-url")
    p.add_argument("--ttl-attribute", default="ttl")
    p.add_argument("--now", type=int)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    print(json.dumps(lambda_handler({"table": a.table, "endpoint_url": a.endpoint_url,
                                     "ttl_attribute": a.ttl_attribute, "now": a.now,
                                     "threads": a.threads}, None)))


if __name__ == "__main__":
    main()
