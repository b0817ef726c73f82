#!/usr/bin/env python3
"""What a click costs in Chromium with and without DevTools' overlay on
(einvreg turns it on in each row's tab: `driver::command::unbuffered_input`).
A click is a mouse move then a press and a release (Perform Actions, the
element as origin, as einvreg sends it); Chromium holds a move for the
page's next frame unless the overlay is on. One chromedriver session of
each kind, in turn, clicks the replica login page's username box N
times; the CPU of everything under chromedriver and the wall are read
around the clicks.

    python3 bench/click_cost.py PORTAL_URL [N] [ROUNDS]   # prints one JSON line
"""
import time

from bidi_cost import ARGS, call, in_turn, tree_cpu

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def clicks(drv, base, overlay, portal, n):
    caps = {"browserName": "chrome", "goog:chromeOptions": {"args": ARGS}}
    sid = call("POST", f"{base}/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
    s = f"{base}/session/{sid}"
    call("POST", f"{s}/url", {"url": portal + "/Home/Login"})
    if overlay:
        for method in ("DOM.enable", "Overlay.enable"):
            call("POST", f"{s}/goog/cdp/execute", {"cmd": method, "params": {}})
    el = call("POST", f"{s}/element", {"using": "css selector", "value": "#txtUserName"})
    mouse = {"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
        {"type": "pointerMove", "duration": 0, "origin": {ELEMENT: el[ELEMENT]}, "x": 0, "y": 0},
        {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]}]}
    cpu, t = tree_cpu(drv.pid), time.perf_counter()
    for _ in range(n):
        call("POST", f"{s}/actions", mouse)
    out = {"cpu_ms": (tree_cpu(drv.pid) - cpu) * 1000 / n, "wall_ms": (time.perf_counter() - t) * 1000 / n}
    call("DELETE", s)
    return out


if __name__ == "__main__":
    in_turn(("buffered", "overlay"), lambda drv, base, k, portal, n: clicks(drv, base, k == "overlay", portal, n))
