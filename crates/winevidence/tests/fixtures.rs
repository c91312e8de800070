//! End-to-end tests over the fixture evidence (see tests/fixtures/README.md).

use portcullis_model::{CheckResult, CheckStatus};
use portcullis_winevidence::{
    assess_at, days_from_civil, load, load_bytes, WindowsEvidence, CHECKS,
};
use std::io::Write;
use std::path::Path;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn today() -> i64 {
    days_from_civil(2026, 11, 22)
}

fn results(ev: &WindowsEvidence) -> Vec<CheckResult> {
    assess_at(ev, today())
}

fn get<'a>(rs: &'a [CheckResult], id: &str) -> &'a CheckResult {
    rs.iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no result {id}"))
}

fn statuses(rs: &[CheckResult]) -> Vec<(&str, CheckStatus)> {
    rs.iter().map(|r| (r.id.as_str(), r.status)).collect()
}

use CheckStatus::{Fail, NeedsAttestation as Attest, Pass, Unknown};

#[test]
fn every_check_reports_once_with_requirements() {
    let ev = load(Path::new(FIX).join("compliant.zip")).unwrap();
    let rs = results(&ev);
    assert_eq!(rs.len(), CHECKS.len());
    assert_eq!(rs.len(), 24);
    for (r, d) in rs.iter().zip(CHECKS) {
        assert_eq!(r.id, d.id);
        assert!(!r.requirements.is_empty());
        assert!(
            r.requirements
                .iter()
                .all(|q| q.starts_with('E') && q.len() == 6),
            "{:?}",
            r.requirements
        );
    }
}

#[test]
fn compliant_machine_zip() {
    let ev = load(Path::new(FIX).join("compliant.zip")).unwrap();
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    assert!(ev.unavailable.is_empty(), "{:?}", ev.unavailable);
    assert_eq!(
        ev.manifest.as_ref().and_then(|m| m.host.as_deref()),
        Some("GP-RECEPTION-01")
    );
    let rs = results(&ev);
    assert_eq!(
        statuses(&rs),
        vec![
            ("windows.firewall.enabled", Pass),
            ("windows.firewall.default_inbound_block", Pass),
            ("windows.firewall.inbound_rules", Attest),
            ("windows.firewall.admin_interfaces", Pass),
            ("windows.accounts.guest_disabled", Pass),
            ("windows.accounts.unused", Pass),
            ("windows.accounts.password_required", Pass),
            ("windows.services.listening", Attest),
            ("windows.autorun.disabled", Pass),
            ("windows.logon.no_autologon", Pass),
            ("windows.screen_lock", Pass),
            ("windows.hello.pin_length", Pass),
            ("windows.lockout.threshold", Pass),
            ("windows.password.length", Pass),
            ("windows.password.no_expiry", Pass),
            ("windows.password.no_complexity", Pass),
            ("windows.admins.separate_accounts", Attest),
            ("windows.updates.fixes_within_14_days", Pass),
            ("windows.updates.automatic", Pass),
            ("windows.os.supported", Pass),
            ("windows.software.unsupported", Attest),
            ("windows.malware.active", Pass),
            ("windows.malware.signatures_current", Pass),
            ("windows.malware.web_protection", Pass),
        ]
    );
    assert!(rs.iter().all(|r| r.fix.is_none() && !r.auto_fail));
    // Evidence names the member and line.
    let pw = get(&rs, "windows.password.length");
    assert_eq!(pw.evidence[0].source, "secpol.inf");
    assert_eq!(pw.evidence[0].line, Some(6));
    assert_eq!(pw.evidence[0].detail, "MinimumPasswordLength = 12");
    let lock = get(&rs, "windows.screen_lock");
    assert_eq!(lock.evidence[0].line, Some(36));
    let rules = get(&rs, "windows.firewall.inbound_rules");
    assert_eq!(rules.evidence.len(), 2);
    assert!(rules.evidence[0].detail.contains("CoreNet-DHCP-In"));
    assert!(rules
        .attestation
        .as_deref()
        .unwrap()
        .contains("2 enabled inbound allow rules"));
    let svc = get(&rs, "windows.services.listening");
    // Loopback-only TeamViewer (5939) is not listed; 135 appears once.
    assert_eq!(
        svc.evidence
            .iter()
            .map(|e| e.detail.as_str())
            .collect::<Vec<_>>(),
        vec!["TCP 135: svchost", "TCP 49664: lsass"]
    );
    let upd = get(&rs, "windows.updates.fixes_within_14_days");
    assert!(
        upd.evidence[0].detail.contains("KB5068861"),
        "{}",
        upd.evidence[0].detail
    );
    let os = get(&rs, "windows.os.supported");
    assert!(os.evidence[1]
        .detail
        .contains("Windows 11 24H2: security updates end 2027-10-12"));
}

