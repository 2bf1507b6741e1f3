//! Start-up and shutdown: turns `Settings` into a running Portcullis, on its own or inside a
//! host application (`prepare`, `listen`, `serve`).

pub mod connections;
pub mod settings;

pub use settings::{Settings, SignupMode};

pub use connections::ConnectionLimits;
use connections::LimitedAcceptor;
use ipnet::IpNet;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{Endpoint, Route, Server};
use portcullis_api::rate_limit::LimitSettings;
use portcullis_api::{AppState, Config, RootToken, SmtpUrl, passwords};
use portcullis_domain::{Clock, Email, Error, KeyPrefix, Policy};
use portcullis_persistence::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Portcullis ready to serve: connected to its database and migrated, the policy loaded, the
/// bootstrap admin in place. A host application calls this, then `listen` and `serve`.
pub async fn prepare(settings: &Settings, clock: Arc<dyn Clock>) -> Result<AppState, Error> {
    let config = config(settings)?;
    let store = Store::connect(&settings.database_url).await?;
    store.migrate().await?;
    let policy = match &settings.policy_dir {
        Some(dir) => {
            let read = |name: &str| {
                std::fs::read_to_string(dir.join(name)).map_err(|e| {
                    Error::internal(format!("cannot read {}: {e}", dir.join(name).display()))
                })
            };
            Policy::from_text(&read("model.conf")?, &read("policy.csv")?).await?
        }
        None => Policy::builtin().await?,
    };
    bootstrap_admin(settings, &store, clock.as_ref()).await?;
    AppState::new(store, config, policy, clock, settings.jwt_key.as_deref()).await
}

/// A bound listening socket.
pub struct Listening {
    acceptor: LimitedAcceptor<TcpAcceptor>,
    port: u16,
}

impl Listening {
    /// The bound port (port 0 in the address picks a free one).
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Binds `address`, holding its connections to `limits` (see `Settings::connection_limits`).
pub async fn listen(address: &str, limits: ConnectionLimits) -> Result<Listening, Error> {
    let acceptor = TcpListener::bind(address)
        .into_acceptor()
        .await
        .map_err(|e| Error::internal(format!("cannot listen on {address}: {e}")))?;
    let port = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr())
        .map_or(0, |a| a.port());
    Ok(Listening {
        acceptor: LimitedAcceptor::new(acceptor, limits),
        port,
    })
}

/// Serves `app` until `shutdown` resolves, with Portcullis's background work beside it (batched
/// `last_used_at` writes; on PostgreSQL, other replicas' cache invalidations); then drains
/// requests in flight and flushes pending writes.
pub async fn serve(
    state: &AppState,
    listening: Listening,
    app: impl Endpoint + 'static,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let background = state
        .start_background()
        .await
        .map_err(std::io::Error::other)?;
    let served = Server::new_with_acceptor(listening.acceptor)
        .run_with_graceful_shutdown(app, shutdown, Some(DRAIN_TIMEOUT))
        .await;
    background.stop().await;
    served
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The Portcullis server: `prepare`, `listen` and `serve` with its own router.
pub struct Application {
    state: AppState,
    listening: Listening,
}

impl Application {
    /// Connects, migrates, bootstraps the admin and binds (port 0 picks a free port).
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let state = prepare(&settings, clock).await?;
        let listening = listen(&settings.bind, settings.connection_limits()).await?;
        Ok(Self { state, listening })
    }

    pub fn port(&self) -> u16 {
        self.listening.port()
    }

    /// The state the server will serve with (for embedding, and for tests' hooks).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then drains requests in flight and flushes pending writes.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = Route::new()
            .nest("/console", portcullis_console::routes(self.state.clone()))
            .nest("/", portcullis_api::router(self.state.clone()));
        serve(&self.state, self.listening, app, shutdown).await
    }
}

fn config(settings: &Settings) -> Result<Config, Error> {
    let public_url = settings
        .public_url
        .as_deref()
        .map(|url| url.trim().trim_end_matches('/').to_owned())
        .filter(|url| !url.is_empty());
    let issuer = settings
        .token_issuer
        .as_deref()
        .map(str::trim)
        .filter(|issuer| !issuer.is_empty())
        .map(str::to_owned)
        .or_else(|| public_url.clone())
        .unwrap_or_else(|| Config::default().issuer);
    Ok(Config {
        signup: settings.signup.into(),
        cookie_secure: settings.cookie_secure,
        trusted_origins: settings
            .trusted_origins
            .iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect(),
        key_prefix: KeyPrefix::parse(&settings.key_prefix).map_err(|_| {
            Error::validation("PORTCULLIS_KEY_PREFIX must be 1 to 16 lower-case letters or digits")
        })?,
        root_token: settings
            .api_token
            .clone()
            .filter(|t| !t.is_empty())
            .map(RootToken::new),
        trusted_proxies: settings
            .trusted_proxies
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(parse_proxy)
            .collect::<Result<_, _>>()?,
        limits: LimitSettings {
            password_attempts_per_minute: settings.login_rate_limit,
            failed_logins_per_email: settings.failed_login_limit,
            failed_auth_per_minute: settings.failed_auth_limit,
        },
        password_queue: settings.password_queue,
        public_url,
        issuer,
        smtp_url: settings
            .smtp_url
            .clone()
            .filter(|url| !url.trim().is_empty())
            .map(SmtpUrl::new),
        email_from: settings.email_from.clone(),
        sweep_every: std::time::Duration::from_secs(settings.sweep_interval.max(1)),
    })
}

/// A proxy's address (`10.0.0.7`, `::1`) or network (`10.0.0.0/8`).
fn parse_proxy(proxy: &str) -> Result<IpNet, Error> {
    proxy
        .parse::<IpNet>()
        .or_else(|_| proxy.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            Error::validation(format!(
                "PORTCULLIS_TRUSTED_PROXIES: `{proxy}` is not an address or CIDR"
            ))
        })
}

/// `PORTCULLIS_ADMIN_EMAIL` + `PORTCULLIS_ADMIN_PASSWORD_HASH`: create or update that platform admin.
async fn bootstrap_admin(
    settings: &Settings,
    store: &Store,
    clock: &dyn Clock,
) -> Result<(), Error> {
    match (&settings.admin_email, &settings.admin_password_hash) {
        (None, None) => Ok(()),
        (Some(email), Some(hash)) => {
            let email = Email::parse(email)?;
            if !passwords::is_phc_hash(hash) {
                return Err(Error::validation(
                    "PORTCULLIS_ADMIN_PASSWORD_HASH must be an argon2 PHC string (see `portcullis hash-password`)",
                ));
            }
            let admin = store.upsert_admin(&email, hash, clock.now()).await?;
            tracing::info!(user_id = %admin.id, "bootstrap platform admin ready");
            Ok(())
        }
        _ => Err(Error::validation(
            "PORTCULLIS_ADMIN_EMAIL and PORTCULLIS_ADMIN_PASSWORD_HASH go together",
        )),
    }
}
