#!/usr/bin/env bash
# Seed the fuzz corpora from the repository's real test fixtures, so that
# the fuzzers start from valid inputs and mutate into the deep paths.
# Usage: fuzz/seed.sh   (then: RUSTC_BOOTSTRAP=1 cargo fuzz run -s none TARGET)
set -euo pipefail
cd "$(dirname "$0")"
C=corpus
mkdir -p $C/lockfile $C/sbom $C/osv_record $C/ospkg $C/vex
F=../crates
# lockfile: first byte selects the format (index into FORMATS in fuzz_targets/lockfile.rs).
seed_lock() { local idx=$1; shift; for f in "$@"; do [ -f "$f" ] || continue; [ "$(stat -c %s "$f")" -lt 200000 ] || continue; { printf "\\x$(printf %02x "$idx")"; cat "$f"; } > "$C/lockfile/$idx-$(basename "$(dirname "$f")")-$(basename "$f")"; done; }
seed_lock 0 $(find $F/lockfile/tests/fixtures -name Cargo.lock)
seed_lock 1 $(find $F/lockfile/tests/fixtures -name 'package-lock*.json')
seed_lock 2 $(find $F/lockfile/tests/fixtures -name 'yarn*.lock')
seed_lock 3 $(find $F/lockfile/tests/fixtures -name 'pnpm*.yaml')
seed_lock 4 $(find $F/lockfile/tests/fixtures -name '*.txt' -path '*requirements*')
seed_lock 5 $(find $F/lockfile/tests/fixtures -name '*poetry.lock')
seed_lock 6 $(find $F/lockfile/tests/fixtures -name '*Pipfile.lock')
seed_lock 7 $(find $F/lockfile/tests/fixtures -name 'uv.lock')
seed_lock 8 $(find $F/lockfile/tests/fixtures -name 'go.mod')
seed_lock 9 $(find $F/lockfile/tests/fixtures -name 'go.sum')
seed_lock 10 $(find $F/lockfile/tests/fixtures -name 'pom.xml')
seed_lock 11 $(find $F/lockfile/tests/fixtures -name 'gradle.lockfile')
seed_lock 12 $(find $F/lockfile/tests/fixtures -name 'Gemfile.lock')
seed_lock 13 $(find $F/lockfile/tests/fixtures -name 'composer.lock')
seed_lock 14 $(find $F/lockfile/tests/fixtures -name 'packages.lock.json')
find $F/sbom/tests/fixtures -name '*.json' -size -200k -exec cp {} $C/sbom/ \;
cp $F/vulndb/tests/fixtures/osv/*.json $C/osv_record/
find $F/vex/tests/fixtures -type f -size -100k -exec cp {} $C/vex/ \;
{ printf '\x00'; head -c 60000 $F/ospkg/tests/fixtures/debian12/var/lib/dpkg/status; } > $C/ospkg/dpkg
for f in $(find $F/ospkg/tests/fixtures -path '*apk/db/installed'); do { printf '\x01'; cat "$f"; } > "$C/ospkg/apk-$(echo "$f" | md5sum | cut -c1-8)"; done
for f in $(find $F/ospkg/tests/fixtures -name os-release); do { printf '\x02'; cat "$f"; } > "$C/ospkg/os-$(echo "$f" | md5sum | cut -c1-8)"; done
for f in $(find $F/ospkg/tests/fixtures -name Packages -size -200k); do { printf '\x05'; cat "$f"; } > "$C/ospkg/bdb-$(echo "$f" | md5sum | cut -c1-8)"; done
echo "seeded: $(find $C -type f | wc -l) files"
