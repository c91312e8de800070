//! The table for people.

use crate::text::{count, truncate, width_of, wrap};
use crate::{main_alias, report_order, ScanReport, TOOL_NAME};
use portcullis_model::{DiagnosticLevel, Finding, Package, Severity};
use portcullis_version::Scheme;
use std::cmp::Ordering;
use std::fmt::Write as _;

/// How to draw the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Use ANSI colours and bold (the CLI turns this on for terminals).
    pub color: bool,
    /// Maximum line width in characters: vulnerability summaries are cut to
    /// fit and advice is wrapped. `None` means no limit.
    pub width: Option<usize>,
    /// List the diagnostics (problems reading input) at the end. Off by
    /// default, as the CLI prints them on standard error.
    pub diagnostics: bool,
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";

fn severity_style(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::None | Severity::Unknown => "\x1b[2m",
    }
}

struct Painter {
    on: bool,
}

impl Painter {
    fn paint(&self, out: &mut String, style: &str, text: &str) {
        if self.on {
            out.push_str(style);
            out.push_str(text);
            out.push_str(RESET);
        } else {
            out.push_str(text);
        }
    }
}

/// Render the vulnerability-scan table.
///
/// Layout: a header line; then, per vulnerable package (most severe first),
/// a package line (`name version (ecosystem) path:line`), one line per open
/// vulnerability (`ID (alias)  severity  fix VERSION  14d  summary`) and a
/// `->` line saying what to do; then accepted risks; then the summary footer.
pub fn table(report: &ScanReport, opts: &TableOptions) -> String {
    let p = Painter { on: opts.color };
    let mut out = String::with_capacity(256 + report.findings.len() * 120);
    let _ = write!(
        out,
        "{TOOL_NAME} {} scan of {}",
        report.tool_version, report.target
    );
    if !report.scanned_at.is_empty() {
        let _ = write!(out, " at {}", report.scanned_at);
    }
    out.push('\n');
    for ds in &report.data_sources {
        let _ = write!(
            out,
            "Data: {} ({}",
            ds.name,
            count(
                usize::try_from(ds.records).unwrap_or(usize::MAX),
                "record",
                "records"
            )
        );
        if let Some(u) = &ds.last_updated {
            let _ = write!(out, ", updated {u}");
        }
        if let Some(a) = ds.age_days {
            let _ = write!(
                out,
                ", {} old",
                count(usize::try_from(a).unwrap_or(usize::MAX), "day", "days")
            );
        }
        out.push_str(")\n");
    }
    if report.stale_data {
        p.paint(
            &mut out,
            severity_style(Severity::Medium),
            "WARNING: the vulnerability data is stale: update it before relying on this report",
        );
        out.push('\n');
    }
    if report.partial {
        p.paint(
            &mut out,
            severity_style(Severity::Medium),
            "WARNING: some input could not be read: the results are partial",
        );
        out.push('\n');
    }

    let mut open: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    open.sort_by(|a, b| same_package_first(a, b));
    let groups = group_by_package(&open);

    for group in &groups {
        out.push('\n');
        write_group(&mut out, &p, group, opts.width);
    }

    let suppressed: Vec<&Finding> = report
        .sorted_findings()
        .into_iter()
        .filter(|f| f.suppressed.is_some())
        .collect();
    if !suppressed.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "Accepted risks ({}):", suppressed.len());
        for f in &suppressed {
            let mut line = format!("  {} in {} {}", f.id, f.package.name, f.package.version);
            if let Some(s) = &f.suppressed {
                let _ = write!(line, ": {}", s.reason.trim());
                match &s.expires {
                    Some(e) => {
                        let _ = write!(line, " (until {e}, {})", s.source);
                    }
                    None => {
                        let _ = write!(line, " ({})", s.source);
                    }
                }
            }
            if let Some(w) = opts.width {
                line = truncate(&line, w);
            }
            out.push_str(&line);
            out.push('\n');
        }
    }

    if opts.diagnostics && !report.diagnostics.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "Problems reading input ({}):",
            report.diagnostics.len()
        );
        for d in &report.diagnostics {
            let _ = writeln!(out, "  {d}");
        }
    }

    // Footer.
    let s = report.summary();
    out.push('\n');
    let footer_start = out.len();
    if s.findings == 0 {
        let line = format!(
            "No known vulnerabilities in {}",
            count(s.packages, "package", "packages")
        );
        p.paint(&mut out, BOLD, &line);
        out.push('\n');
    } else {
        let head = format!(
            "{} in {} of {} scanned",
            count(s.findings, "vulnerability", "vulnerabilities"),
            groups.len(),
            count(s.packages, "package", "packages"),
        );
        p.paint(&mut out, BOLD, &head);
        out.push_str(": ");
        let parts = [
            (s.critical, Severity::Critical, "critical"),
            (s.high, Severity::High, "high"),
            (s.medium, Severity::Medium, "medium"),
            (s.low, Severity::Low, "low"),
            (s.unrated, Severity::Unknown, "unrated"),
        ];
        for (i, (n, sev, word)) in parts.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let text = format!("{n} {word}");
            if *n > 0 {
                p.paint(&mut out, severity_style(*sev), &text);
            } else {
                out.push_str(&text);
            }
        }
        out.push('\n');
    }
    if s.ce_14_day > 0 {
        let line = format!(
            "14d: {} {} the Cyber Essentials 14-day rule (high, critical or unrated, fixed more than 14 days ago)",
            count(s.ce_14_day, "finding", "findings"),
            if s.ce_14_day == 1 { "breaks" } else { "break" },
        );
        p.paint(&mut out, severity_style(Severity::Critical), &line);
        out.push('\n');
    } else if s.findings > 0 {
        out.push_str("14d: no finding breaks the Cyber Essentials 14-day rule\n");
    }
    if s.suppressed > 0 {
        let _ = writeln!(out, "Accepted risks: {} suppressed", s.suppressed);
    }
    let errors = report
        .diagnostics
        .iter()
        .filter(|d| d.level == DiagnosticLevel::Error)
        .count();
    let warnings = report.diagnostics.len() - errors;
    if errors + warnings > 0 {
        let _ = writeln!(
            out,
            "Input problems: {}, {}",
            count(errors, "error", "errors"),
            count(warnings, "warning", "warnings")
        );
    }
    if let (Some(w), false) = (opts.width, opts.color) {
        // Wrap the footer's long lines (with colour off: escape codes would
        // be counted as text).
        let footer = out.split_off(footer_start);
        for line in footer.lines() {
            for l in wrap(line, w, "", "  ") {
                out.push_str(&l);
                out.push('\n');
            }
        }
    }
    out
}

