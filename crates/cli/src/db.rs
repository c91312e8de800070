//! `portcullis db …`, and opening the database for a scan.

use crate::cli::{DbCommand, Global, StatusFormat};
use crate::ui::Ui;
use crate::{Failure, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE};
use portcullis_vulndb::{Database, SourceStatus, Status, STALE_AFTER_DAYS};
use std::path::PathBuf;
use std::time::Duration;

pub fn db_path(g: &Global) -> PathBuf {
    g.db.clone()
        .unwrap_or_else(portcullis_vulndb::default_db_path)
}

/// Open the database for a scan; on first use, fill it from the bundled snapshot.
pub fn open_for_scan(ui: &Ui, g: &Global) -> Result<Database, Failure> {
    let path = db_path(g);
    let exists = path.exists();
    if exists {
        let db = Database::open_read_only(&path)?;
        if !db.is_empty()? {
            return Ok(db);
        }
    }
    let mut db = match Database::open(&path) {
        Ok(db) => db,
        Err(e) if !exists => {
            // The data directory is not writable: build a private copy.
            let tmp = std::env::temp_dir().join(format!("portcullis-{}.db", std::process::id()));
            ui.warn(&format!(
                "{e}; using a temporary database at {}",
                tmp.display()
            ));
            Database::open(&tmp)?
        }
        Err(e) => return Err(e.into()),
    };
    ui.note(&format!(
        "first run: building the vulnerability database at {} from the bundled snapshot",
        db.path().display()
    ));
    let bar = ui.progress("importing bundled OSV records", None);
    let report = db.import_bundled(&mut |p| bar.set_position(p.done as u64))?;
    bar.finish_and_clear();
    ui.detail(&format!("imported {} bundled records", report.added));
    Ok(db)
}

/// Open the database for writing; a new (empty) one is first filled from
/// the bundled snapshot, so that importing or downloading one ecosystem
/// does not leave the others without data.
fn open_for_write(ui: &Ui, g: &Global) -> Result<Database, Failure> {
    let mut db = Database::open(&db_path(g))?;
    if db.is_empty()? {
        ui.note(&format!(
            "new database at {}: adding the bundled snapshot first",
            db.path().display()
        ));
        let bar = ui.progress("importing bundled OSV records", None);
        db.import_bundled(&mut |p| bar.set_position(p.done as u64))?;
        bar.finish_and_clear();
    }
    Ok(db)
}

/// Sources older than the freshness limit: (name, days old, as of).
/// A source whose records have all been superseded by newer copies from
/// other sources no longer counts.
pub fn stale_sources(sources: &[SourceStatus], now: jiff::Timestamp) -> Vec<(String, i64, String)> {
    sources
        .iter()
        .filter(|s| s.records > 0)
        .filter_map(|s| {
            let as_of = s.data_as_of.as_deref().unwrap_or(&s.updated_at);
            let t: jiff::Timestamp = as_of.parse().ok()?;
            let days = now.duration_since(t).as_secs() / 86_400;
            (days > STALE_AFTER_DAYS).then(|| (s.name.clone(), days, as_of.to_string()))
        })
        .collect()
}

pub fn age_days(as_of: Option<&str>, now: jiff::Timestamp) -> Option<u64> {
    let t: jiff::Timestamp = as_of?.parse().ok()?;
    u64::try_from(now.duration_since(t).as_secs() / 86_400).ok()
}

