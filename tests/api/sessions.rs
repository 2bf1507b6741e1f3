//! Login, the session cookie, sliding refresh, session management, logout, password change,
//! the Origin check on cookie-authenticated writes, and `/me` for a session.

use chrono::{DateTime, Duration, Utc};
use portcullis_domain::Clock;
use portcullis_tests::*;
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE, WWW_AUTHENTICATE};
use serde_json::{Value, json};

backend_tests!(
    login_returns_the_user_and_a_session_and_sets_the_cookie,
    the_cookie_is_secure_when_cookie_secure_is_on,
    an_unknown_email_and_a_wrong_password_get_the_same_401,
    no_response_carries_a_password_hash,
    the_current_session_describes_itself,
    a_session_younger_than_a_day_is_not_refreshed,
    a_session_older_than_a_day_is_refreshed_for_three_more_days,
    a_session_idle_for_three_days_is_refused,
    a_person_lists_only_their_own_sessions_and_knows_the_current_one,
    a_revoked_session_is_refused_at_once,
    revoking_an_unknown_or_foreign_session_is_not_found,
    logout_clears_the_cookie_and_ends_the_session,
    a_password_change_ends_the_other_sessions_and_keeps_this_one,
    a_password_change_needs_the_current_password,
    a_password_change_to_a_weak_password_is_refused,
    cookie_writes_need_a_trusted_origin,
    cookie_writes_from_a_configured_trusted_origin_pass,
    header_credentials_need_no_origin,
    session_only_endpoints_refuse_the_root_token_and_require_a_credential,
    me_with_a_session_lists_the_memberships,
);

fn login_body(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

/// The raw `Set-Cookie` header for the session cookie, if the response set it.
fn session_set_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("portcullis_session="))
}

/// `name=value` and the attributes of a `Set-Cookie` header, sorted.
fn cookie_parts(set_cookie: &str) -> (String, Vec<String>) {
    let mut parts = set_cookie.split(';').map(|p| p.trim().to_owned());
    let pair = parts.next().unwrap();
    let mut attributes: Vec<String> = parts.filter(|p| !p.is_empty()).collect();
    attributes.sort();
    (pair, attributes)
}

/// Logs in with a plain client; returns the body and the session token from the cookie.
async fn login(app: &TestApp, email: &str, password: &str) -> (Value, String) {
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&login_body(email, password))
        .send()
        .await
        .unwrap();
    let set_cookie = session_set_cookie(&resp).expect("login sets the session cookie");
    let body = expect_json(resp, 200).await;
    let (pair, _) = cookie_parts(&set_cookie);
    (body, pair["portcullis_session=".len()..].to_owned())
}

/// A second browser logged in as `person`.
async fn another_browser(app: &TestApp, person: &Person) -> reqwest::Client {
    let client = app.browser();
    let resp = client
        .post(app.url("/api/v1/auth/login"))
        .json(&login_body(&person.email, &person.password))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    client
}

async fn current_session(app: &TestApp, client: &reqwest::Client) -> Value {
    let resp = client
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a timestamp: {value}")),
    )
    .unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {value}"))
    .with_timezone(&Utc)
}

fn assert_close(actual: DateTime<Utc>, expected: DateTime<Utc>, what: &str) {
    assert!(
        (actual - expected).abs() <= Duration::seconds(1),
        "{what}: {actual} but expected {expected}"
    );
}

