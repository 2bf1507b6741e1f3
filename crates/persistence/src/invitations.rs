//! Pending invitations, stored by the digest of their link's token. Accepting one (as a
//! member, or by signing up) deletes it in the same transaction that adds the member.

use crate::entity::{grant, invitation, membership, organization, user};
use crate::errors::{conflict_or_internal, internal, stored_email, stored_role};
use crate::{NewUser, Store, audit};
use chrono::{DateTime, Utc};
use portcullis_domain::{
    AuditEvent, Error, Invitation, InvitationDetails, Name, Organization, RoleAt, User,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use uuid::Uuid;

const ALREADY_MEMBER: &str = "this user is already a member";

impl TryFrom<invitation::Model> for Invitation {
    type Error = Error;

    fn try_from(row: invitation::Model) -> Result<Self, Error> {
        Ok(Self {
            id: row.id,
            organization_id: row.organization_id,
            email: stored_email(&row.email)?,
            role: stored_role(&row.role)?,
            grants: RoleAt::from_csv(row.grants.as_deref().unwrap_or_default())
                .map_err(|_| Error::internal("stored invitation grants are not valid"))?,
            invited_by: row.invited_by,
            created_at: row.created_at,
            expires_at: row.expires_at,
        })
    }
}

/// Deletes the invitation; `Error::NotFound` if it is gone (used, revoked or replaced meanwhile).
async fn take_invitation(db: &impl ConnectionTrait, id: Uuid) -> Result<(), Error> {
    let deleted = invitation::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map_err(internal)?;
    if deleted.rows_affected == 0 {
        return Err(Error::NotFound("invitation"));
    }
    Ok(())
}

async fn insert_membership(
    db: &impl ConnectionTrait,
    invitation: &Invitation,
    user_id: Uuid,
    joined_at: DateTime<Utc>,
) -> Result<(), Error> {
    membership::Entity::insert(
        membership::Model {
            organization_id: invitation.organization_id,
            user_id,
            role: invitation.role.as_str().to_owned(),
            joined_at,
        }
        .into_active_model(),
    )
    .exec_without_returning(db)
    .await
    .map_err(|err| conflict_or_internal(err, ALREADY_MEMBER))?;
    for given in &invitation.grants {
        grant::Entity::insert(
            grant::Model {
                organization_id: invitation.organization_id,
                holder_id: user_id,
                resource: given.resource.to_string(),
                role: given.role.as_str().to_owned(),
                created_at: joined_at,
            }
            .into_active_model(),
        )
        .exec_without_returning(db)
        .await
        .map_err(internal)?;
    }
    Ok(())
}

impl Store {
    /// Stores the invitation, replacing any pending one for the same email in its organization.
    pub async fn replace_invitation(
        &self,
        invitation: &Invitation,
        token_digest: &str,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let tx = self.begin_write().await?;
        invitation::Entity::delete_many()
            .filter(invitation::Column::OrganizationId.eq(invitation.organization_id))
            .filter(invitation::Column::Email.eq(invitation.email.as_str()))
            .exec(&tx)
            .await
            .map_err(internal)?;
        let row = invitation::Model {
            id: invitation.id,
            organization_id: invitation.organization_id,
            email: invitation.email.as_str().to_owned(),
            role: invitation.role.as_str().to_owned(),
            invited_by: invitation.invited_by,
            token_digest: token_digest.to_owned(),
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
            grants: (!invitation.grants.is_empty()).then(|| RoleAt::to_csv(&invitation.grants)),
        };
        invitation::Entity::insert(row.into_active_model())
            .exec_without_returning(&tx)
            .await
            .map_err(|err| {
                conflict_or_internal(err, "an invitation for this email was just sent")
            })?;
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)
    }

    /// The organization's invitations not yet expired at `now`, newest first.
    pub async fn pending_invitations(
        &self,
        organization_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invitation>, Error> {
        invitation::Entity::find()
            .filter(invitation::Column::OrganizationId.eq(organization_id))
            .filter(invitation::Column::ExpiresAt.gt(now))
            .order_by_desc(invitation::Column::CreatedAt)
            .order_by_desc(invitation::Column::Id)
            .all(&self.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(Invitation::try_from)
            .collect()
    }

    /// An invitation of the organization, expired or not.
    pub async fn invitation(
        &self,
        organization_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Invitation>, Error> {
        invitation::Entity::find_by_id(id)
            .filter(invitation::Column::OrganizationId.eq(organization_id))
            .one(&self.db)
            .await
            .map_err(internal)?
            .map(Invitation::try_from)
            .transpose()
    }

    /// Whether there was such an invitation.
    pub async fn delete_invitation(
        &self,
        organization_id: Uuid,
        id: Uuid,
        event: &AuditEvent,
    ) -> Result<bool, Error> {
        let tx = self.begin_write().await?;
        let deleted = invitation::Entity::delete_many()
            .filter(invitation::Column::Id.eq(id))
            .filter(invitation::Column::OrganizationId.eq(organization_id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        if deleted.rows_affected == 0 {
            return Ok(false);
        }
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)?;
        Ok(true)
    }

    /// A new link and expiry for the invitation (the old link stops working); `None` if gone.
    pub async fn renew_invitation(
        &self,
        organization_id: Uuid,
        id: Uuid,
        token_digest: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Option<Invitation>, Error> {
        let updated = invitation::Entity::update_many()
            .col_expr(invitation::Column::TokenDigest, Expr::value(token_digest))
            .col_expr(invitation::Column::ExpiresAt, Expr::value(expires_at))
            .filter(invitation::Column::Id.eq(id))
            .filter(invitation::Column::OrganizationId.eq(organization_id))
            .exec(&self.db)
            .await
            .map_err(internal)?;
        if updated.rows_affected == 0 {
            return Ok(None);
        }
        self.invitation(organization_id, id).await
    }

    /// The invitation a link's token names, with its organization and inviter, expired or not.
    pub async fn invitation_by_digest(
        &self,
        token_digest: &str,
    ) -> Result<Option<InvitationDetails>, Error> {
        let Some(row) = invitation::Entity::find()
            .filter(invitation::Column::TokenDigest.eq(token_digest))
            .one(&self.db)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let organization = organization::Entity::find_by_id(row.organization_id)
            .one(&self.db)
            .await
            .map_err(internal)?
            .ok_or_else(|| Error::internal("an invitation refers to a missing organization"))?;
        let invited_by_email = match row.invited_by {
            Some(id) => user::Entity::find_by_id(id)
                .one(&self.db)
                .await
                .map_err(internal)?
                .map(|inviter| stored_email(&inviter.email))
                .transpose()?,
            None => None,
        };
        Ok(Some(InvitationDetails {
            invitation: row.try_into()?,
            organization: Organization::try_from(organization)?,
            invited_by_email,
        }))
    }

    /// The user joins with the invitation's role, and the invitation is used up, together.
    /// `NotFound` if the invitation was used meanwhile; `Conflict` if already a member.
    pub async fn accept_invitation(
        &self,
        invitation: &Invitation,
        user_id: Uuid,
        joined_at: DateTime<Utc>,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let tx = self.begin_write().await?;
        take_invitation(&tx, invitation.id).await?;
        insert_membership(&tx, invitation, user_id, joined_at).await?;
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)
    }

    /// Signing up with an invitation: the account, its membership and the used-up invitation,
    /// all or nothing.
    pub async fn create_invited_user(
        &self,
        new_user: NewUser,
        invitation: &Invitation,
        event: &AuditEvent,
    ) -> Result<User, Error> {
        let tx = self.begin_write().await?;
        take_invitation(&tx, invitation.id).await?;
        let row = user::Model {
            id: new_user.id,
            email: new_user.email.as_str().to_owned(),
            name: new_user.name.map(Name::into_inner),
            password_hash: new_user.password_hash,
            platform_admin: new_user.platform_admin,
            disabled: false,
            created_at: new_user.created_at,
        };
        user::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&tx)
            .await
            .map_err(|err| conflict_or_internal(err, "a user with this email already exists"))?;
        insert_membership(&tx, invitation, row.id, new_user.created_at).await?;
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)?;
        row.try_into()
    }
}
