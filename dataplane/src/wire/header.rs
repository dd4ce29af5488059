//! The packet header the pipeline works on, flow keys and time.

use crate::wire::{tcp_flags, IpProtocol};
use std::fmt;
use std::net::IpAddr;

/// The fields of a packet that routing, filtering and translation look at: what
/// [`crate::wire::parse`] reads from a frame (in [`crate::wire::Meta::header`]), or what a flow
/// spec describes. NAT rewrites change it as the packet moves; the original frame is rewritten
/// from it at the end.
///
/// A parsed frame whose L4 header was not captured has every L4 field (`src_port`, `dst_port`,
/// `icmp_type`, `icmp_code`, `tcp_flags`) zero, so a rule can never match on bytes that were
/// not captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// Source address of the outermost IP header (tunnels are not decapsulated).
    pub src: IpAddr,
    /// Destination address of the outermost IP header.
    pub dst: IpAddr,
    /// Protocol of the payload (after IPv6 extension headers).
    pub proto: IpProtocol,
    /// TCP/UDP source port; the ICMP/ICMPv6 echo identifier (then equal to `dst_port`); 0
    /// otherwise.
    pub src_port: u16,
    /// TCP/UDP destination port; the ICMP/ICMPv6 echo identifier; 0 otherwise.
    pub dst_port: u16,
    /// ICMP / ICMPv6 type, else 0.
    pub icmp_type: u8,
    /// ICMP / ICMPv6 code, else 0.
    pub icmp_code: u8,
    /// TCP flags byte, the bits of [`tcp_flags`].
    pub tcp_flags: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// The IP packet's length in bytes as its header claims (IPv4 total length; IPv6 40 +
    /// payload length, saturated at 65535), which may exceed the captured bytes; flow logs
    /// count it.
    pub len: u16,
}

impl Header {
    /// Whether the packet is IPv6.
    pub fn is_v6(&self) -> bool {
        self.dst.is_ipv6()
    }

    /// Whether the protocol is ICMP or ICMPv6.
    pub fn is_icmp(&self) -> bool {
        self.proto == IpProtocol::ICMP || self.proto == IpProtocol::ICMPV6
    }

    /// ICMP echo request or reply (the only ICMP messages with an identifier that NAT translates).
    pub fn is_icmp_echo(&self) -> bool {
        match self.proto {
            IpProtocol::ICMP => self.icmp_type == 8 || self.icmp_type == 0,
            IpProtocol::ICMPV6 => self.icmp_type == 128 || self.icmp_type == 129,
            _ => false,
        }
    }

    /// Whether the protocol carries ports that rules can match.
    pub fn has_ports(&self) -> bool {
        self.proto == IpProtocol::TCP || self.proto == IpProtocol::UDP
    }

    /// The header of the reply to this packet: addresses and ports swapped, echo request → reply.
    pub fn reply(&self) -> Header {
        let mut r = *self;
        r.src = self.dst;
        r.dst = self.src;
        r.src_port = self.dst_port;
        r.dst_port = self.src_port;
        r.ttl = 64;
        match (self.proto, self.icmp_type) {
            (IpProtocol::ICMP, 8) => r.icmp_type = 0,
            (IpProtocol::ICMPV6, 128) => r.icmp_type = 129,
            _ => {}
        }
        if self.proto == IpProtocol::TCP {
            r.tcp_flags =
                if self.tcp_flags & tcp_flags::SYN != 0 && self.tcp_flags & tcp_flags::ACK == 0 {
                    tcp_flags::SYN | tcp_flags::ACK
                } else {
                    tcp_flags::ACK
                };
        }
        r
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ep = |f: &mut fmt::Formatter<'_>, a: IpAddr, p: u16, ports: bool| match (a, ports) {
            (IpAddr::V6(a), true) => write!(f, "[{a}]:{p}"),
            (a, true) => write!(f, "{a}:{p}"),
            (a, false) => write!(f, "{a}"),
        };
        write!(f, "{} ", self.proto)?;
        ep(f, self.src, self.src_port, self.has_ports())?;
        f.write_str(" -> ")?;
        ep(f, self.dst, self.dst_port, self.has_ports())?;
        if self.is_icmp() {
            write!(f, " type {} code {}", self.icmp_type, self.icmp_code)?;
            if self.is_icmp_echo() {
                write!(f, " id {}", self.src_port)?;
            }
        }
        Ok(())
    }
}

/// An address family. IPv4 and IPv6 never mix in one flow (SPEC §0.1), so every table and every
/// set of headers is looked at one family at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4: addresses are the low 32 bits of a `u128`.
    V4 = 0,
    /// IPv6.
    V6 = 1,
}

impl Family {
    /// The family of an address.
    #[inline]
    pub fn of(a: IpAddr) -> Family {
        match a {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// An address as a number of its family's width.
    #[inline]
    pub fn bits(a: IpAddr) -> u128 {
        match a {
            IpAddr::V4(a) => a.to_bits() as u128,
            IpAddr::V6(a) => a.to_bits(),
        }
    }

    /// The largest address of the family.
    pub fn addr_max(self) -> u128 {
        match self {
            Family::V4 => u32::MAX as u128,
            Family::V6 => u128::MAX,
        }
    }

    /// The address a number stands for (IPv4 takes the low 32 bits).
    pub fn addr(self, a: u128) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(std::net::Ipv4Addr::from_bits(a as u32)),
            Family::V6 => IpAddr::V6(std::net::Ipv6Addr::from_bits(a)),
        }
    }

