//! Report formats: a table for people, JSON, SARIF 2.1.0, Markdown.

use crate::{Evidence, Judgement, Level, Report};
use serde_json::{json, Value};
use std::fmt::Write;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text table.
    Table,
    /// The JSON document (`portcullis.practice/v1`).
    Json,
    /// SARIF 2.1.0 with file-located findings.
    Sarif,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// Render a report. `color` adds ANSI colour to the table.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Table => table(report, color),
        Format::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        Format::Sarif => serde_json::to_string_pretty(&sarif(report)).unwrap_or_default() + "\n",
        Format::Markdown => markdown(report),
    }
}

fn score_text(s: Option<u32>) -> String {
    s.map_or_else(|| "n/a".to_string(), |s| format!("{s}/100"))
}

fn ev_text(e: &Evidence) -> String {
    let mut out = String::new();
    if let Some(f) = &e.file {
        out.push_str(f);
        if let Some(l) = e.line {
            let _ = write!(out, ":{l}");
        }
        out.push_str(": ");
    }
    if let Some(c) = &e.commit {
        let _ = write!(out, "commit {}: ", c.get(..12).unwrap_or(c));
    }
    out.push_str(&e.detail);
    out
}

fn paint(color: bool, j: Judgement, text: &str) -> String {
    if !color {
        return text.to_string();
    }
    let code = match j {
        Judgement::Met => "32",
        Judgement::PartlyMet => "33",
        Judgement::NotMet => "31",
        Judgement::NeedsAttestation => "36",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn table(r: &Report, color: bool) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Software Security Code of Practice: {}  score {}",
        r.path,
        score_text(r.score)
    );
    let _ = writeln!(
        o,
        "claims: {} met, {} partly met, {} not met, {} need attestation",
        r.counts.met, r.counts.partly_met, r.counts.not_met, r.counts.needs_attestation
    );
    if r.repository.git {
        let _ = writeln!(
            o,
            "git: {} commits, {} tags, {} blobs scanned for secrets",
            r.repository.commits, r.repository.tags, r.repository.blobs_scanned
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:<6} {:<9} {:<70}",
        "PRIN.", "SCORE", "CLAIMS (met/partly/not/attest)"
    );
    for p in &r.principles {
        let _ = writeln!(
            o,
            "{:<6} {:<9} {}/{}/{}/{}  {}",
            p.id,
            score_text(p.score),
            p.counts.met,
            p.counts.partly_met,
            p.counts.not_met,
            p.counts.needs_attestation,
            p.text.chars().take(70).collect::<String>()
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "CHECKS");
    for c in &r.checks {
        let label = format!("{:<17}", c.judgement.as_str());
        let _ = writeln!(
            o,
            "  {} {:<45} {}",
            paint(color, c.judgement, &label),
            c.title,
            c.summary
        );
        for e in c.evidence.iter().take(3) {
            let _ = writeln!(o, "      {}", ev_text(e));
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "CLAIMS");
    for p in &r.principles {
        for c in &p.claims {
            let label = format!("{:<17}", c.judgement.as_str());
            let _ = writeln!(
                o,
                "  {:<6} {} {}",
                c.id,
                paint(color, c.judgement, &label),
                c.text
            );
            if let Some(e) = c.evidence.first() {
                let _ = writeln!(o, "         {}", ev_text(e));
            }
        }
    }
    if !r.findings.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "FINDINGS ({})", r.findings.len());
        for f in r.findings.iter().take(100) {
            let loc = match f.line {
                Some(l) => format!("{}:{l}", f.file),
                None => f.file.clone(),
            };
            let _ = writeln!(
                o,
                "  {:<7} {loc}: [{}] {}",
                f.level.as_str(),
                f.rule,
                f.message
            );
        }
        if r.findings.len() > 100 {
            let _ = writeln!(o, "  … {} more (see --format json)", r.findings.len() - 100);
        }
    }
    if !r.unknown.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "UNKNOWN");
        for u in &r.unknown {
            let _ = writeln!(o, "  {u}");
        }
    }
    o
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn icon(j: Judgement) -> &'static str {
    match j {
        Judgement::Met => "✅",
        Judgement::PartlyMet => "🟡",
        Judgement::NotMet => "❌",
        Judgement::NeedsAttestation => "📝",
    }
}

