//! Password reset (contract section 10): the anonymous request, the platform admin's link, and
//! confirming with the link's token.

use crate::invitations::token_of;
use chrono::Duration;
use portcullis_domain::Clock as _;
use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    a_reset_request_is_accepted_whether_or_not_the_account_exists,
    a_reset_link_sets_the_password_and_ends_every_session,
    a_reset_link_works_once,
    a_reset_link_expires_after_an_hour,
    a_newer_reset_link_replaces_older_ones,
    a_weak_password_is_refused_and_the_link_still_works,
    a_disabled_users_reset_link_is_refused,
    an_unknown_or_malformed_reset_token_is_not_found,
    only_a_platform_admin_creates_reset_links,
    reset_requests_are_rate_limited_per_address,
);

/// The platform admin's reset link for `user_id`: the 201 body.
pub async fn reset_link(app: &TestApp, user_id: &str) -> Value {
    let resp = app
        .http
        .post(app.url(&format!("/api/v1/admin/users/{user_id}/password-reset")))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await
}

pub async fn confirm(app: &TestApp, token: &str, new_password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/auth/password-reset/confirm"))
        .json(&json!({"token": token, "new_password": new_password}))
        .send()
        .await
        .unwrap()
}

pub async fn request_reset(app: &TestApp, email: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/auth/password-reset"))
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap()
}

pub async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn a_reset_request_is_accepted_whether_or_not_the_account_exists(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    for email in [person.email.as_str(), "nobody@example.com"] {
        let resp = request_reset(&app, email).await;
        assert_eq!(resp.status(), 202);
        assert_eq!(resp.text().await.unwrap(), "");
    }
    let resp = request_reset(&app, "not an email").await;
    assert_error(resp, 422, "validation_failed").await;
    // Without SMTP nothing is made: the password still works.
    assert_eq!(login_status(&app, &person.email, PASSWORD).await, 200);
}

async fn a_reset_link_sets_the_password_and_ends_every_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let second = app.browser();
    let resp = second
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": person.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    let link = reset_link(&app, &person.id).await;
    let url = link["reset_url"].as_str().unwrap();
    let prefix = format!("{}/console/password-reset?token=", app.address);
    assert!(url.starts_with(&prefix), "{url}");
    let expires: chrono::DateTime<chrono::Utc> =
        link["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires, app.clock.now() + Duration::hours(1));
    let resp = confirm(&app, &token_of(&link["reset_url"]), NEW_PASSWORD).await;
    assert_eq!(resp.status(), 204);
    for client in [&person.client, &second] {
        let resp = client
            .get(app.url("/api/v1/auth/session"))
            .send()
            .await
            .unwrap();
        assert_error(resp, 401, "unauthenticated").await;
    }
    assert_eq!(login_status(&app, &person.email, PASSWORD).await, 401);
    assert_eq!(login_status(&app, &person.email, NEW_PASSWORD).await, 200);
}

async fn a_reset_link_works_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let token = token_of(&reset_link(&app, &person.id).await["reset_url"]);
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status(), 204);
    let again = confirm(&app, &token, "yet another passphrase").await;
    assert_error(again, 404, "not_found").await;
    assert_eq!(login_status(&app, &person.email, NEW_PASSWORD).await, 200);
}

async fn a_reset_link_expires_after_an_hour(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let token = token_of(&reset_link(&app, &person.id).await["reset_url"]);
    app.clock.advance(Duration::hours(1));
    assert_error(confirm(&app, &token, NEW_PASSWORD).await, 404, "not_found").await;
    let token = token_of(&reset_link(&app, &person.id).await["reset_url"]);
    app.clock.advance(Duration::minutes(59));
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status(), 204);
}

async fn a_newer_reset_link_replaces_older_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let older = token_of(&reset_link(&app, &person.id).await["reset_url"]);
    let newer = token_of(&reset_link(&app, &person.id).await["reset_url"]);
    assert_ne!(older, newer);
    assert_error(confirm(&app, &older, NEW_PASSWORD).await, 404, "not_found").await;
    assert_eq!(confirm(&app, &newer, NEW_PASSWORD).await.status(), 204);
}

async fn a_weak_password_is_refused_and_the_link_still_works(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let token = token_of(&reset_link(&app, &person.id).await["reset_url"]);
    assert_error(
        confirm(&app, &token, "short").await,
        422,
        "validation_failed",
    )
    .await;
    let same_as_email = confirm(&app, &token, &person.email).await;
    assert_error(same_as_email, 422, "validation_failed").await;
    assert_eq!(login_status(&app, &person.email, PASSWORD).await, 200);
    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.status(), 204);
}

async fn a_disabled_users_reset_link_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let token = token_of(&reset_link(&app, &person.id).await["reset_url"]);
    let resp = app
        .http
        .patch(app.url(&format!("/api/v1/admin/users/{}", person.id)))
        .bearer_auth(&app.root_token)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    assert_error(confirm(&app, &token, NEW_PASSWORD).await, 404, "not_found").await;
}

async fn an_unknown_or_malformed_reset_token_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    for token in ["A".repeat(43), "short".into(), String::new()] {
        assert_error(confirm(&app, &token, NEW_PASSWORD).await, 404, "not_found").await;
    }
}

async fn only_a_platform_admin_creates_reset_links(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let other = app.person().await;
    let resp = person
        .client
        .post(app.url(&format!("/api/v1/admin/users/{}/password-reset", other.id)))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = app
        .http
        .post(app.url(&format!(
            "/api/v1/admin/users/{}/password-reset",
            uuid::Uuid::now_v7()
        )))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "not_found").await;
}

async fn reset_requests_are_rate_limited_per_address(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login_rate_limit = 3).await;
    for _ in 0..3 {
        assert_eq!(
            request_reset(&app, "someone@example.com").await.status(),
            202
        );
    }
    let limited = request_reset(&app, "someone@example.com").await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;
}
