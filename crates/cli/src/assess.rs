//! `portcullis assess` and `portcullis check`. (Being implemented.)

use crate::cli::Global;
use crate::ui::Ui;
use crate::Failure;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `portcullis assess`.
#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The root directory to assess (`/` for this machine).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
}

/// Arguments of `portcullis check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Project directories to scan as well.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

pub fn run_assess(_ui: &Ui, _g: &Global, _a: &AssessArgs) -> Result<u8, Failure> {
    Err(Failure::usage("assess is not built yet"))
}

pub fn run_check(_ui: &Ui, _g: &Global, _a: &CheckArgs) -> Result<u8, Failure> {
    Err(Failure::usage("check is not built yet"))
}
