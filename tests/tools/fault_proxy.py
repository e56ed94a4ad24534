#!/usr/bin/python3
"""A small HTTP proxy in front of a DynamoDB endpoint (dynalite) that injects faults.

Every request is forwarded to --upstream. Requests whose X-Amz-Target operation is in --ops
(default Scan) are counted; after the first --after of them, every --every-th one gets a fault
instead of (or on top of) the upstream answer:

  503        HTTP 503 with a ServiceUnavailable body (retryable)
  throttle   HTTP 400 with a com.amazon.coral.availability#ThrottlingException body (retryable)
  provisioned HTTP 400 ProvisionedThroughputExceededException (retryable)
  malformed  the real upstream page, cut in half, with status 200 (not JSON: must fail the target)
  reset      the connection is closed without an answer (retryable connection error)

Faulted requests are not forwarded, so a correct client that retries gets every item exactly once.
With --fail-segment S every Scan of segment S (its "Segment" field) gets the --mode fault,
forever, whatever --after/--every say: a segment that outlasts any retry policy.
With --once-per-request a request body (Segment + ExclusiveStartKey) is faulted at most once, so
a retry always gets through: tests of retryable faults stay deterministic whatever the client's
attempt limit and however parallel segments interleave.
Prints `PORT <n>` on stdout once listening on 127.0.0.1 (--port 0 picks a free port).
GET /__proxy/stats answers {"requests": n, "matched": n, "faults": n} for tests to assert on.
"""
import argparse
import hashlib
import http.client
import http.server
import json
import sys
import threading
from urllib.parse import urlsplit


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.matched = 0
        self.faults = 0
        self.faulted_bodies = set()


def make_handler(args, state):
    up = urlsplit(args.upstream)
    local = threading.local()
    ops = set(args.ops.split(","))

    def upstream():
        if getattr(local, "conn", None) is None:
            local.conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        return local.conn

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet unless asked
            if args.verbose:
                sys.stderr.write("fault_proxy: " + (fmt % a) + "\n")

        def send(self, status, body, ctype="application/x-amz-json-1.0"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", "fault-proxy")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/__proxy/stats":
                with state.lock:
                    body = json.dumps({"requests": state.requests, "matched": state.matched,
                                       "faults": state.faults}).encode()
                self.send(200, body, "application/json")
            else:
                self.send(404, b"{}")

        def forward(self, body):
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "connection", "content-length")}
            for attempt in (1, 2):  # a kept-alive upstream socket may have been closed
                conn = upstream()
                try:
                    conn.request("POST", self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    return resp.status, resp.getheader("Content-Type") or "", resp.read()
                except (http.client.HTTPException, OSError):
                    conn.close()
                    local.conn = None
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            op = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
            fault = None
            with state.lock:
                state.requests += 1
                if op in ops:
                    state.matched += 1
                    n = state.matched - args.after
                    if args.fail_segment is not None:
                        try:
                            segment = json.loads(body or b"{}").get("Segment")
                        except ValueError:
                            segment = None
                        if segment == args.fail_segment:
                            fault = args.mode
                            state.faults += 1
                    elif n > 0 and n % args.every == 0:
                        key = hashlib.sha256(body).digest()
                        if not (args.once_per_request and key in state.faulted_bodies):
                            state.faulted_bodies.add(key)
                            fault = args.mode
                            state.faults += 1
            if fault == "503":
                self.send(503, json.dumps({
                    "__type": "com.amazonaws.dynamodb.v20120810#ServiceUnavailableException",
                    "message": "injected by fault_proxy"}).encode())
            elif fault == "throttle":
                self.send(400, json.dumps({
                    "__type": "com.amazon.coral.availability#ThrottlingException",
                    "message": "Rate of requests exceeds the allowed throughput."}).encode())
            elif fault == "provisioned":
                self.send(400, json.dumps({
                    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                    "message": "The level of configured provisioned throughput for the table was exceeded."}).encode())
            elif fault == "reset":
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass
            else:
                status, ctype, data = self.forward(body)
                if fault == "malformed":
                    data = data[: max(1, len(data) // 2)]
                    status = 200
                self.send(status, data, ctype or "application/x-amz-json-1.0")

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:8000")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=["503", "throttle", "provisioned", "malformed", "reset",
                                      "none"], default="503")
    p.add_argument("--every", type=int, default=3, help="fault every Nth matching request")
    p.add_argument("--after", type=int, default=0, help="let the first K matching requests pass")
    p.add_argument("--ops", default="Scan", help="comma-separated operations to fault")
    p.add_argument("--once-per-request", action="store_true",
                   help="fault each distinct request body at most once")
    p.add_argument("--fail-segment", type=int, default=None,
                   help="fault every Scan of this segment, forever")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if args.every < 1:
        p.error("--every must be >= 1")
    if args.mode == "none":
        args.after = 1 << 62
    state = State()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args, state))
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
