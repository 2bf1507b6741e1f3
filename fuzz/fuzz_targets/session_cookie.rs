//! The session cookie `portcullis_session` read from `Cookie` headers (contract section 5): the
//! first pair with exactly that name wins, quotes around the value are dropped, headers that are
//! not text are skipped.
//!
//! Input: one `Cookie` header value per line (lines that are not a valid value are skipped).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poem::http::{HeaderMap, HeaderValue, header};
use portcullis_api::fuzzing::session_token;
use portcullis_domain::SessionToken;

const NAME: &str = "portcullis_session";
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn cookies(lines: &[&[u8]]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(header::COOKIE, value);
        }
    }
    headers
}

fn with_first(headers: &HeaderMap, value: &str) -> HeaderMap {
    let mut first = HeaderMap::new();
    first.append(header::COOKIE, HeaderValue::from_str(value).unwrap());
    for value in headers.get_all(header::COOKIE) {
        first.append(header::COOKIE, value.clone());
    }
    first
}

fn with_last(headers: &HeaderMap, value: &str) -> HeaderMap {
    let mut last = headers.clone();
    last.append(header::COOKIE, HeaderValue::from_str(value).unwrap());
    last
}

fuzz_target!(|data: &[u8]| {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').take(16).collect();
    let headers = cookies(&lines);
    let found = session_token(&headers);

    if let Some(value) = &found {
        assert!(!value.contains(';'), "{value:?}");
        assert!(
            !value.starts_with('"') && !value.ends_with('"'),
            "{value:?}"
        );
        // It is read from a text header, as written there.
        assert!(
            headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.contains(&format!("{NAME}=")) && v.contains(value.as_str())),
            "{value:?} is not in {headers:?}"
        );
    }

    // A well-formed token, made from the input.
    let seed = data
        .iter()
        .fold(7usize, |h, &b| h.wrapping_mul(31).wrapping_add(b.into()));
    let token: String = (0..43)
        .map(|i| ALPHABET[(seed >> (i % 48)).wrapping_add(i) % 62] as char)
        .collect();
    assert!(SessionToken::parse(&token).is_some());
    let pair = format!("{NAME}={token}");

    // The first pair named exactly `portcullis_session` wins.
    assert_eq!(
        session_token(&with_first(&headers, &pair)),
        Some(token.clone())
    );
    assert_eq!(
        session_token(&with_first(
            &headers,
            &format!("a=b; {NAME}=\"{token}\"; c=d")
        )),
        Some(token.clone())
    );
    let later = with_last(&headers, &format!("theme=dark; {pair}"));
    assert_eq!(session_token(&later), found.clone().or(Some(token.clone())));

    // Other names, however close, are not the session cookie.
    let others = format!(
        "Portcullis_Session={token}; {NAME}x={token}; x{NAME}={token}; {NAME} ={token}; {token}"
    );
    assert_eq!(session_token(&with_first(&headers, &others)), found);
    assert_eq!(session_token(&with_last(&headers, &others)), found);

    // A header that is not text is skipped, not fatal.
    let mut binary = HeaderMap::new();
    binary.append(header::COOKIE, HeaderValue::from_bytes(b"\xff=1").unwrap());
    for value in headers.get_all(header::COOKIE) {
        binary.append(header::COOKIE, value.clone());
    }
    assert_eq!(session_token(&binary), found);
});
