//! Security groups: allow-only rules, the union of every group on an interface (SPEC §4).
//!
//! Rules that reference another security group are expanded at compile time into the private
//! addresses of the interfaces in that group, so evaluation is a plain scan over address ranges.
//! Connection tracking lives in [`crate::state`]; this module only answers "does a rule allow it".

use crate::pipeline::driver::{Field, Rules};
use crate::space::{icmp_boxes, rule_boxes, HBox, DPORT, DST, SRC};
use crate::topology::{ResId, SgIdx, VpcIdx};
use crate::wire::{Family, Header, IpProtocol};
use ipnet::IpNet;

/// A security group rule as written (for display), after its peer was resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SgRule {
    /// `None` = all protocols (`-1`).
    pub protocol: Option<IpProtocol>,
    /// TCP/UDP: inclusive port range. ICMP: `from` = type, `to` = code, `-1` = any.
    pub from_port: i32,
    /// TCP/UDP: the range's last port. ICMP: the code, `-1` = any.
    pub to_port: i32,
    /// Whom the rule admits: the source of inbound traffic, the destination of outbound.
    pub peer: SgPeer,
    /// Readable form for traces: `tcp 8080 from WebSg`.
    pub text: String,
}

/// The other side of a security group rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SgPeer {
    /// An IPv4 or IPv6 CIDR block.
    Cidr(IpNet),
    /// Private addresses of interfaces in this group (same VPC or an active peer).
    Group(SgIdx),
    /// A managed prefix list: a rule matches any of its entries (SPEC §4.3).
    PrefixList {
        /// The prefix list.
        list: ResId,
        /// Its CIDR blocks.
        entries: Vec<IpNet>,
    },
}

/// A compiled group.
#[derive(Clone, Debug, Default)]
pub struct SecurityGroup {
    /// The `AWS::EC2::SecurityGroup` resource, which names it in output.
    pub res: ResId,
    /// The VPC it belongs to.
    pub vpc: VpcIdx,
    /// Inbound rules as written.
    pub ingress: Vec<SgRule>,
    /// Outbound rules as written.
    pub egress: Vec<SgRule>,
}

/// One rule of one of an interface's groups, with the peer flattened to a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompiledSgRule {
    /// `None` = all protocols (`-1`).
    pub protocol: Option<IpProtocol>,
    /// As [`SgRule::from_port`]: the first port, or the ICMP type (`-1` = any).
    pub from_port: i32,
    /// As [`SgRule::to_port`]: the last port, or the ICMP code (`-1` = any).
    pub to_port: i32,
    /// One prefix of the rule's peer: the CIDR, a prefix-list entry, or a private address of a
    /// member of the referenced group.
    pub peer: IpNet,
    /// Which group and which of its rules (index into `ingress`/`egress`) this came from.
    pub group: SgIdx,
    /// Index of the rule in the group's `ingress` or `egress`.
    pub rule: u32,
    /// The peer came from a security-group reference: it matches only traffic that comes
    /// straight from the member interface, not traffic forwarded by an appliance.
    pub by_reference: bool,
}

impl CompiledSgRule {
    /// Whether the rule allows `h`, whose other side is `peer` (its source inbound, its destination
    /// outbound).
    #[inline]
    pub fn matches(&self, h: &Header, peer: std::net::IpAddr) -> bool {
        if !self.peer.contains(&peer) {
            return false;
        }
        let Some(p) = self.protocol else {
            return true;
        };
        if p != h.proto {
            return false;
        }
        match p {
            // For both directions the port range is the destination port of the packet as it is
            // initiated (replies are admitted by tracking, never by rules).
            IpProtocol::TCP | IpProtocol::UDP => {
                let port = h.dst_port as i32;
                port >= self.from_port && port <= self.to_port
            }
            IpProtocol::ICMP | IpProtocol::ICMPV6 => {
                (self.from_port == -1 || self.from_port == h.icmp_type as i32)
                    && (self.to_port == -1 || self.to_port == h.icmp_code as i32)
            }
            _ => true,
        }
    }
}

impl CompiledSgRule {
    /// What [`CompiledSgRule::matches`] matches, as boxes of header space (`peer_dim`: the
    /// dimension the peer applies to, the source inbound and the destination outbound).
    pub fn boxes(&self, fam: Family, peer_dim: usize) -> Vec<HBox> {
        rule_boxes(
            fam,
            &self.peer,
            peer_dim,
            self.protocol,
            |p, base| match p {
                IpProtocol::TCP | IpProtocol::UDP => {
                    let lo = self.from_port.max(0) as u128;
                    let hi = self.to_port.min(0xffff);
                    if hi < 0 {
                        return Vec::new();
                    }
                    base.with(DPORT, lo, hi as u128).into_iter().collect()
                }
                IpProtocol::ICMP | IpProtocol::ICMPV6 => {
                    let field = |v: i32| match v {
                        -1 => Some(None),
                        0..=255 => Some(Some(v as u8)),
                        _ => None,
                    };
                    match (field(self.from_port), field(self.to_port)) {
                        (Some(t), Some(c)) => icmp_boxes(base, t, c),
                        _ => Vec::new(),
                    }
                }
                _ => vec![base],
            },
        )
    }
}

