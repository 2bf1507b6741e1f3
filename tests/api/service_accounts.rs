//! Service accounts: non-human members of one organization and their keys (contract section 11).

use crate::api_keys::{assert_key_refused, field_names, names, string_set, timestamp};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_tests::*;
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    an_admin_creates_a_service_account,
    the_root_token_creates_a_service_account_but_cannot_make_its_keys,
    a_service_account_may_hold_any_role_but_owner,
    invalid_service_account_bodies_are_refused,
    only_admins_create_service_accounts,
    readers_list_and_get_service_accounts_and_guests_do_not,
    unknown_service_accounts_are_not_found_and_malformed_ids_are_bad_requests,
    a_service_account_of_another_organization_is_not_found,
    an_admin_updates_a_service_account,
    only_admins_update_or_delete_service_accounts,
    deleting_a_service_account_refuses_its_keys_at_once,
    an_admin_creates_a_key_for_a_service_account,
    service_account_keys_are_listed_with_the_organizations_keys,
    a_service_account_key_cannot_exceed_the_accounts_role,
    only_admins_create_service_account_keys,
    lowering_a_service_accounts_role_lowers_its_keys_at_once,
    me_with_a_service_account_key_names_the_account,
    me_with_a_persons_credentials_has_no_service_account,
    authorize_with_a_service_account_key_names_the_account,
    authorize_for_a_person_has_no_service_account,
    an_access_token_minted_from_a_service_account_key_has_no_subject,
    service_account_keys_keep_working_after_their_creator_leaves,
    admins_get_rotate_and_revoke_service_account_keys,
    an_admin_key_rotates_a_service_account_key,
    a_service_account_key_is_not_a_person,
    a_service_account_key_cannot_reach_another_organization,
    deleting_an_organization_takes_its_service_accounts_and_grants_with_it,
    service_account_changes_are_audited,
    what_a_service_account_key_does_is_audited_as_the_key,
);

const SA_FIELDS: &[&str] = &[
    "id",
    "organization_id",
    "name",
    "description",
    "role",
    "created_by",
    "created_at",
];

