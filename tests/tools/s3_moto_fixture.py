#!/usr/bin/python3
"""Test-side writer of S3 buckets on moto's server (the auditor itself never writes), and an
independent computation of what an audit must find in them. boto3, path-style, region per bucket.

  s3_moto_fixture.py SCENARIO BUCKET --as-of EPOCH [--region R] [--prefix P]...
      SCENARIO is one of
        shapes     unversioned; lifecycle rules of every shape moto stores (Filter.Prefix,
                   legacy Prefix, And{Prefix, Tag}, Tag, Disabled, Date, Days, overlapping rules,
                   AbortIncompleteMultipartUpload); keys with spaces, UTF-8, '+', '%', "/./"
                   and "/../"; two unfinished multipart uploads (one with a 5-byte part).
        versioned  versioning on; noncurrent versions under two NoncurrentDays rules, a lone
                   delete marker under ExpiredObjectDeleteMarker, expiration by Days.
        sizes      unversioned; ObjectSizeGreaterThan / ObjectSizeLessThan, alone and in And.
                   moto 5 drops size filters from the configuration it stores (it answers with
                   the rule minus its sizes), so the rules are not PUT on moto: the output
                   carries the configuration as botocore serialises it ("lifecycle_xml") for the
                   test to serve in moto's place.
        tags       unversioned; Tag and And{Prefix, Tag, Tag} rules beside a prefix rule, objects
                   tagged in every combination. With --tag-budget N the truth is what an audit
                   reading tags for the first N objects a tag rule may expire (listing order)
                   must find; without it, tag rules are not evaluated.
        plain      unversioned, no lifecycle, a few objects (region tests).
Prints JSON: {"bucket", "region", "lifecycle_xml"?, "rules": [...as evaluated...],
"truth": {PREFIX: {...}}} where each truth entry is computed here, from the listings read back
from moto and the rules (read back from moto, or the intended ones for "sizes"):
  objects, bytes, expired, expired_bytes, not_yet_expired, lifecycle_missing, applied,
  not_evaluated, disabled, noncurrent_expired, noncurrent_expired_bytes, lone_markers,
  lone_markers_expired, stale_uploads, stale_part_bytes, and with --tag-budget: tags_read,
  tags_unread.
Environment: TTLA_MOTO_ENDPOINT.
"""
import argparse
import calendar
import datetime
import json
import os
import sys
import time

import boto3
from botocore.config import Config

DAY = 86400


def client(region):
    return boto3.client(
        "s3", endpoint_url=os.environ["TTLA_MOTO_ENDPOINT"], region_name=region,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))


def make_bucket(s3, bucket, region):
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket,
                         CreateBucketConfiguration={"LocationConstraint": region})


def epoch(dt):
    return calendar.timegm(dt.utctimetuple())


