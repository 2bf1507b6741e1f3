//! `GET /api/v1/me`: who the credential is (sections 6 and 8).

use crate::api_keys::{field_names, names, string_set};
use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    me_with_a_key_describes_the_key_and_its_organization_only,
    me_with_a_key_reads_effective_permissions,
    me_with_a_session_lists_every_membership,
    me_with_the_root_token_is_nobody_with_no_memberships,
    me_without_a_credential_is_unauthenticated,
);

const ME_FIELDS: &[&str] = &[
    "user",
    "auth_method",
    "organization_id",
    "api_key_id",
    "scopes",
    "memberships",
    "service_account",
    "resources",
];
const USER_FIELDS: &[&str] = &[
    "id",
    "email",
    "name",
    "created_at",
    "platform_admin",
    "disabled",
];

async fn me_with_key(app: &TestApp, key: &Value) -> Value {
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("X-API-Key", key["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await
}

async fn me_with_a_key_describes_the_key_and_its_organization_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let elsewhere = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["admin"]).await;

    let me = me_with_key(&app, &created).await;
    assert_eq!(field_names(&me), names(ME_FIELDS), "{me}");
    assert_eq!(field_names(&me["user"]), names(USER_FIELDS), "{me}");
    assert_eq!(me["user"]["id"], json!(owner.id));
    assert_eq!(me["user"]["email"], json!(owner.email));
    assert_eq!(me["auth_method"], "api_key");
    assert_eq!(me["organization_id"], json!(org));
    assert_eq!(me["api_key_id"], created["id"]);
    assert_eq!(me["scopes"], json!(["admin", "write", "deploy", "read"]));
    assert_eq!(
        me["memberships"],
        json!([{"organization_id": org, "role": "owner"}]),
        "not {elsewhere}"
    );
}

async fn me_with_a_key_reads_effective_permissions(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let developer = app.person().await;
    let viewer = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    app.add_member(&owner, &org, &viewer, "viewer").await;

    let developers = app
        .api_key(&developer, &org, &["write", "deploy", "read"])
        .await;
    let me = me_with_key(&app, &developers).await;
    assert_eq!(
        string_set(&me["scopes"]),
        names(&["write", "deploy", "read"]),
        "{me}"
    );
    assert_eq!(
        me["memberships"],
        json!([{"organization_id": org, "role": "developer"}])
    );

    let narrow = app.api_key(&developer, &org, &["deploy"]).await;
    let me = me_with_key(&app, &narrow).await;
    assert_eq!(me["scopes"], json!(["deploy"]), "{me}");

    let viewers = app.api_key(&viewer, &org, &["read"]).await;
    let me = me_with_key(&app, &viewers).await;
    assert_eq!(me["scopes"], json!(["read"]), "{me}");
    assert_eq!(
        me["memberships"],
        json!([{"organization_id": org, "role": "viewer"}])
    );

    // The developer demoted to viewer: the developer's keys now read only.
    let resp = owner
        .client
        .patch(app.url(&format!(
            "/api/v1/organizations/{org}/members/{}",
            developer.id
        )))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    let me = me_with_key(&app, &developers).await;
    assert_eq!(me["scopes"], json!(["read"]), "{me}");
    let me = me_with_key(&app, &narrow).await;
    assert_eq!(
        me["scopes"],
        json!([]),
        "deploy ∩ viewer's read is nothing: {me}"
    );
}

async fn me_with_a_session_lists_every_membership(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let member = app.person().await;
    let first = app.organization(&owner).await;
    let second = app.organization(&owner).await;
    app.add_member(&owner, &first, &member, "developer").await;
    app.add_member(&owner, &second, &member, "viewer").await;

    let resp = member
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    let me = expect_json(resp, 200).await;
    assert_eq!(field_names(&me), names(ME_FIELDS), "{me}");
    assert_eq!(me["auth_method"], "session");
    assert_eq!(me["user"]["id"], json!(member.id));
    assert_eq!(me["organization_id"], Value::Null);
    assert_eq!(me["api_key_id"], Value::Null);
    assert_eq!(me["scopes"], json!([]));
    let mut memberships: Vec<(String, String)> = me["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(field_names(m), names(&["organization_id", "role"]), "{m}");
            (
                m["organization_id"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    memberships.sort();
    let mut expected = vec![
        (first, "developer".to_owned()),
        (second, "viewer".to_owned()),
    ];
    expected.sort();
    assert_eq!(memberships, expected);
}

async fn me_with_the_root_token_is_nobody_with_no_memberships(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    app.organization(&owner).await;
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    let me = expect_json(resp, 200).await;
    assert_eq!(field_names(&me), names(ME_FIELDS), "{me}");
    assert_eq!(me["user"], Value::Null);
    assert_eq!(me["auth_method"], "root_token");
    assert_eq!(me["organization_id"], Value::Null);
    assert_eq!(me["api_key_id"], Value::Null);
    assert_eq!(
        me["scopes"],
        json!(["admin", "write", "deploy", "read"]),
        "all four: {me}"
    );
    assert_eq!(me["memberships"], json!([]));
}

async fn me_without_a_credential_is_unauthenticated(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app.http.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_error(resp, 401, "unauthenticated").await;
    let resp = app
        .browser()
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}
