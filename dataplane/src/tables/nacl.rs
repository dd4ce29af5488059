//! Network ACLs: stateless, ordered, first match wins, `*` deny at the end (SPEC §3).

use crate::pipeline::driver::{Field, Rules};
use crate::space::{icmp_boxes, rule_boxes, HBox, DPORT, DST, SRC};
use crate::topology::ResId;
use crate::wire::{Family, Header, IpProtocol};
use ipnet::IpNet;

/// One NACL entry as AWS stores it (`CreateNetworkAclEntry`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NaclEntry {
    /// 1..=32766; the `*` rules are implicit and not stored.
    pub number: u16,
    /// The `AWS::EC2::NetworkAclEntry` resource, when it came from one.
    pub res: Option<ResId>,
    /// The protocol, or `None` for `-1` (all protocols).
    pub protocol: Option<IpProtocol>,
    /// Inclusive destination port range (TCP/UDP rules only).
    pub ports: (u16, u16),
    /// ICMP type and code, `None` = any (`-1`).
    pub icmp_type: Option<u8>,
    /// ICMP code, `None` = any (`-1`).
    pub icmp_code: Option<u8>,
    /// Source (ingress) or destination (egress) CIDR.
    pub cidr: IpNet,
    /// `allow` (else `deny`).
    pub allow: bool,
}

impl NaclEntry {
    #[inline]
    fn matches(&self, h: &Header, peer: std::net::IpAddr) -> bool {
        if !self.cidr.contains(&peer) {
            return false;
        }
        let Some(p) = self.protocol else {
            return true;
        };
        if p != h.proto {
            return false;
        }
        match p {
            // Port ranges compare with the destination port in both directions (SPEC §3.3).
            IpProtocol::TCP | IpProtocol::UDP => {
                h.dst_port >= self.ports.0 && h.dst_port <= self.ports.1
            }
            IpProtocol::ICMP => self.icmp_matches(h),
            // ICMPv6 type/code only mean something with an IPv6 CIDR; with an IPv4 CIDR the rule
            // matches every type (and never an IPv6 packet anyway, by the CIDR check above).
            IpProtocol::ICMPV6 if matches!(self.cidr, IpNet::V6(_)) => self.icmp_matches(h),
            _ => true,
        }
    }

    /// What the entry matches, as boxes of header space (`peer_dim`: the dimension the CIDR
    /// applies to, the source inbound and the destination outbound).
    pub fn boxes(&self, fam: Family, peer_dim: usize) -> Vec<HBox> {
        rule_boxes(
            fam,
            &self.cidr,
            peer_dim,
            self.protocol,
            |p, base| match p {
                IpProtocol::TCP | IpProtocol::UDP => base
                    .with(DPORT, self.ports.0 as u128, self.ports.1 as u128)
                    .into_iter()
                    .collect(),
                IpProtocol::ICMP => icmp_boxes(base, self.icmp_type, self.icmp_code),
                IpProtocol::ICMPV6 if matches!(self.cidr, IpNet::V6(_)) => {
                    icmp_boxes(base, self.icmp_type, self.icmp_code)
                }
                _ => vec![base],
            },
        )
    }

    fn icmp_matches(&self, h: &Header) -> bool {
        self.icmp_type.is_none_or(|t| t == h.icmp_type)
            && self.icmp_code.is_none_or(|c| c == h.icmp_code)
    }

    /// `100 allow tcp 443 0.0.0.0/0`
    pub fn describe(&self) -> String {
        let proto = match self.protocol {
            None => "all".to_string(),
            Some(p) => p.to_string(),
        };
        let ports = match self.protocol {
            Some(IpProtocol::TCP | IpProtocol::UDP) if self.ports == (0, 65535) => String::new(),
            Some(IpProtocol::TCP | IpProtocol::UDP) if self.ports.0 == self.ports.1 => {
                format!(" {}", self.ports.0)
            }
            Some(IpProtocol::TCP | IpProtocol::UDP) => {
                format!(" {}-{}", self.ports.0, self.ports.1)
            }
            Some(IpProtocol::ICMP | IpProtocol::ICMPV6) => {
                let f = |v: Option<u8>| v.map_or("any".to_string(), |v| v.to_string());
                format!(" type {} code {}", f(self.icmp_type), f(self.icmp_code))
            }
            _ => String::new(),
        };
        format!(
            "{} {} {proto}{ports} {}",
            self.number,
            if self.allow { "allow" } else { "deny" },
            self.cidr
        )
    }
}

