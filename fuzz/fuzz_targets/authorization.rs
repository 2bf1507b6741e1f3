//! Which credential a request presents (contract section 1): `X-API-Key`, then `Authorization`
//! (`Bearer` or `Token`, the scheme word case-insensitive), then the session cookie; the first
//! present decides, with no fallback.
//!
//! Input: header lines `name: value` (lines that are not a valid header are skipped).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poem::http::{HeaderMap, HeaderName, HeaderValue, header};
use portcullis_api::fuzzing::{Presented, presented, session_token};
use portcullis_domain::Unauthenticated;

const KEY: &str = "pcl_0123456789abcdefghijABCDEFGHIJklmnopqrstuvw0HolJ0";
const SESSION: &str = "SessionToken0123456789abcdefghijABCDEFGHIJk";

fn headers(text: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in text.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    headers
}

fn ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn strip_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !ows(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !ows(b)).map_or(start, |i| i + 1);
    &s[start..end.max(start)]
}

/// A header value the server can read as text: visible ASCII, spaces and tabs.
fn text(value: &HeaderValue) -> Option<&str> {
    let bytes = value.as_bytes();
    bytes
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
        .then(|| std::str::from_utf8(bytes).unwrap())
}

/// Section 1 of the contract, byte by byte.
fn expected(headers: &HeaderMap) -> Result<Presented<'_>, Unauthenticated> {
    if let Some(value) = headers.get("x-api-key") {
        let raw = text(value).ok_or(Unauthenticated::Malformed)?;
        let key = strip_ows(raw.as_bytes());
        return Ok(Presented::Key(std::str::from_utf8(key).unwrap()));
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let raw = strip_ows(text(value).ok_or(Unauthenticated::Malformed)?.as_bytes());
        let space = raw
            .iter()
            .position(|&b| b == b' ')
            .ok_or(Unauthenticated::Malformed)?;
        let scheme = &raw[..space];
        let credential = std::str::from_utf8(strip_ows(&raw[space + 1..])).unwrap();
        if scheme.eq_ignore_ascii_case(b"token") {
            return Ok(Presented::Key(credential));
        }
        if scheme.eq_ignore_ascii_case(b"bearer") && !credential.is_empty() {
            return Ok(Presented::Bearer(credential));
        }
        return Err(Unauthenticated::Malformed);
    }
    session_token(headers)
        .map(Presented::Session)
        .ok_or(Unauthenticated::Missing)
}

fn with(headers: &HeaderMap, name: HeaderName, value: &str) -> HeaderMap {
    let mut headers = headers.clone();
    headers.append(name, HeaderValue::from_str(value).unwrap());
    headers
}

fn owned(result: Result<Presented<'_>, Unauthenticated>) -> Result<(u8, String), Unauthenticated> {
    result.map(|p| match p {
        Presented::Key(k) => (0, k.to_owned()),
        Presented::Bearer(b) => (1, b.to_owned()),
        Presented::Session(s) => (2, s),
    })
}

fuzz_target!(|data: &[u8]| {
    let headers = headers(data);
    let result = presented(&headers);
    assert_eq!(result, expected(&headers), "{headers:?}");
    match &result {
        Ok(Presented::Key(c)) => assert_eq!(c.trim(), *c),
        Ok(Presented::Bearer(c)) => assert!(!c.is_empty() && c.trim() == *c),
        Ok(Presented::Session(s)) => assert_eq!(Some(s), session_token(&headers).as_ref()),
        Err(reason) => assert!(matches!(
            reason,
            Unauthenticated::Missing | Unauthenticated::Malformed
        )),
    }
    let before = owned(result.clone());

    // A session cookie never overrides a header credential, good or bad.
    let cookie = with(
        &headers,
        header::COOKIE,
        &format!("portcullis_session={SESSION}"),
    );
    let after = owned(presented(&cookie));
    if before == Err(Unauthenticated::Missing) {
        assert_eq!(after, Ok((2, SESSION.to_owned())));
    } else {
        assert_eq!(after, before, "a cookie changed {headers:?}");
    }

    // X-API-Key decides whenever it is present; Authorization never overrides it.
    let keyed = with(&headers, HeaderName::from_static("x-api-key"), KEY);
    let expected_key = if headers.contains_key("x-api-key") {
        before.clone()
    } else {
        Ok((0, KEY.to_owned()))
    };
    assert_eq!(owned(presented(&keyed)), expected_key);
    let bearer = with(&keyed, header::AUTHORIZATION, &format!("Bearer {KEY}"));
    assert_eq!(owned(presented(&bearer)), expected_key);

    // Authorization: the scheme in any case, and spaces around the parts, change nothing.
    if !headers.contains_key("x-api-key") {
        if let Some(Ok(value)) = headers.get(header::AUTHORIZATION).map(|v| v.to_str()) {
            if let Some((scheme, credential)) = value.trim().split_once(' ') {
                let flipped: String = scheme
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if (data.len() + i) % 2 == 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect();
                let mut respelled = headers.clone();
                respelled.insert(
                    header::AUTHORIZATION,
                    HeaderValue::from_str(&format!(" \t{flipped}  \t{credential} \t")).unwrap(),
                );
                assert_eq!(owned(presented(&respelled)), before, "respelled {value:?}");
            }
        }
    }
});
