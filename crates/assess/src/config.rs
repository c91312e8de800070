//! E2 Secure configuration: sshd, accounts, lockout, screen lock, and the
//! CIS expiry/complexity clash (E4-027/028).

use crate::access::{arg_value, kv_file, pam_lines, read_accounts, Account};
use crate::check::Check;
use crate::host::{config_lines, FileRead, Host};
use crate::sshd::Sshd;
use portcullis_model::{CheckResult, Control};

const DROPIN: &str = "/etc/ssh/sshd_config.d/50-portcullis.conf";

pub fn checks(host: &Host, sshd: &Sshd, now: i64, out: &mut Vec<CheckResult>) {
    out.push(ssh_root(sshd));
    out.push(ssh_empty(sshd));
    out.push(ssh_auth(sshd));
    out.push(unused_accounts(host, now));
    out.push(lockout(host));
    out.push(expiry(host));
    out.push(complexity(host));
    out.push(screen_lock(host));
}

fn ssh_ev(c: &mut Check, sshd: &Sshd, key: &str, default: &str) -> String {
    match sshd.get(key) {
        Some(s) => {
            c.ev(
                &format!("/{}", s.file),
                Some(s.line),
                format!("{key} {}", s.value),
            );
            s.value.to_ascii_lowercase()
        }
        None => {
            c.ev(
                "/etc/ssh/sshd_config",
                None,
                format!("{key} not set: the OpenSSH default is {default}"),
            );
            default.to_string()
        }
    }
}

fn ssh_root(sshd: &Sshd) -> CheckResult {
    let mut c = Check::new(
        "linux.ssh.permit_root_login",
        Control::SecureConfiguration,
        &["E2-001", "E4-011"],
        "SSH does not let root sign in with a password",
    );
    if !sshd.present {
        c.ev("/etc/ssh/sshd_config", None, "no SSH server configured");
        return c.pass();
    }
    if let Some(w) = &sshd.unreadable {
        return c.unknown(format!("/etc/ssh/sshd_config could not be read: {w}"));
    }
    let v = ssh_ev(&mut c, sshd, "permitrootlogin", "prohibit-password");
    if v == "yes" {
        return c.fail(format!("Stop root signing in over SSH: put `PermitRootLogin no` in {DROPIN} (it must come before other settings: files in sshd_config.d are read first), then run: systemctl reload ssh. Administrators sign in as themselves and use sudo."));
    }
    c.pass()
}

fn ssh_empty(sshd: &Sshd) -> CheckResult {
    let mut c = Check::new(
        "linux.ssh.permit_empty_passwords",
        Control::SecureConfiguration,
        &["E2-002", "E4-020"],
        "SSH refuses accounts with empty passwords",
    );
    if !sshd.present {
        c.ev("/etc/ssh/sshd_config", None, "no SSH server configured");
        return c.pass();
    }
    if let Some(w) = &sshd.unreadable {
        return c.unknown(format!("/etc/ssh/sshd_config could not be read: {w}"));
    }
    if ssh_ev(&mut c, sshd, "permitemptypasswords", "no") == "yes" {
        return c.fail(format!(
            "Set `PermitEmptyPasswords no` in {DROPIN}, then run: systemctl reload ssh"
        ));
    }
    c.pass()
}

fn ssh_auth(sshd: &Sshd) -> CheckResult {
    let mut c = Check::new(
        "linux.ssh.strong_authentication",
        Control::UserAccessControl,
        &["E1-004", "E1-005", "E4-014", "E4-015"],
        "Remote administration over SSH uses keys or MFA, not passwords alone",
    );
    if !sshd.present {
        c.ev("/etc/ssh/sshd_config", None, "no SSH server configured");
        return c.pass();
    }
    if let Some(w) = &sshd.unreadable {
        return c.unknown(format!("/etc/ssh/sshd_config could not be read: {w}"));
    }
    ssh_ev(&mut c, sshd, "passwordauthentication", "yes");
    ssh_ev(&mut c, sshd, "kbdinteractiveauthentication", "yes");
    ssh_ev(&mut c, sshd, "authenticationmethods", "any");
    let (ok, why) = crate::firewall::ssh_strong_auth(sshd);
    c.ev("portcullis", None, why);
    if ok {
        return c.pass();
    }
    c.fail(format!("Sign-in over SSH accepts a password alone. Either allow keys only: put `PasswordAuthentication no` and `KbdInteractiveAuthentication no` in {DROPIN}; or require a second factor: apt-get install libpam-google-authenticator, add `auth required pam_google_authenticator.so` to /etc/pam.d/sshd and set `AuthenticationMethods publickey,keyboard-interactive` and `KbdInteractiveAuthentication yes`. Then run: systemctl reload ssh"))
}