/// Who sends a request: a person's session, an API key in `X-API-Key`, or a Bearer token
/// (access token or root token).
#[derive(Clone, Copy)]
pub(crate) enum Caller<'a> {
    Session(&'a Person),
    Key(&'a str),
    Bearer(&'a str),
}

impl Caller<'_> {
    pub(crate) fn request(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        match self {
            Caller::Session(person) => person.client.request(method, app.url(path)),
            Caller::Key(key) => app
                .http
                .request(method, app.url(path))
                .header("X-API-Key", *key),
            Caller::Bearer(token) => app.http.request(method, app.url(path)).bearer_auth(token),
        }
    }

    pub(crate) async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        self.request(app, Method::GET, path).send().await.unwrap()
    }

    pub(crate) async fn delete(&self, app: &TestApp, path: &str) -> reqwest::Response {
        self.request(app, Method::DELETE, path)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn send(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        body: Value,
    ) -> reqwest::Response {
        self.request(app, method, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// Asserts `object` has `field` and that it is null: a missing field is not a null one.
pub(crate) fn assert_null(object: &Value, field: &str) {
    assert_eq!(
        object.get(field),
        Some(&Value::Null),
        "`{field}` should be present and null: {object}"
    );
}

/// A key's plaintext from its 201 body.
pub(crate) fn secret(created: &Value) -> &str {
    created["key"].as_str().expect("the key's plaintext")
}

pub(crate) fn id(object: &Value) -> &str {
    object["id"].as_str().expect("an id")
}

pub(crate) fn service_accounts_path(org: &str) -> String {
    format!("/api/v1/organizations/{org}/service-accounts")
}

pub(crate) fn service_account_path(org: &str, sa: &str) -> String {
    format!("/api/v1/organizations/{org}/service-accounts/{sa}")
}

fn keys_path(org: &str) -> String {
    format!("/api/v1/organizations/{org}/api-keys")
}

/// `by` creates a service account with `role`; returns the 201 body.
pub(crate) async fn service_account(app: &TestApp, by: &Person, org: &str, role: &str) -> Value {
    let resp = Caller::Session(by)
        .send(
            app,
            Method::POST,
            &service_accounts_path(org),
            json!({"name": format!("ci-{role}"), "role": role}),
        )
        .await;
    expect_json(resp, 201).await
}

/// `by` asks for a key of service account `sa` with this body.
pub(crate) async fn create_service_account_key(
    app: &TestApp,
    by: Caller<'_>,
    org: &str,
    sa: &str,
    body: Value,
) -> reqwest::Response {
    by.send(
        app,
        Method::POST,
        &format!("{}/api-keys", service_account_path(org, sa)),
        body,
    )
    .await
}

/// `by` creates a key of service account `sa` with `scopes`; returns the 201 body.
pub(crate) async fn service_account_key(
    app: &TestApp,
    by: &Person,
    org: &str,
    sa: &str,
    scopes: &[&str],
) -> Value {
    let resp = create_service_account_key(
        app,
        Caller::Session(by),
        org,
        sa,
        json!({"name": "deploy bot", "scopes": scopes}),
    )
    .await;
    expect_json(resp, 201).await
}

/// `GET /api/v1/authorize` with `permission`, and `organization_id` / `resource` when given.
pub(crate) async fn authorize(
    app: &TestApp,
    by: Caller<'_>,
    permission: &str,
    org: Option<&str>,
    resource: Option<&str>,
) -> reqwest::Response {
    let mut query = vec![("permission", permission)];
    if let Some(org) = org {
        query.push(("organization_id", org));
    }
    if let Some(resource) = resource {
        query.push(("resource", resource));
    }
    by.request(app, Method::GET, "/api/v1/authorize")
        .query(&query)
        .send()
        .await
        .unwrap()
}

/// The status `/authorize` answers.
pub(crate) async fn authorize_status(
    app: &TestApp,
    by: Caller<'_>,
    permission: &str,
    org: Option<&str>,
    resource: Option<&str>,
) -> u16 {
    authorize(app, by, permission, org, resource)
        .await
        .status()
        .as_u16()
}

/// `by` changes service account `sa`; asserts 200 and returns the updated object.
async fn patch_service_account(
    app: &TestApp,
    by: &Person,
    org: &str,
    sa: &str,
    body: Value,
) -> Value {
    let resp = Caller::Session(by)
        .send(app, Method::PATCH, &service_account_path(org, sa), body)
        .await;
    expect_json(resp, 200).await
}

/// The claims of a JWT, without checking the signature (tokens.rs checks signatures).
pub(crate) fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload"))
        .expect("JSON claims")
}

fn assert_service_account_object(sa: &Value) {
    assert_eq!(field_names(sa), names(SA_FIELDS), "{sa}");
    assert!(uuid::Uuid::parse_str(id(sa)).is_ok(), "{sa}");
    timestamp(&sa["created_at"]);
}

async fn an_admin_creates_a_service_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;

    let resp = Caller::Session(&admin)
        .send(
            &app,
            Method::POST,
            &service_accounts_path(&org),
            json!({"name": "GitHub Actions", "role": "developer", "description": "deploys main"}),
        )
        .await;
    let sa = expect_json(resp, 201).await;
    assert_service_account_object(&sa);
    assert_eq!(sa["organization_id"], json!(org));
    assert_eq!(sa["name"], "GitHub Actions");
    assert_eq!(sa["description"], "deploys main");
    assert_eq!(sa["role"], "developer");
    assert_eq!(sa["created_by"], json!(admin.id));

    // Without a description it is null.
    let plain = service_account(&app, &admin, &org, "viewer").await;
    assert_service_account_object(&plain);
    assert_null(&plain, "description");
    assert_eq!(plain["role"], "viewer");
}

async fn the_root_token_creates_a_service_account_but_cannot_make_its_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let root = Caller::Bearer(&app.root_token);

    let resp = root
        .send(
            &app,
            Method::POST,
            &service_accounts_path(&org),
            json!({"name": "platform", "role": "admin"}),
        )
        .await;
    let sa = expect_json(resp, 201).await;
    assert_service_account_object(&sa);
    assert_eq!(sa["role"], "admin");

    // The root token owns no keys, so it makes none for a service account either.
    let resp = create_service_account_key(
        &app,
        root,
        &org,
        id(&sa),
        json!({"name": "k", "scopes": ["read"]}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
}

async fn a_service_account_may_hold_any_role_but_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;

    for role in ["admin", "developer", "viewer", "guest"] {
        let sa = service_account(&app, &owner, &org, role).await;
        assert_eq!(sa["role"], role, "{sa}");
    }
    // Not even an owner makes an owner account; an unknown role is refused the same way.
    for role in ["owner", "superuser", ""] {
        let resp = Caller::Session(&owner)
            .send(
                &app,
                Method::POST,
                &service_accounts_path(&org),
                json!({"name": "bot", "role": role}),
            )
            .await;
        assert_error(resp, 422, "validation_failed").await;
    }
}

async fn invalid_service_account_bodies_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let owner_ = Caller::Session(&owner);
    let path = service_accounts_path(&org);

    for body in [
        json!({"name": "", "role": "viewer"}),
        json!({"name": "   ", "role": "viewer"}),
        json!({"name": "x".repeat(101), "role": "viewer"}),
        json!({"role": "viewer"}),
        json!({"name": "bot"}),
    ] {
        let resp = owner_.send(&app, Method::POST, &path, body.clone()).await;
        let err = assert_error(resp, 422, "validation_failed").await;
        assert!(err["message"].is_string(), "{body}: {err}");
    }
    let resp = owner_
        .request(&app, Method::POST, &path)
        .header("Content-Type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "bad_request").await;
}

async fn only_admins_create_service_accounts(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, developer, viewer, stranger) = (
        app.person().await,
        app.person().await,
        app.person().await,
        app.person().await,
    );
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    let body = json!({"name": "bot", "role": "viewer"});
    let path = service_accounts_path(&org);

    for person in [&developer, &viewer, &stranger] {
        let resp = Caller::Session(person)
            .send(&app, Method::POST, &path, body.clone())
            .await;
        assert_error(resp, 403, "forbidden").await;
    }
    // The owner's key without the admin scope is refused too, naming `admin`.
    let key = app
        .api_key(&owner, &org, &["read", "write", "deploy"])
        .await;
    let resp = Caller::Key(secret(&key))
        .send(&app, Method::POST, &path, body.clone())
        .await;
    let err = assert_error(resp, 403, "forbidden").await;
    assert_eq!(err["missing_permissions"], json!(["admin"]), "{err}");
    // With the admin scope it may.
    let key = app.api_key(&owner, &org, &["admin"]).await;
    let resp = Caller::Key(secret(&key))
        .send(&app, Method::POST, &path, body)
        .await;
    expect_json(resp, 201).await;
}

async fn readers_list_and_get_service_accounts_and_guests_do_not(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer, guest, stranger) = (
        app.person().await,
        app.person().await,
        app.person().await,
        app.person().await,
    );
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    app.add_member(&owner, &org, &guest, "guest").await;
    let ci = service_account(&app, &owner, &org, "developer").await;
    let bot = service_account(&app, &owner, &org, "viewer").await;

    let resp = Caller::Session(&viewer)
        .get(&app, &service_accounts_path(&org))
        .await;
    let list = expect_json(resp, 200).await;
    let list = list.as_array().expect("a bare array");
    let mut ids: Vec<&str> = list.iter().map(id).collect();
    ids.sort();
    let mut expected = vec![id(&ci), id(&bot)];
    expected.sort();
    assert_eq!(ids, expected);
    for sa in list {
        assert_service_account_object(sa);
    }

    let resp = Caller::Session(&viewer)
        .get(&app, &service_account_path(&org, id(&ci)))
        .await;
    assert_eq!(expect_json(resp, 200).await, ci);

    // A guest has nothing organization-wide, a stranger nothing at all.
    for person in [&guest, &stranger] {
        let resp = Caller::Session(person)
            .get(&app, &service_accounts_path(&org))
            .await;
        assert_error(resp, 403, "forbidden").await;
        let resp = Caller::Session(person)
            .get(&app, &service_account_path(&org, id(&ci)))
            .await;
        assert_error(resp, 403, "forbidden").await;
    }
}

