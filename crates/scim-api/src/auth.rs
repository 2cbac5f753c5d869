//! Bearer-token authentication of SCIM requests for the tenant named in the path.
//!
//! The header is parsed strictly; the token is checked with one SHA-256 and, unless this server
//! accepted it recently and nothing changed since, one indexed lookup
//! (`tenancy::scim_tokens::TokenCache`). Nothing else is read or written for a request that
//! fails here. Failures are throttled per client address and per tenant ([`AuthLimits`]):
//! past the quota the answer is 429 with `Retry-After`, before any database work. Every
//! refusal is counted for the tenant the URL names ([`crate::events::RejectionLog`]).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};
use chrono::Utc;
use tenancy::limits::{FailureLimiter, FailureQuota, retry_after_seconds};
use tenancy::safety::pause::PAUSED_RETRY_AFTER_SECONDS;
use tenancy::scim_tokens::Rejection;
use tenancy::stored::{Adoption, RejectionReason};
use tenancy::{RequestClient, TenantId, TokenId};

use crate::error::ScimError;
use crate::events::Activity;
use crate::service::ScimState;

/// An authenticated SCIM request: the tenant in the path, proven by one of its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScimAuth {
    /// The tenant (its Tenant URL is the one in the answers).
    pub tenant: TenantId,
    /// The directory the request reads and writes: the tenant's own, or its shadow while the
    /// tenant is in shadow mode. The activity log of the request is the directory's too.
    pub directory: TenantId,
    /// The token that authenticated the request.
    pub token: TokenId,
    /// The tenant's adoption setting (see `tenancy::safety::adoption`).
    pub adoption: Adoption,
}

/// Failed authentications one client address may make before it must wait: 30 at once, then
/// one more every 2 seconds. An identity provider with the right token never fails.
pub const FAILED_AUTH_PER_ADDRESS: FailureQuota = FailureQuota::new(30, Duration::from_secs(2));
/// Failed authentications against one tenant, from all addresses, before tokens the server
/// does not already remember are refused for a while (a known good token keeps working).
pub const FAILED_AUTH_PER_TENANT: FailureQuota = FailureQuota::new(120, Duration::from_millis(500));

/// The throttling of failed SCIM authentication, per server process.
#[derive(Debug)]
pub struct AuthLimits {
    /// Failures per client address.
    pub by_address: FailureLimiter<IpAddr>,
    /// Failures per tenant.
    pub by_tenant: FailureLimiter<TenantId>,
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self {
            by_address: FailureLimiter::new(FAILED_AUTH_PER_ADDRESS),
            by_tenant: FailureLimiter::new(FAILED_AUTH_PER_TENANT),
        }
    }
}

impl AuthLimits {
    /// Counts a failed authentication; the 429 to answer instead of `refusal` when it was one
    /// too many.
    fn failed(&self, address: IpAddr, tenant: Option<TenantId>, refusal: ScimError) -> ScimError {
        let by_address = self.by_address.failed(address);
        let by_tenant = tenant.and_then(|tenant| self.by_tenant.failed(tenant));
        match by_address.or(by_tenant) {
            Some(wait) => throttled(wait),
            None => refusal,
        }
    }
}