/// Last login times from /var/log/lastlog (struct lastlog: 4-byte time,
/// 32-byte line, 256-byte host, indexed by UID).
pub fn lastlog(host: &Host, uid: u32) -> Option<i64> {
    let p = host.resolve("var/log/lastlog")?;
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(p).ok()?;
    f.seek(SeekFrom::Start(u64::from(uid) * 292)).ok()?;
    let mut b = [0u8; 4];
    f.read_exact(&mut b).ok()?;
    let t = i64::from(u32::from_le_bytes(b));
    (t > 0).then_some(t)
}

const GUEST_NAMES: &[&str] = &["guest", "test", "demo", "temp", "user", "default"];

fn unused_accounts(host: &Host, now: i64) -> CheckResult {
    let mut c = Check::new(
        "linux.accounts.unneeded",
        Control::SecureConfiguration,
        &["E2-001", "E4-008"],
        "No unneeded accounts can sign in (guest, test, system accounts, unused people)",
    );
    let acc = read_accounts(host);
    if let Some(e) = &acc.passwd_error {
        return c.unknown(e.clone());
    }
    if let Some(e) = &acc.shadow_error {
        return c.unknown(e.clone());
    }
    let mut bad = 0;
    let mut people: Vec<&Account> = Vec::new();
    for a in acc
        .list
        .iter()
        .filter(|a| a.login_shell() && a.usable_password())
    {
        let line = a.shadow_line.or(Some(a.line));
        if GUEST_NAMES.contains(&a.name.as_str()) {
            bad += 1;
            c.ev(
                "/etc/shadow",
                line,
                format!("{}: a guest or test account that can sign in", a.name),
            );
        } else if a.uid > 0 && a.uid < 1000 {
            bad += 1;
            c.ev(
                "/etc/shadow",
                line,
                format!(
                    "{} (UID {}): a system account with a password and a login shell",
                    a.name, a.uid
                ),
            );
        } else {
            people.push(a);
        }
    }
    for a in &people {
        let last = match lastlog(host, a.uid) {
            Some(t) => format!("last sign-in {} days ago", (now - t).max(0) / 86_400),
            None => "no sign-in recorded in /var/log/lastlog".to_string(),
        };
        c.ev(
            "/etc/shadow",
            a.shadow_line,
            format!("{} (UID {}) can sign in; {last}", a.name, a.uid),
        );
    }
    if bad > 0 {
        return c.fail("Lock or remove each guest, test or system account listed: usermod -L -s /usr/sbin/nologin NAME (lock) or userdel NAME (remove).");
    }
    if people.is_empty() {
        return c.pass();
    }
    c.attest("Confirm that each account listed belongs to a current person who needs it, and that accounts of leavers, or unused for your defined period, are removed or disabled (A5.2, A7.3).")
}

