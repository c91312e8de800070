//! Authentication messages of sshd, PAM, sudo, su and login, parsed into
//! the contract's fields (`user`, `src_ip`, `src_port`, `method`,
//! `outcome`, `invalid_user`, `action`, `pam_*`).
//!
//! User names are attacker-controlled: the source is the LAST
//! `from <addr>[ port <n>]` of a line, and the user is what precedes it.
use crate::FieldName;
use memchr::memmem::Finder;
use std::sync::LazyLock;

use crate::Value;

type Fields = Vec<(FieldName, Value)>;

/// Searchers for the fixed texts looked for in most lines: built once
/// (building one costs about as much as a search of a short line).
static FROM: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b" from "));
static RHOST: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b" rhost="));
static USER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b" user="));

fn put(f: &mut Fields, k: &'static str, v: &str) {
    f.push((k.into(), Value::Str(v.into())));
}

fn is_addr(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    if s.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    // Host names, and odd addresses such as `192.030.0.6`.
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'%'))
        && s.bytes().any(|b| b.is_ascii_alphanumeric())
}

/// `<addr>[ port <n>]...` at the start of `s`: (addr, port, rest).
fn addr_port(s: &str) -> Option<(&str, Option<u16>, &str)> {
    let end = s.find([' ', ',', ';']).unwrap_or(s.len());
    let addr = s[..end].trim_end_matches(':');
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    if !is_addr(addr) {
        return None;
    }
    let rest = &s[end..];
    if let Some(p) = rest.strip_prefix(" port ") {
        let digits = p.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(port) = p[..digits].parse::<u16>() {
            return Some((addr, Some(port), &p[digits..]));
        }
    }
    Some((addr, None, rest))
}

/// The last ` from <addr>[ port <n>]` of `s`, preferring one with a port:
/// (text before it, addr, port).
fn last_from(s: &str) -> Option<(&str, &str, Option<u16>)> {
    last_from_after(s, None, 0)
}

/// [`last_from`] of `" " + s` without building it: a `from <addr>` at the
/// very start counts too (with nothing before it). As in the built text,
/// occurrences do not overlap: the search goes on after that `from `.
fn last_from_spaced(s: &str) -> Option<(&str, &str, Option<u16>)> {
    match s.strip_prefix("from ") {
        Some(rest) => last_from_after(s, Some(rest), 5),
        None => last_from_after(s, None, 0),
    }
}

/// [`last_from`] of `" from " + s` without building it: the address right
/// at the start counts too, with nothing before it.
fn last_from_prefixed(s: &str) -> Option<(&str, &str, Option<u16>)> {
    last_from_after(s, Some(s), 0)
}

/// [`last_from`] of `s`, searched from byte `skip`, with `start` (text
/// that follows a ` from ` before `s`) as the first candidate.
fn last_from_after<'a>(
    s: &'a str,
    start: Option<&'a str>,
    skip: usize,
) -> Option<(&'a str, &'a str, Option<u16>)> {
    let mut best: Option<(&str, &str, Option<u16>)> =
        start.and_then(addr_port).map(|(a, p, _)| ("", a, p));
    let hay = s.as_bytes().get(skip..).unwrap_or(&[]);
    for i in FROM.find_iter(hay) {
        let i = i + skip;
        if let Some((a, p, _)) = addr_port(&s[i + 6..]) {
            let cand = (&s[..i], a, p);
            match (&best, p) {
                (Some((_, _, Some(_))), None) => {}
                _ => best = Some(cand),
            }
        }
    }
    best
}

/// An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) as plain IPv4.
fn norm_addr(a: &str) -> std::borrow::Cow<'_, str> {
    if let Ok(std::net::IpAddr::V6(v6)) = a.parse::<std::net::IpAddr>() {
        if let Some(v4) = v6.to_ipv4_mapped() {
            return v4.to_string().into();
        }
    }
    a.into()
}

fn set_src(f: &mut Fields, addr: &str, port: Option<u16>) {
    put(f, "src_ip", &norm_addr(addr));
    if let Some(p) = port {
        f.push(("src_port".into(), Value::Int(i64::from(p))));
    }
}

fn outcome(f: &mut Fields, action: &str, ok: Option<bool>) {
    put(f, "action", action);
    if let Some(ok) = ok {
        put(f, "outcome", if ok { "success" } else { "failure" });
    }
}

