//! Bounded decompression of the forms package managers cache their
//! metadata in: gzip, xz, zstd, bzip2 and zchunk (`.zck`, Fedora's
//! default for dnf repository metadata).
//!
//! Every decoder stops at a byte limit (a decompression bomb gives the part
//! before the limit and a note, never unbounded memory), and a damaged stream
//! keeps what was decompressed before the damage, with a note.

use std::io::{self, Read, Write};

/// The compression of a cached file, by name (and zchunk's magic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Plain,
    Gzip,
    Xz,
    Zstd,
    Bzip2,
    Zchunk,
}

impl Form {
    /// From the file name's last extension.
    pub(crate) fn of(name: &str) -> Form {
        let ext = name.rsplit('.').next().unwrap_or("");
        match ext {
            "gz" => Form::Gzip,
            "xz" => Form::Xz,
            "zst" | "zstd" => Form::Zstd,
            "bz2" => Form::Bzip2,
            "zck" => Form::Zchunk,
            _ => Form::Plain,
        }
    }

    /// The name used in messages.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Form::Plain => "uncompressed",
            Form::Gzip => "gzip",
            Form::Xz => "xz",
            Form::Zstd => "zstd",
            Form::Bzip2 => "bzip2",
            Form::Zchunk => "zchunk",
        }
    }
}

/// Decompress `raw` as `form`, keeping at most `limit` bytes. The note says
/// what went wrong (damage, an unsupported variant, the limit reached);
/// the bytes are what was decompressed before it.
pub(crate) fn decompress(form: Form, raw: Vec<u8>, limit: u64) -> (Vec<u8>, Option<String>) {
    let mut out = Vec::new();
    let res: Result<(), String> = match form {
        Form::Plain => {
            if raw.len() as u64 > limit {
                let keep = usize::try_from(limit).unwrap_or(usize::MAX);
                let mut raw = raw;
                raw.truncate(keep);
                return (raw, Some(limit_note(limit)));
            }
            return (raw, None);
        }
        Form::Gzip => read_bounded(flate2::read::MultiGzDecoder::new(&raw[..]), limit, &mut out),
        Form::Bzip2 => read_bounded(bzip2::read::MultiBzDecoder::new(&raw[..]), limit, &mut out),
        Form::Zstd => zstd_frames(&mut zstd_decoder(), &raw, limit, None, &mut out),
        Form::Xz => {
            let mut w = Bounded {
                out: &mut out,
                limit,
            };
            lzma_rs::xz_decompress(&mut io::BufReader::new(&raw[..]), &mut w)
                .map_err(|e| e.to_string())
        }
        Form::Zchunk => zchunk(&raw, limit, &mut out),
    };
    match res {
        Ok(()) => (out, None),
        Err(e) => (
            out,
            Some(format!(
                "cannot be decompressed ({}): {e}; the part before the damage is read",
                form.label()
            )),
        ),
    }
}

fn limit_note(limit: u64) -> String {
    format!(
        "decompresses to more than {} MiB; only the first {} MiB are read",
        limit >> 20,
        limit >> 20
    )
}

/// Read to the end, failing (with what was read kept) past `limit`.
fn read_bounded(r: impl Read, limit: u64, out: &mut Vec<u8>) -> Result<(), String> {
    let mut r = r.take(limit.saturating_add(1));
    r.read_to_end(out).map_err(|e| e.to_string())?;
    if out.len() as u64 > limit {
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        return Err(limit_note(limit));
    }
    Ok(())
}

/// A writer that refuses bytes past `limit`.
struct Bounded<'a> {
    out: &'a mut Vec<u8>,
    limit: u64,
}

impl Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.limit.saturating_sub(self.out.len() as u64);
        if room == 0 && !buf.is_empty() {
            return Err(io::Error::other(limit_note(self.limit)));
        }
        let n = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        self.out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Most memory a zstd frame's window may take.
const MAX_WINDOW: u64 = 64 * 1024 * 1024;

fn zstd_decoder() -> ruzstd::decoding::FrameDecoder {
    let mut dec = ruzstd::decoding::FrameDecoder::new();
    dec.set_max_window_size(MAX_WINDOW);
    dec
}

