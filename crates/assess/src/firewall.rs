//! E1 Firewalls: host firewall default-deny, listening sockets against the
//! allow-list, admin interfaces exposed.

use crate::check::Check;
use crate::host::{config_lines, FileRead, Host};
use crate::sshd::Sshd;
use portcullis_model::{CheckResult, Control};
use std::collections::HashMap;

/// The allow-list of inbound ports, relative to the root.
pub const ALLOWED_PORTS: &str = "etc/portcullis/allowed-ports";

struct Firewall {
    name: &'static str,
    deny: bool,
    enabled: bool,
    enable_fix: &'static str,
}

pub fn checks(host: &Host, sshd: &Sshd, out: &mut Vec<CheckResult>) {
    out.push(default_deny(host));
    let sockets = if host.is_live() {
        Some(listening())
    } else {
        None
    };
    let allowed = read_allowed(host);
    out.push(exposed_services(host, sockets.as_deref(), &allowed));
    out.push(admin_interfaces(host, sockets.as_deref(), &allowed, sshd));
}

pub fn in_container(host: &Host) -> bool {
    host.exists(".dockerenv") || host.exists("run/.containerenv")
}

fn nft_deny(text: &str) -> (bool, Option<u32>) {
    // Track chains hooked on input: policy drop, or a final bare drop/reject.
    let mut in_input = false;
    let mut policy_drop = false;
    let mut last_rule = String::new();
    let mut depth = 0i32;
    let mut chain_depth = 0i32;
    let mut hook_line = None;
    for (n, l) in config_lines(text) {
        let opens = l.matches('{').count() as i32;
        let closes = l.matches('}').count() as i32;
        if l.starts_with("chain ") {
            chain_depth = depth + 1;
            in_input = false;
            policy_drop = false;
            last_rule.clear();
        }
        if l.contains("hook input") {
            in_input = true;
            hook_line = Some(n);
            if l.contains("policy drop") {
                policy_drop = true;
            }
        } else if in_input && l.starts_with("policy drop") {
            policy_drop = true;
        } else if in_input && !l.starts_with('}') && !l.starts_with("chain ") {
            last_rule = l.to_string();
        }
        depth += opens - closes;
        if in_input && depth < chain_depth {
            let lr = last_rule.trim_end_matches(';').trim();
            let bare = matches!(lr, "drop" | "reject" | "counter drop" | "counter reject")
                || lr.starts_with("reject with");
            if policy_drop || bare {
                return (true, hook_line);
            }
            in_input = false;
        }
    }
    (false, hook_line)
}

