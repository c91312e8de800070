//! CI configuration: which systems are present, whether they run tests, and
//! for GitHub Actions whether actions are pinned by commit hash, tokens hold
//! least privilege, and triggers are safe.

use crate::{Evidence, Finding, Level};
use portcullis_model::Diagnostic;
use yaml_rust2::{Yaml, YamlLoader};

/// What was learnt from the CI files.
#[derive(Debug, Default)]
pub struct CiFacts {
    /// CI systems found, with the file that shows each.
    pub systems: Vec<Evidence>,
    /// Places where tests are run.
    pub tests: Vec<Evidence>,
    /// GitHub Actions workflows read.
    pub workflows: usize,
    /// `uses:` references to third-party actions.
    pub actions_total: usize,
    /// Of which pinned by a 40-hex commit id (or a docker digest).
    pub actions_pinned: usize,
    /// Workflows with least-privilege permissions.
    pub workflows_least_privilege: usize,
    /// Release signing or provenance steps.
    pub provenance: Vec<Evidence>,
    /// SAST steps (CodeQL, Semgrep…).
    pub sast: Vec<Evidence>,
    /// Workflows triggered on tags or release branches.
    pub release_triggers: Vec<Evidence>,
    /// Findings: unpinned actions, broad permissions, dangerous triggers.
    pub findings: Vec<Finding>,
    /// YAML that does not parse.
    pub diagnostics: Vec<Diagnostic>,
}

const TEST_COMMANDS: &[&str] = &[
    "cargo test",
    "cargo nextest",
    "npm test",
    "npm run test",
    "yarn test",
    "pnpm test",
    "pytest",
    "python -m pytest",
    "tox",
    "nox",
    "go test",
    "mvn test",
    "mvn verify",
    "mvn -b verify",
    "mvn install",
    "gradle test",
    "gradlew test",
    "gradle check",
    "gradlew check",
    "gradlew build",
    "make test",
    "make check",
    "ctest",
    "dotnet test",
    "bundle exec rspec",
    "rspec",
    "rake test",
    "phpunit",
    "mix test",
    "swift test",
    "cargo llvm-cov",
    ".ci/run",
    "scripts/test",
    "run-tests",
    "test.sh",
];

/// True when a shell command line runs tests.
pub fn runs_tests(cmd: &str) -> bool {
    let lower = cmd.to_ascii_lowercase();
    TEST_COMMANDS.iter().any(|t| lower.contains(t))
}

fn key<'a>(y: &'a Yaml, k: &str) -> Option<&'a Yaml> {
    match y {
        Yaml::Hash(h) => h.get(&Yaml::String(k.to_string())),
        _ => None,
    }
}

fn line_of(text: &str, needle: &str) -> Option<u32> {
    text.lines()
        .position(|l| l.contains(needle))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        _ => None,
    }
}

/// The trigger names of a workflow's `on:` (string, list or map). YAML 1.1
/// readers turn a bare `on` key into `true`; yaml-rust2 keeps it a string,
/// but both spellings are looked up.
fn triggers(doc: &Yaml) -> Vec<String> {
    let on = key(doc, "on").or_else(|| match doc {
        Yaml::Hash(h) => h.get(&Yaml::Boolean(true)),
        _ => None,
    });
    match on {
        Some(Yaml::String(s)) => vec![s.clone()],
        Some(Yaml::Array(a)) => a.iter().filter_map(scalar).collect(),
        Some(Yaml::Hash(h)) => h.keys().filter_map(scalar).collect(),
        _ => Vec::new(),
    }
}

