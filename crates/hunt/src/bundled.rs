//! The rules shipped in the binary, and their tunable thresholds.
//!
//! A tunable is a line of a bundled rule ending in `# tunable: NAME`; the
//! YAML scalar before the comment is its default. `--set NAME=VALUE` (or a
//! rules-config file of `NAME: VALUE` lines) replaces that scalar in every
//! line carrying the name before the rules are parsed, so a rule file stays
//! plain Sigma.

use portcullis_model::Diagnostic;

macro_rules! bundled {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../rules/", $name)))),*]
    };
}

/// The bundled rule files: (file name, YAML text).
pub const BUNDLED_RULES: &[(&str, &str)] = bundled![
    "entra_bruteforce.yml",
    "entra_credential_stuffing.yml",
    "entra_spray.yml",
    "entra_success_after_spray.yml",
    "lnx_credential_stuffing.yml",
    "lnx_ssh_bruteforce.yml",
    "lnx_ssh_spray.yml",
    "lnx_success_after_spray.yml",
    "win_bruteforce.yml",
    "win_bruteforce_kerberos.yml",
    "win_credential_stuffing.yml",
    "win_kerberos_spray.yml",
    "win_spray_explicit_credentials.yml",
    "win_spray_failed_logon.yml",
    "win_spray_ntlm.yml",
    "win_success_after_spray.yml",
];

/// One tunable threshold of the bundled rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunable {
    /// Its name, e.g. `win_spray_4625.users`.
    pub name: String,
    /// The default, as written in the rule (`10`, `5m`).
    pub default: String,
    /// The rule file it is in.
    pub file: &'static str,
}

const MARK: &str = "# tunable:";

fn split_tunable(line: &str) -> Option<(&str, &str, &str)> {
    // "    gte: 10 # tunable: name" -> ("    gte: ", "10", "name")
    let at = line.find(MARK)?;
    let name = line.get(at + MARK.len()..)?.trim();
    let before = line.get(..at)?.trim_end();
    let colon = before.rfind(": ")?;
    let key = before.get(..colon + 2)?;
    let value = before.get(colon + 2..)?.trim();
    Some((key, value, name))
}

