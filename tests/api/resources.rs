//! Resources below the organization: the guest role, grants, keys restricted to resource paths,
//! and checking and minting at a resource (contract section 12).

use crate::api_keys::{assert_key_refused, names, string_set, timestamp};
use crate::service_accounts::{
    Caller, assert_null, authorize, authorize_status, claims, create_service_account_key, id,
    secret, service_account, service_account_key, service_account_path,
};
use portcullis_tests::*;
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    grant_paths_are_checked_segment_by_segment,
    key_resources_are_one_to_sixteen_valid_paths,
    a_malformed_resource_to_authorize_is_refused,
    a_guest_can_be_added_and_invited,
    a_guest_has_no_organization_wide_power,
    a_guest_with_a_grant_acts_at_and_below_the_granted_path,
    putting_a_grant_returns_it_and_a_second_put_changes_its_role,
    concurrent_puts_of_one_grant_leave_one_grant,
    readers_list_a_members_grants,
    deleting_a_grant_ends_the_access_it_gave,
    deleting_a_missing_grant_is_not_found,
    deleting_a_grant_needs_the_resource,
    a_grants_role_is_admin_developer_or_viewer,
    only_admins_set_and_remove_grants,
    grants_of_unknown_members_are_not_found,
    grants_never_lower_the_organization_role,
    the_highest_covering_grant_decides_the_role_in_effect,
    covering_is_by_whole_segments,
    the_member_list_shows_each_members_grants,
    an_invitation_gives_its_grants_on_joining,
    signing_up_with_an_invitation_gives_its_grants,
    invitation_listings_and_resends_keep_their_grants,
    a_member_who_leaves_loses_their_grants,
    grant_changes_are_audited,
    service_accounts_take_grants_too,
    service_account_grants_are_checked_like_members_grants,
    service_account_grant_changes_are_audited,
    a_guest_service_account_key_restricted_to_its_grant_acts_there,
    a_restricted_key_acts_only_at_or_below_its_paths,
    a_restricted_key_is_bounded_by_the_role_in_effect_and_its_scopes,
    a_restricted_key_has_no_organization_wide_power,
    a_restricted_key_stays_in_its_organization,
    a_restricted_key_may_get_and_revoke_itself_but_not_rotate,
    rotating_a_restricted_key_keeps_its_resources,
    key_objects_carry_their_resources,
    me_with_a_restricted_key_lists_its_resources_and_no_scopes,
    a_key_made_by_a_restricted_key_stays_within_its_paths,
    a_member_makes_restricted_keys_within_their_grants,
    an_unrestricted_key_uses_the_role_in_effect_at_the_resource,
    authorize_at_a_resource_names_it,
    a_token_minted_at_a_resource_carries_the_permissions_there,
    a_token_minted_at_a_resource_acts_only_at_or_below_it,
    a_restricted_key_mints_tokens_only_at_its_resources,
    a_restricted_service_account_key_acts_only_at_its_paths,
);

const GRANT_FIELDS: &[&str] = &["resource", "role", "created_at"];

fn members_path(org: &str) -> String {
    format!("/api/v1/organizations/{org}/members")
}

fn grants_path(org: &str, user: &str) -> String {
    format!("/api/v1/organizations/{org}/members/{user}/grants")
}

fn sa_grants_path(org: &str, sa: &str) -> String {
    format!("{}/grants", service_account_path(org, sa))
}

fn keys_path(org: &str) -> String {
    format!("/api/v1/organizations/{org}/api-keys")
}

/// `PUT {grants}` with `{resource, role}`.
async fn put_grant(
    app: &TestApp,
    by: Caller<'_>,
    grants: &str,
    resource: &str,
    role: &str,
) -> reqwest::Response {
    by.send(
        app,
        Method::PUT,
        grants,
        json!({"resource": resource, "role": role}),
    )
    .await
}

/// `by` gives `user` `role` at `resource`; asserts 200 and returns the grant.
async fn grant(
    app: &TestApp,
    by: &Person,
    org: &str,
    user: &str,
    resource: &str,
    role: &str,
) -> Value {
    let resp = put_grant(
        app,
        Caller::Session(by),
        &grants_path(org, user),
        resource,
        role,
    )
    .await;
    expect_json(resp, 200).await
}

