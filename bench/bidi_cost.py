#!/usr/bin/env python3
"""What a WebDriver BiDi socket costs Chromium per page load: chromedriver
runs its BiDi mapper (a page of JavaScript in the browser, attached to
every tab) for a session that asks for `webSocketUrl`, whether or not a
client connects. One chromedriver session of each kind, in turn, loads
the replica's home and login pages N times each, the page starting each
load itself (as a click does); the CPU of everything under chromedriver
and the wall are read around the loads.

    python3 bench/bidi_cost.py PORTAL_URL [N] [ROUNDS]   # prints one JSON line
"""
import json, os, socket, subprocess, sys, time, urllib.error, urllib.request

HZ = os.sysconf("SC_CLK_TCK")
ARGS = ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
        "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup"]


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, method=method, data=data, headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["value"]


def tree_cpu(root):
    """Seconds of CPU of `root` and every process under it."""
    kids, stat = {}, {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            s = open(f"/proc/{p}/stat").read()
        except OSError:
            continue
        f = s[s.rindex(")") + 2:].split()
        kids.setdefault(int(f[1]), []).append(int(p))
        stat[int(p)] = (int(f[11]) + int(f[12])) / HZ
    todo, total = [root], 0.0
    while todo:
        p = todo.pop()
        total += stat.get(p, 0.0)
        todo.extend(kids.get(p, []))
    return total


def loads(drv, base, bidi, portal, n):
    caps = {"browserName": "chrome", "goog:chromeOptions": {"args": ARGS}}
    if bidi:
        caps["webSocketUrl"] = True
    sid = call("POST", f"{base}/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
    s = f"{base}/session/{sid}"
    call("POST", f"{s}/url", {"url": portal + "/"})
    cpu, t = tree_cpu(drv.pid), time.perf_counter()
    for i in range(2 * n):
        url = portal + ("/Home/Login" if i % 2 else "/")
        call("POST", f"{s}/execute/sync", {"script": "window.__old=1; setTimeout(()=>location.href=arguments[0]); return 1", "args": [url]})
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not load within 30 s")
            try:
                if call("POST", f"{s}/execute/sync", {"script": "return window.__old===undefined && document.readyState==='complete'", "args": []}):
                    break
            except urllib.error.HTTPError:
                pass  # between documents
    out = {"cpu_ms": (tree_cpu(drv.pid) - cpu) * 1000 / (2 * n), "wall_ms": (time.perf_counter() - t) * 1000 / (2 * n)}
    call("DELETE", s)
    return out


def start_driver():
    """A chromedriver on a free loopback port, once it answers: (process, base URL)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    drv = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/status")
            break
        except OSError:
            time.sleep(0.02)
    return drv, base


def in_turn(kinds, measure):
    """Each of `kinds` measured in turn, ROUNDS times, on one chromedriver
    (`measure(driver, base, kind, portal, n)`); the runs by kind, printed
    as one JSON line. Arguments: PORTAL_URL [N] [ROUNDS]."""
    portal = sys.argv[1].rstrip("/")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    drv, base = start_driver()
    try:
        runs = {k: [] for k in kinds}
        for _ in range(rounds):
            for k in kinds:
                runs[k].append(measure(drv, base, k, portal, n))
        print(json.dumps(runs))
    finally:
        drv.kill()


if __name__ == "__main__":
    in_turn(("classic", "bidi"), lambda drv, base, k, portal, n: loads(drv, base, k == "bidi", portal, n))
