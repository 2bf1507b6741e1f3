//! The black-box harness: each test gets its own server on a fresh database, reached over HTTP.

pub use portcullis_api::AppState;
mod proxy;
mod smtp;

pub use portcullis_domain::ManualClock;
pub use portcullis_server::{Settings, SignupMode};
pub use proxy::DatabaseProxy;
pub use smtp::{SmtpSink, free_port};

use portcullis_domain::Clock;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, ORIGIN};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Once};
use tokio::task::JoinHandle;

/// The password every `person()` gets.
pub const PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// The server's clock: advance it instead of sleeping.
    pub clock: Arc<ManualClock>,
    /// This app's root token (`PORTCULLIS_API_TOKEN`), random per app.
    pub root_token: String,
    /// A plain client: no cookie store, no default headers.
    pub http: reqwest::Client,
    /// The server's state, for test hooks (`state.read_pause`) only: tests talk HTTP.
    pub state: AppState,
    server: JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _database: Arc<TestDatabase>,
}

pub struct Person {
    /// A browser-like client holding this person's session cookie.
    pub client: reqwest::Client,
    pub id: String,
    pub email: String,
    pub password: String,
}

/// Fresh database, root token set, signup `Open`, cookie_secure false (reqwest's cookie store
/// won't send Secure cookies over http), bind 127.0.0.1:0.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Same defaults, then `configure` may change any `Settings` field before start.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let database = Arc::new(TestDatabase::create(backend).await);
    let root_token = format!(
        "root-{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    start(database, root_token, configure).await
}

/// The usual test server on a database prepared beforehand (for upgrade tests); migrations
/// still run at start-up.
pub async fn spawn_app_on(database: TestDatabase) -> TestApp {
    init_logs();
    let root_token = format!("root-{}", uuid::Uuid::new_v4().simple());
    start(Arc::new(database), root_token, |_| {}).await
}

/// The usual test server on a fresh PostgreSQL database that it reaches through a
/// `DatabaseProxy`, so the test can take the database away; its replicas go through it too.
pub async fn spawn_app_behind_proxy() -> (TestApp, DatabaseProxy) {
    let mut database = TestDatabase::create(Backend::Postgres).await;
    let proxy = DatabaseProxy::start(&database.url).await;
    database.url = proxy.url.clone();
    (spawn_app_on(database).await, proxy)
}

async fn start(
    database: Arc<TestDatabase>,
    root_token: String,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings::with_database(database.url.clone());
    settings.bind = "127.0.0.1:0".into();
    settings.api_token = Some(root_token.clone());
    settings.signup = SignupMode::Open;
    settings.cookie_secure = false;
    configure(&mut settings);

    let clock = Arc::new(ManualClock::default());
    let app = portcullis_server::Application::build(settings, clock.clone() as Arc<dyn Clock>)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until_stopped(async move {
            let _ = stopped.await;
        })
        .await
        .expect("the server runs");
    });
    TestApp {
        address,
        clock,
        root_token,
        http: reqwest::Client::new(),
        state,
        server,
        stop: Some(stop),
        _database: database,
    }
}

