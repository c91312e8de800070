//! Small text helpers: plurals, truncation and wrapping by characters.

/// `1 vulnerability`, `2 vulnerabilities`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Number of characters (not bytes) in `s`.
pub(crate) fn width_of(s: &str) -> usize {
    s.chars().count()
}

/// Cut `s` to at most `max` characters, ending with `...` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if width_of(s) <= max {
        return s.to_string();
    }
    if max <= 3 {
        return ".".repeat(max);
    }
    let mut out: String = s.chars().take(max - 3).collect();
    out.push_str("...");
    out
}

/// Wrap words to lines of at most `width` characters: the first line starts
/// with `first`, the others with `indent`. A word longer than a line stays whole.
pub(crate) fn wrap(text: &str, width: usize, first: &str, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::from(first);
    let mut line_w = width_of(first);
    let mut empty = true;
    for word in text.split_whitespace() {
        let w = width_of(word);
        if !empty && line_w + 1 + w > width {
            lines.push(std::mem::replace(&mut line, String::from(indent)));
            line_w = width_of(indent);
            empty = true;
        }
        if !empty {
            line.push(' ');
            line_w += 1;
        }
        line.push_str(word);
        line_w += w;
        empty = false;
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_and_wraps_by_chars() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abc...");
        assert_eq!(truncate("ééééé", 4), "é...");
        assert_eq!(truncate("abc", 2), "..");
        assert_eq!(
            wrap("one two three four", 10, "-> ", "   "),
            vec!["-> one two", "   three", "   four"]
        );
        assert_eq!(wrap("x", 1, "", ""), vec!["x"]);
        assert_eq!(count(1, "package", "packages"), "1 package");
        assert_eq!(count(0, "package", "packages"), "0 packages");
    }
}
