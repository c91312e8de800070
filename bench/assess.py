#!/usr/bin/env python3
"""Benchmark `portcullis assess` and `portcullis check` on this machine,
side by side with `lynis audit system --quick` in the same run.

Usage: python3 bench/assess.py [--runs N] [--exe PATH] [--no-lynis] [--install-lynis]
                               [--dnf-packages N]

What is measured (wall time = median of N runs; memory = peak resident set
size from GNU time, /usr/bin/time -f "%e %M"):

  assess   `portcullis assess --root / --format json` (every check, the
           vulnerability match of the installed packages included)
  check    `portcullis check` (assess + scan summary, the command for non-experts)
  lynis    `lynis audit system --quick --no-colors` once, if lynis is installed
           (`apt-get install -y lynis` on Debian; --install-lynis does it)

  dnf      with --dnf-packages N (e.g. 75000, Fedora's Everything repository
           size): `portcullis assess --root R --no-vulns` of a generated
           Fedora 43 root whose dnf5 cache holds a primary.xml of N packages
           (about 1.7 KB of XML each, with provides/requires like Fedora's)
           and an updateinfo of N/10 advisories, as zchunk with a zstd
           dictionary (Fedora's form; needs the `zck` and `zstd` tools:
           apt-get install zchunk zstd), then the same as .xml.gz. The rpmdb
           and os-release come from crates/assess/tests/fixtures/fedora43-dnf.

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


def fedora_root(tmp, n):
    """A Fedora 43 root with a dnf5 cache of n packages; returns (root, repodata dir)."""
    import gzip
    fx = os.path.join(ROOT, "crates", "assess", "tests", "fixtures", "fedora43-dnf")
    root = os.path.join(tmp, "fedora")
    shutil.copytree(fx, root)
    repo = os.path.join(root, "var", "cache", "libdnf5", "updates-2f4d85bb0a1c9e37", "repodata")
    for f in os.listdir(repo):
        if f.endswith(".zck"):
            os.unlink(os.path.join(repo, f))
    prim = os.path.join(tmp, "primary.xml")
    with open(prim, "w") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" '
                  'xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="%d">\n' % n)
        for i in range(n):
            name = "kernel-core" if i == 0 else "pkg%05d" % i
            ver, rel = ("6.17.8", "300.fc43") if i == 0 else ("1.%d.%d" % (i % 97, i % 13), "%d.fc43" % (1 + i % 5))
            reqs = "".join('<rpm:entry name="lib%05d.so.%d()(64bit)"/>' % ((i * 7 + k) % n, k) for k in range(8))
            out.write(
                '<package type="rpm"><name>%s</name><arch>x86_64</arch>'
                '<version epoch="0" ver="%s" rel="%s"/>'
                '<checksum type="sha256" pkgid="YES">%064x</checksum>'
                '<summary>Synthetic package %d for the dnf benchmark</summary>'
                '<description>A package entry shaped like Fedora primary.xml entries, with provides and requires.</description>'
                '<packager>Fedora Project</packager><url>https://example.org/%s</url>'
                '<time file="1763337600" build="1763337600"/><size package="123456" installed="456789" archive="460000"/>'
                '<location href="Packages/%s/%s-%s-%s.x86_64.rpm"/>'
                '<format><rpm:license>MIT</rpm:license><rpm:vendor>Fedora Project</rpm:vendor>'
                '<rpm:group>Unspecified</rpm:group><rpm:buildhost>buildvm-x86-%02d.iad2.fedoraproject.org</rpm:buildhost>'
                '<rpm:sourcerpm>%s-%s-%s.src.rpm</rpm:sourcerpm><rpm:header-range start="4504" end="29000"/>'
                '<rpm:provides><rpm:entry name="%s" flags="EQ" epoch="0" ver="%s" rel="%s"/>'
                '<rpm:entry name="%s(x86-64)" flags="EQ" epoch="0" ver="%s" rel="%s"/></rpm:provides>'
                '<rpm:requires>%s</rpm:requires><file>/usr/bin/%s</file></format></package>\n'
                % (name, ver, rel, i, i, name, name[0], name, ver, rel, i % 40, name, ver, rel,
                   name, ver, rel, name, ver, rel, reqs, name))
        out.write("</metadata>\n")
    info = os.path.join(tmp, "updateinfo.xml")
    with open(info, "w") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<updates>\n')
        for i in range(max(1, n // 10)):
            name = "kernel-core" if i == 0 else "pkg%05d" % (i * 10)
            ver, rel = ("6.17.8", "300.fc43") if i == 0 else ("1.%d.%d" % (i * 10 % 97, i * 10 % 13), "%d.fc43" % (1 + i * 10 % 5))
            out.write(
                '<update from="updates@fedoraproject.org" status="stable" type="%s" version="2.0">'
                '<id>FEDORA-2025-%010x</id><title>%s-%s-%s</title><issued date="2025-11-17 02:14:07"/>'
                '<updated date="2025-11-14 16:40:52"/><rights>Copyright (C) 2025 Red Hat, Inc. and others.</rights>'
                '<release>Fedora 43</release><severity>Moderate</severity><summary>%s update</summary>'
                '<description>Update of %s.</description><references/>'
                '<pkglist><collection short="F43"><name>Fedora 43</name>'
                '<package name="%s" version="%s" release="%s" epoch="0" arch="x86_64" src="x">'
                '<filename>%s-%s-%s.x86_64.rpm</filename></package></collection></pkglist></update>\n'
                % ("security" if i % 3 == 0 else "bugfix", i, name, ver, rel, name, name, name, ver, rel, name, ver, rel))
        out.write("</updates>\n")
    # A zstd dictionary trained on the metadata, as Fedora builds its zchunk files with.
    samples = os.path.join(tmp, "samples")
    os.mkdir(samples)
    subprocess.run(["split", "-b", "4096", "-a", "5", prim, os.path.join(samples, "p")], check=True)
    subprocess.run(["split", "-b", "4096", "-a", "5", info, os.path.join(samples, "u")], check=True)
    dict_ = os.path.join(tmp, "metadata.zdict")
    files = sorted(os.listdir(samples))[::7]
    subprocess.run(["zstd", "--train", "-q", "--maxdict=65536", "-o", dict_] + [os.path.join(samples, f) for f in files],
                   check=True)
    for src, kind in ((prim, "primary"), (info, "updateinfo")):
        subprocess.run(["zck", "-D", dict_, "-s", "<package" if kind == "primary" else "<update",
                        "-o", os.path.join(repo, "bench-%s.xml.zck" % kind), src],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return root, repo, prim, info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--exe", help="portcullis binary to measure (default: build the release binary)")
    ap.add_argument("--no-lynis", action="store_true")
    ap.add_argument("--install-lynis", action="store_true", help="apt-get install -y lynis first")
    ap.add_argument("--dnf-packages", type=int, default=0,
                    help="also assess a generated Fedora root whose dnf cache holds this many packages")
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
    if args.dnf_packages:
        if not (shutil.which("zck") and shutil.which("zstd")):
            print("--dnf-packages needs the zck and zstd tools (apt-get install zchunk zstd); skipped.")
        else:
            import gzip
            root, repo, prim, info = fedora_root(tmp, args.dnf_packages)
            size = sum(os.path.getsize(os.path.join(repo, f)) for f in os.listdir(repo) if f.endswith(".zck"))
            cmd = [exe, "assess", "--root", root, "--no-vulns", "--format", "json", "-o", os.devnull]
            t, m, c = measure(cmd, args.runs, env)
            rows.append(("assess of a Fedora root, dnf5 cache of %d packages + %d advisories, zchunk with a dictionary "
                         "(%.1f MB compressed, %.0f MB of XML)" % (args.dnf_packages, args.dnf_packages // 10, size / 1e6,
                         (os.path.getsize(prim) + os.path.getsize(info)) / 1e6), t, m, c))
            for f in os.listdir(repo):
                if f.endswith(".zck"):
                    os.unlink(os.path.join(repo, f))
            for src, kind in ((prim, "primary"), (info, "updateinfo")):
                with open(src, "rb") as a, gzip.open(os.path.join(repo, "bench-%s.xml.gz" % kind), "wb", 6) as b:
                    shutil.copyfileobj(a, b)
            t, m, c = measure(cmd, args.runs, env)
            rows.append(("the same cache as .xml.gz", t, m, c))
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
