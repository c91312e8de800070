//! Writing CycloneDX 1.6 and SPDX 2.3 JSON.
//!
//! Documents are built as borrowed structs (strings point into the packages
//! and findings) and serialised in one pass with serde_json.

use crate::util::{looks_like_datetime, now_rfc3339, to_utc_seconds, ContentHash};
use crate::SbomSubject;
use portcullis_model::{Ecosystem, Finding, Package, Severity};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

// ---------------------------------------------------------------- CycloneDX

#[derive(Serialize)]
struct CdxBom<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "bomFormat")]
    bom_format: &'static str,
    #[serde(rename = "specVersion")]
    spec_version: &'static str,
    #[serde(rename = "serialNumber")]
    serial_number: String,
    version: u32,
    metadata: CdxMetadata<'a>,
    components: Vec<CdxComponent<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<CdxVulnerability<'a>>,
}

#[derive(Serialize)]
struct CdxMetadata<'a> {
    timestamp: &'a str,
    tools: CdxTools<'a>,
    component: CdxSubject<'a>,
}

#[derive(Serialize)]
struct CdxTools<'a> {
    components: [CdxTool<'a>; 1],
}

#[derive(Serialize)]
struct CdxTool<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    name: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    version: &'a str,
}

#[derive(Serialize)]
struct CdxSubject<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    #[serde(rename = "bom-ref")]
    bom_ref: &'static str,
    name: &'a str,
}

#[derive(Serialize)]
struct CdxComponent<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<CdxLicenseChoice<'a>>,
    purl: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum CdxLicenseChoice<'a> {
    License { license: CdxLicense<'a> },
    Expression { expression: &'a str },
}

#[derive(Serialize)]
#[serde(untagged)]
enum CdxLicense<'a> {
    Id { id: &'a str },
    Name { name: &'a str },
}

#[derive(Serialize)]
struct CdxVulnerability<'a> {
    id: &'a str,
    source: CdxSource,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<CdxReference<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ratings: Vec<CdxRating<'a>>,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommendation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisories: Vec<CdxAdvisory<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<CdxAnalysis>,
    affects: [CdxAffects; 1],
}

#[derive(Serialize)]
struct CdxSource {
    name: &'static str,
    url: String,
}

#[derive(Serialize)]
struct CdxReference<'a> {
    id: &'a str,
    source: CdxSource,
}

#[derive(Serialize)]
struct CdxRating<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<&'a str>,
}

#[derive(Serialize)]
struct CdxAdvisory<'a> {
    url: &'a str,
}

#[derive(Serialize)]
struct CdxAnalysis {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    response: Vec<&'static str>,
    detail: String,
}

#[derive(Serialize)]
struct CdxAffects {
    #[serde(rename = "ref")]
    bom_ref: String,
}

/// Where an advisory ID is published: (source name, URL).
fn advisory_source(id: &str) -> CdxSource {
    let (name, url) = if id.starts_with("CVE-") {
        ("NVD", format!("https://nvd.nist.gov/vuln/detail/{id}"))
    } else if id.starts_with("GHSA-") {
        (
            "GitHub Advisory Database",
            format!("https://github.com/advisories/{id}"),
        )
    } else if id.starts_with("RUSTSEC-") {
        (
            "RustSec",
            format!("https://rustsec.org/advisories/{id}.html"),
        )
    } else {
        ("OSV", format!("https://osv.dev/vulnerability/{id}"))
    };
    CdxSource { name, url }
}

/// The CycloneDX rating method of a CVSS vector.
fn cvss_method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4.0/") {
        "CVSSv4"
    } else if vector.starts_with("CVSS:3.1/") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3.0/") {
        "CVSSv3"
    } else if vector.starts_with("AV:") || vector.starts_with("(AV:") {
        "CVSSv2"
    } else {
        "other"
    }
}

