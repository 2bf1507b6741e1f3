//! The rules beyond "does the caller hold permission P here": who may grant which role, leave,
//! manage which key, mint tokens, create or delete organizations, administer the platform and
//! sign up. Each takes what the operation knows (the principal, its `Access`, the target) and
//! answers with a named `Denial` when it refuses.

use crate::resource::{ResourcePath, Restriction, Standing};
use crate::{
    Access, Denial, Email, Holder, OwnerAction, Permission, Permissions, Policy, Principal, Role,
    User,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Adding a member with `new`, or changing a member's role from `current` to `new`: `admin`,
/// and an owner whenever the owner role is granted or taken away.
pub fn assign_role(
    access: &Access,
    policy: &Policy,
    current: Option<Role>,
    new: Role,
) -> Result<(), Denial> {
    access.require(Permission::Admin)?;
    if new == Role::Owner || current == Some(Role::Owner) {
        access.require_owner(policy, OwnerAction::GrantOwner)?;
    }
    Ok(())
}

/// Removing `target` (whose role is `target_role`) from the organization. Leaving oneself
/// needs a person, or a key with `admin`; removing someone else needs `admin`, and an owner to
/// remove an owner. (The last owner cannot leave: that is the store's conflict, not a denial.)
pub fn remove_member(
    principal: &Principal,
    access: &Access,
    policy: &Policy,
    target: Uuid,
    target_role: Role,
) -> Result<(), Denial> {
    if principal.user_id() == Some(target) {
        return if principal.is_person() {
            Ok(())
        } else {
            access.require(Permission::Admin)
        };
    }
    access.require(Permission::Admin)?;
    if target_role == Role::Owner {
        access.require_owner(policy, OwnerAction::GrantOwner)?;
    }
    Ok(())
}

/// Which keys a caller sees when listing an organization's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyListing {
    All,
    HeldBy(Holder),
    /// The root token has `admin` and sees all; a caller with no holder and no `admin` sees none.
    None,
}

pub fn list_keys(principal: &Principal, access: &Access) -> Result<KeyListing, Denial> {
    access.require_organization_wide()?;
    Ok(if access.has(Permission::Admin) {
        KeyListing::All
    } else {
        principal
            .holder()
            .map_or(KeyListing::None, KeyListing::HeldBy)
    })
}

/// A key about to be created.
#[derive(Debug, Clone, Copy)]
pub struct KeyRequest<'a> {
    /// As asked: not expanded.
    pub scopes: Permissions,
    pub expires_at: Option<DateTime<Utc>>,
    pub resources: Option<&'a Restriction>,
}

/// Where a key will act: at each of its paths, or organization-wide.
fn places(resources: Option<&Restriction>) -> Vec<Option<&ResourcePath>> {
    match resources {
        Some(restriction) => restriction.paths().iter().map(Some).collect(),
        None => vec![None],
    }
}

/// Creating a key for the caller: whose it is, and when it expires. At every place the key will
/// act (each of its paths, or organization-wide) its scopes must lie within the caller's
/// effective permissions there; a key created by a key never outlives it (without `expires_at`
/// it inherits the creating key's expiry), and one created by a restricted key is restricted
/// within the creator's paths.
pub fn create_key(
    principal: &Principal,
    policy: &Policy,
    organization_id: Uuid,
    standing: Option<&Standing>,
    request: KeyRequest<'_>,
) -> Result<(Holder, Option<DateTime<Utc>>), Denial> {
    let holder = match principal {
        Principal::Root => return Err(Denial::RootOwnsNoKeys),
        Principal::AccessToken { .. } => return Err(Denial::TokenManagesNoKeys),
        Principal::Session { user_id, .. } => Holder::User(*user_id),
        Principal::ApiKey { holder, .. } => *holder,
    };
    let expires_at = bounded_by_creator(principal, request)?;
    for place in places(request.resources) {
        principal
            .access(policy, organization_id, standing, place)?
            .require_all(request.scopes)?;
    }
    Ok((holder, expires_at))
}

