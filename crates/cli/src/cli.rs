//! Command-line definitions.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Portcullis: find vulnerable software, offline.
///
/// Exit codes: 0 nothing at or above --fail-on; 1 findings at or above
/// --fail-on; 2 usage error or no input readable; 3 partial results (some
/// input could not be read).
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options for every command.
#[derive(Debug, Args)]
pub struct Global {
    /// Print only results and errors (no progress, notes or warnings).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail: every diagnostic, files read, timings.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// The vulnerability database file [default: $PORTCULLIS_DB, else the user data directory].
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find vulnerable software in lockfiles, SBOMs and installed OS packages.
    ///
    /// With no PATH, the current directory is searched for lockfiles and
    /// manifests. Add --root / to include this machine's installed packages.
    Scan(ScanArgs),
    /// Write an SBOM (CycloneDX 1.6 or SPDX 2.3 JSON) of what is installed or bundled.
    Sbom(SbomArgs),
    /// Manage the local vulnerability database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Find attacks (password spraying, brute force…) in Windows, Linux and cloud sign-in logs with Sigma rules.
    Hunt(crate::hunt::HuntArgs),
    /// Work with Sigma rule trees.
    #[command(subcommand)]
    Rules(crate::hunt::RulesCommand),
    /// Judge a machine against the Cyber Essentials v3.3 technical controls.
    Assess(crate::assess::AssessArgs),
    /// The one command for a non-expert: assess, scan and hunt this machine, one plain report.
    Check(crate::assess::CheckArgs),
    /// Score a software project against the Software Security Code of Practice.
    Practice(crate::practice::PracticeArgs),
    /// Run the multi-tenant web service (pages for people, JSON API for agents).
    ///
    /// With no options: a SQLite database in the data directory, listening
    /// on 127.0.0.1:8080. The first start creates the site admin and prints
    /// its password once.
    Serve(crate::serve::ServeArgs),
    /// Report this machine to a `portcullis serve` continuously.
    #[command(subcommand)]
    Agent(crate::agent::AgentCommand),
}

/// What to take stock of (shared by scan and sbom).
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Directories to search for lockfiles and manifests, or single lockfiles and SBOMs.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also read the installed OS packages under this root directory (`/` for this machine,
    /// or an unpacked image or mounted disk).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Also search node_modules, vendor and similar directories normally skipped.
    #[arg(long)]
    pub include_skipped: bool,
}

/// Report formats of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// A table for people.
    Table,
    /// The stable JSON document (schema portcullis.scan/v1).
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// CycloneDX 1.6 JSON with a vulnerabilities section.
    Cyclonedx,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Report format.
    #[arg(short, long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with 1 when an open finding is at or above this severity
    /// (critical, high, medium, low, none, unknown = any finding).
    #[arg(long, value_name = "SEVERITY", default_value = "unknown")]
    pub fail_on: portcullis_model::Severity,
    /// Accepted risks: a portcullis.toml ignore file, an OpenVEX or a CycloneDX VEX document
    /// (repeatable). Default: portcullis.toml in the first scanned directory, if present.
    #[arg(long = "ignore-file", visible_alias = "vex", value_name = "FILE")]
    pub ignore_files: Vec<PathBuf>,
    /// List every package in the JSON report.
    #[arg(long)]
    pub list_packages: bool,
}

/// SBOM formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// SBOM format.
    #[arg(short, long, value_enum, default_value_t = SbomFormat::Cyclonedx)]
    pub format: SbomFormat,
    /// Write the SBOM to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Import OSV records: JSON files, directories of them, or OSV's per-ecosystem all.zip archives.
    Import(ImportArgs),
    /// Download OSV's per-ecosystem archives and import them (needs the network).
    Update(UpdateArgs),
    /// Show sources, record counts and the age of the data.
    Status(StatusArgs),
    /// Show one stored OSV record by ID or alias.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files, directories or all.zip archives.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The source name to file the records under [default: the file or directory name].
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Ecosystems to download, as OSV names them (crates.io, npm, PyPI, Go, Maven, Debian…)
    /// [default: those already downloaded, else the common language ecosystems plus this
    /// machine's distribution].
    #[arg(short, long = "ecosystem", value_name = "NAME")]
    pub ecosystems: Vec<String>,
    /// Base URL of an OSV mirror (archives at BASE/ECOSYSTEM/all.zip).
    #[arg(long, value_name = "URL", env = "PORTCULLIS_OSV_URL", default_value = portcullis_vulndb::DEFAULT_OSV_URL)]
    pub mirror: String,
    /// Time limit for each download, in seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = StatusFormat::Table)]
    pub format: StatusFormat,
}

/// Formats of `db status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// For people.
    Table,
    /// JSON.
    Json,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A record ID or alias (GHSA-…, CVE-…, RUSTSEC-…).
    pub id: String,
}