async fn unknown_service_accounts_are_not_found_and_malformed_ids_are_bad_requests(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let owner_ = Caller::Session(&owner);
    let unknown = uuid::Uuid::now_v7().to_string();

    for (sa, status, code) in [
        (unknown.as_str(), 404, "not_found"),
        ("not-a-uuid", 400, "bad_request"),
    ] {
        let path = service_account_path(&org, sa);
        assert_error(owner_.get(&app, &path).await, status, code).await;
        let resp = owner_
            .send(&app, Method::PATCH, &path, json!({"name": "x"}))
            .await;
        assert_error(resp, status, code).await;
        assert_error(owner_.delete(&app, &path).await, status, code).await;
        let resp = create_service_account_key(
            &app,
            owner_,
            &org,
            sa,
            json!({"name": "k", "scopes": ["read"]}),
        )
        .await;
        assert_error(resp, status, code).await;
    }
}

async fn a_service_account_of_another_organization_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let other = app.organization(&owner).await;
    let theirs = service_account(&app, &owner, &other, "viewer").await;

    let path = service_account_path(&org, id(&theirs));
    assert_error(
        Caller::Session(&owner).get(&app, &path).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        Caller::Session(&owner).delete(&app, &path).await,
        404,
        "not_found",
    )
    .await;
    // Still there in its own organization.
    let resp = Caller::Session(&owner)
        .get(&app, &service_account_path(&other, id(&theirs)))
        .await;
    expect_json(resp, 200).await;
}