/// Creating a key for a service account: `admin`, and at every place the key will act its
/// scopes lie within both the caller's and the account's grants.
pub fn create_service_account_key(
    principal: &Principal,
    policy: &Policy,
    organization_id: Uuid,
    standing: Option<&Standing>,
    account: &Standing,
    request: KeyRequest<'_>,
) -> Result<Option<DateTime<Utc>>, Denial> {
    match principal {
        Principal::Root => return Err(Denial::RootOwnsNoKeys),
        Principal::AccessToken { .. } => return Err(Denial::TokenManagesNoKeys),
        Principal::Session { .. } | Principal::ApiKey { .. } => {}
    }
    principal
        .access(policy, organization_id, standing, None)?
        .require(Permission::Admin)?;
    let expires_at = bounded_by_creator(principal, request)?;
    for place in places(request.resources) {
        principal
            .access(policy, organization_id, standing, place)?
            .require_all(request.scopes)?;
        Access::of_role(policy, account.role_at(place))
            .require_all(request.scopes)
            .map_err(|denial| match denial {
                Denial::Missing { missing, message } => Denial::Missing {
                    missing,
                    message: format!("the service account's {message}"),
                },
                other => other,
            })?;
    }
    Ok(expires_at)
}

/// A key created by a key: within the creator's paths, and never outliving it.
fn bounded_by_creator(
    principal: &Principal,
    request: KeyRequest<'_>,
) -> Result<Option<DateTime<Utc>>, Denial> {
    if let Some(creator) = principal.restriction()
        && !request
            .resources
            .is_some_and(|asked| creator.contains(asked))
    {
        return Err(Denial::BeyondCreatorResources);
    }
    match principal {
        Principal::ApiKey {
            expires_at: Some(parent),
            ..
        } => match request.expires_at {
            None => Ok(Some(*parent)),
            Some(at) if at > *parent => Err(Denial::OutlivesCreatingKey),
            Some(at) => Ok(Some(at)),
        },
        _ => Ok(request.expires_at),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    Get,
    Revoke,
    Rotate,
}

/// The key a caller wants to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTarget {
    pub id: Uuid,
    pub holder: Holder,
    /// Its effective permissions now: its holder's current role grants ∩ its scopes.
    pub effective: Permissions,
}

/// Getting, revoking or rotating a key (section 4):
/// - someone else's key needs `admin` to get or revoke; nobody but its user rotates a person's
///   key, while admins rotate service accounts' keys;
/// - a key may always get and revoke itself, and acts on another key only if it holds every
///   effective permission of that key; a key restricted to resources acts on no other key and
///   does not rotate itself;
/// - access tokens may read keys but never revoke or rotate them.
pub fn manage_key(
    principal: &Principal,
    access: &Access,
    target: &KeyTarget,
    action: KeyAction,
) -> Result<(), Denial> {
    let itself = principal.api_key_id() == Some(target.id);
    if itself && (action != KeyAction::Rotate || principal.restriction().is_none()) {
        return Ok(());
    }
    if matches!(principal, Principal::AccessToken { .. }) && action != KeyAction::Get {
        return Err(Denial::TokenManagesNoKeys);
    }
    access.require_organization_wide()?;
    if principal.holder() != Some(target.holder) {
        if action == KeyAction::Rotate && matches!(target.holder, Holder::User(_)) {
            return Err(Denial::NotKeyOwner);
        }
        access.require(Permission::Admin)?;
    }
    if principal.api_key_id().is_some() {
        access.require_all(target.effective.compact())?;
    }
    Ok(())
}

/// Granting a role on a resource, changing or removing a grant, or writing a service account:
/// `admin`, organization-wide.
pub fn administer(access: &Access) -> Result<(), Denial> {
    access.require_organization_wide()?;
    access.require(Permission::Admin)
}

/// Minting an access token: not from a token; from a restricted key only for a resource.
pub fn mint_token(principal: &Principal, access: &Access) -> Result<(), Denial> {
    match principal {
        Principal::AccessToken { .. } => Err(Denial::TokenMintsNoTokens),
        Principal::ApiKey {
            resources: Some(_), ..
        } => access.require_organization_wide(),
        _ => Ok(()),
    }
}

/// Who founds a new organization and becomes its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Founder {
    /// The caller, a person.
    Caller(Uuid),
    /// The root token names an existing user (`owner_email`).
    Named,
}

pub fn create_organization(principal: &Principal) -> Result<Founder, Denial> {
    match (principal, principal.user_id()) {
        (Principal::Root, _) => Ok(Founder::Named),
        (_, Some(user)) if principal.is_person() => Ok(Founder::Caller(user)),
        _ => Err(Denial::PersonOnly("create organizations")),
    }
}

/// Deleting an organization: an owner in person, or the root token.
pub fn delete_organization(
    principal: &Principal,
    access: &Access,
    policy: &Policy,
) -> Result<(), Denial> {
    access.require_owner(policy, OwnerAction::DeleteOrganization)?;
    if principal.is_person() || *principal == Principal::Root {
        Ok(())
    } else {
        Err(Denial::PersonOnly("delete an organization"))
    }
}