#[test]
fn compliant_directory_equals_zip() {
    let a = results(&load(Path::new(FIX).join("compliant.zip")).unwrap());
    let b = results(&load(Path::new(FIX).join("compliant")).unwrap());
    assert_eq!(a, b);
}

#[test]
fn failing_machine_directory() {
    let ev = load(Path::new(FIX).join("failing")).unwrap();
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    // The script's own errors are carried through.
    let un: Vec<(&str, &str)> = ev
        .unavailable
        .iter()
        .map(|u| (u.member.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(un, vec![
        ("firewall-profiles.json", "the collection script could not collect it: Access is denied."),
        ("bitlocker.json", "the collection script could not collect it: Get-BitLockerVolume : Access denied (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))"),
    ]);
    let rs = results(&ev);
    assert_eq!(
        statuses(&rs),
        vec![
            ("windows.firewall.enabled", Fail),
            ("windows.firewall.default_inbound_block", Fail),
            ("windows.firewall.inbound_rules", Attest),
            ("windows.firewall.admin_interfaces", Attest),
            ("windows.accounts.guest_disabled", Fail),
            ("windows.accounts.unused", Attest),
            ("windows.accounts.password_required", Fail),
            ("windows.services.listening", Attest),
            ("windows.autorun.disabled", Fail),
            ("windows.logon.no_autologon", Fail),
            ("windows.screen_lock", Attest),
            ("windows.hello.pin_length", Fail),
            ("windows.lockout.threshold", Fail),
            ("windows.password.length", Fail),
            ("windows.password.no_expiry", Fail),
            ("windows.password.no_complexity", Fail),
            ("windows.admins.separate_accounts", Attest),
            ("windows.updates.fixes_within_14_days", Fail),
            ("windows.updates.automatic", Fail),
            ("windows.os.supported", Fail),
            ("windows.software.unsupported", Fail),
            ("windows.malware.active", Fail),
            ("windows.malware.signatures_current", Fail),
            ("windows.malware.web_protection", Fail),
        ]
    );
    // Every fail has evidence and a fix; only the 14-day rule is an auto-fail.
    for r in rs.iter().filter(|r| r.status == Fail) {
        assert!(!r.evidence.is_empty(), "{}", r.id);
        assert!(r.fix.as_deref().is_some_and(|f| f.len() > 40), "{}", r.id);
    }
    let auto: Vec<&str> = rs
        .iter()
        .filter(|r| r.auto_fail)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(auto, vec!["windows.updates.fixes_within_14_days"]);

    // Firewall evidence comes from the UTF-16LE netsh text, with lines.
    let fw = get(&rs, "windows.firewall.enabled");
    assert_eq!(fw.evidence[2].source, "netsh-firewall.txt");
    assert_eq!(fw.evidence[2].line, Some(36));
    assert_eq!(
        fw.evidence[2].detail,
        "Public: State OFF; Firewall Policy BlockInbound,AllowOutbound"
    );
    assert!(fw
        .fix
        .as_deref()
        .unwrap()
        .contains("Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True"));
    assert!(get(&rs, "windows.firewall.default_inbound_block")
        .fix
        .as_deref()
        .unwrap()
        .starts_with("Block unsolicited inbound connections on the Private, Public profile(s)"));

    let admin = get(&rs, "windows.firewall.admin_interfaces");
    assert!(
        admin
            .attestation
            .as_deref()
            .unwrap()
            .starts_with("Remote Desktop and VNC is on"),
        "{:?}",
        admin.attestation
    );

    let lockout = get(&rs, "windows.lockout.threshold");
    assert_eq!(
        (
            lockout.evidence[0].source.as_str(),
            lockout.evidence[0].line
        ),
        ("secpol.inf", Some(9))
    );
    assert_eq!(lockout.evidence[0].detail, "LockoutBadCount = 0");
    assert!(lockout
        .fix
        .as_deref()
        .unwrap()
        .contains("net accounts /lockoutthreshold:10"));

    let pwreq = get(&rs, "windows.accounts.password_required");
    assert_eq!(pwreq.evidence.len(), 2);
    assert_eq!(
        pwreq.evidence[0].detail,
        "backup: Enabled=True, PasswordRequired=False"
    );

    let upd = get(&rs, "windows.updates.fixes_within_14_days");
    assert_eq!(upd.evidence[0].detail, "newest update KB5063709 (Security Update) installed 2026-08-15; the 2026-10-13 monthly security release was due by 2026-10-27");

    let os = get(&rs, "windows.os.supported");
    assert_eq!(
        os.evidence[0].detail,
        "Microsoft Windows 10 Pro 22H2 (build 19045.6216, consumer servicing)"
    );
    assert!(os
        .fix
        .as_deref()
        .unwrap()
        .starts_with("Windows 10 22H2 has had no security updates since 2026-10-13"));

    let sw = get(&rs, "windows.software.unsupported");
    let names: Vec<&str> = sw.evidence.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(names, vec![
        "[0] Adobe Flash Player 32 NPAPI 32.0.0.465: support ended 2020-12-31",
        "[1] Python 2.7.18 (64-bit) 2.7.18150: support ended 2020-01-01",
        "[2] Microsoft Visual C++ 2008 Redistributable - x86 9.0.30729.6161 9.0.30729.6161: support ended 2018-04-10",
        "[3] Node.js 20.19.5: support ended 2026-04-30",
    ]);

    // PowerShell 5.1 shapes: /Date(ms)/ dates, SID objects, a lone object for one group member.
    let sig = get(&rs, "windows.malware.signatures_current");
    assert_eq!(sig.evidence[0].detail, "AntivirusSignatureVersion=1.439.201.0, AntivirusSignatureLastUpdated=2026-11-11, AntivirusSignatureAge=9");
    let admins = get(&rs, "windows.admins.separate_accounts");
    assert_eq!(
        admins.evidence[0].detail,
        r"DESKTOP-7Q2M1KD\practice (User, Local)"
    );
    let unused = get(&rs, "windows.accounts.unused");
    assert_eq!(
        unused
            .evidence
            .iter()
            .map(|e| e.detail.as_str())
            .collect::<Vec<_>>(),
        vec![
            "Administrator (the built-in Administrator): enabled, last logon 2026-06-02",
            "backup: enabled, last logon never",
        ]
    );
}

#[test]
fn os_support_depends_on_the_clock() {
    let ev = load(Path::new(FIX).join("failing")).unwrap();
    // Within the consumer ESU year: attestation, not fail.
    let r = assess_at(&ev, days_from_civil(2026, 3, 1));
    assert_eq!(get(&r, "windows.os.supported").status, Attest);
    // Before the end of servicing: pass.
    let r = assess_at(&ev, days_from_civil(2025, 10, 1));
    assert_eq!(get(&r, "windows.os.supported").status, Pass);
    // Compliant 24H2 Enterprise fails after 2027-10-12.
    let ok = load(Path::new(FIX).join("compliant")).unwrap();
    let r = assess_at(&ok, days_from_civil(2027, 10, 13));
    assert_eq!(get(&r, "windows.os.supported").status, Fail);
}

#[test]
fn ncsc_intune_exports_are_configured_policy() {
    let ev = load(Path::new(FIX).join("ncsc")).unwrap();
    assert_eq!(ev.diagnostics.len(), 8, "{:?}", ev.diagnostics);
    assert!(
        ev.diagnostics[0]
            .path
            .ends_with("fixtures/ncsc/Configurations - NCSC 2025.csv"),
        "{}",
        ev.diagnostics[0].path
    );
    assert!(ev.policy_only());
    let rs = results(&ev);
    let known: Vec<(&str, CheckStatus)> = statuses(&rs)
        .into_iter()
        .filter(|(_, s)| *s != Unknown)
        .collect();
    assert_eq!(
        known,
        vec![
            ("windows.autorun.disabled", Pass),
            ("windows.screen_lock", Pass),
            ("windows.hello.pin_length", Fail),
            ("windows.malware.active", Pass),
            ("windows.malware.signatures_current", Pass),
            ("windows.malware.web_protection", Pass),
        ]
    );
    // Every piece of evidence is marked as configured policy.
    for r in &rs {
        for e in &r.evidence {
            assert!(
                e.source
                    .ends_with("(configured policy, not observed state)"),
                "{}: {}",
                r.id,
                e.source
            );
        }
    }
    let pin = get(&rs, "windows.hello.pin_length");
    assert_eq!(
        pin.evidence[0].source,
        "2025-NCSC-Account-Protections_Settings.json (configured policy, not observed state)"
    );
    assert_eq!(
        pin.evidence[0].detail,
        "windowsidentityprotectionconfiguration_pinminimumlength = 5"
    );
    let lock = get(&rs, "windows.screen_lock");
    assert_eq!(lock.evidence[0].detail, "device_vendor_msft_policy_config_localpoliciessecurityoptions_interactivelogon_machineinactivitylimit_v2 = 900");
    let fw = get(&rs, "windows.firewall.enabled");
    assert!(fw
        .reason
        .as_deref()
        .unwrap()
        .contains("configured policy, not machine state"));
}

#[test]
fn ncsc_single_files_and_csv() {
    let ev = load(Path::new(FIX).join("ncsc/2025-NCSC-General.json")).unwrap();
    assert_eq!(ev.policy.len(), 115);
    let rs = results(&ev);
    assert_eq!(get(&rs, "windows.autorun.disabled").status, Pass);
    let csv = std::fs::read(Path::new(FIX).join("ncsc/Configurations - NCSC 2025.csv")).unwrap();
    let ev = load_bytes("ncsc.csv", &csv).unwrap();
    // 8 rows of the real file have 5 fields (no Path column): warned and skipped.
    assert_eq!(ev.policy.len(), 304);
    assert_eq!(ev.diagnostics.len(), 8);
    assert_eq!(ev.diagnostics[0].line, Some(168));
    assert!(ev.diagnostics[0]
        .message
        .starts_with("5 fields where 6 are expected"));
    let rs = results(&ev);
    let a = get(&rs, "windows.autorun.disabled");
    assert_eq!(a.status, Pass);
    assert_eq!(a.evidence[0].line, Some(216));
    assert_eq!(a.evidence[0].detail, "turn off autoplay on = All drives");
    assert_eq!(get(&rs, "windows.screen_lock").status, Pass);
    assert_eq!(get(&rs, "windows.hello.pin_length").status, Fail);
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn traversal_names_are_refused() {
    let secpol = std::fs::read(Path::new(FIX).join("compliant/secpol.inf")).unwrap();
    let z = zip_of(&[
        ("../secpol.inf", &secpol),
        ("/etc/os.json", b"{}"),
        ("C:/x/defender.json", b"{}"),
        ("evidence/secpol.inf", &secpol),
    ]);
    let ev = load_bytes("e.zip", &z).unwrap();
    let unsafe_d = ev
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("unsafe path"))
        .count();
    assert_eq!(unsafe_d, 3);
    // The member inside one folder is still read.
    assert!(ev.secpol.is_some());
    assert!(ev.os.is_none());
}

#[test]
fn garbled_members_become_unknown() {
    let z = zip_of(&[
        (
            "manifest.json",
            b"{\"schema\": 1, \"collected\": \"2026-11-20T00:00:00Z\", \"items\": []}",
        ),
        ("secpol.inf", b"\xff\xfe"),
        ("defender.json", b"{\"AntivirusEnabled\": tru"),
        (
            "hotfixes.json",
            b"[{\"HotFixID\": \"KB1\", \"InstalledOn\": \"yesterday\"}]",
        ),
        ("os.json", b"\"just a string\""),
    ]);
    let ev = load_bytes("g.zip", &z).unwrap();
    let rs = results(&ev);
    assert_eq!(get(&rs, "windows.password.length").status, Unknown);
    assert_eq!(
        get(&rs, "windows.password.length").reason.as_deref(),
        Some("secpol.inf: secpol.inf holds no settings")
    );
    assert_eq!(get(&rs, "windows.malware.active").status, Unknown);
    assert!(get(&rs, "windows.malware.active")
        .reason
        .as_deref()
        .unwrap()
        .starts_with("defender.json: defender.json is garbled"));
    assert_eq!(
        get(&rs, "windows.updates.fixes_within_14_days")
            .reason
            .as_deref(),
        Some("hotfixes.json lists no update with an installation date")
    );
    assert_eq!(get(&rs, "windows.os.supported").status, Unknown);
    assert!(
        rs.iter()
            .all(|r| r.status == Unknown || r.status == CheckStatus::NeedsAttestation),
        "{:?}",
        statuses(&rs)
    );
    let d: Vec<String> = ev.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        d.iter()
            .any(|m| m.starts_with("g.zip!defender.json: error: defender.json is not valid JSON")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|m| m.starts_with("g.zip!secpol.inf: error: no settings found")),
        "{d:?}"
    );
}

#[test]
fn truncated_and_foreign_inputs() {
    let whole = std::fs::read(Path::new(FIX).join("compliant.zip")).unwrap();
    for cut in [10, 100, whole.len() / 2, whole.len() - 10] {
        // Either not a zip at all, or a zip with diagnostics; never a panic.
        if let Ok(ev) = load_bytes("t.zip", &whole[..cut]) {
            let _ = results(&ev);
        }
    }
    assert!(load_bytes("x.txt", b"hello").is_err());
    assert!(load(Path::new(FIX).join("no-such-file.zip")).is_err());
    let err = load_bytes("x.txt", b"hello").unwrap_err().to_string();
    assert!(
        err.starts_with("x.txt: not a zip archive from collect-evidence.ps1"),
        "{err}"
    );
}

#[test]
fn intune_inside_an_archive_and_state_wins() {
    let general = std::fs::read(Path::new(FIX).join("ncsc/2025-NCSC-General.json")).unwrap();
    let registry = std::fs::read(Path::new(FIX).join("failing/registry.json")).unwrap();
    let z = zip_of(&[
        ("registry.json", &registry),
        ("intune/2025-NCSC-General.json", &general),
        ("intune/../../x.json", b"{}"),
    ]);
    let ev = load_bytes("mixed.zip", &z).unwrap();
    assert_eq!(ev.policy.len(), 115);
    let rs = results(&ev);
    // Observed AutoPlay state (145, NoAutorun unset) beats the configured policy (255, 1).
    let a = get(&rs, "windows.autorun.disabled");
    assert_eq!(a.status, Fail);
    assert_eq!(a.evidence[0].source, "registry.json");
    // No observed inactivity limit: the policy's 900 s is used, marked as policy.
    let l = get(&rs, "windows.screen_lock");
    assert_eq!(l.status, Pass);
    assert_eq!(
        l.evidence[0].source,
        "2025-NCSC-General.json (configured policy, not observed state)"
    );
    assert_eq!(
        ev.diagnostics
            .iter()
            .filter(|d| d.message.contains("unsafe path"))
            .count(),
        1
    );
}

#[test]
fn real_clock_assess_runs() {
    let ev = load(Path::new(FIX).join("compliant.zip")).unwrap();
    let rs = portcullis_winevidence::assess(&ev);
    assert_eq!(rs.len(), CHECKS.len());
}

#[test]
fn bare_convertto_json_shapes_and_edge_values() {
    // PS 5.1 `Get-NetFirewallProfile | ConvertTo-Json` without the script's
    // string conversion: enums as numbers (GpoBoolean 1/0, Action 0/2/4).
    let profiles = br#"[{"Name":"Domain","Enabled":1,"DefaultInboundAction":0},
                        {"Name":"Private","Enabled":1,"DefaultInboundAction":2},
                        {"Name":"Public","Enabled":0,"DefaultInboundAction":4}]"#;
    // secedit output re-saved as UTF-8 with a BOM.
    let secpol = "\u{feff}[System Access]\r\nMinimumPasswordLength = 8\r\nLockoutBadCount = 11\r\nMaximumPasswordAge = 0\r\nPasswordComplexity = 0\r\n";
    // A third-party AV registered with Security Center, Defender passive.
    let sc = br#"{"displayName":"Sophos Anti-Virus","productState":266240}"#;
    let defender = br#"{"AMServiceEnabled":true,"AntivirusEnabled":false,"RealTimeProtectionEnabled":false,"AMRunningMode":"Passive Mode","AntivirusSignatureAge":30}"#;
    // RDP on but allowed only from the local subnet.
    let rules = br#"{"Name":"RemoteDesktop-UserMode-In-TCP","DisplayName":"Remote Desktop - User Mode (TCP-In)","Protocol":"TCP","LocalPort":"3389","RemoteAddress":"LocalSubnet"}"#;
    let listening = br#"[{"LocalAddress":"0.0.0.0","LocalPort":3389,"ProcessName":"svchost"}]"#;
    let z = zip_of(&[
        ("firewall-profiles.json", profiles),
        ("secpol.inf", secpol.as_bytes()),
        ("security-center.json", sc),
        ("defender.json", defender),
        ("firewall-rules.json", rules),
        ("listening.json", listening),
    ]);
    let ev = load_bytes("edge.zip", &z).unwrap();
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    let rs = results(&ev);
    let fw = get(&rs, "windows.firewall.enabled");
    assert_eq!(fw.status, Fail);
    assert!(fw
        .fix
        .as_deref()
        .unwrap()
        .starts_with("Turn the firewall on for the Public profile(s)"));
    assert_eq!(
        fw.evidence[0].detail,
        "Domain: Enabled=1, DefaultInboundAction=NotConfigured (Windows default: Block)"
    );
    let inbound = get(&rs, "windows.firewall.default_inbound_block");
    assert!(inbound
        .fix
        .as_deref()
        .unwrap()
        .starts_with("Block unsolicited inbound connections on the Private, Public profile(s)"));
    assert_eq!(get(&rs, "windows.password.length").status, Attest);
    assert!(get(&rs, "windows.password.length")
        .attestation
        .as_deref()
        .unwrap()
        .starts_with("The minimum password length is 8, below 12."));
    assert_eq!(get(&rs, "windows.lockout.threshold").status, Fail);
    assert_eq!(get(&rs, "windows.password.no_expiry").status, Pass);
    assert_eq!(get(&rs, "windows.password.no_complexity").status, Pass);
    // 266240 = 0x041000: real-time on (bits 12-15 = 1), signatures current (bits 4-7 = 0).
    let av = get(&rs, "windows.malware.active");
    assert_eq!(av.status, Pass);
    assert_eq!(
        av.evidence[0].detail,
        "Sophos Anti-Virus: productState 0x041000 (real-time on)"
    );
    assert_eq!(get(&rs, "windows.malware.signatures_current").status, Pass);
    // RDP listens but the only rule is limited to the local subnet.
    let admin = get(&rs, "windows.firewall.admin_interfaces");
    assert_eq!(admin.status, Pass);
    assert_eq!(
        admin.evidence[0].detail,
        "svchost listening on 0.0.0.0:3389"
    );
    // No registry member: registry-based checks are unknown, naming why.
    assert_eq!(
        get(&rs, "windows.autorun.disabled").reason.as_deref(),
        Some("registry.json: missing from the evidence")
    );
}