async fn an_admin_updates_a_service_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let sa = service_account(&app, &owner, &org, "viewer").await;

    let updated = patch_service_account(
        &app,
        &admin,
        &org,
        id(&sa),
        json!({"name": "renamed", "description": "now deploys", "role": "developer"}),
    )
    .await;
    assert_service_account_object(&updated);
    assert_eq!(updated["id"], sa["id"]);
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["description"], "now deploys");
    assert_eq!(updated["role"], "developer");
    assert_eq!(updated["created_by"], json!(owner.id));
    assert_eq!(updated["created_at"], sa["created_at"]);

    // Fields left out stay as they were.
    let updated =
        patch_service_account(&app, &admin, &org, id(&sa), json!({"role": "guest"})).await;
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["role"], "guest");
    let resp = Caller::Session(&admin)
        .get(&app, &service_account_path(&org, id(&sa)))
        .await;
    assert_eq!(expect_json(resp, 200).await, updated);

    for body in [
        json!({"role": "owner"}),
        json!({"role": "superuser"}),
        json!({"name": ""}),
    ] {
        let resp = Caller::Session(&owner)
            .send(
                &app,
                Method::PATCH,
                &service_account_path(&org, id(&sa)),
                body,
            )
            .await;
        assert_error(resp, 422, "validation_failed").await;
    }
}

async fn only_admins_update_or_delete_service_accounts(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, developer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let sa = service_account(&app, &owner, &org, "viewer").await;
    let path = service_account_path(&org, id(&sa));

    let resp = Caller::Session(&developer)
        .send(&app, Method::PATCH, &path, json!({"role": "admin"}))
        .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = Caller::Session(&developer).delete(&app, &path).await;
    assert_error(resp, 403, "forbidden").await;

    let resp = Caller::Session(&owner).get(&app, &path).await;
    assert_eq!(expect_json(resp, 200).await, sa, "unchanged");
}

async fn deleting_a_service_account_refuses_its_keys_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let sa = service_account(&app, &owner, &org, "developer").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["deploy"]).await;
    let key_caller = Caller::Key(secret(&key));
    assert_eq!(
        authorize_status(&app, key_caller, "deploy", None, None).await,
        200
    );
    // It holds a grant and a restricted key too: they go with it.
    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::PUT,
            &format!("{}/grants", service_account_path(&org, id(&sa))),
            json!({"resource": "projects/web", "role": "admin"}),
        )
        .await;
    expect_json(resp, 200).await;
    let resp = create_service_account_key(
        &app,
        Caller::Session(&owner),
        &org,
        id(&sa),
        json!({"name": "web", "scopes": ["read"], "resources": ["projects/web"]}),
    )
    .await;
    let restricted = expect_json(resp, 201).await;

    let path = service_account_path(&org, id(&sa));
    let resp = Caller::Session(&admin).delete(&app, &path).await;
    assert_eq!(resp.status().as_u16(), 204);
    let resp = Caller::Session(&admin)
        .get(&app, &format!("{path}/grants"))
        .await;
    assert_error(resp, 404, "not_found").await;

    assert_key_refused(&app, secret(&key)).await;
    assert_key_refused(&app, secret(&restricted)).await;
    let resp = authorize(&app, key_caller, "deploy", None, None).await;
    assert_error(resp, 401, "unauthenticated").await;
    assert_error(
        Caller::Session(&admin).get(&app, &path).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        Caller::Session(&admin).delete(&app, &path).await,
        404,
        "not_found",
    )
    .await;
}

