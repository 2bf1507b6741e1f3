//! Reading an organization's audit trail.

use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::{AuditEvent, Error, Permission};
use portcullis_persistence::Page;
use uuid::Uuid;

/// Newest first; needs `admin`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    page: Page,
) -> Result<Vec<AuditEvent>, Error> {
    state
        .require(caller, organization_id, Permission::Admin)
        .await?;
    state.store.audit_events(organization_id, page).await
}
