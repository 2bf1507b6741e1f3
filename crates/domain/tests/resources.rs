//! Truth tables for access below the organization (contract v2 sections 4, 11 and 12): the
//! decision at resources for sessions, keys (restricted or not) and access tokens, creating keys
//! (a person's and a service account's) with `resources`, managing service accounts' and
//! restricted keys, and the resource path grammar.
//!
//! Every table is enumerated exhaustively and checked against the contract written out by hand
//! below: its own permission sets, its own role ranking, its own whole-segment prefix rule and
//! its own path grammar. The oracle never calls the domain's `Standing::role_at`,
//! `ResourcePath::covers`, `Restriction::covers` or `Policy`.

use chrono::{DateTime, TimeZone, Utc};
use portcullis_domain::rules::{self, KeyAction, KeyRequest, KeyTarget};
use portcullis_domain::{
    Access, Denial, Error, Grant, Holder, Permission, Permissions, Policy, Principal, ResourcePath,
    Restriction, Role, Standing,
};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// The contract, by hand.
// ---------------------------------------------------------------------------------------------

const NAMES: [&str; 4] = ["admin", "write", "deploy", "read"];

/// A set of permission names: one bit per entry of `NAMES` (this test's own encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Set(u8);

impl Set {
    const EMPTY: Set = Set(0);
    const ALL: Set = Set(0b1111);

    fn of(names: &[&str]) -> Set {
        Set(names
            .iter()
            .map(|name| 1 << NAMES.iter().position(|n| n == name).expect("a known name"))
            .fold(0, |bits, bit| bits | bit))
    }

    fn has(self, name: &str) -> bool {
        self.0 & Set::of(&[name]).0 != 0
    }

    /// Section 4: `admin` implies the other three.
    fn expand(self) -> Set {
        if self.has("admin") { Set::ALL } else { self }
    }

    fn and(self, other: Set) -> Set {
        Set(self.0 & other.0)
    }

    fn is_subset_of(self, other: Set) -> bool {
        self.0 & !other.0 == 0
    }

    fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn names(self) -> Vec<&'static str> {
        NAMES.into_iter().filter(|n| self.has(n)).collect()
    }

    /// The asked names that `held` does not hold, as asked (section 3: `admin` is named as
    /// `admin`, and stands for all four).
    fn missing_from(self, held: Set) -> Set {
        Set::of(
            &self
                .names()
                .into_iter()
                .filter(|n| !Set::of(&[n]).expand().is_subset_of(held))
                .collect::<Vec<_>>(),
        )
    }

    /// The smallest set that spells this effective set (how a key target is asked for).
    fn compact(self) -> Set {
        if self.has("admin") {
            Set::of(&["admin"])
        } else {
            self
        }
    }

    fn nonempty() -> Vec<Set> {
        (1..16).map(Set).collect()
    }

    fn domain(self) -> Permissions {
        self.names()
            .into_iter()
            .map(|n| n.parse::<Permission>().unwrap())
            .collect()
    }

    fn from_domain(permissions: Permissions) -> Set {
        permissions
            .iter()
            .fold(Set::EMPTY, |set, p| Set(set.0 | Set::of(&[p.as_str()]).0))
    }
}

/// Section 4's and 12's role table.
fn role_grants(role: Role) -> Set {
    match role {
        Role::Owner | Role::Admin => Set::ALL,
        Role::Developer => Set::of(&["write", "deploy", "read"]),
        Role::Viewer => Set::of(&["read"]),
        // Nothing organization-wide: only what grants give.
        Role::Guest => Set::EMPTY,
    }
}

/// Section 12: owner > admin > developer > viewer > guest.
fn rank(role: Role) -> u8 {
    match role {
        Role::Owner => 4,
        Role::Admin => 3,
        Role::Developer => 2,
        Role::Viewer => 1,
        Role::Guest => 0,
    }
}

/// Section 12: a path covers itself and every path below it, by whole segments.
fn covers(upper: &str, lower: &str) -> bool {
    let (mut upper, mut lower) = (upper.split('/'), lower.split('/'));
    loop {
        match (upper.next(), lower.next()) {
            // Every segment of the upper path matched, in order.
            (None, _) => return true,
            (Some(_), None) => return false,
            (Some(u), Some(l)) if u != l => return false,
            _ => {}
        }
    }
}

