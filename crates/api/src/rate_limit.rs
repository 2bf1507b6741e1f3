//! Per-client limits on the password endpoints (login, signup, password reset) and on the
//! link endpoints (invitation lookup, password-reset requests), so one address cannot
//! brute-force passwords, probe tokens, flood mailboxes or queue argon2 work without bound.

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use portcullis_domain::Error;
use std::net::IpAddr;
use std::num::NonZeroU32;

pub struct PasswordAttempts(Option<DefaultKeyedRateLimiter<IpAddr>>);

impl PasswordAttempts {
    /// `per_minute` attempts per client address (bursting up to that many); 0 disables the limit.
    pub fn new(per_minute: u32) -> Self {
        Self(
            NonZeroU32::new(per_minute)
                .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
        )
    }

    pub fn check(&self, client: Option<IpAddr>) -> Result<(), Error> {
        let (Some(limiter), Some(client)) = (&self.0, client) else {
            return Ok(());
        };
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Error::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }

    /// Forgets clients that have been quiet: keeps memory bounded.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
        }
    }
}
