//! Caches that cannot go stale. Each race is staged, not hoped for: the test hook
//! `state.read_pause` holds a request's cache read after it has read the database and before it
//! caches the result; the test revokes in between, releases the read, and the next request must
//! see the revocation.

use portcullis_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

backend_tests!(
    a_key_read_that_raced_its_revocation_is_not_cached,
    a_role_read_that_raced_a_removal_is_not_cached,
    a_session_read_that_raced_its_end_is_not_cached,
    a_session_ended_behind_a_replicas_cache_cannot_be_refreshed,
);

/// Sends `request` while `cache`'s next read is held; runs `revoke` once it is held, then
/// releases it. Returns the held request's status.
async fn race<F>(
    app: &TestApp,
    cache: &'static str,
    request: reqwest::RequestBuilder,
    revoke: F,
) -> u16
where
    F: std::future::Future<Output = ()>,
{
    let (reached, release) = app.state.read_pause.arm(cache);
    let held = tokio::spawn(request.send());
    tokio::time::timeout(Duration::from_secs(10), reached)
        .await
        .expect("the read reached the pause")
        .unwrap();
    revoke.await;
    release.send(()).unwrap();
    held.await.unwrap().unwrap().status().as_u16()
}

async fn a_key_read_that_raced_its_revocation_is_not_cached(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let key = app.api_key(&owner, &org, &["read"]).await;
    let secret = key["key"].as_str().unwrap().to_owned();
    let me = || {
        app.http
            .get(app.url("/api/v1/me"))
            .header("x-api-key", &secret)
    };

    let revoke = async {
        let resp = owner
            .client
            .delete(app.url(&format!(
                "/api/v1/organizations/{org}/api-keys/{}",
                key["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "revoke: {}", resp.status());
    };
    // Read before the revocation: it may answer as it found things.
    assert_eq!(race(&app, "api_key", me(), revoke).await, 200);
    let resp = me().send().await.unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn a_role_read_that_raced_a_removal_is_not_cached(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let member = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "viewer").await;
    let get = || {
        member
            .client
            .get(app.url(&format!("/api/v1/organizations/{org}")))
    };

    let remove = async {
        let resp = owner
            .client
            .delete(app.url(&format!(
                "/api/v1/organizations/{org}/members/{}",
                member.id
            )))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "remove: {}", resp.status());
    };
    assert_eq!(race(&app, "role", get(), remove).await, 200);
    let resp = get().send().await.unwrap();
    assert!(
        [403, 404].contains(&resp.status().as_u16()),
        "a removed member still reads the organization: {}",
        resp.status()
    );
}

async fn login(app: &TestApp, person: &Person) -> (reqwest::Client, Value) {
    let browser = app.browser();
    let resp = browser
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": person.email, "password": person.password}))
        .send()
        .await
        .unwrap();
    let body = expect_json(resp, 200).await;
    (browser, body["session"]["id"].clone())
}

async fn a_session_read_that_raced_its_end_is_not_cached(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    // A second session, never used yet, so its first use reads the database.
    let (second, second_id) = login(&app, &person).await;
    let session = || second.get(app.url("/api/v1/auth/session"));

    let end = async {
        let resp = person
            .client
            .delete(app.url(&format!(
                "/api/v1/auth/sessions/{}",
                second_id.as_str().unwrap()
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
    };
    assert_eq!(race(&app, "session", session(), end).await, 200);
    let resp = session().send().await.unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

/// Logs in without a cookie store; returns the `Cookie` header value.
async fn a_session_ended_behind_a_replicas_cache_cannot_be_refreshed(backend: Backend) {
    let app = spawn_app(backend).await;
    let replica = app.replica().await;
    let person = app.person().await;
    let cookie = app.session_cookie(&person).await;
    let on_replica = || {
        replica
            .http
            .get(replica.url("/api/v1/auth/session"))
            .header("cookie", &cookie)
    };
    // The replica caches the session.
    expect_json(on_replica().send().await.unwrap(), 200).await;
    // Logout on the first server. On SQLite no notification reaches the replica, so its cache
    // still holds the session; on PostgreSQL it may or may not have arrived yet.
    let resp = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    // A day later the replica refreshes the session on use; the refresh finds no row: 401.
    replica.clock.advance(chrono::Duration::hours(25));
    let resp = on_replica().send().await.unwrap();
    assert!(resp.headers().get("set-cookie").is_none());
    assert_error(resp, 401, "unauthenticated").await;
    // And it stays gone.
    let resp = on_replica().send().await.unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}
