use super::Tag;
use crate::error::{Answer, ApiError};
use crate::state::AppState;
use crate::statuses;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};
use std::time::Duration;

pub struct HealthApi;

/// Far below the pool's acquire timeout: a load balancer asking is told at once.
const READY_PING_TIMEOUT: Duration = Duration::from_secs(1);

statuses! {
    ReadyStatuses: 503;
}

#[derive(Debug, Object)]
pub struct Status {
    /// `ok`
    pub status: String,
}

/// A JSON Web Key Set (RFC 7517).
#[derive(Debug, Object)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// An Ed25519 public key (RFC 8037).
#[derive(Debug, Object)]
pub struct Jwk {
    /// `OKP`
    pub kty: String,
    /// `Ed25519`
    pub crv: String,
    /// `EdDSA`
    pub alg: String,
    /// `sig`
    #[oai(rename = "use")]
    pub use_: String,
    /// Matches the `kid` header of access tokens.
    pub kid: String,
    /// The public key, base64url without padding.
    pub x: String,
}

#[OpenApi(tag = "Tag::Health")]
impl HealthApi {
    /// Liveness: the process answers.
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> Json<Status> {
        Json(Status {
            status: "ok".into(),
        })
    }

    /// Readiness: the database answers (503 when it does not).
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self, state: Data<&AppState>) -> Answer<Json<Status>, ReadyStatuses> {
        let answered = tokio::time::timeout(READY_PING_TIMEOUT, state.store.ping()).await;
        if !matches!(answered, Ok(Ok(()))) {
            return Err(ApiError::unavailable("the database does not answer").into());
        }
        Ok(Json(Status {
            status: "ok".into(),
        }))
    }

    /// The public keys that verify access tokens (RFC 7517).
    #[oai(path = "/.well-known/jwks.json", method = "get", operation_id = "jwks")]
    async fn jwks(&self, state: Data<&AppState>) -> Json<Jwks> {
        let key = Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            alg: "EdDSA".into(),
            use_: "sig".into(),
            kid: state.tokens.kid().to_owned(),
            x: state.tokens.public_key().to_owned(),
        };
        Json(Jwks { keys: vec![key] })
    }
}