fn default_deny(host: &Host) -> CheckResult {
    let mut c = Check::new(
        "linux.firewall.default_deny",
        Control::Firewalls,
        &["E1-001", "E1-002", "E1-007", "E1-012"],
        "A host firewall blocks unsolicited inbound connections by default",
    );
    let mut fws: Vec<Firewall> = Vec::new();
    let mut unreadable = Vec::new();

    // nftables
    match host.read("etc/nftables.conf") {
        FileRead::Text(t) => {
            let (deny, line) = nft_deny(&t);
            let enabled = host.unit_enabled("nftables.service");
            c.ev(
                "/etc/nftables.conf",
                line,
                if deny {
                    "an input chain drops by default"
                } else if line.is_some() {
                    "the input chain accepts by default (policy accept, no final drop)"
                } else {
                    "no chain hooked on input"
                },
            );
            c.ev(
                "/etc/systemd/system/*.wants/nftables.service",
                None,
                if enabled {
                    "nftables loads at boot"
                } else {
                    "nftables.service is not enabled: the ruleset is not loaded at boot"
                },
            );
            fws.push(Firewall {
                name: "nftables",
                deny,
                enabled,
                enable_fix: "systemctl enable --now nftables",
            });
        }
        FileRead::Unreadable(w) => unreadable.push(format!("/etc/nftables.conf: {w}")),
        FileRead::Missing => {}
    }
    // iptables-persistent
    for (file, fam) in [
        ("etc/iptables/rules.v4", "iptables"),
        ("etc/iptables/rules.v6", "ip6tables"),
    ] {
        match host.read(file) {
            FileRead::Text(t) => {
                let mut deny = false;
                let mut line = None;
                let mut last_input = String::new();
                for (n, l) in config_lines(&t) {
                    if l.starts_with(":INPUT ") {
                        line = Some(n);
                        deny = l.starts_with(":INPUT DROP") || l.starts_with(":INPUT REJECT");
                    } else if l.starts_with("-A INPUT ") {
                        last_input = l.to_string();
                    }
                }
                if !deny
                    && matches!(
                        last_input.as_str(),
                        "-A INPUT -j DROP" | "-A INPUT -j REJECT"
                    )
                {
                    deny = true;
                }
                let enabled = host.unit_enabled("netfilter-persistent.service")
                    || host.unit_enabled("iptables.service");
                c.ev(
                    &format!("/{file}"),
                    line,
                    if deny {
                        "INPUT drops by default"
                    } else {
                        "INPUT accepts by default"
                    },
                );
                fws.push(Firewall {
                    name: fam,
                    deny,
                    enabled,
                    enable_fix: "apt-get install iptables-persistent && systemctl enable --now netfilter-persistent",
                });
            }
            FileRead::Unreadable(w) => unreadable.push(format!("/{file}: {w}")),
            FileRead::Missing => {}
        }
    }
    // ufw
    match host.read("etc/ufw/ufw.conf") {
        FileRead::Text(t) => {
            let mut enabled = false;
            let mut eline = None;
            for (n, l) in config_lines(&t) {
                if let Some(v) = l.strip_prefix("ENABLED=") {
                    enabled = v.trim_matches('"').eq_ignore_ascii_case("yes");
                    eline = Some(n);
                }
            }
            c.ev(
                "/etc/ufw/ufw.conf",
                eline,
                if enabled {
                    "ufw is enabled (ENABLED=yes)"
                } else {
                    "ufw is not enabled (ENABLED=no)"
                },
            );
            let mut deny = false;
            match host.read("etc/default/ufw") {
                FileRead::Text(d) => {
                    for (n, l) in config_lines(&d) {
                        if let Some(v) = l.strip_prefix("DEFAULT_INPUT_POLICY=") {
                            let v = v.trim_matches('"');
                            deny = v == "DROP" || v == "REJECT";
                            c.ev("/etc/default/ufw", Some(n), l);
                        }
                    }
                }
                FileRead::Unreadable(w) => unreadable.push(format!("/etc/default/ufw: {w}")),
                FileRead::Missing => {}
            }
            if let FileRead::Text(u) = host.read("etc/ufw/user.rules") {
                for (n, l) in config_lines_all(&u) {
                    if let Some(rule) = l.strip_prefix("### tuple ### ") {
                        c.ev(
                            "/etc/ufw/user.rules",
                            Some(n),
                            format!("inbound rule: {rule}"),
                        );
                    }
                }
            }
            fws.push(Firewall {
                name: "ufw",
                deny,
                enabled,
                enable_fix: "ufw default deny incoming && ufw enable",
            });
        }
        FileRead::Unreadable(w) => unreadable.push(format!("/etc/ufw/ufw.conf: {w}")),
        FileRead::Missing => {}
    }
    // firewalld
    if host.exists("etc/firewalld/firewalld.conf") || host.has_package("firewalld") {
        let mut zone = "public".to_string();
        if let FileRead::Text(t) = host.read("etc/firewalld/firewalld.conf") {
            for (n, l) in config_lines(&t) {
                if let Some(v) = l.strip_prefix("DefaultZone=") {
                    zone = v.trim().to_string();
                    c.ev("/etc/firewalld/firewalld.conf", Some(n), l);
                }
            }
        }
        let zone_rel = [
            format!("etc/firewalld/zones/{zone}.xml"),
            format!("usr/lib/firewalld/zones/{zone}.xml"),
        ];
        let mut deny = false;
        for z in &zone_rel {
            if let FileRead::Text(x) = host.read(z) {
                let target = attr(&x, "zone", "target").unwrap_or_else(|| "default".into());
                deny = matches!(
                    target.as_str(),
                    "default" | "%%REJECT%%" | "DROP" | "REJECT"
                );
                c.ev(
                    &format!("/{z}"),
                    None,
                    format!("zone {zone}: target {target}"),
                );
                for (n, l) in x.lines().enumerate() {
                    let l = l.trim();
                    if l.starts_with("<service ") || l.starts_with("<port ") {
                        c.ev(
                            &format!("/{z}"),
                            u32::try_from(n + 1).ok(),
                            format!("allowed inbound: {l}"),
                        );
                    }
                }
                break;
            }
        }
        let enabled = host.unit_enabled("firewalld.service");
        fws.push(Firewall {
            name: "firewalld",
            deny,
            enabled,
            enable_fix: "systemctl enable --now firewalld",
        });
    }
    if host.is_live() {
        c.ev(
            "/proc",
            None,
            "the live ruleset cannot be read without running nft or iptables; judged from the saved configuration",
        );
    }
    let good: Vec<&Firewall> = fws.iter().filter(|f| f.deny && f.enabled).collect();
    if let Some(f) = good.first() {
        c.ev(
            "portcullis",
            None,
            format!("{} is enabled with inbound default-deny", f.name),
        );
        return c.pass();
    }
    if !unreadable.is_empty() && fws.is_empty() {
        return c.unknown(format!(
            "firewall configuration could not be read: {}",
            unreadable.join("; ")
        ));
    }
    if in_container(host) {
        c.ev(
            "/.dockerenv or /run/.containerenv",
            None,
            "this is a container: its host or network filters inbound traffic",
        );
        return c.attest("Confirm that the container host or a network firewall blocks all unsolicited inbound connections to this container by default (A4.1).");
    }
    if let Some(f) = fws.iter().find(|f| f.deny && !f.enabled) {
        return c.fail(format!(
            "{} is configured to deny inbound traffic but is not switched on. Run: {}",
            f.name, f.enable_fix
        ));
    }
    if let Some(f) = fws.first() {
        return c.fail(format!(
            "{} does not block inbound connections by default. {}",
            f.name,
            match f.name {
                "ufw" => "Run: ufw default deny incoming && ufw allow OpenSSH && ufw enable",
                "nftables" => "In /etc/nftables.conf set the input chain to `type filter hook input priority filter; policy drop;`, allow ct state established,related and the approved ports, then run: systemctl enable --now nftables",
                "firewalld" => "Run: firewall-cmd --set-default-zone=public && firewall-cmd --reload (the public zone rejects unsolicited inbound)",
                _ => "Set `:INPUT DROP [0:0]` in /etc/iptables/rules.v4 and rules.v6, allow the approved ports, then run: netfilter-persistent reload",
            }
        ));
    }
    c.ev(
        "/etc",
        None,
        "no nftables, iptables, ufw or firewalld configuration found",
    );
    c.fail("Install and switch on a host firewall that blocks inbound connections by default. On Debian or Ubuntu: apt-get install ufw && ufw default deny incoming && ufw allow OpenSSH && ufw enable")
}

