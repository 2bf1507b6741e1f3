use crate::email::SmtpUrl;
use crate::rate_limit::LimitSettings;
use ipnet::IpNet;
use portcullis_domain::{KeyPrefix, SignupPolicy};
use std::fmt;
use subtle::ConstantTimeEq;

/// The root token (`PORTCULLIS_API_TOKEN`): compared in constant time, never printed.
#[derive(Clone)]
pub struct RootToken(String);

impl RootToken {
    pub fn new(token: String) -> Self {
        Self(token)
    }

    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl fmt::Debug for RootToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootToken(<redacted>)")
    }
}

pub const DEFAULT_EMAIL_FROM: &str = "Portcullis <portcullis@localhost>";

/// What the API needs to know of the server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub signup: SignupPolicy,
    pub cookie_secure: bool,
    /// Origins (`scheme://host[:port]`) allowed for cookie-authenticated writes.
    pub trusted_origins: Vec<String>,
    pub key_prefix: KeyPrefix,
    pub root_token: Option<RootToken>,
    /// `iss` of access tokens.
    pub issuer: String,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    pub limits: LimitSettings,
    /// Password hashing jobs allowed to wait or run at once; beyond it, 503.
    pub password_queue: usize,
    /// `PORTCULLIS_PUBLIC_URL` without a trailing `/`: links are built from it; when unset, from
    /// the request's `Host`.
    pub public_url: Option<String>,
    /// `PORTCULLIS_SMTP_URL`; unset: no email is sent.
    pub smtp_url: Option<SmtpUrl>,
    /// `PORTCULLIS_EMAIL_FROM`.
    pub email_from: String,
    /// How often expired sessions, keys and one-time tokens are deleted.
    pub sweep_every: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            signup: SignupPolicy::FirstUser,
            cookie_secure: true,
            trusted_origins: Vec::new(),
            key_prefix: KeyPrefix::default(),
            root_token: None,
            issuer: "portcullis".to_owned(),
            trusted_proxies: Vec::new(),
            limits: LimitSettings {
                password_attempts_per_minute: 60,
                failed_logins_per_email: 10,
                failed_auth_per_minute: 300,
            },
            password_queue: 64,
            public_url: None,
            smtp_url: None,
            email_from: DEFAULT_EMAIL_FROM.to_owned(),
            sweep_every: std::time::Duration::from_secs(300),
        }
    }
}
