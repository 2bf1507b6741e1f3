//! Keys managing keys, rotation by the key's own user, leaving with a key, access tokens and
//! keys (contract v2, sections 3, 4, 6 and 8): each test is a hole an attacker found in v1.

use crate::api_keys::{assert_key_refused, key_status, names, string_set, timestamp};
use chrono::Duration;
use portcullis_domain::Clock;
use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    a_read_key_cannot_get_rotate_or_revoke_its_users_admin_key,
    a_key_may_always_get_and_revoke_itself,
    an_admin_may_get_and_revoke_but_not_rotate_the_owners_key,
    a_read_key_cannot_take_its_user_out_of_the_organization,
    a_key_created_with_a_key_never_outlives_it,
    an_access_token_never_creates_rotates_or_revokes_keys,
    a_key_is_rotated_at_most_once_even_when_rotations_race,
    key_objects_name_the_key_that_replaced_them,
    a_read_deploy_key_creating_an_admin_key_is_told_admin_is_missing,
);

fn keys_path(org: &str) -> String {
    format!("/api/v1/organizations/{org}/api-keys")
}

fn key_path(org: &str, key_id: &str) -> String {
    format!("/api/v1/organizations/{org}/api-keys/{key_id}")
}

fn rotate_path(org: &str, key_id: &str) -> String {
    format!("/api/v1/organizations/{org}/api-keys/{key_id}/rotate")
}

fn member_path(org: &str, user: &str) -> String {
    format!("/api/v1/organizations/{org}/members/{user}")
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap_or_else(|| panic!("no id: {v}"))
}

fn secret(v: &Value) -> &str {
    v["key"].as_str().unwrap_or_else(|| panic!("no key: {v}"))
}

/// A request authenticated by `key` in `X-API-Key`.
fn with_key(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
) -> reqwest::RequestBuilder {
    app.http
        .request(method, app.url(path))
        .header("X-API-Key", key)
}

/// A request authenticated by an access token (or any bearer credential).
fn with_bearer(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    app.http.request(method, app.url(path)).bearer_auth(token)
}

async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.expect("the request is sent")
}

/// Asserts a 403 `forbidden` whose `missing_permissions` is exactly `missing`.
async fn assert_missing(resp: reqwest::Response, missing: &[&str]) {
    let body = assert_error(resp, 403, "forbidden").await;
    assert_eq!(
        body["missing_permissions"],
        json!(missing),
        "missing_permissions, as asked: {body}"
    );
}

/// Asserts the object has a `replaced_by_id` field (null counts; absent does not) and returns it.
fn replaced_by_id(key: &Value) -> &Value {
    key.get("replaced_by_id")
        .unwrap_or_else(|| panic!("a key object without replaced_by_id: {key}"))
}

/// An access token minted by `person`'s session for `org`.
async fn session_token(app: &TestApp, person: &Person, org: &str) -> String {
    let resp = send(
        person
            .client
            .post(app.url("/api/v1/auth/token"))
            .json(&json!({"organization_id": org})),
    )
    .await;
    let minted = expect_json(resp, 200).await;
    minted["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn is_member(app: &TestApp, viewer: &Person, org: &str, user: &str) -> bool {
    let resp = send(
        viewer
            .client
            .get(app.url(&format!("/api/v1/organizations/{org}/members"))),
    )
    .await;
    let list = expect_json(resp, 200).await;
    list.as_array()
        .expect("a bare array")
        .iter()
        .any(|m| m["user_id"] == json!(user))
}

async fn a_read_key_cannot_get_rotate_or_revoke_its_users_admin_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let admin_key = app.api_key(&owner, &org, &["admin"]).await;
    let read_key = app.api_key(&owner, &org, &["read"]).await;
    let reader = secret(&read_key);

    // Listing is reading: fine.
    let resp = send(with_key(
        &app,
        reqwest::Method::GET,
        &keys_path(&org),
        reader,
    ))
    .await;
    expect_json(resp, 200).await;

    // The admin key holds `admin`, the read key does not: it names `admin`, not what admin implies.
    let resp = send(with_key(
        &app,
        reqwest::Method::GET,
        &key_path(&org, id(&admin_key)),
        reader,
    ))
    .await;
    assert_missing(resp, &["admin"]).await;
    let resp = send(
        with_key(
            &app,
            reqwest::Method::POST,
            &rotate_path(&org, id(&admin_key)),
            reader,
        )
        .json(&json!({})),
    )
    .await;
    assert_missing(resp, &["admin"]).await;
    let resp = send(with_key(
        &app,
        reqwest::Method::DELETE,
        &key_path(&org, id(&admin_key)),
        reader,
    ))
    .await;
    assert_missing(resp, &["admin"]).await;

    // Neither rotated nor revoked.
    assert_eq!(key_status(&app, secret(&admin_key)).await, 200);
    assert_eq!(key_status(&app, reader).await, 200);
}

