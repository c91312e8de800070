//! The checks, and how they map onto the Code's claims.

use crate::ci::{self, CiFacts};
use crate::git::{self, GitFacts};
use crate::secrets::SecretScanner;
use crate::{
    score, Check, ClaimResult, Counts, Evidence, Finding, Judgement, Level, Options,
    PrincipleResult, RepoInfo, Report, VulnerableDependency, CODE_TSV, SCHEMA,
};
use portcullis_model::Diagnostic;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Working-tree files larger than this are not read as text.
const MAX_TEXT: u64 = 1024 * 1024;
/// At most this many working-tree files are listed.
const MAX_FILES: usize = 500_000;

const SKIP_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".mypy_cache",
    ".gradle",
];

/// What the vendor must state, per claim, when the repository cannot show it.
const ATTESTATIONS: &[(&str, &str)] = &[
    ("1.1.1", "name the secure development framework followed (e.g. NIST SSDF, SLSA) and where it is documented"),
    ("1.1.2", "state that developers are trained in the framework and tools, and how often"),
    ("1.1.3", "state how development tools and toolchains are kept up to date"),
    ("1.1.4", "state which items are under configuration control and how branches are protected"),
    ("1.1.5", "state where requirements are captured and recorded"),
    ("1.1.6", "state how the software is designed for user need"),
    ("1.2.1", "provide an SBOM or inventory of all third-party components"),
    ("1.2.2", "state how the integrity of components and updates is verified"),
    ("1.2.3", "state how each third-party component is tested before first use"),
    ("1.2.4", "state how component updates are tested"),
    ("1.2.5", "state the process to manage and deploy component updates"),
    ("1.3.1", "provide the test plan and show it covers requirements and components"),
    ("1.3.2", "show that the tests run automatically (CI run history)"),
    ("1.3.3", "state how defects found in testing are tracked and fixed (required checks, review)"),
    ("1.4.1", "provide the threat model or security assessment"),
    ("1.4.2", "state that multi-factor authentication is enforced for the software's privileged users"),
    ("1.4.3", "state that no default or persistent passwords are used"),
    ("1.4.4", "state how input is validated (SAST, tests)"),
    ("1.4.5", "state how credentials and sensitive data are stored"),
    ("2.1.1", "provide the roles defined for the build environment"),
    ("2.1.2", "state how often users of the build environment re-authenticate"),
    ("2.1.3", "state that build credentials are bound to roles (least privilege)"),
    ("2.1.4", "state how build credentials are managed and stored (secret store)"),
    ("2.1.5", "state that credentials for the build environment are multi-factor (organisation 2FA)"),
    ("2.1.6", "state how often access to the build environment is reviewed"),
    ("2.2.1", "state that access and changes to the build environment are logged (audit log)"),
    ("2.2.2", "state who may change the build environment (branch protection, CODEOWNERS)"),
    ("2.2.3", "state how long build logs are retained and how they are audited"),
    ("2.2.4", "state how the confidentiality and integrity of logs are protected"),
    ("3.1.1", "state how customers verify the integrity of releases (signatures, provenance)"),
    ("3.1.2", "state the trusted channels software is distributed over"),
    ("3.2.1", "publish a vulnerability disclosure policy"),
    ("3.2.2", "describe how to report vulnerabilities confidentially"),
    ("3.3.1", "state how knowledge of public vulnerabilities is kept current"),
    ("3.3.2", "provide the vulnerability management plan (assessment and prioritisation)"),
    ("3.4.1", "state how internal security teams are informed of vulnerabilities"),
    ("3.4.2", "state how affected customers are informed (advisories, CVEs)"),
    ("3.5.1", "state how quickly security updates are released"),
    ("3.5.2", "state how security updates are tested"),
    ("4.1.1", "publish end-of-support dates for all components"),
    ("4.1.2", "publish the update frequency and how updates are applied"),
    ("4.1.3", "publish how to apply updates and use the software securely"),
    ("4.2.1", "commit to at least one year's notice of end of support"),
    ("4.3.1", "publish an incident support plan"),
    ("4.3.2", "state how customers are informed of incidents in good time"),
];

/// Claims a repository gives strong evidence for (no attestation needed when met).
const STRONG: &[&str] = &[
    "1.2.1", "1.2.2", "1.2.5", "1.4.3", "1.4.5", "3.1.1", "3.2.1", "3.2.2", "3.3.1", "4.1.1",
    "4.1.2",
];

/// Claims only an attestation can show.
const ATTESTATION_ONLY: &[&str] = &[
    "1.1.2", "1.1.6", "1.2.3", "1.4.2", "2.1.2", "2.1.5", "2.1.6", "2.2.1", "2.2.3", "2.2.4",
    "3.4.1", "4.3.2",
];

fn attestation(claim: &str) -> Option<String> {
    ATTESTATIONS
        .iter()
        .find(|(c, _)| *c == claim)
        .map(|(_, t)| format!("The vendor must {t}."))
}

#[derive(Default)]
struct ClaimAcc {
    judgement: Option<Judgement>,
    evidence: Vec<Evidence>,
    checks: Vec<&'static str>,
}

fn combine(a: Judgement, b: Judgement) -> Judgement {
    use Judgement::*;
    match (a, b) {
        (x, y) if x == y => x,
        (NeedsAttestation, x) | (x, NeedsAttestation) => x,
        (Met, NotMet) | (NotMet, Met) => PartlyMet,
        _ => PartlyMet,
    }
}

struct Ctx {
    root: PathBuf,
    /// Working-tree files (relative, `/`).
    files: Vec<String>,
    /// Lower-cased path → path.
    by_lower: HashMap<String, String>,
    git: Option<GitFacts>,
    claims: BTreeMap<&'static str, ClaimAcc>,
    checks: Vec<Check>,
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
    unknown: Vec<String>,
    vulns: Vec<VulnerableDependency>,
}

impl Ctx {
    fn text(&self, rel: &str) -> Option<String> {
        let p = self.root.join(rel);
        let meta = std::fs::metadata(&p).ok()?;
        if !meta.is_file() || meta.len() > MAX_TEXT {
            return None;
        }
        std::fs::read(&p)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn find(&self, candidates: &[&str]) -> Option<String> {
        candidates
            .iter()
            .find_map(|c| self.by_lower.get(&c.to_ascii_lowercase()).cloned())
    }

    fn tracked(&self, rel: &str) -> Option<bool> {
        self.git.as_ref().map(|g| g.tracked.contains(rel))
    }

    fn claim(
        &mut self,
        id: &'static str,
        j: Judgement,
        evidence: Vec<Evidence>,
        check: &'static str,
    ) {
        let acc = self.claims.entry(id).or_default();
        acc.judgement = Some(match acc.judgement {
            Some(old) => combine(old, j),
            None => j,
        });
        acc.evidence.extend(evidence);
        if !acc.checks.contains(&check) {
            acc.checks.push(check);
        }
    }

    fn check(
        &mut self,
        id: &'static str,
        title: &'static str,
        judgement: Judgement,
        summary: String,
        evidence: Vec<Evidence>,
        claims: &[&'static str],
    ) {
        for c in claims {
            self.claim(c, judgement, evidence.clone(), id);
        }
        self.checks.push(Check {
            id,
            title,
            judgement,
            summary,
            evidence,
            claims: claims.to_vec(),
        });
    }
}

fn list_files(root: &Path, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .max_depth(24)
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir()
                    && e.file_name()
                        .to_str()
                        .is_some_and(|n| SKIP_DIRS.contains(&n)))
        });
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                if let Ok(rel) = e.path().strip_prefix(root) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
                if out.len() >= MAX_FILES {
                    diags.push(Diagnostic::warning(
                        root.display().to_string(),
                        format!("more than {MAX_FILES} files; the rest are not looked at"),
                    ));
                    break;
                }
            }
            Ok(_) => {}
            Err(e) => diags.push(Diagnostic::warning(
                e.path()
                    .map_or_else(|| root.display().to_string(), |p| p.display().to_string()),
                format!("cannot read: {e}"),
            )),
        }
    }
    out.sort();
    out
}