/// A compiled network ACL: each direction's entries sorted by rule number.
#[derive(Clone, Debug, Default)]
pub struct NetworkAcl {
    /// The `AWS::EC2::NetworkAcl` resource, which names it in output.
    pub res: ResId,
    /// Inbound entries, in rule-number order once [`NetworkAcl::finish`] has run.
    pub ingress: Vec<NaclEntry>,
    /// Outbound entries, likewise.
    pub egress: Vec<NaclEntry>,
}

/// The rule that decided a NACL evaluation: an entry, or the implicit `*` deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NaclDecision<'a> {
    /// A stored entry matched.
    Entry(&'a NaclEntry),
    /// No entry matched: the implicit `*` rule denies.
    DefaultDeny,
}

impl NaclDecision<'_> {
    /// Whether the packet may pass.
    pub fn allowed(&self) -> bool {
        matches!(self, NaclDecision::Entry(e) if e.allow)
    }

    /// The deciding rule as the console lists it (`100 allow tcp 443 0.0.0.0/0`,
    /// `* deny all 0.0.0.0/0`); `ipv6` picks the CIDR of the `*` rule.
    pub fn describe(&self, ipv6: bool) -> String {
        match self {
            NaclDecision::Entry(e) => e.describe(),
            NaclDecision::DefaultDeny => {
                format!("* deny all {}", if ipv6 { "::/0" } else { "0.0.0.0/0" })
            }
        }
    }
}

impl NetworkAcl {
    /// Sort entries by rule number; call once after building.
    pub fn finish(&mut self) {
        self.ingress.sort_by_key(|e| e.number);
        self.egress.sort_by_key(|e| e.number);
    }

    /// Evaluate the inbound list against the packet's source address.
    #[inline]
    pub fn evaluate_ingress(&self, h: &Header) -> NaclDecision<'_> {
        first_match(&self.ingress, h, h.src)
    }

    /// Evaluate the outbound list against the packet's destination address.
    #[inline]
    pub fn evaluate_egress(&self, h: &Header) -> NaclDecision<'_> {
        first_match(&self.egress, h, h.dst)
    }
}

/// One direction of a network ACL as a rule list: first match by rule number, the implicit `*`
/// rule denies what no entry matches.
#[derive(Clone, Copy, Debug)]
pub struct NaclRules<'a> {
    /// The entries, sorted by rule number.
    pub entries: &'a [NaclEntry],
    /// The address the CIDRs match: the source inbound, the destination outbound.
    pub peer: Field,
}

impl<'a> NetworkAcl {
    /// The inbound entries, matched against the source.
    pub fn ingress_rules(&'a self) -> NaclRules<'a> {
        NaclRules {
            entries: &self.ingress,
            peer: Field::Src,
        }
    }

    /// The outbound entries, matched against the destination.
    pub fn egress_rules(&'a self) -> NaclRules<'a> {
        NaclRules {
            entries: &self.egress,
            peer: Field::Dst,
        }
    }
}

impl<'a> Rules for NaclRules<'a> {
    type Key = &'a NaclEntry;
    const ANY_MATCH: bool = false;
    #[inline]
    fn first_match(&self, h: &Header) -> Option<&'a NaclEntry> {
        let peer = match self.peer {
            Field::Src => h.src,
            Field::Dst => h.dst,
        };
        self.entries.iter().find(|e| e.matches(h, peer))
    }
    fn for_each_box(&self, fam: Family, f: &mut dyn FnMut(HBox, &'a NaclEntry)) {
        let dim = match self.peer {
            Field::Src => SRC,
            Field::Dst => DST,
        };
        for e in self.entries {
            for b in e.boxes(fam, dim) {
                f(b, e);
            }
        }
    }
    #[inline]
    fn passes(decided: Option<&'a NaclEntry>) -> bool {
        decided.is_some_and(|e| e.allow)
    }
}

impl<'a> From<Option<&'a NaclEntry>> for NaclDecision<'a> {
    fn from(e: Option<&'a NaclEntry>) -> Self {
        e.map_or(NaclDecision::DefaultDeny, NaclDecision::Entry)
    }
}

