//! Differential test against Chainsaw: every (rule, event) hit that
//! Chainsaw reports for the SigmaHQ rules must also be reported by
//! Portcullis, or be listed in `fixtures/chainsaw/explained.tsv` with the
//! reason it differs. Portcullis' own extra hits must be explained there
//! too, and every explanation must still describe a real difference (a
//! stale line fails the test).
//!
//! Chainsaw's hits were recorded once (see `fixtures/chainsaw/README.md`
//! for the build and the command): Chainsaw cannot be built by the test
//! suite (its sources are not on crates.io).
//!
//! Two runs: a subset of the corpus kept in the repository (always), and
//! the whole corpus of `../shared/data/detection` when it is present.

use portcullis_hunt::{Detection, Hunt, HuntOptions, Level};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (Sigma rule id, EVTX path relative to the corpus root, EventRecordID).
type Hit = (String, String, u64);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/chainsaw")
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/detection");
    let p = if p.is_dir() {
        p
    } else {
        PathBuf::from("/work/shared/data/detection")
    };
    if p.join("evtx").is_dir() && p.join("sigma/rules").is_dir() {
        Some(p)
    } else {
        eprintln!("note: ../shared/data/detection is absent; only the in-repository subset runs");
        None
    }
}

/// Chainsaw's recorded hits (`rule_id`, `evtx_path`, `event_record_id`
/// columns of `hits.tsv`).
fn chainsaw_hits() -> BTreeSet<Hit> {
    let text = std::fs::read_to_string(fixtures().join("hits.tsv")).expect("hits.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (r, f, n) = (col("rule_id"), col("evtx_path"), col("event_record_id"));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (
                c[r].to_string(),
                c[f].to_string(),
                c[n].parse().expect("record id"),
            )
        })
        .collect()
}

/// One line of `explained.tsv`.
#[derive(Debug)]
struct Explained {
    rule: String,
    /// `rule` (every difference of the rule on that side), or
    /// `path#record` (one event).
    scope: String,
    /// `chainsaw-only` or `portcullis-only`.
    side: String,
    category: String,
    line: usize,
}

impl Explained {
    fn covers(&self, hit: &Hit, side: &str) -> bool {
        self.side == side
            && self.rule == hit.0
            && (self.scope == "rule" || self.scope == format!("{}#{}", hit.1, hit.2))
    }
}

fn explanations() -> Vec<Explained> {
    let text = std::fs::read_to_string(fixtures().join("explained.tsv")).expect("explained.tsv");
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate().skip(1) {
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        let c: Vec<&str> = l.split('\t').collect();
        assert!(c.len() >= 5, "explained.tsv line {}: five columns", i + 1);
        assert!(
            c[2] == "chainsaw-only" || c[2] == "portcullis-only",
            "explained.tsv line {}: side {:?}",
            i + 1,
            c[2]
        );
        assert!(
            !c[4].trim().is_empty(),
            "explained.tsv line {}: no reason",
            i + 1
        );
        out.push(Explained {
            rule: c[0].to_string(),
            scope: c[1].to_string(),
            side: c[2].to_string(),
            category: c[3].to_string(),
            line: i + 1,
        });
    }
    out
}

/// Portcullis' single-event hits over `root` (paths made relative to it).
fn portcullis_hits(root: &Path, rules: &Path) -> BTreeSet<Hit> {
    let options = HuntOptions {
        rule_paths: vec![rules.to_path_buf()],
        bundled: false,
        min_level: Level::Informational,
        ..HuntOptions::default()
    };
    let (hunt, _skipped) = Hunt::new(options);
    let mut hits = BTreeSet::new();
    let prefix = format!("{}/", root.display());
    hunt.run(&[root.to_path_buf()], &mut |d: Detection| {
        if d.correlation.is_some() {
            return;
        }
        for e in &d.events {
            let file = e.file.strip_prefix(&prefix).unwrap_or(&e.file).to_string();
            if let Some(r) = e.record_id {
                hits.insert((d.rule_id.clone(), file, r));
            }
        }
    });
    hits
}

