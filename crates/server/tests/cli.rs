//! The client commands, black-box: the built `portcullis` binary runs as a subprocess against a
//! live server (fresh database each, SQLite and PostgreSQL), with `HOME` and `XDG_CONFIG_HOME`
//! in a temporary directory.

use portcullis_client::types::{
    ApiKey, AuditEvent, CreatedApiKeyBody, Grant, MeBody, Member, Organization, PendingInvitation,
    Role, ServiceAccount, SessionListItem,
};
use portcullis_tests::{Backend, Person, TestApp, backend_tests, spawn_app};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

backend_tests!(
    a_person_logs_in_and_runs_an_organization_from_the_terminal,
    a_deploy_key_works_through_portcullis_token_and_is_rotated,
    a_service_account_deploys_one_project_and_a_contractor_gets_a_grant,
    settings_come_from_flags_then_environment_then_the_file,
    a_config_file_others_can_read_is_refused,
    each_failure_has_its_exit_code,
    json_output_is_the_servers_json,
    the_password_prompt_does_not_echo_on_a_terminal,
    the_readmes_walk_through_runs_as_written,
);

/// A terminal session: its own home and config directory, and the binary under test.
struct Terminal {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Terminal {
    fn new() -> Self {
        Self {
            home: tempfile::tempdir().expect("a temporary home"),
            env: Vec::new(),
        }
    }

    fn config_path(&self) -> PathBuf {
        self.home.path().join("config/portcullis/config.toml")
    }

    fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.run_with_input(args, "").await
    }

    /// Runs with `input` on standard input (a pipe, not a terminal).
    async fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_portcullis"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the portcullis binary starts");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(input.as_bytes())
            .await
            .expect("write stdin");
        drop(stdin);
        let output = child.wait_with_output().await.expect("the binary ends");
        Output {
            code: output.status.code().expect("an exit code"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        }
    }

    /// Runs and asserts exit 0.
    async fn ok(&self, args: &[&str]) -> Output {
        let output = self.run(args).await;
        assert_eq!(
            output.code, 0,
            "portcullis {args:?} failed:\nstdout: {}\nstderr: {}",
            output.stdout, output.stderr
        );
        output
    }

    async fn json<T: serde::de::DeserializeOwned>(&self, args: &[&str]) -> T {
        let output = self.ok(args).await;
        serde_json::from_str(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "portcullis {args:?}: not the API's JSON ({e}): {}",
                output.stdout
            )
        })
    }

    /// Points the config at `app` and logs `person` in, the password on standard input.
    async fn logged_in(self, app: &TestApp, person: &Person) -> Self {
        self.ok(&["config", "set-url", &app.address]).await;
        let login = self
            .run_with_input(
                &["login", "--email", &person.email],
                &format!("{}\n", person.password),
            )
            .await;
        assert_eq!(login.code, 0, "login failed: {}", login.stderr);
        self
    }
}

fn assert_exit(output: &Output, code: i32, stderr_has: &str) {
    assert_eq!(
        output.code, code,
        "exit code; stdout: {}\nstderr: {}",
        output.stdout, output.stderr
    );
    assert!(
        output.stderr.contains(stderr_has),
        "stderr lacks {stderr_has:?}: {}",
        output.stderr
    );
}

/// The first 8 characters, `…`, the last 4.
fn masked(secret: &str) -> String {
    format!("{}…{}", &secret[..8], &secret[secret.len() - 4..])
}

