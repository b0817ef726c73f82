#!/usr/bin/env python3
"""Cold release build time and binary size, per git revision.

    python3 bench/build.py REV...     # e.g. 80ed108 HEAD

Each revision is checked out into a temporary worktree and built with
`cargo build --release` into an empty target directory (crates already
downloaded are reused: this times compiling, not fetching). Results are kept
in bench/results/build-<rev>.json, and the table of every kept result is
written between BENCHMARKS.md's bench:build markers.
"""
import glob, json, os, platform, re, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench/results")


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout.strip()


def measure(rev):
    sha = sh("git", "rev-parse", "--short", rev, cwd=ROOT)
    subject = sh("git", "log", "-1", "--format=%s", sha, cwd=ROOT)
    tmp = tempfile.mkdtemp(prefix="einvreg-build-")
    tree, target = os.path.join(tmp, "tree"), os.path.join(tmp, "target")
    sh("git", "worktree", "add", "--detach", tree, sha, cwd=ROOT)
    try:
        os.sync()
        t = time.perf_counter()
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=tree, check=True,
                       env={**os.environ, "CARGO_TARGET_DIR": target})
        secs = time.perf_counter() - t
        binary = os.path.join(target, "release/einvreg")
        tree_out = subprocess.run(["cargo", "tree", "-e", "normal", "--prefix", "none"], cwd=tree,
                                  text=True, capture_output=True).stdout
        c_builds = sorted({l.split()[0] for l in tree_out.splitlines()
                           if l.split() and l.split()[0] in ("aws-lc-sys", "ring", "openssl-sys", "cmake")})
        row = {"rev": sha, "subject": subject[:70], "seconds": round(secs),
               "bytes": os.path.getsize(binary), "native": c_builds,
               "cores": os.cpu_count(), "when": time.strftime("%Y-%m-%d")}
    finally:
        sh("git", "worktree", "remove", "--force", tree, cwd=ROOT)
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"build-{sha}.json"), "w") as f:
        json.dump(row, f, indent=1)
    print(f"{sha}: {row['seconds']} s, {row['bytes'] / 2**20:.1f} MiB", file=sys.stderr)


def table():
    rows = [json.load(open(p)) for p in glob.glob(os.path.join(RESULTS, "build-*.json"))]
    rows.sort(key=lambda r: r["when"] + r["rev"])
    out = ["| revision | cold `cargo build --release` | binary | C code compiled | cores |",
           "| --- | --- | --- | --- | --- |"]
    for r in rows:
        native = ", ".join(r["native"]) or "none"
        out.append(f"| `{r['rev']}` {r['subject']} | {r['seconds']} s | {r['bytes'] / 2**20:.1f} MiB | {native} | {r['cores']} |")
    return "\n".join(out)


def write(block):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read()
    b, e = "<!-- bench:build:begin -->", "<!-- bench:build:end -->"
    if b not in text:
        text += f"\n## Build size and time\n\n{b}\n{e}\n"
    text = re.sub(re.escape(b) + ".*?" + re.escape(e), lambda _: f"{b}\n{block}\n{e}", text, flags=re.S)
    open(path, "w").write(text)


for rev in sys.argv[1:]:
    measure(rev)
write(table())
print(table())
