#![doc = include_str!("../README.md")]
mod generated {
    progenitor::generate_api!(
        spec = "../../openapi.json",
        interface = Positional,
        inner_type = crate::LastAnswer,
    );
}

pub use generated::{Client, types};
/// The error progenitor's generated methods return; `?` turns it into [`Error`].
pub use progenitor_client::Error as GeneratedError;
pub use progenitor_client::ResponseValue;

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::ResponseBuilderExt;
use reqwest::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderValue, ORIGIN, SET_COOKIE};
use std::fmt;
use std::sync::{Arc, Mutex};
use types::ErrorBody;

/// The name of the session cookie (contract, section 5).
pub const SESSION_COOKIE: &str = "portcullis_session";

/// How requests authenticate (contract, section 1).
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API key, sent as `X-API-Key`.
    ApiKey(String),
    /// An API key, an access token (JWT) or the root token, sent as `Authorization: Bearer`.
    Bearer(String),
    /// A session token from `login`, sent as the `portcullis_session` cookie. Writes then also
    /// carry `Origin: <base url>`, which the server asks of cookie-authenticated writes.
    Session(String),
}

impl Credential {
    /// The secret itself.
    pub fn secret(&self) -> &str {
        match self {
            Credential::ApiKey(s) | Credential::Bearer(s) | Credential::Session(s) => s,
        }
    }
}

/// Never prints the secret.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Credential::ApiKey(_) => "ApiKey",
            Credential::Bearer(_) => "Bearer",
            Credential::Session(_) => "Session",
        };
        write!(f, "{kind}(…)")
    }
}

/// What can go wrong talking to Portcullis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with the contract's error body (any 4xx or 5xx it documents).
    #[error("{}", .body.message)]
    Api { status: u16, body: ErrorBody },
    /// The server could not be reached at all (refused, unknown host, timeout).
    #[error("cannot reach {url}: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    /// The base URL or the credential cannot be used to build requests.
    #[error("{0}")]
    InvalidSetting(String),
    /// Anything else: an undocumented answer, a body that does not parse, a broken connection.
    #[error("{0}")]
    Unexpected(String),
}

impl Error {
    /// The HTTP status of a documented error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<GeneratedError<ErrorBody>> for Error {
    fn from(error: GeneratedError<ErrorBody>) -> Self {
        match error {
            GeneratedError::ErrorResponse(response) => Error::Api {
                status: response.status().as_u16(),
                body: response.into_inner(),
            },
            GeneratedError::CommunicationError(source)
                if source.is_connect() || source.is_timeout() =>
            {
                let url = source
                    .url()
                    .map(|u| format!("{}://{}", u.scheme(), u.authority()))
                    .unwrap_or_default();
                Error::Unreachable { url, source }
            }
            GeneratedError::UnexpectedResponse(response) => Error::Unexpected(format!(
                "unexpected answer {} from {}",
                response.status(),
                response.url()
            )),
            other => Error::Unexpected(other.to_string()),
        }
    }
}

impl Client {
    /// A client for the server at `base_url` (`https://auth.example.com`, no trailing path),
    /// sending `credential` with every request, or nothing when it is `None`.
    pub fn connect(base_url: &str, credential: Option<Credential>) -> Result<Self, Error> {
        let base_url = base_url.trim_end_matches('/');
        let mut headers = HeaderMap::new();
        let sensitive = |value: String| {
            HeaderValue::from_str(&value)
                .map(|mut v| {
                    v.set_sensitive(true);
                    v
                })
                .map_err(|_| {
                    Error::InvalidSetting(
                        "the credential holds characters a header cannot carry".into(),
                    )
                })
        };
        match credential {
            None => {}
            Some(Credential::ApiKey(key)) => {
                headers.insert("x-api-key", sensitive(key)?);
            }
            Some(Credential::Bearer(token)) => {
                headers.insert(AUTHORIZATION, sensitive(format!("Bearer {token}"))?);
            }
            Some(Credential::Session(token)) => {
                headers.insert(COOKIE, sensitive(format!("{SESSION_COOKIE}={token}"))?);
                let origin = HeaderValue::from_str(base_url)
                    .map_err(|_| Error::InvalidSetting(format!("not a usable URL: {base_url}")))?;
                headers.insert(ORIGIN, origin);
            }
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("portcullis-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::InvalidSetting(e.to_string()))?;
        Ok(Client::new_with_client(
            base_url,
            http,
            LastAnswer::default(),
        ))
    }

    /// The body of the last answer, byte for byte as the server sent it: what a script wants
    /// when the typed value would be re-serialized differently (`portcullis … --json`).
    pub fn last_body(&self) -> Option<Bytes> {
        self.inner().0.lock().ok()?.clone()
    }
}

/// The client's memory of the last answer's body, shared with its clones; see
/// [`Client::last_body`].
#[derive(Debug, Default, Clone)]
pub struct LastAnswer(Arc<Mutex<Option<Bytes>>>);

/// Every answer is read whole, kept, and handed to the generated code unchanged.
impl ClientHooks<LastAnswer> for Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let response = self.client().execute(request).await?;
        let mut answer = http::Response::builder()
            .status(response.status())
            .version(response.version())
            .url(response.url().clone());
        if let Some(headers) = answer.headers_mut() {
            *headers = response.headers().clone();
        }
        let body = response.bytes().await?;
        if let Ok(mut last) = self.inner().0.lock() {
            *last = Some(body.clone());
        }
        let answer = answer
            .body(body)
            .expect("status, version and headers come from a response");
        Ok(answer.into())
    }
}

/// The session token a login answer sets in its `portcullis_session` cookie.
///
/// ```no_run
/// use portcullis_client::{Client, Credential, Error, session_token, types::LoginRequest};
///
/// # async fn run() -> Result<(), Error> {
/// let anonymous = Client::connect("http://127.0.0.1:8080", None)?;
/// let login = anonymous
///     .login(&LoginRequest { email: "ada@example.com".into(), password: "correct horse battery".into() })
///     .await?;
/// let token = session_token(login.headers()).expect("login sets the session cookie");
/// let client = Client::connect("http://127.0.0.1:8080", Some(Credential::Session(token)))?;
/// let orgs = client.list_organizations().await?;
/// # Ok(())
/// # }
/// ```
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(SET_COOKIE).iter().find_map(|value| {
        let cookie = value.to_str().ok()?;
        let pair = cookie.split(';').next()?.trim();
        let token = pair.strip_prefix(SESSION_COOKIE)?.strip_prefix('=')?;
        (!token.is_empty()).then(|| token.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_token_is_read_from_set_cookie() {
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, HeaderValue::from_static("other=1; Path=/"));
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("portcullis_session=abc123; HttpOnly; Path=/"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc123"));
    }

    #[test]
    fn a_cleared_cookie_is_no_token() {
        let mut headers = HeaderMap::new();
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("portcullis_session=; Max-Age=0"),
        );
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?}", Credential::Bearer("pcl_secret".into()));
        assert!(!shown.contains("secret"), "{shown}");
    }
}
