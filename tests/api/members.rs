//! Members of an organization: listing, adding by email, changing roles, leaving, removing.

use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    the_member_list_shows_each_member_with_their_role,
    an_admin_adds_a_member_by_email,
    adding_an_unknown_email_is_not_found,
    adding_with_an_unknown_role_is_refused,
    only_an_owner_grants_owner,
    an_admin_changes_a_members_role,
    changing_the_role_of_a_non_member_is_not_found,
    the_last_owner_cannot_be_demoted,
    the_last_owner_cannot_leave,
    a_member_may_remove_themselves,
    a_viewer_cannot_remove_someone_else,
    an_admin_removes_a_member_and_their_access_ends_at_once,
);

fn members_path(org: &str) -> String {
    format!("/api/v1/organizations/{org}/members")
}

fn member_path(org: &str, user: &str) -> String {
    format!("/api/v1/organizations/{org}/members/{user}")
}

async fn add(app: &TestApp, by: &Person, org: &str, email: &str, role: &str) -> reqwest::Response {
    by.client
        .post(app.url(&members_path(org)))
        .json(&json!({"email": email, "role": role}))
        .send()
        .await
        .unwrap()
}

async fn set_role(
    app: &TestApp,
    by: &Person,
    org: &str,
    user: &str,
    role: &str,
) -> reqwest::Response {
    by.client
        .patch(app.url(&member_path(org, user)))
        .json(&json!({"role": role}))
        .send()
        .await
        .unwrap()
}

async fn remove(app: &TestApp, by: &Person, org: &str, user: &str) -> reqwest::Response {
    by.client
        .delete(app.url(&member_path(org, user)))
        .send()
        .await
        .unwrap()
}

/// `user_id → role` as the owner sees it.
async fn roles(app: &TestApp, viewer: &Person, org: &str) -> Vec<(String, String)> {
    let resp = viewer
        .client
        .get(app.url(&members_path(org)))
        .send()
        .await
        .unwrap();
    let list = expect_json(resp, 200).await;
    let mut roles: Vec<(String, String)> = list
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    roles.sort();
    roles
}

fn expected(pairs: &[(&Person, &str)]) -> Vec<(String, String)> {
    let mut roles: Vec<(String, String)> = pairs
        .iter()
        .map(|(p, r)| (p.id.clone(), (*r).to_owned()))
        .collect();
    roles.sort();
    roles
}

fn assert_member_object(member: &Value) {
    let mut keys: Vec<_> = member
        .as_object()
        .expect("a member object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["email", "grants", "joined_at", "name", "role", "user_id"],
        "{member}"
    );
    chrono::DateTime::parse_from_rfc3339(member["joined_at"].as_str().unwrap())
        .expect("joined_at is RFC 3339");
}

async fn the_member_list_shows_each_member_with_their_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;

    let resp = viewer
        .client
        .get(app.url(&members_path(&org)))
        .send()
        .await
        .unwrap();
    let list = expect_json(resp, 200).await;
    let list = list.as_array().expect("a bare array");
    assert_eq!(list.len(), 2);
    for member in list {
        assert_member_object(member);
        let person = if member["user_id"] == owner.id.as_str() {
            &owner
        } else {
            &viewer
        };
        assert_eq!(member["email"], person.email.as_str());
        assert_eq!(member["name"], Value::Null);
    }
    assert_eq!(
        roles(&app, &owner, &org).await,
        expected(&[(&owner, "owner"), (&viewer, "viewer")])
    );
}

async fn an_admin_adds_a_member_by_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin, newcomer) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;

    let resp = add(
        &app,
        &admin,
        &org,
        &newcomer.email.to_uppercase(),
        "developer",
    )
    .await;
    let member = expect_json(resp, 201).await;
    assert_member_object(&member);
    assert_eq!(member["user_id"], newcomer.id.as_str());
    assert_eq!(member["email"], newcomer.email.as_str());
    assert_eq!(member["role"], "developer");

    let resp = newcomer
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}")))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    assert_eq!(
        roles(&app, &owner, &org).await,
        expected(&[
            (&owner, "owner"),
            (&admin, "admin"),
            (&newcomer, "developer")
        ])
    );
}

async fn adding_an_unknown_email_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let resp = add(&app, &owner, &org, "ghost@example.com", "viewer").await;
    assert_error(resp, 404, "not_found").await;
    assert_eq!(
        roles(&app, &owner, &org).await,
        expected(&[(&owner, "owner")])
    );
}

async fn adding_with_an_unknown_role_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, newcomer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    for role in ["root", "Owner", ""] {
        assert_error(
            add(&app, &owner, &org, &newcomer.email, role).await,
            422,
            "validation_failed",
        )
        .await;
    }
    app.add_member(&owner, &org, &newcomer, "viewer").await;
    let resp = set_role(&app, &owner, &org, &newcomer.id, "superuser").await;
    assert_error(resp, 422, "validation_failed").await;
}