async fn an_admin_creates_a_key_for_a_service_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let sa = service_account(&app, &owner, &org, "developer").await;

    let resp = create_service_account_key(
        &app,
        Caller::Session(&admin),
        &org,
        id(&sa),
        json!({"name": "deploy bot", "scopes": ["deploy", "read"]}),
    )
    .await;
    let key = expect_json(resp, 201).await;
    crate::api_keys::assert_key_format(secret(&key), "pcl");
    assert_eq!(key["name"], "deploy bot");
    assert_eq!(key["organization_id"], json!(org));
    assert_eq!(key["service_account_id"], sa["id"]);
    assert_null(&key, "user_id");
    assert_null(&key, "resources");
    assert_null(&key, "expires_at");
    assert_eq!(string_set(&key["scopes"]), names(&["deploy", "read"]));
    assert_eq!(key["key_prefix"].as_str(), Some(&secret(&key)[..12]));

    let resp = Caller::Session(&admin)
        .get(&app, &format!("{}/{}", keys_path(&org), id(&key)))
        .await;
    let got = expect_json(resp, 200).await;
    assert_eq!(got["service_account_id"], sa["id"]);
    assert_null(&got, "user_id");
    assert!(
        got.get("key").is_none(),
        "the plaintext is shown once: {got}"
    );

    assert_eq!(
        authorize_status(&app, Caller::Key(secret(&key)), "deploy", None, None).await,
        200
    );
}

async fn service_account_keys_are_listed_with_the_organizations_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, developer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let sa = service_account(&app, &owner, &org, "viewer").await;
    let sa_key = service_account_key(&app, &owner, &org, id(&sa), &["read"]).await;
    let persons_key = app.api_key(&owner, &org, &["read"]).await;
    let developers_key = app.api_key(&developer, &org, &["read"]).await;
    assert_null(&persons_key, "service_account_id");
    assert_eq!(persons_key["user_id"], json!(owner.id));

    let resp = Caller::Session(&owner).get(&app, &keys_path(&org)).await;
    let list = expect_json(resp, 200).await;
    let list = list.as_array().expect("a bare array");
    let find = |key: &Value| {
        list.iter()
            .find(|k| k["id"] == key["id"])
            .unwrap_or_else(|| panic!("key {} is not listed: {list:?}", key["id"]))
            .clone()
    };
    let listed = find(&sa_key);
    assert_eq!(listed["service_account_id"], sa["id"]);
    assert_null(&listed, "user_id");
    let listed = find(&persons_key);
    assert_null(&listed, "service_account_id");
    assert_eq!(listed["user_id"], json!(owner.id));
    find(&developers_key);

    // A member who is not an admin sees only their own keys, and cannot read the account's.
    let resp = Caller::Session(&developer)
        .get(&app, &keys_path(&org))
        .await;
    let mine = expect_json(resp, 200).await;
    let ids: Vec<&str> = mine.as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids, vec![id(&developers_key)]);
    let resp = Caller::Session(&developer)
        .get(&app, &format!("{}/{}", keys_path(&org), id(&sa_key)))
        .await;
    assert_error(resp, 403, "forbidden").await;
}

async fn a_service_account_key_cannot_exceed_the_accounts_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let viewer_sa = service_account(&app, &owner, &org, "viewer").await;
    let guest_sa = service_account(&app, &owner, &org, "guest").await;
    let developer_sa = service_account(&app, &owner, &org, "developer").await;

    for (sa, scopes) in [
        (&viewer_sa, json!(["deploy"])),
        (&viewer_sa, json!(["read", "write"])),
        (&developer_sa, json!(["admin"])),
        (&guest_sa, json!(["read"])),
    ] {
        let resp = create_service_account_key(
            &app,
            Caller::Session(&owner),
            &org,
            id(sa),
            json!({"name": "k", "scopes": scopes}),
        )
        .await;
        let err = assert_error(resp, 403, "forbidden").await;
        assert!(
            err["missing_permissions"].is_array(),
            "{} {scopes}: {err}",
            sa["role"]
        );
    }
    // Within the account's role it is fine.
    service_account_key(&app, &owner, &org, id(&developer_sa), &["write", "deploy"]).await;
    service_account_key(&app, &owner, &org, id(&viewer_sa), &["read"]).await;
}

