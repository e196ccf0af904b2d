//! The client's address, for the limits on guessing (sign-in, resume codes): the peer of the
//! connection, or, when that peer is a configured trusted reverse proxy, the address the proxy
//! names in its header (`[proxy]` in docs/configuration.md). From any other peer the header is
//! ignored: a client cannot choose the address it is counted under.

use std::net::IpAddr;

use anyhow::{Context, bail};
use axum::http::HeaderMap;

use super::ProxyConfig;

/// An address or a network (`10.1.0.0/16`, `fd00::/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn parse(text: &str) -> anyhow::Result<Net> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .with_context(|| format!("proxy.trusted: {text} is not an IP address or network"))?;
        let addr = canonical(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .with_context(|| format!("proxy.trusted: {text} has no valid prefix length"))?,
            None => max,
        };
        Ok(Net { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// IPv4 addresses seen through an IPv6 socket (`::ffff:10.0.0.5`) as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Which header names the client, and how it is read.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Header {
    /// A list of addresses, the nearest hop last (`X-Forwarded-For`, also `X-Real-IP`).
    List(axum::http::HeaderName),
    /// RFC 7239: `for=` of each element, the nearest hop last.
    Forwarded,
}

/// The configured trusted proxies and their header.
#[derive(Clone, Debug)]
pub struct TrustedProxies {
    nets: Vec<Net>,
    header: Header,
}

impl TrustedProxies {
    /// From `[proxy]`; refuses addresses and header names that do not parse.
    pub fn from_config(config: &ProxyConfig) -> anyhow::Result<TrustedProxies> {
        let nets = config
            .trusted
            .iter()
            .map(|t| Net::parse(t))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let name = config.client_header.trim().to_ascii_lowercase();
        let header = if name == "forwarded" {
            Header::Forwarded
        } else {
            match axum::http::HeaderName::from_bytes(name.as_bytes()) {
                Ok(h) if !name.is_empty() => Header::List(h),
                _ => bail!(
                    "proxy.client_header: {:?} is not a header name",
                    config.client_header
                ),
            }
        };
        Ok(TrustedProxies { nets, header })
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The client's address: the peer, unless the peer is a trusted proxy and its header
    /// names another address; then, walking the header from the nearest hop back, the first
    /// address that is not itself a trusted proxy. A header that does not parse counts as
    /// absent at that point (the last proxy known stands for the client).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusted(peer) {
            return peer;
        }
        let hops: Vec<Option<IpAddr>> = match &self.header {
            Header::List(name) => headers
                .get_all(name)
                .iter()
                .flat_map(|v| v.to_str().unwrap_or("\u{0}").split(','))
                .map(parse_hop)
                .collect(),
            Header::Forwarded => headers
                .get_all(axum::http::header::FORWARDED)
                .iter()
                .flat_map(|v| v.to_str().unwrap_or("for=\u{0}").split(','))
                .map(|element| {
                    element
                        .split(';')
                        .find_map(|pair| {
                            let (k, v) = pair.split_once('=')?;
                            k.trim()
                                .eq_ignore_ascii_case("for")
                                .then(|| v.trim().trim_matches('"'))
                        })
                        .and_then(parse_hop)
                })
                .collect(),
        };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            match hop {
                Some(ip) => {
                    client = canonical(ip);
                    if !self.trusted(client) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// One address of a forwarding header: `10.0.0.1`, `10.0.0.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = t.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn proxies(trusted: &[&str], header: &str) -> TrustedProxies {
        TrustedProxies::from_config(&ProxyConfig {
            trusted: trusted.iter().map(|s| s.to_string()).collect(),
            client_header: header.into(),
        })
        .unwrap()
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let p = proxies(&["10.0.0.5", "10.9.0.0/16"], "X-Forwarded-For");
        let h = headers("x-forwarded-for", &["198.51.100.7"]);
        assert_eq!(p.client(ip("10.0.0.5"), &h), ip("198.51.100.7"));
        assert_eq!(p.client(ip("10.9.3.4"), &h), ip("198.51.100.7"));
        // Anyone else naming an address is counted under their own.
        assert_eq!(p.client(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        assert_eq!(p.client(ip("10.0.0.6"), &h), ip("10.0.0.6"));
        // No header: the proxy itself.
        assert_eq!(p.client(ip("10.0.0.5"), &HeaderMap::new()), ip("10.0.0.5"));
        // An IPv4 peer seen through an IPv6 socket is the same peer.
        assert_eq!(p.client(ip("::ffff:10.0.0.5"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn a_client_cannot_choose_its_address_by_prepending_one() {
        let p = proxies(&["10.0.0.5", "10.0.0.6"], "x-forwarded-for");
        // The client sent "X-Forwarded-For: 1.1.1.1"; the proxies appended what they saw.
        let h = headers("x-forwarded-for", &["1.1.1.1, 198.51.100.7", "10.0.0.6"]);
        assert_eq!(p.client(ip("10.0.0.5"), &h), ip("198.51.100.7"));
        // Garbage in the chain stops the walk at the last proxy known.
        let h = headers("x-forwarded-for", &["198.51.100.7, kaputt, 10.0.0.6"]);
        assert_eq!(p.client(ip("10.0.0.5"), &h), ip("10.0.0.6"));
        let h = headers("x-forwarded-for", &["[2001:db8::7]:4711"]);
        assert_eq!(p.client(ip("10.0.0.5"), &h), ip("2001:db8::7"));
    }

    #[test]
    fn x_real_ip_and_forwarded_are_read_too() {
        let p = proxies(&["::1"], "X-Real-IP");
        let h = headers("x-real-ip", &["198.51.100.8"]);
        assert_eq!(p.client(ip("::1"), &h), ip("198.51.100.8"));
        let p = proxies(&["127.0.0.1"], "Forwarded");
        let h = headers(
            "forwarded",
            &["for=192.0.2.60;proto=https, for=\"[2001:db8:cafe::17]:4711\""],
        );
        assert_eq!(p.client(ip("127.0.0.1"), &h), ip("2001:db8:cafe::17"));
    }

    #[test]
    fn bad_configuration_is_refused() {
        for bad in ["10.0.0.300", "10.0.0.0/33", "proxy.example"] {
            assert!(
                TrustedProxies::from_config(&ProxyConfig {
                    trusted: vec![bad.into()],
                    client_header: "X-Forwarded-For".into(),
                })
                .is_err(),
                "{bad}"
            );
        }
        assert!(
            TrustedProxies::from_config(&ProxyConfig {
                trusted: vec![],
                client_header: "kein header".into(),
            })
            .is_err()
        );
    }
}
