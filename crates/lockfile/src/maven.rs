//! `pom.xml`.
//!
//! What is read: `project/dependencies/dependency` and
//! `project/dependencyManagement/dependencies/dependency` (plugins and
//! profiles are not read). Names are `groupId:artifactId`.
//!
//! `${…}` references are resolved from `project/properties` and from the
//! model (`project.version`, `project.groupId`, `project.artifactId`,
//! `project.parent.*`, and the old `pom.*` forms); a project without its own
//! version or groupId inherits its parent's. Properties may refer to other
//! properties; a loop, or an expansion longer than 4 KiB, stops resolution.
//! A version that stays unresolved (typically defined in a parent POM,
//! which is not read) becomes unknown (empty), with a warning naming the
//! property. A dependency without a version takes it from this POM's own
//! `dependencyManagement`; if there is none (the parent or an imported BOM
//! manages it) the version is unknown and one summary warning is given.
//! A version range (`[1.0,2.0)`) is unknown; a one-version range (`[1.0]`)
//! is that version.
//!
//! Scope: `test` is [`DependencyScope::Dev`]; `provided` is
//! [`DependencyScope::Optional`] (the run-time environment supplies its own
//! copy, so the version named may not be the one that runs), as is
//! `<optional>true</optional>`. Entries found only in `dependencyManagement`
//! pin versions for modules that may use them, but are not dependencies of
//! this project: they are reported as optional, with `direct = false`.
//! Dependencies are `direct = true`.

use crate::requirements::LineIndex;
use crate::Parsed;
use portcullis_model::{DependencyScope, Diagnostic, Ecosystem, Location, Package};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashMap;

/// How long an interpolated value may grow.
const MAX_VALUE: usize = 4096;
/// How many `${…}` replacements one value may need.
const MAX_STEPS: usize = 64;
/// Deepest element nesting read.
const MAX_DEPTH: usize = 256;

#[derive(Default)]
struct RawDep {
    group: String,
    artifact: String,
    version: Option<String>,
    scope: String,
    optional: String,
    line: u32,
    managed: bool,
}

#[derive(Default)]
struct Model {
    group: Option<String>,
    artifact: Option<String>,
    version: Option<String>,
    parent_group: Option<String>,
    parent_artifact: Option<String>,
    parent_version: Option<String>,
    properties: HashMap<String, String>,
}

enum Unresolved {
    Missing(String),
    Loop,
}

impl Model {
    fn builtin(&self, key: &str) -> Option<&str> {
        let key = key
            .strip_prefix("project.")
            .or_else(|| key.strip_prefix("pom."))
            .unwrap_or(key);
        match key {
            "version" => self.version.as_deref().or(self.parent_version.as_deref()),
            "groupId" => self.group.as_deref().or(self.parent_group.as_deref()),
            "artifactId" => self.artifact.as_deref(),
            "parent.version" => self.parent_version.as_deref(),
            "parent.groupId" => self.parent_group.as_deref(),
            "parent.artifactId" => self.parent_artifact.as_deref(),
            _ => None,
        }
    }

    fn lookup(&self, key: &str) -> Option<&str> {
        self.properties
            .get(key)
            .map(String::as_str)
            .or_else(|| self.builtin(key))
    }

    /// Resolve every `${…}` in `value`.
    fn interpolate(&self, value: &str) -> Result<String, Unresolved> {
        if !value.contains("${") {
            return Ok(value.to_string());
        }
        let mut s = value.to_string();
        // Replacements happen left to right; text before `from` is final.
        let mut from = 0;
        for _ in 0..MAX_STEPS {
            let Some(start) = s.get(from..).and_then(|t| t.find("${")).map(|i| i + from) else {
                return Ok(s);
            };
            let Some(len) = s[start + 2..].find('}') else {
                return Ok(s);
            };
            let key = &s[start + 2..start + 2 + len];
            let Some(v) = self.lookup(key.trim()) else {
                return Err(Unresolved::Missing(key.to_string()));
            };
            let v = v.to_string();
            s.replace_range(start..start + 3 + len, &v);
            if s.len() > MAX_VALUE {
                return Err(Unresolved::Loop);
            }
            from = start;
        }
        if s.contains("${") {
            Err(Unresolved::Loop)
        } else {
            Ok(s)
        }
    }
}

/// Which leaf of the document a text belongs to.
fn leaf_kind(path: &[Vec<u8>]) -> Option<Leaf> {
    let p: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
    Some(match p.as_slice() {
        [b"project", b"groupId"] => Leaf::Group,
        [b"project", b"artifactId"] => Leaf::Artifact,
        [b"project", b"version"] => Leaf::Version,
        [b"project", b"parent", b"groupId"] => Leaf::ParentGroup,
        [b"project", b"parent", b"artifactId"] => Leaf::ParentArtifact,
        [b"project", b"parent", b"version"] => Leaf::ParentVersion,
        [b"project", b"properties", _] => Leaf::Property,
        [b"project", b"dependencies", b"dependency", f]
        | [b"project", b"dependencyManagement", b"dependencies", b"dependency", f] => {
            Leaf::Dep(match *f {
                b"groupId" => DepField::Group,
                b"artifactId" => DepField::Artifact,
                b"version" => DepField::Version,
                b"scope" => DepField::Scope,
                b"optional" => DepField::Optional,
                _ => return None,
            })
        }
        _ => return None,
    })
}