fn user_part(f: &mut Fields, u: &str) {
    let (invalid, u) = match u
        .strip_prefix("invalid user ")
        .or_else(|| u.strip_prefix("illegal user "))
    {
        Some(rest) => (true, rest),
        None => (false, u),
    };
    put(f, "user", u);
    if invalid {
        f.push(("invalid_user".into(), Value::Bool(true)));
    }
}

/// `key=value` of a PAM message (`logname= uid=0 ... rhost=x  user=y`),
/// for keys whose value is a single token; `pat` is `" key="` (the last
/// one wins; `key=` at the very start counts too).
fn pam_kv<'a>(s: &'a str, pat: &str) -> Option<&'a str> {
    let i = crate::rfind_str(s, pat)
        .map(|i| i + pat.len())
        .or_else(|| s.starts_with(pat.get(1..)?).then_some(pat.len() - 1))?;
    let v = &s[i..];
    let end = v.find([' ', ';']).unwrap_or(v.len());
    let v = &v[..end];
    (!v.is_empty()).then_some(v)
}

/// PAM's `rhost` and `user`. `ruser` and `user` are attacker-controlled
/// and may themselves contain ` rhost=` or ` user=`: `user=` is the first
/// one after the first `rhost=` and runs to the end; `rhost` is the last
/// `rhost=` before it.
fn pam_rhost_user(kv: &str) -> (Option<&str>, Option<&str>) {
    let b = kv.as_bytes();
    let Some(r0) = RHOST
        .find(b)
        .or_else(|| kv.starts_with("rhost=").then_some(0))
    else {
        return (None, pam_kv(kv, " user="));
    };
    let u = USER.find(&b[r0..]).map(|i| i + r0);
    let region = &kv[..u.unwrap_or(kv.len())];
    let rhost = pam_kv(region, " rhost=");
    let user = u.map(|u| kv[u + 6..].trim()).filter(|v| !v.is_empty());
    (rhost, user)
}

fn pam(f: &mut Fields, msg: &str) -> bool {
    // `pam_unix(sshd:auth): authentication failure; logname= ... rhost=h  user=u`
    // `pam_unix(sshd:auth): …`, old `(pam_unix) …`, or `pam_unix: …`.
    let body = if let Some(rest) = msg.strip_prefix("pam_") {
        match (crate::find_str(rest, "): "), crate::find_str(rest, ": ")) {
            (Some(close), _) if !rest[..close].contains(' ') => &rest[close + 3..],
            (_, Some(c)) if !rest[..c].contains([' ', '(']) => &rest[c + 2..],
            _ => return false,
        }
    } else if let Some(rest) = msg.strip_prefix("(pam_") {
        match crate::find_str(rest, ") ") {
            Some(close) if !rest[..close].contains(' ') => &rest[close + 2..],
            _ => return false,
        }
    } else {
        return false;
    };
    let (text, kv) = match crate::find_str(body, "; ") {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, ""),
    };
    put(f, "pam_message", text);
    let (rhost, user) = pam_rhost_user(kv);
    if let Some(u) = user {
        put(f, "pam_user", u);
    }
    if let Some(h) = rhost {
        put(f, "pam_rhost", h);
    }
    if text == "authentication failure" {
        if let Some(u) = user {
            put(f, "user", u);
        }
        if let Some(h) = rhost {
            put(f, "src_ip", &norm_addr(h));
        }
        outcome(f, "pam_auth_failure", Some(false));
    } else if let Some(u) = text.strip_prefix("session opened for user ") {
        let u = u.split([' ', '(']).next().unwrap_or(u);
        put(f, "user", u);
        outcome(f, "session_opened", Some(true));
    } else if let Some(u) = text.strip_prefix("session closed for user ") {
        put(f, "user", u.split([' ', '(']).next().unwrap_or(u));
        outcome(f, "session_closed", None);
    } else if text.starts_with("check pass; user unknown") {
        outcome(f, "pam_user_unknown", Some(false));
    }
    true
}

/// The text after `authentication failure for` / `authentication error for`
/// / `User not known to the underlying authentication module for` (any case).
fn pam_failure_for(r: &str) -> Option<&str> {
    for pre in [
        "authentication failure for ",
        "authentication error for ",
        "user not known to the underlying authentication module for ",
    ] {
        if r.len() >= pre.len()
            && r.is_char_boundary(pre.len())
            && r[..pre.len()].eq_ignore_ascii_case(pre)
        {
            return Some(&r[pre.len()..]);
        }
    }
    None
}

