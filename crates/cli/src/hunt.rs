//! `portcullis hunt` and `portcullis rules`.
//!
//! Exit codes of `hunt`: 0 nothing at or above `--fail-level`; 1 a detection
//! at or above `--fail-level`; 2 usage error, or no input could be read; 3
//! some input could not be read (takes precedence over 1, as in `scan`).
//! `rules check`: 0 every rule loads; 3 some rules were skipped (listed);
//! 2 usage error or no rule could be read.

use crate::cli::Global;
use crate::ui::Ui;
use crate::{Failure, EXIT_FINDINGS, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE};
use clap::{Args, Subcommand, ValueEnum};
use portcullis_hunt::{bundled, output, Detection, Hunt, HuntOptions, Level, Mapping};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

/// Output format of `hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HuntFormat {
    /// A timeline for people, sorted by time, with summaries per rule and host.
    Table,
    /// One JSON object per detection (docs/formats/hunt-json.md).
    Jsonl,
    /// One CSV row per detection, with a header.
    Csv,
}

/// A Sigma level on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    /// informational
    Informational,
    /// low
    Low,
    /// medium
    Medium,
    /// high
    High,
    /// critical
    Critical,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::Informational => Level::Informational,
            LevelArg::Low => Level::Low,
            LevelArg::Medium => Level::Medium,
            LevelArg::High => Level::High,
            LevelArg::Critical => Level::Critical,
        }
    }
}

/// Arguments of `portcullis hunt`.
///
/// Reads Windows EVTX (and its JSON exports), Linux auth logs (syslog, RFC
/// 5424, journald JSON, gzip) and Entra ID sign-in JSON; directories are
/// walked with the format detected per file; `-` reads standard input.
/// Exit codes: 0 nothing at or above --fail-level; 1 a detection at or above
/// it; 2 usage error or nothing readable; 3 some input unreadable.
#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Log files or directories (`-` for standard input).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Sigma rule files or trees (SigmaHQ layout); repeatable. When given,
    /// the bundled rules do not run unless --bundled is also given.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Also run the bundled rules when --rules is given.
    #[arg(long)]
    pub bundled: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = HuntFormat::Table)]
    pub format: HuntFormat,
    /// Report only detections at or above this level.
    #[arg(long, value_enum, default_value_t = LevelArg::Low)]
    pub min_level: LevelArg,
    /// Exit with 1 when a detection at or above this level fired.
    #[arg(long, value_enum, default_value_t = LevelArg::High)]
    pub fail_level: LevelArg,
    /// A field-mapping table replacing the built-in one (format: crates/hunt/README.md).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Set a bundled rule's threshold, e.g. win_spray_4625.users=20
    /// (`portcullis rules settings` lists them with their defaults).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// A file of `name: value` lines setting bundled rule thresholds.
    #[arg(long, value_name = "FILE")]
    pub rules_config: Option<PathBuf>,
    /// The year of syslog lines that carry none [default: inferred from the file's time].
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,
    /// Worker threads [default: one per core].
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Most correlation groups held in memory at once (oldest evicted, reported).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub correlation_cap: usize,
    /// Read and count events only, without rules (benchmarks).
    #[arg(long, hide = true)]
    pub parse_only: bool,
}

/// `portcullis rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load a Sigma rule tree and list the rules that cannot be used, with the reason.
    ///
    /// Exit codes: 0 every rule loads; 3 some rules were skipped; 2 nothing could be read.
    Check {
        /// Rule directories or files.
        #[arg(value_name = "DIR", required = true)]
        paths: Vec<PathBuf>,
        /// Check against this field-mapping table instead of the built-in one.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
    },
    /// List the bundled rules' tunable thresholds with their defaults.
    Settings,
}

fn load_mapping(path: Option<&PathBuf>) -> Result<Mapping, Failure> {
    match path {
        None => Ok(Mapping::builtin()),
        Some(p) => Mapping::load(p).map_err(|d| Failure::usage(d.to_string())),
    }
}

fn is_partial(report: &portcullis_hunt::HuntReport) -> bool {
    !report.unreadable.is_empty() || report.diagnostics.iter().any(|d| d.is_error())
}

