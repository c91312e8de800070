//! Reading CycloneDX and SPDX JSON.
//!
//! The document is split once into raw JSON slices (`serde_json::value::RawValue`
//! borrows them from the input, no copy); each component or package is then
//! deserialised on its own into borrowed structs. A component that does not
//! fit is skipped with a diagnostic at its line, and the rest is read.

use crate::distro::{osv_release, upstream_source};
use crate::util::{offset_in, LineIndex};
use crate::SbomRead;
use portcullis_model::package::ecosystem_of_purl;
use portcullis_model::{DependencyScope, Diagnostic, Location, Package, Purl};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashSet;

/// Documents larger than this are refused.
pub const MAX_SBOM_BYTES: usize = 256 * 1024 * 1024;

type Str<'a> = Option<Cow<'a, str>>;

#[derive(Deserialize)]
struct Top<'a> {
    #[serde(rename = "bomFormat", borrow, default)]
    bom_format: Option<&'a RawValue>,
    #[serde(rename = "specVersion", borrow, default)]
    spec_version: Option<&'a RawValue>,
    #[serde(rename = "spdxVersion", borrow, default)]
    spdx_version: Option<&'a RawValue>,
    #[serde(borrow, default)]
    components: Option<&'a RawValue>,
    #[serde(borrow, default)]
    packages: Option<&'a RawValue>,
    #[serde(rename = "documentDescribes", borrow, default)]
    document_describes: Option<&'a RawValue>,
    #[serde(borrow, default)]
    relationships: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct CdxComponent<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Str<'a>,
    #[serde(borrow, default)]
    name: Str<'a>,
    #[serde(borrow, default)]
    version: Str<'a>,
    #[serde(borrow, default)]
    purl: Str<'a>,
    #[serde(borrow, default)]
    scope: Str<'a>,
    #[serde(borrow, default)]
    licenses: Option<Vec<CdxLicenseChoice<'a>>>,
    #[serde(borrow, default)]
    properties: Option<Vec<CdxProperty<'a>>>,
    #[serde(borrow, default)]
    components: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct CdxLicenseChoice<'a> {
    #[serde(borrow, default)]
    license: Option<CdxLicense<'a>>,
    #[serde(borrow, default)]
    expression: Str<'a>,
}

#[derive(Deserialize)]
struct CdxLicense<'a> {
    #[serde(borrow, default)]
    id: Str<'a>,
    #[serde(borrow, default)]
    name: Str<'a>,
}

#[derive(Deserialize)]
struct CdxProperty<'a> {
    #[serde(borrow, default)]
    name: Str<'a>,
    #[serde(borrow, default)]
    value: Str<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage<'a> {
    #[serde(rename = "SPDXID", borrow, default)]
    spdx_id: Str<'a>,
    #[serde(borrow, default)]
    name: Str<'a>,
    #[serde(borrow, default)]
    version_info: Str<'a>,
    #[serde(borrow, default)]
    license_concluded: Str<'a>,
    #[serde(borrow, default)]
    license_declared: Str<'a>,
    #[serde(borrow, default)]
    primary_package_purpose: Str<'a>,
    #[serde(borrow, default)]
    external_refs: Option<Vec<SpdxExternalRef<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxExternalRef<'a> {
    #[serde(borrow, default)]
    reference_category: Str<'a>,
    #[serde(borrow, default)]
    reference_type: Str<'a>,
    #[serde(borrow, default)]
    reference_locator: Str<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRelationship<'a> {
    #[serde(borrow, default)]
    spdx_element_id: Str<'a>,
    #[serde(borrow, default)]
    relationship_type: Str<'a>,
    #[serde(borrow, default)]
    related_spdx_element: Str<'a>,
}

/// An SPDX package without a purl: (SPDXID, name, version, line).
type MaybeRoot = (String, Option<String>, Option<String>, Option<u32>);

/// State shared while reading one document.
struct Reader<'t> {
    path: &'t str,
    text: &'t str,
    lines: LineIndex,
    out: SbomRead,
    seen: HashSet<Purl>,
    /// Components skipped for having no purl: count and the first few names.
    no_purl: usize,
    no_purl_names: Vec<String>,
    no_purl_line: Option<u32>,
    /// Purls of types with no OSV ecosystem: count and examples.
    unknown_type: usize,
    unknown_type_examples: Vec<String>,
}

