//! `portcullis serve` in a real headless Chromium: each test starts the real
//! binary on a fresh SQLite database and drives its pages like a person
//! (types into fields, clicks buttons with the mouse, follows redirects) and
//! checks what is on screen.
//!
//! Needs Chromium (`scripts/browser-deps` installs it from the distribution's
//! packages). Without one, each test prints a skip note and passes, unless
//! `PORTCULLIS_BROWSER_TESTS=1` (CI), when it fails. With
//! `PORTCULLIS_SCREENSHOTS=1` the tests also write the screenshots in
//! `docs/screenshots/`.

mod browser {
    pub mod cdp;
    pub mod harness;
    pub mod totp;
}

use browser::harness::{self, screenshot, sign_in, sign_out, Mfa, Server, PASSWORD};
use portcullis_server::{Role, Sector};
use serde_json::Value;

fn now() -> i64 {
    i64::try_from(browser::totp::now()).unwrap_or(i64::MAX)
}

/// The bootstrapped site admin signs in, must set up TOTP (reading the
/// secret from the page), signs out, and signs in again with password and
/// code, landing on the overview.
#[test]
fn sign_in_with_mfa() {
    let Some(mut b) = harness::browser_or_skip("sign_in_with_mfa") else {
        return;
    };
    let server = Server::start();

    // A page that needs a session sends a visitor to sign in first.
    b.goto(&server.url("/")).expect("open /");
    assert!(
        b.path().unwrap().starts_with("/login"),
        "{}",
        b.url().unwrap()
    );
    assert_eq!(b.h1().unwrap(), "Sign in");

    // A wrong password is refused on the page.
    b.fill("email", harness::ADMIN_EMAIL).unwrap();
    b.fill("password", "not the password at all").unwrap();
    b.click_button("Sign in").unwrap();
    assert_eq!(b.h1().unwrap(), "Sign in");
    assert!(b
        .text()
        .unwrap()
        .contains("Wrong e-mail address or password"));

    // The right one: a site admin must set up two-factor authentication.
    b.fill("email", harness::ADMIN_EMAIL).unwrap();
    b.fill("password", harness::ADMIN_PASSWORD).unwrap();
    b.click_button("Sign in").unwrap();
    assert!(
        b.path().unwrap().starts_with("/mfa/setup"),
        "{}",
        b.url().unwrap()
    );
    let text = b.text().unwrap();
    assert!(text.contains("must sign in with a second factor"), "{text}");
    // Until it is set up, other pages are out of reach.
    b.goto(&server.url("/admin")).unwrap();
    assert!(
        !b.path().unwrap().starts_with("/admin"),
        "reached /admin without MFA"
    );
    b.goto(&server.url("/mfa/setup")).unwrap();
    screenshot(&mut b, "sign-in-mfa-setup");
    harness::assert_accessible(&mut b);

    // A wrong code is refused and MFA stays off.
    b.fill("code", "000000").unwrap();
    b.click_button("Turn on two-factor authentication").unwrap();
    assert_eq!(b.h1().unwrap(), "Set up two-factor authentication");
    assert!(!alert(&mut b).is_empty(), "no error shown for a wrong code");

    let mut mfa = Mfa::default();
    harness::set_up_mfa(&mut b, &mut mfa);
    assert_eq!(b.path().unwrap(), "/", "{}", b.url().unwrap());
    let text = b.text().unwrap();
    assert!(text.contains(harness::ADMIN_EMAIL), "{text}");

    sign_out(&mut b);
    // Signed out: the overview asks for sign-in again.
    b.goto(&server.url("/")).unwrap();
    assert_eq!(b.h1().unwrap(), "Sign in");

    // Password alone is not enough now: the code page comes next, and a
    // wrong code is refused.
    b.fill("email", harness::ADMIN_EMAIL).unwrap();
    b.fill("password", harness::ADMIN_PASSWORD).unwrap();
    b.click_button("Sign in").unwrap();
    assert_eq!(b.h1().unwrap(), "Enter your code");
    b.goto(&server.url("/")).unwrap();
    assert!(
        b.path().unwrap().starts_with("/login"),
        "the overview opened before the code: {}",
        b.url().unwrap()
    );
    if b.h1().unwrap() != "Enter your code" {
        // Sent back to the start: sign in with the password again.
        b.fill("email", harness::ADMIN_EMAIL).unwrap();
        b.fill("password", harness::ADMIN_PASSWORD).unwrap();
        b.click_button("Sign in").unwrap();
    }
    screenshot(&mut b, "sign-in-code");
    harness::assert_accessible(&mut b);
    b.fill("code", "123456").unwrap();
    b.click_button("Continue").unwrap();
    assert_eq!(b.h1().unwrap(), "Enter your code");
    let refused = alert(&mut b);
    assert!(refused.contains("wrong"), "{refused:?}");

    let code = mfa.next_code();
    b.fill("code", &code).unwrap();
    b.click_button("Continue").unwrap();
    assert_eq!(b.path().unwrap(), "/", "{}", b.url().unwrap());
    assert_eq!(b.h1().unwrap(), "Overview");
    assert!(b.text().unwrap().contains(harness::ADMIN_EMAIL));

    // The site admin reaches the admin pages now.
    b.click_link("Admin").unwrap();
    assert!(b.path().unwrap().starts_with("/admin"));

    // Without the authenticator: a recovery code signs in, once.
    sign_out(&mut b);
    assert!(
        mfa.recovery.len() >= 5,
        "recovery codes: {:?}",
        mfa.recovery
    );
    b.fill("email", harness::ADMIN_EMAIL).unwrap();
    b.fill("password", harness::ADMIN_PASSWORD).unwrap();
    b.click_button("Sign in").unwrap();
    assert_eq!(b.h1().unwrap(), "Enter your code");
    b.fill("code", &mfa.recovery[0]).unwrap();
    b.click_button("Continue").unwrap();
    assert_eq!(b.h1().unwrap(), "Overview", "{}", b.text().unwrap());
}

