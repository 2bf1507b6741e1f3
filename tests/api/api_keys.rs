//! API keys: format, creation rules, listing, revocation, rotation, expiry (contract sections 2, 4, 6, 8).

use chrono::{DateTime, Duration, Utc};
use portcullis_domain::Clock;
use portcullis_tests::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

backend_tests!(
    creating_a_key_returns_exactly_the_contract_fields_and_a_well_formed_key,
    the_plaintext_key_is_never_shown_again,
    unknown_or_empty_scopes_are_refused,
    an_empty_name_is_refused,
    an_expiry_in_the_past_is_refused,
    a_developer_cannot_grant_a_key_the_admin_scope,
    a_key_created_with_a_key_is_bounded_by_the_creating_key,
    admins_list_every_key_and_other_members_only_their_own,
    a_member_who_is_not_an_admin_cannot_touch_another_members_key,
    an_admin_may_read_and_revoke_another_members_key,
    an_unknown_key_id_is_not_found,
    a_revoked_key_is_refused_at_once,
    rotation_without_grace_replaces_the_key_at_once,
    rotation_with_grace_keeps_the_old_key_working_until_the_grace_ends,
    grace_never_extends_the_old_key_beyond_its_own_expiry,
    a_grace_period_outside_zero_to_seven_days_is_refused,
    an_admin_cannot_rotate_someone_elses_key_but_may_revoke_it,
    an_expired_key_is_refused,
    last_used_at_is_recorded_within_seconds_of_a_use,
    a_key_of_a_deleted_organization_is_refused,
    the_root_token_cannot_own_api_keys,
    only_members_create_keys_in_an_organization,
    malformed_key_requests_are_refused_without_a_500,
    a_key_may_revoke_itself,
    a_platform_admin_holds_keys_only_through_memberships,
);

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC-32 (IEEE) of `body`, in base62, most significant digit first, left-padded to 6.
pub(crate) fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes()) as u64;
    let mut out = [b'0'; 6];
    for digit in out.iter_mut().rev() {
        *digit = BASE62[(n % 62) as usize];
        n /= 62;
    }
    assert_eq!(n, 0, "a CRC-32 fits in 6 base62 digits");
    String::from_utf8(out.to_vec()).unwrap()
}

/// `<word>_` + 43 base62 characters + their 6-character checksum.
pub(crate) fn assert_key_format(key: &str, word: &str) {
    let rest = key
        .strip_prefix(word)
        .and_then(|r| r.strip_prefix('_'))
        .unwrap_or_else(|| panic!("key {key:?} does not start with {word}_"));
    assert_eq!(
        rest.len(),
        49,
        "key {key:?}: 43 + 6 characters after the prefix"
    );
    assert!(
        rest.bytes().all(|b| b.is_ascii_alphanumeric()),
        "key {key:?} is not base62"
    );
    let (body, sum) = key.split_at(key.len() - 6);
    assert_eq!(sum, checksum(body), "key {key:?}: checksum");
}

/// A key of the right shape and checksum that the server never issued.
pub(crate) fn forged_key(word: &str) -> String {
    let random = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let body = format!("{word}_{}", &random[..43]);
    let sum = checksum(&body);
    body + sum.as_str()
}

pub(crate) fn field_names(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

pub(crate) fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub(crate) fn string_set(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("not a string: {s}"))
                .to_owned()
        })
        .collect()
}

pub(crate) fn timestamp(v: &Value) -> DateTime<Utc> {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp string: {v}"));
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s:?} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

fn keys_url(org: &str) -> String {
    format!("/api/v1/organizations/{org}/api-keys")
}

/// `GET /api/v1/me` with the key in `X-API-Key`: the key's status.
pub(crate) async fn key_status(app: &TestApp, key: &str) -> u16 {
    app.http
        .get(app.url("/api/v1/me"))
        .header("X-API-Key", key)
        .send()
        .await
        .expect("GET /me")
        .status()
        .as_u16()
}

