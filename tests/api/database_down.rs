//! The database goes away and comes back: PostgreSQL behind a `DatabaseProxy` that the test cuts
//! (open connections dropped, new ones refused) and restores. Readiness says 503 at once, writes
//! and uncached reads answer 503 `unavailable` with `Retry-After` within seconds, credentials
//! already verified keep working, and everything recovers without a restart.
//!
//! A SQLite file is opened by the process itself and cannot go away as a server does; its
//! nearest thing to not answering is its write lock held elsewhere past the busy timeout (5 s),
//! tested last.

use portcullis_tests::*;
use reqwest::StatusCode;
use sea_orm::{
    ConnectionTrait, Database, DbBackend, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use serde_json::json;
use std::time::{Duration, Instant};

/// The loose bound on a request while the database is away: the pool waits 3 s for a connection.
const A_FEW_SECONDS: Duration = Duration::from_secs(5);

async fn authorize(app: &TestApp, key: &str) -> reqwest::Response {
    app.http
        .get(app.url("/api/v1/authorize?permission=read"))
        .header("X-API-Key", key)
        .send()
        .await
        .expect("authorize")
}

/// 503 `unavailable` with a `Retry-After`.
async fn assert_unavailable(resp: reqwest::Response) {
    let retry_after = resp.headers().get("retry-after").cloned();
    assert_error(resp, 503, "unavailable").await;
    let retry_after: u64 = retry_after
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
}

/// Polls `/readyz` until it answers 200 (the database is back and the pool reconnected).
async fn wait_until_ready(app: &TestApp) {
    let start = Instant::now();
    loop {
        let status = app
            .http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status();
        if status == StatusCode::OK {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not ready 10 s after the database came back: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn while_the_database_is_away_cached_credentials_work_and_the_rest_answers_503() {
    let (app, proxy) = spawn_app_behind_proxy().await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let used = app.api_key(&owner, &org, &["read"]).await;
    let used = used["key"].as_str().unwrap();
    let unseen = app.api_key(&owner, &org, &["read"]).await;
    let unseen = unseen["key"].as_str().unwrap();
    let by_session = || {
        owner
            .client
            .get(app.url("/api/v1/authorize"))
            .query(&[("permission", "read"), ("organization_id", org.as_str())])
            .send()
    };
    // Both credentials are verified once, so cached.
    assert_eq!(authorize(&app, used).await.status(), StatusCode::OK);
    assert_eq!(by_session().await.unwrap().status(), StatusCode::OK);

    proxy.cut().await;

    let start = Instant::now();
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "/readyz took {:?}",
        start.elapsed()
    );
    assert_unavailable(ready).await;

    assert_eq!(authorize(&app, used).await.status(), StatusCode::OK);
    assert_eq!(by_session().await.unwrap().status(), StatusCode::OK);

    // A key never verified cannot be looked up: 503, not 401.
    let start = Instant::now();
    let resp = authorize(&app, unseen).await;
    assert!(
        start.elapsed() < A_FEW_SECONDS,
        "took {:?}",
        start.elapsed()
    );
    assert_unavailable(resp).await;

    let start = Instant::now();
    let resp = owner
        .client
        .post(app.url(&format!("/api/v1/organizations/{org}/api-keys")))
        .json(&json!({"name": "during the outage", "scopes": ["read"]}))
        .send()
        .await
        .unwrap();
    assert!(
        start.elapsed() < A_FEW_SECONDS,
        "took {:?}",
        start.elapsed()
    );
    assert_unavailable(resp).await;

    proxy.restore().await;
    wait_until_ready(&app).await;
    assert_eq!(authorize(&app, unseen).await.status(), StatusCode::OK);
    let created = app.api_key(&owner, &org, &["read"]).await;
    let created = created["key"].as_str().unwrap();
    assert_eq!(authorize(&app, created).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn a_write_whose_connection_breaks_mid_statement_answers_503() {
    let (app, proxy) = spawn_app_behind_proxy().await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;

    // The test holds the organization's row, so the rename below waits inside its UPDATE.
    let direct = Database::connect(proxy.direct_url.as_str()).await.unwrap();
    let lock = direct.begin().await.unwrap();
    lock.execute_unprepared(&format!(
        "SELECT 1 FROM organizations WHERE id = '{org}' FOR UPDATE"
    ))
    .await
    .unwrap();
    let rename = tokio::spawn(
        owner
            .client
            .patch(app.url(&format!("/api/v1/organizations/{org}")))
            .json(&json!({"name": "Renamed"}))
            .send(),
    );
    let waiting_on_lock = Statement::from_string(
        DbBackend::Postgres,
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    let start = Instant::now();
    loop {
        let row = direct
            .query_one_raw(waiting_on_lock.clone())
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() > 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the rename never waited on the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    proxy.cut().await;
    assert_unavailable(rename.await.unwrap().unwrap()).await;

    lock.rollback().await.unwrap();
    proxy.restore().await;
    wait_until_ready(&app).await;
    let resp = owner
        .client
        .patch(app.url(&format!("/api/v1/organizations/{org}")))
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["name"], "Renamed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waiting_past_the_busy_timeout_on_a_sqlite_file_locked_elsewhere_answers_503() {
    let app = spawn_app(Backend::Sqlite).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let rename = || {
        owner
            .client
            .patch(app.url(&format!("/api/v1/organizations/{org}")))
            .json(&json!({"name": "Renamed"}))
            .send()
    };

    // Another writer (a backup, a sqlite3 shell) holds the file's write lock.
    let other = Database::connect(app.database_url()).await.unwrap();
    let lock = other
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await
        .unwrap();
    assert_unavailable(rename().await.unwrap()).await;

    lock.rollback().await.unwrap();
    assert_eq!(
        expect_json(rename().await.unwrap(), 200).await["name"],
        "Renamed"
    );
}
