//! The example PaaS over HTTP: users, organizations and keys are made through the mounted
//! `/auth/api/v1/...` routes, then the PaaS's own routes are called with them.

use paas::{Application, Settings};
use portcullis_domain::SystemClock;
use portcullis_server::SignupMode;
use portcullis_tests::{Backend, TestDatabase, assert_error, backend_tests, expect_json};
use reqwest::header::{HeaderMap, HeaderValue, ORIGIN, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::task::JoinHandle;

backend_tests!(
    each_route_lets_through_only_keys_holding_its_permission,
    requests_without_a_valid_credential_get_401,
    sessions_and_access_tokens_pass_the_guard_too,
);

async fn each_route_lets_through_only_keys_holding_its_permission(backend: Backend) {
    let paas = Paas::spawn(backend).await;
    let owner = paas.person().await;
    let developer = paas.person().await;
    let demoted = paas.person().await;
    let org = paas.organization(&owner).await;
    paas.add_member(&owner, &org, &developer, "developer").await;
    paas.add_member(&owner, &org, &demoted, "developer").await;

    let read_only = paas.api_key(&developer, &org, &["read"]).await;
    let resp = paas.get_projects(&org, &read_only).await;
    let projects = expect_json(resp, 200).await;
    assert_eq!(
        projects,
        json!([
            {"name": "web", "organization_id": org},
            {"name": "worker", "organization_id": org},
        ])
    );
    let body = assert_error(paas.deploy(&org, &read_only).await, 403, "forbidden").await;
    assert_eq!(body["missing_permissions"], json!(["deploy"]), "{body}");

    let deployer = paas.api_key(&developer, &org, &["deploy"]).await;
    let deployment = expect_json(paas.deploy(&org, &deployer).await, 200).await;
    assert_eq!(deployment["organization_id"], json!(org));
    assert_eq!(deployment["requested_by"], json!(developer.id));
    assert_eq!(deployment["auth_method"], "api_key");
    assert_eq!(deployment["role"], "developer");
    // `read` is not in the key's scopes: a deploy-only key cannot list.
    let body = assert_error(paas.get_projects(&org, &deployer).await, 403, "forbidden").await;
    assert_eq!(body["missing_permissions"], json!(["read"]), "{body}");

    // A key follows its user's current role: made by a developer, used by a viewer.
    let viewers_key = paas.api_key(&demoted, &org, &["read", "deploy"]).await;
    expect_json(paas.deploy(&org, &viewers_key).await, 200).await;
    paas.change_role(&owner, &org, &demoted, "viewer").await;
    let body = assert_error(paas.deploy(&org, &viewers_key).await, 403, "forbidden").await;
    assert_eq!(body["missing_permissions"], json!(["deploy"]), "{body}");
    expect_json(paas.get_projects(&org, &viewers_key).await, 200).await;

    // A key is bound to its own organization.
    let stranger = paas.person().await;
    let other_org = paas.organization(&stranger).await;
    let foreign = paas
        .api_key(&stranger, &other_org, &["read", "deploy"])
        .await;
    expect_json(paas.deploy(&other_org, &foreign).await, 200).await;
    assert_error(paas.deploy(&org, &foreign).await, 403, "forbidden").await;
    assert_error(paas.get_projects(&org, &foreign).await, 403, "forbidden").await;
}

async fn requests_without_a_valid_credential_get_401(backend: Backend) {
    let paas = Paas::spawn(backend).await;
    let owner = paas.person().await;
    let org = paas.organization(&owner).await;

    let resp = paas
        .http
        .post(paas.url(&format!("/projects/{org}/deploy")))
        .send()
        .await
        .expect("POST /deploy");
    assert_eq!(
        resp.headers()[WWW_AUTHENTICATE],
        r#"Bearer realm="portcullis""#
    );
    assert_error(resp, 401, "unauthenticated").await;

    let garbage = "pcl_0000000000000000000000000000000000000000000000000";
    let resp = paas.deploy(&org, garbage).await;
    let challenge = resp.headers()[WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert_error(resp, 401, "unauthenticated").await;
    assert_error(
        paas.get_projects(&org, "not a key").await,
        401,
        "unauthenticated",
    )
    .await;

    // Revoked through the mounted API: the PaaS refuses it at once.
    let key = paas.api_key(&owner, &org, &["deploy"]).await;
    expect_json(paas.deploy(&org, &key).await, 200).await;
    let key_id = paas.key_id(&owner, &org).await;
    let resp = owner
        .client
        .delete(paas.url(&format!(
            "/auth/api/v1/organizations/{org}/api-keys/{key_id}"
        )))
        .send()
        .await
        .expect("DELETE /api-keys/{id}");
    assert_eq!(resp.status(), 204);
    assert_error(paas.deploy(&org, &key).await, 401, "unauthenticated").await;

    // The organization comes from the path; a path that holds no id is a bad request.
    assert_error(paas.deploy("not-an-id", &key).await, 400, "bad_request").await;
}

async fn sessions_and_access_tokens_pass_the_guard_too(backend: Backend) {
    let paas = Paas::spawn(backend).await;
    let owner = paas.person().await;
    let org = paas.organization(&owner).await;

    // The session cookie set by `/auth/api/v1/auth/login` is good on the host's routes.
    let resp = owner
        .client
        .get(paas.url(&format!("/projects/{org}")))
        .send()
        .await
        .expect("GET /projects with a session");
    expect_json(resp, 200).await;
    let resp = owner
        .client
        .post(paas.url(&format!("/projects/{org}/deploy")))
        .send()
        .await
        .expect("POST /deploy with a session");
    let deployment = expect_json(resp, 200).await;
    assert_eq!(deployment["auth_method"], "session");
    assert_eq!(deployment["role"], "owner");

    let key = paas.api_key(&owner, &org, &["deploy"]).await;
    let resp = paas
        .http
        .post(paas.url("/auth/api/v1/auth/token"))
        .header("x-api-key", &key)
        .json(&json!({}))
        .send()
        .await
        .expect("POST /auth/token");
    let token = expect_json(resp, 200).await;
    let resp = paas
        .http
        .post(paas.url(&format!("/projects/{org}/deploy")))
        .bearer_auth(token["access_token"].as_str().expect("access_token"))
        .send()
        .await
        .expect("POST /deploy with an access token");
    let deployment = expect_json(resp, 200).await;
    assert_eq!(deployment["auth_method"], "access_token");

    let resp = paas
        .http
        .post(paas.url(&format!("/projects/{org}/deploy")))
        .bearer_auth(&paas.root_token)
        .send()
        .await
        .expect("POST /deploy with the root token");
    let deployment = expect_json(resp, 200).await;
    assert_eq!(deployment["auth_method"], "root_token");
    assert_eq!(deployment["requested_by"], Value::Null);

    let health = paas
        .http
        .get(paas.url("/auth/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(health, 200).await, json!({"status": "ok"}));
}

// ---- the PaaS under test ----

struct Paas {
    address: String,
    root_token: String,
    http: reqwest::Client,
    server: JoinHandle<()>,
    _database: TestDatabase,
}

struct Person {
    /// Holds the session cookie; sends `Origin`, which cookie-authenticated writes need.
    client: reqwest::Client,
    id: String,
    email: String,
}

impl Drop for Paas {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Paas {
    async fn spawn(backend: Backend) -> Self {
        let database = TestDatabase::create(backend).await;
        let root_token = format!("root-{}", uuid::Uuid::new_v4().simple());
        let mut auth = portcullis_server::Settings::with_database(database.url.clone());
        auth.signup = SignupMode::Closed;
        auth.cookie_secure = false;
        auth.api_token = Some(root_token.clone());
        let settings = Settings {
            bind: "127.0.0.1:0".into(),
            auth,
        };
        let app = Application::build(settings, Arc::new(SystemClock))
            .await
            .expect("the PaaS builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(async move {
            app.run_until_stopped(std::future::pending())
                .await
                .expect("the PaaS runs");
        });
        Self {
            address,
            root_token,
            http: reqwest::Client::new(),
            server,
            _database: database,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A user made by the root token, logged in through the mounted login route.
    async fn person(&self) -> Person {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "correct horse battery";
        let resp = self
            .http
            .post(self.url("/auth/api/v1/admin/users"))
            .bearer_auth(&self.root_token)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("POST /auth/api/v1/admin/users");
        let user = expect_json(resp, 201).await;

        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_str(&self.address).unwrap());
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .build()
            .expect("browser client");
        let resp = client
            .post(self.url("/auth/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("POST /auth/api/v1/auth/login");
        expect_json(resp, 200).await;
        Person {
            client,
            id: user["id"].as_str().expect("user id").to_owned(),
            email,
        }
    }

    async fn organization(&self, owner: &Person) -> String {
        let slug = format!("org-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let resp = owner
            .client
            .post(self.url("/auth/api/v1/organizations"))
            .json(&json!({"name": "Acme", "slug": slug}))
            .send()
            .await
            .expect("POST /auth/api/v1/organizations");
        let org = expect_json(resp, 201).await;
        org["id"].as_str().expect("organization id").to_owned()
    }

    async fn add_member(&self, by: &Person, org: &str, member: &Person, role: &str) {
        let resp = by
            .client
            .post(self.url(&format!("/auth/api/v1/organizations/{org}/members")))
            .json(&json!({"email": member.email, "role": role}))
            .send()
            .await
            .expect("POST /members");
        expect_json(resp, 201).await;
    }

    async fn change_role(&self, by: &Person, org: &str, member: &Person, role: &str) {
        let resp = by
            .client
            .patch(self.url(&format!(
                "/auth/api/v1/organizations/{org}/members/{}",
                member.id
            )))
            .json(&json!({"role": role}))
            .send()
            .await
            .expect("PATCH /members/{id}");
        expect_json(resp, 200).await;
    }

    /// The plaintext of a new key of `by` in `org`.
    async fn api_key(&self, by: &Person, org: &str, scopes: &[&str]) -> String {
        let resp = by
            .client
            .post(self.url(&format!("/auth/api/v1/organizations/{org}/api-keys")))
            .json(&json!({"name": "paas", "scopes": scopes}))
            .send()
            .await
            .expect("POST /api-keys");
        let key = expect_json(resp, 201).await;
        key["key"].as_str().expect("key").to_owned()
    }

    /// The id of `by`'s only key in `org`.
    async fn key_id(&self, by: &Person, org: &str) -> String {
        let resp = by
            .client
            .get(self.url(&format!("/auth/api/v1/organizations/{org}/api-keys")))
            .send()
            .await
            .expect("GET /api-keys");
        let keys = expect_json(resp, 200).await;
        keys[0]["id"].as_str().expect("key id").to_owned()
    }

    async fn get_projects(&self, org: &str, key: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/projects/{org}")))
            .header("x-api-key", key)
            .send()
            .await
            .expect("GET /projects")
    }

    async fn deploy(&self, org: &str, key: &str) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/projects/{org}/deploy")))
            .header("x-api-key", key)
            .send()
            .await
            .expect("POST /deploy")
    }
}
