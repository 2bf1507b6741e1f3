//! The web console in a real browser: headless Debian chromium, driven over WebDriver by
//! chromedriver, against the real server with a fresh database. `.ci/run` installs both; a
//! machine without them fails here with the command that installs them, never skips.

use fantoccini::{Client, ClientBuilder, Locator};
use portcullis_tests::{Backend, PASSWORD, TestApp, backend_tests, expect_json, spawn_app};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

backend_tests!(
    an_owner_creates_a_service_account_gives_it_a_grant_and_deletes_it,
    a_person_signs_in_creates_an_organization_and_mints_a_key_shown_once,
    a_refused_key_shows_the_apis_message_beside_the_form_and_keeps_the_input,
    revoking_a_key_asks_for_confirmation_then_the_key_stops_working,
    every_page_sends_the_security_headers_and_signing_out_ends_the_session,
    an_owner_adds_a_member_changes_their_role_and_removes_them,
    the_account_page_marks_this_session_and_changes_the_password,
    an_invitee_without_an_account_follows_the_link_signs_up_and_lands_in_the_organization,
    a_reset_link_sets_a_new_password_that_signs_in,
);

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    process: Child,
    port: u16,
}

impl Driver {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromedriver ({e}): install it with `apt-get install chromium chromium-driver`"
                )
            });
        Self { process, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A headless browser at phone width, and the driver behind it.
async fn browser() -> (Client, Driver) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let driver = Driver::start();
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=390,844"]
        }
    });
    let url = format!("http://127.0.0.1:{}", driver.port);
    for _ in 0..50 {
        let connected = ClientBuilder::rustls()
            .expect("a TLS connector")
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&url)
            .await;
        if let Ok(client) = connected {
            return (client, driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not accept a session on {url}");
}

/// A person with an account (created by the root token), signed in through the console form.
async fn signed_in(app: &TestApp, browser: &Client) -> String {
    let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
    let resp = app
        .http
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&app.root_token)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await;
    browser.goto(&app.url("/console")).await.unwrap();
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/login")
    );
    fill(browser, "input[name=email]", &email).await;
    fill(browser, "input[name=password]", PASSWORD).await;
    follow(browser, "button[type=submit]").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/console");
    email
}

async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

