//! The web console in a real browser: headless Debian chromium, driven over WebDriver by
//! chromedriver, against the real server with a fresh database. `.ci/run` installs both; a
//! machine without them fails here with the command that installs them, never skips.

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use portcullis_tests::{
    Backend, PASSWORD, SignupMode, TestApp, backend_tests, expect_json, spawn_app, spawn_app_with,
};
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
    signing_up_in_the_console_follows_the_servers_mode,
    a_person_switches_organizations_from_an_organization_page_without_javascript,
    an_invitation_link_made_in_the_console_is_accepted_in_another_browser,
    a_rotated_key_keeps_the_old_one_working_through_the_grace_period,
    a_service_account_key_made_in_the_console_authorizes_over_http,
    the_audit_log_shows_the_events_newest_first_and_pages_back_to_the_oldest,
    a_platform_admin_creates_and_disables_a_user_and_others_are_refused,
    an_unknown_console_path_is_an_html_page_with_status_404_and_the_security_headers,
    a_person_signs_in_and_creates_a_key_by_keyboard_only,
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
    launch(json!({})).await
}

/// The same browser with JavaScript switched off for every page, as some people browse.
async fn browser_without_script() -> (Client, Driver) {
    launch(json!({"profile.managed_default_content_settings.javascript": 2})).await
}

async fn launch(prefs: serde_json::Value) -> (Client, Driver) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let driver = Driver::start();
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=390,844"],
            "prefs": prefs
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

/// Signs in through the console's form as an existing account.
async fn sign_in(app: &TestApp, browser: &Client, email: &str, password: &str) {
    browser.goto(&app.url("/console/login")).await.unwrap();
    fill(browser, "input[name=email]", email).await;
    fill(browser, "input[name=password]", password).await;
    follow(browser, "form[action='/console/login'] button").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/console");
}

/// A new account, created by the root token; its id.
async fn account(app: &TestApp, email: &str) -> String {
    let resp = app
        .http
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&app.root_token)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let user = expect_json(resp, 201).await;
    user["id"].as_str().unwrap().to_owned()
}

