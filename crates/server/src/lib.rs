//! Start-up: turns `Settings` into a running Portcullis.

pub mod settings;

pub use settings::{Settings, SignupMode};

use portcullis_domain::Clock;
use std::future::Future;
use std::sync::Arc;

pub struct Application {
    port: u16,
}

#[allow(unused_variables)]
impl Application {
    /// Connects, migrates, bootstraps the admin and binds (port 0 picks a free port).
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, portcullis_domain::Error> {
        todo!()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` resolves, then drains requests in flight and flushes pending writes.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        todo!()
    }
}
