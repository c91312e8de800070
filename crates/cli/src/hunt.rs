//! `portcullis hunt` and `portcullis rules`. (Being implemented.)

use crate::cli::Global;
use crate::ui::Ui;
use crate::Failure;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Arguments of `portcullis hunt`.
#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Log files or directories (`-` for standard input).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// `portcullis rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load a Sigma rule tree and list the rules that cannot be used, with the reason.
    Check {
        /// Rule directories or files.
        #[arg(value_name = "DIR", required = true)]
        paths: Vec<PathBuf>,
    },
}

pub fn run_hunt(_ui: &Ui, _g: &Global, _a: &HuntArgs) -> Result<u8, Failure> {
    Err(Failure::usage("hunt is not built yet"))
}

pub fn run_rules(_ui: &Ui, _g: &Global, _c: &RulesCommand) -> Result<u8, Failure> {
    Err(Failure::usage("rules is not built yet"))
}
