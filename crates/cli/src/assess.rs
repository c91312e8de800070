//! `portcullis assess` and `portcullis check`.
//!
//! Exit codes of both: 0 ready (every check the machine can decide passed;
//! attestations remain), 1 not ready (some check failed), 2 usage error,
//! 3 nothing failed but some check could not be made (unreadable input,
//! unsupported package manager, no vulnerability data).
//!
//! `check` also hunts sign-in attacks in this machine's recent
//! authentication logs (`/var/log/auth.log*`, `/var/log/secure*`) with the
//! bundled rules, and exits 1 when a high or critical detection fired.

use crate::cli::Global;
use crate::ui::Ui;
use crate::{db, Failure, EXIT_FINDINGS, EXIT_OK, EXIT_PARTIAL};
use clap::{Args, ValueEnum};
use portcullis_assess::{report, Assessment, CheckStatus, Host, Options, VulnScan};
use portcullis_hunt::{output::format_time, Detection, Hunt, HuntOptions, Level};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Report formats of `assess`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AssessFormat {
    /// Plain English for people (colour on a terminal).
    Table,
    /// JSON (schema portcullis.assess/v1, docs/formats/assess-json.md).
    Json,
    /// A single-file HTML report that prints well to PDF.
    Html,
}

/// Arguments of `portcullis assess`.
///
/// Exit codes: 0 ready; 1 not ready (a check failed); 2 usage error;
/// 3 nothing failed but some checks are unknown (unreadable files, no data).
#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The root directory to assess (`/` for this machine; a mounted image or
    /// container tree otherwise: live sockets and processes are read only for `/`).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Judge a Windows evidence archive (from the collection script) instead of a root directory.
    #[arg(long, value_name = "FILE", conflicts_with = "root")]
    pub windows_evidence: Option<PathBuf>,
    /// Report format.
    #[arg(short, long, value_enum, default_value_t = AssessFormat::Table)]
    pub format: AssessFormat,
    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Do not match installed packages against the vulnerability database.
    #[arg(long)]
    pub no_vulns: bool,
}

/// Arguments of `portcullis check`.
///
/// Also hunts sign-in attacks (password spray, brute force, credential
/// stuffing, success after a spray) in the authentication logs of the last
/// 30 days (/var/log/auth.log*, /var/log/secure*; files over 1 GiB are
/// skipped with a note).
///
/// Exit codes: 0 ready, no vulnerable project dependency past the 14-day
/// rule and no high or critical sign-in attack detected; 1 not ready, or a
/// high or critical sign-in attack was detected; 3 nothing failed but
/// something could not be checked (or a log could not be read).
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Project directories to scan as well (lockfiles and manifests); default: none.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Where the authentication logs are (for tests and copied logs).
    #[arg(long, value_name = "DIR", default_value = "/var/log", hide = true)]
    pub log_dir: PathBuf,
}

/// Logs modified longer ago than this are not hunted by `check`.
const MAX_LOG_AGE: Duration = Duration::from_secs(30 * 86_400);
/// Logs larger than this are skipped by `check` (with a note).
const MAX_LOG_SIZE: u64 = 1 << 30;
/// High and critical detections listed in the check report.
const MAX_LISTED: usize = 5;

/// The authentication logs in `dir` that `check` hunts: `auth.log*` and
/// `secure*` regular files modified within 30 days and at most 1 GiB.
/// Returns the files (sorted) and a note for each one skipped for size.
pub(crate) fn auth_logs(dir: &Path, now: SystemTime) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut notes = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return (files, notes);
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with("auth.log") || name.starts_with("secure")) {
            continue;
        }
        let path = e.path();
        let Ok(md) = std::fs::metadata(&path) else {
            continue;
        };
        if !md.is_file() {
            continue;
        }
        let recent = md
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_none_or(|age| age <= MAX_LOG_AGE);
        if !recent {
            continue;
        }
        if md.len() > MAX_LOG_SIZE {
            notes.push(format!(
                "{}: {} MiB, over the 1 GiB bound of `check`: not hunted; run `portcullis hunt {}`",
                path.display(),
                md.len() >> 20,
                path.display()
            ));
            continue;
        }
        files.push(path);
    }
    files.sort();
    (files, notes)
}

/// What the sign-in hunt of `check` found.
#[derive(Debug, Default)]
pub(crate) struct SignIn {
    /// Logs hunted.
    pub files: Vec<PathBuf>,
    /// Logs skipped (size), one note each.
    pub skipped: Vec<String>,
    /// Files read and events read.
    pub files_read: usize,
    pub events: u64,
    /// High and critical detections: critical first, then by time.
    pub serious: Vec<Detection>,
    /// Medium detections.
    pub medium: usize,
    /// Logs (or parts) that could not be read.
    pub problems: Vec<String>,
}

