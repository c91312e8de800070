//! The OSV evaluation rules, applied to an inventory.

use crate::import::{cmp_time, lookup_name};
use crate::store::Database;
use crate::{record_severity, DbError};
use portcullis_model::osv::{Affected, Vulnerability};
use portcullis_model::{Diagnostic, Ecosystem, Finding, Fix, Package, Severity};
use portcullis_version::{Scheme, Version};
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

/// How to match.
#[derive(Debug, Clone)]
pub struct MatchOptions {
    /// The time of the scan, for the Cyber Essentials 14-day rule.
    pub now: jiff::Timestamp,
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self {
            now: jiff::Timestamp::now(),
        }
    }
}

/// The result of matching an inventory.
#[derive(Debug, Clone, Default)]
pub struct MatchOutcome {
    /// One finding per flaw per package, aliases merged.
    pub findings: Vec<Finding>,
    /// Versions that could not be compared, and similar problems.
    pub diagnostics: Vec<Diagnostic>,
    /// Packages whose version is unknown (not matched).
    pub unknown_versions: usize,
    /// Packages not matched because they come from outside their registry
    /// (git or local path sources).
    pub unmatched_sources: usize,
}

/// The verdict of one `affected` entry for one version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evaluation {
    /// True when the version is affected.
    pub affected: bool,
    /// The lowest fixed version above the version, when affected.
    pub upgrade_to: Option<String>,
    /// Every fixed version named by the entry's ranges.
    pub fixed_versions: Vec<String>,
    /// Event versions that could not be parsed (skipped).
    pub bad_versions: Vec<String>,
}

