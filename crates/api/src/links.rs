//! Where the links Portcullis hands out point: `PORTCULLIS_PUBLIC_URL`, else the request's host.

use crate::state::AppState;
use poem::http::{HeaderMap, header};

impl AppState {
    /// The base of links shown to an authenticated caller (and emailed on their behalf):
    /// `PORTCULLIS_PUBLIC_URL`, else `http://<Host>`.
    pub fn link_base(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.config.public_url {
            return url.clone();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    }

    /// The base of links emailed at an anonymous request's bidding (password reset). Anyone can
    /// send any `Host`, and a forged one would mail the victim a link to the forger's server: so
    /// `PORTCULLIS_PUBLIC_URL`, else the `Host` only when it is one of the trusted origins.
    pub fn trusted_link_base(&self, headers: &HeaderMap) -> Option<String> {
        if let Some(url) = &self.config.public_url {
            return Some(url.clone());
        }
        let host = headers.get(header::HOST)?.to_str().ok()?;
        self.config
            .trusted_origins
            .iter()
            .map(|origin| origin.trim_end_matches('/'))
            .find(|origin| {
                origin
                    .split_once("://")
                    .is_some_and(|(_, h)| h.eq_ignore_ascii_case(host))
            })
            .map(str::to_owned)
    }
}