async fn login_returns_the_user_and_a_session_and_sets_the_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&login_body(&person.email, &person.password))
        .send()
        .await
        .unwrap();
    let set_cookie = session_set_cookie(&resp).expect("login sets portcullis_session");
    let body = expect_json(resp, 200).await;

    let (pair, attributes) = cookie_parts(&set_cookie);
    assert!(
        pair.len() > "portcullis_session=".len() + 16,
        "a short or empty token: {set_cookie}"
    );
    assert_eq!(
        attributes,
        ["HttpOnly", "Max-Age=259200", "Path=/", "SameSite=Lax"],
        "{set_cookie}"
    );

    assert_eq!(body["user"]["id"], person.id.as_str());
    assert_eq!(body["user"]["email"], person.email.as_str());
    assert_eq!(body["user"]["platform_admin"], false);
    let mut session_keys: Vec<_> = body["session"]
        .as_object()
        .expect("session object")
        .keys()
        .cloned()
        .collect();
    session_keys.sort();
    assert_eq!(session_keys, ["expires_at", "id"], "{body}");
    uuid::Uuid::parse_str(body["session"]["id"].as_str().unwrap()).expect("session id is a UUID");
    assert_close(
        time(&body["session"]["expires_at"]),
        app.clock.now() + Duration::days(3),
        "expires_at",
    );
    // The token in the cookie is not the session id.
    assert!(!pair.contains(body["session"]["id"].as_str().unwrap()));
}

async fn the_cookie_is_secure_when_cookie_secure_is_on(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.cookie_secure = true).await;
    let person = app.person().await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&login_body(&person.email, &person.password))
        .send()
        .await
        .unwrap();
    let set_cookie = session_set_cookie(&resp).expect("login sets portcullis_session");
    let (_, attributes) = cookie_parts(&set_cookie);
    assert_eq!(
        attributes,
        [
            "HttpOnly",
            "Max-Age=259200",
            "Path=/",
            "SameSite=Lax",
            "Secure"
        ],
        "{set_cookie}"
    );
}

async fn an_unknown_email_and_a_wrong_password_get_the_same_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&login_body("nobody@example.com", &person.password))
        .send()
        .await
        .unwrap();
    assert!(session_set_cookie(&resp).is_none());
    let unknown = assert_error(resp, 401, "unauthenticated").await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&login_body(&person.email, "wrong horse battery"))
        .send()
        .await
        .unwrap();
    assert!(session_set_cookie(&resp).is_none());
    let wrong = assert_error(resp, 401, "unauthenticated").await;
    assert_eq!(unknown, wrong);
}