/// Run every check on `path`.
pub fn run(path: &Path, options: &Options) -> Report {
    let mut diagnostics = Vec::new();
    let display = path.display().to_string();
    if !path.is_dir() {
        diagnostics.push(Diagnostic::error(
            &display,
            "not a directory; name the root of a repository",
        ));
    }
    let repo = git::open(path);
    let git = repo.as_ref().map(|r| git::read(r, options.history));
    let head = repo
        .as_ref()
        .and_then(|r| r.head_id().ok())
        .map(|id| id.to_string());
    let files = list_files(path, &mut diagnostics);
    let by_lower = files
        .iter()
        .map(|f| (f.to_ascii_lowercase(), f.clone()))
        .collect();
    let mut cx = Ctx {
        root: path.to_path_buf(),
        files,
        by_lower,
        git,
        claims: BTreeMap::new(),
        checks: Vec::new(),
        findings: Vec::new(),
        diagnostics,
        unknown: Vec::new(),
        vulns: Vec::new(),
    };
    if let Some(g) = cx.git.as_mut() {
        cx.diagnostics.append(&mut g.diagnostics);
    } else {
        cx.unknown.push(
            "not a git repository: history-based checks (secrets in history, signed commits and tags, review trail, committed lockfiles) are unknown".into(),
        );
    }

    security_policy(&mut cx);
    support_policy(&mut cx);
    let ci = ci_facts(&mut cx);
    sbom_and_pinning(&mut cx, &ci);
    vulnerabilities(&mut cx, options);
    update_tool(&mut cx);
    secrets(&mut cx, options);
    ci_checks(&mut cx, &ci);
    signing(&mut cx, &ci);
    binaries(&mut cx);
    licence(&mut cx);
    review(&mut cx);
    documents(&mut cx, &ci);

    let repository = RepoInfo {
        git: cx.git.is_some(),
        head,
        commits: cx.git.as_ref().map_or(0, |g| g.commit_count),
        tags: cx.git.as_ref().map_or(0, |g| g.tags.len()),
        files: cx.files.len(),
        blobs_scanned: cx.git.as_ref().map_or(0, |g| g.blobs_scanned),
        blobs_binary: cx.git.as_ref().map_or(0, |g| g.blobs_binary),
        blobs_large: cx.git.as_ref().map_or(0, |g| g.blobs_large),
    };
    let principles = principles(&mut cx.claims);
    let mut counts = Counts::default();
    let mut all = Vec::new();
    for p in &principles {
        for c in &p.claims {
            counts.add(c.judgement);
            all.push(c.judgement);
        }
    }
    cx.findings.sort_by(|a, b| {
        (a.level, &a.file, a.line, &a.rule).cmp(&(b.level, &b.file, b.line, &b.rule))
    });
    Report {
        schema: SCHEMA,
        path: display,
        repository,
        score: score(all),
        counts,
        principles,
        checks: cx.checks,
        findings: cx.findings,
        vulnerabilities: cx.vulns,
        unknown: cx.unknown,
        diagnostics: cx.diagnostics,
    }
}

fn principles(claims: &mut BTreeMap<&'static str, ClaimAcc>) -> Vec<PrincipleResult> {
    let mut out: Vec<PrincipleResult> = Vec::new();
    for line in CODE_TSV.lines().skip(1) {
        let mut cols = line.split('\t');
        let (Some(id), Some(kind), Some(theme), Some(text)) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            continue;
        };
        if kind == "principle" {
            out.push(PrincipleResult {
                id: id.to_string(),
                theme: theme.to_string(),
                text: text.to_string(),
                score: None,
                counts: Counts::default(),
                claims: Vec::new(),
            });
            continue;
        }
        let cid = id.trim_start_matches("Claim ").to_string();
        let pid = cid.rsplit_once('.').map_or("", |(p, _)| p).to_string();
        let acc = claims.remove(cid.as_str()).unwrap_or_default();
        let judgement = if ATTESTATION_ONLY.contains(&cid.as_str()) {
            Judgement::NeedsAttestation
        } else {
            acc.judgement.unwrap_or(Judgement::NeedsAttestation)
        };
        let attestation = if judgement == Judgement::Met && STRONG.contains(&cid.as_str()) {
            None
        } else {
            attestation(&cid)
        };
        let mut evidence = acc.evidence;
        evidence.dedup();
        evidence.truncate(50);
        let claim = ClaimResult {
            id: cid,
            text: text.to_string(),
            judgement,
            evidence,
            attestation,
            checks: acc.checks,
        };
        if let Some(p) = out.iter_mut().find(|p| p.id == pid) {
            p.counts.add(claim.judgement);
            p.claims.push(claim);
        }
    }
    for p in &mut out {
        p.score = score(p.claims.iter().map(|c| c.judgement));
    }
    out
}

// ---------------------------------------------------------------- helpers

fn lines_matching<'a>(
    text: &'a str,
    pred: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = (u32, &'a str)> + 'a {
    text.lines()
        .enumerate()
        .filter(move |(_, l)| pred(&l.to_ascii_lowercase()))
        .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l))
}

fn first_line(text: &str, pred: impl Fn(&str) -> bool + 'static) -> Option<(u32, String)> {
    lines_matching(text, pred)
        .next()
        .map(|(n, l)| (n, l.trim().chars().take(100).collect()))
}

fn has_email(l: &str) -> bool {
    l.split(|c: char| c.is_whitespace() || "<>()[]`'\",;".contains(c))
        .any(|w| {
            let w = w.trim_start_matches("mailto:");
            w.split_once('@').is_some_and(|(a, d)| {
                !a.is_empty() && d.contains('.') && !d.starts_with('.') && d.len() > 3
            })
        })
}

fn has_word(l: &str, w: &str) -> bool {
    l.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|x| x == w)
}

/// Paths of test data: their lockfiles are not the product's components.
fn is_test_data(p: &str) -> bool {
    let l = p.replace('\\', "/").to_ascii_lowercase();
    [
        "/fixtures/",
        "/testdata/",
        "/test-data/",
        "/test_data/",
        "/__fixtures__/",
    ]
    .iter()
    .any(|d| l.contains(d))
        || l.starts_with("fixtures/")
        || l.starts_with("testdata/")
}

fn has_url(l: &str) -> bool {
    l.contains("https://") || l.contains("http://")
}

fn has_timescale(l: &str) -> bool {
    let words: Vec<&str> = l
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let units = [
        "hour", "hours", "day", "days", "week", "weeks", "month", "months",
    ];
    words.windows(2).any(|w| {
        (w[0].parse::<u32>().is_ok()
            || [
                "one", "two", "three", "five", "seven", "ten", "fourteen", "thirty", "ninety",
            ]
            .contains(&w[0]))
            && units.contains(&w[1])
    }) || words.windows(3).any(|w| {
        w[0].parse::<u32>().is_ok()
            && ["business", "working", "calendar"].contains(&w[1])
            && units.contains(&w[2])
    })
}

// ---------------------------------------------------------------- checks

