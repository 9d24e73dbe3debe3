//! Fetching owner-pasted URLs server-side, safely: http(s) only, no loopback, private, link-local
//! or otherwise internal addresses (checked when a name resolves — so redirects and DNS rebinding
//! are covered — and for IP literals), bounded redirects, a size limit, timeouts.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hostelpulse_core::http::ReqwestTransport;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A target the fetcher refuses: a configuration error, never retried.
pub use hostelpulse_core::http::ForbiddenTarget as Forbidden;

/// IPv4 ranges an owner-pasted URL must never reach: the IANA IPv4 Special-Purpose Address
/// Registry's entries that are not globally reachable, plus multicast and the reserved 240/4.
const V4_SPECIAL: &[&str] = &[
    "0.0.0.0/8",       // "this network"
    "10.0.0.0/8",      // private
    "100.64.0.0/10",   // shared address space (carrier-grade NAT)
    "127.0.0.0/8",     // loopback
    "169.254.0.0/16",  // link-local (cloud metadata lives here)
    "172.16.0.0/12",   // private
    "192.0.0.0/24",    // IETF protocol assignments
    "192.0.2.0/24",    // documentation (TEST-NET-1)
    "192.88.99.0/24",  // deprecated 6to4 relay anycast
    "192.168.0.0/16",  // private
    "198.18.0.0/15",   // benchmarking
    "198.51.100.0/24", // documentation (TEST-NET-2)
    "203.0.113.0/24",  // documentation (TEST-NET-3)
    "224.0.0.0/4",     // multicast
    "240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
];

/// IPv6 ranges never reached, from the IANA IPv6 Special-Purpose Address Registry. The ranges
/// that embed an IPv4 address (mapped, translated, compatible, NAT64, 6to4) are judged by that
/// address instead, in [`embedded_v4`].
const V6_SPECIAL: &[&str] = &[
    "::/128",         // unspecified
    "::1/128",        // loopback
    "64:ff9b:1::/48", // local-use IPv4/IPv6 translation
    "100::/64",       // discard-only
    "2001::/23",      // IETF protocol assignments (Teredo, benchmarking, ORCHID, …)
    "2001:db8::/32",  // documentation
    "3fff::/20",      // documentation
    "5f00::/16",      // segment routing (SRv6) SIDs
    "fc00::/7",       // unique local
    "fe80::/10",      // link-local
    "fec0::/10",      // site-local (deprecated, still routed on some LANs)
    "ff00::/8",       // multicast
];

fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
    list.iter().filter_map(|n| n.parse().ok()).collect()
}

fn special() -> &'static (Vec<ipnet::IpNet>, Vec<ipnet::IpNet>) {
    static TABLE: std::sync::OnceLock<(Vec<ipnet::IpNet>, Vec<ipnet::IpNet>)> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (nets(V4_SPECIAL), nets(V6_SPECIAL)))
}

/// The IPv4 address an IPv6 address carries, for the forms that route to it: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64
/// (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => Some(tail),
        // ::/96 compatible, except :: and ::1 themselves (in the table).
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)),
        _ => None,
    }
}

/// Whether an address is one an owner-pasted URL must never reach.
pub fn is_internal(ip: IpAddr) -> bool {
    let (v4, v6) = special();
    match ip {
        IpAddr::V4(a) => v4.iter().any(|n| n.contains(&IpAddr::V4(a))),
        IpAddr::V6(a) => match embedded_v4(a) {
            Some(inner) => is_internal(IpAddr::V4(inner)),
            None => v6.iter().any(|n| n.contains(&IpAddr::V6(a))),
        },
    }
}

/// Which addresses feeds may be fetched from: public ones, plus the listed networks (or every
/// address, for tests and the sandbox).
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Every address (tests, the sandbox).
    pub any: bool,
    /// Internal networks allowed besides the public internet.
    pub networks: Vec<ipnet::IpNet>,
}