#[derive(Clone, Copy)]
enum Leaf {
    Group,
    Artifact,
    Version,
    ParentGroup,
    ParentArtifact,
    ParentVersion,
    Property,
    Dep(DepField),
}

#[derive(Clone, Copy)]
enum DepField {
    Group,
    Artifact,
    Version,
    Scope,
    Optional,
}

fn is_dependency(path: &[Vec<u8>]) -> Option<bool> {
    let p: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
    match p.as_slice() {
        [b"project", b"dependencies", b"dependency"] => Some(false),
        [b"project", b"dependencyManagement", b"dependencies", b"dependency"] => Some(true),
        _ => None,
    }
}

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Parsed::default();
    let lines = LineIndex::new(text);
    let mut model = Model::default();
    let mut deps: Vec<RawDep> = Vec::new();
    let mut cur: Option<RawDep> = None;
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut buf = String::new();
    let mut reader = Reader::from_str(text);
    loop {
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                out.diagnostics.push(
                    Diagnostic::error(
                        path,
                        format!("invalid XML: {e}; the rest of the file is not read"),
                    )
                    .at(lines.line(at.min(text.len())), None),
                );
                break;
            }
        };
        match ev {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    out.diagnostics.push(
                        Diagnostic::error(path, format!("elements nest deeper than {MAX_DEPTH}; the rest of the file is not read"))
                            .at(lines.line(pos), None),
                    );
                    break;
                }
                stack.push(e.local_name().as_ref().as_bytes().to_vec());
                buf.clear();
                if let Some(managed) = is_dependency(&stack) {
                    cur = Some(RawDep {
                        line: lines.line(pos),
                        managed,
                        ..RawDep::default()
                    });
                }
            }
            Event::Empty(_) => {}
            Event::Text(t) if buf.len() < MAX_VALUE => buf.push_str(&t),
            Event::CData(t) if buf.len() < MAX_VALUE => buf.push_str(&t),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        _ => None,
                    },
                };
                if let Some(c) = c.filter(|_| buf.len() < MAX_VALUE) {
                    buf.push(c);
                }
            }
            Event::End(_) => {
                if let Some(leaf) = leaf_kind(&stack) {
                    let v = buf.trim().to_string();
                    match leaf {
                        Leaf::Group => model.group = Some(v),
                        Leaf::Artifact => model.artifact = Some(v),
                        Leaf::Version => model.version = Some(v),
                        Leaf::ParentGroup => model.parent_group = Some(v),
                        Leaf::ParentArtifact => model.parent_artifact = Some(v),
                        Leaf::ParentVersion => model.parent_version = Some(v),
                        Leaf::Property => {
                            if let Some(k) = stack.last() {
                                model
                                    .properties
                                    .insert(String::from_utf8_lossy(k).into_owned(), v);
                            }
                        }
                        Leaf::Dep(f) => {
                            if let Some(d) = cur.as_mut() {
                                match f {
                                    DepField::Group => d.group = v,
                                    DepField::Artifact => d.artifact = v,
                                    DepField::Version => d.version = Some(v),
                                    DepField::Scope => d.scope = v,
                                    DepField::Optional => d.optional = v,
                                }
                            }
                        }
                    }
                }
                if is_dependency(&stack).is_some() {
                    if let Some(d) = cur.take() {
                        deps.push(d);
                    }
                }
                stack.pop();
                buf.clear();
            }
            Event::Eof => {
                if !stack.is_empty() {
                    out.diagnostics.push(
                        Diagnostic::error(path, "unexpected end of file: elements left open")
                            .at(lines.line(text.len()), None),
                    );
                }
                break;
            }
            _ => {}
        }
    }
    if stack.is_empty() && deps.is_empty() && model.artifact.is_none() && !text.contains("<project")
    {
        out.diagnostics
            .push(Diagnostic::error(path, "no <project> element: not a POM"));
    }
    build(path, &model, deps, &mut out);
    out
}