async fn only_admins_create_service_account_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, developer, stranger) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let sa = service_account(&app, &owner, &org, "viewer").await;

    for person in [&developer, &stranger] {
        let resp = create_service_account_key(
            &app,
            Caller::Session(person),
            &org,
            id(&sa),
            json!({"name": "k", "scopes": ["read"]}),
        )
        .await;
        assert_error(resp, 403, "forbidden").await;
    }
    // A key whose scopes lack `admin` cannot either.
    let key = app
        .api_key(&owner, &org, &["read", "write", "deploy"])
        .await;
    let resp = create_service_account_key(
        &app,
        Caller::Key(secret(&key)),
        &org,
        id(&sa),
        json!({"name": "k", "scopes": ["read"]}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    // An admin key may.
    let key = app.api_key(&owner, &org, &["admin"]).await;
    let resp = create_service_account_key(
        &app,
        Caller::Key(secret(&key)),
        &org,
        id(&sa),
        json!({"name": "k", "scopes": ["read"]}),
    )
    .await;
    let created = expect_json(resp, 201).await;
    assert_eq!(created["service_account_id"], sa["id"]);
}

async fn lowering_a_service_accounts_role_lowers_its_keys_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "developer").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["deploy", "read"]).await;
    let key = Caller::Key(secret(&key));
    assert_eq!(authorize_status(&app, key, "deploy", None, None).await, 200);

    patch_service_account(&app, &owner, &org, id(&sa), json!({"role": "viewer"})).await;

    let resp = authorize(&app, key, "deploy", None, None).await;
    let err = assert_error(resp, 403, "forbidden").await;
    assert_eq!(err["missing_permissions"], json!(["deploy"]), "{err}");
    let resp = authorize(&app, key, "read", None, None).await;
    let allowed = expect_json(resp, 200).await;
    assert_eq!(allowed["role"], "viewer");
    assert_eq!(allowed["scopes"], json!(["read"]));

    // Raising it again gives the key back what its scopes allow.
    patch_service_account(&app, &owner, &org, id(&sa), json!({"role": "developer"})).await;
    assert_eq!(authorize_status(&app, key, "deploy", None, None).await, 200);

    // As a guest it has nothing organization-wide.
    patch_service_account(&app, &owner, &org, id(&sa), json!({"role": "guest"})).await;
    assert_eq!(authorize_status(&app, key, "read", None, None).await, 403);
}

async fn me_with_a_service_account_key_names_the_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "developer").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["deploy", "read"]).await;

    let resp = Caller::Key(secret(&key)).get(&app, "/api/v1/me").await;
    let me = expect_json(resp, 200).await;
    assert_null(&me, "user");
    assert_eq!(
        me["service_account"],
        json!({"id": sa["id"], "name": sa["name"], "organization_id": org}),
        "{me}"
    );
    assert_eq!(me["auth_method"], "api_key");
    assert_eq!(me["organization_id"], json!(org));
    assert_eq!(me["api_key_id"], key["id"]);
    assert_null(&me, "resources");
    assert_eq!(string_set(&me["scopes"]), names(&["deploy", "read"]));
}

async fn me_with_a_persons_credentials_has_no_service_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let key = app.api_key(&owner, &org, &["read"]).await;

    for caller in [
        Caller::Session(&owner),
        Caller::Key(secret(&key)),
        Caller::Bearer(&app.root_token),
    ] {
        let resp = caller.get(&app, "/api/v1/me").await;
        let me = expect_json(resp, 200).await;
        assert_null(&me, "service_account");
    }
}

async fn authorize_with_a_service_account_key_names_the_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "developer").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["deploy", "read"]).await;

    let resp = authorize(&app, Caller::Key(secret(&key)), "deploy", None, None).await;
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (user, service_account, organization, role) = (
        header("X-Portcullis-User"),
        header("X-Portcullis-Service-Account"),
        header("X-Portcullis-Organization"),
        header("X-Portcullis-Role"),
    );
    let body = expect_json(resp, 200).await;
    assert_eq!(body["allowed"], true);
    assert_null(&body, "user_id");
    assert_eq!(body["service_account_id"], sa["id"], "{body}");
    assert_eq!(body["organization_id"], json!(org));
    assert_eq!(body["role"], "developer");
    assert_eq!(body["auth_method"], "api_key");
    assert_eq!(string_set(&body["scopes"]), names(&["deploy", "read"]));
    assert_eq!(user.as_deref(), Some(""), "X-Portcullis-User is sent empty");
    assert_eq!(service_account.as_deref(), sa["id"].as_str());
    assert_eq!(organization.as_deref(), Some(org.as_str()));
    assert_eq!(role.as_deref(), Some("developer"));

    let resp = authorize(&app, Caller::Key(secret(&key)), "admin", None, None).await;
    let err = assert_error(resp, 403, "forbidden").await;
    assert_eq!(err["missing_permissions"], json!(["admin"]), "{err}");
}

