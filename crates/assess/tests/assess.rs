//! Root-directory fixtures (real Debian 12 and hardened configuration
//! files, see fixtures/README.md): one per pass and fail path of each check.

use portcullis_assess::{assess, report, CheckStatus, Host, Options, Verdict, VulnScan};
use std::path::{Path, PathBuf};

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &t).unwrap();
        } else if ft.is_dir() {
            copy_tree(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// A fresh copy of a fixture (file times are now).
fn copy(case: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_tree(&fixture(case), d.path());
    d
}

fn now() -> i64 {
    portcullis_assess::now()
}

fn run(root: &Path) -> portcullis_assess::Assessment {
    let host = Host::open_with(root, false);
    assess(
        &host,
        &Options {
            now: now(),
            vulns: VulnScan::Findings(Vec::new()),
        },
    )
}

fn status(a: &portcullis_assess::Assessment, id: &str) -> CheckStatus {
    a.check(id)
        .unwrap_or_else(|| panic!("no check {id}"))
        .status
}

#[test]
fn debian12_defaults() {
    let a = run(&fixture("debian12-defaults"));
    // ufw is configured to drop but ENABLED=no.
    let fw = a.check("linux.firewall.default_deny").unwrap();
    assert_eq!(fw.status, CheckStatus::Fail);
    assert!(
        fw.fix
            .as_deref()
            .unwrap()
            .contains("ufw default deny incoming && ufw enable"),
        "{:?}",
        fw.fix
    );
    assert!(fw
        .evidence
        .iter()
        .any(|e| e.source == "/etc/ufw/ufw.conf" && e.line == Some(6)));
    // OpenSSH default: prohibit-password; password sign-in on by default.
    assert_eq!(status(&a, "linux.ssh.permit_root_login"), CheckStatus::Pass);
    assert_eq!(
        status(&a, "linux.ssh.permit_empty_passwords"),
        CheckStatus::Pass
    );
    let ssh = a.check("linux.ssh.strong_authentication").unwrap();
    assert_eq!(ssh.status, CheckStatus::Fail);
    assert!(ssh
        .evidence
        .iter()
        .any(|e| e.detail.contains("passwordauthentication not set")));
    assert!(
        ssh.evidence
            .iter()
            .any(|e| e.source == "/etc/ssh/sshd_config"
                && e.line == Some(62)
                && e.detail == "kbdinteractiveauthentication no"),
        "{:?}",
        ssh.evidence
    );
    // No lockout, pam_unix only, no expiry, no complexity.
    assert_eq!(status(&a, "linux.auth.lockout"), CheckStatus::Fail);
    let pq = a.check("linux.password.quality").unwrap();
    assert_eq!(pq.status, CheckStatus::Fail);
    assert_eq!(pq.evidence[0].source, "/etc/pam.d/common-password");
    let exp = a.check("linux.password.no_expiry").unwrap();
    assert_eq!(exp.status, CheckStatus::Pass);
    assert!(exp
        .evidence
        .iter()
        .any(|e| e.detail.contains("CE-compliant, CIS deviation") && e.line == Some(165)));
    assert_eq!(
        status(&a, "linux.password.no_complexity"),
        CheckStatus::Pass
    );
    // Accounts: alice can sign in (a person: attest), nothing else.
    let acc = a.check("linux.accounts.unneeded").unwrap();
    assert_eq!(acc.status, CheckStatus::NeedsAttestation);
    assert_eq!(acc.evidence.len(), 1);
    assert!(acc.evidence[0]
        .detail
        .starts_with("alice (UID 1000) can sign in"));
    assert_eq!(status(&a, "linux.users.uid0"), CheckStatus::Pass);
    assert_eq!(status(&a, "linux.users.empty_passwords"), CheckStatus::Pass);
    assert_eq!(status(&a, "linux.sudo.nopasswd"), CheckStatus::Pass);
    let adm = a.check("linux.users.admin_accounts").unwrap();
    assert_eq!(adm.status, CheckStatus::NeedsAttestation);
    assert!(adm
        .evidence
        .iter()
        .any(|e| e.detail == "alice is in the sudo group (can act as root)" && e.line == Some(2)));
    // Updates: no unattended-upgrades, no lists.
    assert_eq!(status(&a, "linux.updates.automatic"), CheckStatus::Fail);
    assert_eq!(
        status(&a, "linux.updates.pending_security"),
        CheckStatus::Unknown
    );
    assert_eq!(status(&a, "linux.os.supported"), CheckStatus::Pass);
    assert_eq!(status(&a, "linux.malware.protection"), CheckStatus::Fail);
    // Not live: sockets need attestation.
    assert_eq!(
        status(&a, "linux.firewall.exposed_services"),
        CheckStatus::NeedsAttestation
    );
    assert_eq!(status(&a, "linux.desktop.screen_lock"), CheckStatus::Pass);
    assert_eq!(status(&a, "linux.desktop.autorun"), CheckStatus::Pass);
    assert_eq!(a.verdict, Verdict::NotReady);
    assert_eq!(a.exit_code(), 1);
    assert!(a.unreadable.is_empty(), "{:?}", a.unreadable);
}

#[test]
fn hardened_passes() {
    let d = copy("hardened");
    let a = run(d.path());
    let fw = a.check("linux.firewall.default_deny").unwrap();
    assert_eq!(fw.status, CheckStatus::Pass, "{fw:?}");
    assert!(fw
        .evidence
        .iter()
        .any(|e| e.source == "/etc/nftables.conf" && e.line == Some(31)));
    assert_eq!(status(&a, "linux.ssh.permit_root_login"), CheckStatus::Pass);
    assert_eq!(
        status(&a, "linux.ssh.strong_authentication"),
        CheckStatus::Pass
    );
    let lock = a.check("linux.auth.lockout").unwrap();
    assert_eq!(lock.status, CheckStatus::Pass, "{lock:?}");
    assert!(lock.evidence[0].detail.contains("lock after 5 failures"));
    let pq = a.check("linux.password.quality").unwrap();
    assert_eq!(pq.status, CheckStatus::Pass, "{pq:?}");
    assert!(pq
        .evidence
        .iter()
        .any(|e| e.detail == "pam_pwquality.so: minimum length 12"));
    let au = a.check("linux.updates.automatic").unwrap();
    assert_eq!(au.status, CheckStatus::Pass, "{au:?}");
    let mw = a.check("linux.malware.protection").unwrap();
    assert_eq!(mw.status, CheckStatus::Pass, "{mw:?}");
    assert!(mw
        .evidence
        .iter()
        .any(|e| e.source == "/var/lib/clamav/daily.cld" && e.detail.contains("0 days old")));
}

#[test]
fn stale_clamav_signatures_fail() {
    let d = copy("hardened");
    let f = std::fs::File::options()
        .write(true)
        .open(d.path().join("var/lib/clamav/daily.cld"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 86_400))
        .unwrap();
    let a = run(d.path());
    let mw = a.check("linux.malware.protection").unwrap();
    assert_eq!(mw.status, CheckStatus::Fail);
    assert!(
        mw.evidence
            .iter()
            .any(|e| e.detail.contains("signatures are 30 days old")),
        "{:?}",
        mw.evidence
    );
}

#[test]
fn nftables_not_enabled_fails() {
    let d = copy("hardened");
    std::fs::remove_file(
        d.path()
            .join("etc/systemd/system/sysinit.target.wants/nftables.service"),
    )
    .unwrap();
    let a = run(d.path());
    let fw = a.check("linux.firewall.default_deny").unwrap();
    assert_eq!(fw.status, CheckStatus::Fail);
    assert!(fw
        .fix
        .as_deref()
        .unwrap()
        .contains("systemctl enable --now nftables"));
}

#[test]
fn cis_tuned_fails_ce() {
    let a = run(&fixture("cis-tuned"));
    let exp = a.check("linux.password.no_expiry").unwrap();
    assert_eq!(exp.status, CheckStatus::Fail);
    assert!(exp
        .evidence
        .iter()
        .any(|e| e.detail == "PASS_MAX_DAYS 365" && e.line == Some(165)));
    assert!(exp
        .evidence
        .iter()
        .any(|e| e.detail == "alice: password expires every 90 days"));
    let cx = a.check("linux.password.no_complexity").unwrap();
    assert_eq!(cx.status, CheckStatus::Fail);
    let details: Vec<&str> = cx.evidence.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(
        details,
        [
            "dcredit = -1: a complexity rule",
            "minclass = 4: a complexity rule"
        ]
    );
    // 14 characters is stricter than CE: no conflict, passes.
    let pq = a.check("linux.password.quality").unwrap();
    assert_eq!(pq.status, CheckStatus::Pass);
}

#[test]
fn bad_accounts_fail() {
    let a = run(&fixture("bad-accounts"));
    let u = a.check("linux.users.uid0").unwrap();
    assert_eq!(u.status, CheckStatus::Fail);
    assert_eq!(u.evidence.len(), 1);
    assert_eq!(
        (u.evidence[0].source.as_str(), u.evidence[0].line),
        ("/etc/passwd", Some(6))
    );
    let e = a.check("linux.users.empty_passwords").unwrap();
    assert_eq!(e.status, CheckStatus::Fail);
    assert!(e.evidence[0].detail.starts_with("guest: empty password"));
    let s = a.check("linux.sudo.nopasswd").unwrap();
    assert_eq!(s.status, CheckStatus::Fail);
    assert_eq!(
        (s.evidence[0].source.as_str(), s.evidence[0].line),
        ("/etc/sudoers.d/90-deploy", Some(2))
    );
    let acc = a.check("linux.accounts.unneeded").unwrap();
    assert_eq!(acc.status, CheckStatus::Fail);
    let d: Vec<&str> = acc.evidence.iter().map(|e| e.detail.as_str()).collect();
    assert!(
        d.iter()
            .any(|x| x.starts_with("backup2 (UID 998): a system account")),
        "{d:?}"
    );
    // sshd_config.d is included before the main file: its values win.
    let r = a.check("linux.ssh.permit_root_login").unwrap();
    assert_eq!(r.status, CheckStatus::Fail);
    assert_eq!(
        (r.evidence[0].source.as_str(), r.evidence[0].line),
        ("/etc/ssh/sshd_config.d/10-legacy.conf", Some(2))
    );
    assert_eq!(
        status(&a, "linux.ssh.permit_empty_passwords"),
        CheckStatus::Fail
    );
    let ins = a.check("linux.packages.insecure_services").unwrap();
    assert_eq!(ins.status, CheckStatus::Fail);
    assert_eq!(ins.evidence.len(), 1);
    assert!(ins.evidence[0]
        .source
        .starts_with("pkg:deb/debian/telnetd@"));
    let rev = a.check("linux.packages.review_services").unwrap();
    assert_eq!(rev.status, CheckStatus::NeedsAttestation);
    assert_eq!(rev.evidence.len(), 2);
    let ftp = a.check("linux.ftp.anonymous").unwrap();
    assert_eq!(ftp.status, CheckStatus::Fail);
    assert_eq!(ftp.evidence[0].line, Some(3));
    let fw = a.check("linux.firewall.default_deny").unwrap();
    assert_eq!(fw.status, CheckStatus::Fail);
    assert!(fw
        .evidence
        .iter()
        .any(|e| e.source == "/etc/iptables/rules.v4" && e.detail == "INPUT accepts by default"));
}

#[test]
fn ufw_enabled_passes() {
    let a = run(&fixture("ufw-enabled"));
    let fw = a.check("linux.firewall.default_deny").unwrap();
    assert_eq!(fw.status, CheckStatus::Pass, "{fw:?}");
    assert!(fw
        .evidence
        .iter()
        .any(|e| e.detail == "ufw is enabled with inbound default-deny"));
}

#[test]
fn firewalld_public_zone_passes() {
    let a = run(&fixture("firewalld"));
    let fw = a.check("linux.firewall.default_deny").unwrap();
    assert_eq!(fw.status, CheckStatus::Pass, "{fw:?}");
    assert!(
        fw.evidence.iter().any(|e| e
            .detail
            .starts_with("allowed inbound: <service name=\"ssh\"")),
        "{:?}",
        fw.evidence
    );
}

#[test]
fn firewalld_trusted_zone_fails() {
    let d = copy("firewalld");
    let conf = d.path().join("etc/firewalld/firewalld.conf");
    let t = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("DefaultZone=public", "DefaultZone=trusted");
    std::fs::write(&conf, t).unwrap();
    let a = run(d.path());
    let fw = a.check("linux.firewall.default_deny").unwrap();
    assert_eq!(fw.status, CheckStatus::Fail);
    assert!(fw
        .evidence
        .iter()
        .any(|e| e.detail == "zone trusted: target ACCEPT"));
}

#[test]
fn desktop_autologin_and_lock() {
    let a = run(&fixture("desktop"));
    let al = a.check("linux.login.autologin").unwrap();
    assert_eq!(al.status, CheckStatus::Fail);
    assert_eq!(
        (al.evidence[0].source.as_str(), al.evidence[0].line),
        ("/etc/gdm3/daemon.conf", Some(4))
    );
    let sl = a.check("linux.desktop.screen_lock").unwrap();
    assert_eq!(sl.status, CheckStatus::Fail);
    assert_eq!(sl.evidence.len(), 3);
    assert_eq!(status(&a, "linux.desktop.autorun"), CheckStatus::Fail);
}

#[test]
fn desktop_fixed_passes() {
    let d = copy("desktop");
    std::fs::write(
        d.path().join("etc/gdm3/daemon.conf"),
        "[daemon]\nAutomaticLoginEnable = false\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("etc/dconf/db/local.d/00-screensaver"),
        "[org/gnome/desktop/screensaver]\nlock-enabled=true\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("etc/dconf/db/local.d/00-media-handling"),
        "[org/gnome/desktop/media-handling]\nautorun-never=true\n",
    )
    .unwrap();
    let a = run(d.path());
    assert_eq!(status(&a, "linux.login.autologin"), CheckStatus::Pass);
    assert_eq!(status(&a, "linux.desktop.screen_lock"), CheckStatus::Pass);
    assert_eq!(status(&a, "linux.desktop.autorun"), CheckStatus::Pass);
}

#[test]
fn pending_security_updates_old_lists_auto_fail() {
    let a = run(&fixture("apt-pending"));
    let p = a.check("linux.updates.pending_security").unwrap();
    assert_eq!(p.status, CheckStatus::Fail, "{p:?}");
    assert!(p.auto_fail);
    let pk: Vec<&str> = p
        .evidence
        .iter()
        .filter(|e| e.source.starts_with("pkg:"))
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(pk, ["openssh-server 1:9.2p1-2+deb12u3 installed; 1:9.2p1-2+deb12u7 available from the security suite"]);
    assert!(p
        .fix
        .as_deref()
        .unwrap()
        .ends_with("apt-get install --only-upgrade openssh-server"));
    assert_eq!(
        a.fix_first.first().map(String::as_str),
        Some("linux.updates.pending_security")
    );
    assert_eq!(a.auto_fail_count, 1);
}

#[test]
fn pending_security_updates_fresh_lists_attest() {
    let d = copy("apt-pending");
    let inr = d
        .path()
        .join("var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_InRelease");
    let date = jiff::Timestamp::now()
        .strftime("%a, %d %b %Y %H:%M:%S UTC")
        .to_string();
    std::fs::write(&inr, format!("Origin: Debian\nDate: {date}\n")).unwrap();
    let a = run(d.path());
    let p = a.check("linux.updates.pending_security").unwrap();
    assert_eq!(p.status, CheckStatus::NeedsAttestation, "{p:?}");
    assert!(p.evidence[0].detail.contains("are 0 days old"));
}

#[test]
fn no_security_suite_fails() {
    let d = copy("apt-pending");
    for f in std::fs::read_dir(d.path().join("var/lib/apt/lists")).unwrap() {
        let f = f.unwrap();
        if f.file_name().to_string_lossy().contains("-security") {
            std::fs::remove_file(f.path()).unwrap();
        }
    }
    let a = run(d.path());
    let p = a.check("linux.updates.pending_security").unwrap();
    assert_eq!(p.status, CheckStatus::Fail);
    assert!(p.fix.as_deref().unwrap().contains("bookworm-security"));
}

#[test]
fn end_of_life_os_fails() {
    let d = copy("debian12-defaults");
    std::fs::write(d.path().join("etc/os-release"), "PRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\nID=debian\nVERSION_ID=\"10\"\nVERSION_CODENAME=buster\n").unwrap();
    let a = run(d.path());
    let c = a.check("linux.os.supported").unwrap();
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(c
        .evidence
        .iter()
        .any(|e| e.detail == "Debian 10 (buster): security support ended on 2024-06-30"));
    assert!(c
        .evidence
        .iter()
        .any(|e| e.detail.starts_with("source: wiki.debian.org/LTS")));
    std::fs::write(
        d.path().join("etc/os-release"),
        "ID=plan9\nVERSION_ID=\"4\"\n",
    )
    .unwrap();
    assert_eq!(
        status(&run(d.path()), "linux.os.supported"),
        CheckStatus::Unknown
    );
}

#[test]
fn vulnerable_packages_14_day_rule() {
    let root = fixture("debian12-defaults");
    let host = Host::open_with(&root, false);
    let pkg = host.package("openssh-server").unwrap().clone();
    let f = portcullis_assess::Finding {
        package: pkg,
        id: "DSA-0000-1".into(),
        aliases: vec![],
        sources: vec!["DSA-0000-1".into()],
        summary: "test".into(),
        severity: portcullis_model::Severity::High,
        cvss_score: Some(8.1),
        cvss_vector: None,
        fix: portcullis_model::Fix {
            upgrade_to: Some("1:9.2p1-2+deb12u5".into()),
            fixed_versions: vec![],
        },
        published: Some("2026-07-01T00:00:00Z".into()),
        modified: None,
        ce_14_day: true,
        references: vec![],
        suppressed: None,
    };
    let a = assess(
        &host,
        &Options {
            now: now(),
            vulns: VulnScan::Findings(vec![f]),
        },
    );
    let c = a.check("linux.updates.vulnerable_packages").unwrap();
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(c.auto_fail);
    assert_eq!(c.evidence[0].detail, "openssh-server 1:9.2p1-2+deb12u3: DSA-0000-1 (high), fixed in 1:9.2p1-2+deb12u5, published 2026-07-01");
    assert!(c
        .fix
        .as_deref()
        .unwrap()
        .contains("apt-get install --only-upgrade openssh-server"));
    let b = assess(
        &host,
        &Options {
            now: now(),
            vulns: VulnScan::Unavailable("no database".into()),
        },
    );
    assert_eq!(
        b.check("linux.updates.vulnerable_packages").unwrap().status,
        CheckStatus::Unknown
    );
}

#[test]
fn unreadable_files_are_unknown_never_pass() {
    let d = copy("debian12-defaults");
    // A directory where /etc/shadow should be; a dangling sshd_config link.
    std::fs::remove_file(d.path().join("etc/shadow")).unwrap();
    std::fs::create_dir(d.path().join("etc/shadow")).unwrap();
    std::fs::remove_file(d.path().join("etc/ssh/sshd_config")).unwrap();
    std::os::unix::fs::symlink("sshd_config.real", d.path().join("etc/ssh/sshd_config")).unwrap();
    let a = run(d.path());
    let e = a.check("linux.users.empty_passwords").unwrap();
    assert_eq!(e.status, CheckStatus::Unknown);
    assert!(e
        .reason
        .as_deref()
        .unwrap()
        .contains("a directory where a file was expected"));
    assert_eq!(status(&a, "linux.accounts.unneeded"), CheckStatus::Unknown);
    for id in [
        "linux.ssh.permit_root_login",
        "linux.ssh.permit_empty_passwords",
        "linux.ssh.strong_authentication",
    ] {
        let c = a.check(id).unwrap();
        assert_eq!(c.status, CheckStatus::Unknown, "{id}");
        assert!(
            c.reason.as_deref().unwrap().contains("dangling"),
            "{id}: {:?}",
            c.reason
        );
    }
    let paths: Vec<&str> = a.unreadable.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(paths, ["/etc/shadow", "/etc/ssh/sshd_config"]);
}

#[test]
fn symlinks_never_leave_the_root() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(
        outer.path().join("secret"),
        "root:x:0:0::/:/bin/sh\ntoor:x:0:0::/:/bin/sh\n",
    )
    .unwrap();
    let root = outer.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    // Relative climb and absolute target: both stay inside the root.
    std::os::unix::fs::symlink("../../secret", root.join("etc/passwd")).unwrap();
    std::os::unix::fs::symlink(outer.path().join("secret"), root.join("etc/group")).unwrap();
    let host = Host::open_with(&root, false);
    // The outside file is never read: inside the root the links dangle.
    let dangling = portcullis_assess::FileRead::Unreadable("a dangling symbolic link".into());
    assert_eq!(host.read("etc/passwd"), dangling);
    assert_eq!(host.read("etc/group"), dangling);
    assert_eq!(host.resolve("etc/passwd").unwrap(), root.join("secret"));
    // A loop is unreadable, not a hang.
    std::os::unix::fs::symlink("loop", root.join("etc/loop")).unwrap();
    assert!(matches!(
        host.read("etc/loop"),
        portcullis_assess::FileRead::Unreadable(_)
    ));
}

#[test]
fn empty_root_does_not_pass() {
    let d = tempfile::tempdir().unwrap();
    let a = run(d.path());
    assert_eq!(a.verdict, Verdict::NotReady);
    assert_eq!(status(&a, "linux.users.uid0"), CheckStatus::Unknown);
    assert_eq!(status(&a, "linux.os.supported"), CheckStatus::Unknown);
    assert!(a
        .checks
        .iter()
        .all(|c| c.status != CheckStatus::Pass || !c.evidence.is_empty()));
}

#[test]
fn garbage_files_do_not_panic() {
    let d = copy("debian12-defaults");
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for f in [
        "etc/passwd",
        "etc/shadow",
        "etc/group",
        "etc/ssh/sshd_config",
        "etc/login.defs",
        "etc/sudoers",
        "etc/pam.d/common-auth",
        "etc/default/ufw",
        "etc/ufw/ufw.conf",
        "var/lib/dpkg/status",
        "etc/os-release",
    ] {
        std::fs::write(d.path().join(f), &junk).unwrap();
    }
    std::fs::write(
        d.path().join("etc/nftables.conf"),
        "table inet f {\n chain input { type filter hook input priority 0; }}}}}\n{{{",
    )
    .unwrap();
    let a = run(d.path());
    assert_eq!(a.checks.len(), 27);
    // Truncated passwd lines are skipped, not misread.
    std::fs::write(
        d.path().join("etc/passwd"),
        "root:x:0\nroot:x:0:0:root:/root:/bin/bash\nbad:x:notanumber:0::/:/bin/sh\n",
    )
    .unwrap();
    assert_eq!(
        status(&run(d.path()), "linux.users.uid0"),
        CheckStatus::Pass
    );
}

#[test]
fn rule_files_are_valid() {
    assert_eq!(portcullis_assess::validate_rules().unwrap(), 5);
}

#[test]
fn every_check_has_requirement_ids_and_fix_on_fail() {
    for case in [
        "debian12-defaults",
        "bad-accounts",
        "desktop",
        "cis-tuned",
        "apt-pending",
    ] {
        let a = run(&fixture(case));
        for c in &a.checks {
            assert!(
                !c.requirements.is_empty()
                    && c.requirements
                        .iter()
                        .all(|r| r.starts_with('E') && r.len() == 6),
                "{}",
                c.id
            );
            match c.status {
                CheckStatus::Fail => {
                    assert!(c.fix.as_deref().is_some_and(|f| f.len() > 20), "{}", c.id)
                }
                CheckStatus::NeedsAttestation => assert!(c.attestation.is_some(), "{}", c.id),
                CheckStatus::Unknown => assert!(c.reason.is_some(), "{}", c.id),
                CheckStatus::Pass => {}
            }
        }
    }
}

#[test]
fn reports_render() {
    let a = run(&fixture("bad-accounts"));
    let j: serde_json::Value = serde_json::from_str(&report::json(&a)).unwrap();
    assert_eq!(j["schema"], "portcullis.assess/v1");
    assert_eq!(j["verdict"], "not_ready");
    assert_eq!(j["checks"].as_array().unwrap().len(), a.checks.len());
    assert_eq!(j["scores"][0]["control"], "firewalls");
    let h = report::html(&a);
    assert!(h.starts_with("<!DOCTYPE html>"));
    assert!(!h.contains("<script") && !h.contains("http://") && !h.contains("src="));
    assert!(h.contains("@media print"));
    // Evidence with markup is escaped.
    assert!(
        h.contains("&lt;")
            || !a
                .checks
                .iter()
                .any(|c| c.evidence.iter().any(|e| e.detail.contains('<')))
    );
    assert!(
        report::html(&run(&fixture("firewalld"))).contains("&lt;service name=&quot;ssh&quot;/&gt;")
    );
    let t = report::table(&a, report::TableOptions::default());
    assert!(t.contains("NOT READY for Cyber Essentials"));
    assert!(!t.contains('\x1b'));
}

#[test]
fn this_machine_end_to_end() {
    let host = Host::open(Path::new("/"));
    let a = assess(
        &host,
        &Options {
            now: now(),
            vulns: VulnScan::Unavailable("not matched in this test".into()),
        },
    );
    assert!(a.live);
    assert_eq!(a.checks.len(), 27);
    for c in &a.checks {
        assert!(!c.title.is_empty());
        if c.status == CheckStatus::Unknown {
            assert!(c.reason.is_some(), "{}", c.id);
        }
    }
    assert_eq!(a.scores.len(), 5);
}

#[test]
fn html_escapes_hostile_values() {
    // Evidence and fixes from a hostile file name or line stay text.
    let d = copy("bad-accounts");
    std::fs::write(
        d.path().join("etc/sudoers.d/91-x"),
        "<script>alert(1)</script> ALL=(ALL) NOPASSWD: ALL `rm` \"q\" 'a' &\n",
    )
    .unwrap();
    let h = report::html(&run(d.path()));
    assert!(!h.contains("<script>"));
    assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt; ALL=(ALL) NOPASSWD: ALL `rm` &quot;q&quot; &#39;a&#39; &amp;"));
    assert!(h.contains("<code>PermitRootLogin no</code>"));
}

#[test]
fn real_lz4_security_list() {
    // InRelease dated 2026-11-21: fresh on the session date, stale later.
    let d = copy("apt-lz4");
    let a = run(d.path());
    let p = a.check("linux.updates.pending_security").unwrap();
    let pk: Vec<&str> = p
        .evidence
        .iter()
        .filter(|e| e.source.starts_with("pkg:"))
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(
        pk,
        [
            "openssh-server 1:9.2p1-2+deb12u3 installed; 1:9.2p1-2+deb12u9 available from the security suite",
            "sudo 1.9.13p3-1+deb12u1 installed; 1.9.13p3-1+deb12u2 available from the security suite"
        ]
    );
    let date: jiff::Timestamp = "2026-11-21T00:53:02Z".parse().unwrap();
    let fresh = (now() - date.as_second()) / 86_400 <= 14;
    if fresh {
        assert_eq!(p.status, CheckStatus::NeedsAttestation);
    } else {
        assert_eq!(p.status, CheckStatus::Fail);
    }
    // Rewrite the Date: an old list makes the same pending updates an automatic fail.
    let inr = d
        .path()
        .join("var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_InRelease");
    let t = std::fs::read_to_string(&inr).unwrap().replace(
        "Date: Sat, 21 Nov 2026 00:53:02 UTC",
        "Date: Thu, 01 Oct 2026 00:00:00 UTC",
    );
    std::fs::write(&inr, t).unwrap();
    let a = run(d.path());
    let p = a.check("linux.updates.pending_security").unwrap();
    assert_eq!(p.status, CheckStatus::Fail);
    assert!(p.auto_fail);
    assert!(p
        .fix
        .as_deref()
        .unwrap()
        .ends_with("apt-get install --only-upgrade openssh-server sudo"));
}
