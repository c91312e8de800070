//! Symbolic links are followed inside the root only, and the other lookup rules.

#![cfg(unix)]

use portcullis_model::Ecosystem;
use portcullis_ospkg::scan_root;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

const UBUNTU: &str =
    "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n";
const STATUS: &str = "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.11.dfsg-2ubuntu9\n\nPackage: old\nStatus: deinstall ok config-files\nVersion: 1.0\n";

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

#[test]
fn relative_os_release_link_resolves_inside_root() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "usr/lib/os-release", UBUNTU);
    fs::create_dir_all(root.join("etc")).unwrap();
    symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
    write(root, "var/lib/dpkg/status", STATUS);
    let inv = scan_root(root);
    assert_eq!(inv.os.as_ref().unwrap().id, "ubuntu");
    assert!(inv.diagnostics.is_empty(), "{:?}", inv.diagnostics);
    assert_eq!(
        inv.packages.len(),
        1,
        "config-files only packages are not installed"
    );
    let p = &inv.packages[0];
    assert_eq!(
        (p.ecosystem.clone(), p.distro.as_deref()),
        (Ecosystem::Ubuntu, Some("22.04:LTS"))
    );
    assert_eq!(p.osv_ecosystem(), "Ubuntu:22.04:LTS");
    assert_eq!(
        p.purl.to_string(),
        "pkg:deb/ubuntu/zlib1g@1%3A1.2.11.dfsg-2ubuntu9?arch=amd64&distro=ubuntu-22.04&upstream=zlib"
    );
}

#[test]
fn absolute_link_is_taken_relative_to_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "usr/lib/os-release", UBUNTU);
    fs::create_dir_all(root.join("etc")).unwrap();
    symlink("/usr/lib/os-release", root.join("etc/os-release")).unwrap();
    // A directory link on the way, absolute too: var/lib/dpkg -> /data/dpkg.
    write(root, "data/dpkg/status", STATUS);
    fs::create_dir_all(root.join("var/lib")).unwrap();
    symlink("/data/dpkg", root.join("var/lib/dpkg")).unwrap();
    let inv = scan_root(root);
    assert_eq!(
        inv.os.as_ref().unwrap().version_id.as_deref(),
        Some("22.04")
    );
    assert_eq!(inv.packages.len(), 1);
    assert_eq!(inv.packages[0].location.path, "var/lib/dpkg/status");
}

#[test]
fn links_out_of_the_root_are_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "os-release", "ID=outside\nVERSION_ID=1\n");
    write(outside.path(), "status", STATUS);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::create_dir_all(root.join("usr/lib")).unwrap();
    fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();

    // Relative: climbs above the root. Refused with a warning.
    let depth = root.components().count() + 2;
    let up = "../".repeat(depth);
    let rel_target = format!("{up}{}", outside.path().join("os-release").display());
    symlink(&rel_target, root.join("etc/os-release")).unwrap();
    // Absolute: names a host file, but is resolved inside the root (absent there).
    symlink(
        outside.path().join("os-release"),
        root.join("usr/lib/os-release"),
    )
    .unwrap();
    symlink(
        outside.path().join("status"),
        root.join("var/lib/dpkg/status"),
    )
    .unwrap();

    let inv = scan_root(root);
    assert!(
        inv.os.is_none(),
        "read a file outside the root: {:?}",
        inv.os
    );
    assert!(inv.packages.is_empty(), "read a database outside the root");
    let climbed: Vec<_> = inv
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("above the root"))
        .collect();
    assert_eq!(climbed.len(), 1, "{:?}", inv.diagnostics);
    assert_eq!(climbed[0].path, "etc/os-release");

    // The same file copied inside the root at the absolute target's path is read.
    let inside = root.join(outside.path().strip_prefix("/").unwrap());
    write(&inside, "os-release", "ID=debian\nVERSION_ID=11\n");
    let inv = scan_root(root);
    assert_eq!(inv.os.as_ref().map(|o| o.id.as_str()), Some("debian"));
}