#[test]
fn netsh_is_only_a_fallback() {
    let profiles = std::fs::read(Path::new(FIX).join("compliant/firewall-profiles.json")).unwrap();
    let ev = load_bytes("p.zip", &zip_of(&[("firewall-profiles.json", &profiles)])).unwrap();
    assert!(!ev
        .unavailable
        .iter()
        .any(|u| u.member == "netsh-firewall.txt"));
    assert_eq!(ev.unavailable.len(), 13);
    assert_eq!(get(&results(&ev), "windows.firewall.enabled").status, Pass);
}

/// Every member re-encoded: what Windows PowerShell 5.1 writes with
/// `Out-File` or `>` (UTF-16LE with a BOM), `Set-Content -Encoding UTF8`
/// (UTF-8 with a BOM), and `secpol.inf` as UTF-8 (hand-edited). The
/// assessment must not change.
fn reencoded(case: &str, enc: fn(&str) -> Vec<u8>) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(Path::new(FIX).join(case)).unwrap() {
        let p = e.unwrap().path();
        let text = fixture_text(&std::fs::read(&p).unwrap());
        std::fs::write(d.path().join(p.file_name().unwrap()), enc(&text)).unwrap();
    }
    d
}

/// The committed fixtures are UTF-8, or UTF-16LE with a BOM (secpol.inf).
fn fixture_text(b: &[u8]) -> String {
    match b.strip_prefix(&[0xFF, 0xFE]) {
        Some(rest) => {
            let units: Vec<u16> = rest
                .chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]))
                .collect();
            String::from_utf16(&units).unwrap()
        }
        None => String::from_utf8(b.to_vec()).unwrap(),
    }
}

