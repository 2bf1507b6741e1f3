//! The audit trail: `GET /api/v1/organizations/{org_id}/audit-events` (sections 6 and 8).

use crate::api_keys::{field_names, names, timestamp};
use chrono::Duration;
use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    key_member_and_organization_changes_are_audited_newest_first,
    an_action_taken_with_a_key_names_the_key,
    audit_events_page_with_limit_and_before,
    only_admins_read_the_audit_trail,
    audit_events_stay_inside_their_organization,
);

const EVENT_FIELDS: &[&str] = &[
    "id",
    "at",
    "actor_user_id",
    "actor_api_key_id",
    "action",
    "target",
    "ip",
];

async fn audit_events(app: &TestApp, by: &Person, org: &str, query: &[(&str, &str)]) -> Vec<Value> {
    let resp = by
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}/audit-events")))
        .query(query)
        .send()
        .await
        .unwrap();
    let list = expect_json(resp, 200).await;
    list.as_array()
        .unwrap_or_else(|| panic!("a bare array: {list}"))
        .clone()
}

fn actions(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

async fn key_member_and_organization_changes_are_audited_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let member = app.person().await;
    let org = app.organization(&owner).await;
    let tick = || app.clock.advance(Duration::seconds(1));
    let org_url = format!("/api/v1/organizations/{org}");

    tick();
    let created = app.api_key(&owner, &org, &["read"]).await;
    tick();
    let resp = owner
        .client
        .post(app.url(&format!(
            "{org_url}/api-keys/{}/rotate",
            created["id"].as_str().unwrap()
        )))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let rotated = expect_json(resp, 201).await;
    tick();
    let resp = owner
        .client
        .delete(app.url(&format!(
            "{org_url}/api-keys/{}",
            rotated["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    tick();
    app.add_member(&owner, &org, &member, "viewer").await;
    tick();
    let member_url = app.url(&format!("{org_url}/members/{}", member.id));
    let resp = owner
        .client
        .patch(&member_url)
        .json(&json!({"role": "developer"}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    tick();
    let resp = owner.client.delete(&member_url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    tick();
    let resp = owner
        .client
        .patch(app.url(&org_url))
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;

    let events = audit_events(&app, &owner, &org, &[]).await;
    let expected = [
        "organization.updated",
        "member.removed",
        "member.role_changed",
        "member.added",
        "api_key.revoked",
        "api_key.rotated",
        "api_key.created",
    ];
    let ours: Vec<&Value> = events
        .iter()
        .filter(|e| expected.contains(&e["action"].as_str().unwrap()))
        .collect();
    let got: Vec<&str> = ours.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(got, expected, "newest first: {events:#?}");

    for event in &events {
        assert_eq!(field_names(event), names(EVENT_FIELDS), "{event}");
        assert!(
            uuid::Uuid::parse_str(event["id"].as_str().unwrap()).is_ok(),
            "{event}"
        );
        timestamp(&event["at"]);
        assert!(event["ip"].is_string() || event["ip"].is_null(), "{event}");
    }
    for event in &ours {
        assert_eq!(event["actor_user_id"], json!(owner.id), "{event}");
        assert_eq!(
            event["actor_api_key_id"],
            Value::Null,
            "a session did it: {event}"
        );
        assert!(!event["target"].is_null(), "{event}");
    }
    // Dated by the server's clock, a second apart, newest first.
    let times: Vec<_> = ours.iter().map(|e| timestamp(&e["at"])).collect();
    for pair in times.windows(2) {
        assert!(pair[0] > pair[1], "not newest first: {times:?}");
    }
    let ids: std::collections::BTreeSet<_> =
        events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), events.len(), "ids are unique");
}

async fn an_action_taken_with_a_key_names_the_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["admin"]).await;

    app.clock.advance(Duration::seconds(1));
    let resp = app
        .http
        .patch(app.url(&format!("/api/v1/organizations/{org}")))
        .header("X-API-Key", created["key"].as_str().unwrap())
        .json(&json!({"name": "Renamed by a key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["name"], "Renamed by a key");

    let events = audit_events(&app, &owner, &org, &[]).await;
    let newest = &events[0];
    assert_eq!(newest["action"], "organization.updated", "{events:#?}");
    assert_eq!(newest["actor_api_key_id"], created["id"], "{newest}");
    assert_eq!(newest["actor_user_id"], json!(owner.id), "{newest}");

    // The key's own creation was by the session.
    let creation = events
        .iter()
        .find(|e| e["action"] == "api_key.created")
        .expect("api_key.created");
    assert_eq!(creation["actor_api_key_id"], Value::Null, "{creation}");

    // The key may read the trail too (it is an admin key of an owner).
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/organizations/{org}/audit-events")))
        .header("X-API-Key", created["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let by_key = expect_json(resp, 200).await;
    assert_eq!(by_key[0]["id"], newest["id"]);
}

async fn audit_events_page_with_limit_and_before(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    for i in 0..5 {
        app.clock.advance(Duration::seconds(1));
        let resp = owner
            .client
            .patch(app.url(&format!("/api/v1/organizations/{org}")))
            .json(&json!({"name": format!("Name {i}")}))
            .send()
            .await
            .unwrap();
        expect_json(resp, 200).await;
    }
    let all = audit_events(&app, &owner, &org, &[]).await;
    assert!(all.len() >= 5, "{all:#?}");
    assert_eq!(actions(&all[..5]), vec!["organization.updated"; 5]);
    let id = |e: &Value| e["id"].as_str().unwrap().to_owned();

    let first = audit_events(&app, &owner, &org, &[("limit", "2")]).await;
    assert_eq!(
        first.iter().map(id).collect::<Vec<_>>(),
        all[..2].iter().map(id).collect::<Vec<_>>()
    );

    let cursor = id(&first[1]);
    let second = audit_events(&app, &owner, &org, &[("limit", "2"), ("before", &cursor)]).await;
    assert_eq!(
        second.iter().map(id).collect::<Vec<_>>(),
        all[2..4].iter().map(id).collect::<Vec<_>>()
    );

    // `before` the oldest event: nothing older.
    let oldest = id(all.last().unwrap());
    let none = audit_events(&app, &owner, &org, &[("before", &oldest)]).await;
    assert!(none.is_empty(), "{none:#?}");

    // `before` alone: everything strictly older.
    let rest = audit_events(&app, &owner, &org, &[("before", &id(&all[0]))]).await;
    assert_eq!(
        rest.iter().map(id).collect::<Vec<_>>(),
        all[1..].iter().map(id).collect::<Vec<_>>()
    );

    // A `before` that is not an id is a bad query parameter.
    let resp = owner
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}/audit-events")))
        .query(&[("before", "yesterday")])
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "bad_request").await;
}

async fn only_admins_read_the_audit_trail(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let admin = app.person().await;
    let developer = app.person().await;
    let stranger = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let url = app.url(&format!("/api/v1/organizations/{org}/audit-events"));

    let events = audit_events(&app, &admin, &org, &[]).await;
    assert!(actions(&events).contains(&"member.added"), "{events:#?}");

    let resp = developer.client.get(&url).send().await.unwrap();
    let body = assert_error(resp, 403, "forbidden").await;
    assert_eq!(body["missing_permissions"], json!(["admin"]), "{body}");
    let resp = stranger.client.get(&url).send().await.unwrap();
    assert_error(resp, 403, "forbidden").await;

    // An owner's key without the admin scope is no admin either.
    let created = app
        .api_key(&owner, &org, &["read", "write", "deploy"])
        .await;
    let resp = app
        .http
        .get(&url)
        .header("X-API-Key", created["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;

    let resp = app.http.get(&url).send().await.unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn audit_events_stay_inside_their_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let quiet = app.organization(&owner).await;
    let busy = app.organization(&owner).await;
    let created = app.api_key(&owner, &busy, &["read"]).await;
    let resp = owner
        .client
        .patch(app.url(&format!("/api/v1/organizations/{busy}")))
        .json(&json!({"name": "Busy"}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;

    let busy_events = audit_events(&app, &owner, &busy, &[]).await;
    assert!(
        actions(&busy_events).contains(&"api_key.created"),
        "{busy_events:#?}"
    );
    assert!(
        actions(&busy_events).contains(&"organization.updated"),
        "{busy_events:#?}"
    );

    let quiet_events = audit_events(&app, &owner, &quiet, &[]).await;
    for event in &quiet_events {
        assert!(
            !["api_key.created", "organization.updated"]
                .contains(&event["action"].as_str().unwrap()),
            "an event of another organization leaked: {event}"
        );
        assert!(
            !event.to_string().contains(created["id"].as_str().unwrap()),
            "{event}"
        );
    }
    // No event appears in both trails.
    let busy_ids: std::collections::BTreeSet<&str> = busy_events
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    for event in &quiet_events {
        assert!(!busy_ids.contains(event["id"].as_str().unwrap()), "{event}");
    }

    // A `limit` that is not a number is a bad query parameter.
    let resp = owner
        .client
        .get(app.url(&format!("/api/v1/organizations/{busy}/audit-events")))
        .query(&[("limit", "many")])
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "bad_request").await;
}