impl TestApp {
    /// Stops the server as SIGTERM does (requests drained, pending writes and queued emails
    /// flushed) and waits until it has.
    pub async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await.expect("the server stops cleanly");
    }

    /// A second server on the same database, with its own caches and clock: a replica.
    pub async fn replica(&self) -> TestApp {
        self.replica_with(|_| {}).await
    }

    /// A replica whose settings `configure` may change (another deployment on a copy of the
    /// same data, say).
    pub async fn replica_with(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        start(self._database.clone(), self.root_token.clone(), configure).await
    }

    /// The URL this app's database is reached at.
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    /// Whether this replica hears other replicas' cache invalidations, as `/metrics` says.
    pub async fn listening(&self) -> bool {
        let metrics = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text");
        metrics
            .lines()
            .any(|line| line == "portcullis_invalidation_listener_up 1")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A browser-like client: a cookie store, and `Origin: <address>` on every request so
    /// cookie-authenticated writes pass the Origin check.
    pub fn browser(&self) -> reqwest::Client {
        let mut headers = HeaderMap::new();
        headers.insert(
            ORIGIN,
            HeaderValue::from_str(&self.address).expect("origin header"),
        );
        reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .build()
            .expect("browser client")
    }

    /// A new user created by the root token, logged in with a `browser()` client.
    pub async fn person(&self) -> Person {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let resp = self
            .http
            .post(self.url("/api/v1/admin/users"))
            .bearer_auth(&self.root_token)
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("POST /admin/users");
        let user = expect_json(resp, 201).await;
        let id = user["id"].as_str().expect("user id").to_owned();

        let client = self.browser();
        let resp = client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("POST /auth/login");
        expect_json(resp, 200).await;
        Person {
            client,
            id,
            email,
            password: PASSWORD.to_owned(),
        }
    }

    /// A new session for `person`, logged in again: `portcullis_session=…`, for a `Cookie` header.
    pub async fn session_cookie(&self, person: &Person) -> String {
        let resp = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"email": person.email, "password": person.password}))
            .send()
            .await
            .expect("POST /auth/login");
        let set_cookie = resp.headers()["set-cookie"]
            .to_str()
            .expect("ASCII cookie")
            .to_owned();
        expect_json(resp, 200).await;
        set_cookie.split(';').next().unwrap().to_owned()
    }

    /// `owner` creates an organization with a random slug; returns its id.
    pub async fn organization(&self, owner: &Person) -> String {
        let slug = format!("org-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let resp = owner
            .client
            .post(self.url("/api/v1/organizations"))
            .json(&json!({"name": format!("Org {slug}"), "slug": slug}))
            .send()
            .await
            .expect("POST /organizations");
        let org = expect_json(resp, 201).await;
        org["id"].as_str().expect("organization id").to_owned()
    }

    /// `by` adds `member` to the organization with `role`.
    pub async fn add_member(&self, by: &Person, org_id: &str, member: &Person, role: &str) {
        let resp = by
            .client
            .post(self.url(&format!("/api/v1/organizations/{org_id}/members")))
            .json(&json!({"email": member.email, "role": role}))
            .send()
            .await
            .expect("POST /members");
        expect_json(resp, 201).await;
    }

    /// `by` creates an API key in the organization; returns the 201 body (has "key", "id").
    pub async fn api_key(&self, by: &Person, org_id: &str, scopes: &[&str]) -> Value {
        let resp = by
            .client
            .post(self.url(&format!("/api/v1/organizations/{org_id}/api-keys")))
            .json(&json!({"name": "test key", "scopes": scopes}))
            .send()
            .await
            .expect("POST /api-keys");
        expect_json(resp, 201).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// An argon2 PHC string for `password`, as `portcullis hash-password` prints (for the bootstrap admin).
pub fn password_hash(password: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 hash")
        .to_string()
}

/// Asserts the status and returns the JSON body, showing the body when the status is wrong.
pub async fn expect_json(resp: reqwest::Response, status: u16) -> Value {
    let (actual, url) = (resp.status(), resp.url().clone());
    let text = resp.text().await.expect("response body");
    assert_eq!(
        actual.as_u16(),
        status,
        "{url}: unexpected status, body: {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: body is not JSON ({e}): {text}"))
}

/// Asserts the contract's error shape and returns the body:
/// `{"status": <n>, "error": <reason>, "message": <string>, "code": <code>}`.
pub async fn assert_error(resp: reqwest::Response, status: u16, code: &str) -> Value {
    let body = expect_json(resp, status).await;
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason());
    assert_eq!(body["status"], json!(status), "error body: {body}");
    assert_eq!(body["error"].as_str(), reason, "error body: {body}");
    assert!(
        body["message"].is_string(),
        "error body has no message: {body}"
    );
    assert_eq!(body["code"], json!(code), "error body: {body}");
    body
}

/// For each name, generates `mod name { sqlite(), postgres() }`, each a `#[tokio::test]` calling
/// `super::name(Backend::…)`. The PostgreSQL one is ignored unless `PORTCULLIS_TEST_POSTGRES_URL`
/// was set at build time.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(postgres_tests), ignore = "set PORTCULLIS_TEST_POSTGRES_URL to run on PostgreSQL")]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )*
    };
}

fn init_logs() {
    static LOGS: Once = Once::new();
    if std::env::var_os("TEST_LOG").is_some() {
        LOGS.call_once(|| {
            let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "debug".into());
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        });
    }
}

/// One test's database, removed when the test ends.
pub struct TestDatabase {
    /// The URL to give Portcullis.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh SQLite file, or a fresh PostgreSQL database on `PORTCULLIS_TEST_POSTGRES_URL`.
    pub async fn create(backend: Backend) -> Self {
        let name = format!("pcl_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                Self {
                    url,
                    cleanup: Cleanup::File(path),
                }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("PORTCULLIS_TEST_POSTGRES_URL")
                    .expect("PORTCULLIS_TEST_POSTGRES_URL must be set for PostgreSQL tests");
                let admin = Database::connect(admin_url.as_str())
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("CREATE DATABASE");
                admin.close().await.ok();
                let url = portcullis_persistence::with_database_name(&admin_url, &name);
                Self {
                    url,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime, which cannot be blocked on: use a fresh one.
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime for DROP DATABASE");
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            admin.close().await.ok();
                        }
                    });
                });
                let _ = dropped.join();
            }
        }
    }
}
