//! The expected shape of each submission kind's body.
//!
//! Assessments and scans are checked against the domain types themselves
//! (`portcullis_model::CheckResult`, `Finding`), so whatever `portcullis
//! assess`/`scan --format json` writes is accepted and nothing else is.
//! The other kinds are checked for their identifying fields.
//!
//! Accepted bodies (tested against real output of the binary):
//! - scan: the `portcullis.scan/v1` report as `portcullis scan --format
//!   json` writes it (or any object with `findings: [Finding…]`);
//! - assessment: the `portcullis.assess/v1` report as `portcullis assess
//!   --format json` writes it (`checks`, `verdict`), or `{"results":
//!   [CheckResult…]}`;
//! - detections: `{"detections": [...]}`, each item one line of `portcullis
//!   hunt --format jsonl` (`rule_id`, `title`, `level`, `summary` strings;
//!   `time`, `host`, `user`, `source` strings or null);
//! - sbom: CycloneDX or SPDX JSON; practice: `portcullis.practice/v1`.

use portcullis_model::{CheckResult, Finding};
use serde::Deserialize;
use serde_json::Value;

use crate::SubmissionKind;

/// Checks `body` against `kind`'s shape; the error names the JSON path.
pub(crate) fn validate(kind: SubmissionKind, body: &Value) -> Result<(), String> {
    let obj = body.as_object().ok_or("body: expected a JSON object")?;
    match kind {
        SubmissionKind::Assessment => {
            schema(obj, "portcullis.assess/v1")?;
            if obj.contains_key("checks") {
                each::<CheckResult>(obj.get("checks"), "body.checks")?;
            } else {
                each::<CheckResult>(obj.get("results"), "body.results")?;
            }
            match obj.get("verdict") {
                None | Some(Value::Null) => Ok(()),
                Some(Value::String(v)) if v == "ready" || v == "not_ready" => Ok(()),
                Some(_) => Err("body.verdict: expected \"ready\" or \"not_ready\"".into()),
            }
        }
        SubmissionKind::Scan => {
            schema(obj, "portcullis.scan/v1")?;
            each::<Finding>(obj.get("findings"), "body.findings")
        }
        SubmissionKind::Sbom => {
            if obj.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
                text(obj.get("specVersion"), "body.specVersion")
            } else if obj
                .get("spdxVersion")
                .and_then(Value::as_str)
                .is_some_and(|v| v.starts_with("SPDX-"))
            {
                Ok(())
            } else {
                Err("body: expected a CycloneDX (`bomFormat: \"CycloneDX\"`) or SPDX (`spdxVersion: \"SPDX-…\"`) JSON document".into())
            }
        }
        SubmissionKind::Practice => {
            if obj.get("schema").and_then(Value::as_str) != Some("portcullis.practice/v1") {
                return Err("body.schema: expected \"portcullis.practice/v1\"".into());
            }
            match obj.get("principles") {
                Some(Value::Array(_)) => {}
                _ => return Err("body.principles: expected an array".into()),
            }
            match obj.get("score") {
                None | Some(Value::Null) => Ok(()),
                Some(v) if v.as_i64().is_some_and(|s| (0..=100).contains(&s)) => Ok(()),
                Some(_) => Err("body.score: expected an integer from 0 to 100, or null".into()),
            }
        }
        SubmissionKind::Detections => {
            let Some(Value::Array(items)) = obj.get("detections") else {
                return Err("body.detections: expected an array".into());
            };
            for (i, d) in items.iter().enumerate() {
                let path = format!("body.detections[{i}]");
                let d = d
                    .as_object()
                    .ok_or_else(|| format!("{path}: expected an object"))?;
                for field in ["rule_id", "title", "level", "summary"] {
                    text(d.get(field), &format!("{path}.{field}"))?;
                }
                for field in ["time", "host", "user", "source"] {
                    match d.get(field) {
                        None | Some(Value::Null | Value::String(_)) => {}
                        Some(_) => {
                            return Err(format!("{path}.{field}: expected a string or null"))
                        }
                    }
                }
            }
            Ok(())
        }
    }
}