/// Every tunable of the bundled rules, sorted by name (a name used in
/// several places, e.g. a window shared by two stages, is listed once).
pub fn tunables() -> Vec<Tunable> {
    let mut out: Vec<Tunable> = Vec::new();
    for (file, text) in BUNDLED_RULES {
        for line in text.lines() {
            if let Some((_, value, name)) = split_tunable(line) {
                if !out.iter().any(|t| t.name == name) {
                    out.push(Tunable {
                        name: name.to_string(),
                        default: value.to_string(),
                        file,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn valid_value(name: &str, value: &str) -> bool {
    if name.ends_with(".window") {
        let (num, unit) = value.split_at(value.len().saturating_sub(1));
        matches!(unit, "s" | "m" | "h" | "d")
            && !num.is_empty()
            && num.bytes().all(|b| b.is_ascii_digit())
            && num.parse::<u32>().is_ok_and(|n| n > 0)
    } else {
        value.parse::<u32>().is_ok_and(|n| n > 0)
    }
}

/// Parse `NAME=VALUE` settings, and a rules-config file's `NAME: VALUE`
/// lines (`#` comments allowed), checking names and values.
pub fn parse_settings(
    pairs: &[String],
    config: Option<(&str, &str)>,
) -> Result<Vec<(String, String)>, Diagnostic> {
    let known = tunables();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, value: &str, origin: &str, line: Option<u32>| {
        let name = name.trim();
        let value = value.trim().trim_matches(['"', '\'']);
        let err = |msg: String| {
            let d = Diagnostic::error(origin.to_string(), msg);
            match line {
                Some(l) => d.at(l, None),
                None => d,
            }
        };
        if !known.iter().any(|t| t.name == name) {
            return Err(err(format!(
                "unknown rule setting {name:?}; `portcullis rules settings` lists them"
            )));
        }
        if !valid_value(name, value) {
            let what = if name.ends_with(".window") {
                "a duration such as 30s, 5m, 2h or 1d"
            } else {
                "a positive whole number"
            };
            return Err(err(format!("setting {name}: {value:?} is not {what}")));
        }
        out.retain(|(n, _)| n != name);
        out.push((name.to_string(), value.to_string()));
        Ok(())
    };
    if let Some((path, text)) = config {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let Some((n, v)) = line.split_once(':') else {
                return Err(Diagnostic::error(
                    path.to_string(),
                    "expected `name: value`; `portcullis rules settings` lists the names",
                )
                .at(no, None));
            };
            add(n, v, path, Some(no))?;
        }
    }
    for p in pairs {
        let Some((n, v)) = p.split_once('=') else {
            return Err(Diagnostic::error(
                "--set",
                format!("{p:?} is not NAME=VALUE, e.g. --set win_spray_4625.users=20"),
            ));
        };
        add(n, v, "--set", None)?;
    }
    Ok(out)
}

/// A bundled rule's text with the settings applied.
pub fn apply_settings(text: &str, settings: &[(String, String)]) -> String {
    if settings.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        match split_tunable(line) {
            Some((key, _, name)) => match settings.iter().find(|(n, _)| n == name) {
                Some((_, v)) => {
                    out.push_str(key);
                    out.push_str(v);
                    out.push(' ');
                    out.push_str(MARK);
                    out.push(' ');
                    out.push_str(name);
                }
                None => out.push_str(line),
            },
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunables_are_listed_with_defaults() {
        let t = tunables();
        let get = |n: &str| t.iter().find(|x| x.name == n).map(|x| x.default.as_str());
        assert_eq!(get("win_spray_4625.users"), Some("10"));
        assert_eq!(get("win_spray_4625.window"), Some("5m"));
        assert_eq!(get("win_bruteforce.attempts"), Some("20"));
        assert_eq!(get("entra_spray_asn.users"), Some("20"));
        assert_eq!(get("lnx_stuffing.sources"), Some("10"));
        assert!(t.len() >= 30, "{}", t.len());
        // Every rule file carries at least one tunable.
        for (f, _) in BUNDLED_RULES {
            assert!(t.iter().any(|x| x.file == *f), "{f} has no tunable");
        }
    }

    #[test]
    fn settings_are_checked_and_applied() {
        let s = parse_settings(
            &[
                "win_spray_4625.users=25".into(),
                "win_spray_4625.window=10m".into(),
            ],
            Some(("cfg.yml", "# thresholds\nlnx_ssh_spray.users: 4\n")),
        )
        .unwrap();
        assert_eq!(s.len(), 3);
        let text = BUNDLED_RULES
            .iter()
            .find(|(f, _)| *f == "win_spray_failed_logon.yml")
            .unwrap()
            .1;
        let t = apply_settings(text, &s);
        assert!(
            t.contains("        gte: 25 # tunable: win_spray_4625.users\n"),
            "{t}"
        );
        assert!(t.contains("    timespan: 10m # tunable: win_spray_4625.window\n"));
        assert!(!t.contains("gte: 10 #"));
        let e = parse_settings(&["nope.users=3".into()], None).unwrap_err();
        assert!(e.message.contains("unknown rule setting \"nope.users\""));
        let e = parse_settings(&["win_spray_4625.users=0".into()], None).unwrap_err();
        assert!(e.message.contains("positive whole number"));
        let e = parse_settings(&["win_spray_4625.window=5x".into()], None).unwrap_err();
        assert!(e.message.contains("duration"));
        let e = parse_settings(&["win_spray_4625.users".into()], None).unwrap_err();
        assert!(e.message.contains("NAME=VALUE"));
        let e = parse_settings(&[], Some(("c.yml", "\n\nbad line\n"))).unwrap_err();
        assert_eq!(e.line, Some(3));
    }
}
