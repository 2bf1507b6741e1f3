//! Two servers on one PostgreSQL database: no sticky routing, and a revocation or demotion on
//! one is honoured by the other within a second (LISTEN/NOTIFY, not the cache TTL).
//! SQLite is single-node, so these run on PostgreSQL only.

use portcullis_tests::*;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

/// Polls `authorize` on `app` with `key` until it answers `want`; returns how long that took.
async fn wait_for_status(app: &TestApp, key: &str, permission: &str, want: StatusCode) -> Duration {
    let start = Instant::now();
    loop {
        let status = app
            .http
            .get(app.url(&format!("/api/v1/authorize?permission={permission}")))
            .header("X-API-Key", key)
            .send()
            .await
            .expect("authorize")
            .status();
        if status == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "still {status} after 1 s, expected {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn authorize(app: &TestApp, key: &str, permission: &str) -> StatusCode {
    app.http
        .get(app.url(&format!("/api/v1/authorize?permission={permission}")))
        .header("X-API-Key", key)
        .send()
        .await
        .expect("authorize")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn a_key_revoked_on_one_replica_is_refused_by_the_other_within_a_second() {
    let first = spawn_app(Backend::Postgres).await;
    let second = first.replica().await;
    let owner = first.person().await;
    let org = first.organization(&owner).await;
    let key = first.api_key(&owner, &org, &["read"]).await;
    let secret = key["key"].as_str().unwrap();
    // Both replicas verify it, so both have it cached.
    assert_eq!(authorize(&first, secret, "read").await, StatusCode::OK);
    assert_eq!(authorize(&second, secret, "read").await, StatusCode::OK);

    let resp = owner
        .client
        .delete(first.url(&format!(
            "/api/v1/organizations/{org}/api-keys/{}",
            key["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    wait_for_status(&second, secret, "read", StatusCode::UNAUTHORIZED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn demoting_a_keys_user_on_one_replica_lowers_the_key_on_the_other_within_a_second() {
    let first = spawn_app(Backend::Postgres).await;
    let second = first.replica().await;
    let owner = first.person().await;
    let developer = first.person().await;
    let org = first.organization(&owner).await;
    first
        .add_member(&owner, &org, &developer, "developer")
        .await;
    let key = first.api_key(&developer, &org, &["deploy", "read"]).await;
    let secret = key["key"].as_str().unwrap();
    assert_eq!(authorize(&second, secret, "deploy").await, StatusCode::OK);

    let resp = owner
        .client
        .patch(first.url(&format!(
            "/api/v1/organizations/{org}/members/{}",
            developer.id
        )))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    wait_for_status(&second, secret, "deploy", StatusCode::FORBIDDEN).await;
    assert_eq!(authorize(&second, secret, "read").await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn sessions_and_keys_work_on_either_replica_without_sticky_routing() {
    let first = spawn_app(Backend::Postgres).await;
    let second = first.replica().await;
    let owner = first.person().await;
    let org = first.organization(&owner).await;

    // The session cookie from the first replica's login is honoured by the second.
    let me = owner
        .client
        .get(second.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    let me = expect_json(me, 200).await;
    assert_eq!(me["user"]["id"], owner.id.as_str());

    // A key created on the second replica works on the first, and the reverse.
    let created_on_second = owner
        .client
        .post(second.url(&format!("/api/v1/organizations/{org}/api-keys")))
        .header("Origin", &second.address)
        .json(&json!({"name": "second", "scopes": ["read"]}))
        .send()
        .await
        .unwrap();
    let created_on_second = expect_json(created_on_second, 201).await;
    assert_eq!(
        authorize(&first, created_on_second["key"].as_str().unwrap(), "read").await,
        StatusCode::OK
    );
    let created_on_first = first.api_key(&owner, &org, &["read"]).await;
    assert_eq!(
        authorize(&second, created_on_first["key"].as_str().unwrap(), "read").await,
        StatusCode::OK
    );

    // A session ended on the second replica is refused by the first within a second.
    let login = first
        .http
        .post(first.url("/api/v1/auth/login"))
        .json(&json!({"email": owner.email, "password": owner.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me_on_first = || {
        first
            .http
            .get(first.url("/api/v1/me"))
            .header("Cookie", &cookie)
            .send()
    };
    assert_eq!(me_on_first().await.unwrap().status(), StatusCode::OK);
    let logout = second
        .http
        .post(second.url("/api/v1/auth/logout"))
        .header("Cookie", &cookie)
        .header("Origin", &second.address)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let start = Instant::now();
    while me_on_first().await.unwrap().status() != StatusCode::UNAUTHORIZED {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the first replica still honours the ended session"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn a_grant_removed_on_one_replica_ends_the_access_on_the_other_within_a_second() {
    let first = spawn_app(Backend::Postgres).await;
    let second = first.replica().await;
    let owner = first.person().await;
    let guest = first.person().await;
    let org = first.organization(&owner).await;
    first.add_member(&owner, &org, &guest, "guest").await;
    let grants = format!("/api/v1/organizations/{org}/members/{}/grants", guest.id);
    let resp = owner
        .client
        .put(first.url(&grants))
        .json(&json!({"resource": "projects/web", "role": "developer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // The guest's session (its cookie works on either replica) checks on the second.
    let deploy_at_web = || {
        guest
            .client
            .get(second.url("/api/v1/authorize"))
            .query(&[
                ("permission", "deploy"),
                ("organization_id", org.as_str()),
                ("resource", "projects/web/environments/prod"),
            ])
            .send()
    };
    assert_eq!(deploy_at_web().await.unwrap().status(), StatusCode::OK);

    let resp = owner
        .client
        .delete(first.url(&grants))
        .query(&[("resource", "projects/web")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let start = Instant::now();
    loop {
        let status = deploy_at_web().await.unwrap().status();
        if status == StatusCode::FORBIDDEN {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the second replica still honours the removed grant: {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn lowering_a_service_accounts_role_on_one_replica_lowers_its_key_on_the_other_within_a_second()
 {
    let first = spawn_app(Backend::Postgres).await;
    let second = first.replica().await;
    let owner = first.person().await;
    let org = first.organization(&owner).await;
    let sa_path = format!("/api/v1/organizations/{org}/service-accounts");
    let resp = owner
        .client
        .post(first.url(&sa_path))
        .json(&json!({"name": "ci", "role": "developer"}))
        .send()
        .await
        .unwrap();
    let sa = expect_json(resp, 201).await;
    let sa_path = format!("{sa_path}/{}", sa["id"].as_str().unwrap());
    let resp = owner
        .client
        .post(first.url(&format!("{sa_path}/api-keys")))
        .json(&json!({"name": "ci", "scopes": ["deploy", "read"]}))
        .send()
        .await
        .unwrap();
    let key = expect_json(resp, 201).await;
    let secret = key["key"].as_str().unwrap();
    assert_eq!(authorize(&second, secret, "deploy").await, StatusCode::OK);

    let resp = owner
        .client
        .patch(first.url(&sa_path))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    wait_for_status(&second, secret, "deploy", StatusCode::FORBIDDEN).await;
    assert_eq!(authorize(&second, secret, "read").await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn a_grant_set_on_one_replica_gives_access_on_the_other_within_a_second() {
    let first = spawn_app(Backend::Postgres).await;
    let second = first.replica().await;
    let owner = first.person().await;
    let viewer = first.person().await;
    let org = first.organization(&owner).await;
    first.add_member(&owner, &org, &viewer, "viewer").await;
    let key = first.api_key(&viewer, &org, &["read"]).await;
    let secret = key["key"].as_str().unwrap();
    let role_at_web = || async {
        let resp = second
            .http
            .get(second.url("/api/v1/authorize"))
            .query(&[("permission", "read"), ("resource", "projects/web")])
            .header("X-API-Key", secret)
            .send()
            .await
            .unwrap();
        expect_json(resp, 200).await["role"].clone()
    };
    // The second replica has seen the member without the grant.
    assert_eq!(role_at_web().await, "viewer");

    let resp = owner
        .client
        .put(first.url(&format!(
            "/api/v1/organizations/{org}/members/{}/grants",
            viewer.id
        )))
        .json(&json!({"resource": "projects/web", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let start = Instant::now();
    while role_at_web().await != "admin" {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the second replica does not see the new grant after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn a_service_account_deleted_on_one_replica_has_its_key_refused_on_the_other_within_a_second()
{
    let first = spawn_app(Backend::Postgres).await;
    let second = first.replica().await;
    let owner = first.person().await;
    let org = first.organization(&owner).await;
    let resp = owner
        .client
        .post(first.url(&format!("/api/v1/organizations/{org}/service-accounts")))
        .json(&json!({"name": "ci", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let sa = expect_json(resp, 201).await;
    let sa_path = format!(
        "/api/v1/organizations/{org}/service-accounts/{}",
        sa["id"].as_str().unwrap()
    );
    let resp = owner
        .client
        .post(first.url(&format!("{sa_path}/api-keys")))
        .json(&json!({"name": "ci", "scopes": ["read"]}))
        .send()
        .await
        .unwrap();
    let key = expect_json(resp, 201).await;
    let secret = key["key"].as_str().unwrap();
    assert_eq!(authorize(&second, secret, "read").await, StatusCode::OK);

    let resp = owner
        .client
        .delete(first.url(&sa_path))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    wait_for_status(&second, secret, "read", StatusCode::UNAUTHORIZED).await;
}

/// Polls until `app` hears other replicas' invalidations (`want`) or not.
async fn wait_for_listening(app: &TestApp, want: bool) {
    let start = Instant::now();
    while app.listening().await != want {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the invalidation listener is still {} after 10 s",
            if want { "down" } else { "up" }
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn revoke(app: &TestApp, owner: &Person, org: &str, key: &serde_json::Value) {
    let resp = owner
        .client
        .delete(app.url(&format!(
            "/api/v1/organizations/{org}/api-keys/{}",
            key["id"].as_str().unwrap()
        )))
        .header("Origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn after_postgresql_goes_away_and_comes_back_a_revocation_reaches_the_other_replicas_within_a_second()
 {
    let (first, proxy) = spawn_app_behind_proxy().await;
    let second = first.replica().await;
    let third = first.replica().await;
    let replicas = [&first, &second, &third];
    let owner = first.person().await;
    let org = first.organization(&owner).await;

    proxy.cut().await;
    for app in replicas {
        wait_for_listening(app, false).await;
    }
    proxy.restore().await;
    for app in replicas {
        wait_for_listening(app, true).await;
    }

    let key = first.api_key(&owner, &org, &["read"]).await;
    let secret = key["key"].as_str().unwrap();
    for app in replicas {
        assert_eq!(authorize(app, secret, "read").await, StatusCode::OK);
    }
    revoke(&first, &owner, &org, &key).await;
    wait_for_status(&second, secret, "read", StatusCode::UNAUTHORIZED).await;
    wait_for_status(&third, secret, "read", StatusCode::UNAUTHORIZED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn a_replica_cut_off_from_postgresql_forgets_its_caches_once_it_listens_again() {
    let first = spawn_app(Backend::Postgres).await;
    let proxy = DatabaseProxy::start(first.database_url()).await;
    let second = first
        .replica_with(|s| s.database_url = proxy.url.clone())
        .await;
    let owner = first.person().await;
    let org = first.organization(&owner).await;
    let key = first.api_key(&owner, &org, &["read"]).await;
    let secret = key["key"].as_str().unwrap();
    assert_eq!(authorize(&second, secret, "read").await, StatusCode::OK);

    proxy.cut().await;
    wait_for_listening(&second, false).await;
    // The second replica misses this notification...
    revoke(&first, &owner, &org, &key).await;
    // ...and while cut off it honours what it had verified: the price of serving through an
    // outage (bounded by the cache TTL).
    assert_eq!(authorize(&second, secret, "read").await, StatusCode::OK);

    proxy.restore().await;
    wait_for_listening(&second, true).await;
    assert_eq!(
        authorize(&second, secret, "read").await,
        StatusCode::UNAUTHORIZED
    );
}