async fn a_person_logs_in_and_runs_an_organization_from_the_terminal(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, colleague) = (app.person().await, app.person().await);
    let terminal = Terminal::new().logged_in(&app, &owner).await;

    // The session is stored 0600 in a 0700 directory, and never shown in full.
    let path = terminal.config_path();
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().expect("a directory")), 0o700);
    let stored: toml_like::Stored = toml_like::read(&path);
    let session = stored.session.expect("login stores the session");
    let show = terminal.ok(&["config", "show"]).await;
    assert!(
        !show.stdout.contains(&session),
        "config show leaks the session: {}",
        show.stdout
    );
    assert!(show.stdout.contains(&masked(&session)), "{}", show.stdout);
    assert!(show.stdout.contains(&app.address), "{}", show.stdout);

    let me: MeBody = terminal.json(&["whoami", "--json"]).await;
    assert_eq!(
        me.user.as_ref().map(|u| u.email.as_str()),
        Some(owner.email.as_str())
    );
    let whoami = terminal.ok(&["whoami"]).await;
    assert!(whoami.stdout.contains(&owner.email), "{}", whoami.stdout);

    let created = terminal
        .ok(&["orgs", "create", "acme", "--name", "Acme Corp"])
        .await;
    assert!(
        created.stdout.contains("acme") && created.stdout.contains("Acme Corp"),
        "{}",
        created.stdout
    );
    let orgs: Vec<Organization> = terminal.json(&["orgs", "list", "--json"]).await;
    assert_eq!(
        orgs.iter().map(|o| o.slug.as_str()).collect::<Vec<_>>(),
        ["acme"]
    );
    let org = &orgs[0];
    let shown: Organization = terminal.json(&["orgs", "show", "acme", "--json"]).await;
    assert_eq!(shown.id, org.id);
    let by_id: Organization = terminal
        .json(&["orgs", "show", &org.id.to_string(), "--json"])
        .await;
    assert_eq!(by_id.slug.as_str(), "acme");
    assert!(
        terminal
            .ok(&["orgs", "list"])
            .await
            .stdout
            .contains("Acme Corp")
    );

    // Members, with the organization by slug.
    let added: Member = terminal
        .json(&[
            "members",
            "add",
            &colleague.email,
            "--role",
            "developer",
            "--org",
            "acme",
            "--json",
        ])
        .await;
    assert_eq!(added.role, Role::Developer);
    let changed: Member = terminal
        .json(&[
            "members",
            "set-role",
            &colleague.email,
            "viewer",
            "--org",
            "acme",
            "--json",
        ])
        .await;
    assert_eq!(changed.role, Role::Viewer);
    let listed = terminal.ok(&["members", "list", "--org", "acme"]).await;
    assert!(
        listed.stdout.contains(&colleague.email) && listed.stdout.contains("viewer"),
        "{}",
        listed.stdout
    );
    terminal
        .ok(&[
            "members",
            "remove",
            &added.user_id.to_string(),
            "--org",
            "acme",
        ])
        .await;
    let members: Vec<Member> = terminal
        .json(&["members", "list", "--org", "acme", "--json"])
        .await;
    assert_eq!(members.len(), 1);

    // keys create prints the key alone.
    let create = terminal
        .ok(&[
            "keys",
            "create",
            "--name",
            "deploy",
            "--scope",
            "deploy",
            "--scope",
            "read",
            "--expires-in",
            "30d",
            "--org",
            "acme",
        ])
        .await;
    let key = create.stdout.trim_end_matches('\n');
    assert!(
        key.starts_with("pcl_") && !key.contains('\n') && !key.contains(' '),
        "{:?}",
        create.stdout
    );
    let keys: Vec<ApiKey> = terminal
        .json(&["keys", "list", "--org", "acme", "--json"])
        .await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key_prefix, key[..12]);
    let expires = keys[0].expires_at.expect("--expires-in sets an expiry") - keys[0].created_at;
    assert!((expires.num_hours() - 30 * 24).abs() <= 1, "{expires:?}");
    let key_id = keys[0].id.to_string();
    let shown: ApiKey = terminal
        .json(&["keys", "show", &key_id, "--org", "acme", "--json"])
        .await;
    assert_eq!(shown.name, "deploy");
    let listing = terminal.ok(&["keys", "list", "--org", "acme"]).await;
    assert!(
        !listing.stdout.contains(key),
        "a listing shows the whole key"
    );
    terminal
        .ok(&["keys", "revoke", &key_id, "--org", "acme"])
        .await;
    assert!(
        terminal
            .json::<Vec<ApiKey>>(&["keys", "list", "--org", "acme", "--json"])
            .await
            .is_empty()
    );

    let events: Vec<AuditEvent> = terminal
        .json(&["audit", "--limit", "2", "--org", "acme", "--json"])
        .await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].action, "api_key.revoked");
    assert!(
        terminal
            .ok(&["audit", "--org", "acme"])
            .await
            .stdout
            .contains("member.added")
    );

    let token = terminal.ok(&["token", "--org", "acme"]).await;
    assert_eq!(
        token.stdout.trim_end().split('.').count(),
        3,
        "a JWT alone: {}",
        token.stdout
    );

    let allowed = terminal.run(&["authorize", "admin", "--org", "acme"]).await;
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);

    // Two sessions: the harness's browser login and the terminal's.
    let sessions: Vec<SessionListItem> = terminal.json(&["sessions", "list", "--json"]).await;
    assert_eq!(sessions.len(), 2);
    let other = sessions
        .iter()
        .find(|s| !s.current)
        .expect("the browser's session");
    assert!(
        terminal
            .ok(&["sessions", "list"])
            .await
            .stdout
            .contains('*')
    );
    terminal
        .ok(&["sessions", "revoke", &other.id.to_string()])
        .await;
    let resp = owner
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("GET /me");
    assert_eq!(resp.status(), 401, "the revoked session ends");

    terminal.ok(&["orgs", "delete", "acme"]).await;
    assert!(
        terminal
            .json::<Vec<Organization>>(&["orgs", "list", "--json"])
            .await
            .is_empty()
    );

    terminal.ok(&["logout"]).await;
    assert!(
        toml_like::read(&path).session.is_none(),
        "logout forgets the session"
    );
    assert_exit(&terminal.run(&["whoami"]).await, 4, "portcullis login");
    // The session ended on the server too.
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("portcullis_session={session}"))
        .send()
        .await
        .expect("GET /me");
    assert_eq!(resp.status(), 401);
}

