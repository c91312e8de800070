//! What the user sees on standard error: notes, warnings, diagnostics and
//! progress. Colour and progress only on a terminal.

use crate::cli::{ColorChoice, Global};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use portcullis_model::{Diagnostic, DiagnosticLevel};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Ui {
    pub quiet: bool,
    pub verbose: u8,
    /// Colour on standard error.
    pub err_color: bool,
    /// Colour on standard output (when writing there).
    pub out_color: bool,
    err_tty: bool,
}

fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl Ui {
    pub fn new(g: &Global) -> Self {
        let err_tty = std::io::stderr().is_terminal();
        let out_tty = std::io::stdout().is_terminal();
        let pick = |tty: bool| match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                tty && !no_color_env() && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        };
        Ui {
            quiet: g.quiet,
            verbose: g.verbose,
            err_color: pick(err_tty),
            out_color: pick(out_tty),
            err_tty,
        }
    }

    fn paint(&self, style: &str, text: &str) -> String {
        if self.err_color {
            format!("\x1b[{style}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// One error line: always printed.
    pub fn error(&self, message: &str) {
        eprintln!("{} {message}", self.paint("1;31", "error:"));
    }

    /// A warning: printed unless quiet.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("{} {message}", self.paint("1;33", "warning:"));
        }
    }

    /// A note: printed unless quiet.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("{} {message}", self.paint("1;36", "note:"));
        }
    }

    /// Detail: printed only with -v.
    pub fn detail(&self, message: &str) {
        if self.verbose > 0 {
            eprintln!("{} {message}", self.paint("2", "info:"));
        }
    }

    /// Print reader diagnostics: errors always; warnings unless quiet, and
    /// only the first few without -v.
    pub fn diagnostics(&self, diags: &[Diagnostic]) {
        let mut warnings_shown = 0usize;
        let mut warnings_hidden = 0usize;
        for d in diags {
            match d.level {
                DiagnosticLevel::Error => eprintln!("{}", self.paint_diag(d)),
                DiagnosticLevel::Warning => {
                    if self.quiet {
                        continue;
                    }
                    if self.verbose == 0 && warnings_shown >= 10 {
                        warnings_hidden += 1;
                        continue;
                    }
                    warnings_shown += 1;
                    eprintln!("{}", self.paint_diag(d));
                }
            }
        }
        if warnings_hidden > 0 {
            self.note(&format!(
                "{warnings_hidden} more warnings not shown; use -v to see them all"
            ));
        }
    }

    fn paint_diag(&self, d: &Diagnostic) -> String {
        if !self.err_color {
            return d.to_string();
        }
        let text = d.to_string();
        let (word, style) = match d.level {
            DiagnosticLevel::Error => (": error: ", "1;31"),
            DiagnosticLevel::Warning => (": warning: ", "1;33"),
        };
        match text.split_once(word) {
            Some((loc, msg)) => format!(
                "{}: {} {msg}",
                self.paint("1", loc),
                self.paint(style, word.trim_matches([':', ' ']).trim_end_matches(':'))
            ),
            None => text,
        }
    }

    /// A spinner or bar on standard error, hidden when not a terminal or quiet.
    pub fn progress(&self, message: &str, total: Option<u64>) -> ProgressBar {
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        if self.quiet || !self.err_tty {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        } else {
            let style = match total {
                Some(_) => ProgressStyle::with_template(
                    "{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed})",
                ),
                None => ProgressStyle::with_template("{spinner} {msg} {pos} ({elapsed})"),
            };
            if let Ok(style) = style {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(100));
        }
        bar.set_message(message.to_string());
        bar
    }
}
