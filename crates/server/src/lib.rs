//! Start-up: turns `Settings` into a running Portcullis.

pub mod settings;

pub use settings::{Settings, SignupMode};

use poem::Server;
use poem::listener::{Acceptor, Listener, TcpListener};
use portcullis_api::{AppState, Config, RootToken, SignupPolicy, passwords};
use portcullis_domain::{Clock, Email, Error, KeyPrefix, Policy};
use portcullis_persistence::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Application {
    state: AppState,
    acceptor: poem::listener::TcpAcceptor,
    port: u16,
}

impl Application {
    /// Connects, migrates, bootstraps the admin and binds (port 0 picks a free port).
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let config = config(&settings)?;
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
        bootstrap_admin(&settings, &store, clock.as_ref()).await?;
        let state =
            AppState::new(store, config, policy, clock, settings.jwt_key.as_deref()).await?;
        let acceptor = TcpListener::bind(settings.bind.as_str())
            .into_acceptor()
            .await
            .map_err(|e| Error::internal(format!("cannot listen on {}: {e}", settings.bind)))?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr())
            .map_or(0, |a| a.port());
        Ok(Self {
            state,
            acceptor,
            port,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` resolves, then drains requests in flight and flushes pending writes.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let background = self
            .state
            .start_background()
            .await
            .map_err(std::io::Error::other)?;
        let served = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                portcullis_api::router(self.state.clone()),
                shutdown,
                Some(DRAIN_TIMEOUT),
            )
            .await;
        background.stop().await;
        served
    }
}

fn config(settings: &Settings) -> Result<Config, Error> {
    Ok(Config {
        signup: match settings.signup {
            SignupMode::FirstUser => SignupPolicy::FirstUser,
            SignupMode::Open => SignupPolicy::Open,
            SignupMode::Closed => SignupPolicy::Closed,
        },
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
