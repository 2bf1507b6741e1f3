use crate::{Email, Error, Name};
use chrono::{DateTime, Utc};
use std::fmt;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub email: Email,
    pub name: Option<Name>,
    pub created_at: DateTime<Utc>,
    pub platform_admin: bool,
    pub disabled: bool,
}

impl User {
    /// A disabled user authenticates with nothing: no session, key or token.
    pub fn authenticate(&self) -> Result<(), crate::Unauthenticated> {
        if self.disabled {
            Err(crate::Unauthenticated::Disabled)
        } else {
            Ok(())
        }
    }
}

/// A new password that meets the policy: 8 to 128 characters and not the account's email.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str, email: &Email) -> Result<Self, Error> {
        if !(8..=128).contains(&raw.chars().count()) {
            return Err(Error::validation("password must be 8 to 128 characters"));
        }
        if raw.trim().eq_ignore_ascii_case(email.as_str()) {
            return Err(Error::validation("password must not be the email address"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        let email = Email::parse("ada@example.com").unwrap();
        assert!(Password::parse("correct horse", &email).is_ok());
        assert!(Password::parse("short", &email).is_err());
        assert!(Password::parse(&"x".repeat(129), &email).is_err());
        assert!(Password::parse("ADA@example.com", &email).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("correct horse", &email).unwrap()),
            "Password(<redacted>)"
        );
    }
}
