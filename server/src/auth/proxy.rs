//! Auth-proxy mode: an authenticating proxy in front of meshdeck (e.g.
//! oauth2-proxy as a sidecar) names the user and groups in request headers.
//! meshdeck trusts those headers only from the proxy's addresses, decides
//! roles with SubjectAccessReviews for that user, and writes by
//! impersonating them with its own account (which then needs the
//! `impersonate` verb and nothing more for writes).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use http::HeaderName;
use http::request::Parts;

use crate::cluster::reviews::Identity;
use crate::error::{Error, Result};

/// The group a real API server adds to every authenticated user.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// Longest user or group name accepted from the proxy.
const MAX_NAME_BYTES: usize = 512;
/// Most groups accepted from the proxy.
const MAX_GROUPS: usize = 256;

/// An address range (`10.0.0.0/8`, `::1/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the range (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let bad = || format!("{text:?} is not an address range like 10.0.0.0/8 or ::1/128");
        let (addr, prefix) = text.trim().split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(bad());
        }
        Ok(Cidr { addr, prefix })
    }
}

/// Where the proxy puts the identity, and where requests may come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyOptions {
    /// Header naming the user (e.g. `X-Forwarded-User`).
    pub user_header: HeaderName,
    /// Header with the groups (comma-separated, or repeated).
    pub groups_header: HeaderName,
    /// Addresses the proxy connects from; requests from elsewhere are refused.
    pub trusted: Vec<Cidr>,
}

impl ProxyOptions {
    /// The identity the proxy asserts for this request; 401 when the request
    /// did not come from a trusted address or names no user.
    pub fn identity(&self, parts: &Parts) -> Result<Identity> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        if !peer.is_some_and(|ip| self.trusted.iter().any(|c| c.contains(ip))) {
            return Err(Error::Unauthenticated(
                "meshdeck runs behind an authenticating proxy: send requests through it".into(),
            ));
        }
        let mut users = parts.headers.get_all(&self.user_header).iter();
        let user = match (users.next(), users.next()) {
            (Some(v), None) => v.to_str().ok().map(str::trim).unwrap_or(""),
            (Some(_), Some(_)) => {
                return Err(Error::BadRequest(format!(
                    "more than one {} header",
                    self.user_header
                )));
            }
            (None, _) => "",
        };
        if user.is_empty() || user.len() > MAX_NAME_BYTES {
            return Err(Error::Unauthenticated(format!(
                "the authenticating proxy sent no user in {}; sign in through it",
                self.user_header
            )));
        }
        let mut groups: Vec<String> = Vec::new();
        for value in parts.headers.get_all(&self.groups_header) {
            let text = value
                .to_str()
                .map_err(|_| Error::BadRequest(format!("{} is not text", self.groups_header)))?;
            for g in text.split(',').map(str::trim).filter(|g| !g.is_empty()) {
                if g.len() > MAX_NAME_BYTES || groups.len() >= MAX_GROUPS {
                    return Err(Error::BadRequest(format!(
                        "{} holds more or longer groups than meshdeck accepts",
                        self.groups_header
                    )));
                }
                if !groups.iter().any(|x| x == g) {
                    groups.push(g.to_owned());
                }
            }
        }
        if !groups.iter().any(|g| g == AUTHENTICATED_GROUP) {
            groups.push(AUTHENTICATED_GROUP.to_owned());
        }
        Ok(Identity {
            user: user.to_owned(),
            uid: None,
            groups,
            extra: BTreeMap::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::builder().uri("/api/me");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    fn options() -> ProxyOptions {
        ProxyOptions {
            user_header: HeaderName::from_static("x-forwarded-user"),
            groups_header: HeaderName::from_static("x-forwarded-groups"),
            trusted: vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()],
        }
    }

    #[test]
    fn ranges_contain_what_they_should() {
        let net: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("192.0.2.1".parse().unwrap()));
        assert!(!all.contains("2001:db8::1".parse().unwrap()));
        for bad in ["10.0.0.0", "10.0.0.0/33", "::/129", "x/8"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_proxy_names_user_and_groups() {
        let p = parts(
            "127.0.0.1:5000",
            &[
                ("x-forwarded-user", "alice"),
                ("x-forwarded-groups", "dev, ops"),
                ("x-forwarded-groups", "dev,sre"),
            ],
        );
        let id = options().identity(&p).unwrap();
        assert_eq!(id.user, "alice");
        assert_eq!(id.groups, ["dev", "ops", "sre", AUTHENTICATED_GROUP]);
    }

    #[test]
    fn headers_from_elsewhere_or_missing_are_refused() {
        let outside = parts("192.0.2.7:5000", &[("x-forwarded-user", "admin")]);
        assert_eq!(
            options()
                .identity(&outside)
                .unwrap_err()
                .code()
                .http_status(),
            401
        );
        let nobody = parts("127.0.0.1:5000", &[]);
        assert_eq!(
            options()
                .identity(&nobody)
                .unwrap_err()
                .code()
                .http_status(),
            401
        );
        let twice = parts(
            "127.0.0.1:5000",
            &[("x-forwarded-user", "a"), ("x-forwarded-user", "b")],
        );
        assert_eq!(
            options().identity(&twice).unwrap_err().code().http_status(),
            400
        );
        let (mut no_peer, ()) = http::Request::builder()
            .header("x-forwarded-user", "admin")
            .body(())
            .unwrap()
            .into_parts();
        no_peer.extensions.clear();
        assert_eq!(
            options()
                .identity(&no_peer)
                .unwrap_err()
                .code()
                .http_status(),
            401
        );
    }
}