/// Asserts the key is refused: 401 with `error="invalid_token"` and the error shape.
pub(crate) async fn assert_key_refused(app: &TestApp, key: &str) {
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("X-API-Key", key)
        .send()
        .await
        .expect("GET /me");
    crate::credentials::assert_invalid_token(resp).await;
}

async fn create_key(by: &Person, app: &TestApp, org: &str, body: Value) -> reqwest::Response {
    by.client
        .post(app.url(&keys_url(org)))
        .json(&body)
        .send()
        .await
        .expect("POST /api-keys")
}

async fn rotate(
    by: &Person,
    app: &TestApp,
    org: &str,
    key_id: &str,
    body: Value,
) -> reqwest::Response {
    by.client
        .post(app.url(&format!("{}/{key_id}/rotate", keys_url(org))))
        .json(&body)
        .send()
        .await
        .expect("POST /rotate")
}

const CREATED_FIELDS: &[&str] = &[
    "id",
    "name",
    "key",
    "key_prefix",
    "scopes",
    "organization_id",
    "user_id",
    "service_account_id",
    "resources",
    "created_at",
    "expires_at",
    "replaced_by_id",
];
const LISTED_FIELDS: &[&str] = &[
    "id",
    "name",
    "key_prefix",
    "scopes",
    "organization_id",
    "user_id",
    "service_account_id",
    "resources",
    "created_at",
    "expires_at",
    "last_used_at",
    "replaced_by_id",
];

async fn creating_a_key_returns_exactly_the_contract_fields_and_a_well_formed_key(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let expires = app.clock.now() + Duration::days(30);

    let resp = create_key(
        &owner,
        &app,
        &org,
        json!({"name": "deploy bot", "scopes": ["read", "deploy"], "expires_at": expires.to_rfc3339()}),
    )
    .await;
    let created = expect_json(resp, 201).await;

    assert_eq!(field_names(&created), names(CREATED_FIELDS), "{created}");
    let key = created["key"].as_str().unwrap();
    assert_key_format(key, "pcl");
    assert_eq!(created["key_prefix"].as_str(), Some(&key[..12]));
    assert_eq!(created["name"], "deploy bot");
    assert_eq!(string_set(&created["scopes"]), names(&["read", "deploy"]));
    assert_eq!(created["organization_id"], json!(org));
    assert_eq!(created["user_id"], json!(owner.id));
    assert!(
        uuid::Uuid::parse_str(created["id"].as_str().unwrap()).is_ok(),
        "{created}"
    );
    assert_eq!(timestamp(&created["expires_at"]), expires);
    timestamp(&created["created_at"]);

    // Without `expires_at` the key never expires.
    let resp = create_key(
        &owner,
        &app,
        &org,
        json!({"name": "forever", "scopes": ["read"]}),
    )
    .await;
    let forever = expect_json(resp, 201).await;
    assert_eq!(forever["expires_at"], Value::Null);
    assert_ne!(forever["key"], created["key"]);
    assert_key_format(forever["key"].as_str().unwrap(), "pcl");

    // And it works.
    assert_eq!(key_status(&app, key).await, 200);
}

