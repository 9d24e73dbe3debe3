//! Fetching owner-pasted URLs server-side, safely: http(s) only, no loopback, private, link-local
//! or otherwise internal addresses (checked when a name resolves — so redirects and DNS rebinding
//! are covered — and for IP literals), bounded redirects, a size limit, timeouts.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hostelpulse_core::http::ReqwestTransport;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A target the fetcher refuses.
#[derive(Debug, thiserror::Error)]
#[error("refusing to fetch from {0}: not a public address")]
pub struct Forbidden(pub String);

/// Whether an address is one an owner-pasted URL must never reach.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => internal_v4(v4),
            None => internal_v6(v6),
        },
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        // 100.64.0.0/10 (carrier-grade NAT), 192.0.0.0/24, 198.18.0.0/15 (benchmarking), 240/4.
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
}

/// Resolves names and drops internal addresses; fails when none is left.
#[derive(Debug)]
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| !is_internal(a.ip())).collect();
            if addrs.is_empty() {
                return Err(Box::new(Forbidden(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether a URL's host is an internal IP literal (names are checked at resolution).
pub fn literal_is_internal(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_internal(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_internal(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        None => true,
    }
}

/// The transport for feeds.
pub fn transport(
    allow_private: bool,
    max_redirects: usize,
    max_bytes: usize,
    connect_timeout: Duration,
) -> Result<Arc<ReqwestTransport>, reqwest::Error> {
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        let url = attempt.url().clone();
        if attempt.previous().len() >= max_redirects {
            attempt.error(Forbidden(format!("more than {max_redirects} redirects")))
        } else if !matches!(url.scheme(), "http" | "https") {
            attempt.error(Forbidden(format!("a {} URL", url.scheme())))
        } else if !allow_private && literal_is_internal(&url) {
            attempt.error(Forbidden(url.host_str().unwrap_or("?").to_owned()))
        } else {
            attempt.follow()
        }
    });
    let mut builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("hostelpulse-ical/", env!("CARGO_PKG_VERSION")))
        .redirect(redirects);
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    Ok(Arc::new(ReqwestTransport::from_client(builder.build()?, max_bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
        assert!(literal_is_internal(&"http://localhost:8080/x.ics".parse().unwrap()));
        assert!(literal_is_internal(&"http://[::1]/x.ics".parse().unwrap()));
        assert!(!literal_is_internal(&"https://www.airbnb.com/calendar/ical/1.ics".parse().unwrap()));
    }
}