/// Which organizations a caller lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationListing {
    Every,
    MembershipsOf(Uuid),
    /// A key or access token: its own organization.
    Bound(Uuid),
}

pub fn list_organizations(principal: &Principal) -> OrganizationListing {
    match principal {
        Principal::Root => OrganizationListing::Every,
        Principal::Session { user_id, .. } => OrganizationListing::MembershipsOf(*user_id),
        Principal::ApiKey {
            organization_id, ..
        }
        | Principal::AccessToken {
            organization_id, ..
        } => OrganizationListing::Bound(*organization_id),
    }
}

/// What `/me` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// The root token: every permission, no memberships.
    Everywhere,
    /// A session: its memberships, no organization of its own.
    Person(Uuid),
    /// A key or access token: what it may do in its organization.
    Bound(Uuid),
}

pub fn identity(principal: &Principal) -> Identity {
    match list_organizations(principal) {
        OrganizationListing::Every => Identity::Everywhere,
        OrganizationListing::MembershipsOf(user) => Identity::Person(user),
        OrganizationListing::Bound(organization) => Identity::Bound(organization),
    }
}

/// The platform administrator: the root token, or a person whose user is a platform admin.
/// API keys never are.
pub fn administer_platform(principal: &Principal, user: Option<&User>) -> Result<(), Denial> {
    let allowed = match principal {
        Principal::Root => true,
        _ => principal.is_person() && user.is_some_and(|u| u.platform_admin),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denial::PlatformAdminOnly)
    }
}

/// Password and session management: a session only. Its user and session ids.
pub fn require_session(principal: &Principal) -> Result<(Uuid, Uuid), Denial> {
    match principal {
        Principal::Session {
            user_id,
            session_id,
        } => Ok((*user_id, *session_id)),
        _ => Err(Denial::SessionOnly),
    }
}

/// Changing a password needs the current one.
pub fn confirm_password(matches: bool) -> Result<(), Denial> {
    if matches {
        Ok(())
    } else {
        Err(Denial::IncorrectPassword)
    }
}

/// Accepting an invitation, or signing up with one: only as the email it was sent to
/// (emails compare case-insensitively: `Email` is normalized).
pub fn accept_invitation(person: &Email, invited: &Email) -> Result<(), Denial> {
    if person == invited {
        Ok(())
    } else {
        Err(Denial::InvitationForAnotherEmail)
    }
}

/// Signing up with an invitation: allowed under every signup mode (invite-only instances run
/// `closed`) when the emails match, and never makes a platform admin.
pub fn sign_up_invited(email: &Email, invited: &Email) -> Result<bool, Denial> {
    accept_invitation(email, invited)?;
    Ok(false)
}

/// `PORTCULLIS_SIGNUP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupPolicy {
    /// Only while no user exists; that user becomes platform admin.
    FirstUser,
    Open,
    Closed,
}

/// Whether a signup may go ahead, and whether the new user becomes platform admin.
pub fn sign_up(policy: SignupPolicy, users_exist: bool) -> Result<bool, Denial> {
    match policy {
        SignupPolicy::Closed => Err(Denial::SignupClosed),
        SignupPolicy::Open => Ok(false),
        SignupPolicy::FirstUser if users_exist => Err(Denial::FirstUserExists),
        SignupPolicy::FirstUser => Ok(true),
    }
}

/// What a request's `Origin` header says about the page that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOrigin {
    /// No `Origin`: not a browser's cross-site request (curl, servers).
    Absent,
    /// This host, or one of the trusted origins.
    Trusted,
    Foreign,
}

/// An unsafe request authenticated by the session cookie: the browser sends the cookie from any
/// page, so the page must be one we trust.
pub fn cookie_write(origin: RequestOrigin) -> Result<(), Denial> {
    match origin {
        RequestOrigin::Trusted => Ok(()),
        RequestOrigin::Absent | RequestOrigin::Foreign => Err(Denial::UntrustedOrigin),
    }
}

