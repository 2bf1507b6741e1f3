//! How a request authenticates: headers, precedence, garbage, and what a key may do (sections 1-4, 8).

use crate::api_keys::{assert_key_format, forged_key, key_status, names, string_set};
use portcullis_tests::*;
use reqwest::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use serde_json::{Value, json};

backend_tests!(
    a_key_is_accepted_in_x_api_key_bearer_and_token_headers,
    the_scheme_word_is_case_insensitive,
    a_bad_x_api_key_does_not_fall_back_to_a_good_bearer,
    a_good_x_api_key_decides_before_a_bad_bearer,
    a_bad_header_credential_does_not_fall_back_to_the_session_cookie,
    garbage_credentials_are_refused_with_401_never_500,
    a_key_with_a_corrupted_checksum_is_refused,
    a_well_formed_key_with_another_prefix_word_is_refused,
    a_well_formed_key_that_was_never_issued_is_refused,
    a_custom_key_prefix_shapes_the_keys,
    a_401_without_a_credential_has_no_invalid_token_error,
    a_disabled_users_key_is_refused,
    a_demoted_users_key_loses_power_at_once,
    a_key_of_a_user_who_left_the_organization_is_forbidden,
    a_key_cannot_reach_another_organization,
    a_key_cannot_act_where_only_a_person_may,
    a_403_names_the_missing_permission,
    the_root_token_must_match_exactly,
    an_access_token_is_not_an_api_key,
);

/// Asserts a 401 for a credential that was sent: the error shape and
/// `WWW-Authenticate: Bearer realm="portcullis", error="invalid_token"`.
pub(crate) async fn assert_invalid_token(resp: reqwest::Response) -> Value {
    let url = resp.url().clone();
    let challenge = resp
        .headers()
        .get(WWW_AUTHENTICATE)
        .unwrap_or_else(|| panic!("{url}: a {} without WWW-Authenticate", resp.status()))
        .to_str()
        .expect("ASCII header")
        .to_owned();
    let body = assert_error(resp, 401, "unauthenticated").await;
    assert!(challenge.starts_with("Bearer "), "{url}: {challenge}");
    assert!(
        challenge.contains(r#"realm="portcullis""#),
        "{url}: {challenge}"
    );
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{url}: {challenge}"
    );
    body
}

async fn me_with(app: &TestApp, name: &str, value: HeaderValue) -> reqwest::Response {
    app.http
        .get(app.url("/api/v1/me"))
        .header(name, value)
        .send()
        .await
        .expect("GET /me")
}

async fn owner_key(app: &TestApp, scopes: &[&str]) -> (Person, String, String) {
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, scopes).await;
    (owner, org, created["key"].as_str().unwrap().to_owned())
}

async fn authorize_with_key(app: &TestApp, key: &str, permission: &str) -> reqwest::Response {
    app.http
        .get(app.url("/api/v1/authorize"))
        .query(&[("permission", permission)])
        .header("X-API-Key", key)
        .send()
        .await
        .expect("GET /authorize")
}

async fn a_key_is_accepted_in_x_api_key_bearer_and_token_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, org, key) = owner_key(&app, &["read"]).await;
    let requests = [
        ("X-API-Key", key.clone()),
        ("Authorization", format!("Bearer {key}")),
        ("Authorization", format!("Token {key}")),
    ];
    for (name, value) in requests {
        let resp = me_with(&app, name, HeaderValue::from_str(&value).unwrap()).await;
        let me = expect_json(resp, 200).await;
        assert_eq!(me["auth_method"], "api_key", "{name}: {value}");
        assert_eq!(me["user"]["id"], json!(owner.id));
        assert_eq!(me["organization_id"], json!(org));
    }
}

async fn the_scheme_word_is_case_insensitive(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, _, key) = owner_key(&app, &["read"]).await;
    for scheme in ["bearer", "BEARER", "BeArEr", "token", "TOKEN", "Token"] {
        let value = HeaderValue::from_str(&format!("{scheme} {key}")).unwrap();
        let resp = me_with(&app, "Authorization", value).await;
        assert_eq!(resp.status().as_u16(), 200, "scheme {scheme:?}");
    }
    // The root token too.
    let value = HeaderValue::from_str(&format!("bearer {}", app.root_token)).unwrap();
    let me = expect_json(me_with(&app, "Authorization", value).await, 200).await;
    assert_eq!(me["auth_method"], "root_token");
}