/// Clicks something that leads to another page, and waits until that page has loaded (the
/// old document is gone, the new one complete).
async fn follow(browser: &Client, css: &str) {
    let before = browser.find(Locator::Css("html")).await.unwrap();
    click(browser, css).await;
    for _ in 0..100 {
        let replaced = before.tag_name().await.is_err();
        let ready = browser
            .execute("return document.readyState", vec![])
            .await
            .unwrap();
        if replaced && ready == "complete" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("clicking {css} led to no new page");
}

async fn text(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn create_organization(app: &TestApp, browser: &Client) -> String {
    let slug = format!("org-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    fill(browser, "input[name=name]", "Acme <Platform>").await;
    fill(browser, "input[name=slug]", &slug).await;
    follow(browser, "form[action='/console/organizations'] button").await;
    let path = browser.current_url().await.unwrap().path().to_owned();
    let id = path
        .strip_prefix("/console/organizations/")
        .unwrap_or_else(|| panic!("landed on {path}"))
        .to_owned();
    // Auto-escaped: the name shows as text, not markup.
    assert!(text(browser, "h1").await.contains("Acme <Platform>"));
    let _ = app;
    id
}

/// With `CONSOLE_SCREENSHOTS=<dir>`, saves what the browser shows, for a person to look at.
async fn screenshot(browser: &Client, name: &str) {
    if let Ok(dir) = std::env::var("CONSOLE_SCREENSHOTS") {
        let png = browser.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
    }
}

async fn key_status(app: &TestApp, key: &str) -> u16 {
    app.http
        .get(app.url("/api/v1/me"))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn a_person_signs_in_creates_an_organization_and_mints_a_key_shown_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (browser, _driver) = browser().await;
    signed_in(&app, &browser).await;
    assert!(
        text(&browser, "main")
            .await
            .contains("You belong to no organization yet")
    );
    let org = create_organization(&app, &browser).await;
    assert!(text(&browser, "main").await.contains("No API keys yet"));

    fill(&browser, "input[name=name]", "ci deploy").await;
    click(&browser, "input[name=scope_deploy]").await;
    follow(&browser, "form[action$='/api-keys'] button").await;
    let key = text(&browser, "#new-key").await;
    assert!(key.starts_with("pcl_") && key.len() == 53, "{key}");
    assert!(text(&browser, ".notice").await.contains("shown only once"));
    let copy = browser
        .find(Locator::Css("[data-copy=new-key]"))
        .await
        .unwrap();
    assert_eq!(copy.text().await.unwrap(), "Copy to clipboard");
    // The key works, with exactly the scopes ticked (read was ticked by default).
    let resp = app
        .http
        .get(app.url(&format!(
            "/api/v1/authorize?permission=deploy&organization_id={org}"
        )))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    let allowed = expect_json(resp, 200).await;
    assert_eq!(allowed["scopes"], json!(["deploy", "read"]));

    // The listing shows it by prefix, never the secret again.
    browser
        .goto(&app.url(&format!("/console/organizations/{org}")))
        .await
        .unwrap();
    let listing = text(&browser, "#keys").await;
    assert!(
        listing.contains(&key[..12]) && !listing.contains(&key),
        "{listing}"
    );
    assert!(!browser.source().await.unwrap().contains(&key));
    screenshot(&browser, "organization").await;
    browser.close().await.unwrap();
}

async fn a_refused_key_shows_the_apis_message_beside_the_form_and_keeps_the_input(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (browser, _driver) = browser().await;
    signed_in(&app, &browser).await;
    create_organization(&app, &browser).await;
    fill(&browser, "input[name=name]", "no scopes").await;
    click(&browser, "input[name=scope_read]").await; // untick the default
    follow(&browser, "form[action$='/api-keys'] button").await;
    assert_eq!(
        text(&browser, "#key-error").await,
        "choose at least one scope"
    );
    let name = browser
        .find(Locator::Css("input[name=name]"))
        .await
        .unwrap();
    assert_eq!(
        name.prop("value").await.unwrap().as_deref(),
        Some("no scopes")
    );

    // A date in the past: the API's own message.
    click(&browser, "input[name=scope_read]").await;
    let expires = browser
        .find(Locator::Css("select[name=expires]"))
        .await
        .unwrap();
    expires.select_by_value("date").await.unwrap();
    fill(&browser, "input[name=expires_on]", "01/02/2020").await;
    follow(&browser, "form[action$='/api-keys'] button").await;
    assert_eq!(
        text(&browser, "#key-error").await,
        "expires_at must be in the future"
    );
    browser.close().await.unwrap();
}

async fn revoking_a_key_asks_for_confirmation_then_the_key_stops_working(backend: Backend) {
    let app = spawn_app(backend).await;
    let (browser, _driver) = browser().await;
    signed_in(&app, &browser).await;
    let org = create_organization(&app, &browser).await;
    fill(&browser, "input[name=name]", "to revoke").await;
    follow(&browser, "form[action$='/api-keys'] button").await;
    let key = text(&browser, "#new-key").await;
    assert_eq!(key_status(&app, &key).await, 200);

    browser
        .goto(&app.url(&format!("/console/organizations/{org}")))
        .await
        .unwrap();
    follow(&browser, "#keys a[href$='/revoke']").await;
    assert!(text(&browser, "h1").await.contains("Revoke"));
    assert_eq!(
        key_status(&app, &key).await,
        200,
        "nothing happens before confirming"
    );
    follow(&browser, "button.danger").await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        format!("/console/organizations/{org}")
    );
    assert_eq!(key_status(&app, &key).await, 401);
    browser.close().await.unwrap();
}

async fn every_page_sends_the_security_headers_and_signing_out_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/console/login", "/console", "/console/static/console.js"] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        let headers = resp.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "same-origin");
    }
    // A form posted from another origin is refused, signed in or not.
    let resp = app
        .http
        .post(app.url("/console/login"))
        .header("Origin", "https://evil.example")
        .form(&[("email", "a@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    let (browser, _driver) = browser().await;
    signed_in(&app, &browser).await;
    follow(&browser, "form[action='/console/logout'] button").await;
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/login")
    );
    browser.goto(&app.url("/console")).await.unwrap();
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/login")
    );
    browser.close().await.unwrap();
}

async fn role_of(app: &TestApp, org: &str, email: &str) -> Option<String> {
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/organizations/{org}/members")))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    let members = expect_json(resp, 200).await;
    members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
        .map(|m| m["role"].as_str().unwrap().to_owned())
}

async fn an_owner_adds_a_member_changes_their_role_and_removes_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let colleague = app.person().await;
    let (browser, _driver) = browser().await;
    signed_in(&app, &browser).await;
    let org = create_organization(&app, &browser).await;

    fill(
        &browser,
        "form[action$='/members'] input[name=email]",
        &colleague.email,
    )
    .await;
    follow(&browser, "form[action$='/members'] button").await;
    assert_eq!(
        role_of(&app, &org, &colleague.email).await.as_deref(),
        Some("developer")
    );
    assert!(
        text(&browser, "#member-list")
            .await
            .contains(&colleague.email)
    );

    let row = format!("form[action$='/members/{}/role']", colleague.id);
    let select = browser
        .find(Locator::Css(&format!("{row} select")))
        .await
        .unwrap();
    select.select_by_value("viewer").await.unwrap();
    follow(&browser, &format!("{row} button")).await;
    assert_eq!(
        role_of(&app, &org, &colleague.email).await.as_deref(),
        Some("viewer")
    );

    follow(
        &browser,
        &format!("form[action$='/members/{}/remove'] button", colleague.id),
    )
    .await;
    assert_eq!(role_of(&app, &org, &colleague.email).await, None);
    browser.close().await.unwrap();
}