async fn the_plaintext_key_is_never_shown_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["read"]).await;
    let key = created["key"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();

    let resp = owner
        .client
        .get(app.url(&keys_url(&org)))
        .send()
        .await
        .unwrap();
    let text = resp.text().await.unwrap();
    assert!(!text.contains(key), "the listing shows the key: {text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    let listed = list
        .as_array()
        .expect("a bare array")
        .iter()
        .find(|k| k["id"] == json!(id))
        .expect("the key is listed");
    assert_eq!(field_names(listed), names(LISTED_FIELDS), "{listed}");
    assert_eq!(listed["key_prefix"].as_str(), Some(&key[..12]));
    assert_eq!(
        listed["last_used_at"],
        Value::Null,
        "a key never used: {listed}"
    );

    let resp = owner
        .client
        .get(app.url(&format!("{}/{id}", keys_url(&org))))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    assert!(!text.contains(key), "GET shows the key: {text}");
    let one: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(field_names(&one), names(LISTED_FIELDS), "{one}");
    assert_eq!(one["id"], json!(id));
    assert_eq!(one["name"], "test key");
    assert_eq!(one["user_id"], json!(owner.id));
    assert_eq!(one["organization_id"], json!(org));
}

async fn unknown_or_empty_scopes_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    for scopes in [
        json!([]),
        json!(["root"]),
        json!(["read", "superuser"]),
        json!(["READ "]),
    ] {
        let resp = create_key(&owner, &app, &org, json!({"name": "k", "scopes": scopes})).await;
        assert_error(resp, 422, "validation_failed").await;
    }
    // Scopes missing altogether: a well-formed body missing a required field.
    let resp = create_key(&owner, &app, &org, json!({"name": "k"})).await;
    assert_error(resp, 422, "validation_failed").await;
}

async fn an_empty_name_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    for name in ["", "   ", &"x".repeat(101)] {
        let resp = create_key(
            &owner,
            &app,
            &org,
            json!({"name": name, "scopes": ["read"]}),
        )
        .await;
        assert_error(resp, 422, "validation_failed").await;
    }
}

async fn an_expiry_in_the_past_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    // "Past" is by the server's clock, which the test moves a day ahead.
    app.clock.advance(Duration::days(1));
    let past = app.clock.now() - Duration::hours(1);
    let resp = create_key(
        &owner,
        &app,
        &org,
        json!({"name": "k", "scopes": ["read"], "expires_at": past.to_rfc3339()}),
    )
    .await;
    assert_error(resp, 422, "validation_failed").await;

    let future = app.clock.now() + Duration::hours(1);
    let resp = create_key(
        &owner,
        &app,
        &org,
        json!({"name": "k", "scopes": ["read"], "expires_at": future.to_rfc3339()}),
    )
    .await;
    expect_json(resp, 201).await;
}

