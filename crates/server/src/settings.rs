//! Typed settings: flags, then environment, then defaults (contract section 7).

use clap::{Args, ValueEnum};
use portcullis_api::config::DEFAULT_EMAIL_FROM;
use portcullis_domain::SignupPolicy;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignupMode {
    /// Only while no user exists; that user becomes platform admin.
    FirstUser,
    Open,
    Closed,
}

impl From<SignupMode> for SignupPolicy {
    fn from(mode: SignupMode) -> Self {
        match mode {
            SignupMode::FirstUser => Self::FirstUser,
            SignupMode::Open => Self::Open,
            SignupMode::Closed => Self::Closed,
        }
    }
}

#[derive(Clone, Args)]
pub struct Settings {
    /// Listen address.
    #[arg(long, env = "PORTCULLIS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// `sqlite://…` (embedded) or `postgres://…`.
    #[arg(
        long,
        env = "PORTCULLIS_DATABASE_URL",
        default_value = "sqlite://portcullis.db?mode=rwc"
    )]
    pub database_url: String,
    /// Root token: sent as Bearer, it acts as the platform administrator.
    #[arg(long, env = "PORTCULLIS_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// Email of a platform admin created or updated at start-up.
    #[arg(long, env = "PORTCULLIS_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// argon2 PHC string for that admin (see `portcullis hash-password`).
    #[arg(long, env = "PORTCULLIS_ADMIN_PASSWORD_HASH", hide_env_values = true)]
    pub admin_password_hash: Option<String>,
    #[arg(
        long,
        env = "PORTCULLIS_SIGNUP",
        value_enum,
        default_value = "first-user"
    )]
    pub signup: SignupMode,
    /// Mark the session cookie `Secure` (set false for plain-HTTP local use).
    #[arg(long, env = "PORTCULLIS_COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,
    /// Origins allowed for cookie-authenticated writes, comma-separated.
    #[arg(long, env = "PORTCULLIS_TRUSTED_ORIGINS", value_delimiter = ',')]
    pub trusted_origins: Vec<String>,
    /// The word before `_` in API keys.
    #[arg(long, env = "PORTCULLIS_KEY_PREFIX", default_value = "pcl")]
    pub key_prefix: String,
    /// Login and signup attempts allowed per client address per minute (0: no limit).
    #[arg(long, env = "PORTCULLIS_LOGIN_RATE_LIMIT", default_value_t = 60)]
    pub login_rate_limit: u32,
    /// Failed logins allowed per email per 15 minutes (0: no limit).
    #[arg(long, env = "PORTCULLIS_FAILED_LOGIN_LIMIT", default_value_t = 10)]
    pub failed_login_limit: u32,
    /// Failed authentications (bad keys, sessions, tokens) allowed per client address per
    /// minute (0: no limit).
    #[arg(long, env = "PORTCULLIS_FAILED_AUTH_LIMIT", default_value_t = 300)]
    pub failed_auth_limit: u32,
    /// Reverse proxies (addresses or CIDRs, comma-separated) whose `X-Forwarded-For` is believed.
    #[arg(long, env = "PORTCULLIS_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
    /// Password hashing jobs allowed to wait or run at once; beyond it, 503 (0: no bound).
    #[arg(long, env = "PORTCULLIS_PASSWORD_QUEUE", default_value_t = 64)]
    pub password_queue: usize,
    /// Seconds a connection has to send a request's complete headers.
    #[arg(long, env = "PORTCULLIS_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds a keep-alive connection may sit idle between requests.
    #[arg(long, env = "PORTCULLIS_IDLE_TIMEOUT", default_value_t = 60)]
    pub idle_timeout: u64,
    /// Open connections at once; more wait to be accepted.
    #[arg(long, env = "PORTCULLIS_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Seconds between sweeps deleting expired sessions, invitations and reset tokens, and keys
    /// 30 days past their expiry or rotation grace.
    #[arg(long, env = "PORTCULLIS_SWEEP_INTERVAL", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub sweep_interval: u64,
    /// The URL people reach Portcullis at (`https://auth.example.com`): links in emails and
    /// invitation URLs are built from it; when unset, from the request's `Host`.
    #[arg(long, env = "PORTCULLIS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// `iss` of the access tokens this server mints and the only one it accepts; default: the
    /// public URL when set, else `portcullis`. Give each deployment its own, so a staging copy of
    /// a production database cannot mint tokens production accepts.
    #[arg(long, env = "PORTCULLIS_TOKEN_ISSUER")]
    pub token_issuer: Option<String>,
    /// SMTP server in lettre's URL form: `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587`
    /// (STARTTLS when offered), `smtp://…?tls=required`. Unset: no email is sent.
    #[arg(long, env = "PORTCULLIS_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of every email.
    #[arg(long, env = "PORTCULLIS_EMAIL_FROM", default_value = DEFAULT_EMAIL_FROM)]
    pub email_from: String,
    /// Log filter (tracing-subscriber's EnvFilter syntax).
    #[arg(long, env = "PORTCULLIS_LOG", default_value = "info")]
    pub log: String,
    /// Ed25519 JWT signing key as base64 PKCS#8 DER; by default one is generated and kept in the database.
    #[arg(long, env = "PORTCULLIS_JWT_KEY", hide_env_values = true)]
    pub jwt_key: Option<String>,
    /// Directory holding `model.conf` and `policy.csv`; the built-in copy of `policies/` otherwise.
    #[arg(long, env = "PORTCULLIS_POLICY_DIR")]
    pub policy_dir: Option<PathBuf>,
}

