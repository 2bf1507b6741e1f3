//! Appending to an organization's audit trail.

use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::{AuditAction, AuditEvent, Error, ResourcePath};
use std::net::IpAddr;
use uuid::Uuid;

/// What an event acted on, written `kind:id`.
pub(crate) enum Target {
    ApiKey(Uuid),
    Invitation(Uuid),
    User(Uuid),
    Organization(Uuid),
    ServiceAccount(Uuid),
    /// A grant: its holder and resource, `grant:<holder id>:<path>`.
    Grant(Uuid, ResourcePath),
}

impl Target {
    fn render(&self) -> String {
        match self {
            Self::ApiKey(id) => format!("api_key:{id}"),
            Self::Invitation(id) => format!("invitation:{id}"),
            Self::User(id) => format!("user:{id}"),
            Self::Organization(id) => format!("organization:{id}"),
            Self::ServiceAccount(id) => format!("service_account:{id}"),
            Self::Grant(holder, resource) => format!("grant:{holder}:{resource}"),
        }
    }
}

/// Who did it: the caller's user and key.
pub(crate) async fn record(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    action: AuditAction,
    target: Target,
) -> Result<(), Error> {
    let actor = Actor {
        user_id: caller.principal.user_id(),
        api_key_id: caller.principal.api_key_id(),
        ip: caller.ip,
    };
    record_by(state, actor, organization_id, action, target).await
}

/// Who acted, when it is not a caller (a person signing up).
pub(crate) struct Actor {
    pub user_id: Option<Uuid>,
    pub api_key_id: Option<Uuid>,
    pub ip: Option<IpAddr>,
}

pub(crate) async fn record_by(
    state: &AppState,
    actor: Actor,
    organization_id: Uuid,
    action: AuditAction,
    target: Target,
) -> Result<(), Error> {
    let event = AuditEvent {
        id: portcullis_domain::new_id(),
        organization_id,
        at: state.clock.now(),
        actor_user_id: actor.user_id,
        actor_api_key_id: actor.api_key_id,
        action: action.as_str().to_owned(),
        target: target.render(),
        ip: actor.ip.map(|ip| ip.to_string()),
    };
    state.store.record_audit(&event).await
}
