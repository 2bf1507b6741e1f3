//! The client address (rate limits, session `ip`, audit `ip`) is the TCP peer, unless the peer
//! is in `PORTCULLIS_TRUSTED_PROXIES`: then the right-most `X-Forwarded-For` entry that is not a
//! proxy. Tests reach the server from 127.0.0.1, which plays the proxy.

use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    behind_a_trusted_proxy_sessions_and_audit_events_record_the_forwarded_client,
    forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored,
    behind_a_trusted_proxy_each_forwarded_client_has_its_own_login_limit,
    one_ipv6_64_shares_one_login_limit,
);

async fn login(app: &TestApp, forwarded_for: &str, email: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": email, "password": "wrong password"}))
        .send()
        .await
        .unwrap()
}

async fn behind_a_trusted_proxy_sessions_and_audit_events_record_the_forwarded_client(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.0/8".into(), "10.0.0.0/8".into()];
    })
    .await;
    let person = app.person().await;
    let browser = app.browser();
    // The client wrote "6.6.6.6" itself; the outer proxy appended the real client; an inner
    // proxy (10.0.0.2) appended the outer one.
    let forwarded = "6.6.6.6, 198.51.100.7, 10.0.0.2";
    let resp = browser
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"email": person.email, "password": person.password}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    let resp = browser
        .get(app.url("/api/v1/auth/sessions"))
        .send()
        .await
        .unwrap();
    let sessions = expect_json(resp, 200).await;
    let current: Vec<&Value> = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["current"] == true)
        .collect();
    assert_eq!(current[0]["ip"], "198.51.100.7", "{sessions}");

    let resp = browser
        .post(app.url("/api/v1/organizations"))
        .header("x-forwarded-for", "203.0.113.5")
        .json(&json!({"name": "Proxied", "slug": "proxied"}))
        .send()
        .await
        .unwrap();
    let org = expect_json(resp, 201).await;
    let resp = browser
        .get(app.url(&format!(
            "/api/v1/organizations/{}/audit-events",
            org["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    let events = expect_json(resp, 200).await;
    let events = events.as_array().unwrap();
    assert!(!events.is_empty());
    for event in events {
        assert_eq!(event["ip"], "203.0.113.5", "{event}");
    }
}

async fn forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["10.0.0.0/8".into()];
        s.login_rate_limit = 3;
    })
    .await;
    // The person's own login is the first of three attempts from 127.0.0.1.
    let person = app.person().await;
    let resp = person
        .client
        .get(app.url("/api/v1/auth/sessions"))
        .header("x-forwarded-for", "198.51.100.50")
        .send()
        .await
        .unwrap();
    let sessions = expect_json(resp, 200).await;
    assert_eq!(sessions[0]["ip"], "127.0.0.1", "{sessions}");
    // Each request claims another address; the peer is what counts.
    for n in 0..2 {
        let resp = login(&app, &format!("198.51.100.{n}"), "nobody@example.com").await;
        assert_error(resp, 401, "unauthenticated").await;
    }
    let resp = login(&app, "198.51.100.99", "nobody@example.com").await;
    assert_error(resp, 429, "rate_limited").await;
}

async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_login_limit(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.login_rate_limit = 2;
    })
    .await;
    for _ in 0..2 {
        let resp = login(&app, "198.51.100.1", "one@example.com").await;
        assert_error(resp, 401, "unauthenticated").await;
    }
    let resp = login(&app, "198.51.100.1", "one@example.com").await;
    assert_error(resp, 429, "rate_limited").await;
    // Another client behind the same proxy is untouched.
    let resp = login(&app, "198.51.100.2", "two@example.com").await;
    assert_error(resp, 401, "unauthenticated").await;
}

async fn one_ipv6_64_shares_one_login_limit(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.login_rate_limit = 2;
    })
    .await;
    for address in ["2001:db8:0:1::1", "2001:db8:0:1:ffff::2"] {
        let resp = login(&app, address, "one@example.com").await;
        assert_error(resp, 401, "unauthenticated").await;
    }
    // A third address in the same /64 is the same subscriber.
    let resp = login(&app, "2001:db8:0:1:abcd::3", "one@example.com").await;
    assert_error(resp, 429, "rate_limited").await;
    let resp = login(&app, "2001:db8:0:2::1", "two@example.com").await;
    assert_error(resp, 401, "unauthenticated").await;
}