/// The text of the page's alert (an error message), or "".
fn alert(b: &mut browser::cdp::Browser) -> String {
    b.eval("(document.querySelector('[role=alert]') || {innerText: ''}).innerText")
        .unwrap()
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// The rows of the first table that has a column headed `header`: each
/// row's cells' text, and for each cell the class and computed background
/// colour of the badge in it (if any).
fn table_rows(b: &mut browser::cdp::Browser, header: &str) -> Vec<Vec<(String, String, String)>> {
    let v = b
        .eval(&format!(
            "(() => {{
               const t = Array.from(document.querySelectorAll('table')).find(t =>
                 Array.from(t.querySelectorAll('thead th')).some(th => th.innerText.trim() === {}));
               if (!t) return null;
               return Array.from(t.querySelectorAll('tbody tr')).map(tr =>
                 Array.from(tr.children).map(c => {{
                   const badge = c.querySelector('.badge');
                   return [c.innerText.trim(), badge ? badge.className : '',
                           badge ? getComputedStyle(badge).backgroundColor : ''];
                 }}));
             }})()",
            browser::cdp::js(header)
        ))
        .expect("read table");
    let Value::Array(rows) = v else {
        panic!(
            "no table with a column {header:?} on {}:\n{}",
            b.url().unwrap_or_default(),
            b.text().unwrap_or_default()
        );
    };
    rows.iter()
        .map(|r| {
            r.as_array()
                .map(|cells| {
                    cells
                        .iter()
                        .map(|c| {
                            let s = |i: usize| c[i].as_str().unwrap_or("").to_owned();
                            (s(0), s(1), s(2))
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

/// `rgb(r, g, b)` → (r, g, b).
fn rgb(css: &str) -> (u32, u32, u32) {
    let n: Vec<u32> = css
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .filter_map(|x| x.trim().parse::<f64>().ok())
        .map(|f| f as u32)
        .collect();
    match n.as_slice() {
        [r, g, b, ..] => (*r, *g, *b),
        _ => panic!("not a colour: {css:?}"),
    }
}

/// Whether a computed colour reads as the rating's colour.
fn looks_like(level: &str, css: &str) -> bool {
    let (r, g, b) = rgb(css);
    match level {
        "red" => r > g + 60 && r > b + 60,
        "green" => g > r + 20 && g > b,
        "amber" => r > b + 60 && g > b + 20,
        _ => false,
    }
}

/// The JSON reports of the real CLI that the hosts submit: an assessment
/// with failing checks, one of a hardened host (nothing fails, some checks
/// wait for a person's attestation), and a scan with vulnerable packages.
struct Reports {
    failing: Value,
    hardened: Value,
    scan: Value,
    detections: Value,
}

fn reports() -> Reports {
    let root = harness::cli_dir();
    let assess = |case: &str| root.join("../assess/tests/fixtures").join(case);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("osv.db");
    let scan = harness::cli_json(
        &[
            "scan",
            "--format",
            "json",
            &root.join("tests/fixtures/project").to_string_lossy(),
        ],
        &db,
    );
    let failing = harness::cli_json(
        &[
            "assess",
            "--no-vulns",
            "--format",
            "json",
            "--root",
            &assess("debian12-defaults").to_string_lossy(),
        ],
        &db,
    );
    let hardened = harness::cli_json(
        &[
            "assess",
            "--no-vulns",
            "--format",
            "json",
            "--root",
            &assess("hardened").to_string_lossy(),
        ],
        &db,
    );
    let fails = |v: &Value| {
        v["checks"]
            .as_array()
            .map_or(0, |c| c.iter().filter(|c| c["status"] == "fail").count())
    };
    assert!(fails(&failing) > 0);
    assert_eq!(fails(&hardened), 0);
    assert!(scan["summary"]["ce_14_day"].as_u64().unwrap_or(0) > 0);
    // `portcullis hunt --format jsonl`: one detection a line, as an agent
    // following the log would submit them.
    let lines = harness::cli_output(
        &[
            "hunt",
            "--format",
            "jsonl",
            &root
                .join("../hunt/tests/fixtures/elastic-auth.log")
                .to_string_lossy(),
        ],
        &db,
    );
    let detections: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(!detections.is_empty());
    Reports {
        failing,
        hardened,
        scan,
        detections: serde_json::json!({ "detections": detections }),
    }
}

/// The cyber unit's overview: organisations seeded through the real API
/// with real `portcullis assess`/`scan` reports; each row's rating and its
/// colour; filter by sector; sort by name; an organisation's page (why it
/// is red, hosts, failing controls, vulnerable packages); search by CVE.
#[test]
fn overview_organisation_and_search() {
    let Some(mut b) = harness::browser_or_skip("overview_organisation_and_search") else {
        return;
    };
    // The CLI's reports (the first scan builds its vulnerability database).
    let reports = std::thread::spawn(reports);
    let mut server = Server::start();
    let trust = server.create_org("Northshire NHS Trust", Sector::NhsTrust, 4200);
    let gp = server.create_org("Riverside GP Practice", Sector::GpPractice, 30);
    server.create_org("Eastborough Council", Sector::LocalAuthority, 1500);
    let ward = server.enrol_host(trust, "ward-pc-01");
    let bastion = server.enrol_host(trust, "bastion-01");
    let reception = server.enrol_host(gp, "reception-01");
    let reports = reports.join().expect("CLI reports");
    server.submit(&ward, "assessment", "ward-assess-1", &reports.failing);
    server.submit(&ward, "scan", "ward-scan-1", &reports.scan);
    server.submit(
        &bastion,
        "detections",
        "bastion-hunt-1",
        &reports.detections,
    );
    server.submit(
        &reception,
        "assessment",
        "reception-assess-1",
        &reports.hardened,
    );
    // An incident the trust became aware of 30 hours ago and has not
    // notified: its 24-hour notification is overdue.
    {
        let store = server.store();
        let all = portcullis_server::Tenant::for_role(portcullis_server::OrgId(0), Role::SiteAdmin);
        let new = portcullis_server::store::incidents::NewIncident {
            title: "Phishing led to a compromised mailbox".into(),
            description: String::new(),
            severity: Some(portcullis_server::store::incidents::Severity::High),
            affected_service: "E-mail".into(),
            aware_at: Some(now() - 30 * 3600),
            detected_at: None,
            occurred_at: None,
        };
        server
            .block_on(store.create_incident(&all, trust, "user:it-lead@northshire.example", &new))
            .expect("incident");
    }

    let mut mfa = Mfa::default();
    sign_in(
        &mut b,
        &server.base,
        harness::ADMIN_EMAIL,
        harness::ADMIN_PASSWORD,
        &mut mfa,
    );
    assert_eq!(b.path().unwrap(), "/");
    assert_eq!(b.h1().unwrap(), "Overview");
    let rows = table_rows(&mut b, "Organisation");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.first().is_some_and(|c| c.0 == name))
            .unwrap_or_else(|| panic!("no row for {name} in {rows:?}"))
            .clone()
    };
    // Columns: Organisation, Sector, Rating, Cyber Essentials, Critical,
    // 14-day rule, Detections 24 h, Open incidents, Overdue, Hosts, Last seen.
    let t = row("Northshire NHS Trust");
    assert_eq!(t[1].0, "NHS trust");
    assert_eq!(t[2].0, "red", "{t:?}");
    assert!(looks_like("red", &t[2].2), "red badge is {}", t[2].2);
    assert!(t[5].0.parse::<u32>().unwrap_or(0) > 0, "14-day rule: {t:?}");
    assert_eq!(t[7].0, "1", "open incidents: {t:?}");
    assert_eq!(t[8].0, "1", "overdue reports: {t:?}");
    assert_eq!(t[9].0, "2", "hosts: {t:?}");
    // Nothing fails on the practice's host, but it is not ready until a
    // person attests the rest: amber.
    let g = row("Riverside GP Practice");
    assert_eq!(g[1].0, "GP practice");
    assert_eq!(g[2].0, "amber", "{g:?}");
    assert!(looks_like("amber", &g[2].2), "amber badge is {}", g[2].2);
    assert_eq!(g[9].0, "1");
    let c = row("Eastborough Council");
    assert_eq!(c[2].0, "amber", "never assessed: {c:?}");
    assert!(c[10].0.contains("never"), "{c:?}");
    // The summary counts each colour, in its colour.
    let summary: Value = b
        .eval(
            "Array.from(document.querySelectorAll('p .badge')).map(e =>
               [e.innerText.trim(), getComputedStyle(e).backgroundColor])",
        )
        .unwrap();
    let summary: Vec<(String, String)> = serde_json::from_value(summary).unwrap();
    for (text, level) in [("1 red", "red"), ("3 amber", "amber"), ("0 green", "green")] {
        let (_, colour) = summary
            .iter()
            .find(|(t, _)| t == text)
            .unwrap_or_else(|| panic!("no {text:?} in {summary:?}"));
        assert!(looks_like(level, colour), "{text} is {colour}");
    }
    // Sorted by rating by default: red first.
    assert_eq!(rows[0][0].0, "Northshire NHS Trust");
    screenshot(&mut b, "overview");
    harness::assert_accessible(&mut b);

    // Filter by sector.
    b.fill("sector", "GP practice").unwrap();
    b.click_button("Filter").unwrap();
    assert!(b.url().unwrap().contains("sector=gp_practice"));
    let only: Vec<String> = table_rows(&mut b, "Organisation")
        .iter()
        .map(|r| r[0].0.clone())
        .collect();
    assert_eq!(only, ["Riverside GP Practice"]);
    b.fill("sector", "All sectors").unwrap();
    b.click_button("Filter").unwrap();

    // Sort by name, both ways, with the column heading.
    b.click_link("Organisation").unwrap();
    let names: Vec<String> = table_rows(&mut b, "Organisation")
        .iter()
        .map(|r| r[0].0.clone())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted, "ascending by name");
    assert_eq!(names.len(), 4, "{names:?}");
    b.click_link("Organisation").unwrap();
    let desc: Vec<String> = table_rows(&mut b, "Organisation")
        .iter()
        .map(|r| r[0].0.clone())
        .collect();
    sorted.reverse();
    assert_eq!(desc, sorted, "descending by name");

    // The organisation's page explains its colour.
    b.click_link("Northshire NHS Trust").unwrap();
    assert!(b.path().unwrap().starts_with("/orgs/"));
    assert!(b.h1().unwrap().starts_with("Northshire NHS Trust"));
    let text = b.text().unwrap();
    assert!(text.contains("Why this organisation is red"), "{text}");
    assert!(text.contains("14-day"), "{text}");
    assert!(text.contains("overdue"), "{text}");
    let hosts = table_rows(&mut b, "Host");
    let ward_row = hosts
        .iter()
        .find(|r| r[0].0 == "ward-pc-01")
        .unwrap_or_else(|| panic!("{hosts:?}"));
    assert_eq!(ward_row[1].0, "Not ready");
    assert!(hosts.iter().any(|r| r[0].0 == "bastion-01"), "{hosts:?}");
    let detections = table_rows(&mut b, "Rule");
    assert!(
        detections
            .iter()
            .any(|r| r.iter().any(|c| c.0.contains("Password Spray"))
                && r.iter().any(|c| c.0 == "91.197.232.109")),
        "{detections:?}"
    );
    let fixes = table_rows(&mut b, "Fix");
    assert!(
        fixes.iter().any(|r| r.iter().any(|c| c.0.contains("ufw"))),
        "the firewall fix: {fixes:?}"
    );
    let packages = table_rows(&mut b, "Package");
    assert!(
        packages.iter().any(|r| r[0].0 == "Werkzeug"),
        "Werkzeug among {packages:?}"
    );
    screenshot(&mut b, "organisation");
    harness::assert_accessible(&mut b);
    // Which machines run it?
    b.click_link("Werkzeug").unwrap();
    let on = table_rows(&mut b, "Asset");
    assert_eq!(on[0][0].0, "ward-pc-01", "{on:?}");
    assert!(on[0][3].0.contains("CVE-2023-46136") || on[0][3].0.contains("PYSEC-2023-221"));

    // Search across organisations by CVE.
    b.click_link("Search").unwrap();
    b.fill("q", "CVE-2023-46136").unwrap();
    b.click_button("Search").unwrap();
    let text = b.text().unwrap();
    assert!(text.contains("Northshire NHS Trust"), "{text}");
    assert!(text.contains("Werkzeug"), "{text}");
    assert!(!text.contains("Riverside GP Practice"), "{text}");
    screenshot(&mut b, "search");
    harness::assert_accessible(&mut b);

    // And by the attacker's address, from the organisation's detections.
    b.click_link("Overview").unwrap();
    b.click_link("Northshire NHS Trust").unwrap();
    b.click_link("91.197.232.109").unwrap();
    assert!(b.path().unwrap().starts_with("/search"));
    let text = b.text().unwrap();
    assert!(text.contains("Northshire NHS Trust"), "{text}");
    assert!(text.contains("Password Spray"), "{text}");
}

/// An incident's life, as the organisation's admin lives it: opened a day
/// and a half after becoming aware (so the 24-hour notification is
/// overdue), notification downloaded and recorded as sent, moved through
/// triaged, contained, resolved and closed, and the full report printed.
#[test]
fn incident_life() {
    let Some(mut b) = harness::browser_or_skip("incident_life") else {
        return;
    };
    let mut server = Server::start();
    let trust = server.create_org("Northshire NHS Trust", Sector::NhsTrust, 4200);
    server.create_user(trust, "it-lead@northshire.example", Role::OrgAdmin);
    let mut mfa = Mfa::default();
    sign_in(
        &mut b,
        &server.base,
        "it-lead@northshire.example",
        PASSWORD,
        &mut mfa,
    );

    b.click_link("Incidents").unwrap();
    assert_eq!(b.h1().unwrap(), "Incidents");
    b.click_link("Open an incident").unwrap();
    assert_eq!(b.h1().unwrap(), "Open an incident");
    harness::assert_accessible(&mut b);
    let aware = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(30);
    let aware_local = aware.strftime("%Y-%m-%dT%H:%M").to_string();
    b.fill("title", "Ransomware on ward PCs").unwrap();
    b.fill("severity", "high").unwrap();
    b.fill("affected_service", "Electronic patient records")
        .unwrap();
    b.fill(
        "description",
        "Twelve ward PCs show a ransom note; files on the shared drive are encrypted.",
    )
    .unwrap();
    b.fill("aware_at", &aware_local).unwrap();
    b.click_button("Open incident").unwrap();
    assert!(
        b.path().unwrap().starts_with("/incidents/"),
        "{}",
        b.url().unwrap()
    );
    let h1 = b.h1().unwrap();
    assert!(h1.ends_with("Ransomware on ward PCs"), "{h1}");
    let reference = h1.split(':').next().unwrap_or("").to_owned();
    let text = b.text().unwrap();
    assert!(text.contains("Initial notification (24 h)"), "{text}");
    assert!(text.contains("Full incident report (72 h)"), "{text}");
    // 30 h after becoming aware: the notification is late, the report is not.
    assert!(text.contains("OVERDUE by 6"), "{text}");
    assert!(text.contains("due in 1"), "{text}");
    assert_eq!(state_of(&mut b), "reported");

    // Download the notification, as Markdown and as JSON.
    let md_url = b
        .eval("document.querySelector('a[href$=\"/notification.md\"]').href")
        .unwrap();
    let md = b.fetch(md_url.as_str().unwrap()).unwrap();
    assert_eq!(md["status"], 200);
    let body = md["body"].as_str().unwrap();
    assert!(body.contains("Ransomware on ward PCs"), "{body}");
    assert!(body.contains("Northshire NHS Trust"), "{body}");
    let js_url = b
        .eval("document.querySelector('a[href$=\"/notification.json\"]').href")
        .unwrap();
    let j = b.fetch(js_url.as_str().unwrap()).unwrap();
    assert_eq!(j["status"], 200);
    let doc: Value = serde_json::from_str(j["body"].as_str().unwrap()).expect("JSON");
    assert!(doc.to_string().contains("Ransomware on ward PCs"), "{doc}");

    // Its life: reported → triaged → contained → resolved → closed.
    for (to, note) in [
        ("triaged", "Confirmed: LockBit variant on 12 PCs."),
        ("contained", "Ward VLAN isolated; accounts reset."),
        (
            "resolved",
            "PCs rebuilt from images; data restored from backup.",
        ),
    ] {
        b.fill("note", note).unwrap();
        b.click_button(&format!("Move to {to}")).unwrap();
        assert_eq!(state_of(&mut b), to);
        assert!(b.text().unwrap().contains(note));
        if to == "contained" {
            screenshot(&mut b, "incident");
            harness::assert_accessible(&mut b);
            // The notification goes out, late.
            b.click_button("Record the initial notification as sent now")
                .unwrap();
            let text = b.text().unwrap();
            assert!(text.contains("(late)"), "sent after 24 h is late: {text}");
            assert!(!text.contains("OVERDUE"), "{text}");
        }
    }
    b.fill("kind", "evidence").unwrap();
    b.fill("text", "Ransom note hash 3f2a…; C2 address 203.0.113.7")
        .unwrap();
    b.click_button("Add").unwrap();
    assert!(b.text().unwrap().contains("203.0.113.7"));

    // The full report: printable, and it prints.
    b.click_link("Printable page").unwrap();
    let h1 = b.h1().unwrap();
    assert_eq!(h1, format!("Full incident report: {reference}"));
    let text = b.text().unwrap();
    assert!(text.contains("PCs rebuilt from images"), "{text}");
    let pdf = b.print_pdf().unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert!(pdf.len() > 10_000, "PDF of {} bytes", pdf.len());
    b.click_link("Back to the incident").unwrap();

    b.click_button("Move to closed").unwrap();
    assert_eq!(state_of(&mut b), "closed");
    assert!(!b.has_button("Move to triaged").unwrap(), "closed is final");
    b.click_link("All incidents").unwrap();
    let rows = table_rows(&mut b, "Title");
    assert!(
        rows.iter()
            .any(|r| r.iter().any(|c| c.0 == "Ransomware on ward PCs")
                && r.iter().any(|c| c.0.contains("closed"))),
        "{rows:?}"
    );
}

/// The incident's state as the page shows it.
fn state_of(b: &mut browser::cdp::Browser) -> String {
    b.eval(
        "(() => { const dt = Array.from(document.querySelectorAll('dt')).find(d => d.innerText.trim() === 'State');
                  return dt && dt.nextElementSibling ? dt.nextElementSibling.innerText.trim() : ''; })()",
    )
    .unwrap()
    .as_str()
    .unwrap_or("")
    .to_owned()
}