fn sshd(f: &mut Fields, msg: &str) -> bool {
    let m = msg
        .strip_prefix("error: ")
        .or_else(|| msg.strip_prefix("fatal: "))
        .unwrap_or(msg);
    let m = m.strip_suffix(" [preauth]").unwrap_or(m);
    if let Some(r) = m
        .strip_prefix("Failed ")
        .or_else(|| m.strip_prefix("Accepted "))
    {
        let ok = m.starts_with('A');
        let Some(sp) = crate::find_str(r, " for ") else {
            return false;
        };
        let method = &r[..sp];
        let r = &r[sp + 5..];
        put(f, "method", method);
        match last_from(r) {
            Some((u, a, p)) => {
                user_part(f, u);
                set_src(f, a, p);
            }
            None => user_part(f, r),
        }
        outcome(f, if ok { "ssh_accepted" } else { "ssh_failed" }, Some(ok));
        return true;
    }
    if let Some(r) = m
        .strip_prefix("Invalid user ")
        .or_else(|| m.strip_prefix("Illegal user "))
    {
        match last_from_spaced(r) {
            Some((u, a, p)) => {
                put(f, "user", u.trim_start());
                set_src(f, a, p);
            }
            None => put(f, "user", r.trim()),
        }
        f.push(("invalid_user".into(), Value::Bool(true)));
        outcome(f, "ssh_invalid_user", Some(false));
        return true;
    }
    if let Some(u) = m.strip_prefix("input_userauth_request: invalid user ") {
        put(f, "user", u.trim());
        f.push(("invalid_user".into(), Value::Bool(true)));
        outcome(f, "ssh_invalid_user", Some(false));
        return true;
    }
    if let Some(r) = m.strip_prefix("PAM: ").and_then(pam_failure_for) {
        if let Some((u, a, p)) = last_from_spaced(r) {
            user_part(f, u.trim_start());
            set_src(f, a, p);
        }
        put(f, "method", "pam");
        outcome(f, "ssh_failed", Some(false));
        return true;
    }
    if let Some(r) = m.strip_prefix("maximum authentication attempts exceeded for ") {
        if let Some((u, a, p)) = last_from_spaced(r) {
            user_part(f, u.trim_start());
            set_src(f, a, p);
        }
        outcome(f, "ssh_max_attempts", Some(false));
        return true;
    }
    if let Some(r) = m.strip_prefix("Disconnecting: Too many authentication failures") {
        if let Some(u) = r.strip_prefix(" for ") {
            user_part(f, u.trim());
        }
        outcome(f, "ssh_max_attempts", Some(false));
        return true;
    }
    if let Some(r) = m
        .strip_prefix("Disconnecting authenticating user ")
        .or_else(|| m.strip_prefix("Disconnecting invalid user "))
    {
        // `<u> <addr> port <n>: Too many authentication failures`
        if let Some(i) = crate::rfind_str(r, " port ") {
            let before = &r[..i];
            if let Some(sp) = before.rfind(' ') {
                if let Some((a, p, _)) = addr_port(&r[sp + 1..]) {
                    user_part(f, &before[..sp]);
                    set_src(f, a, p);
                }
            }
        }
        if m.starts_with("Disconnecting invalid") {
            f.push(("invalid_user".into(), Value::Bool(true)));
        }
        outcome(f, "ssh_max_attempts", Some(false));
        return true;
    }
    for pre in [
        "Connection closed by ",
        "Disconnected from ",
        "Connection reset by ",
    ] {
        if let Some(r) = m.strip_prefix(pre) {
            let (qual, r) = if let Some(x) = r.strip_prefix("authenticating user ") {
                (Some(false), x)
            } else if let Some(x) = r.strip_prefix("invalid user ") {
                (Some(true), x)
            } else if let Some(x) = r.strip_prefix("user ") {
                (None, x)
            } else {
                (None, r)
            };
            let has_user = r.len() != r.trim_start_matches("").len()
                || qual.is_some()
                || m[pre.len()..].starts_with("user ");
            if has_user {
                // `<u> <addr> port <n>`: the address is the token before the last " port ".
                let (before, tail) = match crate::rfind_str(r, " port ") {
                    Some(i) => (&r[..i], &r[i..]),
                    None => (r, ""),
                };
                if let Some(sp) = before.rfind(' ') {
                    let addr_text = format!("{}{}", &before[sp + 1..], tail);
                    if let Some((a, p, _)) = addr_port(&addr_text) {
                        put(f, "user", &before[..sp]);
                        set_src(f, a, p);
                    }
                }
            } else if let Some((a, p, _)) = addr_port(r) {
                set_src(f, a, p);
            }
            if qual == Some(true) {
                f.push(("invalid_user".into(), Value::Bool(true)));
            }
            outcome(f, "ssh_disconnect", qual.map(|_| false));
            return true;
        }
    }
    if let Some(r) = m.strip_prefix("Received disconnect from ") {
        if let Some((a, p, _)) = addr_port(r) {
            set_src(f, a, p);
        }
        outcome(f, "ssh_disconnect", None);
        return true;
    }
    if let Some(r) = m.strip_prefix("User ") {
        if let Some(i) = crate::find_str(r, " not allowed because ") {
            let who = &r[..i];
            match last_from_spaced(who) {
                Some((u, a, p)) => {
                    put(f, "user", u.trim_start());
                    set_src(f, a, p);
                }
                None => put(f, "user", who),
            }
            outcome(f, "ssh_user_not_allowed", Some(false));
            return true;
        }
    }
    if let Some(r) = m.strip_prefix("ROOT LOGIN REFUSED FROM ") {
        put(f, "user", "root");
        if let Some((a, p, _)) = addr_port(r) {
            set_src(f, a, p);
        }
        outcome(f, "ssh_root_refused", Some(false));
        return true;
    }
    for (pre, action) in [
        ("Did not receive identification string from ", "ssh_scan"),
        ("Unable to negotiate with ", "ssh_scan"),
        ("Bad protocol version identification ", "ssh_scan"),
    ] {
        if let Some(r) = m.strip_prefix(pre) {
            if let Some((_, a, p)) = last_from_prefixed(r) {
                set_src(f, a, p);
            }
            outcome(f, action, None);
            return true;
        }
    }
    for (pre, action) in [
        ("banner exchange: Connection from ", "ssh_scan"),
        ("ssh_dispatch_run_fatal: Connection from ", "ssh_scan"),
        (
            "Timeout before authentication for connection from ",
            "ssh_timeout",
        ),
        ("Timeout before authentication for ", "ssh_timeout"),
        ("Connection from ", "ssh_connection"),
    ] {
        if let Some(r) = m.strip_prefix(pre) {
            if let Some((a, p, _)) = addr_port(r) {
                set_src(f, a, p);
            }
            outcome(f, action, None);
            return true;
        }
    }
    if let Some(r) = m.strip_prefix("refused connect from ") {
        // tcp wrappers: `refused connect from <name> (<addr>)`
        let addr = r
            .rfind(" (")
            .and_then(|i| r[i + 2..].strip_suffix(')'))
            .or_else(|| r.split(' ').next());
        if let Some((a, p, _)) = addr.and_then(addr_port) {
            set_src(f, a, p);
        }
        outcome(f, "ssh_refused_connect", Some(false));
        return true;
    }
    if m.starts_with("kex_exchange_identification: ") {
        outcome(f, "ssh_scan", None);
        return true;
    }
    if let Some(r) = m.strip_prefix("reverse mapping checking getaddrinfo for ") {
        if let (Some(o), Some(c)) = (crate::find_str(r, " ["), crate::find_str(r, "] ")) {
            if o + 2 <= c {
                let a = &r[o + 2..c];
                if is_addr(a) {
                    put(f, "src_ip", a);
                }
            }
        }
        outcome(f, "ssh_reverse_mapping", None);
        return true;
    }
    if let Some(r) = m.strip_prefix("PAM ") {
        // `PAM 2 more authentication failures; logname= ... rhost=h user=u`
        if let Some((n, rest)) = r.split_once(' ') {
            if let (Ok(n), true) = (
                n.parse::<i64>(),
                rest.starts_with("more authentication failure"),
            ) {
                f.push(("count".into(), Value::Int(n)));
                let (rhost, user) = pam_rhost_user(rest);
                if let Some(u) = user {
                    put(f, "pam_user", u);
                    put(f, "user", u);
                }
                if let Some(h) = rhost {
                    put(f, "pam_rhost", h);
                    put(f, "src_ip", h);
                }
                outcome(f, "pam_more_failures", Some(false));
                return true;
            }
        }
    }
    false
}

