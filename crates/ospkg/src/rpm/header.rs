//! The RPM header blob, as the package databases store it: a count of index
//! entries `il` and a data length `dl` (both big-endian `u32`), `il` index
//! entries of 16 bytes (tag, type, offset, count), then `dl` bytes of data.

use std::fmt;

/// Tags read from the header.
const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_VENDOR: u32 = 1011;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

/// Data types.
const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own limits (`HEADER_I_MAX`, `HEADER_D_MAX`, lib/header_internal.h).
const MAX_INDEX: u32 = 0x0000_ffff;
const MAX_DATA: u32 = 0x0fff_ffff;

/// The fields of one installed package read from its header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpmHeader {
    /// `NAME`.
    pub name: String,
    /// `VERSION`.
    pub version: String,
    /// `RELEASE`.
    pub release: String,
    /// `EPOCH`, when the tag is present.
    pub epoch: Option<u32>,
    /// `ARCH`.
    pub arch: Option<String>,
    /// `LICENSE`.
    pub license: Option<String>,
    /// `VENDOR`.
    pub vendor: Option<String>,
    /// `SOURCERPM` (`openssl-3.0.7-1.el9.src.rpm`).
    pub source_rpm: Option<String>,
}

/// Why a header blob could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmError(pub String);

impl fmt::Display for RpmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RpmError {}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parse an RPM header blob (without the 8-byte magic that `.rpm` files put
/// before it). Every count and offset is checked against the blob's size.
pub fn parse_rpm_header(bytes: &[u8]) -> Result<RpmHeader, RpmError> {
    let err = |m: String| Err(RpmError(m));
    // Tolerate a leading header magic (8e ad e8 01 + 4 reserved bytes).
    let bytes = match bytes {
        [0x8e, 0xad, 0xe8, 0x01, ..] => bytes.get(8..).unwrap_or_default(),
        _ => bytes,
    };
    let (Some(il), Some(dl)) = (be32(bytes, 0), be32(bytes, 4)) else {
        return err(format!("header of {} bytes is too short", bytes.len()));
    };
    if il == 0 || il > MAX_INDEX {
        return err(format!(
            "header has {il} index entries (1 to {MAX_INDEX} allowed)"
        ));
    }
    if dl > MAX_DATA {
        return err(format!(
            "header data length {dl} is over the {MAX_DATA}-byte limit"
        ));
    }
    let index_len = (il as usize) * 16;
    let data_start = 8 + index_len;
    let data_end = data_start + dl as usize;
    let Some(data) = bytes.get(data_start..data_end) else {
        return err(format!(
            "header is truncated: {il} index entries and {dl} data bytes need {data_end} bytes, found {}",
            bytes.len()
        ));
    };
    let index = &bytes[8..data_start];
    let mut h = RpmHeader::default();
    let (mut name, mut version, mut release) = (None, None, None);
    for entry in index.chunks_exact(16) {
        let tag = u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]);
        let ty = u32::from_be_bytes([entry[4], entry[5], entry[6], entry[7]]);
        let off = u32::from_be_bytes([entry[8], entry[9], entry[10], entry[11]]) as usize;
        let count = u32::from_be_bytes([entry[12], entry[13], entry[14], entry[15]]);
        let is_str = matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING);
        match tag {
            TAG_NAME | TAG_VERSION | TAG_RELEASE | TAG_VENDOR | TAG_LICENSE | TAG_ARCH
            | TAG_SOURCERPM => {
                if !is_str {
                    return err(format!("tag {tag} has type {ty}, expected a string"));
                }
                let s = read_str(data, off).ok_or_else(|| {
                    RpmError(format!(
                        "tag {tag}: string at offset {off} runs past the {dl}-byte data"
                    ))
                })?;
                let slot = match tag {
                    TAG_NAME => &mut name,
                    TAG_VERSION => &mut version,
                    TAG_RELEASE => &mut release,
                    TAG_VENDOR => &mut h.vendor,
                    TAG_LICENSE => &mut h.license,
                    TAG_ARCH => &mut h.arch,
                    _ => &mut h.source_rpm,
                };
                *slot = Some(s);
            }
            TAG_EPOCH => {
                if ty != TYPE_INT32 || count == 0 {
                    return err(format!(
                        "EPOCH has type {ty} and count {count}, expected one INT32"
                    ));
                }
                h.epoch = Some(be32(data, off).ok_or_else(|| {
                    RpmError(format!(
                        "EPOCH at offset {off} runs past the {dl}-byte data"
                    ))
                })?);
            }
            _ => {}
        }
    }
    let (Some(n), Some(v), Some(r)) = (name, version, release) else {
        return err("header lacks NAME, VERSION or RELEASE".to_string());
    };
    if n.is_empty() {
        return err("header has an empty NAME".to_string());
    }
    h.name = n;
    h.version = v;
    h.release = r;
    Ok(h)
}