async fn a_key_may_always_get_and_revoke_itself(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let read_key = app.api_key(&owner, &org, &["read"]).await;
    let reader = secret(&read_key);
    let own = key_path(&org, id(&read_key));

    let resp = send(with_key(&app, reqwest::Method::GET, &own, reader)).await;
    let got = expect_json(resp, 200).await;
    assert_eq!(got["id"], read_key["id"]);

    let resp = send(with_key(&app, reqwest::Method::DELETE, &own, reader)).await;
    assert_eq!(resp.status().as_u16(), 204);
    assert_key_refused(&app, reader).await;
}

async fn an_admin_may_get_and_revoke_but_not_rotate_the_owners_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let admin = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let owners = app.api_key(&owner, &org, &["admin"]).await;

    // Rotating would hand the admin a key carrying the owner's role.
    let resp = send(
        admin
            .client
            .post(app.url(&rotate_path(&org, id(&owners))))
            .json(&json!({})),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    assert_eq!(
        key_status(&app, secret(&owners)).await,
        200,
        "a refused rotation leaves the key alone"
    );

    let resp = send(admin.client.get(app.url(&key_path(&org, id(&owners))))).await;
    let got = expect_json(resp, 200).await;
    assert_eq!(got["user_id"], json!(owner.id));

    // The key's own user rotates it with a session.
    let resp = send(
        owner
            .client
            .post(app.url(&rotate_path(&org, id(&owners))))
            .json(&json!({})),
    )
    .await;
    let successor = expect_json(resp, 201).await;
    assert_eq!(successor["user_id"], json!(owner.id));
    assert_eq!(key_status(&app, secret(&successor)).await, 200);

    // The admin may still look at it and revoke it.
    let resp = send(admin.client.get(app.url(&key_path(&org, id(&successor))))).await;
    expect_json(resp, 200).await;
    let resp = send(
        admin
            .client
            .delete(app.url(&key_path(&org, id(&successor)))),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 204);
    assert_key_refused(&app, secret(&successor)).await;
}

async fn a_read_key_cannot_take_its_user_out_of_the_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let co_owner = app.person().await;
    let org = app.organization(&owner).await;
    // A second owner: the last-owner rule is not what refuses.
    app.add_member(&owner, &org, &co_owner, "owner").await;
    let read_key = app.api_key(&owner, &org, &["read"]).await;
    let admin_key = app.api_key(&owner, &org, &["admin"]).await;
    let leave = member_path(&org, &owner.id);

    let resp = send(with_key(
        &app,
        reqwest::Method::DELETE,
        &leave,
        secret(&read_key),
    ))
    .await;
    assert_error(resp, 403, "forbidden").await;
    assert!(
        is_member(&app, &co_owner, &org, &owner.id).await,
        "a refused leave leaves the member in"
    );

    let resp = send(with_key(
        &app,
        reqwest::Method::DELETE,
        &leave,
        secret(&admin_key),
    ))
    .await;
    assert_eq!(resp.status().as_u16(), 204);
    assert!(!is_member(&app, &co_owner, &org, &owner.id).await);
}

async fn a_key_created_with_a_key_never_outlives_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let parent_expires = app.clock.now() + Duration::minutes(2);
    let resp = send(owner.client.post(app.url(&keys_path(&org))).json(
        &json!({"name": "short", "scopes": ["read"], "expires_at": parent_expires.to_rfc3339()}),
    ))
    .await;
    let parent = expect_json(resp, 201).await;
    let create = |body: Value| {
        send(
            with_key(
                &app,
                reqwest::Method::POST,
                &keys_path(&org),
                secret(&parent),
            )
            .json(&body),
        )
    };

    // Without `expires_at`: the parent's.
    let resp = create(json!({"name": "child", "scopes": ["read"]})).await;
    let child = expect_json(resp, 201).await;
    assert!(
        !child["expires_at"].is_null(),
        "a child of a key expiring in 2 minutes never expires: {child}"
    );
    assert_eq!(timestamp(&child["expires_at"]), parent_expires, "{child}");

    // Later than the parent: refused.
    let later = parent_expires + Duration::days(1);
    let resp =
        create(json!({"name": "longer", "scopes": ["read"], "expires_at": later.to_rfc3339()}))
            .await;
    assert_error(resp, 403, "forbidden").await;

    // Earlier: kept as asked.
    let earlier = app.clock.now() + Duration::minutes(1);
    let resp =
        create(json!({"name": "shorter", "scopes": ["read"], "expires_at": earlier.to_rfc3339()}))
            .await;
    let shorter = expect_json(resp, 201).await;
    assert_eq!(timestamp(&shorter["expires_at"]), earlier, "{shorter}");
}

