//! `GET /api/v1/authorize` without poem-openapi's generic extraction and serialization: it is
//! the check a gateway makes for every request it forwards, so it is the one hot path.
//!
//! The OpenAPI operation (`endpoints::me`) stays the definition and the fallback. A query this
//! parser does not take as plainly valid (percent-encoding, a repeated, missing or invalid
//! parameter) goes there untouched, and so does every other request. Both call the same
//! operation (`identity::authorize`) and map errors through the same `ApiError`; a test
//! compares their answers byte for byte.

use crate::error::ApiError;
use crate::operations::identity;
use crate::state::AppState;
use poem::http::header::CONTENT_TYPE;
use poem::http::{HeaderName, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::OperationId;
use portcullis_domain::{Access, Error, Permission, Permissions, ResourcePath};
use uuid::Uuid;

const PATH: &str = "/api/v1/authorize";
const OPERATION: OperationId = OperationId("authorize");

/// The middleware that answers the forward-auth check itself.
pub struct ForwardAuth;

impl<E: Endpoint> Middleware<E> for ForwardAuth {
    type Output = ForwardAuthEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        ForwardAuthEndpoint(ep)
    }
}

pub struct ForwardAuthEndpoint<E>(E);

impl<E: Endpoint> Endpoint for ForwardAuthEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if req.method() == Method::GET
            && req.uri().path() == PATH
            && let Some(query) = req.uri().query().and_then(AuthorizeQuery::parse)
            && let Some(state) = req.data::<AppState>()
        {
            // Boxed: the check's future is large, and inline it would be copied with every
            // future that holds this one, on every request, whichever path it takes.
            let mut resp = match Box::pin(answer(state, &req, query)).await {
                Ok(resp) => resp,
                Err(error) => ApiError::from(error).into_response(),
            };
            resp.set_data(OPERATION);
            return Ok(resp);
        }
        self.0.call(req).await.map(IntoResponse::into_response)
    }
}

/// The operation's parameters, when the query spells them plainly.
#[derive(Debug, PartialEq)]
struct AuthorizeQuery {
    permission: Permission,
    organization_id: Option<Uuid>,
    resource: Option<ResourcePath>,
}

impl AuthorizeQuery {
    fn parse(query: &str) -> Option<Self> {
        let (mut permission, mut organization_id, mut resource) = (None, None, None);
        // One pass over the bytes: split at `&`, each pair at its first `=`.
        let (mut start, mut equals) = (0, None);
        for (i, byte) in query.bytes().chain([b'&']).enumerate() {
            match byte {
                b'%' | b'+' => return None,
                b'=' if equals.is_none() => equals = Some(i),
                b'&' => {
                    let (name, value) = match equals {
                        Some(e) => (&query[start..e], &query[e + 1..i]),
                        None => (&query[start..i], ""),
                    };
                    let slot_taken = match name {
                        "permission" => permission.replace(value.parse().ok()?).is_some(),
                        "organization_id" => organization_id
                            .replace(Uuid::parse_str(value).ok()?)
                            .is_some(),
                        "resource" => resource.replace(ResourcePath::parse(value).ok()?).is_some(),
                        _ => false,
                    };
                    if slot_taken {
                        return None;
                    }
                    (start, equals) = (i + 1, None);
                }
                _ => {}
            }
        }
        Some(Self {
            permission: permission?,
            organization_id,
            resource,
        })
    }
}

async fn answer(state: &AppState, req: &Request, query: AuthorizeQuery) -> Result<Response, Error> {
    let caller = state.authenticate(req).await?;
    let (organization_id, access) = identity::authorize(
        state,
        &caller,
        query.permission,
        query.organization_id,
        query.resource.as_ref(),
    )
    .await?;
    let Access {
        role, permissions, ..
    } = access;
    let user_id = caller.principal.user_id();
    let service_account_id = caller.principal.service_account_id();
    let role = role.map(|role| role.as_str());
    let scopes = permissions.to_csv();
    let body = allowed_body(
        caller.principal.auth_method().as_str(),
        organization_id,
        query.resource.as_ref().map(ResourcePath::as_str),
        role,
        permissions,
        service_account_id,
        user_id,
    );
    let mut resp = Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, JSON)
        .body(body);
    let headers = resp.headers_mut();
    headers.reserve(5);
    headers.insert(X_USER, uuid_header(user_id));
    headers.insert(X_ORGANIZATION, uuid_header(Some(organization_id)));
    headers.insert(X_ROLE, HeaderValue::from_static(role.unwrap_or_default()));
    headers.insert(
        X_SCOPES,
        HeaderValue::from_str(&scopes).expect("scope names are valid header values"),
    );
    headers.insert(X_SERVICE_ACCOUNT, uuid_header(service_account_id));
    Ok(resp)
}

