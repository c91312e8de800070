#!/usr/bin/env python3
"""Load benchmark for `portcullis serve` (SQLite), against loopback only.

Seeds ORGS organisations, HOSTS hosts and FINDINGS findings, then measures
the cyber unit's overview page (`/`) and a few other pages: p50/p99 latency
and the server's peak resident memory (VmHWM).

Seeding is in two parts (see crates/server/docs/risk.md):
  1. through the ingest API, for throughput figures: API_HOSTS hosts enrol
     (POST /api/v1/enrol) and each submits one scan (FINDINGS/HOSTS findings,
     in the `portcullis.scan/v1` shape `portcullis scan --format json` writes)
     and one assessment (the real `portcullis assess` report fixture);
  2. in bulk for the rest, straight into the SQLite file while the server is
     stopped, writing the same rows extraction writes (findings, finding_ids,
     checks, asset_controls, detections, asset_state), then the summaries with
     the same aggregate SQL the store runs at ingest, for every organisation.

Usage (from the workspace root, after `cargo build --release -p portcullis`):
  python3 crates/server/bench/serve_load.py --binary target/release/portcullis
  python3 crates/server/bench/serve_load.py --orgs 20 --hosts 200 --findings 20000   # quick

Only the Python standard library is used. Nothing leaves 127.0.0.1.
"""

import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures", "risk")
SECTORS = ["central_government", "nhs_trust", "gp_practice", "healthcare_supplier", "local_authority", "other"]
CONTROLS = ["firewalls", "secure_configuration", "security_update_management", "user_access_control", "malware_protection"]
SEVERITIES = [("critical", 0.02), ("high", 0.10), ("medium", 0.30), ("low", 0.10), ("unknown", 0.48)]
WEEK = 7 * 24 * 3600


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


def pick_severity(r):
    x = r.random()
    for name, p in SEVERITIES:
        if x < p:
            return name
        x -= p
    return "unknown"


class Server:
    """A `portcullis serve` process on 127.0.0.1 with its own data dir."""

    def __init__(self, binary, data_dir, password):
        self.binary, self.data_dir, self.password = binary, data_dir, password
        self.proc = None
        self.port = None
        self.peak_rss_kb = 0
        self._sampler = None
        self._stop = threading.Event()

    def start(self):
        import atexit
        atexit.register(self.kill)
        env = dict(os.environ, PORTCULLIS_ADMIN_PASSWORD=self.password)
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
             "--admin-email", "admin@bench.example"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise SystemExit("server exited before listening")
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        else:
            raise SystemExit("server did not start")
        # Drain stderr so the server never blocks on it.
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()
        self._stop.clear()
        self.peak_rss_kb = 0
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self):
        while not self._stop.is_set():
            self.peak_rss_kb = max(self.peak_rss_kb, self.status("VmHWM"), self.status("VmRSS"))
            time.sleep(0.05)

    def status(self, field):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def kill(self):
        """Ends the server if the benchmark stops early (an error, Ctrl-C)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        self.peak_rss_kb = max(self.peak_rss_kb, self.status("VmHWM"))
        self._stop.set()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def request(conn, method, path, body=None, headers=None):
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data


def scan_body(r, template, n, host_index):
    """A `portcullis.scan/v1` report with `n` findings derived from the real fixture's."""
    findings = []
    for i in range(n):
        f = json.loads(json.dumps(template[i % len(template)]))
        pkg = f"pkg-{r.randrange(2000):04d}"
        f["package"]["name"] = pkg
        f["package"]["purl"] = f"pkg:cargo/{pkg}@1.{i % 10}.0"
        f["package"]["version"] = f"1.{i % 10}.0"
        f["id"] = f"RUSTSEC-2026-{r.randrange(5000):04d}"
        f["aliases"] = [f"CVE-2026-{r.randrange(50000):05d}"]
        f["severity"] = pick_severity(r)
        f["ce_14_day"] = f["severity"] in ("critical", "high") and r.random() < 0.3
        findings.append(f)
    return {"schema": "portcullis.scan/v1", "tool": {"name": "portcullis", "version": "0.1.0"},
            "target": f"host-{host_index}", "time": "", "partial": False, "stale_data": False,
            "summary": {}, "findings": findings, "diagnostics": [], "data_sources": []}