async fn no_response_carries_a_password_hash(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let org = app.organization(&person).await;
    let mut texts = Vec::new();
    let resp = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .json(&login_body("signup@example.com", "another good password"))
        .send()
        .await
        .unwrap();
    texts.push(resp.text().await.unwrap());
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&login_body(&person.email, &person.password))
        .send()
        .await
        .unwrap();
    texts.push(resp.text().await.unwrap());
    for path in [
        "/api/v1/auth/session",
        "/api/v1/me",
        &format!("/api/v1/organizations/{org}/members"),
    ] {
        texts.push(
            person
                .client
                .get(app.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    let resp = app
        .http
        .get(app.url("/api/v1/admin/users"))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    texts.push(resp.text().await.unwrap());
    let resp = app
        .http
        .patch(app.url(&format!("/api/v1/admin/users/{}", person.id)))
        .bearer_auth(&app.root_token)
        .json(&json!({"platform_admin": false}))
        .send()
        .await
        .unwrap();
    texts.push(resp.text().await.unwrap());
    assert_eq!(texts.len(), 7);
    for text in texts {
        assert!(
            text.contains(&person.email) || text.contains("signup@example.com"),
            "unexpected body: {text}"
        );
        assert!(
            !text.contains("argon2") && !text.contains("password"),
            "a response leaks the password hash: {text}"
        );
    }
}

async fn the_current_session_describes_itself(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let body = current_session(&app, &person.client).await;
    assert_eq!(body["user"]["id"], person.id.as_str());
    assert_eq!(body["user"]["email"], person.email.as_str());
    let mut keys: Vec<_> = body["session"]
        .as_object()
        .expect("session object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["created_at", "expires_at", "id", "updated_at"],
        "{body}"
    );
    let now = app.clock.now();
    assert_close(time(&body["session"]["created_at"]), now, "created_at");
    assert_close(time(&body["session"]["updated_at"]), now, "updated_at");
    assert_close(
        time(&body["session"]["expires_at"]),
        now + Duration::days(3),
        "expires_at",
    );
}

async fn a_session_younger_than_a_day_is_not_refreshed(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let before = current_session(&app, &person.client).await;
    app.clock.advance(Duration::hours(23));
    let resp = person
        .client
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        session_set_cookie(&resp),
        None,
        "a 23 h old session got a new cookie"
    );
    let after = expect_json(resp, 200).await;
    assert_eq!(
        time(&after["session"]["expires_at"]),
        time(&before["session"]["expires_at"])
    );
    assert_eq!(
        time(&after["session"]["updated_at"]),
        time(&before["session"]["updated_at"])
    );
}

async fn a_session_older_than_a_day_is_refreshed_for_three_more_days(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let (_, token) = login(&app, &person.email, &person.password).await;
    let with_cookie = |path: &str, token: &str| {
        app.http
            .get(app.url(path))
            .header(COOKIE, format!("portcullis_session={token}"))
    };

    app.clock.advance(Duration::hours(25));
    let resp = with_cookie("/api/v1/auth/session", &token)
        .send()
        .await
        .unwrap();
    let set_cookie = session_set_cookie(&resp).expect("a 25 h old session gets the cookie again");
    let (pair, attributes) = cookie_parts(&set_cookie);
    assert_eq!(
        attributes,
        ["HttpOnly", "Max-Age=259200", "Path=/", "SameSite=Lax"],
        "{set_cookie}"
    );
    // Whether or not the token changed, the browser now holds the one just sent.
    let token = pair["portcullis_session=".len()..].to_owned();
    let body = expect_json(resp, 200).await;
    let refreshed_at = app.clock.now();
    assert_close(
        time(&body["session"]["expires_at"]),
        refreshed_at + Duration::days(3),
        "refreshed expires_at",
    );

    // Just refreshed: the next request is not a refresh.
    let resp = with_cookie("/api/v1/auth/session", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(session_set_cookie(&resp), None);
    expect_json(resp, 200).await;

    // Four days after login, but under three since the refresh: still alive.
    app.clock.advance(Duration::days(2) + Duration::hours(23));
    let resp = with_cookie("/api/v1/auth/session", &token)
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
}

async fn a_session_idle_for_three_days_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    app.clock.advance(Duration::days(3) + Duration::seconds(1));
    let resp = person
        .client
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap()),
        Some(r#"Bearer realm="portcullis", error="invalid_token""#)
    );
    assert_error(resp, 401, "unauthenticated").await;
    let resp = person
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn a_person_lists_only_their_own_sessions_and_knows_the_current_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let _stranger = app.person().await;
    let second = another_browser(&app, &person).await;
    let first_id = current_session(&app, &person.client).await["session"]["id"].clone();
    let second_id = current_session(&app, &second).await["session"]["id"].clone();
    assert_ne!(first_id, second_id);

    let resp = person
        .client
        .get(app.url("/api/v1/auth/sessions"))
        .send()
        .await
        .unwrap();
    let sessions = expect_json(resp, 200).await;
    let sessions = sessions.as_array().expect("a bare array");
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    for session in sessions {
        let mut keys: Vec<_> = session.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "created_at",
                "current",
                "expires_at",
                "id",
                "ip",
                "updated_at",
                "user_agent"
            ],
            "{session}"
        );
        assert_eq!(session["current"], session["id"] == first_id, "{session}");
    }
    let mut ids: Vec<_> = sessions.iter().map(|s| s["id"].to_string()).collect();
    ids.sort();
    let mut expected = vec![first_id.to_string(), second_id.to_string()];
    expected.sort();
    assert_eq!(ids, expected);

    let resp = second
        .get(app.url("/api/v1/auth/sessions"))
        .send()
        .await
        .unwrap();
    let sessions = expect_json(resp, 200).await;
    let current: Vec<_> = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["current"] == true)
        .collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], second_id);
}

