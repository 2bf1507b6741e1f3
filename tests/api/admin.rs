//! The platform administrator: the root token, platform-admin users, the admin endpoints,
//! and the bootstrap admin from settings.

use portcullis_tests::*;
use serde_json::{Value, json};

backend_tests!(
    the_root_token_creates_users,
    creating_a_user_validates_like_signup,
    the_user_list_pages_newest_first,
    a_bad_paging_parameter_is_a_bad_request,
    disabling_a_user_ends_their_sessions_and_logins_at_once,
    patching_an_unknown_user_is_not_found,
    a_platform_admin_session_may_call_the_admin_endpoints,
    ordinary_sessions_and_api_keys_may_not_call_the_admin_endpoints,
    the_admin_organization_list_shows_every_organization,
    a_deleted_organization_leaves_a_trace_only_platform_admins_read,
    the_root_token_creates_an_organization_only_for_a_named_owner,
    a_session_creating_an_organization_ignores_owner_email,
    me_with_the_root_token_is_the_platform_administrator,
    a_wrong_root_token_is_refused,
    the_bootstrap_admin_can_log_in_as_platform_admin,
);

const PASSWORD: &str = "correct horse battery";

async fn create_user(app: &TestApp, body: Value) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&app.root_token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn patch_user(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.http
        .patch(app.url(&format!("/api/v1/admin/users/{id}")))
        .bearer_auth(&app.root_token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn root_get(app: &TestApp, path: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap()
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a bare array")
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect()
}

async fn the_root_token_creates_users(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = create_user(
        &app,
        json!({"email": "made@example.com", "name": "Made", "password": PASSWORD}),
    )
    .await;
    let user = expect_json(resp, 201).await;
    let mut keys: Vec<_> = user
        .as_object()
        .expect("a bare user object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "disabled",
            "email",
            "id",
            "name",
            "platform_admin"
        ],
        "{user}"
    );
    assert_eq!(user["email"], "made@example.com");
    assert_eq!(user["name"], "Made");
    assert_eq!(user["platform_admin"], false);
    assert_eq!(user["disabled"], false);

    let body = expect_json(login(&app, "made@example.com", PASSWORD).await, 200).await;
    assert_eq!(body["user"], user);
    let resp = create_user(
        &app,
        json!({"email": "MADE@example.com", "password": PASSWORD}),
    )
    .await;
    assert_error(resp, 409, "conflict").await;
}

async fn creating_a_user_validates_like_signup(backend: Backend) {
    let app = spawn_app(backend).await;
    for body in [
        json!({"email": "not-an-email", "password": PASSWORD}),
        json!({"email": "short@example.com", "password": "short"}),
        json!({"email": "same@example.com", "password": "same@example.com"}),
        json!({"email": "named@example.com", "password": PASSWORD, "name": "   "}),
        json!({"email": "nopassword@example.com"}),
    ] {
        let resp = create_user(&app, body.clone()).await;
        assert_error(resp, 422, "validation_failed").await;
    }
    let resp = root_get(&app, "/api/v1/admin/users").await;
    assert_eq!(expect_json(resp, 200).await, json!([]));
}

async fn the_user_list_pages_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut created = Vec::new();
    for n in 0..5 {
        let resp = create_user(
            &app,
            json!({"email": format!("page{n}@example.com"), "password": PASSWORD}),
        )
        .await;
        created.push(
            expect_json(resp, 201).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        app.clock.advance(chrono::Duration::seconds(1));
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    let all = expect_json(root_get(&app, "/api/v1/admin/users").await, 200).await;
    assert_eq!(ids(&all), newest_first);
    let page = expect_json(root_get(&app, "/api/v1/admin/users?limit=2").await, 200).await;
    assert_eq!(ids(&page), newest_first[..2]);
    let before = &newest_first[1];
    let page = expect_json(
        root_get(
            &app,
            &format!("/api/v1/admin/users?limit=2&before={before}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids(&page), newest_first[2..4]);
    let page = expect_json(
        root_get(&app, &format!("/api/v1/admin/users?before={before}")).await,
        200,
    )
    .await;
    assert_eq!(ids(&page), newest_first[2..]);
    let oldest = &newest_first[4];
    let page = expect_json(
        root_get(&app, &format!("/api/v1/admin/users?before={oldest}")).await,
        200,
    )
    .await;
    assert_eq!(page, json!([]));
}

async fn a_bad_paging_parameter_is_a_bad_request(backend: Backend) {
    let app = spawn_app(backend).await;
    for query in ["limit=abc", "before=not-a-uuid", "limit=-1"] {
        let resp = root_get(&app, &format!("/api/v1/admin/users?{query}")).await;
        assert_error(resp, 400, "bad_request").await;
        let resp = root_get(&app, &format!("/api/v1/admin/organizations?{query}")).await;
        assert_error(resp, 400, "bad_request").await;
    }
}

async fn disabling_a_user_ends_their_sessions_and_logins_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let bystander = app.person().await;

    let user = expect_json(
        patch_user(&app, &person.id, json!({"disabled": true})).await,
        200,
    )
    .await;
    assert_eq!(user["id"], person.id.as_str());
    assert_eq!(user["disabled"], true);
    let resp = person
        .client
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
    let resp = login(&app, &person.email, PASSWORD).await;
    assert_error(resp, 401, "unauthenticated").await;
    let resp = bystander
        .client
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;

    let user = expect_json(
        patch_user(&app, &person.id, json!({"disabled": false})).await,
        200,
    )
    .await;
    assert_eq!(user["disabled"], false);
    expect_json(login(&app, &person.email, PASSWORD).await, 200).await;
    // Disabling ended the old session; enabling does not bring it back.
    let resp = person
        .client
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn patching_an_unknown_user_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let resp = patch_user(
        &app,
        &uuid::Uuid::now_v7().to_string(),
        json!({"disabled": true}),
    )
    .await;
    assert_error(resp, 404, "not_found").await;
}

async fn a_platform_admin_session_may_call_the_admin_endpoints(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let resp = person
        .client
        .get(app.url("/api/v1/admin/users"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;

    let user = expect_json(
        patch_user(&app, &person.id, json!({"platform_admin": true})).await,
        200,
    )
    .await;
    assert_eq!(user["platform_admin"], true);
    let resp = person
        .client
        .get(app.url("/api/v1/admin/users"))
        .send()
        .await
        .unwrap();
    let list = expect_json(resp, 200).await;
    assert!(ids(&list).contains(&person.id));
    let resp = person
        .client
        .get(app.url("/api/v1/admin/organizations"))
        .send()
        .await
        .unwrap();
    expect_json(resp, 200).await;
    let resp = person
        .client
        .post(app.url("/api/v1/admin/users"))
        .json(&json!({"email": "by-admin@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let created = expect_json(resp, 201).await;
    let resp = person
        .client
        .patch(app.url(&format!(
            "/api/v1/admin/users/{}",
            created["id"].as_str().unwrap()
        )))
        .json(&json!({"platform_admin": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["platform_admin"], true);

    // Being platform admin gives no power inside organizations one is not a member of.
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let resp = person
        .client
        .get(app.url(&format!("/api/v1/organizations/{org}")))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;

    let user = expect_json(
        patch_user(&app, &person.id, json!({"platform_admin": false})).await,
        200,
    )
    .await;
    assert_eq!(user["platform_admin"], false);
    let resp = person
        .client
        .get(app.url("/api/v1/admin/users"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
}

async fn ordinary_sessions_and_api_keys_may_not_call_the_admin_endpoints(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let org = app.organization(&person).await;
    let key = app.api_key(&person, &org, &["admin"]).await;
    let key = key["key"].as_str().unwrap();
    for path in ["/api/v1/admin/users", "/api/v1/admin/organizations"] {
        let resp = person.client.get(app.url(path)).send().await.unwrap();
        assert_error(resp, 403, "forbidden").await;
        let resp = app
            .http
            .get(app.url(path))
            .header("X-API-Key", key)
            .send()
            .await
            .unwrap();
        assert_error(resp, 403, "forbidden").await;
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_error(resp, 401, "unauthenticated").await;
    }
    let resp = person
        .client
        .post(app.url("/api/v1/admin/users"))
        .json(&json!({"email": "sneaky@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = person
        .client
        .patch(app.url(&format!("/api/v1/admin/users/{}", person.id)))
        .json(&json!({"platform_admin": true}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = app
        .http
        .patch(app.url(&format!("/api/v1/admin/users/{}", person.id)))
        .header("X-API-Key", key)
        .json(&json!({"platform_admin": true}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
    let resp = person
        .client
        .get(app.url("/api/v1/auth/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json(resp, 200).await["user"]["platform_admin"],
        false
    );
}

async fn the_admin_organization_list_shows_every_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, bob) = (app.person().await, app.person().await);
    let mut created = Vec::new();
    for owner in [&alice, &bob, &alice] {
        created.push(app.organization(owner).await);
        app.clock.advance(chrono::Duration::seconds(1));
    }
    let list = expect_json(root_get(&app, "/api/v1/admin/organizations").await, 200).await;
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(ids(&list), newest_first);
    for org in list.as_array().unwrap() {
        let mut keys: Vec<_> = org.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["created_at", "id", "name", "slug"], "{org}");
    }
    let page = expect_json(
        root_get(&app, "/api/v1/admin/organizations?limit=1").await,
        200,
    )
    .await;
    assert_eq!(ids(&page), newest_first[..1]);
    let before = &newest_first[0];
    let page = expect_json(
        root_get(
            &app,
            &format!("/api/v1/admin/organizations?before={before}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids(&page), newest_first[1..]);
}

async fn the_root_token_creates_an_organization_only_for_a_named_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    let create = |body: Value| {
        app.http
            .post(app.url("/api/v1/organizations"))
            .bearer_auth(&app.root_token)
            .json(&body)
            .send()
    };
    let resp = create(json!({"name": "Ownerless", "slug": "ownerless"}))
        .await
        .unwrap();
    assert_error(resp, 422, "validation_failed").await;
    let resp =
        create(json!({"name": "Ghostly", "slug": "ghostly", "owner_email": "ghost@example.com"}))
            .await
            .unwrap();
    assert_error(resp, 404, "not_found").await;
    let resp = root_get(&app, "/api/v1/organizations").await;
    assert_eq!(
        expect_json(resp, 200).await,
        json!([]),
        "refused creations left nothing behind"
    );

    let resp = create(json!({"name": "Owned", "slug": "owned", "owner_email": person.email}))
        .await
        .unwrap();
    let org = expect_json(resp, 201).await;
    assert_eq!(org["slug"], "owned");
    let id = org["id"].as_str().unwrap();
    let resp = person
        .client
        .get(app.url(&format!("/api/v1/organizations/{id}/members")))
        .send()
        .await
        .unwrap();
    let members = expect_json(resp, 200).await;
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members[0]["user_id"], person.id.as_str());
    assert_eq!(members[0]["role"], "owner");
    let resp = person
        .client
        .delete(app.url(&format!("/api/v1/organizations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204, "the named owner is a real owner");
}

async fn a_session_creating_an_organization_ignores_owner_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let (person, other) = (app.person().await, app.person().await);
    let resp = person
        .client
        .post(app.url("/api/v1/organizations"))
        .json(&json!({"name": "Mine", "slug": "mine", "owner_email": other.email}))
        .send()
        .await
        .unwrap();
    let org = expect_json(resp, 201).await;
    let id = org["id"].as_str().unwrap();
    let resp = person
        .client
        .get(app.url(&format!("/api/v1/organizations/{id}/members")))
        .send()
        .await
        .unwrap();
    let members = expect_json(resp, 200).await;
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members[0]["user_id"], person.id.as_str());
    assert_eq!(members[0]["role"], "owner");
    let resp = other
        .client
        .get(app.url(&format!("/api/v1/organizations/{id}")))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
}

async fn me_with_the_root_token_is_the_platform_administrator(backend: Backend) {
    let app = spawn_app(backend).await;
    let person = app.person().await;
    app.organization(&person).await;
    let me = expect_json(root_get(&app, "/api/v1/me").await, 200).await;
    assert_eq!(me["user"], Value::Null);
    assert_eq!(me["auth_method"], "root_token");
    assert_eq!(me["api_key_id"], Value::Null);
    assert_eq!(me["organization_id"], Value::Null);
    assert_eq!(me["memberships"], json!([]));
    assert!(
        !me.to_string().contains(&app.root_token),
        "/me echoes the root token"
    );
    // The scheme word is case-insensitive.
    let resp = app
        .http
        .get(app.url("/api/v1/me"))
        .header("Authorization", format!("bearer {}", app.root_token))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(resp, 200).await["auth_method"], "root_token");
}

async fn a_wrong_root_token_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let near_miss = format!("{}x", app.root_token);
    for token in [
        near_miss.as_str(),
        &app.root_token[..app.root_token.len() - 1],
    ] {
        let resp = app
            .http
            .get(app.url("/api/v1/admin/users"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let body = assert_error(resp, 401, "unauthenticated").await;
        assert!(
            !body.to_string().contains(token),
            "the error echoes the token"
        );
    }
    // Without PORTCULLIS_API_TOKEN there is no root token at all.
    let bare = spawn_app_with(backend, |s| s.api_token = None).await;
    let resp = bare
        .http
        .get(bare.url("/api/v1/me"))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
    let resp = bare
        .http
        .get(bare.url("/api/v1/me"))
        .bearer_auth("")
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "unauthenticated").await;
}

async fn the_bootstrap_admin_can_log_in_as_platform_admin(backend: Backend) {
    let hash = password_hash("bootstrap passphrase");
    let app = spawn_app_with(backend, |s| {
        s.admin_email = Some("boss@example.com".into());
        s.admin_password_hash = Some(hash);
    })
    .await;
    let resp = login(&app, "boss@example.com", "wrong passphrase").await;
    assert_error(resp, 401, "unauthenticated").await;

    let client = app.browser();
    let resp = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "boss@example.com", "password": "bootstrap passphrase"}))
        .send()
        .await
        .unwrap();
    let body = expect_json(resp, 200).await;
    assert_eq!(body["user"]["email"], "boss@example.com");
    assert_eq!(body["user"]["platform_admin"], true);
    assert_eq!(body["user"]["disabled"], false);
    let resp = client
        .get(app.url("/api/v1/admin/users"))
        .send()
        .await
        .unwrap();
    let users = expect_json(resp, 200).await;
    assert_eq!(ids(&users), [body["user"]["id"].as_str().unwrap()]);
    let resp = client
        .post(app.url("/api/v1/organizations"))
        .json(&json!({"name": "Boss Co", "slug": "boss-co"}))
        .send()
        .await
        .unwrap();
    expect_json(resp, 201).await;
}

async fn a_deleted_organization_leaves_a_trace_only_platform_admins_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let first = app.organization(&owner).await;
    let second = app.organization(&owner).await;
    let shown = expect_json(
        owner
            .client
            .get(app.url(&format!("/api/v1/organizations/{first}")))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let resp = owner
        .client
        .delete(app.url(&format!("/api/v1/organizations/{first}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = app
        .http
        .delete(app.url(&format!("/api/v1/organizations/{second}")))
        .bearer_auth(&app.root_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);

    let list = expect_json(
        root_get(&app, "/api/v1/admin/deleted-organizations").await,
        200,
    )
    .await;
    let list = list.as_array().expect("a bare array");
    assert_eq!(list.len(), 2, "{list:?}");
    // Most recently deleted first; the root token has no user.
    assert_eq!(list[0]["organization_id"], second.as_str());
    assert_eq!(list[0]["deleted_by_user_id"], Value::Null);
    let trace = &list[1];
    assert_eq!(trace["organization_id"], first.as_str());
    assert_eq!(trace["name"], shown["name"]);
    assert_eq!(trace["slug"], shown["slug"]);
    assert_eq!(trace["created_at"], shown["created_at"]);
    assert_eq!(trace["deleted_by_user_id"], owner.id.as_str());
    assert_eq!(trace["ip"], "127.0.0.1");
    assert!(trace["deleted_at"].as_str().is_some(), "{trace}");

    let page = expect_json(
        root_get(&app, "/api/v1/admin/deleted-organizations?limit=1").await,
        200,
    )
    .await;
    assert_eq!(ids(&page), [list[0]["id"].as_str().unwrap()]);
    let before = list[0]["id"].as_str().unwrap();
    let older = expect_json(
        root_get(
            &app,
            &format!("/api/v1/admin/deleted-organizations?before={before}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids(&older), [trace["id"].as_str().unwrap()]);

    // The deleting owner is no platform admin: 403, not the trace.
    let resp = owner
        .client
        .get(app.url("/api/v1/admin/deleted-organizations"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "forbidden").await;
}