async fn a_bad_x_api_key_does_not_fall_back_to_a_good_bearer(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, _, key) = owner_key(&app, &["read"]).await;
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("X-API-Key", forged_key("pcl"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_invalid_token(resp).await;

    // Nor to the root token.
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("X-API-Key", "not a key")
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_invalid_token(resp).await;
}

async fn a_good_x_api_key_decides_before_a_bad_bearer(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, _, key) = owner_key(&app, &["read"]).await;
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("X-API-Key", &key)
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    let me = expect_json(resp, 200).await;
    assert_eq!(me["auth_method"], "api_key");

    // A good X-API-Key also decides before a good root token.
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("X-API-Key", &key)
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    let me = expect_json(resp, 200).await;
    assert_eq!(me["auth_method"], "api_key");
}

async fn a_bad_header_credential_does_not_fall_back_to_the_session_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let resp = person
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["auth_method"], "session");

    let resp = person
        .client
        .get(app.url("/api/v1/me"))
        .header("X-API-Key", forged_key("pcl"))
        .send()
        .await
        .unwrap();
    assert_invalid_token(resp).await;
    let resp = person
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_invalid_token(resp).await;
    let resp = person
        .client
        .get(app.url("/api/v1/me"))
        .header(AUTHORIZATION, "Token pcl_nope")
        .send()
        .await
        .unwrap();
    assert_invalid_token(resp).await;
}

async fn garbage_credentials_are_refused_with_401_never_500(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, _, key) = owner_key(&app, &["read"]).await;
    let long = format!("pcl_{}", "a".repeat(10 * 1024));
    // A value was clearly sent: 401 with `error="invalid_token"`.
    let sent: Vec<(&str, HeaderValue)> = vec![
        ("X-API-Key", HeaderValue::from_static("pcl_")),
        ("X-API-Key", HeaderValue::from_static("garbage")),
        (
            "X-API-Key",
            HeaderValue::from_str(&format!("Bearer {key}")).unwrap(),
        ),
        ("X-API-Key", HeaderValue::from_str(&long).unwrap()),
        (
            "X-API-Key",
            HeaderValue::from_bytes(b"pcl_\xff\xfe\xc3\xa9\x80abc").unwrap(),
        ),
        (
            "X-API-Key",
            HeaderValue::from_str(&format!("{key}x")).unwrap(),
        ),
        (
            "X-API-Key",
            HeaderValue::from_str(&key[..key.len() - 1]).unwrap(),
        ),
        ("Authorization", HeaderValue::from_static("Bearer a.b.c")),
        ("Authorization", HeaderValue::from_static("Bearer ...")),
        (
            "Authorization",
            HeaderValue::from_static("Bearer eyJhbGciOiJub25lIn0.e30."),
        ),
        ("Authorization", HeaderValue::from_static("Token garbage")),
        (
            "Authorization",
            HeaderValue::from_str(&format!("Bearer {long}")).unwrap(),
        ),
        (
            "Authorization",
            HeaderValue::from_str(&format!("Bearer {}", "x".repeat(10 * 1024))).unwrap(),
        ),
        (
            "Authorization",
            HeaderValue::from_bytes(b"Bearer \xff\xfe\xfd").unwrap(),
        ),
        (
            "Authorization",
            HeaderValue::from_str(&format!("Bearer  {key} extra")).unwrap(),
        ),
    ];
    for (name, value) in sent {
        let shown = String::from_utf8_lossy(value.as_bytes())
            .chars()
            .take(60)
            .collect::<String>();
        let resp = me_with(&app, name, value).await;
        let status = resp.status().as_u16();
        assert_eq!(status, 401, "{name}: {shown:?} gave {status}");
        let body = assert_invalid_token(resp).await;
        assert!(
            !body["message"].as_str().unwrap().contains(&key),
            "the message echoes the key: {body}"
        );
    }
    // Empty or scheme-less values: whether they count as "sent" is the server's call, but they
    // are still a 401 with the challenge, never a 500.
    let empty: Vec<(&str, HeaderValue)> = vec![
        ("X-API-Key", HeaderValue::from_static("")),
        ("Authorization", HeaderValue::from_static("")),
        ("Authorization", HeaderValue::from_static("Bearer")),
        ("Authorization", HeaderValue::from_static("Bearer ")),
        ("Authorization", HeaderValue::from_static("Token")),
        (
            "Authorization",
            HeaderValue::from_str(&format!("Basic {key}")).unwrap(),
        ),
        (
            "Authorization",
            HeaderValue::from_str(&format!("Bearer{key}")).unwrap(),
        ),
        (
            "Authorization",
            HeaderValue::from_bytes(b"\xffBearer pcl_x").unwrap(),
        ),
    ];
    for (name, value) in empty {
        let shown = String::from_utf8_lossy(value.as_bytes())
            .chars()
            .take(60)
            .collect::<String>();
        let resp = me_with(&app, name, value).await;
        let status = resp.status().as_u16();
        assert_eq!(status, 401, "{name}: {shown:?} gave {status}");
        let challenge = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let challenge =
            challenge.unwrap_or_else(|| panic!("{name}: {shown:?}: 401 without WWW-Authenticate"));
        assert!(
            challenge.starts_with(r#"Bearer realm="portcullis""#),
            "{challenge}"
        );
        assert_error(resp, 401, "unauthenticated").await;
    }
    // The server is still fine afterwards.
    assert_eq!(key_status(&app, &key).await, 200);
}

