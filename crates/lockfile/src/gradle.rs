//! `gradle.lockfile`.
//!
//! Lines are `group:artifact:version=configuration,configuration…`; `#`
//! comments and the `empty=…` line are skipped. A package whose
//! configurations are all test or build-only ones (`test…`,
//! `annotationProcessor`, `kapt…`, `developmentOnly`) is development scope.

use crate::Parsed;
use portcullis_model::{DependencyScope, Diagnostic, Ecosystem, Location, Package};

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Parsed::default();
    for (i, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let (coord, configs) = line.split_once('=').unwrap_or((line, ""));
        let mut parts = coord.trim().split(':');
        let (Some(group), Some(artifact), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            out.diagnostics.push(
                Diagnostic::error(
                    path,
                    format!(
                        "expected group:artifact:version=configurations, found {line:?}; skipped"
                    ),
                )
                .at(line_no, Some(1)),
            );
            continue;
        };
        if group.is_empty() || artifact.is_empty() || version.is_empty() {
            out.diagnostics.push(
                Diagnostic::error(
                    path,
                    format!("empty group, artifact or version in {coord:?}; skipped"),
                )
                .at(line_no, Some(1)),
            );
            continue;
        }
        let name = format!("{group}:{artifact}");
        let mut p = Package::new(
            Ecosystem::Maven,
            &name,
            version,
            Location {
                path: path.to_string(),
                line: Some(line_no),
            },
        );
        let mut configs = configs
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .peekable();
        if configs.peek().is_some() && configs.all(is_dev_config) {
            p.scope = DependencyScope::Dev;
        }
        out.packages.push(p);
    }
    out
}

fn is_dev_config(c: &str) -> bool {
    c.starts_with("test")
        || c.starts_with("kapt")
        || c == "annotationProcessor"
        || c == "developmentOnly"
        || c.ends_with("TestCompileClasspath")
        || c.ends_with("TestRuntimeClasspath")
}