async fn a_developer_cannot_grant_a_key_the_admin_scope(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let developer = app.person().await;
    let viewer = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    app.add_member(&owner, &org, &viewer, "viewer").await;

    let resp = create_key(
        &developer,
        &app,
        &org,
        json!({"name": "k", "scopes": ["admin"]}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = create_key(
        &developer,
        &app,
        &org,
        json!({"name": "k", "scopes": ["read", "admin"]}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = create_key(
        &developer,
        &app,
        &org,
        json!({"name": "k", "scopes": ["write", "deploy", "read"]}),
    )
    .await;
    expect_json(resp, 201).await;

    let resp = create_key(
        &viewer,
        &app,
        &org,
        json!({"name": "k", "scopes": ["write"]}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = create_key(
        &viewer,
        &app,
        &org,
        json!({"name": "k", "scopes": ["read"]}),
    )
    .await;
    let created = expect_json(resp, 201).await;
    assert_eq!(created["user_id"], json!(viewer.id));
}

async fn a_key_created_with_a_key_is_bounded_by_the_creating_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let parent = app.api_key(&owner, &org, &["read", "write"]).await;
    let parent_key = parent["key"].as_str().unwrap();

    let by_key = |scopes: Value| {
        app.http
            .post(app.url(&keys_url(&org)))
            .header("X-API-Key", parent_key)
            .json(&json!({"name": "child", "scopes": scopes}))
            .send()
    };
    for beyond in [
        json!(["deploy"]),
        json!(["admin"]),
        json!(["read", "deploy"]),
    ] {
        let resp = by_key(beyond).await.unwrap();
        assert_error(resp, 403, "forbidden").await;
    }
    let resp = by_key(json!(["read"])).await.unwrap();
    let child = expect_json(resp, 201).await;
    assert_eq!(
        child["user_id"],
        json!(owner.id),
        "a key's key belongs to the key's user"
    );
    assert_eq!(child["organization_id"], json!(org));
    assert_key_format(child["key"].as_str().unwrap(), "pcl");
    assert_eq!(key_status(&app, child["key"].as_str().unwrap()).await, 200);
}

async fn admins_list_every_key_and_other_members_only_their_own(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let admin = app.person().await;
    let developer = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let owners = app.api_key(&owner, &org, &["read"]).await;
    let developers = app.api_key(&developer, &org, &["read"]).await;

    let ids = |list: &Value| -> BTreeSet<String> {
        list.as_array()
            .expect("a bare array")
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let both: BTreeSet<String> = [&owners, &developers]
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect();

    for who in [&owner, &admin] {
        let resp = who
            .client
            .get(app.url(&keys_url(&org)))
            .send()
            .await
            .unwrap();
        let list = expect_json(resp, 200).await;
        assert_eq!(ids(&list), both, "an admin sees every key: {list}");
    }
    let resp = developer
        .client
        .get(app.url(&keys_url(&org)))
        .send()
        .await
        .unwrap();
    let list = expect_json(resp, 200).await;
    assert_eq!(
        ids(&list),
        BTreeSet::from([developers["id"].as_str().unwrap().to_owned()]),
        "{list}"
    );
    assert_eq!(list[0]["user_id"], json!(developer.id));
}

async fn a_member_who_is_not_an_admin_cannot_touch_another_members_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let developer = app.person().await;
    let other = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    app.add_member(&owner, &org, &other, "developer").await;
    let theirs = app.api_key(&developer, &org, &["read"]).await;
    let url = format!("{}/{}", keys_url(&org), theirs["id"].as_str().unwrap());

    let resp = other.client.get(app.url(&url)).send().await.unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = other
        .client
        .post(app.url(&format!("{url}/rotate")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = other.client.delete(app.url(&url)).send().await.unwrap();
    assert_error(resp, 403, "forbidden").await;
    // The refused revoke left the key working.
    assert_eq!(key_status(&app, theirs["key"].as_str().unwrap()).await, 200);

    // Its owner may.
    let resp = developer.client.get(app.url(&url)).send().await.unwrap();
    let got = expect_json(resp, 200).await;
    assert_eq!(got["id"], theirs["id"]);
    let resp = developer.client.delete(app.url(&url)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 204);
}

async fn an_admin_may_read_and_revoke_another_members_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let admin = app.person().await;
    let developer = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let theirs = app.api_key(&developer, &org, &["read"]).await;
    let url = format!("{}/{}", keys_url(&org), theirs["id"].as_str().unwrap());

    let resp = admin.client.get(app.url(&url)).send().await.unwrap();
    let got = expect_json(resp, 200).await;
    assert_eq!(got["id"], theirs["id"]);
    assert_eq!(got["user_id"], json!(developer.id));

    let resp = admin.client.delete(app.url(&url)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_key_refused(&app, theirs["key"].as_str().unwrap()).await;
}

async fn an_unknown_key_id_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let unknown = format!("{}/{}", keys_url(&org), uuid::Uuid::now_v7());

    let resp = owner.client.get(app.url(&unknown)).send().await.unwrap();
    assert_error(resp, 404, "not_found").await;
    let resp = owner.client.delete(app.url(&unknown)).send().await.unwrap();
    assert_error(resp, 404, "not_found").await;
    let resp = owner
        .client
        .post(app.url(&format!("{unknown}/rotate")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "not_found").await;

    // A key of another organization is unknown in this one.
    let elsewhere = app.organization(&owner).await;
    let foreign = app.api_key(&owner, &elsewhere, &["read"]).await;
    let url = format!("{}/{}", keys_url(&org), foreign["id"].as_str().unwrap());
    let resp = owner.client.get(app.url(&url)).send().await.unwrap();
    assert_error(resp, 404, "not_found").await;

    // Not a UUID at all.
    let resp = owner
        .client
        .get(app.url(&format!("{}/not-a-uuid", keys_url(&org))))
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "bad_request").await;
}

async fn a_revoked_key_is_refused_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["read"]).await;
    let key = created["key"].as_str().unwrap();
    assert_eq!(key_status(&app, key).await, 200);

    let url = format!("{}/{}", keys_url(&org), created["id"].as_str().unwrap());
    let resp = owner.client.delete(app.url(&url)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_key_refused(&app, key).await;
}

async fn rotation_without_grace_replaces_the_key_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let expires = app.clock.now() + Duration::days(7);
    let resp = create_key(
        &owner,
        &app,
        &org,
        json!({"name": "ci", "scopes": ["read", "write"], "expires_at": expires.to_rfc3339()}),
    )
    .await;
    let old = expect_json(resp, 201).await;

    let resp = rotate(&owner, &app, &org, old["id"].as_str().unwrap(), json!({})).await;
    let new = expect_json(resp, 201).await;
    assert_eq!(field_names(&new), names(CREATED_FIELDS), "{new}");
    let new_key = new["key"].as_str().unwrap();
    assert_key_format(new_key, "pcl");
    assert_eq!(new["key_prefix"].as_str(), Some(&new_key[..12]));
    assert_ne!(new["key"], old["key"]);
    assert_ne!(new["id"], old["id"]);
    assert_eq!(new["name"], "ci");
    assert_eq!(string_set(&new["scopes"]), names(&["read", "write"]));
    assert_eq!(timestamp(&new["expires_at"]), expires);
    assert_eq!(new["organization_id"], json!(org));
    assert_eq!(new["user_id"], json!(owner.id));

    assert_key_refused(&app, old["key"].as_str().unwrap()).await;
    assert_eq!(key_status(&app, new_key).await, 200);

    // Explicit zero behaves the same.
    let resp = rotate(
        &owner,
        &app,
        &org,
        new["id"].as_str().unwrap(),
        json!({"grace_period_seconds": 0}),
    )
    .await;
    let newer = expect_json(resp, 201).await;
    assert_key_refused(&app, new_key).await;
    assert_eq!(key_status(&app, newer["key"].as_str().unwrap()).await, 200);
}

async fn rotation_with_grace_keeps_the_old_key_working_until_the_grace_ends(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let old = app.api_key(&owner, &org, &["read"]).await;
    let old_key = old["key"].as_str().unwrap();

    let resp = rotate(
        &owner,
        &app,
        &org,
        old["id"].as_str().unwrap(),
        json!({"grace_period_seconds": 600}),
    )
    .await;
    let new = expect_json(resp, 201).await;
    let new_key = new["key"].as_str().unwrap();

    assert_eq!(
        key_status(&app, old_key).await,
        200,
        "within the grace period"
    );
    assert_eq!(key_status(&app, new_key).await, 200);
    app.clock.advance(Duration::seconds(590));
    assert_eq!(
        key_status(&app, old_key).await,
        200,
        "10 s before the grace period ends"
    );
    app.clock.advance(Duration::seconds(11));
    assert_key_refused(&app, old_key).await;
    assert_eq!(key_status(&app, new_key).await, 200);
}

async fn grace_never_extends_the_old_key_beyond_its_own_expiry(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let expires = app.clock.now() + Duration::seconds(300);
    let resp = create_key(
        &owner,
        &app,
        &org,
        json!({"name": "short", "scopes": ["read"], "expires_at": expires.to_rfc3339()}),
    )
    .await;
    let old = expect_json(resp, 201).await;
    let old_key = old["key"].as_str().unwrap();

    let resp = rotate(
        &owner,
        &app,
        &org,
        old["id"].as_str().unwrap(),
        json!({"grace_period_seconds": 3600}),
    )
    .await;
    let new = expect_json(resp, 201).await;
    assert_eq!(
        timestamp(&new["expires_at"]),
        expires,
        "the new key keeps the old expiry"
    );

    app.clock.advance(Duration::seconds(200));
    assert_eq!(
        key_status(&app, old_key).await,
        200,
        "within grace and before its expiry"
    );
    app.clock.advance(Duration::seconds(101));
    assert_key_refused(&app, old_key).await;
}

async fn a_grace_period_outside_zero_to_seven_days_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let old = app.api_key(&owner, &org, &["read"]).await;
    let id = old["id"].as_str().unwrap();

    for grace in [-1, 604_801, 10_000_000] {
        let resp = rotate(
            &owner,
            &app,
            &org,
            id,
            json!({"grace_period_seconds": grace}),
        )
        .await;
        assert_error(resp, 422, "validation_failed").await;
    }
    // Refused rotations left the key alone.
    assert_eq!(key_status(&app, old["key"].as_str().unwrap()).await, 200);

    let resp = rotate(
        &owner,
        &app,
        &org,
        id,
        json!({"grace_period_seconds": 604_800}),
    )
    .await;
    expect_json(resp, 201).await;
    app.clock.advance(Duration::seconds(604_790));
    assert_eq!(
        key_status(&app, old["key"].as_str().unwrap()).await,
        200,
        "the full seven days"
    );
    app.clock.advance(Duration::seconds(11));
    assert_key_refused(&app, old["key"].as_str().unwrap()).await;
}

/// v1 let an admin rotate a member's key and handed the admin a key carrying that member's
/// role; v2 leaves rotation to the key's own user.
async fn an_admin_cannot_rotate_someone_elses_key_but_may_revoke_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let admin = app.person().await;
    let developer = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let theirs = app.api_key(&developer, &org, &["read", "deploy"]).await;
    let id = theirs["id"].as_str().unwrap();

    let resp = rotate(&admin, &app, &org, id, json!({})).await;
    let body = assert_error(resp, 403, "forbidden").await;
    assert!(
        body["message"].as_str().unwrap().contains("own user"),
        "{body}"
    );
    assert_eq!(key_status(&app, theirs["key"].as_str().unwrap()).await, 200);

    let resp = admin
        .client
        .delete(app.url(&format!("{}/{id}", keys_url(&org))))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_key_refused(&app, theirs["key"].as_str().unwrap()).await;
}

async fn an_expired_key_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let expires = app.clock.now() + Duration::hours(1);
    let resp = create_key(
        &owner,
        &app,
        &org,
        json!({"name": "hour", "scopes": ["read"], "expires_at": expires.to_rfc3339()}),
    )
    .await;
    let created = expect_json(resp, 201).await;
    let key = created["key"].as_str().unwrap();

    app.clock.advance(Duration::minutes(59));
    assert_eq!(key_status(&app, key).await, 200);
    app.clock.advance(Duration::seconds(61));
    assert_key_refused(&app, key).await;
}

async fn last_used_at_is_recorded_within_seconds_of_a_use(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["read"]).await;
    let url = app.url(&format!(
        "{}/{}",
        keys_url(&org),
        created["id"].as_str().unwrap()
    ));

    let resp = owner.client.get(&url).send().await.unwrap();
    assert_eq!(expect_json(resp, 200).await["last_used_at"], Value::Null);

    let before_use = app.clock.now();
    assert_eq!(
        key_status(&app, created["key"].as_str().unwrap()).await,
        200
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
    loop {
        let resp = owner.client.get(&url).send().await.unwrap();
        let got = expect_json(resp, 200).await;
        if !got["last_used_at"].is_null() {
            let used = timestamp(&got["last_used_at"]);
            assert!(
                (used - before_use).num_seconds().abs() <= 5,
                "last_used_at {used} is far from the use at {before_use}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "last_used_at still null 8 s after a use"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

async fn a_key_of_a_deleted_organization_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["admin"]).await;
    let key = created["key"].as_str().unwrap();
    assert_eq!(key_status(&app, key).await, 200);

    let resp = owner
        .client
        .delete(app.url(&format!("/api/v1/organizations/{org}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_key_refused(&app, key).await;
}

async fn the_root_token_cannot_own_api_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let resp = app
        .http
        .post(app.url(&keys_url(&org)))
        .bearer_auth(&app.root_token)
        .json(&json!({"name": "root's", "scopes": ["read"]}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
}

async fn only_members_create_keys_in_an_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let stranger = app.person().await;
    let org = app.organization(&owner).await;
    let body = json!({"name": "k", "scopes": ["read"]});

    let resp = create_key(&stranger, &app, &org, body.clone()).await;
    assert_error(resp, 403, "forbidden").await;
    let resp = stranger
        .client
        .get(app.url(&keys_url(&org)))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    // An organization that does not exist looks the same to a stranger.
    let resp = create_key(
        &stranger,
        &app,
        &uuid::Uuid::now_v7().to_string(),
        body.clone(),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;

    let resp = app
        .http
        .post(app.url(&keys_url(&org)))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn malformed_key_requests_are_refused_without_a_500(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["read"]).await;

    let resp = owner
        .client
        .post(app.url(&keys_url(&org)))
        .header("Content-Type", "application/json")
        .body(r#"{"name": "k", "scopes": ["read"]"#)
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "bad_request").await;

    // Well-formed JSON with a wrong type: 422. Every case is tried, then the misses are listed.
    let mut misses = Vec::new();
    for body in [
        json!({"name": "k", "scopes": "read"}),
        json!({"name": "k", "scopes": [1]}),
        json!({"name": 7, "scopes": ["read"]}),
        json!({"name": "k", "scopes": ["read"], "expires_at": "tomorrow"}),
        json!({"name": "k", "scopes": ["read"], "expires_at": 12}),
    ] {
        let resp = create_key(&owner, &app, &org, body.clone()).await;
        let status = resp.status().as_u16();
        if status == 422 {
            assert_error(resp, 422, "validation_failed").await;
        } else {
            misses.push(format!("POST {body} gave {status}"));
        }
    }
    let id = created["id"].as_str().unwrap();
    for body in [
        json!({"grace_period_seconds": "600"}),
        json!({"grace_period_seconds": 1.5}),
    ] {
        let resp = rotate(&owner, &app, &org, id, body.clone()).await;
        let status = resp.status().as_u16();
        if status == 422 {
            assert_error(resp, 422, "validation_failed").await;
        } else {
            misses.push(format!("rotate {body} gave {status}"));
        }
    }
    assert!(
        misses.is_empty(),
        "expected 422 validation_failed: {misses:#?}"
    );
}

async fn a_key_may_revoke_itself(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["read"]).await;
    let key = created["key"].as_str().unwrap();

    let resp = app
        .http
        .delete(app.url(&format!(
            "{}/{}",
            keys_url(&org),
            created["id"].as_str().unwrap()
        )))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_key_refused(&app, key).await;
}

async fn a_platform_admin_holds_keys_only_through_memberships(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let operator = app.person().await;
    let org = app.organization(&owner).await;
    let resp = app
        .http
        .patch(app.url(&format!("/api/v1/admin/users/{}", operator.id)))
        .bearer_auth(&app.root_token)
        .json(&json!({"platform_admin": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["platform_admin"], true);

    // Not a member: no keys here, not even to look at.
    let resp = create_key(
        &operator,
        &app,
        &org,
        json!({"name": "k", "scopes": ["read"]}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = operator
        .client
        .get(app.url(&keys_url(&org)))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;

    // A viewer: a viewer's keys.
    app.add_member(&owner, &org, &operator, "viewer").await;
    let resp = create_key(
        &operator,
        &app,
        &org,
        json!({"name": "k", "scopes": ["admin"]}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    let created = app.api_key(&operator, &org, &["read"]).await;
    let resp = app
        .http
        .get(app.url("/api/v1/authorize"))
        .query(&[("permission", "deploy")])
        .header("X-API-Key", created["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
}