/// `DELETE {grants}?resource=R`.
async fn delete_grant(app: &TestApp, by: Caller<'_>, grants: &str, resource: &str) -> u16 {
    by.request(app, Method::DELETE, grants)
        .query(&[("resource", resource)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The grants at `grants` as `[(resource, role)]`, sorted by resource.
async fn list_grants(app: &TestApp, by: Caller<'_>, grants: &str) -> Vec<(String, String)> {
    let resp = by.get(app, grants).await;
    let list = expect_json(resp, 200).await;
    let mut pairs: Vec<(String, String)> = list
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|g| {
            assert_eq!(crate::api_keys::field_names(g), names(GRANT_FIELDS), "{g}");
            timestamp(&g["created_at"]);
            (
                g["resource"].as_str().unwrap().to_owned(),
                g["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(r, role)| (r.to_string(), role.to_string()))
        .collect()
}

/// `by` creates a key with `scopes`, restricted to `resources` when given.
async fn create_key(
    app: &TestApp,
    by: Caller<'_>,
    org: &str,
    scopes: &[&str],
    resources: Option<&[&str]>,
) -> reqwest::Response {
    let mut body = json!({"name": "restricted", "scopes": scopes});
    if let Some(resources) = resources {
        body["resources"] = json!(resources);
    }
    by.send(app, Method::POST, &keys_path(org), body).await
}

/// `by` creates a key restricted to `resources`; returns the 201 body.
async fn restricted_key(
    app: &TestApp,
    by: &Person,
    org: &str,
    scopes: &[&str],
    resources: &[&str],
) -> Value {
    let resp = create_key(app, Caller::Session(by), org, scopes, Some(resources)).await;
    expect_json(resp, 201).await
}

/// `/authorize` for a session (which must name the organization) at `resource`.
async fn session_status(
    app: &TestApp,
    person: &Person,
    permission: &str,
    org: &str,
    resource: Option<&str>,
) -> u16 {
    authorize_status(
        app,
        Caller::Session(person),
        permission,
        Some(org),
        resource,
    )
    .await
}

/// The role `/authorize` reports for `read` at `resource` (body and header), asserting 200.
async fn role_at(app: &TestApp, by: Caller<'_>, org: &str, resource: Option<&str>) -> Value {
    let resp = authorize(app, by, "read", Some(org), resource).await;
    let header = resp
        .headers()
        .get("X-Portcullis-Role")
        .map(|v| v.to_str().unwrap().to_owned());
    let role = expect_json(resp, 200).await["role"].clone();
    assert_eq!(
        header.as_deref(),
        role.as_str(),
        "X-Portcullis-Role is the role in effect at {resource:?}"
    );
    role
}

/// `POST /auth/token` with `body`.
async fn mint(app: &TestApp, by: Caller<'_>, body: Value) -> reqwest::Response {
    by.send(app, Method::POST, "/api/v1/auth/token", body).await
}

async fn minted_token(app: &TestApp, by: Caller<'_>, body: Value) -> String {
    let minted = expect_json(mint(app, by, body).await, 200).await;
    minted["access_token"].as_str().unwrap().to_owned()
}

async fn audit_actions(app: &TestApp, by: &Person, org: &str) -> Vec<Value> {
    let resp = Caller::Session(by)
        .get(app, &format!("/api/v1/organizations/{org}/audit-events"))
        .await;
    expect_json(resp, 200).await.as_array().unwrap().clone()
}

/// Asserts a refusal of bad input that the contract lets be 400 (bad query parameter) or 422
/// (invalid resource path).
async fn assert_bad_input(resp: reqwest::Response) {
    let status = resp.status().as_u16();
    let url = resp.url().clone();
    assert!(status == 400 || status == 422, "{url}: {status}");
    let code = if status == 400 {
        "bad_request"
    } else {
        "validation_failed"
    };
    assert_error(resp, status, code).await;
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn nine_segments() -> String {
    ["a"; 9].join("/")
}

async fn grant_paths_are_checked_segment_by_segment(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, member) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "viewer").await;
    let grants = grants_path(&org, &member.id);
    let longest = "a".repeat(63);
    let eight = ["a"; 8].join("/");
    let largest = [longest.as_str(); 8].join("/");

    for good in [
        "projects",
        "projects/web",
        "projects/web/environments/prod",
        "0/a.b/c_d/e-f/9z",
        longest.as_str(),
        eight.as_str(),
        largest.as_str(),
    ] {
        let resp = put_grant(&app, Caller::Session(&owner), &grants, good, "developer").await;
        let body = expect_json(resp, 200).await;
        assert_eq!(body["resource"], good, "{body}");
    }

    let too_long = "a".repeat(64);
    let nine = nine_segments();
    for bad in [
        "Projects/web",
        "projects//web",
        "/projects",
        "projects/",
        "",
        "-web",
        ".web",
        "_web",
        "projects/web space",
        "projects/wéb",
        "projects\\web",
        "projects/../web",
        "projects/./web",
        too_long.as_str(),
        nine.as_str(),
    ] {
        let resp = put_grant(&app, Caller::Session(&owner), &grants, bad, "developer").await;
        let err = assert_error(resp, 422, "validation_failed").await;
        assert!(err["message"].is_string(), "{bad:?}: {err}");
    }
}

async fn key_resources_are_one_to_sixteen_valid_paths(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sixteen: Vec<String> = (0..16).map(|i| format!("projects/p{i}")).collect();
    let seventeen: Vec<String> = (0..17).map(|i| format!("projects/p{i}")).collect();

    let key = restricted_key(&app, &owner, &org, &["read"], &as_strs(&sixteen)).await;
    assert_eq!(key["resources"].as_array().map(Vec::len), Some(16), "{key}");

    let too_long = "a".repeat(64);
    let nine = nine_segments();
    for bad in [
        as_strs(&seventeen),
        vec![],
        vec!["projects/web", "Projects/API"],
        vec!["projects//web"],
        vec![too_long.as_str()],
        vec![nine.as_str()],
    ] {
        let resp = create_key(&app, Caller::Session(&owner), &org, &["read"], Some(&bad)).await;
        let err = assert_error(resp, 422, "validation_failed").await;
        assert!(err["message"].is_string(), "{bad:?}: {err}");
    }
}

async fn a_malformed_resource_to_authorize_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let key = app.api_key(&owner, &org, &["read"]).await;

    // An empty `resource=` is not "no resource": it must not fall back to an
    // organization-wide decision.
    for bad in ["Projects/web", "projects//web", "/projects", ""] {
        let resp = authorize(&app, Caller::Key(secret(&key)), "read", None, Some(bad)).await;
        assert_bad_input(resp).await;
    }
}

async fn a_guest_can_be_added_and_invited(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, guest) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;

    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::POST,
            &members_path(&org),
            json!({"email": guest.email, "role": "guest"}),
        )
        .await;
    let member = expect_json(resp, 201).await;
    assert_eq!(member["role"], "guest");
    assert_eq!(member["user_id"], json!(guest.id));

    let email = format!("guest-{}@example.com", uuid::Uuid::new_v4().simple());
    let invitation = crate::invitations::invited(&app, &owner, &org, &email, "guest").await;
    assert_eq!(invitation["role"], "guest");

    // A member's role can also be changed to guest.
    let viewer = app.person().await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::PATCH,
            &format!("{}/{}", members_path(&org), viewer.id),
            json!({"role": "guest"}),
        )
        .await;
    assert_eq!(expect_json(resp, 200).await["role"], "guest");
}

async fn a_guest_has_no_organization_wide_power(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, guest) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &guest, "guest").await;

    let resp = authorize(&app, Caller::Session(&guest), "read", Some(&org), None).await;
    let err = assert_error(resp, 403, "forbidden").await;
    assert_eq!(err["missing_permissions"], json!(["read"]), "{err}");
    assert_eq!(
        session_status(&app, &guest, "read", &org, Some("projects/web")).await,
        403
    );
    for path in [
        format!("/api/v1/organizations/{org}"),
        members_path(&org),
        crate::service_accounts::service_accounts_path(&org),
    ] {
        let resp = Caller::Session(&guest).get(&app, &path).await;
        assert_error(resp, 403, "forbidden").await;
    }
    // Nor can a guest make itself an organization-wide key.
    let resp = create_key(&app, Caller::Session(&guest), &org, &["read"], None).await;
    assert_error(resp, 403, "forbidden").await;
}

async fn a_guest_with_a_grant_acts_at_and_below_the_granted_path(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, guest) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &guest, "guest").await;
    grant(&app, &owner, &org, &guest.id, "projects/web", "developer").await;

    for at in ["projects/web", "projects/web/environments/prod"] {
        let resp = authorize(
            &app,
            Caller::Session(&guest),
            "deploy",
            Some(&org),
            Some(at),
        )
        .await;
        let body = expect_json(resp, 200).await;
        assert_eq!(body["role"], "developer", "{at}: {body}");
        assert_eq!(body["resource"], at, "{body}");
        assert_eq!(
            string_set(&body["scopes"]),
            names(&["write", "deploy", "read"]),
            "{at}: {body}"
        );
    }
    // Not above the grant, not beside it, not organization-wide, and not beyond its role.
    for at in [Some("projects"), Some("projects/api"), None] {
        assert_eq!(
            session_status(&app, &guest, "read", &org, at).await,
            403,
            "{at:?}"
        );
    }
    let resp = authorize(
        &app,
        Caller::Session(&guest),
        "admin",
        Some(&org),
        Some("projects/web"),
    )
    .await;
    let err = assert_error(resp, 403, "forbidden").await;
    assert_eq!(err["missing_permissions"], json!(["admin"]), "{err}");
}

