//! The API key format (contract section 2) and the other base62 secrets (session tokens, link
//! tokens), checked against the contract's own words rather than against the implementation.
//!
//! Input: UTF-8 text. With a newline, the first line is a key prefix (`PORTCULLIS_KEY_PREFIX`)
//! and the rest a presented key; without one, the prefix is `pcl` and the text is the key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_domain::{ApiKeySecret, KeyFormatError, KeyPrefix, LinkToken, SessionToken};
use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 43;
const CHECKSUM_LEN: usize = 6;

/// CRC-32 (IEEE, as in zlib), bit by bit: independent of the crate the server uses.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// "written in base62 most significant digit first and left-padded with `0` to 6 characters"
fn checksum(body: &str) -> String {
    let mut n = crc32(body.as_bytes());
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(ALPHABET[(n % 62) as usize]);
        n /= 62;
    }
    digits.resize(CHECKSUM_LEN, b'0');
    digits.reverse();
    String::from_utf8(digits).unwrap()
}

fn base62(s: &str) -> bool {
    s.bytes().all(|b| ALPHABET.contains(&b))
}

/// The contract's verdict on a presented key.
fn verdict(raw: &str, prefix: &str) -> Result<(), KeyFormatError> {
    let rest = raw
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .ok_or(KeyFormatError::Shape)?;
    if rest.len() != RANDOM_LEN + CHECKSUM_LEN || !base62(rest) {
        return Err(KeyFormatError::Shape);
    }
    let (body, sum) = raw.split_at(raw.len() - CHECKSUM_LEN);
    if checksum(body) == sum {
        Ok(())
    } else {
        Err(KeyFormatError::Checksum)
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// What any accepted key must look like once parsed.
fn check_accepted(key: &ApiKeySecret, raw: &str) {
    assert_eq!(key.expose(), raw, "a key re-renders as presented");
    assert_eq!(key.display_prefix(), &raw[..12]);
    assert_eq!(key.digest(), sha256_hex(raw));
    let debug = format!("{key:?}");
    assert!(
        !debug.contains(&raw[raw.len() - RANDOM_LEN..]),
        "Debug shows the secret: {debug}"
    );
}

fn check_prefix(raw: &str) -> KeyPrefix {
    let valid = (1..=16).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    match KeyPrefix::parse(raw) {
        Ok(prefix) => {
            assert!(valid, "prefix {raw:?} accepted");
            assert_eq!(prefix.as_str(), raw);
            prefix
        }
        Err(_) => {
            assert!(!valid, "prefix {raw:?} refused");
            KeyPrefix::default()
        }
    }
}

fn check_tokens(raw: &str) {
    let valid = raw.len() == RANDOM_LEN && base62(raw);
    let session = SessionToken::parse(raw);
    let link = LinkToken::parse(raw);
    assert_eq!(session.is_some(), valid, "session token {raw:?}");
    assert_eq!(link.is_some(), valid, "link token {raw:?}");
    if let (Some(session), Some(link)) = (session, link) {
        assert_eq!(session.expose(), raw);
        assert_eq!(link.expose(), raw);
        assert_eq!(session.digest(), sha256_hex(raw));
        assert_eq!(link.digest(), sha256_hex(raw));
        assert!(!format!("{session:?}{link:?}").contains(raw));
    }
}

/// A key made by the contract's recipe from the input's bytes parses, and every single-character
/// substitution or adjacent swap after the prefix is caught by the checksum.
fn check_made_key(data: &[u8], prefix: &KeyPrefix) {
    let random: String = (0..RANDOM_LEN)
        .map(|i| {
            let byte = data.get(i).copied().unwrap_or(i as u8);
            ALPHABET[usize::from(byte) % 62] as char
        })
        .collect();
    let body = format!("{}_{random}", prefix.as_str());
    let key = format!("{body}{}", checksum(&body));
    let parsed = ApiKeySecret::parse(&key, prefix).expect("a key made by the contract's recipe");
    check_accepted(&parsed, &key);

    let seed = crc32(data) as usize;
    let start = prefix.as_str().len() + 1;
    let at = start + seed % (RANDOM_LEN + CHECKSUM_LEN);
    let mut bytes = key.clone().into_bytes();
    let old = ALPHABET.iter().position(|&c| c == bytes[at]).unwrap();
    bytes[at] = ALPHABET[(old + 1 + (seed >> 8) % 61) % 62];
    let substituted = String::from_utf8(bytes).unwrap();
    assert_eq!(
        ApiKeySecret::parse(&substituted, prefix),
        Err(KeyFormatError::Checksum),
        "{substituted} differs from {key} in one character"
    );

    let mut bytes = key.clone().into_bytes();
    let at = start + seed % (RANDOM_LEN + CHECKSUM_LEN - 1);
    if bytes[at] != bytes[at + 1] {
        bytes.swap(at, at + 1);
        let swapped = String::from_utf8(bytes).unwrap();
        assert_eq!(
            ApiKeySecret::parse(&swapped, prefix),
            Err(KeyFormatError::Checksum),
            "{swapped} swaps two characters of {key}"
        );
    }

    if let Ok(other) = KeyPrefix::parse(&format!("{}x", prefix.as_str())) {
        assert_eq!(
            ApiKeySecret::parse(&key, &other),
            Err(KeyFormatError::Shape)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (prefix, raw) = match text.split_once('\n') {
        Some((prefix, raw)) => (check_prefix(prefix), raw),
        None => (KeyPrefix::default(), text),
    };
    let parsed = ApiKeySecret::parse(raw, &prefix);
    assert_eq!(
        parsed.as_ref().map(|_| ()).map_err(|&e| e),
        verdict(raw, prefix.as_str()),
        "{raw:?} with prefix {:?}",
        prefix.as_str()
    );
    if let Ok(key) = &parsed {
        check_accepted(key, raw);
    }
    check_tokens(raw);
    check_made_key(data, &prefix);
});