/// Hunt the given logs with the bundled rules at medium and above.
pub(crate) fn hunt_logs(files: Vec<PathBuf>, skipped: Vec<String>) -> SignIn {
    let mut s = SignIn {
        skipped,
        ..SignIn::default()
    };
    if files.is_empty() {
        return s;
    }
    let (hunt, _issues) = Hunt::new(HuntOptions {
        bundled: true,
        min_level: Level::Medium,
        ..HuntOptions::default()
    });
    let mut serious = Vec::new();
    let mut medium = 0usize;
    let report = hunt.run(&files, &mut |d: Detection| {
        if d.level >= Level::High {
            serious.push(d);
        } else {
            medium += 1;
        }
    });
    serious.sort_by(|a, b| b.level.cmp(&a.level).then(a.time.cmp(&b.time)));
    s.files = files;
    s.files_read = report.files_read;
    s.events = report.events;
    s.serious = serious;
    s.medium = medium;
    s.problems = report
        .unreadable
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .chain(
            report
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.to_string()),
        )
        .collect();
    s
}

/// The "Sign-in attacks" section of the check report.
pub(crate) fn sign_in_section(s: &SignIn, dir: &Path) -> String {
    let mut out = String::from("Sign-in attacks:\n");
    for n in &s.skipped {
        out.push_str(&format!("  Note: {n}\n"));
    }
    if s.files.is_empty() {
        out.push_str(&format!(
            "  no authentication logs found (auth.log*, secure* modified in the last 30 days in {}).\n",
            dir.display()
        ));
        return out;
    }
    out.push_str(&format!(
        "  {} of {} log files read, {} events (the last 30 days of files in {}).\n",
        s.files_read,
        s.files.len(),
        s.events,
        dir.display()
    ));
    for p in &s.problems {
        out.push_str(&format!("  Could not read: {p}\n"));
    }
    let base = if s.files.iter().any(|f| {
        f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("auth.log"))
    }) {
        dir.join("auth.log")
    } else {
        dir.join("secure")
    };
    if s.serious.is_empty() {
        out.push_str("  No high or critical detection.");
    } else {
        out.push_str(&format!(
            "  {} high or critical detections:\n",
            s.serious.len()
        ));
        for d in s.serious.iter().take(MAX_LISTED) {
            let who = match (&d.user, &d.correlation) {
                (Some(u), _) => format!("user {u}"),
                (None, Some(c)) if !c.distinct.is_empty() => {
                    format!("{} users", c.distinct.len())
                }
                _ => "user unknown".to_string(),
            };
            out.push_str(&format!(
                "  {} {} [{}] from {} ({who})\n",
                d.time
                    .map_or_else(|| "time unknown".to_string(), format_time),
                d.title,
                d.level,
                d.source.as_deref().unwrap_or("an unknown source"),
            ));
        }
        if s.serious.len() > MAX_LISTED {
            out.push_str(&format!(
                "  … and {} more: run `portcullis hunt {}` for all\n",
                s.serious.len() - MAX_LISTED,
                base.display()
            ));
        }
    }
    if s.medium > 0 {
        out.push_str(&format!(
            "{}{} medium detections (brute force of single accounts): `portcullis hunt {}` lists them.\n",
            if s.serious.is_empty() { " " } else { "  " },
            s.medium,
            base.display()
        ));
    } else if s.serious.is_empty() {
        out.push('\n');
    }
    out
}

/// The exit code of `check`.
pub(crate) fn check_exit(
    assessment: u8,
    project_late: bool,
    project_partial: bool,
    signin: &SignIn,
) -> u8 {
    if assessment == EXIT_FINDINGS || project_late || !signin.serious.is_empty() {
        EXIT_FINDINGS
    } else if assessment == EXIT_PARTIAL || project_partial || !signin.problems.is_empty() {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    }
}

fn write_output(output: Option<&Path>, text: &str) -> Result<(), Failure> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            Failure::usage(format!(
                "{}: cannot write the report: {e}; check the directory exists and is writable",
                path.display()
            ))
        }),
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            Ok(())
        }
    }
}

