//! Package URLs (purl), as specified by the package-url project.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// A package URL: `pkg:type/namespace/name@version?qualifiers#subpath`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Purl {
    /// The type (`cargo`, `npm`, `deb`…), lower case.
    pub ty: String,
    /// The namespace (npm scope, Maven group, Debian vendor), if any.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
    /// The version, if any.
    pub version: Option<String>,
    /// Qualifiers (`arch`, `distro`…), sorted by key.
    pub qualifiers: BTreeMap<String, String>,
    /// The subpath, if any.
    pub subpath: Option<String>,
}

/// Why a string is not a package URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurlError(pub String);

impl fmt::Display for PurlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid package URL: {}", self.0)
    }
}

impl std::error::Error for PurlError {}

impl Purl {
    /// A purl with a type, optional namespace, name and optional version.
    pub fn new(ty: &str, namespace: Option<&str>, name: &str, version: Option<&str>) -> Self {
        Self {
            ty: ty.to_ascii_lowercase(),
            namespace: namespace.filter(|s| !s.is_empty()).map(str::to_string),
            name: name.to_string(),
            version: version.filter(|s| !s.is_empty()).map(str::to_string),
            qualifiers: BTreeMap::new(),
            subpath: None,
        }
    }

    /// Add a qualifier (ignored when the value is empty).
    #[must_use]
    pub fn with_qualifier(mut self, key: &str, value: &str) -> Self {
        if !value.is_empty() {
            self.qualifiers
                .insert(key.to_ascii_lowercase(), value.to_string());
        }
        self
    }

    /// Parse a package URL string.
    pub fn parse(s: &str) -> Result<Self, PurlError> {
        let rest = s
            .strip_prefix("pkg:")
            .ok_or_else(|| PurlError(format!("{s:?} does not start with pkg:")))?;
        let rest = rest.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, sp)) => (r, Some(sp)),
            None => (rest, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (ty, path) = rest
            .split_once('/')
            .ok_or_else(|| PurlError(format!("{s:?} has no name")))?;
        if ty.is_empty()
            || !ty
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'))
        {
            return Err(PurlError(format!("{s:?} has an invalid type")));
        }
        let path = path.trim_end_matches('/');
        // The version follows the last '@' of the last path segment.
        let (path, version) = match path.rfind('@') {
            Some(i) if !path[i..].contains('/') && i > 0 => (&path[..i], Some(&path[i + 1..])),
            _ => (path, None),
        };
        let (namespace, name) = match path.rfind('/') {
            Some(i) => (Some(&path[..i]), &path[i + 1..]),
            None => (None, path),
        };
        if name.is_empty() {
            return Err(PurlError(format!("{s:?} has an empty name")));
        }
        let mut purl = Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: namespace
                .map(|ns| {
                    ns.split('/')
                        .filter(|seg| !seg.is_empty())
                        .map(decode)
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .filter(|s| !s.is_empty()),
            name: decode(name),
            version: version.map(decode).filter(|s| !s.is_empty()),
            qualifiers: BTreeMap::new(),
            subpath: subpath
                .map(|sp| {
                    sp.split('/')
                        .filter(|seg| !seg.is_empty() && *seg != "." && *seg != "..")
                        .map(decode)
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .filter(|s| !s.is_empty()),
        };
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let v = decode(v);
                if !v.is_empty() {
                    purl.qualifiers.insert(k.to_ascii_lowercase(), v);
                }
            }
        }
        Ok(purl)
    }
}

fn encode_into(out: &mut String, s: &str, keep_slash: bool) {
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(64);
        out.push_str("pkg:");
        out.push_str(&self.ty);
        out.push('/');
        if let Some(ns) = &self.namespace {
            for (i, seg) in ns.split('/').enumerate() {
                if i > 0 {
                    out.push('/');
                }
                encode_into(&mut out, seg, false);
            }
            out.push('/');
        }
        encode_into(&mut out, &self.name, false);
        if let Some(v) = &self.version {
            out.push('@');
            encode_into(&mut out, v, false);
        }
        if !self.qualifiers.is_empty() {
            out.push('?');
            for (i, (k, v)) in self.qualifiers.iter().enumerate() {
                if i > 0 {
                    out.push('&');
                }
                out.push_str(k);
                out.push('=');
                encode_into(&mut out, v, false);
            }
        }
        if let Some(sp) = &self.subpath {
            out.push('#');
            encode_into(&mut out, sp, true);
        }
        f.write_str(&out)
    }
}

impl Serialize for Purl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Purl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Purl::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_spec_examples() {
        let p = Purl::new("npm", Some("@angular"), "core", Some("16.0.0"));
        assert_eq!(p.to_string(), "pkg:npm/%40angular/core@16.0.0");
        let p = Purl::new("deb", Some("debian"), "curl", Some("7.50.3-1"))
            .with_qualifier("arch", "i386")
            .with_qualifier("distro", "jessie");
        assert_eq!(
            p.to_string(),
            "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie"
        );
        let p = Purl::new("rpm", Some("fedora"), "curl", Some("1:7.50.3-1.fc25"));
        assert_eq!(p.to_string(), "pkg:rpm/fedora/curl@1%3A7.50.3-1.fc25");
    }

    #[test]
    fn parses_and_round_trips() {
        for s in [
            "pkg:npm/%40angular/core@16.0.0",
            "pkg:maven/org.apache.commons/commons-text@1.9",
            "pkg:golang/github.com/gorilla/mux@v1.8.0",
            "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
            "pkg:cargo/serde@1.0.0",
            "pkg:pypi/django",
            "pkg:github/actions/checkout@v4#sub/path",
        ] {
            let p = Purl::parse(s).unwrap();
            assert_eq!(p.to_string(), s);
        }
        let p = Purl::parse("pkg:golang/github.com/gorilla/mux@v1.8.0").unwrap();
        assert_eq!(p.namespace.as_deref(), Some("github.com/gorilla"));
        assert_eq!(p.name, "mux");
        assert_eq!(p.version.as_deref(), Some("v1.8.0"));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for s in [
            "",
            "pkg:",
            "pkg:/x",
            "npm/x",
            "pkg:npm/",
            "pkg:n%pm/x",
            "pkg:npm/%",
            "pkg:npm/%4",
        ] {
            let _ = Purl::parse(s);
        }
        assert!(Purl::parse("pkg:npm/").is_err());
        assert_eq!(Purl::parse("pkg:npm/%").unwrap().name, "%");
    }
}