fn config_lines_all(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l.trim()))
}

/// The value of an attribute on the first `<elem …>` tag.
fn attr(xml: &str, elem: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{elem}"))?;
    let tag_end = xml.get(start..)?.find('>')? + start;
    let tag = xml.get(start..tag_end)?;
    let key = format!("{name}=\"");
    let a = tag.find(&key)? + key.len();
    let rest = tag.get(a..)?;
    let e = rest.find('"')?;
    rest.get(..e).map(|s| s.to_string())
}

/// A socket listening on the live system.
#[derive(Debug, Clone)]
pub struct Socket {
    /// `tcp` or `udp`.
    pub proto: &'static str,
    /// Local address, printable.
    pub addr: String,
    /// Local port.
    pub port: u16,
    /// Bound to loopback only.
    pub loopback: bool,
    /// The socket inode.
    pub inode: u64,
}

/// Parse one /proc/net/{tcp,udp}{,6} table.
pub fn parse_proc_net(text: &str, proto: &'static str, v6: bool) -> Vec<Socket> {
    let mut out = Vec::new();
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (Some(local), Some(remote), Some(state), Some(inode)) =
            (f.get(1), f.get(2), f.get(3), f.get(9))
        else {
            continue;
        };
        let listening = if proto == "tcp" {
            *state == "0A"
        } else {
            *state == "07" && remote.ends_with(":0000")
        };
        if !listening {
            continue;
        }
        let Some((a, p)) = local.split_once(':') else {
            continue;
        };
        let Ok(port) = u16::from_str_radix(p, 16) else {
            continue;
        };
        let (addr, loopback) = decode_addr(a, v6);
        out.push(Socket {
            proto,
            addr,
            port,
            loopback,
            inode: inode.parse().unwrap_or(0),
        });
    }
    out
}