def seed_orgs(db_path, orgs):
    con = sqlite3.connect(db_path)
    now = int(time.time())
    with con:
        for i in range(orgs):
            con.execute("INSERT INTO organisations (name, sector, size, created_at) VALUES (?, ?, ?, ?)",
                        (f"Org {i:04d}", SECTORS[i % len(SECTORS)], 10 + i, now))
        ids = [r[0] for r in con.execute("SELECT id FROM organisations WHERE name LIKE 'Org %' ORDER BY id")]
        for org in ids:
            con.execute("INSERT INTO api_tokens (org_id, kind, token_hash, label, created_at) VALUES (?, 'enrolment', ?, 'bench', ?)",
                        (org, sha256_hex(f"pce_bench_{org}"), now))
    con.close()
    return ids


def seed_api(port, org_ids, api_hosts, per_host, threads):
    """Enrols api_hosts hosts and submits a scan and an assessment from each; returns figures."""
    template = json.load(open(os.path.join(FIXTURES, "scan-cargo.json")))["findings"]
    assess = open(os.path.join(FIXTURES, "assess-debian12.json")).read()
    r = random.Random(1)
    jobs = []
    for h in range(api_hosts):
        org = org_ids[h % len(org_ids)]
        body = json.dumps({"kind": "scan", "body": scan_body(r, template, per_host, h)})
        jobs.append((org, f"api-host-{h:05d}", body))
    local = threading.local()
    lat = []
    lock = threading.Lock()

    def conn():
        if not hasattr(local, "c"):
            local.c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        return local.c

    def one(job):
        org, host, scan = job
        c = conn()
        st, data = request(c, "POST", "/api/v1/enrol", json.dumps({"token": f"pce_bench_{org}", "host": host}),
                           {"content-type": "application/json"})
        if st != 201:
            raise SystemExit(f"enrol: {st} {data[:200]}")
        token = json.loads(data)["host_token"]
        hdr = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        out = []
        for key, body in ((f"{host}-scan", scan), (f"{host}-assess", f'{{"kind":"assessment","body":{assess}}}')):
            t0 = time.perf_counter()
            st, data = request(c, "POST", "/api/v1/submissions", body, dict(hdr, **{"idempotency-key": key}))
            out.append(time.perf_counter() - t0)
            if st != 201:
                raise SystemExit(f"submit: {st} {data[:300]}")
        with lock:
            lat.extend(out)
        return len(scan)

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        sizes = list(ex.map(one, jobs))
    wall = time.perf_counter() - t0
    return {"hosts": api_hosts, "submissions": 2 * api_hosts, "findings": api_hosts * per_host,
            "wall_s": wall, "submissions_per_s": 2 * api_hosts / wall,
            "findings_per_s": api_hosts * per_host / wall,
            "scan_body_bytes": sum(sizes) // max(1, len(sizes)),
            "submit_p50_ms": pct(lat, 50) * 1000, "submit_p99_ms": pct(lat, 99) * 1000}


FINDING_INDEXES = [
    "CREATE INDEX findings_asset ON findings(asset_id)",
    "CREATE INDEX findings_org_name ON findings(org_id, name_key)",
    "CREATE INDEX findings_name ON findings(name_key)",
    "CREATE INDEX findings_source ON findings(source_key) WHERE source_key IS NOT NULL",
    "CREATE INDEX finding_ids_key ON finding_ids(vuln_key)",
    "CREATE INDEX finding_ids_asset ON finding_ids(asset_id)",
]