/// Decode consecutive zstd frames (skippable frames are skipped) into
/// `out`, at most `limit` more bytes; `dict` is forced on every frame.
fn zstd_frames(
    dec: &mut ruzstd::decoding::FrameDecoder,
    mut data: &[u8],
    limit: u64,
    dict: Option<u32>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
    use ruzstd::decoding::BlockDecodingStrategy;
    let stop = (out.len() as u64).saturating_add(limit);
    while !data.is_empty() {
        // Frame_Header_Descriptor bits 0-1: a dictionary ID is present, and
        // reset() then loads that dictionary itself.
        let has_dict_id = data.get(4).is_some_and(|d| d & 3 != 0);
        match dec.reset(&mut data) {
            Ok(()) => {}
            Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                length,
                ..
            })) => {
                let n = usize::try_from(length).unwrap_or(usize::MAX);
                data = data.get(n..).unwrap_or(&[]);
                continue;
            }
            Err(e) => return Err(e.to_string()),
        }
        if let (Some(id), false) = (dict, has_dict_id) {
            dec.force_dict(id).map_err(|e| e.to_string())?;
        }
        loop {
            let done = dec
                .decode_blocks(&mut data, BlockDecodingStrategy::UptoBytes(64 * 1024))
                .map_err(|e| e.to_string())?;
            let room = stop.saturating_sub(out.len() as u64);
            if dec.can_collect() as u64 > room {
                let mut w = Bounded {
                    out: &mut *out,
                    limit: stop,
                };
                let _ = dec.collect_to_writer(&mut w);
                return Err(limit_note(limit));
            }
            dec.collect_to_writer(&mut *out)
                .map_err(|e| e.to_string())?;
            if done {
                break;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- zchunk

/// A zchunk compressed integer: little-endian groups of 7 bits, the last
/// byte marked by its top bit.
fn ci(data: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let b = *data
            .get(*pos)
            .ok_or_else(|| format!("truncated integer at byte {pos}"))?;
        *pos += 1;
        let part = u64::from(b & 0x7f);
        let shifted = part
            .checked_shl(7 * i)
            .filter(|s| s >> (7 * i) == part)
            .ok_or_else(|| format!("integer too large at byte {pos}"))?;
        v |= shifted;
        if b & 0x80 != 0 {
            return Ok(v);
        }
    }
    Err(format!("integer too long at byte {pos}"))
}

fn usz(v: u64, what: &str) -> Result<usize, String> {
    usize::try_from(v).map_err(|_| format!("{what} too large"))
}

fn checksum_len(t: u64) -> Result<usize, String> {
    match t {
        0 => Ok(20),
        1 => Ok(32),
        2 => Ok(64),
        3 => Ok(16),
        _ => Err(format!("unknown checksum type {t}")),
    }
}

fn skip(data: &[u8], pos: &mut usize, n: usize, what: &str) -> Result<(), String> {
    let end = pos
        .checked_add(n)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| format!("truncated {what}"))?;
    *pos = end;
    Ok(())
}

struct ZChunk {
    stream: u64,
    len: usize,
    ulen: u64,
}

