//! `POST /api/v1/auth/signup` under each `PORTCULLIS_SIGNUP` mode, and its validation.

use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    the_first_signup_makes_a_platform_admin_and_closes_signup,
    under_first_user_a_bootstrap_admin_counts_as_the_first_user,
    under_first_user_a_user_created_by_the_root_token_closes_signup,
    open_signup_lets_anyone_register_as_an_ordinary_user,
    closed_signup_is_forbidden,
    a_duplicate_email_is_a_conflict_whatever_its_case,
    bad_emails_are_refused,
    weak_passwords_are_refused,
    passwords_of_8_and_128_characters_are_accepted,
    a_signed_up_user_can_log_in,
    racing_first_signups_make_exactly_one_platform_admin,
);

const PASSWORD: &str = "correct horse battery";

async fn signup(app: &TestApp, body: Value) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/auth/signup"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn assert_user_object(user: &Value) {
    let mut keys: Vec<&str> = user
        .as_object()
        .expect("a user object")
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "disabled",
            "email",
            "id",
            "name",
            "platform_admin"
        ],
        "user: {user}"
    );
    uuid::Uuid::parse_str(user["id"].as_str().unwrap()).expect("user id is a UUID");
    chrono::DateTime::parse_from_rfc3339(user["created_at"].as_str().unwrap())
        .expect("created_at is RFC 3339");
}

async fn the_first_signup_makes_a_platform_admin_and_closes_signup(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.signup = SignupMode::FirstUser).await;
    let resp = signup(
        &app,
        json!({"email": "first@example.com", "password": PASSWORD, "name": "Ada"}),
    )
    .await;
    let body = expect_json(resp, 201).await;
    let user = &body["user"];
    assert_user_object(user);
    assert_eq!(user["email"], "first@example.com");
    assert_eq!(user["name"], "Ada");
    assert_eq!(user["platform_admin"], true);
    assert_eq!(user["disabled"], false);

    let resp = signup(
        &app,
        json!({"email": "second@example.com", "password": PASSWORD}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
}

async fn under_first_user_a_bootstrap_admin_counts_as_the_first_user(backend: Backend) {
    let hash = password_hash("bootstrap password");
    let app = spawn_app_with(backend, |s| {
        s.signup = SignupMode::FirstUser;
        s.admin_email = Some("boss@example.com".into());
        s.admin_password_hash = Some(hash);
    })
    .await;
    let resp = signup(
        &app,
        json!({"email": "first@example.com", "password": PASSWORD}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
}

async fn under_first_user_a_user_created_by_the_root_token_closes_signup(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.signup = SignupMode::FirstUser).await;
    app.person().await;
    let resp = signup(
        &app,
        json!({"email": "late@example.com", "password": PASSWORD}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
}

async fn open_signup_lets_anyone_register_as_an_ordinary_user(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.signup = SignupMode::Open).await;
    app.person().await;
    for email in ["one@example.com", "two@example.com"] {
        let resp = signup(&app, json!({"email": email, "password": PASSWORD})).await;
        let body = expect_json(resp, 201).await;
        assert_user_object(&body["user"]);
        assert_eq!(body["user"]["email"], email);
        assert_eq!(body["user"]["name"], Value::Null, "signup without a name");
        assert_eq!(body["user"]["platform_admin"], false);
        assert_eq!(body["user"]["disabled"], false);
    }
}

async fn closed_signup_is_forbidden(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.signup = SignupMode::Closed).await;
    let resp = signup(
        &app,
        json!({"email": "first@example.com", "password": PASSWORD}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "first@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn a_duplicate_email_is_a_conflict_whatever_its_case(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = signup(
        &app,
        json!({"email": "dup@example.com", "password": PASSWORD}),
    )
    .await;
    expect_json(resp, 201).await;
    for email in ["dup@example.com", "DUP@Example.COM"] {
        let resp = signup(&app, json!({"email": email, "password": PASSWORD})).await;
        assert_error(resp, 409, "conflict").await;
    }
    let resp = app
        .http
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&app.root_token)
        .json(&json!({"email": "Dup@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 409, "conflict").await;
}

async fn bad_emails_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in [
        "",
        "no-at-sign.example.com",
        "@example.com",
        "a@b@example.com",
        "a@localhost",
        "a@",
    ] {
        let resp = signup(&app, json!({"email": email, "password": PASSWORD})).await;
        let body = assert_error(resp, 422, "validation_failed").await;
        assert!(
            !body["message"].as_str().unwrap().contains(PASSWORD),
            "the message echoes the password"
        );
    }
}

async fn weak_passwords_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = "weak@example.com";
    for password in ["", "seven77", &"x".repeat(129), email] {
        let resp = signup(&app, json!({"email": email, "password": password})).await;
        let body = assert_error(resp, 422, "validation_failed").await;
        if password.len() >= 8 {
            assert!(
                !body["message"].as_str().unwrap().contains(password),
                "the message echoes the password"
            );
        }
    }
    // None of them created the user.
    let resp = signup(&app, json!({"email": email, "password": PASSWORD})).await;
    expect_json(resp, 201).await;
}

async fn passwords_of_8_and_128_characters_are_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let long = "y".repeat(128);
    for (email, password) in [
        ("eight@example.com", "eight888"),
        ("long@example.com", long.as_str()),
    ] {
        let resp = signup(&app, json!({"email": email, "password": password})).await;
        expect_json(resp, 201).await;
        let resp = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        expect_json(resp, 200).await;
    }
}

async fn a_signed_up_user_can_log_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = signup(
        &app,
        json!({"email": "Mixed.Case@Example.com", "password": PASSWORD, "name": "Mixed"}),
    )
    .await;
    let user = expect_json(resp, 201).await["user"].clone();
    for email in ["Mixed.Case@Example.com", "mixed.case@example.com"] {
        let resp = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let body = expect_json(resp, 200).await;
        assert_eq!(body["user"]["id"], user["id"], "login as {email}");
    }
}

backend_tests!(a_name_with_a_nul_byte_is_a_validation_failure_not_a_server_error);

async fn a_name_with_a_nul_byte_is_a_validation_failure_not_a_server_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .json(&serde_json::json!({"email": "nul@example.com", "password": "correct horse battery", "name": "N\u{0}"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 422, "validation_failed").await;
}

async fn racing_first_signups_make_exactly_one_platform_admin(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.signup = SignupMode::FirstUser).await;
    let signups = (0..8).map(|n| {
        let (http, url) = (app.http.clone(), app.url("/api/v1/auth/signup"));
        tokio::spawn(async move {
            http.post(url)
                .json(&json!({"email": format!("racer{n}@example.com"), "password": PASSWORD}))
                .send()
                .await
                .unwrap()
        })
    });
    let mut created = Vec::new();
    for signup in signups.collect::<Vec<_>>() {
        let resp = signup.await.unwrap();
        if resp.status() == 201 {
            created.push(expect_json(resp, 201).await);
        } else {
            assert_error(resp, 403, "forbidden").await;
        }
    }
    assert_eq!(created.len(), 1, "exactly one signup succeeds: {created:?}");
    assert_eq!(created[0]["user"]["platform_admin"], true);

    let resp = app
        .http
        .get(app.url("/api/v1/admin/users"))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    let users = expect_json(resp, 200).await;
    let users = users.as_array().expect("a list of users");
    assert_eq!(users.len(), 1, "one user in the database: {users:?}");
}
