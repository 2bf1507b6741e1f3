//! Start-up and shutdown: turns `Settings` into a running Portcullis, on its own or inside a
//! host application (`prepare`, `listen`, `serve`).

pub mod settings;

pub use settings::{Settings, SignupMode};

use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{Endpoint, Server};
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
    acceptor: TcpAcceptor,
    port: u16,
}

impl Listening {
    /// The bound port (port 0 in the address picks a free one).
    pub fn port(&self) -> u16 {
        self.port
    }
}

pub async fn listen(address: &str) -> Result<Listening, Error> {
    let acceptor = TcpListener::bind(address)
        .into_acceptor()
        .await
        .map_err(|e| Error::internal(format!("cannot listen on {address}: {e}")))?;
    let port = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr())
        .map_or(0, |a| a.port());
    Ok(Listening { acceptor, port })
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
        let listening = listen(&settings.bind).await?;
        Ok(Self { state, listening })
    }

    pub fn port(&self) -> u16 {
        self.listening.port()
    }

    /// Serves until `shutdown` resolves, then drains requests in flight and flushes pending writes.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = portcullis_api::router(self.state.clone());
        serve(&self.state, self.listening, app, shutdown).await
    }
}

fn config(settings: &Settings) -> Result<Config, Error> {
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
        password_attempts_per_minute: settings.login_rate_limit,
        public_url: settings
            .public_url
            .as_deref()
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty()),
        smtp_url: settings
            .smtp_url
            .clone()
            .filter(|url| !url.trim().is_empty())
            .map(SmtpUrl::new),
        email_from: settings.email_from.clone(),
        ..Config::default()
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