fn scheme_for_range(kind: &str, eco: &Ecosystem) -> Option<Scheme> {
    match kind {
        "SEMVER" => Some(if *eco == Ecosystem::Go {
            Scheme::Go
        } else {
            Scheme::SemVer
        }),
        "ECOSYSTEM" => Some(Scheme::for_ecosystem(eco)),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Introduced,
    Fixed,
    LastAffected,
}

/// Apply one `affected` entry to a version, per the OSV specification:
/// the version is affected when it is listed in `versions`, or when some
/// `SEMVER` or `ECOSYSTEM` range contains it (introduced, fixed,
/// last_affected and limit events). `GIT` ranges are not evaluated (the
/// records list the affected versions too) and never stop the other ranges
/// from being evaluated.
///
/// Returns an error when the version itself cannot be parsed.
pub fn evaluate_affected(
    entry: &Affected,
    eco: &Ecosystem,
    version: &str,
) -> Result<Evaluation, portcullis_version::VersionError> {
    let eco_scheme = Scheme::for_ecosystem(eco);
    let mut out = Evaluation::default();
    let parsed_eco = eco_scheme.parse(version);
    // 1. The explicit versions list.
    if entry.versions.iter().any(|v| v == version) {
        out.affected = true;
    } else if !entry.versions.is_empty() {
        if let Ok(pv) = &parsed_eco {
            if entry.versions.iter().any(|v| {
                eco_scheme
                    .parse(v)
                    .is_ok_and(|x| x.cmp(pv) == Ordering::Equal)
            }) {
                out.affected = true;
            }
        }
    }
    // 2. Ranges.
    let mut version_error = None;
    let mut any_range_evaluated = false;
    for range in &entry.ranges {
        let Some(scheme) = scheme_for_range(&range.kind, eco) else {
            continue;
        };
        let v: Version = match scheme.parse(version) {
            Ok(v) => v,
            Err(e) => {
                version_error = Some(e);
                continue;
            }
        };
        any_range_evaluated = true;
        let mut events: Vec<(Option<Version>, Kind, &str)> = Vec::with_capacity(range.events.len());
        let mut limits: Vec<Option<Version>> = Vec::new();
        for e in &range.events {
            let (kind, s) = if let Some(s) = &e.introduced {
                (Kind::Introduced, s.as_str())
            } else if let Some(s) = &e.fixed {
                (Kind::Fixed, s.as_str())
            } else if let Some(s) = &e.last_affected {
                (Kind::LastAffected, s.as_str())
            } else if let Some(s) = &e.limit {
                if s == "*" {
                    limits.push(None);
                } else {
                    match scheme.parse(s) {
                        Ok(l) => limits.push(Some(l)),
                        Err(_) => out.bad_versions.push(s.to_string()),
                    }
                }
                continue;
            } else {
                continue;
            };
            if kind == Kind::Fixed && !out.fixed_versions.iter().any(|f| f == s) {
                out.fixed_versions.push(s.to_string());
            }
            if kind == Kind::Introduced && s == "0" {
                events.push((None, kind, s));
                continue;
            }
            match scheme.parse(s) {
                Ok(p) => events.push((Some(p), kind, s)),
                Err(_) => out.bad_versions.push(s.to_string()),
            }
        }
        if !limits.is_empty()
            && !limits
                .iter()
                .any(|l| l.as_ref().is_none_or(|l| v.cmp(l) == Ordering::Less))
        {
            continue;
        }
        // "0" sorts first; ties keep record order (stable sort).
        events.sort_by(|a, b| match (&a.0, &b.0) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
        });
        let mut affected = false;
        for (ev, kind, _) in &events {
            match kind {
                Kind::Introduced => {
                    if ev.as_ref().is_none_or(|e| v >= *e) {
                        affected = true;
                    }
                }
                Kind::Fixed => {
                    if ev.as_ref().is_some_and(|e| v >= *e) {
                        affected = false;
                    }
                }
                Kind::LastAffected => {
                    if ev.as_ref().is_some_and(|e| v > *e) {
                        affected = false;
                    }
                }
            }
        }
        if affected {
            out.affected = true;
            let next_fix = events
                .iter()
                .filter(|(ev, kind, _)| *kind == Kind::Fixed && ev.as_ref().is_some_and(|e| *e > v))
                .min_by(|a, b| a.0.cmp(&b.0))
                .map(|(_, _, s)| (*s).to_string());
            if let Some(fix) = next_fix {
                let better = match &out.upgrade_to {
                    None => true,
                    Some(cur) => scheme
                        .compare(&fix, cur)
                        .is_ok_and(|o| o == Ordering::Greater),
                };
                if better {
                    out.upgrade_to = Some(fix);
                }
            }
        }
    }
    if !out.affected && !any_range_evaluated {
        if let Some(e) = version_error {
            return Err(e);
        }
        if entry.versions.is_empty() {
            parsed_eco?;
        }
    }
    if out.affected && out.upgrade_to.is_none() {
        // Listed in `versions` only: suggest the lowest fixed version above it, if any.
        if let Ok(pv) = eco_scheme.parse(version) {
            out.upgrade_to = out
                .fixed_versions
                .iter()
                .filter_map(|f| eco_scheme.parse(f).ok().map(|p| (p, f)))
                .filter(|(p, _)| *p > pv)
                .min_by(|a, b| a.0.cmp(&b.0))
                .map(|(_, f)| f.clone());
        }
    }
    Ok(out)
}

/// One record that hit one package.
struct Hit {
    record: Rc<Vulnerability>,
    entry: Affected,
    eval: Evaluation,
}

/// Preference of an ID as the primary one: ecosystem databases first, CVE last.
fn id_rank(id: &str) -> u8 {
    let prefix = id.split('-').next().unwrap_or("");
    match prefix {
        "GHSA" => 0,
        "RUSTSEC" | "GO" | "PYSEC" | "DSA" | "DLA" | "USN" | "ALSA" | "RHSA" | "BIT" | "OSV" => 1,
        "CVE" => 3,
        _ => 2,
    }
}

fn find(parent: &mut [usize], i: usize) -> usize {
    let mut r = i;
    while parent[r] != r {
        r = parent[r];
    }
    let mut i = i;
    while parent[i] != r {
        let next = parent[i];
        parent[i] = r;
        i = next;
    }
    r
}

