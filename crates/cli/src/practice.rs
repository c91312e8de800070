//! `portcullis practice`: a repository scored against the Software Security
//! Code of Practice.

use crate::cli::Global;
use crate::ui::Ui;
use crate::{Failure, EXIT_FINDINGS, EXIT_OK, EXIT_PARTIAL};
use clap::{Args, ValueEnum};
use portcullis_practice::{Format, Options};
use std::io::Write;
use std::path::PathBuf;

/// Report formats of `practice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PracticeFormat {
    /// A table for people.
    Table,
    /// The JSON document (schema portcullis.practice/v1).
    Json,
    /// SARIF 2.1.0: file-located findings for code scanning.
    Sarif,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// Arguments of `portcullis practice`.
#[derive(Debug, Args)]
pub struct PracticeArgs {
    /// The repository to judge.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
    /// Report format.
    #[arg(short, long, value_enum, default_value_t = PracticeFormat::Table)]
    pub format: PracticeFormat,
    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with 1 when the overall score (0-100) is below N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub fail_under: Option<u32>,
    /// Scan only the working tree for secrets, not every blob of the history.
    #[arg(long)]
    pub no_history: bool,
    /// Do not match dependencies against the vulnerability database.
    #[arg(long)]
    pub no_vulns: bool,
}

pub fn run_practice(ui: &Ui, g: &Global, a: &PracticeArgs) -> Result<u8, Failure> {
    if !a.path.is_dir() {
        return Err(Failure::usage(format!(
            "{}: not a directory; name the root of a repository",
            a.path.display()
        )));
    }
    let bar = ui.progress("judging the repository", None);
    let options = Options {
        db: g.db.clone(),
        vulnerabilities: !a.no_vulns,
        history: !a.no_history,
    };
    let report = portcullis_practice::judge(&a.path, &options);
    bar.finish_and_clear();
    ui.diagnostics(&report.diagnostics);
    for u in &report.unknown {
        ui.note(u);
    }
    let format = match a.format {
        PracticeFormat::Table => Format::Table,
        PracticeFormat::Json => Format::Json,
        PracticeFormat::Sarif => Format::Sarif,
        PracticeFormat::Markdown => Format::Markdown,
    };
    let text = portcullis_practice::render(
        &report,
        format,
        a.output.is_none() && ui.out_color && format == Format::Table,
    );
    match &a.output {
        Some(path) => std::fs::write(path, &text).map_err(|e| {
            Failure::usage(format!(
                "cannot write {}: {e}; check the directory exists and is writable",
                path.display()
            ))
        })?,
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
    if let Some(n) = a.fail_under {
        if report.score.unwrap_or(0) < n {
            ui.note(&format!(
                "score {} is below --fail-under {n}",
                report.score.map_or("n/a".to_string(), |s| s.to_string())
            ));
            return Ok(EXIT_FINDINGS);
        }
    }
    Ok(if report.is_partial() {
        EXIT_PARTIAL
    } else {
        EXIT_OK
    })
}