fn same_package(a: &Package, b: &Package) -> bool {
    a.name == b.name
        && a.version == b.version
        && a.ecosystem == b.ecosystem
        && a.distro == b.distro
        && a.location == b.location
}

/// Package identity first, then severity and ID, so one package's findings are adjacent.
fn same_package_first(a: &Finding, b: &Finding) -> Ordering {
    let (pa, pb) = (&a.package, &b.package);
    pa.name
        .cmp(&pb.name)
        .then_with(|| pa.version.cmp(&pb.version))
        .then_with(|| pa.ecosystem.cmp(&pb.ecosystem))
        .then_with(|| pa.distro.cmp(&pb.distro))
        .then_with(|| pa.location.cmp(&pb.location))
        .then_with(|| report_order(a, b))
}

/// Groups of one package's open findings, most severe group first.
fn group_by_package<'a>(sorted: &[&'a Finding]) -> Vec<Vec<&'a Finding>> {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    for f in sorted {
        match groups.last_mut() {
            Some(g)
                if g.first()
                    .is_some_and(|h| same_package(&h.package, &f.package)) =>
            {
                g.push(f)
            }
            _ => groups.push(vec![f]),
        }
    }
    // Within a group findings are already in report order; order groups by
    // their worst severity, then by their first finding's report order.
    groups.sort_by(|a, b| match (a.first(), b.first()) {
        (Some(x), Some(y)) => report_order(x, y),
        _ => Ordering::Equal,
    });
    groups
}

fn ecosystem_label(p: &Package) -> String {
    p.osv_ecosystem()
}