fn sudo(f: &mut Fields, msg: &str) -> bool {
    // `  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls`
    // `  alice : 3 incorrect password attempts ; TTY=...`
    let Some((user, rest)) = msg.split_once(" : ") else {
        return false;
    };
    let user = user.trim();
    if user.is_empty() || user.contains(' ') {
        return false;
    }
    put(f, "user", user);
    let mut failed = false;
    for part in rest.split(" ; ") {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("USER=") {
            put(f, "target_user", v);
        } else if let Some(v) = part.strip_prefix("COMMAND=") {
            put(f, "command", v);
        } else if let Some(v) = part.strip_prefix("TTY=") {
            put(f, "tty", v);
        } else if part.contains("incorrect password attempt")
            || part.contains("NOT in sudoers")
            || part.contains("not allowed to")
            || part.contains("authentication failure")
        {
            failed = true;
        }
    }
    outcome(f, "sudo", Some(!failed));
    true
}

fn su(f: &mut Fields, msg: &str) -> bool {
    let (ok, r) = if let Some(r) = msg.strip_prefix("Successful su for ") {
        (true, r)
    } else if let Some(r) = msg.strip_prefix("FAILED su for ") {
        (false, r)
    } else if let Some(r) = msg.strip_prefix("FAILED SU (to ") {
        return su_to(f, r, false);
    } else if let Some(r) = msg.strip_prefix("(to ") {
        return su_to(f, r, true);
    } else {
        return false;
    };
    // `<target> by <user>`
    if let Some((t, u)) = r.rsplit_once(" by ") {
        put(f, "target_user", t);
        put(f, "user", u.trim());
    }
    outcome(f, "su", Some(ok));
    true
}