/// A certification from submission to certificate: the organisation's
/// admin starts a self-assessment (answers its host's agent evidence shows
/// are filled in), answers the rest, submits; an assessor passes it; the
/// certificate shows a 12-month expiry.
#[test]
fn certification_to_certificate() {
    let Some(mut b) = harness::browser_or_skip("certification_to_certificate") else {
        return;
    };
    let mut server = Server::start();
    let gp = server.create_org("Riverside GP Practice", Sector::GpPractice, 30);
    let unit = {
        let store = server.store();
        let all = portcullis_server::Tenant::for_role(portcullis_server::OrgId(0), Role::SiteAdmin);
        server
            .block_on(store.list_organisations(&all))
            .expect("organisations")
            .into_iter()
            .find(|o| o.name == "Cyber unit")
            .expect("the bootstrapped Cyber unit")
            .id
    };
    server.create_user(gp, "manager@riverside.example", Role::OrgAdmin);
    server.create_user(unit, "assessor@cyber-unit.example", Role::Assessor);
    let host = server.enrol_host(gp, "reception-01");
    let dir = tempfile::tempdir().unwrap();
    let hardened = hardened_report(&dir.path().join("osv.db"));
    server.submit(&host, "assessment", "reception-assess-1", &hardened);

    let mut manager = Mfa::default();
    sign_in(
        &mut b,
        &server.base,
        "manager@riverside.example",
        PASSWORD,
        &mut manager,
    );
    b.click_link("Certification").unwrap();
    assert_eq!(b.h1().unwrap(), "Cyber Essentials certification");
    assert!(b
        .text()
        .unwrap()
        .contains("no current Cyber Essentials certificate"));
    b.click_button("Start a self-assessment").unwrap();
    let h1 = b.h1().unwrap();
    assert!(
        h1.starts_with("Self-assessment #") && h1.ends_with("Riverside GP Practice"),
        "{h1}"
    );
    let application = b.path().unwrap();
    harness::assert_accessible(&mut b);

    // Answer what the agents could not: "yes" to every open question, and
    // a sentence for each text question.
    let open: Value = b
        .eval(
            "(() => { const radios = Array.from(document.querySelectorAll('input[type=radio][name^=\"a.\"]'));
                      const names = [...new Set(radios.map(r => r.name))];
                      const unanswered = names.filter(n => !radios.some(r => r.name === n && r.checked));
                      const texts = Array.from(document.querySelectorAll('textarea[name^=\"a.\"]'))
                        .filter(t => !t.value.trim()).map(t => t.name);
                      return {unanswered, texts}; })()",
        )
        .unwrap();
    let unanswered: Vec<String> = open["unanswered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(!unanswered.is_empty());
    for name in &unanswered {
        b.choose(name, "yes").unwrap();
    }
    for name in open["texts"].as_array().unwrap() {
        b.fill(
            name.as_str().unwrap(),
            "The whole practice: 14 desktops, 3 laptops, the office network and Microsoft 365.",
        )
        .unwrap();
    }
    b.click_button("Save answers").unwrap();
    assert_eq!(b.path().unwrap(), application);
    let text = b.text().unwrap();
    assert!(
        !text.contains("required questions are not answered yet"),
        "{text}"
    );
    b.fill("declared_by", "Dr Asha Patel, senior partner")
        .unwrap();
    b.click_button("Submit for assessment").unwrap();
    let text = b.text().unwrap();
    assert!(text.contains("submitted"), "{text}");
    assert!(
        !b.has_button("Save answers").unwrap(),
        "a submitted application is read-only"
    );
    sign_out(&mut b);

    // The assessor reviews and passes it.
    let mut assessor = Mfa::default();
    sign_in(
        &mut b,
        &server.base,
        "assessor@cyber-unit.example",
        PASSWORD,
        &mut assessor,
    );
    b.click_link("Certification").unwrap();
    let number = application.rsplit('/').next().unwrap_or("").to_owned();
    b.click_link(&format!("#{number}")).unwrap();
    assert_eq!(b.path().unwrap(), application);
    b.choose("outcome", "pass").unwrap();
    b.fill(
        "reason",
        "Answers consistent with the agent evidence; auto-fail questions all yes.",
    )
    .unwrap();
    b.click_button("Record the decision").unwrap();
    let text = b.text().unwrap();
    assert!(text.contains("Decision: passed"), "{text}");

    // The certificate: issued today, expiring in 12 months.
    b.click_link("Show the certificate").unwrap();
    assert_eq!(b.h1().unwrap(), "Certificate of self-assessment");
    let text = b.text().unwrap();
    assert!(text.contains("Riverside GP Practice"), "{text}");
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let expiry = today
        .checked_add(jiff::Span::new().years(1))
        .expect("a year on");
    let issued_text = today.strftime("%-d %B %Y").to_string();
    let expiry_text = expiry.strftime("%-d %B %Y").to_string();
    assert!(text.contains(&format!("Issued\n{issued_text}")), "{text}");
    assert!(text.contains(&format!("Expires\n{expiry_text}")), "{text}");
    assert!(text.contains("Valid for 12 months"), "{text}");
    screenshot(&mut b, "certificate");
    harness::assert_accessible(&mut b);
    let pdf = b.print_pdf().unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    sign_out(&mut b);

    // The organisation sees its certificate.
    sign_in(
        &mut b,
        &server.base,
        "manager@riverside.example",
        PASSWORD,
        &mut manager,
    );
    b.click_link("Certification").unwrap();
    let text = b.text().unwrap();
    assert!(text.contains("Current certificate"), "{text}");
    assert!(text.contains(&expiry_text), "{text}");
}