pub fn run_hunt(ui: &Ui, _g: &Global, a: &HuntArgs) -> Result<u8, Failure> {
    let started = Instant::now();
    let mapping = load_mapping(a.mapping.as_ref())?;
    let config = match &a.rules_config {
        Some(p) => Some((
            p.display().to_string(),
            std::fs::read_to_string(p).map_err(|e| {
                Failure::usage(format!(
                    "{}: error: cannot read the rules config: {e}",
                    p.display()
                ))
            })?,
        )),
        None => None,
    };
    let settings = bundled::parse_settings(
        &a.set,
        config.as_ref().map(|(p, t)| (p.as_str(), t.as_str())),
    )
    .map_err(|d| Failure::usage(d.to_string()))?;
    let use_bundled = a.rules.is_empty() || a.bundled;
    if !settings.is_empty() && !use_bundled {
        ui.warn("--set/--rules-config tune the bundled rules, which do not run with --rules unless --bundled is given");
    }
    let options = HuntOptions {
        rule_paths: a.rules.clone(),
        bundled: use_bundled,
        settings,
        mapping,
        min_level: a.min_level.into(),
        threads: a.threads.unwrap_or(0),
        year: a.year,
        parse_only: a.parse_only,
        correlation_state_cap: a.correlation_cap.max(1),
        ..HuntOptions::default()
    };
    let (hunt, issues) = Hunt::new(options);
    if !issues.is_empty() {
        let diags: Vec<_> = issues
            .iter()
            .map(portcullis_hunt::issue_diagnostic)
            .collect();
        if use_bundled && a.rules.is_empty() {
            // Bundled rules must all load: show every problem.
            ui.diagnostics(&diags);
        } else {
            ui.note(&format!(
                "{} rules skipped (unsupported, malformed or no mapping for their logsource); `portcullis rules check` lists them",
                issues.len()
            ));
            if ui.verbose > 0 {
                ui.diagnostics(&diags);
            }
        }
    }
    if hunt.rule_count() == 0 && !a.parse_only {
        return Err(Failure::usage(
            "no usable rules were loaded; see the messages above",
        ));
    }
    ui.detail(&format!("{} rules loaded", hunt.rule_count()));

    let fail_level: Level = a.fail_level.into();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed = false;
    let mut table: Vec<Detection> = Vec::new();
    let mut write_error: Option<std::io::Error> = None;
    if a.format == HuntFormat::Csv {
        if let Err(e) = writeln!(out, "{}", output::CSV_HEADER) {
            write_error = Some(e);
        }
    }
    let bar = ui.progress("hunting", None);
    let report = hunt.run(&a.paths, &mut |d: Detection| {
        failed |= d.level >= fail_level;
        bar.inc(1);
        if write_error.is_some() {
            return;
        }
        let r = match a.format {
            HuntFormat::Jsonl => output::write_jsonl(&mut out, &d),
            HuntFormat::Csv => output::write_csv(&mut out, &d),
            HuntFormat::Table => {
                table.push(d);
                Ok(())
            }
        };
        if let Err(e) = r {
            write_error = Some(e);
        }
    });
    bar.finish_and_clear();
    if a.format == HuntFormat::Table && write_error.is_none() {
        if let Err(e) = output::write_table(&mut out, &mut table, ui.out_color) {
            write_error = Some(e);
        }
    }
    if let Err(e) = out.flush() {
        write_error.get_or_insert(e);
    }
    drop(out);
    if let Some(e) = write_error {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(Failure::usage(format!("cannot write the output: {e}")));
        }
    }

    ui.diagnostics(&report.diagnostics);
    for p in &report.unreadable {
        ui.error(&format!("{}: {}", p.path, p.message));
    }
    if report.correlation.state_cap_hits > 0 {
        ui.warn(&format!(
            "correlation state cap ({} groups) reached {} times: the oldest groups were dropped, so some correlations may be missed; raise --correlation-cap",
            a.correlation_cap, report.correlation.state_cap_hits
        ));
    }
    if report.correlation.late_events > 0 || report.buffer_flushes > 0 {
        ui.warn(&format!(
            "{} matched events arrived out of time order after the ordering buffer was flushed; correlations over them may be missed",
            report.correlation.late_events
        ));
    }
    if report.events_without_time > 0 {
        ui.note(&format!(
            "{} matched events had no time and were left out of correlations",
            report.events_without_time
        ));
    }
    if report.files_unrecognised > 0 {
        ui.detail(&format!(
            "{} files in the given directories are not a log format Portcullis reads; skipped",
            report.files_unrecognised
        ));
    }
    let secs = started.elapsed().as_secs_f64();
    ui.note(&format!(
        "{} events in {} files, {} detections, {:.2} s ({:.0} events/s)",
        report.events,
        report.files_read,
        report.detections,
        secs,
        report.events as f64 / secs.max(1e-9)
    ));
    if report.files_read == 0 {
        return Err(Failure::usage(
            "nothing could be read; give EVTX, Windows event JSON, syslog auth logs, journald JSON or Entra sign-in JSON",
        ));
    }
    Ok(if is_partial(&report) {
        EXIT_PARTIAL
    } else if failed {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

pub fn run_rules(ui: &Ui, _g: &Global, c: &RulesCommand) -> Result<u8, Failure> {
    match c {
        RulesCommand::Settings => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{:<36}  {:<8}  RULE FILE", "SETTING", "DEFAULT");
            for t in bundled::tunables() {
                let _ = writeln!(out, "{:<36}  {:<8}  {}", t.name, t.default, t.file);
            }
            Ok(EXIT_OK)
        }
        RulesCommand::Check { paths, mapping } => {
            let mapping = load_mapping(mapping.as_ref())?;
            for p in paths {
                if std::fs::metadata(p).is_err() {
                    return Err(Failure::usage(format!(
                        "{}: error: cannot read; give a rule file or directory",
                        p.display()
                    )));
                }
            }
            let (loaded, issues) = portcullis_hunt::check_rules(paths, &mapping);
            let mut out = std::io::stdout().lock();
            for i in &issues {
                let _ = writeln!(out, "{}", portcullis_hunt::issue_line(i));
            }
            let _ = writeln!(out, "{loaded} rules usable, {} skipped", issues.len());
            if loaded == 0 && !issues.is_empty() {
                ui.error("no rule could be used");
                return Ok(EXIT_USAGE);
            }
            Ok(if issues.is_empty() {
                EXIT_OK
            } else {
                EXIT_PARTIAL
            })
        }
    }
}
