//! Value predicates: what one Sigma value (after modifiers) tests.

use memchr::memmem::Finder;
use portcullis_events::Value;
use std::net::IpAddr;

/// A wildcard pattern token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Lit(String),
    Star,
    One,
}

/// Split a Sigma string into wildcard tokens. `*` and `?` are wildcards;
/// `\*`, `\?` and `\\` are escapes; any other backslash is literal.
pub(crate) fn parse_wild(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n) if n == '*' || n == '?' || n == '\\' => {
                    lit.push(n);
                    chars.next();
                }
                _ => lit.push('\\'),
            },
            '*' | '?' => {
                if !lit.is_empty() {
                    out.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                out.push(if c == '*' { Tok::Star } else { Tok::One });
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Tok::Lit(lit));
    }
    out
}

/// Lowercase for case-insensitive comparison (ASCII fast path).
pub(crate) fn lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// How a string predicate compares.
#[derive(Debug, Clone)]
pub(crate) enum StrKind {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(Box<Finder<'static>>),
    /// Any value (the pattern `*`).
    Any,
    /// Literals and `*` only (no `?`), such as `a*b*c`: matched segment by
    /// segment with substring search.
    Stars(Box<Stars>),
    Glob(Vec<Tok>),
}

/// A `*`-only wildcard: `prefix*middle*…*suffix`.
#[derive(Debug, Clone)]
pub(crate) struct Stars {
    pub prefix: String,
    pub middles: Vec<Finder<'static>>,
    pub suffix: String,
}

impl Stars {
    fn of(toks: &[Tok]) -> Option<Stars> {
        if toks.iter().any(|t| matches!(t, Tok::One)) {
            return None;
        }
        let mut lits: Vec<&str> = Vec::new();
        for t in toks {
            if let Tok::Lit(l) = t {
                lits.push(l);
            }
        }
        let starts_star = matches!(toks.first(), Some(Tok::Star));
        let ends_star = matches!(toks.last(), Some(Tok::Star));
        let mut lits = lits.as_slice();
        let prefix = if starts_star {
            ""
        } else {
            let (f, rest) = lits.split_first()?;
            lits = rest;
            f
        };
        let suffix = if ends_star {
            ""
        } else {
            let (l, rest) = lits.split_last()?;
            lits = rest;
            l
        };
        Some(Stars {
            prefix: prefix.to_string(),
            middles: lits
                .iter()
                .map(|m| Finder::new(m.as_bytes()).into_owned())
                .collect(),
            suffix: suffix.to_string(),
        })
    }

    fn test(&self, h: &str) -> bool {
        let b = h.as_bytes();
        if !b.starts_with(self.prefix.as_bytes()) {
            return false;
        }
        let mut pos = self.prefix.len();
        for m in &self.middles {
            match b.get(pos..).and_then(|r| m.find(r)) {
                Some(i) => pos += i + m.needle().len(),
                None => return false,
            }
        }
        b.len() >= pos + self.suffix.len() && b.ends_with(self.suffix.as_bytes())
    }

    /// The longest literal (it must occur in any matching value).
    pub fn longest(&self) -> &[u8] {
        let mut best: &[u8] = self.prefix.as_bytes();
        for m in &self.middles {
            if m.needle().len() > best.len() {
                best = m.needle();
            }
        }
        if self.suffix.len() > best.len() {
            best = self.suffix.as_bytes();
        }
        best
    }
}

/// A string predicate (needles already lowercased unless `cased`).
#[derive(Debug, Clone)]
pub(crate) struct StrPred {
    pub cased: bool,
    pub kind: StrKind,
}

impl StrPred {
    /// Build from tokens, normalising stars and choosing the cheapest test.
    pub fn new(tokens: Vec<Tok>, cased: bool) -> StrPred {
        let mut toks: Vec<Tok> = Vec::with_capacity(tokens.len());
        for t in tokens {
            let t = match t {
                Tok::Lit(s) if !cased => Tok::Lit(lower(&s)),
                other => other,
            };
            match (toks.last_mut(), t) {
                (Some(Tok::Star), Tok::Star) => {}
                (Some(Tok::Lit(a)), Tok::Lit(b)) => a.push_str(&b),
                (_, t) => toks.push(t),
            }
        }
        let kind = match toks.as_slice() {
            [] => StrKind::Exact(String::new()),
            [Tok::Lit(a)] => StrKind::Exact(a.clone()),
            [Tok::Star] => StrKind::Any,
            [Tok::Lit(a), Tok::Star] => StrKind::Prefix(a.clone()),
            [Tok::Star, Tok::Lit(a)] => StrKind::Suffix(a.clone()),
            [Tok::Star, Tok::Lit(a), Tok::Star] => {
                StrKind::Contains(Box::new(Finder::new(a.as_bytes()).into_owned()))
            }
            _ => match Stars::of(&toks) {
                Some(st) => StrKind::Stars(Box::new(st)),
                None => StrKind::Glob(toks),
            },
        };
        StrPred { cased, kind }
    }

