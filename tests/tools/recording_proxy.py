#!/usr/bin/python3
"""Recording HTTP proxy for read-only tests: forwards every request to one upstream on 127.0.0.1
unchanged (the Host header included, so SigV4 signatures still verify) and appends
"METHOD PATH?QUERY" per request to a log file. The test then asserts the methods it saw.

With --capacity-log FILE it also appends "SECONDS UNITS" for every JSON response that carries
ConsumedCapacity.CapacityUnits (DynamoDB with ReturnConsumedCapacity), SECONDS being this
process's monotonic clock when the response arrived: the read rate as the server charged it.

usage: recording_proxy.py --upstream 127.0.0.1:PORT --log FILE [--capacity-log FILE]
Listens on 127.0.0.1 on a free port and prints "PORT <n>" on stdout once ready.
"""
import argparse
import http.client
import http.server
import json
import sys
import threading
import time

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--capacity-log")
    args = ap.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost"):
        sys.exit("recording_proxy: upstream must be on 127.0.0.1")
    lock = threading.Lock()
    log = open(args.log, "a", buffering=1, encoding="utf-8")
    cap_log = open(args.capacity_log, "a", buffering=1, encoding="utf-8") \
        if args.capacity_log else None

    def record_capacity(data):
        arrived = time.monotonic()
        try:
            units = json.loads(data)["ConsumedCapacity"]["CapacityUnits"]
        except (ValueError, KeyError, TypeError):
            return
        with lock:
            cap_log.write(f"{arrived:.6f} {float(units)}\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet
            pass

        def forward(self):
            with lock:
                log.write(f"{self.command} {self.path}\n")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if cap_log is not None and resp.status == 200:
                    record_capacity(data)
            except Exception as e:  # upstream down: a 502 the client can see
                self.send_response(502)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            finally:
                conn.close()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                    continue
                self.send_header(k, v)
            if self.command == "HEAD":
                self.send_header("Content-Length", resp.getheader("Content-Length") or "0")
                self.end_headers()
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = forward

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