fn is_pinned(uses: &str) -> bool {
    if uses.starts_with("./") {
        return true; // a local action: pinned with the repository
    }
    if let Some(img) = uses.strip_prefix("docker://") {
        return img.contains("@sha256:");
    }
    match uses.rsplit_once('@') {
        Some((_, r)) => r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

/// Permissions value judged: `Some(true)` least privilege, `Some(false)` too broad.
fn permissions_ok(p: &Yaml) -> bool {
    match p {
        Yaml::String(s) => s != "write-all",
        Yaml::Hash(h) => {
            // Any write is fine per job; at the top level only reads are.
            h.len() < 20
        }
        Yaml::Null => true,
        _ => false,
    }
}

fn has_write(p: &Yaml) -> bool {
    match p {
        Yaml::String(s) => s == "write-all",
        Yaml::Hash(h) => h
            .values()
            .any(|v| matches!(v, Yaml::String(s) if s == "write")),
        _ => false,
    }
}

const UNTRUSTED_REFS: &[&str] = &[
    "github.event.pull_request.head.sha",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.merge_commit_sha",
    "github.head_ref",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.head_branch",
    "refs/pull/",
];

const INJECTABLE: &[&str] = &[
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.comment.body",
    "github.event.review.body",
    "github.event.review_comment.body",
    "github.event.head_commit.message",
    "github.event.pull_request.head.ref",
    "github.head_ref",
    "github.event.discussion.title",
    "github.event.discussion.body",
];

/// Read one GitHub Actions workflow.
pub fn workflow(path: &str, text: &str, facts: &mut CiFacts) {
    let docs = match YamlLoader::load_from_str(text) {
        Ok(d) => d,
        Err(e) => {
            let m = e.marker();
            facts.diagnostics.push(
                Diagnostic::error(path, format!("workflow YAML does not parse: {}", e.info())).at(
                    u32::try_from(m.line()).unwrap_or(0).max(1),
                    Some(u32::try_from(m.col() + 1).unwrap_or(1)),
                ),
            );
            return;
        }
    };
    let Some(doc) = docs.first() else { return };
    facts.workflows += 1;
    let ev = |needle: &str, detail: String| Evidence::file(path, line_of(text, needle), detail);
    let trig = triggers(doc);
    let privileged_trigger = trig
        .iter()
        .any(|t| t == "pull_request_target" || t == "workflow_run");
    if trig.iter().any(|t| t == "release")
        || key(doc, "on")
            .and_then(|on| key(on, "push"))
            .and_then(|p| key(p, "tags"))
            .is_some()
    {
        facts
            .release_triggers
            .push(ev("tags", "runs on tags or releases".into()));
    }

    let top_perm = key(doc, "permissions");
    let top_ok = top_perm.is_some_and(|p| permissions_ok(p) && !has_write(p));
    let mut all_jobs_ok = true;
    let jobs = match key(doc, "jobs") {
        Some(Yaml::Hash(h)) => h.iter().collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    if let Some(p) = top_perm {
        if matches!(p, Yaml::String(s) if s == "write-all") {
            facts.findings.push(Finding::new(
                "ci-permissions-broad",
                Level::Warning,
                "the workflow token has `permissions: write-all`; grant read at the top level and writes per job".into(),
                path,
                line_of(text, "write-all"),
            ));
        }
    }
    for (name, job) in &jobs {
        let jname = scalar(name).unwrap_or_default();
        let jp = key(job, "permissions");
        if !top_ok {
            match jp {
                Some(p)
                    if permissions_ok(p) && !matches!(p, Yaml::String(s) if s == "write-all") => {}
                Some(_) => {
                    all_jobs_ok = false;
                    facts.findings.push(Finding::new(
                        "ci-permissions-broad",
                        Level::Warning,
                        format!("job `{jname}` gives its token `write-all`; list only the scopes it needs"),
                        path,
                        line_of(text, "write-all"),
                    ));
                }
                None => all_jobs_ok = false,
            }
        }
        // Reusable workflow call.
        if let Some(u) = key(job, "uses").and_then(scalar) {
            check_uses(path, text, &u, facts);
        }
        let steps = match key(job, "steps") {
            Some(Yaml::Array(a)) => a.as_slice(),
            _ => &[],
        };
        for step in steps {
            if let Some(u) = key(step, "uses").and_then(scalar) {
                check_uses(path, text, &u, facts);
                let lower = u.to_ascii_lowercase();
                if lower.starts_with("actions/checkout") && privileged_trigger {
                    let with = key(step, "with");
                    let r = with
                        .and_then(|w| key(w, "ref"))
                        .and_then(scalar)
                        .unwrap_or_default();
                    if UNTRUSTED_REFS.iter().any(|u| r.contains(u)) {
                        facts.findings.push(Finding::new(
                            "ci-dangerous-trigger",
                            Level::Error,
                            format!(
                                "job `{jname}` runs on `{}` and checks out the pull request's code (`ref: {r}`): untrusted code runs with the repository's secrets and a write token",
                                trig.iter().find(|t| *t == "pull_request_target" || *t == "workflow_run").map_or("", String::as_str)
                            ),
                            path,
                            line_of(text, &r).or_else(|| line_of(text, "pull_request_target")),
                        ));
                    }
                }
                if lower.starts_with("github/codeql-action")
                    || lower.contains("semgrep")
                    || lower.contains("sonarcloud")
                    || lower.contains("snyk")
                {
                    facts.sast.push(ev(&u, format!("SAST step `{u}`")));
                }
                if lower.contains("slsa-github-generator")
                    || lower.starts_with("actions/attest-build-provenance")
                    || lower.starts_with("actions/attest")
                    || lower.starts_with("sigstore/")
                    || lower.contains("cosign-installer")
                {
                    facts
                        .provenance
                        .push(ev(&u, format!("signing or provenance step `{u}`")));
                }
            }
            if let Some(run) = key(step, "run").and_then(scalar) {
                if runs_tests(&run) {
                    let first = run
                        .lines()
                        .find(|l| runs_tests(l))
                        .unwrap_or(&run)
                        .trim()
                        .to_string();
                    facts
                        .tests
                        .push(ev(&first, format!("job `{jname}` runs `{first}`")));
                }
                if run.contains("cosign sign")
                    || run.contains("gpg --detach-sign")
                    || run.contains("minisign")
                {
                    facts
                        .provenance
                        .push(ev("sign", format!("job `{jname}` signs artefacts")));
                }
                if run.contains("cargo clippy")
                    || run.contains("semgrep")
                    || run.contains("bandit")
                    || run.contains("gosec")
                {
                    facts.sast.push(ev(
                        "clippy",
                        format!("job `{jname}` runs a static analyser"),
                    ));
                }
                for inj in INJECTABLE {
                    if run.contains(&format!("${{{{ {inj}")) || run.contains(&format!("${{{{{inj}"))
                    {
                        facts.findings.push(Finding::new(
                            "ci-script-injection",
                            Level::Error,
                            format!("job `{jname}` expands attacker-controlled `{inj}` inside a `run:` script; pass it through an environment variable"),
                            path,
                            line_of(text, inj),
                        ));
                    }
                }
            }
        }
    }
    if top_ok || (!jobs.is_empty() && all_jobs_ok) {
        facts.workflows_least_privilege += 1;
    } else if top_perm.is_none() {
        facts.findings.push(Finding::new(
            "ci-permissions-missing",
            Level::Warning,
            "no `permissions:` at the top level (or on every job): the token gets the repository's default, often write; add `permissions: contents: read`".into(),
            path,
            Some(1),
        ));
    }
}

fn check_uses(path: &str, text: &str, uses: &str, facts: &mut CiFacts) {
    if uses.starts_with("./") {
        return;
    }
    facts.actions_total += 1;
    if is_pinned(uses) {
        facts.actions_pinned += 1;
    } else {
        facts.findings.push(Finding::new(
            "ci-action-unpinned",
            Level::Warning,
            format!("`uses: {uses}` is not pinned by a full commit hash; a moved tag runs other code. Pin it: `{}@<40-hex commit>`", uses.split('@').next().unwrap_or(uses)),
            path,
            line_of(text, uses),
        ));
    }
}

/// GitLab CI: tests in `script:` lines (textual).
pub fn gitlab(path: &str, text: &str, facts: &mut CiFacts) {
    if let Err(e) = YamlLoader::load_from_str(text) {
        facts.diagnostics.push(Diagnostic::error(
            path,
            format!("CI YAML does not parse: {}", e.info()),
        ));
    }
    generic_text(path, text, facts);
}

/// Any other CI file or script: look for test commands line by line.
pub fn generic_text(path: &str, text: &str, facts: &mut CiFacts) {
    for (i, l) in text.lines().enumerate() {
        if runs_tests(l) && !l.trim_start().starts_with('#') {
            facts.tests.push(Evidence::file(
                path,
                u32::try_from(i + 1).ok(),
                format!("runs `{}`", l.trim().chars().take(80).collect::<String>()),
            ));
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinning_rules() {
        assert!(is_pinned(
            "actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11"
        ));
        assert!(!is_pinned("actions/checkout@v4"));
        assert!(!is_pinned("actions/checkout"));
        assert!(is_pinned("./.github/actions/x"));
        assert!(is_pinned("docker://alpine@sha256:abc"));
        assert!(!is_pinned("docker://alpine:3"));
    }

    #[test]
    fn bad_yaml_is_a_diagnostic() {
        let mut f = CiFacts::default();
        workflow("w.yml", "on: [push\njobs: {", &mut f);
        assert_eq!(f.workflows, 0);
        assert_eq!(f.diagnostics.len(), 1);
        assert!(f.diagnostics[0].message.contains("does not parse"));
    }

    #[test]
    fn dangerous_pull_request_target() {
        let text = "on: pull_request_target\npermissions:\n  contents: read\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: make test\n";
        let mut f = CiFacts::default();
        workflow(".github/workflows/pr.yml", text, &mut f);
        let rules: Vec<&str> = f.findings.iter().map(|x| x.rule.as_str()).collect();
        assert_eq!(rules, ["ci-action-unpinned", "ci-dangerous-trigger"]);
        assert_eq!(f.findings[1].line, Some(10));
        assert_eq!(f.tests.len(), 1);
        assert_eq!(f.workflows_least_privilege, 1);
    }
}