async fn only_an_owner_grants_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin, first, second) = (
        app.person().await,
        app.person().await,
        app.person().await,
        app.person().await,
    );
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;

    assert_error(
        add(&app, &admin, &org, &first.email, "owner").await,
        403,
        "forbidden",
    )
    .await;
    app.add_member(&admin, &org, &first, "viewer").await;
    assert_error(
        set_role(&app, &admin, &org, &first.id, "owner").await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        set_role(&app, &admin, &org, &admin.id, "owner").await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        roles(&app, &owner, &org).await,
        expected(&[(&owner, "owner"), (&admin, "admin"), (&first, "viewer")])
    );

    let member = expect_json(set_role(&app, &owner, &org, &first.id, "owner").await, 200).await;
    assert_eq!(member["role"], "owner");
    let member = expect_json(add(&app, &owner, &org, &second.email, "owner").await, 201).await;
    assert_eq!(member["role"], "owner");
    // The root token may grant owner too.
    let resp = app
        .http
        .patch(app.url(&member_path(&org, &admin.id)))
        .bearer_auth(&app.root_token)
        .json(&json!({"role": "owner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["role"], "owner");
}

async fn an_admin_changes_a_members_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin, member) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &member, "viewer").await;

    let updated = expect_json(
        set_role(&app, &admin, &org, &member.id, "developer").await,
        200,
    )
    .await;
    assert_member_object(&updated);
    assert_eq!(updated["user_id"], member.id.as_str());
    assert_eq!(updated["role"], "developer");
    // The new role takes effect at once: a developer still cannot rename.
    let resp = member
        .client
        .patch(app.url(&format!("/api/v1/organizations/{org}")))
        .json(&json!({"name": "Nope"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    expect_json(set_role(&app, &admin, &org, &member.id, "admin").await, 200).await;
    let resp = member
        .client
        .patch(app.url(&format!("/api/v1/organizations/{org}")))
        .json(&json!({"name": "Now yes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["name"], "Now yes");
    assert_eq!(
        roles(&app, &owner, &org).await,
        expected(&[(&owner, "owner"), (&admin, "admin"), (&member, "admin")])
    );
}

async fn changing_the_role_of_a_non_member_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, outsider) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    assert_error(
        set_role(&app, &owner, &org, &outsider.id, "viewer").await,
        404,
        "not_found",
    )
    .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_error(
        set_role(&app, &owner, &org, &unknown, "viewer").await,
        404,
        "not_found",
    )
    .await;
    assert_error(remove(&app, &owner, &org, &unknown).await, 404, "not_found").await;
}

async fn the_last_owner_cannot_be_demoted(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, second) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    assert_error(
        set_role(&app, &owner, &org, &owner.id, "admin").await,
        409,
        "conflict",
    )
    .await;
    let resp = app
        .http
        .patch(app.url(&member_path(&org, &owner.id)))
        .bearer_auth(&app.root_token)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 409, "conflict").await;
    assert_eq!(
        roles(&app, &owner, &org).await,
        expected(&[(&owner, "owner")])
    );

    // With a second owner, one of them may step down.
    app.add_member(&owner, &org, &second, "owner").await;
    let updated = expect_json(set_role(&app, &owner, &org, &owner.id, "admin").await, 200).await;
    assert_eq!(updated["role"], "admin");
    assert_error(
        set_role(&app, &second, &org, &second.id, "developer").await,
        409,
        "conflict",
    )
    .await;
}

async fn the_last_owner_cannot_leave(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, second) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    assert_error(remove(&app, &owner, &org, &owner.id).await, 409, "conflict").await;
    let resp = app
        .http
        .delete(app.url(&member_path(&org, &owner.id)))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_error(resp, 409, "conflict").await;

    app.add_member(&owner, &org, &second, "owner").await;
    let resp = remove(&app, &owner, &org, &owner.id).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        roles(&app, &second, &org).await,
        expected(&[(&second, "owner")])
    );
    assert_error(
        remove(&app, &second, &org, &second.id).await,
        409,
        "conflict",
    )
    .await;
}

async fn a_member_may_remove_themselves(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;

    let resp = remove(&app, &viewer, &org, &viewer.id).await;
    assert_eq!(resp.status(), 204);
    let resp = viewer
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}")))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = viewer
        .client
        .get(app.url("/api/v1/organizations"))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await, json!([]));
    assert_eq!(
        roles(&app, &owner, &org).await,
        expected(&[(&owner, "owner")])
    );
}

async fn a_viewer_cannot_remove_someone_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer, developer) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    app.add_member(&owner, &org, &developer, "developer").await;

    let body = assert_error(
        remove(&app, &viewer, &org, &developer.id).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(body["missing_permissions"], json!(["admin"]));
    assert_error(
        remove(&app, &viewer, &org, &owner.id).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        remove(&app, &developer, &org, &viewer.id).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        roles(&app, &owner, &org).await,
        expected(&[
            (&owner, "owner"),
            (&viewer, "viewer"),
            (&developer, "developer")
        ])
    );
}

async fn an_admin_removes_a_member_and_their_access_ends_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin, developer) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let resp = developer
        .client
        .get(app.url(&members_path(&org)))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;

    assert_eq!(
        remove(&app, &admin, &org, &developer.id).await.status(),
        204
    );
    let resp = developer
        .client
        .get(app.url(&members_path(&org)))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    assert_eq!(
        roles(&app, &owner, &org).await,
        expected(&[(&owner, "owner"), (&admin, "admin")])
    );
    assert_error(
        remove(&app, &admin, &org, &developer.id).await,
        404,
        "not_found",
    )
    .await;
}
