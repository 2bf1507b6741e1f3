//! The session cookie: `portcullis_session`, with exactly the contract's attributes.

use crate::state::AppState;
use poem::http::{HeaderMap, header};
use poem::web::cookie::{Cookie, SameSite};
use portcullis_domain::SessionToken;
use portcullis_domain::session::{COOKIE_NAME, SESSION_LIFETIME};
use std::sync::{Arc, Mutex};
use std::time::Duration;

impl AppState {
    /// `Set-Cookie` value for a session token.
    pub fn session_cookie(&self, token: &SessionToken) -> String {
        let lifetime = Duration::from_secs(SESSION_LIFETIME.num_seconds().unsigned_abs());
        self.cookie(token.expose(), lifetime)
    }

    /// `Set-Cookie` value that removes the session cookie.
    pub fn cleared_cookie(&self) -> String {
        self.cookie("", Duration::ZERO)
    }

    fn cookie(&self, value: &str, max_age: Duration) -> String {
        let mut cookie = Cookie::new_with_str(COOKIE_NAME, value);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_max_age(max_age);
        cookie.set_secure(self.config.cookie_secure);
        cookie.to_string()
    }
}

/// The session token from the `Cookie` header(s), if any.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

/// Where session resolution leaves a refreshed cookie for the response.
#[derive(Clone, Default)]
pub(crate) struct RefreshedCookie(Arc<Mutex<Option<String>>>);

impl RefreshedCookie {
    pub(crate) fn set(&self, cookie: String) {
        *self.0.lock().expect("cookie slot") = Some(cookie);
    }

    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().expect("cookie slot").take()
    }
}
