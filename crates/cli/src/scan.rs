//! `portcullis scan` and `portcullis sbom`.

use crate::cli::{Global, SbomArgs, SbomFormat, ScanArgs, ScanFormat, TargetArgs};
use crate::ui::Ui;
use crate::{db, Failure, EXIT_FINDINGS, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE};
use portcullis_inventory::{Inventory, Progress, Target};
use portcullis_report::{DataSource, ScanReport};
use std::io::Write;
use std::path::{Path, PathBuf};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn target_of(a: &TargetArgs) -> Target {
    let mut paths = a.paths.clone();
    if paths.is_empty() && a.root.is_none() {
        paths.push(PathBuf::from("."));
    }
    Target {
        paths,
        root: a.root.clone(),
        include_skipped: a.include_skipped,
    }
}

fn describe(t: &Target) -> String {
    let mut parts: Vec<String> = t.paths.iter().map(|p| p.display().to_string()).collect();
    if let Some(r) = &t.root {
        parts.insert(0, format!("root {}", r.display()));
    }
    parts.join(", ")
}

fn take_stock(ui: &Ui, target: &Target) -> Inventory {
    let bar = ui.progress("reading", None);
    let inv = portcullis_inventory::collect(target, &mut |p| {
        match p {
            Progress::Reading(f) => bar.set_message(format!("reading {f}")),
            Progress::ReadingRoot(r) => {
                bar.set_message(format!("reading packages under {}", r.display()))
            }
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    ui.diagnostics(&inv.diagnostics);
    if let Some(os) = &inv.os {
        ui.detail(&format!(
            "distribution: {} ({})",
            os.pretty_name.as_deref().unwrap_or(&os.id),
            os.osv_ecosystem()
                .unwrap_or_else(|| "no OSV ecosystem".into())
        ));
    }
    for s in &inv.sources {
        ui.detail(&format!("read {s}"));
    }
    inv
}

fn write_output(output: Option<&Path>, text: &str) -> Result<(), Failure> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            Failure::usage(format!(
                "cannot write {}: {e}; check the directory exists and is writable",
                path.display()
            ))
        }),
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            Ok(())
        }
    }
}

fn load_policy(ui: &Ui, a: &ScanArgs, target: &Target) -> Result<portcullis_vex::Policy, Failure> {
    let mut files = a.ignore_files.clone();
    if files.is_empty() {
        if let Some(first) = target.paths.first().filter(|p| p.is_dir()) {
            let default = first.join("portcullis.toml");
            if default.is_file() {
                ui.detail(&format!("using accepted risks from {}", default.display()));
                files.push(default);
            }
        }
    }
    let mut policy = portcullis_vex::Policy::new();
    for f in files {
        match portcullis_vex::Policy::load(&f) {
            Ok(p) => policy.merge(p),
            Err(e) => return Err(Failure::usage(e.to_string())),
        }
    }
    ui.diagnostics(policy.diagnostics());
    Ok(policy)
}

pub fn run_scan(ui: &Ui, g: &Global, a: &ScanArgs) -> Result<u8, Failure> {
    let target = target_of(&a.target);
    let policy = load_policy(ui, a, &target)?;
    let inv = take_stock(ui, &target);
    if inv.sources.is_empty() && inv.packages.is_empty() {
        if inv.is_partial() {
            return Err(Failure::usage(
                "nothing could be read; see the errors above",
            ));
        }
        ui.warn(&format!(
            "no lockfiles, manifests, SBOMs or package databases found in {}",
            describe(&target)
        ));
    }
    let database = db::open_for_scan(ui, g)?;
    let now = jiff::Timestamp::now();
    let sources = database.sources()?;
    let stale = db::stale_sources(&sources, now);
    for (name, days, as_of) in &stale {
        ui.warn(&format!(
            "vulnerability data from {name} is {days} days old (as of {}): run `portcullis db update` when online",
            as_of.get(..10).unwrap_or(as_of)
        ));
    }
    let bar = ui.progress("matching", None);
    let outcome = portcullis_vulndb::match_packages(
        &database,
        &inv.packages,
        &portcullis_vulndb::MatchOptions { now },
    )?;
    bar.finish_and_clear();
    ui.diagnostics(&outcome.diagnostics);
    if outcome.unknown_versions > 0 {
        ui.note(&format!(
            "{} packages have no exact version (unpinned or unresolved) and were not matched",
            outcome.unknown_versions
        ));
    }
    let mut findings = outcome.findings;
    let today = now.strftime("%Y-%m-%d").to_string();
    let policy_diags = portcullis_vex::apply(&policy, &mut findings, &today);
    ui.diagnostics(&policy_diags);

    let mut diagnostics = inv.diagnostics.clone();
    diagnostics.extend(outcome.diagnostics);
    diagnostics.extend(policy_diags);
    let partial = inv.is_partial();
    let report = ScanReport {
        tool_version: VERSION.to_string(),
        target: describe(&target),
        scanned_at: now.to_string(),
        package_count: inv.packages.len(),
        packages: if a.list_packages {
            inv.packages.clone()
        } else {
            Vec::new()
        },
        findings,
        diagnostics,
        data_sources: sources
            .iter()
            .map(|s| DataSource {
                name: s.name.clone(),
                records: s.records,
                last_updated: s.data_as_of.clone().or_else(|| Some(s.updated_at.clone())),
                age_days: db::age_days(s.data_as_of.as_deref().or(Some(&s.updated_at)), now),
            })
            .collect(),
        partial,
        stale_data: !stale.is_empty(),
    };
    let text = match a.format {
        ScanFormat::Table => portcullis_report::table(
            &report,
            &portcullis_report::TableOptions {
                color: a.output.is_none() && ui.out_color,
                width: terminal_width(),
                diagnostics: false,
            },
        ),
        ScanFormat::Json => portcullis_report::json(
            &report,
            &portcullis_report::JsonOptions {
                include_packages: a.list_packages,
                pretty: true,
            },
        ),
        ScanFormat::Sarif => portcullis_report::sarif(&report),
        ScanFormat::Cyclonedx => portcullis_sbom::write_cyclonedx(
            &subject(&report.target, &report.scanned_at),
            &inv.packages,
            &report.findings,
        ),
    };
    write_output(a.output.as_deref(), &text)?;
    let over = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none() && f.severity >= a.fail_on)
        .count();
    Ok(if partial {
        EXIT_PARTIAL
    } else if over > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

fn subject(target: &str, created: &str) -> portcullis_sbom::SbomSubject {
    portcullis_sbom::SbomSubject {
        name: target.to_string(),
        tool_version: VERSION.to_string(),
        created: created.to_string(),
    }
}

fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w: &usize| *w >= 40)
        .or(Some(120))
}

pub fn run_sbom(ui: &Ui, _g: &Global, a: &SbomArgs) -> Result<u8, Failure> {
    let target = target_of(&a.target);
    let inv = take_stock(ui, &target);
    if inv.sources.is_empty() && inv.packages.is_empty() && inv.is_partial() {
        return Err(Failure {
            message: "nothing could be read; see the errors above".into(),
            code: EXIT_USAGE,
        });
    }
    let now = jiff::Timestamp::now().to_string();
    let subj = subject(&describe(&target), &now);
    let text = match a.format {
        SbomFormat::Cyclonedx => portcullis_sbom::write_cyclonedx(&subj, &inv.packages, &[]),
        SbomFormat::Spdx => portcullis_sbom::write_spdx(&subj, &inv.packages),
    };
    write_output(a.output.as_deref(), &text)?;
    ui.detail(&format!("{} packages written", inv.packages.len()));
    Ok(if inv.is_partial() {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}