def midnight_after(t):
    """S3 rounds lifecycle deadlines up to the next 00:00 UTC (a midnight stays)."""
    return -(-t // DAY) * DAY


# --- What S3 applies, written from AWS's lifecycle documentation (independently of the C++).

def rule_filter(rule):
    """(prefix, tags, greater, less) of a rule as boto3 returns or takes it."""
    if "Filter" in rule:
        f = rule["Filter"]
        scope = f.get("And", f)
        tags = list(scope.get("Tags", []))
        if "Tag" in f:
            tags.append(f["Tag"])
        return (scope.get("Prefix", ""), tags, scope.get("ObjectSizeGreaterThan"),
                scope.get("ObjectSizeLessThan"))
    return rule.get("Prefix", ""), [], None, None


def matches(rule, key, size, obj_tags=None):
    """obj_tags: the object's tags as a dict when read, else None (tag rules never match)."""
    prefix, tags, gt, lt = rule_filter(rule)
    if not key.startswith(prefix):
        return False
    if tags and (obj_tags is None or
                 any(obj_tags.get(t["Key"]) != t["Value"] for t in tags)):
        return False
    if gt is not None and (size is None or not size > gt):
        return False
    if lt is not None and (size is None or not size < lt):
        return False
    return True


def reaches(rule, prefix):
    p = rule_filter(rule)[0]
    return prefix.startswith(p) or p.startswith(prefix)


def enabled(rule):
    return rule.get("Status") == "Enabled"


def expiry(rules, key, size, created, obj_tags=None):
    best = None
    for r in rules:
        if not enabled(r) or not matches(r, key, size, obj_tags):
            continue
        e = r.get("Expiration", {})
        cands = []
        if "Days" in e:
            cands.append(midnight_after(created + e["Days"] * DAY))
        if "Date" in e:
            d = e["Date"]
            d = epoch(d) if isinstance(d, datetime.datetime) else int(d)
            cands.append(max(d, created))
        for c in cands:
            best = c if best is None else min(best, c)
    return best


def noncurrent_expiry(rules, key, size, since, newer):
    best = None
    for r in rules:
        n = r.get("NoncurrentVersionExpiration")
        if not enabled(r) or not n or "NoncurrentDays" not in n or not matches(r, key, size):
            continue
        if newer < n.get("NewerNoncurrentVersions", 0):
            continue
        c = midnight_after(since + n["NoncurrentDays"] * DAY)
        best = c if best is None else min(best, c)
    return best


def abort_expiry(rules, key, initiated):
    best = None
    for r in rules:
        a = r.get("AbortIncompleteMultipartUpload")
        if not enabled(r) or not a or not matches(r, key, None):
            continue
        c = midnight_after(initiated + a["DaysAfterInitiation"] * DAY)
        best = c if best is None else min(best, c)
    return best


def tag_candidate(rules, key, size):
    """Some enabled expiring tag rule holds on prefix and size: only the tags can tell."""
    for r in rules:
        if not enabled(r) or not rule_filter(r)[1]:
            continue
        e = r.get("Expiration", {})
        if ("Days" in e or "Date" in e) and matches(strip_tags(r), key, size):
            return True
    return False


def strip_tags(rule):
    prefix, _, gt, lt = rule_filter(rule)
    f = {"Prefix": prefix}
    if gt is not None:
        f["ObjectSizeGreaterThan"] = gt
    if lt is not None:
        f["ObjectSizeLessThan"] = lt
    return dict(rule, Filter={"And": f})


def truth_for(s3, bucket, prefix, rules, as_of, tag_budget=None):
    t = {"objects": 0, "bytes": 0, "expired": 0, "expired_bytes": 0, "not_yet_expired": 0,
         "noncurrent_expired": 0, "noncurrent_expired_bytes": 0, "lone_markers": 0,
         "lone_markers_expired": 0, "stale_uploads": 0, "stale_part_bytes": 0,
         "tags_read": 0, "tags_unread": 0}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            created = epoch(o["LastModified"])
            t["objects"] += 1
            t["bytes"] += o["Size"]
            obj_tags = None
            if tag_budget is not None and tag_candidate(rules, o["Key"], o["Size"]):
                if t["tags_read"] < tag_budget:
                    t["tags_read"] += 1
                    got = s3.get_object_tagging(Bucket=bucket, Key=o["Key"])["TagSet"]
                    obj_tags = {x["Key"]: x["Value"] for x in got}
                else:
                    t["tags_unread"] += 1
            d = expiry(rules, o["Key"], o["Size"], created, obj_tags)
            if d is None:
                continue
            if d <= as_of:
                t["expired"] += 1
                t["expired_bytes"] += o["Size"]
            else:
                t["not_yet_expired"] += 1
    # Versions: per key, newest first by LastModified (the fixture never writes two entries of
    # one key within the same second).
    per_key = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for v in page.get("Versions", []):
            per_key.setdefault(v["Key"], []).append((epoch(v["LastModified"]), False, v["Size"]))
        for m in page.get("DeleteMarkers", []):
            per_key.setdefault(m["Key"], []).append((epoch(m["LastModified"]), True, 0))
    for key, entries in per_key.items():
        entries.sort(key=lambda e: -e[0])
        if len(entries) == 1 and entries[0][1]:
            t["lone_markers"] += 1
            if any(enabled(r) and r.get("Expiration", {}).get("ExpiredObjectDeleteMarker")
                   and matches(r, key, 0) for r in rules):
                t["lone_markers_expired"] += 1
        newer = 0
        for i in range(1, len(entries)):
            when, marker, size = entries[i]
            if marker:
                continue
            d = noncurrent_expiry(rules, key, size, entries[i - 1][0], newer)
            newer += 1
            if d is not None and d <= as_of:
                t["noncurrent_expired"] += 1
                t["noncurrent_expired_bytes"] += size
    ups = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    for u in ups:
        d = abort_expiry(rules, u["Key"], epoch(u["Initiated"]))
        if d is not None and d <= as_of:
            t["stale_uploads"] += 1
            parts = s3.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
            t["stale_part_bytes"] += sum(p["Size"] for p in parts.get("Parts", []))
    reach = [r for r in rules if reaches(r, prefix)]
    ids = lambda rs: [r.get("ID") or "(no id)" for r in rs]
    read = tag_budget is not None
    t["applied"] = ids([r for r in reach if enabled(r) and (read or not rule_filter(r)[1])])
    t["not_evaluated"] = [] if read else [
        i + ": Tag" for i in ids([r for r in reach if enabled(r) and rule_filter(r)[1]])]
    t["disabled"] = ids([r for r in reach if not enabled(r)])
    t["lifecycle_missing"] = not any(
        enabled(r) and ("Days" in r.get("Expiration", {}) or "Date" in r.get("Expiration", {}))
        for r in reach)
    return t


# --- Scenarios.

ODD_KEYS = ["a/space and \u00e9\u2713 caf\u00e9.bin", "a/plus+sign+.bin", "a/100%25 %.bin",
            "a/dots/./../x.bin", "a/deep/k+ %2F\u00fc.bin"]


def put_all(s3, bucket, items):
    for key, size in items:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x" * size)


def shapes(s3, bucket):
    past = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    rules = [
        {"ID": "a-1d", "Filter": {"Prefix": "a/"}, "Status": "Enabled", "Expiration": {"Days": 1},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        {"ID": "a-deep-9d", "Filter": {"Prefix": "a/deep/"}, "Status": "Enabled",
         "Expiration": {"Days": 9}},
        {"ID": "legacy-b-2d", "Prefix": "b/", "Status": "Enabled", "Expiration": {"Days": 2}},
        {"ID": "legacy-b-long", "Prefix": "b/long/", "Status": "Enabled",
         "Expiration": {"Days": 30}},
        {"ID": "c-disabled", "Filter": {"Prefix": "c/"}, "Status": "Disabled",
         "Expiration": {"Days": 1}},
        {"ID": "d-date", "Filter": {"Prefix": "d/"}, "Status": "Enabled",
         "Expiration": {"Date": past}},
        {"ID": "e-and", "Filter": {"And": {"Prefix": "e/", "Tags": [{"Key": "k", "Value": "v"}]}},
         "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "tag-only", "Filter": {"Tag": {"Key": "class", "Value": "tmp"}},
         "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "f-20d", "Filter": {"Prefix": "f/"}, "Status": "Enabled",
         "Expiration": {"Days": 20}},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                          LifecycleConfiguration={"Rules": rules})
    items = [(k, 3 + i) for i, k in enumerate(ODD_KEYS)]
    for p in ("b/", "b/long/", "c/", "d/", "e/", "f/", "z/"):
        items += [(f"{p}o{i} +%\u00e9.bin", 10 + i) for i in range(3)]
    put_all(s3, bucket, items)
    up = s3.create_multipart_upload(Bucket=bucket, Key="a/mp/./../big + \u00e9.bin")
    s3.upload_part(Bucket=bucket, Key="a/mp/./../big + \u00e9.bin", UploadId=up["UploadId"],
                   PartNumber=1, Body=b"12345")
    s3.create_multipart_upload(Bucket=bucket, Key="a/mp/second%.bin")
    s3.create_multipart_upload(Bucket=bucket, Key="z/mp/no-rule.bin")
    return None


def versioned(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rules = [
        {"ID": "v-nc-1d", "Filter": {"Prefix": "v/"}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
        {"ID": "w-nc-10d", "Filter": {"Prefix": "w/"}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 10}},
        {"ID": "markers", "Filter": {"Prefix": ""}, "Status": "Enabled",
         "Expiration": {"ExpiredObjectDeleteMarker": True}},
        {"ID": "cur-2d", "Filter": {"Prefix": "v/cur"}, "Status": "Enabled",
         "Expiration": {"Days": 2}},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                          LifecycleConfiguration={"Rules": rules})
    keys = ["v/a \u00e9+%.bin", "v/cur rent.bin", "w/keep+.bin"]
    # Three generations, one second apart so every key's entries have distinct times.
    for gen, size in enumerate((10, 20, 30)):
        for k in keys:
            s3.put_object(Bucket=bucket, Key=k, Body=b"v" * (size + len(k)))
        s3.put_object(Bucket=bucket, Key="v/gone" if gen == 0 else f"v/tmp{gen}",
                      Body=b"g" * 7)
        time.sleep(1.05)
    s3.delete_object(Bucket=bucket, Key="v/gone")  # marker over one noncurrent version
    time.sleep(1.05)
    lone = s3.put_object(Bucket=bucket, Key="v/lone \u2713", Body=b"l" * 5)
    s3.delete_object(Bucket=bucket, Key="v/lone \u2713")
    s3.delete_object(Bucket=bucket, Key="v/lone \u2713", VersionId=lone["VersionId"])
    return None


def sizes(s3, bucket):
    rules = [
        {"ID": "big-1d", "Filter": {"ObjectSizeGreaterThan": 100}, "Status": "Enabled",
         "Expiration": {"Days": 1}},
        {"ID": "s-mid-1d", "Filter": {"And": {"Prefix": "s/", "ObjectSizeGreaterThan": 10,
                                              "ObjectSizeLessThan": 50}},
         "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "s-small-30d", "Filter": {"And": {"Prefix": "s/", "ObjectSizeLessThan": 11}},
         "Status": "Enabled", "Expiration": {"Days": 30}},
    ]
    items = [(f"s/{n} b+.bin", n) for n in (1, 10, 11, 49, 50, 100, 101, 500)]
    items += [(f"t/{n}.bin", n) for n in (5, 100, 101)]
    put_all(s3, bucket, items)
    # botocore's own serialisation of the configuration, as PutBucketLifecycleConfiguration
    # would send it (and AWS would answer GetBucketLifecycleConfiguration with).
    from botocore.serialize import create_serializer
    op = s3.meta.service_model.operation_model("PutBucketLifecycleConfiguration")
    req = create_serializer("rest-xml").serialize_to_request(
        {"Bucket": bucket, "LifecycleConfiguration": {"Rules": rules}}, op)
    body = req["body"]
    return rules, body.decode() if isinstance(body, bytes) else body


def tags(s3, bucket):
    rules = [
        {"ID": "tmp-tag-1d", "Filter": {"Tag": {"Key": "class", "Value": "tmp"}},
         "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "g-and-tags-1d", "Filter": {"And": {"Prefix": "g/", "Tags": [
            {"Key": "class", "Value": "log"}, {"Key": "team", "Value": "a b"}]}},
         "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "g-20d", "Filter": {"Prefix": "g/"}, "Status": "Enabled",
         "Expiration": {"Days": 20}},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                          LifecycleConfiguration={"Rules": rules})
    items = [("g/1 both+.bin", "class=log&team=a%20b"), ("g/2 log-only.bin", "class=log"),
             ("g/3 tmp.bin", "class=tmp"), ("g/4 none.bin", ""),
             ("h/1 tmp \u00e9.bin", "class=tmp"), ("h/2 other.bin", "class=keep"),
             ("h/3 none.bin", "")]
    for i, (key, tagging) in enumerate(items):
        s3.put_object(Bucket=bucket, Key=key, Body=b"t" * (5 + i), Tagging=tagging)
    return None