/// The NUL-terminated string at `off` in `data` (lossily decoded: licence
/// and vendor strings of old packages can be Latin-1).
fn read_str(data: &[u8], off: usize) -> Option<String> {
    let rest = data.get(off..)?;
    let len = memchr::memchr(0, rest)?;
    Some(String::from_utf8_lossy(&rest[..len]).into_owned())
}

impl RpmHeader {
    /// The version as OSV writes it: `EPOCH:VERSION-RELEASE`, without the
    /// epoch when it is absent or 0 (as AlmaLinux records do).
    pub fn osv_version(&self) -> String {
        match self.epoch {
            Some(e) if e != 0 => format!("{e}:{}-{}", self.version, self.release),
            _ => format!("{}-{}", self.version, self.release),
        }
    }

    /// The source package name and `version-release` from `SOURCERPM`
    /// (`openssl-3.0.7-1.el9.src.rpm` gives `("openssl", "3.0.7-1.el9")`).
    pub fn source(&self) -> Option<(&str, &str)> {
        split_source_rpm(self.source_rpm.as_deref()?)
    }
}

/// Split `NAME-VERSION-RELEASE.src.rpm` (or `.nosrc.rpm`).
pub fn split_source_rpm(s: &str) -> Option<(&str, &str)> {
    let base = s
        .strip_suffix(".src.rpm")
        .or_else(|| s.strip_suffix(".nosrc.rpm"))
        .unwrap_or(s);
    let r = base.rfind('-')?;
    let v = base[..r].rfind('-')?;
    let (name, vr) = (&base[..v], &base[v + 1..]);
    (!name.is_empty() && vr.len() > 1).then_some((name, vr))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a header blob from (tag, type, data) entries.
    pub(crate) fn build(entries: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, d) in entries {
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&ty.to_be_bytes());
            index.extend_from_slice(&(data.len() as u32).to_be_bytes());
            index.extend_from_slice(&1u32.to_be_bytes());
            data.extend_from_slice(d);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    fn s(x: &str) -> Vec<u8> {
        let mut v = x.as_bytes().to_vec();
        v.push(0);
        v
    }

    #[test]
    fn reads_a_built_header() {
        let blob = build(&[
            (TAG_NAME, TYPE_STRING, s("openssl")),
            (TAG_VERSION, TYPE_STRING, s("3.0.7")),
            (TAG_RELEASE, TYPE_STRING, s("24.el9")),
            (TAG_EPOCH, TYPE_INT32, 1u32.to_be_bytes().to_vec()),
            (
                TAG_SOURCERPM,
                TYPE_STRING,
                s("openssl-3.0.7-24.el9.src.rpm"),
            ),
        ]);
        let h = parse_rpm_header(&blob).unwrap();
        assert_eq!(h.osv_version(), "1:3.0.7-24.el9");
        assert_eq!(h.source(), Some(("openssl", "3.0.7-24.el9")));
        // Every truncation fails cleanly.
        for cut in 0..blob.len() {
            assert!(parse_rpm_header(&blob[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn rejects_hostile_counts_and_offsets() {
        assert!(parse_rpm_header(&[0xff; 8]).is_err());
        let mut blob = build(&[(TAG_NAME, TYPE_STRING, s("x"))]);
        blob[8 + 8..8 + 12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_rpm_header(&blob).is_err());
        let blob = build(&[(TAG_EPOCH, TYPE_INT32, vec![0, 0])]);
        assert!(parse_rpm_header(&blob).is_err());
        let blob = build(&[(TAG_NAME, TYPE_STRING, b"no-nul".to_vec())]);
        assert!(parse_rpm_header(&blob).is_err());
    }

    #[test]
    fn splits_source_rpms() {
        assert_eq!(
            split_source_rpm("openssl-3.0.7-1.el9.src.rpm"),
            Some(("openssl", "3.0.7-1.el9"))
        );
        assert_eq!(
            split_source_rpm("perl-Foo-Bar-1.0-2.src.rpm"),
            Some(("perl-Foo-Bar", "1.0-2"))
        );
        assert_eq!(split_source_rpm("nodash.src.rpm"), None);
        assert_eq!(split_source_rpm("-1-2.src.rpm"), None);
    }
}
