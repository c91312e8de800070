//! `portcullis agent`: enrol this machine and report to `portcullis serve`.
//!
//! The CLI turns arguments into a `portcullis_agent::run::RunOptions` and
//! supplies the two collectors (assess and scan of the root, the same JSON
//! `portcullis assess --format json` and `portcullis scan --root / --format
//! json` write); everything else (queue, delivery, log following) is in
//! `portcullis-agent`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use portcullis_agent::run::{Collector, RunOptions};
use portcullis_agent::state::{default_state_dir, Config, StateDir};

use crate::cli::{ColorChoice, Global};
use crate::ui::Ui;
use crate::{db, Failure, EXIT_OK};

/// `portcullis agent` subcommands.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Exchange an enrolment token for this machine's own host token.
    ///
    /// The host token is stored in the state directory with owner-only
    /// permissions and never printed.
    Enrol(EnrolArgs),
    /// Run in the foreground: assess, scan, follow logs and submit.
    ///
    /// Exit codes: 0 stopped (with --once: everything delivered); 2 usage or
    /// configuration error (not enrolled); 3 (--once) some submissions are
    /// still queued; 4 the server revoked this machine's host token (enrol again).
    Run(RunArgs),
    /// Print one submission body (JSON) on standard output: the agent runs
    /// this in a child process, so the memory a scan needs is returned
    /// when it ends.
    #[command(hide = true)]
    Collect(CollectArgs),
}

/// Options of the hidden `portcullis agent collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// `assessment` or `scan`.
    pub kind: String,
    /// The root to assess and scan.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Assess this Windows evidence archive instead of the root.
    #[arg(long, value_name = "FILE")]
    pub windows_evidence: Option<PathBuf>,
}

/// Options of `portcullis agent enrol`.
#[derive(Debug, Args)]
pub struct EnrolArgs {
    /// The server's base URL, e.g. https://portcullis.example.org.
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// The enrolment token from your organisation admin (`pce_…`).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "PORTCULLIS_ENROL_TOKEN",
        hide_env_values = true
    )]
    pub token: String,
    /// The name this machine reports as [default: its host name].
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Where the configuration, token and queue live
    /// [default: /var/lib/portcullis-agent as root, else the user data directory].
    #[arg(long, value_name = "DIR", env = "PORTCULLIS_AGENT_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Trust only this CA certificate (PEM) for the server's TLS certificate
    /// [default: the system's CA bundle].
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

/// Options of `portcullis agent run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The state directory written by `agent enrol`.
    #[arg(long, value_name = "DIR", env = "PORTCULLIS_AGENT_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// How often to assess and scan (e.g. 6h, 30m, 1d; at least 1m). They
    /// also run at once after installed packages change.
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = parse_duration)]
    pub interval: Duration,
    /// An authentication log to follow (repeatable) [default: /var/log/auth.log
    /// and /var/log/secure where present, else journald].
    #[arg(long = "log", value_name = "FILE")]
    pub logs: Vec<PathBuf>,
    /// Follow journald's auth and authpriv facilities (journalctl, with a saved cursor).
    #[arg(long)]
    pub journal: bool,
    /// An exported Windows event log (EVTX, e.g. from `wevtutil epl Security`) to
    /// hunt whenever it changes (repeatable); detections already sent are not sent again.
    #[arg(long = "evtx", value_name = "FILE")]
    pub evtx: Vec<PathBuf>,
    /// Assess this Windows evidence archive (from scripts/windows/collect-evidence.ps1,
    /// refreshed by the scheduled task) instead of the root; no package scan.
    #[arg(long, value_name = "FILE")]
    pub windows_evidence: Option<PathBuf>,
    /// One round: assess, scan, read the logs to their end, deliver, exit.
    #[arg(long)]
    pub once: bool,
    /// A hunt threshold, NAME=VALUE (repeatable; `portcullis rules settings` lists them).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// The most disk the queue may use, in MiB (oldest submissions are dropped beyond it, and reported).
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub max_queue_mib: u64,
    /// The longest wait between delivery attempts, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, hide = true)]
    pub max_backoff: u64,
    /// The root to assess and scan (tests).
    #[arg(long, value_name = "DIR", default_value = "/", hide = true)]
    pub root: PathBuf,
    /// Do not assess or scan (follow logs only).
    #[arg(long)]
    pub no_collect: bool,
}

