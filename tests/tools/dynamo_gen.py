#!/usr/bin/python3
"""Seeded DynamoDB test-table generator, loader and truth writer for ttl-auditor.

Creates a table (pk string hash key, optional sk range key), loads N items with BatchWriteItem
from several threads and writes a truth JSON computed here, independently of the auditor, from
the generated values and --as-of: every CONTRACT item class, exact oldest/newest overdue,
nearest-rank p50/p90/p99, the cumulative overdue histogram, expired bytes (DynamoDB item-size
rules) and the top groups.

Keys look like `{user_id}#{session_id}` (pk), so `group_by: {attribute: pk, split: "#", part: 0}`
groups expired items per user. User popularity is Zipf-like so the top groups are distinct.

Run with Debian's Python (boto3): /usr/bin/python3 tests/tools/dynamo_gen.py --endpoint URL ...
Credentials are dummies: dynalite only checks that a signature is present.
"""
import argparse
import bisect
import hashlib
import datetime as dt
import json
import math
import queue
import random
import sys
import threading
import time
from decimal import Decimal

FIVE_YEARS = 5 * 365 * 86400
MS_THRESHOLD = Decimal(10) ** 11
CLASSES = ["expired", "not_yet_expired", "missing_ttl", "non_numeric_ttl", "milliseconds_ttl",
           "beyond_five_years"]
DEFAULT_MIX = ("expired=0.55,not_yet_expired=0.25,missing_ttl=0.05,non_numeric_ttl=0.05,"
               "milliseconds_ttl=0.05,beyond_five_years=0.05")
# CONTRACT's histogram bounds: 1h 6h 12h 1d 2d 3d 7d 14d 30d 90d 365d (+Inf).
HIST_BOUNDS = [3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 3 * 86400, 7 * 86400, 14 * 86400,
               30 * 86400, 90 * 86400, 365 * 86400]
STATUSES = ["uploading", "uploading", "failed", "uploaded"]


def parse_time(text):
    try:
        return int(text)
    except ValueError:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return int(t.timestamp())


def parse_mix(text):
    mix = {}
    for part in text.split(","):
        name, _, frac = part.partition("=")
        if name not in CLASSES:
            raise SystemExit(f"--mix: unknown class {name!r} (known: {', '.join(CLASSES)})")
        mix[name] = float(frac)
    total = sum(mix.values())
    if total <= 0:
        raise SystemExit("--mix: fractions must add up to more than 0")
    return {k: v / total for k, v in mix.items()}


# ---------------------------------------------------------------------------------------------
# Independent truth: classification and sizes exactly as CONTRACT / the DynamoDB guide state them.

def classify(attr, as_of):
    """attr: the TTL AttributeValue dict or None. Returns (class, overdue Decimal or None)."""
    if attr is None:
        return "missing_ttl", None
    if "N" not in attr:
        return "non_numeric_ttl", None
    value = Decimal(attr["N"])
    if value >= MS_THRESHOLD:
        return "milliseconds_ttl", None
    if value > as_of:
        return "not_yet_expired", None
    if value < as_of - FIVE_YEARS:
        return "beyond_five_years", None
    return "expired", Decimal(as_of) - value


def number_size(text):
    # DynamoDB guide: about 1 byte per two significant digits plus 1 byte (leading and trailing
    # zeros trimmed).
    digits = text.lstrip("+-").split("e")[0].split("E")[0].replace(".", "").strip("0")
    return (max(len(digits), 1) + 1) // 2 + 1


def value_size(av):
    (t, v), = av.items()
    if t == "S":
        return len(v.encode())
    if t == "N":
        return number_size(v)
    if t == "B":
        return len(v)
    if t in ("BOOL", "NULL"):
        return 1
    raise ValueError(f"type {t} not generated")


def item_size(item):
    return sum(len(name.encode()) + value_size(av) for name, av in item.items())


def nearest_rank(sorted_values, q):
    n = len(sorted_values)
    if n == 0:
        return 0
    return sorted_values[max(1, math.ceil(q * n)) - 1]


