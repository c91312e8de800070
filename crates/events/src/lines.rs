//! A line reader with a length cap, reusing one buffer.

use std::io::{BufRead, ErrorKind};

/// The longest line kept; longer lines are reported and skipped.
pub const MAX_LINE: usize = 1 << 20;

/// What [`LineReader::next_line`] found.
pub(crate) enum Line<'a> {
    /// A line (without its `\n` / `\r\n`).
    Ok(&'a [u8]),
    /// A line longer than [`MAX_LINE`] bytes (its length), skipped.
    TooLong(usize),
    /// A read error (the reader stops).
    Err(std::io::Error),
}

pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// 1-based number of the line last returned.
    pub(crate) line_no: u64,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(512),
            line_no: 0,
            done: false,
        }
    }

    /// A reader whose first line is numbered `first_line` (a byte range
    /// of a larger file).
    pub(crate) fn starting_at(inner: R, first_line: u64) -> Self {
        let mut r = LineReader::new(inner);
        r.line_no = first_line.saturating_sub(1);
        r
    }

    pub(crate) fn next_line(&mut self) -> Option<(u64, Line<'_>)> {
        if self.done {
            return None;
        }
        self.buf.clear();
        let mut total = 0usize;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    return Some((self.line_no + 1, Line::Err(e)));
                }
            };
            if chunk.is_empty() {
                self.done = true;
                if !any {
                    return None;
                }
                break;
            }
            any = true;
            let (take, found) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let data = &chunk[..if found { take - 1 } else { take }];
            total += data.len();
            if total <= MAX_LINE {
                self.buf.extend_from_slice(data);
            }
            self.inner.consume(take);
            if found {
                break;
            }
        }
        self.line_no += 1;
        if total > MAX_LINE {
            return Some((self.line_no, Line::TooLong(total)));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Some((self.line_no, Line::Ok(&self.buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_cap() {
        let mut data = b"a\r\nbb\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_LINE + 5));
        data.extend_from_slice(b"\nlast");
        let mut r = LineReader::new(&data[..]);
        assert!(matches!(r.next_line(), Some((1, Line::Ok(b"a")))));
        assert!(matches!(r.next_line(), Some((2, Line::Ok(b"bb")))));
        assert!(matches!(r.next_line(), Some((3, Line::TooLong(n))) if n == MAX_LINE + 5));
        assert!(matches!(r.next_line(), Some((4, Line::Ok(b"last")))));
        assert_eq!(r.line_no, 4);
        assert!(r.next_line().is_none());
    }
}
