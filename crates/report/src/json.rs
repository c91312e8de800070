//! The JSON report, schema `portcullis.scan/v1` (docs/formats/scan-json.md).

use crate::{DataSource, ScanReport, TOOL_NAME};
use portcullis_model::{Diagnostic, Finding, Package, ScanSummary};
use serde::Serialize;

/// The value of the `schema` field of the JSON report. A change that removes
/// or changes the meaning of a field bumps it; new optional fields do not.
pub const SCAN_SCHEMA: &str = "portcullis.scan/v1";

/// What to put in the JSON report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonOptions {
    /// Include the `packages` array (every package scanned).
    pub include_packages: bool,
    /// Indent the output for reading.
    pub pretty: bool,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    tool: Tool<'a>,
    target: &'a str,
    time: &'a str,
    partial: bool,
    stale_data: bool,
    summary: ScanSummary,
    findings: Vec<&'a Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    packages: Option<Vec<&'a Package>>,
    diagnostics: &'a [Diagnostic],
    data_sources: &'a [DataSource],
}

fn document<'a>(report: &'a ScanReport, opts: &JsonOptions) -> Document<'a> {
    let packages = opts.include_packages.then(|| {
        let mut v: Vec<&Package> = report.packages.iter().collect();
        v.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then_with(|| a.version.cmp(&b.version))
                .then_with(|| a.ecosystem.cmp(&b.ecosystem))
                .then_with(|| a.location.cmp(&b.location))
        });
        v
    });
    Document {
        schema: SCAN_SCHEMA,
        tool: Tool {
            name: TOOL_NAME,
            version: &report.tool_version,
        },
        target: &report.target,
        time: &report.scanned_at,
        partial: report.partial,
        stale_data: report.stale_data,
        summary: report.summary(),
        findings: report.sorted_findings(),
        packages,
        diagnostics: &report.diagnostics,
        data_sources: &report.data_sources,
    }
}

/// The JSON report as text (no trailing newline).
pub fn json(report: &ScanReport, opts: &JsonOptions) -> String {
    let doc = document(report, opts);
    let r = if opts.pretty {
        serde_json::to_string_pretty(&doc)
    } else {
        serde_json::to_string(&doc)
    };
    // Serialising plain data with string keys cannot fail; keep a valid
    // document even so.
    r.unwrap_or_else(|e| {
        format!(
            "{{\"schema\":\"{SCAN_SCHEMA}\",\"error\":{:?}}}",
            e.to_string()
        )
    })
}

/// The JSON report as a value (for tests and for embedding).
pub fn json_value(report: &ScanReport, opts: &JsonOptions) -> serde_json::Value {
    serde_json::to_value(document(report, opts)).unwrap_or(serde_json::Value::Null)
}