/// When the body names its schema, it must be `expected` (a report of
/// another kind sent under the wrong `kind` is refused clearly).
fn schema(obj: &serde_json::Map<String, Value>, expected: &str) -> Result<(), String> {
    match obj.get("schema") {
        None => Ok(()),
        Some(Value::String(s)) if s == expected => Ok(()),
        Some(other) => Err(format!(
            "body.schema: expected \"{expected}\", got {other}; check the submission's kind"
        )),
    }
}

fn text(v: Option<&Value>, path: &str) -> Result<(), String> {
    match v {
        Some(Value::String(_)) => Ok(()),
        Some(_) => Err(format!("{path}: expected a string")),
        None => Err(format!("{path}: missing")),
    }
}

fn each<'a, T: Deserialize<'a>>(v: Option<&'a Value>, path: &str) -> Result<(), String> {
    let Some(Value::Array(items)) = v else {
        return Err(format!("{path}: expected an array"));
    };
    for (i, item) in items.iter().enumerate() {
        T::deserialize(item).map_err(|e| format!("{path}[{i}]: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_kind_accepts_its_shape_and_refuses_others() {
        let sbom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []});
        assert_eq!(validate(SubmissionKind::Sbom, &sbom), Ok(()));
        assert_eq!(
            validate(SubmissionKind::Sbom, &json!({"spdxVersion": "SPDX-2.3"})),
            Ok(())
        );
        assert!(validate(SubmissionKind::Sbom, &json!({"bomFormat": "Other"})).is_err());
        assert_eq!(
            validate(SubmissionKind::Scan, &json!({"findings": []})),
            Ok(())
        );
        assert_eq!(
            validate(SubmissionKind::Scan, &json!({"findings": [{"id": "X"}]})),
            Err("body.findings[0]: missing field `package`".into())
        );
        assert_eq!(
            validate(SubmissionKind::Assessment, &json!([])),
            Err("body: expected a JSON object".into())
        );
        assert_eq!(
            validate(
                SubmissionKind::Practice,
                &json!({"schema": "portcullis.practice/v1", "principles": []})
            ),
            Ok(())
        );
        assert_eq!(
            validate(
                SubmissionKind::Detections,
                &json!({"detections": [{"rule_id": "r", "title": "t", "level": "high"}]})
            ),
            Err("body.detections[0].summary: missing".into())
        );
    }

    /// Real output of `portcullis scan/assess/hunt` (see
    /// tests/fixtures/risk/README.md) is accepted as it is written.
    #[test]
    fn real_cli_output_is_accepted() {
        let scan: Value =
            serde_json::from_str(include_str!("../tests/fixtures/risk/scan-cargo.json")).unwrap();
        assert_eq!(validate(SubmissionKind::Scan, &scan), Ok(()));
        let assess: Value =
            serde_json::from_str(include_str!("../tests/fixtures/risk/assess-debian12.json"))
                .unwrap();
        assert_eq!(validate(SubmissionKind::Assessment, &assess), Ok(()));
        let detections: Vec<Value> = include_str!("../tests/fixtures/risk/hunt.jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(detections.len(), 11);
        assert_eq!(
            validate(
                SubmissionKind::Detections,
                &json!({ "detections": detections })
            ),
            Ok(())
        );
        // A scan report sent as an assessment is refused with the reason.
        let err = validate(SubmissionKind::Assessment, &scan).unwrap_err();
        assert!(err.contains("portcullis.assess/v1"), "{err}");
        let mut broken = assess.clone();
        broken["checks"][0]["status"] = json!("maybe");
        let err = validate(SubmissionKind::Assessment, &broken).unwrap_err();
        assert!(
            err.starts_with("body.checks[0]: unknown variant `maybe`"),
            "{err}"
        );
    }
}