fn lockout(host: &Host) -> CheckResult {
    let mut c = Check::new(
        "linux.auth.lockout",
        Control::SecureConfiguration,
        &["E2-008", "E2-009", "E4-021"],
        "Password guessing is stopped after at most 10 attempts",
    );
    let pam = pam_lines(host);
    let fl: Vec<_> = pam
        .iter()
        .filter(|p| {
            p.kind == "auth"
                && (p.module == "pam_faillock.so"
                    || p.module == "pam_tally2.so"
                    || p.module == "pam_tally.so")
        })
        .collect();
    if let Some(p) = fl.first() {
        let mut deny: Option<(i64, String, Option<u32>)> = None;
        if p.module == "pam_faillock.so" {
            for (k, v, n) in kv_file(host, "etc/security/faillock.conf") {
                if k == "deny" {
                    if let Ok(x) = v.parse() {
                        deny = Some((x, "/etc/security/faillock.conf".into(), Some(n)));
                    }
                }
            }
        }
        for q in &fl {
            if let Some(x) = arg_value(&q.args, "deny").and_then(|v| v.parse().ok()) {
                deny = Some((x, q.file.clone(), Some(q.line)));
            }
        }
        let (d, f, l) = deny.unwrap_or((
            if p.module == "pam_faillock.so" { 3 } else { 0 },
            format!("{} (module default)", p.file),
            Some(p.line),
        ));
        c.ev(&f, l, format!("{}: lock after {d} failures", p.module));
        if (1..=10).contains(&d) {
            return c.pass();
        }
        return c.fail("Set the lock-out threshold to 10 or fewer: `deny = 10` in /etc/security/faillock.conf (0 switches the lock-out off).");
    }
    // fail2ban protects SSH only.
    if host.has_package("fail2ban") {
        let mut enabled = false;
        let mut maxretry = 5i64;
        let mut files = vec![
            "etc/fail2ban/jail.conf".to_string(),
            "etc/fail2ban/jail.local".to_string(),
        ];
        for f in host.list_dir("etc/fail2ban/jail.d") {
            files.push(format!("etc/fail2ban/jail.d/{f}"));
        }
        for f in &files {
            if let FileRead::Text(t) = host.read(f) {
                let mut sect = String::new();
                for (n, l) in config_lines(&t) {
                    if l.starts_with('[') {
                        sect = l.trim_matches(|ch| ch == '[' || ch == ']').to_string();
                        continue;
                    }
                    let Some((k, v)) = l.split_once('=') else {
                        continue;
                    };
                    let (k, v) = (k.trim(), v.trim());
                    if (sect == "sshd" || sect == "DEFAULT") && k == "maxretry" {
                        if let Ok(x) = v.parse() {
                            maxretry = x;
                            c.ev(
                                &format!("/{f}"),
                                Some(n),
                                format!("[{sect}] maxretry = {v}"),
                            );
                        }
                    }
                    if sect == "sshd" && k == "enabled" {
                        enabled = v == "true";
                        c.ev(&format!("/{f}"), Some(n), format!("[sshd] enabled = {v}"));
                    }
                }
            }
        }
        if enabled && (1..=10).contains(&maxretry) {
            return c.attest("fail2ban blocks SSH password guessing; confirm that local and console sign-in is also limited (pam_faillock) or that only SSH keys are used (A5.7, A7.10).");
        }
    }
    c.ev(
        "/etc/pam.d",
        None,
        "no pam_faillock or pam_tally2 in the authentication stack",
    );
    c.fail("Lock accounts after at most 10 failed attempts. On Debian or Ubuntu add `auth required pam_faillock.so preauth` before and `auth [default=die] pam_faillock.so authfail` after pam_unix in /etc/pam.d/common-auth, `account required pam_faillock.so` in common-account, and set `deny = 10` and `unlock_time = 300` in /etc/security/faillock.conf (on RHEL: authselect enable-feature with-faillock).")
}

fn expiry(host: &Host) -> CheckResult {
    let mut c = Check::new(
        "linux.password.no_expiry",
        Control::UserAccessControl,
        &["E4-027"],
        "Passwords are not forced to expire (Cyber Essentials forbids regular expiry)",
    );
    let mut max: Option<(i64, u32)> = None;
    match host.read("etc/login.defs") {
        FileRead::Text(t) => {
            for (n, l) in config_lines(&t) {
                let mut w = l.split_whitespace();
                if w.next() == Some("PASS_MAX_DAYS") {
                    max = w.next().and_then(|v| v.parse().ok()).map(|v| (v, n));
                }
            }
        }
        FileRead::Unreadable(w) => return c.unknown(format!("/etc/login.defs: {w}")),
        FileRead::Missing => {}
    }
    let mut bad = 0;
    if let Some((v, n)) = max {
        let forced = (0..99_999).contains(&v);
        c.ev("/etc/login.defs", Some(n), format!("PASS_MAX_DAYS {v}"));
        if forced {
            bad += 1;
        } else {
            c.ev("/etc/login.defs", Some(n), "CE-compliant, CIS deviation: CIS Debian 12 5.4.1.1 asks for 365 days or fewer; Cyber Essentials forbids forced expiry");
        }
    } else {
        c.ev(
            "/etc/login.defs",
            None,
            "PASS_MAX_DAYS not set: passwords never expire",
        );
    }
    let acc = read_accounts(host);
    for a in acc
        .list
        .iter()
        .filter(|a| a.usable_password() && a.max_days.is_some_and(|m| (0..99_999).contains(&m)))
    {
        bad += 1;
        c.ev(
            "/etc/shadow",
            a.shadow_line,
            format!(
                "{}: password expires every {} days",
                a.name,
                a.max_days.unwrap_or(0)
            ),
        );
    }
    if bad > 0 {
        return c.fail("Stop forced password expiry: set `PASS_MAX_DAYS 99999` in /etc/login.defs and for each existing account run: chage -M 99999 NAME. (CIS benchmarks ask for expiry; Cyber Essentials E4-027 does not allow it. Change a password when a compromise is known or suspected instead.)");
    }
    c.pass()
}

