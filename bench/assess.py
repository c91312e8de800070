#!/usr/bin/env python3
"""Benchmark `portcullis assess` and `portcullis check` on this machine,
side by side with `lynis audit system --quick` in the same run.

Usage: python3 bench/assess.py [--runs N] [--exe PATH] [--no-lynis] [--install-lynis]

What is measured (wall time = median of N runs; memory = peak resident set
size from GNU time, /usr/bin/time -f "%e %M"):

  assess   `portcullis assess --root / --format json` (every check, the
           vulnerability match of the installed packages included)
  check    `portcullis check` (assess + scan summary, the command for non-experts)
  lynis    `lynis audit system --quick --no-colors` once, if lynis is installed
           (`apt-get install -y lynis` on Debian; --install-lynis does it)

The machine itself is the corpus: no shared data is needed. The goal for
assess is under 1 s and under 50 MB on a 2-core Debian machine.
Without --exe the release binary is built first (cargo build --release -p portcullis).
The vulnerability database is a private temporary copy built once from the
bundled snapshot before timing, so no run pays for the first import.
Results go to standard output as a Markdown table.
"""
import argparse, os, platform, shutil, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd, env=None):
    """Run cmd under GNU time; return (seconds, peak KB, exit code)."""
    fd, out = tempfile.mkstemp()
    os.close(fd)
    p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", out] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    with open(out) as f:
        last = f.read().strip().splitlines()[-1].split()
    os.unlink(out)
    return float(last[0]), int(last[1]), p.returncode


def measure(cmd, runs, env=None):
    times, mems, codes = [], [], set()
    for _ in range(runs):
        t, m, c = timed(cmd, env)
        times.append(t)
        mems.append(m)
        codes.add(c)
    return statistics.median(times), max(mems), sorted(codes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--exe", help="portcullis binary to measure (default: build the release binary)")
    ap.add_argument("--no-lynis", action="store_true")
    ap.add_argument("--install-lynis", action="store_true", help="apt-get install -y lynis first")
    args = ap.parse_args()
    if platform.system() != "Linux":
        print("This benchmark assesses the running Linux machine; nothing measured here.")
        return 0
    if not os.path.exists("/usr/bin/time"):
        print("GNU time (/usr/bin/time) is needed: apt-get install -y time. Nothing measured.")
        return 0
    exe = args.exe
    if not exe:
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "portcullis"], cwd=ROOT, check=True)
        exe = os.path.join(ROOT, "target", "release", "portcullis")
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, PORTCULLIS_DB=os.path.join(tmp, "osv.db"), NO_COLOR="1")
    # Build the private database once, outside the timing.
    subprocess.run([exe, "assess", "--format", "json", "-o", os.devnull], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    t, m, c = measure([exe, "assess", "--root", "/", "--format", "json", "-o", os.devnull], args.runs, env)
    rows.append(("portcullis assess --root / (all checks + vulnerability match)", t, m, c))
    t, m, c = measure([exe, "assess", "--root", "/", "--no-vulns", "--format", "json", "-o", os.devnull], args.runs, env)
    rows.append(("portcullis assess --root / --no-vulns", t, m, c))
    t, m, c = measure([exe, "check"], args.runs, env)
    rows.append(("portcullis check", t, m, c))
    lynis_note = ""
    if not args.no_lynis:
        if args.install_lynis and not shutil.which("lynis"):
            subprocess.run(["apt-get", "install", "-y", "lynis"], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lynis = shutil.which("lynis")
        if lynis:
            t, m, c = timed([lynis, "audit", "system", "--quick", "--no-colors"])
            rows.append(("lynis audit system --quick (1 run)", t, m, [c]))
        else:
            lynis_note = "lynis is not installed (apt-get install -y lynis, or --install-lynis): not compared."
    shutil.rmtree(tmp, ignore_errors=True)
    cpus = os.cpu_count()
    print(f"Machine: {platform.node()}, {cpus} CPUs, {platform.platform()}; {args.runs} runs each (median time, peak RSS)\n")
    print("| Command | Wall time (s) | Peak RSS (MB) | Exit codes |")
    print("|---|---:|---:|---|")
    for name, t, m, c in rows:
        print(f"| {name} | {t:.2f} | {m / 1024:.1f} | {','.join(map(str, c))} |")
    if lynis_note:
        print("\n" + lynis_note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
