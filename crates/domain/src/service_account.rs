//! Service accounts (contract section 11): non-human members of one organization, for CI and
//! integrations. Their keys act with the account's current role and keep working when the person
//! who made them leaves.

use crate::{Error, Name, Role};
use chrono::{DateTime, Utc};
use uuid::Uuid;

const MAX_DESCRIPTION: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: Name,
    pub description: Option<String>,
    pub role: Role,
    /// The person who created it (none when the root token did).
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A service account's role: `admin`, `developer`, `viewer` or `guest`; never `owner`.
pub fn account_role(role: Role) -> Result<Role, Error> {
    if role == Role::Owner {
        Err(Error::validation(
            "a service account's role must be admin, developer, viewer or guest",
        ))
    } else {
        Ok(role)
    }
}

/// A description: trimmed, at most 1000 characters; empty means none.
pub fn description(raw: Option<&str>) -> Result<Option<String>, Error> {
    let Some(text) = raw.map(str::trim) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(Error::validation(
            "description must be at most 1000 characters",
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}
