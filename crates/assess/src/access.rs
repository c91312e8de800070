//! E4 User access control, plus the account data shared with E2.

use crate::check::Check;
use crate::host::{config_lines, FileRead, Host};
use crate::sshd::{expand_glob, Sshd};
use portcullis_model::{CheckResult, Control};

/// One /etc/passwd entry with its shadow fields.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub shell: String,
    pub line: u32,
    /// The shadow password field, when shadow was read.
    pub hash: Option<String>,
    pub shadow_line: Option<u32>,
    /// Shadow field 5: maximum password age in days.
    pub max_days: Option<i64>,
}

impl Account {
    /// A shell that allows interactive login.
    pub fn login_shell(&self) -> bool {
        !(self.shell.ends_with("nologin")
            || self.shell.ends_with("/false")
            || self.shell.is_empty()
            || self.shell.ends_with("/sync")
            || self.shell.ends_with("/halt")
            || self.shell.ends_with("/shutdown"))
    }
    /// A password that can be used to sign in (not locked, not empty).
    pub fn usable_password(&self) -> bool {
        match &self.hash {
            Some(h) => !h.is_empty() && !h.starts_with('!') && !h.starts_with('*'),
            None => false,
        }
    }
}

/// passwd + shadow; the error says why shadow could not be read.
pub struct Accounts {
    pub list: Vec<Account>,
    pub passwd_error: Option<String>,
    pub shadow_error: Option<String>,
}

pub fn read_accounts(host: &Host) -> Accounts {
    let mut list = Vec::new();
    let passwd_error = match host.read("etc/passwd") {
        FileRead::Text(t) => {
            for (n, l) in config_lines(&t) {
                let f: Vec<&str> = l.split(':').collect();
                if f.len() < 7 {
                    continue;
                }
                let Ok(uid) = f[2].parse::<u32>() else {
                    continue;
                };
                list.push(Account {
                    name: f[0].to_string(),
                    uid,
                    shell: f[6].to_string(),
                    line: n,
                    hash: (f[1] != "x").then(|| f[1].to_string()),
                    shadow_line: None,
                    max_days: None,
                });
            }
            None
        }
        FileRead::Missing => Some("/etc/passwd is missing".to_string()),
        FileRead::Unreadable(w) => Some(format!("/etc/passwd: {w}")),
    };
    let shadow_error = match host.read("etc/shadow") {
        FileRead::Text(t) => {
            for (n, l) in config_lines(&t) {
                let f: Vec<&str> = l.split(':').collect();
                let (Some(name), Some(hash)) = (f.first(), f.get(1)) else {
                    continue;
                };
                if let Some(a) = list.iter_mut().find(|a| a.name == *name) {
                    a.hash = Some(hash.to_string());
                    a.shadow_line = Some(n);
                    a.max_days = f.get(4).and_then(|v| v.parse().ok());
                }
            }
            None
        }
        FileRead::Missing => Some("/etc/shadow is missing".to_string()),
        FileRead::Unreadable(w) => {
            Some(format!("/etc/shadow could not be read ({w}); run as root"))
        }
    };
    Accounts {
        list,
        passwd_error,
        shadow_error,
    }
}

/// Members of a group from /etc/group.
pub fn group_members(host: &Host, group: &str) -> Vec<(String, u32)> {
    let mut v = Vec::new();
    if let FileRead::Text(t) = host.read("etc/group") {
        for (n, l) in config_lines(&t) {
            let f: Vec<&str> = l.split(':').collect();
            if f.first() == Some(&group) {
                if let Some(m) = f.get(3) {
                    for u in m.split(',').filter(|u| !u.is_empty()) {
                        v.push((u.to_string(), n));
                    }
                }
            }
        }
    }
    v
}

/// A non-comment sudoers line with its place.
pub struct SudoLine {
    pub file: String,
    pub line: u32,
    pub text: String,
}

