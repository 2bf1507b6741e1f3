//! Access tokens: short-lived EdDSA JWTs, verified without the database, and the JWKS.
//!
//! The signing key comes from `PORTCULLIS_JWT_KEY` or is generated on first start and kept in
//! the database, so restarts and replicas share it. The price of checking tokens offline: a token
//! keeps what it carried until it expires (at most `LIFETIME`), even if its user is demoted.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use portcullis_domain::{Error, Permissions, Principal, ResourcePath, Role};
use portcullis_persistence::Store;
use rand::TryRngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const LIFETIME: Duration = Duration::minutes(5);

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Option<Uuid>,
    pub org: Uuid,
    pub role: Option<String>,
    pub scopes: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
    pub iss: String,
    /// How the issuer authenticated: `session`, `api_key` or `root_token`. Only a token minted
    /// from a session acts as a person.
    pub via: String,
    /// The service account it acts for (its `sub` is then null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sa: Option<Uuid>,
    /// The resource it was minted for: it acts only at or below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub res: Option<String>,
}

pub struct AccessTokens {
    kid: String,
    issuer: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    public_x: String,
    /// Verified tokens: an Ed25519 check costs more than the rest of a request.
    verified: moka::sync::Cache<String, (Principal, i64)>,
}

impl AccessTokens {
    /// Uses `configured` (base64 PKCS#8 DER) or the key kept in the database, creating it once.
    pub async fn load(
        store: &Store,
        configured: Option<&str>,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        let signing = match configured {
            Some(b64) => decode_key(b64)?,
            None => {
                let mut seed = [0u8; 32];
                rand::rngs::OsRng
                    .try_fill_bytes(&mut seed)
                    .map_err(Error::internal)?;
                let fresh = SigningKey::from_bytes(&seed);
                let der = fresh.to_pkcs8_der().map_err(Error::internal)?;
                let fresh_b64 = STANDARD.encode(der.as_bytes());
                let (_, kept) = store
                    .signing_key_or_insert(&kid_of(&fresh), &fresh_b64, now)
                    .await?;
                decode_key(&kept)?
            }
        };
        Self::new(&signing, issuer)
    }

    fn new(signing: &SigningKey, issuer: &str) -> Result<Self, Error> {
        let der = signing.to_pkcs8_der().map_err(Error::internal)?;
        let public = signing.verifying_key().to_bytes();
        let kid = kid_of(signing);
        let mut validation = Validation::new(Algorithm::EdDSA);
        // Expiry is checked against the injected clock in `verify`.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation.set_issuer(&[issuer]);
        let public_x = URL_SAFE_NO_PAD.encode(public);
        Ok(Self {
            kid,
            issuer: issuer.to_owned(),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding: DecodingKey::from_ed_der(&public),
            validation,
            public_x,
            verified: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(LIFETIME.to_std().expect("a positive lifetime"))
                .build(),
        })
    }

    /// The `kid` that access tokens carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The Ed25519 public key, base64url without padding (a JWK's `x`).
    pub fn public_key(&self) -> &str {
        &self.public_x
    }

    pub fn issue(
        &self,
        principal: &Principal,
        organization_id: Uuid,
        resource: Option<&ResourcePath>,
        role: Option<Role>,
        permissions: Permissions,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let claims = Claims {
            sa: principal.service_account_id(),
            res: resource.map(ResourcePath::to_string),
            sub: principal.user_id(),
            org: organization_id,
            role: role.map(|r| r.as_str().to_owned()),
            scopes: permissions.names(),
            iat: now.timestamp(),
            exp: (now + LIFETIME).timestamp(),
            jti: portcullis_domain::new_id(),
            iss: self.issuer.clone(),
            via: principal.auth_method().as_str().to_owned(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(Error::internal)
    }

    /// The principal a token stands for, or `None` when it is forged, expired or not ours.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<Principal> {
        if let Some((principal, exp)) = self.verified.get(token) {
            return (now.timestamp() < exp).then_some(principal);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        if now.timestamp() >= claims.exp {
            return None;
        }
        let role = claims
            .role
            .as_deref()
            .map(str::parse::<Role>)
            .transpose()
            .ok()?;
        let permissions = Permissions::parse_scopes(&claims.scopes).unwrap_or(Permissions::EMPTY);
        let resource = claims
            .res
            .as_deref()
            .map(ResourcePath::parse)
            .transpose()
            .ok()?;
        let principal = Principal::AccessToken {
            user_id: claims.sub,
            service_account_id: claims.sa,
            organization_id: claims.org,
            role,
            permissions,
            person: claims.via == "session",
            resource,
        };
        // Only tokens whose signature checked out are kept, so forgeries cannot crowd the cache.
        self.verified
            .insert(token.to_owned(), (principal.clone(), claims.exp));
        Some(principal)
    }
}

fn decode_key(b64: &str) -> Result<SigningKey, Error> {
    let der = STANDARD
        .decode(b64.trim())
        .map_err(|_| Error::internal("the JWT signing key is not base64"))?;
    SigningKey::from_pkcs8_der(&der)
        .map_err(|_| Error::internal("the JWT signing key is not Ed25519 PKCS#8 DER"))
}

/// A short stable id for a key: the first 16 hex digits of its public key.
fn kid_of(key: &SigningKey) -> String {
    key.verifying_key().to_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
