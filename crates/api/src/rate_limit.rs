//! Abuse limits (429 with `Retry-After`): password attempts (login, signup) per client address
//! and per email, link attempts (invitation lookups, password-reset requests) per client
//! address, password-reset requests per email, failed logins per email, failed authentications
//! per client address, password changes per user. Addresses are keyed by `address_bucket`, so
//! one IPv6 /64 (what one subscriber gets) is one client.

use crate::state::AppState;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use moka::sync::Cache;
use portcullis_domain::{Email, Error};
use std::collections::VecDeque;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The window of the failed-logins-per-email limit.
const FAILED_LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Password changes allowed per user, refilled one every 6 minutes (10 an hour).
const PASSWORD_CHANGES: u32 = 10;
const PASSWORD_CHANGE_PERIOD: Duration = Duration::from_secs(6 * 60);
/// Password-reset requests allowed per email, refilled one every 12 minutes (5 an hour): one
/// mailbox cannot be flooded from many addresses.
const RESET_REQUESTS: u32 = 5;
const RESET_REQUEST_PERIOD: Duration = Duration::from_secs(12 * 60);

/// How many of each are allowed; 0 disables that limit.
#[derive(Debug, Clone, Copy)]
pub struct LimitSettings {
    /// Login and signup attempts per client address per minute.
    pub password_attempts_per_minute: u32,
    /// Failed logins per email per 15 minutes.
    pub failed_logins_per_email: u32,
    /// Failed authentications (junk keys, sessions, tokens) per client address per minute.
    pub failed_auth_per_minute: u32,
}

pub struct Limits {
    password_attempts: Limiter<IpAddr>,
    email_attempts: Limiter<Email>,
    reset_requests: Limiter<Email>,
    link_attempts: Limiter<IpAddr>,
    failed_logins: FailedLogins,
    failed_auth: Limiter<IpAddr>,
    password_changes: Limiter<Uuid>,
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Self {
        let per_minute = |n: u32| NonZeroU32::new(n).map(Quota::per_minute);
        Self {
            password_attempts: Limiter::new(per_minute(settings.password_attempts_per_minute)),
            email_attempts: Limiter::new(per_minute(settings.password_attempts_per_minute)),
            reset_requests: Limiter::new(burst(RESET_REQUEST_PERIOD, RESET_REQUESTS)),
            link_attempts: Limiter::new(per_minute(settings.password_attempts_per_minute)),
            failed_logins: FailedLogins::new(settings.failed_logins_per_email),
            failed_auth: Limiter::new(per_minute(settings.failed_auth_per_minute)),
            password_changes: Limiter::new(burst(PASSWORD_CHANGE_PERIOD, PASSWORD_CHANGES)),
        }
    }

    /// Forgets clients that have been quiet: keeps memory bounded.
    pub fn forget_idle(&self) {
        self.password_attempts.forget_idle();
        self.email_attempts.forget_idle();
        self.reset_requests.forget_idle();
        self.link_attempts.forget_idle();
        self.failed_auth.forget_idle();
        self.password_changes.forget_idle();
    }
}

impl AppState {
    /// A login or signup attempt from `client`.
    pub(crate) fn limit_password_attempt(&self, client: Option<IpAddr>) -> Result<(), Error> {
        let Some(client) = client else { return Ok(()) };
        self.counted(
            "password_attempts",
            self.limits.password_attempts.check(address_bucket(client)),
        )
    }

    /// A login or signup attempt for `email`, from whatever address.
    pub(crate) fn limit_email_attempt(&self, email: &Email) -> Result<(), Error> {
        self.counted(
            "email_attempts",
            self.limits.email_attempts.check(email.clone()),
        )
    }

    /// A password-reset request for `email`, whether or not it is an account's (a 429 tells
    /// nothing about the account).
    pub(crate) fn limit_reset_request(&self, email: &Email) -> Result<(), Error> {
        self.counted(
            "reset_requests",
            self.limits.reset_requests.check(email.clone()),
        )
    }