pub fn sudoers(host: &Host) -> (Vec<SudoLine>, Option<String>) {
    let mut out = Vec::new();
    let mut err = None;
    let mut files = vec!["etc/sudoers".to_string()];
    let mut i = 0;
    while i < files.len() && i < 200 {
        let f = files[i].clone();
        i += 1;
        match host.read(&f) {
            FileRead::Text(t) => {
                for (n, raw) in t.lines().enumerate() {
                    let l = raw.trim();
                    let n = u32::try_from(n + 1).unwrap_or(u32::MAX);
                    let inc = l
                        .strip_prefix("@includedir ")
                        .or_else(|| l.strip_prefix("#includedir "));
                    if let Some(d) = inc {
                        let d = d.trim().trim_start_matches('/');
                        for name in host.list_dir(d) {
                            // sudo skips names with a dot or ending in ~.
                            if !name.contains('.') && !name.ends_with('~') {
                                files.push(format!("{d}/{name}"));
                            }
                        }
                        continue;
                    }
                    let inc = l
                        .strip_prefix("@include ")
                        .or_else(|| l.strip_prefix("#include "));
                    if let Some(f2) = inc {
                        files.extend(expand_glob(host, f2.trim().trim_start_matches('/')));
                        continue;
                    }
                    if l.is_empty() || l.starts_with('#') {
                        continue;
                    }
                    out.push(SudoLine {
                        file: format!("/{f}"),
                        line: n,
                        text: l.to_string(),
                    });
                }
            }
            FileRead::Missing => {}
            FileRead::Unreadable(w) => err = Some(format!("/{f}: {w}")),
        }
    }
    (out, err)
}

/// Lines of the PAM stacks that authenticate or set passwords.
pub struct PamLine {
    pub file: String,
    pub line: u32,
    pub kind: String,
    pub module: String,
    pub args: Vec<String>,
}

pub const PAM_FILES: &[&str] = &[
    "etc/pam.d/common-auth",
    "etc/pam.d/common-password",
    "etc/pam.d/system-auth",
    "etc/pam.d/password-auth",
    "etc/pam.d/sshd",
    "etc/pam.d/login",
    "etc/pam.d/gdm-password",
];

pub fn pam_lines(host: &Host) -> Vec<PamLine> {
    let mut v = Vec::new();
    for f in PAM_FILES {
        if let FileRead::Text(t) = host.read(f) {
            for (n, l) in config_lines(&t) {
                let mut w = l.split_whitespace();
                let Some(kind) = w.next() else { continue };
                let kind = kind.trim_start_matches('-').to_string();
                let Some(mut control) = w.next() else {
                    continue;
                };
                let mut rest: Vec<&str> = w.collect();
                if control.starts_with('[') {
                    // [success=1 default=ignore]: skip to the closing bracket.
                    while !control.ends_with(']') && !rest.is_empty() {
                        control = rest.remove(0);
                    }
                }
                if rest.is_empty() {
                    continue;
                }
                let module = rest.remove(0);
                let module = module.rsplit('/').next().unwrap_or(module).to_string();
                v.push(PamLine {
                    file: format!("/{f}"),
                    line: n,
                    kind,
                    module,
                    args: rest.iter().map(|s| s.to_string()).collect(),
                });
            }
        }
    }
    v
}

