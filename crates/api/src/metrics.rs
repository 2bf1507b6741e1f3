//! Prometheus metrics, served as text on `/metrics`.

use crate::state::AppState;
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use std::collections::HashMap;
use std::sync::RwLock;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    /// `requests` by label, resolved once each: `with_label_values` hashes every label and
    /// takes the vector's lock on every call, and this runs on every request.
    request_counters: RwLock<HashMap<(&'static str, &'static str), IntCounter>>,
    /// The counters every successful check touches, resolved once.
    allowed: IntCounter,
    cache_counters: [CacheCounters; 4],
    decisions: IntCounterVec,
    cache: IntCounterVec,
    rate_limited: IntCounterVec,
    emails: IntCounterVec,
    swept: IntCounterVec,
    argon2_queue: IntGauge,
    pool_open: IntGauge,
    pool_idle: IntGauge,
    listening: IntGauge,
}

impl Metrics {
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("portcullis".into()), None).expect("a valid prefix");
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("unique metric");
            g
        };
        let decisions = counter(
            "auth_decisions_total",
            "Authentication and authorization outcomes: allowed, unauthenticated (by reason), forbidden.",
            &["outcome", "reason"],
        );
        let cache = counter(
            "cache_lookups_total",
            "Verify-path cache lookups.",
            &["cache", "result"],
        );
        let cache_counters = ["api_key", "session", "user", "role"].map(|name| CacheCounters {
            name,
            hit: cache.with_label_values(&[name, "hit"]),
            miss: cache.with_label_values(&[name, "miss"]),
        });
        Self {
            requests: counter(
                "http_requests_total",
                "HTTP requests by operation and status.",
                &["operation", "status"],
            ),
            request_counters: RwLock::default(),
            allowed: decisions.with_label_values(&["allowed", ""]),
            cache_counters,
            decisions,
            cache,
            rate_limited: counter(
                "rate_limited_total",
                "Requests refused with 429, by limit.",
                &["limit"],
            ),
            emails: counter(
                "emails_total",
                "Emails by kind and outcome: sent, deferred (to be retried), failed (after retries), dropped (queue full).",
                &["kind", "outcome"],
            ),
            swept: counter(
                "swept_rows_total",
                "Rows past all use deleted by the background sweeper, by table.",
                &["table"],
            ),
            argon2_queue: gauge(
                "argon2_queue_depth",
                "Password hashing jobs queued or running.",
            ),
            pool_open: gauge("db_pool_connections", "Open database connections."),
            pool_idle: gauge("db_pool_idle_connections", "Idle database connections."),
            listening: gauge(
                "invalidation_listener_up",
                "1 while this replica hears other replicas' cache invalidations (PostgreSQL LISTEN); 0 while it reconnects, and on SQLite.",
            ),
            registry,
        }
    }

    pub(crate) fn request(&self, operation: &'static str, status: u16) {
        let key = (operation, status_label(status));
        if let Some(counter) = self
            .request_counters
            .read()
            .expect("not poisoned")
            .get(&key)
        {
            counter.inc();
            return;
        }
        let counter = self.requests.with_label_values(&[key.0, key.1]);
        counter.inc();
        // Operations are a fixed set and statuses are bucketed: this map stays small.
        self.request_counters
            .write()
            .expect("not poisoned")
            .insert(key, counter);
    }

    pub(crate) fn allowed(&self) {
        self.allowed.inc();
    }

    pub(crate) fn decision(&self, outcome: &str, reason: &str) {
        self.decisions.with_label_values(&[outcome, reason]).inc();
    }

    pub(crate) fn cache_lookup(&self, cache: &str, hit: bool) {
        match self.cache_counters.iter().find(|c| c.name == cache) {
            Some(counters) if hit => counters.hit.inc(),
            Some(counters) => counters.miss.inc(),
            None => self
                .cache
                .with_label_values(&[cache, if hit { "hit" } else { "miss" }])
                .inc(),
        }
    }

    pub(crate) fn rate_limited(&self, limit: &str) {
        self.rate_limited.with_label_values(&[limit]).inc();
    }

    pub(crate) fn swept(&self, swept: &portcullis_persistence::Swept) {
        for (table, rows) in [
            ("sessions", swept.sessions),
            ("api_keys", swept.api_keys),
            ("invitations", swept.invitations),
            ("password_resets", swept.password_resets),
        ] {
            self.swept.with_label_values(&[table]).inc_by(rows);
        }
    }

    pub(crate) fn listening(&self, up: bool) {
        self.listening.set(i64::from(up));
    }

    pub(crate) fn email(&self, kind: &str, outcome: &str) {
        self.emails.with_label_values(&[kind, outcome]).inc();
    }

    /// The text exposition, with gauges read now.
    pub fn render(&self, state: &AppState) -> String {
        self.argon2_queue.set(state.passwords.queue_depth() as i64);
        let (open, idle) = state.store.pool_usage();
        self.pool_open.set(i64::from(open));
        self.pool_idle.set(idle as i64);
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding");
        String::from_utf8(out).expect("prometheus text is UTF-8")
    }
}

struct CacheCounters {
    name: &'static str,
    hit: IntCounter,
    miss: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Static labels, so a scan of odd statuses cannot allocate new strings per request.
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        415 => "415",
        405 => "405",
        409 => "409",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        s if s < 300 => "2xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}