async fn a_revoked_session_is_refused_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let second = another_browser(&app, &person).await;
    let second_id = current_session(&app, &second).await["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let resp = person
        .client
        .delete(app.url(&format!("/api/v1/auth/sessions/{second_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = second
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
    current_session(&app, &person.client).await;
    let resp = person
        .client
        .get(app.url("/api/v1/auth/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await.as_array().unwrap().len(), 1);
}

async fn revoking_an_unknown_or_foreign_session_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let stranger = app.person().await;
    let resp = person
        .client
        .delete(app.url(&format!("/api/v1/auth/sessions/{}", uuid::Uuid::now_v7())))
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "not_found").await;

    let foreign = current_session(&app, &stranger.client).await["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = person
        .client
        .delete(app.url(&format!("/api/v1/auth/sessions/{foreign}")))
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "not_found").await;
    current_session(&app, &stranger.client).await;
}

async fn logout_clears_the_cookie_and_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let (_, token) = login(&app, &person.email, &person.password).await;
    let cookie = format!("portcullis_session={token}");

    let resp = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .header(COOKIE, &cookie)
        .header(ORIGIN, &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let set_cookie = session_set_cookie(&resp).expect("logout sends the cookie again to clear it");
    let (pair, attributes) = cookie_parts(&set_cookie);
    assert_eq!(pair, "portcullis_session=", "{set_cookie}");
    assert!(attributes.contains(&"Max-Age=0".to_owned()), "{set_cookie}");

    let resp = app
        .http
        .get(app.url("/api/v1/auth/session"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
    // The person's other session (from app.person()) is untouched.
    current_session(&app, &person.client).await;

    // A browser that logs out can no longer act.
    let resp = person
        .client
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = person
        .client
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn a_password_change_ends_the_other_sessions_and_keeps_this_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let second = another_browser(&app, &person).await;
    let new_password = "a brand new passphrase";
    let resp = person
        .client
        .post(app.url("/api/v1/auth/password"))
        .json(&json!({"current_password": person.password, "new_password": new_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);

    let resp = second
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
    current_session(&app, &person.client).await;

    login(&app, &person.email, new_password).await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&login_body(&person.email, &person.password))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn a_password_change_needs_the_current_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let resp = person
        .client
        .post(app.url("/api/v1/auth/password"))
        .json(&json!({"current_password": "not my password", "new_password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    login(&app, &person.email, &person.password).await;
    current_session(&app, &person.client).await;
}

async fn a_password_change_to_a_weak_password_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    for new_password in ["short", &"z".repeat(129), &person.email] {
        let resp = person
            .client
            .post(app.url("/api/v1/auth/password"))
            .json(&json!({"current_password": person.password, "new_password": new_password}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 422, "validation_failed").await;
    }
    login(&app, &person.email, &person.password).await;
}

async fn cookie_writes_need_a_trusted_origin(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let (_, token) = login(&app, &person.email, &person.password).await;
    let cookie = format!("portcullis_session={token}");
    let create = |origin: Option<&str>| {
        let slug = format!("o-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let request = app
            .http
            .post(app.url("/api/v1/organizations"))
            .header(COOKIE, &cookie)
            .json(&json!({"name": "Origin test", "slug": slug}));
        match origin {
            Some(origin) => request.header(ORIGIN, origin),
            None => request,
        }
    };
    let resp = create(None).send().await.unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = create(Some("http://evil.example")).send().await.unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = create(Some("null")).send().await.unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = create(Some(&app.address)).send().await.unwrap();
    let org = expect_json(resp, 201).await;

    // Deletes and logout are writes too.
    let resp = app
        .http
        .delete(app.url(&format!(
            "/api/v1/organizations/{}",
            org["id"].as_str().unwrap()
        )))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    // Reads need no Origin, and the refused logout left the session alive.
    let resp = app
        .http
        .get(app.url("/api/v1/organizations"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await.as_array().unwrap().len(), 1);
}

async fn cookie_writes_from_a_configured_trusted_origin_pass(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.trusted_origins = vec![
            "https://console.example.com".into(),
            "https://other.example.com".into(),
        ];
    })
    .await;
    let person = app.person().await;
    let (_, token) = login(&app, &person.email, &person.password).await;
    for (origin, status) in [
        ("https://console.example.com", 201),
        ("https://other.example.com", 201),
        ("https://console.example.com.evil.example", 403),
        ("http://console.example.com", 403),
    ] {
        let slug = format!("o-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let resp = app
            .http
            .post(app.url("/api/v1/organizations"))
            .header(COOKIE, format!("portcullis_session={token}"))
            .header(ORIGIN, origin)
            .json(&json!({"name": "Trusted", "slug": slug}))
            .send()
            .await
            .unwrap();
        if status == 201 {
            expect_json(resp, 201).await;
        } else {
            assert_error(resp, 403, "forbidden").await;
        }
    }
}

async fn header_credentials_need_no_origin(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let resp = app
        .http
        .post(app.url("/api/v1/organizations"))
        .bearer_auth(&app.root_token)
        .header(ORIGIN, "http://evil.example")
        .json(&json!({"name": "Rooted", "slug": "rooted", "owner_email": person.email}))
        .send()
        .await
        .unwrap();
    let org = expect_json(resp, 201).await;
    let key = app
        .api_key(&person, org["id"].as_str().unwrap(), &["admin"])
        .await;
    let resp = app
        .http
        .patch(app.url(&format!(
            "/api/v1/organizations/{}",
            org["id"].as_str().unwrap()
        )))
        .header("X-API-Key", key["key"].as_str().unwrap())
        .json(&json!({"name": "Renamed by key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["name"], "Renamed by key");
}

async fn session_only_endpoints_refuse_the_root_token_and_require_a_credential(backend: Backend) {
    let app = spawn_app(backend).await;
    let some_id = uuid::Uuid::now_v7();
    let password =
        json!({"current_password": "correct horse battery", "new_password": "another passphrase"});
    let requests = |client: &reqwest::Client| {
        vec![
            client.get(app.url("/api/v1/auth/session")),
            client.get(app.url("/api/v1/auth/sessions")),
            client.delete(app.url(&format!("/api/v1/auth/sessions/{some_id}"))),
            client
                .post(app.url("/api/v1/auth/password"))
                .json(&password),
            client.post(app.url("/api/v1/auth/logout")),
        ]
    };
    for request in requests(&app.http) {
        let resp = request.bearer_auth(&app.root_token).send().await.unwrap();
        let url = resp.url().clone();
        let body = assert_error(resp, 403, "forbidden").await;
        assert!(
            !body.to_string().contains(&app.root_token),
            "{url} echoes the root token"
        );
    }
    for request in requests(&app.http) {
        let resp = request.send().await.unwrap();
        assert_eq!(
            resp.headers()
                .get(WWW_AUTHENTICATE)
                .map(|v| v.to_str().unwrap()),
            Some(r#"Bearer realm="portcullis""#)
        );
        assert_error(resp, 401, "unauthenticated").await;
    }
}

async fn me_with_a_session_lists_the_memberships(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let owner = app.person().await;
    let mine = app.organization(&person).await;
    let theirs = app.organization(&owner).await;
    let _unrelated = app.organization(&owner).await;
    app.add_member(&owner, &theirs, &person, "developer").await;

    let resp = person
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    let me = expect_json(resp, 200).await;
    assert_eq!(me["user"]["id"], person.id.as_str());
    assert_eq!(me["user"]["email"], person.email.as_str());
    assert_eq!(me["auth_method"], "session");
    assert_eq!(me["organization_id"], Value::Null);
    assert_eq!(me["api_key_id"], Value::Null);
    assert_eq!(me["scopes"], json!([]));
    let mut memberships = me["memberships"]
        .as_array()
        .expect("memberships array")
        .clone();
    memberships.sort_by_key(|m| m["organization_id"].to_string());
    let mut expected = vec![
        json!({"organization_id": mine, "role": "owner"}),
        json!({"organization_id": theirs, "role": "developer"}),
    ];
    expected.sort_by_key(|m| m["organization_id"].to_string());
    assert_eq!(memberships, expected);
}
