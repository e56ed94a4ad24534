#!/usr/bin/python3
"""Independent SigV4 oracle for sigv4_botocore_test: generates seeded random requests and signs
each with botocore's SigV4Auth (non-S3) or S3SigV4Auth (S3) at a fixed per-request time.

Writes one JSON object per line: the inputs exactly as our C++ signer takes them (wire path,
decoded query pairs, headers in order, body, service, region, clock, credentials, S3 flags) and
botocore's canonical request, signature, Authorization and the x-amz-* headers it added.

How inputs map onto botocore (where its API leaves a choice, we mirror the real request):
- Paths are the wire form, percent-encoded once like a real client sends them. For S3 the key is
  encoded with botocore's own S3 rule (quote, safe '/~'); S3SigV4Auth signs that wire path as is.
  Non-S3 paths contain '.', '..' and empty segments so botocore's normalisation is exercised.
- The query goes either through request.params (botocore encodes it; independent of us) or
  through a URL we encode (valueless parameters `name` only exist this way); both are real.
- A 'Date' header is never generated: botocore rewrites it (it signs either Date or X-Amz-Date),
  which our signer deliberately does not support.
- Unsigned S3 payloads use the client config `s3.payload_signing_enabled = False`, as boto3 does.

Usage: botocore_sign.py [--count N] [--seed S]
"""
import argparse
import datetime as real_datetime
import json
import random
import sys
import types
from urllib.parse import quote

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# Characters that make encoding interesting: unreserved, reserved/sub-delims, space, percent,
# plus and multi-byte UTF-8 (2, 3 and 4 bytes).
ALPHABET = (
    list("abcXYZ019-_.~")
    + list(" !$&'()*+,;=:@%/?#[]\"<>^`{|}\\")
    + ["é", "ü", "ሴ", "日本", "😀", "Ω", "\u00a0x"]
)
HEADER_VALUE_CHARS = list("abcXYZ0129-_.~!$&'()*+,;=:@%/?#[]<>{}|^`\\") + [" ", "  ", "\t", '"']
SERVICES_NON_S3 = ["dynamodb", "sts", "monitoring", "service", "execute-api", "ec2"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]


def rand_text(rng, lo, hi, alphabet=ALPHABET):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def rand_segment(rng):
    r = rng.random()
    if r < 0.08:
        return "."
    if r < 0.14:
        return ".."
    if r < 0.20:
        return ""
    return rand_text(rng, 1, 8).replace("/", "")


