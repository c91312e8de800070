//! `portcullis practice`. (Being implemented.)

use crate::cli::Global;
use crate::ui::Ui;
use crate::Failure;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `portcullis practice`.
#[derive(Debug, Args)]
pub struct PracticeArgs {
    /// The repository to judge.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
}

pub fn run_practice(_ui: &Ui, _g: &Global, _a: &PracticeArgs) -> Result<u8, Failure> {
    Err(Failure::usage("practice is not built yet"))
}