fn security_policy(cx: &mut Ctx) {
    let policy = cx.find(&[
        "SECURITY.md",
        ".github/SECURITY.md",
        "docs/SECURITY.md",
        "SECURITY.rst",
        "SECURITY.txt",
        "SECURITY",
        ".gitlab/SECURITY.md",
    ]);
    let sectxt = cx.find(&[".well-known/security.txt", "security.txt"]);
    let mut ev = Vec::new();
    let (mut contact, mut timescale, mut private) = (false, false, false);
    for f in policy.iter().chain(sectxt.iter()) {
        let Some(text) = cx.text(f) else { continue };
        ev.push(Evidence::file(
            f,
            None,
            "vulnerability disclosure policy".into(),
        ));
        for (n, l) in text.lines().enumerate() {
            let line = u32::try_from(n + 1).ok();
            let lower = l.to_ascii_lowercase();
            if !contact
                && (has_email(l)
                    || lower.starts_with("contact:")
                    || (has_url(l)
                        && (lower.contains("report")
                            || lower.contains("advisor")
                            || lower.contains("security")
                            || lower.contains("contact"))))
            {
                contact = true;
                ev.push(Evidence::file(
                    f,
                    line,
                    format!(
                        "contact: {}",
                        l.trim().chars().take(100).collect::<String>()
                    ),
                ));
            }
            if !timescale
                && has_timescale(&lower)
                && [
                    "within",
                    "respond",
                    "response",
                    "acknowledg",
                    "reply",
                    "triage",
                    "fix",
                    "patch",
                    "resolve",
                    "update you",
                ]
                .iter()
                .any(|w| lower.contains(w))
            {
                timescale = true;
                ev.push(Evidence::file(
                    f,
                    line,
                    format!(
                        "timescale: {}",
                        l.trim().chars().take(100).collect::<String>()
                    ),
                ));
            }
            if !private
                && (lower.contains("privately")
                    || lower.contains("private vulnerability reporting")
                    || lower.contains("do not open a public")
                    || lower.contains("don't open a public")
                    || lower.contains("not report security vulnerabilities through public")
                    || lower.contains("confidential")
                    || lower.contains("encrypt")
                    || lower.starts_with("encryption:"))
            {
                private = true;
                ev.push(Evidence::file(
                    f,
                    line,
                    format!(
                        "confidential channel: {}",
                        l.trim().chars().take(100).collect::<String>()
                    ),
                ));
            }
        }
    }
    let found = policy.is_some() || sectxt.is_some();
    let j = match (found, contact, timescale) {
        (false, _, _) => Judgement::NotMet,
        (true, true, true) => Judgement::Met,
        _ => Judgement::PartlyMet,
    };
    let summary = if !found {
        "no SECURITY.md or security.txt: publish how to report vulnerabilities, with a contact and response times".to_string()
    } else {
        format!(
            "disclosure policy found; contact {}; response timescales {}",
            if contact { "given" } else { "missing" },
            if timescale { "given" } else { "missing" }
        )
    };
    if !found {
        ev.push(Evidence::note(
            "no SECURITY.md (root, .github/, docs/) or .well-known/security.txt".into(),
        ));
    }
    cx.check(
        "security-policy",
        "Vulnerability disclosure policy",
        j,
        summary,
        ev.clone(),
        &["3.2.1"],
    );
    let j2 = match (found, contact && private, contact) {
        (false, _, _) => Judgement::NotMet,
        (true, true, _) => Judgement::Met,
        (true, false, true) => Judgement::PartlyMet,
        _ => Judgement::NotMet,
    };
    cx.claim("3.2.2", j2, ev.clone(), "security-policy");
    // Remediation policy text → 3.3.2; incident plan → 4.3.1.
    let mut plan = Vec::new();
    for f in policy.iter() {
        if let Some(text) = cx.text(f) {
            if let Some((n, l)) = first_line(&text, |l| {
                l.contains("severity")
                    || l.contains("cvss")
                    || l.contains("prioriti")
                    || l.contains("triage")
            }) {
                plan.push(Evidence::file(
                    f,
                    Some(n),
                    format!("remediation policy: {l}"),
                ));
            }
        }
    }
    if !plan.is_empty() {
        cx.claim("3.3.2", Judgement::Met, plan, "security-policy");
    }
}

fn support_policy(cx: &mut Ctx) {
    let files: Vec<String> = [
        "SECURITY.md",
        ".github/SECURITY.md",
        "docs/SECURITY.md",
        "SUPPORT.md",
        ".github/SUPPORT.md",
        "docs/SUPPORT.md",
        "README.md",
        "README",
        "README.rst",
        "RELEASES.md",
        "docs/releases.md",
        "docs/support.md",
        "LIFECYCLE.md",
    ]
    .iter()
    .filter_map(|c| cx.find(&[c]))
    .collect::<HashSet<_>>()
    .into_iter()
    .collect();
    let mut files = files;
    files.sort();
    let (mut table, mut eos, mut notice, mut cadence) = (None, None, None, None);
    for f in &files {
        let Some(text) = cx.text(f) else { continue };
        let mut in_supported = false;
        for (n, l) in text.lines().enumerate() {
            let line = u32::try_from(n + 1).ok();
            let lower = l.to_ascii_lowercase();
            if lower.trim_start().starts_with('#') || lower.trim_start().starts_with("==") {
                in_supported = lower.contains("supported version")
                    || lower.contains("support policy")
                    || lower.contains("supported releases");
            }
            if in_supported
                && table.is_none()
                && l.trim_start().starts_with('|')
                && !l.contains("---")
            {
                table = Some(Evidence::file(
                    f,
                    line,
                    format!(
                        "supported versions table: {}",
                        l.trim().chars().take(80).collect::<String>()
                    ),
                ));
            }
            if eos.is_none()
                && (lower.contains("end of support")
                    || lower.contains("end-of-support")
                    || lower.contains("end of life")
                    || lower.contains("end-of-life")
                    || has_word(&lower, "eol")
                    || lower.contains("no longer supported")
                    || lower.contains("long-term support")
                    || has_word(&lower, "lts"))
            {
                eos = Some(Evidence::file(
                    f,
                    line,
                    format!(
                        "end-of-support statement: {}",
                        l.trim().chars().take(100).collect::<String>()
                    ),
                ));
            }
            if notice.is_none()
                && (lower.contains("12 months")
                    || lower.contains("twelve months")
                    || lower.contains("one year")
                    || lower.contains("1 year")
                    || lower.contains("one year's"))
                && (lower.contains("notice")
                    || lower.contains("support")
                    || lower.contains("deprecat")
                    || lower.contains("end of"))
            {
                notice = Some(Evidence::file(
                    f,
                    line,
                    format!(
                        "notice period: {}",
                        l.trim().chars().take(100).collect::<String>()
                    ),
                ));
            }
            if cadence.is_none()
                && (lower.contains("release")
                    || lower.contains("update policy")
                    || lower.contains("security update"))
                && (lower.contains("every ")
                    || lower.contains("monthly")
                    || lower.contains("quarterly")
                    || lower.contains("weekly")
                    || lower.contains("release cadence")
                    || lower.contains("release policy")
                    || lower.contains("semantic versioning")
                    || lower.contains("semver"))
            {
                cadence = Some(Evidence::file(
                    f,
                    line,
                    format!(
                        "release policy: {}",
                        l.trim().chars().take(100).collect::<String>()
                    ),
                ));
            }
        }
    }
    let j = match (&table, &eos) {
        (Some(_), Some(_)) => Judgement::Met,
        (Some(_), None) | (None, Some(_)) => Judgement::PartlyMet,
        (None, None) => Judgement::NotMet,
    };
    let mut ev: Vec<Evidence> = [table.clone(), eos.clone()].into_iter().flatten().collect();
    if ev.is_empty() {
        ev.push(Evidence::note("no \"Supported Versions\" table or end-of-support statement in SECURITY.md, SUPPORT.md or README".into()));
    }
    let summary = match j {
        Judgement::Met => "supported versions and end-of-support published".to_string(),
        Judgement::PartlyMet => "support information is partial: publish a supported-versions table with end-of-support dates".to_string(),
        _ => "no published support period: add a \"Supported Versions\" table to SECURITY.md".to_string(),
    };
    cx.check(
        "support-period",
        "Published support period and end of support",
        j,
        summary,
        ev,
        &["4.1.1"],
    );
    let nj = match (&notice, &eos) {
        (Some(_), _) => Judgement::Met,
        (None, Some(_)) => Judgement::PartlyMet,
        (None, None) => Judgement::NotMet,
    };
    let nev: Vec<Evidence> = match (&notice, &eos) {
        (Some(n), _) => vec![n.clone()],
        (None, Some(e)) => vec![
            e.clone(),
            Evidence::note("no notice period (12 months / 1 year) stated".into()),
        ],
        _ => vec![Evidence::note(
            "no end-of-support notice period stated".into(),
        )],
    };
    cx.check(
        "end-of-support-notice",
        "At least one year's notice of end of support",
        nj,
        nj.as_str().to_string(),
        nev,
        &["4.2.1"],
    );
    let cj = match (&cadence, &table) {
        (Some(_), Some(_)) => Judgement::Met,
        (Some(_), None) | (None, Some(_)) => Judgement::PartlyMet,
        _ => Judgement::NotMet,
    };
    let cev: Vec<Evidence> = [cadence, table].into_iter().flatten().collect();
    cx.claim("4.1.2", cj, cev, "support-period");
}

const LOCKFILES: &[&str] = &[
    "cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "poetry.lock",
    "pipfile.lock",
    "uv.lock",
    "pdm.lock",
    "go.sum",
    "gemfile.lock",
    "composer.lock",
    "packages.lock.json",
    "gradle.lockfile",
    "pubspec.lock",
    "mix.lock",
    "package.resolved",
    "conan.lock",
    "flake.lock",
];