async fn putting_a_grant_returns_it_and_a_second_put_changes_its_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, member) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "guest").await;

    let created = grant(&app, &owner, &org, &member.id, "projects/web", "viewer").await;
    assert_eq!(created["resource"], "projects/web");
    assert_eq!(created["role"], "viewer");
    timestamp(&created["created_at"]);
    assert_eq!(
        session_status(&app, &member, "deploy", &org, Some("projects/web")).await,
        403
    );

    let changed = grant(&app, &owner, &org, &member.id, "projects/web", "developer").await;
    assert_eq!(changed["resource"], "projects/web");
    assert_eq!(changed["role"], "developer");
    assert_eq!(
        list_grants(
            &app,
            Caller::Session(&owner),
            &grants_path(&org, &member.id)
        )
        .await,
        pairs(&[("projects/web", "developer")]),
        "one grant per resource"
    );
    assert_eq!(
        session_status(&app, &member, "deploy", &org, Some("projects/web")).await,
        200
    );
}

async fn readers_list_a_members_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer, member) = (app.person().await, app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    app.add_member(&owner, &org, &member, "guest").await;
    let grants = grants_path(&org, &member.id);
    assert_eq!(
        list_grants(&app, Caller::Session(&viewer), &grants).await,
        pairs(&[])
    );

    grant(&app, &owner, &org, &member.id, "projects/web", "developer").await;
    grant(
        &app,
        &owner,
        &org,
        &member.id,
        "projects/api/environments/prod",
        "admin",
    )
    .await;
    grant(&app, &owner, &org, &member.id, "docs", "viewer").await;

    assert_eq!(
        list_grants(&app, Caller::Session(&viewer), &grants).await,
        pairs(&[
            ("docs", "viewer"),
            ("projects/api/environments/prod", "admin"),
            ("projects/web", "developer"),
        ])
    );
    // A stranger does not read them.
    let stranger = app.person().await;
    let resp = Caller::Session(&stranger).get(&app, &grants).await;
    assert_error(resp, 403, "forbidden").await;
}

async fn deleting_a_grant_ends_the_access_it_gave(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, member) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "guest").await;
    grant(&app, &owner, &org, &member.id, "projects/web", "developer").await;
    grant(&app, &owner, &org, &member.id, "projects/api", "developer").await;
    assert_eq!(
        session_status(&app, &member, "deploy", &org, Some("projects/web")).await,
        200
    );

    let grants = grants_path(&org, &member.id);
    assert_eq!(
        delete_grant(&app, Caller::Session(&owner), &grants, "projects/web").await,
        204
    );
    assert_eq!(
        list_grants(&app, Caller::Session(&owner), &grants).await,
        pairs(&[("projects/api", "developer")])
    );
    assert_eq!(
        session_status(&app, &member, "deploy", &org, Some("projects/web")).await,
        403
    );
    assert_eq!(
        session_status(&app, &member, "deploy", &org, Some("projects/api")).await,
        200
    );
}

async fn deleting_a_missing_grant_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, member) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "guest").await;
    grant(&app, &owner, &org, &member.id, "projects/web", "developer").await;
    let grants = grants_path(&org, &member.id);

    // A grant below or above the one that exists is not that grant.
    for resource in ["projects/api", "projects/web/environments/prod", "projects"] {
        let resp = Caller::Session(&owner)
            .request(&app, Method::DELETE, &grants)
            .query(&[("resource", resource)])
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "not_found").await;
    }
    assert_eq!(
        delete_grant(&app, Caller::Session(&owner), &grants, "projects/web").await,
        204
    );
    assert_eq!(
        delete_grant(&app, Caller::Session(&owner), &grants, "projects/web").await,
        404,
        "deleted already"
    );
}

async fn deleting_a_grant_needs_the_resource(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, member) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "guest").await;
    grant(&app, &owner, &org, &member.id, "projects/web", "developer").await;

    let grants = grants_path(&org, &member.id);
    let resp = Caller::Session(&owner).delete(&app, &grants).await;
    assert_bad_input(resp).await;
    for bad in ["", "Projects/Web"] {
        let resp = Caller::Session(&owner)
            .request(&app, Method::DELETE, &grants)
            .query(&[("resource", bad)])
            .send()
            .await
            .unwrap();
        assert_bad_input(resp).await;
    }
    assert_eq!(
        list_grants(
            &app,
            Caller::Session(&owner),
            &grants_path(&org, &member.id)
        )
        .await,
        pairs(&[("projects/web", "developer")]),
        "nothing was removed"
    );
}

async fn a_grants_role_is_admin_developer_or_viewer(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, member) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "guest").await;
    let grants = grants_path(&org, &member.id);

    for role in ["admin", "developer", "viewer"] {
        let body = grant(&app, &owner, &org, &member.id, "projects/web", role).await;
        assert_eq!(body["role"], role);
    }
    for role in ["owner", "guest", "superuser", ""] {
        let resp = put_grant(&app, Caller::Session(&owner), &grants, "projects/web", role).await;
        assert_error(resp, 422, "validation_failed").await;
    }
    for body in [
        json!({"resource": "projects/web"}),
        json!({"role": "viewer"}),
    ] {
        let resp = Caller::Session(&owner)
            .send(&app, Method::PUT, &grants, body)
            .await;
        assert_error(resp, 422, "validation_failed").await;
    }
}

async fn only_admins_set_and_remove_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin, developer, member) = (
        app.person().await,
        app.person().await,
        app.person().await,
        app.person().await,
    );
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    app.add_member(&owner, &org, &developer, "developer").await;
    app.add_member(&owner, &org, &member, "guest").await;
    let grants = grants_path(&org, &member.id);

    let resp = put_grant(
        &app,
        Caller::Session(&developer),
        &grants,
        "projects/web",
        "viewer",
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    // Not even on themselves.
    let own = grants_path(&org, &developer.id);
    let resp = put_grant(
        &app,
        Caller::Session(&developer),
        &own,
        "projects/web",
        "admin",
    )
    .await;
    assert_error(resp, 403, "forbidden").await;

    grant(&app, &admin, &org, &member.id, "projects/web", "developer").await;
    assert_eq!(
        delete_grant(&app, Caller::Session(&developer), &grants, "projects/web").await,
        403
    );
    assert_eq!(
        delete_grant(&app, Caller::Session(&admin), &grants, "projects/web").await,
        204
    );
}

async fn grants_of_unknown_members_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, outsider) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    let owner_ = Caller::Session(&owner);

    // An unknown user, and an existing user who is not a member.
    let unknown = uuid::Uuid::now_v7().to_string();
    for user in [unknown.as_str(), outsider.id.as_str()] {
        let grants = grants_path(&org, user);
        let resp = put_grant(&app, owner_, &grants, "projects/web", "viewer").await;
        assert_error(resp, 404, "not_found").await;
        assert_error(owner_.get(&app, &grants).await, 404, "not_found").await;
    }
    let grants = grants_path(&org, "not-a-uuid");
    let resp = put_grant(&app, owner_, &grants, "projects/web", "viewer").await;
    assert_error(resp, 400, "bad_request").await;
    assert_error(owner_.get(&app, &grants).await, 400, "bad_request").await;
}