impl Reach {
    /// From a feed configuration.
    pub fn of(cfg: &crate::IcalConfig) -> Self {
        Self { any: cfg.allow_private_addresses, networks: cfg.allow_networks.clone() }
    }

    /// Whether `ip` may be reached.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.any || !is_internal(ip) || self.networks.iter().any(|n| n.contains(&ip))
    }

    /// Whether a URL's host may be reached, judged before any request: IP literals against
    /// [`Reach::permits`], `localhost` names only when loopback is allowed; other names are
    /// judged when they resolve.
    pub fn literal_permitted(&self, url: &url::Url) -> bool {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.permits(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.permits(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) if literal_is_internal(url) => self.permits(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Some(url::Host::Domain(_)) => true,
            None => false,
        }
    }
}

/// Resolves names and keeps only the addresses the reach permits; fails when none is left.
#[derive(Debug)]
struct Permitted(Arc<Reach>);

impl Resolve for Permitted {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| reach.permits(a.ip())).collect();
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
    reach: Reach,
    max_redirects: usize,
    max_bytes: usize,
    connect_timeout: Duration,
) -> Result<Arc<ReqwestTransport>, reqwest::Error> {
    let reach = Arc::new(reach);
    let policy_reach = reach.clone();
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        let url = attempt.url().clone();
        if attempt.previous().len() >= max_redirects {
            attempt.error(Forbidden(format!("more than {max_redirects} redirects")))
        } else if !matches!(url.scheme(), "http" | "https") {
            attempt.error(Forbidden(format!("a {} URL", url.scheme())))
        } else if !policy_reach.literal_permitted(&url) {
            // Also with a LAN allowance: a redirect out of the allowed networks is refused.
            attempt.error(Forbidden(url.host_str().unwrap_or("?").to_owned()))
        } else {
            attempt.follow()
        }
    });
    // No proxy from the environment (HTTP_PROXY, ALL_PROXY…): through a proxy the address check
    // would never see the target, which the proxy resolves.
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("hostelpulse-ical/", env!("CARGO_PKG_VERSION")))
        .redirect(redirects);
    if !reach.any {
        builder = builder.dns_resolver(Arc::new(Permitted(reach)));
    }
    Ok(Arc::new(ReqwestTransport::from_client(builder.build()?, max_bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_purpose_range_is_refused() {
        // One address inside each row of the tables, and the embedded forms.
        for ip in [
            "0.1.2.3",
            "10.0.0.1",
            "100.127.255.254",
            "127.8.8.8",
            "169.254.169.254",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.0.1",
            "198.19.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.251",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "feff::1",
            "ff02::1",
            // IPv4-mapped, -translated and -compatible, NAT64 and 6to4 carrying internal addresses.
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0:127.0.0.1",
            "::127.0.0.1",
            "::10.1.2.3",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:101::",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip} must be refused");
        }
        // Public addresses, also when embedded.
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn a_lan_allowance_opens_exactly_its_networks() {
        let lan = Reach { any: false, networks: vec!["192.168.1.0/24".parse().unwrap()] };
        assert!(lan.permits("192.168.1.20".parse().unwrap()));
        assert!(lan.permits("93.184.216.34".parse().unwrap()), "public stays reachable");
        for ip in ["192.168.2.1", "169.254.169.254", "127.0.0.1", "10.0.0.1", "::ffff:169.254.169.254"] {
            assert!(!lan.permits(ip.parse().unwrap()), "{ip} is outside the allowance");
        }
        assert!(lan.literal_permitted(&"http://192.168.1.20/room-1.ics".parse().unwrap()));
        assert!(!lan.literal_permitted(&"http://169.254.169.254/latest/meta-data/".parse().unwrap()));
        assert!(!lan.literal_permitted(&"http://localhost/x.ics".parse().unwrap()));
        let loopback = Reach { any: false, networks: vec!["127.0.0.0/8".parse().unwrap()] };
        assert!(loopback.literal_permitted(&"http://localhost/x.ics".parse().unwrap()));
    }

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
