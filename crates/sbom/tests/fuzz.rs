//! Arbitrary input never panics, and always yields packages or diagnostics.

use portcullis_sbom::{looks_like_sbom, read};
use proptest::prelude::*;

const SEED: &str = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
 {"type": "library", "name": "a", "purl": "pkg:deb/debian/a@1?distro=debian-12&upstream=b%401",
  "licenses": [{"license": {"id": "MIT"}}], "components": [{"purl": "pkg:npm/%40s/x@1"}]}]}"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_strings(s in ".{0,400}") {
        let _ = looks_like_sbom(&s);
        let r = read("f", &s);
        let object = s.trim_start().starts_with('{');
        prop_assert!(!r.diagnostics.is_empty() || object);
    }

    #[test]
    fn mutated_documents(pos in 0usize..SEED.len(), len in 0usize..20, insert in "[\\[\\]{}\",:a-z0-9%@?&=/ ]{0,8}") {
        let mut s = SEED.to_string();
        let start = (0..=pos).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
        let end = (start + len).min(s.len());
        let end = (end..=s.len()).find(|i| s.is_char_boundary(*i)).unwrap_or(s.len());
        s.replace_range(start..end, &insert);
        let r = read("f", &s);
        // Invalid JSON is always reported, with a position.
        if serde_json::from_str::<serde_json::Value>(&s).is_err() {
            prop_assert!(r.diagnostics.len() == 1 && r.diagnostics[0].line.is_some());
        }
    }

    #[test]
    fn arbitrary_purls_in_valid_documents(purl in "pkg:[a-z]{1,6}/[ -~]{0,40}", distro in "[ -~]{0,12}") {
        let doc = serde_json::json!({
            "bomFormat": "CycloneDX",
            "components": [{"type": "library", "name": "x", "purl": format!("{purl}?distro={distro}&upstream={distro}")}],
        });
        let text = doc.to_string();
        let r = read("f", &text);
        prop_assert!(r.packages.len() + r.diagnostics.len() == 1);
    }
}