    /// Test a haystack (lowercased unless `cased`).
    pub fn test(&self, h: &str) -> bool {
        match &self.kind {
            StrKind::Exact(n) => h == n,
            StrKind::Prefix(n) => h.starts_with(n.as_str()),
            StrKind::Suffix(n) => h.ends_with(n.as_str()),
            StrKind::Contains(f) => f.find(h.as_bytes()).is_some(),
            StrKind::Any => true,
            StrKind::Stars(st) => st.test(h),
            StrKind::Glob(t) => glob(t, h),
        }
    }
}

/// Wildcard match with star backtracking (linear-ish; no recursion).
fn glob(toks: &[Tok], h: &str) -> bool {
    let mut ti = 0usize;
    let mut pos = 0usize;
    // (token index after the star, haystack position to retry from)
    let mut backtrack: Option<(usize, usize)> = None;
    loop {
        if ti == toks.len() {
            if pos == h.len() {
                return true;
            }
        } else {
            match toks.get(ti) {
                Some(Tok::Star) => {
                    backtrack = Some((ti + 1, pos));
                    ti += 1;
                    continue;
                }
                Some(Tok::One) => {
                    if let Some(c) = h.get(pos..).and_then(|r| r.chars().next()) {
                        pos += c.len_utf8();
                        ti += 1;
                        continue;
                    }
                }
                Some(Tok::Lit(l)) if h.get(pos..).is_some_and(|r| r.starts_with(l.as_str())) => {
                    pos += l.len();
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        // mismatch: retry after the last star, one char further
        match backtrack {
            Some((bt, bpos)) => {
                let Some(c) = h.get(bpos..).and_then(|r| r.chars().next()) else {
                    return false;
                };
                let np = bpos + c.len_utf8();
                backtrack = Some((bt, np));
                ti = bt;
                pos = np;
            }
            None => return false,
        }
    }
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NumOp {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl NumOp {
    pub fn test(self, a: f64, b: f64) -> bool {
        match self {
            NumOp::Lt => a < b,
            NumOp::Lte => a <= b,
            NumOp::Gt => a > b,
            NumOp::Gte => a >= b,
        }
    }
}

/// An IP network.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let net: IpAddr = addr.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        Some(Cidr { net, prefix })
    }

    pub fn contains_text(&self, s: &str) -> bool {
        let s = s.trim();
        // Windows writes IPv4-mapped IPv6 like ::ffff:10.0.0.1
        let ip: IpAddr = match s.parse() {
            Ok(ip) => ip,
            Err(_) => return false,
        };
        let ip = match (ip, self.net) {
            (IpAddr::V6(v6), IpAddr::V4(_)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            (ip, _) => ip,
        };
        match (ip, self.net) {
            (IpAddr::V4(a), IpAddr::V4(n)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix))
                };
                u32::from(a) & mask == u32::from(n) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(n)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.prefix))
                };
                u128::from(a) & mask == u128::from(n) & mask
            }
            _ => false,
        }
    }
}

/// One value test.
#[derive(Debug, Clone)]
pub(crate) enum Pred {
    Str(StrPred),
    Re(regex::Regex),
    Cidr(Cidr),
    Num(NumOp, f64),
    /// The field is absent, null or empty.
    Null,
}

/// A number from an event value (numbers, numeric text incl. hex `0x..`).
pub(crate) fn value_number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => text_number(s),
        _ => None,
    }
}

pub(crate) fn text_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i as f64);
    }
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok().map(|i| i as f64);
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Render a scalar value as text into `buf` (lists and nulls give "").
pub(crate) fn render<'a>(v: &'a Value, buf: &'a mut String) -> &'a str {
    use std::fmt::Write;
    match v {
        Value::Str(s) => s,
        Value::Int(i) => {
            buf.clear();
            buf.push_str(itoa::Buffer::new().format(*i));
            buf
        }
        Value::Float(f) => {
            buf.clear();
            let _ = write!(buf, "{f}");
            buf
        }
        Value::Bool(b) => {
            if *b {
                "true"
            } else {
                "false"
            }
        }
        Value::Null | Value::List(_) => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, cased: bool) -> StrPred {
        StrPred::new(parse_wild(s), cased)
    }

    #[test]
    fn wildcards_and_escapes() {
        assert!(matches!(p("abc*", false).kind, StrKind::Prefix(_)));
        assert!(matches!(p("*abc", false).kind, StrKind::Suffix(_)));
        assert!(matches!(p("*abc*", false).kind, StrKind::Contains(_)));
        assert!(p("a?c", false).test("abc"));
        assert!(!p("a?c", false).test("ac"));
        assert!(p("a*b*c", false).test("axxbyyc"));
        assert!(!p("a*b*c", false).test("axxbyy"));
        assert!(p(r"a\*b", false).test("a*b"));
        assert!(!p(r"a\*b", false).test("axb"));
        // `\*` escapes the wildcard (spec), so this is a literal star
        assert!(p(r"c:\windows\*", false).test(r"c:\windows*"));
        assert!(!p(r"c:\windows\*", false).test(r"c:\windows\x"));
        assert!(p(r"c:\windows\x", false).test(r"c:\windows\x"));
        assert!(p(r"a\\*", false).test(r"a\anything"));
        assert!(p("ÄB*", false).test("äbc"));
        assert!(p("*", false).test(""));
        assert!(p("?", false).test("é"));
    }

    #[test]
    fn cidr() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains_text("10.1.2.3"));
        assert!(c.contains_text("::ffff:10.1.2.3"));
        assert!(!c.contains_text("11.1.2.3"));
        let c6 = Cidr::parse("fe80::/10").unwrap();
        assert!(c6.contains_text("fe80::1"));
        assert!(!c6.contains_text("2001:db8::1"));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains_text("8.8.8.8"));
    }

    #[test]
    fn numbers() {
        assert_eq!(text_number(" -5 "), Some(-5.0));
        assert_eq!(text_number("0x10"), Some(16.0));
        assert_eq!(text_number("1.5"), Some(1.5));
        assert_eq!(text_number("abc"), None);
    }
}
