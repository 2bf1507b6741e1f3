//! The main journeys through `portcullis-client`, which progenitor generates from the committed
//! `openapi.json`: if the spec drifts from what the server does, these fail to compile or
//! to deserialize. No hand-written HTTP here.

use portcullis_client::types::{
    AddMember, AuthMethod, CreateApiKey, CreateOrganization, ErrorBody, LoginRequest, Permission,
    Role, RotateApiKey, SignupRequest, TokenRequest,
};
use portcullis_client::{Client, Credential, GeneratedError as Error, LastAnswer, ResponseValue};
use portcullis_tests::{Backend, TestApp, backend_tests, spawn_app};

backend_tests!(
    a_person_signs_up_logs_in_and_builds_an_organization,
    api_keys_are_created_listed_rotated_and_revoked,
    a_key_passes_forward_auth_and_mints_an_access_token,
    bad_credentials_come_back_as_typed_errors,
    a_session_token_from_login_authenticates_writes,
);

const PASSWORD: &str = "correct horse battery";

async fn a_person_signs_up_logs_in_and_builds_an_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let anonymous = Client::connect(&app.address, None).expect("a client");
    let owner = signed_up(&app, "Ada").await;

    let session = owner.client.get_session().await.expect("GET /auth/session");
    assert_eq!(session.user.id, owner.id);
    assert_eq!(session.user.email, owner.email);
    assert_eq!(session.user.name.as_deref(), Some("Ada"));
    assert!(!session.user.disabled);
    assert!(session.session.expires_at > session.session.created_at);

    let org = owner
        .client
        .create_organization(&CreateOrganization {
            name: "Acme Corp".into(),
            slug: "acme".parse().expect("a valid slug"),
            owner_email: None,
        })
        .await
        .expect("POST /organizations");
    assert_eq!(org.status(), 201);
    assert_eq!(
        (org.name.as_str(), org.slug.as_str()),
        ("Acme Corp", "acme")
    );

    // The member signs up on their own; the owner then adds them by email.
    let member = anonymous
        .signup(&SignupRequest {
            email: "grace@example.com".into(),
            password: PASSWORD.parse().expect("a valid password"),
            name: None,
            invitation_token: None,
        })
        .await
        .expect("POST /auth/signup")
        .into_inner()
        .user;
    let added = owner
        .client
        .add_member(
            &org.id,
            &AddMember {
                email: "Grace@Example.com".into(),
                role: Role::Developer,
            },
        )
        .await
        .expect("POST /members");
    assert_eq!(added.status(), 201);
    assert_eq!(added.user_id, member.id);
    assert_eq!(added.role, Role::Developer);

    let members = owner
        .client
        .list_members(&org.id)
        .await
        .expect("GET /members");
    let mut roles: Vec<_> = members.iter().map(|m| (m.email.as_str(), m.role)).collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("ada@example.com", Role::Owner),
            ("grace@example.com", Role::Developer)
        ]
    );

    let me = owner.client.me().await.expect("GET /me");
    assert_eq!(me.auth_method, AuthMethod::Session);
    assert_eq!(me.organization_id, None);
    assert!(me.scopes.is_empty());
    assert_eq!(me.memberships.len(), 1);
    assert_eq!(me.memberships[0].organization_id, org.id);
    assert_eq!(me.memberships[0].role, Role::Owner);

    let orgs = owner
        .client
        .list_organizations()
        .await
        .expect("GET /organizations");
    assert_eq!(orgs.iter().map(|o| o.id).collect::<Vec<_>>(), [org.id]);
}

