#!/usr/bin/env python3
"""Build crates/vulndb/data/osv-snapshot.jsonl.gz, the OSV snapshot built into portcullis.

Usage: python3 scripts/make-snapshot.py [SHARED_DATA_DIR]
(default: ../shared/data/vuln/osv relative to the repository root).

One record a line, re-encoded as compact JSON (content unchanged), gzip-compressed
as one stream so that the redundancy between records compresses away.
Sources and licences are listed in crates/vulndb/data/README.md.
"""
import gzip, io, json, os, sys, zipfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "data", "vuln", "osv")
out = os.path.join(root, "crates", "vulndb", "data", "osv-snapshot.jsonl.gz")

LOOSE = ["crates.io", "PyPI", "GHSA-sample", "GHSA-maven-zeppelin", "Packagist-drupal", "PSF"]
ZIPPED = ["Go"]
EXTRA = [("osv.dev-testdata", ["DSA-3029-1.json", "UBUNTU-CVE-2025-38094.json"])]

count = 0
with gzip.GzipFile(out, "wb", compresslevel=9, mtime=0) as z:
    def add(name, data):
        global count
        z.write(json.dumps(json.loads(data), separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
        count += 1
    for d in LOOSE:
        base = os.path.join(src, d)
        for dirpath, _, files in sorted(os.walk(base)):
            for f in sorted(files):
                if f.endswith(".json"):
                    with open(os.path.join(dirpath, f), "rb") as fh:
                        add(f"{d}/{f}", fh.read())
    for d in ZIPPED:
        with zipfile.ZipFile(os.path.join(src, d, "all.zip")) as zin:
            for n in sorted(zin.namelist()):
                if n.endswith(".json"):
                    add(f"{d}/{os.path.basename(n)}", zin.read(n))
    for d, files in EXTRA:
        for f in files:
            with open(os.path.join(src, d, f), "rb") as fh:
                add(f"{d}/{f}", fh.read())
print(f"{out}: {count} records, {os.path.getsize(out)} bytes")
