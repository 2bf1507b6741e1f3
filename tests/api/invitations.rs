//! Invitations (contract section 9): create, list, revoke, resend, lookup, accept, and signing
//! up with an invitation.

use chrono::Duration;
use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    an_admin_invites_by_email_and_only_the_response_carries_the_link,
    the_invite_url_is_built_from_the_public_url_when_set,
    inviting_an_owner_needs_an_owner,
    a_developer_cannot_invite,
    inviting_someone_already_a_member_is_a_conflict,
    a_new_invitation_for_the_same_email_replaces_the_old_one,
    the_list_shows_pending_invitations_newest_first_without_links,
    a_revoked_invitation_stops_working,
    resending_gives_a_new_link_and_expiry_and_the_old_link_dies,
    the_lookup_shows_the_organization_role_and_inviter_without_logging_in,
    an_unknown_or_malformed_token_is_not_found,
    an_invitation_expires_after_seven_days,
    the_invitee_accepts_with_a_session_and_joins_with_the_role,
    the_email_must_match_case_insensitively,
    an_invitation_is_used_once,
    accepting_when_already_a_member_is_a_conflict,
    accepting_needs_a_session,
    signing_up_with_an_invitation_joins_the_organization_even_when_signup_is_closed,
    signing_up_with_another_emails_invitation_is_forbidden_and_an_unusable_one_not_found,
    invitations_are_audited,
    invitation_lookups_are_rate_limited_per_address,
    an_invited_guest_joins_with_the_invitations_grants,
    an_invitation_with_a_bad_grant_is_refused,
);

pub fn invitations_path(org: &str) -> String {
    format!("/api/v1/organizations/{org}/invitations")
}

/// `by` invites `email` with `role`.
pub async fn invite(
    app: &TestApp,
    by: &Person,
    org: &str,
    email: &str,
    role: &str,
) -> reqwest::Response {
    by.client
        .post(app.url(&invitations_path(org)))
        .json(&json!({"email": email, "role": role}))
        .send()
        .await
        .unwrap()
}

/// The root token invites (its sessions-free credential outlives any clock jump).
async fn root_invited(app: &TestApp, org: &str, email: &str, role: &str) -> Value {
    let resp = app
        .http
        .post(app.url(&invitations_path(org)))
        .bearer_auth(&app.root_token)
        .json(&json!({"email": email, "role": role}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await
}

/// The 201 body of a successful invitation.
pub async fn invited(app: &TestApp, by: &Person, org: &str, email: &str, role: &str) -> Value {
    expect_json(invite(app, by, org, email, role).await, 201).await
}

/// The token in an `invite_url` or `reset_url`.
pub fn token_of(url: &Value) -> String {
    let url = url.as_str().expect("a URL");
    url.split_once("?token=")
        .unwrap_or_else(|| panic!("no token in {url}"))
        .1
        .to_owned()
}

pub async fn lookup(app: &TestApp, token: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/invitations/lookup"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap()
}

pub async fn accept(app: &TestApp, by: &Person, token: &str) -> reqwest::Response {
    by.client
        .post(app.url("/api/v1/invitations/accept"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap()
}

fn new_email() -> String {
    format!("invitee-{}@example.com", uuid::Uuid::new_v4().simple())
}

async fn members(app: &TestApp, by: &Person, org: &str) -> Vec<Value> {
    let resp = by
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}/members")))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await.as_array().unwrap().clone()
}

fn role_of(members: &[Value], email: &str) -> Option<String> {
    members
        .iter()
        .find(|m| m["email"] == email)
        .map(|m| m["role"].as_str().unwrap().to_owned())
}

async fn an_admin_invites_by_email_and_only_the_response_carries_the_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let email = new_email();
    let body = invited(&app, &owner, &org, &email, "developer").await;
    let mut fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "created_at",
            "email",
            "expires_at",
            "grants",
            "id",
            "invite_url",
            "invited_by",
            "organization_id",
            "role"
        ]
    );
    assert_eq!(body["email"], json!(email));
    assert_eq!(body["role"], "developer");
    assert_eq!(body["organization_id"], json!(org));
    assert_eq!(body["invited_by"], json!(owner.id));
    let url = body["invite_url"].as_str().unwrap();
    let prefix = format!("{}/console/invitations/accept?token=", app.address);
    assert!(url.starts_with(&prefix), "{url}");
    let token = token_of(&body["invite_url"]);
    assert_eq!(token.len(), 43);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
    let created: chrono::DateTime<chrono::Utc> =
        body["created_at"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<chrono::Utc> =
        body["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires - created, Duration::days(7));
}

async fn the_invite_url_is_built_from_the_public_url_when_set(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.public_url = Some("https://auth.example.test/".into())
    })
    .await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let body = invited(&app, &owner, &org, &new_email(), "viewer").await;
    let url = body["invite_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://auth.example.test/console/invitations/accept?token="),
        "{url}"
    );
}