/// Match the host's packages against the vulnerability database.
fn vuln_scan(ui: &Ui, g: &Global, host: &Host, now: jiff::Timestamp) -> VulnScan {
    if host.packages.is_empty() {
        return VulnScan::Unavailable("no installed packages could be read under the root".into());
    }
    let database = match db::open_for_scan(ui, g) {
        Ok(d) => d,
        Err(e) => {
            return VulnScan::Unavailable(format!(
                "the vulnerability database could not be opened: {}",
                e.message
            ))
        }
    };
    match portcullis_vulndb::match_packages(
        &database,
        &host.packages,
        &portcullis_vulndb::MatchOptions { now },
    ) {
        Ok(o) => {
            ui.diagnostics(&o.diagnostics);
            VulnScan::Findings(o.findings)
        }
        Err(e) => VulnScan::Unavailable(format!("matching failed: {e}")),
    }
}

fn assess_root(
    ui: &Ui,
    g: &Global,
    root: &Path,
    vulns: bool,
) -> Result<(Assessment, Host), Failure> {
    let md = std::fs::metadata(root).map_err(|e| {
        Failure::usage(format!("{}: cannot read the root directory: {e}; give a directory such as / or a mounted image", root.display()))
    })?;
    if !md.is_dir() {
        return Err(Failure::usage(format!(
            "{}: not a directory; --root takes a directory (/ for this machine)",
            root.display()
        )));
    }
    let host = Host::open(root);
    ui.diagnostics(&host.package_diagnostics);
    let now = jiff::Timestamp::now();
    let v = if vulns {
        vuln_scan(ui, g, &host, now)
    } else {
        VulnScan::Unavailable("vulnerability matching was switched off (--no-vulns)".into())
    };
    let a = portcullis_assess::assess(
        &host,
        &Options {
            now: now.as_second(),
            vulns: v,
        },
    );
    for u in &a.unreadable {
        ui.warn(&format!("{}: cannot read: {}; the checks that need it are unknown (run as root to see everything)", u.path, u.reason));
    }
    Ok((a, host))
}

pub fn run_assess(ui: &Ui, g: &Global, a: &AssessArgs) -> Result<u8, Failure> {
    if let Some(f) = &a.windows_evidence {
        let (assessment, diags) = portcullis_assess::assess_windows(f, jiff::Timestamp::now().as_second())
            .map_err(|e| Failure::usage(format!("{e}; give the .zip written by scripts/windows/collect-evidence.ps1, its unpacked directory, or an Intune export (see docs/windows-evidence.md)")))?;
        ui.diagnostics(&diags);
        for u in &assessment.unreadable {
            ui.warn(&format!(
                "{}: {}: {}; the checks that need it are unknown",
                f.display(),
                u.path,
                u.reason
            ));
        }
        return render(ui, a, &assessment);
    }
    let t = Instant::now();
    let (assessment, _) = assess_root(ui, g, &a.root, !a.no_vulns)?;
    ui.detail(&format!("assessed in {} ms", t.elapsed().as_millis()));
    render(ui, a, &assessment)
}

fn render(ui: &Ui, a: &AssessArgs, assessment: &Assessment) -> Result<u8, Failure> {
    let text = match a.format {
        AssessFormat::Table => report::table(
            assessment,
            report::TableOptions {
                color: a.output.is_none() && ui.out_color,
                verbose: ui.verbose > 0,
            },
        ),
        AssessFormat::Json => report::json(assessment),
        AssessFormat::Html => report::html(assessment),
    };
    write_output(a.output.as_deref(), &text)?;
    Ok(assessment.exit_code())
}

/// Add the project scan to the assessment as one check (application fixes
/// within 14 days: an automatic fail, A6.5), so verdict and order include it.
fn with_projects(
    a: Assessment,
    paths: &[PathBuf],
    late: &[portcullis_assess::Finding],
    now: i64,
) -> Assessment {
    use portcullis_assess::{Check, Control};
    let mut c = Check::new(
        "projects.vulnerable_dependencies",
        Control::SecurityUpdateManagement,
        &["E3-005", "E3-006", "E3-007"],
        "No project dependency has a high or critical vulnerability with a fix older than 14 days",
    )
    .auto_fail();
    for f in late {
        c.ev(
            &f.package.purl.to_string(),
            None,
            format!(
                "{} {}: {} ({}), fixed in {}",
                f.package.name,
                f.package.version,
                f.id,
                f.severity,
                f.fix.upgrade_to.as_deref().unwrap_or("?")
            ),
        );
    }
    let list = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let result = if late.is_empty() {
        c.ev("portcullis scan", None, format!("scanned {list}"));
        c.pass()
    } else {
        c.fail(format!(
            "Upgrade each listed dependency to its fixed version in the project's manifest and lockfile, rebuild and redeploy; `portcullis scan {list}` lists them all with the versions to move to."
        ))
    };
    let mut checks = a.checks;
    checks.push(result);
    checks.sort_by_key(|c| c.control);
    Assessment::from_checks(a.target, a.os, now, a.live, checks, a.unreadable)
}

