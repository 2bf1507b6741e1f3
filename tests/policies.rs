//! The real `policies/` files, read as casbin reads them, against the contract's role table
//! (section 4): every role × permission and every owner-only action.

use portcullis_domain::{OwnerAction, Permission, Policy, Role};

async fn policy() -> Policy {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    let model = std::fs::read_to_string(format!("{dir}/model.conf")).expect("policies/model.conf");
    let policy = std::fs::read_to_string(format!("{dir}/policy.csv")).expect("policies/policy.csv");
    Policy::from_text(&model, &policy)
        .await
        .expect("the policy files load")
}

/// The contract's table, written out by hand: what `role` grants.
fn contract_grants(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Owner | Role::Admin => true,
        Role::Developer => matches!(permission, Write | Deploy | Read),
        Role::Viewer => matches!(permission, Read),
        // Nothing organization-wide: only what its grants give (section 12).
        Role::Guest => false,
    }
}

/// Only owners delete the organization and grant `owner`.
fn contract_allows(role: Role, _action: OwnerAction) -> bool {
    role == Role::Owner
}

#[tokio::test]
async fn every_role_grants_exactly_the_permissions_in_the_contract_table() {
    let policy = policy().await;
    let mut mismatches = Vec::new();
    for role in Role::ALL {
        for permission in Permission::ALL {
            let actual = policy.grants(role).contains(permission);
            if actual != contract_grants(role, permission) {
                mismatches.push(format!("{role} {permission}: policy says {actual}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[tokio::test]
async fn only_owners_may_delete_the_organization_and_grant_owner() {
    let policy = policy().await;
    let mut mismatches = Vec::new();
    for role in Role::ALL {
        for action in OwnerAction::ALL {
            let actual = policy.allows(role, action);
            if actual != contract_allows(role, action) {
                mismatches.push(format!("{role} {}: policy says {actual}", action.as_str()));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[tokio::test]
async fn the_grants_are_spelled_out_in_contract_order() {
    let policy = policy().await;
    let names = |role| policy.grants(role).names();
    assert_eq!(names(Role::Owner), ["admin", "write", "deploy", "read"]);
    assert_eq!(names(Role::Admin), ["admin", "write", "deploy", "read"]);
    assert_eq!(names(Role::Developer), ["write", "deploy", "read"]);
    assert_eq!(names(Role::Viewer), ["read"]);
    assert!(names(Role::Guest).is_empty());
}

#[tokio::test]
async fn each_role_grants_at_least_what_the_role_below_it_grants() {
    let policy = policy().await;
    for pair in Role::ALL.windows(2) {
        let (higher, lower) = (pair[0], pair[1]);
        assert!(
            policy.grants(lower).is_subset_of(policy.grants(higher)),
            "{higher} grants less than {lower}"
        );
    }
}

#[tokio::test]
async fn the_compiled_in_policy_is_the_same_as_the_files() {
    let files = policy().await;
    let builtin = Policy::builtin().await.expect("the built-in policy loads");
    for role in Role::ALL {
        assert_eq!(builtin.grants(role), files.grants(role), "{role}");
        for action in OwnerAction::ALL {
            assert_eq!(
                builtin.allows(role, action),
                files.allows(role, action),
                "{role} {}",
                action.as_str()
            );
        }
    }
}

#[tokio::test]
async fn a_policy_without_the_role_hierarchy_grants_only_direct_permissions() {
    // Guards the test itself: the table above must depend on the files' content.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    let model = std::fs::read_to_string(format!("{dir}/model.conf")).unwrap();
    let flat: String = std::fs::read_to_string(format!("{dir}/policy.csv"))
        .unwrap()
        .lines()
        .filter(|line| !line.trim_start().starts_with("g,"))
        .map(|line| format!("{line}\n"))
        .collect();
    let policy = Policy::from_text(&model, &flat)
        .await
        .expect("the flat policy loads");
    assert_eq!(policy.grants(Role::Developer).names(), ["write", "deploy"]);
    assert!(policy.allows(Role::Owner, OwnerAction::GrantOwner));
    assert!(!policy.grants(Role::Owner).contains(Permission::Read));
}