async fn a_service_account_deploys_one_project_and_a_contractor_gets_a_grant(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let contractor = app.person().await;
    let person = Terminal::new()
        .with_env("PORTCULLIS_ORG", "acme")
        .logged_in(&app, &owner)
        .await;
    person.ok(&["orgs", "create", "acme"]).await;

    // A CI account whose key deploys projects/web and nothing else.
    let account: ServiceAccount = person
        .json(&[
            "service-accounts",
            "create",
            "ci",
            "--role",
            "viewer",
            "--json",
        ])
        .await;
    assert_eq!(account.role, Role::Viewer);
    let sa = account.id.to_string();
    person
        .ok(&[
            "service-accounts",
            "grants",
            "set",
            &sa,
            "projects/web",
            "developer",
        ])
        .await;
    let key = person
        .ok(&[
            "keys",
            "create",
            "--service-account",
            &sa,
            "--name",
            "deploy",
            "--scope",
            "deploy",
            "--resource",
            "projects/web",
        ])
        .await
        .stdout
        .trim()
        .to_owned();
    let ci = Terminal::new()
        .with_env("PORTCULLIS_URL", &app.address)
        .with_env("PORTCULLIS_TOKEN", &key);
    let at = |resource: &'static str| ["authorize", "deploy", "--resource", resource];
    assert_eq!(ci.ok(&at("projects/web/environments/prod")).await.code, 0);
    assert_exit(&ci.run(&at("projects/webshop")).await, 5, "outside");
    assert_exit(
        &ci.run(&["authorize", "deploy"]).await,
        5,
        "organization-wide",
    );

    // A guest contractor who sees one project: invited with the grant, accepting from the CLI.
    let link = person
        .ok(&[
            "invitations",
            "create",
            &contractor.email,
            "--role",
            "guest",
            "--grant",
            "projects/web=viewer",
        ])
        .await
        .stdout;
    let token = link.trim().split_once("?token=").expect("an invite URL").1;
    let pending: Vec<PendingInvitation> = person.json(&["invitations", "list", "--json"]).await;
    assert_eq!(pending.len(), 1);
    let invitee = Terminal::new().logged_in(&app, &contractor).await;
    invitee.ok(&["invitations", "accept", token]).await;
    let email = contractor.email.as_str();
    let grants: Vec<Grant> = person
        .json(&["members", "grants", "list", email, "--json"])
        .await;
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].resource, "projects/web");
    assert_eq!(grants[0].role, Role::Viewer);
    person
        .ok(&[
            "members",
            "grants",
            "set",
            email,
            "projects/web",
            "developer",
        ])
        .await;
    person
        .ok(&["members", "grants", "remove", email, "projects/web"])
        .await;
    let grants: Vec<Grant> = person
        .json(&["members", "grants", "list", email, "--json"])
        .await;
    assert!(grants.is_empty());

    // Invitations are resent (a new link) and revoked.
    let other = format!("later-{}@example.com", contractor.id);
    person
        .ok(&["invitations", "create", &other, "--role", "viewer"])
        .await;
    let pending: Vec<PendingInvitation> = person.json(&["invitations", "list", "--json"]).await;
    let id = pending[0].id.to_string();
    let resent = person.ok(&["invitations", "resend", &id]).await.stdout;
    assert!(resent.contains("/console/invitations/accept?token="));
    person.ok(&["invitations", "revoke", &id]).await;
    let pending: Vec<PendingInvitation> = person.json(&["invitations", "list", "--json"]).await;
    assert!(pending.is_empty());

    // Deleting the account ends its key.
    person.ok(&["service-accounts", "delete", &sa]).await;
    assert_exit(&ci.run(&at("projects/web")).await, 4, "");
}