async fn grants_never_lower_the_organization_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, admin) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &admin, "admin").await;
    grant(&app, &owner, &org, &admin.id, "projects/web", "viewer").await;

    let resp = authorize(
        &app,
        Caller::Session(&admin),
        "admin",
        Some(&org),
        Some("projects/web"),
    )
    .await;
    let body = expect_json(resp, 200).await;
    assert_eq!(body["role"], "admin", "{body}");
    assert_eq!(
        body["scopes"],
        json!(["admin", "write", "deploy", "read"]),
        "{body}"
    );
}

async fn the_highest_covering_grant_decides_the_role_in_effect(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    grant(&app, &owner, &org, &viewer.id, "projects", "developer").await;
    grant(
        &app,
        &owner,
        &org,
        &viewer.id,
        "projects/web/environments/prod",
        "admin",
    )
    .await;
    grant(
        &app,
        &owner,
        &org,
        &viewer.id,
        "projects/web/environments",
        "viewer",
    )
    .await;
    let me = Caller::Session(&viewer);

    for (at, role) in [
        (None, "viewer"),
        (Some("docs"), "viewer"),
        (Some("projects"), "developer"),
        (Some("projects/web"), "developer"),
        (Some("projects/web/environments"), "developer"),
        (Some("projects/web/environments/prod"), "admin"),
        (Some("projects/web/environments/prod/db"), "admin"),
        (Some("projects/web/environments/staging"), "developer"),
    ] {
        assert_eq!(role_at(&app, me, &org, at).await, role, "at {at:?}");
    }
    assert_eq!(
        session_status(&app, &viewer, "admin", &org, Some("projects/web")).await,
        403
    );
    assert_eq!(
        session_status(
            &app,
            &viewer,
            "admin",
            &org,
            Some("projects/web/environments/prod")
        )
        .await,
        200
    );
}

async fn covering_is_by_whole_segments(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, guest) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &guest, "guest").await;
    grant(&app, &owner, &org, &guest.id, "projects/web", "viewer").await;

    for (at, status) in [
        ("projects/web", 200),
        ("projects/web/environments/prod", 200),
        ("projects/webshop", 403),
        ("projects/web.old", 403),
        ("projects/we", 403),
        ("projects", 403),
        ("other/projects/web", 403),
    ] {
        assert_eq!(
            session_status(&app, &guest, "read", &org, Some(at)).await,
            status,
            "at {at}"
        );
    }
}

async fn the_member_list_shows_each_members_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, guest) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &guest, "guest").await;
    grant(&app, &owner, &org, &guest.id, "projects/web", "developer").await;

    let resp = Caller::Session(&owner).get(&app, &members_path(&org)).await;
    let list = expect_json(resp, 200).await;
    let list = list.as_array().expect("a bare array");
    assert_eq!(list.len(), 2);
    for member in list {
        let grants = member["grants"]
            .as_array()
            .unwrap_or_else(|| panic!("a member without grants: {member}"));
        if member["user_id"] == json!(guest.id) {
            assert_eq!(member["role"], "guest");
            assert_eq!(grants.len(), 1, "{member}");
            assert_eq!(grants[0]["resource"], "projects/web", "{member}");
            assert_eq!(grants[0]["role"], "developer", "{member}");
        } else {
            assert!(grants.is_empty(), "{member}");
        }
    }
}

async fn an_invitation_gives_its_grants_on_joining(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, invitee) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;

    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::POST,
            &crate::invitations::invitations_path(&org),
            json!({
                "email": invitee.email,
                "role": "guest",
                "grants": [{"resource": "projects/web", "role": "developer"}],
            }),
        )
        .await;
    let invitation = expect_json(resp, 201).await;
    assert_eq!(invitation["grants"][0]["resource"], "projects/web");
    assert_eq!(invitation["grants"][0]["role"], "developer");

    let token = crate::invitations::token_of(&invitation["invite_url"]);
    let resp = crate::invitations::accept(&app, &invitee, &token).await;
    assert_eq!(expect_json(resp, 200).await["role"], "guest");
    assert_eq!(
        list_grants(
            &app,
            Caller::Session(&owner),
            &grants_path(&org, &invitee.id)
        )
        .await,
        pairs(&[("projects/web", "developer")])
    );
    assert_eq!(
        session_status(&app, &invitee, "deploy", &org, Some("projects/web")).await,
        200
    );

    // A bad grant in an invitation is refused like a bad grant anywhere.
    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::POST,
            &crate::invitations::invitations_path(&org),
            json!({
                "email": format!("x-{}@example.com", uuid::Uuid::new_v4().simple()),
                "role": "guest",
                "grants": [{"resource": "Projects/Web", "role": "developer"}],
            }),
        )
        .await;
    assert_error(resp, 422, "validation_failed").await;
    for role in ["owner", "guest"] {
        let resp = Caller::Session(&owner)
            .send(
                &app,
                Method::POST,
                &crate::invitations::invitations_path(&org),
                json!({
                    "email": format!("x-{}@example.com", uuid::Uuid::new_v4().simple()),
                    "role": "guest",
                    "grants": [{"resource": "projects/web", "role": role}],
                }),
            )
            .await;
        assert_error(resp, 422, "validation_failed").await;
    }
}

async fn a_member_who_leaves_loses_their_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, member) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "viewer").await;
    grant(&app, &owner, &org, &member.id, "projects/web", "developer").await;

    let resp = Caller::Session(&owner)
        .delete(&app, &format!("{}/{}", members_path(&org), member.id))
        .await;
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(
        session_status(&app, &member, "read", &org, Some("projects/web")).await,
        403
    );

    // Coming back does not bring the old grants back.
    app.add_member(&owner, &org, &member, "viewer").await;
    assert_eq!(
        list_grants(
            &app,
            Caller::Session(&owner),
            &grants_path(&org, &member.id)
        )
        .await,
        pairs(&[])
    );
    assert_eq!(
        session_status(&app, &member, "deploy", &org, Some("projects/web")).await,
        403
    );
}

async fn grant_changes_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, member) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "guest").await;
    app.clock.advance(chrono::Duration::seconds(1));
    grant(&app, &owner, &org, &member.id, "projects/web", "developer").await;
    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        delete_grant(
            &app,
            Caller::Session(&owner),
            &grants_path(&org, &member.id),
            "projects/web"
        )
        .await,
        204
    );

    let events = audit_actions(&app, &owner, &org).await;
    let ours: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("member.grant_"))
        .collect();
    let actions: Vec<&str> = ours.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["member.grant_removed", "member.grant_set"],
        "newest first: {events:#?}"
    );
    for event in ours {
        assert_eq!(event["actor_user_id"], json!(owner.id), "{event}");
        assert!(!event["target"].is_null(), "{event}");
    }
}