fn complexity(host: &Host) -> CheckResult {
    let mut c = Check::new(
        "linux.password.no_complexity",
        Control::UserAccessControl,
        &["E4-028"],
        "No character-class complexity rules (Cyber Essentials forbids them)",
    );
    let mut bad = 0;
    let mut files = vec!["etc/security/pwquality.conf".to_string()];
    for f in host.list_dir("etc/security/pwquality.conf.d") {
        files.push(format!("etc/security/pwquality.conf.d/{f}"));
    }
    let check = |k: &str, v: &str, src: &str, line: u32, c: &mut Check| {
        let n: i64 = v.parse().unwrap_or(0);
        let rule = (k == "minclass" && n > 1)
            || (matches!(k, "dcredit" | "ucredit" | "lcredit" | "ocredit") && n < 0);
        if rule {
            c.ev(src, Some(line), format!("{k} = {v}: a complexity rule"));
        }
        rule
    };
    for f in &files {
        for (k, v, n) in kv_file(host, f) {
            if check(&k, &v, &format!("/{f}"), n, &mut c) {
                bad += 1;
            }
        }
    }
    for p in pam_lines(host).iter().filter(|p| p.kind == "password") {
        for a in &p.args {
            if let Some((k, v)) = a.split_once('=') {
                if check(k, v, &p.file, p.line, &mut c) {
                    bad += 1;
                }
            }
        }
    }
    if bad > 0 {
        return c.fail("Remove the complexity rules listed (minclass, dcredit, ucredit, lcredit, ocredit) from /etc/security/pwquality.conf and the PAM lines; rely on length (12 characters, or 8 with dictcheck = 1) instead. This is a deliberate deviation from CIS benchmarks, which ask for complexity.");
    }
    c.ev(
        "/etc/security/pwquality.conf",
        None,
        "no minclass or negative [dulo]credit settings",
    );
    c.pass()
}

const DESKTOPS: &[&str] = &[
    "gnome-shell",
    "xfce4-session",
    "plasma-workspace",
    "cinnamon",
    "mate-session-manager",
    "lxqt-session",
    "lxsession",
];

/// dconf keyfile settings: (file, line, section, key, value).
pub fn dconf_settings(host: &Host) -> Vec<(String, u32, String, String, String)> {
    let mut v = Vec::new();
    for db in host.list_dir("etc/dconf/db") {
        if !db.ends_with(".d") {
            continue;
        }
        for f in host.list_dir(&format!("etc/dconf/db/{db}")) {
            let rel = format!("etc/dconf/db/{db}/{f}");
            if let FileRead::Text(t) = host.read(&rel) {
                let mut sect = String::new();
                for (n, l) in config_lines(&t) {
                    if l.starts_with('[') {
                        sect = l.trim_matches(|ch| ch == '[' || ch == ']').to_string();
                    } else if let Some((k, val)) = l.split_once('=') {
                        v.push((
                            format!("/{rel}"),
                            n,
                            sect.clone(),
                            k.trim().to_string(),
                            val.trim().to_string(),
                        ));
                    }
                }
            }
        }
    }
    v
}

fn screen_lock(host: &Host) -> CheckResult {
    let mut c = Check::new(
        "linux.desktop.screen_lock",
        Control::SecureConfiguration,
        &["E2-005", "E2-006", "E2-007"],
        "The screen locks and needs a password to unlock",
    );
    let desktop = DESKTOPS.iter().find(|d| host.has_package(d));
    let Some(d) = desktop else {
        c.ev(
            "/var/lib/dpkg/status",
            None,
            "no graphical desktop installed: console and SSH sign-in need a password",
        );
        return c.pass();
    };
    c.ev("packages", None, format!("{d} is installed"));
    if *d != "gnome-shell" {
        return c.attest(format!("Confirm that the {d} desktop locks the screen after a period of inactivity and needs the user's password or PIN to unlock (A5.9, A5.10)."));
    }
    let mut bad = 0;
    for (f, n, sect, k, v) in dconf_settings(host) {
        let off = (sect == "org/gnome/desktop/screensaver" && k == "lock-enabled" && v == "false")
            || (sect == "org/gnome/desktop/session"
                && k == "idle-delay"
                && (v == "uint32 0" || v == "0"))
            || (sect == "org/gnome/desktop/lockdown" && k == "disable-lock-screen" && v == "true");
        if off {
            bad += 1;
            c.ev(&f, Some(n), format!("[{sect}] {k}={v}"));
        }
    }
    if bad > 0 {
        return c.fail("Turn the GNOME screen lock back on: in /etc/dconf/db/local.d/00-screensaver set `[org/gnome/desktop/screensaver]` `lock-enabled=true` and `[org/gnome/desktop/session]` `idle-delay=uint32 300`, then run: dconf update");
    }
    c.ev(
        "/etc/dconf/db",
        None,
        "GNOME locks the screen by default and no system setting turns it off",
    );
    c.pass()
}
