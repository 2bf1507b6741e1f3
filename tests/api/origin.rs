//! Unauthenticated writes (signup, login) from a browser on another site are refused (403);
//! the same requests without an `Origin` (curl, servers) or from this host pass.

use portcullis_tests::*;
use serde_json::json;

backend_tests!(
    a_signup_from_a_foreign_origin_is_forbidden,
    a_login_from_a_foreign_origin_is_forbidden,
    signup_and_login_from_this_host_a_trusted_origin_or_no_origin_pass,
);

async fn a_signup_from_a_foreign_origin_is_forbidden(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .header("origin", "https://evil.example")
        .json(&json!({"email": "victim@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, 403, "forbidden").await;
    assert!(
        body["message"].as_str().unwrap().contains("Origin"),
        "{body}"
    );
    // Nothing was created: the same email can still sign up from this host.
    let resp = app
        .browser()
        .post(app.url("/api/v1/auth/signup"))
        .json(&json!({"email": "victim@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await;
}

async fn a_login_from_a_foreign_origin_is_forbidden(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    for origin in ["https://evil.example", "null"] {
        let resp = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .header("origin", origin)
            .json(&json!({"email": person.email, "password": person.password}))
            .send()
            .await
            .unwrap();
        assert!(
            resp.headers().get("set-cookie").is_none(),
            "no session for {origin}"
        );
        assert_error(resp, 403, "forbidden").await;
    }
}

async fn signup_and_login_from_this_host_a_trusted_origin_or_no_origin_pass(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_origins = vec!["https://console.example".into()];
    })
    .await;
    for (n, origin) in [
        None,
        Some(app.address.clone()),
        Some("https://console.example".into()),
    ]
    .into_iter()
    .enumerate()
    {
        let email = format!("user{n}@example.com");
        let with_origin = |request: reqwest::RequestBuilder| match &origin {
            Some(origin) => request.header("origin", origin),
            None => request,
        };
        let resp = with_origin(app.http.post(app.url("/api/v1/auth/signup")))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        expect_json(resp, 201).await;
        let resp = with_origin(app.http.post(app.url("/api/v1/auth/login")))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        expect_json(resp, 200).await;
    }
}