async fn a_key_with_a_corrupted_checksum_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, _, key) = owner_key(&app, &["read"]).await;
    let (body, sum) = key.split_at(key.len() - 6);
    let mut bad_sum: Vec<u8> = sum.bytes().collect();
    bad_sum[5] = if bad_sum[5] == b'0' { b'1' } else { b'0' };
    let corrupted = format!("{body}{}", String::from_utf8(bad_sum).unwrap());
    let resp = me_with(
        &app,
        "X-API-Key",
        HeaderValue::from_str(&corrupted).unwrap(),
    )
    .await;
    assert_invalid_token(resp).await;

    // A flipped character in the random part breaks the checksum as well.
    let mut flipped: Vec<u8> = key.bytes().collect();
    flipped[10] = if flipped[10] == b'a' { b'b' } else { b'a' };
    let flipped = String::from_utf8(flipped).unwrap();
    let resp = me_with(&app, "X-API-Key", HeaderValue::from_str(&flipped).unwrap()).await;
    assert_invalid_token(resp).await;
}

async fn a_well_formed_key_with_another_prefix_word_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, _, key) = owner_key(&app, &["read"]).await;
    let other = forged_key("abc");
    assert_key_format(&other, "abc");
    let resp = me_with(&app, "X-API-Key", HeaderValue::from_str(&other).unwrap()).await;
    assert_invalid_token(resp).await;

    // The issued key's randomness under another word, checksum recomputed.
    let random = &key[4..47];
    let renamed = format!("acme_{random}");
    let renamed = format!("{renamed}{}", crate::api_keys::checksum(&renamed));
    let resp = me_with(
        &app,
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {renamed}")).unwrap(),
    )
    .await;
    assert_invalid_token(resp).await;
}

async fn a_well_formed_key_that_was_never_issued_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let forged = forged_key("pcl");
    assert_key_format(&forged, "pcl");
    for (name, value) in [
        ("X-API-Key", forged.clone()),
        ("Authorization", format!("Bearer {forged}")),
        ("Authorization", format!("Token {forged}")),
    ] {
        let resp = me_with(&app, name, HeaderValue::from_str(&value).unwrap()).await;
        assert_invalid_token(resp).await;
    }
}