/// The body as poem-openapi writes it (fields sorted by name, no spaces), written directly. No
/// value needs escaping: UUIDs, fixed names, and a resource path, which admits only
/// `[a-z0-9._-/]`.
fn allowed_body(
    auth_method: &str,
    organization_id: Uuid,
    resource: Option<&str>,
    role: Option<&str>,
    scopes: Permissions,
    service_account_id: Option<Uuid>,
    user_id: Option<Uuid>,
) -> String {
    let mut out = String::with_capacity(320);
    out.push_str(r#"{"allowed":true,"auth_method":""#);
    out.push_str(auth_method);
    out.push_str(r#"","organization_id":"#);
    push_uuid(&mut out, Some(organization_id));
    out.push_str(r#","resource":"#);
    push_str(&mut out, resource);
    out.push_str(r#","role":"#);
    push_str(&mut out, role);
    out.push_str(r#","scopes":["#);
    for (i, scope) in scopes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(&mut out, Some(scope.as_str()));
    }
    out.push_str(r#"],"service_account_id":"#);
    push_uuid(&mut out, service_account_id);
    out.push_str(r#","user_id":"#);
    push_uuid(&mut out, user_id);
    out.push('}');
    out
}

/// `"value"` or `null`; `value` must need no escaping.
fn push_str(out: &mut String, value: Option<&str>) {
    match value {
        Some(value) => {
            debug_assert!(!value.contains(['"', '\\']) && !value.contains(char::is_control));
            out.push('"');
            out.push_str(value);
            out.push('"');
        }
        None => out.push_str("null"),
    }
}

fn push_uuid(out: &mut String, id: Option<Uuid>) {
    let mut buf = Uuid::encode_buffer();
    push_str(out, id.map(|id| &*id.hyphenated().encode_lower(&mut buf)));
}

const JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");
const X_USER: HeaderName = HeaderName::from_static("x-portcullis-user");
const X_ORGANIZATION: HeaderName = HeaderName::from_static("x-portcullis-organization");
const X_ROLE: HeaderName = HeaderName::from_static("x-portcullis-role");
const X_SCOPES: HeaderName = HeaderName::from_static("x-portcullis-scopes");
const X_SERVICE_ACCOUNT: HeaderName = HeaderName::from_static("x-portcullis-service-account");

/// A UUID, hyphenated; empty for none.
fn uuid_header(id: Option<Uuid>) -> HeaderValue {
    match id {
        Some(id) => {
            let mut buf = Uuid::encode_buffer();
            let text = id.hyphenated().encode_lower(&mut buf);
            HeaderValue::from_str(text).expect("a UUID is a valid header value")
        }
        None => HeaderValue::from_static(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, SystemClock};
    use poem::EndpointExt;
    use poem::test::TestClient;
    use std::sync::Arc;

    /// The middleware answers the plain check itself and passes everything else on.
    #[tokio::test]
    async fn only_a_plain_check_is_answered_here() {
        let state = crate::connect("sqlite::memory:", Config::default(), Arc::new(SystemClock))
            .await
            .unwrap();
        let fallback = poem::endpoint::make_sync(|_| StatusCode::IM_A_TEAPOT);
        let client = TestClient::new(fallback.with(ForwardAuth).data(state));
        let answered = client.get("/api/v1/authorize?permission=read").send().await;
        answered.assert_status(StatusCode::UNAUTHORIZED);
        answered.assert_header("www-authenticate", r#"Bearer realm="portcullis""#);
        for passed_on in [
            client.get("/api/v1/authorize?permission=%72ead"),
            client.get("/api/v1/authorize"),
            client.post("/api/v1/authorize?permission=read"),
            client.get("/api/v1/authorized?permission=read"),
            client.get("/healthz"),
        ] {
            passed_on
                .send()
                .await
                .assert_status(StatusCode::IM_A_TEAPOT);
        }
    }

    fn parsed(query: &str) -> Option<AuthorizeQuery> {
        AuthorizeQuery::parse(query)
    }

    #[test]
    fn plain_queries_are_taken() {
        let org = Uuid::now_v7();
        assert_eq!(
            parsed(&format!(
                "permission=deploy&organization_id={org}&resource=projects/web&unknown=1"
            )),
            Some(AuthorizeQuery {
                permission: Permission::Deploy,
                organization_id: Some(org),
                resource: Some(ResourcePath::parse("projects/web").unwrap()),
            })
        );
        assert_eq!(
            parsed("permission=read"),
            Some(AuthorizeQuery {
                permission: Permission::Read,
                organization_id: None,
                resource: None,
            })
        );
    }

    /// Whatever could read differently once decoded, or is an error to report, is left to the
    /// OpenAPI operation.
    #[test]
    fn anything_else_is_left_to_the_operation() {
        for query in [
            "",
            "organization_id=0190a0a0-0000-7000-8000-000000000000",
            "permission=",
            "permission",
            "permission=Read",
            "permission=fly",
            "permission=read&permission=read",
            "permission=%72ead",
            "permission=read&%72esource=projects/web",
            "permission=read&resource=projects+web",
            "permission=read&organization_id=",
            "permission=read&organization_id=nope",
            "permission=read&resource=",
            "permission=read&resource=projects/../etc",
            "permission=read&resource=a&resource=b",
        ] {
            assert_eq!(parsed(query), None, "{query}");
        }
    }
}