fn su_to(f: &mut Fields, r: &str, ok: bool) -> bool {
    // `root) alice on pts/0`
    if let Some((t, rest)) = r.split_once(") ") {
        put(f, "target_user", t);
        let u = rest.rsplit_once(" on ").map(|(u, _)| u).unwrap_or(rest);
        put(f, "user", u.trim());
    }
    outcome(f, "su", Some(ok));
    true
}

fn login(f: &mut Fields, msg: &str) -> bool {
    // `FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure`
    if let Some(r) = msg.strip_prefix("FAILED LOGIN ") {
        if let Some(i) = crate::find_str(r, " FOR '") {
            let u = &r[i + 6..];
            if let Some(e) = u.find('\'') {
                put(f, "user", &u[..e]);
            }
        }
        if let Some(i) = crate::find_str(r, " FROM '") {
            let h = &r[i + 7..];
            if let Some(e) = h.find('\'') {
                if !h[..e].is_empty() {
                    put(f, "src_ip", &h[..e]);
                }
            }
        }
        outcome(f, "login", Some(false));
        return true;
    }
    if msg.starts_with("ROOT LOGIN ") && msg.contains(" ON ") {
        put(f, "user", "root");
        outcome(f, "login", Some(true));
        return true;
    }
    if let Some(r) = msg.strip_prefix("LOGIN ON ") {
        if let Some((_, u)) = r.split_once(" BY ") {
            put(f, "user", u.split(' ').next().unwrap_or(u));
        }
        outcome(f, "login", Some(true));
        return true;
    }
    false
}

