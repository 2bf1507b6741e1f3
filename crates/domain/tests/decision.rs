//! Truth table of the authorization decision for API keys: every role (or none: the user left)
//! × every scope set × every permission × every key state, against the contract written out
//! independently below.

use chrono::{Duration, Utc};
use portcullis_domain::{
    ApiKey, Denial, Email, Holder, Name, Permission, Permissions, Policy, Principal, Role,
    Standing, Unauthenticated, User,
};
use uuid::Uuid;

/// Contract section 4, spelled out by hand.
fn role_grants(role: Role) -> &'static [Permission] {
    use Permission::*;
    match role {
        Role::Owner | Role::Admin => &[Admin, Write, Deploy, Read],
        Role::Developer => &[Write, Deploy, Read],
        Role::Viewer => &[Read],
        Role::Guest => &[],
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum KeyState {
    Live,
    UserDisabled,
    Expired,
    Revoked,
    OtherOrganization,
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Allowed,
    Unauthenticated,
    Forbidden,
}

fn expected(
    role: Option<Role>,
    scopes: &[Permission],
    permission: Permission,
    state: KeyState,
) -> Outcome {
    match state {
        KeyState::UserDisabled | KeyState::Expired | KeyState::Revoked => {
            return Outcome::Unauthenticated;
        }
        KeyState::OtherOrganization => return Outcome::Forbidden,
        KeyState::Live => {}
    }
    let Some(role) = role else {
        return Outcome::Forbidden;
    };
    let scoped = scopes.contains(&permission) || scopes.contains(&Permission::Admin);
    if role_grants(role).contains(&permission) && scoped {
        Outcome::Allowed
    } else {
        Outcome::Forbidden
    }
}

/// What the domain decides for the same case.
fn decided(
    policy: &Policy,
    role: Option<Role>,
    scopes: Permissions,
    permission: Permission,
    state: KeyState,
) -> Outcome {
    let now = Utc::now();
    let org = Uuid::now_v7();
    let user = User {
        id: Uuid::now_v7(),
        email: Email::parse("ada@example.com").unwrap(),
        name: None,
        created_at: now,
        platform_admin: false,
        disabled: state == KeyState::UserDisabled,
    };
    let key = ApiKey {
        id: Uuid::now_v7(),
        organization_id: org,
        holder: Holder::User(user.id),
        created_by: user.id,
        name: Name::parse("ci").unwrap(),
        key_prefix: "pcl_0123456".into(),
        scopes,
        created_at: now - Duration::days(1),
        expires_at: (state == KeyState::Expired).then_some(now - Duration::seconds(1)),
        last_used_at: None,
        replaced_by_id: None,
        resources: None,
    };
    // A revoked key is no longer found by its digest.
    let found = (state != KeyState::Revoked).then_some(&key);
    let Some(key) = found else {
        return Outcome::Unauthenticated;
    };
    if key.authenticate(Some(&user), now).is_err() {
        return Outcome::Unauthenticated;
    }
    let principal = Principal::ApiKey {
        holder: key.holder,
        key_id: key.id,
        organization_id: key.organization_id,
        scopes,
        expires_at: key.expires_at,
        resources: None,
    };
    let addressed = if state == KeyState::OtherOrganization {
        Uuid::now_v7()
    } else {
        org
    };
    match principal
        .access(policy, addressed, role.map(Standing::new).as_ref(), None)
        .and_then(|access| access.require(permission))
    {
        Ok(()) => Outcome::Allowed,
        Err(Denial::Missing { missing, .. }) => {
            assert_eq!(
                missing.iter().collect::<Vec<_>>(),
                [permission],
                "a denial names exactly the missing permission"
            );
            Outcome::Forbidden
        }
        Err(_) => Outcome::Forbidden,
    }
}

#[tokio::test]
async fn a_keys_power_is_its_users_current_role_intersected_with_its_scopes() {
    let policy = Policy::builtin().await.unwrap();
    let roles = [
        None,
        Some(Role::Owner),
        Some(Role::Admin),
        Some(Role::Developer),
        Some(Role::Viewer),
        Some(Role::Guest),
    ];
    let states = [
        KeyState::Live,
        KeyState::UserDisabled,
        KeyState::Expired,
        KeyState::Revoked,
        KeyState::OtherOrganization,
    ];
    let mut cases = 0;
    for role in roles {
        for mask in 1u8..16 {
            let scopes: Vec<Permission> = Permission::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, p)| p)
                .collect();
            let set: Permissions = scopes.iter().copied().collect();
            for permission in Permission::ALL {
                for state in states {
                    let want = expected(role, &scopes, permission, state);
                    let got = decided(&policy, role, set, permission, state);
                    assert_eq!(
                        got, want,
                        "role {role:?}, scopes {scopes:?}, {permission}, {state:?}"
                    );
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 6 * 15 * 4 * 5);
}

#[test]
fn a_disabled_user_cannot_authenticate() {
    let user = User {
        id: Uuid::nil(),
        email: Email::parse("ada@example.com").unwrap(),
        name: None,
        created_at: Utc::now(),
        platform_admin: false,
        disabled: true,
    };
    assert_eq!(user.authenticate(), Err(Unauthenticated::Disabled));
}