#[inline]
fn first_match<'a>(
    entries: &'a [NaclEntry],
    h: &Header,
    peer: std::net::IpAddr,
) -> NaclDecision<'a> {
    entries
        .iter()
        .find(|e| e.matches(h, peer))
        .map_or(NaclDecision::DefaultDeny, NaclDecision::Entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        number: u16,
        protocol: Option<u8>,
        ports: (u16, u16),
        cidr: &str,
        allow: bool,
    ) -> NaclEntry {
        NaclEntry {
            number,
            res: None,
            protocol: protocol.map(IpProtocol),
            ports,
            icmp_type: None,
            icmp_code: None,
            cidr: cidr.parse().unwrap(),
            allow,
        }
    }

    fn pkt(proto: u8, src: &str, dst: &str, dport: u16) -> Header {
        Header {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto: IpProtocol(proto),
            src_port: 40000,
            dst_port: dport,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: 0,
            ttl: 64,
            len: 40,
        }
    }

    /// SPEC §17 vector 15: the lowest rule number that matches decides.
    #[test]
    fn first_match_by_rule_number() {
        let mut acl = NetworkAcl {
            ingress: vec![
                entry(100, None, (0, 0), "0.0.0.0/0", true),
                entry(90, Some(6), (22, 22), "0.0.0.0/0", false),
            ],
            ..Default::default()
        };
        acl.finish();
        let ssh = pkt(6, "203.0.113.1", "10.0.1.5", 22);
        assert!(!acl.evaluate_ingress(&ssh).allowed());
        acl.ingress[0].number = 110;
        acl.finish();
        assert!(acl.evaluate_ingress(&ssh).allowed());
    }

    /// SPEC §17 vector 16: IPv4 allow-all rules never admit IPv6.
    #[test]
    fn ipv4_rules_do_not_match_ipv6() {
        let acl = NetworkAcl {
            ingress: vec![entry(100, None, (0, 0), "0.0.0.0/0", true)],
            ..Default::default()
        };
        let p = pkt(6, "2001:db8::1", "2001:db8::2", 80);
        assert_eq!(acl.evaluate_ingress(&p), NaclDecision::DefaultDeny);
    }

    /// SPEC §17 vector 17: protocol 6 ports 80 ignores UDP 80; protocol -1 matches anything.
    #[test]
    fn protocol_and_ports() {
        let tcp80 = NetworkAcl {
            ingress: vec![entry(100, Some(6), (80, 80), "0.0.0.0/0", true)],
            ..Default::default()
        };
        let udp = pkt(17, "192.0.2.1", "10.0.0.5", 80);
        assert!(!tcp80.evaluate_ingress(&udp).allowed());
        let all = NetworkAcl {
            ingress: vec![entry(100, None, (80, 80), "0.0.0.0/0", true)],
            ..Default::default()
        };
        assert!(all
            .evaluate_ingress(&pkt(17, "192.0.2.1", "10.0.0.5", 9999))
            .allowed());
    }

    #[test]
    fn egress_matches_destination_and_destination_port() {
        let acl = NetworkAcl {
            egress: vec![entry(100, Some(6), (1024, 65535), "10.0.0.0/16", true)],
            ..Default::default()
        };
        assert!(acl
            .evaluate_egress(&pkt(6, "10.0.3.40", "10.0.2.30", 40000))
            .allowed());
        assert!(!acl
            .evaluate_egress(&pkt(6, "10.0.3.40", "10.1.2.30", 40000))
            .allowed());
        assert!(!acl
            .evaluate_egress(&pkt(6, "10.0.3.40", "10.0.2.30", 443))
            .allowed());
    }

    #[test]
    fn icmp_type_and_code() {
        let mut e = entry(100, Some(1), (0, 0), "0.0.0.0/0", true);
        e.icmp_type = Some(3);
        e.icmp_code = Some(4);
        let acl = NetworkAcl {
            ingress: vec![e],
            ..Default::default()
        };
        let mut p = pkt(1, "192.0.2.1", "10.0.0.5", 0);
        p.icmp_type = 3;
        p.icmp_code = 4;
        assert!(acl.evaluate_ingress(&p).allowed());
        p.icmp_code = 1;
        assert!(!acl.evaluate_ingress(&p).allowed());
    }
}
