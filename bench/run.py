#!/usr/bin/env python3
"""Portcullis benchmarks: throughput and peak memory on named corpora.

Usage: python3 bench/run.py [--runs N] [--shared DIR]

Needs the staged corpora in ../shared/data (absent from a user's clone: the
script says so and stops). Builds the release binary, then measures:

  import   `portcullis db import` of all of shared/data/vuln/osv (about 26,000 records)
  scan     `portcullis scan` of the 3,670-package union Cargo.lock, side by side with
           `cargo audit --no-fetch --no-yanked` on the same lockfile and the same
           RustSec data, checking that both report the same findings
  sbom     `portcullis sbom` of the Debian 12 dpkg status plus vector's Cargo.lock

Wall time is the median of N runs; memory is the peak resident set size
reported by GNU time (/usr/bin/time). Results go to standard output as a
Markdown table, ready for docs/benchmarks.md.
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd, **kw):
    """Run cmd under GNU time; return (seconds, peak KB, exit code)."""
    fd, out = tempfile.mkstemp()
    os.close(fd)
    p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", out] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    with open(out) as f:
        last = f.read().strip().splitlines()[-1].split()
    os.unlink(out)
    return float(last[0]), int(last[1]), p.returncode


def measure(cmd, runs, setup=None):
    times, mems = [], []
    for _ in range(runs):
        if setup:
            setup()
        t, m, _ = timed(cmd)
        times.append(t)
        mems.append(m)
    return statistics.median(times), max(mems)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "data"))
    args = ap.parse_args()
    vuln = os.path.join(args.shared, "vuln")
    if not os.path.isdir(vuln):
        print(f"The benchmark corpora are not here ({vuln}): they live in the project's "
              "shared data, which a clone of the repository does not include. Nothing measured.")
        return 0
    if not os.path.exists("/usr/bin/time"):
        subprocess.run(["apt-get", "install", "-y", "time"], check=False)
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "portcullis"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "portcullis")
    work = tempfile.mkdtemp(prefix="portcullis-bench-")
    rows = []

    # 1. Import the whole staged OSV corpus into a fresh database.
    all_db = os.path.join(work, "all.db")
    def fresh():
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(all_db + suffix):
                os.unlink(all_db + suffix)
    t, m = measure([exe, "-q", "--db", all_db, "db", "import", os.path.join(vuln, "osv")],
                   max(3, args.runs // 3), setup=fresh)
    n = json.loads(subprocess.run([exe, "--db", all_db, "db", "status", "--format", "json"],
                                  capture_output=True, text=True).stdout)["status"]["records"]
    rows.append(("import", f"shared/data/vuln/osv ({n:,} records stored)", t, m, "target < 5 s"))

    # 2. Scan the union Cargo.lock beside cargo audit, same data, same findings.
    crates_db = os.path.join(work, "crates.db")
    subprocess.run([exe, "-q", "--db", crates_db, "db", "import", os.path.join(vuln, "osv", "crates.io")], check=True)
    lock = os.path.join(vuln, "lockfiles", "cargo", "union-derived", "Cargo.lock")
    rustsec = os.path.join(vuln, "rustsec-advisory-db")
    ours = [exe, "-q", "--db", crates_db, "scan", "--format", "json", lock]
    audit_cmd = None
    if shutil.which("cargo-audit") is None:
        print("cargo-audit is not installed: installing it (cargo install cargo-audit --locked; about 15 minutes on 2 cores)", file=sys.stderr)
        subprocess.run(["cargo", "install", "cargo-audit", "--locked"], check=False)
    if shutil.which("cargo-audit"):
        audit_cmd = ["cargo", "audit", "--db", rustsec, "--no-fetch", "--no-yanked", "--json", "-f", lock]
    # Interleave the two tools so that machine load affects both alike.
    ot, om, at, am = [], [], [], []
    for _ in range(args.runs):
        t, m, _ = timed(ours); ot.append(t); om.append(m)
        if audit_cmd:
            t, m, _ = timed(audit_cmd); at.append(t); am.append(m)
    rows.append(("scan", "union Cargo.lock, 3,670 crates (portcullis)", statistics.median(ot), max(om), "≤ ½ cargo audit, < 30 MB"))
    same = "cargo audit not available"
    if audit_cmd:
        rows.append(("scan", "union Cargo.lock, 3,670 crates (cargo audit 0.22)", statistics.median(at), max(am), "anchor"))
        pc = json.loads(subprocess.run(ours, capture_output=True, text=True).stdout)
        ca = json.loads(subprocess.run(audit_cmd, capture_output=True, text=True).stdout)
        a = {(v["advisory"]["id"], v["package"]["name"], v["package"]["version"]) for v in ca["vulnerabilities"]["list"]}
        for lst in ca.get("warnings", {}).values():
            a |= {(w["advisory"]["id"], w["package"]["name"], w["package"]["version"]) for w in lst if w.get("advisory")}
        p = set()
        for f in pc["findings"]:
            ids = [f["id"]] + f.get("aliases", [])
            rid = [i for i in ids if i.startswith("RUSTSEC")]
            p.add((rid[0] if rid else f["id"], f["package"]["name"], f["package"]["version"]))
        same = "same findings" if a == p else f"DIFFERENT findings: only cargo audit {sorted(a - p)}, only portcullis {sorted(p - a)}"
        same = f"{same} ({len(p)} advisories × package versions)"

    # 3. SBOM of the Debian 12 dpkg status plus vector's Cargo.lock.
    root = os.path.join(work, "debian12")
    os.makedirs(os.path.join(root, "etc"))
    os.makedirs(os.path.join(root, "var", "lib", "dpkg"))
    shutil.copy(os.path.join(vuln, "os", "debian12", "os-release"), os.path.join(root, "etc", "os-release"))
    shutil.copy(os.path.join(vuln, "os", "debian12", "status"), os.path.join(root, "var", "lib", "dpkg", "status"))
    vector = os.path.join(vuln, "lockfiles", "cargo", "vector", "Cargo.lock")
    for fmt in ("cyclonedx", "spdx"):
        t, m = measure([exe, "-q", "sbom", "--format", fmt, "--root", root, vector, "-o", os.path.join(work, "sbom.json")], args.runs)
        rows.append(("sbom", f"Debian 12 dpkg (740) + vector Cargo.lock (1,286), {fmt}", t, m, "target < 100 ms"))

    print()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"load average {os.getloadavg()[0]:.1f}; median of {args.runs} runs (import: {max(3, args.runs // 3)})")
    print()
    print("| Job | Corpus | Wall time | Peak memory | Target |")
    print("|---|---|---:|---:|---|")
    for job, corpus, t, m, target in rows:
        wall = f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"
        print(f"| {job} | {corpus} | {wall} | {m / 1024:.1f} MB | {target} |")
    print()
    print(f"Findings check (scan): {same}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
