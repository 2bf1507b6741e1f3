//! The credentials as poem-openapi sees them: extractors that resolve the caller once, in the
//! contract's order (`credentials`), and the security schemes they document.

use crate::credentials::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use portcullis_domain::rules;
use portcullis_domain::session::COOKIE_NAME;
use portcullis_domain::{Session, User};
use std::sync::Arc;

fn state(req: &Request) -> &AppState {
    req.data::<AppState>()
        .expect("the Portcullis router installs its state")
}

fn register_schemes(registry: &mut Registry, schemes: &[&'static str]) {
    for &name in schemes {
        let scheme = match name {
            "ApiKey" => MetaSecurityScheme {
                ty: "apiKey",
                description: Some("An API key in the `X-API-Key` header."),
                name: Some("X-API-Key"),
                key_in: Some("header"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
            "Bearer" => MetaSecurityScheme {
                ty: "http",
                description: Some(
                    "`Authorization: Bearer <api key | access token | root token>`; `Authorization: Token <api key>` is accepted too.",
                ),
                name: None,
                key_in: None,
                scheme: Some("bearer"),
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
            _ => MetaSecurityScheme {
                ty: "apiKey",
                description: Some("The session cookie set by login."),
                name: Some(COOKIE_NAME),
                key_in: Some("cookie"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        };
        registry.create_security_scheme(name, scheme);
    }
}

const ANY: &[&str] = &["ApiKey", "Bearer", "Session"];

impl<'a> ApiExtractor<'a> for Caller {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_schemes(registry, ANY);
    }

    fn security_schemes() -> Vec<&'static str> {
        ANY.to_vec()
    }

    async fn from_request(
        req: &'a Request,
        _: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        Ok(state(req).authenticate(req).await.map_err(ApiError::from)?)
    }
}

/// A caller that must be a browser session (password and session management).
#[derive(Debug, Clone)]
pub struct SessionCaller {
    pub caller: Caller,
    pub user: Arc<User>,
    pub session: Arc<Session>,
}

impl<'a> ApiExtractor<'a> for SessionCaller {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_schemes(registry, &["Session"]);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["Session"]
    }

    async fn from_request(
        req: &'a Request,
        _: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let state = state(req);
        let caller = state.authenticate(req).await.map_err(ApiError::from)?;
        state
            .decide(rules::require_session(&caller.principal))
            .map_err(ApiError::from)?;
        match (caller.user.clone(), caller.session.clone()) {
            (Some(user), Some(session)) => Ok(Self {
                caller,
                user,
                session,
            }),
            _ => unreachable!("a session principal carries its user and session"),
        }
    }
}
