//! Forward auth: `GET /api/v1/authorize?permission=P&organization_id=O` (sections 6 and 8).

use crate::api_keys::{field_names, names, string_set};
use crate::service_accounts::{service_account, service_account_key};
use portcullis_tests::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

backend_tests!(
    a_key_is_authorized_in_its_own_organization_by_default,
    an_admin_key_reads_every_permission_spelled_out,
    a_key_lacking_the_permission_gets_403_naming_it,
    no_credential_gets_401,
    a_session_must_name_the_organization,
    a_session_gets_its_roles_grants,
    the_root_token_is_allowed_everywhere_as_nobody,
    a_bad_permission_name_is_refused,
    a_bad_organization_id_is_a_bad_request,
    the_fast_path_answers_exactly_as_the_openapi_operation,
);

const ALLOWED_FIELDS: &[&str] = &[
    "allowed",
    "user_id",
    "service_account_id",
    "organization_id",
    "resource",
    "role",
    "scopes",
    "auth_method",
];

struct Answer {
    status: u16,
    user: Option<String>,
    organization: Option<String>,
    role: Option<String>,
    scopes: Option<String>,
    body: Value,
}

async fn answer(resp: reqwest::Response) -> Answer {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().expect("ASCII header").to_owned())
    };
    let (user, organization, role, scopes) = (
        header("X-Portcullis-User"),
        header("X-Portcullis-Organization"),
        header("X-Portcullis-Role"),
        header("X-Portcullis-Scopes"),
    );
    let status = resp.status().as_u16();
    let body = expect_json(resp, status).await;
    Answer {
        status,
        user,
        organization,
        role,
        scopes,
        body,
    }
}

fn header_scopes(header: &Option<String>) -> std::collections::BTreeSet<String> {
    let header = header.as_deref().expect("X-Portcullis-Scopes is sent");
    header
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn authorize(
    app: &TestApp,
    client: &reqwest::Client,
    query: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    client.get(app.url("/api/v1/authorize")).query(query)
}

async fn a_key_is_authorized_in_its_own_organization_by_default(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let developer = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let created = app.api_key(&developer, &org, &["read", "deploy"]).await;
    let key = created["key"].as_str().unwrap();

    let resp = authorize(&app, &app.http, &[("permission", "deploy")])
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    let a = answer(resp).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(field_names(&a.body), names(ALLOWED_FIELDS), "{}", a.body);
    assert_eq!(a.body["allowed"], true);
    assert_eq!(a.body["user_id"], json!(developer.id));
    assert_eq!(a.body["organization_id"], json!(org));
    assert_eq!(a.body["role"], "developer");
    assert_eq!(a.body["auth_method"], "api_key");
    assert_eq!(string_set(&a.body["scopes"]), names(&["read", "deploy"]));
    assert_eq!(a.user.as_deref(), Some(developer.id.as_str()));
    assert_eq!(a.organization.as_deref(), Some(org.as_str()));
    assert_eq!(a.role.as_deref(), Some("developer"));
    assert_eq!(header_scopes(&a.scopes), names(&["read", "deploy"]));

    // Naming its own organization explicitly is the same.
    let resp = authorize(
        &app,
        &app.http,
        &[("permission", "read"), ("organization_id", &org)],
    )
    .header("X-API-Key", key)
    .send()
    .await
    .unwrap();
    let a = answer(resp).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["organization_id"], json!(org));
}