/// The public funded-support page, and its form checking eligibility as it
/// is filled in (no account needed).
#[test]
fn funded_support_eligibility() {
    let Some(mut b) = harness::browser_or_skip("funded_support_eligibility") else {
        return;
    };
    let server = Server::start();
    b.goto(&server.url("/support")).unwrap();
    assert_eq!(b.h1().unwrap(), "Funded Cyber Essentials support");
    assert!(b.text().unwrap().contains("Who can get funded support"));
    screenshot(&mut b, "funded-support");
    harness::assert_accessible(&mut b);
    b.click_link("Apply for funded support").unwrap();
    assert_eq!(b.h1().unwrap(), "Apply for funded Cyber Essentials support");
    harness::assert_accessible(&mut b);

    // Too big for the healthcare scheme: not eligible, and it says why.
    b.fill("org_name", "Riverside GP Practice").unwrap();
    b.fill("sector", "gp_practice").unwrap();
    b.fill("staff", "120").unwrap();
    b.choose("role", "primary_care").unwrap();
    b.fill("contact_name", "Sam Okafor").unwrap();
    b.fill("email", "sam@riverside.example").unwrap();
    b.click_button("Check eligibility").unwrap();
    let text = b.text().unwrap();
    assert!(text.contains("You are not eligible"), "{text}");
    // The form keeps what was typed.
    assert_eq!(
        b.eval("document.querySelector('[name=org_name]').value")
            .unwrap(),
        "Riverside GP Practice"
    );

    b.fill("staff", "30").unwrap();
    b.click_button("Check eligibility").unwrap();
    let text = b.text().unwrap();
    assert!(text.contains("You are eligible."), "{text}");
    b.click_button("Send application").unwrap();
    assert_eq!(b.h1().unwrap(), "Application received");
    assert!(b.text().unwrap().contains("FS-"));
}