pub(crate) fn read(path: &str, text: &str) -> SbomRead {
    read_limited(path, text, MAX_SBOM_BYTES)
}

fn read_limited(path: &str, text: &str, limit: usize) -> SbomRead {
    let mut r = Reader {
        path,
        text,
        lines: LineIndex::new(""),
        out: SbomRead::default(),
        seen: HashSet::new(),
        no_purl: 0,
        no_purl_names: Vec::new(),
        no_purl_line: None,
        unknown_type: 0,
        unknown_type_examples: Vec::new(),
    };
    if text.len() > limit {
        r.out.diagnostics.push(Diagnostic::error(
            path,
            format!(
                "the SBOM is {} bytes, over the {} MiB limit: split it or trim it",
                text.len(),
                limit / (1024 * 1024)
            ),
        ));
        return r.out;
    }
    let top: Top<'_> = match serde_json::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let d = json_error(path, &e, "the SBOM is not valid JSON", None);
            let d = match e.classify() {
                serde_json::error::Category::Data => Diagnostic {
                    message:
                        "not a CycloneDX or SPDX JSON document: the top level is not a JSON object"
                            .into(),
                    ..d
                },
                _ => d,
            };
            r.out.diagnostics.push(d);
            return r.out;
        }
    };
    if !text
        .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
        .starts_with('{')
    {
        r.out.diagnostics.push(Diagnostic::error(
            path,
            "not a CycloneDX or SPDX JSON document: the top level is not a JSON object",
        ));
        return r.out;
    }
    r.lines = LineIndex::new(text);
    let bom_format = top.bom_format.and_then(raw_str);
    let spdx_version = top.spdx_version.and_then(raw_str);
    if bom_format.as_deref() == Some("CycloneDX")
        || (spdx_version.is_none() && top.components.is_some())
    {
        if let Some(v) = top.spec_version.and_then(raw_str) {
            if !v.starts_with("1.") {
                r.warn_at(
                    top.spec_version,
                    format!("CycloneDX specVersion {v:?} is not 1.x; reading it as 1.6"),
                );
            }
        }
        if let Some(list) = top.components {
            r.cyclonedx(list);
        }
    } else if let Some(v) = spdx_version {
        if !v.starts_with("SPDX-2.") {
            r.error_at(
                top.spdx_version,
                format!(
                    "{v} documents are not supported: only SPDX 2.x JSON (2.3 and earlier) is read"
                ),
            );
            return r.out;
        }
        if let Some(list) = top.packages {
            r.spdx(list, top.document_describes, top.relationships);
        }
    } else {
        r.out.diagnostics.push(Diagnostic::error(
            path,
            "not a CycloneDX or SPDX JSON document: it has neither \"bomFormat\": \"CycloneDX\" nor \"spdxVersion\"",
        ));
        return r.out;
    }
    r.finish();
    r.out
}

/// A JSON string from a raw value; `None` for other JSON types.
fn raw_str(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<String>(raw.get()).ok()
}

fn json_error(
    path: &str,
    e: &serde_json::Error,
    what: &str,
    base: Option<(u32, u32)>,
) -> Diagnostic {
    let (mut line, mut col) = (sat(e.line()), sat(e.column()));
    if let Some((bl, bc)) = base {
        // serde_json counts from the start of the slice it was given.
        if line <= 1 {
            col = bc.saturating_add(col.saturating_sub(1));
        }
        line = bl.saturating_add(line.saturating_sub(1));
    }
    let mut msg = e.to_string();
    // serde_json appends " at line L column C"; the diagnostic carries the position.
    if let Some(i) = msg.rfind(" at line ") {
        msg.truncate(i);
    }
    let d = Diagnostic::error(path, format!("{what}: {msg}"));
    if line == 0 {
        d
    } else {
        d.at(line, Some(col.max(1)))
    }
}

fn sat(n: usize) -> u32 {
    crate::util::sat_u32(n)
}

fn is_license_value(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty() && s != "NOASSERTION" && s != "NONE"
}

