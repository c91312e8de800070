//! Berkeley DB hash databases (`var/lib/rpm/Packages`, rpm before 4.16).
//!
//! Only what reading rpm's package table needs: the metadata page (magic,
//! byte order, page size, last page), hash pages (`P_HASH`,
//! `P_HASH_UNSORTED`) whose items come in key/value pairs, and chains of
//! overflow pages (`P_OVERFLOW`) holding the large values. Every page is
//! scanned, so a damaged bucket chain does not hide the other packages.

const HASH_MAGIC: u32 = 0x0006_1561;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
/// Size of a page header (`PAGE` struct of db_page.h).
const PAGE_HEADER: usize = 26;
/// Largest value assembled from overflow pages (rpm headers stay far below).
const MAX_VALUE: usize = 64 << 20;

#[derive(Clone, Copy)]
struct Order {
    big: bool,
}

impl Order {
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let s = b.get(at..at.checked_add(4)?)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let s = b.get(at..at.checked_add(2)?)?;
        let a = [s[0], s[1]];
        Some(if self.big {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }
}

/// The values (rpm header blobs) of a Berkeley DB hash database, with a
/// message for each part that could not be read. The record with key 0
/// (rpm's bookkeeping record) is left out.
pub fn read_bdb_hash(bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    let le = Order { big: false };
    let be = Order { big: true };
    let order = match (le.u32(bytes, 12), be.u32(bytes, 12)) {
        (Some(HASH_MAGIC), _) => le,
        (_, Some(HASH_MAGIC)) => be,
        _ => {
            errors.push("not a Berkeley DB hash database (bad magic)".to_string());
            return (values, errors);
        }
    };
    let page_size = order.u32(bytes, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        errors.push(format!("Berkeley DB page size {page_size} is invalid"));
        return (values, errors);
    }
    if bytes.get(25) != Some(&P_HASHMETA) {
        errors.push("Berkeley DB metadata page is not a hash metadata page".to_string());
        return (values, errors);
    }
    let last = order.u32(bytes, 32).unwrap_or(0) as usize;
    let pages_in_file = bytes.len() / page_size;
    if last >= pages_in_file {
        errors.push(format!(
            "Berkeley DB declares {} pages but the file holds {pages_in_file}; reading those present",
            last.saturating_add(1)
        ));
    }
    let db = Db {
        bytes,
        order,
        page_size,
        pages: pages_in_file.min(last.saturating_add(1)),
    };
    for pgno in 1..db.pages {
        let Some(page) = db.page(pgno) else { break };
        if !matches!(page[25], P_HASH | P_HASH_UNSORTED) {
            continue;
        }
        let entries = usize::from(order.u16(page, 20).unwrap_or(0));
        if PAGE_HEADER + entries * 2 > page_size {
            errors.push(format!("hash page {pgno} claims {entries} items; skipped"));
            continue;
        }
        let mut i = 0;
        while i + 1 < entries {
            match db.pair(page, i) {
                Ok(Some(v)) => values.push(v),
                Ok(None) => {}
                Err(e) => errors.push(format!("hash page {pgno}, item {}: {e}; skipped", i + 1)),
            }
            i += 2;
        }
    }
    (values, errors)
}

struct Db<'a> {
    bytes: &'a [u8],
    order: Order,
    page_size: usize,
    pages: usize,
}

impl<'a> Db<'a> {
    fn page(&self, pgno: usize) -> Option<&'a [u8]> {
        if pgno >= self.pages {
            return None;
        }
        let start = pgno.checked_mul(self.page_size)?;
        self.bytes.get(start..start.checked_add(self.page_size)?)
    }

    /// The bytes of item `i` of a hash page: from its offset to the start of
    /// the item before it (items are packed from the end of the page down).
    fn item(&self, page: &'a [u8], i: usize) -> Result<&'a [u8], String> {
        let off = usize::from(
            self.order
                .u16(page, PAGE_HEADER + 2 * i)
                .ok_or("index truncated")?,
        );
        let end = if i == 0 {
            self.page_size
        } else {
            usize::from(
                self.order
                    .u16(page, PAGE_HEADER + 2 * (i - 1))
                    .ok_or("index truncated")?,
            )
        };
        if off < PAGE_HEADER || off >= end || end > self.page_size {
            return Err(format!("item offset {off} is out of place"));
        }
        Ok(&page[off..end])
    }

    /// The value of the key/value pair starting at item `i`, or `None` for
    /// rpm's record 0.
    fn pair(&self, page: &'a [u8], i: usize) -> Result<Option<Vec<u8>>, String> {
        let key = self.item(page, i)?;
        if key[0] == H_KEYDATA && key.len() >= 5 && key[1..5] == [0, 0, 0, 0] {
            return Ok(None);
        }
        let val = self.item(page, i + 1)?;
        match val[0] {
            H_KEYDATA => Ok(Some(val[1..].to_vec())),
            H_OFFPAGE => {
                let pgno = self.order.u32(val, 4).ok_or("off-page item truncated")? as usize;
                let tlen = self.order.u32(val, 8).ok_or("off-page item truncated")? as usize;
                self.overflow(pgno, tlen).map(Some)
            }
            t => Err(format!("unsupported item type {t}")),
        }
    }

    /// Assemble `tlen` bytes from the overflow chain starting at `pgno`.
    fn overflow(&self, mut pgno: usize, tlen: usize) -> Result<Vec<u8>, String> {
        if tlen > MAX_VALUE {
            return Err(format!("value of {tlen} bytes is over the limit"));
        }
        let mut out = Vec::with_capacity(tlen.min(self.bytes.len()));
        let mut visited = std::collections::HashSet::new();
        while out.len() < tlen {
            if !visited.insert(pgno) {
                return Err(format!("overflow chain loops back to page {pgno}"));
            }
            let page = self
                .page(pgno)
                .ok_or_else(|| format!("overflow page {pgno} is missing (file truncated?)"))?;
            if page[25] != P_OVERFLOW {
                return Err(format!("page {pgno} is not an overflow page"));
            }
            let used = usize::from(self.order.u16(page, 22).ok_or("page header truncated")?);
            let data = page
                .get(PAGE_HEADER..PAGE_HEADER.saturating_add(used))
                .ok_or_else(|| format!("overflow page {pgno} claims {used} bytes"))?;
            let take = data.len().min(tlen - out.len());
            out.extend_from_slice(&data[..take]);
            let next = self.order.u32(page, 16).ok_or("page header truncated")? as usize;
            if next == 0 {
                break;
            }
            pgno = next;
        }
        if out.len() < tlen {
            return Err(format!(
                "overflow chain ends after {} of {tlen} bytes",
                out.len()
            ));
        }
        Ok(out)
    }
}
