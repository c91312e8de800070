//! rpm's NDB package database (`Packages.db`, SUSE since 2021).
//!
//! Layout (little-endian): a 32-byte file header (`RpmP` magic, version,
//! generation, number of slot pages, next package index), then 16-byte slots
//! (`Slot` magic, package index, block offset, block count) filling the slot
//! pages. A slot's blob starts at `block offset * 16`: a 16-byte blob header
//! (`BlbS` magic, package index, generation, length), the header blob, then a
//! trailer.

const PAGE: usize = 4096;
const BLOCK: usize = 16;
const FILE_HEADER: usize = 32;
const SLOT: usize = 16;
const BLOB_HEADER: usize = 16;
const MAGIC_FILE: &[u8; 4] = b"RpmP";
const MAGIC_SLOT: &[u8; 4] = b"Slot";
const MAGIC_BLOB: &[u8; 4] = b"BlbS";
/// rpm limits slot pages to a few thousand; anything above is corruption.
const MAX_SLOT_PAGES: usize = 2048;

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The header blobs of an NDB `Packages.db`, with a message for each part
/// that could not be read. Blobs borrow from `bytes`.
pub fn read_ndb(bytes: &[u8]) -> (Vec<&[u8]>, Vec<String>) {
    let mut blobs = Vec::new();
    let mut errors = Vec::new();
    if bytes.get(..4) != Some(&MAGIC_FILE[..]) {
        errors.push("not an rpm NDB database (no RpmP magic)".to_string());
        return (blobs, errors);
    }
    let (Some(version), Some(npages)) = (le32(bytes, 4), le32(bytes, 12)) else {
        errors.push("NDB file header is truncated".to_string());
        return (blobs, errors);
    };
    if version != 0 {
        errors.push(format!(
            "NDB version {version} is not supported (0 expected)"
        ));
        return (blobs, errors);
    }
    let npages = npages as usize;
    if npages == 0 || npages > MAX_SLOT_PAGES {
        errors.push(format!(
            "NDB declares {npages} slot pages (1 to {MAX_SLOT_PAGES} allowed)"
        ));
        return (blobs, errors);
    }
    let slots_end = npages * PAGE;
    if bytes.len() < slots_end {
        errors.push(format!(
            "NDB slot area of {slots_end} bytes is truncated at {} bytes; reading the slots present",
            bytes.len()
        ));
    }
    let slot_area = &bytes[..slots_end.min(bytes.len())];
    let mut at = FILE_HEADER;
    while at + SLOT <= slot_area.len() {
        let slot = &slot_area[at..at + SLOT];
        let slot_no = (at - FILE_HEADER) / SLOT;
        at += SLOT;
        if &slot[..4] != MAGIC_SLOT {
            errors.push(format!("NDB slot {slot_no} has a bad magic; skipped"));
            continue;
        }
        let pkgidx = u32::from_le_bytes([slot[4], slot[5], slot[6], slot[7]]);
        let blkoff = u32::from_le_bytes([slot[8], slot[9], slot[10], slot[11]]) as usize;
        let blkcnt = u32::from_le_bytes([slot[12], slot[13], slot[14], slot[15]]) as usize;
        if pkgidx == 0 {
            continue; // a free slot
        }
        match blob(bytes, pkgidx, blkoff, blkcnt) {
            Ok(b) => blobs.push(b),
            Err(e) => errors.push(format!("NDB package {pkgidx}: {e}; skipped")),
        }
    }
    (blobs, errors)
}

fn blob(bytes: &[u8], pkgidx: u32, blkoff: usize, blkcnt: usize) -> Result<&[u8], String> {
    let start = blkoff.checked_mul(BLOCK).ok_or("block offset overflows")?;
    let span = blkcnt.checked_mul(BLOCK).ok_or("block count overflows")?;
    let end = start.checked_add(span).ok_or("block range overflows")?;
    if blkoff == 0 || span < BLOB_HEADER {
        return Err(format!("bad block range {blkoff}+{blkcnt}"));
    }
    let area = bytes.get(start..end).ok_or_else(|| {
        format!(
            "blocks {blkoff}+{blkcnt} run past the end of the file ({} bytes)",
            bytes.len()
        )
    })?;
    if &area[..4] != MAGIC_BLOB {
        return Err("blob has a bad magic".to_string());
    }
    let idx = le32(area, 4).ok_or("blob header is truncated")?;
    if idx != pkgidx {
        return Err(format!("blob belongs to package {idx}"));
    }
    let len = le32(area, 12).ok_or("blob header is truncated")? as usize;
    area.get(BLOB_HEADER..BLOB_HEADER.saturating_add(len))
        .ok_or_else(|| format!("blob length {len} exceeds its {blkcnt} blocks"))
}