def plain(s3, bucket):
    put_all(s3, bucket, [(f"p/{i} \u00e9+%.bin", 4 + i) for i in range(4)])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["shapes", "versioned", "sizes", "tags", "plain"])
    ap.add_argument("bucket")
    ap.add_argument("--as-of", type=int, required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--prefix", action="append", default=None)
    ap.add_argument("--tag-budget", type=int, action="append", default=None,
                    help="also compute truth[\"tags:N\"] for the first prefix and budget N")
    args = ap.parse_args()
    s3 = client(args.region)
    make_bucket(s3, args.bucket, args.region)
    made = {"shapes": shapes, "versioned": versioned, "sizes": sizes, "tags": tags,
            "plain": plain}[
        args.scenario](s3, args.bucket)
    out = {"bucket": args.bucket, "region": args.region}
    if made is not None:
        rules, xml = made
        out["lifecycle_xml"] = xml
    else:
        try:
            rules = s3.get_bucket_lifecycle_configuration(Bucket=args.bucket)["Rules"]
        except s3.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "NoSuchLifecycleConfiguration":
                raise
            rules = []
    out["rules"] = json.loads(json.dumps(rules, default=lambda d: epoch(d)))
    prefixes = args.prefix or [""]
    out["truth"] = {p: truth_for(s3, args.bucket, p, rules, args.as_of) for p in prefixes}
    for n in args.tag_budget or []:
        out["truth"][f"tags:{n}"] = truth_for(s3, args.bucket, prefixes[0], rules, args.as_of, n)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