async fn service_accounts_take_grants_too(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    let sa = service_account(&app, &owner, &org, "developer").await;
    let key = service_account_key(&app, &owner, &org, id(&sa), &["read"]).await;
    let key = Caller::Key(secret(&key));
    let grants = sa_grants_path(&org, id(&sa));

    let resp = put_grant(
        &app,
        Caller::Session(&owner),
        &grants,
        "projects/web",
        "admin",
    )
    .await;
    let body = expect_json(resp, 200).await;
    assert_eq!(body["resource"], "projects/web");
    assert_eq!(body["role"], "admin");
    timestamp(&body["created_at"]);
    assert_eq!(
        list_grants(&app, Caller::Session(&viewer), &grants).await,
        pairs(&[("projects/web", "admin")])
    );
    // The account's key now acts as an admin there (bounded by its read scope), and as a
    // developer elsewhere.
    assert_eq!(
        role_at(&app, key, &org, Some("projects/web/x")).await,
        "admin"
    );
    assert_eq!(
        role_at(&app, key, &org, Some("projects/api")).await,
        "developer"
    );

    // A second PUT changes the role.
    let resp = put_grant(
        &app,
        Caller::Session(&owner),
        &grants,
        "projects/web",
        "viewer",
    )
    .await;
    assert_eq!(expect_json(resp, 200).await["role"], "viewer");
    assert_eq!(
        list_grants(&app, Caller::Session(&owner), &grants).await,
        pairs(&[("projects/web", "viewer")])
    );
    // Grants never lower: the developer account stays a developer there.
    assert_eq!(
        role_at(&app, key, &org, Some("projects/web")).await,
        "developer"
    );

    assert_eq!(
        delete_grant(&app, Caller::Session(&owner), &grants, "projects/web").await,
        204
    );
    assert_eq!(
        list_grants(&app, Caller::Session(&owner), &grants).await,
        pairs(&[])
    );
    assert_eq!(
        delete_grant(&app, Caller::Session(&owner), &grants, "projects/web").await,
        404
    );
}

async fn service_account_grants_are_checked_like_members_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, developer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let sa = service_account(&app, &owner, &org, "guest").await;
    let grants = sa_grants_path(&org, id(&sa));

    for role in ["owner", "guest"] {
        let resp = put_grant(&app, Caller::Session(&owner), &grants, "projects/web", role).await;
        assert_error(resp, 422, "validation_failed").await;
    }
    let resp = put_grant(
        &app,
        Caller::Session(&owner),
        &grants,
        "projects//web",
        "viewer",
    )
    .await;
    assert_error(resp, 422, "validation_failed").await;

    let resp = put_grant(
        &app,
        Caller::Session(&developer),
        &grants,
        "projects/web",
        "viewer",
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = put_grant(
        &app,
        Caller::Session(&owner),
        &grants,
        "projects/web",
        "viewer",
    )
    .await;
    expect_json(resp, 200).await;
    assert_eq!(
        delete_grant(&app, Caller::Session(&developer), &grants, "projects/web").await,
        403
    );
    // Readers read them.
    assert_eq!(
        list_grants(&app, Caller::Session(&developer), &grants).await,
        pairs(&[("projects/web", "viewer")])
    );

    let unknown = sa_grants_path(&org, &uuid::Uuid::now_v7().to_string());
    let resp = put_grant(
        &app,
        Caller::Session(&owner),
        &unknown,
        "projects/web",
        "viewer",
    )
    .await;
    assert_error(resp, 404, "not_found").await;
    let malformed = sa_grants_path(&org, "not-a-uuid");
    let resp = Caller::Session(&owner).get(&app, &malformed).await;
    assert_error(resp, 400, "bad_request").await;
}

async fn service_account_grant_changes_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "viewer").await;
    let grants = sa_grants_path(&org, id(&sa));
    app.clock.advance(chrono::Duration::seconds(1));
    let resp = put_grant(
        &app,
        Caller::Session(&owner),
        &grants,
        "projects/web",
        "admin",
    )
    .await;
    expect_json(resp, 200).await;
    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        delete_grant(&app, Caller::Session(&owner), &grants, "projects/web").await,
        204
    );

    let events = audit_actions(&app, &owner, &org).await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.contains("grant_"))
        .collect();
    assert_eq!(
        actions,
        ["service_account.grant_removed", "service_account.grant_set"],
        "newest first: {events:#?}"
    );
}

async fn a_guest_service_account_key_restricted_to_its_grant_acts_there(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "guest").await;
    let resp = put_grant(
        &app,
        Caller::Session(&owner),
        &sa_grants_path(&org, id(&sa)),
        "projects/web",
        "developer",
    )
    .await;
    expect_json(resp, 200).await;

    let resp = create_service_account_key(
        &app,
        Caller::Session(&owner),
        &org,
        id(&sa),
        json!({"name": "ci", "scopes": ["deploy", "read"], "resources": ["projects/web"]}),
    )
    .await;
    let key = expect_json(resp, 201).await;
    assert_eq!(key["resources"], json!(["projects/web"]));
    let key = Caller::Key(secret(&key));

    assert_eq!(
        authorize_status(
            &app,
            key,
            "deploy",
            None,
            Some("projects/web/environments/prod")
        )
        .await,
        200
    );
    assert_eq!(authorize_status(&app, key, "read", None, None).await, 403);
    assert_eq!(
        authorize_status(&app, key, "read", None, Some("projects/api")).await,
        403
    );
}

async fn a_restricted_key_acts_only_at_or_below_its_paths(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let key = restricted_key(
        &app,
        &owner,
        &org,
        &["deploy", "read"],
        &["projects/web", "docs"],
    )
    .await;
    let key = Caller::Key(secret(&key));

    for at in ["projects/web", "projects/web/environments/prod", "docs/a"] {
        let resp = authorize(&app, key, "deploy", None, Some(at)).await;
        let body = expect_json(resp, 200).await;
        assert_eq!(body["resource"], at, "{body}");
        assert_eq!(body["role"], "owner", "{body}");
        assert_eq!(string_set(&body["scopes"]), names(&["deploy", "read"]));
    }
    for at in ["projects/webshop", "projects", "projects/api"] {
        let resp = authorize(&app, key, "deploy", None, Some(at)).await;
        let err = assert_error(resp, 403, "forbidden").await;
        let message = err["message"].as_str().unwrap().to_lowercase();
        assert!(
            message.contains("outside"),
            "the message says the resource is outside the key's resources: {err}"
        );
        assert_eq!(err["missing_permissions"], json!(["deploy"]), "{err}");
    }
}