class Population:
    """Truth for one item population (the whole table, or a filtered part of it)."""

    def __init__(self, as_of, group_split, group_part):
        self.as_of = as_of
        self.split = group_split
        self.part = group_part
        self.classes = {c: 0 for c in CLASSES}
        self.overdue = []
        self.bytes = 0
        self.groups = {}
        self.total = 0

    def add(self, item, ttl_attr, group_attr):
        cls, overdue = classify(item.get(ttl_attr), self.as_of)
        self.classes[cls] += 1
        self.total += 1
        if cls == "expired":
            self.overdue.append(float(overdue))
            self.bytes += item_size(item)
            g = item.get(group_attr, {}).get("S")
            if g is not None:
                if self.split:
                    parts = g.split(self.split)
                    g = parts[self.part] if self.part < len(parts) else None
                if g is not None:
                    self.groups[g] = self.groups.get(g, 0) + 1
        return cls

    def to_json(self, top_k):
        ov = sorted(self.overdue)
        hist = []
        for le in HIST_BOUNDS:
            hist.append({"le": le, "count": bisect.bisect_right(ov, le)})
        hist.append({"le": "+Inf", "count": len(ov)})
        top = sorted(self.groups.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
        return {
            "items": self.total,
            "classes": dict(self.classes),
            "expired": {
                "count": len(ov),
                "bytes": self.bytes,
                "oldest_overdue_seconds": ov[-1] if ov else 0,
                "newest_overdue_seconds": ov[0] if ov else 0,
                "overdue_seconds_quantiles": {"p50": nearest_rank(ov, 0.50),
                                              "p90": nearest_rank(ov, 0.90),
                                              "p99": nearest_rank(ov, 0.99)},
                "histogram": hist,
                "top_groups": [{"group": g, "count": c} for g, c in top],
                "distinct_groups": len(self.groups),
            },
        }


# ---------------------------------------------------------------------------------------------
# Generation

def fmt_seconds(value, decimal_frac):
    """Render a TTL number; decimal_frac in {0, .25, .5, ...} gives "1700000000.25" forms."""
    if decimal_frac:
        return str(Decimal(value) + Decimal(str(decimal_frac)))
    return str(value)


class Generator:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.as_of = args.as_of
        self.mix = parse_mix(args.mix)
        self.class_names = list(self.mix)
        self.class_weights = [self.mix[c] for c in self.class_names]
        self.users = [f"user{u:04d}" for u in range(args.users)]
        self.user_weights = [1.0 / (r + 1) ** 1.1 for r in range(args.users)]
        self.user_cum = []
        acc = 0.0
        for w in self.user_weights:
            acc += w
            self.user_cum.append(acc)
        self.boundaries = self._boundary_values() if args.boundaries else []

    def _boundary_values(self):
        t = self.as_of
        # (intended class, AttributeValue) pairs that sit exactly on CONTRACT's edges.
        return [
            ("expired", {"N": str(t)}),                        # due this very second
            ("expired", {"N": str(t - FIVE_YEARS)}),           # oldest deletable value
            ("beyond_five_years", {"N": str(t - FIVE_YEARS - 1)}),
            ("beyond_five_years", {"N": fmt_seconds(t - FIVE_YEARS - 1, 0.5)}),
            ("beyond_five_years", {"N": "0"}),
            ("beyond_five_years", {"N": "-1"}),
            ("beyond_five_years", {"N": "-1700000000"}),
            ("beyond_five_years", {"N": "1171734022"}),        # AWS's own never-deleted example
            ("not_yet_expired", {"N": str(t + 1)}),
            ("not_yet_expired", {"N": "99999999999"}),         # just below the ms threshold
            ("milliseconds_ttl", {"N": "100000000000"}),       # exactly 1e11
            ("milliseconds_ttl", {"N": str((t - 3600) * 1000)}),
            ("milliseconds_ttl", {"N": str((t - 86400) * 1000000)}),  # microseconds
            ("non_numeric_ttl", {"S": str(t - 3600)}),          # a number stored as a string
            ("non_numeric_ttl", {"BOOL": True}),
            ("non_numeric_ttl", {"NULL": True}),
            ("missing_ttl", None),
        ]

    def pick_user(self):
        x = self.rng.random() * self.user_cum[-1]
        return self.users[bisect.bisect_left(self.user_cum, x)]

    def overdue_seconds(self):
        r = self.rng.random()
        if r < 0.50:    # the normal deletion lag: minutes to two days
            return self.rng.randint(60, 2 * 86400)
        if r < 0.85:    # a stuck week or two
            return self.rng.randint(2 * 86400, 14 * 86400)
        return self.rng.randint(14 * 86400, self.a.max_overdue_days * 86400)  # weeks old

    def ttl_value(self, cls):
        rng, t = self.rng, self.as_of
        dec = rng.choice([0.25, 0.5, 0.75, 0.125]) if rng.random() < self.a.decimal_fraction else 0
        if cls == "expired":
            ov = self.overdue_seconds()
            # Keep decimal values strictly inside the expired range.
            return {"N": fmt_seconds(t - ov, dec)}
        if cls == "not_yet_expired":
            return {"N": fmt_seconds(t + rng.randint(1, 30 * 86400), dec)}
        if cls == "missing_ttl":
            return None
        if cls == "non_numeric_ttl":
            r = rng.random()
            if r < 0.5:
                return {"S": str(t - rng.randint(60, 7 * 86400))}
            if r < 0.8:
                iso = dt.datetime.fromtimestamp(t - rng.randint(60, 7 * 86400), dt.timezone.utc)
                return {"S": iso.strftime("%Y-%m-%dT%H:%M:%SZ")}
            return {"BOOL": rng.random() < 0.5}
        if cls == "milliseconds_ttl":
            base = t + rng.randint(-14 * 86400, 14 * 86400)
            if rng.random() < 0.8:
                return {"N": str(base * 1000 + rng.randint(0, 999))}
            return {"N": str(base * 1000000 + rng.randint(0, 999999))}
        if cls == "beyond_five_years":
            r = rng.random()
            if r < 0.3:
                return {"N": "0"}
            if r < 0.5:
                return {"N": str(-rng.randint(1, 2_000_000_000))}
            return {"N": fmt_seconds(t - FIVE_YEARS - rng.randint(1, 20 * 365 * 86400), dec)}
        raise AssertionError(cls)

    def items(self):
        """Yields (intended class, item) for exactly --items items."""
        a, rng = self.a, self.rng
        n = a.items
        idx = 0
        session_items = 0
        pk = None
        boundary = list(self.boundaries)
        while idx < n:
            if session_items == 0:
                user = self.pick_user()
                session = f"{rng.getrandbits(32):08x}{idx:x}"
                pk = f"{user}#{session}"
                session_items = rng.randint(1, 3) if a.sort_key else 1
            session_items -= 1
            if boundary and rng.random() < 0.5:
                cls, ttl = boundary.pop()
            else:
                cls = rng.choices(self.class_names, self.class_weights)[0]
                ttl = self.ttl_value(cls)
            item = {"pk": {"S": pk}}
            if a.sort_key:
                item["sk"] = {"S": f"part#{idx:09d}"}
            if ttl is not None:
                item[a.ttl_attribute] = ttl
            item["status"] = {"S": rng.choice(STATUSES)}
            item["bytes_uploaded"] = {"N": str(rng.randint(0, 5_000_000_000))}
            if a.payload_bytes > 0:
                ln = rng.randint(a.payload_bytes // 2, a.payload_bytes * 3 // 2)
                item["payload"] = {"S": "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=ln))}
            idx += 1
            yield cls, item


# ---------------------------------------------------------------------------------------------
# Loading

def make_client(args):
    import boto3
    from botocore.config import Config
    session = boto3.session.Session(aws_access_key_id="dummy", aws_secret_access_key="dummy",
                                    region_name=args.region)
    return session.client("dynamodb", endpoint_url=args.endpoint,
                          config=Config(retries={"max_attempts": 10, "mode": "standard"},
                                        max_pool_connections=4))


def marker_name(args):
    """A marker table created once a load completes. Its name carries a digest of every option
    that shapes the data and of this script, so --reuse never trusts a table loaded differently."""
    shape = {k: v for k, v in sorted(vars(args).items())
             if k not in ("endpoint", "region", "truth", "threads", "recreate", "reuse", "load",
                          "quiet", "verify", "top_k")}
    with open(__file__, "rb") as f:
        digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode() + f.read()).hexdigest()
    return f"{args.table}.loaded-{digest[:12]}"


def list_tables(client):
    names = []
    for page in client.get_paginator("list_tables").paginate():
        names.extend(page.get("TableNames", []))
    return names


def delete_table(client, name):
    client.delete_table(TableName=name)
    client.get_waiter("table_not_exists").wait(TableName=name,
                                               WaiterConfig={"Delay": 0.1, "MaxAttempts": 200})


def create_table(client, args):
    """Returns False when --reuse finds the same data already loaded (nothing to write)."""
    names = list_tables(client)
    if args.reuse and args.table in names and marker_name(args) in names:
        return False
    if args.table in names:
        if not (args.recreate or args.reuse):
            raise SystemExit(f"table {args.table} exists (use --recreate or --reuse)")
        delete_table(client, args.table)
    for stale in names:
        if stale.startswith(args.table + ".loaded-"):
            delete_table(client, stale)
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if args.sort_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "S"})
    client.create_table(TableName=args.table, KeySchema=keys, AttributeDefinitions=attrs,
                        BillingMode="PAY_PER_REQUEST")
    client.get_waiter("table_exists").wait(TableName=args.table,
                                           WaiterConfig={"Delay": 0.1, "MaxAttempts": 200})
    return True