def fixed_clock(epoch):
    fixed = real_datetime.datetime.utcfromtimestamp(epoch)

    class FixedDatetime(real_datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    return types.SimpleNamespace(datetime=FixedDatetime)


def make_case(rng, index):
    s3 = rng.random() < 0.45
    service = "s3" if s3 else rng.choice(SERVICES_NON_S3)
    region = rng.choice(REGIONS)
    epoch = rng.randint(1262304000, 1893456000)  # 2010..2030
    scheme = rng.choice(["https", "http"])
    if s3:
        bucket = "bkt-" + str(rng.randint(0, 999))
        key = "/".join(rand_segment(rng) for _ in range(rng.randint(1, 4)))
        wire_key = quote(key, safe="/~")
        if rng.random() < 0.5:
            host = bucket + ".s3." + region + ".amazonaws.com"
            path = "/" + wire_key
        else:
            host = rng.choice(["127.0.0.1:9000", "s3." + region + ".amazonaws.com", "localhost:8080"])
            path = "/" + bucket + "/" + wire_key
        method = rng.choice(["GET", "HEAD", "GET", "PUT"])
    else:
        host = rng.choice(
            [service + "." + region + ".amazonaws.com", "127.0.0.1:8000", "example.amazonaws.com"]
        )
        segs = [rand_segment(rng) for _ in range(rng.randint(0, 5))]
        # A real client encodes each segment once; some keep RFC 3986 sub-delims literal.
        safe = rng.choice(["", "!$&'()*+,;=:@"])
        path = "/" + "/".join(quote(s, safe=safe) for s in segs)
        if rng.random() < 0.2:
            path += "/"
        method = rng.choice(["GET", "POST", "POST", "PUT", "DELETE"])

    # Query: decoded pairs; duplicates, empty values, valueless names.
    query = []
    valueless = set()
    for _ in range(rng.randint(0, 6)):
        r = rng.random()
        if r < 0.15 and query:
            name = rng.choice(query)[0]
            value = rand_text(rng, 0, 5)
        else:
            name = rand_text(rng, 1, 6)
            value = "" if r < 0.35 else rand_text(rng, 0, 8)
        if r > 0.9 and not value:
            valueless.add(len(query))
        query.append((name, value))
    use_params = not valueless and rng.random() < 0.6

    headers = [(rng.choice(["Host", "host", "HOST"]), host)]
    for i in range(rng.randint(0, 5)):
        base = rng.choice(["X-Custom-%d" % i, "x-amz-meta-k%d" % i, "Content-Type", "My-Header"])
        name = "".join(c.upper() if rng.random() < 0.3 else c for c in base)
        value = rand_text(rng, 0, 12, HEADER_VALUE_CHARS)
        if rng.random() < 0.2:
            value = "  " + value + " \t "
        if rng.random() < 0.1:
            value = value + "\n   folded"
        headers.append((name, value))
        if rng.random() < 0.25:
            headers.append((name.lower(), rand_text(rng, 0, 6, HEADER_VALUE_CHARS)))
    if rng.random() < 0.1:
        headers.append(("User-Agent", "ttla-test/1.0"))  # never signed by either signer

    body = ""
    if method in ("POST", "PUT") and rng.random() < 0.8:
        body = rand_text(rng, 0, 40)

    access = "AKID" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret = "".join(rng.choice("abcdefABCDEF0123456789/+") for _ in range(40))
    token = ""
    if rng.random() < 0.4:
        token = "".join(rng.choice("abcdefABCDEF0123456789/+=") for _ in range(rng.randint(20, 200)))
    unsigned = s3 and rng.random() < 0.3

    url = scheme + "://" + host + path
    if not use_params and query:
        parts = []
        for i, (n, v) in enumerate(query):
            en = quote(n, safe="-_.~")
            parts.append(en if i in valueless else en + "=" + quote(v, safe="-_.~"))
        url += "?" + "&".join(parts)

    req = AWSRequest(method=method, url=url, data=body.encode("utf-8"),
                     params=list(query) if use_params else None)
    for n, v in headers:
        req.headers[n] = v  # HTTPHeaders appends: duplicates survive, in order
    if unsigned:
        req.context["client_config"] = types.SimpleNamespace(s3={"payload_signing_enabled": False})

    creds = Credentials(access, secret, token or None)
    auth_cls = botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth
    auth = auth_cls(creds, service, region)
    botocore.auth.datetime = fixed_clock(epoch)
    captured = []
    signer_canonical = auth.canonical_request

    def capture(request):  # record the canonical request add_auth actually signs
        captured.append(signer_canonical(request))
        return captured[-1]

    auth.canonical_request = capture
    auth.add_auth(req)
    canonical = captured[0]
    authorization = req.headers["Authorization"]
    added = {}
    for n in ("X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256"):
        if n in req.headers:
            added[n.lower()] = req.headers[n]

    return {
        "index": index,
        "method": method,
        "path": path,
        "query": [[n, v] for n, v in query],
        "headers": [[n, v] for n, v in headers],
        "body": body,
        "service": service,
        "region": region,
        "epoch": epoch,
        "s3": s3,
        "unsigned_payload": unsigned,
        "access_key": access,
        "secret_key": secret,
        "session_token": token,
        "expected": {
            "canonical_request": canonical,
            "signature": authorization.rsplit("Signature=", 1)[1],
            "authorization": authorization,
            "added_headers": added,
        },
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20151108)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout
    for i in range(args.count):
        out.write(json.dumps(make_case(rng, i), ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()
