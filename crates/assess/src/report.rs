//! Rendering an [`Assessment`]: a plain-English table, JSON, and a
//! single-file HTML report that prints well to PDF.

use crate::{Assessment, CheckResult, CheckStatus, Control, Verdict};
use std::fmt::Write;

/// JSON, pretty-printed (schema in docs/formats/assess-json.md).
pub fn json(a: &Assessment) -> String {
    let mut s =
        serde_json::to_string_pretty(a).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

fn status_word(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "PASS",
        CheckStatus::Fail => "FAIL",
        CheckStatus::NeedsAttestation => "CONFIRM",
        CheckStatus::Unknown => "UNKNOWN",
    }
}

fn paint(on: bool, style: &str, t: &str) -> String {
    if on {
        format!("\x1b[{style}m{t}\x1b[0m")
    } else {
        t.to_string()
    }
}

fn status_style(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "32",
        CheckStatus::Fail => "1;31",
        CheckStatus::NeedsAttestation => "33",
        CheckStatus::Unknown => "35",
    }
}

/// The verdict line in plain English.
pub fn verdict_text(a: &Assessment) -> String {
    let fails = a.count(CheckStatus::Fail);
    let unknown = a.count(CheckStatus::Unknown);
    match a.verdict {
        Verdict::Ready => format!(
            "READY for Cyber Essentials (v3.3): every check this machine can show passed; {} item(s) still need you to confirm them.",
            a.count(CheckStatus::NeedsAttestation)
        ),
        Verdict::NotReady if fails > 0 => format!(
            "NOT READY for Cyber Essentials (v3.3): {fails} check(s) failed{}{}.",
            if a.auto_fail_count > 0 { format!(", {} of them automatic fails", a.auto_fail_count) } else { String::new() },
            if unknown > 0 { format!(", and {unknown} could not be made") } else { String::new() }
        ),
        Verdict::NotReady => format!("NOT READY YET: {unknown} check(s) could not be made (see why below); nothing failed."),
    }
}

/// Options of the table.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// ANSI colour.
    pub color: bool,
    /// Show evidence for passing checks too.
    pub verbose: bool,
}

/// A terminal report for people.
pub fn table(a: &Assessment, o: TableOptions) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Cyber Essentials v3.3 assessment of {}{}",
        a.target,
        a.os.as_ref().map(|o| format!(" ({o})")).unwrap_or_default()
    );
    let _ = writeln!(s, "{}", a.assessed_at);
    let _ = writeln!(s);
    let style = if a.verdict == Verdict::Ready {
        "1;32"
    } else {
        "1;31"
    };
    let _ = writeln!(s, "{}", paint(o.color, style, &verdict_text(a)));
    let _ = writeln!(s);
    let autos: Vec<&CheckResult> = a
        .checks
        .iter()
        .filter(|c| c.auto_fail && c.status == CheckStatus::Fail)
        .collect();
    if !autos.is_empty() {
        let _ = writeln!(
            s,
            "{}",
            paint(
                o.color,
                "1;31",
                "Automatic fails (v3.3 fails the whole assessment on these):"
            )
        );
        for c in autos {
            let _ = writeln!(s, "  ! {} [{}]", c.title, c.requirements.join(", "));
        }
        let _ = writeln!(s);
    }
    if !a.fix_first.is_empty() {
        let _ = writeln!(s, "{}", paint(o.color, "1", "Fix these first:"));
        for (i, id) in a.fix_first.iter().take(5).enumerate() {
            if let Some(c) = a.check(id) {
                let _ = writeln!(s, "  {}. {}", i + 1, c.title);
                if let Some(f) = &c.fix {
                    let _ = writeln!(s, "     {}", f);
                }
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "{}",
        paint(
            o.color,
            "1",
            "Score per control (passed / checks the machine could decide):"
        )
    );
    for sc in &a.scores {
        let pct = sc
            .percent
            .map_or("  – ".to_string(), |p| format!("{p:>3}%"));
        let _ = writeln!(
            s,
            "  {:<28} {pct}  pass {}  fail {}  confirm {}  unknown {}",
            sc.control.title(),
            sc.pass,
            sc.fail,
            sc.needs_attestation,
            sc.unknown
        );
    }
    for control in Control::ALL {
        let cs: Vec<&CheckResult> = a.checks.iter().filter(|c| c.control == control).collect();
        if cs.is_empty() {
            continue;
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", paint(o.color, "1;4", control.title()));
        for c in cs {
            let word = format!("{:<7}", status_word(c.status));
            let _ = writeln!(
                s,
                "  {} {} [{}]",
                paint(o.color, status_style(c.status), &word),
                c.title,
                c.requirements.join(", ")
            );
            let show_ev = o.verbose || c.status != CheckStatus::Pass;
            if show_ev {
                for e in c.evidence.iter().take(if o.verbose { 200 } else { 8 }) {
                    let loc = match e.line {
                        Some(l) => format!("{}:{l}", e.source),
                        None => e.source.clone(),
                    };
                    let _ = writeln!(s, "          {}: {}", paint(o.color, "2", &loc), e.detail);
                }
                if !o.verbose && c.evidence.len() > 8 {
                    let _ = writeln!(
                        s,
                        "          … {} more (use --format json or -v)",
                        c.evidence.len() - 8
                    );
                }
            }
            match c.status {
                CheckStatus::Fail => {
                    if let Some(f) = &c.fix {
                        let _ = writeln!(s, "          Fix: {f}");
                    }
                }
                CheckStatus::NeedsAttestation => {
                    if let Some(t) = &c.attestation {
                        let _ = writeln!(s, "          Confirm: {t}");
                    }
                }
                CheckStatus::Unknown => {
                    if let Some(r) = &c.reason {
                        let _ = writeln!(s, "          Why unknown: {r}");
                    }
                }
                CheckStatus::Pass => {}
            }
        }
    }
    if !a.unreadable.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Could not read (run as root to see everything):");
        for u in &a.unreadable {
            let _ = writeln!(s, "  {}: {}", u.path, u.reason);
        }
    }
    s
}

/// Escape text for HTML, then show `quoted` commands and settings as code.
fn esc_code(t: &str) -> String {
    let e = esc(t);
    let mut out = String::with_capacity(e.len() + 32);
    let mut open = false;
    let n = e.matches('`').count();
    for (i, part) in e.split('`').enumerate() {
        if i > 0 {
            // Only pair complete `…` spans; a lone backtick stays as text.
            if n % 2 == 1 && i == n {
                out.push('`');
            } else {
                out.push_str(if open { "</code>" } else { "<code>" });
                open = !open;
            }
        }
        out.push_str(part);
    }
    if open {
        out.push_str("</code>");
    }
    out
}

/// Escape text for HTML (element content and quoted attributes).
pub fn esc(t: &str) -> String {
    let mut o = String::with_capacity(t.len());
    for ch in t.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(ch),
        }
    }
    o
}

