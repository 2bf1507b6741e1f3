//! The events of an organization's audit trail, written by the store with the change they
//! record.

use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::{AuditAction, AuditEvent, ResourcePath};
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

/// The event recording what `caller` did, to be written with the change (the store's methods
/// that change an organization take it).
pub(crate) fn event(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    action: AuditAction,
    target: Target,
) -> AuditEvent {
    let actor = Actor {
        user_id: caller.principal.user_id(),
        api_key_id: caller.principal.api_key_id(),
        ip: caller.ip,
    };
    event_by(state, actor, organization_id, action, target)
}

/// Who acted, when it is not a caller (a person signing up).
pub(crate) struct Actor {
    pub user_id: Option<Uuid>,
    pub api_key_id: Option<Uuid>,
    pub ip: Option<IpAddr>,
}

pub(crate) fn event_by(
    state: &AppState,
    actor: Actor,
    organization_id: Uuid,
    action: AuditAction,
    target: Target,
) -> AuditEvent {
    AuditEvent {
        id: portcullis_domain::new_id(),
        organization_id,
        at: state.clock.now(),
        actor_user_id: actor.user_id,
        actor_api_key_id: actor.api_key_id,
        action: action.as_str().to_owned(),
        target: target.render(),
        ip: actor.ip.map(|ip| ip.to_string()),
    }
}
