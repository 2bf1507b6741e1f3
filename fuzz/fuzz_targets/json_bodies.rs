//! Every JSON request body, parsed as the server parses it (`JsonBody<T>`: serde_json, the
//! string-coercion guard, poem-openapi's `ParseFromJSON` and its validators), then through the
//! domain parsing its handler does before calling the operation.
//!
//! Input: one selector byte (which body, see `BODIES`), then the body as sent with
//! `Content-Type: application/json`. One binary for all bodies: each would link the whole API
//! crate again (see README.md).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poem_openapi::types::{ParseFromJSON, ToJSON, Type};
use portcullis_api::ApiError;
use portcullis_api::endpoints::admin::{CreateUser, UpdateUser};
use portcullis_api::endpoints::api_keys::{CreateApiKey, RotateApiKey};
use portcullis_api::endpoints::auth::{
    LoginRequest, PasswordChange, PasswordResetConfirm, PasswordResetRequest, SignupRequest,
    TokenRequest,
};
use portcullis_api::endpoints::grants::ResourceRole;
use portcullis_api::endpoints::invitations::{CreateInvitation, InvitationToken};
use portcullis_api::endpoints::members::{AddMember, ChangeRole};
use portcullis_api::endpoints::organizations::{CreateOrganization, UpdateOrganization};
use portcullis_api::endpoints::service_accounts::{CreateServiceAccount, UpdateServiceAccount};
use portcullis_api::fuzzing::{json_body, new_account, new_api_key, role_at};
use portcullis_domain::{Email, Error, Name, OrgSlug, ResourcePath, Role, api_key::rotation_grace};
use serde_json::Value;

/// The operations with a JSON body, by selector byte (modulo their number); operations sharing
/// a body type share its selector.
const BODIES: [&str; 19] = [
    "signup",
    "login",
    "change_password",
    "request_password_reset",
    "confirm_password_reset",
    "create_access_token",
    "create_organization",
    "update_organization",
    "add_member",
    "change_member_role",
    "create_invitation",
    "lookup_invitation, accept_invitation",
    "create_api_key, create_service_account_api_key",
    "rotate_api_key",
    "create_service_account",
    "update_service_account",
    "set_member_grant, set_service_account_grant",
    "admin_create_user",
    "admin_update_user",
];

fn status(error: &ApiError) -> u16 {
    error.body().status
}

/// Contract: "missing or malformed required fields give 400 (malformed JSON) or 422 (well-formed
/// but invalid), never 500"; unknown fields are ignored.
fn check<T: ParseFromJSON + ToJSON + Type>(bytes: &[u8]) -> Option<T> {
    let parsed = json_body::<T>(bytes);
    let value = if bytes.is_empty() {
        Value::Null
    } else if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        value
    } else {
        let error = parsed.err().expect("malformed JSON was accepted");
        assert_eq!(status(&error), 400, "{:?}", error.body());
        return None;
    };
    let body = match parsed {
        Ok(body) => body,
        Err(error) => {
            let expected = if value.is_null() && T::IS_REQUIRED {
                400
            } else {
                422
            };
            assert_eq!(status(&error), expected, "{value}: {:?}", error.body());
            return None;
        }
    };
    assert!(
        !(value.is_null() && T::IS_REQUIRED),
        "a missing body was accepted"
    );
    let out = body.to_json().unwrap_or(Value::Null);
    same_types(&value, &out, "$");

    let again = json_body::<T>(&serde_json::to_vec(&out).unwrap())
        .unwrap_or_else(|e| panic!("{out} as parsed does not parse again: {:?}", e.body()));
    assert_eq!(again.to_json().unwrap_or(Value::Null), out);

    if let Value::Object(mut fields) = value {
        fields.insert("fuzz_unknown_field".into(), Value::Bool(true));
        let with_unknown = serde_json::to_vec(&fields).unwrap();
        let again = json_body::<T>(&with_unknown)
            .unwrap_or_else(|e| panic!("an unknown field was refused: {:?}", e.body()));
        assert_eq!(again.to_json().unwrap_or(Value::Null), out);
    }
    Some(body)
}

/// Every value the server took is of the JSON type it sent: no number or boolean quietly became
/// a string (the rule `body.rs` states), at any depth.
fn same_types(sent: &Value, taken: &Value, at: &str) {
    match (sent, taken) {
        (Value::Object(sent), Value::Object(taken)) => {
            for (name, value) in taken {
                if let Some(sent) = sent.get(name) {
                    same_types(sent, value, &format!("{at}.{name}"));
                }
            }
        }
        (Value::Array(sent), Value::Array(taken)) => {
            assert_eq!(sent.len(), taken.len(), "{at}");
            for (i, (sent, taken)) in sent.iter().zip(taken).enumerate() {
                same_types(sent, taken, &format!("{at}[{i}]"));
            }
        }
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => {}
        (sent, taken) => panic!("{at}: sent {sent}, taken as {taken}"),
    }
}

/// A domain refusal of a well-formed body is a 422.
fn refused(error: Error) {
    assert_eq!(status(&ApiError::from(error)), 422);
}

fn password(password: &str) {
    assert!(
        (8..=128).contains(&password.chars().count()),
        "{password:?}"
    );
}