async fn an_admin_key_reads_every_permission_spelled_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let admin = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    let created = app.api_key(&admin, &org, &["admin"]).await;

    for permission in ["admin", "write", "deploy", "read"] {
        let resp = authorize(&app, &app.http, &[("permission", permission)])
            .bearer_auth(created["key"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        let a = answer(resp).await;
        assert_eq!(a.status, 200, "{permission}: {}", a.body);
        assert_eq!(
            a.body["scopes"],
            json!(["admin", "write", "deploy", "read"])
        );
        assert_eq!(a.body["role"], "admin");
        assert_eq!(a.role.as_deref(), Some("admin"));
        assert_eq!(
            header_scopes(&a.scopes),
            names(&["admin", "write", "deploy", "read"])
        );
    }
}

async fn a_key_lacking_the_permission_gets_403_naming_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    // The owner may do everything, but the key only reads and writes.
    let created = app.api_key(&owner, &org, &["read", "write"]).await;
    for missing in ["deploy", "admin"] {
        let resp = authorize(&app, &app.http, &[("permission", missing)])
            .header("X-API-Key", created["key"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        let body = assert_error(resp, 403, "forbidden").await;
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains(&format!("'{missing}'")),
            "{body}"
        );
        assert_eq!(body["missing_permissions"], json!([missing]), "{body}");
    }
    let resp = authorize(&app, &app.http, &[("permission", "write")])
        .header("X-API-Key", created["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let a = answer(resp).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["role"], "owner");
    assert_eq!(string_set(&a.body["scopes"]), names(&["read", "write"]));
}

async fn no_credential_gets_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let resp = authorize(
        &app,
        &app.http,
        &[("permission", "read"), ("organization_id", &org)],
    )
    .send()
    .await
    .unwrap();
    let challenge = resp
        .headers()
        .get("WWW-Authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_error(resp, 401, "unauthenticated").await;
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="portcullis""#));

    let resp = authorize(
        &app,
        &app.http,
        &[("permission", "read"), ("organization_id", &org)],
    )
    .bearer_auth("nonsense")
    .send()
    .await
    .unwrap();
    crate::credentials::assert_invalid_token(resp).await;
}

async fn a_session_must_name_the_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    app.organization(&owner).await;
    let resp = authorize(&app, &owner.client, &[("permission", "read")])
        .send()
        .await
        .unwrap();
    assert_error(resp, 422, "validation_failed").await;
}

async fn a_session_gets_its_roles_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let developer = app.person().await;
    let stranger = app.person().await;
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;

    let resp = authorize(
        &app,
        &owner.client,
        &[("permission", "admin"), ("organization_id", &org)],
    )
    .send()
    .await
    .unwrap();
    let a = answer(resp).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(field_names(&a.body), names(ALLOWED_FIELDS), "{}", a.body);
    assert_eq!(a.body["auth_method"], "session");
    assert_eq!(a.body["role"], "owner");
    assert_eq!(a.body["user_id"], json!(owner.id));
    assert_eq!(
        a.body["scopes"],
        json!(["admin", "write", "deploy", "read"])
    );
    assert_eq!(a.user.as_deref(), Some(owner.id.as_str()));
    assert_eq!(a.role.as_deref(), Some("owner"));
    assert_eq!(a.organization.as_deref(), Some(org.as_str()));

    let resp = authorize(
        &app,
        &developer.client,
        &[("permission", "deploy"), ("organization_id", &org)],
    )
    .send()
    .await
    .unwrap();
    let a = answer(resp).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["role"], "developer");
    assert_eq!(
        string_set(&a.body["scopes"]),
        names(&["write", "deploy", "read"])
    );
    assert_eq!(
        header_scopes(&a.scopes),
        names(&["write", "deploy", "read"])
    );

    let resp = authorize(
        &app,
        &developer.client,
        &[("permission", "admin"), ("organization_id", &org)],
    )
    .send()
    .await
    .unwrap();
    let body = assert_error(resp, 403, "forbidden").await;
    assert_eq!(body["missing_permissions"], json!(["admin"]), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("'admin'"),
        "{body}"
    );

    // Not a member: 403, whether or not the organization exists.
    let resp = authorize(
        &app,
        &stranger.client,
        &[("permission", "read"), ("organization_id", &org)],
    )
    .send()
    .await
    .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let resp = authorize(
        &app,
        &stranger.client,
        &[("permission", "read"), ("organization_id", &unknown)],
    )
    .send()
    .await
    .unwrap();
    assert_error(resp, 403, "forbidden").await;
}

async fn the_root_token_is_allowed_everywhere_as_nobody(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let resp = authorize(
        &app,
        &app.http,
        &[("permission", "admin"), ("organization_id", &org)],
    )
    .bearer_auth(&app.root_token)
    .send()
    .await
    .unwrap();
    let a = answer(resp).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(field_names(&a.body), names(ALLOWED_FIELDS), "{}", a.body);
    assert_eq!(a.body["allowed"], true);
    assert_eq!(a.body["user_id"], Value::Null);
    assert_eq!(a.body["role"], Value::Null);
    assert_eq!(a.body["organization_id"], json!(org));
    assert_eq!(a.body["auth_method"], "root_token");
    assert_eq!(
        a.body["scopes"],
        json!(["admin", "write", "deploy", "read"])
    );
    assert_eq!(
        a.user.as_deref(),
        Some(""),
        "X-Portcullis-User is sent empty"
    );
    assert_eq!(
        a.role.as_deref(),
        Some(""),
        "X-Portcullis-Role is sent empty"
    );
    assert_eq!(a.organization.as_deref(), Some(org.as_str()));
    assert_eq!(
        header_scopes(&a.scopes),
        names(&["admin", "write", "deploy", "read"])
    );

    // Without an organization it has nothing to default to.
    let resp = authorize(&app, &app.http, &[("permission", "read")])
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_error(resp, 422, "validation_failed").await;
}

async fn a_bad_permission_name_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["admin"]).await;
    let key = created["key"].as_str().unwrap();
    let queries: Vec<Vec<(&str, &str)>> = vec![
        vec![("permission", "superuser")],
        vec![("permission", "")],
        vec![("permission", "READ ")],
        vec![("permission", "read,write")],
        vec![],
    ];
    for query in queries {
        let resp = authorize(&app, &app.http, &query)
            .header("X-API-Key", key)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        assert!(status == 400 || status == 422, "{query:?} gave {status}");
        let code = if status == 400 {
            "bad_request"
        } else {
            "validation_failed"
        };
        assert_error(resp, status, code).await;
    }
}