async fn inviting_an_owner_needs_an_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let admin = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let email = new_email();
    let denied = invite(&app, &admin, &org, &email, "owner").await;
    assert_error(denied, 403, "forbidden").await;
    invited(&app, &admin, &org, &email, "admin").await;
    invited(&app, &owner, &org, &email, "owner").await;
    // The root token administers everything.
    let resp = app
        .http
        .post(app.url(&invitations_path(&org)))
        .bearer_auth(&app.root_token)
        .json(&json!({"email": new_email(), "role": "owner"}))
        .send()
        .await
        .unwrap();
    let body = expect_json(resp, 201).await;
    assert_eq!(body["invited_by"], Value::Null);
}

async fn a_developer_cannot_invite(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let developer = app.person().await;
    let stranger = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let resp = invite(&app, &developer, &org, &new_email(), "viewer").await;
    let body = assert_error(resp, 403, "forbidden").await;
    assert_eq!(body["missing_permissions"], json!(["admin"]));
    let resp = invite(&app, &stranger, &org, &new_email(), "viewer").await;
    assert_error(resp, 403, "forbidden").await;
    for list_by in [&developer, &stranger] {
        let resp = list_by
            .client
            .get(app.url(&invitations_path(&org)))
            .send()
            .await
            .unwrap();
        assert_error(resp, 403, "forbidden").await;
    }
    let bad_email = invite(&app, &owner, &org, "not-an-email", "viewer").await;
    assert_error(bad_email, 422, "validation_failed").await;
    let bad_role = invite(&app, &owner, &org, &new_email(), "emperor").await;
    assert_error(bad_role, 422, "validation_failed").await;
}

async fn inviting_someone_already_a_member_is_a_conflict(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let member = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "viewer").await;
    let resp = invite(&app, &owner, &org, &member.email.to_uppercase(), "admin").await;
    assert_error(resp, 409, "conflict").await;
}

async fn a_new_invitation_for_the_same_email_replaces_the_old_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let email = new_email();
    let first = invited(&app, &owner, &org, &email, "viewer").await;
    let second = invited(&app, &owner, &org, &email.to_uppercase(), "developer").await;
    assert_ne!(first["id"], second["id"]);
    assert_error(
        lookup(&app, &token_of(&first["invite_url"])).await,
        404,
        "not_found",
    )
    .await;
    let found = expect_json(lookup(&app, &token_of(&second["invite_url"])).await, 200).await;
    assert_eq!(found["role"], "developer");
    let list = expect_json(
        owner
            .client
            .get(app.url(&invitations_path(&org)))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], second["id"]);
}

async fn the_list_shows_pending_invitations_newest_first_without_links(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let oldest = invited(&app, &owner, &org, &new_email(), "viewer").await;
    assert_eq!(oldest["invited_by"], json!(owner.id));
    // Days pass: sessions would expire, so the root token acts from here on.
    app.clock.advance(Duration::days(3));
    let middle = root_invited(&app, &org, &new_email(), "developer").await;
    app.clock.advance(Duration::days(1));
    let newest = root_invited(&app, &org, &new_email(), "admin").await;
    let list = || async {
        let resp = app
            .http
            .get(app.url(&invitations_path(&org)))
            .bearer_auth(&app.root_token)
            .send()
            .await
            .unwrap();
        expect_json(resp, 200).await.as_array().unwrap().clone()
    };
    let listed = list().await;
    let ids: Vec<&Value> = listed.iter().map(|i| &i["id"]).collect();
    assert_eq!(ids, [&newest["id"], &middle["id"], &oldest["id"]]);
    for item in &listed {
        assert!(item.get("invite_url").is_none(), "{item}");
        assert!(!item.to_string().contains("token"), "{item}");
    }
    assert_eq!(listed[0]["role"], "admin");
    assert_eq!(listed[0]["invited_by"], Value::Null);
    assert_eq!(listed[2]["invited_by"], json!(owner.id));
    // The oldest expires 7 days after it was made: no longer pending.
    app.clock.advance(Duration::days(3) + Duration::seconds(1));
    let listed = list().await;
    let ids: Vec<&Value> = listed.iter().map(|i| &i["id"]).collect();
    assert_eq!(ids, [&newest["id"], &middle["id"]]);
}

