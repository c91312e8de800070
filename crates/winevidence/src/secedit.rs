//! `secedit /export /cfg secpol.inf`: an INF file (UTF-16LE with a BOM).
//!
//! ```text
//! [System Access]
//! MinimumPasswordLength = 12
//! [Registry Values]
//! MACHINE\Software\...\Policies\System\InactivityTimeoutSecs=4,900
//! [Privilege Rights]
//! SeRemoteInteractiveLogonRight = *S-1-5-32-544,*S-1-5-32-555
//! ```

use portcullis_model::Diagnostic;

/// One `key = value` line of the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfEntry {
    /// Section name without brackets (`System Access`).
    pub section: String,
    /// Key as written (`MinimumPasswordLength`, or a registry path).
    pub key: String,
    /// Value as written, trimmed, surrounding quotes kept.
    pub value: String,
    /// 1-based line in the member.
    pub line: u32,
}

/// The parsed security policy export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecPolicy {
    /// Every entry, in file order.
    pub entries: Vec<InfEntry>,
}

const MAX_ENTRIES: usize = 100_000;

impl SecPolicy {
    /// Parses the decoded text of an export; odd lines give warnings.
    pub fn parse(text: &str, member: &str, diags: &mut Vec<Diagnostic>) -> SecPolicy {
        let mut entries = Vec::new();
        let mut section = String::new();
        let mut bad = 0usize;
        for (i, raw) in text.lines().enumerate() {
            let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let line = raw.trim();
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_string();
                continue;
            }
            match line.split_once('=') {
                Some((k, v)) if !section.is_empty() && !k.trim().is_empty() => {
                    if entries.len() >= MAX_ENTRIES {
                        diags.push(Diagnostic::warning(
                            member,
                            format!("more than {MAX_ENTRIES} entries; the rest are ignored"),
                        ));
                        break;
                    }
                    entries.push(InfEntry {
                        section: section.clone(),
                        key: k.trim().to_string(),
                        value: v.trim().to_string(),
                        line: line_no,
                    });
                }
                _ => {
                    bad += 1;
                    if bad <= 5 {
                        diags.push(
                            Diagnostic::warning(
                                member,
                                "not a `key = value` line inside a [section]; skipped",
                            )
                            .at(line_no, None),
                        );
                    }
                }
            }
        }
        SecPolicy { entries }
    }

    /// A `[System Access]` value as an integer (`MinimumPasswordLength`).
    pub fn system_access(&self, key: &str) -> Option<(i64, &InfEntry)> {
        self.entries
            .iter()
            .find(|e| {
                e.section.eq_ignore_ascii_case("System Access") && e.key.eq_ignore_ascii_case(key)
            })
            .and_then(|e| {
                e.value
                    .trim_matches('"')
                    .trim()
                    .parse()
                    .ok()
                    .map(|v| (v, e))
            })
    }

    /// A `[Registry Values]` entry whose path ends with `suffix`
    /// (case-insensitive), its data after the `type,` prefix.
    pub fn registry_value(&self, suffix: &str) -> Option<(String, &InfEntry)> {
        self.entries
            .iter()
            .filter(|e| e.section.eq_ignore_ascii_case("Registry Values"))
            .find(|e| ends_with_ci(&e.key, suffix))
            .map(|e| {
                let data = e.value.split_once(',').map_or(e.value.as_str(), |(_, d)| d);
                (data.trim().trim_matches('"').to_string(), e)
            })
    }
}

fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.get(s.len() - suffix.len()..)
            .is_some_and(|t| t.eq_ignore_ascii_case(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections() {
        let mut d = Vec::new();
        let p = SecPolicy::parse(
            "[Unicode]\r\nUnicode=yes\r\n[System Access]\r\nMinimumPasswordLength = 14\r\nNewGuestName = \"Guest\"\r\n[Registry Values]\r\nMACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\InactivityTimeoutSecs=4,900\r\njunk\r\n",
            "secpol.inf",
            &mut d,
        );
        assert_eq!(
            p.system_access("minimumpasswordlength").map(|x| x.0),
            Some(14)
        );
        assert_eq!(
            p.system_access("MinimumPasswordLength").map(|x| x.1.line),
            Some(4)
        );
        let (v, e) = p.registry_value("\\InactivityTimeoutSecs").unwrap();
        assert_eq!((v.as_str(), e.line), ("900", 7));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, Some(8));
    }
}