impl<'t> Reader<'t> {
    fn position(&self, raw: &str) -> Option<(u32, u32)> {
        offset_in(self.text, raw).map(|o| self.lines.position(o))
    }

    fn warn_at(&mut self, raw: Option<&RawValue>, msg: String) {
        let mut d = Diagnostic::warning(self.path, msg);
        if let Some((l, c)) = raw.and_then(|r| self.position(r.get())) {
            d = d.at(l, Some(c));
        }
        self.out.diagnostics.push(d);
    }

    fn error_at(&mut self, raw: Option<&RawValue>, msg: String) {
        let mut d = Diagnostic::error(self.path, msg);
        if let Some((l, c)) = raw.and_then(|r| self.position(r.get())) {
            d = d.at(l, Some(c));
        }
        self.out.diagnostics.push(d);
    }

    /// Split a raw JSON array into its elements, or report what it is instead.
    fn elements(&mut self, raw: &'t RawValue, what: &str) -> Vec<&'t RawValue> {
        match serde_json::from_str::<Vec<&'t RawValue>>(raw.get()) {
            Ok(v) => v,
            Err(e) => {
                let base = self.position(raw.get());
                let d = json_error(self.path, &e, &format!("{what} is not a JSON array"), base);
                self.out.diagnostics.push(d);
                Vec::new()
            }
        }
    }

