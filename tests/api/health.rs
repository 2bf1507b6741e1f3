//! Probes, the published spec, and the error shape shared by every endpoint.

use portcullis_tests::*;
use reqwest::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::json;

backend_tests!(
    healthz_answers_ok,
    readyz_answers_ok_while_the_database_answers,
    openapi_json_describes_the_api,
    docs_serve_an_html_page,
    unknown_routes_answer_404_in_the_error_shape,
    malformed_json_is_a_bad_request,
    a_missing_required_field_is_a_validation_failure,
    a_field_of_the_wrong_type_is_a_validation_failure,
    a_path_id_that_is_not_a_uuid_is_a_bad_request,
    a_body_that_is_not_declared_json_is_an_unsupported_media_type,
    every_401_carries_www_authenticate,
);

async fn healthz_answers_ok(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(expect_json(resp, 200).await, json!({"status": "ok"}));
}

async fn readyz_answers_ok_while_the_database_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

async fn openapi_json_describes_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    let spec = expect_json(resp, 200).await;
    let version = spec["openapi"]
        .as_str()
        .expect("an \"openapi\" version string");
    assert!(version.starts_with('3'), "openapi version {version}");
    let paths = spec["paths"].as_object().expect("a \"paths\" object");
    for path in [
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/session",
        "/api/v1/auth/sessions",
        "/api/v1/auth/password",
        "/api/v1/me",
        "/api/v1/organizations",
        "/api/v1/admin/users",
        "/api/v1/admin/organizations",
    ] {
        assert!(
            paths.contains_key(path),
            "openapi.json lacks {path}; has {:?}",
            paths.keys()
        );
    }
    assert!(
        paths
            .keys()
            .any(|p| p.starts_with("/api/v1/organizations/{") && p.ends_with("/members")),
        "openapi.json lacks the members path; has {:?}",
        paths.keys()
    );
}

async fn docs_serve_an_html_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = app.http.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/html"),
        "content-type {content_type}"
    );
    let body = resp.text().await.unwrap();
    assert!(
        body.to_lowercase().contains("<html"),
        "not an HTML page: {body}"
    );
}

async fn unknown_routes_answer_404_in_the_error_shape(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/nope", "/api/v1/nope", "/api/v2/organizations"] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_error(resp, 404, "not_found").await;
    }
}

async fn malformed_json_is_a_bad_request(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/api/v1/auth/login", "/api/v1/auth/signup"] {
        let resp = app
            .http
            .post(app.url(path))
            .header(CONTENT_TYPE, "application/json")
            .body(r#"{"email": "a@example.com", "password": "#)
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "bad_request").await;
    }
    let resp = app
        .http
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&app.root_token)
        .header(CONTENT_TYPE, "application/json")
        .body("not json at all")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "bad_request").await;
}

