#!/usr/bin/env python3
"""Benchmark of `portcullis practice` on a large generated repository.

Usage: python3 bench/practice.py [--commits 10000] [--files 20000] [--runs 3]
                                 [--exe PATH] [--keep DIR]

Generates (with `git fast-import`) a repository of --commits commits and
--files files of realistic source-like text (most files 1-8 KB, a few up
to 120 KB, some binary), where every later commit changes two or three
files, and secrets are planted deep in the history (an AWS key, a GitHub
token, a private key and a password assignment, each later deleted or
overwritten). Then times `portcullis practice` on it, history secret scan
included, with GNU time: wall seconds and peak RSS. It checks that every
planted secret is reported, with the commit that introduced it.

Needs no shared data: the corpus is generated. Builds the release binary
(`cargo build --release -p portcullis`) unless --exe names one.
"""
import argparse, json, os, random, shutil, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORDS = ("value index count buffer result config handler request response client server "
         "parse render update insert delete select user account session cache token password "
         "secret key digest header payload stream reader writer error status module package "
         "version release commit branch merge report finding policy check score").split()


def line_pool(rng, n=4000):
    pool = []
    for i in range(n):
        a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
        k = rng.randrange(10)
        if k == 0:
            pool.append(f"fn {a}_{b}_{i}({c}: &str) -> Result<{a.title()}, Error> {{")
        elif k == 1:
            pool.append(f"    let {a} = {b}.{c}_{i % 97}(&{a}_{b})?;")
        elif k == 2:
            pool.append(f"    // {a} {b} {c}: keep the {a} in step with the {c}.")
        elif k == 3:
            pool.append(f"    {a}_{b} = os.environ.get(\"{a.upper()}_{c.upper()}\", \"\")")
        elif k == 4:
            pool.append(f"    if {a}.len() > {i % 512} {{ return Err(Error::{b.title()}); }}")
        elif k == 5:
            pool.append(f"{a}_{b}: {c}-{i}  # {a} {c}")
        elif k == 6:
            pool.append(f"    \"{a}\": \"{b}-{c}-{i % 1000}\",")
        elif k == 7:
            pool.append(f"    password_hash = hash_{a}({b}, salt={c}_{i % 31})")
        elif k == 8:
            pool.append(f"import {a}.{b}.{c}{i % 50}")
        else:
            pool.append(f"    }}  // end {a}_{b}")
    return pool


def text_blob(rng, pool, size):
    out, n = [], 0
    while n < size:
        l = pool[rng.randrange(len(pool))]
        out.append(l)
        n += len(l) + 1
    return ("\n".join(out) + "\n").encode()


def file_size(rng):
    r = rng.random()
    if r < 0.80:
        return rng.randint(1000, 8000)
    if r < 0.97:
        return rng.randint(8000, 30000)
    return rng.randint(30000, 120000)


def planted(i):
    """Secrets assembled here so this script itself holds none whole."""
    return [
        ("config/aws.env", ("AWS_ACCESS_KEY_ID=" + "AKIA" + "Q3ZX7RM2WL8TPK4N" + "\n").encode(), "aws-access-key-id"),
        ("deploy/gh.sh", ("export GH=" + "ghp" + "_Lq7Zx2Nv8Kc4Rt1Wm9Bp3Yd6Hs5Fg0Je2UaQ" + "\n").encode(), "github-token"),
        ("keys/deploy.pem", ("-----BEGIN " + "RSA PRIVATE KEY-----\n" + "\n".join(
            "".join(random.Random(i * 7 + j).choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(64))
            for j in range(12)) + "\n-----END RSA PRIVATE KEY-----\n").encode(), "private-key"),
        ("app/settings.py", ("DB_PASSWORD = \"" + "Vn4#qL9x" + "Tz2!Kw7p" + "\"\n").encode(), "generic-assignment"),
    ][i]