/// `6h`, `30m`, `90s`, `1d`, or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}`: write a number and a unit, e.g. 6h, 30m, 1d"))?;
    let mult = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}`: the unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(n.saturating_mul(mult)))
}

fn host_name() -> String {
    let from_file = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

fn agent_failure(e: portcullis_agent::AgentError) -> Failure {
    Failure::usage(e.to_string())
}

fn enrol(ui: &Ui, a: &EnrolArgs) -> Result<u8, Failure> {
    let dir = a.state_dir.clone().unwrap_or_else(default_state_dir);
    let host = a.host.clone().unwrap_or_else(host_name);
    let ca = match &a.ca {
        Some(p) => Some(std::fs::canonicalize(p).map_err(|e| {
            Failure::usage(format!("{}: cannot read the CA file: {e}", p.display()))
        })?),
        None => None,
    };
    let client =
        portcullis_agent::client::Client::new(&a.server, ca.as_deref()).map_err(agent_failure)?;
    let state = StateDir::create(&dir).map_err(agent_failure)?;
    let (host, token_id, secret) = client.enrol(a.token.trim(), &host).map_err(agent_failure)?;
    let config = Config {
        server: client.base().to_owned(),
        host: host.clone(),
        ca,
        token_id,
    };
    state.save(&config, &secret).map_err(agent_failure)?;
    ui.note(&format!(
        "enrolled as {host} with {} (host token {token_id}); configuration and token saved in {} (owner-only). Start the agent with `portcullis agent run`",
        config.server,
        dir.display()
    ));
    Ok(EXIT_OK)
}

/// A quiet `Global` for the collectors (they run on their own thread).
fn quiet_global(db: Option<PathBuf>) -> Global {
    Global {
        quiet: true,
        verbose: 0,
        color: ColorChoice::Never,
        db,
    }
}

fn match_vulns(
    g: &Global,
    packages: &[portcullis_model::Package],
    now: jiff::Timestamp,
) -> Result<
    (
        Vec<portcullis_model::Finding>,
        Vec<portcullis_vulndb::SourceStatus>,
    ),
    String,
> {
    let ui = Ui::new(g);
    let database = db::open_for_scan(&ui, g).map_err(|f| f.message)?;
    let sources = database.sources().map_err(|e| e.to_string())?;
    let o = portcullis_vulndb::match_packages(
        &database,
        packages,
        &portcullis_vulndb::MatchOptions { now },
    )
    .map_err(|e| e.to_string())?;
    Ok((o.findings, sources))
}

/// The assessment of `root`: `portcullis assess --format json`'s document
/// (the server's ingest API accepts it as it is).
fn assess_collector(root: PathBuf, db: Option<PathBuf>) -> Collector {
    Box::new(move || {
        let g = quiet_global(db.clone());
        let host = portcullis_assess::Host::open(&root);
        let now = jiff::Timestamp::now();
        let vulns = if host.packages.is_empty() {
            portcullis_assess::VulnScan::Unavailable(
                "no installed packages could be read under the root".into(),
            )
        } else {
            match match_vulns(&g, &host.packages, now) {
                Ok((f, _)) => portcullis_assess::VulnScan::Findings(f),
                Err(e) => portcullis_assess::VulnScan::Unavailable(e),
            }
        };
        let a = portcullis_assess::assess(
            &host,
            &portcullis_assess::Options {
                now: now.as_second(),
                vulns,
            },
        );
        serde_json::from_str(&portcullis_assess::report::json(&a))
            .map_err(|e| format!("the assessment did not serialise: {e}"))
    })
}

/// The assessment of a Windows evidence archive, as `portcullis assess
/// --windows-evidence FILE --format json` writes it.
fn windows_collector(zip: PathBuf) -> Collector {
    Box::new(move || {
        let (a, _diags) =
            portcullis_assess::assess_windows(&zip, jiff::Timestamp::now().as_second())
                .map_err(|e| format!("{}: {e}", zip.display()))?;
        serde_json::from_str(&portcullis_assess::report::json(&a))
            .map_err(|e| format!("the assessment did not serialise: {e}"))
    })
}

/// The scan of the installed OS packages under `root`: `portcullis scan
/// --root ROOT --format json`'s document.
fn scan_collector(root: PathBuf, db: Option<PathBuf>) -> Collector {
    Box::new(move || {
        let g = quiet_global(db.clone());
        let target = portcullis_inventory::Target {
            paths: Vec::new(),
            root: Some(root.clone()),
            include_skipped: false,
        };
        let inv = portcullis_inventory::collect(&target, &mut |_| {});
        let now = jiff::Timestamp::now();
        let (findings, sources) = if inv.packages.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            match_vulns(&g, &inv.packages, now)?
        };
        let stale = db::stale_sources(&sources, now);
        let report = portcullis_report::ScanReport {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            target: format!("root {}", root.display()),
            scanned_at: now.to_string(),
            package_count: inv.packages.len(),
            packages: Vec::new(),
            findings,
            diagnostics: inv.diagnostics.clone(),
            data_sources: sources
                .iter()
                .map(|s| portcullis_report::DataSource {
                    name: s.name.clone(),
                    records: s.records,
                    last_updated: s.data_as_of.clone().or_else(|| Some(s.updated_at.clone())),
                    age_days: db::age_days(s.data_as_of.as_deref().or(Some(&s.updated_at)), now),
                })
                .collect(),
            partial: inv.is_partial(),
            stale_data: !stale.is_empty(),
        };
        Ok(portcullis_report::json_value(
            &report,
            &portcullis_report::JsonOptions {
                include_packages: false,
                pretty: false,
            },
        ))
    })
}