async fn a_custom_key_prefix_shapes_the_keys(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.key_prefix = "acme".into()).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["read"]).await;
    let key = created["key"].as_str().unwrap();
    assert_key_format(key, "acme");
    assert_eq!(created["key_prefix"].as_str(), Some(&key[..12]));
    assert_eq!(key_status(&app, key).await, 200);
    let resp = me_with(
        &app,
        "Authorization",
        HeaderValue::from_str(&format!("Token {key}")).unwrap(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);

    // A `pcl_` key is not of this server's shape.
    let resp = me_with(
        &app,
        "X-API-Key",
        HeaderValue::from_str(&forged_key("pcl")).unwrap(),
    )
    .await;
    assert_invalid_token(resp).await;
}

async fn a_401_without_a_credential_has_no_invalid_token_error(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/api/v1/me",
        "/api/v1/organizations",
        "/api/v1/authorize?permission=read",
    ] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        let challenge = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .unwrap_or_else(|| panic!("{path}: 401 without WWW-Authenticate"))
            .to_str()
            .unwrap()
            .to_owned();
        assert_error(resp, 401, "unauthenticated").await;
        assert_eq!(challenge, r#"Bearer realm="portcullis""#, "{path}");
    }
}

async fn a_disabled_users_key_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, _, key) = owner_key(&app, &["read"]).await;
    assert_eq!(key_status(&app, &key).await, 200);

    let resp = app
        .http
        .patch(app.url(&format!("/api/v1/admin/users/{}", owner.id)))
        .bearer_auth(&app.root_token)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["disabled"], true);
    let resp = me_with(&app, "X-API-Key", HeaderValue::from_str(&key).unwrap()).await;
    assert_invalid_token(resp).await;
}

async fn a_demoted_users_key_loses_power_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let admin = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let created = app.api_key(&admin, &org, &["admin"]).await;
    let key = created["key"].as_str().unwrap();

    let resp = authorize_with_key(&app, key, "deploy").await;
    expect_json(resp, 200).await;

    let resp = owner
        .client
        .patch(app.url(&format!("/api/v1/organizations/{org}/members/{}", admin.id)))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["role"], "viewer");

    let resp = authorize_with_key(&app, key, "deploy").await;
    let body = assert_error(resp, 403, "forbidden").await;
    assert_eq!(body["missing_permissions"], json!(["deploy"]), "{body}");
    let resp = authorize_with_key(&app, key, "read").await;
    let allowed = expect_json(resp, 200).await;
    assert_eq!(allowed["role"], "viewer");
    assert_eq!(allowed["scopes"], json!(["read"]));

    // An admin-only endpoint is closed to it now.
    let resp = app
        .http
        .patch(app.url(&format!("/api/v1/organizations/{org}")))
        .header("X-API-Key", key)
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
}

async fn a_key_of_a_user_who_left_the_organization_is_forbidden(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let developer = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let created = app.api_key(&developer, &org, &["read"]).await;
    let key = created["key"].as_str().unwrap();
    let org_url = app.url(&format!("/api/v1/organizations/{org}"));

    let resp = app
        .http
        .get(&org_url)
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;

    let resp = owner
        .client
        .delete(app.url(&format!(
            "/api/v1/organizations/{org}/members/{}",
            developer.id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);

    let resp = app
        .http
        .get(&org_url)
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = authorize_with_key(&app, key, "read").await;
    assert_error(resp, 403, "forbidden").await;
}

async fn a_key_cannot_reach_another_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let home = app.organization(&owner).await;
    let other = app.organization(&owner).await;
    let created = app.api_key(&owner, &home, &["admin"]).await;
    let key = created["key"].as_str().unwrap();

    // The key's user owns both organizations, but the key is bound to one.
    for path in [
        format!("/api/v1/organizations/{other}"),
        format!("/api/v1/organizations/{other}/members"),
        format!("/api/v1/organizations/{other}/api-keys"),
        format!("/api/v1/organizations/{}", uuid::Uuid::now_v7()),
    ] {
        let resp = app
            .http
            .get(app.url(&path))
            .header("X-API-Key", key)
            .send()
            .await
            .unwrap();
        assert_error(resp, 403, "forbidden").await;
    }
    let resp = app
        .http
        .get(app.url("/api/v1/authorize"))
        .query(&[("permission", "read"), ("organization_id", other.as_str())])
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;

    // At home it may.
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/organizations/{home}")))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["id"], json!(home));

    // Listing organizations with a key gives its own only.
    let resp = app
        .http
        .get(app.url("/api/v1/organizations"))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    let list = expect_json(resp, 200).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![home.as_str()]);
}

