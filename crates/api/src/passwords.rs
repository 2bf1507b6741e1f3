//! argon2id hashing off the async runtime, with bounded concurrency so a login flood queues
//! here instead of starving the threads that verify API keys, and a bounded queue so the flood
//! is refused (503) rather than kept waiting without end.

use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier};
use portcullis_domain::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    /// Jobs allowed to wait or run at once; 0: no bound.
    capacity: usize,
    /// Verified against when the email is unknown, so both failures take as long.
    dummy_hash: Arc<str>,
}

impl Passwords {
    pub fn new(capacity: usize) -> Self {
        // One core stays free for everything else (key checks above all) during a login flood.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hashers = cores.saturating_sub(1).max(1);
        let dummy_hash =
            hash_blocking("portcullis dummy password").expect("argon2 with default parameters");
        Self {
            permits: Arc::new(Semaphore::new(hashers)),
            waiting: Arc::default(),
            capacity,
            dummy_hash: dummy_hash.into(),
        }
    }

    pub async fn hash(&self, password: &str) -> Result<String, Error> {
        let password = password.to_owned();
        self.run(move || hash_blocking(&password)).await?
    }

    /// Checks `password` against `hash`, or against a dummy when there is no user, so an
    /// unknown email costs the same time as a wrong password.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, Error> {
        let (password, known) = (password.to_owned(), hash.is_some());
        let hash = hash.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let matches = self.run(move || verify_blocking(&password, &hash)).await?;
        Ok(known && matches)
    }

    /// Hashing jobs queued or running right now.
    pub fn queue_depth(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let admitted = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |waiting| {
                (self.capacity == 0 || waiting < self.capacity).then_some(waiting + 1)
            });
        if admitted.is_err() {
            return Err(Error::Unavailable(
                "the password hashing queue is full".into(),
            ));
        }
        let result = async {
            let _permit = self.permits.acquire().await.map_err(Error::internal)?;
            tokio::task::spawn_blocking(job)
                .await
                .map_err(Error::internal)
        }
        .await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        result
    }
}

pub fn hash_blocking(password: &str) -> Result<String, Error> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(Error::internal)
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Whether `hash` is an argon2 PHC string (for the bootstrap admin's configured hash).
pub fn is_phc_hash(hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| h.algorithm.as_str().starts_with("argon2"))
}