async fn a_deploy_key_works_through_portcullis_token_and_is_rotated(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let person = Terminal::new().logged_in(&app, &owner).await;
    person.ok(&["orgs", "create", "acme"]).await;
    let key = person
        .ok(&[
            "keys", "create", "--name", "ci", "--scope", "deploy", "--org", "acme",
        ])
        .await
        .stdout
        .trim()
        .to_owned();

    // CI: nothing on disk, the key in the environment.
    let ci = Terminal::new()
        .with_env("PORTCULLIS_URL", &app.address)
        .with_env("PORTCULLIS_TOKEN", &key);
    let me: MeBody = ci.json(&["whoami", "--json"]).await;
    let key_id = me.api_key_id.expect("acting as the key");
    assert_eq!(ci.ok(&["authorize", "deploy"]).await.code, 0);
    let denied = ci.run(&["authorize", "write"]).await;
    assert_exit(&denied, 5, "write");
    assert!(denied.stderr.starts_with("error: "), "{}", denied.stderr);
    assert!(
        denied.stderr.contains("missing permissions: write"),
        "{}",
        denied.stderr
    );
    let token = ci.ok(&["token"]).await.stdout;
    assert_eq!(token.trim_end().split('.').count(), 3);
    assert!(!ci.config_path().exists(), "nothing was written");

    // Rotation by the key's user prints the new key alone; the old one stops at once.
    let rotated = person
        .ok(&["keys", "rotate", &key_id.to_string(), "--org", "acme"])
        .await
        .stdout
        .trim()
        .to_owned();
    assert!(rotated.starts_with("pcl_") && rotated != key);
    assert_exit(&ci.run(&["whoami"]).await, 4, "portcullis login");
    let ci = ci.with_env("PORTCULLIS_TOKEN", &rotated);
    assert_eq!(ci.ok(&["authorize", "deploy"]).await.code, 0);

    // --json gives the whole created object.
    let created: CreatedApiKeyBody = person
        .json(&[
            "keys", "create", "--name", "ops", "--scope", "read", "--org", "acme", "--json",
        ])
        .await;
    assert!(created.key.starts_with("pcl_"));
}

