//! Secret detection: known token formats plus entropy-checked assignments.
//!
//! The scanner looks for literal anchors with one Aho-Corasick pass (ASCII
//! case-insensitive), then validates the bytes around each hit. Nothing is
//! matched with backtracking, and each check reads a bounded window, so a
//! blob is scanned in linear time.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use serde::Serialize;

/// One secret found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretHit {
    /// Rule id (`aws-access-key-id`, `private-key`, `generic-assignment`…).
    pub rule: &'static str,
    /// What kind of secret, for people.
    pub description: &'static str,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in bytes).
    pub column: u32,
    /// The secret, redacted: the first four characters and the length.
    pub redacted: String,
}

#[derive(Clone, Copy)]
enum Anchor {
    PrivateKey,
    AwsKey,
    GoogleKey,
    GithubClassic,
    GithubFine,
    Gitlab,
    Slack,
    SlackWebhook,
    Stripe,
    Jwt,
    AzureAccountKey,
    Name,
}

const ANCHORS: &[(&str, Anchor)] = &[
    ("-----BEGIN ", Anchor::PrivateKey),
    ("AKIA", Anchor::AwsKey),
    ("ASIA", Anchor::AwsKey),
    ("AIza", Anchor::GoogleKey),
    ("ghp_", Anchor::GithubClassic),
    ("gho_", Anchor::GithubClassic),
    ("ghu_", Anchor::GithubClassic),
    ("ghs_", Anchor::GithubClassic),
    ("ghr_", Anchor::GithubClassic),
    ("github_pat_", Anchor::GithubFine),
    ("glpat-", Anchor::Gitlab),
    ("xoxb-", Anchor::Slack),
    ("xoxp-", Anchor::Slack),
    ("xoxa-", Anchor::Slack),
    ("xoxr-", Anchor::Slack),
    ("xoxs-", Anchor::Slack),
    ("hooks.slack.com/services/T", Anchor::SlackWebhook),
    ("sk_live_", Anchor::Stripe),
    ("rk_live_", Anchor::Stripe),
    ("eyJ", Anchor::Jwt),
    ("AccountKey=", Anchor::AzureAccountKey),
    ("password", Anchor::Name),
    ("passwd", Anchor::Name),
    ("secret", Anchor::Name),
    ("token", Anchor::Name),
    ("api_key", Anchor::Name),
    ("apikey", Anchor::Name),
    ("api-key", Anchor::Name),
    ("access_key", Anchor::Name),
    ("private_key", Anchor::Name),
    ("client_secret", Anchor::Name),
];

/// A reusable secret scanner (build once, scan many texts; clones share
/// the automaton).
#[derive(Clone)]
pub struct SecretScanner {
    ac: AhoCorasick,
    /// Anchors that must match case-sensitively.
    exact: Vec<bool>,
}

impl std::fmt::Debug for SecretScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretScanner")
    }
}

impl Default for SecretScanner {
    fn default() -> Self {
        Self::new()
    }
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}
fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn run_len(text: &[u8], start: usize, max: usize, f: impl Fn(u8) -> bool) -> usize {
    text.get(start..)
        .unwrap_or(&[])
        .iter()
        .take(max)
        .take_while(|&&b| f(b))
        .count()
}