/// The CycloneDX analysis of a suppressed finding, from the suppression's reason.
///
/// A reason naming a VEX justification (CycloneDX `code_not_present`…, or the
/// OpenVEX/CSAF words `vulnerable_code_not_present`,
/// `vulnerable_code_not_in_execute_path`…) gives `not_affected` with that
/// justification; "not affected" gives `not_affected`; "false positive"
/// gives `false_positive`; "fixed"/"resolved" gives `resolved`. Any other
/// reason is an accepted risk: `exploitable` with the response `will_not_fix`.
fn analysis(f: &Finding) -> Option<CdxAnalysis> {
    let s = f.suppressed.as_ref()?;
    let reason = s.reason.to_ascii_lowercase();
    let words = reason.replace(['-', ' '], "_");
    const JUSTIFICATIONS: &[(&str, &str)] = &[
        ("vulnerable_code_not_in_execute_path", "code_not_reachable"),
        ("vulnerable_code_not_present", "code_not_present"),
        ("component_not_present", "code_not_present"),
        (
            "vulnerable_code_cannot_be_controlled_by_adversary",
            "protected_by_mitigating_control",
        ),
        (
            "inline_mitigations_already_exist",
            "protected_by_mitigating_control",
        ),
        ("code_not_present", "code_not_present"),
        ("code_not_reachable", "code_not_reachable"),
        ("requires_configuration", "requires_configuration"),
        ("requires_dependency", "requires_dependency"),
        ("requires_environment", "requires_environment"),
        ("protected_by_compiler", "protected_by_compiler"),
        ("protected_at_runtime", "protected_at_runtime"),
        ("protected_at_perimeter", "protected_at_perimeter"),
        (
            "protected_by_mitigating_control",
            "protected_by_mitigating_control",
        ),
    ];
    let justification = JUSTIFICATIONS
        .iter()
        .find(|(w, _)| words.contains(w))
        .map(|(_, j)| *j);
    let (state, response) = if justification.is_some() || words.contains("not_affected") {
        ("not_affected", Vec::new())
    } else if words.contains("false_positive") {
        ("false_positive", Vec::new())
    } else if words.contains("resolved") || words.contains("fixed") {
        ("resolved", Vec::new())
    } else {
        ("exploitable", vec!["will_not_fix"])
    };
    let mut detail = format!("Suppressed by {}: {}", s.source, s.reason);
    if let Some(e) = &s.expires {
        detail.push_str(&format!(" (until {e})"));
    }
    Some(CdxAnalysis {
        state,
        justification,
        response,
        detail,
    })
}

/// A licence string as CycloneDX wants it: an SPDX id, an SPDX expression,
/// or a free-text name.
enum LicenseKind {
    Id,
    Expression,
    Name,
}

fn license_kind(s: &str) -> LicenseKind {
    if spdx::license_id(s).is_some_and(|l| l.name == s) {
        LicenseKind::Id
    } else if valid_spdx_expression(s) {
        LicenseKind::Expression
    } else {
        LicenseKind::Name
    }
}

fn valid_spdx_expression(s: &str) -> bool {
    let mode = spdx::ParseMode {
        allow_deprecated: true,
        // `GPL-2.0+` is valid SPDX syntax (the `+` operator on a deprecated id).
        allow_postfix_plus_on_gpl: true,
        ..spdx::ParseMode::STRICT
    };
    !s.trim().is_empty() && spdx::Expression::parse_mode(s, mode).is_ok()
}

fn cdx_licenses(licenses: &[String]) -> Vec<CdxLicenseChoice<'_>> {
    // The schema allows either license objects or exactly one expression.
    if let [one] = licenses {
        if let LicenseKind::Expression = license_kind(one) {
            return vec![CdxLicenseChoice::Expression { expression: one }];
        }
    }
    licenses
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| CdxLicenseChoice::License {
            license: match license_kind(l) {
                LicenseKind::Id => CdxLicense::Id { id: l },
                _ => CdxLicense::Name { name: l },
            },
        })
        .collect()
}

/// CycloneDX group and name: Maven group, npm scope or Composer vendor as
/// the group; other ecosystems keep their full name (Go module paths).
fn group_and_name(p: &Package) -> (Option<&str>, &str) {
    match (&p.ecosystem, p.purl.namespace.as_deref()) {
        (Ecosystem::Maven | Ecosystem::Npm | Ecosystem::Packagist, Some(ns)) if !ns.is_empty() => {
            (Some(ns), p.purl.name.as_str())
        }
        _ => (None, p.name.as_str()),
    }
}

fn subject_name(subject: &SbomSubject) -> &str {
    if subject.name.trim().is_empty() {
        "unnamed"
    } else {
        &subject.name
    }
}

fn created(subject: &SbomSubject) -> String {
    if looks_like_datetime(&subject.created) {
        subject.created.clone()
    } else {
        now_rfc3339()
    }
}

fn content_hash(
    subject: &SbomSubject,
    packages: &[Package],
    findings: &[Finding],
    kind: &str,
) -> ContentHash {
    let mut h = ContentHash::new();
    h.add(kind);
    h.add(&subject.name);
    h.add(&subject.created);
    h.add(&subject.tool_version);
    for p in packages {
        h.add_display(&p.purl);
    }
    for f in findings {
        h.add(&f.id);
        h.add_display(&f.package.purl);
        h.add(f.suppressed.as_ref().map_or("", |s| s.reason.as_str()));
    }
    h
}

