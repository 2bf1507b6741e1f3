//! `JsonBody<T>`: a JSON request body that tells malformed JSON (400) from well-formed JSON
//! that does not fit the schema (422), and accepts a missing `Content-Type`.

use crate::error::ApiError;
use poem::{Request, RequestBody, Result};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry},
    types::{ParseFromJSON, Type},
};

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
        if let Some(content_type) = request.content_type()
            && !content_type.starts_with("application/json")
        {
            return Err(ApiError::bad_request(format!(
                "expected an application/json body, got '{content_type}'"
            ))
            .into());
        }
        let bytes = body
            .take()?
            .into_bytes_limit(MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                ApiError::bad_request("the request body is unreadable or larger than 64 KiB")
            })?;
        let value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?
        };
        if value.is_null() && T::IS_REQUIRED {
            return Err(ApiError::bad_request("a JSON request body is required").into());
        }
        T::parse_from_json(Some(value)).map(JsonBody).map_err(|e| {
            ApiError::from(portcullis_domain::Error::validation(e.into_message())).into()
        })
    }
}

fn schema<T: Type>() -> MetaSchemaRef {
    T::schema_ref()
}
