#!/usr/bin/python3
"""Creates DynamoDB tables on moto with TTL and CloudWatch TimeToLiveDeletedItemCount datapoints,
for the deletion tests. Reads a JSON spec on stdin:

  {"endpoint": "http://127.0.0.1:PORT",
   "tables": [{"name": "T", "ttl": true,                 # UpdateTimeToLive on attribute "ttl"
               "items": [1790000000, ...],                # one item per value: pk "k<i>", ttl N
               "deletions": [[epoch_seconds, count], ...]}]}  # AWS/DynamoDB datapoints, Sum

Prints {"created": [names]} on success. Run with Debian's /usr/bin/python3 (boto3).
With {"endpoint": ..., "delete": {"table": "T", "keys": ["k3", ...]}} instead, deletes those
items (what a TTL process would do between two audits) and prints {"deleted": n}.
"""
import datetime
import json
import os
import sys

import boto3


def main():
    spec = json.load(sys.stdin)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    kw = {"endpoint_url": spec["endpoint"], "region_name": spec.get("region", "us-east-1")}
    ddb = boto3.client("dynamodb", **kw)
    cw = boto3.client("cloudwatch", **kw)
    if "delete" in spec:
        d = spec["delete"]
        keys = d["keys"]
        for start in range(0, len(keys), 25):
            batch = [{"DeleteRequest": {"Key": {"pk": {"S": k}}}} for k in keys[start:start + 25]]
            ddb.batch_write_item(RequestItems={d["table"]: batch})
        print(json.dumps({"deleted": len(keys)}))
        return
    created = []
    for t in spec["tables"]:
        name = t["name"]
        ddb.create_table(TableName=name,
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         BillingMode="PAY_PER_REQUEST")
        if t.get("ttl", True):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": "ttl"})
        items = t.get("items", [])
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": {"pk": {"S": "k%d" % i}, "ttl": {"N": str(v)}}}}
                     for i, v in enumerate(items[start:start + 25], start)]
            ddb.batch_write_item(RequestItems={name: batch})
        data = [{"MetricName": "TimeToLiveDeletedItemCount",
                 "Dimensions": [{"Name": "TableName", "Value": name}],
                 "Timestamp": datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc),
                 "Value": float(v), "Unit": "Count"} for ts, v in t.get("deletions", [])]
        for start in range(0, len(data), 20):
            cw.put_metric_data(Namespace="AWS/DynamoDB", MetricData=data[start:start + 20])
        created.append(name)
    print(json.dumps({"created": created}))


if __name__ == "__main__":
    main()