async fn a_bad_organization_id_is_a_bad_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = app.api_key(&owner, &org, &["admin"]).await;
    for bad in ["not-a-uuid", "123", &format!("{org}x")] {
        let resp = authorize(
            &app,
            &app.http,
            &[("permission", "read"), ("organization_id", bad)],
        )
        .header("X-API-Key", created["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
        assert_error(resp, 400, "bad_request").await;
        let resp = authorize(
            &app,
            &owner.client,
            &[("permission", "read"), ("organization_id", bad)],
        )
        .send()
        .await
        .unwrap();
        assert_error(resp, 400, "bad_request").await;
    }
}

/// What a client can see of an answer, but the `Date` header.
#[derive(Debug, PartialEq)]
struct Seen {
    status: u16,
    headers: BTreeMap<String, Vec<String>>,
    body: String,
}

async fn seen(app: &TestApp, credential: &[(&str, &str)], query: &str) -> Seen {
    let mut request = app.http.get(app.url(&format!("/api/v1/authorize?{query}")));
    for (name, value) in credential {
        request = request.header(*name, *value);
    }
    let resp = request.send().await.unwrap();
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in resp.headers() {
        if name != "date" {
            let value = value.to_str().unwrap().to_owned();
            headers.entry(name.to_string()).or_default().push(value);
        }
    }
    Seen {
        status: resp.status().as_u16(),
        headers,
        body: resp.text().await.unwrap(),
    }
}

/// `/authorize` with a plainly spelled query is answered by a fast path; the same query with its
/// permission percent-encoded (`%72ead`) goes to the OpenAPI operation. Every answer, allowed or
/// not, must be the same byte for byte: status, headers and body.
async fn the_fast_path_answers_exactly_as_the_openapi_operation(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let developer = app.person().await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let grants = format!(
        "/api/v1/organizations/{org}/members/{}/grants",
        developer.id
    );
    let resp = owner
        .client
        .put(app.url(&grants))
        .json(&json!({"resource": "projects/web", "role": "admin"}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    let key = app.api_key(&owner, &org, &["read", "deploy"]).await;
    let key = key["key"].as_str().unwrap().to_owned();
    let resp = owner
        .client
        .post(app.url(&format!("/api/v1/organizations/{org}/api-keys")))
        .json(&json!({"name": "web only", "scopes": ["admin"], "resources": ["projects/web"]}))
        .send()
        .await
        .unwrap();
    let restricted = expect_json(resp, 201).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let sa = service_account(&app, &owner, &org, "developer").await;
    let sa_key = service_account_key(&app, &owner, &org, sa["id"].as_str().unwrap(), &["deploy"])
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .http
        .post(app.url("/api/v1/auth/token"))
        .header("X-API-Key", &key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let jwt = expect_json(resp, 200).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = app.session_cookie(&owner).await;
    let developer_cookie = app.session_cookie(&developer).await;
    let root = format!("Bearer {}", app.root_token);
    let bearer_jwt = format!("Bearer {jwt}");
    let token_key = format!("Token {key}");
    let unknown = format!("{}x", &key[..key.len() - 1]);

    let credentials: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("key", vec![("X-API-Key", &key)]),
        ("Token key", vec![("Authorization", &token_key)]),
        ("restricted key", vec![("X-API-Key", &restricted)]),
        ("service-account key", vec![("X-API-Key", &sa_key)]),
        ("JWT", vec![("Authorization", &bearer_jwt)]),
        ("session", vec![("Cookie", &cookie)]),
        ("developer's session", vec![("Cookie", &developer_cookie)]),
        ("root token", vec![("Authorization", &root)]),
        ("unknown key", vec![("X-API-Key", &unknown)]),
        ("no credential", vec![]),
    ];
    let other_org = app.organization(&developer).await;
    let mut answered = std::collections::BTreeSet::new();
    for (label, credential) in &credentials {
        for permission in ["read", "deploy", "admin"] {
            for scope in [
                String::new(),
                format!("&organization_id={org}"),
                format!("&organization_id={other_org}"),
                "&organization_id=00000000-0000-4000-8000-000000000000".to_owned(),
                format!("&organization_id={org}&resource=projects/web"),
                format!("&organization_id={org}&resource=projects/webshop/x"),
                "&resource=projects/web".to_owned(),
            ] {
                let fast = seen(&app, credential, &format!("permission={permission}{scope}")).await;
                let (first, rest) = permission.split_at(1);
                let encoded = format!("permission=%{:02X}{rest}{scope}", first.as_bytes()[0]);
                let slow = seen(&app, credential, &encoded).await;
                assert_eq!(fast, slow, "{label}: permission={permission}{scope}");
                answered.insert(fast.status);
            }
        }
    }
    // The comparison covered allowed and refused answers alike.
    assert_eq!(
        answered.into_iter().collect::<Vec<_>>(),
        [200, 401, 403, 404, 422]
    );
}