async fn api_keys_are_created_listed_rotated_and_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = signed_up(&app, "Ada").await;
    let org = organization(&owner).await;

    let created = owner
        .client
        .create_api_key(
            &org,
            &CreateApiKey {
                name: "ci".into(),
                scopes: vec![Permission::Read, Permission::Deploy],
                expires_at: None,
                resources: Vec::new(),
            },
        )
        .await
        .expect("POST /api-keys");
    assert_eq!(created.status(), 201);
    let created = created.into_inner();
    assert!(created.key.starts_with("pcl_"), "{}", created.key);
    assert_eq!(created.key.len(), 4 + 43 + 6);
    assert_eq!(created.key_prefix, created.key[..12]);
    assert_eq!(created.organization_id, org);
    assert_eq!(created.user_id, Some(owner.id));
    assert_eq!(created.expires_at, None);

    let listed = owner
        .client
        .list_api_keys(&org)
        .await
        .expect("GET /api-keys");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.id);
    assert_eq!(listed[0].name, "ci");
    assert_eq!(listed[0].key_prefix, created.key_prefix);
    let fetched = owner
        .client
        .get_api_key(&org, &created.id)
        .await
        .expect("GET /api-keys/{id}");
    assert_eq!(fetched.scopes, created.scopes);

    let old = key_client(&app, &created.key);
    assert_eq!(
        old.me().await.expect("the new key works").auth_method,
        AuthMethod::ApiKey
    );

    // A rotation without a grace period retires the old secret at once.
    let rotated = owner
        .client
        .rotate_api_key(&org, &created.id, &RotateApiKey::default())
        .await
        .expect("POST /rotate");
    assert_eq!(rotated.status(), 201);
    assert_ne!(rotated.key, created.key);
    assert_eq!(rotated.name, "ci");
    assert_eq!(rotated.scopes, created.scopes);
    assert_eq!(failure(old.me().await), (401, "unauthenticated".into()));
    let new = key_client(&app, &rotated.key);
    let me = new.me().await.expect("the rotated key works");
    assert_eq!(me.api_key_id, Some(rotated.id));

    let revoked = owner
        .client
        .revoke_api_key(&org, &rotated.id)
        .await
        .expect("DELETE /api-keys/{id}");
    assert_eq!(revoked.status(), 204);
    assert_eq!(failure(new.me().await), (401, "unauthenticated".into()));
    let listed = owner
        .client
        .list_api_keys(&org)
        .await
        .expect("GET /api-keys");
    assert!(
        listed.iter().all(|k| k.id != rotated.id),
        "a revoked key is still listed: {listed:?}"
    );
}

async fn a_key_passes_forward_auth_and_mints_an_access_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = signed_up(&app, "Ada").await;
    let org = organization(&owner).await;
    let key = owner
        .client
        .create_api_key(
            &org,
            &CreateApiKey {
                name: "deployer".into(),
                scopes: vec![Permission::Deploy],
                expires_at: None,
                resources: Vec::new(),
            },
        )
        .await
        .expect("POST /api-keys")
        .into_inner();
    let with_key = key_client(&app, &key.key);

    // The organization defaults to the key's own.
    let allowed = with_key
        .authorize(None, Permission::Deploy, None)
        .await
        .expect("GET /authorize?permission=deploy");
    assert_eq!(allowed.status(), 200);
    assert!(allowed.allowed);
    assert_eq!(allowed.organization_id, org);
    assert_eq!(allowed.user_id, Some(owner.id));
    assert_eq!(allowed.role, Some(Role::Owner));
    assert_eq!(allowed.scopes, [Permission::Deploy]);
    assert_eq!(allowed.auth_method, AuthMethod::ApiKey);
    let header = |name: &str| {
        allowed.headers()[name]
            .to_str()
            .expect("ASCII header")
            .to_owned()
    };
    assert_eq!(header("x-portcullis-user"), owner.id.to_string());
    assert_eq!(header("x-portcullis-organization"), org.to_string());
    assert_eq!(header("x-portcullis-role"), "owner");
    assert_eq!(header("x-portcullis-scopes"), "deploy");

    let Err(Error::ErrorResponse(denied)) = with_key
        .authorize(Some(&org), Permission::Write, None)
        .await
    else {
        panic!("a deploy-only key was allowed to write");
    };
    assert_eq!(denied.status(), 403);
    assert_eq!(denied.code, "forbidden");
    assert_eq!(denied.missing_permissions, ["write"]);

    let token = with_key
        .create_access_token(&TokenRequest::default())
        .await
        .expect("POST /auth/token")
        .into_inner();
    assert_eq!(token.token_type, "Bearer");
    assert!(token.expires_in > 0 && token.expires_in <= 300);

    let with_token = bearer_client(&app, &token.access_token);
    let me = with_token
        .me()
        .await
        .expect("GET /me with the access token");
    assert_eq!(me.auth_method, AuthMethod::AccessToken);
    assert_eq!(me.organization_id, Some(org));
    assert_eq!(me.scopes, [Permission::Deploy]);
    assert_eq!(me.user.as_ref().map(|u| u.id), Some(owner.id));
    let allowed = with_token
        .authorize(None, Permission::Deploy, None)
        .await
        .expect("GET /authorize with the access token");
    assert_eq!(allowed.auth_method, AuthMethod::AccessToken);
}