async fn settings_come_from_flags_then_environment_then_the_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let keys: Vec<String> = futures_keys(&app, &owner, &org, 3).await;
    let (file_key, env_key, flag_key) = (&keys[0], &keys[1], &keys[2]);
    let dead = "http://127.0.0.1:9";

    let terminal = Terminal::new();
    terminal.ok(&["config", "set-url", dead]).await;
    let set = terminal
        .run_with_input(&["config", "set-token"], &format!("{file_key}\n"))
        .await;
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(!set.stdout.contains(file_key.as_str()) && !set.stderr.contains(file_key.as_str()));

    // The file alone: its URL (dead) and its key.
    let show = terminal.ok(&["config", "show"]).await.stdout;
    assert!(
        show.contains(&masked(file_key)) && !show.contains(file_key.as_str()),
        "{show}"
    );
    assert!(show.contains(dead) && show.contains("from file"), "{show}");
    let refused = terminal.run(&["whoami"]).await;
    assert_exit(&refused, 1, dead);
    assert!(
        refused.stderr.contains("PORTCULLIS_URL"),
        "how to set it: {}",
        refused.stderr
    );

    // The environment beats the file.
    let terminal = terminal
        .with_env("PORTCULLIS_URL", &app.address)
        .with_env("PORTCULLIS_TOKEN", env_key);
    let show = terminal.ok(&["config", "show"]).await.stdout;
    assert!(
        show.contains(&masked(env_key)) && show.contains("environment (PORTCULLIS_TOKEN)"),
        "{show}"
    );
    assert!(show.contains("environment (PORTCULLIS_URL)"), "{show}");
    let me: MeBody = terminal.json(&["whoami", "--json"]).await;
    let env_key_id = me.api_key_id;

    // Flags beat the environment.
    let show = terminal
        .ok(&["config", "show", "--token", flag_key])
        .await
        .stdout;
    assert!(
        show.contains(&masked(flag_key)) && show.contains("(token, from flag)"),
        "{show}"
    );
    let me: MeBody = terminal
        .json(&["whoami", "--json", "--token", flag_key])
        .await;
    assert_ne!(me.api_key_id, env_key_id);
    assert_exit(&terminal.run(&["whoami", "--url", dead]).await, 1, dead);

    // The organization, by slug in the environment, by id in a flag.
    let slug: Organization = terminal
        .json(&["orgs", "show", "--org", &org, "--json"])
        .await;
    let terminal = terminal.with_env("PORTCULLIS_ORG", slug.slug.as_str());
    let shown: Organization = terminal.json(&["orgs", "show", "--json"]).await;
    assert_eq!(shown.id.to_string(), org);
    let bogus = terminal
        .run(&["orgs", "show", "--org", "no-such-org"])
        .await;
    assert_exit(&bogus, 1, "no-such-org");
}

/// `count` read+deploy keys made by `owner`.
async fn futures_keys(app: &TestApp, owner: &Person, org: &str, count: usize) -> Vec<String> {
    let mut keys = Vec::new();
    for _ in 0..count {
        let key = app.api_key(owner, org, &["read", "deploy"]).await;
        keys.push(key["key"].as_str().expect("a key").to_owned());
    }
    keys
}

async fn a_config_file_others_can_read_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let terminal = Terminal::new();
    terminal
        .ok(&[
            "config",
            "set-token",
            "pcl_0123456789abcdefghijklmnopqrstuvwxyz",
        ])
        .await;
    terminal.ok(&["config", "set-url", &app.address]).await;
    let path = terminal.config_path();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let refused = terminal.run(&["whoami"]).await;
    assert_exit(&refused, 1, &format!("chmod 600 {}", path.display()));
    assert!(!refused.stderr.contains("pcl_0123"), "{}", refused.stderr);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    // Fixed as told, the file is read again (and the made-up key gets a 401).
    assert_exit(&terminal.run(&["whoami"]).await, 4, "portcullis login");
}