fn markdown(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "## Software Security Code of Practice: {}\n",
        score_text(r.score)
    );
    let _ = writeln!(
        o,
        "{} met · {} partly met · {} not met · {} need attestation (not scored)\n",
        r.counts.met, r.counts.partly_met, r.counts.not_met, r.counts.needs_attestation
    );
    let _ = writeln!(o, "| Principle | Score | Met | Partly | Not met | Attest |");
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    for p in &r.principles {
        let _ = writeln!(
            o,
            "| {} {} | {} | {} | {} | {} | {} |",
            p.id,
            md_escape(&p.text.chars().take(60).collect::<String>()),
            score_text(p.score),
            p.counts.met,
            p.counts.partly_met,
            p.counts.not_met,
            p.counts.needs_attestation
        );
    }
    let _ = writeln!(o, "\n### Checks\n");
    let _ = writeln!(o, "| | Check | Result |");
    let _ = writeln!(o, "|---|---|---|");
    for c in &r.checks {
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            icon(c.judgement),
            c.title,
            md_escape(&c.summary)
        );
    }
    if !r.findings.is_empty() {
        let _ = writeln!(
            o,
            "\n<details><summary>{} findings</summary>\n",
            r.findings.len()
        );
        for f in r.findings.iter().take(50) {
            let loc = match f.line {
                Some(l) => format!("{}:{l}", f.file),
                None => f.file.clone(),
            };
            let _ = writeln!(
                o,
                "- **{}** `{}` {}",
                f.level.as_str(),
                md_escape(&loc),
                md_escape(&f.message)
            );
        }
        if r.findings.len() > 50 {
            let _ = writeln!(o, "- … {} more", r.findings.len() - 50);
        }
        let _ = writeln!(o, "\n</details>");
    }
    let attest: Vec<_> = r
        .principles
        .iter()
        .flat_map(|p| p.claims.iter())
        .filter(|c| c.judgement == Judgement::NeedsAttestation)
        .collect();
    if !attest.is_empty() {
        let _ = writeln!(
            o,
            "\n<details><summary>{} claims need the vendor's attestation</summary>\n",
            attest.len()
        );
        for c in attest {
            let _ = writeln!(
                o,
                "- **{}** {}",
                c.id,
                md_escape(c.attestation.as_deref().unwrap_or(&c.text))
            );
        }
        let _ = writeln!(o, "\n</details>");
    }
    o
}

/// FNV-1a 64-bit, for stable fingerprints.
fn fnv1a(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn path_uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.trim_start_matches("./");
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const RULES: &[(&str, &str, &str)] = &[
    ("secret-committed", "A secret is committed to the repository", "Revoke and rotate the secret, remove it from the tree, and keep secrets in a secret store (Code of Practice claims 1.4.3, 1.4.5)."),
    ("ci-action-unpinned", "A CI action is not pinned by commit hash", "Pin third-party actions to a full 40-character commit id (claim 1.2.2)."),
    ("ci-permissions-missing", "A workflow does not restrict its token", "Add `permissions: contents: read` at the top level and grant writes per job (claim 2.1.3)."),
    ("ci-permissions-broad", "A workflow token has write-all", "List only the scopes each job needs (claim 2.1.3)."),
    ("ci-dangerous-trigger", "A privileged trigger runs untrusted pull-request code", "Do not check out the pull request head under pull_request_target or workflow_run (claim 2.2.2)."),
    ("ci-script-injection", "Attacker-controlled text is expanded in a run script", "Pass event data through environment variables, not ${{ }} in scripts (claim 2.2.2)."),
    ("binary-artifact", "A binary artefact is committed", "Build binaries from source in CI; do not commit them (claim 1.2.2)."),
    ("vulnerable-dependency", "A dependency has a known vulnerability", "Upgrade to a fixed version (claim 3.3.1)."),
    ("docker-image-unpinned", "A container base image is not pinned by digest", "Use `image@sha256:<digest>` (claim 1.2.2)."),
    ("dependency-unpinned", "A requirement is not pinned", "Pin with `==` and hashes (claim 1.2.2)."),
    ("lockfile-not-committed", "A lockfile is not committed", "Commit lockfiles (claim 1.2.1)."),
];

fn sarif(r: &Report) -> Value {
    let used: Vec<&(&str, &str, &str)> = RULES
        .iter()
        .filter(|(id, _, _)| r.findings.iter().any(|f| f.rule == *id))
        .collect();
    let rules: Vec<Value> = used
        .iter()
        .map(|(id, short, help)| {
            json!({
                "id": id,
                "name": id.split('-').map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
                }).collect::<String>(),
                "shortDescription": { "text": short },
                "fullDescription": { "text": format!("{short}. {help}") },
                "help": { "text": help, "markdown": help },
                "properties": { "tags": ["security", "supply-chain", "sscop"] },
            })
        })
        .collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .filter(|f| !f.file.is_empty())
        .map(|f| {
            let idx = used.iter().position(|(id, _, _)| *id == f.rule);
            let mut region = serde_json::Map::new();
            region.insert("startLine".into(), json!(f.line.unwrap_or(1).max(1)));
            if let Some(c) = f.column {
                region.insert("startColumn".into(), json!(c.max(1)));
            }
            let mut res = json!({
                "ruleId": f.rule,
                "level": match f.level { Level::Error => "error", Level::Warning => "warning", Level::Note => "note" },
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": path_uri(&f.file), "uriBaseId": "%SRCROOT%" },
                        "region": Value::Object(region),
                    }
                }],
                "partialFingerprints": {
                    "portcullisPractice/v1": fnv1a(&[&f.rule, &f.file, &f.message]),
                },
            });
            if let (Some(i), Some(obj)) = (idx, res.as_object_mut()) {
                obj.insert("ruleIndex".into(), json!(i));
                if let Some(c) = &f.commit {
                    obj.insert("properties".into(), json!({ "commit": c }));
                }
            }
            res
        })
        .collect();
    json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "portcullis-practice",
                "informationUri": "https://example.invalid/portcullis",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "automationDetails": { "id": "portcullis/practice/" },
            "results": results,
            "properties": { "score": r.score },
        }]
    })
}