#[test]
fn link_loops_end_with_a_diagnostic() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("etc")).unwrap();
    symlink("os-release2", root.join("etc/os-release")).unwrap();
    symlink("os-release", root.join("etc/os-release2")).unwrap();
    let inv = scan_root(root);
    assert!(inv.os.is_none());
    assert!(
        inv.diagnostics
            .iter()
            .any(|d| d.message.contains("too many levels")),
        "{:?}",
        inv.diagnostics
    );
}

#[test]
fn falls_back_to_usr_lib_os_release_and_reads_status_d() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
    // distroless: one file per package, no Status field, md5sums beside.
    write(
        root,
        "var/lib/dpkg/status.d/base-files",
        "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
    );
    write(
        root,
        "var/lib/dpkg/status.d/base-files.md5sums",
        "0123 etc/debian_version\n",
    );
    write(
        root,
        "var/lib/dpkg/status.d/libssl3",
        "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nSource: openssl\nArchitecture: amd64\n",
    );
    let inv = scan_root(root);
    assert!(inv.diagnostics.is_empty(), "{:?}", inv.diagnostics);
    assert_eq!(
        inv.sources,
        vec![
            "var/lib/dpkg/status.d/base-files",
            "var/lib/dpkg/status.d/libssl3"
        ]
    );
    let names: Vec<_> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.source_name.as_deref()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("base-files", Some("base-files")),
            ("libssl3", Some("openssl"))
        ]
    );
    assert!(inv
        .packages
        .iter()
        .all(|p| p.osv_ecosystem() == "Debian:12"));
}

#[test]
fn debian_sid_and_derivatives_warn_without_suffix() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        root,
        "etc/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nID=debian\nVERSION_CODENAME=trixie\n",
    );
    write(root, "var/lib/dpkg/status", STATUS);
    let inv = scan_root(root);
    assert_eq!(inv.packages[0].distro, None);
    assert_eq!(
        inv.packages[0]
            .purl
            .qualifiers
            .get("distro")
            .map(String::as_str),
        Some("debian-trixie")
    );
    assert_eq!(inv.diagnostics.len(), 1);
    assert!(inv.diagnostics[0].message.contains("testing/unstable"));

    write(
        root,
        "etc/os-release",
        "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"21.2\"\n",
    );
    let inv = scan_root(root);
    let p = &inv.packages[0];
    assert_eq!(
        (p.ecosystem.clone(), p.distro.clone()),
        (Ecosystem::Ubuntu, None)
    );
    assert_eq!(p.purl.namespace.as_deref(), Some("linuxmint"));
    assert!(inv.diagnostics[0].message.contains("derivative"));
}

#[test]
fn database_of_another_format_keeps_its_own_ecosystem() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "etc/os-release", "ID=alpine\nVERSION_ID=3.18.4\n");
    write(root, "var/lib/dpkg/status", STATUS);
    write(
        root,
        "lib/apk/db/installed",
        "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n",
    );
    let inv = scan_root(root);
    let deb = inv.packages.iter().find(|p| p.name == "zlib1g").unwrap();
    assert_eq!(
        (deb.ecosystem.clone(), deb.distro.clone()),
        (Ecosystem::Debian, None)
    );
    assert_eq!(deb.purl.namespace.as_deref(), Some("debian"));
    let apk = inv.packages.iter().find(|p| p.name == "musl").unwrap();
    assert_eq!(apk.osv_ecosystem(), "Alpine:v3.18");
    assert_eq!(inv.diagnostics.len(), 1, "{:?}", inv.diagnostics);
    assert!(inv.diagnostics[0]
        .message
        .contains("dpkg packages found on Alpine"));
}

#[test]
fn special_files_are_not_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("var/lib/dpkg/status")).unwrap(); // a directory
    fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    // A FIFO would block a reader forever; `mkfifo` is in every Unix base system.
    let fifo = root.join("lib/apk/db/installed");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let inv = scan_root(root);
    assert!(inv.packages.is_empty());
    assert!(inv
        .diagnostics
        .iter()
        .any(|d| d.path == "var/lib/dpkg/status" && d.message.contains("not a regular file")));
    if made {
        assert!(inv
            .diagnostics
            .iter()
            .any(|d| d.path == "lib/apk/db/installed" && d.message.contains("not a regular file")));
    }
}
