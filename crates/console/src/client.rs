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