/// Parse an authentication message of `service` (normalised program name:
/// `sshd`, `sudo`, `su`, `login`…; PAM lines are recognised for any
/// service) and append the contract fields. Fuzz-friendly entry point.
pub fn parse_auth_message(service: &str, msg: &str, fields: &mut Vec<(FieldName, Value)>) {
    // Solaris inserts `[ID 800047 auth.info] ` before the message.
    let msg = match msg
        .strip_prefix("[ID ")
        .and_then(|r| crate::find_str(r, "] ").map(|i| &r[i + 2..]))
    {
        Some(rest) => rest,
        None => msg,
    };
    if pam(fields, msg) {
        return;
    }
    let _ = match service {
        "sudo" => sudo(fields, msg),
        "su" => su(fields, msg),
        "login" => login(fields, msg),
        _ => sshd(fields, msg) || login(fields, msg),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(service: &str, msg: &str) -> Fields {
        let mut f = Vec::new();
        parse_auth_message(service, msg, &mut f);
        f
    }

    fn get<'a>(f: &'a Fields, k: &str) -> Option<&'a Value> {
        f.iter().find(|(n, _)| &**n == k).map(|(_, v)| v)
    }

    fn s(v: &str) -> Option<&'static Value> {
        Some(Box::leak(Box::new(Value::Str(v.into()))))
    }

    #[test]
    fn injection_takes_last_from() {
        let f = parse("sshd", "Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2");
        assert_eq!(get(&f, "src_ip"), s("127.0.0.1"));
        assert_eq!(get(&f, "src_port"), Some(&Value::Int(58946)));
        assert_eq!(get(&f, "user"), s("test from 10.10.1.2 port 55555 ssh2"));
        assert_eq!(get(&f, "invalid_user"), Some(&Value::Bool(true)));
        assert_eq!(get(&f, "outcome"), s("failure"));
    }

    #[test]
    fn ipv6_and_methods() {
        let f = parse(
            "sshd",
            "Accepted publickey for bob from 2001:db8::1 port 22 ssh2: RSA SHA256:abc",
        );
        assert_eq!(get(&f, "src_ip"), s("2001:db8::1"));
        assert_eq!(get(&f, "method"), s("publickey"));
        assert_eq!(get(&f, "action"), s("ssh_accepted"));
        assert_eq!(get(&f, "outcome"), s("success"));
    }

    #[test]
    fn pam_failure() {
        let f = parse("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=173.234.31.186  user=root");
        assert_eq!(get(&f, "pam_user"), s("root"));
        assert_eq!(get(&f, "pam_rhost"), s("173.234.31.186"));
        assert_eq!(get(&f, "pam_message"), s("authentication failure"));
        assert_eq!(get(&f, "src_ip"), s("173.234.31.186"));
        assert_eq!(get(&f, "action"), s("pam_auth_failure"));
    }

    #[test]
    fn sudo_and_su() {
        let f = parse(
            "sudo",
            "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls -l",
        );
        assert_eq!(get(&f, "user"), s("alice"));
        assert_eq!(get(&f, "target_user"), s("root"));
        assert_eq!(get(&f, "command"), s("/bin/ls -l"));
        assert_eq!(get(&f, "outcome"), s("success"));
        let f = parse("sudo", "alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh");
        assert_eq!(get(&f, "outcome"), s("failure"));
        let f = parse("su", "FAILED su for root by alice");
        assert_eq!(get(&f, "outcome"), s("failure"));
        assert_eq!(get(&f, "user"), s("alice"));
        let f = parse(
            "login",
            "FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure",
        );
        assert_eq!(get(&f, "user"), s("root"));
        assert_eq!(get(&f, "action"), s("login"));
    }

    #[test]
    fn disconnects() {
        let f = parse(
            "sshd",
            "Connection closed by authenticating user root 1.2.3.4 port 2222 [preauth]",
        );
        assert_eq!(get(&f, "user"), s("root"));
        assert_eq!(get(&f, "src_ip"), s("1.2.3.4"));
        assert_eq!(get(&f, "outcome"), s("failure"));
        let f = parse("sshd", "Connection closed by 1.2.3.4 port 2222 [preauth]");
        assert_eq!(get(&f, "src_ip"), s("1.2.3.4"));
        assert_eq!(get(&f, "user"), None);
    }

    /// The copy-free variants agree with searching the built strings.
    #[test]
    fn last_from_variants_match_the_spaced_strings() {
        let cases = [
            "",
            "from 1.2.3.4",
            "from 1.2.3.4 port 22",
            "from from 10.0.0.1 port 7",
            "bob from 1.2.3.4 port 22 ssh2",
            "admin from 10.0.0.9",
            "x from evil from 10.1.1.1 port 5",
            "1.2.3.4 port 99",
            "from",
        ];
        for c in cases {
            let spaced = format!(" {c}");
            let want =
                last_from(&spaced).map(|(b, a, p)| (b.trim_start().to_string(), a.to_string(), p));
            let got =
                last_from_spaced(c).map(|(b, a, p)| (b.trim_start().to_string(), a.to_string(), p));
            assert_eq!(got, want, "spaced {c:?}");
            let prefixed = format!(" from {c}");
            let want = last_from(&prefixed).map(|(_, a, p)| (a.to_string(), p));
            let got = last_from_prefixed(c).map(|(_, a, p)| (a.to_string(), p));
            assert_eq!(got, want, "prefixed {c:?}");
        }
        assert_eq!(
            pam_kv("logname= uid=0 rhost=1.2.3.4  user=bob", " rhost="),
            Some("1.2.3.4")
        );
        assert_eq!(pam_kv("user=bob", " user="), Some("bob"));
        assert_eq!(pam_kv("user=", " user="), None);
    }
}
