//! An existing database upgrades in place: one made by the schema before service accounts and
//! grants (migrations up to invitations), with a person, an organization, a member, a key and a
//! pending invitation in it, then served by today's binary. Everything in it keeps working, and
//! the new tables and columns are usable at once.

use migration::{Migrator, MigratorTrait};
use portcullis_domain::{ApiKeySecret, KeyPrefix, LinkToken};
use portcullis_tests::*;
use sea_orm::sea_query::{Alias, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

backend_tests!(a_database_from_before_service_accounts_upgrades_in_place);

/// The migrations that existed before this schema change.
const MIGRATIONS_BEFORE: u32 = 3;

async fn insert(db: &impl ConnectionTrait, table: &str, row: &[(&str, SimpleExpr)]) {
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(table))
        .columns(row.iter().map(|(column, _)| Alias::new(*column)))
        .values_panic(row.iter().map(|(_, value)| value.clone()));
    db.execute(&insert).await.expect("insert an old row");
}

async fn a_database_from_before_service_accounts_upgrades_in_place(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let db = Database::connect(database.url.as_str())
        .await
        .expect("connect");
    Migrator::up(&db, Some(MIGRATIONS_BEFORE))
        .await
        .expect("yesterday's schema");

    let now = chrono::Utc::now();
    let (user, org) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let email = "old-timer@example.com";
    let password = "correct horse battery";
    insert(
        &db,
        "users",
        &[
            ("id", user.into()),
            ("email", email.into()),
            ("name", "Old Timer".into()),
            ("password_hash", password_hash(password).into()),
            ("platform_admin", false.into()),
            ("disabled", false.into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    insert(
        &db,
        "organizations",
        &[
            ("id", org.into()),
            ("name", "Legacy".into()),
            ("slug", "legacy".into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    insert(
        &db,
        "memberships",
        &[
            ("organization_id", org.into()),
            ("user_id", user.into()),
            ("role", "owner".into()),
            ("joined_at", now.into()),
        ],
    )
    .await;
    let secret = ApiKeySecret::generate(&KeyPrefix::default());
    let key_id = uuid::Uuid::now_v7();
    insert(
        &db,
        "api_keys",
        &[
            ("id", key_id.into()),
            ("organization_id", org.into()),
            ("user_id", user.into()),
            ("name", "deploy bot".into()),
            ("key_digest", secret.digest().into()),
            ("key_prefix", secret.display_prefix().into()),
            ("scopes", "deploy,read".into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    let invitation = LinkToken::generate();
    insert(
        &db,
        "invitations",
        &[
            ("id", uuid::Uuid::now_v7().into()),
            ("organization_id", org.into()),
            ("email", "newcomer@example.com".into()),
            ("role", "viewer".into()),
            ("token_digest", invitation.digest().into()),
            ("created_at", now.into()),
            ("expires_at", (now + chrono::Duration::days(7)).into()),
        ],
    )
    .await;
    db.close().await.ok();

    // Today's server migrates it at start-up.
    let app = spawn_app_on(database).await;
    let key = secret.expose();
    let authorized = app
        .http
        .get(app.url("/api/v1/authorize?permission=deploy"))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    let authorized = expect_json(authorized, 200).await;
    assert_eq!(authorized["user_id"], json!(user));
    assert_eq!(authorized["resource"], Value::Null);
    assert_eq!(authorized["service_account_id"], Value::Null);

    let owner = app.browser();
    let login = owner
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    expect_json(login, 200).await;

    let keys = owner
        .get(app.url(&format!("/api/v1/organizations/{org}/api-keys")))
        .send()
        .await
        .unwrap();
    let keys = expect_json(keys, 200).await;
    assert_eq!(keys[0]["id"], json!(key_id));
    assert_eq!(keys[0]["user_id"], json!(user));
    assert_eq!(keys[0]["resources"], Value::Null);
    assert_eq!(keys[0]["service_account_id"], Value::Null);

    let members = owner
        .get(app.url(&format!("/api/v1/organizations/{org}/members")))
        .send()
        .await
        .unwrap();
    let members = expect_json(members, 200).await;
    assert_eq!(members[0]["role"], "owner");
    assert_eq!(members[0]["grants"], json!([]));

    // The pending invitation still resolves, with no grants.
    let found = app
        .http
        .post(app.url("/api/v1/invitations/lookup"))
        .json(&json!({"token": invitation.expose()}))
        .send()
        .await
        .unwrap();
    let found = expect_json(found, 200).await;
    assert_eq!(found["role"], "viewer");

    // The new tables are there: a grant and a service account with a key.
    let grant = owner
        .put(app.url(&format!(
            "/api/v1/organizations/{org}/members/{user}/grants"
        )))
        .json(&json!({"resource": "projects/web", "role": "admin"}))
        .send()
        .await
        .unwrap();
    expect_json(grant, 200).await;
    let account = owner
        .post(app.url(&format!("/api/v1/organizations/{org}/service-accounts")))
        .json(&json!({"name": "ci", "role": "developer"}))
        .send()
        .await
        .unwrap();
    let account = expect_json(account, 201).await;
    let sa_key = owner
        .post(app.url(&format!(
            "/api/v1/organizations/{org}/service-accounts/{}/api-keys",
            account["id"].as_str().unwrap()
        )))
        .json(&json!({"name": "ci key", "scopes": ["deploy"], "resources": ["projects/web"]}))
        .send()
        .await
        .unwrap();
    let sa_key = expect_json(sa_key, 201).await;
    let at_web = app
        .http
        .get(app.url("/api/v1/authorize?permission=deploy&resource=projects/web/environments/prod"))
        .header("X-API-Key", sa_key["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let at_web = expect_json(at_web, 200).await;
    assert_eq!(at_web["service_account_id"], account["id"]);
    // The old key is untouched by all this.
    let again = app
        .http
        .get(app.url("/api/v1/authorize?permission=read"))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    expect_json(again, 200).await;
}