fn decode_addr(hex: &str, v6: bool) -> (String, bool) {
    let words: Vec<u32> = (0..hex.len() / 8)
        .filter_map(|i| {
            hex.get(i * 8..i * 8 + 8)
                .and_then(|w| u32::from_str_radix(w, 16).ok())
        })
        .collect();
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    if !v6 {
        if let [a, b, c2, d] = bytes[..] {
            return (format!("{a}.{b}.{c2}.{d}"), a == 127);
        }
        return (hex.to_string(), false);
    }
    if bytes.len() != 16 {
        return (hex.to_string(), false);
    }
    let mut arr = [0u8; 16];
    arr.copy_from_slice(&bytes);
    let ip = std::net::Ipv6Addr::from(arr);
    let loop4 = ip.to_ipv4_mapped().is_some_and(|v| v.is_loopback());
    (format!("[{ip}]"), ip.is_loopback() || loop4)
}

fn listening() -> Vec<Socket> {
    let mut v = Vec::new();
    for (f, proto, v6) in [
        ("tcp", "tcp", false),
        ("tcp6", "tcp", true),
        ("udp", "udp", false),
        ("udp6", "udp", true),
    ] {
        if let Ok(t) = std::fs::read_to_string(format!("/proc/net/{f}")) {
            v.extend(parse_proc_net(&t, proto, v6));
        }
    }
    v.sort_by(|a, b| (a.proto, a.port, &a.addr).cmp(&(b.proto, b.port, &b.addr)));
    v.dedup_by(|a, b| a.proto == b.proto && a.port == b.port && a.addr == b.addr);
    v
}

/// Map socket inodes to process names, reading /proc/*/fd links.
fn socket_owners(inodes: &[u64]) -> HashMap<u64, String> {
    let mut m = HashMap::new();
    if inodes.is_empty() {
        return m;
    }
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return m;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let pid = e.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.filter_map(|e| e.ok()).take(10_000) {
            if let Ok(t) = std::fs::read_link(fd.path()) {
                let t = t.to_string_lossy();
                if let Some(n) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                    if let Ok(ino) = n.parse::<u64>() {
                        if inodes.contains(&ino) && !m.contains_key(&ino) {
                            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                                .unwrap_or_default();
                            m.insert(ino, comm.trim().to_string());
                        }
                    }
                }
            }
        }
    }
    m
}

/// One allow-list entry: `PORT/PROTO reason`.
#[derive(Debug, Clone)]
pub struct Allowed {
    /// Port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub proto: String,
    /// The business need recorded (may be empty).
    pub reason: String,
    /// Line.
    pub line: u32,
}

