#!/usr/bin/env python3
"""Benchmark and conformance checks of `portcullis hunt`.

Usage: python3 bench/hunt.py [--exe PATH] [--runs 3] [--skip-big] [--big-mb 1024]
                             [--only evtx|auth|conformance] [--evtx-dump PATH]
                             [--big-file PATH] [--chainsaw PATH]

(a) EVTX corpus (/work/shared/data/detection/evtx, 509 files) with the SigmaHQ
    Windows rules (sigma/rules/windows): wall time, events/s and peak RSS,
    side by side with the issue's parse floor, `evtx_dump -o jsonl` of the
    `evtx` crate (`cargo install evtx --locked --root DIR`; found on PATH,
    in /tmp/evtx-tools/bin, or given with --evtx-dump) over the same files,
    output to /dev/null: one process per file, run sequentially (`-t 1`)
    and two at a time (`xargs -P 2`, both cores). Our own parse-only pass
    (`hunt --parse-only`: the same readers, no rules) is shown too.
    With --chainsaw, Chainsaw (rebuilt from indexed sources, see
    crates/hunt/tests/fixtures/chainsaw/README.md) runs side by side on the
    same files and rules, JSONL to /dev/null. Hayabusa cannot be run here;
    its and Chainsaw's figures from detection.md section 2 (590-file corpus
    of 25,062 records, 2 vCPUs) are printed too.
(b) About 1 GB of auth.log built from the real samples (elastic auth.log,
    loghub OpenSSH_2k, fail2ban sshd): each copy is shifted 30 days later and
    its IPv4 addresses' last octet rotated, written in rsyslog's RFC 3339
    format (a year-less syslog file cannot hold years of shifted copies in
    order), then hunted with all rules (bundled + SigmaHQ rules/linux).
    Goal: under 10 s.
(c) Peak memory on (a): goal under 150 MB.
(d) Conformance: SigmaHQ regression_data (202 labelled EVTX, each named by
    the id of the rule that must fire on it) hunted with the SigmaHQ rule
    trees; prints how many of the expected (rule, file) hits are reported.
    The differential test against Chainsaw is crates/hunt/tests/chainsaw.rs.

Every timed command runs under /usr/bin/time -f "%e %M" (wall s, peak KiB).
Exits 0, saying so, when /work/shared is absent.
"""
import argparse, os, re, shutil, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/work/shared/data/detection"
EVTX = os.path.join(DATA, "evtx")
SIGMA = os.path.join(DATA, "sigma")

ANCHORS = [
    ("evtx_dump, one process per file (detection.md)", 0.93, 4.7),
    ("Hayabusa 4.0.0, SigmaHQ rules only (detection.md)", 19.32, 680),
    ("Chainsaw 2.16.4, SigmaHQ rules/ (detection.md)", 20.81, 242),
    ("Zircolite 3.7.0, prebuilt rules (detection.md)", 16.72, 149),
]


def timed(cmd, stdout=subprocess.DEVNULL):
    """Run under GNU time; return (wall s, peak MiB, stderr text, returncode)."""
    tf = tempfile.NamedTemporaryFile(delete=False)
    tf.close()
    p = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", tf.name] + cmd,
                       stdout=stdout, stderr=subprocess.PIPE, text=True)
    with open(tf.name) as f:
        wall, kib, user, sys_ = f.read().strip().split()[-4:]
    os.unlink(tf.name)
    # The CPU time rides on the stderr text (see cpu_of).
    err = p.stderr + f"\ncpu-seconds: {float(user) + float(sys_):.2f}\n"
    return float(wall), int(kib) / 1024.0, err, p.returncode


def cpu_of(stderr):
    """user+sys CPU seconds of a timed run (the machine is shared: compare these too)."""
    m = re.search(r"cpu-seconds: ([0-9.]+)", stderr)
    return float(m.group(1)) if m else 0.0


def events_of(stderr):
    m = re.search(r"note: (\d+) events in (\d+) files, (\d+) detections", stderr)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)