def seed_bulk(db_path, org_ids, hosts, findings, done_hosts, done_findings):
    """Writes the rest of the hosts and findings straight into the database."""
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-200000")
    r = random.Random(2)
    now = int(time.time())
    rest_hosts = hosts - done_hosts
    per_host = max(0, (findings - done_findings) // max(1, rest_hosts))
    next_id = (con.execute("SELECT COALESCE(MAX(id), 0) FROM assets").fetchone()[0]) + 1
    for ix in FINDING_INDEXES:
        con.execute("DROP INDEX IF EXISTS " + ix.split()[2])
    con.execute("BEGIN")
    assets, states, frows, irows, crows, ctrl, drows = [], [], [], [], [], [], []
    checks = [(c["id"], c["control"], c["title"], c["status"], int(c["auto_fail"]), c.get("fix") or c.get("reason"))
              for c in json.load(open(os.path.join(FIXTURES, "assess-debian12.json")))["checks"] if c["status"] != "pass"]

    def flush():
        con.executemany("INSERT INTO assets (id, org_id, name, first_seen, last_seen, kind) VALUES (?, ?, ?, ?, ?, 'host')", assets)
        con.executemany("INSERT INTO asset_state (asset_id, org_id, verdict, assessed_at, checks_failed, auto_fails, scanned_at, vulns, critical, high, ce_14_day, hunted_at, detections) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)", states)
        con.executemany("INSERT INTO findings (org_id, asset_id, ecosystem, package, name_key, source_key, version, vuln_id, aliases, severity, cvss, upgrade_to, ce_14_day, suppressed, summary) VALUES (?, ?, 'crates.io', ?, ?, NULL, ?, ?, ?, ?, NULL, ?, ?, 0, 'synthetic finding')", frows)
        con.executemany("INSERT INTO finding_ids (org_id, asset_id, vuln_key, vuln_id, package, version, severity) VALUES (?, ?, ?, ?, ?, ?, ?)", irows)
        con.executemany("INSERT INTO checks (org_id, asset_id, check_id, control, title, status, auto_fail, fix) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", crows)
        con.executemany("INSERT INTO asset_controls (asset_id, org_id, control, pass, fail) VALUES (?, ?, ?, ?, ?)", ctrl)
        con.executemany("INSERT INTO detections (org_id, asset_id, rule_id, title, level, at, host, source_ip, user_name, summary) VALUES (?, ?, 'bench', 'Password spray', ?, ?, NULL, ?, NULL, 'synthetic')", drows)
        for lst in (assets, states, frows, irows, crows, ctrl, drows):
            lst.clear()

    for h in range(rest_hosts):
        aid = next_id + h
        org = org_ids[h % len(org_ids)]
        assets.append((aid, org, f"host-{h:06d}", now - 86400, now - r.randrange(86400)))
        crit = high = ce = 0
        for i in range(per_host):
            sev = pick_severity(r)
            ce14 = int(sev in ("critical", "high") and r.random() < 0.3)
            crit += sev == "critical"
            high += sev == "high"
            ce += ce14
            pkg = f"pkg-{r.randrange(2000):04d}"
            vid = f"RUSTSEC-2026-{r.randrange(5000):04d}"
            ver = f"1.{i % 10}.0"
            cve = f"CVE-2026-{r.randrange(50000):05d}"
            frows.append((org, aid, pkg, pkg, ver, vid, cve, sev, "2.0.0", ce14))
            irows.append((org, aid, vid, vid, pkg, ver, sev))
            irows.append((org, aid, cve, vid, pkg, ver, sev))
        ready = r.random() < 0.3
        nfail = 0
        if not ready:
            for c in checks:
                crows.append((org, aid) + c)
                nfail += c[3] == "fail"
        for ci, c in enumerate(CONTROLS):
            ctrl.append((aid, org, c, 3, 0 if ready else (1 if ci % 2 else 0)))
        ndet = 1 if r.random() < 0.05 else 0
        for _ in range(ndet):
            drows.append((org, aid, "high" if r.random() < 0.3 else "medium", now - r.randrange(3 * 86400), f"198.51.100.{r.randrange(256)}"))
        states.append((aid, org, "ready" if ready else "not_ready", now, nfail, now, per_host, crit, high, ce, now, ndet))
        if len(frows) >= 200_000:
            flush()
    flush()
    print(f"  bulk rows written; building indexes", file=sys.stderr)
    for ix in FINDING_INDEXES:
        con.execute(ix)
    # The summaries, with the store's own aggregate SQL, for every organisation.
    con.execute("DELETE FROM detection_hours")
    con.execute("INSERT INTO detection_hours (org_id, hour, n, high) SELECT org_id, at / 3600, COUNT(*), COUNT(CASE WHEN level IN ('high', 'critical') THEN 1 END) FROM detections WHERE at IS NOT NULL GROUP BY org_id, at / 3600")
    con.execute("DELETE FROM org_controls")
    con.execute("INSERT INTO org_controls (org_id, control, pass, fail) SELECT org_id, control, SUM(pass), SUM(fail) FROM asset_controls GROUP BY org_id, control")
    con.execute("DELETE FROM org_summary")
    con.execute("""INSERT INTO org_summary (org_id, hosts, projects, assessed, not_ready, auto_fails, checks_failed, vulns, critical, high, ce_14_day, practice_min, last_seen)
        SELECT s.org_id, (SELECT COUNT(*) FROM assets a WHERE a.org_id = s.org_id AND a.kind = 'host'),
          (SELECT COUNT(*) FROM assets a WHERE a.org_id = s.org_id AND a.kind = 'project'),
          COUNT(verdict), COUNT(CASE WHEN verdict = 'not_ready' THEN 1 END), SUM(auto_fails), SUM(checks_failed),
          SUM(vulns), SUM(critical), SUM(high), SUM(ce_14_day), MIN(practice_score),
          (SELECT MAX(last_seen) FROM assets a WHERE a.org_id = s.org_id)
        FROM asset_state s GROUP BY s.org_id""")
    # Twelve weekly snapshots per organisation (a falling trend).
    this_week = now // WEEK
    con.execute("DELETE FROM org_weekly")
    for back in range(12):
        f = 1.0 + back * 0.05
        con.execute("INSERT INTO org_weekly (org_id, week, critical, high, ce_14_day, not_ready, detections) SELECT org_id, ?, CAST(critical * ? AS INTEGER), CAST(high * ? AS INTEGER), CAST(ce_14_day * ? AS INTEGER), not_ready, 0 FROM org_summary",
                    (this_week - back, f, f, f))
    con.commit()
    con.execute("ANALYZE")
    total = con.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
    nhosts = con.execute("SELECT COUNT(*) FROM assets").fetchone()[0]
    con.close()
    return total, nhosts


def admin_cookie(db_path):
    """A fully signed-in session for the site admin (inserted directly: the
    benchmark measures pages, not the MFA sign-in)."""
    secret = "bench-session-" + os.urandom(16).hex()
    con = sqlite3.connect(db_path)
    with con:
        uid = con.execute("SELECT id FROM users WHERE role = 'site_admin' ORDER BY id LIMIT 1").fetchone()[0]
        now = int(time.time())
        con.execute("INSERT INTO sessions (user_id, token_hash, created_at, expires_at, stage) VALUES (?, ?, ?, ?, 'full')",
                    (uid, sha256_hex(secret), now, now + 12 * 3600))
    con.close()
    return f"portcullis_session={secret}"


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def measure(port, cookie, path, n, threads=1):
    lat, sizes = [], []
    lock = threading.Lock()

    def worker(count):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        out = []
        for _ in range(count):
            t0 = time.perf_counter()
            st, data = request(c, "GET", path, headers={"cookie": cookie})
            out.append(time.perf_counter() - t0)
            if st != 200:
                raise SystemExit(f"GET {path}: {st} {data[:300]}")
            sizes.append(len(data))
        with lock:
            lat.extend(out)

    worker(min(10, n))  # warm-up, not counted
    lat.clear()
    ts = [threading.Thread(target=worker, args=(n // threads,)) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    return {"path": path, "threads": threads, "n": len(lat), "p50_ms": pct(lat, 50) * 1000,
            "p99_ms": pct(lat, 99) * 1000, "max_ms": max(lat) * 1000, "req_per_s": len(lat) / wall,
            "bytes": sizes[-1] if sizes else 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="target/release/portcullis")
    ap.add_argument("--orgs", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=50_000)
    ap.add_argument("--findings", type=int, default=5_000_000)
    ap.add_argument("--api-hosts", type=int, default=200, help="hosts seeded through the ingest API")
    ap.add_argument("--api-threads", type=int, default=4)
    ap.add_argument("--requests", type=int, default=300, help="requests per measured page")
    ap.add_argument("--keep", help="keep the data directory here (reused if it is already seeded)")
    ap.add_argument("--json", help="write the figures to this file")
    a = ap.parse_args()
    data_dir = a.keep or tempfile.mkdtemp(prefix="portcullis-bench-")
    os.makedirs(data_dir, exist_ok=True)
    db = os.path.join(data_dir, "portcullis-server.db")
    password = "bench-" + os.urandom(12).hex()
    figures = {"orgs": a.orgs, "hosts": a.hosts, "findings_target": a.findings}
    srv = Server(a.binary, data_dir, password)
    seeded = os.path.exists(db) and a.keep
    if not seeded:
        srv.start()  # creates the schema and the site admin
        srv.stop()
        org_ids = seed_orgs(db, a.orgs)
        per_host = max(1, a.findings // a.hosts)
        srv.start()
        print(f"seeding {a.api_hosts} hosts through the API ({per_host} findings each)...", file=sys.stderr)
        figures["api_ingest"] = api = seed_api(srv.port, org_ids, a.api_hosts, per_host, a.api_threads)
        srv.stop()
        figures["api_ingest"]["server_peak_rss_mb"] = srv.peak_rss_kb / 1024
        print(f"  {api['submissions_per_s']:.1f} submissions/s, {api['findings_per_s']:.0f} findings/s", file=sys.stderr)
        print("seeding the rest in bulk...", file=sys.stderr)
        t0 = time.perf_counter()
        total, nhosts = seed_bulk(db, org_ids, a.hosts, a.findings, a.api_hosts, a.api_hosts * per_host)
        figures["bulk_seed_s"] = time.perf_counter() - t0
        figures["findings"], figures["assets"] = total, nhosts
        print(f"  {nhosts} hosts, {total} findings in {figures['bulk_seed_s']:.0f} s", file=sys.stderr)
    figures["db_bytes"] = os.path.getsize(db)
    cookie = admin_cookie(db)
    srv.start()
    try:
        results = []
        org = sqlite3.connect(db).execute("SELECT org_id FROM org_summary ORDER BY vulns DESC LIMIT 1").fetchone()[0]
        for path, threads in (("/", 1), ("/", 4), ("/?sort=ce14&dir=desc&sector=nhs_trust", 1),
                              (f"/orgs/{org}", 1), ("/search?q=pkg-0042", 1), ("/search?q=CVE-2026-00042", 1),
                              ("/search?q=198.51.100.7", 1)):
            m = measure(srv.port, cookie, path, a.requests if path == "/" else max(50, a.requests // 3), threads)
            results.append(m)
            print(f"  GET {path} x{m['n']} ({threads} thread(s)): p50 {m['p50_ms']:.1f} ms, p99 {m['p99_ms']:.1f} ms, "
                  f"max {m['max_ms']:.1f} ms, {m['req_per_s']:.0f} req/s, {m['bytes']} bytes", file=sys.stderr)
        figures["pages"] = results
    finally:
        srv.stop()
    figures["server_peak_rss_mb"] = srv.peak_rss_kb / 1024
    print(f"server peak RSS while serving pages: {figures['server_peak_rss_mb']:.0f} MB", file=sys.stderr)
    print(json.dumps(figures, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=2)
    if not a.keep:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
