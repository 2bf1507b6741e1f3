//! Access below the organization (contract section 12): resource paths the platform names,
//! grants of a role on a path, keys restricted to paths, and the role in effect at a path.

use crate::{Error, Role};
use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::Arc;

const MAX_SEGMENTS: usize = 8;
const MAX_SEGMENT_LEN: usize = 63;
/// The most paths a key may be restricted to.
pub const MAX_KEY_RESOURCES: usize = 16;

/// A platform's name for something inside an organization: 1 to 8 segments joined by `/`, each
/// matching `^[a-z0-9][a-z0-9._-]{0,62}$` (`projects/web/environments/prod`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourcePath(String);

impl ResourcePath {
    /// Takes a `String` without copying it; a `&str` is copied once it is known to be good.
    pub fn parse(raw: impl AsRef<str> + Into<String>) -> Result<Self, Error> {
        if is_valid(raw.as_ref().as_bytes()) {
            Ok(Self(raw.into()))
        } else {
            Err(Error::validation(format!(
                "'{}' is not a resource path: 1 to 8 segments joined by '/', each 1 to 63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit",
                raw.as_ref().chars().take(100).collect::<String>()
            )))
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A path covers itself and every path below it, by whole segments: `projects/web` covers
    /// `projects/web/environments/prod`, not `projects/webshop`.
    pub fn covers(&self, other: &ResourcePath) -> bool {
        let (path, other) = (self.0.as_bytes(), other.0.as_bytes());
        let n = path.len();
        // Cheap refusals first (a member may hold many grants that share a prefix, like
        // `projects/p1` … `projects/p49`): the segment boundary, then the last byte.
        other.len() >= n
            && other.get(n).is_none_or(|&byte| byte == b'/')
            && other[n - 1] == path[n - 1]
            && other.starts_with(path)
    }
}

/// One pass over the bytes (it runs on the forward-auth path): 1 to 8 segments, each 1 to 63
/// bytes, starting with `[a-z0-9]`, then `[a-z0-9._-]`.
fn is_valid(raw: &[u8]) -> bool {
    let (mut segments, mut length) = (1, 0);
    for &byte in raw {
        match BYTE_CLASS[usize::from(byte)] {
            SLASH => {
                segments += 1;
                if length == 0 || segments > MAX_SEGMENTS {
                    return false;
                }
                length = 0;
            }
            FIRST => length += 1,
            LATER if length > 0 => length += 1,
            _ => return false,
        }
        if length > MAX_SEGMENT_LEN {
            return false;
        }
    }
    length > 0
}

const OTHER: u8 = 0;
const SLASH: u8 = 1;
/// May start a segment: `[a-z0-9]`.
const FIRST: u8 = 2;
/// May follow in a segment: `[._-]`.
const LATER: u8 = 3;

/// What each byte may be in a resource path.
static BYTE_CLASS: [u8; 256] = {
    let mut class = [OTHER; 256];
    let mut byte = 0;
    while byte < 256 {
        class[byte] = match byte as u8 {
            b'/' => SLASH,
            b'a'..=b'z' | b'0'..=b'9' => FIRST,
            b'.' | b'_' | b'-' => LATER,
            _ => OTHER,
        };
        byte += 1;
    }
    class
};

impl fmt::Display for ResourcePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A role given on a resource, on top of the organization role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub resource: ResourcePath,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// A grant to be given: on joining by invitation, or by `PUT .../grants`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAt {
    pub resource: ResourcePath,
    pub role: Role,
}

impl RoleAt {
    /// A grant as asked: a valid path, and a role a grant may give.
    pub fn parse(resource: &str, role: Role) -> Result<Self, Error> {
        Ok(Self {
            resource: ResourcePath::parse(resource)?,
            role: grant_role(role)?,
        })
    }

    /// Stored as `resource=role` pairs joined by commas.
    pub fn to_csv(grants: &[RoleAt]) -> String {
        grants
            .iter()
            .map(|g| format!("{}={}", g.resource, g.role))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn from_csv(csv: &str) -> Result<Vec<RoleAt>, Error> {
        csv.split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (resource, role) = pair
                    .split_once('=')
                    .ok_or_else(|| Error::validation("a grant is resource=role"))?;
                RoleAt::parse(resource, role.parse()?)
            })
            .collect()
    }
}

