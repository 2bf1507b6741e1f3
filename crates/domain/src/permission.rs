//! Permissions (which are also API key scopes) and organization roles.

use crate::Error;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    Admin,
    Write,
    Deploy,
    Read,
}

impl Permission {
    pub const ALL: [Permission; 4] = [Self::Admin, Self::Write, Self::Deploy, Self::Read];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Write => "write",
            Self::Deploy => "deploy",
            Self::Read => "read",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Self::Admin => 1,
            Self::Write => 2,
            Self::Deploy => 4,
            Self::Read => 8,
        }
    }
}

impl FromStr for Permission {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                Error::validation(format!(
                    "unknown permission '{s}': expected one of admin, write, deploy, read"
                ))
            })
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of permissions. `expand` spells out what `admin` implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u8);

impl Permissions {
    pub const EMPTY: Self = Self(0);
    pub const ALL: Self = Self(0b1111);

    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn intersect(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Those of `self` that `other` lacks.
    pub fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    pub fn with(self, permission: Permission) -> Self {
        Self(self.0 | permission.bit())
    }

    /// `admin` implies the other three.
    pub fn expand(self) -> Self {
        if self.contains(Permission::Admin) {
            Self::ALL
        } else {
            self
        }
    }

    /// The smallest set that expands to this one: `admin` alone when it is held.
    pub fn compact(self) -> Self {
        if self.contains(Permission::Admin) {
            Self::EMPTY.with(Permission::Admin)
        } else {
            self
        }
    }

    /// In the contract's order: admin, write, deploy, read.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    pub fn names(self) -> Vec<String> {
        self.iter().map(|p| p.as_str().to_owned()).collect()
    }

    /// Parses a list of scope names: non-empty, every name known. Duplicates collapse.
    pub fn parse_scopes<S: AsRef<str>>(names: &[S]) -> Result<Self, Error> {
        if names.is_empty() {
            return Err(Error::validation(
                "scopes must name at least one of admin, write, deploy, read",
            ));
        }
        names.iter().try_fold(
            Self::EMPTY,
            |set, name| Ok(set.with(name.as_ref().parse()?)),
        )
    }

    /// The compact form stored in the database: `admin,read`.
    pub fn to_csv(self) -> String {
        self.names().join(",")
    }

    pub fn from_csv(csv: &str) -> Self {
        csv.split(',')
            .filter_map(|name| name.parse().ok())
            .fold(Self::EMPTY, Self::with)
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

/// A member's role in one organization (or, through a grant, at a resource).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Admin,
    Developer,
    Viewer,
    /// Nothing organization-wide: only what its grants give.
    Guest,
}

impl Role {
    /// Highest first.
    pub const ALL: [Role; 5] = [
        Self::Owner,
        Self::Admin,
        Self::Developer,
        Self::Viewer,
        Self::Guest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Viewer => "viewer",
            Self::Guest => "guest",
        }
    }

    /// The higher of two roles: owner > admin > developer > viewer > guest.
    pub fn higher(self, other: Role) -> Role {
        if self.rank() <= other.rank() {
            self
        } else {
            other
        }
    }

    fn rank(self) -> usize {
        self as usize
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Error::validation(format!(
                    "unknown role '{s}': expected one of owner, admin, developer, viewer, guest"
                ))
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_expands_to_every_permission_in_contract_order() {
        let admin = Permissions::parse_scopes(&["admin"]).unwrap().expand();
        assert_eq!(admin.names(), ["admin", "write", "deploy", "read"]);
    }

    #[test]
    fn scopes_must_be_known_and_non_empty() {
        assert!(Permissions::parse_scopes::<&str>(&[]).is_err());
        assert!(Permissions::parse_scopes(&["read", "root"]).is_err());
        assert!(Permissions::parse_scopes(&["Read"]).is_err());
    }

    #[test]
    fn csv_round_trips() {
        let set = Permissions::parse_scopes(&["read", "deploy", "read"]).unwrap();
        assert_eq!(set.to_csv(), "deploy,read");
        assert_eq!(Permissions::from_csv(&set.to_csv()), set);
    }

    #[test]
    fn without_lists_what_is_missing() {
        let have = Permissions::parse_scopes(&["read"]).unwrap();
        let want = Permissions::parse_scopes(&["read", "deploy"]).unwrap();
        assert_eq!(want.without(have).names(), ["deploy"]);
        assert!(have.is_subset_of(want));
        assert!(!want.is_subset_of(have));
    }

    #[test]
    fn roles_parse_by_their_contract_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