async fn a_revoked_invitation_stops_working(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let invitee = app.person().await;
    let body = invited(&app, &owner, &org, &invitee.email, "viewer").await;
    let path = format!(
        "{}/{}",
        invitations_path(&org),
        body["id"].as_str().unwrap()
    );
    let resp = owner.client.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let token = token_of(&body["invite_url"]);
    assert_error(lookup(&app, &token).await, 404, "not_found").await;
    assert_error(accept(&app, &invitee, &token).await, 404, "not_found").await;
    let again = owner.client.delete(app.url(&path)).send().await.unwrap();
    assert_error(again, 404, "not_found").await;
}

async fn resending_gives_a_new_link_and_expiry_and_the_old_link_dies(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let invitee = app.person().await;
    let first = invited(&app, &owner, &org, &invitee.email, "developer").await;
    app.clock.advance(Duration::days(6));
    let path = format!(
        "{}/{}/resend",
        invitations_path(&org),
        first["id"].as_str().unwrap()
    );
    let resend = |path: String| {
        app.http
            .post(app.url(&path))
            .bearer_auth(&app.root_token)
            .send()
    };
    let resent = expect_json(resend(path).await.unwrap(), 200).await;
    assert_eq!(resent["id"], first["id"]);
    assert_eq!(resent["role"], "developer");
    assert_ne!(resent["invite_url"], first["invite_url"]);
    let first_expiry: chrono::DateTime<chrono::Utc> =
        first["expires_at"].as_str().unwrap().parse().unwrap();
    let new_expiry: chrono::DateTime<chrono::Utc> =
        resent["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(new_expiry - first_expiry, Duration::days(6));
    assert_error(
        lookup(&app, &token_of(&first["invite_url"])).await,
        404,
        "not_found",
    )
    .await;
    // Past the first link's expiry, the new one still works.
    app.clock.advance(Duration::days(2));
    let invitee = log_in(&app, &invitee.email).await;
    let accepted = expect_json(
        accept(&app, &invitee, &token_of(&resent["invite_url"])).await,
        200,
    )
    .await;
    assert_eq!(accepted["role"], "developer");
    let unknown = format!("{}/{}/resend", invitations_path(&org), uuid::Uuid::now_v7());
    let resp = app
        .http
        .post(app.url(&unknown))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "not_found").await;
}

async fn the_lookup_shows_the_organization_role_and_inviter_without_logging_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let email = new_email();
    let body = invited(&app, &owner, &org, &email, "admin").await;
    let found = expect_json(lookup(&app, &token_of(&body["invite_url"])).await, 200).await;
    assert_eq!(found["organization"]["id"], json!(org));
    assert!(
        found["organization"]["name"]
            .as_str()
            .unwrap()
            .starts_with("Org ")
    );
    assert!(
        found["organization"]["slug"]
            .as_str()
            .unwrap()
            .starts_with("org-")
    );
    assert_eq!(found["email"], json!(email));
    assert_eq!(found["role"], "admin");
    assert_eq!(found["invited_by_email"], json!(owner.email));
    assert_eq!(found["expires_at"], body["expires_at"]);
    assert!(found.get("invite_url").is_none());
}

async fn an_unknown_or_malformed_token_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let unknown = "A".repeat(43);
    for token in [unknown.as_str(), "short", "", "../../etc/passwd"] {
        assert_error(lookup(&app, token).await, 404, "not_found").await;
        assert_error(accept(&app, &person, token).await, 404, "not_found").await;
    }
    let resp = app
        .http
        .post(app.url("/api/v1/invitations/lookup"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 422, "validation_failed").await;
}

async fn an_invitation_expires_after_seven_days(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let invitee = app.person().await;
    let body = invited(&app, &owner, &org, &invitee.email, "viewer").await;
    let token = token_of(&body["invite_url"]);
    app.clock.advance(Duration::days(7) - Duration::seconds(1));
    expect_json(lookup(&app, &token).await, 200).await;
    app.clock.advance(Duration::seconds(1));
    assert_error(lookup(&app, &token).await, 404, "not_found").await;
    let invitee = log_in(&app, &invitee.email).await;
    assert_error(accept(&app, &invitee, &token).await, 404, "not_found").await;
}