const CSS: &str = r#"
:root{--pass:#1a7f37;--fail:#c62828;--att:#9a6700;--unk:#6f42c1;--ink:#1f2328;--mute:#57606a;--line:#d0d7de}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .25rem}
h2{font-size:1.25rem;border-bottom:2px solid var(--line);padding-bottom:.25rem;margin-top:2rem}
.meta{color:var(--mute);margin:0 0 1rem}
.verdict{font-size:1.2rem;font-weight:700;padding:1rem;border-radius:6px;border:2px solid}
.verdict.ready{color:var(--pass);border-color:var(--pass);background:#dafbe1}
.verdict.not_ready{color:var(--fail);border-color:var(--fail);background:#ffebe9}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.st{font-weight:700;white-space:nowrap}
.st.pass{color:var(--pass)}.st.fail{color:var(--fail)}.st.needs_attestation{color:var(--att)}.st.unknown{color:var(--unk)}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f6f8fa;padding:0 .2em;border-radius:3px}
.check{border:1px solid var(--line);border-left:6px solid var(--line);border-radius:4px;padding:.5rem .75rem;margin:.6rem 0;break-inside:avoid;page-break-inside:avoid}
.check.fail{border-left-color:var(--fail)}.check.pass{border-left-color:var(--pass)}.check.needs_attestation{border-left-color:var(--att)}.check.unknown{border-left-color:var(--unk)}
.check h3{font-size:1rem;margin:0;color:var(--ink)}
.req{color:var(--mute);font-size:.85rem}
.ev{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--mute);margin:.3rem 0;padding-left:1rem;word-break:break-all}
.fix{background:#fff8c5;padding:.4rem .6rem;border-radius:4px;margin:.3rem 0}
.auto{background:var(--fail);color:#fff;border-radius:3px;padding:0 .35rem;font-size:.75rem;margin-left:.4rem}
ol li{margin:.3rem 0}
footer{color:var(--mute);font-size:.8rem;margin-top:2rem;border-top:1px solid var(--line);padding-top:.5rem}
@page{size:A4;margin:15mm}
@media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid;page-break-after:avoid}.control{break-before:page;page-break-before:always}.control:first-of-type{break-before:auto;page-break-before:auto}.verdict{-webkit-print-color-adjust:exact;print-color-adjust:exact}.fix,.auto,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"#;

/// A single-file HTML report (inline CSS, no external assets; every value escaped).
pub fn html(a: &Assessment) -> String {
    let mut s = String::with_capacity(64 * 1024);
    let title = format!("Cyber Essentials v3.3 assessment: {}", a.target);
    let _ = write!(s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n", esc(&title));
    let _ = writeln!(s, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(
        s,
        "<p class=\"meta\">{} · {} · assessed {} · {}</p>",
        esc(a.scheme),
        esc(a.os.as_deref().unwrap_or("unknown OS")),
        esc(&a.assessed_at),
        if a.live {
            "running system (live state read)"
        } else {
            "offline root directory"
        }
    );
    let vclass = if a.verdict == Verdict::Ready {
        "ready"
    } else {
        "not_ready"
    };
    let _ = writeln!(
        s,
        "<p class=\"verdict {vclass}\">{}</p>",
        esc(&verdict_text(a))
    );
    let autos: Vec<&CheckResult> = a
        .checks
        .iter()
        .filter(|c| c.auto_fail && c.status == CheckStatus::Fail)
        .collect();
    if !autos.is_empty() {
        let _ = writeln!(s, "<h2>Automatic fails</h2>\n<p>Cyber Essentials v3.3 fails the whole assessment on these.</p>\n<ul>");
        for c in autos {
            let _ = writeln!(
                s,
                "<li><strong>{}</strong> <span class=\"req\">{}</span></li>",
                esc(&c.title),
                esc(&c.requirements.join(", "))
            );
        }
        let _ = writeln!(s, "</ul>");
    }
    if !a.fix_first.is_empty() {
        let _ = writeln!(s, "<h2>What to fix first</h2>\n<ol>");
        for id in &a.fix_first {
            if let Some(c) = a.check(id) {
                let _ = writeln!(
                    s,
                    "<li><strong>{}</strong>{}<div class=\"fix\">{}</div></li>",
                    esc(&c.title),
                    if c.auto_fail {
                        "<span class=\"auto\">automatic fail</span>"
                    } else {
                        ""
                    },
                    esc_code(c.fix.as_deref().unwrap_or(""))
                );
            }
        }
        let _ = writeln!(s, "</ol>");
    }
    let _ = writeln!(s, "<h2>Score per control</h2>\n<table>\n<tr><th>Control</th><th>Score</th><th>Pass</th><th>Fail</th><th>To confirm</th><th>Unknown</th></tr>");
    for sc in &a.scores {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(sc.control.title()),
            sc.percent.map_or("–".to_string(), |p| format!("{p}%")),
            sc.pass,
            sc.fail,
            sc.needs_attestation,
            sc.unknown
        );
    }
    let _ = writeln!(s, "</table>");
    for control in Control::ALL {
        let cs: Vec<&CheckResult> = a.checks.iter().filter(|c| c.control == control).collect();
        if cs.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "<section class=\"control\">\n<h2>{}</h2>",
            esc(control.title())
        );
        for c in cs {
            let st = c.status.as_str();
            let _ = writeln!(s, "<div class=\"check {st}\">\n<h3><span class=\"st {st}\">{}</span> {}{}</h3>\n<div class=\"req\">{} · <code>{}</code></div>", status_word(c.status), esc(&c.title), if c.auto_fail && c.status == CheckStatus::Fail { "<span class=\"auto\">automatic fail</span>" } else { "" }, esc(&c.requirements.join(", ")), esc(&c.id));
            for e in &c.evidence {
                let loc = match e.line {
                    Some(l) => format!("{}:{l}", e.source),
                    None => e.source.clone(),
                };
                let _ = writeln!(
                    s,
                    "<div class=\"ev\">{}: {}</div>",
                    esc(&loc),
                    esc(&e.detail)
                );
            }
            let extra = match c.status {
                CheckStatus::Fail => c.fix.as_ref().map(|f| ("Fix", f)),
                CheckStatus::NeedsAttestation => c.attestation.as_ref().map(|f| ("Confirm", f)),
                CheckStatus::Unknown => c.reason.as_ref().map(|f| ("Why unknown", f)),
                CheckStatus::Pass => None,
            };
            if let Some((label, t)) = extra {
                let _ = writeln!(
                    s,
                    "<div class=\"fix\"><strong>{label}:</strong> {}</div>",
                    esc_code(t)
                );
            }
            let _ = writeln!(s, "</div>");
        }
        let _ = writeln!(s, "</section>");
    }
    if !a.unreadable.is_empty() {
        let _ = writeln!(s, "<h2>Could not read</h2>\n<ul>");
        for u in &a.unreadable {
            let _ = writeln!(
                s,
                "<li><code>{}</code>: {}</li>",
                esc(&u.path),
                esc(&u.reason)
            );
        }
        let _ = writeln!(s, "</ul>");
    }
    let _ = writeln!(s, "<footer>Generated by Portcullis ({}). Machine evidence only: process requirements (account approval, rule documentation, training) need the organisation's own evidence.</footer>\n</body>\n</html>", esc(a.schema));
    s
}
