//! Text decoding: the collection script's members are UTF-8 (with or without
//! a BOM) or UTF-16 with a BOM (secedit, and PowerShell 5.1 `>` redirection).

use std::borrow::Cow;

/// Decodes bytes as text: a UTF-16LE/BE BOM selects UTF-16, a UTF-8 BOM is
/// dropped, and BOM-less input that looks like UTF-16LE (NUL in every odd
/// byte of the first pairs) is read as UTF-16LE. Invalid sequences become
/// U+FFFD; it never fails.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return Cow::Owned(utf16(rest, false));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return Cow::Owned(utf16(rest, true));
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    if looks_utf16le(body) {
        return Cow::Owned(utf16(body, false));
    }
    String::from_utf8_lossy(body)
}

fn looks_utf16le(b: &[u8]) -> bool {
    let n = b.len().min(64) / 2;
    n >= 2
        && b.chunks_exact(2)
            .take(n)
            .all(|p| p.get(1) == Some(&0) && p.first() != Some(&0))
}

fn utf16(b: &[u8], big_endian: bool) -> String {
    let units = b.chunks_exact(2).map(|p| {
        let (x, y) = (
            p.first().copied().unwrap_or(0),
            p.get(1).copied().unwrap_or(0),
        );
        if big_endian {
            u16::from_be_bytes([x, y])
        } else {
            u16::from_le_bytes([x, y])
        }
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_boms() {
        assert_eq!(decode(b"\xEF\xBB\xBFab"), "ab");
        assert_eq!(decode(&[0xFF, 0xFE, b'a', 0, b'b', 0]), "ab");
        assert_eq!(decode(&[0xFE, 0xFF, 0, b'a', 0, b'b']), "ab");
        assert_eq!(decode(&[b'a', 0, b'b', 0]), "ab");
        assert_eq!(decode(&[0xFF, 0xFE, 0x00, 0xD8]), "\u{FFFD}");
        assert_eq!(decode(&[0xFF, 0xFE, b'a']), "");
    }
}