async fn the_invitee_accepts_with_a_session_and_joins_with_the_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let invitee = app.person().await;
    let body = invited(&app, &owner, &org, &invitee.email, "developer").await;
    // Not a member yet: the organization is closed to them.
    let resp = invitee
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}")))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let accepted = expect_json(
        accept(&app, &invitee, &token_of(&body["invite_url"])).await,
        200,
    )
    .await;
    assert_eq!(
        accepted,
        json!({"organization_id": org, "role": "developer"})
    );
    // At once, through the caches.
    let resp = invitee
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}")))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    let members = members(&app, &owner, &org).await;
    assert_eq!(
        role_of(&members, &invitee.email).as_deref(),
        Some("developer")
    );
    let listed = expect_json(
        owner
            .client
            .get(app.url(&invitations_path(&org)))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(listed, json!([]));
}

async fn the_email_must_match_case_insensitively(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let invitee = app.person().await;
    let other = app.person().await;
    let body = invited(&app, &owner, &org, &invitee.email.to_uppercase(), "viewer").await;
    let token = token_of(&body["invite_url"]);
    let resp = accept(&app, &other, &token).await;
    assert_error(resp, 403, "forbidden").await;
    // The refusal did not use the invitation up.
    let accepted = expect_json(accept(&app, &invitee, &token).await, 200).await;
    assert_eq!(accepted["role"], "viewer");
}

async fn an_invitation_is_used_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let invitee = app.person().await;
    let body = invited(&app, &owner, &org, &invitee.email, "viewer").await;
    let token = token_of(&body["invite_url"]);
    expect_json(accept(&app, &invitee, &token).await, 200).await;
    assert_error(accept(&app, &invitee, &token).await, 404, "not_found").await;
    assert_error(lookup(&app, &token).await, 404, "not_found").await;
}

async fn accepting_when_already_a_member_is_a_conflict(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let invitee = app.person().await;
    let body = invited(&app, &owner, &org, &invitee.email, "admin").await;
    app.add_member(&owner, &org, &invitee, "viewer").await;
    let resp = accept(&app, &invitee, &token_of(&body["invite_url"])).await;
    assert_error(resp, 409, "conflict").await;
    let members = members(&app, &owner, &org).await;
    assert_eq!(role_of(&members, &invitee.email).as_deref(), Some("viewer"));
}