fn email(raw: &str) {
    match Email::parse(raw) {
        Ok(email) => {
            assert_eq!(Email::parse(email.as_str()).unwrap(), email);
            assert_eq!(email.as_str(), raw.trim().to_lowercase());
            assert!(email.as_str().len() <= 254);
        }
        Err(error) => refused(error),
    }
}

fn name(raw: &str) {
    match Name::parse(raw) {
        Ok(name) => {
            assert_eq!(name.as_str(), raw.trim());
            assert_eq!(Name::parse(name.as_str()).unwrap(), name);
        }
        Err(error) => refused(error),
    }
}

fn resource(raw: &str) {
    match ResourcePath::parse(raw) {
        Ok(path) => assert_eq!(path.as_str(), raw),
        Err(error) => refused(error),
    }
}

fn grant(body: &ResourceRole) {
    match role_at(body) {
        Ok(grant) => {
            assert_eq!(grant.resource.as_str(), body.resource);
            assert_eq!(grant.role, Role::from(body.role));
            assert!(matches!(
                grant.role,
                Role::Admin | Role::Developer | Role::Viewer
            ));
        }
        Err(error) => refused(error),
    }
}

fn account(email: &str, password: &str, name: Option<&str>) {
    match new_account(email, password.to_owned(), name) {
        Ok(account) => {
            assert_eq!(account.email, Email::parse(email).unwrap());
            assert_eq!(account.password, password);
            assert_eq!(account.name.is_some(), name.is_some());
        }
        Err(error) => refused(error),
    }
}

fn slug(raw: &str) {
    // The validator's pattern `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$` and the domain agree.
    let bytes = raw.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    assert!((1..=63).contains(&bytes.len()), "{raw:?}");
    assert!(
        alnum(&bytes[0]) && alnum(&bytes[bytes.len() - 1]),
        "{raw:?}"
    );
    assert!(bytes.iter().all(|b| alnum(b) || *b == b'-'), "{raw:?}");
    assert_eq!(OrgSlug::parse(raw).unwrap().as_str(), raw);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    match usize::from(selector) % BODIES.len() {
        0 => {
            if let Some(b) = check::<SignupRequest>(bytes) {
                password(&b.password);
                account(&b.email, &b.password, b.name.as_deref());
            }
        }
        1 => {
            check::<LoginRequest>(bytes);
        }
        2 => {
            if let Some(b) = check::<PasswordChange>(bytes) {
                password(&b.new_password);
            }
        }
        3 => {
            if let Some(b) = check::<PasswordResetRequest>(bytes) {
                email(&b.email);
            }
        }
        4 => {
            check::<PasswordResetConfirm>(bytes);
        }
        5 => {
            if let Some(Some(b)) = check::<Option<TokenRequest>>(bytes) {
                if let Some(raw) = &b.resource {
                    resource(raw);
                }
            }
        }
        6 => {
            if let Some(b) = check::<CreateOrganization>(bytes) {
                name(&b.name);
                slug(&b.slug);
                if let Some(owner) = &b.owner_email {
                    email(owner);
                }
            }
        }
        7 => {
            if let Some(b) = check::<UpdateOrganization>(bytes) {
                if let Some(raw) = &b.name {
                    name(raw);
                }
            }
        }
        8 => {
            if let Some(b) = check::<AddMember>(bytes) {
                email(&b.email);
            }
        }
        9 => {
            check::<ChangeRole>(bytes);
        }
        10 => {
            if let Some(b) = check::<CreateInvitation>(bytes) {
                email(&b.email);
                b.grants.iter().flatten().for_each(grant);
            }
        }
        11 => {
            check::<InvitationToken>(bytes);
        }
        12 => {
            if let Some(b) = check::<CreateApiKey>(bytes) {
                assert!(!b.scopes.is_empty());
                let asked = b.resources.clone();
                match new_api_key(b) {
                    Ok(key) => {
                        assert!(!key.scopes.is_empty());
                        let (Some(asked), Some(restriction)) = (asked, key.resources) else {
                            return;
                        };
                        let mut distinct = asked;
                        distinct.sort();
                        distinct.dedup();
                        assert_eq!(restriction.names(), distinct);
                        assert!((1..=16).contains(&distinct.len()));
                    }
                    Err(error) => refused(error),
                }
            }
        }
        13 => {
            if let Some(Some(b)) = check::<Option<RotateApiKey>>(bytes) {
                if let Some(seconds) = b.grace_period_seconds {
                    assert!((0..=604_800).contains(&seconds));
                    assert_eq!(rotation_grace(seconds).unwrap().num_seconds(), seconds);
                }
            }
        }
        14 => {
            if let Some(b) = check::<CreateServiceAccount>(bytes) {
                name(&b.name);
            }
        }
        15 => {
            if let Some(b) = check::<UpdateServiceAccount>(bytes) {
                if let Some(raw) = &b.name {
                    name(raw);
                }
            }
        }
        16 => {
            if let Some(b) = check::<ResourceRole>(bytes) {
                grant(&b);
            }
        }
        17 => {
            if let Some(b) = check::<CreateUser>(bytes) {
                password(&b.password);
                account(&b.email, &b.password, b.name.as_deref());
            }
        }
        _ => {
            check::<UpdateUser>(bytes);
        }
    }
});
