//! sshd_config with its Include files: the effective global settings
//! (first value wins, as sshd reads them; Match blocks are conditional and
//! not counted as global).

use crate::host::{FileRead, Host};

/// One setting as found.
#[derive(Debug, Clone)]
pub struct Setting {
    /// The value (first word(s) after the keyword).
    pub value: String,
    /// The file it came from, relative to the root.
    pub file: String,
    /// The 1-based line.
    pub line: u32,
}

/// The sshd configuration.
#[derive(Debug, Default)]
pub struct Sshd {
    /// Whether an sshd_config was found (the server is configured).
    pub present: bool,
    /// Why it could not be read, when it could not.
    pub unreadable: Option<String>,
    settings: Vec<(String, Setting)>,
}

impl Sshd {
    /// Read `etc/ssh/sshd_config` and its includes.
    pub fn read(host: &Host) -> Sshd {
        let mut s = Sshd::default();
        match host.read("etc/ssh/sshd_config") {
            FileRead::Missing => {}
            FileRead::Unreadable(why) => {
                s.present = true;
                s.unreadable = Some(why);
            }
            FileRead::Text(t) => {
                s.present = true;
                s.parse(host, "etc/ssh/sshd_config", &t, 0);
            }
        }
        s
    }

    fn parse(&mut self, host: &Host, file: &str, text: &str, depth: u32) {
        let mut in_match = false;
        for (i, raw) in text.lines().enumerate() {
            let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (key, rest) = match l.split_once(|c: char| c.is_whitespace() || c == '=') {
                Some((k, r)) => (
                    k,
                    r.trim_start_matches(|c: char| c.is_whitespace() || c == '=')
                        .trim(),
                ),
                None => (l, ""),
            };
            let key = key.to_ascii_lowercase();
            if key == "match" {
                in_match = true;
                continue;
            }
            if in_match {
                continue;
            }
            if key == "include" {
                if depth >= 8 {
                    continue;
                }
                for pat in rest.split_whitespace() {
                    let pat = if pat.starts_with('/') {
                        pat.trim_start_matches('/').to_string()
                    } else {
                        format!("etc/ssh/{pat}")
                    };
                    for f in expand_glob(host, &pat) {
                        if let FileRead::Text(t) = host.read(&f) {
                            self.parse(host, &f, &t, depth + 1);
                        }
                    }
                }
                continue;
            }
            if !self.settings.iter().any(|(k, _)| *k == key) {
                self.settings.push((
                    key,
                    Setting {
                        value: rest.trim_matches('"').to_string(),
                        file: file.to_string(),
                        line,
                    },
                ));
            }
        }
    }

    /// The effective setting of a keyword (lower-case), if set.
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, s)| s)
    }

    /// The value, lower-cased, or the default.
    pub fn value(&self, key: &str, default: &str) -> String {
        self.get(key)
            .map(|s| s.value.to_ascii_lowercase())
            .unwrap_or_else(|| default.to_string())
    }
}

/// Expand a simple glob (`*` in the last component only) relative to the root.
pub fn expand_glob(host: &Host, pat: &str) -> Vec<String> {
    let (dir, name) = match pat.rsplit_once('/') {
        Some((d, n)) => (d, n),
        None => ("", pat),
    };
    if !name.contains('*') && !name.contains('?') {
        return vec![pat.to_string()];
    }
    host.list_dir(dir)
        .into_iter()
        .filter(|n| glob_match(name, n))
        .map(|n| {
            if dir.is_empty() {
                n
            } else {
                format!("{dir}/{n}")
            }
        })
        .collect()
}

/// `*` and `?` matching.
pub fn glob_match(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}