/// An unauthenticated unsafe request (signup, login): a foreign page may not sign a visitor's
/// browser up or in; without an `Origin` it is not a browser acting for another site.
pub fn anonymous_write(origin: RequestOrigin) -> Result<(), Denial> {
    match origin {
        RequestOrigin::Foreign => Err(Denial::UntrustedOrigin),
        RequestOrigin::Absent | RequestOrigin::Trusted => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn policy() -> Policy {
        Policy::builtin().await.unwrap()
    }

    fn perms(names: &[&str]) -> Permissions {
        Permissions::parse_scopes(names).unwrap()
    }

    fn key(scopes: &[&str], expires_at: Option<DateTime<Utc>>) -> Principal {
        Principal::ApiKey {
            holder: Holder::User(Uuid::nil()),
            key_id: Uuid::max(),
            organization_id: Uuid::nil(),
            scopes: perms(scopes),
            expires_at,
            resources: None,
        }
    }

    #[tokio::test]
    async fn a_key_is_its_users_role_intersected_with_its_scopes() {
        let policy = policy().await;
        let access = key(&["admin"], None)
            .access(
                &policy,
                Uuid::nil(),
                Some(&Standing::new(Role::Developer)),
                None,
            )
            .unwrap();
        assert_eq!(access.permissions, perms(&["write", "deploy", "read"]));
        let denial = access.require(Permission::Admin).unwrap_err();
        assert_eq!(
            denial.message(),
            "role 'developer' lacks the 'admin' permission"
        );
    }

    #[tokio::test]
    async fn a_denial_names_what_was_asked_not_what_it_implies() {
        let policy = policy().await;
        let access = key(&["read", "deploy"], None)
            .access(
                &policy,
                Uuid::nil(),
                Some(&Standing::new(Role::Owner)),
                None,
            )
            .unwrap();
        let denial = access.require_all(perms(&["admin"])).unwrap_err();
        assert_eq!(denial.missing(), Some(perms(&["admin"])));
        assert_eq!(denial.message(), "API key lacks the 'admin' scope");
        let denial = access.require_all(perms(&["read", "write"])).unwrap_err();
        assert_eq!(denial.missing(), Some(perms(&["write"])));
    }

    #[tokio::test]
    async fn a_child_key_inherits_or_stays_within_its_parents_expiry() {
        let policy = policy().await;
        let parent_expiry = Utc::now();
        let parent = key(&["admin"], Some(parent_expiry));
        let owner = Standing::new(Role::Owner);
        let ask = |expires_at| KeyRequest {
            scopes: perms(&["read"]),
            expires_at,
            resources: None,
        };
        assert_eq!(
            create_key(&parent, &policy, Uuid::nil(), Some(&owner), ask(None)),
            Ok((Holder::User(Uuid::nil()), Some(parent_expiry)))
        );
        let later = parent_expiry + chrono::Duration::seconds(1);
        assert_eq!(
            create_key(
                &parent,
                &policy,
                Uuid::nil(),
                Some(&owner),
                ask(Some(later))
            ),
            Err(Denial::OutlivesCreatingKey)
        );
    }

    #[tokio::test]
    async fn only_the_keys_own_user_rotates_it() {
        let policy = policy().await;
        let admin = Principal::Session {
            user_id: Uuid::now_v7(),
            session_id: Uuid::nil(),
        };
        let access = admin
            .access(
                &policy,
                Uuid::nil(),
                Some(&Standing::new(Role::Admin)),
                None,
            )
            .unwrap();
        let target = KeyTarget {
            id: Uuid::now_v7(),
            holder: Holder::User(Uuid::now_v7()),
            effective: Permissions::ALL,
        };
        assert_eq!(
            manage_key(&admin, &access, &target, KeyAction::Rotate),
            Err(Denial::NotKeyOwner)
        );
        assert_eq!(
            manage_key(&admin, &access, &target, KeyAction::Revoke),
            Ok(())
        );
    }

    #[test]
    fn an_invitation_is_accepted_only_by_its_email_whatever_the_case() {
        let invited = Email::parse("Ada@Example.com").unwrap();
        let same = Email::parse("ada@EXAMPLE.com").unwrap();
        let other = Email::parse("eve@example.com").unwrap();
        assert_eq!(accept_invitation(&same, &invited), Ok(()));
        assert_eq!(
            accept_invitation(&other, &invited),
            Err(Denial::InvitationForAnotherEmail)
        );
    }

    #[test]
    fn an_invited_signup_is_never_a_platform_admin_under_any_mode() {
        let invited = Email::parse("ada@example.com").unwrap();
        let other = Email::parse("eve@example.com").unwrap();
        assert_eq!(sign_up_invited(&invited, &invited), Ok(false));
        assert_eq!(
            sign_up_invited(&other, &invited),
            Err(Denial::InvitationForAnotherEmail)
        );
        // Without an invitation the mode decides.
        assert_eq!(
            sign_up(SignupPolicy::Closed, true),
            Err(Denial::SignupClosed)
        );
    }
}