    fn cyclonedx(&mut self, list: &'t RawValue) {
        // Depth-first, in document order, without recursion.
        let mut stack = vec![self.elements(list, "\"components\"").into_iter()];
        while let Some(top) = stack.last_mut() {
            let Some(raw) = top.next() else {
                stack.pop();
                continue;
            };
            let base = self.position(raw.get());
            let c: CdxComponent<'t> = match serde_json::from_str(raw.get()) {
                Ok(c) => c,
                Err(e) => {
                    let d = json_error(self.path, &e, "skipped a malformed component", base);
                    self.out.diagnostics.push(d);
                    continue;
                }
            };
            let line = base.map(|(l, _)| l);
            self.cdx_component(&c, line);
            if let Some(children) = c.components {
                let kids = self.elements(children, "nested \"components\"");
                stack.push(kids.into_iter());
            }
        }
    }

    fn cdx_component(&mut self, c: &CdxComponent<'t>, line: Option<u32>) {
        let Some(purl_text) = c.purl.as_deref().filter(|p| !p.trim().is_empty()) else {
            let silent = matches!(
                c.ty.as_deref(),
                Some(
                    "operating-system"
                        | "file"
                        | "container"
                        | "platform"
                        | "device"
                        | "device-driver"
                        | "firmware"
                        | "data"
                        | "machine-learning-model"
                        | "cryptographic-asset"
                )
            );
            if !silent {
                self.note_no_purl(c.name.as_deref(), c.version.as_deref(), line);
            }
            return;
        };
        let mut licenses = Vec::new();
        for l in c.licenses.iter().flatten() {
            if let Some(e) = l.expression.as_deref().filter(|s| is_license_value(s)) {
                licenses.push(e.trim().to_string());
            }
            if let Some(lic) = &l.license {
                if let Some(s) = lic
                    .id
                    .as_deref()
                    .or(lic.name.as_deref())
                    .filter(|s| is_license_value(s))
                {
                    licenses.push(s.trim().to_string());
                }
            }
        }
        let scope = match c.scope.as_deref() {
            Some("optional") => DependencyScope::Optional,
            Some("excluded") => DependencyScope::Dev,
            _ => DependencyScope::Runtime,
        };
        let mut source: Option<(String, Option<String>)> = None;
        for p in c.properties.iter().flatten() {
            match (p.name.as_deref(), p.value.as_deref()) {
                (Some("aquasecurity:trivy:SrcName"), Some(v)) if !v.is_empty() => {
                    source.get_or_insert_with(|| (v.to_string(), None)).0 = v.to_string();
                }
                (Some("aquasecurity:trivy:SrcVersion"), Some(v)) if !v.is_empty() => {
                    source.get_or_insert_with(|| (String::new(), None)).1 = Some(v.to_string());
                }
                _ => {}
            }
        }
        let source = source.filter(|(n, _)| !n.is_empty());
        self.add(
            purl_text,
            c.version.as_deref(),
            licenses,
            scope,
            source,
            line,
        );
    }

    fn note_no_purl(&mut self, name: Option<&str>, version: Option<&str>, line: Option<u32>) {
        self.no_purl += 1;
        if self.no_purl_line.is_none() {
            self.no_purl_line = line;
        }
        if self.no_purl_names.len() < 3 {
            let n = name.unwrap_or("(unnamed)");
            self.no_purl_names.push(match version {
                Some(v) if !v.is_empty() => format!("{n} {v}"),
                _ => n.to_string(),
            });
        }
    }

    /// Make a package from a purl and the document's other fields.
    fn add(
        &mut self,
        purl_text: &str,
        version_field: Option<&str>,
        licenses: Vec<String>,
        scope: DependencyScope,
        source: Option<(String, Option<String>)>,
        line: Option<u32>,
    ) {
        let purl = match Purl::parse(purl_text.trim()) {
            Ok(p) => p,
            Err(e) => {
                let mut d = Diagnostic::warning(self.path, format!("skipped a component: {e}"));
                if let Some(l) = line {
                    d = d.at(l, None);
                }
                self.out.diagnostics.push(d);
                return;
            }
        };
        let Some((ecosystem, name)) = ecosystem_of_purl(&purl) else {
            self.unknown_type += 1;
            if self.unknown_type_examples.len() < 3 {
                self.unknown_type_examples.push(purl_text.to_string());
            }
            return;
        };
        if self.seen.contains(&purl) {
            return;
        }
        let version = purl
            .version
            .clone()
            .or_else(|| version_field.map(str::to_string))
            .unwrap_or_default();
        let distro = if ecosystem.is_distro() {
            purl.qualifiers
                .get("distro")
                .and_then(|q| osv_release(&ecosystem, q))
        } else {
            None
        };
        let source = source.or_else(|| {
            purl.qualifiers
                .get("upstream")
                .and_then(|u| upstream_source(u))
        });
        let (source_name, source_version) = match source {
            Some((n, v)) => (Some(n), v.filter(|v| *v != version)),
            None => (None, None),
        };
        self.seen.insert(purl.clone());
        self.out.packages.push(Package {
            ecosystem,
            distro,
            name,
            version,
            source_name,
            source_version,
            purl,
            location: Location {
                path: self.path.to_string(),
                line,
            },
            scope,
            direct: None,
            licenses,
        });
    }

    fn spdx(
        &mut self,
        list: &'t RawValue,
        describes: Option<&'t RawValue>,
        relationships: Option<&'t RawValue>,
    ) {
        // Packages without a purl that may be the described root: which
        // ones are the root is only worked out when there are any, so the
        // (often large) relationships array is usually not parsed.
        let mut maybe_root: Vec<MaybeRoot> = Vec::new();
        for raw in self.elements(list, "\"packages\"") {
            let base = self.position(raw.get());
            let p: SpdxPackage<'t> = match serde_json::from_str(raw.get()) {
                Ok(p) => p,
                Err(e) => {
                    let d = json_error(self.path, &e, "skipped a malformed package", base);
                    self.out.diagnostics.push(d);
                    continue;
                }
            };
            let line = base.map(|(l, _)| l);
            let purl = p.external_refs.iter().flatten().find_map(|r| {
                let cat = r.reference_category.as_deref().unwrap_or("PACKAGE-MANAGER");
                let pm = cat.eq_ignore_ascii_case("PACKAGE-MANAGER")
                    || cat.eq_ignore_ascii_case("PACKAGE_MANAGER");
                (pm && r.reference_type.as_deref() == Some("purl"))
                    .then_some(r.reference_locator.as_deref())
                    .flatten()
                    .filter(|l| !l.trim().is_empty())
            });
            let Some(purl) = purl else {
                let silent_purpose = matches!(
                    p.primary_package_purpose.as_deref(),
                    Some(
                        "FILE"
                            | "OPERATING-SYSTEM"
                            | "CONTAINER"
                            | "DEVICE"
                            | "FIRMWARE"
                            | "SOURCE"
                            | "ARCHIVE"
                    )
                );
                if !silent_purpose {
                    maybe_root.push((
                        p.spdx_id.as_deref().unwrap_or_default().to_string(),
                        p.name.as_deref().map(str::to_string),
                        p.version_info.as_deref().map(str::to_string),
                        line,
                    ));
                }
                continue;
            };
            let mut licenses = Vec::new();
            for l in [&p.license_declared, &p.license_concluded]
                .into_iter()
                .flatten()
            {
                let l = l.trim();
                if is_license_value(l) && !licenses.iter().any(|x: &String| x == l) {
                    licenses.push(l.to_string());
                }
            }
            self.add(
                purl,
                p.version_info.as_deref(),
                licenses,
                DependencyScope::Runtime,
                None,
                line,
            );
        }
        if maybe_root.is_empty() {
            return;
        }
        // The packages the document describes are the subject, not dependencies.
        let mut roots: HashSet<String> = describes
            .and_then(|d| serde_json::from_str::<Vec<String>>(d.get()).ok())
            .unwrap_or_default()
            .into_iter()
            .collect();
        if let Some(rels) = relationships
            .and_then(|r| serde_json::from_str::<Vec<SpdxRelationship<'_>>>(r.get()).ok())
        {
            for rel in rels {
                if rel.relationship_type.as_deref() == Some("DESCRIBES")
                    && rel.spdx_element_id.as_deref() == Some("SPDXRef-DOCUMENT")
                {
                    if let Some(id) = rel.related_spdx_element {
                        roots.insert(id.into_owned());
                    }
                }
            }
        }
        for (id, name, version, line) in maybe_root {
            if !roots.contains(&id) {
                self.note_no_purl(name.as_deref(), version.as_deref(), line);
            }
        }
    }

    fn finish(&mut self) {
        if self.no_purl > 0 {
            let mut list = self.no_purl_names.join(", ");
            if self.no_purl > self.no_purl_names.len() {
                list.push_str(&format!(
                    " and {} more",
                    self.no_purl - self.no_purl_names.len()
                ));
            }
            let mut d = Diagnostic::warning(
                self.path,
                format!(
                    "skipped {} component(s) with no package URL (purl), so no ecosystem to match against: {list}",
                    self.no_purl
                ),
            );
            if let Some(l) = self.no_purl_line {
                d = d.at(l, None);
            }
            self.out.diagnostics.push(d);
        }
        if self.unknown_type > 0 {
            self.out.diagnostics.push(Diagnostic::warning(
                self.path,
                format!(
                    "skipped {} component(s) whose package URL type has no vulnerability ecosystem: {}",
                    self.unknown_type,
                    self.unknown_type_examples.join(", ")
                ),
            ));
        }
    }
}

