//! Worked examples from the FIRST specifications (CVSS v2 guide section 3.3,
//! CVSS v3.1 examples document), NVD, and the FIRST v4.0 calculator's issue
//! tracker, plus malformed vectors. Every expected score was also confirmed
//! with the RedHatProductSecurity `cvss` Python library 3.6.

use portcullis_cvss::{base_score, CvssVersion};

fn score(kind: &str, vector: &str) -> (CvssVersion, f64) {
    match base_score(kind, vector) {
        Ok(s) => (s.version, s.base),
        Err(e) => panic!("{vector}: {e}"),
    }
}

fn error(kind: &str, vector: &str) -> String {
    match base_score(kind, vector) {
        Ok(s) => panic!("{vector:?} scored {s:?}, expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn v3_1_specification_examples() {
    let cases = [
        // CVE-2013-1937 phpMyAdmin reflected XSS (scope changed).
        ("AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        // CVE-2013-0375 MySQL (scope changed).
        ("AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
        // CVE-2014-3566 SSLv3 POODLE.
        ("AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),
        // CVE-2012-1516 VMware guest-to-host (scope changed, PR:L → 0.68).
        ("AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
        // CVE-2009-0783 Apache Tomcat.
        ("AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2),
        // CVE-2012-0384 Cisco IOS.
        ("AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
        // CVE-2015-1098 Apple iWork.
        ("AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8),
        // CVE-2014-0160 Heartbleed.
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),
        // CVE-2014-6271 Shellshock.
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        // CVE-2008-1447 DNS cache poisoning (scope changed).
        ("AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8),
        // CVE-2014-2005 Sophos (physical).
        ("AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8),
        // CVE-2010-0467 Joomla (scope changed).
        ("AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8),
        // CVE-2013-6014 Juniper (adjacent, scope changed).
        ("AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3),
        // Maximum, and the lowest non-zero base score.
        ("AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        // No impact: 0.0 whatever the scope.
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:N", 0.0),
    ];
    for (body, expected) in cases {
        let vector = format!("CVSS:3.1/{body}");
        assert_eq!(
            score("CVSS_V3", &vector),
            (CvssVersion::V3_1, expected),
            "{vector}"
        );
        let vector = format!("CVSS:3.0/{body}");
        assert_eq!(
            score("CVSS_V3", &vector),
            (CvssVersion::V3_0, expected),
            "{vector}"
        );
    }
}

#[test]
fn v3_temporal_and_environmental_metrics_do_not_change_the_base_score() {
    let vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U/CR:L/MAV:P/MS:C";
    assert_eq!(score("CVSS_V3", vector), (CvssVersion::V3_1, 9.8));
    // Metrics in a non-canonical order are accepted.
    let vector = "CVSS:3.1/S:C/AV:N/AC:L/PR:N/UI:R/C:L/I:L/A:N";
    assert_eq!(score("CVSS_V3", vector), (CvssVersion::V3_1, 6.1));
}

#[test]
fn v2_guide_and_nvd_examples() {
    let cases = [
        // CVE-2002-0392 Apache chunked encoding (v2 guide 3.3.1).
        ("AV:N/AC:L/Au:N/C:N/I:N/A:C", 7.8),
        // CVE-2003-0818 Microsoft ASN.1 (v2 guide 3.3.2).
        ("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0),
        // CVE-2003-0062 NOD32 (v2 guide 3.3.3).
        ("AV:L/AC:H/Au:N/C:C/I:C/A:C", 6.2),
        // Common NVD vectors.
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
        ("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3),
        ("AV:N/AC:L/Au:S/C:P/I:P/A:P", 6.5),
        ("AV:N/AC:L/Au:N/C:N/I:N/A:N", 0.0),
    ];
    for (vector, expected) in cases {
        assert_eq!(
            score("CVSS_V2", vector),
            (CvssVersion::V2, expected),
            "{vector}"
        );
    }
}

#[test]
fn v2_accepts_parentheses_temporal_metrics_and_prefix() {
    let vector = "(AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C)";
    assert_eq!(score("CVSS_V2", vector), (CvssVersion::V2, 7.8));
    let vector = "AV:L/AC:H/Au:N/C:C/I:C/A:C/E:POC/RL:TF/RC:UR/CDP:LM/TD:H/CR:M/IR:ND/AR:H";
    assert_eq!(score("CVSS_V2", vector), (CvssVersion::V2, 6.2));
    assert_eq!(
        score("CVSS_V2", "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P"),
        (CvssVersion::V2, 7.5)
    );
    // An unknown or empty OSV type still means v2 for an unprefixed vector.
    assert_eq!(
        score("", "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
        (CvssVersion::V2, 7.5)
    );
}

#[test]
fn v4_examples() {
    let cases = [
        (
            "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            9.3,
        ),
        (
            "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
            10.0,
        ),
        (
            "AV:L/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            8.5,
        ),
        (
            "AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
            0.0,
        ),
        // Threat metric: E:U lowers the score (CVSS-BT).
        (
            "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
            8.1,
        ),
        // Environmental requirements (CVSS-BE).
        (
            "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:L/IR:L/AR:L",
            8.9,
        ),
        // Example from the reference calculator's documentation.
        (
            "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A",
            8.7,
        ),
        // MSI:S makes an otherwise impact-free vector score (modified metric
        // beats the base value, and "safety" is EQ4 level 0).
        (
            "AV:P/AC:H/AT:P/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/MSI:S",
            4.1,
        ),
        // Rounding ties that floating point puts one ULP below x.x5
        // (cvss-v4-calculator issues #48 and #66): they round up.
        (
            "AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H",
            8.6,
        ),
        (
            "AV:N/AC:L/AT:P/PR:L/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N/E:U",
            0.4,
        ),
        (
            "AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:H/E:P",
            9.0,
        ),
        // Every metric group, including supplemental (RedHat cvss issue #60).
        (
            "AV:N/AC:L/AT:N/PR:L/UI:A/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/E:P/CR:L/IR:L/AR:L/\
             MAV:N/MAC:L/MAT:N/MPR:L/MUI:A/MVC:H/MVI:H/MVA:H/MSC:H/MSI:S/MSA:S/\
             S:P/AU:Y/R:I/V:C/RE:H/U:Red",
            8.5,
        ),
    ];
    for (body, expected) in cases {
        let vector = format!("CVSS:4.0/{body}");
        assert_eq!(
            score("CVSS_V4", &vector),
            (CvssVersion::V4_0, expected),
            "{vector}"
        );
    }
}

#[test]
fn prefix_decides_the_version_not_the_osv_type() {
    let vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    assert_eq!(score("CVSS_V4", vector), (CvssVersion::V3_1, 9.8));
    assert_eq!(score("CVSS_V2", vector), (CvssVersion::V3_1, 9.8));
    // Surrounding whitespace is tolerated.
    assert_eq!(
        score("CVSS_V3", &format!(" {vector}\n")),
        (CvssVersion::V3_1, 9.8)
    );
}

#[test]
fn malformed_vectors_are_rejected_with_a_reason() {
    let cases: &[(&str, &str, &str)] = &[
        ("CVSS_V3", "", "empty"),
        ("CVSS_V3", "   ", "empty"),
        ("CVSS_V3", "CVSS:3.1/", "no metrics"),
        ("CVSS_V3", "CVSS:3.1", "no metrics"),
        (
            "CVSS_V3",
            "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "unsupported CVSS version `3.2`",
        ),
        ("CVSS_V3", "CVSS:5.0/AV:N", "unsupported CVSS version"),
        (
            "CVSS_V3",
            "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "must start with `CVSS:3.0/`",
        ),
        (
            "CVSS_V4",
            "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "must start with `CVSS:4.0/`",
        ),
        // Missing mandatory metric (A).
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "missing mandatory metric `A`",
        ),
        // Duplicate metric.
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "duplicate metric `AV`",
        ),
        // Unknown metric.
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",
            "unknown metric `ZZ`",
        ),
        // v4 metric in a v3 vector.
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/AT:N/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "unknown metric `AT`",
        ),
        // Bad value.
        (
            "CVSS_V3",
            "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "bad value `Q` for metric `AV`",
        ),
        (
            "CVSS_V3",
            "CVSS:3.1/AV:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "bad value `n`",
        ),
        // Stray and missing separators.
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
            "empty metric",
        ),
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "empty metric",
        ),
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A",
            "not METRIC:VALUE",
        ),
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "bad value `N:L`",
        ),
        // Truncated vectors.
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:",
            "bad value ``",
        ),
        (
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
            "missing mandatory metric `SA`",
        ),
        // v4: MSI:S is allowed, SI:S is not; the U metric takes words.
        (
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
            "bad value `S` for metric `SI`",
        ),
        (
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:R",
            "bad value `R` for metric `U`",
        ),
        (
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:F",
            "bad value `F` for metric `E`",
        ),
        // v2: case matters (`Au`), unbalanced parentheses.
        (
            "CVSS_V2",
            "AV:N/AC:L/AU:N/C:P/I:P/A:P",
            "unknown metric `AU`",
        ),
        (
            "CVSS_V2",
            "(AV:N/AC:L/Au:N/C:P/I:P/A:P",
            "unknown metric `(AV`",
        ),
        (
            "CVSS_V2",
            "AV:N/AC:L/Au:N/C:P/I:P",
            "missing mandatory metric `A`",
        ),
        ("CVSS_V2", "garbage", "not METRIC:VALUE"),
    ];
    for (kind, vector, needle) in cases {
        let message = error(kind, vector);
        assert!(
            message.contains(needle),
            "{vector:?}: message {message:?} lacks {needle:?}"
        );
        assert!(message.starts_with("invalid CVSS vector: "), "{message}");
    }
}

#[test]
fn hostile_input_is_bounded() {
    let long = format!("CVSS:3.1/{}", "AV:N/".repeat(1000));
    assert!(error("CVSS_V3", &long).contains("at most 1024"));
    // Long unknown names are quoted only in part.
    let name = "X".repeat(500);
    let message = error("CVSS_V3", &format!("CVSS:3.1/{name}:N"));
    assert!(message.len() < 200, "{message}");
    assert!(message.contains('…'));
    // Multi-byte characters are cut on a character boundary.
    let message = error("CVSS_V2", &"é".repeat(100));
    assert!(message.contains('…'), "{message}");
}