fn base(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn is_sbom_file(p: &str) -> bool {
    let b = base(p).to_ascii_lowercase();
    portcullis_inventory::is_sbom_name(&b)
        || b.ends_with(".spdx")
        || b.ends_with(".cdx.xml")
        || b == "bom.xml"
        || b.ends_with(".spdx.yaml")
}

fn sbom_and_pinning(cx: &mut Ctx, ci: &CiFacts) {
    let mut ev = Vec::new();
    let mut tracked_locks = 0usize;
    let mut untracked = Vec::new();
    let locks: Vec<String> = cx
        .files
        .iter()
        .filter(|f| {
            LOCKFILES.contains(&base(f).to_ascii_lowercase().as_str())
                && !is_test_data(&format!("/{f}"))
        })
        .cloned()
        .collect();
    for l in &locks {
        match cx.tracked(l) {
            Some(true) | None => {
                tracked_locks += 1;
                ev.push(Evidence::file(
                    l,
                    None,
                    format!(
                        "lockfile {}",
                        if cx.git.is_some() {
                            "committed"
                        } else {
                            "present"
                        }
                    ),
                ));
            }
            Some(false) => untracked.push(l.clone()),
        }
    }
    for l in &untracked {
        ev.push(Evidence::file(
            l,
            None,
            "lockfile present but not committed (untracked or ignored)".into(),
        ));
        cx.findings.push(Finding::new(
            "lockfile-not-committed",
            Level::Warning,
            format!("{l} is not committed: commit it so that every build uses the same dependencies and an SBOM can be made"),
            l,
            None,
        ));
    }
    let sboms: Vec<String> = cx
        .files
        .iter()
        .filter(|f| is_sbom_file(f) && !is_test_data(&format!("/{f}")))
        .cloned()
        .collect();
    for s in &sboms {
        if cx.tracked(s) != Some(false) {
            ev.push(Evidence::file(s, None, "SBOM".into()));
        }
    }
    // Manifests without a lockfile.
    let mut manifests_unlocked = Vec::new();
    for f in &cx.files {
        let b = base(f);
        let dir = &f[..f.len() - b.len()];
        let want: &[&str] = match b {
            "package.json" => &[
                "package-lock.json",
                "yarn.lock",
                "pnpm-lock.yaml",
                "npm-shrinkwrap.json",
                "bun.lock",
            ],
            "pyproject.toml" => &["poetry.lock", "uv.lock", "pdm.lock", "requirements.txt"],
            "Pipfile" => &["Pipfile.lock"],
            "Gemfile" => &["Gemfile.lock"],
            "composer.json" => &["composer.lock"],
            "go.mod" => &["go.sum"],
            _ => continue,
        };
        if f.contains("/fixtures/")
            || f.contains("/testdata/")
            || f.contains("/test/")
            || f.contains("/tests/")
        {
            continue;
        }
        if !want.iter().any(|w| {
            cx.by_lower
                .contains_key(&format!("{dir}{w}").to_ascii_lowercase())
        }) {
            manifests_unlocked.push(f.clone());
        }
    }
    let has = tracked_locks > 0 || sboms.iter().any(|s| cx.tracked(s) != Some(false));
    let j = if has && untracked.is_empty() && manifests_unlocked.is_empty() {
        Judgement::Met
    } else if has || !untracked.is_empty() {
        Judgement::PartlyMet
    } else {
        Judgement::NotMet
    };
    for m in manifests_unlocked.iter().take(10) {
        ev.push(Evidence::file(
            m,
            None,
            "manifest without a lockfile beside it".into(),
        ));
    }
    if ev.is_empty() {
        ev.push(Evidence::note("no lockfile or SBOM found".into()));
    }
    let summary = format!(
        "{tracked_locks} committed lockfile(s), {} SBOM file(s), {} uncommitted lockfile(s), {} manifest(s) without a lockfile",
        sboms.len(),
        untracked.len(),
        manifests_unlocked.len()
    );
    cx.check(
        "sbom",
        "SBOM or the means to make one",
        j,
        summary,
        ev,
        &["1.2.1"],
    );

    // Pinning.
    let mut pev = Vec::new();
    let (mut pinned, mut unpinned) = (0usize, 0usize);
    let files = cx.files.clone();
    for f in &files {
        if is_test_data(&format!("/{f}")) {
            continue;
        }
        let b = base(f).to_ascii_lowercase();
        if (b.starts_with("requirements") && b.ends_with(".txt")) || b == "constraints.txt" {
            let Some(text) = cx.text(f) else { continue };
            for (n, l) in text.lines().enumerate() {
                let t = l.split('#').next().unwrap_or("").trim();
                if t.is_empty() || t.starts_with('-') {
                    continue;
                }
                if t.contains("==") || t.contains(" @ ") || t.contains("--hash") {
                    pinned += 1;
                } else {
                    unpinned += 1;
                    let line = u32::try_from(n + 1).ok();
                    cx.findings.push(Finding::new(
                        "dependency-unpinned",
                        Level::Note,
                        format!(
                            "`{t}` is not pinned to one version; use `==` (and `--require-hashes`)"
                        ),
                        f,
                        line,
                    ));
                }
            }
        } else if b == "dockerfile"
            || b.ends_with(".dockerfile")
            || b.starts_with("dockerfile.")
            || b == "containerfile"
        {
            let Some(text) = cx.text(f) else { continue };
            let mut stages: Vec<String> = Vec::new();
            for (n, l) in text.lines().enumerate() {
                let t = l.trim();
                if !t.to_ascii_uppercase().starts_with("FROM ") {
                    continue;
                }
                let words: Vec<&str> = t
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let Some(image) = words.get(1) else { continue };
                if let (Some(a), Some(name)) = (words.get(2), words.get(3)) {
                    if a.eq_ignore_ascii_case("as") {
                        stages.push(name.to_ascii_lowercase());
                    }
                }
                if image.contains("@sha256:")
                    || *image == "scratch"
                    || stages.iter().any(|s| s == &image.to_ascii_lowercase())
                    || image.contains('$')
                {
                    pinned += 1;
                } else {
                    unpinned += 1;
                    cx.findings.push(Finding::new(
                        "docker-image-unpinned",
                        Level::Warning,
                        format!(
                            "`FROM {image}` is not pinned by digest; use `{image}@sha256:<digest>`"
                        ),
                        f,
                        u32::try_from(n + 1).ok(),
                    ));
                }
            }
        }
    }
    pinned += ci.actions_pinned;
    unpinned += ci.actions_total - ci.actions_pinned;
    if tracked_locks > 0 {
        pev.push(Evidence::note(format!("{tracked_locks} lockfile(s) pin resolved versions (with hashes where the format has them)")));
    }
    pev.push(Evidence::note(format!(
        "{pinned} pinned and {unpinned} unpinned references (requirements, Dockerfile FROM, CI actions)"
    )));
    let j = if unpinned == 0 && (tracked_locks > 0 || pinned > 0) {
        Judgement::Met
    } else if unpinned == 0 {
        Judgement::NeedsAttestation
    } else if pinned > 0 || tracked_locks > 0 {
        Judgement::PartlyMet
    } else {
        Judgement::NotMet
    };
    cx.check(
        "pinned-dependencies",
        "Dependencies pinned",
        j,
        format!("{pinned} pinned, {unpinned} unpinned"),
        pev,
        &["1.2.2"],
    );
}

fn vulnerabilities(cx: &mut Ctx, options: &Options) {
    if !options.vulnerabilities {
        cx.unknown
            .push("known-vulnerable dependencies: not checked (--no-vulns)".into());
        return;
    }
    let target = portcullis_inventory::Target {
        paths: vec![cx.root.clone()],
        root: None,
        include_skipped: false,
    };
    let mut inv = portcullis_inventory::collect(&target, &mut |_| {});
    // Test data is not part of the product.
    let root_s = cx.root.display().to_string();
    inv.packages.retain(|p| {
        let rel = p
            .location
            .path
            .strip_prefix(&root_s)
            .unwrap_or(&p.location.path);
        !is_test_data(&format!("/{}", rel.trim_start_matches(['/', '\\'])))
    });
    inv.sources.retain(|s| {
        !is_test_data(&format!(
            "/{}",
            s.strip_prefix(&root_s)
                .unwrap_or(s)
                .trim_start_matches(['/', '\\'])
        ))
    });
    inv.diagnostics.retain(|d| {
        !is_test_data(&format!(
            "/{}",
            d.path
                .strip_prefix(&root_s)
                .unwrap_or(&d.path)
                .trim_start_matches(['/', '\\'])
        ))
    });
    // Reader problems in the project's files are warnings here: the
    // judgement goes on without them.
    for d in inv.diagnostics {
        cx.diagnostics
            .push(Diagnostic::warning(d.path.clone(), d.message.clone()).at_opt(d.line, d.column));
    }
    let path = options
        .db
        .clone()
        .unwrap_or_else(portcullis_vulndb::default_db_path);
    let mut _tmp = None;
    let db = if path.exists() {
        portcullis_vulndb::Database::open_read_only(&path)
    } else {
        match tempfile::tempdir() {
            Ok(dir) => {
                let p = dir.path().join("osv.db");
                _tmp = Some(dir);
                portcullis_vulndb::Database::open(&p).and_then(|mut db| {
                    db.import_bundled(&mut |_| {})?;
                    Ok(db)
                })
            }
            Err(e) => {
                cx.unknown
                    .push(format!("known-vulnerable dependencies: no database ({e})"));
                return;
            }
        }
    };
    let db = match db {
        Ok(db) => db,
        Err(e) => {
            cx.unknown.push(format!("known-vulnerable dependencies: the database cannot be opened ({e}); run `portcullis db update`"));
            return;
        }
    };
    let out = match portcullis_vulndb::match_packages(
        &db,
        &inv.packages,
        &portcullis_vulndb::MatchOptions::default(),
    ) {
        Ok(o) => o,
        Err(e) => {
            cx.unknown.push(format!(
                "known-vulnerable dependencies: matching failed ({e})"
            ));
            return;
        }
    };
    let root = cx.root.display().to_string();
    let rel = |p: &str| -> String {
        p.strip_prefix(&root)
            .map(|r| r.trim_start_matches(['/', '\\']).to_string())
            .unwrap_or_else(|| p.to_string())
    };
    for f in &out.findings {
        if f.suppressed.is_some() {
            continue;
        }
        let file = rel(&f.package.location.path);
        let line = f.package.location.line;
        let level = match f.severity {
            portcullis_model::Severity::Critical | portcullis_model::Severity::High => Level::Error,
            portcullis_model::Severity::Medium => Level::Warning,
            _ => Level::Note,
        };
        let fix = f.fix.upgrade_to.as_deref().map_or_else(
            || "no fix released".to_string(),
            |v| format!("upgrade to {v}"),
        );
        cx.findings.push(Finding::new(
            "vulnerable-dependency",
            level,
            format!(
                "{} {} has {} ({}): {}; {fix}",
                f.package.name,
                f.package.version,
                f.id,
                f.severity.as_str(),
                f.summary.trim()
            ),
            &file,
            line,
        ));
        cx.vulns.push(VulnerableDependency {
            package: f.package.name.clone(),
            version: f.package.version.clone(),
            ecosystem: f.package.ecosystem.as_str().to_string(),
            id: f.id.clone(),
            severity: f.severity.as_str().to_string(),
            upgrade_to: f.fix.upgrade_to.clone(),
            file,
            line,
        });
    }
    let n = cx.vulns.len();
    let j = if n == 0 {
        Judgement::Met
    } else {
        Judgement::NotMet
    };
    let mut ev = vec![Evidence::note(format!(
        "{} package(s) from {} file(s) matched against {}: {n} known vulnerabilit{}",
        inv.packages.len(),
        inv.sources.len(),
        db.path().display(),
        if n == 1 { "y" } else { "ies" }
    ))];
    for v in cx.vulns.iter().take(20) {
        ev.push(Evidence::file(
            &v.file,
            v.line,
            format!("{} {} {} ({})", v.package, v.version, v.id, v.severity),
        ));
    }
    cx.check(
        "vulnerable-dependencies",
        "Known-vulnerable dependencies",
        j,
        format!(
            "{n} known vulnerabilities in {} packages",
            inv.packages.len()
        ),
        ev,
        &["3.3.1"],
    );
}

trait AtOpt {
    fn at_opt(self, line: Option<u32>, col: Option<u32>) -> Self;
}
impl AtOpt for Diagnostic {
    fn at_opt(self, line: Option<u32>, col: Option<u32>) -> Self {
        match line {
            Some(l) => self.at(l, col),
            None => self,
        }
    }
}

fn update_tool(cx: &mut Ctx) {
    let f = cx.find(&[
        ".github/dependabot.yml",
        ".github/dependabot.yaml",
        "renovate.json",
        "renovate.json5",
        ".github/renovate.json",
        ".github/renovate.json5",
        ".renovaterc",
        ".renovaterc.json",
        ".gitlab/renovate.json",
    ]);
    let (j, ev, summary) = match &f {
        Some(f) => {
            let actions = cx.text(f).is_some_and(|t| t.contains("github-actions"));
            (
                Judgement::Met,
                vec![Evidence::file(
                    f,
                    None,
                    format!(
                        "dependency update tool configured{}",
                        if actions {
                            " (covers CI actions too)"
                        } else {
                            ""
                        }
                    ),
                )],
                format!("{f} configures automated dependency updates"),
            )
        }
        None => (
            Judgement::NotMet,
            vec![Evidence::note(
                "no Dependabot or Renovate configuration".into(),
            )],
            "no dependency update tool: add .github/dependabot.yml or renovate.json".into(),
        ),
    };
    cx.check(
        "update-tool",
        "Dependency update tool",
        j,
        summary,
        ev.clone(),
        &["1.2.5"],
    );
    if j == Judgement::Met {
        cx.claim("3.3.1", Judgement::Met, ev.clone(), "update-tool");
        cx.claim("1.1.3", Judgement::Met, ev, "update-tool");
    }
}

fn secrets(cx: &mut Ctx, options: &Options) {
    let mut ev = Vec::new();
    let (mut in_head, mut in_history) = (0usize, 0usize);
    if let Some(g) = cx.git.as_ref().filter(|_| options.history) {
        for s in &g.secrets {
            if s.in_head {
                in_head += 1;
            } else {
                in_history += 1;
            }
            let msg = format!(
                "{} ({}) committed in {}{}: {}; revoke it and rotate, then remove it{}",
                s.hit.description,
                s.hit.rule,
                &s.commit.get(..12).unwrap_or(&s.commit),
                if s.in_head { "" } else { " (only in history)" },
                s.hit.redacted,
                if s.in_head {
                    ""
                } else {
                    " from history if it still matters"
                }
            );
            let mut f = Finding::new(
                "secret-committed",
                if s.in_head {
                    Level::Error
                } else {
                    Level::Warning
                },
                msg,
                &s.path,
                Some(s.hit.line),
            );
            f.column = Some(s.hit.column);
            f.commit = Some(s.commit.clone());
            ev.push(Evidence {
                file: Some(s.path.clone()),
                line: Some(s.hit.line),
                commit: Some(s.commit.clone()),
                detail: format!("{} {}", s.hit.description, s.hit.redacted),
            });
            cx.findings.push(f);
        }
        ev.push(Evidence::note(format!(
            "{} distinct blobs from {} commits scanned ({} binary, {} larger than {} MiB skipped)",
            g.blobs_scanned,
            g.commit_count,
            g.blobs_binary,
            g.blobs_large,
            git::MAX_BLOB / 1024 / 1024
        )));
    } else {
        // The working tree only.
        let scanner = SecretScanner::new();
        let files = cx.files.clone();
        let mut scanned = 0usize;
        for f in &files {
            let p = cx.root.join(f);
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            if meta.len() > git::MAX_BLOB {
                continue;
            }
            let Ok(data) = std::fs::read(&p) else {
                continue;
            };
            if memchr::memchr(0, &data[..data.len().min(8000)]).is_some() {
                continue;
            }
            scanned += 1;
            for h in scanner.scan(&data) {
                in_head += 1;
                let mut fd = Finding::new(
                    "secret-committed",
                    Level::Error,
                    format!(
                        "{} ({}) in the working tree: {}; revoke it and rotate, then remove it",
                        h.description, h.rule, h.redacted
                    ),
                    f,
                    Some(h.line),
                );
                fd.column = Some(h.column);
                ev.push(Evidence::file(
                    f,
                    Some(h.line),
                    format!("{} {}", h.description, h.redacted),
                ));
                cx.findings.push(fd);
            }
        }
        ev.push(Evidence::note(format!(
            "{scanned} working-tree files scanned; history not scanned"
        )));
        if cx.git.is_none() {
            cx.unknown
                .push("secrets in history: unknown (not a git repository)".into());
        }
    }
    let j = if in_head > 0 {
        Judgement::NotMet
    } else if in_history > 0 {
        Judgement::PartlyMet
    } else {
        Judgement::Met
    };
    let summary = format!("{in_head} secret(s) in the current tree, {in_history} only in history");
    cx.check(
        "secrets",
        "No secrets committed",
        j,
        summary,
        ev,
        &["1.4.3", "1.4.5"],
    );
    cx.claim("2.1.4", j, Vec::new(), "secrets");
}

fn ci_facts(cx: &mut Ctx) -> CiFacts {
    let mut f = CiFacts::default();
    let files = cx.files.clone();
    for p in &files {
        let lower = p.to_ascii_lowercase();
        let is_wf = lower.starts_with(".github/workflows/")
            && (lower.ends_with(".yml") || lower.ends_with(".yaml"));
        let system = if is_wf {
            Some("GitHub Actions")
        } else if lower == ".gitlab-ci.yml" {
            Some("GitLab CI")
        } else if lower == ".circleci/config.yml" {
            Some("CircleCI")
        } else if lower == "jenkinsfile" {
            Some("Jenkins")
        } else if lower == ".travis.yml" {
            Some("Travis CI")
        } else if lower == "azure-pipelines.yml" {
            Some("Azure Pipelines")
        } else if lower == "bitbucket-pipelines.yml" {
            Some("Bitbucket Pipelines")
        } else if lower.starts_with(".buildkite/") {
            Some("Buildkite")
        } else if lower == ".drone.yml" || lower == ".woodpecker.yml" {
            Some("Drone/Woodpecker")
        } else if lower == ".cirrus.yml" || lower == "appveyor.yml" || lower == ".appveyor.yml" {
            Some("Cirrus/AppVeyor")
        } else if lower.starts_with(".ci/") {
            Some("CI script")
        } else {
            None
        };
        let Some(system) = system else { continue };
        if !f.systems.iter().any(|e| e.detail == system) || is_wf {
            f.systems.push(Evidence::file(p, None, system.to_string()));
        }
        let Some(text) = cx.text(p) else { continue };
        if is_wf {
            ci::workflow(p, &text, &mut f);
        } else if lower == ".gitlab-ci.yml" {
            ci::gitlab(p, &text, &mut f);
        } else {
            ci::generic_text(p, &text, &mut f);
        }
    }
    cx.diagnostics.append(&mut f.diagnostics);
    f
}

fn ci_checks(cx: &mut Ctx, ci: &CiFacts) {
    let test_dirs: Vec<String> = cx
        .files
        .iter()
        .filter(|f| {
            let l = f.to_ascii_lowercase();
            l.starts_with("tests/")
                || l.contains("/tests/")
                || l.starts_with("test/")
                || l.contains("/test/")
                || l.contains("_test.")
                || l.contains(".test.")
                || l.contains("/testdata/")
        })
        .take(1)
        .cloned()
        .collect();
    let fuzz: Vec<String> = cx
        .files
        .iter()
        .filter(|f| {
            f.starts_with("fuzz/") || f.contains("/fuzz/") || f.starts_with(".clusterfuzzlite/")
        })
        .take(1)
        .cloned()
        .collect();
    let mut ev: Vec<Evidence> = ci.systems.iter().take(10).cloned().collect();
    ev.extend(ci.tests.iter().take(10).cloned());
    for f in &fuzz {
        ev.push(Evidence::file(f, None, "fuzz targets".into()));
    }
    let j = match (ci.systems.is_empty(), ci.tests.is_empty()) {
        (false, false) => Judgement::Met,
        (false, true) => Judgement::PartlyMet,
        (true, _) if !test_dirs.is_empty() => Judgement::PartlyMet,
        _ => Judgement::NotMet,
    };
    if ci.systems.is_empty() {
        ev.push(Evidence::note(
            "no CI configuration found (GitHub Actions, GitLab CI, Jenkins, CircleCI…)".into(),
        ));
    }
    let summary = format!(
        "{} CI file(s); tests run in {} place(s)",
        ci.systems.len(),
        ci.tests.len()
    );
    cx.check(
        "ci-tests",
        "CI present and running tests",
        j,
        summary,
        ev,
        &["1.3.2"],
    );
    let mut tev: Vec<Evidence> = test_dirs
        .iter()
        .map(|t| Evidence::file(t, None, "tests in the repository".into()))
        .collect();
    if let Some(c) = cx.find(&[
        "codecov.yml",
        ".codecov.yml",
        ".coveragerc",
        "tarpaulin.toml",
        "jest.config.js",
    ]) {
        tev.push(Evidence::file(&c, None, "coverage configuration".into()));
    }
    if !tev.is_empty() {
        cx.claim("1.3.1", Judgement::Met, tev, "ci-tests");
    }
    if !ci.sast.is_empty() {
        cx.claim(
            "1.4.4",
            Judgement::Met,
            ci.sast.iter().take(5).cloned().collect(),
            "ci-tests",
        );
    }
    if !ci.release_triggers.is_empty() && !ci.tests.is_empty() {
        cx.claim(
            "3.5.2",
            Judgement::Met,
            ci.release_triggers.iter().take(3).cloned().collect(),
            "ci-tests",
        );
    }
    if !ci.tests.is_empty()
        && cx
            .find(&[
                ".github/dependabot.yml",
                ".github/dependabot.yaml",
                "renovate.json",
            ])
            .is_some()
    {
        cx.claim(
            "1.2.4",
            Judgement::Met,
            vec![Evidence::note(
                "CI runs tests on changes, including update-bot pull requests".into(),
            )],
            "ci-tests",
        );
    }

    if ci.workflows == 0 {
        return;
    }
    // Pinned actions.
    let unpinned = ci.actions_total - ci.actions_pinned;
    let j = if unpinned == 0 {
        Judgement::Met
    } else if ci.actions_pinned > 0 {
        Judgement::PartlyMet
    } else {
        Judgement::NotMet
    };
    let ev: Vec<Evidence> = ci
        .findings
        .iter()
        .filter(|f| f.rule == "ci-action-unpinned")
        .take(20)
        .map(|f| Evidence::file(&f.file, f.line, f.message.clone()))
        .chain(std::iter::once(Evidence::note(format!(
            "{} of {} action references pinned by commit hash",
            ci.actions_pinned, ci.actions_total
        ))))
        .collect();
    cx.check(
        "ci-pinned-actions",
        "CI actions pinned by commit hash",
        j,
        format!("{} of {} pinned", ci.actions_pinned, ci.actions_total),
        ev,
        &["1.2.2"],
    );
    // Permissions.
    let j = if ci.workflows_least_privilege == ci.workflows {
        Judgement::Met
    } else if ci.workflows_least_privilege > 0 {
        Judgement::PartlyMet
    } else {
        Judgement::NotMet
    };
    let ev: Vec<Evidence> = ci
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("ci-permissions"))
        .take(20)
        .map(|f| Evidence::file(&f.file, f.line, f.message.clone()))
        .chain(std::iter::once(Evidence::note(format!(
            "{} of {} workflows with least-privilege token permissions",
            ci.workflows_least_privilege, ci.workflows
        ))))
        .collect();
    cx.check(
        "ci-permissions",
        "Least-privilege workflow permissions",
        j,
        format!(
            "{} of {} workflows least-privilege",
            ci.workflows_least_privilege, ci.workflows
        ),
        ev,
        &["2.1.3"],
    );
    // Dangerous triggers.
    let bad: Vec<Evidence> = ci
        .findings
        .iter()
        .filter(|f| f.rule == "ci-dangerous-trigger" || f.rule == "ci-script-injection")
        .map(|f| Evidence::file(&f.file, f.line, f.message.clone()))
        .collect();
    let j = if bad.is_empty() {
        Judgement::Met
    } else {
        Judgement::NotMet
    };
    let n = bad.len();
    let mut ev = bad;
    if ev.is_empty() {
        ev.push(Evidence::note(format!("{} workflows: no pull_request_target/workflow_run checkout of untrusted code, no script injection", ci.workflows)));
    }
    cx.check(
        "ci-dangerous-workflows",
        "No dangerous workflow triggers",
        j,
        format!("{n} dangerous pattern(s)"),
        ev,
        &["2.2.2"],
    );
    cx.findings.extend(ci.findings.iter().cloned());
}

