//! Bearer-token authentication of SCIM requests for the tenant named in the path.
//!
//! The header is parsed strictly; the token is checked with one SHA-256 and, unless this server
//! accepted it recently and nothing changed since, one indexed lookup
//! (`tenancy::scim_tokens::TokenCache`). Nothing else is read or written for a request that
//! fails here.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};
use chrono::Utc;
use tenancy::scim_tokens::Rejection;
use tenancy::{TenantId, TokenId};

use crate::error::ScimError;
use crate::events::Activity;
use crate::service::ScimState;

/// An authenticated SCIM request: the tenant in the path, proven by one of its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScimAuth {
    /// The tenant.
    pub tenant: TenantId,
    /// The token that authenticated the request.
    pub token: TokenId,
}

impl FromRequest for ScimAuth {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ScimError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(auth) = req.extensions().get::<ScimAuth>() {
            let auth = *auth;
            return Box::pin(async move { Ok(auth) });
        }
        let req = req.clone();
        Box::pin(async move {
            let started = Instant::now();
            let presented = bearer_token(&req)?;
            // A tenant id that is not even a UUID cannot have tokens: same answer as a bad token.
            let tenant: TenantId = req
                .match_info()
                .get("tenant")
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| {
                    ScimError::unauthorized("The bearer token is not valid for this tenant.")
                })?;
            let state = req
                .app_data::<web::Data<ScimState>>()
                .cloned()
                .ok_or_else(ScimError::internal)?;
            let now = Utc::now();
            let verified = state
                .tokens
                .verify(&state.db, tenant, &presented, now)
                .await?;
            let verified = verified.map_err(|rejection| match rejection {
                Rejection::Unknown => ScimError::unauthorized("The bearer token is not valid for this tenant."),
                Rejection::Revoked => ScimError::unauthorized(
                    "The bearer token has been revoked or replaced; use the current token from the console.",
                ),
                Rejection::Expired => ScimError::unauthorized(
                    "The bearer token expired (tokens last one year); generate a new one in the console.",
                ),
            })?;
            let auth = ScimAuth {
                tenant,
                token: verified.token,
            };
            // From here on the request is the tenant's: it is recorded in the activity log.
            req.extensions_mut()
                .insert(Activity::begin(&req, auth, started, now));
            if !verified.scim_enabled {
                return Err(ScimError::forbidden(
                    "SCIM provisioning is not enabled for this tenant; it is available on request from Insights support.",
                ));
            }
            if !verified.openid {
                return Err(ScimError::forbidden(
                    "SCIM provisioning needs the tenant's sign-in type to be OpenID; an admin can change it in the console.",
                ));
            }
            req.extensions_mut().insert(auth);
            Ok(auth)
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 6750).
fn bearer_token(req: &HttpRequest) -> Result<String, ScimError> {
    let missing = || ScimError::unauthorized("An Authorization: Bearer token is required.");
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.contains(char::is_whitespace)
    {
        return Err(missing());
    }
    Ok(token.to_owned())
}
