//! The sweeper: expired sessions, invitations and reset tokens, and keys 30 days past their
//! expiry, are deleted in the background (counted in `/metrics`); live rows stay.

use crate::invitations::invitations_path;
use chrono::Duration;
use portcullis_domain::Clock;
use portcullis_tests::*;
use serde_json::json;

backend_tests!(rows_past_all_use_are_swept_and_live_ones_kept);

/// `portcullis_swept_rows_total{table}` now.
async fn swept(app: &TestApp, table: &str) -> u64 {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("portcullis_swept_rows_total{{table=\"{table}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// Waits up to 15 s (the sweeper runs every second here) for `table` to reach `rows`.
async fn wait_for_swept(app: &TestApp, table: &str, rows: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while swept(app, table).await < rows {
        assert!(
            std::time::Instant::now() < deadline,
            "the sweeper never deleted {rows} {table} rows"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn rows_past_all_use_are_swept_and_live_ones_kept(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.sweep_interval = 1).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let keeper = app.api_key(&owner, &org, &["admin"]).await;
    let keeper = keeper["key"].as_str().unwrap().to_owned();
    let resp = owner
        .client
        .post(app.url(&format!("/api/v1/organizations/{org}/api-keys")))
        .json(&json!({
            "name": "short-lived",
            "scopes": ["read"],
            "expires_at": (app.clock.now() + Duration::days(1)).to_rfc3339(),
        }))
        .send()
        .await
        .unwrap();
    let short = expect_json(resp, 201).await;
    let short_path = format!(
        "/api/v1/organizations/{org}/api-keys/{}",
        short["id"].as_str().unwrap()
    );
    let resp = owner
        .client
        .post(app.url(&invitations_path(&org)))
        .json(&json!({"email": "later@example.com", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await;
    let resp = app
        .http
        .post(app.url(&format!("/api/v1/admin/users/{}/password-reset", owner.id)))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await;
    let get_short = || {
        app.http
            .get(app.url(&short_path))
            .header("X-API-Key", &keeper)
            .send()
    };

    // Eight days on: the session (3 days), the invitation (7 days) and the reset token (1 hour)
    // are gone; the key expired a week ago and is still listed.
    app.clock.advance(Duration::days(8));
    for table in ["sessions", "invitations", "password_resets"] {
        wait_for_swept(&app, table, 1).await;
    }
    expect_json(get_short().await.unwrap(), 200).await;
    assert_eq!(swept(&app, "api_keys").await, 0);

    // More than thirty days after its expiry the key is deleted; the key without expiry stays.
    app.clock.advance(Duration::days(24));
    wait_for_swept(&app, "api_keys", 1).await;
    assert_error(get_short().await.unwrap(), 404, "not_found").await;
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("X-API-Key", &keeper)
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
}