async fn accepting_needs_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let body = invited(
        &app,
        &owner,
        &org,
        &owner.email.replace("user-", "other-"),
        "viewer",
    )
    .await;
    let token = token_of(&body["invite_url"]);
    let key = app.api_key(&owner, &org, &["admin"]).await;
    let resp = app
        .http
        .post(app.url("/api/v1/invitations/accept"))
        .header("X-API-Key", key["key"].as_str().unwrap())
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = app
        .http
        .post(app.url("/api/v1/invitations/accept"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn signup(app: &TestApp, email: &str, token: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/auth/signup"))
        .json(&json!({"email": email, "password": PASSWORD, "invitation_token": token}))
        .send()
        .await
        .unwrap()
}

async fn log_in(app: &TestApp, email: &str) -> Person {
    let client = app.browser();
    let resp = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let body = expect_json(resp, 200).await;
    Person {
        client,
        id: body["user"]["id"].as_str().unwrap().to_owned(),
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
    }
}

async fn signing_up_with_an_invitation_joins_the_organization_even_when_signup_is_closed(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |s| s.signup = SignupMode::Closed).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let email = new_email();
    let body = invited(&app, &owner, &org, &email, "developer").await;
    // Closed without an invitation.
    let resp = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .json(&json!({"email": new_email(), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = signup(&app, &email.to_uppercase(), &token_of(&body["invite_url"])).await;
    let created = expect_json(resp, 201).await;
    assert_eq!(created["user"]["email"], json!(email));
    assert_eq!(created["user"]["platform_admin"], false);
    let members = members(&app, &owner, &org).await;
    assert_eq!(role_of(&members, &email).as_deref(), Some("developer"));
    let newcomer = log_in(&app, &email).await;
    let resp = newcomer
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    let me = expect_json(resp, 200).await;
    assert_eq!(
        me["memberships"],
        json!([{"organization_id": org, "role": "developer"}])
    );
    // Used up.
    let resp = signup(&app, &new_email(), &token_of(&body["invite_url"])).await;
    assert_error(resp, 404, "not_found").await;
}

async fn signing_up_with_another_emails_invitation_is_forbidden_and_an_unusable_one_not_found(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |s| s.signup = SignupMode::FirstUser).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let email = new_email();
    let body = invited(&app, &owner, &org, &email, "viewer").await;
    let token = token_of(&body["invite_url"]);
    let resp = signup(&app, &new_email(), &token).await;
    assert_error(resp, 403, "forbidden").await;
    let resp = signup(&app, &email, &"Z".repeat(43)).await;
    assert_error(resp, 404, "not_found").await;
    // A weak password is refused and the invitation survives.
    let resp = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .json(&json!({"email": email, "password": "short", "invitation_token": token}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 422, "validation_failed").await;
    app.clock.advance(Duration::days(8));
    assert_error(signup(&app, &email, &token).await, 404, "not_found").await;
    // Under first-user, an invited signup works though users exist, and makes no admin.
    let body = root_invited(&app, &org, &email, "viewer").await;
    let created = expect_json(
        signup(&app, &email, &token_of(&body["invite_url"])).await,
        201,
    )
    .await;
    assert_eq!(created["user"]["platform_admin"], false);
}

async fn invitations_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let invitee = app.person().await;
    let revoked = invited(&app, &owner, &org, &new_email(), "viewer").await;
    let path = format!(
        "{}/{}",
        invitations_path(&org),
        revoked["id"].as_str().unwrap()
    );
    assert_eq!(
        owner
            .client
            .delete(app.url(&path))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let body = invited(&app, &owner, &org, &invitee.email, "viewer").await;
    expect_json(
        accept(&app, &invitee, &token_of(&body["invite_url"])).await,
        200,
    )
    .await;
    let resp = owner
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}/audit-events")))
        .send()
        .await
        .unwrap();
    let events = expect_json(resp, 200).await;
    let invitation_events: Vec<(String, String, String)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("invitation."))
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor_user_id"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let target = |body: &Value| format!("invitation:{}", body["id"].as_str().unwrap());
    assert_eq!(
        invitation_events,
        [
            (
                "invitation.accepted".into(),
                invitee.id.clone(),
                target(&body)
            ),
            ("invitation.created".into(), owner.id.clone(), target(&body)),
            (
                "invitation.revoked".into(),
                owner.id.clone(),
                target(&revoked)
            ),
            (
                "invitation.created".into(),
                owner.id.clone(),
                target(&revoked)
            ),
        ]
    );
    assert!(!events.to_string().contains(&token_of(&body["invite_url"])));
}

async fn invitation_lookups_are_rate_limited_per_address(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login_rate_limit = 3).await;
    for _ in 0..3 {
        assert_error(lookup(&app, &"A".repeat(43)).await, 404, "not_found").await;
    }
    let limited = lookup(&app, &"A".repeat(43)).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;
}

async fn invite_with_grants(
    app: &TestApp,
    by: &Person,
    org: &str,
    email: &str,
    grants: Value,
) -> reqwest::Response {
    by.client
        .post(app.url(&invitations_path(org)))
        .json(&json!({"email": email, "role": "guest", "grants": grants}))
        .send()
        .await
        .unwrap()
}

async fn an_invited_guest_joins_with_the_invitations_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let email = new_email();
    let grants = json!([{"resource": "projects/web", "role": "developer"}]);
    let resp = invite_with_grants(&app, &owner, &org, &email, grants.clone()).await;
    let body = expect_json(resp, 201).await;
    assert_eq!(body["role"], "guest");
    assert_eq!(body["grants"], grants);
    let listed = owner
        .client
        .get(app.url(&invitations_path(&org)))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(listed, 200).await[0]["grants"], grants);

    let resp = signup(&app, &email, &token_of(&body["invite_url"])).await;
    expect_json(resp, 201).await;
    let members = members(&app, &owner, &org).await;
    let joined = members.iter().find(|m| m["email"] == email).unwrap();
    assert_eq!(joined["role"], "guest");
    assert_eq!(joined["grants"][0]["resource"], "projects/web");
    assert_eq!(joined["grants"][0]["role"], "developer");

    // The guest deploys at the project and sees nothing organization-wide.
    let guest = log_in(&app, &email).await;
    let check = |query: &str| {
        guest
            .client
            .get(app.url(&format!("/api/v1/authorize?organization_id={org}&{query}")))
            .send()
    };
    let at_web = check("permission=deploy&resource=projects/web/services/api")
        .await
        .unwrap();
    assert_eq!(expect_json(at_web, 200).await["role"], "developer");
    let wide = check("permission=read").await.unwrap();
    assert_error(wide, 403, "forbidden").await;
}

async fn an_invitation_with_a_bad_grant_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    for grants in [
        json!([{"resource": "Projects/Web", "role": "viewer"}]),
        json!([{"resource": "projects/web", "role": "owner"}]),
        json!([{"resource": "projects/web", "role": "guest"}]),
    ] {
        let resp = invite_with_grants(&app, &owner, &org, &new_email(), grants).await;
        assert_error(resp, 422, "validation_failed").await;
    }
}
