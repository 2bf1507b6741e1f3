//! `kill -9` under a stream of writes: the built `portcullis` binary creates organizations and
//! API keys from several clients at once and is killed with SIGKILL mid-stream, three times on
//! the same database. Read directly afterwards, the database has no organization without an
//! owner, and no API key or organization without its `.created` audit event.

use portcullis_tests::{Backend, PASSWORD, TestDatabase, backend_tests, free_port};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use uuid::Uuid;

backend_tests!(a_server_killed_mid_write_leaves_no_half_done_change);

const ROOT_TOKEN: &str = "root-token-for-the-kill-test-0123456789abcdef";
const KILLS: usize = 3;
const WRITERS: usize = 8;
/// Keys created in a round before the kill: enough that writes are surely in flight.
const KEYS_BEFORE_KILL: usize = 40;

async fn a_server_killed_mid_write_leaves_no_half_done_change(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let email = format!("writer-{}@example.com", Uuid::new_v4().simple());
    for round in 0..KILLS {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = serve(&database.url, port);
        wait_until_ready(&base, &mut server).await;
        let http = reqwest::Client::new();
        if round == 0 {
            let resp = http
                .post(format!("{base}/api/v1/admin/users"))
                .bearer_auth(ROOT_TOKEN)
                .json(&json!({"email": email, "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201, "creating the writer");
        }
        let writer = log_in(&base, &email).await;

        let keys = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                tokio::spawn(write_until_refused(
                    writer.clone(),
                    base.clone(),
                    keys.clone(),
                ))
            })
            .collect();
        let start = Instant::now();
        while keys.load(Ordering::SeqCst) < KEYS_BEFORE_KILL {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "round {round}: only {} keys in 60 s",
                keys.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // SIGKILL: no draining, no flushing.
        server.start_kill().expect("kill -9");
        server.wait().await.expect("the killed server is reaped");
        for writer in writers {
            writer.await.expect("a writer ends once the server is gone");
        }
    }

    let db = Database::connect(database.url.as_str())
        .await
        .expect("the database opens after the kills");
    let organizations = ids(&db, "SELECT id FROM organizations").await;
    let owned = ids(
        &db,
        "SELECT organization_id AS id FROM memberships WHERE role = 'owner'",
    )
    .await;
    let keys = ids(&db, "SELECT id FROM api_keys").await;
    let audited: HashSet<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT target FROM audit_events \
             WHERE action IN ('api_key.created', 'organization.created')",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "target").unwrap())
        .collect();
    assert!(
        keys.len() >= KILLS * KEYS_BEFORE_KILL,
        "{} keys",
        keys.len()
    );

    let ownerless: Vec<_> = organizations.difference(&owned).collect();
    assert!(
        ownerless.is_empty(),
        "{} of {} organizations have no owner: {ownerless:?}",
        ownerless.len(),
        organizations.len()
    );
    for (kind, created) in [("api_key", &keys), ("organization", &organizations)] {
        let unaudited: Vec<_> = created
            .iter()
            .filter(|id| !audited.contains(&format!("{kind}:{id}")))
            .collect();
        assert!(
            unaudited.is_empty(),
            "{} of {} rows have no {kind}.created event: {unaudited:?}",
            unaudited.len(),
            created.len()
        );
    }
}

/// `portcullis serve` on `port`, its output discarded.
fn serve(database_url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PORTCULLIS_DATABASE_URL", database_url)
        .env("PORTCULLIS_BIND", format!("127.0.0.1:{port}"))
        .env("PORTCULLIS_API_TOKEN", ROOT_TOKEN)
        .env("PORTCULLIS_SIGNUP", "closed")
        .env("PORTCULLIS_COOKIE_SECURE", "false")
        .env("PORTCULLIS_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the portcullis binary starts")
}

async fn wait_until_ready(base: &str, server: &mut Child) {
    let start = Instant::now();
    loop {
        if let Ok(resp) = reqwest::get(format!("{base}/readyz")).await
            && resp.status() == 200
        {
            return;
        }
        assert!(
            server.try_wait().unwrap().is_none(),
            "the server exited at start-up"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the server is not ready after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A browser-like client logged in as `email`, sending `Origin: <base>` on every request.
async fn log_in(base: &str, email: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("Origin", base.parse().unwrap());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .unwrap();
    let resp = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "login");
    client
}

/// Creates organizations, each with two keys, until the server stops answering; counts the
/// keys it was told were created.
async fn write_until_refused(client: reqwest::Client, base: String, keys: Arc<AtomicUsize>) {
    loop {
        let slug = format!("org-{}", &Uuid::new_v4().simple().to_string()[..12]);
        let Some(org) = post(
            &client,
            format!("{base}/api/v1/organizations"),
            json!({"name": slug, "slug": slug}),
        )
        .await
        else {
            return;
        };
        let org = org["id"].as_str().expect("an organization id").to_owned();
        for _ in 0..2 {
            let created = post(
                &client,
                format!("{base}/api/v1/organizations/{org}/api-keys"),
                json!({"name": "stream", "scopes": ["read"]}),
            )
            .await;
            if created.is_none() {
                return;
            }
            keys.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The 201 body, or `None` once the server is gone (the connection fails).
async fn post(client: &reqwest::Client, url: String, body: Value) -> Option<Value> {
    let resp = client.post(&url).json(&body).send().await.ok()?;
    let status = resp.status();
    let text = resp.text().await.ok()?;
    assert_eq!(status, 201, "{url}: {text}");
    Some(serde_json::from_str(&text).expect("a JSON body"))
}

async fn ids(db: &DatabaseConnection, sql: &str) -> HashSet<Uuid> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<Uuid>("", "id").unwrap())
        .collect()
}
