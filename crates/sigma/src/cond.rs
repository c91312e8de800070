//! The detection `condition` expression.

use crate::ProblemKind;

/// A condition over search indexes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Search(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// `1 of …`: any.
    AnyOf(Vec<usize>),
    /// `all of …`: all.
    AllOf(Vec<usize>),
}

/// Maximum nesting of parentheses and `not`.
const MAX_NEST: usize = 48;

#[derive(Debug, Clone, PartialEq)]
enum T {
    Ident(String),
    And,
    Or,
    Not,
    Open,
    Close,
    Of(bool), // `all of` = true, `1 of` = false
}

type Err = (ProblemKind, String);

fn tokenize(s: &str) -> Result<Vec<T>, Err> {
    let mut raw: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' | ')' => {
                if !cur.is_empty() {
                    raw.push(std::mem::take(&mut cur));
                }
                raw.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    raw.push(std::mem::take(&mut cur));
                }
            }
            '|' => return Err((
                ProblemKind::Unsupported,
                "legacy aggregation (`| count() …`) in condition; rewrite it as a correlation rule"
                    .into(),
            )),
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        raw.push(cur);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(w) = raw.get(i) {
        let lw = w.to_ascii_lowercase();
        let next_is_of = raw.get(i + 1).is_some_and(|n| n.eq_ignore_ascii_case("of"));
        match lw.as_str() {
            "and" => out.push(T::And),
            "or" => out.push(T::Or),
            "not" => out.push(T::Not),
            "(" => out.push(T::Open),
            ")" => out.push(T::Close),
            "near" => {
                return Err((
                    ProblemKind::Unsupported,
                    "`near` (Sigma v1) is not supported".into(),
                ))
            }
            "all" if next_is_of => {
                out.push(T::Of(true));
                i += 1;
            }
            "1" if next_is_of => {
                out.push(T::Of(false));
                i += 1;
            }
            n if next_is_of && n.parse::<u32>().is_ok() => {
                return Err((
                    ProblemKind::Unsupported,
                    format!("`{n} of` (other than 1 or all) is not supported"),
                ))
            }
            _ => out.push(T::Ident(w.clone())),
        }
        i += 1;
    }
    Ok(out)
}

fn name_matches(pattern: &str, name: &str) -> bool {
    // only `*` wildcards in condition patterns
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut pos = 0usize;
    for (i, p) in parts.iter().enumerate() {
        let Some(rest) = name.get(pos..) else {
            return false;
        };
        if i == 0 {
            if !rest.starts_with(p) {
                return false;
            }
            pos += p.len();
        } else if i == parts.len() - 1 {
            return rest.len() >= p.len() && rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(f) => pos += f + p.len(),
                None => return false,
            }
        }
    }
    true
}