/// The accessibility check that the tests run on every key page finds what
/// it is meant to find.
#[test]
fn accessibility_check_finds_problems() {
    let Some(mut b) = harness::browser_or_skip("accessibility_check_finds_problems") else {
        return;
    };
    b.goto(
        "data:text/html,<!DOCTYPE html><html><body><h1>One</h1><h1>Two</h1>\
         <input name=q><label>Name <input name=n></label><button></button>\
         <img src=x.png><table><tr><td>1</td></tr></table></body></html>",
    )
    .unwrap();
    let p = harness::accessibility_problems(&mut b);
    assert_eq!(p.len(), 6, "{p:?}");
    assert!(p.contains(&"no lang on <html>".to_owned()), "{p:?}");
    assert!(p.contains(&"2 h1 elements".to_owned()), "{p:?}");
    assert!(
        p.iter()
            .any(|x| x.starts_with("no label: <input name=\"q\"")),
        "{p:?}"
    );
    assert!(p.contains(&"button without text".to_owned()), "{p:?}");
    assert!(p.iter().any(|x| x.starts_with("img without alt")), "{p:?}");
    assert!(
        p.contains(&"table without header cells".to_owned()),
        "{p:?}"
    );
    b.goto(
        "data:text/html,<!DOCTYPE html><html lang=en><body><h1>One</h1>\
         <label for=q>Q</label><input id=q name=q><button>Go</button>\
         <img src=x.png alt=''><table><tr><th>H</th></tr></table></body></html>",
    )
    .unwrap();
    assert_eq!(
        harness::accessibility_problems(&mut b),
        Vec::<String>::new()
    );
}