pub(crate) fn write_cyclonedx(
    subject: &SbomSubject,
    packages: &[Package],
    findings: &[Finding],
) -> String {
    let timestamp = created(subject);
    let serial_number = format!(
        "urn:uuid:{}",
        content_hash(subject, packages, findings, "cyclonedx").uuid()
    );
    let all_distro = !packages.is_empty() && packages.iter().all(|p| p.ecosystem.is_distro());

    // Components: the packages, then any package a finding names that is not among them.
    let mut refs: HashMap<String, String> = HashMap::with_capacity(packages.len());
    let mut used: HashSet<String> = HashSet::with_capacity(packages.len());
    let mut components = Vec::with_capacity(packages.len());
    let extra = findings.iter().map(|f| &f.package);
    for p in packages.iter().chain(extra) {
        let purl = p.purl.to_string();
        if components.len() >= packages.len() && refs.contains_key(&purl) {
            continue; // a finding's package already listed
        }
        let mut bom_ref = purl.clone();
        let mut n = 1;
        while used.contains(&bom_ref) || bom_ref == "portcullis-subject" {
            n += 1;
            bom_ref = format!("{purl}|{n}");
        }
        used.insert(bom_ref.clone());
        refs.entry(purl.clone()).or_insert_with(|| bom_ref.clone());
        let (group, name) = group_and_name(p);
        components.push(CdxComponent {
            ty: "library",
            bom_ref,
            group,
            name,
            version: &p.version,
            scope: match p.scope {
                portcullis_model::DependencyScope::Runtime => None,
                portcullis_model::DependencyScope::Optional => Some("optional"),
                portcullis_model::DependencyScope::Dev => Some("excluded"),
            },
            licenses: cdx_licenses(&p.licenses),
            purl,
        });
    }

    let vulnerabilities = findings
        .iter()
        .map(|f| {
            let purl = f.package.purl.to_string();
            let bom_ref = refs.get(&purl).cloned().unwrap_or(purl);
            let mut ratings = Vec::new();
            if f.cvss_score.is_some() || f.severity != Severity::Unknown {
                ratings.push(CdxRating {
                    score: f.cvss_score.filter(|s| s.is_finite()),
                    severity: f.severity.as_str(),
                    method: f.cvss_vector.as_deref().map(cvss_method),
                    vector: f.cvss_vector.as_deref(),
                });
            }
            CdxVulnerability {
                id: &f.id,
                source: advisory_source(&f.id),
                references: f
                    .aliases
                    .iter()
                    .filter(|a| **a != f.id)
                    .map(|a| CdxReference {
                        id: a,
                        source: advisory_source(a),
                    })
                    .collect(),
                ratings,
                description: &f.summary,
                recommendation: f
                    .fix
                    .upgrade_to
                    .as_ref()
                    .map(|v| format!("Upgrade {} to {v}", f.package.name)),
                advisories: f
                    .references
                    .iter()
                    .map(|u| CdxAdvisory { url: u })
                    .collect(),
                published: f.published.as_deref().filter(|t| looks_like_datetime(t)),
                updated: f.modified.as_deref().filter(|t| looks_like_datetime(t)),
                analysis: analysis(f),
                affects: [CdxAffects { bom_ref }],
            }
        })
        .collect();

    let bom = CdxBom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number,
        version: 1,
        metadata: CdxMetadata {
            timestamp: &timestamp,
            tools: CdxTools {
                components: [CdxTool {
                    ty: "application",
                    name: "portcullis",
                    version: &subject.tool_version,
                }],
            },
            component: CdxSubject {
                ty: if all_distro {
                    "operating-system"
                } else {
                    "application"
                },
                bom_ref: "portcullis-subject",
                name: subject_name(subject),
            },
        },
        components,
        vulnerabilities,
    };
    serde_json::to_string_pretty(&bom).unwrap_or_default()
}

// ---------------------------------------------------------------- SPDX

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxDoc<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: &'a str,
    document_namespace: String,
    creation_info: SpdxCreationInfo,
    packages: Vec<SpdxPackage<'a>>,
    relationships: Vec<SpdxRelationship<'a>>,
}

#[derive(Serialize)]
struct SpdxCreationInfo {
    created: String,
    creators: [String; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage<'a> {
    name: &'a str,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    version_info: &'a str,
    download_location: &'static str,
    files_analyzed: bool,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<SpdxExternalRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRelationship<'a> {
    spdx_element_id: &'a str,
    relationship_type: &'static str,
    related_spdx_element: &'a str,
}

/// `SPDXRef-` followed by only letters, digits, `.` and `-`.
fn spdx_id_for(p: &Package) -> String {
    let mut id = String::with_capacity(16 + p.name.len() + p.version.len());
    id.push_str("SPDXRef-Package-");
    let ty = p.ecosystem.purl_type();
    for part in [ty, "-", p.name.as_str(), "-", p.version.as_str()] {
        for c in part.chars() {
            id.push(if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            });
        }
    }
    id
}

