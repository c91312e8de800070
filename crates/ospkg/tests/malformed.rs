//! Truncated, bit-flipped and garbage databases give diagnostics, never panics.

use portcullis_model::Ecosystem;
use portcullis_ospkg::{
    parse_apk_installed, parse_dpkg_status, parse_rpm_header, read_bdb_hash, read_ndb, scan_root,
    DistroContext,
};
use std::fs;
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> Vec<u8> {
    fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel),
    )
    .unwrap()
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn flip(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for _ in 0..1 + rng.below(8) {
        let i = rng.below(b.len());
        b[i] ^= 1 << rng.below(8);
    }
    b
}

/// Packages from NDB bytes, and the number of problems reported.
fn ndb_packages(bytes: &[u8]) -> (usize, usize) {
    let (blobs, errors) = read_ndb(bytes);
    let bad = blobs
        .iter()
        .filter(|b| parse_rpm_header(b).is_err())
        .count();
    (blobs.len() - bad, errors.len() + bad)
}

fn bdb_packages(bytes: &[u8]) -> (usize, usize) {
    let (values, errors) = read_bdb_hash(bytes);
    let bad = values
        .iter()
        .filter(|b| parse_rpm_header(b).is_err())
        .count();
    (values.len() - bad, errors.len() + bad)
}

#[test]
fn truncated_ndb_reports_what_is_missing() {
    let full = fixture("sle15-bci/var/lib/rpm/Packages.db");
    assert_eq!(ndb_packages(&full), (35, 0));
    for cut in [
        0,
        3,
        4,
        15,
        16,
        31,
        32,
        100,
        4095,
        4096,
        4200,
        60_000,
        500_000,
        1_000_000,
        full.len() - 20,
    ] {
        let (n, problems) = ndb_packages(&full[..cut]);
        assert!(n < 35, "cut {cut}");
        assert!(problems > 0, "cut {cut}: {n} packages and no diagnostic");
    }
}

#[test]
fn flipped_ndb_and_headers_do_not_panic() {
    let full = fixture("sle15-bci/var/lib/rpm/Packages.db");
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..300 {
        let b = flip(&full, &mut rng);
        let (n, _) = ndb_packages(&b);
        assert!(n <= 35);
    }
    // Every prefix of a real header blob, and flips inside it.
    let (blobs, _) = read_ndb(&full);
    let blob = blobs[2];
    assert_eq!(parse_rpm_header(blob).unwrap().name, "glibc");
    for cut in (0..blob.len()).step_by(7) {
        let _ = parse_rpm_header(&blob[..cut]);
    }
    for _ in 0..2000 {
        let _ = parse_rpm_header(&flip(blob, &mut rng));
    }
    for len in 0..64 {
        let garbage: Vec<u8> = (0..len * 37).map(|_| rng.next() as u8).collect();
        assert!(parse_rpm_header(&garbage).is_err() || len > 0);
        let _ = read_ndb(&garbage);
        let _ = read_bdb_hash(&garbage);
    }
}

#[test]
fn truncated_and_flipped_bdb() {
    let full = fixture("bdb-libuuid/var/lib/rpm/Packages");
    assert_eq!(bdb_packages(&full), (1, 0));
    for cut in [
        0,
        11,
        16,
        100,
        4096,
        8191,
        8192,
        9000,
        12_288,
        50_000,
        full.len() - 4096,
    ] {
        let (n, problems) = bdb_packages(&full[..cut]);
        assert_eq!(n, 0, "cut {cut}");
        assert!(problems > 0, "cut {cut}: no diagnostic");
    }
    let mut rng = Rng(42);
    for _ in 0..500 {
        let b = flip(&full, &mut rng);
        assert!(bdb_packages(&b).0 <= 1);
    }
    // A loop in the overflow chain: page 3 points back to itself.
    let mut looped = full.clone();
    looped[3 * 4096 + 16..3 * 4096 + 20].copy_from_slice(&3u32.to_le_bytes());
    let (n, problems) = bdb_packages(&looped);
    assert_eq!((n, problems > 0), (0, true));
}

fn root_with(rel: &str, bytes: &[u8]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let p: PathBuf = tmp.path().join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, bytes).unwrap();
    fs::write(tmp.path().join("os-release"), "").unwrap();
    tmp
}

#[test]
fn damaged_sqlite_rpmdb_gives_errors() {
    let full = fixture("mariner2/var/lib/rpm/rpmdb.sqlite");
    let rel = "var/lib/rpm/rpmdb.sqlite";
    for cut in [0usize, 50, 4096, 100_000, 1_000_000, 2_500_000] {
        let root = root_with(rel, &full[..cut]);
        let inv = scan_root(root.path());
        assert!(inv.packages.len() < 129, "cut {cut}");
        assert!(
            inv.diagnostics
                .iter()
                .any(|d| d.is_error() && d.path == rel),
            "cut {cut}: {:?}",
            inv.diagnostics
        );
    }
    let mut rng = Rng(7);
    for _ in 0..12 {
        let root = root_with(rel, &flip(&full, &mut rng));
        let inv = scan_root(root.path());
        assert!(inv.packages.len() <= 129);
    }
    let root = root_with(rel, b"SQLite format 3\0 but not really a database at all");
    let inv = scan_root(root.path());
    assert!(inv.packages.is_empty());
    assert!(inv.diagnostics.iter().any(|d| d.is_error()));
}

#[test]
fn truncated_and_garbage_text_databases() {
    let ctx = DistroContext {
        ecosystem: Ecosystem::Debian,
        suffix: Some("12".into()),
        purl_namespace: "debian".into(),
        purl_distro: Some("debian-12".into()),
    };
    let status = String::from_utf8(fixture("debian12/var/lib/dpkg/status")).unwrap();
    let mut last = 0;
    for cut in [0, 10, 1000, 50_000, 200_000, 400_000, status.len()] {
        let cut = (cut..=status.len())
            .find(|&c| status.is_char_boundary(c))
            .unwrap();
        let (pkgs, _) = parse_dpkg_status("status", &status[..cut], &ctx, true);
        assert!(pkgs.len() >= last);
        last = pkgs.len();
    }
    assert_eq!(last, 740);

    let mut rng = Rng(99);
    let alphabet = b"Package: Status Version\n \t:()#installed\r\nPVAoL";
    for _ in 0..300 {
        let text: String = (0..rng.below(400))
            .map(|_| char::from(alphabet[rng.below(alphabet.len())]))
            .collect();
        let _ = parse_dpkg_status("x", &text, &ctx, rng.below(2) == 0);
        let _ = parse_apk_installed("x", &text, &ctx);
    }

    let garbage = "this is not\na dpkg file\n\nPackage: x\nStatus: install ok installed\n";
    let (pkgs, diags) = parse_dpkg_status("status", garbage, &ctx, true);
    assert!(pkgs.is_empty());
    assert_eq!(diags.len(), 3, "{diags:?}");
    assert_eq!(
        (diags[0].line, diags[1].line, diags[2].line),
        (Some(1), Some(2), Some(4))
    );

    let apk = "P:ok\nV:1.0-r0\n\nnonsense\nP:noversion\n";
    let (pkgs, diags) = parse_apk_installed("installed", apk, &ctx);
    assert_eq!(pkgs.len(), 1);
    assert_eq!(diags.len(), 2);
    assert_eq!(diags[0].line, Some(4));
}
