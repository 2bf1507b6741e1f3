//! Access tokens: `POST /api/v1/auth/token` and `/.well-known/jwks.json` (sections 6 and 8).

use crate::api_keys::{field_names, names, string_set};
use crate::credentials::assert_invalid_token;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use portcullis_domain::Clock;
use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    the_jwks_publishes_ed25519_public_keys_only,
    a_key_mints_a_verifiable_access_token,
    an_access_token_authenticates_as_bearer,
    an_access_token_expires_after_five_minutes_by_the_servers_clock,
    tokens_are_dated_by_the_servers_clock,
    a_session_must_name_the_organization_to_mint,
    a_session_minted_token_is_a_person_that_cannot_manage_sessions,
    a_key_minted_token_is_not_a_person,
    an_access_token_keeps_its_scopes_after_a_demotion,
    an_access_token_is_bound_to_its_organization,
    the_root_token_mints_a_token_without_a_subject,
    a_tampered_access_token_is_refused,
    a_server_refuses_tokens_of_another_issuer_even_signed_with_its_key,
);

const TOKEN_FIELDS: &[&str] = &["access_token", "token_type", "expires_in"];

async fn mint(request: reqwest::RequestBuilder, body: Value) -> String {
    let resp = request.json(&body).send().await.expect("POST /auth/token");
    let minted = expect_json(resp, 200).await;
    assert_eq!(field_names(&minted), names(TOKEN_FIELDS), "{minted}");
    assert_eq!(minted["token_type"], "Bearer");
    assert_eq!(minted["expires_in"], 300);
    minted["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn token_request(app: &TestApp, client: &reqwest::Client) -> reqwest::RequestBuilder {
    client.post(app.url("/api/v1/auth/token"))
}

async fn jwks(app: &TestApp) -> Value {
    let resp = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await
}

/// Checks the header and signature against the published JWKS; returns the claims.
async fn verify(app: &TestApp, token: &str) -> Value {
    let header = decode_header(token).expect("a JWT header");
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.expect("the header names its key (kid)");
    let set = jwks(app).await;
    let published = set["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS: {set}"));
    let jwk: Jwk = serde_json::from_value(published.clone()).expect("an RFC 7517 JWK");
    let key = DecodingKey::from_jwk(&jwk).expect("a decoding key from the JWK");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_aud = false;
    let data = decode::<Value>(token, &key, &validation)
        .expect("the signature verifies with the JWKS key");
    data.claims
}

fn claims_unverified(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload"))
        .expect("JSON claims")
}

