//! `Gemfile.lock` / `gems.locked` (Bundler).
//!
//! Reads the 4-space-indented `name (version)` spec lines of the `GEM`, `GIT`
//! and `PATH` sections. A platform suffix (`1.17.3-x86_64-linux`) becomes the
//! `platform` purl qualifier and leaves the version plain; gems of one name
//! and version are reported once per platform. Gems from `GIT` sections carry
//! a `vcs_url` qualifier. Names in `DEPENDENCIES` are marked direct.

use crate::Parsed;
use portcullis_model::{Diagnostic, Ecosystem, Location, Package};
use std::collections::HashSet;

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Sources,
    Dependencies,
    Other,
}

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut section = Section::Other;
    let mut section_name = "";
    let mut in_specs = false;
    let mut remote: Option<&str> = None;
    let mut revision: Option<&str> = None;
    let mut direct: HashSet<&str> = HashSet::new();
    let mut seen: HashSet<(&str, &str, &str)> = HashSet::new();
    let mut line_no: u32 = 0;
    let mut saw_section = false;
    for raw in text.split('\n') {
        line_no = line_no.saturating_add(1);
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent == 0 {
            saw_section = true;
            section_name = line.trim();
            section = match section_name {
                "GEM" | "GIT" | "PATH" | "PLUGIN SOURCE" => Section::Sources,
                "DEPENDENCIES" => Section::Dependencies,
                "PLATFORMS" | "RUBY VERSION" | "BUNDLED WITH" | "CHECKSUMS" => Section::Other,
                _ => {
                    out.diagnostics.push(
                        Diagnostic::warning(
                            path,
                            format!("unknown section {}", crate::cargo::clip(section_name)),
                        )
                        .at(line_no, Some(1)),
                    );
                    Section::Other
                }
            };
            in_specs = false;
            remote = None;
            revision = None;
            continue;
        }
        let body = line.trim();
        match section {
            Section::Dependencies if indent == 2 => {
                let name = body.split([' ', '!']).next().unwrap_or("");
                direct.insert(name);
            }
            Section::Sources if indent == 2 => {
                in_specs = body == "specs:";
                if let Some(r) = body.strip_prefix("remote:") {
                    remote = Some(r.trim());
                } else if let Some(r) = body.strip_prefix("revision:") {
                    revision = Some(r.trim());
                }
            }
            Section::Sources if indent == 4 && in_specs => {
                let parsed = body
                    .split_once(" (")
                    .and_then(|(n, rest)| Some((n, rest.strip_suffix(')')?)));
                let Some((name, full)) =
                    parsed.filter(|(n, v)| !n.is_empty() && !v.is_empty() && !n.contains(' '))
                else {
                    out.diagnostics.push(
                        Diagnostic::error(
                            path,
                            format!(
                                "expected `name (version)`, found {}",
                                crate::cargo::clip(body)
                            ),
                        )
                        .at(line_no, Some(5)),
                    );
                    continue;
                };
                let (version, platform) = full.split_once('-').unwrap_or((full, ""));
                if !seen.insert((name, version, platform)) || section_name == "PLUGIN SOURCE" {
                    continue;
                }
                let loc = Location {
                    path: path.to_string(),
                    line: Some(line_no),
                };
                let mut pkg = Package::new(Ecosystem::RubyGems, name, version, loc);
                pkg.purl = pkg.purl.with_qualifier("platform", platform);
                if section_name == "GIT" {
                    if let Some(r) = remote {
                        let url = match revision {
                            Some(rev) => format!("git+{r}@{rev}"),
                            None => format!("git+{r}"),
                        };
                        pkg.purl = pkg.purl.with_qualifier("vcs_url", &url);
                    }
                }
                out.packages.push(pkg);
            }
            _ => {}
        }
    }
    for p in &mut out.packages {
        p.direct = Some(direct.contains(p.name.as_str()));
    }
    if !saw_section && !text.trim().is_empty() {
        out.diagnostics.push(Diagnostic::error(
            path,
            "no GEM, GIT or PATH section found; is this a Gemfile.lock?",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_and_platforms() {
        let text = "GIT\n  remote: https://g/r.git\n  revision: abc\n  specs:\n    r (0.1.0)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    ffi (1.0-x86_64-linux)\n      dep (>= 1)\n    ffi (1.0-arm64-darwin)\n    bad line\n\nDEPENDENCIES\n  r!\n";
        let p = parse("Gemfile.lock", text);
        assert_eq!(p.packages.len(), 3);
        assert_eq!(
            p.packages[0].purl.to_string(),
            "pkg:gem/r@0.1.0?vcs_url=git%2Bhttps%3A%2F%2Fg%2Fr.git%40abc"
        );
        assert_eq!(p.packages[0].direct, Some(true));
        assert_eq!(p.packages[1].version, "1.0");
        assert_eq!(
            p.packages[1].purl.to_string(),
            "pkg:gem/ffi@1.0?platform=x86_64-linux"
        );
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(p.diagnostics[0].line, Some(13));
    }
}
