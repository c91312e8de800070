//! Checks as data: the TOML rule files in `rules/`, embedded at build time.

use crate::check::Check;
use crate::host::{FileRead, Host};
use portcullis_model::{CheckResult, Control};
use serde::Deserialize;

/// The rule files, in order. Adding a file here adds its checks.
pub const RULE_FILES: &[(&str, &str)] = &[
    (
        "rules/e2-services.toml",
        include_str!("../rules/e2-services.toml"),
    ),
    (
        "rules/e2-autorun.toml",
        include_str!("../rules/e2-autorun.toml"),
    ),
];

#[derive(Debug, Deserialize)]
struct RuleFile {
    check: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    id: String,
    control: Control,
    requirements: Vec<String>,
    title: String,
    pass: String,
    #[serde(default)]
    fix: Option<String>,
    #[serde(default)]
    attestation: Option<String>,
    #[serde(default)]
    status_on_fail: Option<String>,
    #[serde(default)]
    applies_if_package: Vec<String>,
    #[serde(default)]
    fail_if: Vec<Cond>,
    #[serde(default)]
    fail_unless: Vec<Cond>,
    #[serde(default)]
    fail_unless_detail: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cond {
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    dir: Option<String>,
    #[serde(default)]
    regex: Option<String>,
}

/// Parse a rule file; errors name the file.
fn parse(name: &str, text: &str) -> Result<Vec<Rule>, String> {
    toml::from_str::<RuleFile>(text)
        .map(|f| f.check)
        .map_err(|e| format!("{name}: {e}"))
}

/// Check every rule file parses and every regex compiles (used by tests).
pub fn validate() -> Result<usize, String> {
    let mut n = 0;
    for (name, text) in RULE_FILES {
        for r in parse(name, text)? {
            for c in r.fail_if.iter().chain(&r.fail_unless) {
                if let Some(re) = &c.regex {
                    regex::Regex::new(re).map_err(|e| format!("{name}: {}: {e}", r.id))?;
                }
                if c.package.is_none() && c.file.is_none() && c.dir.is_none() {
                    return Err(format!(
                        "{name}: {}: a condition needs package, file or dir",
                        r.id
                    ));
                }
            }
            if r.fix.is_none() && r.attestation.is_none() {
                return Err(format!("{name}: {}: needs fix or attestation", r.id));
            }
            n += 1;
        }
    }
    Ok(n)
}

/// Evaluate a condition: matches as (source, line, detail); Err when unreadable.
fn eval(
    host: &Host,
    c: &Cond,
    hits: &mut Vec<(String, Option<u32>, String)>,
) -> Result<(), String> {
    if let Some(p) = &c.package {
        if let Some(pkg) = host.package(p) {
            hits.push((
                pkg.purl.to_string(),
                None,
                format!("{} {} is installed", pkg.name, pkg.version),
            ));
        }
    }
    let re = match &c.regex {
        Some(r) => Some(regex::Regex::new(r).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut files = Vec::new();
    if let Some(f) = &c.file {
        files.push(f.clone());
    }
    if let Some(d) = &c.dir {
        files.extend(host.list_dir(d).into_iter().map(|n| format!("{d}/{n}")));
    }
    for f in files {
        match host.read(&f) {
            FileRead::Text(t) => {
                if let Some(re) = &re {
                    for (i, l) in t.lines().enumerate() {
                        if !l.trim_start().starts_with('#') && re.is_match(l) {
                            hits.push((
                                format!("/{f}"),
                                u32::try_from(i + 1).ok(),
                                l.trim().to_string(),
                            ));
                        }
                    }
                } else {
                    hits.push((format!("/{f}"), None, "present".into()));
                }
            }
            FileRead::Missing => {}
            FileRead::Unreadable(w) => return Err(format!("/{f}: {w}")),
        }
    }
    Ok(())
}

pub fn checks(host: &Host, out: &mut Vec<CheckResult>) {
    for (name, text) in RULE_FILES {
        let rules = match parse(name, text) {
            Ok(r) => r,
            Err(_) => continue, // validate() is tested; never reached in a release
        };
        for r in rules {
            out.push(run(host, &r));
        }
    }
}

fn run(host: &Host, r: &Rule) -> CheckResult {
    let reqs: Vec<&str> = r.requirements.iter().map(|s| s.as_str()).collect();
    let mut c = Check::new(&r.id, r.control, &reqs, &r.title);
    if !r.applies_if_package.is_empty() && !r.applies_if_package.iter().any(|p| host.has_package(p))
    {
        c.ev("packages", None, r.pass.clone());
        return c.pass();
    }
    let mut hits = Vec::new();
    for cond in &r.fail_if {
        if let Err(e) = eval(host, cond, &mut hits) {
            return c.unknown(format!("could not read {e}"));
        }
    }
    let mut failed = !hits.is_empty();
    if !r.fail_unless.is_empty() {
        let mut ok = Vec::new();
        for cond in &r.fail_unless {
            if let Err(e) = eval(host, cond, &mut ok) {
                return c.unknown(format!("could not read {e}"));
            }
        }
        if ok.is_empty() {
            failed = true;
            hits.push((
                "/etc".into(),
                None,
                r.fail_unless_detail
                    .clone()
                    .unwrap_or_else(|| "the required setting was not found".into()),
            ));
        } else {
            for (s, l, d) in ok {
                c.ev(&s, l, d);
            }
        }
    }
    for (s, l, d) in &hits {
        c.ev(s, *l, d.clone());
    }
    if !failed {
        if c.evidence().is_empty() {
            c.ev("portcullis", None, r.pass.clone());
        }
        return c.pass();
    }
    match (r.status_on_fail.as_deref(), &r.attestation, &r.fix) {
        (Some("needs_attestation"), Some(a), _) => c.attest(a.clone()),
        (_, _, Some(f)) => c.fail(f.clone()),
        (_, Some(a), None) => c.attest(a.clone()),
        (_, None, None) => c.fail("See the evidence."),
    }
}
