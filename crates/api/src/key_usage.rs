//! `last_used_at`, recorded in memory on each verified use and written in batches, so that
//! verifying a key never writes to the database.

use chrono::{DateTime, Utc};
use portcullis_domain::Error;
use portcullis_persistence::Store;
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

#[derive(Default)]
pub struct KeyUses(Mutex<HashMap<Uuid, DateTime<Utc>>>);

impl KeyUses {
    pub fn record(&self, key_id: Uuid, at: DateTime<Utc>) {
        let mut pending = self.0.lock().expect("key-use lock");
        let last = pending.entry(key_id).or_insert(at);
        *last = (*last).max(at);
    }

    /// Writes what was recorded since the last flush; on failure (the database away) keeps it
    /// for the next flush.
    pub async fn flush(&self, store: &Store) -> Result<usize, Error> {
        let batch: Vec<_> = std::mem::take(&mut *self.0.lock().expect("key-use lock"))
            .into_iter()
            .collect();
        if !batch.is_empty()
            && let Err(e) = store.record_key_uses(&batch).await
        {
            for (key_id, at) in batch {
                self.record(key_id, at);
            }
            return Err(e);
        }
        Ok(batch.len())
    }
}