async fn a_restricted_key_is_bounded_by_the_role_in_effect_and_its_scopes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, developer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &developer, "developer").await;
    let key = restricted_key(
        &app,
        &developer,
        &org,
        &["write", "deploy", "read"],
        &["projects/web"],
    )
    .await;
    let reader = restricted_key(&app, &developer, &org, &["read"], &["projects/web"]).await;
    let (key, reader) = (Caller::Key(secret(&key)), Caller::Key(secret(&reader)));
    let web = Some("projects/web");

    assert_eq!(authorize_status(&app, key, "deploy", None, web).await, 200);
    // The role lacks admin there; the reader's scopes lack deploy.
    let resp = authorize(&app, key, "admin", None, web).await;
    let err = assert_error(resp, 403, "forbidden").await;
    assert_eq!(err["missing_permissions"], json!(["admin"]), "{err}");
    let resp = authorize(&app, reader, "deploy", None, web).await;
    let err = assert_error(resp, 403, "forbidden").await;
    assert_eq!(err["missing_permissions"], json!(["deploy"]), "{err}");

    // A grant raises the role in effect there, still within the key's scopes.
    grant(&app, &owner, &org, &developer.id, "projects/web", "admin").await;
    let resp = authorize(&app, key, "write", None, web).await;
    let body = expect_json(resp, 200).await;
    assert_eq!(body["role"], "admin", "{body}");
    assert_eq!(
        string_set(&body["scopes"]),
        names(&["write", "deploy", "read"])
    );
    assert_eq!(authorize_status(&app, key, "admin", None, web).await, 403);

    // Demoting the member, with the grant gone, lowers the key at once.
    let status = delete_grant(
        &app,
        Caller::Session(&owner),
        &grants_path(&org, &developer.id),
        "projects/web",
    )
    .await;
    assert_eq!(status, 204);
    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::PATCH,
            &format!("{}/{}", members_path(&org), developer.id),
            json!({"role": "viewer"}),
        )
        .await;
    expect_json(resp, 200).await;
    assert_eq!(authorize_status(&app, key, "deploy", None, web).await, 403);
    assert_eq!(authorize_status(&app, key, "read", None, web).await, 200);
}

async fn a_restricted_key_has_no_organization_wide_power(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = restricted_key(&app, &owner, &org, &["admin"], &["projects/web"]).await;
    let key = Caller::Key(secret(&created));

    let resp = authorize(&app, key, "read", None, None).await;
    let err = assert_error(resp, 403, "forbidden").await;
    assert_eq!(err["missing_permissions"], json!(["read"]), "{err}");

    for path in [
        members_path(&org),
        keys_path(&org),
        crate::invitations::invitations_path(&org),
        format!("/api/v1/organizations/{org}/audit-events"),
        crate::service_accounts::service_accounts_path(&org),
        grants_path(&org, &owner.id),
    ] {
        let resp = key.get(&app, &path).await;
        assert_error(resp, 403, "forbidden").await;
    }
    let writes = [
        (
            members_path(&org),
            json!({"email": app.person().await.email, "role": "viewer"}),
        ),
        (
            crate::invitations::invitations_path(&org),
            json!({"email": "someone@example.com", "role": "viewer"}),
        ),
        (
            crate::service_accounts::service_accounts_path(&org),
            json!({"name": "bot", "role": "viewer"}),
        ),
    ];
    for (path, body) in writes {
        let resp = key.send(&app, Method::POST, &path, body).await;
        assert_error(resp, 403, "forbidden").await;
    }
    let resp = put_grant(
        &app,
        key,
        &grants_path(&org, &owner.id),
        "projects/web",
        "viewer",
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = key
        .send(
            &app,
            Method::PATCH,
            &format!("/api/v1/organizations/{org}"),
            json!({"name": "Renamed"}),
        )
        .await;
    assert_error(resp, 403, "forbidden").await;
    // Nor may it touch another key.
    let other = app.api_key(&owner, &org, &["read"]).await;
    let resp = key
        .get(&app, &format!("{}/{}", keys_path(&org), id(&other)))
        .await;
    assert_error(resp, 403, "forbidden").await;
    let resp = key
        .delete(&app, &format!("{}/{}", keys_path(&org), id(&other)))
        .await;
    assert_error(resp, 403, "forbidden").await;
}

async fn a_restricted_key_may_get_and_revoke_itself_but_not_rotate(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = restricted_key(&app, &owner, &org, &["admin"], &["projects/web"]).await;
    let key = Caller::Key(secret(&created));
    let own = format!("{}/{}", keys_path(&org), id(&created));

    let resp = key.get(&app, &own).await;
    let got = expect_json(resp, 200).await;
    assert_eq!(got["id"], created["id"]);
    assert_eq!(got["resources"], json!(["projects/web"]));

    let resp = key
        .send(&app, Method::POST, &format!("{own}/rotate"), json!({}))
        .await;
    assert_error(resp, 403, "forbidden").await;

    let resp = key.delete(&app, &own).await;
    assert_eq!(resp.status().as_u16(), 204);
    assert_key_refused(&app, secret(&created)).await;
}

async fn key_objects_carry_their_resources(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let restricted = restricted_key(
        &app,
        &owner,
        &org,
        &["read"],
        &["projects/web", "projects/api/environments/prod"],
    )
    .await;
    let plain = app.api_key(&owner, &org, &["read"]).await;
    assert_eq!(
        string_set(&restricted["resources"]),
        names(&["projects/web", "projects/api/environments/prod"])
    );
    assert_null(&plain, "resources");

    let resp = Caller::Session(&owner).get(&app, &keys_path(&org)).await;
    let list = expect_json(resp, 200).await;
    for key in list.as_array().unwrap() {
        if key["id"] == restricted["id"] {
            assert_eq!(
                string_set(&key["resources"]),
                string_set(&restricted["resources"]),
                "{key}"
            );
        } else {
            assert_null(key, "resources");
        }
    }
    let resp = Caller::Session(&owner)
        .get(&app, &format!("{}/{}", keys_path(&org), id(&restricted)))
        .await;
    assert_eq!(
        string_set(&expect_json(resp, 200).await["resources"]),
        names(&["projects/web", "projects/api/environments/prod"])
    );
}

async fn me_with_a_restricted_key_lists_its_resources_and_no_scopes(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let restricted = restricted_key(&app, &owner, &org, &["admin"], &["projects/web"]).await;
    let plain = app.api_key(&owner, &org, &["read"]).await;

    let resp = Caller::Key(secret(&restricted))
        .get(&app, "/api/v1/me")
        .await;
    let me = expect_json(resp, 200).await;
    assert_eq!(me["resources"], json!(["projects/web"]), "{me}");
    assert_eq!(me["scopes"], json!([]), "{me}");
    assert_eq!(me["organization_id"], json!(org), "{me}");
    assert_eq!(me["api_key_id"], restricted["id"], "{me}");
    assert_eq!(me["auth_method"], "api_key");
    assert_eq!(me["user"]["id"], json!(owner.id));

    let resp = Caller::Key(secret(&plain)).get(&app, "/api/v1/me").await;
    let me = expect_json(resp, 200).await;
    assert_null(&me, "resources");
    assert_eq!(me["scopes"], json!(["read"]), "{me}");
}

async fn a_key_made_by_a_restricted_key_stays_within_its_paths(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let parent = restricted_key(
        &app,
        &owner,
        &org,
        &["deploy", "read"],
        &["projects/web", "projects/api"],
    )
    .await;
    let parent = Caller::Key(secret(&parent));

    for resources in [
        vec!["projects/web"],
        vec!["projects/web/environments/prod"],
        vec!["projects/api", "projects/web/environments/staging"],
    ] {
        let resp = create_key(&app, parent, &org, &["read"], Some(&resources)).await;
        let child = expect_json(resp, 201).await;
        assert_eq!(string_set(&child["resources"]), names(&resources));
    }
    let resp = create_key(&app, parent, &org, &["read"], Some(&["projects/web/x"])).await;
    let child = expect_json(resp, 201).await;
    let child = Caller::Key(secret(&child));
    assert_eq!(
        authorize_status(&app, child, "read", None, Some("projects/web/x/y")).await,
        200
    );
    assert_eq!(
        authorize_status(&app, child, "read", None, Some("projects/web")).await,
        403
    );

    // Unrestricted, broader, beside or partly outside: refused.
    let resp = create_key(&app, parent, &org, &["read"], None).await;
    assert_error(resp, 403, "forbidden").await;
    for resources in [
        vec!["projects"],
        vec!["projects/webshop"],
        vec!["projects/web", "projects/db"],
    ] {
        let resp = create_key(&app, parent, &org, &["read"], Some(&resources)).await;
        assert_error(resp, 403, "forbidden").await;
    }
    // And within its scopes.
    let resp = create_key(&app, parent, &org, &["write"], Some(&["projects/web"])).await;
    assert_error(resp, 403, "forbidden").await;
}

async fn an_unrestricted_key_uses_the_role_in_effect_at_the_resource(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    let key = app.api_key(&viewer, &org, &["read"]).await;
    let key = Caller::Key(secret(&key));
    grant(&app, &owner, &org, &viewer.id, "projects/web", "admin").await;

    let resp = authorize(
        &app,
        key,
        "read",
        None,
        Some("projects/web/environments/prod"),
    )
    .await;
    let body = expect_json(resp, 200).await;
    assert_eq!(body["role"], "admin", "{body}");
    assert_eq!(
        body["scopes"],
        json!(["read"]),
        "bounded by the key's scopes: {body}"
    );
    assert_eq!(body["resource"], "projects/web/environments/prod");
    // Organization-wide it is the viewer it always was.
    assert_eq!(role_at(&app, key, &org, None).await, "viewer");
    assert_eq!(
        role_at(&app, key, &org, Some("projects/api")).await,
        "viewer"
    );

    // Removing the grant takes it away from the key at once.
    let status = delete_grant(
        &app,
        Caller::Session(&owner),
        &grants_path(&org, &viewer.id),
        "projects/web",
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        role_at(&app, key, &org, Some("projects/web/environments/prod")).await,
        "viewer"
    );
}

async fn authorize_at_a_resource_names_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let key = app.api_key(&owner, &org, &["read"]).await;

    let resp = authorize(
        &app,
        Caller::Key(secret(&key)),
        "read",
        None,
        Some("projects/web"),
    )
    .await;
    let body = expect_json(resp, 200).await;
    assert_eq!(body["allowed"], true);
    assert_eq!(body["resource"], "projects/web", "{body}");
    assert_eq!(body["organization_id"], json!(org));
    assert_eq!(body["user_id"], json!(owner.id));

    // The root token checks at a resource too.
    let resp = authorize(
        &app,
        Caller::Bearer(&app.root_token),
        "admin",
        Some(&org),
        Some("projects/web"),
    )
    .await;
    let body = expect_json(resp, 200).await;
    assert_eq!(body["resource"], "projects/web", "{body}");

    // So does an access token minted without a resource.
    let token = minted_token(
        &app,
        Caller::Session(&owner),
        json!({"organization_id": org}),
    )
    .await;
    let resp = authorize(
        &app,
        Caller::Bearer(&token),
        "deploy",
        None,
        Some("projects/web"),
    )
    .await;
    let body = expect_json(resp, 200).await;
    assert_eq!(body["resource"], "projects/web", "{body}");
}