/// A grant's role: `admin`, `developer` or `viewer` (owner stays organization-wide; a guest
/// grant would give nothing).
pub fn grant_role(role: Role) -> Result<Role, Error> {
    match role {
        Role::Admin | Role::Developer | Role::Viewer => Ok(role),
        Role::Owner | Role::Guest => Err(Error::validation(
            "a grant's role must be admin, developer or viewer",
        )),
    }
}

/// A member's (or service account's) place in one organization: the organization role and the
/// grants below it. What the decision reads; cached per holder and organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub grants: Vec<Grant>,
}

impl Standing {
    pub fn new(role: Role) -> Self {
        Self {
            role,
            grants: Vec::new(),
        }
    }

    /// The role in effect at `resource` (organization-wide when `None`): the highest of the
    /// organization role and the roles of the grants covering it. Grants only add.
    pub fn role_at(&self, resource: Option<&ResourcePath>) -> Role {
        let Some(resource) = resource else {
            return self.role;
        };
        self.grants
            .iter()
            .filter(|grant| grant.resource.covers(resource))
            .map(|grant| grant.role)
            .fold(self.role, Role::higher)
    }
}

/// The paths a key is restricted to: 1 to 16, duplicates dropped. A restricted key acts only at
/// or below them and has no organization-wide power.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction(Arc<[ResourcePath]>);

impl Restriction {
    pub fn new(mut paths: Vec<ResourcePath>) -> Result<Self, Error> {
        paths.sort();
        paths.dedup();
        if paths.is_empty() || paths.len() > MAX_KEY_RESOURCES {
            return Err(Error::validation(
                "resources must list 1 to 16 resource paths (leave it out for an unrestricted key)",
            ));
        }
        Ok(Self(paths.into()))
    }

    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, Error> {
        Self::new(
            raw.iter()
                .map(|p| ResourcePath::parse(p.as_ref()))
                .collect::<Result<_, _>>()?,
        )
    }

    pub fn paths(&self) -> &[ResourcePath] {
        &self.0
    }

    pub fn covers(&self, resource: &ResourcePath) -> bool {
        self.0.iter().any(|path| path.covers(resource))
    }

    /// Every path of `other` lies at or below one of these.
    pub fn contains(&self, other: &Restriction) -> bool {
        other.0.iter().all(|path| self.covers(path))
    }

    /// Stored as the paths joined by commas (commas never occur in a path).
    pub fn to_csv(&self) -> String {
        self.0
            .iter()
            .map(ResourcePath::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn from_csv(csv: &str) -> Result<Self, Error> {
        Self::parse(&csv.split(',').collect::<Vec<_>>())
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|p| p.as_str().to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> ResourcePath {
        ResourcePath::parse(s).unwrap()
    }

    #[test]
    fn paths_follow_the_contract_grammar() {
        for good in [
            "projects",
            "projects/web",
            "projects/web/environments/prod",
            "a/b/c/d/e/f/g/h",
            "v1.2_x-y",
            &"a".repeat(63),
        ] {
            assert!(ResourcePath::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/projects",
            "projects/",
            "projects//web",
            "Projects/web",
            "-web",
            ".web",
            "a/b/c/d/e/f/g/h/i",
            "proj ects",
            "projects,web",
            &"a".repeat(64),
        ] {
            assert!(ResourcePath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_path_covers_itself_and_below_by_whole_segments() {
        assert!(path("projects/web").covers(&path("projects/web")));
        assert!(path("projects/web").covers(&path("projects/web/environments/prod")));
        assert!(!path("projects/web").covers(&path("projects/webshop")));
        assert!(!path("projects/web/environments").covers(&path("projects/web")));
    }

    #[test]
    fn restrictions_hold_one_to_sixteen_distinct_paths() {
        assert!(Restriction::parse::<&str>(&[]).is_err());
        let many: Vec<String> = (0..17).map(|i| format!("p{i}")).collect();
        assert!(Restriction::parse(&many).is_err());
        let twice = Restriction::parse(&["b", "a", "b"]).unwrap();
        assert_eq!(twice.names(), ["a", "b"]);
        assert_eq!(Restriction::from_csv(&twice.to_csv()).unwrap(), twice);
    }
}
