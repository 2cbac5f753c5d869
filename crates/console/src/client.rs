//! Who is asking: the client address a request is counted under (see
//! `tenancy::TrustedProxies`), and the per-address throttling of console sign-in.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use actix_web::{HttpMessage as _, HttpRequest};
use tenancy::RequestClient;
use tenancy::limits::{FailureLimiter, FailureQuota};

/// The client of a request: what the server resolved from its trusted proxies, else the peer.
pub fn client_of(req: &HttpRequest) -> RequestClient {
    req.extensions()
        .get::<RequestClient>()
        .copied()
        .unwrap_or_else(|| RequestClient {
            addr: req
                .peer_addr()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |peer| peer.ip()),
            forwarded_https: None,
        })
}

/// The browser's `User-Agent`, as the audit log keeps it.
pub fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Who acts in `req`, as the audit log names them: `email` (and the admin, once there is one)
/// from the request's client address and browser.
pub fn request_actor(
    req: &HttpRequest,
    admin: Option<tenancy::AdminId>,
    email: &str,
) -> tenancy::audit::Actor {
    tenancy::audit::Actor {
        admin,
        email: email.to_owned(),
        address: Some(client_of(req).addr.to_string()),
        user_agent: user_agent(req),
    }
}

/// Failed console sign-ins one client address may make, over all accounts, before it must wait:
/// 20 at once, then one more every 30 seconds. (Each account also backs off per address after
/// five failures; see `tenancy::admins::record_failed_login`.)
pub const SIGN_IN_FAILURES_PER_ADDRESS: FailureQuota =
    FailureQuota::new(20, Duration::from_secs(30));

/// The throttling of console sign-in, per server process.
#[derive(Debug)]
pub struct SignInLimits {
    /// Failures per client address, whatever the email.
    pub by_address: FailureLimiter<IpAddr>,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            by_address: FailureLimiter::new(SIGN_IN_FAILURES_PER_ADDRESS),
        }
    }
}
