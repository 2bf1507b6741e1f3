//! Organizations: create, list, read, rename, delete, and what each role may do there.

use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    creating_an_organization_makes_the_creator_its_owner,
    a_duplicate_slug_is_a_conflict,
    bad_slugs_and_names_are_refused,
    a_person_lists_only_their_own_organizations,
    the_root_token_lists_every_organization,
    a_member_reads_the_organization_and_a_stranger_is_forbidden_whether_or_not_it_exists,
    the_platform_admin_gets_404_for_an_unknown_organization,
    renaming_needs_the_admin_permission,
    deleting_needs_an_owner,
    a_deleted_organization_is_gone,
    a_viewer_reads_but_cannot_change_anything,
    a_developer_reads_but_cannot_administer,
);

fn org_path(org: &str) -> String {
    format!("/api/v1/organizations/{org}")
}

fn random_slug() -> String {
    format!("s-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

async fn create(app: &TestApp, by: &Person, name: &str, slug: &str) -> reqwest::Response {
    by.client
        .post(app.url("/api/v1/organizations"))
        .json(&json!({"name": name, "slug": slug}))
        .send()
        .await
        .unwrap()
}

async fn rename(app: &TestApp, by: &Person, org: &str, name: &str) -> reqwest::Response {
    by.client
        .patch(app.url(&org_path(org)))
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap()
}

fn sorted_ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|o| o["id"].as_str().expect("an id").to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn creating_an_organization_makes_the_creator_its_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let resp = create(&app, &person, "Acme Corp", "acme-corp").await;
    let org = expect_json(resp, 201).await;
    let mut keys: Vec<_> = org.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["created_at", "id", "name", "slug"], "{org}");
    assert_eq!(org["name"], "Acme Corp");
    assert_eq!(org["slug"], "acme-corp");
    uuid::Uuid::parse_str(org["id"].as_str().unwrap()).expect("id is a UUID");
    chrono::DateTime::parse_from_rfc3339(org["created_at"].as_str().unwrap())
        .expect("created_at is RFC 3339");

    let id = org["id"].as_str().unwrap();
    let resp = person
        .client
        .get(app.url(&org_path(id)))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await, org);
    let resp = person
        .client
        .get(app.url(&format!("{}/members", org_path(id))))
        .send()
        .await
        .unwrap();
    let members = expect_json(resp, 200).await;
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members[0]["user_id"], person.id.as_str());
    assert_eq!(members[0]["role"], "owner");
}

async fn a_duplicate_slug_is_a_conflict(backend: Backend) {
    let app = spawn_app(backend).await;
    let (first, second) = (app.person().await, app.person().await);
    expect_json(create(&app, &first, "One", "taken").await, 201).await;
    assert_error(create(&app, &second, "Two", "taken").await, 409, "conflict").await;
    assert_error(
        create(&app, &first, "Three", "taken").await,
        409,
        "conflict",
    )
    .await;
}

async fn bad_slugs_and_names_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let too_long = "a".repeat(64);
    for slug in [
        "",
        "Upper",
        "under_score",
        "-lead",
        "trail-",
        "sp ace",
        "dot.ted",
        "ünï",
        too_long.as_str(),
    ] {
        let resp = create(&app, &person, "Fine name", slug).await;
        assert_error(resp, 422, "validation_failed").await;
    }
    let long_name = "n".repeat(101);
    for name in ["", "   ", long_name.as_str()] {
        let resp = create(&app, &person, name, &random_slug()).await;
        assert_error(resp, 422, "validation_failed").await;
    }
    let resp = person
        .client
        .post(app.url("/api/v1/organizations"))
        .json(&json!({"name": "No slug"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 422, "validation_failed").await;
    // The edges of the rules are accepted.
    let longest = format!("a{}z", "-0".repeat(30) + "b");
    assert_eq!(longest.len(), 63);
    for slug in ["a", "0", "a-b", longest.as_str()] {
        expect_json(create(&app, &person, "Edge", slug).await, 201).await;
    }
    expect_json(
        create(&app, &person, &"m".repeat(100), &random_slug()).await,
        201,
    )
    .await;
    // Nothing refused was created.
    let resp = person
        .client
        .get(app.url("/api/v1/organizations"))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await.as_array().unwrap().len(), 5);
}

async fn a_person_lists_only_their_own_organizations(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.person().await, app.person().await);
    let a1 = app.organization(&alice).await;
    let a2 = app.organization(&alice).await;
    let b1 = app.organization(&bob).await;
    let _b2 = app.organization(&bob).await;
    app.add_member(&bob, &b1, &alice, "viewer").await;

    let resp = alice
        .client
        .get(app.url("/api/v1/organizations"))
        .send()
        .await
        .unwrap();
    let list = expect_json(resp, 200).await;
    assert_eq!(sorted_ids(&list), sorted(vec![a1, a2, b1]));
    for org in list.as_array().unwrap() {
        assert!(
            org["name"].is_string() && org["slug"].is_string() && org["created_at"].is_string(),
            "{org}"
        );
    }
}

async fn the_root_token_lists_every_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.person().await, app.person().await);
    let a = app.organization(&alice).await;
    let b = app.organization(&bob).await;
    let resp = app
        .http
        .get(app.url("/api/v1/organizations"))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        sorted_ids(&expect_json(resp, 200).await),
        sorted(vec![a, b])
    );
}

