//! `portcullis.toml`: `[[ignore]]` entries.
//!
//! ```toml
//! [[ignore]]
//! id = "GHSA-wcg3-cvx6-7396"          # the finding's ID or any alias
//! package = "time"                    # optional: name, or a purl
//! ecosystem = "crates.io"             # optional: OSV ecosystem, e.g. "Debian:12"
//! reason = "only used at build time"  # required
//! expires = 2026-01-31                # required: a date (quoted or not)
//! ```

use crate::{date, line_col, Origin, Policy, Rule, Target, VexError};
use portcullis_model::{Diagnostic, Ecosystem, Purl};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::{Spanned, Value};

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    ignore: Vec<Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>>,
}

/// A string value and its 1-based line and column.
type Field = (String, (u32, u32));

const KEYS: &str = "id, package, ecosystem, reason, expires";

pub(crate) fn parse(name: &str, text: &str) -> Result<Policy, VexError> {
    let text = text.trim_start_matches('\u{feff}');
    let file: File = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        let msg = e.message().trim().trim_end_matches('.').to_string();
        let hint = if msg.contains("ignore") {
            "each accepted risk is an [[ignore]] table with id, reason and expires"
        } else {
            "fix the TOML syntax"
        };
        VexError::Syntax {
            path: name.to_string(),
            line,
            column,
            message: format!("invalid portcullis.toml: {msg}: {hint}"),
        }
    })?;
    let mut policy = Policy::default();
    for entry in &file.ignore {
        let (line, column) = line_col(text, entry.span().start);
        let err = |pos: (u32, u32), msg: String| {
            Diagnostic::error(name.to_string(), msg).at(pos.0, Some(pos.1))
        };
        let get_str = |key: &str| -> Result<Option<Field>, Diagnostic> {
            let Some((_, v)) = entry.get_ref().iter().find(|(k, _)| k.get_ref() == key) else {
                return Ok(None);
            };
            let pos = line_col(text, v.span().start);
            match v.get_ref() {
                Value::String(s) => Ok(Some((s.trim().to_string(), pos))),
                Value::Datetime(d) if key == "expires" => Ok(Some((d.to_string(), pos))),
                other => Err(err(
                    pos,
                    format!(
                        "`{key}` must be a string (found {}): quote it",
                        other.type_str()
                    ),
                )),
            }
        };
        let mut problems = Vec::new();
        let mut field = |key: &str| match get_str(key) {
            Ok(v) => v,
            Err(d) => {
                problems.push(d);
                None
            }
        };
        let id = field("id");
        let package = field("package");
        let ecosystem = field("ecosystem");
        let reason = field("reason");
        let expires = field("expires");
        for k in entry.get_ref().keys() {
            if !KEYS.split(", ").any(|known| known == k.get_ref()) {
                problems.push(err(
                    line_col(text, k.span().start),
                    format!(
                        "unknown key `{}` in [[ignore]]: the keys are {KEYS}",
                        k.get_ref()
                    ),
                ));
            }
        }
        let id_text = id
            .as_ref()
            .map_or("this entry", |(s, _)| s.as_str())
            .to_string();
        let has_key = |key: &str| entry.get_ref().keys().any(|k| k.get_ref() == key);
        match &id {
            None if has_key("id") => {} // wrong type, already reported
            None => problems.push(err(
                (line, column),
                "[[ignore]] entry has no `id`: add id = \"GHSA-…\" (the finding's ID or any of its aliases)".into(),
            )),
            Some((s, pos)) if s.is_empty() => problems.push(err(*pos, "`id` is empty: give the vulnerability ID".into())),
            _ => {}
        }
        match &reason {
            Some((r, _)) if !r.is_empty() => {}
            Some((_, pos)) => problems.push(err(
                *pos,
                format!("accepted risk for {id_text} has an empty `reason`: say why the risk is accepted"),
            )),
            None if has_key("reason") => {}
            None => problems.push(err(
                (line, column),
                format!("accepted risk for {id_text} has no `reason`: add reason = \"…\" saying why the risk is accepted"),
            )),
        }
        let mut expiry = None;
        match &expires {
            None if has_key("expires") => {}
            None => problems.push(err(
                (line, column),
                format!(
                    "accepted risk for {id_text} has no `expires` date: add expires = \"YYYY-MM-DD\" (every accepted risk needs a reason and an expiry date, so it is reviewed)"
                ),
            )),
            Some((e, pos)) => {
                if date::parse_date(e).is_some() {
                    expiry = Some(e.clone());
                } else {
                    problems.push(err(
                        *pos,
                        format!("`expires` = {e:?} for {id_text} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31"),
                    ));
                }
            }
        }
        let mut eco = None;
        if let Some((e, pos)) = &ecosystem {
            let (base, suffix) = Ecosystem::parse_osv(e);
            if matches!(base, Ecosystem::Other(_)) {
                policy.diagnostics.push(
                    Diagnostic::warning(name.to_string(), format!("unknown ecosystem {e:?}: use an OSV ecosystem name such as crates.io, npm, PyPI or Debian:12"))
                        .at(pos.0, Some(pos.1)),
                );
            }
            eco = Some((base, suffix.map(str::to_string)));
        }
        let target = match &package {
            Some((p, pos)) if p.starts_with("pkg:") => match Purl::parse(p) {
                Ok(purl) => Target::Purls(vec![purl]),
                Err(e) => {
                    problems.push(err(
                        *pos,
                        format!("{e}: write a package URL such as pkg:cargo/time or a plain name"),
                    ));
                    Target::Any
                }
            },
            Some((p, _)) if !p.is_empty() => Target::Name {
                name: Some(p.clone()),
                ecosystem: eco,
            },
            _ if eco.is_some() => Target::Name {
                name: None,
                ecosystem: eco,
            },
            _ => Target::Any,
        };
        if !problems.is_empty() {
            let skipped = problems.iter().any(Diagnostic::is_error);
            policy.diagnostics.extend(problems);
            if skipped {
                continue;
            }
        }
        let (Some((id, _)), Some((reason, _))) = (id, reason) else {
            continue;
        };
        policy.rules.push(Rule {
            ids: vec![id],
            target,
            suppresses: true,
            reason,
            expires: expiry,
            timestamp: None,
            source: name.to_string(),
            line: Some(line),
            origin: Origin::IgnoreFile,
        });
    }
    Ok(policy)
}