    /// An invitation lookup or a password-reset request from `client`: probing tokens or
    /// flooding mailboxes is bounded like guessing passwords.
    pub(crate) fn limit_link_attempt(&self, client: Option<IpAddr>) -> Result<(), Error> {
        let Some(client) = client else { return Ok(()) };
        self.counted(
            "link_attempts",
            self.limits.link_attempts.check(address_bucket(client)),
        )
    }

    /// Refuses a login for an email that has failed too often lately, even with the right
    /// password: that is what stops guessing one account's password from many addresses.
    pub(crate) fn limit_failed_logins(&self, email: &Email) -> Result<(), Error> {
        self.counted("failed_logins", self.limits.failed_logins.check(email))
    }

    pub(crate) fn record_failed_login(&self, email: &Email) {
        self.limits.failed_logins.record(email);
    }

    /// A credential from `client` was refused: too many, and the answer becomes 429.
    pub(crate) fn limit_failed_auth(&self, client: Option<IpAddr>) -> Result<(), Error> {
        let Some(client) = client else { return Ok(()) };
        self.counted(
            "failed_auth",
            self.limits.failed_auth.check(address_bucket(client)),
        )
    }

    pub(crate) fn limit_password_change(&self, user_id: Uuid) -> Result<(), Error> {
        self.counted(
            "password_changes",
            self.limits.password_changes.check(user_id),
        )
    }

    fn counted(&self, limit: &str, outcome: Result<(), Error>) -> Result<(), Error> {
        if outcome.is_err() {
            self.metrics.rate_limited(limit);
        }
        outcome
    }
}

/// `burst` at once, then one per `period`.
fn burst(period: Duration, burst: u32) -> Option<Quota> {
    Quota::with_period(period)
        .zip(NonZeroU32::new(burst))
        .map(|(quota, burst)| quota.allow_burst(burst))
}

/// The key an address is limited by: IPv4 addresses alone, IPv6 by their /64.
pub fn address_bucket(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

fn rate_limited(wait: Duration) -> Error {
    Error::RateLimited {
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

struct Limiter<K: Hash + Eq + Clone>(Option<DefaultKeyedRateLimiter<K>>);

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(quota: Option<Quota>) -> Self {
        Self(quota.map(DefaultKeyedRateLimiter::keyed))
    }

    fn check(&self, key: K) -> Result<(), Error> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter.check_key(&key).map_err(|not_until| {
            rate_limited(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    fn forget_idle(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
        }
    }
}

/// Failed logins per email in a sliding window. A failure is counted only after it happened, so
/// the limit is checked without being spent (which governor cannot do).
struct FailedLogins {
    allowed: usize,
    failures: Cache<String, Arc<Mutex<VecDeque<Instant>>>>,
}

impl FailedLogins {
    fn new(allowed: u32) -> Self {
        Self {
            allowed: allowed as usize,
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(FAILED_LOGIN_WINDOW)
                .build(),
        }
    }

    fn check(&self, email: &Email) -> Result<(), Error> {
        if self.allowed == 0 {
            return Ok(());
        }
        let Some(failures) = self.failures.get(email.as_str()) else {
            return Ok(());
        };
        let mut failures = failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while failures
            .front()
            .is_some_and(|at| now.duration_since(*at) >= FAILED_LOGIN_WINDOW)
        {
            failures.pop_front();
        }
        match failures.front() {
            Some(oldest) if failures.len() >= self.allowed => Err(rate_limited(
                FAILED_LOGIN_WINDOW - now.duration_since(*oldest),
            )),
            _ => Ok(()),
        }
    }

    fn record(&self, email: &Email) {
        if self.allowed == 0 {
            return;
        }
        let failures = self
            .failures
            .get_with(email.as_str().to_owned(), Arc::default);
        let mut failures = failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.push_back(Instant::now());
        while failures.len() > self.allowed {
            failures.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_ipv6_64_is_one_client_and_ipv4_addresses_stand_alone() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_bucket(a), address_bucket(b));
        assert_ne!(address_bucket(a), address_bucket(c));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(address_bucket(v4), v4);
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_bucket(mapped), v4);
    }
}
