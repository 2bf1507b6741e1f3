//! Appending to an organization's audit trail.

use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::{AuditAction, AuditEvent, Error};
use uuid::Uuid;

/// What an event acted on, written `kind:id`.
pub(crate) enum Target {
    ApiKey(Uuid),
    User(Uuid),
    Organization(Uuid),
}

impl Target {
    fn render(&self) -> String {
        match self {
            Self::ApiKey(id) => format!("api_key:{id}"),
            Self::User(id) => format!("user:{id}"),
            Self::Organization(id) => format!("organization:{id}"),
        }
    }
}

pub(crate) async fn record(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    action: AuditAction,
    target: Target,
) -> Result<(), Error> {
    let event = AuditEvent {
        id: portcullis_domain::new_id(),
        organization_id,
        at: state.clock.now(),
        actor_user_id: caller.principal.user_id(),
        actor_api_key_id: caller.principal.api_key_id(),
        action: action.as_str().to_owned(),
        target: target.render(),
        ip: caller.ip.map(|ip| ip.to_string()),
    };
    state.store.record_audit(&event).await
}