fn write_group(out: &mut String, p: &Painter, group: &[&Finding], width: Option<usize>) {
    let Some(first) = group.first() else { return };
    let pkg = &first.package;
    let version = if pkg.version.is_empty() {
        "(unknown version)"
    } else {
        pkg.version.as_str()
    };
    let mut head = format!("{} {}", pkg.name, version);
    let mut rest = format!(" ({})", ecosystem_label(pkg));
    if !pkg.location.path.is_empty() {
        let _ = write!(rest, " {}", pkg.location.path);
        if let Some(l) = pkg.location.line {
            let _ = write!(rest, ":{l}");
        }
    }
    if let Some(w) = width {
        let total = width_of(&head) + width_of(&rest);
        if total > w {
            let keep = w.saturating_sub(width_of(&head));
            rest = truncate(&rest, keep);
            if keep == 0 {
                head = truncate(&head, w);
            }
        }
    }
    p.paint(out, BOLD, &head);
    out.push_str(&rest);
    out.push('\n');

    let ids: Vec<String> = group
        .iter()
        .map(|f| match main_alias(f) {
            Some(a) => format!("{} ({a})", f.id),
            None => f.id.clone(),
        })
        .collect();
    let fixes: Vec<String> = group
        .iter()
        .map(|f| match &f.fix.upgrade_to {
            Some(v) => format!("fix {v}"),
            None => "no fix".to_string(),
        })
        .collect();
    let id_w = ids.iter().map(|s| width_of(s)).max().unwrap_or(0);
    let fix_w = fixes.iter().map(|s| width_of(s)).max().unwrap_or(0);
    let any_14 = group.iter().any(|f| f.ce_14_day);
    for ((f, id), fix) in group.iter().zip(&ids).zip(&fixes) {
        let sev = f.severity.as_str();
        let mut plain_prefix = format!("  {id:<id_w$}  {sev:<8}  {fix:<fix_w$}");
        if any_14 {
            plain_prefix.push_str(if f.ce_14_day { "  14d" } else { "     " });
        }
        let summary = f.summary.split_whitespace().collect::<Vec<_>>().join(" ");
        let summary = match width {
            Some(w) => {
                let room = w.saturating_sub(width_of(&plain_prefix) + 2);
                if room >= 8 {
                    truncate(&summary, room)
                } else {
                    String::new()
                }
            }
            None => summary,
        };
        // Now the same line with colours.
        let mut line = String::with_capacity(plain_prefix.len() + summary.len() + 16);
        let _ = write!(line, "  {id:<id_w$}  ");
        let sev_padded = format!("{sev:<8}");
        p.paint(&mut line, severity_style(f.severity), &sev_padded);
        let _ = write!(line, "  {fix:<fix_w$}");
        if any_14 {
            if f.ce_14_day {
                line.push_str("  ");
                p.paint(&mut line, severity_style(Severity::Critical), "14d");
            } else {
                line.push_str("     ");
            }
        }
        if !summary.is_empty() {
            line.push_str("  ");
            line.push_str(&summary);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }

    let advice = advice(group);
    let lines = match width {
        Some(w) => wrap(&advice, w, "  -> ", "     "),
        None => vec![format!("  -> {advice}")],
    };
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
}

/// The one-line "what to do" for one package's open findings.
pub(crate) fn advice(group: &[&Finding]) -> String {
    let Some(first) = group.first() else {
        return String::new();
    };
    let pkg = &first.package;
    let scheme = Scheme::for_ecosystem(&pkg.ecosystem);
    let mut target: Option<&str> = None;
    let mut fixed: Vec<&Finding> = Vec::new();
    let mut unfixed: Vec<&Finding> = Vec::new();
    for f in group {
        match f.fix.upgrade_to.as_deref() {
            Some(v) => {
                fixed.push(f);
                target = match target {
                    None => Some(v),
                    Some(t) => {
                        let newer = match scheme.compare(v, t) {
                            Ok(o) => o == Ordering::Greater,
                            Err(_) => v > t,
                        };
                        Some(if newer { v } else { t })
                    }
                };
            }
            None => unfixed.push(f),
        }
    }
    let Some(target) = target else {
        return format!(
            "No fix released yet: consider removing or replacing {}, or accept the risk in portcullis.toml",
            pkg.name
        );
    };
    let mut s = format!(
        "Upgrade {} from {} to {target} (fixes ",
        pkg.name, pkg.version
    );
    if unfixed.is_empty() {
        s.push_str(&count(fixed.len(), "vulnerability", "vulnerabilities"));
    } else {
        let _ = write!(s, "{} of {} vulnerabilities", fixed.len(), group.len());
    }
    let crit = fixed
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    let high = fixed
        .iter()
        .filter(|f| f.severity == Severity::High)
        .count();
    if crit > 0 {
        let _ = write!(s, ", {crit} critical");
    }
    if high > 0 {
        let _ = write!(s, ", {high} high");
    }
    s.push(')');
    if !unfixed.is_empty() {
        let ids: Vec<&str> = unfixed.iter().map(|f| f.id.as_str()).collect();
        let _ = write!(s, "; no fix released yet for {}", ids.join(", "));
    }
    s
}
