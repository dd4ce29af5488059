//! Link-layer framings: find where the IP header starts and which IP version to expect.

use super::parse::ParseError;

/// The link-layer framing of captured frames, from the pcap/pcapng `LINKTYPE_*` registry.
///
/// Captures taken on AWS hosts come from many places (ENIs seen as Ethernet, `any`
/// devices as Linux SLL/SLL2, tunnels and loopbacks as raw IP or BSD NULL), so the
/// simulator accepts all the framings that can carry IP without decapsulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// `LINKTYPE_ETHERNET` (1): Ethernet II, with any number of 802.1Q/802.1ad tags.
    Ethernet,
    /// `LINKTYPE_RAW` (101; also the platform-dependent DLT values 12 and 14): bare IPv4 or
    /// IPv6, told apart by the version nibble.
    Raw,
    /// `LINKTYPE_IPV4` (228): bare IPv4.
    Ipv4,
    /// `LINKTYPE_IPV6` (229): bare IPv6.
    Ipv6,
    /// `LINKTYPE_NULL` (0): BSD loopback, a 4-byte address family in the capturing host's
    /// byte order, which the reader cannot know, so both orders are accepted.
    Null,
    /// `LINKTYPE_LOOP` (108): OpenBSD loopback, a 4-byte address family in network order.
    Loop,
    /// `LINKTYPE_LINUX_SLL` (113): Linux "cooked" capture v1 (16-byte header).
    LinuxSll,
    /// `LINKTYPE_LINUX_SLL2` (276): Linux "cooked" capture v2 (20-byte header).
    LinuxSll2,
    /// Any other link type, kept so that error messages can name it.
    Unsupported(u32),
}

impl LinkType {
    /// Maps the link-type field of a pcap file header or pcapng interface block.
    pub fn from_pcap(linktype: u32) -> LinkType {
        match linktype {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // 12 and 14 are the DLT_RAW values some platforms write instead of 101.
            101 | 12 | 14 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            other => LinkType::Unsupported(other),
        }
    }

    /// The canonical `LINKTYPE_*` value, for writing pcap headers (`Raw` is always 101).
    pub fn pcap_value(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll2 => 276,
            LinkType::Unsupported(v) => v,
        }
    }
}

/// Which IP version the link layer announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum L3Kind {
    Ipv4,
    Ipv6,
    /// The link layer does not say (raw IP): the version nibble decides.
    ByVersion,
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86DD;
const ETH_ARP: u16 = 0x0806;
const ETH_RARP: u16 = 0x8035;
const ETH_LLDP: u16 = 0x88CC;
/// Ethertypes below this are 802.3 length fields, not protocol identifiers.
const ETH_MIN_TYPE: u16 = 0x0600;
/// `ARPHRD_NETLINK`: SLL captures of netlink sockets, whose protocol field is a netlink family.
const ARPHRD_NETLINK: u16 = 824;

#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    match b.get(at..at + 2) {
        Some(&[hi, lo]) => Some(u16::from_be_bytes([hi, lo])),
        _ => None,
    }
}

/// Locates the IP header in `frame`: its byte offset and the version the framing announced.
pub(super) fn locate_l3(link: LinkType, frame: &[u8]) -> Result<(usize, L3Kind), ParseError> {
    match link {
        LinkType::Ethernet => {
            let ethertype =
                be16(frame, 12).ok_or(ParseError::Malformed("ethernet header truncated"))?;
            if ethertype < ETH_MIN_TYPE {
                return Err(ParseError::Unsupported("802.3 llc frame"));
            }
            by_ethertype(frame, 14, ethertype)
        }
        LinkType::Raw => Ok((0, L3Kind::ByVersion)),
        LinkType::Ipv4 => Ok((0, L3Kind::Ipv4)),
        LinkType::Ipv6 => Ok((0, L3Kind::Ipv6)),
        LinkType::Null => {
            let Some(&[a, b, c, d]) = frame.get(..4) else {
                return Err(ParseError::Malformed("loopback header truncated"));
            };
            address_family(u32::from_le_bytes([a, b, c, d]))
                .or_else(|| address_family(u32::from_be_bytes([a, b, c, d])))
                .map(|kind| (4, kind))
                .ok_or(ParseError::Unsupported("loopback address family"))
        }
        LinkType::Loop => {
            let Some(&[a, b, c, d]) = frame.get(..4) else {
                return Err(ParseError::Malformed("loopback header truncated"));
            };
            address_family(u32::from_be_bytes([a, b, c, d]))
                .map(|kind| (4, kind))
                .ok_or(ParseError::Unsupported("loopback address family"))
        }
        LinkType::LinuxSll => {
            // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
            if frame.len() < 16 {
                return Err(ParseError::Malformed("sll header truncated"));
            }
            let hatype = be16(frame, 2).unwrap_or(0);
            let protocol = be16(frame, 14).unwrap_or(0);
            sll_payload(frame, 16, hatype, protocol)
        }
        LinkType::LinuxSll2 => {
            // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1)
            // address(8)
            if frame.len() < 20 {
                return Err(ParseError::Malformed("sll2 header truncated"));
            }
            let protocol = be16(frame, 0).unwrap_or(0);
            let hatype = be16(frame, 8).unwrap_or(0);
            sll_payload(frame, 20, hatype, protocol)
        }
        LinkType::Unsupported(_) => Err(ParseError::Unsupported("link type")),
    }
}

/// BSD `AF_INET` is 2 everywhere; `AF_INET6` differs per BSD (24 NetBSD/OpenBSD,
/// 28 FreeBSD, 30 macOS) and a capture may come from any of them.
fn address_family(af: u32) -> Option<L3Kind> {
    match af {
        2 => Some(L3Kind::Ipv4),
        24 | 28 | 30 => Some(L3Kind::Ipv6),
        _ => None,
    }
}

fn sll_payload(
    frame: &[u8],
    offset: usize,
    hatype: u16,
    protocol: u16,
) -> Result<(usize, L3Kind), ParseError> {
    // Below 0x0600 the SLL protocol field holds Linux-internal values (802.2 LLC, CAN...),
    // and for netlink captures it is a netlink family that can collide with ethertypes.
    if hatype == ARPHRD_NETLINK || protocol < ETH_MIN_TYPE {
        return Err(ParseError::Unsupported("non-ip sll protocol"));
    }
    by_ethertype(frame, offset, protocol)
}

/// Follows `ethertype` (found just before `offset`) through any stack of VLAN tags.
fn by_ethertype(
    frame: &[u8],
    mut offset: usize,
    mut ethertype: u16,
) -> Result<(usize, L3Kind), ParseError> {
    loop {
        match ethertype {
            ETH_IPV4 => return Ok((offset, L3Kind::Ipv4)),
            ETH_IPV6 => return Ok((offset, L3Kind::Ipv6)),
            // 802.1Q, 802.1ad, and the pre-standard QinQ types some switches still emit.
            0x8100 | 0x88A8 | 0x9100 | 0x9200 | 0x9300 => {
                // Tag: TCI(2) then the next ethertype(2).
                ethertype =
                    be16(frame, offset + 2).ok_or(ParseError::Malformed("vlan tag truncated"))?;
                offset += 4;
            }
            ETH_ARP | ETH_RARP => return Err(ParseError::Unsupported("arp")),
            ETH_LLDP => return Err(ParseError::Unsupported("lldp")),
            _ => return Err(ParseError::Unsupported("non-ip ethertype")),
        }
    }
}
