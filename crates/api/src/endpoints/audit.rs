use super::{Nullable, Tag, client_ip, page};
use crate::credentials::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::{Data, RemoteAddr};
use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi, payload::Json};
use portcullis_domain::{AuditAction, AuditEvent, Error, Permission};
use uuid::Uuid;

pub struct AuditApi;

#[derive(Debug, Object)]
#[oai(rename = "AuditEvent")]
pub struct AuditEventBody {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_user_id: Nullable<Uuid>,
    pub actor_api_key_id: Nullable<Uuid>,
    /// e.g. `api_key.created`, `member.role_changed`, `organization.updated`.
    pub action: String,
    /// What was acted on, as `kind:id`.
    pub target: String,
    pub ip: Nullable<String>,
}

impl From<AuditEvent> for AuditEventBody {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor_user_id: e.actor_user_id.into(),
            actor_api_key_id: e.actor_api_key_id.into(),
            action: e.action,
            target: e.target,
            ip: e.ip.into(),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1/organizations", tag = "Tag::Audit")]
impl AuditApi {
    /// The organization's audit trail, newest first (needs `admin`).
    #[oai(
        path = "/:org_id/audit-events",
        method = "get",
        operation_id = "list_audit_events"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        /// 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// An event id: only events strictly older than it.
        before: Query<Option<Uuid>>,
    ) -> ApiResult<Json<Vec<AuditEventBody>>> {
        state.require(&caller, org_id.0, Permission::Admin).await?;
        let events = state
            .store
            .audit_events(org_id.0, page(limit.0, before.0)?)
            .await?;
        Ok(Json(events.into_iter().map(Into::into).collect()))
    }
}

/// Appends an event to the organization's trail.
pub(crate) async fn record(
    state: &AppState,
    caller: &Caller,
    remote: &RemoteAddr,
    organization_id: Uuid,
    action: AuditAction,
    target_kind: &str,
    target_id: Uuid,
) -> Result<(), Error> {
    let event = AuditEvent {
        id: portcullis_domain::new_id(),
        organization_id,
        at: state.clock.now(),
        actor_user_id: caller.principal.user_id(),
        actor_api_key_id: caller.principal.api_key_id(),
        action: action.as_str().to_owned(),
        target: format!("{target_kind}:{target_id}"),
        ip: client_ip(remote),
    };
    state.store.record_audit(&event).await
}