impl Settings {
    pub fn connection_limits(&self) -> crate::ConnectionLimits {
        crate::ConnectionLimits {
            header_timeout: Duration::from_secs(self.header_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_connections: self.max_connections,
        }
    }

    /// The documented defaults with another database: what tests and embedders start from.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: database_url.into(),
            api_token: None,
            admin_email: None,
            admin_password_hash: None,
            signup: SignupMode::FirstUser,
            cookie_secure: true,
            trusted_origins: Vec::new(),
            key_prefix: "pcl".into(),
            login_rate_limit: 60,
            failed_login_limit: 10,
            failed_auth_limit: 300,
            trusted_proxies: Vec::new(),
            password_queue: 64,
            header_timeout: 10,
            idle_timeout: 60,
            max_connections: 10_000,
            sweep_interval: 300,
            public_url: None,
            token_issuer: None,
            smtp_url: None,
            email_from: DEFAULT_EMAIL_FROM.into(),
            log: "info".into(),
            jwt_key: None,
            policy_dir: None,
        }
    }
}

/// Secrets stay out of logs and panics.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("database_url", &self.database_url)
            .field("api_token", &redacted(&self.api_token))
            .field("admin_email", &self.admin_email)
            .field("admin_password_hash", &redacted(&self.admin_password_hash))
            .field("signup", &self.signup)
            .field("cookie_secure", &self.cookie_secure)
            .field("trusted_origins", &self.trusted_origins)
            .field("key_prefix", &self.key_prefix)
            .field("login_rate_limit", &self.login_rate_limit)
            .field("failed_login_limit", &self.failed_login_limit)
            .field("failed_auth_limit", &self.failed_auth_limit)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("password_queue", &self.password_queue)
            .field("header_timeout", &self.header_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .field("sweep_interval", &self.sweep_interval)
            .field("public_url", &self.public_url)
            .field("token_issuer", &self.token_issuer)
            .field("smtp_url", &redacted(&self.smtp_url))
            .field("email_from", &self.email_from)
            .field("log", &self.log)
            .field("jwt_key", &redacted(&self.jwt_key))
            .field("policy_dir", &self.policy_dir)
            .finish()
    }
}