/// Decode a zchunk file: its lead, preface and index, then the dictionary
/// and every chunk of stream 1 in order. Checksums are not verified (the
/// content is parsed, not trusted).
fn zchunk(data: &[u8], limit: u64, out: &mut Vec<u8>) -> Result<(), String> {
    if data.get(..5) != Some(b"\0ZCK1".as_slice()) {
        return Err("not a zchunk file (no \\0ZCK1 magic)".into());
    }
    let mut pos = 5usize;
    let sum_len = checksum_len(ci(data, &mut pos)?)?;
    let header_len = usz(ci(data, &mut pos)?, "header")?;
    skip(data, &mut pos, sum_len, "header checksum")?;
    let header_end = pos
        .checked_add(header_len)
        .filter(|&e| e <= data.len())
        .ok_or("truncated header")?;
    let h = data.get(..header_end).unwrap_or(&[]);
    skip(h, &mut pos, sum_len, "data checksum")?;
    let flags = ci(h, &mut pos)?;
    if flags & !0b111 != 0 {
        return Err(format!("unknown flags {flags:#x}"));
    }
    let streams = flags & 1 != 0;
    let uncompressed_sums = flags & 0b100 != 0;
    let compression = ci(h, &mut pos)?;
    if compression != 0 && compression != 2 {
        return Err(format!("unknown compression type {compression}"));
    }
    if flags & 0b10 != 0 {
        let n = ci(h, &mut pos)?;
        for _ in 0..n.min(1024) {
            let _id = ci(h, &mut pos)?;
            let len = usz(ci(h, &mut pos)?, "optional element")?;
            skip(h, &mut pos, len, "optional element")?;
        }
    }
    let index_len = usz(ci(h, &mut pos)?, "index")?;
    let index_end = pos
        .checked_add(index_len)
        .filter(|&e| e <= h.len())
        .ok_or("truncated index")?;
    let ix = h.get(..index_end).unwrap_or(&[]);
    let chunk_sum_len = checksum_len(ci(ix, &mut pos)?)?;
    let count = ci(ix, &mut pos)?;
    if count == 0 {
        return Err("no chunks (not even the dictionary)".into());
    }
    if streams {
        let _dict_stream = ci(ix, &mut pos)?;
    }
    skip(ix, &mut pos, chunk_sum_len, "dictionary checksum")?;
    if uncompressed_sums {
        skip(ix, &mut pos, chunk_sum_len, "dictionary checksum")?;
    }
    let dict_len = usz(ci(ix, &mut pos)?, "dictionary")?;
    let dict_ulen = ci(ix, &mut pos)?;
    let mut chunks = Vec::new();
    for _ in 1..count {
        if pos >= ix.len() {
            return Err("the index lists more chunks than it holds".into());
        }
        let stream = if streams { ci(ix, &mut pos)? } else { 1 };
        skip(ix, &mut pos, chunk_sum_len, "chunk checksum")?;
        if uncompressed_sums {
            skip(ix, &mut pos, chunk_sum_len, "chunk checksum")?;
        }
        let len = usz(ci(ix, &mut pos)?, "chunk")?;
        let ulen = ci(ix, &mut pos)?;
        chunks.push(ZChunk { stream, len, ulen });
    }
    // The data follows the header: the dictionary, then the chunks.
    let mut at = header_end;
    let dict_bytes = data
        .get(at..at.saturating_add(dict_len))
        .filter(|d| d.len() == dict_len)
        .ok_or("truncated dictionary")?;
    at += dict_len;
    let dict = if dict_len == 0 {
        None
    } else if compression == 0 {
        Some(dict_bytes.to_vec())
    } else {
        let mut d = Vec::new();
        zstd_frames(
            &mut zstd_decoder(),
            dict_bytes,
            dict_ulen.min(limit),
            None,
            &mut d,
        )
        .map_err(|e| format!("dictionary: {e}"))?;
        Some(d)
    };
    let mut dec = zstd_decoder();
    let dict = match dict {
        None => None,
        Some(d) => {
            let d = ruzstd::decoding::Dictionary::decode_dict(&d)
                .map_err(|e| format!("dictionary not in zstd's format: {e}"))?;
            let id = d.id;
            dec.add_dict(d).map_err(|e| e.to_string())?;
            Some(id)
        }
    };
    for (i, c) in chunks.iter().enumerate() {
        let bytes = data
            .get(at..at.saturating_add(c.len))
            .filter(|d| d.len() == c.len)
            .ok_or_else(|| format!("truncated chunk {}", i + 1))?;
        at += c.len;
        if c.stream != 1 {
            continue;
        }
        let room = limit.saturating_sub(out.len() as u64);
        if c.ulen > room {
            return Err(limit_note(limit));
        }
        let before = out.len();
        if compression == 0 {
            out.extend_from_slice(bytes);
        } else {
            zstd_frames(&mut dec, bytes, c.ulen, dict, out)
                .map_err(|e| format!("chunk {}: {e}", i + 1))?;
        }
        if (out.len() - before) as u64 != c.ulen {
            return Err(format!(
                "chunk {} decompressed to {} bytes, the index says {}",
                i + 1,
                out.len() - before,
                c.ulen
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const F43: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fedora43-dnf/var/cache/libdnf5/updates-2f4d85bb0a1c9e37/repodata/"
    );

    fn fixture(name: &str) -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dnf-forms/");
        std::fs::read(format!("{dir}{name}")).unwrap()
    }

    fn f43_updateinfo_zck() -> Vec<u8> {
        let f = std::fs::read_dir(F43)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with("-updateinfo.xml.zck"))
            .unwrap();
        std::fs::read(f).unwrap()
    }

    #[test]
    fn forms_by_name() {
        assert_eq!(Form::of("abc-primary.xml.zck"), Form::Zchunk);
        assert_eq!(Form::of("primary.sqlite.bz2"), Form::Bzip2);
        assert_eq!(Form::of("x.xml.zst"), Form::Zstd);
        assert_eq!(Form::of("x.xml.xz"), Form::Xz);
        assert_eq!(Form::of("x.xml.gz"), Form::Gzip);
        assert_eq!(Form::of("primary_db.sqlite"), Form::Plain);
        assert_eq!(
            fixture("updateinfo-nodict.xml.zck").get(..5),
            Some(&b"\0ZCK1"[..])
        );
    }

    #[test]
    fn every_form_gives_the_same_xml() {
        let (zck, note) = decompress(Form::Zchunk, f43_updateinfo_zck(), 1 << 20);
        assert_eq!(note, None);
        let text = String::from_utf8(zck.clone()).unwrap();
        assert!(text.contains("FEDORA-2025-3c4f1e7a92"), "{text}");
        for (name, form) in [
            ("updateinfo.xml.xz", Form::Xz),
            ("updateinfo.xml.zst", Form::Zstd),
            ("updateinfo-nodict.xml.zck", Form::Zchunk),
        ] {
            let (out, note) = decompress(form, fixture(name), 1 << 20);
            assert_eq!(note, None, "{name}");
            assert_eq!(out, zck, "{name}");
        }
        let (p, note) = decompress(Form::Bzip2, fixture("primary.xml.bz2"), 1 << 20);
        assert_eq!(note, None);
        let (q, _) = decompress(Form::Gzip, fixture("primary.xml.gz"), 1 << 20);
        assert_eq!(p, q);
    }

    #[test]
    fn output_stops_at_the_limit() {
        let full = decompress(Form::Xz, fixture("updateinfo.xml.xz"), 1 << 20).0;
        assert!(full.len() > 1000);
        for (name, form) in [
            ("updateinfo.xml.xz", Form::Xz),
            ("updateinfo.xml.zst", Form::Zstd),
            ("updateinfo-nodict.xml.zck", Form::Zchunk),
            ("primary.xml.bz2", Form::Bzip2),
            ("primary.xml.gz", Form::Gzip),
        ] {
            let (out, note) = decompress(form, fixture(name), 500);
            assert!(out.len() <= 500, "{name}: {}", out.len());
            assert!(note.unwrap().contains("more than"), "{name}");
        }
        let (out, note) = decompress(Form::Zchunk, f43_updateinfo_zck(), 500);
        assert!(out.len() <= 500 && note.is_some());
        let (out, note) = decompress(Form::Plain, vec![b'x'; 600], 500);
        assert_eq!((out.len(), note.is_some()), (500, true));
    }

    #[test]
    fn a_zstd_bomb_is_cut_off() {
        // 2 KiB that would expand to 64 MiB.
        let (out, note) = decompress(Form::Zstd, ruzstd_bomb(), 1 << 20);
        assert_eq!(out.len(), 1 << 20);
        assert!(note.unwrap().contains("more than 1 MiB"));
    }

    /// A zstd frame of 64 MiB of zeros: one RLE block of 128 KiB repeated
    /// 512 times (written by hand: header, then 3-byte block headers).
    fn ruzstd_bomb() -> Vec<u8> {
        let mut f = vec![0x28, 0xb5, 0x2f, 0xfd];
        // Frame header descriptor: single segment off, no checksum, no
        // content size; window descriptor: 2^(10+7)=128 KiB.
        f.extend_from_slice(&[0x00, 0x38]);
        for i in 0..512u32 {
            let last = u32::from(i == 511);
            // RLE block (type 1) of 128 KiB: size<<3 | type<<1 | last.
            let h = (128 * 1024) << 3 | 1 << 1 | last;
            f.extend_from_slice(&h.to_le_bytes()[..3]);
            f.push(0);
        }
        f
    }

    #[test]
    fn damaged_zchunk_files_are_notes_not_panics() {
        let good = f43_updateinfo_zck();
        for cut in [0, 4, 5, 6, 40, 80, 140, good.len() / 2, good.len() - 1] {
            let (_, note) = decompress(Form::Zchunk, good.get(..cut).unwrap().to_vec(), 1 << 20);
            assert!(note.is_some(), "cut at {cut}");
        }
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x55;
            let _ = decompress(Form::Zchunk, b, 1 << 20);
        }
    }

    proptest! {
        #[test]
        fn no_form_panics(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            for form in [Form::Zchunk, Form::Zstd, Form::Xz, Form::Bzip2, Form::Gzip] {
                let _ = decompress(form, data.clone(), 1 << 16);
                let mut z = b"\0ZCK1".to_vec();
                z.extend_from_slice(&data);
                let _ = decompress(Form::Zchunk, z, 1 << 16);
            }
        }
    }
}