async fn bad_credentials_come_back_as_typed_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let anonymous = Client::connect(&app.address, None).expect("a client");
    let err = anonymous
        .login(&LoginRequest {
            email: "nobody@example.com".into(),
            password: PASSWORD.into(),
        })
        .await
        .expect_err("login of an unknown user");
    let Error::ErrorResponse(body) = err else {
        panic!("not a documented error: {err:?}");
    };
    assert_eq!(body.status(), 401);
    assert!(body.headers().contains_key("www-authenticate"));
    let body: ErrorBody = body.into_inner();
    assert_eq!((body.status, body.error.as_str()), (401, "Unauthorized"));
    assert_eq!(body.code, "unauthenticated");

    assert_eq!(
        failure(anonymous.me().await),
        (401, "unauthenticated".into())
    );
    let garbage = key_client(&app, "pcl_not-a-real-key");
    assert_eq!(failure(garbage.me().await), (401, "unauthenticated".into()));
    assert_eq!(
        failure(garbage.authorize(None, Permission::Read, None).await),
        (401, "unauthenticated".into())
    );
    let root = bearer_client(&app, &app.root_token);
    assert_eq!(
        failure(root.authorize(None, Permission::Read, None).await),
        (422, "validation_failed".into()),
        "the root token must name an organization"
    );
}

async fn a_session_token_from_login_authenticates_writes(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = signed_up(&app, "Ada").await;
    let anonymous = Client::connect(&app.address, None).expect("a client");
    let login = anonymous
        .login(&LoginRequest {
            email: owner.email.clone(),
            password: PASSWORD.into(),
        })
        .await
        .expect("POST /auth/login");
    let token = portcullis_client::session_token(login.headers()).expect("a session cookie");
    let session =
        Client::connect(&app.address, Some(Credential::Session(token))).expect("a client");

    // A cookie-authenticated write needs `Origin`, which `Credential::Session` sends.
    let org = session
        .create_organization(&CreateOrganization {
            name: "Acme Corp".into(),
            slug: "acme".parse().expect("a valid slug"),
            owner_email: None,
        })
        .await
        .expect("POST /organizations with the session cookie");
    assert_eq!(org.status(), 201);
    let me = session.me().await.expect("GET /me");
    assert_eq!(me.auth_method, AuthMethod::Session);

    // The typed error carries the contract's body.
    let denied = portcullis_client::Error::from(anonymous.me().await.expect_err("no credential"));
    let portcullis_client::Error::Api { status, body } = denied else {
        panic!("not an API error: {denied:?}");
    };
    assert_eq!((status, body.code.as_str()), (401, "unauthenticated"));
}

/// A signed-up, logged-in person: a generated client over a cookie-keeping reqwest client.
struct Person {
    client: Client,
    id: uuid::Uuid,
    email: String,
}

async fn signed_up(app: &TestApp, name: &str) -> Person {
    let email = format!("{}@example.com", name.to_lowercase());
    // `browser()` keeps cookies and sends `Origin`, which cookie-authenticated writes need.
    let client = Client::new_with_client(&app.address, app.browser(), LastAnswer::default());
    let signed_up = client
        .signup(&SignupRequest {
            email: email.clone(),
            password: PASSWORD.parse().expect("a valid password"),
            name: Some(name.into()),
            invitation_token: None,
        })
        .await
        .expect("POST /auth/signup");
    assert_eq!(signed_up.status(), 201);
    let login = client
        .login(&LoginRequest {
            email: email.to_uppercase(),
            password: PASSWORD.into(),
        })
        .await
        .expect("POST /auth/login");
    assert_eq!(login.user.id, signed_up.user.id);
    assert!(
        login.headers()["set-cookie"]
            .to_str()
            .is_ok_and(|c| c.starts_with("portcullis_session=")),
        "login sets the session cookie"
    );
    Person {
        client,
        id: login.user.id,
        email,
    }
}

async fn organization(owner: &Person) -> uuid::Uuid {
    owner
        .client
        .create_organization(&CreateOrganization {
            name: "Acme Corp".into(),
            slug: "acme".parse().expect("a valid slug"),
            owner_email: None,
        })
        .await
        .expect("POST /organizations")
        .id
}

fn key_client(app: &TestApp, key: &str) -> Client {
    Client::connect(&app.address, Some(Credential::ApiKey(key.into()))).expect("a client")
}

fn bearer_client(app: &TestApp, token: &str) -> Client {
    Client::connect(&app.address, Some(Credential::Bearer(token.into()))).expect("a client")
}

/// The status and `code` of a documented error answer; panics on success or anything else.
fn failure<T: std::fmt::Debug>(
    result: Result<ResponseValue<T>, Error<ErrorBody>>,
) -> (u16, String) {
    match result {
        Err(Error::ErrorResponse(body)) => {
            assert_eq!(
                body.status().as_u16(),
                body.status,
                "status repeated in the body"
            );
            (body.status, body.into_inner().code)
        }
        other => panic!("expected a documented error, got {other:?}"),
    }
}