async fn a_member_reads_the_organization_and_a_stranger_is_forbidden_whether_or_not_it_exists(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (owner, viewer, stranger) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;

    let resp = viewer
        .client
        .get(app.url(&org_path(&org)))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["id"], org.as_str());

    let resp = stranger
        .client
        .get(app.url(&org_path(&org)))
        .send()
        .await
        .unwrap();
    let existing = assert_error(resp, 403, "forbidden").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let resp = stranger
        .client
        .get(app.url(&org_path(&unknown)))
        .send()
        .await
        .unwrap();
    let missing = assert_error(resp, 403, "forbidden").await;
    assert_eq!(
        existing["message"], missing["message"],
        "the message must not tell them apart"
    );

    for path in [
        format!("{}/members", org_path(&org)),
        format!("{}/members", org_path(&unknown)),
    ] {
        let resp = stranger.client.get(app.url(&path)).send().await.unwrap();
        assert_error(resp, 403, "forbidden").await;
    }
    for target in [&org, &unknown] {
        assert_error(
            rename(&app, &stranger, target, "Mine now").await,
            403,
            "forbidden",
        )
        .await;
    }
}

async fn the_platform_admin_gets_404_for_an_unknown_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let root = |path: &str| app.http.get(app.url(path)).bearer_auth(&app.root_token);

    let resp = root(&org_path(&org)).send().await.unwrap();
    assert_eq!(expect_json(resp, 200).await["id"], org.as_str());
    let unknown = uuid::Uuid::now_v7().to_string();
    let resp = root(&org_path(&unknown)).send().await.unwrap();
    assert_error(resp, 404, "not_found").await;
    let resp = root(&format!("{}/members", org_path(&unknown)))
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "not_found").await;
}

async fn renaming_needs_the_admin_permission(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin, developer) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &developer, "developer").await;

    let body = assert_error(
        rename(&app, &developer, &org, "Dev name").await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(body["missing_permissions"], json!(["admin"]));
    assert!(
        body["message"].as_str().unwrap().contains("admin"),
        "{body}"
    );

    let renamed = expect_json(rename(&app, &admin, &org, "Admin name").await, 200).await;
    assert_eq!(renamed["id"], org.as_str());
    assert_eq!(renamed["name"], "Admin name");
    let resp = owner
        .client
        .get(app.url(&org_path(&org)))
        .send()
        .await
        .unwrap();
    let org_now = expect_json(resp, 200).await;
    assert_eq!(org_now["name"], "Admin name");
    assert_eq!(org_now, renamed);

    expect_json(rename(&app, &owner, &org, "Owner name").await, 200).await;
    let resp = app
        .http
        .patch(app.url(&org_path(&org)))
        .bearer_auth(&app.root_token)
        .json(&json!({"name": "Root name"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["name"], "Root name");
    assert_error(
        rename(&app, &owner, &org, "  ").await,
        422,
        "validation_failed",
    )
    .await;
}

async fn deleting_needs_an_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin, developer) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &developer, "developer").await;

    for person in [&admin, &developer] {
        let resp = person
            .client
            .delete(app.url(&org_path(&org)))
            .send()
            .await
            .unwrap();
        assert_error(resp, 403, "forbidden").await;
    }
    // An admin key cannot delete either: deleting needs an owner person.
    let key = app.api_key(&owner, &org, &["admin"]).await;
    let resp = app
        .http
        .delete(app.url(&org_path(&org)))
        .header("X-API-Key", key["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = owner
        .client
        .get(app.url(&org_path(&org)))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;

    let resp = owner
        .client
        .delete(app.url(&org_path(&org)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
}

async fn a_deleted_organization_is_gone(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, developer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    let other = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;

    let resp = owner
        .client
        .delete(app.url(&org_path(&org)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    for person in [&owner, &developer] {
        let resp = person
            .client
            .get(app.url(&org_path(&org)))
            .send()
            .await
            .unwrap();
        assert_error(resp, 403, "forbidden").await;
    }
    let resp = owner
        .client
        .get(app.url("/api/v1/organizations"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sorted_ids(&expect_json(resp, 200).await),
        vec![other.clone()]
    );
    let resp = app
        .http
        .get(app.url(&org_path(&org)))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_error(resp, 404, "not_found").await;

    // The root token may delete organizations too.
    let resp = app
        .http
        .delete(app.url(&org_path(&other)))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = app
        .http
        .get(app.url("/api/v1/organizations"))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await, json!([]));
}

async fn a_viewer_reads_but_cannot_change_anything(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer, newcomer) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;

    let resp = viewer
        .client
        .get(app.url(&org_path(&org)))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    let resp = viewer
        .client
        .get(app.url(&format!("{}/members", org_path(&org))))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await.as_array().unwrap().len(), 2);

    let body = assert_error(
        rename(&app, &viewer, &org, "Viewer name").await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(body["missing_permissions"], json!(["admin"]));
    let resp = viewer
        .client
        .post(app.url(&format!("{}/members", org_path(&org))))
        .json(&json!({"email": newcomer.email, "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, 403, "forbidden").await;
    assert_eq!(body["missing_permissions"], json!(["admin"]));
    let resp = viewer
        .client
        .patch(app.url(&format!("{}/members/{}", org_path(&org), viewer.id)))
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = viewer
        .client
        .delete(app.url(&org_path(&org)))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;

    let resp = owner
        .client
        .get(app.url(&org_path(&org)))
        .send()
        .await
        .unwrap();
    assert_ne!(expect_json(resp, 200).await["name"], "Viewer name");
}

async fn a_developer_reads_but_cannot_administer(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, developer, newcomer) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;

    let resp = developer
        .client
        .get(app.url(&org_path(&org)))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    let resp = developer
        .client
        .post(app.url(&format!("{}/members", org_path(&org))))
        .json(&json!({"email": newcomer.email, "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, 403, "forbidden").await;
    assert_eq!(body["missing_permissions"], json!(["admin"]));
    let resp = developer
        .client
        .patch(app.url(&format!("{}/members/{}", org_path(&org), owner.id)))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = developer
        .client
        .delete(app.url(&format!("{}/members/{}", org_path(&org), owner.id)))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
}