fn signing(cx: &mut Ctx, ci: &CiFacts) {
    let mut ev = Vec::new();
    let mut material = 0usize;
    for f in &cx.files {
        let l = f.to_ascii_lowercase();
        if l.ends_with(".sigstore")
            || l.ends_with(".sigstore.json")
            || l.ends_with(".intoto.jsonl")
            || l.ends_with(".minisig")
            || l.contains("provenance") && l.ends_with(".json")
            || base(&l) == "sha256sums"
            || base(&l).ends_with(".sha256")
        {
            material += 1;
            if ev.len() < 10 {
                ev.push(Evidence::file(
                    f,
                    None,
                    "signature, checksum or provenance file".into(),
                ));
            }
        } else if l.ends_with(".sig") || l.ends_with(".asc") {
            // Only next to an artefact.
            let stem = &f[..f.len() - 4];
            if cx.by_lower.contains_key(&stem.to_ascii_lowercase()) {
                material += 1;
                if ev.len() < 10 {
                    ev.push(Evidence::file(
                        f,
                        None,
                        format!("detached signature of {stem}"),
                    ));
                }
            }
        }
    }
    ev.extend(ci.provenance.iter().take(10).cloned());
    let signed_release = material > 0 || !ci.provenance.is_empty();
    let (mut commit_ratio, mut tag_ratio) = (None, None);
    if let Some(g) = &cx.git {
        let n = g.recent.len();
        let s = g.recent.iter().filter(|c| c.signed).count();
        if n > 0 {
            commit_ratio = Some((s, n));
            ev.push(Evidence::note(format!(
                "{s} of the last {n} commits signed"
            )));
            if let Some(c) = g.recent.iter().find(|c| c.signed) {
                ev.push(Evidence {
                    file: None,
                    line: None,
                    commit: Some(c.id.clone()),
                    detail: "a signed commit (gpgsig header)".into(),
                });
            }
        }
        let annotated: Vec<_> = g.tags.iter().collect();
        if !annotated.is_empty() {
            let s = annotated.iter().filter(|t| t.signed).count();
            tag_ratio = Some((s, annotated.len()));
            ev.push(Evidence::note(format!(
                "{s} of {} tags signed",
                annotated.len()
            )));
        }
    } else {
        cx.unknown
            .push("signed commits and tags: unknown (not a git repository)".into());
    }
    let ratio_good = |r: Option<(usize, usize)>| r.is_some_and(|(s, n)| n > 0 && s * 10 >= n * 8);
    let any_signed = |r: Option<(usize, usize)>| r.is_some_and(|(s, _)| s > 0);
    let j = if signed_release && (ratio_good(tag_ratio) || ratio_good(commit_ratio)) {
        Judgement::Met
    } else if signed_release || any_signed(tag_ratio) || any_signed(commit_ratio) {
        Judgement::PartlyMet
    } else {
        Judgement::NotMet
    };
    let summary = format!(
        "release signing/provenance {}; commits signed {}; tags signed {}",
        if signed_release { "found" } else { "not found" },
        commit_ratio.map_or("unknown".into(), |(s, n)| format!("{s}/{n}")),
        tag_ratio.map_or("none".into(), |(s, n)| format!("{s}/{n}"))
    );
    cx.check(
        "signing",
        "Signed commits, tags and releases",
        j,
        summary,
        ev,
        &["3.1.1"],
    );
}

