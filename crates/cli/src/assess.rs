//! `portcullis assess` and `portcullis check`.
//!
//! Exit codes of both: 0 ready (every check the machine can decide passed;
//! attestations remain), 1 not ready (some check failed), 2 usage error,
//! 3 nothing failed but some check could not be made (unreadable input,
//! unsupported package manager, no vulnerability data).

use crate::cli::Global;
use crate::ui::Ui;
use crate::{db, Failure, EXIT_FINDINGS, EXIT_OK, EXIT_PARTIAL};
use clap::{Args, ValueEnum};
use portcullis_assess::{report, Assessment, CheckStatus, Host, Options, VulnScan};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
/// Exit codes: 0 ready and no vulnerable project dependency past the 14-day
/// rule; 1 not ready; 3 nothing failed but something could not be checked.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Project directories to scan as well (lockfiles and manifests); default: none.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
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
    s.push_str("Sign-in attack hunt: not included yet (portcullis hunt is being built).\n\n");
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
    let code = assessment.exit_code();
    Ok(if code == EXIT_FINDINGS || !project_late.is_empty() {
        EXIT_FINDINGS
    } else if code == EXIT_PARTIAL || project_partial {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}
