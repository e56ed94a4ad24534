#!/usr/bin/python3
"""An HTTP proxy whose clock is --skew seconds off, rejecting requests signed too far from it,
as AWS does; the others are forwarded unchanged (Host included, so SigV4 still verifies) to
--upstream (dynalite, moto).

A request whose X-Amz-Date differs from the proxy's clock (now + --skew) by more than 15 minutes
gets AWS's answer with a Date header from the proxy's clock:
  DynamoDB (X-Amz-Target present): HTTP 400, {"__type": "...#InvalidSignatureException",
      "message": "Signature expired: <date> is now earlier than <min> (<now> - 15 min.)"}
  S3 and others: HTTP 403, <Error><Code>RequestTimeTooSkewed</Code><Message>The difference
      between the request time and the current time is too large.</Message>...</Error>
Prints `PORT <n>` once listening on 127.0.0.1. GET /__proxy/stats answers
{"requests": n, "rejected": n, "forwarded": n}.
"""
import argparse
import calendar
import email.utils
import http.client
import http.server
import json
import sys
import threading
import time
from urllib.parse import urlsplit

MAX_SKEW = 15 * 60


def amz(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True)
    p.add_argument("--skew", type=float, required=True, help="seconds added to this machine's clock")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    up = urlsplit(args.upstream)
    lock = threading.Lock()
    stats = {"requests": 0, "rejected": 0, "forwarded": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def reply(self, status, headers, body):
            self.send_response_only(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def handle_any(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/__proxy/stats":
                with lock:
                    data = json.dumps(stats).encode()
                self.reply(200, [("Content-Type", "application/json")], data)
                return
            now = time.time() + args.skew
            with lock:
                stats["requests"] += 1
            signed = self.headers.get("X-Amz-Date") or ""
            try:
                t = calendar.timegm(time.strptime(signed, "%Y%m%dT%H%M%SZ"))
            except ValueError:
                t = None
            if t is not None and abs(t - now) > MAX_SKEW:
                with lock:
                    stats["rejected"] += 1
                date = email.utils.formatdate(now, usegmt=True)
                if self.headers.get("X-Amz-Target"):
                    msg = "Signature expired: %s is now earlier than %s (%s - 15 min.)" % (
                        signed, amz(now - MAX_SKEW), amz(now))
                    if t > now:
                        msg = "Signature not yet current: %s is still later than %s (%s + 15 min.)" % (
                            signed, amz(now + MAX_SKEW), amz(now))
                    data = json.dumps({"__type": "com.amazon.coral.service#InvalidSignatureException",
                                       "message": msg}).encode()
                    self.reply(400, [("Date", date), ("Content-Type", "application/x-amz-json-1.0")], data)
                else:
                    data = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed"
                            "</Code><Message>The difference between the request time and the current time "
                            "is too large.</Message><RequestTime>%s</RequestTime><ServerTime>%s</ServerTime>"
                            "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>skew"
                            "</RequestId></Error>" % (signed, time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                          time.gmtime(now)))).encode()
                    self.reply(403, [("Date", date), ("Content-Type", "application/xml")], data)
                return
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("connection", "content-length")}
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
            try:
                conn.request(self.command, self.path, body=body if body else None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                out = [(k, v) for k, v in resp.getheaders()
                       if k.lower() not in ("connection", "content-length", "transfer-encoding",
                                            "date", "server")]
                out.append(("Date", email.utils.formatdate(now, usegmt=True)))
                with lock:
                    stats["forwarded"] += 1
                self.reply(resp.status, out, data)
            finally:
                conn.close()

        do_GET = do_POST = do_HEAD = do_PUT = handle_any

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