/// Shannon entropy in bits per byte.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// The redacted form of a secret: its first four characters, then its length.
pub fn redact(secret: &[u8]) -> String {
    let shown: String = secret
        .iter()
        .take(4)
        .map(|&b| {
            if b.is_ascii_graphic() {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect();
    format!("{shown}…({} chars)", secret.len())
}

const PLACEHOLDERS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "dummy",
    "placeholder",
    "sample",
    "xxxx",
    "your",
    "redacted",
    "insert",
    "fake",
    "test",
    "1234",
    "abcd",
    "todo",
    "replace",
    "secret",
    "password",
    "token",
    "none",
    "null",
];

fn looks_placeholder(v: &[u8]) -> bool {
    let lower: Vec<u8> = v.iter().map(u8::to_ascii_lowercase).collect();
    PLACEHOLDERS
        .iter()
        .any(|p| memchr::memmem::find(&lower, p.as_bytes()).is_some())
        || v.windows(4).any(|w| w.iter().all(|&c| c == w[0]))
}

impl SecretScanner {
    /// Build the scanner.
    pub fn new() -> Self {
        let patterns: Vec<&str> = ANCHORS.iter().map(|(p, _)| *p).collect();
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .unwrap_or_else(|_| {
                AhoCorasick::new::<_, &str>([]).expect("an empty automaton builds")
            });
        let exact = ANCHORS
            .iter()
            .map(|(_, a)| !matches!(a, Anchor::Name))
            .collect();
        SecretScanner { ac, exact }
    }

    /// Every secret in `text`, in order; at most one per rule per line.
    pub fn scan(&self, text: &[u8]) -> Vec<SecretHit> {
        let mut hits: Vec<SecretHit> = Vec::new();
        let mut line = 1u32;
        let mut line_start = 0usize;
        let mut counted_to = 0usize;
        for m in self.ac.find_iter(text) {
            let idx = m.pattern().as_usize();
            let (pat, anchor) = match ANCHORS.get(idx) {
                Some(a) => *a,
                None => continue,
            };
            let start = m.start();
            if self.exact.get(idx).copied().unwrap_or(true)
                && text.get(start..m.end()) != Some(pat.as_bytes())
            {
                continue;
            }
            let found = match anchor {
                Anchor::PrivateKey => private_key(text, start),
                Anchor::AwsKey => aws_key(text, start),
                Anchor::GoogleKey => fixed_token(text, start, 4, 35, is_b64url, "google-api-key"),
                Anchor::GithubClassic => fixed_token(
                    text,
                    start,
                    4,
                    36,
                    |b| b.is_ascii_alphanumeric(),
                    "github-token",
                ),
                Anchor::GithubFine => {
                    fixed_token(text, start, 11, 82, is_word, "github-fine-grained-token")
                }
                Anchor::Gitlab => fixed_token(text, start, 6, 20, is_b64url, "gitlab-token"),
                Anchor::Slack => min_token(
                    text,
                    start,
                    5,
                    20,
                    |b| b.is_ascii_alphanumeric() || b == b'-',
                    "slack-token",
                ),
                Anchor::SlackWebhook => min_token(
                    text,
                    start,
                    26,
                    20,
                    |b| b.is_ascii_alphanumeric() || b == b'/',
                    "slack-webhook",
                ),
                Anchor::Stripe => min_token(
                    text,
                    start,
                    8,
                    24,
                    |b| b.is_ascii_alphanumeric(),
                    "stripe-live-key",
                ),
                Anchor::Jwt => jwt(text, start),
                Anchor::AzureAccountKey => azure_key(text, start),
                Anchor::Name => generic(text, start, m.end()),
            };
            let Some((rule, s, e)) = found else { continue };
            // Move the line counter to `s` (hits come in nearly increasing order).
            if s >= counted_to {
                let seg = text.get(counted_to..s).unwrap_or(&[]);
                for p in memchr::memchr_iter(b'\n', seg) {
                    line += 1;
                    line_start = counted_to + p + 1;
                }
            } else {
                let seg = text.get(s..counted_to).unwrap_or(&[]);
                let back = memchr::memchr_iter(b'\n', seg).count();
                line = line.saturating_sub(u32::try_from(back).unwrap_or(0));
                line_start =
                    memchr::memrchr(b'\n', text.get(..s).unwrap_or(&[])).map_or(0, |i| i + 1);
            }
            counted_to = s;
            if hits.iter().any(|h| h.line == line && h.rule == rule) {
                continue;
            }
            let secret = text.get(s..e).unwrap_or(&[]);
            hits.push(SecretHit {
                rule,
                description: describe(rule),
                line,
                column: u32::try_from(s.saturating_sub(line_start) + 1).unwrap_or(u32::MAX),
                redacted: redact(secret),
            });
        }
        // A known format wins over the generic rule on the same line.
        let specific: Vec<u32> = hits
            .iter()
            .filter(|h| h.rule != "generic-assignment")
            .map(|h| h.line)
            .collect();
        hits.retain(|h| h.rule != "generic-assignment" || !specific.contains(&h.line));
        hits
    }
}

fn describe(rule: &str) -> &'static str {
    match rule {
        "private-key" => "private key",
        "aws-access-key-id" => "AWS access key ID",
        "google-api-key" => "Google Cloud API key",
        "github-token" => "GitHub token",
        "github-fine-grained-token" => "GitHub fine-grained personal access token",
        "gitlab-token" => "GitLab personal access token",
        "slack-token" => "Slack token",
        "slack-webhook" => "Slack incoming webhook URL",
        "stripe-live-key" => "Stripe live secret key",
        "jwt" => "JSON Web Token",
        "azure-storage-key" => "Azure storage account key",
        _ => "high-entropy value assigned to a secret-like name",
    }
}

fn boundary_before(text: &[u8], start: usize) -> bool {
    start == 0
        || text
            .get(start - 1)
            .is_none_or(|&b| !is_word(b) && b != b'-')
}

type Found = Option<(&'static str, usize, usize)>;

fn fixed_token(
    text: &[u8],
    start: usize,
    prefix: usize,
    body: usize,
    f: impl Fn(u8) -> bool,
    rule: &'static str,
) -> Found {
    if !boundary_before(text, start) {
        return None;
    }
    let n = run_len(text, start + prefix, body + 1, f);
    if n != body {
        return None;
    }
    let b = text.get(start + prefix..start + prefix + body)?;
    if looks_placeholder(b) || entropy(b) < 3.0 {
        return None;
    }
    Some((rule, start, start + prefix + body))
}

fn min_token(
    text: &[u8],
    start: usize,
    prefix: usize,
    min: usize,
    f: impl Fn(u8) -> bool,
    rule: &'static str,
) -> Found {
    if !boundary_before(text, start) && rule != "slack-webhook" {
        return None;
    }
    let n = run_len(text, start + prefix, 200, f);
    if n < min {
        return None;
    }
    let b = text.get(start + prefix..start + prefix + n)?;
    if looks_placeholder(b) || entropy(b) < 3.0 {
        return None;
    }
    Some((rule, start, start + prefix + n))
}

fn aws_key(text: &[u8], start: usize) -> Found {
    if !boundary_before(text, start) {
        return None;
    }
    let n = run_len(text, start + 4, 17, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit()
    });
    if n != 16 {
        return None;
    }
    let b = text.get(start..start + 20)?;
    if memchr::memmem::find(b, b"EXAMPLE").is_some() || entropy(b) < 3.0 {
        return None;
    }
    Some(("aws-access-key-id", start, start + 20))
}

fn private_key(text: &[u8], start: usize) -> Found {
    let rest = text.get(start + 11..)?;
    let head_end = memchr::memchr(b'\n', &rest[..rest.len().min(80)])?;
    let head = rest.get(..head_end)?;
    if memchr::memmem::find(head, b"PRIVATE KEY").is_none()
        || !head.trim_ascii_end().ends_with(b"-----")
    {
        return None;
    }
    // The body: at least two lines of base64 (not a placeholder or a
    // string in code such as "-----BEGIN PRIVATE KEY-----\n...").
    let body = rest.get(head_end + 1..)?;
    let mut b64 = 0usize;
    for &b in body.iter().take(400) {
        if is_b64(b) {
            b64 += 1;
        } else if b == b'\n' || b == b'\r' || b == b':' || b == b' ' || b == b'-' {
            if b == b'-' {
                break;
            }
        } else {
            break;
        }
    }
    if b64 < 100 {
        return None;
    }
    let end = start + 11 + head_end + 1 + b64.min(body.len());
    Some(("private-key", start, end))
}

fn jwt(text: &[u8], start: usize) -> Found {
    if !boundary_before(text, start) {
        return None;
    }
    let a = run_len(text, start, 2000, is_b64url);
    if a < 16 || text.get(start + a) != Some(&b'.') {
        return None;
    }
    let p = start + a + 1;
    if text.get(p..p + 3) != Some(b"eyJ") {
        return None;
    }
    let bl = run_len(text, p, 4000, is_b64url);
    if bl < 16 || text.get(p + bl) != Some(&b'.') {
        return None;
    }
    let s = p + bl + 1;
    let sl = run_len(text, s, 1000, is_b64url);
    if sl < 20 {
        return None;
    }
    Some(("jwt", start, s + sl))
}

fn azure_key(text: &[u8], start: usize) -> Found {
    let s = start + 11;
    let n = run_len(text, s, 100, is_b64);
    if !(86..=90).contains(&n) {
        return None;
    }
    let b = text.get(s..s + n)?;
    if looks_placeholder(b) || entropy(b) < 4.0 {
        return None;
    }
    Some(("azure-storage-key", s, s + n))
}

/// `name = "value"`, `name: value`, `"name": "value"`, `NAME=value`, where
/// the name contains the anchor and the value looks random.
fn generic(text: &[u8], start: usize, end: usize) -> Found {
    // The whole identifier around the anchor.
    let mut id_end = end;
    while text
        .get(id_end)
        .is_some_and(|&b| is_word(b) || b == b'-' || b == b'.')
    {
        id_end += 1;
    }
    let mut id_start = start;
    while id_start > 0
        && text
            .get(id_start - 1)
            .is_some_and(|&b| is_word(b) || b == b'-' || b == b'.')
    {
        id_start -= 1;
    }
    let ident = text.get(id_start..id_end)?;
    if ident.len() > 40 {
        return None;
    }
    let lower: Vec<u8> = ident.iter().map(u8::to_ascii_lowercase).collect();
    // Names that are about secrets without holding one.
    for bad in [
        &b"token_type"[..],
        b"tokenizer",
        b"tokens",
        b"_url",
        b"_file",
        b"_path",
        b"_env",
        b"_name",
        b"_id",
        b"_length",
        b"_len",
        b"_field",
        b"_header",
        b"_hash",
        b"_sha",
        b"_prefix",
        b"_count",
    ] {
        if lower.ends_with(bad) {
            return None;
        }
    }
    // Separator.
    let mut p = id_end;
    if matches!(text.get(p), Some(b'"') | Some(b'\'')) {
        p += 1;
    }
    while matches!(text.get(p), Some(b' ') | Some(b'\t')) {
        p += 1;
    }
    match text.get(p..p + 2) {
        Some(b":=") | Some(b"=>") => p += 2,
        _ => match text.get(p) {
            Some(b'=') | Some(b':') => p += 1,
            _ => return None,
        },
    }
    if text.get(p) == Some(&b'=') {
        return None; // `==` comparison
    }
    while matches!(text.get(p), Some(b' ') | Some(b'\t')) {
        p += 1;
    }
    let quote = match text.get(p) {
        Some(&q @ (b'"' | b'\'' | b'`')) => {
            p += 1;
            Some(q)
        }
        _ => None,
    };
    let value_ok = |b: u8| b.is_ascii_alphanumeric() || b"+/=_-.!@#$%^&*~".contains(&b);
    let n = run_len(text, p, 200, value_ok);
    let v = text.get(p..p + n)?;
    // The value must end where the literal does.
    match quote {
        Some(q) => {
            if text.get(p + n) != Some(&q) {
                return None;
            }
        }
        None => {
            if !text
                .get(p + n)
                .is_none_or(|&b| matches!(b, b'\n' | b'\r' | b' ' | b'#' | b';' | b','))
            {
                return None;
            }
        }
    }
    let is_password = lower.ends_with(b"password") || lower.ends_with(b"passwd");
    let min_len = if is_password { 10 } else { 16 };
    if n < min_len || n > 200 {
        return None;
    }
    if looks_placeholder(v) {
        return None;
    }
    // Not code or references: `${X}`, `$X`, `%(x)s`, dotted names.
    if v.first() == Some(&b'$') || v.first() == Some(&b'%') {
        return None;
    }
    let digits = v.iter().filter(|b| b.is_ascii_digit()).count();
    let letters = v.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if digits == 0 || letters == 0 {
        return None;
    }
    let upper = v.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lowerc = v.iter().filter(|b| b.is_ascii_lowercase()).count();
    // Identifiers such as `some.module.Name` or `snake_case_words`.
    if v.iter().filter(|&&b| b == b'.' || b == b'_').count() * 5 > n {
        return None;
    }
    let h = entropy(v);
    let classes = usize::from(upper > 0) + usize::from(lowerc > 0) + usize::from(digits > 0);
    let hexlike = v.iter().all(|b| b.is_ascii_hexdigit());
    let ok = if hexlike {
        n >= 32 && h >= 3.0
    } else {
        h >= 3.5 && (classes >= 3 || (classes == 2 && n >= 20 && h >= 4.0))
    };
    if !ok {
        return None;
    }
    Some(("generic-assignment", p, p + n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<&'static str> {
        SecretScanner::new()
            .scan(text.as_bytes())
            .into_iter()
            .map(|h| h.rule)
            .collect()
    }

    #[test]
    fn known_formats_are_found_and_redacted() {
        let s = SecretScanner::new();
        let text = concat!("x = 1\naws_key = \"AKIA", "Z7QW3RTY5UIOP2LK\"\n");
        let hits = s.scan(text.as_bytes());
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].rule, "aws-access-key-id");
        assert_eq!(hits[0].line, 2);
        assert_eq!(hits[0].column, 12);
        assert_eq!(hits[0].redacted, "AKIA…(20 chars)");
        assert_eq!(
            rules(concat!("t: ghp", "_R8x2LmQ9vTz4Kp7WnB3cYd6FhJ1sGa5eUo0i")),
            ["github-token"]
        );
        assert_eq!(
            rules(concat!("glpat", "-Xy9Kq2Lm8Np4Rs6Tv1Wz")),
            ["gitlab-token"]
        );
        assert_eq!(
            rules(concat!("SLACK=xoxb", "-2931847561-Ab9Cd8Ef7Gh6Ij5Kl4")),
            ["slack-token"]
        );
        assert_eq!(
            rules(concat!("k = 'sk_live", "_4eC39HqLyjWDarjtT1zdp7dc9x'")),
            ["stripe-live-key"]
        );
        assert_eq!(
            rules(concat!("AIza", "SyD3Kx9Lm2Qp7Rt5Vw8Yz1Ab4Cd6Ef0GhIj")),
            ["google-api-key"]
        );
    }

    #[test]
    fn examples_and_placeholders_are_not_secrets() {
        assert!(rules("AKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(rules("password = \"changeme\"").is_empty());
        assert!(rules("token = os.environ['TOKEN']").is_empty());
        assert!(rules("api_key: ${API_KEY}").is_empty());
        assert!(rules("if password == other_password_value_1 {").is_empty());
        assert!(rules("\"-----BEGIN PRIVATE KEY-----\\n...\"").is_empty());
        assert!(rules("secret_name = \"my-service-production-db\"").is_empty());
        assert!(rules("token_url = \"https://example.invalid/oauth/token\"").is_empty());
    }

    #[test]
    fn generic_high_entropy_assignment_is_found() {
        assert_eq!(
            rules(concat!("DB_PASSWORD", "=Zq8#rT2!vW9kLm4P\n")),
            ["generic-assignment"]
        );
        assert_eq!(
            rules(concat!(
                "\"client_secret\"",
                ": \"9fK2mQ7xR4tV1wZ8bN3cJ6hL0pS5dG\""
            )),
            ["generic-assignment"]
        );
    }

    #[test]
    fn private_key_needs_a_body() {
        let body = "MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6r6DpIGJd3mZ6h0EfKf1kHhL7\nq8W2xYz3V4bN6mQ9pR1sT5uV8wX0yZ2aB4cD6eF8gH0iJ2kL4mN6oP8qR0sT2uV4\n";
        let key = format!(
            concat!(
                "-----BEGIN",
                " RSA PRIVATE KEY-----\n{}-----END RSA PRIVATE KEY-----\n"
            ),
            body
        );
        assert_eq!(rules(&key), ["private-key"]);
        assert!(rules("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh\n").is_empty());
    }

    #[test]
    fn jwt_is_found() {
        let t = concat!("Authorization: Bearer eyJ", "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
        assert_eq!(rules(t), ["jwt"]);
    }

    #[test]
    fn garbage_does_not_panic() {
        let s = SecretScanner::new();
        let mut data: Vec<u8> = (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        data.extend_from_slice(b"-----BEGIN ");
        data.extend_from_slice(b"password=");
        let _ = s.scan(&data);
        let _ = s.scan(b"eyJ");
        let _ = s.scan(b"AKIA");
    }
}