def create_marker(client, args):
    client.create_table(TableName=marker_name(args),
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")


class BatchWriter:
    """BatchWriteItem over one persistent HTTP connection. boto3's request serialisation costs
    ~100 us per item (the loader's bottleneck at 2M items), so bodies are built with json.dumps
    and signed with botocore's own SigV4 signer; control-plane calls still go through boto3."""

    def __init__(self, args):
        import http.client
        from urllib.parse import urlsplit
        from botocore.auth import SigV4Auth
        from botocore.credentials import Credentials
        u = urlsplit(args.endpoint)
        conn_cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        self.conn = conn_cls(u.hostname, u.port, timeout=60)
        self.url = args.endpoint
        self.signer = SigV4Auth(Credentials("dummy", "dummy"), "dynamodb", args.region)

    def call(self, body):
        from botocore.awsrequest import AWSRequest
        req = AWSRequest(method="POST", url=self.url, data=body, headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.BatchWriteItem"})
        self.signer.add_auth(req)
        self.conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"BatchWriteItem HTTP {resp.status}: {data[:300]!r}")
        return json.loads(data)


def writer(args, q, errors, written):
    bw = BatchWriter(args)
    while True:
        batch = q.get()
        if batch is None:
            return
        try:
            requests = {args.table: [{"PutRequest": {"Item": it}} for it in batch]}
            delay = 0.05
            while requests:
                resp = bw.call(json.dumps({"RequestItems": requests}).encode())
                requests = resp.get("UnprocessedItems") or {}
                if requests:  # retry only what was not written, backing off
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
            with written[1]:
                written[0] += len(batch)
        except Exception as e:  # report, keep draining so the producer never blocks forever
            errors.append(repr(e))


def verify_table(args, expected):
    client = make_client(args)
    back = Population(args.as_of, "#", 0)
    for page in client.get_paginator("scan").paginate(TableName=args.table):
        for item in page["Items"]:
            back.add(item, args.ttl_attribute, "pk")
    want, got = expected.to_json(args.top_k), back.to_json(args.top_k)
    if want != got:
        raise SystemExit(f"verify: table {args.table} differs from what was generated:\n"
                         f"generated {json.dumps(want, sort_keys=True)}\n"
                         f"stored    {json.dumps(got, sort_keys=True)}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", help="DynamoDB endpoint (dynalite); required unless --no-load")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--table", required=True)
    p.add_argument("--items", type=int, required=True)
    p.add_argument("--as-of", type=parse_time, required=True, help="epoch seconds or RFC 3339")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--truth", help="write the truth JSON here ('-' for stdout)")
    p.add_argument("--mix", default=DEFAULT_MIX, help="class=fraction,... (normalised)")
    p.add_argument("--sort-key", action="store_true", help="pk + sk table, 1-3 items per session")
    p.add_argument("--ttl-attribute", default="ttl")
    p.add_argument("--users", type=int, default=150)
    p.add_argument("--payload-bytes", type=int, default=64, help="mean payload string length")
    p.add_argument("--max-overdue-days", type=int, default=42)
    p.add_argument("--decimal-fraction", type=float, default=0.1,
                   help="share of TTL numbers written with a fraction (1700000000.25)")
    p.add_argument("--no-boundaries", dest="boundaries", action="store_false",
                   help="omit the CONTRACT edge values (ttl == as_of, as_of-5y, 0, 1e11, ...)")
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--recreate", action="store_true", help="drop the table first if it exists")
    p.add_argument("--reuse", action="store_true",
                   help="keep the table when a previous run loaded exactly these items into it "
                        "(a marker table records that); else drop and load it")
    p.add_argument("--no-load", dest="load", action="store_false",
                   help="only compute the truth (same seed -> same items)")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--verify", action="store_true",
                   help="after loading, scan the table back with boto3 and check that the stored "
                        "items give the same truth (catches a server that rewrites numbers)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()
    if args.load and not args.endpoint:
        p.error("--endpoint is required unless --no-load")

    gen = Generator(args)
    everything = Population(args.as_of, "#", 0)
    # A second population for filter tests: `#s <> :u` with :u = "uploaded".
    not_uploaded = Population(args.as_of, "#", 0)

    start = time.monotonic()
    q = None
    threads = []
    errors = []
    written = [0, threading.Lock()]
    if args.load and not create_table(make_client(args), args):
        args.load = False  # --reuse: the same data is already there; only the truth is needed
        reused = True
    else:
        reused = False
    if args.load:
        q = queue.Queue(maxsize=args.threads * 4)
        for _ in range(args.threads):
            th = threading.Thread(target=writer, args=(args, q, errors, written), daemon=True)
            th.start()
            threads.append(th)

    batch = []
    for intended, item in gen.items():
        got = everything.add(item, args.ttl_attribute, "pk")
        if got != intended:  # the generator must produce what it meant to: a self-check
            raise SystemExit(f"generator bug: meant {intended}, value {item.get(args.ttl_attribute)} is {got}")
        if item["status"]["S"] != "uploaded":
            not_uploaded.add(item, args.ttl_attribute, "pk")
        if q is not None:
            batch.append(item)
            if len(batch) == 25:
                q.put(batch)
                batch = []
        if errors:
            break
    if q is not None:
        if batch and not errors:
            q.put(batch)
        for _ in threads:
            q.put(None)
        for th in threads:
            th.join()
    if errors:
        raise SystemExit(f"load failed: {errors[0]} ({len(errors)} batch errors)")
    if args.load and written[0] != args.items:
        raise SystemExit(f"load incomplete: wrote {written[0]} of {args.items}")
    if args.load and args.reuse:
        create_marker(make_client(args), args)
    elapsed = time.monotonic() - start

    if args.load and args.verify:
        verify_table(args, everything)

    truth = {
        "table": args.table,
        "as_of": args.as_of,
        "seed": args.seed,
        "ttl_attribute": args.ttl_attribute,
        "sort_key": args.sort_key,
        "group_by": {"attribute": "pk", "split": "#", "part": 0},
        **everything.to_json(args.top_k),
        "filtered_status_not_uploaded": {
            "filter": {"expression": "#s <> :u", "names": {"#s": "status"},
                       "values": {":u": {"S": "uploaded"}}},
            **not_uploaded.to_json(args.top_k),
        },
        "load_seconds": round(elapsed, 3) if args.load else None,
    }
    if args.truth:
        text = json.dumps(truth, indent=1, sort_keys=True)
        if args.truth == "-":
            print(text)
        else:
            with open(args.truth, "w") as f:
                f.write(text + "\n")
    if not args.quiet:
        rate = args.items / elapsed if elapsed > 0 else 0
        print(f"dynamo_gen: table={args.table} items={args.items} "
              f"{'reused' if reused else 'loaded' if args.load else 'generated'} in {elapsed:.1f}s ({rate:.0f}/s) "
              f"classes={json.dumps(everything.classes)}", file=sys.stderr)


if __name__ == "__main__":
    main()