pub fn run_check(ui: &Ui, g: &Global, a: &CheckArgs) -> Result<u8, Failure> {
    let t = Instant::now();
    let (mut assessment, host) = assess_root(ui, g, Path::new("/"), true)?;
    let now = jiff::Timestamp::now();
    // Projects named on the command line.
    let mut project_late = Vec::new();
    let mut project_total = 0usize;
    let mut project_partial = false;
    if !a.paths.is_empty() {
        let target = portcullis_inventory::Target {
            paths: a.paths.clone(),
            root: None,
            include_skipped: false,
        };
        let inv = portcullis_inventory::collect(&target, &mut |_| {});
        ui.diagnostics(&inv.diagnostics);
        project_partial = inv.is_partial();
        if !inv.packages.is_empty() {
            let database = db::open_for_scan(ui, g)?;
            let o = portcullis_vulndb::match_packages(
                &database,
                &inv.packages,
                &portcullis_vulndb::MatchOptions { now },
            )?;
            project_total = o.findings.len();
            project_late = o.findings.into_iter().filter(|f| f.ce_14_day).collect();
        }
        assessment = with_projects(assessment, &a.paths, &project_late, now.as_second());
    }
    let (logs, skipped) = auth_logs(&a.log_dir, SystemTime::now());
    let signin = hunt_logs(logs, skipped);
    for p in &signin.problems {
        ui.warn(&format!(
            "{p}; the sign-in hunt is partial (run as root to read every log)"
        ));
    }
    let color = ui.out_color;
    let mut s = String::new();
    let bold = |t: &str| {
        if color {
            format!("\x1b[1m{t}\x1b[0m")
        } else {
            t.to_string()
        }
    };
    s.push_str(&bold(&format!(
        "Portcullis check of this machine ({})",
        assessment.os.as_deref().unwrap_or("unknown OS")
    )));
    s.push_str("\n\n");
    let vt = report::verdict_text(&assessment);
    s.push_str(&if color {
        format!(
            "\x1b[1;{}m{vt}\x1b[0m",
            if assessment.verdict == portcullis_assess::Verdict::Ready {
                32
            } else {
                31
            }
        )
    } else {
        vt
    });
    s.push_str("\n\n");
    if !assessment.fix_first.is_empty() {
        s.push_str(&bold("What to fix first:"));
        s.push('\n');
        for (i, id) in assessment.fix_first.iter().take(5).enumerate() {
            if let Some(c) = assessment.check(id) {
                s.push_str(&format!(
                    "  {}. {}{}\n",
                    i + 1,
                    c.title,
                    if c.auto_fail { " (automatic fail)" } else { "" }
                ));
                if let Some(f) = &c.fix {
                    s.push_str(&format!("     {f}\n"));
                }
            }
        }
        if assessment.fix_first.len() > 5 {
            s.push_str(&format!(
                "  … and {} more.\n",
                assessment.fix_first.len() - 5
            ));
        }
        s.push('\n');
    }
    let confirm = assessment.count(CheckStatus::NeedsAttestation);
    let unknown = assessment.count(CheckStatus::Unknown);
    s.push_str(&format!("Checks: {} passed, {} failed, {confirm} for you to confirm, {unknown} could not be made.\n", assessment.count(CheckStatus::Pass), assessment.count(CheckStatus::Fail)));
    s.push_str(&format!(
        "Installed packages: {} read.\n",
        host.packages.len()
    ));
    if !a.paths.is_empty() {
        s.push_str(&format!(
            "Projects ({}): {project_total} known vulnerabilities, {} past the 14-day rule.\n",
            a.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            project_late.len()
        ));
        for f in project_late.iter().take(5) {
            s.push_str(&format!(
                "  {} {}: {} — upgrade to {}\n",
                f.package.name,
                f.package.version,
                f.id,
                f.fix.upgrade_to.as_deref().unwrap_or("a fixed version")
            ));
        }
    }
    s.push('\n');
    s.push_str(&sign_in_section(&signin, &a.log_dir));
    s.push('\n');
    s.push_str("Details:\n");
    s.push_str(
        "  portcullis assess                               every check, with evidence and fixes\n",
    );
    s.push_str("  portcullis assess --format html -o ce-report.html   a report to print or send to your assessor\n");
    s.push_str("  portcullis scan --root /                        every vulnerable package\n");
    s.push_str(&format!(
        "\nFinished in {:.1} s. Nothing was changed on this machine.\n",
        t.elapsed().as_secs_f64()
    ));
    write_output(None, &s)?;
    Ok(check_exit(
        assessment.exit_code(),
        !project_late.is_empty(),
        project_partial,
        &signin,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunt_fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../hunt/tests/fixtures")
            .join(name)
    }

    fn set_age(p: &Path, days: u64) {
        let f = std::fs::File::options().write(true).open(p).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(days * 86_400))
            .unwrap();
    }

    #[test]
    fn auth_logs_recent_and_bounded() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::copy(hunt_fixture("elastic-auth.log"), p.join("auth.log")).unwrap();
        std::fs::write(p.join("auth.log.1"), "old\n").unwrap();
        set_age(&p.join("auth.log.1"), 40);
        std::fs::write(p.join("secure-20261101"), "x\n").unwrap();
        std::fs::write(p.join("syslog"), "x\n").unwrap();
        std::fs::create_dir(p.join("auth.log.d")).unwrap();
        // A sparse file just over 1 GiB.
        let big = std::fs::File::create(p.join("auth.log.2")).unwrap();
        big.set_len(MAX_LOG_SIZE + 1).unwrap();
        let (files, notes) = auth_logs(p, SystemTime::now());
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["auth.log", "secure-20261101"]);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("auth.log.2: 1024 MiB, over the 1 GiB bound"),
            "{notes:?}"
        );
        let (files, notes) = auth_logs(&p.join("missing"), SystemTime::now());
        assert!(files.is_empty() && notes.is_empty());
    }

    #[test]
    fn hunt_of_a_real_auth_log_finds_the_spray() {
        let s = hunt_logs(vec![hunt_fixture("elastic-auth.log")], Vec::new());
        assert_eq!(s.files_read, 1);
        // 7121 lines; 85 "message repeated N times" lines stand for 325 more events.
        assert_eq!(s.events, 7121 + 325);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert!(!s.serious.is_empty());
        assert!(s.serious.iter().all(|d| d.level >= Level::High));
        assert!(s
            .serious
            .iter()
            .any(|d| d.title.starts_with("Password Spray - SSH Failures")));
        assert!(s.medium >= 1, "brute force is medium");
        // Critical first, then by time.
        for w in s.serious.windows(2) {
            assert!(
                w[0].level > w[1].level || (w[0].level == w[1].level && w[0].time <= w[1].time)
            );
        }
        let text = sign_in_section(&s, Path::new("/var/log"));
        assert!(
            text.starts_with("Sign-in attacks:\n  1 of 1 log files read, 7446 events"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "  {} high or critical detections:\n",
                s.serious.len()
            )),
            "{text}"
        );
        let listed = text.lines().filter(|l| l.contains("] from ")).count();
        assert_eq!(listed, s.serious.len().min(MAX_LISTED));
        if s.serious.len() > MAX_LISTED {
            assert!(
                text.contains(&format!(
                    "… and {} more: run `portcullis hunt /var/log/auth.log` for all",
                    s.serious.len() - MAX_LISTED
                )),
                "{text}"
            );
        }
        assert_eq!(check_exit(EXIT_OK, false, false, &s), EXIT_FINDINGS);
        assert_eq!(check_exit(EXIT_PARTIAL, false, false, &s), EXIT_FINDINGS);
    }

    #[test]
    fn no_logs_and_quiet_logs() {
        let s = hunt_logs(Vec::new(), Vec::new());
        let text = sign_in_section(&s, Path::new("/var/log"));
        assert_eq!(text, "Sign-in attacks:\n  no authentication logs found (auth.log*, secure* modified in the last 30 days in /var/log).\n");
        assert_eq!(check_exit(EXIT_OK, false, false, &s), EXIT_OK);
        // fail2ban's sshd samples: many message variants, no attack pattern at high.
        let s = hunt_logs(vec![hunt_fixture("fail2ban-sshd")], Vec::new());
        assert_eq!(s.files_read, 1);
        assert!(s.serious.is_empty(), "{:?}", s.serious);
        assert_eq!(check_exit(EXIT_OK, false, false, &s), EXIT_OK);
        assert_eq!(check_exit(EXIT_PARTIAL, false, false, &s), EXIT_PARTIAL);
    }
}