/// Runs `portcullis agent collect KIND …` in a child process and returns
/// the JSON it prints.
fn child_collector(
    kind: &str,
    root: PathBuf,
    db: Option<PathBuf>,
    evidence: Option<PathBuf>,
) -> Collector {
    let kind = kind.to_owned();
    Box::new(move || {
        let exe = std::env::current_exe()
            .map_err(|e| format!("cannot find the portcullis executable: {e}"))?;
        let mut cmd = std::process::Command::new(exe);
        if let Some(db) = &db {
            cmd.arg("--db").arg(db);
        }
        cmd.args(["agent", "collect", &kind, "--root"]).arg(&root);
        if let Some(e) = &evidence {
            cmd.arg("--windows-evidence").arg(e);
        }
        let out = cmd
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run the collector: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "the collector failed ({}): {}",
                out.status,
                err.trim().chars().take(500).collect::<String>()
            ));
        }
        serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("the collector's output is not JSON: {e}"))
    })
}

fn collect_once(g: &Global, a: &CollectArgs) -> Result<u8, Failure> {
    let c = match (a.kind.as_str(), &a.windows_evidence) {
        ("assessment", Some(zip)) => windows_collector(zip.clone()),
        ("assessment", None) => assess_collector(a.root.clone(), g.db.clone()),
        ("scan", _) => scan_collector(a.root.clone(), g.db.clone()),
        (k, _) => {
            return Err(Failure::usage(format!(
                "{k}: the kind must be assessment or scan"
            )))
        }
    };
    let body = c().map_err(Failure::usage)?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &body)
        .map_err(|e| Failure::usage(format!("cannot write the result: {e}")))?;
    Ok(EXIT_OK)
}

fn default_logs() -> Vec<PathBuf> {
    ["/var/log/auth.log", "/var/log/secure"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect()
}

fn run(ui: &Ui, g: &Global, a: &RunArgs) -> Result<u8, Failure> {
    let dir = a.state_dir.clone().unwrap_or_else(default_state_dir);
    // Not enrolled: say so before anything else.
    StateDir::open(&dir).map_err(agent_failure)?;
    if a.interval < Duration::from_secs(60) {
        return Err(Failure::usage(
            "--interval must be at least 1m (assess and scan also run after package changes)",
        ));
    }
    let settings = portcullis_hunt::bundled::parse_settings(&a.set, None)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let mut logs = a.logs.clone();
    let mut journal = a.journal;
    if logs.is_empty() && !journal && a.evtx.is_empty() {
        logs = default_logs();
        if logs.is_empty() && Path::new("/run/systemd/journal").exists() {
            journal = true;
        }
        if logs.is_empty() && !journal {
            ui.warn("no authentication log found (/var/log/auth.log, /var/log/secure, journald): only assessment and scan are reported; give --log FILE or --journal");
        }
    }
    let collectors: Vec<(String, Collector)> = if a.no_collect {
        Vec::new()
    } else if let Some(zip) = &a.windows_evidence {
        vec![(
            "assessment".into(),
            child_collector(
                "assessment",
                a.root.clone(),
                g.db.clone(),
                Some(zip.clone()),
            ),
        )]
    } else {
        vec![
            (
                "assessment".into(),
                child_collector("assessment", a.root.clone(), g.db.clone(), None),
            ),
            (
                "scan".into(),
                child_collector("scan", a.root.clone(), g.db.clone(), None),
            ),
        ]
    };
    let quiet = ui.quiet;
    let opts = RunOptions {
        state_dir: dir,
        interval: a.interval,
        logs,
        journal: journal.then(|| PathBuf::from("journalctl")),
        exports: a.evtx.clone(),
        once: a.once,
        root: a.root.clone(),
        max_queue_bytes: a.max_queue_mib.max(1).saturating_mul(1 << 20),
        max_backoff: Duration::from_secs(a.max_backoff.max(1)),
        poll: Duration::from_secs(2),
        settings,
        collectors,
        log: Arc::new(move |m: &str| {
            if !quiet {
                eprintln!("portcullis agent: {m}");
            }
        }),
    };
    portcullis_agent::run::run(opts).map_err(agent_failure)
}

/// Runs an agent subcommand.
pub fn run_agent(ui: &Ui, g: &Global, c: &AgentCommand) -> Result<u8, Failure> {
    match c {
        AgentCommand::Enrol(a) => enrol(ui, a),
        AgentCommand::Run(a) => run(ui, g, a),
        AgentCommand::Collect(a) => collect_once(g, a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("6 hours").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("").is_err());
    }
}
