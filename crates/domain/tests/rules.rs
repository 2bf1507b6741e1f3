//! Truth tables for the rules beyond a permission check (contract v2 section 4): keys acting on
//! keys, role assignment, leaving and removing, token minting, who creates keys and until when.
//! Each table is enumerated exhaustively and checked against the contract written out by hand
//! below, with names rather than the domain's bit sets.

use chrono::{DateTime, Duration, Utc};
use portcullis_domain::rules::{self, KeyAction, KeyRequest, KeyTarget};
use portcullis_domain::{
    Access, Denial, Holder, Permission, Permissions, Policy, Principal, Role, Standing,
};
use std::collections::BTreeSet;
use uuid::Uuid;

const ROLES: [Role; 5] = [
    Role::Owner,
    Role::Admin,
    Role::Developer,
    Role::Viewer,
    Role::Guest,
];
const NAMES: [&str; 4] = ["admin", "write", "deploy", "read"];

/// Section 4's role table, by hand.
fn role_grants(role: Role) -> BTreeSet<&'static str> {
    match role {
        Role::Owner | Role::Admin => NAMES.into(),
        Role::Developer => ["write", "deploy", "read"].into(),
        Role::Viewer => ["read"].into(),
        // Section 12: nothing organization-wide.
        Role::Guest => BTreeSet::new(),
    }
}

/// `admin` implies the other three.
fn expand(scopes: &BTreeSet<&'static str>) -> BTreeSet<&'static str> {
    if scopes.contains("admin") {
        NAMES.into()
    } else {
        scopes.clone()
    }
}

/// Every non-empty scope set.
fn scope_sets() -> Vec<BTreeSet<&'static str>> {
    (1u8..16)
        .map(|mask| {
            NAMES
                .into_iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, name)| name)
                .collect()
        })
        .collect()
}

fn set(names: &BTreeSet<&'static str>) -> Permissions {
    Permissions::parse_scopes(&names.iter().copied().collect::<Vec<_>>()).unwrap()
}

fn names(permissions: Permissions) -> BTreeSet<&'static str> {
    permissions.iter().map(Permission::as_str).collect()
}

async fn policy() -> Policy {
    Policy::builtin().await.unwrap()
}

const ORG: Uuid = Uuid::from_u128(1);
const ME: Uuid = Uuid::from_u128(2);
const SOMEONE: Uuid = Uuid::from_u128(3);
const MY_KEY: Uuid = Uuid::from_u128(4);
const OTHER_KEY: Uuid = Uuid::from_u128(5);

fn key(scopes: &BTreeSet<&'static str>, expires_at: Option<DateTime<Utc>>) -> Principal {
    Principal::ApiKey {
        holder: Holder::User(ME),
        key_id: MY_KEY,
        organization_id: ORG,
        scopes: set(scopes),
        expires_at,
        resources: None,
    }
}

fn session() -> Principal {
    Principal::Session {
        user_id: ME,
        session_id: Uuid::from_u128(9),
    }
}

fn token(person: bool, permissions: Permissions, role: Role) -> Principal {
    Principal::AccessToken {
        user_id: Some(ME),
        service_account_id: None,
        organization_id: ORG,
        role: Some(role),
        permissions,
        person,
        resource: None,
    }
}

fn access(policy: &Policy, principal: &Principal, role: Role) -> Access {
    principal
        .access(policy, ORG, Some(&Standing::new(role)), None)
        .unwrap()
}