fn magic_kind(head: &[u8], path: &str) -> Option<&'static str> {
    match head {
        [0x7f, b'E', b'L', b'F', ..] => Some("ELF executable"),
        [b'M', b'Z', ..] if head.len() >= 64 => {
            let off = head
                .get(0x3c..0x40)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
            // The PE header may lie past what was read: MZ plus a sane offset.
            off.filter(|o| *o < 4096).map(|_| "PE (Windows) executable")
        }
        [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..] | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..] => {
            Some("Mach-O executable")
        }
        [0xca, 0xfe, 0xba, 0xbe, a, b, c, d, ..] => {
            let n = u32::from_be_bytes([*a, *b, *c, *d]);
            Some(if n < 45 {
                "Mach-O universal binary"
            } else {
                "Java class file"
            })
        }
        [b'P', b'K', 3, 4, ..] => {
            let l = path.to_ascii_lowercase();
            if [".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub"]
                .iter()
                .any(|e| l.ends_with(e))
            {
                None
            } else if [".jar", ".war", ".ear", ".aar", ".apk"]
                .iter()
                .any(|e| l.ends_with(e))
            {
                Some("Java archive")
            } else {
                Some("zip archive")
            }
        }
        [0, b'a', b's', b'm', ..] => Some("WebAssembly module"),
        _ => None,
    }
}