fn utf16le_bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

fn utf16le_no_bom(s: &str) -> Vec<u8> {
    utf16le_bom(s).split_off(2)
}

fn utf8_bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xEF, 0xBB, 0xBF];
    v.extend_from_slice(s.as_bytes());
    v
}

fn utf8(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

#[test]
fn powershell_5_1_encodings_give_the_same_assessment() {
    for case in ["compliant", "failing"] {
        let base = load(Path::new(FIX).join(case)).unwrap();
        let want = results(&base);
        assert!(base.secpol.is_some() && base.hotfixes.is_some(), "{case}");
        for (name, enc) in [
            ("UTF-16LE with BOM", utf16le_bom as fn(&str) -> Vec<u8>),
            ("UTF-16LE without BOM", utf16le_no_bom),
            ("UTF-8 with BOM", utf8_bom),
            ("UTF-8", utf8),
        ] {
            let d = reencoded(case, enc);
            let ev = load(d.path()).unwrap();
            assert!(
                ev.unavailable.is_empty() == base.unavailable.is_empty(),
                "{case} {name}: {:?}",
                ev.unavailable
            );
            assert!(
                !ev.diagnostics.iter().any(|x| x.is_error()),
                "{case} {name}: {:?}",
                ev.diagnostics
            );
            assert_eq!(results(&ev), want, "{case} {name}");
        }
    }
    // The failing machine has no firewall-profiles.json: its firewall state
    // comes from the netsh text, read in UTF-16LE too.
    let d = reencoded("failing", utf16le_bom);
    let rs = results(&load(d.path()).unwrap());
    assert_eq!(get(&rs, "windows.firewall.enabled").status, Fail);
    assert!(get(&rs, "windows.firewall.enabled")
        .evidence
        .iter()
        .any(|e| e.source.starts_with("netsh-firewall.txt")));
    // secedit's own form (UTF-16LE with a BOM) in the committed fixture.
    let raw = std::fs::read(Path::new(FIX).join("compliant/secpol.inf")).unwrap();
    assert_eq!(raw.get(..2), Some(&[0xFF, 0xFE][..]));
}

#[test]
fn the_script_the_docs_and_the_parser_name_the_same_members() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script =
        std::fs::read_to_string(root.join("scripts/windows/collect-evidence.ps1")).unwrap();
    let docs = std::fs::read_to_string(root.join("docs/windows-evidence.md")).unwrap();
    for m in portcullis_winevidence::member::ALL {
        assert!(
            script.contains(&format!("'{m}'")),
            "the script does not write {m}"
        );
        assert!(
            docs.contains(&format!("`{m}`")),
            "docs/windows-evidence.md does not describe {m}"
        );
    }
    // And the script writes no member the parser does not know.
    let mut written: Vec<&str> = script
        .split('\'')
        .filter(|s| {
            (s.ends_with(".json") || s.ends_with(".txt") || s.ends_with(".inf"))
                && !s.contains(['\\', '/', ' ', '$'])
        })
        .collect();
    written.sort_unstable();
    written.dedup();
    for w in written {
        assert!(
            portcullis_winevidence::member::ALL.contains(&w),
            "the script writes {w}, which the parser ignores"
        );
    }
}
