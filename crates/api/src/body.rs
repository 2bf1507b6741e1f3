//! `JsonBody<T>`: a JSON request body that tells malformed JSON (400) from well-formed JSON
//! that does not fit the schema (422). A body without `Content-Type: application/json` is 415;
//! that also keeps cross-site "simple" form posts out.

use crate::error::ApiError;
use poem::{Request, RequestBody, Result};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef, Registry},
    types::{ParseFromJSON, Type},
};
use serde_json::Value;

/// No Portcullis request needs more.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct JsonBody<T>(pub T);

impl<'a, T: ParseFromJSON + Type> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "application/json; charset=utf-8",
                schema: schema::<T>(),
            }],
            required: T::IS_REQUIRED,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> Result<Self> {
        let json = request.content_type().map(is_json);
        if json == Some(false) {
            return Err(ApiError::unsupported_media_type(
                "the request body must be JSON, sent with Content-Type: application/json",
            )
            .into());
        }
        let bytes = body
            .take()?
            .into_bytes_limit(MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                ApiError::bad_request("the request body is unreadable or larger than 64 KiB")
            })?;
        decode(json.is_some(), &bytes)
            .map(JsonBody)
            .map_err(Into::into)
    }
}

/// A body as read: `declared` says whether it came with a JSON `Content-Type` (any other was
/// already refused).
pub(crate) fn decode<T: ParseFromJSON + Type>(declared: bool, bytes: &[u8]) -> Result<T, ApiError> {
    if !declared && !bytes.is_empty() {
        return Err(ApiError::unsupported_media_type(
            "a request body needs Content-Type: application/json",
        ));
    }
    let value = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?
    };
    if value.is_null() && T::IS_REQUIRED {
        return Err(ApiError::bad_request("a JSON request body is required"));
    }
    reject_coerced_strings::<T>(&value)
        .map_err(|message| ApiError::from(portcullis_domain::Error::validation(message)))?;
    T::parse_from_json(Some(value))
        .map_err(|e| ApiError::from(portcullis_domain::Error::validation(e.into_message())))
}

/// `application/json`, with or without parameters such as a charset.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

fn schema<T: Type>() -> MetaSchemaRef {
    T::schema_ref()
}

/// poem-openapi quietly turns JSON numbers and booleans into strings; a client sending
/// `"name": 5` has a bug it should hear about, so declared string fields must be JSON strings, in
/// nested objects too (`"grants": [{"resource": 5}]`).
fn reject_coerced_strings<T: Type>(value: &Value) -> Result<(), String> {
    let mut registry = Registry::new();
    T::register(&mut registry);
    match resolve(&registry, &T::schema_ref()) {
        Some(schema) => strings_where_declared(&registry, &schema, value, ""),
        None => Ok(()),
    }
}

fn resolve(registry: &Registry, schema: &MetaSchemaRef) -> Option<MetaSchema> {
    match schema {
        MetaSchemaRef::Inline(schema) => Some(schema.as_ref().clone()),
        MetaSchemaRef::Reference(name) => registry.schemas.get(name).cloned(),
    }
}

/// The fields of the object `value` that `schema` declares; `at` is where the object sits.
fn strings_where_declared(
    registry: &Registry,
    schema: &MetaSchema,
    value: &Value,
    at: &str,
) -> Result<(), String> {
    let Some(object) = value.as_object() else {
        return Ok(());
    };
    for (name, property) in &schema.properties {
        let (Some(field), Some(property)) = (object.get(*name), resolve(registry, property)) else {
            continue;
        };
        let items = property
            .items
            .as_deref()
            .and_then(|items| resolve(registry, items));
        let acceptable = match (field, property.ty) {
            (Value::Null | Value::String(_), _) => true,
            (_, "string") => false,
            (Value::Array(values), "array") => {
                items.as_ref().map(|items| items.ty) != Some("string")
                    || values.iter().all(Value::is_string)
            }
            _ => true,
        };
        if !acceptable {
            return Err(format!(
                "field '{at}{name}' must be a string (or a list of strings)"
            ));
        }
        match (field, items) {
            (Value::Object(_), _) => {
                strings_where_declared(registry, &property, field, &format!("{at}{name}."))?;
            }
            (Value::Array(values), Some(items)) => {
                for (i, value) in values.iter().enumerate() {
                    strings_where_declared(registry, &items, value, &format!("{at}{name}[{i}]."))?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::api_keys::CreateApiKey;
    use crate::endpoints::invitations::CreateInvitation;
    use serde_json::json;

    fn status<T: ParseFromJSON + Type>(declared: bool, bytes: &[u8]) -> Option<u16> {
        decode::<T>(declared, bytes).err().map(|e| e.body().status)
    }

    fn parsed<T: ParseFromJSON + Type>(value: Value) -> Option<u16> {
        status::<T>(true, value.to_string().as_bytes())
    }

    #[test]
    fn bodies_are_json_of_the_declared_shape() {
        assert_eq!(status::<CreateApiKey>(false, b"{}"), Some(415));
        assert_eq!(status::<CreateApiKey>(true, b"{"), Some(400));
        assert_eq!(status::<CreateApiKey>(true, b""), Some(400));
        assert_eq!(status::<CreateApiKey>(true, b"[]"), Some(422));
        assert_eq!(
            parsed::<CreateApiKey>(json!({"name": "ci", "scopes": ["read"]})),
            None
        );
    }

    #[test]
    fn numbers_and_booleans_are_not_taken_for_strings() {
        assert_eq!(
            parsed::<CreateApiKey>(json!({"name": 5, "scopes": ["read"]})),
            Some(422)
        );
        let resources = json!({"name": "ci", "scopes": ["read"], "resources": ["a", true]});
        assert_eq!(parsed::<CreateApiKey>(resources), Some(422));
    }

    /// Seen while writing the `json_bodies` fuzz target: the rule held only for top-level fields, so
    /// `"grants": [{"resource": 5}]` granted a role on the path `5`.
    #[test]
    fn nested_objects_get_no_coerced_strings_either() {
        let invitation = |resource: Value| {
            json!({
                "email": "eve@example.com",
                "role": "guest",
                "grants": [{"resource": resource, "role": "viewer"}],
            })
        };
        assert_eq!(parsed::<CreateInvitation>(invitation(json!(5))), Some(422));
        assert_eq!(
            parsed::<CreateInvitation>(invitation(json!(false))),
            Some(422)
        );
        assert_eq!(parsed::<CreateInvitation>(invitation(json!("5"))), None);
        let message = decode::<CreateInvitation>(true, invitation(json!(5)).to_string().as_bytes())
            .err()
            .map(|e| e.body().message.clone());
        assert_eq!(
            message.as_deref(),
            Some("field 'grants[0].resource' must be a string (or a list of strings)")
        );
    }
}