/// Starting a self-assessment fills in the answers the organisation's
/// agents evidence (from the host's real `portcullis assess` report), with
/// the evidence shown under each.
#[test]
fn self_assessment_prefills_answers_from_agent_evidence() {
    let Some(mut b) =
        harness::browser_or_skip("self_assessment_prefills_answers_from_agent_evidence")
    else {
        return;
    };
    let mut server = Server::start();
    let gp = server.create_org("Riverside GP Practice", Sector::GpPractice, 30);
    server.create_user(gp, "manager@riverside.example", Role::OrgAdmin);
    let host = server.enrol_host(gp, "reception-01");
    let dir = tempfile::tempdir().unwrap();
    let hardened = hardened_report(&dir.path().join("osv.db"));
    server.submit(&host, "assessment", "reception-assess-1", &hardened);
    let mut manager = Mfa::default();
    sign_in(
        &mut b,
        &server.base,
        "manager@riverside.example",
        PASSWORD,
        &mut manager,
    );
    b.click_link("Certification").unwrap();
    b.click_button("Start a self-assessment").unwrap();
    let text = b.text().unwrap();
    assert!(
        text.contains("Filled in from agent evidence"),
        "no answer came from the host's evidence: {text}"
    );
    assert!(text.contains("Agent evidence: 1 passed"), "{text}");
    // Open the first question's evidence: the host and its checks.
    b.click_in_place("summary", "Agent evidence").unwrap();
    b.wait_for(
        "document.querySelector('details[open]') && document.body.innerText.includes('reception-01')",
        "the evidence to open",
    )
    .unwrap();
}

/// `portcullis assess --format json` of the hardened fixture: nothing fails,
/// some checks wait for a person's attestation.
fn hardened_report(db: &std::path::Path) -> Value {
    harness::cli_json(
        &[
            "assess",
            "--no-vulns",
            "--format",
            "json",
            "--root",
            &harness::cli_dir()
                .join("../assess/tests/fixtures/hardened")
                .to_string_lossy(),
        ],
        db,
    )
}
