//! `portcullis agent`: enrol this machine and report to `portcullis serve`.

use clap::Subcommand;

use crate::cli::Global;
use crate::ui::Ui;
use crate::Failure;

/// `portcullis agent` subcommands.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Exchange an enrolment token for this machine's own host token.
    Enrol,
    /// Run in the foreground: assess, scan, follow logs and submit.
    Run,
}

/// Runs an agent subcommand.
pub fn run_agent(_ui: &Ui, _g: &Global, _c: &AgentCommand) -> Result<u8, Failure> {
    Err(Failure::usage("the agent is being built (issue 7)"))
}
