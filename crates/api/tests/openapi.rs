//! `openapi.json` is generated from the code; clients are generated from it. These tests fail
//! when the committed file drifts from the code, or when an operation lacks what generators need.

use serde_json::Value;

const REGENERATE: &str = "cargo run -p portcullis-server -- openapi > openapi.json";

fn committed() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.json");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}; create it with `{REGENERATE}`"));
    serde_json::from_str(&text).expect("openapi.json is JSON")
}

fn generated() -> Value {
    serde_json::from_str(&portcullis_api::spec_json()).expect("the generated spec is JSON")
}

#[test]
fn the_committed_spec_matches_the_code() {
    assert!(
        committed() == generated(),
        "openapi.json is out of date; regenerate it with `{REGENERATE}`"
    );
}

#[test]
fn every_operation_has_an_id_a_tag_a_summary_and_error_responses() {
    let spec = generated();
    let mut seen = std::collections::HashSet::new();
    for (path, operations) in spec["paths"].as_object().expect("paths") {
        for (method, op) in operations.as_object().expect("operations") {
            let name = format!("{} {path}", method.to_uppercase());
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} has no operationId"));
            assert!(seen.insert(id.to_owned()), "operationId {id} is used twice");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{name} has no tag"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{name} has no summary"
            );
            let responses = op["responses"].as_object().expect("responses");
            let secured = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            if secured {
                for status in ["401", "403"] {
                    assert!(
                        responses.contains_key(status),
                        "{name} does not document {status}"
                    );
                }
            }
        }
    }
    assert!(
        seen.len() >= 30,
        "expected the contract's operations, found {}",
        seen.len()
    );
}

fn statuses(spec: &Value, path: &str, method: &str) -> Vec<String> {
    let mut statuses: Vec<String> = spec["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} has responses"))
        .keys()
        .cloned()
        .collect();
    statuses.sort();
    statuses
}

#[test]
fn scopes_roles_permissions_and_auth_methods_are_enums() {
    let spec = generated();
    let schemas = &spec["components"]["schemas"];
    let values = |name: &str| -> Vec<String> {
        serde_json::from_value(schemas[name]["enum"].clone())
            .unwrap_or_else(|_| panic!("{name} is an enum: {}", schemas[name]))
    };
    assert_eq!(values("Permission"), ["admin", "write", "deploy", "read"]);
    assert_eq!(
        values("Role"),
        ["owner", "admin", "developer", "viewer", "guest"]
    );
    assert_eq!(
        values("AuthMethod"),
        ["session", "api_key", "access_token", "root_token"]
    );
    let reference = |schema: &Value| schema["$ref"].as_str().map(str::to_owned);
    let permission = Some("#/components/schemas/Permission".to_owned());
    assert_eq!(
        reference(&schemas["ApiKey"]["properties"]["scopes"]["items"]),
        permission
    );
    assert_eq!(
        reference(&schemas["CreateApiKey"]["properties"]["scopes"]["items"]),
        permission
    );
    assert_eq!(
        reference(&schemas["Member"]["properties"]["role"]),
        Some("#/components/schemas/Role".to_owned())
    );
    let authorize = &spec["paths"]["/api/v1/authorize"]["get"]["parameters"];
    let query = authorize
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "permission"))
        .expect("authorize takes permission");
    assert_eq!(reference(&query["schema"]), permission);
}

#[test]
fn each_operation_lists_only_the_statuses_it_can_answer() {
    let spec = generated();
    assert_eq!(statuses(&spec, "/healthz", "get"), ["200"]);
    assert_eq!(statuses(&spec, "/readyz", "get"), ["200", "503"]);
    assert_eq!(
        statuses(
            &spec,
            "/api/v1/organizations/{org_id}/api-keys/{key_id}/rotate",
            "post"
        ),
        [
            "201", "400", "401", "403", "404", "409", "415", "422", "429", "500", "503"
        ]
    );
    assert_eq!(
        statuses(&spec, "/api/v1/me", "get"),
        ["200", "401", "403", "429", "500", "503"]
    );
    // Only operations that take a body can refuse its media type. The password and link
    // endpoints are rate limited, and so is every operation that takes a credential (failed
    // authentications).
    let rate_limited = [
        "/api/v1/auth/login",
        "/api/v1/auth/signup",
        "/api/v1/auth/password-reset",
        "/api/v1/auth/password-reset/confirm",
        "/api/v1/invitations/lookup",
    ];
    for (path, operations) in spec["paths"].as_object().expect("paths") {
        for (method, op) in operations.as_object().expect("operations") {
            let listed = statuses(&spec, path, method);
            let has_body = op.get("requestBody").is_some();
            assert_eq!(
                listed.contains(&"415".to_owned()),
                has_body,
                "{method} {path}: 415 iff it takes a body"
            );
            let secured = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            let limited = secured || rate_limited.contains(&path.as_str());
            assert_eq!(
                listed.contains(&"429".to_owned()),
                limited,
                "{method} {path}: 429 only where rate limited"
            );
        }
    }
}