/// True when the text looks like a CycloneDX or SPDX JSON document: it
/// starts with `{` and its first 16 KiB or last 4 KiB (writers that sort keys,
/// such as pip-audit, put `bomFormat` after the components) hold
/// `"bomFormat"` with `"CycloneDX"`, or `"spdxVersion"`.
pub(crate) fn looks_like_sbom(text: &str) -> bool {
    let bytes = text.as_bytes();
    let first = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace() && !matches!(**b, 0xEF | 0xBB | 0xBF));
    if first != Some(&b'{') {
        return false;
    }
    let head = bytes.get(..bytes.len().min(16 * 1024)).unwrap_or(bytes);
    let tail = bytes
        .get(bytes.len().saturating_sub(4 * 1024)..)
        .unwrap_or(bytes);
    [head, tail].into_iter().any(|part| {
        let has = |needle: &[u8]| memchr::memmem::find(part, needle).is_some();
        (has(b"\"bomFormat\"") && has(b"\"CycloneDX\"")) || has(b"\"spdxVersion\"")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_documents_over_the_limit() {
        let text = r#"{"bomFormat": "CycloneDX", "components": [{"purl": "pkg:cargo/a@1"}]}"#;
        assert_eq!(read_limited("x", text, 4096).packages.len(), 1);
        let r = read_limited("x", text, 16);
        assert!(r.packages.is_empty());
        assert_eq!(r.diagnostics.len(), 1);
        assert!(
            r.diagnostics[0].message.contains("over the 0 MiB limit"),
            "{:?}",
            r.diagnostics
        );
    }
}
