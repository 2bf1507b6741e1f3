use crate::{Email, Error, Name, Role};
use chrono::{DateTime, Utc};
use std::fmt;
use uuid::Uuid;

/// An organization's URL-safe handle: `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSlug(String);

impl OrgSlug {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let bytes = raw.as_bytes();
        let valid = (1..=63).contains(&bytes.len())
            && alnum(bytes[0])
            && alnum(bytes[bytes.len() - 1])
            && bytes.iter().all(|&b| alnum(b) || b == b'-');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::validation(
                "slug must be 1 to 63 lower-case letters, digits or '-', starting and ending with a letter or digit",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Uuid,
    pub name: Name,
    pub slug: OrgSlug,
    pub created_at: DateTime<Utc>,
}

/// What a deleted organization leaves behind for platform admins: the organization as it was,
/// when and by whom it was deleted (`actor_user_id` is `None` for the root token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationDeletion {
    /// A UUID v7 made at deletion: ordering by id is ordering by deletion time.
    pub id: Uuid,
    pub organization: Organization,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub ip: Option<String>,
}

/// One of a user's organizations, with the role held there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub organization_id: Uuid,
    pub role: Role,
}

/// A member as listed in an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: Uuid,
    pub email: Email,
    pub name: Option<Name>,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    /// Roles on resources, on top of `role`.
    pub grants: Vec<crate::Grant>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_contract_pattern() {
        for good in ["a", "acme", "acme-prod", "a1", &"a".repeat(63)] {
            assert!(OrgSlug::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "-acme",
            "acme-",
            "Acme",
            "ac_me",
            "acmé",
            &"a".repeat(64),
        ] {
            assert!(OrgSlug::parse(bad).is_err(), "{bad:?}");
        }
    }
}