def generate(path, commits, files, seed=42):
    rng = random.Random(seed)
    pool = line_pool(rng)
    subprocess.run(["git", "init", "-q", "-b", "main", path], check=True)
    p = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    w = p.stdin
    names = []
    dirs = [f"src/mod{d:03d}" for d in range(200)]
    for i in range(files):
        ext = rng.choice(["rs", "py", "go", "ts", "md", "yml", "json", "txt"])
        names.append(f"{rng.choice(dirs)}/file{i:05d}.{ext}")
    authors = ["Ada Lovelace <ada@example.org>", "Grace Hopper <grace@example.org>",
               "Alan Turing <alan@example.org>", "Edsger Dijkstra <ewd@example.org>"]
    t0 = 1_600_000_000
    mark = 0
    plant_at = {commits // 20: 0, commits // 4: 1, commits // 2: 2, (commits * 3) // 4: 3}
    remove_at = {c + 37: k for c, k in plant_at.items()}
    expect = {}

    def blob(data):
        nonlocal mark
        mark += 1
        w.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)))
        w.write(data)
        w.write(b"\n")
        return mark

    def commit(n, ops, msg):
        author = authors[n % len(authors)]
        t = t0 + n * 600
        w.write(b"commit refs/heads/main\n")
        w.write(f"author {author} {t} +0000\ncommitter {author} {t} +0000\n".encode())
        m = msg.encode()
        w.write(b"data %d\n" % len(m) + m + b"\n")
        for op in ops:
            w.write(op)
        w.write(b"\n")

    # Commit 0: every file.
    ops = []
    for i, name in enumerate(names):
        if i % 400 == 7:
            data = bytes(rng.randrange(256) for _ in range(2048)) + b"\0"  # binary data file
        else:
            data = text_blob(rng, pool, file_size(rng))
        ops.append(b"M 100644 :%d %s\n" % (blob(data), name.encode()))
    commit(0, ops, "Initial import")
    for n in range(1, commits):
        ops = []
        for _ in range(rng.choice([2, 2, 3])):
            name = names[rng.randrange(files)]
            ops.append(b"M 100644 :%d %s\n" % (blob(text_blob(rng, pool, file_size(rng))), name.encode()))
        if n in plant_at:
            fname, data, rule = planted(plant_at[n])
            ops.append(b"M 100644 :%d %s\n" % (blob(data), fname.encode()))
            expect[fname] = (n, rule)
        if n in remove_at:
            fname = planted(remove_at[n])[0]
            ops.append(b"D %s\n" % fname.encode())
        commit(n, ops, f"Change {n}")
    w.close()
    if p.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=path, check=True)
    out = subprocess.run(["git", "rev-list", "--reverse", "main"], cwd=path, check=True,
                         capture_output=True, text=True).stdout.split()
    return {f: (out[n], rule) for f, (n, rule) in expect.items()}


def timed(cmd, env=None):
    fd, out = tempfile.mkstemp()
    os.close(fd)
    p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", out] + cmd,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    with open(out) as f:
        last = f.read().strip().splitlines()[-1].split()
    os.unlink(out)
    return float(last[0]), int(last[1]), p.returncode, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=10000)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--exe", help="the portcullis binary (default: build target/release/portcullis)")
    ap.add_argument("--keep", help="generate the repository here and keep it")
    args = ap.parse_args()
    if shutil.which("git") is None:
        print("git is not installed: nothing measured.")
        return 0
    if not os.path.exists("/usr/bin/time"):
        print("GNU time (/usr/bin/time) is not installed: apt-get install time. Nothing measured.")
        return 0
    exe = args.exe
    if not exe:
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "portcullis"], cwd=ROOT, check=True)
        exe = os.path.join(ROOT, "target", "release", "portcullis")
    work = args.keep or tempfile.mkdtemp(prefix="practice-bench-")
    repo = os.path.join(work, "repo")
    if not os.path.isdir(os.path.join(repo, ".git")):
        os.makedirs(repo, exist_ok=True)
        print(f"generating {args.commits} commits, {args.files} files in {repo} ...", flush=True)
        expect = generate(repo, args.commits, args.files)
        with open(os.path.join(work, "expect.json"), "w") as f:
            json.dump(expect, f)
    else:
        with open(os.path.join(work, "expect.json")) as f:
            expect = json.load(f)
    size = subprocess.run(["du", "-sm", os.path.join(repo, ".git")], capture_output=True, text=True).stdout.split()[0]
    cmd = [exe, "--quiet", "practice", repo, "--format", "json"]
    times, mems, report = [], [], None
    for _ in range(args.runs):
        t, m, code, out = timed(cmd)
        if code not in (0, 3):
            print(f"portcullis exited {code}")
            return 1
        times.append(t)
        mems.append(m)
        report = json.loads(out)
    found = {(f["file"], f.get("commit")) for f in report["findings"] if f["rule"] == "secret-committed"}
    missing = [f for f, (c, _) in expect.items() if (f, c) not in found]
    info = report["repository"]
    print(f"repository: {info['commits']} commits, {info['files']} files in the tree, "
          f"{info['blobs_scanned']} blobs scanned ({info['blobs_binary']} binary, {info['blobs_large']} large skipped), .git {size} MB")
    print(f"secrets reported: {len(found)}; planted: {len(expect)}; planted and missed: {missing or 'none'}")
    print(f"| command | wall s (median of {args.runs}) | peak RSS MB |")
    print("|---|---|---|")
    print(f"| portcullis practice (history secret scan) | {statistics.median(times):.2f} | {max(mems) / 1024:.0f} |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
