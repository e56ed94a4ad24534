#!/usr/bin/python3
"""Creates a DynamoDB table on moto (TTL on attribute "ttl") and writes to it, for the stream
latency test. Reads a JSON spec on stdin:

  {"endpoint": "http://127.0.0.1:PORT", "name": "T",
   "stream": "NEW_AND_OLD_IMAGES" | "KEYS_ONLY" | null,   # StreamSpecification on CreateTable
   "items": [ttl, ...],       # PutItem pk "k<i>" with that ttl (one stream INSERT each)
   "modify": n,               # UpdateItem on the first n items (MODIFY)
   "delete": n}               # DeleteItem on the last n items (user REMOVEs)

Prints {"table": name, "stream_arn": arn or null}. Run with Debian's /usr/bin/python3 (boto3).
"""
import json
import os
import sys

import boto3


def main():
    spec = json.load(sys.stdin)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    ddb = boto3.client("dynamodb", endpoint_url=spec["endpoint"], region_name="us-east-1")
    name = spec["name"]
    create = {"TableName": name,
              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
              "BillingMode": "PAY_PER_REQUEST"}
    if spec.get("stream"):
        create["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec["stream"]}
    table = ddb.create_table(**create)["TableDescription"]
    ddb.update_time_to_live(TableName=name,
                            TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    items = spec.get("items", [])
    for i, ttl in enumerate(items):
        ddb.put_item(TableName=name, Item={"pk": {"S": "k%d" % i}, "ttl": {"N": str(ttl)}})
    for i in range(spec.get("modify", 0)):
        ddb.update_item(TableName=name, Key={"pk": {"S": "k%d" % i}},
                        UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": "x"}})
    for i in range(len(items) - spec.get("delete", 0), len(items)):
        ddb.delete_item(TableName=name, Key={"pk": {"S": "k%d" % i}})
    print(json.dumps({"table": name, "stream_arn": table.get("LatestStreamArn")}))


if __name__ == "__main__":
    main()