async fn a_token_minted_at_a_resource_carries_the_permissions_there(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, guest) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &guest, "guest").await;
    grant(&app, &owner, &org, &guest.id, "projects/web", "developer").await;

    let token = minted_token(
        &app,
        Caller::Session(&guest),
        json!({"organization_id": org, "resource": "projects/web"}),
    )
    .await;
    let claims = claims(&token);
    assert_eq!(claims["res"], "projects/web", "{claims}");
    assert_eq!(claims["sub"], json!(guest.id), "{claims}");
    assert_eq!(claims["org"], json!(org), "{claims}");
    assert_eq!(
        string_set(&claims["scopes"]),
        names(&["write", "deploy", "read"]),
        "{claims}"
    );

    // A malformed resource is refused.
    let resp = mint(
        &app,
        Caller::Session(&guest),
        json!({"organization_id": org, "resource": "projects//web"}),
    )
    .await;
    assert_error(resp, 422, "validation_failed").await;
}

async fn a_token_minted_at_a_resource_acts_only_at_or_below_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let token = minted_token(
        &app,
        Caller::Session(&owner),
        json!({"organization_id": org, "resource": "projects/web"}),
    )
    .await;
    let token = Caller::Bearer(&token);

    for at in ["projects/web", "projects/web/environments/prod"] {
        let resp = authorize(&app, token, "admin", None, Some(at)).await;
        let body = expect_json(resp, 200).await;
        assert_eq!(body["resource"], at, "{body}");
        assert_eq!(body["auth_method"], "access_token");
    }
    for at in [Some("projects/webshop"), Some("projects"), None] {
        let resp = authorize(&app, token, "read", None, at).await;
        assert_error(resp, 403, "forbidden").await;
    }
}

async fn a_restricted_key_mints_tokens_only_at_its_resources(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = restricted_key(&app, &owner, &org, &["deploy", "read"], &["projects/web"]).await;
    let key = Caller::Key(secret(&created));

    let resp = mint(&app, key, json!({})).await;
    assert_error(resp, 403, "forbidden").await;
    let resp = mint(&app, key, json!({"resource": "projects/api"})).await;
    assert_error(resp, 403, "forbidden").await;

    let token = minted_token(
        &app,
        key,
        json!({"resource": "projects/web/environments/prod"}),
    )
    .await;
    let claims = claims(&token);
    assert_eq!(claims["res"], "projects/web/environments/prod", "{claims}");
    assert_eq!(
        string_set(&claims["scopes"]),
        names(&["deploy", "read"]),
        "{claims}"
    );
    let token = Caller::Bearer(&token);
    assert_eq!(
        authorize_status(
            &app,
            token,
            "deploy",
            None,
            Some("projects/web/environments/prod/db")
        )
        .await,
        200
    );
    assert_eq!(
        authorize_status(&app, token, "deploy", None, Some("projects/web")).await,
        403
    );
}

