//! RFC 6238 time-based one-time passwords (HMAC-SHA1, 30 s steps, 6
//! digits), as an authenticator app computes them, written here so that the
//! test does not share code with the server it checks.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// RFC 4226 HOTP for `counter`.
pub fn hotp(key: &[u8], counter: u64) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return 0; // HMAC accepts keys of any length
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset] & 0x7f) << 24)
        | (u32::from(h[offset + 1]) << 16)
        | (u32::from(h[offset + 2]) << 8)
        | u32::from(h[offset + 3]);
    bin % 1_000_000
}

/// The 6-digit code for `unix_seconds`.
pub fn code_at(key: &[u8], unix_seconds: u64) -> String {
    format!("{:06}", hotp(key, unix_seconds / 30))
}

/// The secret's bytes from its base32 text as shown to people (spaces,
/// lowercase and missing padding allowed), or from an `otpauth://` URI.
pub fn secret_from_text(text: &str) -> Option<Vec<u8>> {
    let s = match text.split_once("secret=") {
        Some((_, rest)) => rest.split('&').next().unwrap_or(""),
        None => text,
    };
    let clean: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if clean.len() < 16 {
        return None;
    }
    data_encoding::BASE32_NOPAD.decode(clean.as_bytes()).ok()
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[test]
fn rfc_6238_sha1_test_vectors() {
    // RFC 6238 appendix B: the ASCII key "12345678901234567890", 8 digits
    // there; the last 6 of each are what a 6-digit code shows.
    let key = b"12345678901234567890";
    for (t, eight) in [
        (59u64, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(code_at(key, t), eight[2..], "t = {t}");
    }
    let b32 = data_encoding::BASE32_NOPAD.encode(key);
    assert_eq!(
        secret_from_text(&b32.to_lowercase()).as_deref(),
        Some(&key[..])
    );
    assert_eq!(
        secret_from_text(&format!("otpauth://totp/x?secret={b32}&issuer=P")).as_deref(),
        Some(&key[..])
    );
}