async fn authorize_for_a_person_has_no_service_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let key = app.api_key(&owner, &org, &["read"]).await;

    let resp = authorize(&app, Caller::Key(secret(&key)), "read", None, None).await;
    let body = expect_json(resp, 200).await;
    assert_eq!(body["user_id"], json!(owner.id));
    assert_null(&body, "service_account_id");
    assert_null(&body, "resource");

    let resp = authorize(&app, Caller::Session(&owner), "read", Some(&org), None).await;
    let body = expect_json(resp, 200).await;
    assert_null(&body, "service_account_id");
    assert_null(&body, "resource");
}

async fn an_access_token_minted_from_a_service_account_key_has_no_subject(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "developer").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["deploy", "read"]).await;

    let resp = Caller::Key(secret(&key))
        .send(&app, Method::POST, "/api/v1/auth/token", json!({}))
        .await;
    let minted = expect_json(resp, 200).await;
    let token = minted["access_token"].as_str().expect("access_token");
    let claims = claims(token);
    assert_eq!(claims["sub"], Value::Null, "{claims}");
    assert_eq!(claims["sa"], sa["id"], "{claims}");
    assert_eq!(claims["org"], json!(org), "{claims}");
    assert_eq!(claims["role"], "developer", "{claims}");
    assert_eq!(string_set(&claims["scopes"]), names(&["deploy", "read"]));

    // The token acts as the account.
    let resp = authorize(&app, Caller::Bearer(token), "deploy", None, None).await;
    let body = expect_json(resp, 200).await;
    assert_null(&body, "user_id");
    assert_eq!(body["service_account_id"], sa["id"], "{body}");
    assert_eq!(body["auth_method"], "access_token");
}

async fn service_account_keys_keep_working_after_their_creator_leaves(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let sa = service_account(&app, &admin, &org, "developer").await;
    let sa_key = service_account_key(&app, &admin, &org, id(&sa), &["deploy"]).await;
    let admins_own_key = app.api_key(&admin, &org, &["deploy"]).await;

    let resp = Caller::Session(&owner)
        .delete(
            &app,
            &format!("/api/v1/organizations/{org}/members/{}", admin.id),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 204);

    // The person's own key loses its power; the account's key does not.
    let resp = authorize(
        &app,
        Caller::Key(secret(&admins_own_key)),
        "deploy",
        None,
        None,
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    assert_eq!(
        authorize_status(&app, Caller::Key(secret(&sa_key)), "deploy", None, None).await,
        200
    );
}

async fn admins_get_rotate_and_revoke_service_account_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let sa = service_account(&app, &owner, &org, "developer").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["deploy", "read"]).await;
    let key_path = format!("{}/{}", keys_path(&org), id(&key));

    // Another admin reads it, rotates it (no grace: the old key stops at once) …
    let resp = Caller::Session(&admin).get(&app, &key_path).await;
    expect_json(resp, 200).await;
    let resp = Caller::Session(&admin)
        .send(&app, Method::POST, &format!("{key_path}/rotate"), json!({}))
        .await;
    let rotated = expect_json(resp, 201).await;
    assert_eq!(rotated["service_account_id"], sa["id"]);
    assert_null(&rotated, "user_id");
    assert_eq!(string_set(&rotated["scopes"]), names(&["deploy", "read"]));
    assert_key_refused(&app, secret(&key)).await;
    assert_eq!(
        authorize_status(&app, Caller::Key(secret(&rotated)), "deploy", None, None).await,
        200
    );

    // … and revokes the successor.
    let resp = Caller::Session(&admin)
        .delete(&app, &format!("{}/{}", keys_path(&org), id(&rotated)))
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    assert_key_refused(&app, secret(&rotated)).await;
}

