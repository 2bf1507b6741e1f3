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
