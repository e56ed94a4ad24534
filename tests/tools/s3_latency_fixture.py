#!/usr/bin/python3
"""Test-side writer for the S3 deletion-latency test, on moto's server: plays the lifecycle
process the auditor only watches (the auditor itself never writes).

  s3_latency_fixture.py create BUCKET --objects N --prefix P --days D
      Creates BUCKET with one lifecycle rule (Filter.Prefix P, Expiration.Days D), uploads N
      objects P + "obj-<i>" and one object outside the rule ("other/keep"). Prints JSON
      {"deadline": EPOCH, "keys": [...]} where the deadline is computed here from the
      LastModified moto lists back, as AWS documents it: creation + D days rounded up to the next
      00:00 UTC. Uploads straddling a midnight are redone so that every object shares it.
  s3_latency_fixture.py delete BUCKET KEY...
      Deletes the keys (DeleteObjects), as the lifecycle process would.
Environment: TTLA_MOTO_ENDPOINT.
"""
import argparse
import calendar
import json
import os
import sys

import boto3
from botocore.config import Config

DAY = 86400


def client():
    return boto3.client(
        "s3", endpoint_url=os.environ["TTLA_MOTO_ENDPOINT"], region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))


def midnight_after(t):
    return -(-t // DAY) * DAY


def create(s3, args):
    s3.create_bucket(Bucket=args.bucket)
    s3.put_bucket_lifecycle_configuration(
        Bucket=args.bucket,
        LifecycleConfiguration={"Rules": [{
            "ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": args.prefix},
            "Expiration": {"Days": args.days}}]})
    keys = [f"{args.prefix}obj-{i:03d}" for i in range(args.objects)]
    for _ in range(3):
        for k in keys:
            s3.put_object(Bucket=args.bucket, Key=k, Body=b"x" * 16)
        s3.put_object(Bucket=args.bucket, Key="other/keep", Body=b"keep")
        listed = s3.list_objects_v2(Bucket=args.bucket, Prefix=args.prefix)["Contents"]
        deadlines = {midnight_after(calendar.timegm(o["LastModified"].utctimetuple()) + args.days * DAY)
                     for o in listed}
        if len(listed) == len(keys) and len(deadlines) == 1:
            return {"deadline": deadlines.pop(), "keys": keys}
    sys.exit("objects do not share one lifecycle deadline")


def delete(s3, args):
    for at in range(0, len(args.keys), 1000):
        batch = [{"Key": k} for k in args.keys[at:at + 1000]]
        out = s3.delete_objects(Bucket=args.bucket, Delete={"Objects": batch, "Quiet": True})
        if out.get("Errors"):
            sys.exit(json.dumps(out["Errors"]))
    return {"deleted": len(args.keys)}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create")
    c.add_argument("bucket")
    c.add_argument("--objects", type=int, required=True)
    c.add_argument("--prefix", required=True)
    c.add_argument("--days", type=int, default=1)
    d = sub.add_parser("delete")
    d.add_argument("bucket")
    d.add_argument("keys", nargs="+")
    args = ap.parse_args()
    s3 = client()
    print(json.dumps(create(s3, args) if args.command == "create" else delete(s3, args)))


if __name__ == "__main__":
    main()