async fn a_service_account_key_is_not_a_person(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "admin").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["admin"]).await;
    let key = Caller::Key(secret(&key));

    // It acts inside its organization …
    let resp = key
        .get(&app, &format!("/api/v1/organizations/{org}/members"))
        .await;
    expect_json(resp, 200).await;
    // … but creates no organizations and has no sessions.
    let resp = key
        .send(
            &app,
            Method::POST,
            "/api/v1/organizations",
            json!({"name": "Mine", "slug": format!("sa-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])}),
        )
        .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = key.get(&app, "/api/v1/auth/sessions").await;
    assert_error(resp, 403, "forbidden").await;
}

async fn service_account_changes_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let tick = || app.clock.advance(chrono::Duration::seconds(1));
    let sa = service_account(&app, &owner, &org, "viewer").await;
    tick();
    patch_service_account(&app, &owner, &org, id(&sa), json!({"role": "developer"})).await;
    tick();
    // Its keys' events are audited as for any key.
    service_account_key(&app, &owner, &org, id(&sa), &["read"]).await;
    tick();
    let resp = Caller::Session(&owner)
        .delete(&app, &service_account_path(&org, id(&sa)))
        .await;
    assert_eq!(resp.status().as_u16(), 204);

    let resp = Caller::Session(&owner)
        .get(&app, &format!("/api/v1/organizations/{org}/audit-events"))
        .await;
    let events = expect_json(resp, 200).await;
    let events = events.as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("service_account.") || *a == "api_key.created")
        .collect();
    assert_eq!(
        actions,
        [
            "service_account.deleted",
            "api_key.created",
            "service_account.updated",
            "service_account.created",
        ],
        "newest first: {events:#?}"
    );
    for event in events.iter().filter(|e| {
        e["action"]
            .as_str()
            .unwrap()
            .starts_with("service_account.")
    }) {
        assert_eq!(event["actor_user_id"], json!(owner.id), "{event}");
        assert!(!event["target"].is_null(), "{event}");
    }
}

async fn a_service_account_key_cannot_reach_another_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let other = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "admin").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["admin"]).await;
    let key = Caller::Key(secret(&key));

    // Its owner holds both organizations; the account is a member of one only.
    let resp = authorize(&app, key, "read", Some(&other), None).await;
    assert_error(resp, 403, "forbidden").await;
    let resp = key
        .get(&app, &format!("/api/v1/organizations/{other}/members"))
        .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = key.get(&app, "/api/v1/organizations").await;
    let orgs = expect_json(resp, 200).await;
    let ids: Vec<&str> = orgs.as_array().unwrap().iter().map(id).collect();
    assert_eq!(
        ids,
        vec![org.as_str()],
        "a key sees its own organization only"
    );
}

async fn an_admin_key_rotates_a_service_account_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "developer").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["deploy"]).await;
    let admin_key = app.api_key(&owner, &org, &["admin"]).await;

    let resp = Caller::Key(secret(&admin_key))
        .send(
            &app,
            Method::POST,
            &format!("{}/{}/rotate", keys_path(&org), id(&key)),
            json!({}),
        )
        .await;
    let rotated = expect_json(resp, 201).await;
    assert_eq!(rotated["service_account_id"], sa["id"]);
    assert_key_refused(&app, secret(&key)).await;
    assert_eq!(
        authorize_status(&app, Caller::Key(secret(&rotated)), "deploy", None, None).await,
        200
    );
}

async fn what_a_service_account_key_does_is_audited_as_the_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "admin").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["admin"]).await;

    let resp = Caller::Key(secret(&key))
        .send(
            &app,
            Method::PATCH,
            &format!("/api/v1/organizations/{org}"),
            json!({"name": "Renamed by CI"}),
        )
        .await;
    expect_json(resp, 200).await;

    let resp = Caller::Session(&owner)
        .get(&app, &format!("/api/v1/organizations/{org}/audit-events"))
        .await;
    let events = expect_json(resp, 200).await;
    let event = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "organization.updated")
        .unwrap_or_else(|| panic!("no organization.updated: {events:#}"));
    assert_null(event, "actor_user_id");
    assert_eq!(event["actor_api_key_id"], key["id"], "{event}");
}

async fn deleting_an_organization_takes_its_service_accounts_and_grants_with_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, guest) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &guest, "guest").await;
    let sa = service_account(&app, &owner, &org, "developer").await;
    let sa_key = service_account_key(&app, &owner, &org, id(&sa), &["deploy"]).await;
    for grants in [
        format!("/api/v1/organizations/{org}/members/{}/grants", guest.id),
        format!("{}/grants", service_account_path(&org, id(&sa))),
    ] {
        let resp = Caller::Session(&owner)
            .send(
                &app,
                Method::PUT,
                &grants,
                json!({"resource": "projects/web", "role": "developer"}),
            )
            .await;
        expect_json(resp, 200).await;
    }
    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::POST,
            &keys_path(&org),
            json!({"name": "web", "scopes": ["read"], "resources": ["projects/web"]}),
        )
        .await;
    let restricted = expect_json(resp, 201).await;

    let resp = Caller::Session(&owner)
        .delete(&app, &format!("/api/v1/organizations/{org}"))
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    assert_key_refused(&app, secret(&sa_key)).await;
    assert_key_refused(&app, secret(&restricted)).await;
}
