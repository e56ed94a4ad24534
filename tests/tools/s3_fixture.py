#!/usr/bin/python3
"""Test-side writer of S3 fixtures (the auditor itself never writes). boto3, path-style.

  s3_fixture.py objects BUCKET PREFIX N IDS [THREADS]
      bucket with N objects under PREFIX (keys with spaces and UTF-8, id u<i % IDS> as the
      second path component, sizes 1 + i % 13), 5 objects outside the prefix, 2 unfinished
      multipart uploads under PREFIX (one with a 5-byte part). Prints the truth as JSON:
      {"objects": [[key, size], ...], "uploads": 2, "part_bytes": 5}.
  s3_fixture.py versions BUCKET PREFIX
      versioned bucket: PREFIX+"a" written 3 times (10, 20, 30 bytes), PREFIX+"b" written (40)
      then deleted, PREFIX+"c" written (50), deleted, and its only version removed: a lone
      delete marker. Prints what it made.
  s3_fixture.py table ENDPOINT TABLE ID...
      DynamoDB (dynalite) table with partition key "id" (S) holding the given ids.
Environment: TTLA_S3_ENDPOINT, TTLA_S3_ACCESS_KEY, TTLA_S3_SECRET_KEY.
"""
import concurrent.futures
import json
import os
import sys
import time

import boto3
from botocore.config import Config


def s3_client():
    return boto3.client(
        "s3", endpoint_url=os.environ["TTLA_S3_ENDPOINT"], region_name="us-east-1",
        aws_access_key_id=os.environ.get("TTLA_S3_ACCESS_KEY", "test:tester"),
        aws_secret_access_key=os.environ.get("TTLA_S3_SECRET_KEY", "testing"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 8},
                      max_pool_connections=32))


def key_for(prefix, i, ids):
    return f"{prefix}u{i % ids}/obj {i:05d} \u00e9\u2713.bin"


def objects(bucket, prefix, n, ids, threads=16):
    s3 = s3_client()
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:  # reloading (benchmarks): puts overwrite
        pass
    items = [(key_for(prefix, i, ids), 1 + i % 13) for i in range(n)]

    def put(item):
        s3.put_object(Bucket=bucket, Key=item[0], Body=b"x" * item[1])

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, items + [(f"outside/{j} x.bin", 7) for j in range(5)]))
    # Swift's container server queues listing updates in a .pending file and serves stale
    # listings while it is busy merging them (and a timed-out update waits for an updater
    # daemon the test servers do not run). Wait while the listing catches up; re-put what stays
    # missing.
    previous = None
    for _ in range(30):
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            listed.update(o["Key"] for o in page.get("Contents", []))
        missing = [it for it in items if it[0] not in listed]
        if not missing:
            break
        if previous is None or len(missing) < previous:
            previous = len(missing)
            time.sleep(2)
            continue
        previous = None
        print(f"s3_fixture: re-putting {len(missing)} objects missing from the listing",
              file=sys.stderr)
        with concurrent.futures.ThreadPoolExecutor(min(threads, 4)) as pool:
            list(pool.map(put, missing))
    else:
        sys.exit("s3_fixture: listing still incomplete")
    up1 = s3.create_multipart_upload(Bucket=bucket, Key=f"{prefix}mp/big one.bin")
    s3.upload_part(Bucket=bucket, Key=f"{prefix}mp/big one.bin", UploadId=up1["UploadId"],
                   PartNumber=1, Body=b"12345")
    s3.create_multipart_upload(Bucket=bucket, Key=f"{prefix}mp/\u00e9 second.bin")
    s3.create_multipart_upload(Bucket=bucket, Key="outside/mp.bin")  # not under the prefix
    print(json.dumps({"objects": items, "uploads": 2, "part_bytes": 5}))


def versions(bucket, prefix):
    s3 = s3_client()
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for size in (10, 20, 30):
        s3.put_object(Bucket=bucket, Key=prefix + "a", Body=b"a" * size)
    s3.put_object(Bucket=bucket, Key=prefix + "b", Body=b"b" * 40)
    s3.delete_object(Bucket=bucket, Key=prefix + "b")
    c = s3.put_object(Bucket=bucket, Key=prefix + "c", Body=b"c" * 50)
    s3.delete_object(Bucket=bucket, Key=prefix + "c")
    s3.delete_object(Bucket=bucket, Key=prefix + "c", VersionId=c["VersionId"])
    listing = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    print(json.dumps({"versions": len(listing.get("Versions", [])),
                      "markers": len(listing.get("DeleteMarkers", []))}))


def table(endpoint, name, ids):
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="y")
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.get_waiter("table_exists").wait(TableName=name)
    for i in ids:
        ddb.put_item(TableName=name, Item={"id": {"S": i}, "note": {"S": "present"}})
    print(json.dumps({"items": len(ids)}))


def main():
    cmd = sys.argv[1]
    if cmd == "objects":
        threads = int(sys.argv[6]) if len(sys.argv) > 6 else 16
        objects(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), threads)
    elif cmd == "versions":
        versions(sys.argv[2], sys.argv[3])
    elif cmd == "table":
        table(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
