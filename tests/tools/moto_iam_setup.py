#!/usr/bin/python3
"""Prepares an IAM-enforcing moto server (INITIAL_NO_AUTH_ACTION_COUNT=N) for the least-privilege
and AssumeRole tests, then uses up what is left of its N unauthenticated requests so that every
later request must be signed by one of the IAM users created here.

While requests are still free it creates: a DynamoDB table with TTL enabled, a stream with old
images and a few items; a
versioned S3 bucket with objects under a prefix and one multipart upload left open; for the
printed policy (--policy, the output of `ttl-auditor iam-policy`, with every Resource widened to
"*" because moto matches actions only against "*") one user with exactly its actions and one user
per action with that single action removed; a user allowed only sts:AssumeRole; role AuditReader
with the full policy and role S3Only with only the policy's s3 actions.

Then it sends cheap requests with an unknown key until moto rejects one: the free budget is
spent and enforcement is on (it counts its own requests and fails if --free is too small).
Prints one JSON object on stdout: {"users": {"full": {...}, "minus:<action>": {...}, "assume_only":
{...}}, "roles": {...}, "requests_used": n, "account": "123456789012"}.
"""
import argparse
import json
import sys
import time

import boto3
import botocore.config
import botocore.exceptions

ACCOUNT = "123456789012"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--policy", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--bucket", required=True)
    p.add_argument("--prefix", default="data/")
    p.add_argument("--free", type=int, required=True, help="moto's INITIAL_NO_AUTH_ACTION_COUNT")
    args = p.parse_args()

    used = [0]

    def count(**_):
        used[0] += 1

    cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})

    def client(name, key="testing", secret="testing"):
        c = boto3.client(name, endpoint_url=args.endpoint, region_name="us-east-1",
                         aws_access_key_id=key, aws_secret_access_key=secret, config=cfg)
        c.meta.events.register("before-send", count)
        return c

    ddb, s3, iam = client("dynamodb"), client("s3"), client("iam")

    ddb.create_table(TableName=args.table,
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True,
                                          "StreamViewType": "NEW_AND_OLD_IMAGES"})
    ddb.update_time_to_live(TableName=args.table,
                            TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    now = int(time.time())
    items = [{"PutRequest": {"Item": {"id": {"S": "item-%d" % i},
                                      "ttl": {"N": str(now - 86400 * (i + 1) if i < 6 else now + 86400)}}}}
             for i in range(10)]
    ddb.batch_write_item(RequestItems={args.table: items})

    s3.create_bucket(Bucket=args.bucket)
    s3.put_bucket_versioning(Bucket=args.bucket, VersioningConfiguration={"Status": "Enabled"})
    for i in range(4):
        s3.put_object(Bucket=args.bucket, Key="%sobj-%d" % (args.prefix, i), Body=b"x" * (i + 1))
    upload = s3.create_multipart_upload(Bucket=args.bucket, Key=args.prefix + "stale-upload")
    s3.upload_part(Bucket=args.bucket, Key=args.prefix + "stale-upload", PartNumber=1,
                   UploadId=upload["UploadId"], Body=b"p" * 100)

    with open(args.policy) as f:
        policy = json.load(f)
    actions = []
    for st in policy["Statement"]:
        for a in st["Action"]:
            if a not in actions:
                actions.append(a)

    def document(acts):
        return json.dumps({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Allow", "Action": acts, "Resource": "*"}]})

    users = {}

    def make_user(label, acts):
        name = "ttla-" + label.replace(":", "-")
        iam.create_user(UserName=name)
        if acts:
            iam.put_user_policy(UserName=name, PolicyName="audit", PolicyDocument=document(acts))
        k = iam.create_access_key(UserName=name)["AccessKey"]
        users[label] = {"user": name, "key": k["AccessKeyId"], "secret": k["SecretAccessKey"],
                        "actions": acts}

    make_user("full", actions)
    for a in actions:
        make_user("minus:" + a, [x for x in actions if x != a])
    make_user("assume_only", ["sts:AssumeRole"])

    # moto matches the trusted principal literally (the account root would not match a user).
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::%s:user/%s" % (ACCOUNT, users["assume_only"]["user"])},
        "Action": "sts:AssumeRole"}]})
    roles = {}
    for name, acts in (("AuditReader", actions),
                       ("S3Only", [a for a in actions if a.startswith("s3:")])):
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="audit", PolicyDocument=document(acts))
        roles[name] = arn

    # Spend the rest of the free budget: an unknown key is accepted while requests are free and
    # rejected as soon as enforcement starts.
    probe = client("sts", key="AKIAUNKNOWNPROBE0000", secret="nope")
    setup = used[0]
    while True:
        if used[0] > args.free + 1:
            sys.exit("moto never started enforcing IAM after %d requests (--free %d)" %
                     (used[0], args.free))
        try:
            probe.get_caller_identity()
        except botocore.exceptions.ClientError as e:
            code = e.response["Error"]["Code"]
            if code in ("InvalidClientTokenId", "AccessDenied", "SignatureDoesNotMatch"):
                break
            raise
    json.dump({"users": users, "roles": roles, "requests_used": setup,
               "requests_total": used[0], "account": ACCOUNT}, sys.stdout)


if __name__ == "__main__":
    main()
