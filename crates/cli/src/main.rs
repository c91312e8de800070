//! The `portcullis` command: argument parsing and wiring, nothing else.
//!
//! Exit codes (the README's table):
//! - 0: done, nothing at or above `--fail-on`;
//! - 1: findings at or above `--fail-on`;
//! - 2: usage error, or no input could be read at all;
//! - 3: partial: some input could not be read (the report says which);
//! - 4: `agent run` only: the server revoked this machine's token.

mod agent;
mod assess;
mod cli;
mod db;
mod hunt;
mod practice;
mod scan;
mod serve;
mod ui;

use clap::Parser;

/// mimalloc: the readers and the Sigma engine allocate many small strings
/// per event from both worker threads; it is measurably faster than the
/// system allocator there (see `docs/benchmarks.md`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// Exit code: done, nothing at or above `--fail-on`.
pub const EXIT_OK: u8 = 0;
/// Exit code: findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage error, or nothing could be read.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: partial results (some input could not be read).
pub const EXIT_PARTIAL: u8 = 3;

/// A failure the CLI reports as one line and an exit code.
#[derive(Debug)]
pub struct Failure {
    /// The one line to print (without the `error: ` prefix).
    pub message: String,
    /// The exit code.
    pub code: u8,
}

impl Failure {
    /// A usage error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: EXIT_USAGE,
        }
    }
}

impl From<portcullis_vulndb::DbError> for Failure {
    fn from(e: portcullis_vulndb::DbError) -> Self {
        Failure::usage(e.to_string())
    }
}

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => EXIT_USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let ui = ui::Ui::new(&args.global);
    let result = match &args.command {
        cli::Command::Scan(a) => scan::run_scan(&ui, &args.global, a),
        cli::Command::Sbom(a) => scan::run_sbom(&ui, &args.global, a),
        cli::Command::Db(a) => db::run(&ui, &args.global, a),
        cli::Command::Hunt(a) => hunt::run_hunt(&ui, &args.global, a),
        cli::Command::Rules(c) => hunt::run_rules(&ui, &args.global, c),
        cli::Command::Assess(a) => assess::run_assess(&ui, &args.global, a),
        cli::Command::Check(a) => assess::run_check(&ui, &args.global, a),
        cli::Command::Practice(a) => practice::run_practice(&ui, &args.global, a),
        cli::Command::Serve(a) => serve::run_serve(&ui, &args.global, a),
        cli::Command::Agent(c) => agent::run_agent(&ui, &args.global, c),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            ui.error(&f.message);
            ExitCode::from(f.code)
        }
    }
}