fn throttled(wait: Duration) -> ScimError {
    ScimError::too_many_requests(
        "Too many requests with a missing or wrong bearer token; check the token configured in the identity provider and retry later.",
        retry_after_seconds(wait),
    )
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
            let state = req
                .app_data::<web::Data<ScimState>>()
                .cloned()
                .ok_or_else(ScimError::internal)?;
            let address = client_address(&req);
            // A tenant id that is not even a UUID cannot have tokens: same answer as a bad token.
            let tenant: Option<TenantId> =
                req.match_info().get("tenant").and_then(|t| t.parse().ok());
            let now = Utc::now();
            // Every refusal is counted for the tenant the URL names (kept only if it exists),
            // so that a broken connection shows in its console.
            // (The user agent is read only for a refusal: an accepted request pays nothing.)
            let refused = |tenant: Option<TenantId>, reason: RejectionReason, error: ScimError| {
                if let Some(tenant) = tenant {
                    let user_agent = req
                        .headers()
                        .get(header::USER_AGENT)
                        .and_then(|v| v.to_str().ok());
                    let reason = if error.status == StatusCode::TOO_MANY_REQUESTS {
                        RejectionReason::Throttled
                    } else {
                        reason
                    };
                    state
                        .rejections
                        .record(tenant, reason, address, user_agent, now);
                }
                error
            };
            if let Some(wait) = state.auth_limits.by_address.wait(&address) {
                return Err(refused(tenant, RejectionReason::Throttled, throttled(wait)));
            }
            let presented = match bearer_token(&req) {
                Ok(presented) => presented,
                Err(refusal) => {
                    let answer = state.auth_limits.failed(address, tenant, refusal);
                    return Err(refused(tenant, RejectionReason::MissingToken, answer));
                }
            };
            let unknown =
                || ScimError::unauthorized("The bearer token is not valid for this tenant.");
            let Some(tenant) = tenant else {
                return Err(state.auth_limits.failed(address, None, unknown()));
            };
            let remembered = state.tokens.remembered(tenant, &presented, now);
            if remembered.is_none()
                && let Some(wait) = state.auth_limits.by_tenant.wait(&tenant)
            {
                return Err(refused(
                    Some(tenant),
                    RejectionReason::Throttled,
                    throttled(wait),
                ));
            }
            let verified = match remembered {
                Some(verified) => Ok(verified),
                None => {
                    state
                        .tokens
                        .verify(&state.db, tenant, &presented, now)
                        .await?
                }
            };
            let verified = verified.map_err(|rejection| {
                let (reason, refusal) = match rejection {
                    Rejection::Unknown => (RejectionReason::UnknownToken, unknown()),
                    Rejection::Revoked => (
                        RejectionReason::RevokedToken,
                        ScimError::unauthorized(
                            "The bearer token has been revoked or replaced; use the current token from the console.",
                        ),
                    ),
                    Rejection::Expired => (
                        RejectionReason::ExpiredToken,
                        ScimError::unauthorized(
                            "The bearer token expired (tokens last one year); generate a new one in the console.",
                        ),
                    ),
                };
                let answer = state.auth_limits.failed(address, Some(tenant), refusal);
                refused(Some(tenant), reason, answer)
            })?;
            let auth = ScimAuth {
                tenant,
                directory: verified.shadow.unwrap_or(tenant),
                token: verified.token,
                adoption: verified.adoption,
            };
            // From here on the request is the tenant's: it is recorded in the activity log.
            req.extensions_mut()
                .insert(Activity::begin(&req, auth, started, now));
            if !verified.scim_enabled {
                return Err(refused(
                    Some(tenant),
                    RejectionReason::ScimDisabled,
                    ScimError::forbidden(
                        "SCIM provisioning is not enabled for this tenant; it is available on request from Insights support.",
                    ),
                ));
            }
            if !verified.openid {
                return Err(refused(
                    Some(tenant),
                    RejectionReason::SignInNotOpenId,
                    ScimError::forbidden(
                        "SCIM provisioning needs the tenant's sign-in type to be OpenID; an admin can change it in the console.",
                    ),
                ));
            }
            // Paused by the tenant's admin: an answer the identity provider retries (Okta and
            // Entra retry a 503 with Retry-After), recorded in the activity log, not counted
            // as a refusal of the connection.
            if verified.paused {
                return Err(ScimError::paused(PAUSED_RETRY_AFTER_SECONDS));
            }
            req.extensions_mut().insert(auth);
            Ok(auth)
        })
    }
}

/// The client address of a request: what the server resolved through its trusted proxies,
/// else the peer's address.
fn client_address(req: &HttpRequest) -> IpAddr {
    req.extensions()
        .get::<RequestClient>()
        .map(|client| client.addr)
        .or_else(|| req.peer_addr().map(|peer| peer.ip()))
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
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