async fn each_failure_has_its_exit_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    let viewer_key = app.api_key(&viewer, &org, &["read"]).await["key"]
        .as_str()
        .expect("a key")
        .to_owned();
    let terminal = Terminal::new().with_env("PORTCULLIS_URL", &app.address);

    // 4: no credential at all, or one the server refuses.
    assert_exit(&terminal.run(&["whoami"]).await, 4, "portcullis login");
    assert_exit(
        &terminal.run(&["whoami", "--token", "pcl_bogus"]).await,
        4,
        "portcullis login",
    );

    let terminal = terminal.with_env("PORTCULLIS_TOKEN", &viewer_key);
    // 5: forbidden, with the missing permissions listed.
    let forbidden = terminal
        .run(&["keys", "create", "--name", "x", "--scope", "admin"])
        .await;
    assert_exit(&forbidden, 5, "missing permissions: admin");
    assert_eq!(terminal.run(&["authorize", "deploy"]).await.code, 5);
    // 1: not found.
    let missing = terminal
        .run(&[
            "keys",
            "show",
            "0190b5e0-0000-7000-8000-000000000000",
            "--org",
            &org,
        ])
        .await;
    assert_exit(&missing, 1, "error: ");
    // 1: the server cannot be reached; the message names the URL.
    assert_exit(
        &terminal
            .run(&["whoami", "--url", "http://127.0.0.1:9"])
            .await,
        1,
        "http://127.0.0.1:9",
    );
    // 2: usage errors, from clap and from missing input without a terminal.
    assert_eq!(
        terminal.run(&["keys", "create", "--name", "x"]).await.code,
        2
    );
    assert_eq!(terminal.run(&["no-such-command"]).await.code, 2);
    assert_eq!(
        terminal
            .run(&[
                "keys",
                "create",
                "--name",
                "x",
                "--scope",
                "read",
                "--expires-in",
                "soon"
            ])
            .await
            .code,
        2
    );
    assert_exit(&terminal.run(&["login"]).await, 2, "--email");
    // A key acts in its own organization; the root token has none, so it must name one.
    assert_eq!(terminal.run(&["members", "list"]).await.code, 0);
    let root = terminal
        .run(&["members", "list", "--token", &app.root_token])
        .await;
    assert_exit(&root, 2, "--org");
    // A bad password at login is a 401.
    let bad = terminal
        .run_with_input(&["login", "--email", &owner.email], "wrong password\n")
        .await;
    assert_exit(&bad, 4, "error: ");
}

async fn json_output_is_the_servers_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let key = app.api_key(&owner, &org, &["read", "deploy"]).await;
    let secret = key["key"].as_str().expect("a key").to_owned();
    let terminal = Terminal::new()
        .with_env("PORTCULLIS_URL", &app.address)
        .with_env("PORTCULLIS_TOKEN", &secret);
    let same = Served {
        app: &app,
        terminal: &terminal,
        secret: &secret,
    };
    same.check::<MeBody>(&["whoami"], "/api/v1/me").await;
    same.check::<Vec<Organization>>(&["orgs", "list"], "/api/v1/organizations")
        .await;
    same.check::<Organization>(
        &["orgs", "show", &org],
        &format!("/api/v1/organizations/{org}"),
    )
    .await;
    same.check::<Vec<Member>>(
        &["members", "list"],
        &format!("/api/v1/organizations/{org}/members"),
    )
    .await;
    // A key nobody uses: its `last_used_at` cannot move between the two reads.
    let idle = app.api_key(&owner, &org, &["read"]).await;
    let id = idle["id"].as_str().expect("an id");
    same.check::<ApiKey>(
        &["keys", "show", id],
        &format!("/api/v1/organizations/{org}/api-keys/{id}"),
    )
    .await;
}

/// `portcullis ARGS --json` against the server's own answer to `GET PATH`.
struct Served<'a> {
    app: &'a TestApp,
    terminal: &'a Terminal,
    secret: &'a str,
}

impl Served<'_> {
    /// The printed text is the served body byte for byte: same field order, same timestamp
    /// spelling (`+00:00`), nothing re-serialized. It also parses as the API's object `T`.
    async fn check<T: serde::de::DeserializeOwned>(&self, args: &[&str], path: &str) {
        let mut args = args.to_vec();
        args.push("--json");
        let printed = self.terminal.ok(&args).await.stdout;
        let resp = self
            .app
            .http
            .get(self.app.url(path))
            .bearer_auth(self.secret)
            .send()
            .await
            .expect("GET");
        assert_eq!(resp.status(), 200, "GET {path}");
        let served = resp.text().await.expect("a body");
        assert_eq!(printed, format!("{served}\n"), "portcullis {args:?}");
        serde_json::from_str::<T>(&printed)
            .unwrap_or_else(|e| panic!("{args:?}: not the API's object ({e}): {printed}"));
    }
}

async fn the_password_prompt_does_not_echo_on_a_terminal(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let terminal = Terminal::new();
    let (address, email, password) = (
        app.address.clone(),
        person.email.clone(),
        person.password.clone(),
    );
    let home = terminal.home.path().to_owned();
    let (code, screen) =
        tokio::task::spawn_blocking(move || login_on_a_pty(&home, &address, &email, &password))
            .await
            .expect("the pty thread");
    assert_eq!(code, 0, "login on a terminal failed:\n{screen}");
    assert!(
        screen.contains("Password: "),
        "no prompt on the terminal:\n{screen}"
    );
    assert!(screen.contains("Logged in"), "{screen}");
    assert!(
        !screen.contains(&person.password),
        "the password was echoed:\n{screen}"
    );
    let me: MeBody = terminal.json(&["whoami", "--json"]).await;
    assert_eq!(me.user.map(|u| u.email), Some(person.email));
}