fn new_email(what: &str) -> String {
    format!("{what}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// An organization named `name`, created from the organizations page; its id.
async fn named_organization(app: &TestApp, browser: &Client, name: &str) -> String {
    browser.goto(&app.url("/console")).await.unwrap();
    let slug = format!("org-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    fill(browser, "input[name=name]", name).await;
    fill(browser, "input[name=slug]", &slug).await;
    follow(browser, "form[action='/console/organizations'] button").await;
    let path = browser.current_url().await.unwrap().path().to_owned();
    path.strip_prefix("/console/organizations/")
        .unwrap_or_else(|| panic!("landed on {path}"))
        .to_owned()
}

/// Creates a key from the form on the current page; returns the secret shown once.
async fn create_key(browser: &Client, name: &str) -> String {
    fill(browser, "#key-form input[name=name]", name).await;
    follow(browser, "#key-form button[type=submit]").await;
    text(browser, "#new-key").await
}

async fn login_status(app: &TestApp, email: &str) -> u16 {
    app.http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn has(browser: &Client, css: &str) -> bool {
    !browser
        .find_all(Locator::Css(css))
        .await
        .unwrap()
        .is_empty()
}

async fn signing_up_in_the_console_follows_the_servers_mode(backend: Backend) {
    // Open: the sign-in page offers it, and the new account is signed in at once.
    let app = spawn_app(backend).await;
    let (browser, _driver) = browser().await;
    browser.goto(&app.url("/console/login")).await.unwrap();
    follow(&browser, "a[href='/console/signup']").await;
    let email = new_email("signup");
    fill(&browser, "input[name=email]", &email).await;
    fill(&browser, "input[name=name]", "Ada").await;
    fill(&browser, "input[name=password]", &email).await;
    follow(&browser, "form[action='/console/signup'] button").await;
    // The API's own rule, beside the form; what was typed stays.
    assert_eq!(
        text(&browser, "#signup-error").await,
        "password must not be the email address"
    );
    let kept = browser
        .find(Locator::Css("input[name=name]"))
        .await
        .unwrap();
    assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some("Ada"));
    fill(&browser, "input[name=password]", PASSWORD).await;
    follow(&browser, "form[action='/console/signup'] button").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/console");
    assert!(
        text(&browser, "main")
            .await
            .contains("You belong to no organization yet")
    );
    assert!(text(&browser, "header").await.contains(&email));
    let users = api_get(&app, "/api/v1/admin/users").await;
    let user = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email.as_str())
        .expect("the account exists");
    assert_eq!(user["name"], "Ada");
    assert_eq!(user["platform_admin"], false);
    browser.close().await.unwrap();

    // Closed: no link, the page says so with the API's status, and a post is refused.
    let closed = spawn_app_with(backend, |s| s.signup = SignupMode::Closed).await;
    let page = closed
        .http
        .get(closed.url("/console/login"))
        .send()
        .await
        .unwrap();
    assert!(!page.text().await.unwrap().contains("/console/signup"));
    let page = closed
        .http
        .get(closed.url("/console/signup"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    let body = page.text().await.unwrap();
    assert!(body.contains("sign-up is closed") && !body.contains("<form class=\"stack\""));
    let email = new_email("closed");
    let resp = closed
        .http
        .post(closed.url("/console/signup"))
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(login_status(&closed, &email).await, 401);

    // First user: offered while nobody exists, and that account becomes the platform admin.
    let first = spawn_app_with(backend, |s| s.signup = SignupMode::FirstUser).await;
    let (browser, _driver) = crate::browser().await;
    browser.goto(&first.url("/console/login")).await.unwrap();
    follow(&browser, "a[href='/console/signup']").await;
    assert!(
        text(&browser, ".notice")
            .await
            .contains("platform administrator")
    );
    let email = new_email("first");
    fill(&browser, "input[name=email]", &email).await;
    fill(&browser, "input[name=password]", PASSWORD).await;
    follow(&browser, "form[action='/console/signup'] button").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/console");
    assert!(has(&browser, "header a[href='/console/admin/users']").await);
    let page = first
        .http
        .get(first.url("/console/login"))
        .send()
        .await
        .unwrap();
    assert!(!page.text().await.unwrap().contains("/console/signup"));
    browser.close().await.unwrap();
}

async fn a_person_switches_organizations_from_an_organization_page_without_javascript(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let email = new_email("switcher");
    account(&app, &email).await;
    let (browser, _driver) = browser_without_script().await;
    sign_in(&app, &browser, &email, PASSWORD).await;
    let first = named_organization(&app, &browser, "First Org").await;
    let second = named_organization(&app, &browser, "Second Org").await;
    assert!(text(&browser, "h1").await.contains("Second Org"));
    // Scripts really are off: the copy button's script would have run by now.
    let scripted = browser
        .execute("return document.documentElement.className", vec![])
        .await
        .unwrap();
    assert_eq!(scripted, "");

    let switcher = browser
        .find(Locator::Css("#switch-organization"))
        .await
        .unwrap();
    assert_eq!(
        switcher.prop("value").await.unwrap().as_deref(),
        Some(second.as_str())
    );
    switcher.select_by_value(&first).await.unwrap();
    follow(&browser, "form[action='/console/switch'] button").await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        format!("/console/organizations/{first}")
    );
    assert!(text(&browser, "h1").await.contains("First Org"));

    // From a page below an organization too: the audit log of the first, on to the second.
    follow(&browser, ".org-nav a[href$='/audit']").await;
    browser
        .find(Locator::Css("#switch-organization"))
        .await
        .unwrap()
        .select_by_value(&second)
        .await
        .unwrap();
    follow(&browser, "form[action='/console/switch'] button").await;
    assert!(text(&browser, "h1").await.contains("Second Org"));
    browser.close().await.unwrap();
}

async fn an_invitation_link_made_in_the_console_is_accepted_in_another_browser(backend: Backend) {
    let app = spawn_app(backend).await;
    let invitee = app.person().await;
    let (browser, _driver) = browser().await;
    signed_in(&app, &browser).await;
    let org = create_organization(&app, &browser).await;
    assert!(
        text(&browser, "main")
            .await
            .contains("No pending invitations")
    );

    let form = "#invitation-form";
    fill(
        &browser,
        &format!("{form} input[name=email]"),
        &invitee.email,
    )
    .await;
    browser
        .find(Locator::Css(&format!("{form} select[name=role]")))
        .await
        .unwrap()
        .select_by_value("viewer")
        .await
        .unwrap();
    fill(
        &browser,
        &format!("{form} input[name=grants]"),
        "projects/web=owner",
    )
    .await;
    follow(&browser, &format!("{form} button")).await;
    // Refused by the domain's rule, beside the form, with the input kept.
    assert_eq!(
        text(&browser, "#invitation-error").await,
        "a grant's role must be admin, developer or viewer"
    );
    let grants = browser
        .find(Locator::Css(&format!("{form} input[name=grants]")))
        .await
        .unwrap();
    assert_eq!(
        grants.prop("value").await.unwrap().as_deref(),
        Some("projects/web=owner")
    );
    fill(
        &browser,
        &format!("{form} input[name=grants]"),
        "projects/web=developer",
    )
    .await;
    follow(&browser, &format!("{form} button")).await;
    let first_link = text(&browser, "#invite-link").await;
    assert!(
        first_link.contains("/console/invitations/accept?token="),
        "{first_link}"
    );
    // The copy button is there (the script runs) and copies the link shown.
    let copy = browser
        .find(Locator::Css("[data-copy=invite-link]"))
        .await
        .unwrap();
    assert!(copy.is_displayed().await.unwrap());
    copy.click().await.unwrap();
    let mut label = String::new();
    for _ in 0..40 {
        label = copy.text().await.unwrap();
        if label != "Copy to clipboard" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        label == "Copied" || label == "Select and copy by hand",
        "{label}"
    );

    browser
        .goto(&app.url(&format!("/console/organizations/{org}")))
        .await
        .unwrap();
    let pending = text(&browser, "#invitation-list").await;
    assert!(
        pending.contains(&invitee.email) && pending.contains("projects/web=developer"),
        "{pending}"
    );
    // Resending makes a new link; the first one stops working.
    follow(&browser, "#invitation-list form[action$='/resend'] button").await;
    let link = text(&browser, "#invite-link").await;
    assert_ne!(link, first_link);
    let token = |link: &str| link.split("token=").nth(1).unwrap().to_owned();
    let lookup = |token: String| {
        app.http
            .post(app.url("/api/v1/invitations/lookup"))
            .json(&json!({ "token": token }))
            .send()
    };
    assert_eq!(lookup(token(&first_link)).await.unwrap().status(), 404);
    assert_eq!(lookup(token(&link)).await.unwrap().status(), 200);

    // The invitee, in a browser of their own, signs in and follows the link.
    let (theirs, _their_driver) = crate::browser().await;
    sign_in(&app, &theirs, &invitee.email, PASSWORD).await;
    theirs.goto(&local(&app, &link)).await.unwrap();
    assert!(text(&theirs, "main").await.contains("as viewer"));
    follow(&theirs, "form[action='/console/invitations/accept'] button").await;
    assert_eq!(
        theirs.current_url().await.unwrap().path(),
        format!("/console/organizations/{org}")
    );
    assert_eq!(
        role_of(&app, &org, &invitee.email).await.as_deref(),
        Some("viewer")
    );
    let grants = api_get(
        &app,
        &format!("/api/v1/organizations/{org}/members/{}/grants", invitee.id),
    )
    .await;
    assert_eq!(grants[0]["resource"], "projects/web");
    assert_eq!(grants[0]["role"], "developer");
    // A viewer manages no invitations: the page says whom to ask instead.
    assert!(text(&theirs, "main").await.contains("Only admins of"));
    assert!(!has(&theirs, "#invitation-form").await);
    theirs.close().await.unwrap();

    browser.refresh().await.unwrap();
    assert!(
        text(&browser, "#member-list")
            .await
            .contains(&invitee.email)
    );
    assert!(!has(&browser, "#invitation-list").await);

    // Revoking: the link stops working.
    let other = new_email("revoked");
    fill(&browser, &format!("{form} input[name=email]"), &other).await;
    follow(&browser, &format!("{form} button")).await;
    let revoked = text(&browser, "#invite-link").await;
    browser
        .goto(&app.url(&format!("/console/organizations/{org}")))
        .await
        .unwrap();
    follow(&browser, "#invitation-list form[action$='/revoke'] button").await;
    assert!(!has(&browser, "#invitation-list").await);
    assert_eq!(lookup(token(&revoked)).await.unwrap().status(), 404);
    browser.close().await.unwrap();
}

async fn a_rotated_key_keeps_the_old_one_working_through_the_grace_period(backend: Backend) {
    let app = spawn_app(backend).await;
    // A plain address: this test's screenshots are the ones in docs/.
    account(&app, "ada@example.com").await;
    let (browser, _driver) = browser().await;
    sign_in(&app, &browser, "ada@example.com", PASSWORD).await;
    let org = create_organization(&app, &browser).await;
    let old = create_key(&browser, "deployer").await;
    assert_eq!(key_status(&app, &old).await, 200);

    browser
        .goto(&app.url(&format!("/console/organizations/{org}")))
        .await
        .unwrap();
    follow(&browser, "#keys a[href*='/rotate']").await;
    assert!(text(&browser, "h1").await.contains("Rotate"));
    browser
        .find(Locator::Css("select[name=grace_period_seconds]"))
        .await
        .unwrap()
        .select_by_value("3600")
        .await
        .unwrap();
    let rotate_page = browser.current_url().await.unwrap();
    follow(&browser, "form[action$='/rotate'] button").await;
    let new = text(&browser, "#new-key").await;
    assert!(new.starts_with("pcl_") && new != old, "{new}");
    assert!(text(&browser, ".notice").await.contains("shown only once"));
    assert!(
        text(&browser, "#key-note")
            .await
            .contains("keeps working until")
    );
    // Both work during the grace period, over HTTP.
    assert_eq!(key_status(&app, &old).await, 200);
    assert_eq!(key_status(&app, &new).await, 200);

    browser
        .goto(&app.url(&format!("/console/organizations/{org}")))
        .await
        .unwrap();
    let listing = text(&browser, "#keys").await;
    assert!(
        listing.contains("rotating") && listing.contains("active"),
        "{listing}"
    );
    assert!(!browser.source().await.unwrap().contains(&new));
    screenshot(&browser, "keys-phone").await;
    browser.set_window_size(1280, 900).await.unwrap();
    screenshot(&browser, "keys-desktop").await;
    browser.set_window_size(390, 844).await.unwrap();
    // Only the successor may be rotated now; asking again for the old one gives the API's 409.
    assert_eq!(
        browser
            .find_all(Locator::Css("#keys a[href*='/rotate']"))
            .await
            .unwrap()
            .len(),
        1
    );
    browser.goto(rotate_page.as_str()).await.unwrap();
    follow(&browser, "form[action$='/rotate'] button").await;
    assert!(
        text(&browser, "#rotate-error").await.contains("rotated"),
        "{}",
        text(&browser, "#rotate-error").await
    );

    app.clock.advance(chrono::Duration::seconds(3601));
    assert_eq!(key_status(&app, &old).await, 401);
    assert_eq!(key_status(&app, &new).await, 200);
    browser.close().await.unwrap();
}

async fn a_service_account_key_made_in_the_console_authorizes_over_http(backend: Backend) {
    let app = spawn_app(backend).await;
    let (browser, _driver) = browser().await;
    signed_in(&app, &browser).await;
    let org = create_organization(&app, &browser).await;
    let form = "#service-account-form";
    fill(&browser, &format!("{form} input[name=name]"), "ci-bot").await;
    browser
        .find(Locator::Css(&format!("{form} select[name=role]")))
        .await
        .unwrap()
        .select_by_value("developer")
        .await
        .unwrap();
    follow(&browser, &format!("{form} button")).await;
    let accounts = api_get(
        &app,
        &format!("/api/v1/organizations/{org}/service-accounts"),
    )
    .await;
    let id = accounts[0]["id"].as_str().unwrap().to_owned();

    follow(
        &browser,
        &format!("#account-list td a[href$='/service-accounts/{id}']"),
    )
    .await;
    assert!(text(&browser, "h1").await.contains("ci-bot"));
    assert!(text(&browser, "main").await.contains("has no API keys yet"));
    click(&browser, "#key-form input[name=scope_deploy]").await;
    let key = create_key(&browser, "pipeline").await;

    let authorize = |permission: &'static str| {
        app.http
            .get(app.url(&format!(
                "/api/v1/authorize?permission={permission}&organization_id={org}"
            )))
            .header("X-API-Key", &key)
            .send()
    };
    let allowed = expect_json(authorize("deploy").await.unwrap(), 200).await;
    assert_eq!(allowed["service_account_id"], id.as_str());
    assert_eq!(allowed["user_id"], serde_json::Value::Null);
    assert_eq!(authorize("admin").await.unwrap().status(), 403);

    // Back on the account's page: the key is listed as its own, and revoked from there.
    let page = format!("/console/organizations/{org}/service-accounts/{id}");
    follow(&browser, &format!("main a[href='{page}']")).await;
    let listing = text(&browser, "#keys").await;
    assert!(
        listing.contains(&key[..12]) && listing.contains("ci-bot (service account)"),
        "{listing}"
    );
    follow(&browser, "#keys a[href*='/revoke']").await;
    follow(&browser, "button.danger").await;
    assert_eq!(browser.current_url().await.unwrap().path(), page);
    assert_eq!(key_status(&app, &key).await, 401);
    browser.close().await.unwrap();
}

async fn the_audit_log_shows_the_events_newest_first_and_pages_back_to_the_oldest(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (browser, _driver) = browser().await;
    let email = signed_in(&app, &browser).await;
    let org = create_organization(&app, &browser).await;
    for name in ["one", "two", "three"] {
        browser
            .goto(&app.url(&format!("/console/organizations/{org}")))
            .await
            .unwrap();
        create_key(&browser, name).await;
    }
    browser
        .goto(&app.url(&format!("/console/organizations/{org}")))
        .await
        .unwrap();
    follow(&browser, ".org-nav a[href$='/audit']").await;
    let log = text(&browser, "#events").await;
    assert!(
        log.contains("api_key.created") && log.contains(&email),
        "{log}"
    );
    screenshot(&browser, "audit").await;

    // Two at a time: following "older" walks the same events, in the same order, as the API.
    let expected: Vec<String> = api_get(&app, &format!("/api/v1/organizations/{org}/audit-events"))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(expected.len() >= 3, "{expected:?}");
    browser
        .goto(&app.url(&format!("/console/organizations/{org}/audit?limit=2")))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let rows = browser
            .find_all(Locator::Css("#events tbody tr td:nth-child(2)"))
            .await
            .unwrap();
        assert!(rows.len() <= 2);
        for row in rows {
            seen.push(row.text().await.unwrap());
        }
        if !has(&browser, "a[rel=next]").await {
            break;
        }
        follow(&browser, "a[rel=next]").await;
        assert!(
            browser
                .current_url()
                .await
                .unwrap()
                .as_str()
                .contains("before=")
        );
        assert!(has(&browser, "a[rel=first]").await);
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, expected.len().div_ceil(2));

    // A member who is not an admin is refused the log, with the API's message.
    let viewer = app.person().await;
    let resp = app
        .http
        .post(app.url(&format!("/api/v1/organizations/{org}/members")))
        .bearer_auth(&app.root_token)
        .json(&json!({"email": viewer.email, "role": "viewer"}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await;
    let resp = viewer
        .client
        .get(app.url(&format!("/console/organizations/{org}/audit")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("admin"));
    browser.close().await.unwrap();
}

async fn a_platform_admin_creates_and_disables_a_user_and_others_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin_email = new_email("admin");
    let admin_id = account(&app, &admin_email).await;
    let resp = app
        .http
        .patch(app.url(&format!("/api/v1/admin/users/{admin_id}")))
        .bearer_auth(&app.root_token)
        .json(&json!({"platform_admin": true}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;

    let (browser, _driver) = browser().await;
    sign_in(&app, &browser, &admin_email, PASSWORD).await;
    follow(&browser, "header a[href='/console/admin/users']").await;
    let email = new_email("created");
    let form = "#user-form";
    fill(&browser, &format!("{form} input[name=email]"), &email).await;
    fill(&browser, &format!("{form} input[name=password]"), PASSWORD).await;
    follow(&browser, &format!("{form} button")).await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        "/console/admin/users"
    );
    assert!(text(&browser, "#users").await.contains(&email));
    assert_eq!(login_status(&app, &email).await, 200);
    // The same email again: the API's conflict, beside the form.
    fill(&browser, &format!("{form} input[name=email]"), &email).await;
    fill(&browser, &format!("{form} input[name=password]"), PASSWORD).await;
    follow(&browser, &format!("{form} button")).await;
    assert!(!text(&browser, "#user-error").await.is_empty());

    let users = api_get(&app, "/api/v1/admin/users").await;
    let id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    follow(
        &browser,
        &format!("form[action$='/users/{id}/disable'] button"),
    )
    .await;
    assert!(text(&browser, "#users").await.contains("disabled"));
    // The disabled user cannot sign in: not over the API, not through the console's form.
    assert_eq!(login_status(&app, &email).await, 401);
    let console = app
        .browser()
        .post(app.url("/console/login"))
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(console.status(), 401);
    assert!(console.text().await.unwrap().contains("id=\"login-error\""));

    follow(
        &browser,
        &format!("form[action$='/users/{id}/enable'] button"),
    )
    .await;
    assert_eq!(login_status(&app, &email).await, 200);
    follow(
        &browser,
        &format!("form[action$='/users/{id}/password-reset'] button"),
    )
    .await;
    assert!(text(&browser, "h1").await.contains(&email));
    assert!(
        text(&browser, "#reset-link")
            .await
            .contains("/console/password-reset?token=")
    );

    // Every organization, including one the admin is no member of.
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    browser
        .goto(&app.url("/console/admin/organizations"))
        .await
        .unwrap();
    assert!(text(&browser, "#all-organizations").await.contains(&org));
    // A deleted organization is gone from the list and shown under "Recently deleted", with
    // who deleted it.
    let doomed = app.organization(&owner).await;
    let resp = owner
        .client
        .delete(app.url(&format!("/api/v1/organizations/{doomed}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    browser.refresh().await.unwrap();
    assert!(!text(&browser, "#all-organizations").await.contains(&doomed));
    let deleted = text(&browser, "#deleted-organizations").await;
    assert!(deleted.contains(&doomed), "{deleted}");
    assert!(deleted.contains(&owner.id), "{deleted}");
    screenshot(&browser, "admin-organizations").await;

    // Anyone else: no link, and the operations' refusal on every admin page and action.
    let someone = app.person().await;
    let home = someone
        .client
        .get(app.url("/console"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("/console/admin/users"));
    for path in ["/console/admin/users", "/console/admin/organizations"] {
        let resp = someone.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 403, "{path}");
        let body = resp.text().await.unwrap();
        assert!(
            body.contains("only a platform administrator may do this"),
            "{body}"
        );
    }
    let resp = someone
        .client
        .post(app.url(&format!("/console/admin/users/{admin_id}/disable")))
        .form(&[("x", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(login_status(&app, &admin_email).await, 200);
    browser.close().await.unwrap();
}

async fn an_unknown_console_path_is_an_html_page_with_status_404_and_the_security_headers(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let cases = [
        (
            "/console/no-such-page",
            404,
            "There is no page at this address.",
        ),
        ("/console/organizations/not-an-id", 400, ""),
        ("/console/logout", 405, "does not take that kind of request"),
    ];
    for (path, status, message) in cases {
        // Signed in or not, the same page.
        for client in [&app.http, &person.client] {
            let resp = client.get(app.url(path)).send().await.unwrap();
            assert_eq!(resp.status(), status, "{path}");
            let headers = resp.headers();
            assert!(
                headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{path}"
            );
            let csp = headers["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
                "{csp}"
            );
            assert_eq!(headers["x-frame-options"], "DENY");
            assert_eq!(headers["referrer-policy"], "same-origin");
            let body = resp.text().await.unwrap();
            assert!(
                body.contains("/console/static/console.css") && body.contains(message),
                "{path}: {body}"
            );
            assert!(!body.contains("\"code\""), "{path}: {body}");
        }
    }
    // The JSON API keeps its own error body.
    let resp = app
        .http
        .get(app.url("/api/v1/no-such"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.text().await.unwrap().contains("\"code\""));

    let (browser, _driver) = browser().await;
    browser
        .goto(&app.url("/console/no-such-page"))
        .await
        .unwrap();
    assert_eq!(text(&browser, "h1").await, "Not Found");
    follow(&browser, "main a[href='/console']").await;
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

/// Presses Tab until `css` has the focus (at most `presses` times), as a keyboard user would.
async fn tab_to(browser: &Client, css: &str, presses: usize) {
    for _ in 0..presses {
        browser
            .active_element()
            .await
            .unwrap()
            .send_keys(&Key::Tab.to_string())
            .await
            .unwrap();
        let focused = browser
            .execute(
                "return document.activeElement.matches(arguments[0])",
                vec![json!(css)],
            )
            .await
            .unwrap();
        if focused == true {
            return;
        }
    }
    panic!("{css} never got the focus in {presses} presses of Tab");
}

/// Types into whatever has the focus.
async fn type_keys(browser: &Client, keys: &str) {
    browser
        .active_element()
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

/// The focused element shows an outline a person can see.
async fn focus_is_visible(browser: &Client) -> bool {
    let outline = browser
        .execute(
            "const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth",
            vec![],
        )
        .await
        .unwrap();
    let outline = outline.as_str().unwrap_or_default().to_owned();
    !outline.starts_with("none") && !outline.ends_with(" 0px")
}

/// Waits for the page a key press led to.
async fn await_page(browser: &Client, path_starts: &str) {
    for _ in 0..100 {
        let url = browser.current_url().await.unwrap();
        let ready = browser
            .execute("return document.readyState", vec![])
            .await
            .unwrap();
        if url.path().starts_with(path_starts) && ready == "complete" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no page at {path_starts}");
}

async fn a_person_signs_in_and_creates_a_key_by_keyboard_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let org = app.organization(&person).await;
    let (browser, _driver) = browser().await;
    browser.goto(&app.url("/console/login")).await.unwrap();
    // The email field has the focus on arrival.
    type_keys(&browser, &person.email).await;
    tab_to(&browser, "input[name=password]", 1).await;
    type_keys(&browser, &format!("{PASSWORD}{}", Key::Enter)).await;
    await_page(&browser, "/console").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/console");

    // The first stop is the skip link, then on through the header to the organization.
    tab_to(&browser, "a.skip", 1).await;
    assert!(focus_is_visible(&browser).await);
    tab_to(
        &browser,
        &format!("main a[href='/console/organizations/{org}']"),
        10,
    )
    .await;
    assert!(focus_is_visible(&browser).await);
    type_keys(&browser, &Key::Enter.to_string()).await;
    await_page(&browser, &format!("/console/organizations/{org}")).await;

    tab_to(&browser, "#key-form input[name=name]", 30).await;
    assert!(focus_is_visible(&browser).await);
    type_keys(&browser, "typed by keyboard").await;
    tab_to(&browser, "#key-form input[name=scope_deploy]", 5).await;
    type_keys(&browser, " ").await;
    tab_to(&browser, "#key-form button[type=submit]", 10).await;
    assert!(focus_is_visible(&browser).await);
    type_keys(&browser, &Key::Enter.to_string()).await;
    for _ in 0..100 {
        if has(&browser, "#new-key").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let key = text(&browser, "#new-key").await;
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
    browser.close().await.unwrap();
}