/// The header boxes each compiled rule of a set of security groups matches
/// ([`CompiledSgRule::boxes`]), per family and direction, each with its rule's position:
/// what `reach` partitions a set of headers by. Computed once per distinct set of groups when
/// the topology is built, since a walk checks the same groups many times.
#[derive(Clone, Debug, Default)]
pub struct SgBoxes {
    /// `[family][inbound]`: (box, index into the interface's rules of that direction).
    boxes: [[Vec<(HBox, u32)>; 2]; 2],
}

impl SgBoxes {
    /// The boxes of an interface's compiled inbound and outbound rules.
    pub fn new(ingress: &[CompiledSgRule], egress: &[CompiledSgRule]) -> SgBoxes {
        let side = |fam: Family, rules: &[CompiledSgRule], dim: usize| {
            rules
                .iter()
                .enumerate()
                .flat_map(|(i, r)| r.boxes(fam, dim).into_iter().map(move |b| (b, i as u32)))
                .collect::<Vec<_>>()
        };
        SgBoxes {
            boxes: [Family::V4, Family::V6]
                .map(|fam| [side(fam, egress, DST), side(fam, ingress, SRC)]),
        }
    }

    fn of(&self, fam: Family, ingress: bool) -> &[(HBox, u32)] {
        &self.boxes[fam as usize][ingress as usize]
    }
}

/// One direction of an interface's security groups as a rule list: any rule admits.
#[derive(Clone, Copy, Debug)]
pub struct SgRules<'a> {
    /// The union of the groups' rules of this direction.
    pub rules: &'a [CompiledSgRule],
    /// The address the peers match: the source inbound, the destination outbound.
    pub peer: Field,
    /// Whether rules that came from a group reference still match (not after an appliance or
    /// a transit gateway forwarded the packet).
    pub references: bool,
    /// The same rules as header boxes (both directions; `peer` picks one).
    pub boxes: &'a SgBoxes,
}

impl<'a> Rules for SgRules<'a> {
    type Key = &'a CompiledSgRule;
    const ANY_MATCH: bool = true;
    #[inline]
    fn first_match(&self, h: &Header) -> Option<&'a CompiledSgRule> {
        let peer = match self.peer {
            Field::Src => h.src,
            Field::Dst => h.dst,
        };
        evaluate(self.rules, h, peer, self.references)
    }
    fn for_each_box(&self, fam: Family, f: &mut dyn FnMut(HBox, &'a CompiledSgRule)) {
        let ingress = self.peer == Field::Src;
        for &(b, i) in self.boxes.of(fam, ingress) {
            let r = &self.rules[i as usize];
            if self.references || !r.by_reference {
                f(b, r);
            }
        }
    }
    #[inline]
    fn passes(decided: Option<&'a CompiledSgRule>) -> bool {
        decided.is_some()
    }
}

/// Find the first rule that admits the packet; `peer` is the source (ingress) or destination
/// (egress). `references` is false for traffic that crossed an appliance: group references do
/// not survive that hop (SPEC §2.6, `SG_REFERENCES_NOT_PRESERVED`).
#[inline]
pub fn evaluate<'a>(
    rules: &'a [CompiledSgRule],
    h: &Header,
    peer: std::net::IpAddr,
    references: bool,
) -> Option<&'a CompiledSgRule> {
    rules
        .iter()
        .find(|r| (references || !r.by_reference) && r.matches(h, peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: Option<u8>, from: i32, to: i32, peer: &str) -> CompiledSgRule {
        CompiledSgRule {
            protocol: protocol.map(IpProtocol),
            from_port: from,
            to_port: to,
            peer: peer.parse().unwrap(),
            group: SgIdx(0),
            rule: 0,
            by_reference: false,
        }
    }

    fn pkt(proto: u8, src: &str, dport: u16) -> Header {
        Header {
            src: src.parse().unwrap(),
            dst: "10.0.1.20".parse().unwrap(),
            proto: IpProtocol(proto),
            src_port: 50000,
            dst_port: dport,
            icmp_type: 8,
            icmp_code: 0,
            tcp_flags: 2,
            ttl: 64,
            len: 60,
        }
    }

    #[test]
    fn union_of_rules_any_match_admits() {
        let rules = [
            rule(Some(6), 443, 443, "0.0.0.0/0"),
            rule(Some(6), 22, 22, "203.0.113.1/32"),
        ];
        let p = pkt(6, "203.0.113.1", 22);
        assert_eq!(
            evaluate(&rules, &p, p.src, true).map(|r| r.from_port),
            Some(22)
        );
        let q = pkt(6, "203.0.113.2", 22);
        assert!(evaluate(&rules, &q, q.src, true).is_none());
    }

    #[test]
    fn icmp_type_any() {
        let rules = [rule(Some(1), 8, -1, "0.0.0.0/0")];
        let p = pkt(1, "192.0.2.1", 0);
        assert!(evaluate(&rules, &p, p.src, true).is_some());
        let mut q = p;
        q.icmp_type = 13;
        assert!(evaluate(&rules, &q, q.src, true).is_none());
    }

    #[test]
    fn all_protocols_rule() {
        let rules = [rule(None, 0, 0, "10.0.0.0/16")];
        let p = pkt(47, "10.0.9.1", 0);
        assert!(evaluate(&rules, &p, p.src, true).is_some());
        let v6 = pkt(6, "2001:db8::1", 80);
        assert!(evaluate(&rules, &v6, v6.src, true).is_none());
    }
}
