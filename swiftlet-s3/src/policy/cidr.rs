//! `aws:SourceIp` values: an address or a CIDR block, IPv4 or IPv6.

use std::net::IpAddr;

/// An address block: the address and how many leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `192.0.2.0/24`, `2001:db8::/32`, or a bare address (every bit must match).
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => p.parse().ok()?,
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    /// Whether `ip` is inside the block (an IPv4-mapped IPv6 peer counts as its IPv4).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }

    /// Whether the block is narrow enough not to count as "the public" (S3 treats an IPv4
    /// block of /8 or narrower, an IPv6 one of /32 or narrower, as not public).
    pub(crate) fn is_narrow(&self) -> bool {
        self.prefix >= if self.addr.is_ipv4() { 8 } else { 32 }
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let whole = usize::from(bits / 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    let rest = bits % 8;
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn matches_blocks() {
        let net = Cidr::parse("192.0.2.0/24").unwrap();
        assert!(net.contains(ip("192.0.2.77")) && !net.contains(ip("192.0.3.1")));
        assert!(net.contains(ip("::ffff:192.0.2.9")), "an IPv4-mapped peer is its IPv4 address");
        assert!(Cidr::parse("10.0.0.0/9").unwrap().contains(ip("10.127.255.255")));
        assert!(!Cidr::parse("10.0.0.0/9").unwrap().contains(ip("10.128.0.0")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.5")));
        assert!(Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        assert!(!Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.2")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")) && !v6.contains(ip("2001:db9::1")) && !v6.contains(ip("1.2.3.4")));
        for bad in ["", "1.2.3.4/33", "1.2.3/24", "::/129", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/+8", "x/8"] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
        assert!(!Cidr::parse("0.0.0.0/0").unwrap().is_narrow() && Cidr::parse("10.0.0.0/8").unwrap().is_narrow());
    }
}
