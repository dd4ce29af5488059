//! IP protocol numbers: the one type, its one parser and its one printer.

use std::fmt;
use std::str::FromStr;

/// An IP protocol number: the IPv4 `Protocol` field, or the IPv6 next header after the
/// extension headers.
///
/// Every value is kept as it is: a protocol without a name (GRE is `47`) is data that the
/// pipeline routes, filters and counts like any other, not an error (smoltcp's
/// `IpProtocol::Unknown`). The four the data plane gives meaning to are the constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// Internet Control Message Protocol (IPv4).
    pub const ICMP: IpProtocol = IpProtocol(1);
    /// Transmission Control Protocol.
    pub const TCP: IpProtocol = IpProtocol(6);
    /// User Datagram Protocol.
    pub const UDP: IpProtocol = IpProtocol(17);
    /// ICMP for IPv6.
    pub const ICMPV6: IpProtocol = IpProtocol(58);

    /// The protocols with a name.
    const NAMED: [IpProtocol; 4] = [
        IpProtocol::TCP,
        IpProtocol::UDP,
        IpProtocol::ICMP,
        IpProtocol::ICMPV6,
    ];

    /// The name users and AWS write (`tcp`, `udp`, `icmp`, `icmpv6`), for the protocols that
    /// have one.
    pub const fn name(self) -> Option<&'static str> {
        match self {
            IpProtocol::TCP => Some("tcp"),
            IpProtocol::UDP => Some("udp"),
            IpProtocol::ICMP => Some("icmp"),
            IpProtocol::ICMPV6 => Some("icmpv6"),
            _ => None,
        }
    }
}

/// The name (`tcp`, `udp`, `icmp`, `icmpv6`), else the number (`47`).
impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A name in any case (`tcp`, `UDP`, `Icmp`, `icmpv6`) or a number 0–255. AWS's `-1`/`all`
/// ("every protocol") is not a protocol: the callers that accept it handle it themselves.
impl FromStr for IpProtocol {
    type Err = ParseIpProtocolError;

    fn from_str(s: &str) -> Result<IpProtocol, ParseIpProtocolError> {
        let named = IpProtocol::NAMED
            .into_iter()
            .find(|p| p.name().is_some_and(|name| name.eq_ignore_ascii_case(s)));
        match named {
            Some(p) => Ok(p),
            None => s.parse().map(IpProtocol).map_err(|_| ParseIpProtocolError),
        }
    }
}

/// A string that is neither a protocol name nor a number 0–255.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseIpProtocolError;

impl fmt::Display for ParseIpProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected tcp, udp, icmp, icmpv6 or a number 0-255")
    }
}

impl std::error::Error for ParseIpProtocolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_parse() {
        for (s, p) in [
            ("tcp", IpProtocol::TCP),
            ("UDP", IpProtocol::UDP),
            ("Icmp", IpProtocol::ICMP),
            ("icmpv6", IpProtocol::ICMPV6),
            ("ICMPv6", IpProtocol::ICMPV6),
            ("6", IpProtocol::TCP),
            ("0", IpProtocol(0)),
            ("47", IpProtocol(47)),
            ("255", IpProtocol(255)),
        ] {
            assert_eq!(s.parse(), Ok(p), "{s}");
        }
        for s in ["", "-1", "all", "256", "gre", " tcp", "icmp6"] {
            assert_eq!(s.parse::<IpProtocol>(), Err(ParseIpProtocolError), "{s:?}");
        }
    }

    #[test]
    fn prints_names_else_numbers() {
        let printed: Vec<String> = [1, 6, 17, 58, 47, 0]
            .map(|n| IpProtocol(n).to_string())
            .into();
        assert_eq!(printed, ["icmp", "tcp", "udp", "icmpv6", "47", "0"]);
    }

    #[test]
    fn every_printed_form_parses_back() {
        for n in 0..=255 {
            let p = IpProtocol(n);
            assert_eq!(p.to_string().parse(), Ok(p));
        }
    }
}