type Grants = Vec<(&'static str, Role)>;

/// The role in effect at `at` (organization-wide when `None`): the highest of the organization
/// role and the roles of the grants covering it.
fn role_in_effect(org_role: Role, grants: &[(&str, Role)], at: Option<&str>) -> Role {
    let mut best = org_role;
    if let Some(at) = at {
        for (path, role) in grants {
            if covers(path, at) && rank(*role) > rank(best) {
                best = *role;
            }
        }
    }
    best
}

/// Someone's place in the organization, by hand.
#[derive(Debug, Clone)]
struct Place {
    role: Role,
    grants: Grants,
}

/// A credential, by hand.
#[derive(Debug, Clone)]
enum Cred {
    Session,
    Key {
        scopes: Set,
        resources: Option<Vec<&'static str>>,
    },
}

/// What `cred` held by someone at `place` may do at `at`, and whether it is refused there for
/// being restricted elsewhere.
fn effective(place: &Place, cred: &Cred, at: Option<&str>) -> (Set, bool) {
    let grants = role_grants(role_in_effect(place.role, &place.grants, at));
    match cred {
        Cred::Session => (grants, false),
        Cred::Key {
            scopes,
            resources: None,
        } => (grants.and(scopes.expand()), false),
        Cred::Key {
            scopes,
            resources: Some(paths),
        } => match at {
            Some(at) if paths.iter().any(|p| covers(p, at)) => (grants.and(scopes.expand()), false),
            _ => (Set::EMPTY, true),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The universe.
// ---------------------------------------------------------------------------------------------

const ROLES: [Role; 5] = [
    Role::Owner,
    Role::Admin,
    Role::Developer,
    Role::Viewer,
    Role::Guest,
];
const GRANT_ROLES: [Role; 3] = [Role::Admin, Role::Developer, Role::Viewer];
/// Where one may be asked: `projects/web` and `projects/webshop` share a string prefix only.
const PATHS: [&str; 5] = [
    "projects",
    "projects/web",
    "projects/web/environments/prod",
    "projects/webshop",
    "projects/api",
];
const GRANT_PATHS: [&str; 4] = [
    "projects",
    "projects/web",
    "projects/web/environments/prod",
    "projects/webshop",
];
const RESTRICTION_PATHS: [&str; 4] = [
    "projects/web",
    "projects/web/environments/prod",
    "projects/webshop",
    "projects/api",
];

const ORG: Uuid = Uuid::from_u128(1);
const ME: Uuid = Uuid::from_u128(2);
const SOMEONE: Uuid = Uuid::from_u128(3);
const MY_KEY: Uuid = Uuid::from_u128(4);
const OTHER_KEY: Uuid = Uuid::from_u128(5);
const ACCOUNT: Uuid = Uuid::from_u128(6);
const OTHER_ACCOUNT: Uuid = Uuid::from_u128(7);

/// No grants, every single grant, and every pair of grants on two different paths (a holder
/// has at most one grant per resource: `PUT` changes it).
fn grant_sets(paths: &[&'static str]) -> Vec<Grants> {
    let items: Vec<(&'static str, Role)> = paths
        .iter()
        .flat_map(|p| GRANT_ROLES.map(|r| (*p, r)))
        .collect();
    let mut sets = vec![vec![]];
    sets.extend(items.iter().map(|item| vec![*item]));
    for (i, a) in items.iter().enumerate() {
        for b in &items[i + 1..] {
            if a.0 != b.0 {
                sets.push(vec![*a, *b]);
            }
        }
    }
    sets
}

/// Unrestricted, or restricted to one or two paths.
fn restrictions(paths: &[&'static str]) -> Vec<Option<Vec<&'static str>>> {
    let mut all = vec![None];
    all.extend(paths.iter().map(|p| Some(vec![*p])));
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            all.push(Some(vec![*a, *b]));
        }
    }
    all
}

fn asked_places() -> Vec<Option<&'static str>> {
    std::iter::once(None)
        .chain(PATHS.into_iter().map(Some))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The domain's values for the same cases.
// ---------------------------------------------------------------------------------------------

async fn policy() -> Policy {
    Policy::builtin().await.unwrap()
}

fn path(raw: &str) -> ResourcePath {
    ResourcePath::parse(raw).unwrap()
}

fn at(raw: Option<&str>) -> Option<ResourcePath> {
    raw.map(path)
}

fn standing(place: &Place) -> Standing {
    let created_at: DateTime<Utc> = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    Standing {
        role: place.role,
        grants: place
            .grants
            .iter()
            .map(|(resource, role)| Grant {
                resource: path(resource),
                role: *role,
                created_at,
            })
            .collect(),
    }
}

fn restriction(paths: &[&str]) -> Restriction {
    Restriction::parse(paths).unwrap()
}

fn principal(holder: Holder, key_id: Uuid, cred: &Cred) -> Principal {
    match cred {
        Cred::Session => Principal::Session {
            user_id: holder.user_id().expect("a session is a person's"),
            session_id: Uuid::from_u128(9),
        },
        Cred::Key { scopes, resources } => Principal::ApiKey {
            holder,
            key_id,
            organization_id: ORG,
            scopes: scopes.domain(),
            expires_at: None,
            resources: resources.as_deref().map(restriction),
        },
    }
}

fn kind<T>(result: &Result<T, Denial>) -> Result<(), &'static str> {
    match result {
        Ok(_) => Ok(()),
        Err(denial) => Err(denial.kind()),
    }
}

/// Checks one `require` against the oracle: allowed or not, the missing permission named as
/// asked, and an outside refusal (`outside`: `Some(asked place)`) saying why, naming `whose`
/// resources the asked place is outside of.
fn check_require(
    access: &Access,
    permission: &'static str,
    allowed: bool,
    outside: Option<Option<&str>>,
    whose: &str,
    case: impl Fn() -> String,
) {
    let got = access.require(permission.parse().unwrap());
    match got {
        Ok(()) => assert!(allowed, "allowed but should not be: {}", case()),
        Err(denial) => {
            let case = case();
            assert!(!allowed, "refused but should not be: {case}: {denial:?}");
            assert_eq!(
                denial.missing().map(Set::from_domain),
                Some(Set::of(&[permission])),
                "a 403 names the asked permission: {case}"
            );
            let message = denial.message();
            assert!(
                message.contains(&format!("'{permission}'")) || outside.is_some(),
                "the message names the permission: {case}: {message}"
            );
            match outside {
                Some(Some(resource)) => assert!(
                    message.contains(&format!("resource '{resource}' is outside this {whose}")),
                    "the message says the resource is outside: {case}: {message}"
                ),
                Some(None) => assert!(
                    message.contains("organization-wide"),
                    "the message says there is no organization-wide power: {case}: {message}"
                ),
                None => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The decision at resources.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_sessions_power_at_a_resource_is_the_role_in_effect_there() {
    let policy = policy().await;
    let me = Principal::Session {
        user_id: ME,
        session_id: Uuid::from_u128(9),
    };
    let mut cases = 0;
    for role in ROLES {
        for grants in grant_sets(&GRANT_PATHS) {
            let place = Place { role, grants };
            let standing = standing(&place);
            for asked in asked_places() {
                let access = me
                    .access(&policy, ORG, Some(&standing), at(asked).as_ref())
                    .unwrap();
                let (want, _) = effective(&place, &Cred::Session, asked);
                let case = format!("{place:?} session at {asked:?}");
                assert_eq!(Set::from_domain(access.permissions), want, "{case}");
                assert!(!access.is_outside(), "{case}");
                assert_eq!(
                    access.role,
                    Some(role_in_effect(role, &place.grants, asked)),
                    "{case}"
                );
                for permission in NAMES {
                    check_require(&access, permission, want.has(permission), None, "", || {
                        case.clone()
                    });
                    cases += 1;
                }
            }
        }
    }
    // 5 roles × (1 + 12 + 54) grant sets × 6 places × 4 permissions.
    assert_eq!(cases, 5 * 67 * 6 * 4);
}

/// The key table over one slice of the universe: every holder role given, every grant set,
/// every restriction, every scope set given, every place, every permission. Returns the number
/// of cases.
fn key_table(
    policy: &Policy,
    holder: Holder,
    roles: &[Role],
    grant_sets: &[Grants],
    scope_sets: &[Set],
) -> usize {
    let restrictions = restrictions(&RESTRICTION_PATHS);
    let places: Vec<(Option<&str>, Option<ResourcePath>)> =
        asked_places().into_iter().map(|a| (a, at(a))).collect();
    let mut cases = 0;
    for &role in roles {
        for grants in grant_sets {
            let place = Place {
                role,
                grants: grants.clone(),
            };
            let standing = standing(&place);
            for resources in &restrictions {
                for &scopes in scope_sets {
                    let cred = Cred::Key {
                        scopes,
                        resources: resources.clone(),
                    };
                    let key = principal(holder, MY_KEY, &cred);
                    for (asked, asked_path) in &places {
                        let access = key
                            .access(policy, ORG, Some(&standing), asked_path.as_ref())
                            .unwrap();
                        let (want, outside) = effective(&place, &cred, *asked);
                        let case = || format!("{holder:?} {place:?} key {cred:?} at {asked:?}");
                        if Set::from_domain(access.permissions) != want
                            || access.is_outside() != outside
                        {
                            panic!(
                                "{}: got {:?} (outside: {}), want {want:?} (outside: {outside})",
                                case(),
                                access.permissions,
                                access.is_outside()
                            );
                        }
                        for permission in NAMES {
                            check_require(
                                &access,
                                permission,
                                want.has(permission),
                                outside.then_some(*asked),
                                "API key's resources",
                                case,
                            );
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    cases
}

/// Scope sets that tell the rule apart: `admin` (all four), one plain scope, two, and three.
fn representative_scopes() -> [Set; 4] {
    [
        Set::of(&["admin"]),
        Set::of(&["read"]),
        Set::of(&["write", "deploy"]),
        Set::of(&["write", "deploy", "read"]),
    ]
}

#[tokio::test]
async fn a_keys_power_at_a_resource_is_the_role_in_effect_there_within_its_paths() {
    let policy = policy().await;
    let cases = key_table(
        &policy,
        Holder::User(ME),
        &ROLES,
        &grant_sets(&GRANT_PATHS),
        &representative_scopes(),
    );
    // 5 roles × (1 + 12 + 54) grant sets × (1 + 4 + 6) restrictions × 4 scope sets × 6 places ×
    // 4 permissions.
    assert_eq!(cases, 5 * 67 * 11 * 4 * 6 * 4);
}

#[tokio::test]
async fn a_keys_power_at_a_resource_lies_within_every_one_of_its_scope_sets() {
    let policy = policy().await;
    let single_grants: Vec<Grants> = grant_sets(&GRANT_PATHS)
        .into_iter()
        .filter(|g| g.len() <= 1)
        .collect();
    let cases = key_table(
        &policy,
        Holder::User(ME),
        &ROLES,
        &single_grants,
        &Set::nonempty(),
    );
    // 5 roles × (1 + 12) grant sets × 11 restrictions × 15 scope sets × 6 places × 4 permissions.
    assert_eq!(cases, 5 * 13 * 11 * 15 * 6 * 4);
}

#[tokio::test]
async fn a_service_accounts_key_decides_at_resources_like_a_persons() {
    let policy = policy().await;
    let single_grants: Vec<Grants> = grant_sets(&GRANT_PATHS)
        .into_iter()
        .filter(|g| g.len() <= 1)
        .collect();
    // A service account's role is never owner (section 11).
    let cases = key_table(
        &policy,
        Holder::ServiceAccount(ACCOUNT),
        &ROLES[1..],
        &single_grants,
        &representative_scopes(),
    );
    assert_eq!(cases, 4 * 13 * 11 * 4 * 6 * 4);
}

#[tokio::test]
async fn the_root_token_has_every_permission_at_every_resource() {
    let policy = policy().await;
    for asked in asked_places() {
        let access = Principal::Root
            .access(&policy, ORG, None, at(asked).as_ref())
            .unwrap();
        assert_eq!(access.permissions, Permissions::ALL, "{asked:?}");
    }
}

#[tokio::test]
async fn the_decision_needs_the_holders_standing_and_the_keys_organization() {
    let policy = policy().await;
    for resources in restrictions(&RESTRICTION_PATHS) {
        let cred = Cred::Key {
            scopes: Set::ALL,
            resources,
        };
        let key = principal(Holder::User(ME), MY_KEY, &cred);
        for asked in asked_places() {
            let asked = at(asked);
            assert_eq!(
                key.access(&policy, ORG, None, asked.as_ref()),
                Err(Denial::NotMember)
            );
            let owner = Standing::new(Role::Owner);
            assert_eq!(
                key.access(&policy, Uuid::from_u128(99), Some(&owner), asked.as_ref()),
                Err(Denial::OtherOrganization)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Access tokens.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_access_token_acts_only_at_or_below_the_resource_it_was_minted_for() {
    let policy = policy().await;
    let issuers: Vec<(Cred, Holder)> = {
        let mut all = vec![(Cred::Session, Holder::User(ME))];
        for scopes in Set::nonempty() {
            all.push((
                Cred::Key {
                    scopes,
                    resources: None,
                },
                Holder::User(ME),
            ));
        }
        for resources in restrictions(&RESTRICTION_PATHS).into_iter().skip(1) {
            for scopes in [
                Set::of(&["admin"]),
                Set::of(&["read"]),
                Set::of(&["write", "deploy"]),
            ] {
                all.push((
                    Cred::Key {
                        scopes,
                        resources: Some(resources.clone().unwrap()),
                    },
                    Holder::ServiceAccount(ACCOUNT),
                ));
            }
        }
        all
    };
    // No grants, and every single grant.
    let grant_sets: Vec<Grants> = grant_sets(&GRANT_PATHS)
        .into_iter()
        .filter(|g| g.len() <= 1)
        .collect();
    let (mut cases, mut minted_count, mut refused) = (0, 0, 0);
    for role in ROLES {
        for grants in &grant_sets {
            let place = Place {
                role,
                grants: grants.clone(),
            };
            let standing = standing(&place);
            for (cred, holder) in &issuers {
                let issuer = principal(*holder, MY_KEY, cred);
                for minted_at in asked_places() {
                    let access = issuer
                        .access(&policy, ORG, Some(&standing), at(minted_at).as_ref())
                        .unwrap();
                    let minted = rules::mint_token(&issuer, &access);
                    let (carried, outside) = effective(&place, cred, minted_at);
                    // A restricted key has no organization-wide power and none outside its
                    // paths, so it mints only for a resource within them.
                    let case = format!("{place:?} {cred:?} minting at {minted_at:?}");
                    assert_eq!(
                        kind(&minted),
                        if outside {
                            Err("outside_resources")
                        } else {
                            Ok(())
                        },
                        "{case}"
                    );
                    if minted.is_err() {
                        refused += 1;
                        cases += 1;
                        continue;
                    }
                    minted_count += 1;
                    assert_eq!(Set::from_domain(access.permissions), carried, "{case}");
                    let token = Principal::AccessToken {
                        user_id: holder.user_id(),
                        service_account_id: holder.service_account_id(),
                        organization_id: ORG,
                        role: access.role,
                        permissions: access.permissions,
                        person: matches!(cred, Cred::Session),
                        resource: at(minted_at),
                    };
                    assert_eq!(
                        kind(&rules::mint_token(&token, &access)),
                        Err("token_mints_no_tokens")
                    );
                    for asked in asked_places() {
                        // Standing is the database's: a token carries its own and ignores it.
                        let access = token
                            .access(&policy, ORG, None, at(asked).as_ref())
                            .unwrap();
                        let within = match (minted_at, asked) {
                            (None, _) => true,
                            (Some(minted_at), Some(asked)) => covers(minted_at, asked),
                            (Some(_), None) => false,
                        };
                        let want = if within { carried } else { Set::EMPTY };
                        let case = format!("{case}, token used at {asked:?}");
                        assert_eq!(Set::from_domain(access.permissions), want, "{case}");
                        assert_eq!(access.is_outside(), !within, "{case}");
                        assert_eq!(access.require_organization_wide().is_ok(), within, "{case}");
                        for permission in NAMES {
                            check_require(
                                &access,
                                permission,
                                want.has(permission),
                                (!within).then_some(asked),
                                "access token's resource",
                                || case.clone(),
                            );
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    // Issuers: a session, 15 unrestricted keys, 10 restrictions × 3 scope sets. Per role and
    // grant set, the session and unrestricted keys mint at all 6 places (96 mints) and the
    // restricted keys only at the paths their restriction covers: 19 (restriction, path) pairs ×
    // 3 = 57 mints, 180 - 57 = 123 refusals. Each mint is used at 6 places × 4 permissions.
    assert_eq!(issuers.len(), 1 + 15 + 10 * 3);
    let minted = minted_count;
    assert_eq!(minted, 5 * 13 * (96 + 57));
    assert_eq!(refused, 5 * 13 * 123);
    assert_eq!(cases, minted * 6 * 4 + refused);
}

// ---------------------------------------------------------------------------------------------
// Creating keys with `resources`.
// ---------------------------------------------------------------------------------------------

/// The contract's answer to `cred` (held by someone at `place`) creating a key with `scopes`
/// and `resources`: `Ok`, `BeyondCreatorResources`, or the missing permissions at each place
/// where something is missing (the denial names those of one such place).
fn expected_create(
    place: &Place,
    cred: &Cred,
    scopes: Set,
    resources: Option<&[&'static str]>,
) -> Result<(), Result<&'static str, Vec<Set>>> {
    if let Cred::Key {
        resources: Some(creator),
        ..
    } = cred
    {
        let within = resources
            .is_some_and(|asked| asked.iter().all(|a| creator.iter().any(|c| covers(c, a))));
        if !within {
            return Err(Ok("beyond_creator_resources"));
        }
    }
    let places: Vec<Option<&str>> = match resources {
        Some(paths) => paths.iter().map(|p| Some(*p)).collect(),
        None => vec![None],
    };
    let missing: Vec<Set> = places
        .into_iter()
        .map(|at| scopes.missing_from(effective(place, cred, at).0))
        .filter(|m| !m.is_empty())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Err(missing))
    }
}

fn check_created<T: std::fmt::Debug>(
    got: &Result<T, Denial>,
    want: &Result<(), Result<&'static str, Vec<Set>>>,
    case: impl Fn() -> String,
) {
    match (got, want) {
        (Ok(_), Ok(())) => {}
        (Err(denial), Err(Ok(kind))) => assert_eq!(denial.kind(), *kind, "{}", case()),
        (Err(denial), Err(Err(missing))) => {
            let named = denial.missing().map(Set::from_domain);
            assert!(
                named.is_some_and(|named| missing.contains(&named)),
                "{}: named {named:?}, want one of {missing:?}",
                case()
            );
        }
        _ => panic!("{}: got {got:?}, want {want:?}", case()),
    }
}

#[tokio::test]
async fn a_new_keys_scopes_must_be_held_at_every_one_of_its_paths_and_within_its_creators() {
    let policy = policy().await;
    let requests = restrictions(&[
        "projects",
        "projects/web",
        "projects/web/environments/prod",
        "projects/webshop",
    ]);
    let requested: Vec<Option<Restriction>> = requests
        .iter()
        .map(|r| r.as_deref().map(restriction))
        .collect();
    let grant_sets: Vec<Grants> = grant_sets(&GRANT_PATHS)
        .into_iter()
        .filter(|g| g.len() <= 1)
        .collect();
    let creator_scopes = [
        Set::of(&["admin"]),
        Set::of(&["read"]),
        Set::of(&["write", "deploy", "read"]),
    ];
    let mut creds = vec![Cred::Session];
    for resources in restrictions(&RESTRICTION_PATHS) {
        for scopes in creator_scopes {
            creds.push(Cred::Key {
                scopes,
                resources: resources.clone(),
            });
        }
    }
    let mut cases = 0;
    for role in ROLES {
        for grants in &grant_sets {
            let place = Place {
                role,
                grants: grants.clone(),
            };
            let standing = standing(&place);
            for cred in &creds {
                let creator = principal(Holder::User(ME), MY_KEY, cred);
                for (asked_paths, asked) in requests.iter().zip(&requested) {
                    for scopes in Set::nonempty() {
                        let got = rules::create_key(
                            &creator,
                            &policy,
                            ORG,
                            Some(&standing),
                            KeyRequest {
                                scopes: scopes.domain(),
                                expires_at: None,
                                resources: asked.as_ref(),
                            },
                        );
                        let want = expected_create(&place, cred, scopes, asked_paths.as_deref());
                        let case = || {
                            format!(
                                "{place:?} {cred:?} creating {:?} at {asked_paths:?}",
                                scopes.names()
                            )
                        };
                        check_created(&got, &want, case);
                        if let Ok((holder, _)) = got {
                            assert_eq!(holder, Holder::User(ME), "{}", case());
                        }
                        cases += 1;
                    }
                }
            }
        }
    }
    // 5 roles × 13 grant sets × (1 session + 11 restrictions × 3 scope sets) × 11 requested
    // restrictions × 15 scope sets.
    assert_eq!(cases, 5 * 13 * 34 * 11 * 15);
}

#[tokio::test]
async fn a_service_accounts_key_lies_within_the_callers_and_the_accounts_grants_everywhere() {
    let policy = policy().await;
    let requests = restrictions(&[
        "projects",
        "projects/web",
        "projects/web/environments/prod",
        "projects/api",
    ]);
    let requested: Vec<Option<Restriction>> = requests
        .iter()
        .map(|r| r.as_deref().map(restriction))
        .collect();
    let caller_grants: [Grants; 3] = [
        vec![],
        vec![("projects/web", Role::Admin)],
        vec![("projects", Role::Developer)],
    ];
    let account_grants: [Grants; 4] = [
        vec![],
        vec![("projects/web", Role::Developer)],
        vec![("projects", Role::Viewer)],
        vec![("projects/web/environments/prod", Role::Admin)],
    ];
    let creds = [
        Cred::Session,
        Cred::Key {
            scopes: Set::of(&["admin"]),
            resources: None,
        },
        Cred::Key {
            scopes: Set::of(&["write", "deploy", "read"]),
            resources: None,
        },
        Cred::Key {
            scopes: Set::of(&["admin"]),
            resources: Some(vec!["projects"]),
        },
    ];
    let mut cases = 0;
    for role in ROLES {
        for grants in &caller_grants {
            let caller = Place {
                role,
                grants: grants.clone(),
            };
            let caller_standing = standing(&caller);
            for cred in &creds {
                let principal = principal(Holder::User(ME), MY_KEY, cred);
                // Needs `admin` organization-wide: a restricted key has none there.
                let admin = effective(&caller, cred, None).0.has("admin");
                for account_role in &ROLES[1..] {
                    for account_grants in &account_grants {
                        let account = Place {
                            role: *account_role,
                            grants: account_grants.clone(),
                        };
                        let account_standing = standing(&account);
                        for (asked_paths, asked) in requests.iter().zip(&requested) {
                            let places: Vec<Option<&str>> = match asked_paths {
                                Some(paths) => paths.iter().map(|p| Some(*p)).collect(),
                                None => vec![None],
                            };
                            for scopes in Set::nonempty() {
                                let got = rules::create_service_account_key(
                                    &principal,
                                    &policy,
                                    ORG,
                                    Some(&caller_standing),
                                    &account_standing,
                                    KeyRequest {
                                        scopes: scopes.domain(),
                                        expires_at: None,
                                        resources: asked.as_ref(),
                                    },
                                );
                                let callers_missing: Vec<Set> = places
                                    .iter()
                                    .map(|at| scopes.missing_from(effective(&caller, cred, *at).0))
                                    .filter(|m| !m.is_empty())
                                    .collect();
                                let accounts_missing: Vec<Set> = places
                                    .iter()
                                    .map(|at| {
                                        scopes.missing_from(
                                            effective(&account, &Cred::Session, *at).0,
                                        )
                                    })
                                    .filter(|m| !m.is_empty())
                                    .collect();
                                let want = if !admin {
                                    Err(Err(vec![Set::of(&["admin"])]))
                                } else if callers_missing.is_empty() && accounts_missing.is_empty()
                                {
                                    Ok(())
                                } else {
                                    Err(Err([callers_missing.clone(), accounts_missing.clone()]
                                        .concat()))
                                };
                                let case = || {
                                    format!(
                                        "{caller:?} {cred:?} creating {:?} at {asked_paths:?} for {account:?}",
                                        scopes.names()
                                    )
                                };
                                check_created(&got, &want, case);
                                if admin
                                    && callers_missing.is_empty()
                                    && let Err(denial) = &got
                                {
                                    assert!(
                                        denial.message().starts_with("the service account's"),
                                        "{}: {}",
                                        case(),
                                        denial.message()
                                    );
                                }
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    // 5 roles × 3 caller grant sets × 4 credentials × 4 account roles × 4 account grant sets ×
    // 11 requested restrictions × 15 scope sets.
    assert_eq!(cases, 5 * 3 * 4 * 4 * 4 * 11 * 15);
}

#[tokio::test]
async fn neither_the_root_token_nor_an_access_token_creates_service_account_keys() {
    let policy = policy().await;
    let token = Principal::AccessToken {
        user_id: Some(ME),
        service_account_id: None,
        organization_id: ORG,
        role: Some(Role::Owner),
        permissions: Permissions::ALL,
        person: true,
        resource: None,
    };
    let account = Standing::new(Role::Admin);
    let request = KeyRequest {
        scopes: Set::of(&["read"]).domain(),
        expires_at: None,
        resources: None,
    };
    for (principal, want) in [
        (Principal::Root, "root_owns_no_keys"),
        (token, "token_manages_no_keys"),
    ] {
        assert_eq!(
            kind(&rules::create_service_account_key(
                &principal, &policy, ORG, None, &account, request
            )),
            Err(want)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Managing service accounts' keys and restricted keys.
// ---------------------------------------------------------------------------------------------

/// A caller of `manage_key`, by hand.
#[derive(Debug, Clone)]
enum Caller {
    Root,
    Person {
        role: Role,
    },
    Key {
        holder: Holder,
        role: Role,
        scopes: Set,
        resources: Option<Vec<&'static str>>,
    },
    Token {
        role: Role,
        resource: Option<&'static str>,
    },
}

fn expected_manage(
    caller: &Caller,
    target_id: Uuid,
    target_holder: Holder,
    target_effective: Set,
    action: KeyAction,
) -> Result<(), (&'static str, Option<Set>)> {
    let (holder, held, restricted, is_key) = match caller {
        Caller::Root => (None, Set::ALL, false, false),
        Caller::Person { role } => (Some(Holder::User(ME)), role_grants(*role), false, false),
        Caller::Key {
            holder,
            role,
            scopes,
            resources,
        } => (
            Some(*holder),
            if resources.is_some() {
                Set::EMPTY
            } else {
                role_grants(*role).and(scopes.expand())
            },
            resources.is_some(),
            true,
        ),
        Caller::Token { role, resource } => (
            Some(Holder::User(ME)),
            if resource.is_some() {
                Set::EMPTY
            } else {
                role_grants(*role)
            },
            resource.is_some(),
            false,
        ),
    };
    // A key may always get and revoke itself; an unrestricted one also rotates itself (it is
    // its own user's and holds all it has), a restricted one does nothing else.
    if is_key && target_id == MY_KEY {
        return if action != KeyAction::Rotate || !restricted {
            Ok(())
        } else {
            Err(("outside_resources", None))
        };
    }
    if matches!(caller, Caller::Token { .. }) && action != KeyAction::Get {
        return Err(("token_manages_no_keys", None));
    }
    if restricted {
        return Err(("outside_resources", None));
    }
    if holder != Some(target_holder) {
        // A person's key is rotated only by its own user; a service account's by admins.
        if action == KeyAction::Rotate && matches!(target_holder, Holder::User(_)) {
            return Err(("not_key_owner", None));
        }
        if !held.has("admin") {
            return Err(("missing_permission", Some(Set::of(&["admin"]))));
        }
    }
    if is_key {
        let missing = target_effective.compact().missing_from(held);
        if !missing.is_empty() {
            return Err(("missing_permission", Some(missing)));
        }
    }
    Ok(())
}

#[tokio::test]
async fn admins_manage_service_account_keys_and_restricted_keys_only_get_and_revoke_themselves() {
    let policy = policy().await;
    let mut callers = vec![Caller::Root];
    for role in ROLES {
        callers.push(Caller::Person { role });
        for resource in [None, Some("projects/web")] {
            callers.push(Caller::Token { role, resource });
        }
        for scopes in Set::nonempty() {
            callers.push(Caller::Key {
                holder: Holder::User(ME),
                role,
                scopes,
                resources: None,
            });
            if role != Role::Owner {
                callers.push(Caller::Key {
                    holder: Holder::ServiceAccount(ACCOUNT),
                    role,
                    scopes,
                    resources: None,
                });
            }
        }
        for holder in [Holder::User(ME), Holder::ServiceAccount(ACCOUNT)] {
            for scopes in [Set::of(&["admin"]), Set::of(&["read"])] {
                for resources in [vec!["projects"], vec!["projects/web", "projects/api"]] {
                    callers.push(Caller::Key {
                        holder,
                        role,
                        scopes,
                        resources: Some(resources),
                    });
                }
            }
        }
    }
    let effectives = [
        Set::ALL,
        Set::of(&["write", "deploy", "read"]),
        Set::of(&["read"]),
        Set::EMPTY,
    ];
    let holders = [
        Holder::User(ME),
        Holder::User(SOMEONE),
        Holder::ServiceAccount(ACCOUNT),
        Holder::ServiceAccount(OTHER_ACCOUNT),
    ];
    let mut cases = 0;
    for caller in &callers {
        let (principal, role) = match caller {
            Caller::Root => (Principal::Root, Role::Owner),
            Caller::Person { role } => (principal(Holder::User(ME), MY_KEY, &Cred::Session), *role),
            Caller::Key {
                holder,
                role,
                scopes,
                resources,
            } => (
                principal(
                    *holder,
                    MY_KEY,
                    &Cred::Key {
                        scopes: *scopes,
                        resources: resources.clone(),
                    },
                ),
                *role,
            ),
            Caller::Token { role, resource } => (
                Principal::AccessToken {
                    user_id: Some(ME),
                    service_account_id: None,
                    organization_id: ORG,
                    role: Some(*role),
                    permissions: role_grants(*role).domain(),
                    person: true,
                    resource: at(*resource),
                },
                *role,
            ),
        };
        // Key endpoints are organization endpoints: decided organization-wide.
        let access = principal
            .access(&policy, ORG, Some(&Standing::new(role)), None)
            .unwrap();
        let mut targets: Vec<(Uuid, Holder)> = holders.iter().map(|h| (OTHER_KEY, *h)).collect();
        if let Caller::Key { holder, .. } = caller {
            targets.push((MY_KEY, *holder));
        }
        for (id, holder) in targets {
            for effective in effectives {
                let target = KeyTarget {
                    id,
                    holder,
                    effective: effective.domain(),
                };
                for action in [KeyAction::Get, KeyAction::Revoke, KeyAction::Rotate] {
                    let got = rules::manage_key(&principal, &access, &target, action);
                    let want = expected_manage(caller, id, holder, effective, action);
                    let case = format!(
                        "{caller:?} {action:?} on key {id} of {holder:?} with {:?}",
                        effective.names()
                    );
                    assert_eq!(kind(&got), want.map_err(|(k, _)| k), "{case}");
                    if let (Err(denial), Err((_, Some(missing)))) = (&got, want) {
                        assert_eq!(
                            denial.missing().map(Set::from_domain),
                            Some(missing),
                            "{case}"
                        );
                    }
                    cases += 1;
                }
            }
        }
    }
    // Callers: root; per role a person, 2 tokens, 15 person's keys, 15 account's keys (not for
    // owner), 8 restricted keys. Targets: 4 holders, plus itself for a key; 4 effective sets;
    // 3 actions.
    let keys = 5 * 15 + 4 * 15 + 5 * 8;
    let others = 1 + 5 + 5 * 2;
    assert_eq!(callers.len(), others + keys);
    assert_eq!(cases, (others * 4 + keys * 5) * 4 * 3);
}

#[tokio::test]
async fn a_restricted_key_lists_no_keys_and_administers_nothing() {
    let policy = policy().await;
    for role in ROLES {
        let standing = Standing::new(role);
        for resources in restrictions(&RESTRICTION_PATHS) {
            for scopes in Set::nonempty() {
                let cred = Cred::Key {
                    scopes,
                    resources: resources.clone(),
                };
                let key = principal(Holder::User(ME), MY_KEY, &cred);
                let access = key.access(&policy, ORG, Some(&standing), None).unwrap();
                let held = effective(
                    &Place {
                        role,
                        grants: vec![],
                    },
                    &cred,
                    None,
                )
                .0;
                let case = format!("{role} {cred:?}");
                let listing = rules::list_keys(&key, &access);
                let administer = rules::administer(&access);
                if resources.is_some() {
                    assert_eq!(kind(&listing), Err("outside_resources"), "{case}");
                    assert_eq!(kind(&administer), Err("outside_resources"), "{case}");
                } else {
                    let want = if held.has("admin") {
                        rules::KeyListing::All
                    } else {
                        rules::KeyListing::HeldBy(Holder::User(ME))
                    };
                    assert_eq!(listing, Ok(want), "{case}");
                    assert_eq!(administer.is_ok(), held.has("admin"), "{case}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A key's effective permissions (what `manage_key` compares).
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_restricted_keys_effective_permissions_are_the_most_it_may_do_at_any_of_its_paths() {
    use portcullis_domain::{ApiKey, Name};
    let policy = policy().await;
    let mut cases = 0;
    for role in ROLES {
        for grants in grant_sets(&GRANT_PATHS)
            .into_iter()
            .filter(|g| g.len() <= 1)
        {
            let place = Place { role, grants };
            let standing = standing(&place);
            for resources in restrictions(&RESTRICTION_PATHS) {
                for scopes in Set::nonempty() {
                    let key = ApiKey {
                        id: MY_KEY,
                        organization_id: ORG,
                        holder: Holder::User(ME),
                        created_by: ME,
                        name: Name::parse("ci").unwrap(),
                        key_prefix: "pcl_0123456".into(),
                        scopes: scopes.domain(),
                        created_at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
                        expires_at: None,
                        last_used_at: None,
                        replaced_by_id: None,
                        resources: resources.as_deref().map(restriction),
                    };
                    let cred = Cred::Key {
                        scopes,
                        resources: resources.clone(),
                    };
                    let want = match &resources {
                        None => effective(&place, &cred, None).0,
                        Some(paths) => paths
                            .iter()
                            .map(|p| effective(&place, &cred, Some(p)).0)
                            .fold(Set::EMPTY, |a, b| Set(a.0 | b.0)),
                    };
                    assert_eq!(
                        Set::from_domain(key.effective(&policy, Some(&standing))),
                        want,
                        "{place:?} {cred:?}"
                    );
                    assert_eq!(key.effective(&policy, None), Permissions::EMPTY);
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 5 * 13 * 11 * 15);
}

// ---------------------------------------------------------------------------------------------
// The path grammar.
// ---------------------------------------------------------------------------------------------

/// `^[a-z0-9][a-z0-9._-]{0,62}$`, without a regex.
fn valid_segment(segment: &str) -> bool {
    let chars: Vec<char> = segment.chars().collect();
    let lower_or_digit = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !chars.is_empty()
        && chars.len() <= 63
        && lower_or_digit(chars[0])
        && chars[1..]
            .iter()
            .all(|c| lower_or_digit(*c) || matches!(c, '.' | '_' | '-'))
}

/// 1 to 8 segments joined by `/`.
fn valid_path(raw: &str) -> bool {
    let segments: Vec<&str> = raw.split('/').collect();
    (1..=8).contains(&segments.len()) && segments.iter().all(|s| valid_segment(s))
}

#[test]
fn resource_paths_follow_the_contract_grammar() {
    // Every string of up to 4 characters over an alphabet that hits each rule.
    const ALPHABET: [char; 8] = ['a', '9', '.', '_', '-', 'A', '/', 'é'];
    let mut strings: Vec<String> = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..4 {
        last = last
            .iter()
            .flat_map(|s| ALPHABET.map(|c| format!("{s}{c}")))
            .collect();
        strings.extend(last.iter().cloned());
    }
    // Lengths and counts at the limits.
    for len in [1, 2, 62, 63, 64, 65] {
        for first in ['a', '0', '-', 'Z'] {
            for fill in ['z', '.', '_', '-', ' ', ','] {
                let segment = format!("{first}{}", fill.to_string().repeat(len - 1));
                strings.push(segment.clone());
                strings.push(format!("projects/{segment}"));
                strings.push(format!("{segment}/web"));
            }
        }
    }
    for count in [1, 2, 7, 8, 9, 10] {
        for segment in ["a", "web", "a.b", "-a", ""] {
            strings.push(vec![segment; count].join("/"));
            strings.push(format!("{}/", vec![segment; count].join("/")));
            strings.push(format!("/{}", vec![segment; count].join("/")));
        }
    }
    strings.extend(
        [
            "projects/web",
            "projects/web/environments/prod",
            "projects//web",
            "projects/web ",
            " projects",
            "projects\\web",
            "projects/web\n",
            "Projects/web",
            "projects/Web",
            "p/r/o/j/e/c/t/s",
            "p/r/o/j/e/c/t/s/x",
            "0/9/a.b/c_d/e-f",
        ]
        .map(str::to_owned),
    );
    let mut valid = 0;
    for raw in &strings {
        let want = valid_path(raw);
        match ResourcePath::parse(raw) {
            Ok(parsed) => {
                assert!(want, "accepted {raw:?}");
                assert_eq!(parsed.as_str(), raw);
                valid += 1;
            }
            Err(Error::Validation(_)) => assert!(!want, "refused {raw:?}"),
            Err(other) => panic!("{raw:?}: not a validation error: {other:?}"),
        }
    }
    assert_eq!(strings.len(), 4681 + 6 * 4 * 6 * 3 + 6 * 5 * 3 + 12);
    assert!(valid > 100, "{valid}");
}

#[test]
fn coverage_is_by_whole_segments() {
    // The oracle's own rule, pinned on the trap, and the domain agreeing with it.
    let pairs = [
        ("projects/web", "projects/web", true),
        ("projects/web", "projects/web/environments/prod", true),
        ("projects/web", "projects/webshop", false),
        ("projects/webshop", "projects/web", false),
        ("projects/web/environments/prod", "projects/web", false),
        ("projects", "projects/api", true),
        ("projects/api", "projects", false),
    ];
    for (upper, lower, want) in pairs {
        assert_eq!(covers(upper, lower), want, "{upper} covers {lower}");
    }
    for upper in PATHS {
        for lower in PATHS {
            assert_eq!(
                path(upper).covers(&path(lower)),
                covers(upper, lower),
                "{upper} covers {lower}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Which roles a grant and a service account may have; a key-made account key's expiry.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_grants_role_is_admin_developer_or_viewer_and_an_accounts_never_owner() {
    use portcullis_domain::resource::grant_role;
    use portcullis_domain::service_account::account_role;
    for role in ROLES {
        let grantable = matches!(role, Role::Admin | Role::Developer | Role::Viewer);
        match grant_role(role) {
            Ok(r) => assert!(grantable && r == role, "{role}"),
            Err(Error::Validation(_)) => assert!(!grantable, "{role}"),
            Err(other) => panic!("{role}: {other:?}"),
        }
        match account_role(role) {
            Ok(r) => assert!(role != Role::Owner && r == role, "{role}"),
            Err(Error::Validation(_)) => assert_eq!(role, Role::Owner),
            Err(other) => panic!("{role}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_service_account_key_made_with_a_key_never_outlives_it() {
    let policy = policy().await;
    let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let parent_end = now + chrono::Duration::minutes(2);
    let account = Standing::new(Role::Admin);
    let owner = Standing::new(Role::Owner);
    for parent in [None, Some(parent_end)] {
        let key = Principal::ApiKey {
            holder: Holder::User(ME),
            key_id: MY_KEY,
            organization_id: ORG,
            scopes: Set::of(&["admin"]).domain(),
            expires_at: parent,
            resources: None,
        };
        for minutes in [None, Some(1), Some(2), Some(3)] {
            let asked = minutes.map(|m| now + chrono::Duration::minutes(m));
            let want = match (parent, asked) {
                (None, asked) => Ok(asked),
                (Some(end), None) => Ok(Some(end)),
                (Some(end), Some(at)) if at > end => Err("outlives_creating_key"),
                (Some(_), Some(at)) => Ok(Some(at)),
            };
            let got = rules::create_service_account_key(
                &key,
                &policy,
                ORG,
                Some(&owner),
                &account,
                KeyRequest {
                    scopes: Set::of(&["read"]).domain(),
                    expires_at: asked,
                    resources: None,
                },
            );
            assert_eq!(got.map_err(|d| d.kind()), want, "{parent:?} {asked:?}");
        }
    }
}