fn binaries(cx: &mut Ctx) {
    use std::io::Read;
    let mut found = Vec::new();
    let candidates: Vec<String> = match &cx.git {
        Some(g) => g.head_files.iter().map(|f| f.path.clone()).collect(),
        None => cx.files.clone(),
    };
    let mut buf = [0u8; 64];
    for f in &candidates {
        let Ok(mut file) = std::fs::File::open(cx.root.join(f)) else {
            continue;
        };
        let n = file.read(&mut buf).unwrap_or(0);
        if let Some(kind) = magic_kind(buf.get(..n).unwrap_or(&[]), f) {
            found.push((f.clone(), kind));
        }
    }
    let mut ev = Vec::new();
    for (f, kind) in &found {
        ev.push(Evidence::file(f, None, format!("{kind} committed")));
        cx.findings.push(Finding::new(
            "binary-artifact",
            Level::Warning,
            format!("{kind} committed to the source: it cannot be reviewed; build it in CI from source instead"),
            f,
            None,
        ));
    }
    let j = if found.is_empty() {
        Judgement::Met
    } else {
        Judgement::PartlyMet
    };
    let summary = format!("{} binary artefact(s) committed", found.len());
    if found.is_empty() {
        ev.push(Evidence::note(format!(
            "{} committed files checked by magic bytes",
            candidates.len()
        )));
    }
    cx.check(
        "binary-artifacts",
        "No binary artefacts committed",
        j,
        summary,
        ev,
        &["1.2.2"],
    );
}

/// The SPDX id of a licence text, when recognised.
pub fn spdx_of(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    let has = |s: &str| t.contains(s);
    if let Some(pos) = t.find("spdx-license-identifier:") {
        let rest = text.get(pos + 24..).unwrap_or("").trim_start();
        let id: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "-.+".contains(*c))
            .collect();
        for known in [
            "Apache-2.0",
            "MIT",
            "BSD-3-Clause",
            "BSD-2-Clause",
            "GPL-3.0",
            "GPL-2.0",
            "MPL-2.0",
            "ISC",
            "LGPL-3.0",
            "LGPL-2.1",
            "AGPL-3.0",
        ] {
            if id.starts_with(known) {
                return Some(known);
            }
        }
    }
    if has("apache license") && has("version 2.0") {
        Some("Apache-2.0")
    } else if has("gnu affero general public license") {
        Some("AGPL-3.0")
    } else if has("gnu lesser general public license") {
        Some(if has("version 3") {
            "LGPL-3.0"
        } else {
            "LGPL-2.1"
        })
    } else if has("gnu general public license") {
        Some(if has("version 3") {
            "GPL-3.0"
        } else {
            "GPL-2.0"
        })
    } else if has("mozilla public license") && has("2.0") {
        Some("MPL-2.0")
    } else if has("permission is hereby granted, free of charge") {
        Some("MIT")
    } else if has("redistribution and use in source and binary forms") {
        Some(
            if has("neither the name") || has("may not be used to endorse") {
                "BSD-3-Clause"
            } else {
                "BSD-2-Clause"
            },
        )
    } else if has("permission to use, copy, modify, and/or distribute this software") {
        Some("ISC")
    } else if has("this is free and unencumbered software") {
        Some("Unlicense")
    } else {
        None
    }
}

fn licence(cx: &mut Ctx) {
    let f = cx
        .files
        .iter()
        .find(|f| {
            !f.contains('/') && {
                let u = f.to_ascii_uppercase();
                u.starts_with("LICENSE")
                    || u.starts_with("LICENCE")
                    || u.starts_with("COPYING")
                    || u.starts_with("UNLICENSE")
            }
        })
        .cloned();
    let (j, ev, summary) = match f {
        Some(f) => {
            let id = cx.text(&f).as_deref().and_then(spdx_of);
            (
                Judgement::Met,
                vec![Evidence::file(
                    &f,
                    Some(1),
                    format!("licence{}", id.map_or(String::new(), |i| format!(": {i}"))),
                )],
                format!(
                    "{f}{}",
                    id.map_or(" (licence not recognised)".into(), |i| format!(" ({i})"))
                ),
            )
        }
        None => {
            // A licence declared in a manifest.
            let declared = ["Cargo.toml", "package.json", "pyproject.toml"]
                .iter()
                .find_map(|m| {
                    let text = cx.text(m)?;
                    let (n, l) = first_line(&text, |l| {
                        l.trim_start().starts_with("license")
                            || l.trim_start().starts_with("\"license\"")
                    })?;
                    Some(Evidence::file(m, Some(n), format!("licence declared: {l}")))
                });
            match declared {
                Some(e) => (
                    Judgement::PartlyMet,
                    vec![e],
                    "licence declared in a manifest but no LICENSE file".into(),
                ),
                None => (
                    Judgement::NotMet,
                    vec![Evidence::note("no LICENSE, LICENCE or COPYING file".into())],
                    "no licence".into(),
                ),
            }
        }
    };
    // Not a claim of the Code: informational.
    cx.checks.push(Check {
        id: "licence",
        title: "Licence",
        judgement: j,
        summary,
        evidence: ev,
        claims: Vec::new(),
    });
}

