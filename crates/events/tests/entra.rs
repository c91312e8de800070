//! Entra ID sign-ins in the three export shapes.

use portcullis_events::{detect_path, read_path, Event, Format, LogKind, ReadOptions, Value};
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn read(p: &str) -> Vec<Event> {
    assert_eq!(
        detect_path(&fixture(p)).unwrap(),
        Some(Format::EntraJson),
        "{p}"
    );
    let mut out = Vec::new();
    let d = read_path(
        &fixture(p),
        Format::EntraJson,
        &ReadOptions::default(),
        &mut |e| out.push(e),
    );
    assert!(d.is_empty(), "{p}: {d:?}");
    out
}

fn text(e: &Event, k: &str) -> String {
    e.get(k)
        .map(|v| v.to_text().into_owned())
        .unwrap_or_else(|| panic!("no {k} in {:?}", e.fields))
}

#[test]
fn documented_azure_monitor_example() {
    let ev = read("entra/entra-docs_azure-monitor-signin-example.json");
    assert_eq!(ev.len(), 1);
    let e = &ev[0];
    assert_eq!(e.kind, LogKind::EntraSignIn);
    assert_eq!(e.get("ResultType"), Some(&Value::Str("50140".into())));
    assert_eq!(text(e, "AppDisplayName"), "Azure Portal");
    assert_eq!(text(e, "UserPrincipalName"), "<USER PRINCIPAL NAME>");
    assert_eq!(text(e, "IPAddress"), "<IP ADDRESS>");
    assert_eq!(text(e, "ClientAppUsed"), "Browser");
    assert_eq!(text(e, "ConditionalAccessStatus"), "notApplied");
    assert_eq!(text(e, "DeviceDetail.operatingSystem"), "Windows 10");
    assert_eq!(text(e, "LocationDetails.city"), "Bellevue");
    assert_eq!(text(e, "Location"), "US");
    assert!(
        text(e, "ResultDescription").starts_with("This error occurred due to 'Keep me signed in'")
    );
    // time: 2019-03-12T16:02:15.5522137Z
    assert_eq!(e.time, Some(1_552_406_535_552_213));
}

/// The same two failures (50126 interactive, 50053 non-interactive) in
/// each shape give the same normalised fields.
#[test]
fn three_shapes_agree() {
    let graph = read("entra/graph-signin-page.json");
    let monitor = read("entra/azure-monitor-failures.json");
    let la = read("entra/signinlogs-loganalytics.jsonl");
    // Minified pages, one a line, with @odata.nextLink.
    let pages = read("entra/graph-signin-pages.jsonl");
    assert_eq!(pages[0].origin.line, Some(1));
    assert_eq!(pages[1].origin.line, Some(2));
    for set in [&graph, &monitor, &la, &pages] {
        assert_eq!(set.len(), 2);
        let (a, b) = (&set[0], &set[1]);
        assert_eq!(a.get("ResultType"), Some(&Value::Str("50126".into())));
        assert_eq!(b.get("ResultType"), Some(&Value::Str("50053".into())));
        assert_eq!(text(a, "UserPrincipalName"), "AlexW@contoso.example");
        assert_eq!(text(b, "UserPrincipalName"), "MeganB@contoso.example");
        assert_eq!(text(a, "IPAddress"), "203.0.113.50");
        assert_eq!(
            text(a, "AppDisplayName"),
            "Azure Active Directory PowerShell"
        );
        assert_eq!(text(a, "UserAgent"), "python-requests/2.31.0");
        assert_eq!(text(a, "ClientAppUsed"), "Mobile Apps and Desktop clients");
        assert_eq!(text(a, "ConditionalAccessStatus"), "notApplied");
        assert_eq!(text(b, "RiskState"), "atRisk");
        assert_eq!(text(a, "IsInteractive"), "true");
        assert_eq!(text(b, "IsInteractive"), "false");
        assert_eq!(text(a, "DeviceDetail.operatingSystem"), "Linux");
        assert_eq!(text(b, "DeviceDetail.isCompliant"), "false");
        assert_eq!(text(a, "Location"), "NL");
        assert_eq!(a.time, Some(1_793_607_301_000_000));
        assert_eq!(b.time, Some(1_793_607_309_000_000));
        assert!(text(a, "ResultDescription").starts_with("Error validating credentials"));
    }
    assert_eq!(la[0].origin.line, Some(1));
    assert_eq!(
        text(&monitor[0], "AuthenticationRequirement"),
        "singleFactorAuthentication"
    );
    assert_eq!(
        text(&la[0], "AuthenticationRequirement"),
        "singleFactorAuthentication"
    );
}

#[test]
fn non_signin_objects_are_reported() {
    let data = b"{\"ResultType\":\"0\",\"UserPrincipalName\":\"a@b\"}\n{\"foo\":1}\n[1,2]\n";
    let mut out = Vec::new();
    let d = portcullis_events::read_bytes(
        "x.jsonl",
        data,
        Format::EntraJson,
        &ReadOptions::default(),
        &mut |e| out.push(e),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(d[0].line, Some(2));
}
