use super::{Nullable, Tag, page};
use crate::credentials::Caller;
use crate::error::Answer;
use crate::operations::audit_events;
use crate::state::AppState;
use crate::statuses;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi, payload::Json};
use portcullis_domain::AuditEvent;
use uuid::Uuid;

statuses! {
    ListStatuses: 400, 401, 403, 404, 429, 500, 503;
}

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
    ) -> Answer<Json<Vec<AuditEventBody>>, ListStatuses> {
        let page = page(limit.0, before.0)?;
        let events = audit_events::list(&state, &caller, org_id.0, page).await?;
        Ok(Json(events.into_iter().map(Into::into).collect()))
    }
}
