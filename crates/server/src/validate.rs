//! The expected shape of each submission kind's body.
//!
//! Assessments and scans are checked against the domain types themselves
//! (`portcullis_model::CheckResult`, `Finding`), so whatever `portcullis
//! assess`/`scan --format json` writes is accepted and nothing else is.
//! The other kinds are checked for their identifying fields.

use portcullis_model::{CheckResult, Finding};
use serde::Deserialize;
use serde_json::Value;

use crate::SubmissionKind;

/// Checks `body` against `kind`'s shape; the error names the JSON path.
pub(crate) fn validate(kind: SubmissionKind, body: &Value) -> Result<(), String> {
    let obj = body.as_object().ok_or("body: expected a JSON object")?;
    match kind {
        SubmissionKind::Assessment => each::<CheckResult>(obj.get("results"), "body.results"),
        SubmissionKind::Scan => each::<Finding>(obj.get("findings"), "body.findings"),
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
                Some(Value::Array(_)) => Ok(()),
                _ => Err("body.principles: expected an array".into()),
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
            }
            Ok(())
        }
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
}