struct P<'a> {
    toks: Vec<T>,
    pos: usize,
    names: &'a [String],
    depth: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<&T> {
        self.toks.get(self.pos)
    }

    fn or(&mut self) -> Result<Cond, Err> {
        let mut alts = vec![self.and()?];
        while self.peek() == Some(&T::Or) {
            self.pos += 1;
            alts.push(self.and()?);
        }
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Cond::Or(Vec::new()))
        } else {
            Cond::Or(alts)
        })
    }

    fn and(&mut self) -> Result<Cond, Err> {
        let mut parts = vec![self.unary()?];
        while self.peek() == Some(&T::And) {
            self.pos += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Cond::And(Vec::new()))
        } else {
            Cond::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Cond, Err> {
        self.depth += 1;
        if self.depth > MAX_NEST {
            return Err((ProblemKind::Malformed, "condition nested too deeply".into()));
        }
        let tok = self.toks.get(self.pos).cloned();
        self.pos += 1;
        let r = match tok {
            Some(T::Not) => Ok(Cond::Not(Box::new(self.unary()?))),
            Some(T::Open) => {
                let inner = self.or()?;
                if self.peek() != Some(&T::Close) {
                    return Err((
                        ProblemKind::Malformed,
                        "condition has an unclosed `(`".into(),
                    ));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(T::Of(all)) => {
                let target = match self.toks.get(self.pos) {
                    Some(T::Ident(t)) => t.clone(),
                    _ => {
                        return Err((
                            ProblemKind::Malformed,
                            "`of` must be followed by a search name pattern or `them`".into(),
                        ))
                    }
                };
                self.pos += 1;
                let idx: Vec<usize> = if target == "them" {
                    (0..self.names.len())
                        .filter(|i| self.names.get(*i).is_some_and(|n| !n.starts_with('_')))
                        .collect()
                } else {
                    (0..self.names.len())
                        .filter(|i| self.names.get(*i).is_some_and(|n| name_matches(&target, n)))
                        .collect()
                };
                if idx.is_empty() {
                    return Err((
                        ProblemKind::Malformed,
                        format!("`{target}` in the condition matches no search"),
                    ));
                }
                Ok(if all {
                    Cond::AllOf(idx)
                } else {
                    Cond::AnyOf(idx)
                })
            }
            Some(T::Ident(name)) => match self.names.iter().position(|n| *n == name) {
                Some(i) => Ok(Cond::Search(i)),
                None => Err((
                    ProblemKind::Malformed,
                    format!("condition names `{name}`, which is not a search of this rule"),
                )),
            },
            Some(t) => Err((
                ProblemKind::Malformed,
                format!("unexpected {t:?} in condition"),
            )),
            None => Err((ProblemKind::Malformed, "condition ends too early".into())),
        };
        self.depth -= 1;
        r
    }
}

/// Parse a condition string against the rule's search names.
pub(crate) fn parse_condition(s: &str, names: &[String]) -> Result<Cond, Err> {
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return Err((ProblemKind::Malformed, "condition is empty".into()));
    }
    let mut p = P {
        toks,
        pos: 0,
        names,
        depth: 0,
    };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err((
            ProblemKind::Malformed,
            format!("unexpected text after the condition (token {})", p.pos + 1),
        ));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["sel", "sel_a", "sel_b", "filter", "_hidden"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn precedence_and_patterns() {
        let n = names();
        assert_eq!(
            parse_condition("sel and not filter or sel_a", &n).unwrap(),
            Cond::Or(vec![
                Cond::And(vec![Cond::Search(0), Cond::Not(Box::new(Cond::Search(3)))]),
                Cond::Search(1)
            ])
        );
        assert_eq!(
            parse_condition("1 of sel_* and not (filter)", &n).unwrap(),
            Cond::And(vec![
                Cond::AnyOf(vec![1, 2]),
                Cond::Not(Box::new(Cond::Search(3)))
            ])
        );
        assert_eq!(
            parse_condition("all of them", &n).unwrap(),
            Cond::AllOf(vec![0, 1, 2, 3])
        );
        assert_eq!(
            parse_condition("1 of sel*", &n).unwrap(),
            Cond::AnyOf(vec![0, 1, 2])
        );
    }

    #[test]
    fn rejected() {
        let n = names();
        assert_eq!(
            parse_condition("sel | count() by x > 5", &n).unwrap_err().0,
            ProblemKind::Unsupported
        );
        assert_eq!(
            parse_condition("sel near filter", &n).unwrap_err().0,
            ProblemKind::Unsupported
        );
        assert!(parse_condition("sel and", &n).is_err());
        assert!(parse_condition("(sel", &n).is_err());
        assert!(parse_condition("missing", &n).is_err());
        assert!(parse_condition("1 of nothing*", &n).is_err());
        assert!(parse_condition(&"(".repeat(10_000), &n).is_err());
        assert!(parse_condition(&"not ".repeat(10_000), &n).is_err());
        assert!(parse_condition("sel sel", &n).is_err());
    }
}