pub fn arg_value<'a>(args: &'a [String], key: &str) -> Option<&'a str> {
    args.iter()
        .find_map(|a| a.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// `key = value` settings from a file like pwquality.conf or faillock.conf.
pub fn kv_file(host: &Host, rel: &str) -> Vec<(String, String, u32)> {
    let mut v = Vec::new();
    if let FileRead::Text(t) = host.read(rel) {
        for (n, l) in config_lines(&t) {
            match l.split_once('=') {
                Some((k, val)) => v.push((k.trim().to_string(), val.trim().to_string(), n)),
                None => v.push((l.to_string(), String::new(), n)),
            }
        }
    }
    v
}

pub const MFA_MODULES: &[&str] = &[
    "pam_google_authenticator.so",
    "pam_u2f.so",
    "pam_oath.so",
    "pam_duo.so",
    "pam_yubico.so",
];

pub fn checks(host: &Host, sshd: &Sshd, out: &mut Vec<CheckResult>) {
    let acc = read_accounts(host);
    out.push(uid0(&acc));
    out.push(empty_passwords(&acc));
    let (sudo, sudo_err) = sudoers(host);
    out.push(nopasswd(&sudo, sudo_err.as_deref()));
    out.push(admins(host, &sudo));
    let pam = pam_lines(host);
    out.push(password_policy(host, &pam, sshd));
}

fn uid0(acc: &Accounts) -> CheckResult {
    let mut c = Check::new(
        "linux.users.uid0",
        Control::UserAccessControl,
        &["E4-001", "E4-007", "E4-011"],
        "Only root has user ID 0",
    );
    if let Some(e) = &acc.passwd_error {
        return c.unknown(e.clone());
    }
    let bad: Vec<&Account> = acc
        .list
        .iter()
        .filter(|a| a.uid == 0 && a.name != "root")
        .collect();
    for a in &bad {
        c.ev(
            "/etc/passwd",
            Some(a.line),
            format!(
                "{} has UID 0 (full administrator rights under another name)",
                a.name
            ),
        );
    }
    if bad.is_empty() {
        c.ev("/etc/passwd", None, "root is the only account with UID 0");
        return c.pass();
    }
    c.fail("Give each listed account its own non-zero UID or remove it: usermod -u NEW_UID NAME, or userdel NAME. Administrators should use their own account and sudo.")
}

fn empty_passwords(acc: &Accounts) -> CheckResult {
    let mut c = Check::new(
        "linux.users.empty_passwords",
        Control::UserAccessControl,
        &["E4-020", "E2-002"],
        "Every account needs a password or key to sign in (no empty passwords)",
    );
    if let Some(e) = &acc.passwd_error {
        return c.unknown(e.clone());
    }
    let mut bad = 0;
    for a in &acc.list {
        if a.hash.as_deref() == Some("") {
            bad += 1;
            let (src, line) = match a.shadow_line {
                Some(l) => ("/etc/shadow", Some(l)),
                None => ("/etc/passwd", Some(a.line)),
            };
            c.ev(
                src,
                line,
                format!(
                    "{}: empty password field: anyone can sign in as this account",
                    a.name
                ),
            );
        }
    }
    if bad > 0 {
        return c.fail("Lock each listed account or give it a strong password: passwd -l NAME (lock) or passwd NAME.");
    }
    if let Some(e) = &acc.shadow_error {
        return c.unknown(e.clone());
    }
    c.ev(
        "/etc/shadow",
        None,
        format!(
            "{} accounts read; none has an empty password",
            acc.list.len()
        ),
    );
    c.pass()
}

fn nopasswd(sudo: &[SudoLine], err: Option<&str>) -> CheckResult {
    let mut c = Check::new(
        "linux.sudo.nopasswd",
        Control::UserAccessControl,
        &["E4-011", "E4-012", "E4-013"],
        "Administrator actions ask for the administrator's password (no sudo NOPASSWD)",
    );
    let mut bad = 0;
    for s in sudo {
        if s.text.contains("NOPASSWD") && !s.text.starts_with("Defaults") {
            bad += 1;
            c.ev(&s.file, Some(s.line), s.text.clone());
        }
        if s.text.starts_with("Defaults") && s.text.contains("!authenticate") {
            bad += 1;
            c.ev(&s.file, Some(s.line), s.text.clone());
        }
    }
    if bad > 0 {
        return c.fail("Remove NOPASSWD (and !authenticate) from the listed sudoers lines with visudo (or visudo -f FILE), so that sudo asks for the administrator's own password. Service accounts that need one command should be limited to that exact command.");
    }
    if let Some(e) = err {
        return c.unknown(format!("sudoers could not be read: {e}"));
    }
    c.ev(
        "/etc/sudoers",
        None,
        format!("{} sudoers rules read; none skips the password", sudo.len()),
    );
    c.pass()
}

fn admins(host: &Host, sudo: &[SudoLine]) -> CheckResult {
    let mut c = Check::new(
        "linux.users.admin_accounts",
        Control::UserAccessControl,
        &["E4-011", "E4-012", "E4-013"],
        "Administrator accounts are separate and used only for administration",
    );
    for g in ["sudo", "wheel", "admin"] {
        for (u, n) in group_members(host, g) {
            c.ev(
                "/etc/group",
                Some(n),
                format!("{u} is in the {g} group (can act as root)"),
            );
        }
    }
    for s in sudo {
        let first = s.text.split_whitespace().next().unwrap_or("");
        if !s.text.starts_with("Defaults")
            && !first.starts_with('%')
            && first != "root"
            && s.text.contains("ALL")
            && !first.contains('_')
            && first
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.')
            && !first.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_')
        {
            c.ev(&s.file, Some(s.line), format!("sudo rule: {}", s.text));
        }
    }
    if c.evidence().is_empty() {
        c.ev(
            "/etc/group",
            None,
            "no member of the sudo, wheel or admin groups",
        );
    }
    c.attest("Confirm that each account listed is used only for administration (not for email, web browsing or everyday work), that its holder has a separate standard account for daily use, and that these rights are removed when no longer needed (A7.6–A7.9).")
}

fn password_policy(host: &Host, pam: &[PamLine], sshd: &Sshd) -> CheckResult {
    let mut c = Check::new(
        "linux.password.quality",
        Control::UserAccessControl,
        &["E4-016", "E4-017", "E4-021", "E4-022"],
        "Passwords are at least 12 characters, or 8 with common passwords blocked, or MFA is used",
    );
    for p in pam
        .iter()
        .filter(|p| MFA_MODULES.contains(&p.module.as_str()) && p.kind == "auth")
    {
        c.ev(
            &p.file,
            Some(p.line),
            format!("{} {}: a second factor is asked", p.kind, p.module),
        );
    }
    let (ssh_mfa, why) = crate::firewall::ssh_strong_auth(sshd);
    if !c.evidence().is_empty() {
        return c.pass();
    }
    let pwq = pam.iter().find(|p| {
        p.kind == "password" && (p.module == "pam_pwquality.so" || p.module == "pam_cracklib.so")
    });
    if let Some(p) = pwq {
        let mut minlen: i64 = if p.module == "pam_cracklib.so" { 9 } else { 8 };
        let mut dict = p.module == "pam_cracklib.so";
        let mut dict_src = format!("{} (default)", p.file);
        let mut min_src = (p.file.clone(), p.line);
        if p.module == "pam_pwquality.so" {
            dict = true;
            let mut conf = kv_file(host, "etc/security/pwquality.conf")
                .into_iter()
                .map(|(k, v, n)| (k, v, n, "/etc/security/pwquality.conf".to_string()))
                .collect::<Vec<_>>();
            for f in host.list_dir("etc/security/pwquality.conf.d") {
                if f.ends_with(".conf") {
                    let rel = format!("etc/security/pwquality.conf.d/{f}");
                    conf.extend(
                        kv_file(host, &rel)
                            .into_iter()
                            .map(|(k, v, n)| (k, v, n, format!("/{rel}"))),
                    );
                }
            }
            for (k, v, n, f) in &conf {
                if k == "minlen" {
                    if let Ok(x) = v.parse() {
                        minlen = x;
                        min_src = (f.clone(), *n);
                    }
                }
                if k == "dictcheck" {
                    dict = v != "0";
                    dict_src = format!("{f}:{n}");
                }
            }
        }
        if let Some(v) = arg_value(&p.args, "minlen").and_then(|v| v.parse().ok()) {
            minlen = v;
            min_src = (p.file.clone(), p.line);
        }
        if let Some(v) = arg_value(&p.args, "dictcheck") {
            dict = v != "0";
            dict_src = format!("{}:{}", p.file, p.line);
        }
        c.ev(
            &min_src.0,
            Some(min_src.1),
            format!("{}: minimum length {minlen}", p.module),
        );
        c.ev(
            &dict_src,
            None,
            if dict {
                "common passwords are blocked (dictionary check on)"
            } else {
                "dictionary check off"
            },
        );
        if minlen >= 12 || (minlen >= 8 && dict) {
            return c.pass();
        }
    } else {
        let unix = pam
            .iter()
            .find(|p| p.kind == "password" && p.module == "pam_unix.so");
        if let Some(u) = unix {
            let minlen = arg_value(&u.args, "minlen").unwrap_or("6 (the pam_unix default)");
            c.ev(
                &u.file,
                Some(u.line),
                format!("pam_unix.so only: minimum length {minlen}, no deny-list"),
            );
            if arg_value(&u.args, "minlen")
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|m| m >= 12)
            {
                return c.pass();
            }
        } else if pam.is_empty() {
            return c
                .unknown("no PAM configuration found (etc/pam.d/common-password or system-auth)");
        }
    }
    if ssh_mfa {
        c.ev(
            "/etc/ssh/sshd_config",
            None,
            format!("remote sign-in: {why}"),
        );
    }
    c.fail("Enforce a 12-character minimum (or 8 with a deny-list). On Debian or Ubuntu: apt-get install libpam-pwquality, then in /etc/security/pwquality.conf set `minlen = 12` and `dictcheck = 1`. Do not add complexity rules (minclass, dcredit…): Cyber Essentials forbids them.")
}