async fn me_with_token(app: &TestApp, token: &str) -> reqwest::Response {
    app.http
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn authorize_with_token(app: &TestApp, token: &str, permission: &str) -> reqwest::Response {
    app.http
        .get(app.url("/api/v1/authorize"))
        .query(&[("permission", permission)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn the_jwks_publishes_ed25519_public_keys_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let set = jwks(&app).await;
    let keys = set["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("{{\"keys\": [...]}}: {set}"));
    assert!(!keys.is_empty(), "{set}");
    for key in keys {
        assert_eq!(key["kty"], "OKP", "{key}");
        assert_eq!(key["crv"], "Ed25519", "{key}");
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "{key}");
        let x = URL_SAFE_NO_PAD
            .decode(key["x"].as_str().expect("x"))
            .expect("x is base64url");
        assert_eq!(x.len(), 32, "an Ed25519 public key is 32 bytes: {key}");
        assert!(
            key.get("d").is_none(),
            "the JWKS leaks the private key: {key}"
        );
    }
}

async fn a_key_mints_a_verifiable_access_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["read", "deploy"]).await;
    let key = created["key"].as_str().unwrap();

    let token = mint(
        token_request(&app, &app.http).header("X-API-Key", key),
        json!({}),
    )
    .await;
    let claims = verify(&app, &token).await;
    assert_eq!(claims["sub"], json!(owner.id), "{claims}");
    assert_eq!(claims["org"], json!(org), "{claims}");
    assert_eq!(claims["role"], "owner", "{claims}");
    assert_eq!(
        string_set(&claims["scopes"]),
        names(&["read", "deploy"]),
        "{claims}"
    );
    let iat = claims["iat"].as_i64().expect("iat is a number");
    let exp = claims["exp"].as_i64().expect("exp is a number");
    assert_eq!(exp - iat, 300, "{claims}");
    assert!((iat - app.clock.now().timestamp()).abs() <= 1, "{claims}");
    assert!(
        claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "{claims}"
    );
    assert!(
        claims["iss"].as_str().is_some_and(|i| !i.is_empty()),
        "{claims}"
    );

    // Every token has its own id; the key's own organization is the default and may be named.
    let again = mint(
        token_request(&app, &app.http).bearer_auth(key),
        json!({"organization_id": org}),
    )
    .await;
    let again = verify(&app, &again).await;
    assert_ne!(again["jti"], claims["jti"]);
    assert_eq!(again["org"], json!(org));
    // An admin's `["admin"]` key: the claims spell every permission out.
    let admin_key = app.api_key(&owner, &org, &["admin"]).await;
    let token = mint(
        token_request(&app, &app.http).header("X-API-Key", admin_key["key"].as_str().unwrap()),
        json!({}),
    )
    .await;
    let claims = verify(&app, &token).await;
    assert_eq!(
        claims["scopes"],
        json!(["admin", "write", "deploy", "read"]),
        "{claims}"
    );
}

async fn an_access_token_authenticates_as_bearer(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["read", "write"]).await;
    let token = mint(
        token_request(&app, &app.http).header("X-API-Key", created["key"].as_str().unwrap()),
        json!({}),
    )
    .await;

    let me = expect_json(me_with_token(&app, &token).await, 200).await;
    assert_eq!(me["auth_method"], "access_token");
    assert_eq!(me["user"]["id"], json!(owner.id));
    assert_eq!(me["organization_id"], json!(org));
    assert_eq!(string_set(&me["scopes"]), names(&["read", "write"]));

    let resp = authorize_with_token(&app, &token, "write").await;
    let allowed = expect_json(resp, 200).await;
    assert_eq!(allowed["auth_method"], "access_token");
    assert_eq!(allowed["organization_id"], json!(org));
    assert_eq!(allowed["user_id"], json!(owner.id));
    let resp = authorize_with_token(&app, &token, "deploy").await;
    let body = assert_error(resp, 403, "forbidden").await;
    assert_eq!(body["missing_permissions"], json!(["deploy"]), "{body}");

    let resp = app
        .http
        .get(app.url(&format!("/api/v1/organizations/{org}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["id"], json!(org));
}

async fn an_access_token_expires_after_five_minutes_by_the_servers_clock(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["read"]).await;
    let token = mint(
        token_request(&app, &app.http).header("X-API-Key", created["key"].as_str().unwrap()),
        json!({}),
    )
    .await;

    app.clock.advance(Duration::minutes(4));
    assert_eq!(
        me_with_token(&app, &token).await.status().as_u16(),
        200,
        "4 minutes in"
    );
    app.clock.advance(Duration::minutes(2));
    assert_invalid_token(me_with_token(&app, &token).await).await;
}

async fn tokens_are_dated_by_the_servers_clock(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["read"]).await;
    app.clock.advance(Duration::days(1));
    let token = mint(
        token_request(&app, &app.http).header("X-API-Key", created["key"].as_str().unwrap()),
        json!({}),
    )
    .await;
    let claims = claims_unverified(&token);
    let iat = claims["iat"].as_i64().unwrap();
    assert!(
        (iat - app.clock.now().timestamp()).abs() <= 1,
        "iat {iat} is not the server's clock: {claims}"
    );
    assert_eq!(me_with_token(&app, &token).await.status().as_u16(), 200);
}

async fn a_session_must_name_the_organization_to_mint(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;

    let resp = token_request(&app, &owner.client)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 422, "validation_failed").await;

    let token = mint(
        token_request(&app, &owner.client),
        json!({"organization_id": org}),
    )
    .await;
    let claims = verify(&app, &token).await;
    assert_eq!(claims["sub"], json!(owner.id));
    assert_eq!(claims["org"], json!(org));
    assert_eq!(claims["role"], "owner");
    assert_eq!(
        claims["scopes"],
        json!(["admin", "write", "deploy", "read"])
    );

    // Not a member: no token for that organization.
    let stranger = app.person().await;
    let resp = token_request(&app, &stranger.client)
        .json(&json!({"organization_id": org}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = token_request(&app, &owner.client)
        .json(&json!({"organization_id": "nope"}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert!(
        status == 400 || status == 422,
        "a malformed organization_id gave {status}"
    );
}

async fn a_session_minted_token_is_a_person_that_cannot_manage_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let token = mint(
        token_request(&app, &owner.client),
        json!({"organization_id": org}),
    )
    .await;

    for path in ["/api/v1/auth/sessions", "/api/v1/auth/session"] {
        let resp = app
            .http
            .get(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_error(resp, 403, "forbidden").await;
    }
    let resp = app
        .http
        .post(app.url("/api/v1/auth/password"))
        .bearer_auth(&token)
        .json(
            &json!({"current_password": owner.password, "new_password": "another long passphrase"}),
        )
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;

    // It is a person, though: it may create an organization.
    let resp = app
        .http
        .post(app.url("/api/v1/organizations"))
        .bearer_auth(&token)
        .json(&json!({"name": "By token", "slug": format!("tok-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await;
}

async fn a_key_minted_token_is_not_a_person(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["admin"]).await;
    let token = mint(
        token_request(&app, &app.http).header("X-API-Key", created["key"].as_str().unwrap()),
        json!({}),
    )
    .await;

    let resp = app
        .http
        .post(app.url("/api/v1/organizations"))
        .bearer_auth(&token)
        .json(&json!({"name": "By key token", "slug": "by-key-token"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = app
        .http
        .get(app.url("/api/v1/auth/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
}

async fn an_access_token_keeps_its_scopes_after_a_demotion(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let admin = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let token = mint(
        token_request(&app, &admin.client),
        json!({"organization_id": org}),
    )
    .await;

    let resp = owner
        .client
        .patch(app.url(&format!("/api/v1/organizations/{org}/members/{}", admin.id)))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;

    // The session sees the demotion at once...
    let resp = admin
        .client
        .get(app.url("/api/v1/authorize"))
        .query(&[("permission", "deploy"), ("organization_id", org.as_str())])
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    // ...the token carries what it had until it expires.
    let resp = authorize_with_token(&app, &token, "deploy").await;
    let allowed = expect_json(resp, 200).await;
    assert_eq!(allowed["role"], "admin");
    assert_eq!(
        allowed["scopes"],
        json!(["admin", "write", "deploy", "read"])
    );

    app.clock.advance(Duration::minutes(6));
    assert_invalid_token(authorize_with_token(&app, &token, "deploy").await).await;
}

async fn an_access_token_is_bound_to_its_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let home = app.organization(&owner).await;
    let other = app.organization(&owner).await;
    let token = mint(
        token_request(&app, &owner.client),
        json!({"organization_id": home}),
    )
    .await;

    let resp = app
        .http
        .get(app.url(&format!("/api/v1/organizations/{other}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = app
        .http
        .get(app.url("/api/v1/authorize"))
        .query(&[("permission", "read"), ("organization_id", other.as_str())])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/organizations/{home}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
}

async fn the_root_token_mints_a_token_without_a_subject(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;

    let resp = token_request(&app, &app.http)
        .bearer_auth(&app.root_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 422, "validation_failed").await;

    let token = mint(
        token_request(&app, &app.http).bearer_auth(&app.root_token),
        json!({"organization_id": org}),
    )
    .await;
    let claims = verify(&app, &token).await;
    assert_eq!(claims["sub"], Value::Null, "{claims}");
    assert_eq!(claims["org"], json!(org), "{claims}");
    assert_eq!(
        claims["scopes"],
        json!(["admin", "write", "deploy", "read"]),
        "{claims}"
    );
    let resp = authorize_with_token(&app, &token, "admin").await;
    let allowed = expect_json(resp, 200).await;
    assert_eq!(allowed["user_id"], Value::Null);
    assert_eq!(allowed["organization_id"], json!(org));
}

async fn a_tampered_access_token_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let viewer = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    let token = mint(
        token_request(&app, &viewer.client),
        json!({"organization_id": org}),
    )
    .await;
    assert_eq!(me_with_token(&app, &token).await.status().as_u16(), 200);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");

    // A changed signature.
    let mut signature: Vec<u8> = parts[2].bytes().collect();
    let middle = signature.len() / 2;
    signature[middle] = if signature[middle] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let bad_signature = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(signature).unwrap()
    );
    assert_invalid_token(me_with_token(&app, &bad_signature).await).await;

    // Claims raised to owner under the original signature.
    let mut claims = claims_unverified(&token);
    claims["role"] = json!("owner");
    claims["scopes"] = json!(["admin", "write", "deploy", "read"]);
    let raised = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let forged = format!("{}.{raised}.{}", parts[0], parts[2]);
    assert_invalid_token(authorize_with_token(&app, &forged, "admin").await).await;

    // No signature at all.
    let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    assert_invalid_token(me_with_token(&app, &format!("{none}.{raised}.")).await).await;
    assert_invalid_token(me_with_token(&app, &format!("{}.{}.", parts[0], parts[1])).await).await;
}

/// Staging runs on a copy of production's database, signing key included: its tokens name
/// staging's issuer, and production accepts only its own.
async fn a_server_refuses_tokens_of_another_issuer_even_signed_with_its_key(backend: Backend) {
    let production = spawn_app_with(backend, |s| {
        s.public_url = Some("https://auth.example.com/".into());
    })
    .await;
    let staging = production
        .replica_with(|s| s.public_url = Some("https://auth.staging.example.com".into()))
        .await;
    let named = production
        .replica_with(|s| {
            s.public_url = Some("https://auth.example.com".into());
            s.token_issuer = Some("acme-eu-1".into());
        })
        .await;
    let owner = production.person().await;
    let org = production.organization(&owner).await;
    let created = production.api_key(&owner, &org, &["read"]).await;
    let key = created["key"].as_str().unwrap();
    let mint_at = |app: &TestApp| {
        mint(
            token_request(app, &app.http).header("X-API-Key", key),
            json!({}),
        )
    };

    let own = mint_at(&production).await;
    assert_eq!(claims_unverified(&own)["iss"], "https://auth.example.com");
    let status = authorize_with_token(&production, &own, "read")
        .await
        .status();
    assert_eq!(status, 200);

    let from_staging = mint_at(&staging).await;
    assert_eq!(
        claims_unverified(&from_staging)["iss"],
        "https://auth.staging.example.com"
    );
    let status = authorize_with_token(&staging, &from_staging, "read")
        .await
        .status();
    assert_eq!(status, 200, "staging accepts its own");
    assert_invalid_token(authorize_with_token(&production, &from_staging, "read").await).await;

    // PORTCULLIS_TOKEN_ISSUER wins over the public URL.
    let from_named = mint_at(&named).await;
    assert_eq!(claims_unverified(&from_named)["iss"], "acme-eu-1");
    assert_invalid_token(authorize_with_token(&production, &from_named, "read").await).await;
    assert_invalid_token(authorize_with_token(&named, &own, "read").await).await;
}