/// The comparison; `theirs` holds only the hits that can be expected
/// of this run (its files and rules). Returns (agreed, explained
/// differences) for the report.
fn compare(
    ours: &BTreeSet<Hit>,
    theirs: &BTreeSet<Hit>,
    explained: &[Explained],
) -> (usize, usize) {
    let mut unexplained = Vec::new();
    let mut used = vec![false; explained.len()];
    let mut differences = 0;
    for (hits, side) in [
        (theirs.difference(ours), "chainsaw-only"),
        (ours.difference(theirs), "portcullis-only"),
    ] {
        for hit in hits {
            differences += 1;
            match explained.iter().position(|e| e.covers(hit, side)) {
                Some(i) => used[i] = true,
                None => unexplained.push(format!("{side}: {} {}#{}", hit.0, hit.1, hit.2)),
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} unexplained differences with Chainsaw, first ones:\n{}",
        unexplained.len(),
        unexplained
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    (theirs.intersection(ours).count(), differences)
}

/// Explanations that describe no difference any more (checked on the
/// whole corpus only: the subset holds only some of them).
fn assert_no_stale(ours: &BTreeSet<Hit>, theirs: &BTreeSet<Hit>, explained: &[Explained]) {
    let stale: Vec<String> = explained
        .iter()
        .filter(|e| {
            let diff: Vec<&Hit> = match e.side.as_str() {
                "chainsaw-only" => theirs.difference(ours).collect(),
                _ => ours.difference(theirs).collect(),
            };
            !diff.iter().any(|h| e.covers(h, &e.side))
        })
        .map(|e| format!("line {} ({} {} {})", e.line, e.rule, e.scope, e.category))
        .collect();
    assert!(
        stale.is_empty(),
        "explanations with no difference behind them: {stale:?}"
    );
}

#[test]
fn chainsaw_hits_are_found_or_explained_on_the_repository_subset() {
    let fx = fixtures();
    let root = fx.join("evtx");
    let ours = portcullis_hits(&root, &fx.join("rules"));
    // The subset's files and rules only.
    let mut files = BTreeSet::new();
    for e in walk(&root) {
        if let Ok(rel) = e.strip_prefix(&root) {
            files.insert(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    let rule_ids = rule_ids(&fx.join("rules"));
    let theirs: BTreeSet<Hit> = chainsaw_hits()
        .into_iter()
        .filter(|h| files.contains(&h.1) && rule_ids.contains(&h.0))
        .collect();
    assert!(
        theirs.len() >= 50,
        "the subset holds {} Chainsaw hits",
        theirs.len()
    );
    let (agreed, differences) = compare(&ours, &theirs, &explanations());
    println!("subset: {agreed} hits agreed, {differences} explained differences");
    assert!(
        agreed * 2 > theirs.len(),
        "{agreed} of {} agreed",
        theirs.len()
    );
    assert!(
        differences > 0,
        "the subset should include explained differences"
    );
}

#[test]
fn chainsaw_hits_are_found_or_explained_on_the_whole_corpus() {
    let Some(shared) = shared() else { return };
    let root = shared.join("evtx");
    let ours = portcullis_hits(&root, &shared.join("sigma/rules"));
    let theirs = chainsaw_hits();
    let explained = explanations();
    let (agreed, differences) = compare(&ours, &theirs, &explained);
    assert_no_stale(&ours, &theirs, &explained);
    println!(
        "whole corpus: Chainsaw {} hits, Portcullis {}, {agreed} agreed, {differences} explained differences",
        theirs.len(),
        ours.len()
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect()
}

/// The ids of the rules in a tree (`id:` lines of the rule files).
fn rule_ids(dir: &Path) -> BTreeSet<String> {
    walk(dir)
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|t| {
            t.lines()
                .filter_map(|l| {
                    l.strip_prefix("id:")
                        .map(|v| v.trim().trim_matches('\'').to_string())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}