/// Runs `portcullis login` on a pseudo-terminal, types the password at the prompt, and returns
/// the exit code and everything the terminal showed.
fn login_on_a_pty(home: &std::path::Path, url: &str, email: &str, password: &str) -> (u32, String) {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pseudo-terminal");
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_portcullis"));
    command.args(["login", "--url", url, "--email", email]);
    command.env_clear();
    command.env("HOME", home);
    command.env("XDG_CONFIG_HOME", home.join("config"));
    let mut child = pty
        .slave
        .spawn_command(command)
        .expect("the binary starts on the pty");
    drop(pty.slave);

    let screen = Arc::new(Mutex::new(Vec::new()));
    let mut reader = pty.master.try_clone_reader().expect("a pty reader");
    let sink = screen.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 1024];
        while let Ok(n) = reader.read(&mut buffer) {
            if n == 0 {
                break;
            }
            sink.lock().expect("screen").extend_from_slice(&buffer[..n]);
        }
    });
    let shown = |screen: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&screen.lock().expect("screen")).into_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !shown(&screen).contains("Password: ") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut writer = pty.master.take_writer().expect("a pty writer");
    writer
        .write_all(format!("{password}\r").as_bytes())
        .expect("type the password");
    writer.flush().expect("flush");
    let status = child.wait().expect("the binary ends");
    // Let the reader drain what the child wrote last.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !shown(&screen).contains("Logged in") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    (status.exit_code(), shown(&screen))
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args(["completions", shell])
            .output()
            .expect("the binary runs");
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8(output.stdout).expect("UTF-8");
        assert!(
            script.contains("portcullis") && script.contains("set-token"),
            "{shell}: {script}"
        );
    }
}

/// The config file, read back without the CLI's own code.
mod toml_like {
    use std::path::Path;

    #[derive(Default)]
    pub struct Stored {
        pub session: Option<String>,
    }

    pub fn read(path: &Path) -> Stored {
        let text = std::fs::read_to_string(path).expect("the config file");
        let session = text.lines().find_map(|line| {
            let value = line.strip_prefix("session = ")?;
            Some(value.trim_matches('"').to_owned())
        });
        Stored { session }
    }
}

/// README's "The CLI in five minutes": its shell blocks after the one that starts the server,
/// run by bash as written (this server's address in place of `http://127.0.0.1:8080`), with the
/// binary on `PATH` and Ada's password on standard input, where `portcullis login` reads it.
async fn the_readmes_walk_through_runs_as_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let section = readme
        .split("## The CLI in five minutes")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the walk-through in README.md");
    let blocks: Vec<&str> = section
        .split("```sh\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .collect();
    assert!(
        blocks.len() == 3 && blocks[0].contains("portcullis serve"),
        "the walk-through starts a server, then signs two people up, then uses the CLI: {blocks:?}"
    );
    let script = format!("set -e\n{}\n{}", blocks[1], blocks[2])
        .replace("http://127.0.0.1:8080", &app.address);
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_portcullis"));
    let path = format!(
        "{}:{}",
        binary.parent().expect("the binary's directory").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = tempfile::tempdir().expect("a temporary home");
    let mut child = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"correct horse battery\n")
        .await
        .expect("the password");
    drop(stdin);
    let output = child.wait_with_output().await.expect("bash ends");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "the walk-through failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        output.status
    );
    for expected in [
        "grace@example.com",
        "may deploy",
        "exit 5: may not administer",
        "the new key works",
    ] {
        assert!(
            stdout.contains(expected),
            "`{expected}` not printed:\nstdout: {stdout}\nstderr: {stderr}"
        );
    }
    assert!(
        stderr.contains("Joined organization"),
        "Grace did not join: {stderr}"
    );
}
