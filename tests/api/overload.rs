//! Load shedding: a full password-hashing queue answers 503 with `Retry-After`; connections that
//! dawdle over their headers or sit idle are closed; connections beyond the cap wait.

use portcullis_tests::*;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

backend_tests!(
    a_full_password_queue_answers_503_with_retry_after,
    a_connection_that_never_finishes_its_headers_is_closed,
    an_idle_keep_alive_connection_is_closed,
    connections_beyond_the_cap_wait_until_one_closes,
);

async fn a_full_password_queue_answers_503_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.password_queue = 1;
        s.login_rate_limit = 0;
        s.failed_login_limit = 0;
    })
    .await;
    let logins = (0..8).map(|n| {
        let (http, url) = (app.http.clone(), app.url("/api/v1/auth/login"));
        tokio::spawn(async move {
            http.post(url)
                .json(&json!({"email": format!("nobody{n}@example.com"), "password": "wrong password"}))
                .send()
                .await
                .unwrap()
        })
    });
    let (mut refused, mut unavailable) = (0, 0);
    for login in logins.collect::<Vec<_>>() {
        let resp = login.await.unwrap();
        match resp.status().as_u16() {
            401 => refused += 1,
            503 => {
                let wait: u64 = resp.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(wait >= 1);
                assert_error(resp, 503, "unavailable").await;
                unavailable += 1;
            }
            other => panic!("login answered {other}"),
        }
    }
    assert!(refused >= 1, "at least one login was hashed");
    assert!(unavailable >= 1, "a queue of one cannot hold eight logins");
}

/// Reads until the server closes the connection; how long that took, or `None` if it stayed
/// open for `patience`.
async fn closed_within(socket: &mut TcpStream, patience: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + patience),
            socket.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

async fn a_connection_that_never_finishes_its_headers_is_closed(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.header_timeout = 1).await;
    let address = app.address.trim_start_matches("http://");
    let mut socket = TcpStream::connect(address).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    let closed = closed_within(&mut socket, Duration::from_secs(5)).await;
    assert!(
        closed.is_some(),
        "a half-sent request was held open for 5 s"
    );
    // A connection that sends nothing at all is closed too.
    let mut silent = TcpStream::connect(address).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(5))
            .await
            .is_some()
    );
    // Prompt requests are unaffected.
    let resp = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

async fn an_idle_keep_alive_connection_is_closed(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.header_timeout = 1;
        s.idle_timeout = 2;
    })
    .await;
    let address = app.address.trim_start_matches("http://");
    let mut socket = TcpStream::connect(address).await.unwrap();
    // A slow request handled within the header deadline, then another on the same connection
    // after a pause shorter than the idle timeout: both answered.
    for pause in [Duration::ZERO, Duration::from_millis(1500)] {
        tokio::time::sleep(pause).await;
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = socket.read(&mut buf).await.unwrap();
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
    }
    let closed = closed_within(&mut socket, Duration::from_secs(6)).await;
    let closed = closed.expect("an idle keep-alive connection was held open for 6 s");
    assert!(
        closed >= Duration::from_millis(1500),
        "closed after {closed:?}, before the idle timeout"
    );
}

async fn connections_beyond_the_cap_wait_until_one_closes(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.max_connections = 1;
        s.header_timeout = 2;
    })
    .await;
    let address = app.address.trim_start_matches("http://");
    let mut hog = TcpStream::connect(address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiting = reqwest::Client::builder()
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let resp = waiting.get(app.url("/healthz")).send().await;
    assert!(
        resp.is_err(),
        "a second connection was served beside the first"
    );
    // Once the hog is closed for dawdling, the next connection is served.
    assert!(
        closed_within(&mut hog, Duration::from_secs(5))
            .await
            .is_some()
    );
    let resp = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}
