//! Abuse limits, each a 429 with `Retry-After` counted in `/metrics`: password attempts per
//! client address and per email, password-reset requests per email, failed logins per email,
//! failed authentications per client address, password changes per user. 0 disables a limit.

use portcullis_tests::*;
use serde_json::json;

backend_tests!(
    login_attempts_beyond_the_limit_get_429_with_retry_after,
    failed_logins_for_one_email_are_limited_whatever_the_address,
    login_attempts_for_one_email_are_limited_whatever_the_address,
    password_reset_requests_for_one_email_are_limited_whatever_the_address,
    a_flood_of_junk_credentials_is_throttled_without_touching_other_clients,
    valid_credentials_are_not_held_back_by_a_junk_flood_from_their_own_address,
    password_changes_are_limited_per_user,
    limits_of_zero_are_off,
);

fn retry_after(resp: &reqwest::Response) -> u64 {
    resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn rate_limited_count(app: &TestApp, limit: &str) -> u64 {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("portcullis_rate_limited_total{{limit=\"{limit}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().unwrap())
}

async fn login_attempts_beyond_the_limit_get_429_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login_rate_limit = 3).await;
    let attempt = || {
        app.http
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": "nobody@example.com", "password": "wrong password"}))
            .send()
    };
    for _ in 0..3 {
        assert_error(attempt().await.unwrap(), 401, "unauthenticated").await;
    }
    let limited = attempt().await.unwrap();
    let wait = retry_after(&limited);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_error(limited, 429, "rate_limited").await;
    assert!(rate_limited_count(&app, "password_attempts").await >= 1);
}

async fn failed_logins_for_one_email_are_limited_whatever_the_address(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.failed_login_limit = 3;
    })
    .await;
    let person = app.person().await;
    let login = |n: usize, password: &str| {
        app.http
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .json(&json!({"email": person.email, "password": password}))
            .send()
    };
    for n in 0..3 {
        let resp = login(n, "wrong password").await.unwrap();
        assert_error(resp, 401, "unauthenticated").await;
    }
    // From yet another address, and even with the right password: the account is resting.
    let limited = login(10, &person.password).await.unwrap();
    let wait = retry_after(&limited);
    assert!((1..=15 * 60).contains(&wait), "Retry-After {wait}");
    assert_error(limited, 429, "rate_limited").await;
    assert!(rate_limited_count(&app, "failed_logins").await >= 1);
    // Other accounts are untouched.
    let other = app.person().await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": other.email, "password": other.password}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
}

async fn login_attempts_for_one_email_are_limited_whatever_the_address(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.login_rate_limit = 3;
    })
    .await;
    let login = |n: usize, email: &str| {
        app.http
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .json(&json!({"email": email, "password": "wrong password"}))
            .send()
    };
    // Each from its own address, so only the per-email count can add up.
    for n in 0..3 {
        let resp = login(n, "target@example.com").await.unwrap();
        assert_error(resp, 401, "unauthenticated").await;
    }
    let limited = login(10, "target@example.com").await.unwrap();
    let wait = retry_after(&limited);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_error(limited, 429, "rate_limited").await;
    assert!(rate_limited_count(&app, "email_attempts").await >= 1);
    // Another email from that same address is still answered.
    let resp = login(10, "someone-else@example.com").await.unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn password_reset_requests_for_one_email_are_limited_whatever_the_address(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let person = app.person().await;
    let request = |n: usize, email: &str| {
        app.http
            .post(app.url("/api/v1/auth/password-reset"))
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .json(&json!({"email": email}))
            .send()
    };
    // An account and an address that is none are limited alike: the 429 is no account oracle.
    for email in [person.email.as_str(), "nobody@example.com"] {
        for n in 0..5 {
            assert_eq!(request(n, email).await.unwrap().status(), 202, "{email}");
        }
        let limited = request(10, email).await.unwrap();
        let wait = retry_after(&limited);
        assert!((1..=12 * 60).contains(&wait), "Retry-After {wait}");
        assert_error(limited, 429, "rate_limited").await;
    }
    assert!(rate_limited_count(&app, "reset_requests").await >= 2);
    // Another email from that same address is still answered.
    assert_eq!(
        request(10, "someone-else@example.com")
            .await
            .unwrap()
            .status(),
        202
    );
}

