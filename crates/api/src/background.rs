//! Work that runs beside the requests: the batch writer of `last_used_at`, the email worker, the
//! sweeper of rows past all use, and (on PostgreSQL) the listener that applies other replicas'
//! cache invalidations.

use crate::cache::Invalidation;
use crate::email::EmailWorker;
use crate::state::AppState;
use portcullis_domain::Error;
use portcullis_persistence::{Notice, Subscription};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often pending `last_used_at` values are written.
const KEY_USE_FLUSH_EVERY: Duration = Duration::from_secs(2);
/// Expired keys stay listed (as expired) this long before the sweeper deletes them.
const EXPIRED_KEYS_KEPT: chrono::Duration = chrono::Duration::days(30);
/// Rows deleted per statement by the sweeper.
const SWEEP_BATCH: u64 = 500;
/// The pause between attempts to listen again (each attempt itself waits for a connection).
const RELISTEN_AFTER: Duration = Duration::from_millis(500);

pub struct Background {
    state: AppState,
    tasks: Vec<JoinHandle<()>>,
    email: Option<EmailWorker>,
}

impl AppState {
    /// Starts the background work. The invalidation listener is subscribed before this returns,
    /// so nothing published afterwards is missed.
    pub async fn start_background(&self) -> Result<Background, Error> {
        let mut tasks = vec![
            tokio::spawn(flush_key_uses_forever(self.clone())),
            tokio::spawn(sweep_forever(self.clone())),
        ];
        if let Some(subscription) = self.store.subscribe().await? {
            tasks.push(tokio::spawn(apply_invalidations_forever(
                self.clone(),
                subscription,
            )));
        }
        Ok(Background {
            state: self.clone(),
            tasks,
            email: self.start_email_worker(),
        })
    }
}

impl Background {
    /// Stops the tasks and writes what is still pending: `last_used_at`, and queued emails.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(email) = self.email {
            email.drain().await;
        }
        if let Err(e) = self.state.flush_key_uses().await {
            tracing::error!(error = %e, "could not write last_used_at on shutdown");
        }
    }
}

async fn flush_key_uses_forever(state: AppState) {
    let mut tick = tokio::time::interval(KEY_USE_FLUSH_EVERY);
    loop {
        tick.tick().await;
        if let Err(e) = state.flush_key_uses().await {
            tracing::warn!(error = %e, "could not write last_used_at; will retry");
        }
        state.limits.forget_idle();
    }
}

/// Every `config.sweep_every` (replicas may sweep at once: deleting a row twice is harmless).
async fn sweep_forever(state: AppState) {
    let mut tick = tokio::time::interval(state.config.sweep_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = state.clock.now();
        match state
            .store
            .sweep(now, now - EXPIRED_KEYS_KEPT, SWEEP_BATCH)
            .await
        {
            Ok(swept) => {
                state.metrics.swept(&swept);
                tracing::debug!(?swept, "swept rows past all use");
            }
            Err(e) => tracing::warn!(error = %e, "could not sweep; will retry"),
        }
    }
}

/// While the listener is disconnected, cached records stay in use (up to their TTL), so that
/// credentials already verified keep working while the database is away. Once it listens again
/// the caches are cleared: whatever changed meanwhile is read afresh.
async fn apply_invalidations_forever(state: AppState, mut subscription: Subscription) {
    state.metrics.listening(true);
    loop {
        match subscription.next().await {
            Ok(Notice::Message(message)) => match Invalidation::decode(&message) {
                Some(invalidation) => state.caches.apply(&invalidation),
                None => tracing::warn!(%message, "ignoring an unknown invalidation"),
            },
            Ok(Notice::Disconnected) => {
                tracing::warn!("invalidation listener lost the database; reconnecting");
                state.metrics.listening(false);
            }
            Ok(Notice::Reconnected) => {
                tracing::warn!("invalidation listener reconnected; clearing caches");
                state.caches.clear();
                state.metrics.listening(true);
            }
            Err(e) => {
                tracing::warn!(error = %e, "invalidation listener cannot reconnect yet; retrying");
                tokio::time::sleep(RELISTEN_AFTER).await;
            }
        }
    }
}
