//! Invitations (contract section 9): admins invite by email with a role; the invitee looks the
//! invitation up by its link's token and accepts it with a session, or signs up with it.

use super::accounts::Anonymous;
use super::audit::{self, Target};
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::email::invitation_email;
use crate::state::AppState;
use portcullis_domain::invitation::INVITATION_LIFETIME;
use portcullis_domain::{
    AuditAction, Email, Error, Invitation, InvitationDetails, LinkToken, Permission, Role, RoleAt,
    User, rules,
};
use uuid::Uuid;

/// An invitation with its link, which only its creator sees (and the invitee, by email).
pub struct IssuedInvitation {
    pub invitation: Invitation,
    pub invite_url: String,
}

fn invite_url(link_base: &str, token: &LinkToken) -> String {
    format!(
        "{link_base}/console/invitations/accept?token={}",
        token.expose()
    )
}

/// Needs `admin`, and an owner to invite an `owner`. Someone already a member is a 409; a
/// pending invitation for the same email is replaced (its link stops working).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    email: Email,
    role: Role,
    grants: Vec<RoleAt>,
    link_base: &str,
) -> Result<IssuedInvitation, Error> {
    let access = state.access(caller, organization_id).await?;
    state.decide(rules::assign_role(&access, &state.policy, None, role))?;
    if let Some(user) = state.store.user_by_email(&email).await?
        && state.store.role(user.id, organization_id).await?.is_some()
    {
        return Err(Error::conflict("this user is already a member"));
    }
    let now = state.clock.now();
    let token = LinkToken::generate();
    let invitation = Invitation {
        id: portcullis_domain::new_id(),
        organization_id,
        email,
        role,
        grants,
        invited_by: caller.principal.user_id(),
        created_at: now,
        expires_at: now + INVITATION_LIFETIME,
    };
    let event = audit::event(
        state,
        caller,
        organization_id,
        AuditAction::InvitationCreated,
        Target::Invitation(invitation.id),
    );
    state
        .store
        .replace_invitation(&invitation, &token.digest(), &event)
        .await?;
    issue(state, caller, invitation, &token, link_base).await
}

/// Needs `admin`: the pending invitations, newest first.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
) -> Result<Vec<Invitation>, Error> {
    state
        .require(caller, organization_id, Permission::Admin)
        .await?;
    state
        .store
        .pending_invitations(organization_id, state.clock.now())
        .await
}

/// Needs `admin`; the link stops working.
pub async fn revoke(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    id: Uuid,
) -> Result<(), Error> {
    state
        .require(caller, organization_id, Permission::Admin)
        .await?;
    let event = audit::event(
        state,
        caller,
        organization_id,
        AuditAction::InvitationRevoked,
        Target::Invitation(id),
    );
    if !state
        .store
        .delete_invitation(organization_id, id, &event)
        .await?
    {
        return Err(Error::NotFound("invitation"));
    }
    Ok(())
}

/// Needs `admin` (and an owner for an `owner` invitation): a new link and a fresh 7 days; the
/// old link stops working. Works on an expired invitation too.
pub async fn resend(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    id: Uuid,
    link_base: &str,
) -> Result<IssuedInvitation, Error> {
    let access = state.access(caller, organization_id).await?;
    let current = state
        .store
        .invitation(organization_id, id)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    state.decide(rules::assign_role(
        &access,
        &state.policy,
        None,
        current.role,
    ))?;
    let token = LinkToken::generate();
    let expires_at = state.clock.now() + INVITATION_LIFETIME;
    let invitation = state
        .store
        .renew_invitation(organization_id, id, &token.digest(), expires_at)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    issue(state, caller, invitation, &token, link_base).await
}

/// The link, and the email carrying it when SMTP is configured.
async fn issue(
    state: &AppState,
    caller: &Caller,
    invitation: Invitation,
    token: &LinkToken,
    link_base: &str,
) -> Result<IssuedInvitation, Error> {
    let invite_url = invite_url(link_base, token);
    if state.outbox.is_enabled() {
        let organization = state
            .store
            .organization(invitation.organization_id)
            .await?
            .ok_or(Error::NotFound("organization"))?;
        let inviter = caller.user.as_ref().map(|user| user.email.to_string());
        state.send_email(invitation_email(
            invitation.email.clone(),
            organization.name.as_str(),
            inviter.as_deref(),
            invitation.role.as_str(),
            &invite_url,
        ));
    }
    Ok(IssuedInvitation {
        invitation,
        invite_url,
    })
}

/// The pending invitation a link's token names; unknown, used, revoked or expired: 404.
pub async fn usable(state: &AppState, token: &str) -> Result<InvitationDetails, Error> {
    let token = LinkToken::parse(token).ok_or(Error::NotFound("invitation"))?;
    let details = state
        .store
        .invitation_by_digest(&token.digest())
        .await?
        .filter(|details| !details.invitation.is_expired(state.clock.now()))
        .ok_or(Error::NotFound("invitation"))?;
    Ok(details)
}

/// Unauthenticated, rate limited per client address.
pub async fn look_up(
    state: &AppState,
    client: Anonymous,
    token: &str,
) -> Result<InvitationDetails, Error> {
    client.admit_link(state)?;
    usable(state, token).await
}

/// What accepting gave.
pub struct Accepted {
    pub organization_id: Uuid,
    pub role: Role,
}

/// The session's user joins with the invitation's role: only as the invited email (else 403);
/// already a member: 409.
pub async fn accept(
    state: &AppState,
    caller: &Caller,
    user: &User,
    token: &str,
) -> Result<Accepted, Error> {
    let details = usable(state, token).await?;
    let invitation = details.invitation;
    state.decide(rules::accept_invitation(&user.email, &invitation.email))?;
    let event = audit::event(
        state,
        caller,
        invitation.organization_id,
        AuditAction::InvitationAccepted,
        Target::Invitation(invitation.id),
    );
    state
        .store
        .accept_invitation(&invitation, user.id, state.clock.now(), &event)
        .await?;
    state
        .invalidate(Invalidation::Standing {
            holder_id: user.id,
            organization_id: invitation.organization_id,
        })
        .await;
    Ok(Accepted {
        organization_id: invitation.organization_id,
        role: invitation.role,
    })
}