async fn the_account_page_marks_this_session_and_changes_the_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let (browser, _driver) = browser().await;
    signed_in(&app, &browser).await;
    follow(&browser, "header a[href='/console/account']").await;
    assert!(text(&browser, "#sessions").await.contains("(this session)"));

    fill(&browser, "input[name=current_password]", "not my password").await;
    fill(
        &browser,
        "input[name=new_password]",
        "a brand new passphrase",
    )
    .await;
    follow(&browser, "form[action$='/password'] button").await;
    assert_eq!(
        text(&browser, "#password-error").await,
        "the current password is incorrect"
    );

    fill(&browser, "input[name=current_password]", PASSWORD).await;
    fill(
        &browser,
        "input[name=new_password]",
        "a brand new passphrase",
    )
    .await;
    follow(&browser, "form[action$='/password'] button").await;
    assert!(text(&browser, ".notice").await.contains("Password changed"));
    screenshot(&browser, "account").await;
    browser.close().await.unwrap();
}

/// The path and query of a link the API handed out, to open on this test's server.
fn local(app: &TestApp, link: &str) -> String {
    let path = link
        .find("/console/")
        .map(|at| &link[at..])
        .unwrap_or_else(|| panic!("{link} is not a console link"));
    app.url(path)
}

async fn an_invitee_without_an_account_follows_the_link_signs_up_and_lands_in_the_organization(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let email = format!("new-{}@example.com", uuid::Uuid::new_v4().simple());
    let resp = owner
        .client
        .post(app.url(&format!("/api/v1/organizations/{org}/invitations")))
        .json(&json!({"email": email, "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let invitation = expect_json(resp, 201).await;
    let link = invitation["invite_url"].as_str().unwrap();

    let (browser, _driver) = browser().await;
    browser.goto(&local(&app, link)).await.unwrap();
    assert!(text(&browser, "main").await.contains("as viewer"));
    let shown = browser
        .find(Locator::Css("input[name=email]"))
        .await
        .unwrap();
    assert_eq!(
        shown.prop("value").await.unwrap().as_deref(),
        Some(email.as_str())
    );
    fill(&browser, "input[name=password]", "short").await;
    // The browser's own minlength check would stop a short password; the server's answer is
    // what this test reads, so lift it.
    browser
        .execute(
            "document.querySelector('input[name=password]').removeAttribute('minlength')",
            vec![],
        )
        .await
        .unwrap();
    follow(
        &browser,
        "form[action='/console/invitations/signup'] button",
    )
    .await;
    assert_eq!(
        text(&browser, "#invitation-error").await,
        "password must be 8 to 128 characters"
    );
    fill(&browser, "input[name=password]", PASSWORD).await;
    follow(
        &browser,
        "form[action='/console/invitations/signup'] button",
    )
    .await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/console");
    assert!(text(&browser, "main").await.contains("Org "));
    assert_eq!(role_of(&app, &org, &email).await.as_deref(), Some("viewer"));

    // The link was used up.
    browser.goto(&local(&app, link)).await.unwrap();
    assert!(text(&browser, "h1").await.contains("Not Found"));
    browser.close().await.unwrap();
}

async fn a_reset_link_sets_a_new_password_that_signs_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let resp = app
        .http
        .post(app.url(&format!("/api/v1/admin/users/{}/password-reset", person.id)))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    let link = expect_json(resp, 201).await;
    let link = link["reset_url"].as_str().unwrap();

    let (browser, _driver) = browser().await;
    browser.goto(&local(&app, link)).await.unwrap();
    fill(&browser, "input[name=new_password]", "a fresh passphrase").await;
    follow(&browser, "form[action='/console/password-reset'] button").await;
    assert!(
        text(&browser, ".notice")
            .await
            .contains("Your password is changed")
    );

    browser.goto(&app.url("/console/login")).await.unwrap();
    fill(&browser, "input[name=email]", &person.email).await;
    fill(&browser, "input[name=password]", "a fresh passphrase").await;
    follow(&browser, "button[type=submit]").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/console");
    browser.close().await.unwrap();
}

/// What the API says: `path` read with the root token.
async fn api_get(app: &TestApp, path: &str) -> serde_json::Value {
    let resp = app
        .http
        .get(app.url(path))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await
}

async fn an_owner_creates_a_service_account_gives_it_a_grant_and_deletes_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let (browser, _driver) = browser().await;
    signed_in(&app, &browser).await;
    let org = create_organization(&app, &browser).await;
    let accounts_path = format!("/api/v1/organizations/{org}/service-accounts");

    let form = "form[action$='/service-accounts']";
    fill(&browser, &format!("{form} input[name=name]"), "deployer").await;
    follow(&browser, &format!("{form} button")).await;
    let accounts = api_get(&app, &accounts_path).await;
    assert_eq!(accounts[0]["name"], "deployer");
    assert_eq!(accounts[0]["role"], "viewer");
    let id = accounts[0]["id"].as_str().unwrap().to_owned();
    assert!(text(&browser, "#account-list").await.contains("deployer"));

    let grant = "form[action$='/grants']";
    browser
        .find(Locator::Css(&format!("{grant} select[name=holder]")))
        .await
        .unwrap()
        .select_by_value(&format!("service_account:{id}"))
        .await
        .unwrap();
    fill(
        &browser,
        &format!("{grant} input[name=resource]"),
        "projects/web",
    )
    .await;
    browser
        .find(Locator::Css(&format!("{grant} select[name=role]")))
        .await
        .unwrap()
        .select_by_value("developer")
        .await
        .unwrap();
    follow(&browser, &format!("{grant} button")).await;
    let grants = api_get(&app, &format!("{accounts_path}/{id}/grants")).await;
    assert_eq!(grants[0]["resource"], "projects/web");
    assert_eq!(grants[0]["role"], "developer");
    assert!(
        text(&browser, "#account-list")
            .await
            .contains("projects/web")
    );
    screenshot(&browser, "service-accounts").await;

    // A key of one's own, restricted to one project from the same page.
    let keys = "form[action$='/api-keys']";
    fill(&browser, &format!("{keys} input[name=name]"), "web deploys").await;
    fill(
        &browser,
        &format!("{keys} input[name=resources]"),
        "projects/web",
    )
    .await;
    follow(&browser, &format!("{keys} button")).await;
    let listed = api_get(&app, &format!("/api/v1/organizations/{org}/api-keys")).await;
    assert_eq!(listed[0]["resources"], serde_json::json!(["projects/web"]));

    browser
        .goto(&app.url(&format!("/console/organizations/{org}")))
        .await
        .unwrap();
    follow(&browser, "#account-list form.grant button").await;
    let grants = api_get(&app, &format!("{accounts_path}/{id}/grants")).await;
    assert_eq!(grants, serde_json::json!([]));

    follow(
        &browser,
        &format!("form[action$='/service-accounts/{id}/delete'] button"),
    )
    .await;
    assert_eq!(api_get(&app, &accounts_path).await, serde_json::json!([]));
    browser.close().await.unwrap();
}
