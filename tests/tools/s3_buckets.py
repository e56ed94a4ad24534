#!/usr/bin/python3
"""Creates S3 buckets on moto for the bucket discovery tests (the auditor itself never writes).
Reads a JSON spec on stdin:

  {"endpoint": "http://127.0.0.1:PORT",
   "buckets": [{"name": "b", "lifecycle_days": 1,     # optional: Expiration Days on prefix "logs/"
                "keys": ["logs/a", "other/b"]}]}

Prints {"created": [names], "now": epoch seconds after the last upload}. Debian's
/usr/bin/python3 (boto3), path-style addressing, us-east-1.
"""
import json
import os
import sys
import time

import boto3
from botocore.config import Config


def main():
    spec = json.load(sys.stdin)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    s3 = boto3.client("s3", endpoint_url=spec["endpoint"], region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing",
                      config=Config(s3={"addressing_style": "path"}))
    created = []
    for b in spec["buckets"]:
        s3.create_bucket(Bucket=b["name"])
        if "lifecycle_days" in b:
            s3.put_bucket_lifecycle_configuration(Bucket=b["name"], LifecycleConfiguration={
                "Rules": [{"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
                           "Expiration": {"Days": b["lifecycle_days"]}}]})
        for k in b.get("keys", []):
            s3.put_object(Bucket=b["name"], Key=k, Body=b"x")
        created.append(b["name"])
    print(json.dumps({"created": created, "now": int(time.time())}))


if __name__ == "__main__":
    main()
