//! `paas`: the example PaaS with Portcullis embedded. Configure it with `PAAS_BIND` and
//! Portcullis's `PORTCULLIS_*` variables (see `Settings::from_env`).

use paas::{Application, Settings};
use portcullis_domain::SystemClock;
use portcullis_server::shutdown_signal;
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("PAAS_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let settings = Settings::from_env()?;
    let bind = settings.bind.clone();
    let app = Application::build(settings, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(%bind, port = app.port(), "paas listening; Portcullis under /auth");
    app.run_until_stopped(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}