    /// The range of addresses a prefix covers, as numbers.
    pub fn prefix_range(net: &ipnet::IpNet) -> (u128, u128) {
        let (bits, len, width) = match net {
            ipnet::IpNet::V4(n) => (n.network().to_bits() as u128, n.prefix_len(), 32),
            ipnet::IpNet::V6(n) => (n.network().to_bits(), n.prefix_len(), 128),
        };
        let host = width - len as u32;
        let mask = if host >= 128 {
            u128::MAX
        } else {
            (1u128 << host) - 1
        };
        (bits & !mask, bits | mask)
    }

    /// The family of a prefix.
    pub fn of_net(net: &ipnet::IpNet) -> Family {
        match net {
            ipnet::IpNet::V4(_) => Family::V4,
            ipnet::IpNet::V6(_) => Family::V6,
        }
    }
}

/// Packet time in nanoseconds since the Unix epoch (from the capture, or from the caller).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// `s` whole seconds after the epoch.
    pub const fn from_secs(s: u64) -> Timestamp {
        Timestamp(s * 1_000_000_000)
    }
    /// Whole seconds since the epoch.
    pub fn secs(self) -> u64 {
        self.0 / 1_000_000_000
    }
    /// Seconds since the epoch, with the fraction.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Whole seconds elapsed since `earlier` (0 when time went backwards, as it may in a capture).
    pub fn since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0) / 1_000_000_000
    }
    /// Nanoseconds elapsed since `earlier` (0 when time went backwards).
    pub fn elapsed_ns(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// An address as a fixed-width key: IPv4 in the low 32 bits, with the family kept apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddrKey {
    /// The address as an integer (IPv4 in the low 32 bits).
    pub bits: u128,
    /// Whether it is IPv6, so that `::a.b.c.d` and `a.b.c.d` stay apart.
    pub v6: bool,
}

impl From<IpAddr> for AddrKey {
    #[inline]
    fn from(a: IpAddr) -> AddrKey {
        match a {
            IpAddr::V4(a) => AddrKey {
                bits: a.to_bits() as u128,
                v6: false,
            },
            IpAddr::V6(a) => AddrKey {
                bits: a.to_bits(),
                v6: true,
            },
        }
    }
}

/// A direction-free connection key: both directions of a flow give the same key, so one
/// connection-tracking entry serves request and reply (Retina's connection id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// The lower endpoint's address (endpoints ordered by address, then port).
    pub lo: AddrKey,
    /// The higher endpoint's address.
    pub hi: AddrKey,
    /// The lower endpoint's port, as [`flow_ports`] gives it.
    pub lo_port: u16,
    /// The higher endpoint's port.
    pub hi_port: u16,
    /// The IP protocol.
    pub proto: IpProtocol,
}

impl FlowKey {
    /// The key and whether `h`'s source is the `lo` endpoint.
    #[inline]
    pub fn of(h: &Header) -> (FlowKey, bool) {
        let (sp, dp) = flow_ports(h);
        let s = (AddrKey::from(h.src), sp);
        let d = (AddrKey::from(h.dst), dp);
        if s <= d {
            (
                FlowKey {
                    lo: s.0,
                    hi: d.0,
                    lo_port: s.1,
                    hi_port: d.1,
                    proto: h.proto,
                },
                true,
            )
        } else {
            (
                FlowKey {
                    lo: d.0,
                    hi: s.0,
                    lo_port: d.1,
                    hi_port: s.1,
                    proto: h.proto,
                },
                false,
            )
        }
    }
}

/// Ports as connection tracking sees them: TCP/UDP ports, the echo identifier on both sides for
/// ICMP echo, nothing for other protocols (tracked on the address pair and protocol).
#[inline]
pub fn flow_ports(h: &Header) -> (u16, u16) {
    if h.has_ports() || h.is_icmp_echo() {
        (h.src_port, h.dst_port)
    } else {
        (0, 0)
    }
}

#[cfg(test)]
impl Header {
    /// A 60-byte TCP SYN with TTL 64: the opening packet most unit tests start from.
    pub(crate) fn syn(
        src: impl Into<IpAddr>,
        src_port: u16,
        dst: impl Into<IpAddr>,
        dst_port: u16,
    ) -> Header {
        Header {
            src: src.into(),
            dst: dst.into(),
            proto: IpProtocol::TCP,
            src_port,
            dst_port,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: tcp_flags::SYN,
            ttl: 64,
            len: 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(src: &str, sp: u16, dst: &str, dp: u16) -> Header {
        Header::syn(
            src.parse::<IpAddr>().unwrap(),
            sp,
            dst.parse::<IpAddr>().unwrap(),
            dp,
        )
    }

    #[test]
    fn flow_key_is_direction_free() {
        let a = h("10.0.1.5", 40000, "198.51.100.7", 443);
        let (k1, a_lo) = FlowKey::of(&a);
        let (k2, b_lo) = FlowKey::of(&a.reply());
        assert_eq!(k1, k2);
        assert_ne!(a_lo, b_lo);
    }

    #[test]
    fn reply_of_echo_request_is_echo_reply() {
        let mut e = h("10.0.1.5", 7, "10.0.2.5", 7);
        e.proto = IpProtocol::ICMP;
        e.icmp_type = 8;
        let r = e.reply();
        assert_eq!(r.icmp_type, 0);
        assert_eq!(FlowKey::of(&e).0, FlowKey::of(&r).0);
    }

    #[test]
    fn v4_and_v6_keys_never_collide() {
        let v4: AddrKey = "0.0.0.1".parse::<IpAddr>().unwrap().into();
        let v6: AddrKey = "::1".parse::<IpAddr>().unwrap().into();
        assert_ne!(v4, v6);
    }
}
