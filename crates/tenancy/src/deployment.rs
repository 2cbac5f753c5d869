//! Deployment facts that the SCIM API, the console and the operator commands all need, passed
//! down from the server's settings rather than read from globals.

use std::net::IpAddr;
use std::str::FromStr;

use chrono::Duration;

use crate::ids::TenantId;

/// How this installation is reached and run.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Base URL that browsers and identity providers use, without a trailing slash
    /// (for example `https://insights.example.com`).
    pub public_url: String,
    /// How long a regenerated SCIM token's predecessor keeps working unless the new one is used.
    pub token_overlap: Duration,
    /// The proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: TrustedProxies,
    /// How long a request body (a SCIM document, a console form) may take to arrive.
    pub body_timeout: std::time::Duration,
    /// Days provisioning events are kept for a tenant that has not chosen.
    pub event_retention_days: i16,
}

/// The default of [`Deployment::body_timeout`].
pub const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Deployment {
    /// Builds the value, dropping any trailing slash from `public_url`.
    pub fn new(public_url: &str, token_overlap: Duration) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            token_overlap,
            trusted_proxies: TrustedProxies::default(),
            body_timeout: DEFAULT_BODY_TIMEOUT,
            event_retention_days: crate::maintenance::retention::DEFAULT_RETENTION_DAYS,
        }
    }

    /// The same deployment with another default event retention.
    pub fn with_event_retention_days(mut self, days: i16) -> Self {
        self.event_retention_days = days;
        self
    }

    /// The same deployment with another body timeout.
    pub fn with_body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The same deployment behind these proxies.
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Whether the public URL is https, so that every cookie must be `Secure`.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The SCIM base URL of a tenant: what the admin pastes into Okta as the Tenant URL.
    pub fn tenant_url(&self, tenant: TenantId) -> String {
        format!("{}/scim/v2/{tenant}", self.public_url)
    }
}

/// Networks (`10.0.0.0/8`, `::1`, `192.168.1.7`) whose forwarding headers are believed: the
/// reverse proxies in front of the server (`INSIGHTS_TRUSTED_PROXIES`). A request from anywhere
/// else is taken at its word only for its own address, so a client cannot choose the address
/// the rate limits count it under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut networks = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits)),
                None => (item, None),
            };
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("{item:?} is not an IP address or network"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{item:?} has an invalid prefix length"))?,
                None => max,
            };
            networks.push((addr, bits));
        }
        Ok(Self(networks))
    }
}

impl TrustedProxies {
    /// Whether `addr` is one of the trusted proxies.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.0
            .iter()
            .any(|(network, bits)| in_network(addr, *network, *bits))
    }

    /// The client of a request that arrived from `peer` with these forwarding headers: the
    /// nearest address in `X-Forwarded-For` that is not a trusted proxy, and the scheme the
    /// nearest trusted proxy reports — only when `peer` itself is trusted.
    pub fn client(
        &self,
        peer: IpAddr,
        forwarded_for: Option<&str>,
        forwarded_proto: Option<&str>,
    ) -> RequestClient {
        if !self.contains(peer) {
            return RequestClient {
                addr: peer,
                forwarded_https: None,
            };
        }
        let mut addr = peer;
        let hops = forwarded_for.unwrap_or_default().rsplit(',').map(str::trim);
        for hop in hops {
            // A proxy may add a port (`1.2.3.4:5678`, `[::1]:5678`).
            let Some(hop) = parse_hop(hop) else { break };
            addr = hop;
            if !self.contains(hop) {
                break;
            }
        }
        let forwarded_https = forwarded_proto
            .and_then(|p| p.rsplit(',').next())
            .map(|p| p.trim().eq_ignore_ascii_case("https"));
        RequestClient {
            addr,
            forwarded_https,
        }
    }
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(addr) = hop.parse() {
        return Some(addr);
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    None
}

fn in_network(addr: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (addr, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        // An IPv4 client seen through an IPv6 socket.
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|a| in_network(IpAddr::V4(a), network, bits)),
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    }
}

/// Who sent a request, as far as the server can tell (see [`TrustedProxies::client`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestClient {
    /// The client's address: what rate limits and the activity log count it under.
    pub addr: IpAddr,
    /// Whether a trusted proxy says the request came over https (`None`: it said nothing, or
    /// the request did not come through a trusted proxy).
    pub forwarded_https: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn networks_parse_and_match() {
        let proxies: TrustedProxies = "127.0.0.1, 10.0.0.0/8, ::1".parse().unwrap_or_default();
        assert!(proxies.contains(ip("127.0.0.1")));
        assert!(proxies.contains(ip("10.200.3.4")));
        assert!(!proxies.contains(ip("11.0.0.1")));
        assert!(proxies.contains(ip("::1")));
        assert!(proxies.contains(ip("::ffff:10.1.1.1")));
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("not-an-ip".parse::<TrustedProxies>().is_err());
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::default()));
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let proxies: TrustedProxies = "127.0.0.1".parse().unwrap_or_default();
        let direct = proxies.client(ip("203.0.113.9"), Some("1.1.1.1"), Some("https"));
        assert_eq!(
            direct.addr,
            ip("203.0.113.9"),
            "a client cannot pick its address"
        );
        assert_eq!(direct.forwarded_https, None);
        let proxied = proxies.client(
            ip("127.0.0.1"),
            Some("6.6.6.6, 198.51.100.7, 127.0.0.1"),
            Some("http, https"),
        );
        assert_eq!(
            proxied.addr,
            ip("198.51.100.7"),
            "the nearest untrusted hop, not what the client wrote first"
        );
        assert_eq!(proxied.forwarded_https, Some(true));
        let with_port = proxies.client(ip("127.0.0.1"), Some("198.51.100.7:4444"), None);
        assert_eq!(with_port.addr, ip("198.51.100.7"));
        let garbage = proxies.client(ip("127.0.0.1"), Some("nonsense"), None);
        assert_eq!(garbage.addr, ip("127.0.0.1"));
    }
}