async fn an_access_token_never_creates_rotates_or_revokes_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let existing = app.api_key(&owner, &org, &["read"]).await;
    let token = session_token(&app, &owner, &org).await;

    let resp = send(
        with_bearer(&app, reqwest::Method::POST, &keys_path(&org), &token)
            .json(&json!({"name": "by token", "scopes": ["read"]})),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = send(
        with_bearer(
            &app,
            reqwest::Method::POST,
            &rotate_path(&org, id(&existing)),
            &token,
        )
        .json(&json!({})),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = send(with_bearer(
        &app,
        reqwest::Method::DELETE,
        &key_path(&org, id(&existing)),
        &token,
    ))
    .await;
    assert_error(resp, 403, "forbidden").await;

    assert_eq!(
        key_status(&app, secret(&existing)).await,
        200,
        "neither rotated nor revoked"
    );
}

async fn a_key_is_rotated_at_most_once_even_when_rotations_race(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let old = app.api_key(&owner, &org, &["read"]).await;
    let rotate = || {
        send(
            owner
                .client
                .post(app.url(&rotate_path(&org, id(&old))))
                .json(&json!({})),
        )
    };

    let (a, b, c, d) = tokio::join!(rotate(), rotate(), rotate(), rotate());
    let mut seen = Vec::new();
    let mut rotated = Vec::new();
    let mut conflicts = Vec::new();
    for resp in [a, b, c, d] {
        let status = resp.status().as_u16();
        seen.push(status);
        match status {
            201 => rotated.push(expect_json(resp, 201).await),
            _ => conflicts.push(resp),
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        [201, 409, 409, 409],
        "four racing rotations: one wins, three conflict"
    );
    for resp in conflicts {
        assert_error(resp, 409, "conflict").await;
    }
    let successor = &rotated[0];

    // Later, too: rotate the successor instead.
    let resp = rotate().await;
    assert_error(resp, 409, "conflict").await;
    assert_key_refused(&app, secret(&old)).await;
    assert_eq!(key_status(&app, secret(successor)).await, 200);

    let resp = send(
        owner
            .client
            .post(app.url(&rotate_path(&org, id(successor))))
            .json(&json!({})),
    )
    .await;
    let next = expect_json(resp, 201).await;
    assert_eq!(key_status(&app, secret(&next)).await, 200);
}

async fn key_objects_name_the_key_that_replaced_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;

    let resp = send(
        owner
            .client
            .post(app.url(&keys_path(&org)))
            .json(&json!({"name": "ci", "scopes": ["read", "deploy"]})),
    )
    .await;
    let old = expect_json(resp, 201).await;
    assert_eq!(replaced_by_id(&old), &Value::Null, "created: {old}");

    let resp = send(owner.client.get(app.url(&key_path(&org, id(&old))))).await;
    let got = expect_json(resp, 200).await;
    assert_eq!(replaced_by_id(&got), &Value::Null, "GET: {got}");

    let resp = send(owner.client.get(app.url(&keys_path(&org)))).await;
    let list = expect_json(resp, 200).await;
    let listed = list
        .as_array()
        .expect("a bare array")
        .iter()
        .find(|k| k["id"] == old["id"])
        .unwrap_or_else(|| panic!("the key is listed: {list}"));
    assert_eq!(replaced_by_id(listed), &Value::Null, "listed: {listed}");

    let resp = send(
        owner
            .client
            .post(app.url(&rotate_path(&org, id(&old))))
            .json(&json!({})),
    )
    .await;
    let new = expect_json(resp, 201).await;
    assert_eq!(replaced_by_id(&new), &Value::Null, "rotated: {new}");
    assert_eq!(string_set(&new["scopes"]), names(&["read", "deploy"]));

    // The old key's object stays, naming its successor; the old secret no longer works.
    let resp = send(owner.client.get(app.url(&key_path(&org, id(&old))))).await;
    let replaced = expect_json(resp, 200).await;
    assert_eq!(replaced_by_id(&replaced), &new["id"], "{replaced}");
    assert_key_refused(&app, secret(&old)).await;
    assert_eq!(key_status(&app, secret(&new)).await, 200);
}

async fn a_read_deploy_key_creating_an_admin_key_is_told_admin_is_missing(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let creator = app.api_key(&owner, &org, &["read", "deploy"]).await;

    let resp = send(
        with_key(
            &app,
            reqwest::Method::POST,
            &keys_path(&org),
            secret(&creator),
        )
        .json(&json!({"name": "escalation", "scopes": ["admin"]})),
    )
    .await;
    assert_missing(resp, &["admin"]).await;
}
