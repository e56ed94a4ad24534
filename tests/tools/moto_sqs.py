#!/usr/bin/python3
"""Creates SQS queues on moto in known states, for the sqs source's tests. Reads a JSON spec on
stdin:

  {"endpoint": "http://127.0.0.1:PORT",
   "queues": [{"name": "Q",
               "send": 12,            # messages sent (visible until received)
               "receive": 5,          # of those, received with a 600 s visibility timeout (in flight)
               "delayed": 3,          # more messages sent with DelaySeconds=600 (delayed)
               "ages": [[epoch_seconds, value], ...]}]}  # AWS/SQS ApproximateAgeOfOldestMessage

Prints {"urls": {name: queue_url}} on success. Run with Debian's /usr/bin/python3 (boto3).
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
    sqs = boto3.client("sqs", **kw)
    cw = boto3.client("cloudwatch", **kw)
    urls = {}
    for q in spec["queues"]:
        name = q["name"]
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        for i in range(q.get("send", 0)):
            sqs.send_message(QueueUrl=url, MessageBody="m%d" % i)
        received = 0
        while received < q.get("receive", 0):
            want = min(10, q["receive"] - received)
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=want,
                                      VisibilityTimeout=600).get("Messages", [])
            if not got:
                sys.exit("queue %s: received %d of %d" % (name, received, q["receive"]))
            received += len(got)
        for i in range(q.get("delayed", 0)):
            sqs.send_message(QueueUrl=url, MessageBody="d%d" % i, DelaySeconds=600)
        data = [{"MetricName": "ApproximateAgeOfOldestMessage",
                 "Dimensions": [{"Name": "QueueName", "Value": name}],
                 "Timestamp": datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc),
                 "Value": float(v), "Unit": "Seconds"} for ts, v in q.get("ages", [])]
        if data:
            cw.put_metric_data(Namespace="AWS/SQS", MetricData=data)
        urls[name] = url
    print(json.dumps({"urls": urls}))


if __name__ == "__main__":
    main()