/// Resolve names and versions and make the packages.
fn build(path: &str, model: &Model, deps: Vec<RawDep>, out: &mut Parsed) {
    // Versions from this POM's dependencyManagement.
    let mut managed: HashMap<(String, String), String> = HashMap::new();
    let resolve = |s: &str, what: &str, line: u32, diags: &mut Vec<Diagnostic>| -> Option<String> {
        match model.interpolate(s) {
            Ok(v) => Some(v),
            Err(Unresolved::Missing(k)) => {
                diags.push(
                    Diagnostic::warning(
                        path,
                        format!("{what} {s:?}: property {k:?} is not defined in this POM (perhaps in a parent); taken as unknown"),
                    )
                    .at(line, None),
                );
                None
            }
            Err(Unresolved::Loop) => {
                diags.push(
                    Diagnostic::warning(path, format!("{what} {s:?}: properties refer to each other in a loop or grow too long; taken as unknown"))
                        .at(line, None),
                );
                None
            }
        }
    };
    struct Named {
        group: String,
        artifact: String,
        version: Option<String>,
        dep: RawDep,
    }
    let mut named = Vec::with_capacity(deps.len());
    for d in deps {
        let diags = &mut out.diagnostics;
        if d.group.is_empty() || d.artifact.is_empty() {
            diags.push(
                Diagnostic::error(path, "dependency without groupId or artifactId; skipped")
                    .at(d.line, None),
            );
            continue;
        }
        let Some(group) = resolve(&d.group, "groupId", d.line, diags) else {
            continue;
        };
        let Some(artifact) = resolve(&d.artifact, "artifactId", d.line, diags) else {
            continue;
        };
        let version = match &d.version {
            Some(v) => Some(resolve(v, "version", d.line, diags).unwrap_or_default()),
            None => None,
        };
        if d.managed {
            if let Some(v) = version.as_ref().filter(|v| !v.is_empty()) {
                managed
                    .entry((group.clone(), artifact.clone()))
                    .or_insert_with(|| v.clone());
            }
        }
        named.push(Named {
            group,
            artifact,
            version,
            dep: d,
        });
    }
    let used: std::collections::HashSet<(String, String)> = named
        .iter()
        .filter(|n| !n.dep.managed)
        .map(|n| (n.group.clone(), n.artifact.clone()))
        .collect();
    let mut unmanaged = 0usize;
    for n in named {
        let key = (n.group, n.artifact);
        if n.dep.managed && used.contains(&key) {
            continue;
        }
        let raw = match n.version {
            Some(v) => v,
            None => match managed.get(&key) {
                Some(v) => v.clone(),
                None => {
                    unmanaged += 1;
                    String::new()
                }
            },
        };
        let version = match plain_version(&raw) {
            Some(v) => v,
            None => {
                out.diagnostics.push(
                    Diagnostic::warning(
                        path,
                        format!(
                            "version range {raw:?} of {}:{}; version taken as unknown",
                            key.0, key.1
                        ),
                    )
                    .at(n.dep.line, None),
                );
                ""
            }
        };
        let name = format!("{}:{}", key.0, key.1);
        let mut p = Package::new(
            Ecosystem::Maven,
            &name,
            version,
            Location {
                path: path.to_string(),
                line: Some(n.dep.line),
            },
        );
        p.scope = match n.dep.scope.as_str() {
            "test" => DependencyScope::Dev,
            "provided" => DependencyScope::Optional,
            _ if n.dep.optional == "true" || n.dep.managed => DependencyScope::Optional,
            _ => DependencyScope::Runtime,
        };
        p.direct = Some(!n.dep.managed);
        out.packages.push(p);
    }
    if unmanaged > 0 {
        out.diagnostics.push(Diagnostic::warning(
            path,
            format!("{unmanaged} dependencies have no version here (managed by a parent POM or imported BOM, not read); their versions are unknown"),
        ));
    }
}

/// A version that is not a range; `[1.0]` is `1.0`. `None` for ranges.
fn plain_version(v: &str) -> Option<&str> {
    let v = v.trim();
    if v.starts_with('[') || v.starts_with('(') {
        let inner = v.strip_prefix('[').and_then(|r| r.strip_suffix(']'))?;
        if inner.contains(',') || inner.trim().is_empty() {
            return None;
        }
        return Some(inner.trim());
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(plain_version("1.2"), Some("1.2"));
        assert_eq!(plain_version("[1.2]"), Some("1.2"));
        assert_eq!(plain_version("[1.0,2.0)"), None);
        assert_eq!(plain_version("(,1.0]"), None);
        assert_eq!(plain_version(""), Some(""));
    }

    #[test]
    fn interpolation_guards() {
        let mut m = Model::default();
        m.properties.insert("a".into(), "${a}".into());
        m.properties.insert("b".into(), "${b}${b}x".into());
        m.properties.insert("c".into(), "1.${d}".into());
        m.properties.insert("d".into(), "2".into());
        assert!(matches!(m.interpolate("${a}"), Err(Unresolved::Loop)));
        assert!(matches!(m.interpolate("${b}"), Err(Unresolved::Loop)));
        assert!(matches!(m.interpolate("${c}"), Ok(ref s) if s == "1.2"));
        assert!(matches!(m.interpolate("${zz}"), Err(Unresolved::Missing(ref k)) if k == "zz"));
        assert!(matches!(m.interpolate("${unclosed"), Ok(ref s) if s == "${unclosed"));
    }
}
