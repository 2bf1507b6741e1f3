//! An organization's audit log, newest first, a page at a time ("older" follows the `before`
//! cursor, as the JSON API's does).

use super::organizations::{owner, with_others};
use super::{error_page, me, person, render};
use crate::pages::{AuditPage, EventRow, Section};
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use portcullis_api::AppState;
use portcullis_api::operations::{api_keys, audit_events, members};
use portcullis_domain::Error;
use portcullis_persistence::Page;
use serde::Deserialize;
use uuid::Uuid;

/// Events a page shows unless asked otherwise: the API's default.
const PAGE_SIZE: u64 = 50;

#[derive(Deserialize)]
pub struct PageQuery {
    pub before: Option<Uuid>,
    pub limit: Option<u64>,
}

impl PageQuery {
    /// The page size asked for, within the API's bounds (1 to 200).
    pub(crate) fn limit(&self) -> Result<u64, Error> {
        let limit = self.limit.unwrap_or(PAGE_SIZE);
        if (1..=200).contains(&limit) {
            Ok(limit)
        } else {
            Err(Error::BadRequest("limit must be between 1 and 200".into()))
        }
    }

    /// One more than shown, to know whether an older page exists.
    pub(crate) fn probe(&self, limit: u64) -> Page {
        Page {
            limit: limit + 1,
            before: self.before,
        }
    }

    /// The link to the page after `last`, keeping a size that was asked for.
    pub(crate) fn older(&self, path: &str, last: Uuid) -> String {
        match self.limit {
            Some(limit) => format!("{path}?before={last}&limit={limit}"),
            None => format!("{path}?before={last}"),
        }
    }
}

#[handler]
pub async fn show(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(org_id): Path<Uuid>,
    Query(query): Query<PageQuery>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let loaded = async {
        let limit = query.limit()?;
        let (organization, organizations) = with_others(state, &caller, org_id).await?;
        let mut events = audit_events::list(state, &caller, org_id, query.probe(limit)).await?;
        // Reading the log needs `admin`, which also reads members and every key: names
        // instead of ids.
        let members = members::list(state, &caller, org_id).await?;
        let keys = api_keys::list(state, &caller, org_id).await?;
        let more = events.len() as u64 > limit;
        events.truncate(limit as usize);
        Ok::<_, Error>((organization, organizations, events, members, keys, more))
    };
    let (organization, organizations, events, members, keys, more) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return error_page(error),
    };
    let path = format!("/console/organizations/{org_id}/audit");
    let older = events
        .last()
        .filter(|_| more)
        .map(|last| query.older(&path, last.id));
    let events = events
        .into_iter()
        .map(|event| {
            let key = event
                .actor_api_key_id
                .and_then(|id| keys.iter().find(|key| key.id == id));
            let actor = match (key, event.actor_user_id) {
                (Some(key), _) => format!("API key {} ({})", key.name, owner(key, &members, &[])),
                (None, Some(user_id)) => members
                    .iter()
                    .find(|m| m.user_id == user_id)
                    .map_or_else(|| user_id.to_string(), |m| m.email.to_string()),
                (None, None) => match event.actor_api_key_id {
                    Some(id) => format!("API key {id}"),
                    None => "the root token".to_owned(),
                },
            };
            EventRow::new(event, actor)
        })
        .collect();
    render(
        &AuditPage {
            me: me(&caller),
            organization,
            organizations,
            section: Section::Audit,
            events,
            older,
            paged: query.before.is_some(),
        },
        StatusCode::OK,
    )
}