async fn a_key_cannot_act_where_only_a_person_may(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, _, key) = owner_key(&app, &["admin"]).await;

    let resp = app
        .http
        .post(app.url("/api/v1/organizations"))
        .header("X-API-Key", &key)
        .json(&json!({"name": "By a key", "slug": "by-a-key"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;

    let resp = app
        .http
        .post(app.url("/api/v1/auth/password"))
        .header("X-API-Key", &key)
        .json(
            &json!({"current_password": owner.password, "new_password": "a brand new passphrase"}),
        )
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;

    for path in ["/api/v1/auth/sessions", "/api/v1/auth/session"] {
        let resp = app
            .http
            .get(app.url(path))
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap();
        assert_error(resp, 403, "forbidden").await;
    }

    // The password did not change: the person can still log in with the old one.
    let resp = app
        .browser()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": owner.email, "password": owner.password}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
}

async fn a_403_names_the_missing_permission(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, org, key) = owner_key(&app, &["read"]).await;

    let resp = authorize_with_key(&app, &key, "deploy").await;
    let body = assert_error(resp, 403, "forbidden").await;
    assert!(
        body["message"].as_str().unwrap().contains("'deploy'"),
        "{body}"
    );
    assert_eq!(body["missing_permissions"], json!(["deploy"]), "{body}");

    // An endpoint that needs admin, with a read-only key.
    let resp = app
        .http
        .patch(app.url(&format!("/api/v1/organizations/{org}")))
        .header("X-API-Key", &key)
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, 403, "forbidden").await;
    assert!(
        body["message"].as_str().unwrap().contains("'admin'"),
        "{body}"
    );
    assert_eq!(body["missing_permissions"], json!(["admin"]), "{body}");

    // And the key still reads.
    let resp = authorize_with_key(&app, &key, "read").await;
    let allowed = expect_json(resp, 200).await;
    assert_eq!(string_set(&allowed["scopes"]), names(&["read"]));
}

async fn the_root_token_must_match_exactly(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = app.root_token.clone();
    let mut last_changed: Vec<u8> = root.bytes().collect();
    let n = last_changed.len() - 1;
    last_changed[n] = if last_changed[n] == b'0' { b'1' } else { b'0' };
    let last_changed = String::from_utf8(last_changed).unwrap();
    for wrong in [
        format!("{root}x"),
        root[..root.len() - 1].to_owned(),
        root.to_uppercase(),
        last_changed,
    ] {
        let resp = me_with(
            &app,
            "Authorization",
            HeaderValue::from_str(&format!("Bearer {wrong}")).unwrap(),
        )
        .await;
        assert_invalid_token(resp).await;
    }
    // The root token is a Bearer credential, not an API key.
    let resp = me_with(&app, "X-API-Key", HeaderValue::from_str(&root).unwrap()).await;
    assert_invalid_token(resp).await;

    let resp = me_with(
        &app,
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {root}")).unwrap(),
    )
    .await;
    let me = expect_json(resp, 200).await;
    assert_eq!(me["auth_method"], "root_token");
    assert!(
        !me.to_string().contains(&root),
        "the root token is echoed: {me}"
    );
}

async fn an_access_token_is_not_an_api_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, _, key) = owner_key(&app, &["read"]).await;
    let resp = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .header("X-API-Key", &key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let token = expect_json(resp, 200).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let resp = me_with(&app, "X-API-Key", HeaderValue::from_str(&token).unwrap()).await;
    assert_invalid_token(resp).await;
    let resp = me_with(
        &app,
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    )
    .await;
    assert_eq!(expect_json(resp, 200).await["auth_method"], "access_token");
}