async fn a_flood_of_junk_credentials_is_throttled_without_touching_other_clients(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.failed_auth_limit = 5;
    })
    .await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let key = app.api_key(&owner, &org, &["read"]).await;
    let key = key["key"].as_str().unwrap().to_owned();
    let from = |address: &str, credential: &str| {
        app.http
            .get(app.url("/api/v1/me"))
            .header("x-forwarded-for", address)
            .header("x-api-key", credential)
            .send()
    };
    let junk = [
        "pcl_notakey".to_owned(),
        format!("{}x", &key[..key.len() - 1]),
        "garbage".to_owned(),
    ];
    let mut limited = 0;
    for n in 0..20 {
        let resp = from("198.51.100.66", &junk[n % junk.len()]).await.unwrap();
        match resp.status().as_u16() {
            401 => {}
            429 => {
                assert!(retry_after(&resp) >= 1);
                assert_error(resp, 429, "rate_limited").await;
                limited += 1;
            }
            other => panic!("junk credential answered {other}"),
        }
    }
    assert!(
        limited >= 10,
        "only {limited} of 20 junk requests were limited"
    );
    // Bad sessions and bearer tokens count the same way.
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("x-forwarded-for", "198.51.100.66")
        .header("cookie", "portcullis_session=junk")
        .send()
        .await
        .unwrap();
    assert_error(resp, 429, "rate_limited").await;
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("x-forwarded-for", "198.51.100.66")
        .bearer_auth("a.b.c")
        .send()
        .await
        .unwrap();
    assert_error(resp, 429, "rate_limited").await;
    assert!(rate_limited_count(&app, "failed_auth").await >= 12);

    // A valid caller elsewhere is untouched, and so is a junk credential from elsewhere.
    for _ in 0..10 {
        expect_json(from("203.0.113.1", &key).await.unwrap(), 200).await;
    }
    assert_error(
        from("203.0.113.2", "pcl_notakey").await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
}

async fn valid_credentials_are_not_held_back_by_a_junk_flood_from_their_own_address(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |s| s.failed_auth_limit = 2).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let key = app.api_key(&owner, &org, &["read"]).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let resp = app
            .http
            .get(app.url("/api/v1/me"))
            .header("x-api-key", "pcl_notakey")
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("x-api-key", key["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
}

async fn password_changes_are_limited_per_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let other = app.person().await;
    let change = |who: &Person, from: &str, to: &str| {
        who.client
            .post(app.url("/api/v1/auth/password"))
            .json(&json!({"current_password": from, "new_password": to}))
            .send()
    };
    // Ten an hour; wrong current passwords count too.
    for _ in 0..10 {
        let resp = change(&person, "not the password", "another password 1")
            .await
            .unwrap();
        assert_error(resp, 403, "forbidden").await;
    }
    let limited = change(&person, &person.password, "another password 1")
        .await
        .unwrap();
    assert!(retry_after(&limited) >= 1);
    assert_error(limited, 429, "rate_limited").await;
    assert!(rate_limited_count(&app, "password_changes").await >= 1);
    let resp = change(&other, &other.password, "another password 2")
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
}

async fn limits_of_zero_are_off(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.login_rate_limit = 0;
        s.failed_login_limit = 0;
        s.failed_auth_limit = 0;
    })
    .await;
    let person = app.person().await;
    for _ in 0..15 {
        let resp = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": person.email, "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 401, "unauthenticated").await;
    }
    for _ in 0..400 {
        let resp = app
            .http
            .get(app.url("/api/v1/me"))
            .header("x-api-key", "pcl_notakey")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
}