pub fn parse_allowed(text: &str) -> Vec<Allowed> {
    let mut v = Vec::new();
    for (n, l) in config_lines(text) {
        let (spec, reason) = match l.split_once(char::is_whitespace) {
            Some((s, r)) => (s, r.trim()),
            None => (l, ""),
        };
        let (p, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
        if let Ok(port) = p.parse::<u16>() {
            v.push(Allowed {
                port,
                proto: proto.to_ascii_lowercase(),
                reason: reason.to_string(),
                line: n,
            });
        }
    }
    v
}

fn read_allowed(host: &Host) -> Vec<Allowed> {
    match host.read(ALLOWED_PORTS) {
        FileRead::Text(t) => parse_allowed(&t),
        _ => Vec::new(),
    }
}

fn exposed_services(host: &Host, sockets: Option<&[Socket]>, allowed: &[Allowed]) -> CheckResult {
    let mut c = Check::new(
        "linux.firewall.exposed_services",
        Control::Firewalls,
        &["E1-008", "E1-009", "E1-010", "E1-011"],
        "Every service reachable from the network has a recorded business need",
    );
    let Some(sockets) = sockets else {
        return c.attest("Confirm that every inbound firewall rule and every service listening on the network was approved by an authorised person, with the business need documented, and that rules no longer needed were removed (A4.5, A4.6). Listening sockets are only read when assessing the running system (--root /).");
    };
    let exposed: Vec<&Socket> = sockets.iter().filter(|s| !s.loopback).collect();
    let owners = socket_owners(&exposed.iter().map(|s| s.inode).collect::<Vec<_>>());
    let mut unjustified = 0;
    for s in &exposed {
        let who = owners
            .get(&s.inode)
            .map(|s| s.as_str())
            .unwrap_or("unknown process");
        let entry = allowed
            .iter()
            .find(|a| a.port == s.port && a.proto == s.proto);
        match entry {
            Some(a) if !a.reason.is_empty() => c.ev(
                &format!("/{ALLOWED_PORTS}"),
                Some(a.line),
                format!(
                    "{}/{} on {} ({who}): approved: {}",
                    s.port, s.proto, s.addr, a.reason
                ),
            ),
            _ => {
                unjustified += 1;
                c.ev(
                    "/proc/net",
                    None,
                    format!(
                        "{}/{} listening on {} ({who}): no business need recorded",
                        s.port, s.proto, s.addr
                    ),
                );
            }
        }
    }
    if exposed.is_empty() {
        c.ev(
            "/proc/net",
            None,
            "no socket listens on a non-loopback address",
        );
    }
    if unjustified == 0 {
        return c.pass();
    }
    let _ = host;
    c.fail(format!(
        "For each service listed: stop it if it is not needed (systemctl disable --now UNIT), bind it to 127.0.0.1, or, after an authorised person approves it, record the business need in /{ALLOWED_PORTS} as one line `PORT/PROTO reason, approver, date` (for example `22/tcp SSH for the two administrators, approved by J. Smith 2026-11-01`)."
    ))
}

const ADMIN_PORTS: &[(u16, &str, &str)] = &[
    (3389, "tcp", "RDP"),
    (5900, "tcp", "VNC"),
    (5901, "tcp", "VNC"),
    (5902, "tcp", "VNC"),
    (10000, "tcp", "Webmin"),
    (9090, "tcp", "Cockpit"),
    (8006, "tcp", "Proxmox web admin"),
    (2375, "tcp", "Docker API (no TLS)"),
    (2376, "tcp", "Docker API"),
    (3306, "tcp", "MySQL/MariaDB"),
    (5432, "tcp", "PostgreSQL"),
    (6379, "tcp", "Redis"),
    (27017, "tcp", "MongoDB"),
    (9200, "tcp", "Elasticsearch"),
    (11211, "tcp", "memcached"),
    (11211, "udp", "memcached"),
    (161, "udp", "SNMP"),
    (23, "tcp", "Telnet"),
];

fn admin_interfaces(
    host: &Host,
    sockets: Option<&[Socket]>,
    allowed: &[Allowed],
    sshd: &Sshd,
) -> CheckResult {
    let mut c = Check::new(
        "linux.firewall.admin_interfaces",
        Control::Firewalls,
        &["E1-004", "E1-005", "E1-006"],
        "Administrative interfaces are not open to the network without strong protection",
    );
    let Some(sockets) = sockets else {
        return c.attest("Confirm that no administrative interface of this device (SSH, web admin, database, RDP/VNC) can be reached from the internet, or that where there is a documented business need it is protected by MFA or an IP allow-list of a small trusted range (A4.8–A4.10). Listening sockets are only read when assessing the running system.");
    };
    let ssh_port: u16 = sshd
        .get("port")
        .and_then(|s| s.value.parse().ok())
        .unwrap_or(22);
    let ssh_strong = ssh_strong_auth(sshd);
    let mut bad = 0;
    let mut attest = 0;
    for s in sockets.iter().filter(|s| !s.loopback) {
        if s.proto == "tcp" && s.port == ssh_port {
            if ssh_strong.0 {
                c.ev(
                    "/proc/net",
                    None,
                    format!("SSH listening on {}:{}; {}", s.addr, s.port, ssh_strong.1),
                );
            } else {
                bad += 1;
                c.ev(
                    "/proc/net",
                    None,
                    format!(
                        "SSH listening on {}:{} with password sign-in and no second factor",
                        s.addr, s.port
                    ),
                );
            }
            continue;
        }
        if let Some((_, _, what)) = ADMIN_PORTS
            .iter()
            .find(|(p, pr, _)| *p == s.port && *pr == s.proto)
        {
            let entry = allowed
                .iter()
                .find(|a| a.port == s.port && a.proto == s.proto && !a.reason.is_empty());
            if let Some(a) = entry {
                attest += 1;
                c.ev(
                    &format!("/{ALLOWED_PORTS}"),
                    Some(a.line),
                    format!("{what} on {}:{} approved: {}", s.addr, s.port, a.reason),
                );
            } else {
                bad += 1;
                c.ev(
                    "/proc/net",
                    None,
                    format!("{what} listening on {}:{}/{}", s.addr, s.port, s.proto),
                );
            }
        }
    }
    let _ = host;
    if bad > 0 {
        return c.fail("Do not expose administrative interfaces to the network. For SSH, allow keys only (PasswordAuthentication no in /etc/ssh/sshd_config.d/50-portcullis.conf, then systemctl reload ssh) or require MFA (AuthenticationMethods publickey,keyboard-interactive with pam_google_authenticator). For databases and web admin panels, bind them to 127.0.0.1 (e.g. bind-address = 127.0.0.1 for MySQL, listen_addresses = 'localhost' for PostgreSQL) or limit them in the firewall to a small trusted range.");
    }
    if attest > 0 {
        return c.attest("Confirm that each approved administrative interface listed is protected by MFA, or by an IP allow-list of a small trusted range plus managed passwords (A4.10).");
    }
    if c.evidence().is_empty() {
        c.ev(
            "/proc/net",
            None,
            "no administrative interface listens on a non-loopback address",
        );
    }
    c.pass()
}

/// Whether sshd requires keys only or a second factor, and why.
pub fn ssh_strong_auth(sshd: &Sshd) -> (bool, String) {
    let methods = sshd.value("authenticationmethods", "any");
    if methods != "any" && methods.split_whitespace().all(|m| m.contains(',')) {
        return (
            true,
            format!("AuthenticationMethods {methods} requires two factors"),
        );
    }
    let pw = sshd.value("passwordauthentication", "yes");
    let kbd = sshd.value(
        "kbdinteractiveauthentication",
        &sshd.value("challengeresponseauthentication", "yes"),
    );
    let pam = sshd.value("usepam", "no");
    let kbd_on = kbd == "yes" && pam == "yes";
    if pw == "no" && !kbd_on {
        return (true, "keys only: PasswordAuthentication no".to_string());
    }
    (
        false,
        format!(
            "PasswordAuthentication {pw}, KbdInteractiveAuthentication {kbd} with UsePAM {pam}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines in the kernel's /proc/net format (header as the kernel writes it).
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1065 1 000000006bf7f31d 100 0 0 10 0\n   1: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0\n   2: 0200000A:0016 0100000A:D431 01 00000000:00000000 02:000A7B7D 00000000     0        0 2002 2 0000000000000000 20 4 30 10 -1\n";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3001 1 0000000000000000 100 0 0 10 0\n   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3002 1 0000000000000000 100 0 0 10 0\n   2: 0000000000000000FFFF00000100007F:0CEA 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3003 1 0000000000000000 100 0 0 10 0\n";
    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n  100: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4001 2 0000000000000000 0\n  101: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 4002 2 0000000000000000 0\n garbage line\n";

    #[test]
    fn proc_net_listeners() {
        let t = parse_proc_net(TCP, "tcp", false);
        assert_eq!(t.len(), 2); // the established connection is not a listener
        assert_eq!(
            (t[0].addr.as_str(), t[0].port, t[0].loopback, t[0].inode),
            ("0.0.0.0", 2024, false, 1065)
        );
        assert_eq!(
            (t[1].addr.as_str(), t[1].port, t[1].loopback),
            ("127.0.0.1", 25, true)
        );
        let t6 = parse_proc_net(TCP6, "tcp", true);
        assert_eq!(t6.len(), 3);
        assert_eq!(
            (t6[0].addr.as_str(), t6[0].port, t6[0].loopback),
            ("[::]", 22, false)
        );
        assert_eq!(
            (t6[1].addr.as_str(), t6[1].port, t6[1].loopback),
            ("[::1]", 8080, true)
        );
        assert!(t6[2].loopback, "v4-mapped 127.0.0.1");
        let u = parse_proc_net(UDP, "udp", false);
        assert_eq!(u.len(), 2);
        assert_eq!((u[0].port, u[0].loopback), (68, false));
        assert_eq!((u[1].addr.as_str(), u[1].loopback), ("127.0.0.53", true));
        assert!(parse_proc_net("\n\u{0}\u{ff}zz: :", "tcp", true).is_empty());
    }

    #[test]
    fn allow_list() {
        let a = parse_allowed("# comment\n22/tcp SSH for admins, J. Smith 2026-11-01\n53/UDP resolver\n8080\nnot-a-port reason\n70000/tcp big\n");
        assert_eq!(a.len(), 3);
        assert_eq!(
            (
                a[0].port,
                a[0].proto.as_str(),
                a[0].reason.as_str(),
                a[0].line
            ),
            (22, "tcp", "SSH for admins, J. Smith 2026-11-01", 2)
        );
        assert_eq!((a[1].port, a[1].proto.as_str()), (53, "udp"));
        assert_eq!(
            (a[2].port, a[2].proto.as_str(), a[2].reason.as_str()),
            (8080, "tcp", "")
        );
    }

    #[test]
    fn nft_policies() {
        let drop = "table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n  }\n}\n";
        assert_eq!(nft_deny(drop), (true, Some(3)));
        let accept = "table inet filter {\n  chain input {\n    type filter hook input priority 0;\n    ct state established accept\n  }\n}\n";
        assert_eq!(nft_deny(accept), (false, Some(3)));
        let final_drop = "table inet filter {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport 22 accept\n    counter drop\n  }\n}\n";
        assert!(nft_deny(final_drop).0);
        // Debian's default nftables.conf: every chain accepts.
        let debian = "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter;\n\t}\n\tchain forward {\n\t\ttype filter hook forward priority filter;\n\t}\n\tchain output {\n\t\ttype filter hook output priority filter;\n\t}\n}\n";
        assert_eq!(nft_deny(debian), (false, Some(7)));
        assert_eq!(nft_deny("}}}}{{{ hook input"), (false, Some(1)));
    }
}
