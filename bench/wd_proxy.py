#!/usr/bin/env python3
"""A counting WebDriver proxy on loopback: forwards every command to an
upstream endpoint and appends `START_MS METHOD PATH MS` to a log, so the
bench can count (and time) the WebDriver commands a registration costs.

    python3 bench/wd_proxy.py UPSTREAM_URL LOG   # prints its own URL
"""
import http.client, http.server, socket, sys, threading, time, urllib.parse

UP = urllib.parse.urlparse(sys.argv[1])
LOG = sys.argv[2]
lock = threading.Lock()
local = threading.local()


def upstream():
    # One kept-alive upstream connection per client connection's thread.
    if getattr(local, "conn", None) is None:
        local.conn = http.client.HTTPConnection(UP.hostname, UP.port, timeout=600)
    return local.conn


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out as separate writes: without this, Nagle
        # and delayed ACKs add ~40 ms to every command.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *a):
        pass

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        t = time.perf_counter()
        c = upstream()
        try:
            c.request(self.command, self.path, body, {"Content-Type": "application/json"})
            r = c.getresponse()
        except (http.client.HTTPException, OSError):
            local.conn = None
            c = upstream()
            c.request(self.command, self.path, body, {"Content-Type": "application/json"})
            r = c.getresponse()
        data = r.read()
        ms = (time.perf_counter() - t) * 1000
        with lock, open(LOG, "a") as f:
            f.write(f"{t * 1000:.1f} {self.command} {self.path} {ms:.1f}\n")
        self.send_response(r.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = forward


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(f"http://127.0.0.1:{srv.server_address[1]}", flush=True)
srv.serve_forever()