fn review(cx: &mut Ctx) {
    let owners = cx.find(&[
        "CODEOWNERS",
        ".github/CODEOWNERS",
        "docs/CODEOWNERS",
        ".gitlab/CODEOWNERS",
    ]);
    let mut ev = Vec::new();
    if let Some(o) = &owners {
        let covers_ci = cx.text(o).is_some_and(|t| {
            t.contains(".github") || t.lines().any(|l| l.trim_start().starts_with('*'))
        });
        ev.push(Evidence::file(
            o,
            None,
            format!(
                "code owners defined{}",
                if covers_ci {
                    " (covering the workflows)"
                } else {
                    ""
                }
            ),
        ));
        cx.claim("2.1.1", Judgement::Met, ev.clone(), "code-review");
        cx.claim(
            "2.2.2",
            if covers_ci {
                Judgement::Met
            } else {
                Judgement::PartlyMet
            },
            ev.clone(),
            "code-review",
        );
    }
    for doc in [
        "GOVERNANCE.md",
        "CONTRIBUTING.md",
        ".github/CONTRIBUTING.md",
        "MAINTAINERS.md",
        "MAINTAINERS",
    ] {
        if let Some(d) = cx.find(&[doc]) {
            cx.claim(
                "2.1.1",
                Judgement::PartlyMet,
                vec![Evidence::file(
                    &d,
                    None,
                    "contribution or governance document".into(),
                )],
                "code-review",
            );
            break;
        }
    }
    let Some(g) = &cx.git else {
        cx.unknown
            .push("code review trail: unknown (not a git repository)".into());
        return;
    };
    let n = g.recent.len();
    let reviewed: Vec<_> = g.recent.iter().filter(|c| c.reviewed).collect();
    let merges = g.recent.iter().filter(|c| c.parents >= 2).count();
    ev.push(Evidence::note(format!(
        "{} of the last {n} commits show review (merge commits: {merges}; Reviewed-by/Co-authored-by trailers or PR merges)",
        reviewed.len()
    )));
    for c in reviewed.iter().take(3) {
        ev.push(Evidence {
            file: None,
            line: None,
            commit: Some(c.id.clone()),
            detail: c.summary.chars().take(80).collect(),
        });
    }
    let j = if n == 0 {
        Judgement::NotMet
    } else if reviewed.len() * 2 >= n {
        Judgement::Met
    } else if !reviewed.is_empty() {
        Judgement::PartlyMet
    } else {
        Judgement::NotMet
    };
    let summary = format!("{} of the last {n} commits show review", reviewed.len());
    let vc = if g.tags.is_empty() && owners.is_none() {
        Judgement::PartlyMet
    } else {
        Judgement::Met
    };
    let mut vev = vec![Evidence::note(format!(
        "a git repository with {} commits and {} tags",
        g.commit_count,
        g.tags.len()
    ))];
    cx.check(
        "code-review",
        "Code review trail",
        j,
        summary,
        ev,
        &["1.3.3"],
    );
    if let Some(o) = owners {
        vev.push(Evidence::file(&o, None, "CODEOWNERS".into()));
    }
    cx.claim("1.1.4", vc, vev, "version-control");
}

fn documents(cx: &mut Ctx, ci: &CiFacts) {
    let _ = ci;
    // Presence of documents a repository can show (◐ claims).
    let docs: Vec<String> = cx
        .files
        .iter()
        .filter(|f| {
            let l = f.to_ascii_lowercase();
            (l.ends_with(".md")
                || l.ends_with(".rst")
                || l.ends_with(".txt")
                || l.ends_with(".adoc"))
                && (!l.contains('/')
                    || l.starts_with("docs/")
                    || l.starts_with("doc/")
                    || l.starts_with(".github/"))
        })
        .take(2000)
        .cloned()
        .collect();
    let mut framework = None;
    let mut threat = None;
    let mut upgrade = None;
    let mut incident = None;
    let mut requirements = None;
    let mut advisories = None;
    let mut security_changes = None;
    let mut https = None;
    for d in &docs {
        let l = d.to_ascii_lowercase();
        if threat.is_none()
            && (l.contains("threat-model")
                || l.contains("threat_model")
                || l.contains("threatmodel")
                || l.contains("security-assessment"))
        {
            threat = Some(Evidence::file(d, None, "threat model document".into()));
        }
        if incident.is_none() && (l.contains("incident")) {
            incident = Some(Evidence::file(d, None, "incident response document".into()));
        }
        if requirements.is_none()
            && (l.starts_with("docs/design")
                || l.contains("requirements")
                || l.contains("architecture")
                || l.contains("/design/")
                || l.starts_with("docs/formats/"))
        {
            requirements = Some(Evidence::file(
                d,
                None,
                "design or requirements document".into(),
            ));
        }
        let Some(text) = cx.text(d) else { continue };
        if framework.is_none() {
            if let Some((n, line)) = first_line(&text, |l| {
                l.contains("ssdf")
                    || l.contains("secure software development framework")
                    || l.contains("slsa")
                    || l.contains("security development lifecycle")
                    || l.contains("owasp samm")
                    || l.contains("s2c2f")
            }) {
                framework = Some(Evidence::file(
                    d,
                    Some(n),
                    format!("framework named: {line}"),
                ));
            }
        }
        if threat.is_none() {
            if let Some((n, line)) =
                first_line(&text, |l| l.starts_with('#') && l.contains("threat model"))
            {
                threat = Some(Evidence::file(d, Some(n), line));
            }
        }
        if upgrade.is_none() {
            if let Some((n, line)) = first_line(&text, |l| {
                l.starts_with('#')
                    && (l.contains("upgrad") || l.contains("updating") || l.contains("migration"))
            }) {
                upgrade = Some(Evidence::file(d, Some(n), line));
            }
        }
        if incident.is_none() {
            if let Some((n, line)) =
                first_line(&text, |l| l.starts_with('#') && l.contains("incident"))
            {
                incident = Some(Evidence::file(d, Some(n), line));
            }
        }
        let is_changelog = l.contains("changelog")
            || l.contains("changes")
            || l.contains("news")
            || l.contains("release");
        if is_changelog && advisories.is_none() {
            if let Some((n, line)) = first_line(&text, |l| {
                l.contains("cve-") || l.contains("ghsa-") || l.contains("rustsec-")
            }) {
                advisories = Some(Evidence::file(
                    d,
                    Some(n),
                    format!("advisory named: {line}"),
                ));
            }
        }
        if is_changelog && security_changes.is_none() {
            if let Some((n, line)) =
                first_line(&text, |l| l.starts_with('#') && l.contains("security"))
            {
                security_changes = Some(Evidence::file(d, Some(n), line));
            }
        }
        if https.is_none() && l.starts_with("readme") {
            if let Some((n, line)) = first_line(&text, |l| {
                l.contains("https://")
                    && (l.contains("install") || l.contains("download") || l.contains("releases"))
            }) {
                https = Some(Evidence::file(
                    d,
                    Some(n),
                    format!("HTTPS distribution: {line}"),
                ));
            }
        }
    }
    if let Some(f) = cx.find(&["SECURITY-INSIGHTS.yml", "security-insights.yml"]) {
        framework.get_or_insert(Evidence::file(&f, None, "SECURITY-INSIGHTS.yml".into()));
    }
    let toolchain = cx.find(&[
        "rust-toolchain.toml",
        "rust-toolchain",
        ".nvmrc",
        ".node-version",
        ".python-version",
        ".tool-versions",
        ".java-version",
        ".go-version",
        ".ruby-version",
    ]);
    let pairs: [(&'static str, Option<Evidence>); 11] = [
        ("1.1.1", framework),
        ("1.4.1", threat),
        ("4.1.3", upgrade),
        ("4.3.1", incident),
        ("1.1.5", requirements),
        ("3.4.2", advisories),
        ("3.5.1", security_changes),
        ("3.1.2", https),
        (
            "1.1.3",
            toolchain.map(|t| Evidence::file(&t, None, "toolchain pinned".into())),
        ),
        ("3.3.2", None),
        ("1.3.1", None),
    ];
    for (claim, ev) in pairs {
        if let Some(e) = ev {
            cx.claim(claim, Judgement::Met, vec![e], "documents");
        }
    }
}