def median_run(cmd, runs, stdout=subprocess.DEVNULL):
    res = [timed(cmd, stdout) for _ in range(runs)]
    walls = [r[0] for r in res]
    i = walls.index(sorted(walls)[len(walls) // 2])
    return res[i], min(walls), max(walls)


def build():
    print("building: cargo build --release -p portcullis", flush=True)
    subprocess.run(["cargo", "build", "--release", "-p", "portcullis"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "portcullis")


def evtx_dump_path(given):
    for c in (given, shutil.which("evtx_dump"), "/tmp/evtx-tools/bin/evtx_dump"):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def chainsaw_run(chainsaw, rules, runs, hunt_wall):
    """Chainsaw side by side, same files and rules (its own mapping file
    must sit at mappings/sigma-event-logs-all.yml beside the binary's
    build tree, as in its repository)."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(chainsaw))))
    mapping = os.path.join(top, "mappings", "sigma-event-logs-all.yml")
    if not os.path.isfile(mapping):
        print(f"chainsaw: mapping not found at {mapping}; skipped")
        return
    cmd = [chainsaw, "hunt", EVTX, "-s", rules, "--mapping", mapping, "--jsonl", "--skip-errors", "-q"]
    (cw, cm, _, crc), clo, chi = median_run(cmd, runs)
    print(f"chainsaw hunt (same files and rules, --jsonl to /dev/null): {cw:.2f} s "
          f"(range {clo:.2f}-{chi:.2f}), peak {cm:.0f} MiB, exit {crc}; "
          f"portcullis {cw / hunt_wall:.1f}x faster (goal: at least 5x)")


def bench_evtx(exe, runs, evtx_dump=None, chainsaw=None):
    print("\n== (a) EVTX corpus with SigmaHQ rules/windows; (c) peak memory")
    rules = os.path.join(SIGMA, "rules", "windows")
    hunt = [exe, "hunt", EVTX, "--rules", rules, "--min-level", "informational",
            "--format", "jsonl", "--fail-level", "critical"]
    parse = [exe, "hunt", EVTX, "--parse-only"]
    (w, m, err, rc), lo, hi = median_run(hunt, runs)
    ev, files, det = events_of(err)
    print(f"portcullis hunt (SigmaHQ windows rules): {w:.2f} s (range {lo:.2f}-{hi:.2f}, "
          f"{cpu_of(err):.2f} s CPU), peak {m:.0f} MiB, {ev} events in {files} files, {ev / w:,.0f} events/s, {det} detections, exit {rc}")
    (pw, pm, perr, _), plo, phi = median_run(parse, runs)
    pev, _, _ = events_of(perr)
    print(f"portcullis parse only (--parse-only):    {pw:.2f} s (range {plo:.2f}-{phi:.2f}), "
          f"peak {pm:.0f} MiB, {pev / pw:,.0f} events/s")
    print(f"hunt / parse-only time ratio: {w / pw:.2f} (goal: within 3x of a parse-only pass)")
    dump = evtx_dump_path(evtx_dump)
    if dump:
        files_list = sorted(os.path.join(d, f) for d, _, fs in os.walk(EVTX) for f in fs if f.endswith(".evtx"))
        lst = tempfile.NamedTemporaryFile("w", delete=False)
        lst.write("\0".join(files_list))
        lst.close()
        for label, par in (("sequential, -t 1", "1"), ("2 at a time (xargs -P 2), -t 1", "2")):
            script = f'xargs -0 -n 1 -P {par} "$0" -o jsonl -t 1 < "$1" > /dev/null 2>&1'
            walls = []
            for _ in range(runs):
                ew, em, _, _ = timed(["sh", "-c", script, dump, lst.name])
                walls.append(ew)
            ew = statistics.median(walls)
            print(f"evtx_dump -o jsonl, one process per file, {label}: {ew:.2f} s "
                  f"(range {min(walls):.2f}-{max(walls):.2f}); hunt / evtx_dump = {w / ew:.2f} "
                  f"(goal: within 3x)")
        os.unlink(lst.name)
    else:
        print("evtx_dump: not found (cargo install evtx --locked --root /tmp/evtx-tools); "
              "the parse floor above is our own readers")
    if chainsaw:
        chainsaw_run(chainsaw, rules, runs, w)
    print(f"peak memory goal < 150 MB: {'met' if m < 150 else 'NOT met'} ({m:.0f} MiB)")
    print("anchors (not run here; different 590-file corpus, same machine class):")
    for name, s, mib in ANCHORS:
        print(f"  {name}: {s:.2f} s, {mib} MiB" + (f"  -> portcullis {s / w:.1f}x faster" if s > 5 else ""))


def shift_ip(line, k):
    return re.sub(r"\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.)(\d{1,3})\b",
                  lambda m: f"{m.group(1)}{(int(m.group(2)) + k) % 256}", line)


MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def rfc3339_lines(path, year):
    import datetime
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = re.match(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) (.*)", line.rstrip("\n"))
            if not m or m.group(1) not in MONTHS:
                continue
            try:
                d = datetime.datetime(year, MONTHS[m.group(1)], int(m.group(2)),
                                      *map(int, m.group(3).split(":")))
            except ValueError:
                continue
            out.append((d, m.group(4)))
    out.sort(key=lambda x: x[0])
    return out


def build_big_auth(target_bytes, path):
    import datetime
    samples = [os.path.join(DATA, "linux-auth", "elastic-examples", "auth.log"),
               os.path.join(DATA, "linux-auth", "loghub", "OpenSSH", "OpenSSH_2k.log"),
               os.path.join(DATA, "linux-auth", "fail2ban", "sshd")]
    base = []
    for s in samples:
        if os.path.exists(s):
            base.extend(rfc3339_lines(s, 2020))
    base.sort(key=lambda x: x[0])
    start = base[0][0]
    written = 0
    k = 0
    with open(path, "w") as f:
        while written < target_bytes:
            shift = datetime.timedelta(days=30 * k)
            chunk = []
            for d, rest in base:
                t = (d - start) + start + shift
                chunk.append(f"{t.strftime('%Y-%m-%dT%H:%M:%S')}+00:00 {shift_ip(rest, k)}\n")
            text = "".join(chunk)
            f.write(text)
            written += len(text)
            k += 1
    return written, k


def bench_auth(exe, runs, mb, big_file=None):
    print(f"\n== (b) ~{mb} MB auth.log with all rules (bundled + SigmaHQ rules/linux)")
    tmpdir = tempfile.mkdtemp(prefix="hunt-bench-")
    path = os.path.join(tmpdir, "auth.log")
    try:
        if big_file:
            path, n = big_file, os.path.getsize(big_file)
            print(f"using {path}: {n / 1e6:.0f} MB (built earlier by this script)")
        else:
            n, copies = build_big_auth(mb * 1024 * 1024, path)
            print(f"built {path}: {n / 1e6:.0f} MB from {copies} shifted copies of the samples")
        cmd = [exe, "hunt", path, "--bundled", "--rules", os.path.join(SIGMA, "rules", "linux"),
               "--format", "jsonl", "--fail-level", "critical"]
        (w, m, err, rc), lo, hi = median_run(cmd, runs)
        ev, _, det = events_of(err)
        print(f"portcullis hunt: {w:.2f} s (range {lo:.2f}-{hi:.2f}, {cpu_of(err):.2f} s CPU), peak {m:.0f} MiB, {ev} events, "
              f"{ev / w:,.0f} events/s, {n / 1e6 / w:.0f} MB/s, {det} detections, exit {rc}")
        print(f"goal < 10 s: {'met' if w < 10 else 'NOT met'}")
        for label, extra in (("bundled rules only", ["--format", "jsonl", "--fail-level", "critical"]),
                             ("parse only", ["--parse-only"])):
            (bw, bm, berr, _), blo, bhi = median_run([exe, "hunt", path] + extra, runs)
            bev, _, bdet = events_of(berr)
            print(f"  {label}: {bw:.2f} s (range {blo:.2f}-{bhi:.2f}, {cpu_of(berr):.2f} s CPU), "
                  f"peak {bm:.0f} MiB, {bdet} detections")
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def conformance(exe):
    print("\n== (d) SigmaHQ regression_data conformance")
    reg = os.path.join(SIGMA, "regression_data")
    trees = [os.path.join(SIGMA, t) for t in ("rules", "rules-threat-hunting", "rules-emerging-threats")]
    cmd = [exe, "hunt", reg, "--min-level", "informational", "--format", "jsonl", "--fail-level", "critical"]
    for t in trees:
        cmd += ["--rules", t]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import json
    hits = set()
    for line in p.stdout.splitlines():
        d = json.loads(line)
        for e in d["events"]:
            stem = os.path.splitext(os.path.basename(e["file"]))[0]
            hits.add((stem, d["rule_id"]))
    expected = []
    for dirpath, _, files in os.walk(reg):
        for f in files:
            if f.endswith(".evtx"):
                expected.append(os.path.splitext(f)[0])
    found = [s for s in expected if (s, s) in hits]
    missed = sorted(set(expected) - set(found))
    print(f"expected (rule, file) hits: {len(expected)}; reported: {len(found)} "
          f"({100.0 * len(found) / max(len(expected), 1):.1f} %); anchors: 96.0 % and 87.1 % (detection.md)")
    for s in missed[:40]:
        print(f"  missed: {s}")
    if len(missed) > 40:
        print(f"  … {len(missed) - 40} more")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-mb", type=int, default=1024)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--only", choices=["evtx", "auth", "conformance"])
    ap.add_argument("--evtx-dump", help="path of evtx_dump (default: PATH, then /tmp/evtx-tools/bin)")
    ap.add_argument("--big-file", help="an auth.log built earlier by this script (skips building it)")
    ap.add_argument("--chainsaw", help="a Chainsaw binary to run side by side (see crates/hunt/tests/fixtures/chainsaw/README.md)")
    a = ap.parse_args()
    if not os.path.isdir(DATA):
        print(f"{DATA} is absent: nothing to benchmark (this benchmark needs the staged detection corpus)")
        return 0
    exe = a.exe or build()
    if a.only in (None, "evtx"):
        bench_evtx(exe, a.runs, a.evtx_dump, a.chainsaw)
    if a.only in (None, "auth") and not a.skip_big:
        bench_auth(exe, a.runs, a.big_mb, a.big_file)
    if a.only in (None, "conformance"):
        conformance(exe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