async fn a_restricted_service_account_key_acts_only_at_its_paths(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let sa = service_account(&app, &owner, &org, "developer").await;
    let resp = create_service_account_key(
        &app,
        Caller::Session(&owner),
        &org,
        id(&sa),
        json!({"name": "ci", "scopes": ["deploy"], "resources": ["projects/web"]}),
    )
    .await;
    let created = expect_json(resp, 201).await;
    assert_eq!(created["resources"], json!(["projects/web"]));
    assert_eq!(created["service_account_id"], sa["id"]);
    let key = Caller::Key(secret(&created));

    let resp = authorize(
        &app,
        key,
        "deploy",
        None,
        Some("projects/web/environments/prod"),
    )
    .await;
    let body = expect_json(resp, 200).await;
    assert_eq!(body["service_account_id"], sa["id"]);
    assert_eq!(body["role"], "developer");
    assert_eq!(authorize_status(&app, key, "deploy", None, None).await, 403);
    let resp = authorize(&app, key, "deploy", None, Some("projects/api")).await;
    let err = assert_error(resp, 403, "forbidden").await;
    assert_eq!(err["missing_permissions"], json!(["deploy"]), "{err}");

    // The same limits on `resources` as for a person's key.
    let seventeen: Vec<String> = (0..17).map(|i| format!("projects/p{i}")).collect();
    for resources in [json!(seventeen), json!([]), json!(["projects//web"])] {
        let resp = create_service_account_key(
            &app,
            Caller::Session(&owner),
            &org,
            id(&sa),
            json!({"name": "ci", "scopes": ["deploy"], "resources": resources}),
        )
        .await;
        assert_error(resp, 422, "validation_failed").await;
    }

    // Its access token names the account and the resource.
    let token = minted_token(&app, key, json!({"resource": "projects/web"})).await;
    let claims = claims(&token);
    assert_eq!(claims["sub"], Value::Null, "{claims}");
    assert_eq!(claims["sa"], sa["id"], "{claims}");
    assert_eq!(claims["res"], "projects/web", "{claims}");
    assert_eq!(claims["scopes"], json!(["deploy"]), "{claims}");

    // An unrestricted key of the account, made next to it, is unaffected.
    let plain = service_account_key(&app, &owner, &org, id(&sa), &["deploy"]).await;
    assert_eq!(
        authorize_status(&app, Caller::Key(secret(&plain)), "deploy", None, None).await,
        200
    );
}

async fn signing_up_with_an_invitation_gives_its_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let email = format!("newcomer-{}@example.com", uuid::Uuid::new_v4().simple());
    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::POST,
            &crate::invitations::invitations_path(&org),
            json!({
                "email": email,
                "role": "guest",
                "grants": [{"resource": "projects/web", "role": "viewer"}],
            }),
        )
        .await;
    let invitation = expect_json(resp, 201).await;

    let resp = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .json(&json!({
            "email": email,
            "password": PASSWORD,
            "invitation_token": crate::invitations::token_of(&invitation["invite_url"]),
        }))
        .send()
        .await
        .unwrap();
    let created = expect_json(resp, 201).await;
    let user = created["user"]["id"].as_str().unwrap();
    assert_eq!(
        list_grants(&app, Caller::Session(&owner), &grants_path(&org, user)).await,
        pairs(&[("projects/web", "viewer")])
    );
}

async fn invitation_listings_and_resends_keep_their_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let grants = json!([
        {"resource": "projects/web", "role": "developer"},
        {"resource": "docs", "role": "viewer"},
    ]);
    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::POST,
            &crate::invitations::invitations_path(&org),
            json!({"email": "pending@example.com", "role": "guest", "grants": grants}),
        )
        .await;
    let invitation = expect_json(resp, 201).await;
    let as_pairs = |v: &Value| {
        let mut p: Vec<(String, String)> = v
            .as_array()
            .unwrap_or_else(|| panic!("grants is an array: {v}"))
            .iter()
            .map(|g| {
                (
                    g["resource"].as_str().unwrap().to_owned(),
                    g["role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        p.sort();
        p
    };
    let expected = pairs(&[("docs", "viewer"), ("projects/web", "developer")]);
    assert_eq!(as_pairs(&invitation["grants"]), expected);

    let resp = Caller::Session(&owner)
        .get(&app, &crate::invitations::invitations_path(&org))
        .await;
    let listed = expect_json(resp, 200).await;
    assert_eq!(as_pairs(&listed[0]["grants"]), expected, "{listed}");

    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::POST,
            &format!(
                "{}/{}/resend",
                crate::invitations::invitations_path(&org),
                id(&invitation)
            ),
            json!({}),
        )
        .await;
    let resent = expect_json(resp, 200).await;
    assert_eq!(as_pairs(&resent["grants"]), expected, "{resent}");
}

async fn a_restricted_key_stays_in_its_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let other = app.organization(&owner).await;
    let created = restricted_key(&app, &owner, &org, &["admin"], &["projects/web"]).await;
    let key = Caller::Key(secret(&created));

    let resp = authorize(&app, key, "read", Some(&other), Some("projects/web")).await;
    assert_error(resp, 403, "forbidden").await;
    // Nor does it make keys for service accounts.
    let sa = service_account(&app, &owner, &org, "viewer").await;
    let resp = create_service_account_key(
        &app,
        key,
        &org,
        id(&sa),
        json!({"name": "k", "scopes": ["read"], "resources": ["projects/web"]}),
    )
    .await;
    assert_error(resp, 403, "forbidden").await;
}

async fn rotating_a_restricted_key_keeps_its_resources(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.person().await;
    let org = app.organization(&owner).await;
    let created = restricted_key(&app, &owner, &org, &["deploy"], &["projects/web"]).await;

    let resp = Caller::Session(&owner)
        .send(
            &app,
            Method::POST,
            &format!("{}/{}/rotate", keys_path(&org), id(&created)),
            json!({}),
        )
        .await;
    let rotated = expect_json(resp, 201).await;
    assert_eq!(rotated["resources"], json!(["projects/web"]), "{rotated}");
    let key = Caller::Key(secret(&rotated));
    assert_eq!(
        authorize_status(&app, key, "deploy", None, Some("projects/web")).await,
        200
    );
    assert_eq!(authorize_status(&app, key, "deploy", None, None).await, 403);
    assert_eq!(
        authorize_status(&app, key, "deploy", None, Some("projects/api")).await,
        403
    );
}

async fn concurrent_puts_of_one_grant_leave_one_grant(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, member) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &member, "guest").await;
    let grants = grants_path(&org, &member.id);

    let put = |role: &'static str| {
        put_grant(&app, Caller::Session(&owner), &grants, "projects/web", role)
    };
    let (a, b, c, d) = tokio::join!(put("viewer"), put("developer"), put("admin"), put("viewer"));
    for resp in [a, b, c, d] {
        expect_json(resp, 200).await;
    }
    let list = list_grants(&app, Caller::Session(&owner), &grants).await;
    assert_eq!(list.len(), 1, "one grant per resource: {list:?}");
    assert_eq!(list[0].0, "projects/web");
}

async fn a_member_makes_restricted_keys_within_their_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, viewer) = (app.person().await, app.person().await);
    let org = app.organization(&owner).await;
    app.add_member(&owner, &org, &viewer, "viewer").await;
    grant(&app, &owner, &org, &viewer.id, "projects/web", "developer").await;
    let me = Caller::Session(&viewer);

    // Deploying is within the viewer's grants at projects/web, and only there.
    let created = restricted_key(&app, &viewer, &org, &["deploy"], &["projects/web/x"]).await;
    assert_eq!(
        authorize_status(
            &app,
            Caller::Key(secret(&created)),
            "deploy",
            None,
            Some("projects/web/x")
        )
        .await,
        200
    );
    for resources in [None, Some(&["projects/api"][..]), Some(&["projects"][..])] {
        let resp = create_key(&app, me, &org, &["deploy"], resources).await;
        assert_error(resp, 403, "forbidden").await;
    }
}