/// Group hits whose IDs overlap (id, aliases, upstream), transitively.
fn group_hits(hits: &[Hit]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..hits.len()).collect();
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, h) in hits.iter().enumerate() {
        let r = &h.record;
        for id in std::iter::once(&r.id).chain(&r.aliases).chain(&r.upstream) {
            match owner.get(id.as_str()) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
                None => {
                    owner.insert(id.as_str(), i);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..hits.len() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort();
    out
}

fn build_finding(package: &Package, hits: &[&Hit], now: jiff::Timestamp) -> Finding {
    let mut records: Vec<&Hit> = hits.to_vec();
    records.sort_by(|a, b| {
        id_rank(&a.record.id)
            .cmp(&id_rank(&b.record.id))
            .then_with(|| a.record.id.cmp(&b.record.id))
    });
    let primary = records[0];
    let id = primary.record.id.clone();
    let mut all_ids: BTreeSet<String> = BTreeSet::new();
    let mut sources = Vec::new();
    for h in &records {
        sources.push(h.record.id.clone());
        all_ids.insert(h.record.id.clone());
        all_ids.extend(h.record.aliases.iter().cloned());
        all_ids.extend(h.record.upstream.iter().cloned());
    }
    all_ids.remove(&id);
    let summary = records
        .iter()
        .find_map(|h| h.record.summary.as_deref().filter(|s| !s.trim().is_empty()))
        .map(str::to_string)
        .or_else(|| {
            records.iter().find_map(|h| {
                h.record.details.as_deref().and_then(|d| {
                    d.lines()
                        .map(str::trim)
                        .find(|l| !l.is_empty())
                        .map(|l| l.chars().take(160).collect())
                })
            })
        })
        .unwrap_or_default();
    let mut best = crate::RatedSeverity::default();
    for h in &records {
        let r = record_severity(&h.record, Some(&h.entry));
        let better = match (r.score, best.score) {
            (Some(a), Some(b)) => a > b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => r.severity > best.severity,
        };
        if better {
            best = r;
        }
    }
    let scheme = Scheme::for_ecosystem(&package.ecosystem);
    let mut upgrade_to: Option<String> = None;
    let mut fixed_versions: Vec<String> = Vec::new();
    for h in &records {
        for f in &h.eval.fixed_versions {
            if !fixed_versions.contains(f) {
                fixed_versions.push(f.clone());
            }
        }
        if let Some(u) = &h.eval.upgrade_to {
            let better = match &upgrade_to {
                None => true,
                Some(cur) => scheme.compare(u, cur).is_ok_and(|o| o == Ordering::Greater),
            };
            if better {
                upgrade_to = Some(u.clone());
            }
        }
    }
    let published = records
        .iter()
        .filter_map(|h| h.record.published.clone())
        .min_by(|a, b| cmp_time(a, b));
    let modified = records
        .iter()
        .map(|h| h.record.modified.clone())
        .filter(|m| !m.is_empty())
        .max_by(|a, b| cmp_time(a, b));
    let serious = matches!(
        best.severity,
        Severity::Critical | Severity::High | Severity::Unknown
    );
    let old_enough = published
        .as_deref()
        .and_then(|p| p.parse::<jiff::Timestamp>().ok())
        .is_some_and(|p| now.duration_since(p).as_secs() > 14 * 24 * 3600);
    let ce_14_day = serious && upgrade_to.is_some() && old_enough;
    let mut references: Vec<String> = Vec::new();
    for h in &records {
        let mut refs: Vec<_> = h.record.references.iter().collect();
        refs.sort_by_key(|r| if r.kind == "ADVISORY" { 0 } else { 1 });
        for r in refs {
            if references.len() < 8 && !r.url.is_empty() && !references.contains(&r.url) {
                references.push(r.url.clone());
            }
        }
    }
    Finding {
        package: package.clone(),
        id,
        aliases: all_ids.into_iter().collect(),
        sources,
        summary,
        severity: best.severity,
        cvss_score: best.score,
        cvss_vector: best.vector,
        fix: Fix {
            upgrade_to,
            fixed_versions,
        },
        published,
        modified,
        ce_14_day,
        references,
        suppressed: None,
    }
}

/// Whether a record's ecosystem suffix applies to a package's release.
/// Distribution releases must match exactly (`Debian:12` is never `Debian:11`,
/// and an unsuffixed query never matches suffixed records); Red Hat's
/// suffixes carry a repository after the release
/// (`enterprise_linux:9::appstream`), so a release matches them as a prefix.
fn suffix_matches(eco: &Ecosystem, record: &str, package: &str) -> bool {
    if record == package {
        return true;
    }
    *eco == Ecosystem::RedHat
        && !package.is_empty()
        && record
            .strip_prefix(package)
            .is_some_and(|rest| rest.starts_with(':'))
}

/// Match every package against the database.
pub fn match_packages(
    db: &Database,
    packages: &[Package],
    options: &MatchOptions,
) -> Result<MatchOutcome, DbError> {
    let mut out = MatchOutcome::default();
    let mut cache: HashMap<String, Option<Rc<Vulnerability>>> = HashMap::new();
    for package in packages {
        if package.version_unknown() {
            out.unknown_versions += 1;
            continue;
        }
        if package.purl.qualifiers.contains_key("vcs_url")
            || package.purl.qualifiers.contains_key("download_url")
                && !package.ecosystem.is_distro()
        {
            out.unmatched_sources += 1;
            continue;
        }
        let eco = &package.ecosystem;
        let eco_name = eco.as_str();
        let want_suffix = package.distro.as_deref().unwrap_or("");
        // (lookup name, version to compare)
        let mut queries: Vec<(String, &str)> =
            vec![(lookup_name(eco, &package.name), package.version.as_str())];
        if eco.is_distro() {
            if let Some(src) = package
                .source_name
                .as_deref()
                .filter(|s| *s != package.name)
            {
                queries.push((
                    lookup_name(eco, src),
                    package
                        .source_version
                        .as_deref()
                        .unwrap_or(&package.version),
                ));
            }
        }
        let mut hits: Vec<Hit> = Vec::new();
        let mut reported_bad_version = false;
        for (name, version) in &queries {
            for (suffix, vuln_id, entry_json) in db.candidates(eco_name, name)? {
                if eco.is_distro() && !suffix_matches(eco, &suffix, want_suffix) {
                    continue;
                }
                if hits.iter().any(|h| h.record.id == vuln_id) {
                    continue;
                }
                let Ok(entry) = serde_json::from_str::<Affected>(&entry_json) else {
                    continue;
                };
                let eval = match evaluate_affected(&entry, eco, version) {
                    Ok(e) => e,
                    Err(e) => {
                        if !reported_bad_version {
                            reported_bad_version = true;
                            out.diagnostics.push(Diagnostic::warning(
                                package.location.path.clone(),
                                format!(
                                    "{} {}: {e}; it was not matched against advisories",
                                    package.name, package.version
                                ),
                            ));
                        }
                        continue;
                    }
                };
                if !eval.affected {
                    continue;
                }
                let record = match cache.get(&vuln_id) {
                    Some(r) => r.clone(),
                    None => {
                        let r = db.vuln(&vuln_id)?.map(|s| Rc::new(s.record));
                        cache.insert(vuln_id.clone(), r.clone());
                        r
                    }
                };
                let Some(record) = record else { continue };
                if record.withdrawn.is_some() {
                    continue;
                }
                hits.push(Hit {
                    record,
                    entry,
                    eval,
                });
            }
        }
        if hits.is_empty() {
            continue;
        }
        for group in group_hits(&hits) {
            let members: Vec<&Hit> = group.iter().map(|&i| &hits[i]).collect();
            out.findings
                .push(build_finding(package, &members, options.now));
        }
    }
    out.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}