/// The declared licence as an SPDX expression: the package's licences joined
/// with AND when each is a valid SPDX expression, else NOASSERTION.
fn spdx_license(licenses: &[String]) -> String {
    if licenses.is_empty() || !licenses.iter().all(|l| valid_spdx_expression(l)) {
        return "NOASSERTION".to_string();
    }
    if let [one] = licenses {
        return one.trim().to_string();
    }
    let parts: Vec<String> = licenses.iter().map(|l| format!("({})", l.trim())).collect();
    parts.join(" AND ")
}

pub(crate) fn write_spdx(subject: &SbomSubject, packages: &[Package]) -> String {
    let name = subject_name(subject);
    let uuid = content_hash(subject, packages, &[], "spdx").uuid();
    let safe_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let document_namespace = format!("https://spdx.org/spdxdocs/portcullis-{safe_name}-{uuid}");
    let tool = if subject.tool_version.is_empty() {
        "Tool: portcullis".to_string()
    } else {
        format!("Tool: portcullis-{}", subject.tool_version)
    };
    let all_distro = !packages.is_empty() && packages.iter().all(|p| p.ecosystem.is_distro());

    let mut ids: Vec<String> = Vec::with_capacity(packages.len());
    let mut used: HashSet<String> = HashSet::with_capacity(packages.len() + 1);
    used.insert("SPDXRef-Root".to_string());
    for p in packages {
        let base = spdx_id_for(p);
        let mut id = base.clone();
        let mut n = 1;
        while used.contains(&id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        used.insert(id.clone());
        ids.push(id);
    }

    let mut out_packages = Vec::with_capacity(packages.len() + 1);
    out_packages.push(SpdxPackage {
        name,
        spdx_id: "SPDXRef-Root".to_string(),
        version_info: "",
        download_location: "NOASSERTION",
        files_analyzed: false,
        license_concluded: "NOASSERTION",
        license_declared: "NOASSERTION".to_string(),
        copyright_text: "NOASSERTION",
        primary_package_purpose: Some(if all_distro {
            "OPERATING-SYSTEM"
        } else {
            "APPLICATION"
        }),
        external_refs: Vec::new(),
    });
    for (p, id) in packages.iter().zip(&ids) {
        out_packages.push(SpdxPackage {
            name: &p.name,
            spdx_id: id.clone(),
            version_info: &p.version,
            download_location: "NOASSERTION",
            files_analyzed: false,
            license_concluded: "NOASSERTION",
            license_declared: spdx_license(&p.licenses),
            copyright_text: "NOASSERTION",
            primary_package_purpose: None,
            external_refs: vec![SpdxExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: p.purl.to_string(),
            }],
        });
    }
    let mut relationships = Vec::with_capacity(packages.len() + 1);
    relationships.push(SpdxRelationship {
        spdx_element_id: "SPDXRef-DOCUMENT",
        relationship_type: "DESCRIBES",
        related_spdx_element: "SPDXRef-Root",
    });
    for id in &ids {
        relationships.push(SpdxRelationship {
            spdx_element_id: "SPDXRef-Root",
            relationship_type: "CONTAINS",
            related_spdx_element: id,
        });
    }
    let doc = SpdxDoc {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name,
        document_namespace,
        creation_info: SpdxCreationInfo {
            // SPDX 2.3 wants UTC to the second, with `Z`.
            created: to_utc_seconds(&subject.created).unwrap_or_else(now_rfc3339),
            creators: [tool],
        },
        packages: out_packages,
        relationships,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_sources() {
        assert_eq!(cvss_method("CVSS:3.1/AV:N"), "CVSSv31");
        assert_eq!(cvss_method("CVSS:3.0/AV:N"), "CVSSv3");
        assert_eq!(cvss_method("CVSS:4.0/AV:N"), "CVSSv4");
        assert_eq!(cvss_method("AV:N/AC:L/Au:N"), "CVSSv2");
        assert_eq!(advisory_source("CVE-2024-1").name, "NVD");
        assert_eq!(
            advisory_source("PYSEC-2020-1").url,
            "https://osv.dev/vulnerability/PYSEC-2020-1"
        );
    }

    #[test]
    fn licence_kinds() {
        assert!(matches!(license_kind("MIT"), LicenseKind::Id));
        assert!(matches!(
            license_kind("MIT OR Apache-2.0"),
            LicenseKind::Expression
        ));
        assert!(matches!(license_kind("GPL-2.0"), LicenseKind::Id));
        assert!(matches!(license_kind("GPL-2.0+"), LicenseKind::Expression));
        assert!(matches!(license_kind("BSD-like"), LicenseKind::Name));
        assert_eq!(
            spdx_license(&["MIT".into(), "Apache-2.0 OR MIT".into()]),
            "(MIT) AND (Apache-2.0 OR MIT)"
        );
        assert_eq!(
            spdx_license(&["MIT".into(), "custom".into()]),
            "NOASSERTION"
        );
        assert_eq!(spdx_license(&[]), "NOASSERTION");
    }
}
