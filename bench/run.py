#!/usr/bin/env python3
"""einvreg benchmarks: wall times and peak memory, measured here (never
asserted in tests). Prints a Markdown table to paste into BENCHMARKS.md.

    python3 bench/run.py            # release build, 5 repetitions
    REPS=3 python3 bench/run.py
    BENCH_ONLY=check python3 bench/run.py   # only the `einvreg check` rows
        # (BASELINE_BIN with it: the same flow checked by an older build,
        # BASELINE_REPS times)
    BASELINE_BIN=/path/to/older/einvreg BASELINE_NAME=431cae3 python3 bench/run.py
        # also: one production registration, this build and the older one
        # in turn (A B A B ...), with the median of the pairwise ratios, so
        # a slower or faster machine day does not pass for a code change
"""
import os, re, resource, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPS = int(os.environ.get("REPS", "5"))
subprocess.run(["bash", "scripts/ensure-deps"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
BIN = os.path.join(ROOT, "target/release/einvreg")
WORK = tempfile.mkdtemp()
shutil.copy(os.path.join(ROOT, "fixtures/demo-secrets.toml"), os.path.join(WORK, "s.toml"))
os.chmod(os.path.join(WORK, "s.toml"), 0o600)
rows = []


def row(what, value, runs):
    rows.append(f"| {what} | {value} | {runs} |")
    print(rows[-1], flush=True)


def timed(args, env=None, cwd=WORK, bin_=None):
    """Wall ms and peak RSS (KiB) of one einvreg process."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", os.path.join(WORK, "rss"), bin_ or BIN, *args], cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ms = (time.perf_counter() - t) * 1000
    rss = int(open(os.path.join(WORK, "rss")).read().split()[-1])
    return ms, rss, p.returncode


def start_replica():
    t = time.perf_counter()
    p = subprocess.Popen([BIN, "replica", "--port", "0", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    sb = p.stdout.readline().split()[1]
    pr = p.stdout.readline().split()[1]
    return p, sb, pr, (time.perf_counter() - t) * 1000


print(f"## {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores; {subprocess.run(['chromium', '--version'], capture_output=True, text=True).stdout.strip()}\n")
print("| measure | median | runs |\n| --- | --- | --- |")

ms = [timed(["check", os.path.join(ROOT, "flows/production-api-user.toml"), os.path.join(ROOT, "flows/sandbox-register.toml")])[0] for _ in range(REPS)]
row("`einvreg check` both bundled flows", f"{statistics.median(ms):.0f} ms", REPS)

# A very large flow: checking must stay linear in its size.
BIG = os.path.join(WORK, "big.toml")
subprocess.run([sys.executable, os.path.join(ROOT, "bench/gen_flow.py"), "20000", BIG], check=True)
big_mib = os.path.getsize(BIG) / 2**20
ms = [timed(["check", BIG])[0] for _ in range(REPS)]
row(f"`einvreg check` of a 20,000-screen flow ({big_mib:.1f} MiB)", f"{statistics.median(ms):.0f} ms", REPS)
if os.environ.get("BASELINE_BIN"):
    # An older, slower build may need fewer runs: BASELINE_REPS (default REPS).
    breps = int(os.environ.get("BASELINE_REPS", REPS))
    base = [timed(["check", BIG], bin_=os.environ["BASELINE_BIN"])[0] for _ in range(breps)]
    row(f"the same, {os.environ.get('BASELINE_NAME', 'baseline')}", f"{statistics.median(base):.0f} ms", breps)
if os.environ.get("BENCH_ONLY") == "check":
    sys.exit(0)

starts = []
for _ in range(REPS):
    p, _, _, t = start_replica()
    starts.append(t)
    p.kill(); p.wait()
row("`einvreg replica --port 0`: start to both URLs printed", f"{statistics.median(starts):.0f} ms", REPS)

p, sb, pr, _ = start_replica()
for path, what in [("/get-captcha-image", "replica `GET /get-captcha-image` (a new captcha drawn each time)"), ("/einvapiclient/EncDesc/Registration.aspx", "replica sandbox `Registration.aspx`")]:
    lat = []
    for _ in range(200):
        t = time.perf_counter()
        urllib.request.urlopen(pr + path if not path.startswith("/einvapiclient") else sb + path).read()
        lat.append((time.perf_counter() - t) * 1e6)
    row(what, f"{statistics.median(lat):.0f} µs (p95 {sorted(lat)[189]:.0f} µs)", 200)
p.kill(); p.wait()

for flow, args, env in [
    ("production", ["run", "production-api-user", "--var", "gstin=29AAFCC9980MZZT", "--var", "portal_username=gstzendemo", "--var", "through=gsp", "--var", "provider=Tera Software Limited"], {"EINVREG_PORTAL_PASSWORD": "Zen@Login2024x"}),
    ("sandbox", ["run", "sandbox-register", "--var", "gstin=29AAFCC9980MZZT", "--var", "trade_name=GSTZEN DEMO", "--var", "mobile=9845012345", "--var", "email=gst@gstzen-demo.example", "--var", "through=erp", "--var", "provider=CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen)", "--var", "client_id=AAFCC29ERP82ZSO"], {}),
]:
    walls, rsss, machine = [], [], []
    for i in range(REPS):
        shutil.rmtree(os.path.join(WORK, "einvreg-runs"), ignore_errors=True)
        ms_, rss, rc = timed(args + ["--var", f"api_username=bench{i}", "--portal", "replica", "--auto-answer", "--json"], env)
        assert rc == 0, f"{flow} run failed ({rc})"
        walls.append(ms_); rsss.append(rss)
    row(f"one {flow} registration, wall (chromedriver and Chromium start included)", f"{statistics.median(walls):.0f} ms", REPS)
    row(f"einvreg peak RSS during one {flow} registration (browser excluded)", f"{statistics.median(rsss) / 1024:.1f} MiB", REPS)

BASELINE = os.environ.get("BASELINE_BIN")
if BASELINE:
    prod = ["run", "production-api-user", "--var", "gstin=29AAFCC9980MZZT", "--var", "portal_username=gstzendemo", "--var", "through=gsp", "--var", "provider=Tera Software Limited", "--portal", "replica", "--auto-answer", "--json"]
    env = {**os.environ, "EINVREG_PORTAL_PASSWORD": "Zen@Login2024x"}
    pairs = []
    for i in range(REPS):
        walls = []
        for b in (BIN, BASELINE):
            t = time.perf_counter()
            rc = subprocess.run([b, *prod, "--var", f"api_username=pair{i}"], cwd=WORK, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            assert rc == 0, f"{b} failed ({rc})"
            walls.append((time.perf_counter() - t) * 1000)
        pairs.append(walls)
    this, base = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[0] / p[1] for p in pairs)
    row(f"one production registration, this build vs {os.environ.get('BASELINE_NAME', 'the baseline')} in turn, wall", f"{this:.0f} ms vs {base:.0f} ms (ratio {ratio:.2f})", REPS)
    # Replica page latency, the two binaries in turn, REPS rounds of 200 requests each.
    lat = {BIN: [], BASELINE: []}
    for _ in range(REPS):
        for b in (BIN, BASELINE):
            q = subprocess.Popen([b, "replica", "--port", "0", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            q.stdout.readline()
            url = q.stdout.readline().split()[1] + "/Home/Login"
            one = []
            for _ in range(200):
                t = time.perf_counter()
                urllib.request.urlopen(url).read()
                one.append((time.perf_counter() - t) * 1e6)
            lat[b].append(statistics.median(one))
            q.kill(); q.wait()
    ratio = statistics.median(a / b for a, b in zip(lat[BIN], lat[BASELINE]))
    row(f"replica `GET /Home/Login`, this build vs {os.environ.get('BASELINE_NAME', 'the baseline')} in turn", f"{statistics.median(lat[BIN]):.0f} µs vs {statistics.median(lat[BASELINE]):.0f} µs (ratio {ratio:.2f})", REPS * 200)

for par in (1, 2, 4):
    for f in os.listdir(WORK):
        if f.startswith("einvreg-"):
            shutil.rmtree(os.path.join(WORK, f), ignore_errors=True) if os.path.isdir(os.path.join(WORK, f)) else os.remove(os.path.join(WORK, f))
    ms_, rss, rc = timed(["batch", os.path.join(ROOT, "flows/production-api-user.toml"), os.path.join(ROOT, "fixtures/demo-batch.csv"), "--portal", "replica", "--auto-answer", "--secrets", "s.toml", "--parallel", str(par)])
    assert rc == 0
    row(f"demo batch, 7 GSTINs (21 prompts), `--parallel {par}`, wall", f"{ms_ / 1000:.1f} s", 1)
    row(f"einvreg peak RSS, that batch (browsers excluded)", f"{rss / 1024:.1f} MiB", 1)

# The person's side: 4 GSTINs, 1 s per answer (12 s of answering) at --parallel 4.
with open(os.path.join(ROOT, "fixtures/demo-batch.csv")) as f:
    open(os.path.join(WORK, "four.csv"), "w").write("".join(f.readlines()[:5]))
for f in os.listdir(WORK):
    if f.startswith("einvreg-") and not os.path.isdir(os.path.join(WORK, f)):
        os.remove(os.path.join(WORK, f))
ms_, _, rc = timed(["batch", os.path.join(ROOT, "flows/production-api-user.toml"), "four.csv", "--portal", "replica", "--auto-answer", "--auto-answer-mistakes", "delay=1000", "--secrets", "s.toml", "--parallel", "4"])
row("4 GSTINs, an operator taking 1 s per answer (12 s answering), `--parallel 4`, wall", f"{ms_ / 1000:.1f} s", 1)
shutil.rmtree(WORK, ignore_errors=True)