/// Creating an unrestricted key for the caller, whose organization role is `role`.
fn create_key(
    policy: &Policy,
    principal: &Principal,
    role: Role,
    scopes: Permissions,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(Holder, Option<DateTime<Utc>>), Denial> {
    rules::create_key(
        principal,
        policy,
        ORG,
        Some(&Standing::new(role)),
        KeyRequest {
            scopes,
            expires_at,
            resources: None,
        },
    )
}

#[tokio::test]
async fn a_key_acts_on_another_key_only_when_it_holds_all_of_that_keys_permissions() {
    let policy = policy().await;
    let mut cases = 0;
    for role in ROLES {
        for acting in scope_sets() {
            let principal = key(&acting, None);
            let held: BTreeSet<_> = role_grants(role)
                .intersection(&expand(&acting))
                .copied()
                .collect();
            let access = access(&policy, &principal, role);
            for target_scopes in scope_sets() {
                for target_role in ROLES {
                    let target_effective: BTreeSet<_> = role_grants(target_role)
                        .intersection(&expand(&target_scopes))
                        .copied()
                        .collect();
                    for (owner, same_user) in [(ME, true), (SOMEONE, false)] {
                        for action in [KeyAction::Get, KeyAction::Revoke, KeyAction::Rotate] {
                            let target = KeyTarget {
                                id: OTHER_KEY,
                                holder: Holder::User(owner),
                                effective: set_or_empty(&target_effective),
                            };
                            let got = rules::manage_key(&principal, &access, &target, action);
                            // The contract, by hand.
                            let mut missing: BTreeSet<_> = if target_effective.contains("admin") {
                                // Asked as the target spells it: `admin` stands for all four.
                                if held.contains("admin") {
                                    BTreeSet::new()
                                } else {
                                    ["admin"].into()
                                }
                            } else {
                                target_effective.difference(&held).copied().collect()
                            };
                            let want = if !same_user && action == KeyAction::Rotate {
                                Err("not_key_owner")
                            } else if !same_user && !held.contains("admin") {
                                missing = ["admin"].into();
                                Err("missing_permission")
                            } else if missing.is_empty() {
                                Ok(())
                            } else {
                                Err("missing_permission")
                            };
                            let case = format!(
                                "{role} key {acting:?} {action:?} on {target_role} key {target_scopes:?} (same user: {same_user})"
                            );
                            assert_eq!(got.clone().map_err(|d| d.kind()), want, "{case}");
                            if let Err(denial) = got
                                && want == Err("missing_permission")
                            {
                                assert_eq!(names(denial.missing().unwrap()), missing, "{case}");
                            }
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cases, 5 * 15 * 15 * 5 * 2 * 3);
}

fn set_or_empty(names: &BTreeSet<&'static str>) -> Permissions {
    if names.is_empty() {
        Permissions::EMPTY
    } else {
        set(names)
    }
}

#[tokio::test]
async fn a_key_may_always_get_revoke_and_rotate_itself() {
    let policy = policy().await;
    for role in ROLES {
        for scopes in scope_sets() {
            let principal = key(&scopes, None);
            let access = access(&policy, &principal, role);
            let itself = KeyTarget {
                id: MY_KEY,
                holder: Holder::User(ME),
                effective: Permissions::ALL,
            };
            for action in [KeyAction::Get, KeyAction::Revoke, KeyAction::Rotate] {
                assert_eq!(
                    rules::manage_key(&principal, &access, &itself, action),
                    Ok(()),
                    "{role} {scopes:?} {action:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn people_manage_their_own_keys_admins_others_and_nobody_rotates_someone_elses() {
    let policy = policy().await;
    let root = Principal::Root;
    let root_access = root.access(&policy, ORG, None, None).unwrap();
    for role in ROLES {
        let principal = session();
        let access = access(&policy, &principal, role);
        let is_admin = role_grants(role).contains("admin");
        for (owner, own) in [(ME, true), (SOMEONE, false)] {
            let target = KeyTarget {
                id: OTHER_KEY,
                holder: Holder::User(owner),
                effective: Permissions::ALL,
            };
            for action in [KeyAction::Get, KeyAction::Revoke, KeyAction::Rotate] {
                let want = match (own, action) {
                    (true, _) => Ok(()),
                    (false, KeyAction::Rotate) => Err("not_key_owner"),
                    (false, _) if is_admin => Ok(()),
                    (false, _) => Err("missing_permission"),
                };
                let got = rules::manage_key(&principal, &access, &target, action);
                assert_eq!(
                    got.clone().map_err(|d| d.kind()),
                    want,
                    "{role} session, own key: {own}, {action:?}"
                );
                // The root token administers every key but owns none, so it never rotates.
                let want = if action == KeyAction::Rotate {
                    Err("not_key_owner")
                } else {
                    Ok(())
                };
                let got = rules::manage_key(&root, &root_access, &target, action);
                assert_eq!(got.clone().map_err(|d| d.kind()), want, "root {action:?}");
            }
        }
    }
}

#[tokio::test]
async fn access_tokens_read_keys_but_never_create_revoke_or_rotate_them() {
    let policy = policy().await;
    for person in [true, false] {
        let principal = token(person, Permissions::ALL, Role::Owner);
        let access = access(&policy, &principal, Role::Owner);
        let own = KeyTarget {
            id: OTHER_KEY,
            holder: Holder::User(ME),
            effective: Permissions::ALL,
        };
        assert_eq!(
            rules::manage_key(&principal, &access, &own, KeyAction::Get),
            Ok(())
        );
        for action in [KeyAction::Revoke, KeyAction::Rotate] {
            assert_eq!(
                rules::manage_key(&principal, &access, &own, action),
                Err(Denial::TokenManagesNoKeys),
                "person: {person}, {action:?}"
            );
        }
        assert_eq!(
            create_key(
                &policy,
                &principal,
                Role::Owner,
                Permissions::ALL.compact(),
                None
            ),
            Err(Denial::TokenManagesNoKeys)
        );
    }
}

#[tokio::test]
async fn a_new_keys_scopes_lie_within_its_creators_permissions_named_as_asked() {
    let policy = policy().await;
    let mut cases = 0;
    for role in ROLES {
        for acting in scope_sets() {
            let principal = key(&acting, None);
            let held: BTreeSet<_> = role_grants(role)
                .intersection(&expand(&acting))
                .copied()
                .collect();
            for asked in scope_sets() {
                let missing: BTreeSet<_> = asked
                    .iter()
                    .filter(|name| !expand(&[**name].into()).is_subset(&held))
                    .copied()
                    .collect();
                let got = create_key(&policy, &principal, role, set(&asked), None);
                let case = format!("{role} key {acting:?} creating {asked:?}");
                match got {
                    Ok((owner, _)) => {
                        assert!(missing.is_empty(), "{case}");
                        assert_eq!(owner, Holder::User(ME), "{case}");
                    }
                    Err(denial) => {
                        assert_eq!(denial.missing().map(names), Some(missing), "{case}");
                    }
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 5 * 15 * 15);
    let root = Principal::Root;
    assert_eq!(
        create_key(&policy, &root, Role::Owner, Permissions::ALL, None),
        Err(Denial::RootOwnsNoKeys)
    );
}

#[tokio::test]
async fn a_key_created_with_a_key_never_outlives_it() {
    let policy = policy().await;
    let now = Utc::now();
    let before = now + Duration::minutes(1);
    let parent_end = now + Duration::minutes(2);
    let after = now + Duration::minutes(3);
    let admin: BTreeSet<_> = ["admin"].into();
    let read = set(&["read"].into());
    for parent in [None, Some(parent_end)] {
        let principal = key(&admin, parent);
        for asked in [None, Some(before), Some(parent_end), Some(after)] {
            let want = match (parent, asked) {
                (None, asked) => Ok(asked),
                (Some(end), None) => Ok(Some(end)),
                (Some(end), Some(at)) if at > end => Err(Denial::OutlivesCreatingKey),
                (Some(_), Some(at)) => Ok(Some(at)),
            };
            let got = create_key(&policy, &principal, Role::Owner, read, asked).map(|(_, at)| at);
            assert_eq!(got, want, "parent {parent:?}, asked {asked:?}");
        }
    }
    // A session's key expires when asked, or never.
    let principal = session();
    assert_eq!(
        create_key(&policy, &principal, Role::Owner, read, None),
        Ok((Holder::User(ME), None))
    );
}

/// What the actor may do when adding a member or changing a role, by hand.
fn may_assign(
    actor_effective: &BTreeSet<&str>,
    actor_role: Role,
    current: Option<Role>,
    new: Role,
) -> bool {
    actor_effective.contains("admin")
        && (actor_role == Role::Owner || (new != Role::Owner && current != Some(Role::Owner)))
}

#[tokio::test]
async fn admins_assign_roles_and_only_owners_grant_or_take_away_owner() {
    let policy = policy().await;
    let scope_choices: [BTreeSet<&'static str>; 2] = [["admin"].into(), ["read", "write"].into()];
    let mut cases = 0;
    for actor_role in ROLES {
        let mut principals = vec![(session(), role_grants(actor_role))];
        for scopes in &scope_choices {
            let effective = role_grants(actor_role)
                .intersection(&expand(scopes))
                .copied()
                .collect();
            principals.push((key(scopes, None), effective));
        }
        for (principal, effective) in &principals {
            let access = access(&policy, principal, actor_role);
            for current in [
                None,
                Some(Role::Owner),
                Some(Role::Admin),
                Some(Role::Developer),
                Some(Role::Viewer),
                Some(Role::Guest),
            ] {
                for new in ROLES {
                    let want = may_assign(effective, actor_role, current, new);
                    let got = rules::assign_role(&access, &policy, current, new);
                    assert_eq!(
                        got.is_ok(),
                        want,
                        "{actor_role} {} assigning {current:?} → {new}: {got:?}",
                        principal.auth_method()
                    );
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 5 * 3 * 6 * 5);
}

#[tokio::test]
async fn leaving_needs_a_person_or_an_admin_key_and_removing_others_needs_admin() {
    let policy = policy().await;
    for role in ROLES {
        let admin_key = key(&["admin"].into(), None);
        let read_key = key(&["read"].into(), None);
        let person_token = token(true, policy.grants(role), role);
        let key_token = token(false, policy.grants(role), role);
        let is_admin = role_grants(role).contains("admin");
        let callers = [
            (session(), true),
            (person_token, true),
            (admin_key, is_admin),
            (read_key, false),
            (key_token, is_admin),
        ];
        for (principal, may_leave) in callers {
            let access = access(&policy, &principal, role);
            let got = rules::remove_member(&principal, &access, &policy, ME, role);
            assert_eq!(
                got.is_ok(),
                may_leave,
                "{role} {} leaving: {got:?}",
                principal.auth_method()
            );
            let effective_admin = access.has(Permission::Admin);
            for target_role in ROLES {
                let want = effective_admin && (target_role != Role::Owner || role == Role::Owner);
                let got = rules::remove_member(&principal, &access, &policy, SOMEONE, target_role);
                assert_eq!(
                    got.is_ok(),
                    want,
                    "{role} {} removing a {target_role}: {got:?}",
                    principal.auth_method()
                );
            }
        }
    }
}

#[tokio::test]
async fn every_credential_but_an_access_token_mints_tokens() {
    let policy = policy().await;
    let principals = [
        Principal::Root,
        session(),
        key(&["read"].into(), None),
        token(true, policy.grants(Role::Owner), Role::Owner),
        token(false, Permissions::ALL, Role::Owner),
    ];
    for principal in principals {
        let want = !matches!(principal, Principal::AccessToken { .. });
        assert_eq!(
            rules::mint_token(&principal, &access(&policy, &principal, Role::Owner)).is_ok(),
            want,
            "{}",
            principal.auth_method()
        );
    }
}

/// Section 9: who may invite with which role (the same rule as adding a member), by hand.
fn may_invite(inviter: Option<Role>, invited: Role) -> bool {
    match inviter {
        Some(Role::Owner) => true,
        Some(Role::Admin) => invited != Role::Owner,
        _ => false,
    }
}

#[tokio::test]
async fn admins_invite_with_any_role_but_only_owners_invite_owners() {
    let policy = policy().await;
    let person = session();
    for inviter in ROLES {
        let access = access(&policy, &person, inviter);
        for invited in ROLES {
            let allowed = rules::assign_role(&access, &policy, None, invited).is_ok();
            assert_eq!(
                allowed,
                may_invite(Some(inviter), invited),
                "{inviter:?} inviting {invited:?}"
            );
        }
    }
}

#[test]
fn an_invitation_is_for_its_email_only_and_never_makes_a_platform_admin() {
    use portcullis_domain::Email;
    let invited = Email::parse("Grace@Example.com").unwrap();
    for (email, matches) in [
        ("grace@example.com", true),
        ("GRACE@EXAMPLE.COM", true),
        ("grace@example.org", false),
        ("eve@example.com", false),
    ] {
        let email = Email::parse(email).unwrap();
        let accepted = rules::accept_invitation(&email, &invited);
        assert_eq!(accepted.is_ok(), matches, "{email}");
        // Signing up with it never makes a platform admin, and takes no signup mode: it is
        // allowed under every one, `closed` included.
        let expected = if matches {
            Ok(false)
        } else {
            Err(Denial::InvitationForAnotherEmail)
        };
        assert_eq!(
            rules::sign_up_invited(&email, &invited),
            expected,
            "{email}"
        );
    }
}
