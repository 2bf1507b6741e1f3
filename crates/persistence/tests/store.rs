//! The `Store` API on a fresh SQLite file per test and, when `PORTCULLIS_TEST_POSTGRES_URL`
//! is set (for example `postgres://postgres@127.0.0.1:5432/test`), on a fresh PostgreSQL
//! database per test as well.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use portcullis_domain::{
    ApiKey, AuditEvent, Email, Error, Holder, Name, OrgSlug, Organization, OrganizationDeletion,
    Permission, Role, Session, new_id,
};
use portcullis_persistence::{NewUser, Page, Store};
use sea_orm::{ConnectOptions, ConnectionTrait, Database};
use std::future::Future;
use uuid::Uuid;

/// Runs `test` on a fresh SQLite database, then on a fresh PostgreSQL one if configured.
/// Each database is removed afterwards, whether the test passed or not.
async fn on_every_backend<F, Fut>(test: F)
where
    F: Fn(Store, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let path =
        std::env::temp_dir().join(format!("portcullis-store-{}.db", Uuid::new_v4().simple()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = Store::connect(&url).await.expect("SQLite opens");
    assert!(!store.is_postgres());
    store.migrate().await.expect("SQLite migrates");
    let outcome = tokio::spawn(test(store, url)).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    rethrow(outcome);

    let Ok(admin_url) = std::env::var("PORTCULLIS_TEST_POSTGRES_URL") else {
        return;
    };
    let name = format!("pcl_{}", Uuid::new_v4().simple());
    let mut options = ConnectOptions::new(admin_url.as_str());
    options.sqlx_logging(false).max_connections(1);
    let admin = Database::connect(options)
        .await
        .expect("PostgreSQL answers");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a test database is created");
    let url = portcullis_persistence::with_database_name(&admin_url, &name);
    let store = Store::connect(&url).await.expect("PostgreSQL connects");
    assert!(store.is_postgres());
    store.migrate().await.expect("PostgreSQL migrates");
    let outcome = tokio::spawn(test(store, url)).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("the test database is dropped");
    rethrow(outcome);
}

fn rethrow(outcome: Result<(), tokio::task::JoinError>) {
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// Microseconds: what both databases keep.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

const ALL: Page = Page {
    limit: 100,
    before: None,
};

fn new_user(email: &str, at: DateTime<Utc>) -> NewUser {
    NewUser {
        id: new_id(),
        email: Email::parse(email).unwrap(),
        name: Some(Name::parse(email.split('@').next().unwrap()).unwrap()),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$salt${email}"),
        platform_admin: false,
        created_at: at,
    }
}

/// An event for a change in `organization_id`, as the operations make them.
fn event(organization_id: Uuid) -> AuditEvent {
    AuditEvent {
        id: new_id(),
        organization_id,
        at: now(),
        actor_user_id: None,
        actor_api_key_id: None,
        action: "test.change".to_owned(),
        target: format!("organization:{organization_id}"),
        ip: None,
    }
}

async fn user(store: &Store, email: &str) -> Uuid {
    store.create_user(new_user(email, now())).await.unwrap().id
}

async fn organization(store: &Store, slug: &str, owner: Uuid) -> Organization {
    let organization = Organization {
        id: new_id(),
        name: Name::parse(&slug.to_uppercase()).unwrap(),
        slug: OrgSlug::parse(slug).unwrap(),
        created_at: now(),
    };
    store
        .create_organization(&organization, owner, &event(organization.id))
        .await
        .unwrap();
    organization
}

fn api_key(organization_id: Uuid, user_id: Uuid, scopes: &[Permission]) -> ApiKey {
    ApiKey {
        id: new_id(),
        organization_id,
        holder: Holder::User(user_id),
        created_by: user_id,
        name: Name::parse("deploy bot").unwrap(),
        key_prefix: "pcl_abcdefgh".to_owned(),
        scopes: scopes.iter().copied().collect(),
        created_at: now(),
        expires_at: None,
        last_used_at: None,
        replaced_by_id: None,
        resources: None,
    }
}

fn is_conflict(result: Result<impl std::fmt::Debug, Error>, about: &str) -> bool {
    matches!(result, Err(Error::Conflict(message)) if message.contains(about))
}

#[tokio::test]
async fn users_are_unique_by_email_and_page_newest_first() {
    on_every_backend(|store, _| async move {
        let ada = store
            .create_user(new_user("ada@example.com", now()))
            .await
            .unwrap();
        assert!(!ada.disabled && !ada.platform_admin);
        let again = store.create_user(new_user("ADA@Example.com", now())).await;
        assert!(is_conflict(again, "a user with this email already exists"));
        assert_eq!(store.count_users().await.unwrap(), 1);

        let email = Email::parse("ada@example.com").unwrap();
        assert_eq!(
            store.user_by_email(&email).await.unwrap().as_ref(),
            Some(&ada)
        );
        let (found, hash) = store
            .user_with_password_hash(&email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (found, hash.as_str()),
            (
                ada.clone(),
                "$argon2id$v=19$m=19456,t=2,p=1$salt$ada@example.com"
            )
        );
        store
            .set_password_hash(ada.id, "$argon2id$new")
            .await
            .unwrap();
        assert_eq!(
            store.password_hash(ada.id).await.unwrap().as_deref(),
            Some("$argon2id$new")
        );
        assert_eq!(store.password_hash(new_id()).await.unwrap(), None);

        let disabled = store
            .update_user(ada.id, Some(true), None)
            .await
            .unwrap()
            .unwrap();
        assert!(disabled.disabled && !disabled.platform_admin);
        assert_eq!(
            store
                .update_user(new_id(), Some(true), Some(true))
                .await
                .unwrap(),
            None
        );

        // The bootstrap admin: an existing user is promoted, re-enabled and re-keyed...
        let admin = store
            .upsert_admin(&email, "$argon2id$admin", now())
            .await
            .unwrap();
        assert_eq!(
            (admin.id, admin.platform_admin, admin.disabled),
            (ada.id, true, false)
        );
        assert_eq!(store.user(ada.id).await.unwrap(), Some(admin));
        assert_eq!(
            store.password_hash(ada.id).await.unwrap().as_deref(),
            Some("$argon2id$admin")
        );
        // ...and a missing one is created, once, even by two replicas starting together.
        let root = Email::parse("root@example.com").unwrap();
        let (created, twin) = tokio::join!(
            store.upsert_admin(&root, "$argon2id$root", now()),
            store.upsert_admin(&root, "$argon2id$root", now())
        );
        let created = created.unwrap();
        assert_eq!(twin.unwrap().id, created.id);
        assert!(created.platform_admin && created.name.is_none());
        assert_eq!(
            store.user_by_email(&root).await.unwrap(),
            Some(created.clone())
        );

        let mut ids = vec![ada.id, created.id];
        for n in 0..3 {
            ids.push(user(&store, &format!("user{n}@example.com")).await);
        }
        ids.reverse();
        let all: Vec<Uuid> = store
            .list_users(ALL)
            .await
            .unwrap()
            .iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(all, ids);
        let first = store
            .list_users(Page {
                limit: 2,
                before: None,
            })
            .await
            .unwrap();
        assert_eq!(first.iter().map(|u| u.id).collect::<Vec<_>>(), ids[..2]);
        let rest = store
            .list_users(Page {
                limit: 10,
                before: Some(first[1].id),
            })
            .await
            .unwrap();
        assert_eq!(rest.iter().map(|u| u.id).collect::<Vec<_>>(), ids[2..]);
    })
    .await;
}

#[tokio::test]
async fn sessions_are_found_by_digest_and_revoked_by_their_user() {
    on_every_backend(|store, _| async move {
        let ada = user(&store, "ada@example.com").await;
        let bob = user(&store, "bob@example.com").await;
        let t0 = now();
        let session = |created_at: DateTime<Utc>, expires_at: DateTime<Utc>| Session {
            id: new_id(),
            user_id: ada,
            created_at,
            updated_at: created_at,
            expires_at,
            user_agent: Some("curl/8".to_owned()),
            ip: Some("192.0.2.1".to_owned()),
        };
        let first = session(t0, t0 + Duration::days(3));
        let second = Session {
            user_agent: None,
            ip: None,
            ..session(t0 + Duration::hours(1), t0 + Duration::days(3))
        };
        let expired = session(t0 - Duration::days(4), t0 - Duration::seconds(1));
        for (s, digest) in [(&first, "d1"), (&second, "d2"), (&expired, "d3")] {
            store.create_session(s, digest).await.unwrap();
        }

        assert_eq!(
            store.session_by_digest("d1").await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(store.session_by_digest("nope").await.unwrap(), None);
        assert_eq!(
            store.live_sessions(ada, t0).await.unwrap(),
            [second.clone(), first.clone()]
        );

        let later = t0 + Duration::days(2);
        store
            .refresh_session(first.id, later, later + Duration::days(3))
            .await
            .unwrap();
        let refreshed = store.session_by_digest("d1").await.unwrap().unwrap();
        assert_eq!(
            (refreshed.updated_at, refreshed.expires_at),
            (later, later + Duration::days(3))
        );
        assert_eq!(
            store
                .live_sessions(ada, t0 + Duration::days(4))
                .await
                .unwrap(),
            [refreshed]
        );

        // Only its own user deletes a session.
        assert_eq!(store.delete_session(bob, first.id).await.unwrap(), None);
        assert_eq!(
            store
                .delete_session(ada, first.id)
                .await
                .unwrap()
                .as_deref(),
            Some("d1")
        );
        assert_eq!(store.delete_session(ada, first.id).await.unwrap(), None);

        assert_eq!(
            store
                .delete_sessions_of_user(ada, Some(second.id))
                .await
                .unwrap(),
            ["d3"]
        );
        assert_eq!(store.live_sessions(ada, t0).await.unwrap(), [second]);
        assert_eq!(
            store.delete_sessions_of_user(ada, None).await.unwrap(),
            ["d2"]
        );
        assert!(
            store
                .delete_sessions_of_user(ada, None)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn an_organization_always_keeps_an_owner() {
    on_every_backend(|store, url| async move {
        let ada = user(&store, "ada@example.com").await;
        let bob = user(&store, "bob@example.com").await;
        let carol = user(&store, "carol@example.com").await;
        let acme = organization(&store, "acme", ada).await;
        assert_eq!(
            store.organization(acme.id).await.unwrap(),
            Some(acme.clone())
        );
        assert_eq!(store.role(ada, acme.id).await.unwrap(), Some(Role::Owner));

        // A duplicate slug leaves nothing behind: neither the organization nor its owner.
        let clash = Organization {
            id: new_id(),
            name: Name::parse("Other").unwrap(),
            slug: OrgSlug::parse("acme").unwrap(),
            created_at: now(),
        };
        assert!(is_conflict(
            store
                .create_organization(&clash, bob, &event(clash.id))
                .await,
            "an organization with this slug already exists"
        ));
        assert_eq!(store.organization(clash.id).await.unwrap(), None);
        assert!(store.memberships(bob).await.unwrap().is_empty());

        let added = store
            .add_member(acme.id, bob, Role::Admin, now(), &event(acme.id))
            .await
            .unwrap();
        assert_eq!(
            (added.user_id, added.email.as_str(), added.role),
            (bob, "bob@example.com", Role::Admin)
        );
        assert!(is_conflict(
            store
                .add_member(acme.id, bob, Role::Viewer, now(), &event(acme.id))
                .await,
            "this user is already a member"
        ));
        let members = store.members(acme.id).await.unwrap();
        assert_eq!(
            members
                .iter()
                .map(|m| (m.user_id, m.role))
                .collect::<Vec<_>>(),
            [(ada, Role::Owner), (bob, Role::Admin)]
        );
        assert_eq!(members[0].name.as_ref().map(Name::as_str), Some("ada"));
        assert_eq!(members[0].joined_at, acme.created_at);
        assert_eq!(store.member(acme.id, bob).await.unwrap(), Some(added));
        assert_eq!(store.member(acme.id, carol).await.unwrap(), None);

        // The only owner can neither step down nor leave.
        assert!(is_conflict(
            store
                .change_role(acme.id, ada, Role::Admin, &event(acme.id))
                .await,
            "cannot demote the last owner"
        ));
        assert!(is_conflict(
            store.remove_member(acme.id, ada, &event(acme.id)).await,
            "the last owner cannot leave the organization"
        ));
        assert_eq!(
            store
                .change_role(acme.id, ada, Role::Owner, &event(acme.id))
                .await
                .unwrap()
                .unwrap()
                .role,
            Role::Owner
        );
        // With a second owner, the first may.
        assert_eq!(
            store
                .change_role(acme.id, bob, Role::Owner, &event(acme.id))
                .await
                .unwrap()
                .unwrap()
                .role,
            Role::Owner
        );
        assert_eq!(
            store
                .change_role(acme.id, ada, Role::Viewer, &event(acme.id))
                .await
                .unwrap()
                .unwrap()
                .role,
            Role::Viewer
        );
        assert!(is_conflict(
            store.remove_member(acme.id, bob, &event(acme.id)).await,
            "the last owner cannot leave"
        ));
        assert!(
            store
                .remove_member(acme.id, ada, &event(acme.id))
                .await
                .unwrap()
        );
        assert_eq!(store.role(ada, acme.id).await.unwrap(), None);

        assert_eq!(
            store
                .change_role(acme.id, carol, Role::Admin, &event(acme.id))
                .await
                .unwrap(),
            None
        );
        assert!(
            !store
                .remove_member(acme.id, carol, &event(acme.id))
                .await
                .unwrap()
        );

        let globex = organization(&store, "globex", carol).await;
        store
            .add_member(globex.id, bob, Role::Developer, now(), &event(globex.id))
            .await
            .unwrap();
        assert_eq!(
            store
                .organizations_of_user(bob)
                .await
                .unwrap()
                .iter()
                .map(|o| o.id)
                .collect::<Vec<_>>(),
            [acme.id, globex.id]
        );
        let memberships = store.memberships(bob).await.unwrap();
        assert_eq!(
            memberships
                .iter()
                .map(|m| (m.organization_id, m.role))
                .collect::<Vec<_>>(),
            [(acme.id, Role::Owner), (globex.id, Role::Developer)]
        );

        let renamed = store
            .rename_organization(acme.id, &Name::parse("Acme Corp").unwrap(), &event(acme.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.slug.as_str()),
            ("Acme Corp", "acme")
        );
        assert_eq!(
            store
                .rename_organization(new_id(), &Name::parse("Nobody").unwrap(), &event(new_id()))
                .await
                .unwrap(),
            None
        );

        // Two owners demoting each other at once: one of them stays owner.
        let initech = organization(&store, "initech", carol).await;
        store
            .add_member(initech.id, ada, Role::Owner, now(), &event(initech.id))
            .await
            .unwrap();
        let (carol_event, ada_event) = (event(initech.id), event(initech.id));
        let (carol_down, ada_down) = tokio::join!(
            store.change_role(initech.id, carol, Role::Viewer, &carol_event),
            store.change_role(initech.id, ada, Role::Viewer, &ada_event)
        );
        assert!(
            carol_down.is_ok() != ada_down.is_ok(),
            "{carol_down:?} {ada_down:?}"
        );
        let owners = store.members(initech.id).await.unwrap();
        assert_eq!(owners.iter().filter(|m| m.role == Role::Owner).count(), 1);

        let newest = store
            .list_organizations(Page {
                limit: 2,
                before: None,
            })
            .await
            .unwrap();
        assert_eq!(
            newest.iter().map(|o| o.id).collect::<Vec<_>>(),
            [initech.id, globex.id]
        );
        let older = store
            .list_organizations(Page {
                limit: 2,
                before: Some(globex.id),
            })
            .await
            .unwrap();
        assert_eq!(older, [renamed]);

        // A row with a role the code does not know is an internal error, not a panic.
        Database::connect(url.as_str())
            .await
            .unwrap()
            .execute_unprepared("UPDATE memberships SET role = 'root' WHERE role = 'developer'")
            .await
            .unwrap();
        assert!(matches!(
            store.role(bob, globex.id).await,
            Err(Error::Internal(_))
        ));
        assert!(matches!(
            store.members(globex.id).await,
            Err(Error::Internal(_))
        ));
        assert!(matches!(
            store.memberships(bob).await,
            Err(Error::Internal(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn api_keys_rotate_with_and_without_grace() {
    on_every_backend(|store, _| async move {
        let ada = user(&store, "ada@example.com").await;
        let bob = user(&store, "bob@example.com").await;
        let acme = organization(&store, "acme", ada).await;
        let globex = organization(&store, "globex", bob).await;
        store
            .add_member(acme.id, bob, Role::Developer, now(), &event(acme.id))
            .await
            .unwrap();

        let k1 = api_key(acme.id, ada, &[Permission::Admin, Permission::Read]);
        let k2 = ApiKey {
            expires_at: Some(now() + Duration::days(30)),
            ..api_key(acme.id, bob, &[Permission::Read])
        };
        store
            .create_api_key(&k1, "digest-1", &event(k1.organization_id))
            .await
            .unwrap();
        store
            .create_api_key(&k2, "digest-2", &event(k2.organization_id))
            .await
            .unwrap();
        assert_eq!(
            store.api_key_by_digest("digest-1").await.unwrap(),
            Some(k1.clone())
        );
        assert_eq!(
            store
                .api_key_by_digest("digest-1")
                .await
                .unwrap()
                .unwrap()
                .scopes
                .to_csv(),
            "admin,read"
        );
        assert_eq!(
            store.api_key(acme.id, k2.id).await.unwrap(),
            Some(k2.clone())
        );
        assert_eq!(store.api_key(globex.id, k2.id).await.unwrap(), None);
        assert_eq!(
            store.api_keys(acme.id, None).await.unwrap(),
            [k1.clone(), k2.clone()]
        );
        assert_eq!(
            store
                .api_keys(acme.id, Some(Holder::User(bob)))
                .await
                .unwrap(),
            std::slice::from_ref(&k2)
        );
        assert!(store.api_keys(globex.id, None).await.unwrap().is_empty());

        // No grace: the old key expires at once and names its successor.
        let k1b = ApiKey {
            id: new_id(),
            ..k1.clone()
        };
        let rotated_at = now();
        assert_eq!(
            store
                .rotate_api_key(
                    k1.id,
                    rotated_at,
                    &k1b,
                    "digest-1b",
                    &event(k1b.organization_id)
                )
                .await
                .unwrap()
                .as_deref(),
            Some("digest-1")
        );
        let retired = store.api_key_by_digest("digest-1").await.unwrap().unwrap();
        assert_eq!(
            (retired.expires_at, retired.replaced_by_id),
            (Some(rotated_at), Some(k1b.id))
        );
        // A key is rotated once: a second rotation writes nothing.
        let twice = ApiKey {
            id: new_id(),
            ..k1.clone()
        };
        assert!(is_conflict(
            store
                .rotate_api_key(
                    k1.id,
                    now(),
                    &twice,
                    "digest-1x",
                    &event(twice.organization_id)
                )
                .await,
            "this key was already rotated: rotate its successor instead"
        ));
        assert_eq!(store.api_key_by_digest("digest-1x").await.unwrap(), None);
        assert_eq!(
            store.api_key_by_digest("digest-1b").await.unwrap(),
            Some(k1b.clone())
        );

        // A grace period: the old key stays until it ends.
        let grace_end = now() + Duration::hours(1);
        let k1c = ApiKey {
            id: new_id(),
            ..k1.clone()
        };
        assert_eq!(
            store
                .rotate_api_key(
                    k1b.id,
                    grace_end,
                    &k1c,
                    "digest-1c",
                    &event(k1c.organization_id)
                )
                .await
                .unwrap()
                .as_deref(),
            Some("digest-1b")
        );
        let old = store.api_key_by_digest("digest-1b").await.unwrap().unwrap();
        assert_eq!(old.expires_at, Some(grace_end));
        assert_eq!(old.replaced_by_id, Some(k1c.id));
        assert_eq!(
            store.api_key_by_digest("digest-1c").await.unwrap(),
            Some(k1c.clone())
        );

        // An unknown old key: nothing happens.
        let orphan = ApiKey {
            id: new_id(),
            ..k1.clone()
        };
        assert_eq!(
            store
                .rotate_api_key(
                    new_id(),
                    now(),
                    &orphan,
                    "digest-x",
                    &event(orphan.organization_id)
                )
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.api_key_by_digest("digest-x").await.unwrap(), None);

        // Batched uses: deleted keys are skipped, and time never runs backwards.
        let used = now();
        store
            .record_key_uses(&[(k2.id, used), (k1.id, used), (k1c.id, used)])
            .await
            .unwrap();
        store
            .record_key_uses(&[(k2.id, used - Duration::minutes(5))])
            .await
            .unwrap();
        store.record_key_uses(&[]).await.unwrap();
        assert_eq!(
            store
                .api_key(acme.id, k2.id)
                .await
                .unwrap()
                .unwrap()
                .last_used_at,
            Some(used)
        );
        assert_eq!(
            store
                .api_key(acme.id, k1c.id)
                .await
                .unwrap()
                .unwrap()
                .last_used_at,
            Some(used)
        );

        assert_eq!(
            store
                .delete_api_key(globex.id, k2.id, &event(globex.id))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .delete_api_key(acme.id, k2.id, &event(acme.id))
                .await
                .unwrap()
                .as_deref(),
            Some("digest-2")
        );
        assert_eq!(
            store
                .delete_api_key(acme.id, k2.id, &event(acme.id))
                .await
                .unwrap(),
            None
        );
        // Rotated keys stay listed, expired, naming their successors.
        let first = store.api_key(acme.id, k1.id).await.unwrap().unwrap();
        assert_eq!(
            store.api_keys(acme.id, None).await.unwrap(),
            [
                first,
                old,
                store.api_key(acme.id, k1c.id).await.unwrap().unwrap()
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn audit_pages_newest_first_and_deleting_an_organization_cascades_and_leaves_a_trace() {
    on_every_backend(|store, _| async move {
        let ada = user(&store, "ada@example.com").await;
        let bob = user(&store, "bob@example.com").await;
        let acme = organization(&store, "acme", ada).await;
        let globex = organization(&store, "globex", ada).await;
        store
            .add_member(acme.id, bob, Role::Viewer, now(), &event(acme.id))
            .await
            .unwrap();
        let key = api_key(acme.id, bob, &[Permission::Read]);
        store
            .create_api_key(&key, "digest", &event(acme.id))
            .await
            .unwrap();
        // Newest first: the key's event, the member's, the organization's.
        let mut events = store.audit_events(acme.id, ALL).await.unwrap();
        assert_eq!(events.len(), 3);

        let name = Name::parse("Renamed").unwrap();
        for (n, organization_id) in [acme.id, acme.id, globex.id, acme.id, acme.id, acme.id]
            .into_iter()
            .enumerate()
        {
            let event = AuditEvent {
                id: new_id(),
                organization_id,
                at: now(),
                actor_user_id: Some(ada),
                actor_api_key_id: (n == 0).then_some(key.id),
                action: "organization.updated".to_owned(),
                target: format!("organization:{organization_id}"),
                ip: (n == 1).then(|| "2001:db8::1".to_owned()),
            };
            store
                .rename_organization(organization_id, &name, &event)
                .await
                .unwrap()
                .unwrap();
            if organization_id == acme.id {
                events.insert(0, event);
            }
        }
        let first = store
            .audit_events(
                acme.id,
                Page {
                    limit: 2,
                    before: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(first, events[..2]);
        let rest = store
            .audit_events(
                acme.id,
                Page {
                    limit: 10,
                    before: Some(first[1].id),
                },
            )
            .await
            .unwrap();
        assert_eq!(rest, events[2..]);
        assert_eq!(store.audit_events(globex.id, ALL).await.unwrap().len(), 2);

        let acme = store.organization(acme.id).await.unwrap().unwrap();
        let deletion = OrganizationDeletion {
            id: new_id(),
            organization: acme.clone(),
            at: now(),
            actor_user_id: Some(ada),
            ip: Some("192.0.2.7".to_owned()),
        };
        assert!(store.delete_organization(acme.id, &deletion).await.unwrap());
        let again = OrganizationDeletion {
            id: new_id(),
            ..deletion.clone()
        };
        assert!(!store.delete_organization(acme.id, &again).await.unwrap());
        assert_eq!(store.organization(acme.id).await.unwrap(), None);
        assert!(store.members(acme.id).await.unwrap().is_empty());
        assert_eq!(store.role(bob, acme.id).await.unwrap(), None);
        assert_eq!(store.api_key_by_digest("digest").await.unwrap(), None);
        assert!(store.audit_events(acme.id, ALL).await.unwrap().is_empty());
        // The trace stays: once, as it was written.
        assert_eq!(
            store.organization_deletions(ALL).await.unwrap(),
            std::slice::from_ref(&deletion)
        );
        // Users and other organizations stay.
        assert_eq!(store.count_users().await.unwrap(), 2);
        let globex = store.organization(globex.id).await.unwrap().unwrap();
        assert_eq!(
            store.organizations_of_user(ada).await.unwrap(),
            std::slice::from_ref(&globex)
        );
        assert_eq!(store.audit_events(globex.id, ALL).await.unwrap().len(), 2);

        // Most recently deleted first, paged by id.
        let deletion_of_globex = OrganizationDeletion {
            id: new_id(),
            organization: globex.clone(),
            at: now(),
            actor_user_id: None,
            ip: None,
        };
        assert!(
            store
                .delete_organization(globex.id, &deletion_of_globex)
                .await
                .unwrap()
        );
        assert_eq!(
            store.organization_deletions(ALL).await.unwrap(),
            [deletion_of_globex.clone(), deletion.clone()]
        );
        let older = Page {
            limit: 10,
            before: Some(deletion_of_globex.id),
        };
        assert_eq!(
            store.organization_deletions(older).await.unwrap(),
            [deletion]
        );
    })
    .await;
}

/// Each change and its audit event are one transaction: when the event cannot be written (here,
/// an id already taken), the change is not made either.
#[tokio::test]
async fn a_change_whose_audit_event_cannot_be_written_is_not_made() {
    on_every_backend(|store, _| async move {
        let ada = user(&store, "ada@example.com").await;
        let bob = user(&store, "bob@example.com").await;
        let acme = organization(&store, "acme", ada).await;
        let written = store.audit_events(acme.id, ALL).await.unwrap();
        let taken = || AuditEvent {
            at: now(),
            ..written[0].clone()
        };

        let key = api_key(acme.id, ada, &[Permission::Read]);
        assert!(
            store
                .create_api_key(&key, "digest", &taken())
                .await
                .is_err()
        );
        assert_eq!(store.api_key_by_digest("digest").await.unwrap(), None);

        assert!(
            store
                .add_member(acme.id, bob, Role::Viewer, now(), &taken())
                .await
                .is_err()
        );
        assert_eq!(store.role(bob, acme.id).await.unwrap(), None);

        let renamed = Name::parse("Renamed").unwrap();
        assert!(
            store
                .rename_organization(acme.id, &renamed, &taken())
                .await
                .is_err()
        );
        assert_eq!(
            store.organization(acme.id).await.unwrap(),
            Some(acme.clone())
        );

        let globex = Organization {
            id: new_id(),
            name: Name::parse("Globex").unwrap(),
            slug: OrgSlug::parse("globex").unwrap(),
            created_at: now(),
        };
        assert!(
            store
                .create_organization(&globex, ada, &taken())
                .await
                .is_err()
        );
        assert_eq!(store.organization(globex.id).await.unwrap(), None);
        assert_eq!(store.role(ada, globex.id).await.unwrap(), None);

        assert_eq!(store.audit_events(acme.id, ALL).await.unwrap(), written);
    })
    .await;
}

#[tokio::test]
async fn the_first_signing_key_stays() {
    on_every_backend(|store, _| async move {
        let t0 = now();
        let first = store
            .signing_key_or_insert("kid-a", "cHJpdmF0ZS1h", t0)
            .await
            .unwrap();
        assert_eq!(first, ("kid-a".to_owned(), "cHJpdmF0ZS1h".to_owned()));
        // Another replica with its own key (even an older-stamped one) gets the stored key.
        let second = store
            .signing_key_or_insert("kid-b", "cHJpdmF0ZS1i", t0 - Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(second, first);
        // Two replicas starting together settle on one key.
        let (a, b) = tokio::join!(
            store.signing_key_or_insert("kid-c", "c", t0),
            store.signing_key_or_insert("kid-d", "d", t0)
        );
        assert_eq!((a.unwrap(), b.unwrap()), (first.clone(), first));
        store.ping().await.unwrap();
        // Migrating twice is harmless.
        store.migrate().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn connection_errors_never_show_the_password() {
    let Err(Error::Internal(message)) = Store::connect("mysql://app:hunter22@db.internal/p").await
    else {
        panic!("an unsupported URL is refused");
    };
    assert!(!message.contains("hunter22"), "{message}");
    let Err(Error::Internal(message)) =
        Store::connect("sqlite:///nonexistent-dir/x/portcullis.db").await
    else {
        panic!("a database in a missing directory cannot be opened");
    };
    assert!(message.contains("cannot connect"), "{message}");
}