pub fn run(ui: &Ui, g: &Global, cmd: &DbCommand) -> Result<u8, Failure> {
    match cmd {
        DbCommand::Import(a) => {
            let mut db = open_for_write(ui, g)?;
            let mut code = EXIT_OK;
            for path in &a.paths {
                let bar = ui.progress(&format!("importing {}", path.display()), None);
                let report = db.import_path(path, a.name.as_deref(), &mut |p| {
                    bar.set_position(p.done as u64);
                });
                bar.finish_and_clear();
                let report = report?;
                ui.diagnostics(&report.diagnostics);
                if report.diagnostics.iter().any(|d| d.is_error()) {
                    code = EXIT_PARTIAL;
                }
                if !ui.quiet {
                    println!(
                        "{}: {} records read: {} added, {} updated, {} unchanged, {} withdrawn, {} rejected (source {:?})",
                        path.display(),
                        report.read,
                        report.added,
                        report.updated,
                        report.unchanged,
                        report.withdrawn,
                        report.diagnostics.iter().filter(|d| d.is_error()).count(),
                        report.source
                    );
                }
            }
            Ok(code)
        }
        DbCommand::Update(a) => {
            let mut db = open_for_write(ui, g)?;
            let mut ecosystems = a.ecosystems.clone();
            if ecosystems.is_empty() {
                let status = db.status()?;
                ecosystems = status
                    .sources
                    .iter()
                    .filter_map(|s| s.name.strip_prefix("osv:").map(str::to_string))
                    .collect();
                if ecosystems.is_empty() {
                    ecosystems = default_ecosystems();
                }
            }
            ui.note(&format!(
                "downloading {} from {}",
                ecosystems.join(", "),
                a.mirror
            ));
            let bar = ui.progress("updating", None);
            let report = portcullis_vulndb::update(
                &mut db,
                &portcullis_vulndb::UpdateOptions {
                    base_url: a.mirror.clone(),
                    ecosystems,
                    timeout: Duration::from_secs(a.timeout),
                },
                &mut |eco, p| {
                    bar.set_message(format!("importing {eco}"));
                    bar.set_position(p.done as u64);
                },
            )?;
            bar.finish_and_clear();
            let mut failed = 0;
            for e in &report.ecosystems {
                match e {
                    portcullis_vulndb::EcosystemUpdate::Updated {
                        ecosystem,
                        bytes,
                        import,
                    } => {
                        ui.diagnostics(&import.diagnostics);
                        println!(
                            "{ecosystem}: downloaded {bytes} bytes; {} added, {} updated, {} unchanged, {} withdrawn",
                            import.added, import.updated, import.unchanged, import.withdrawn
                        );
                    }
                    portcullis_vulndb::EcosystemUpdate::NotModified { ecosystem } => {
                        println!("{ecosystem}: already up to date");
                    }
                    portcullis_vulndb::EcosystemUpdate::Failed { ecosystem, error } => {
                        failed += 1;
                        ui.error(&format!(
                            "{ecosystem}: {error}; the data for it was left as it was"
                        ));
                    }
                }
            }
            Ok(if report.all_failed() {
                EXIT_USAGE
            } else if failed > 0 {
                EXIT_PARTIAL
            } else {
                EXIT_OK
            })
        }
        DbCommand::Status(a) => {
            let path = db_path(g);
            if !path.exists() {
                return Err(Failure::usage(format!(
                    "no vulnerability database at {} yet: run `portcullis scan` (it builds one from the bundled snapshot) or `portcullis db import PATH`",
                    path.display()
                )));
            }
            let db = Database::open_read_only(&path)?;
            let status = db.status()?;
            let now = jiff::Timestamp::now();
            match a.format {
                StatusFormat::Json => {
                    let v = serde_json::json!({
                        "schema": "portcullis.db-status/v1",
                        "status": status,
                        "stale_after_days": STALE_AFTER_DAYS,
                        "stale_sources": stale_sources(&status.sources, now).iter().map(|(n, d, _)| serde_json::json!({"name": n, "age_days": d})).collect::<Vec<_>>(),
                    });
                    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                }
                StatusFormat::Table => print_status(ui, &status, now),
            }
            Ok(EXIT_OK)
        }
        DbCommand::Show(a) => {
            let path = db_path(g);
            let db = Database::open_read_only(&path)?;
            match db.record(&a.id)? {
                Some(r) => {
                    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                    Ok(EXIT_OK)
                }
                None => Err(Failure {
                    message: format!("no record or alias {} in {}", a.id, path.display()),
                    code: crate::EXIT_FINDINGS,
                }),
            }
        }
    }
}

/// Ecosystems to download when none are named and none were downloaded before.
fn default_ecosystems() -> Vec<String> {
    let mut v: Vec<String> = [
        "crates.io",
        "npm",
        "PyPI",
        "Go",
        "Maven",
        "NuGet",
        "RubyGems",
        "Packagist",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    let os = portcullis_inventory::collect(
        &portcullis_inventory::Target {
            root: Some(PathBuf::from("/")),
            ..Default::default()
        },
        &mut |_| {},
    )
    .os;
    if let Some(os) = os {
        if let Some(full) = os.osv_ecosystem() {
            let name = full.split(':').next().unwrap_or_default().to_string();
            if !v.contains(&name) {
                v.push(name);
            }
        }
    }
    v
}

fn print_status(ui: &Ui, status: &Status, now: jiff::Timestamp) {
    println!("Database: {}", status.path);
    println!("Records:  {}", status.records);
    println!();
    println!(
        "{:<28} {:<9} {:>8} {:>9}  {:<22} AGE",
        "SOURCE", "KIND", "RECORDS", "WITHDRAWN", "DATA AS OF"
    );
    for s in &status.sources {
        let as_of = s.data_as_of.as_deref().unwrap_or(&s.updated_at);
        let age =
            age_days(Some(as_of), now).map_or_else(|| "?".to_string(), |d| format!("{d} days"));
        println!(
            "{:<28} {:<9} {:>8} {:>9}  {:<22} {}",
            s.name,
            s.kind,
            s.records,
            s.withdrawn,
            as_of.get(..19).unwrap_or(as_of),
            age
        );
    }
    println!();
    println!("Records per ecosystem:");
    for (eco, n) in &status.ecosystems {
        println!("  {eco:<26} {n:>8}");
    }
    for (name, days, _) in stale_sources(&status.sources, now) {
        ui.warn(&format!(
            "source {name} is {days} days old (limit {STALE_AFTER_DAYS}): run `portcullis db update` when online"
        ));
    }
}
