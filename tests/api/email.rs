//! Email through a real SMTP server (aiosmtpd, started per test): invitation and password-reset
//! links arrive and work; a dead SMTP server fails no request and shows in `/metrics`.

use crate::invitations::{invitations_path, token_of};
use crate::password_reset::{confirm, login_status, request_reset};
use portcullis_tests::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

backend_tests!(
    an_invitation_email_arrives_and_its_link_lets_the_invitee_sign_up_and_join,
    a_password_reset_email_arrives_and_its_link_sets_the_password,
    delivery_to_a_dead_smtp_port_does_not_fail_the_request_and_shows_in_metrics,
    a_stopping_server_delivers_the_email_still_waiting_for_a_retry,
);

async fn metrics(app: &TestApp) -> String {
    app.http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits up to 20 s for `/metrics` to show `line`.
async fn wait_for_metric(app: &TestApp, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = metrics(app).await;
        if text.lines().any(|l| l == line) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/metrics never showed `{line}`:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn assert_carries_no_secret(message: &Value) {
    let text = message.to_string();
    assert!(
        !text.contains(PASSWORD),
        "an email carries a password: {text}"
    );
    assert!(
        !text.contains("pcl_"),
        "an email carries an API key: {text}"
    );
}

async fn an_invitation_email_arrives_and_its_link_lets_the_invitee_sign_up_and_join(
    backend: Backend,
) {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(backend, |s| {
        s.smtp_url = Some(sink.url());
        s.signup = SignupMode::Closed;
    })
    .await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let email = format!("newcomer-{}@example.com", uuid::Uuid::new_v4().simple());
    let resp = owner
        .client
        .post(app.url(&invitations_path(&org)))
        .json(&json!({"email": email, "role": "developer"}))
        .send()
        .await
        .unwrap();
    let invitation = expect_json(resp, 201).await;
    let message = sink.message_to(&email).await;
    assert_eq!(message["from"], "portcullis@localhost");
    let subject = message["subject"].as_str().unwrap();
    assert!(subject.contains(&owner.email), "{subject}");
    // `app.organization` names organizations "Org <slug>".
    let org_name = "Org org-";
    assert!(subject.contains(org_name), "{subject}");
    let invite_url = invitation["invite_url"].as_str().unwrap();
    let text = message["text"].as_str().expect("a plain-text part");
    assert!(text.contains(invite_url), "{text}");
    let html = message["html"].as_str().expect("an HTML part");
    assert!(html.contains("<a href="), "{html}");
    assert_carries_no_secret(&message);

    // The newcomer follows the emailed link: signs up (signup is closed) and joins.
    let token = text
        .split_once("?token=")
        .map(|(_, rest)| rest.split_whitespace().next().unwrap().to_owned())
        .expect("a token in the email");
    assert_eq!(token, token_of(&invitation["invite_url"]));
    let resp = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .json(&json!({"email": email, "password": PASSWORD, "invitation_token": token}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await;
    let resp = owner
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}/members")))
        .send()
        .await
        .unwrap();
    let members = expect_json(resp, 200).await;
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["email"] == json!(email) && m["role"] == "developer"),
        "{members}"
    );
    wait_for_metric(
        &app,
        r#"portcullis_emails_total{kind="invitation",outcome="sent"} 1"#,
    )
    .await;
}

async fn a_password_reset_email_arrives_and_its_link_sets_the_password(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(backend, |s| {
        s.smtp_url = Some(sink.url());
        s.public_url = Some("https://auth.example.test".into());
    })
    .await;
    let person = app.person().await;
    assert_eq!(
        request_reset(&app, "nobody@example.com").await.status(),
        202
    );
    assert_eq!(request_reset(&app, &person.email).await.status(), 202);
    let message = sink.message_to(&person.email).await;
    assert_carries_no_secret(&message);
    let text = message["text"].as_str().expect("a plain-text part");
    let link = text
        .split_whitespace()
        .find(|word| word.starts_with("https://auth.example.test/console/password-reset?token="))
        .unwrap_or_else(|| panic!("no reset link in {text}"));
    let token = token_of(&json!(link));
    assert!(message["html"].as_str().unwrap().contains(link));

    let resp = confirm(&app, &token, "a brand new passphrase").await;
    assert_eq!(resp.status(), 204);
    let resp = person
        .client
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
    assert_eq!(
        login_status(&app, &person.email, "a brand new passphrase").await,
        200
    );
    // Nobody else got mail: the unknown address is not an account.
    assert_eq!(sink.messages().len(), 1, "{:?}", sink.messages());
    wait_for_metric(
        &app,
        r#"portcullis_emails_total{kind="password_reset",outcome="sent"} 1"#,
    )
    .await;
}

async fn delivery_to_a_dead_smtp_port_does_not_fail_the_request_and_shows_in_metrics(
    backend: Backend,
) {
    let dead = free_port();
    let app = spawn_app_with(backend, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{dead}"));
    })
    .await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let started = Instant::now();
    let resp = owner
        .client
        .post(app.url(&invitations_path(&org)))
        .json(&json!({"email": "someone@example.com", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let invitation = expect_json(resp, 201).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the request waited for delivery"
    );
    assert!(invitation["invite_url"].is_string());
    wait_for_metric(
        &app,
        r#"portcullis_emails_total{kind="invitation",outcome="deferred"} 1"#,
    )
    .await;
    // Three attempts, 3 s and 10 s apart, then it gives up.
    wait_for_metric(
        &app,
        r#"portcullis_emails_total{kind="invitation",outcome="failed"} 1"#,
    )
    .await;
}

async fn a_stopping_server_delivers_the_email_still_waiting_for_a_retry(backend: Backend) {
    let port = free_port();
    let mut app = spawn_app_with(backend, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    })
    .await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let resp = owner
        .client
        .post(app.url(&invitations_path(&org)))
        .json(&json!({"email": "late@example.com", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await;
    // Nobody listened at the first attempt; the next one is 3 s away.
    wait_for_metric(
        &app,
        r#"portcullis_emails_total{kind="invitation",outcome="deferred"} 1"#,
    )
    .await;
    let sink = SmtpSink::start_on(port).await;
    app.shut_down().await;
    // Stopping made the pending attempt at once instead of dropping the email.
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["to"], json!(["late@example.com"]));
}