async fn a_missing_required_field_is_a_validation_failure(backend: Backend) {
    let app = spawn_app(backend).await;
    let bodies = [
        json!({"email": "a@example.com"}),
        json!({"password": "correct horse battery"}),
        json!({}),
    ];
    for path in ["/api/v1/auth/login", "/api/v1/auth/signup"] {
        for body in &bodies {
            let resp = app
                .http
                .post(app.url(path))
                .json(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 422, "{path} with {body}");
            assert_error(resp, 422, "validation_failed").await;
        }
    }
    let resp = app
        .http
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&app.root_token)
        .json(&json!({"email": "b@example.com"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 422, "validation_failed").await;
}

async fn a_field_of_the_wrong_type_is_a_validation_failure(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let org = app.organization(&person).await;
    let requests = [
        app.http
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": 5, "password": "correct horse battery"})),
        app.http
            .post(app.url("/api/v1/auth/signup"))
            .json(&json!({"email": "typed@example.com", "password": 123456789})),
        app.http
            .post(app.url("/api/v1/admin/users"))
            .bearer_auth(&app.root_token)
            .json(&json!({"email": "typed2@example.com", "password": ["correct horse battery"]})),
        app.http
            .patch(app.url(&format!("/api/v1/admin/users/{}", person.id)))
            .bearer_auth(&app.root_token)
            .json(&json!({"disabled": "yes"})),
        person
            .client
            .post(app.url("/api/v1/organizations"))
            .json(&json!({"name": 42, "slug": "typed"})),
        person
            .client
            .patch(app.url(&format!("/api/v1/organizations/{org}")))
            .json(&json!({"name": true})),
    ];
    let mut wrong = Vec::new();
    for request in requests {
        let (client, request) = request.build_split();
        let request = request.unwrap();
        let what = format!("{} {}", request.method(), request.url().path());
        let resp = client.execute(request).await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        if status != 422 || !body.contains("validation_failed") {
            wrong.push(format!("{what}: {status} {body}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "wrong-typed fields not refused with 422: {wrong:#?}"
    );
}

/// The message names the parameter as the spec does (`org_id`), never an internal name.
async fn a_path_id_that_is_not_a_uuid_is_a_bad_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let names = |body: &serde_json::Value, name: &str| {
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("`{name}`")) && !message.contains("`param"),
            "{body}"
        );
    };
    let resp = app
        .http
        .get(app.url("/api/v1/organizations/not-a-uuid"))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    names(&assert_error(resp, 400, "bad_request").await, "org_id");
    let resp = app
        .http
        .patch(app.url("/api/v1/admin/users/12345"))
        .bearer_auth(&app.root_token)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    names(&assert_error(resp, 400, "bad_request").await, "user_id");

    let person = app.person().await;
    let resp = person
        .client
        .delete(app.url("/api/v1/auth/sessions/xyz"))
        .send()
        .await
        .unwrap();
    names(&assert_error(resp, 400, "bad_request").await, "session_id");
    let org = app.organization(&person).await;
    let resp = person
        .client
        .patch(app.url(&format!("/api/v1/organizations/{org}/members/not-a-user")))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    names(&assert_error(resp, 400, "bad_request").await, "user_id");
    let resp = person
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}/api-keys/nope")))
        .send()
        .await
        .unwrap();
    names(&assert_error(resp, 400, "bad_request").await, "key_id");
}

/// A form post, a text body or a body without a type is refused before anything is read as
/// JSON; JSON with a charset is fine.
async fn a_body_that_is_not_declared_json_is_an_unsupported_media_type(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = r#"{"email": "ada@example.com", "password": "correct horse battery"}"#;
    for content_type in [
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        Some("application/jsonx"),
        None,
    ] {
        let mut request = app.http.post(app.url("/api/v1/auth/signup")).body(body);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let resp = request.send().await.unwrap();
        assert_error(resp, 415, "unsupported_media_type").await;
    }
    let resp = app
        .http
        .get(app.url("/api/v1/admin/users"))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    let users = expect_json(resp, 200).await;
    assert_eq!(users, json!([]), "no refused signup created a user");

    let resp = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await;
}

async fn every_401_carries_www_authenticate(backend: Backend) {
    let app = spawn_app(backend).await;
    let plain = r#"Bearer realm="portcullis""#;
    let invalid = r#"Bearer realm="portcullis", error="invalid_token""#;

    let resp = app.http.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(
        resp.headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap()),
        Some(plain)
    );
    assert_error(resp, 401, "unauthenticated").await;

    let requests = [
        app.http
            .get(app.url("/api/v1/me"))
            .bearer_auth("not-the-root-token"),
        app.http
            .get(app.url("/api/v1/me"))
            .header("Authorization", "Token pcl_nonsense"),
        app.http
            .get(app.url("/api/v1/me"))
            .header("X-API-Key", "pcl_nonsense"),
        app.http
            .get(app.url("/api/v1/me"))
            .header("Cookie", "portcullis_session=forged"),
        app.http
            .get(app.url("/api/v1/organizations"))
            .bearer_auth("not-the-root-token"),
        app.http
            .get(app.url("/api/v1/auth/session"))
            .header("Cookie", "portcullis_session=forged"),
    ];
    for request in requests {
        let resp = request.send().await.unwrap();
        let url = resp.url().clone();
        assert_eq!(
            resp.headers()
                .get(WWW_AUTHENTICATE)
                .map(|v| v.to_str().unwrap()),
            Some(invalid),
            "{url}"
        );
        assert_error(resp, 401, "unauthenticated").await;
    }

    // A failed login is a 401 too, and carries the header.
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "nobody@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let header = resp
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        header.as_deref().is_some_and(|h| h.starts_with(plain)),
        "login 401 WWW-Authenticate: {header:?}"
    );
    assert_error(resp, 401, "unauthenticated").await;
}
