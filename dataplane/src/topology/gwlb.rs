//! Gateway Load Balancers and their endpoints (SPEC §10.3, §11.4): the compiled tables, the flow
//! hash that keeps a flow (both directions) on one appliance, target selection and target health.
//!
//! A route whose target is a GWLB endpoint hands the packet to the endpoint service's load
//! balancer; the load balancer node in the endpoint's Availability Zone picks an appliance by flow
//! hash and sends it the packet GENEVE-encapsulated ([`crate::wire::geneve`]); the appliance (a bump in
//! the wire) returns it unchanged and it continues from the endpoint.
//!
//! Stickiness needs no flow table: the hash is symmetric and target health is fixed when the
//! topology is built, so every packet of a flow, in either direction, picks the same appliance.

use crate::topology::nlb::{choose_target, TargetHealth};
use crate::topology::{
    EniIdx, GwlbEndpointIdx, GwlbIdx, GwlbTargetGroupIdx, ResId, SubnetIdx, Table, Topology, VpcIdx,
};
use crate::wire::{AddrKey, Header};
use std::net::Ipv4Addr;

/// Which header fields the flow hash covers (`stickiness.type`, SPEC §11.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stickiness {
    /// Default: source and destination address and port, protocol (3-tuple for protocols
    /// without ports).
    FiveTuple,
    /// `source_ip_dest_ip_proto`.
    ThreeTuple,
    /// `source_ip_dest_ip`.
    TwoTuple,
}

impl Stickiness {
    /// The `stickiness.type` attribute value (the 5-tuple is the default, with stickiness off).
    pub fn parse(s: &str) -> Option<Stickiness> {
        match s {
            "source_ip_dest_ip_proto" => Some(Stickiness::ThreeTuple),
            "source_ip_dest_ip" => Some(Stickiness::TwoTuple),
            _ => None,
        }
    }

    /// The name output uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Stickiness::FiveTuple => "5-tuple",
            Stickiness::ThreeTuple => "3-tuple (source_ip_dest_ip_proto)",
            Stickiness::TwoTuple => "2-tuple (source_ip_dest_ip)",
        }
    }
}

/// An appliance registered with a Gateway Load Balancer target group: an instance, reached at
/// its primary interface.
#[derive(Clone, Debug)]
pub struct GwlbTarget {
    /// The instance id as registered.
    pub id: String,
    /// The instance (named in traces).
    pub res: ResId,
    /// The instance's primary interface, which receives the GENEVE packets.
    pub eni: EniIdx,
    /// That interface's primary private IPv4 address.
    pub addr: Ipv4Addr,
    /// Availability Zone number of the target's subnet.
    pub az: u32,
    /// Health, computed with the pipeline when the topology is built.
    pub health: TargetHealth,
}

/// A Gateway Load Balancer target group (GENEVE): its appliances, how a flow picks one, and how
/// they are health-checked.
#[derive(Clone, Debug)]
pub struct GwlbTargetGroup {
    /// The `AWS::ElasticLoadBalancingV2::TargetGroup` resource, which names it in output.
    pub res: ResId,
    /// Which header fields pick a flow's appliance.
    pub stickiness: Stickiness,
    /// TCP health checks by default, port 80 (SPEC §11.4).
    pub health_check_port: u16,
    /// `TCP`, `HTTP` or `HTTPS` as configured; only the TCP handshake is modelled.
    pub health_check_protocol: String,
    /// The registered appliances.
    pub targets: Vec<GwlbTarget>,
}

/// A load balancer node: an address in one enabled subnet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GwlbNode {
    /// The node's interface (its address in the subnet).
    pub eni: EniIdx,
    /// The enabled subnet it is in.
    pub subnet: SubnetIdx,
    /// Availability Zone number of that subnet (see [`crate::topology::Subnet::az`]).
    pub az: u32,
    /// The node's private IPv4 address.
    pub addr: Ipv4Addr,
}

/// A Gateway Load Balancer: a node per enabled subnet, each sending the traffic of its zone's
/// endpoints to an appliance.
#[derive(Clone, Debug)]
pub struct GatewayLoadBalancer {
    /// The `AWS::ElasticLoadBalancingV2::LoadBalancer` resource, which names it in output.
    pub res: ResId,
    /// The VPC of its subnets.
    pub vpc: VpcIdx,
    /// One node per enabled subnet, in the order the subnets were given.
    pub nodes: Vec<GwlbNode>,
    /// Off by default (SPEC §11.1).
    pub cross_zone: bool,
    /// The listener's target group; `None` without a listener.
    pub target_group: Option<GwlbTargetGroupIdx>,
}

/// A `VpcEndpoint` of type `GatewayLoadBalancer`.
#[derive(Clone, Debug)]
pub struct GwlbEndpoint {
    /// The `AWS::EC2::VPCEndpoint` resource, which names it in output.
    pub res: ResId,
    /// The VPC it is in.
    pub vpc: VpcIdx,
    /// The subnet it is in; its Availability Zone picks the load balancer node.
    pub subnet: SubnetIdx,
    /// The endpoint service's load balancer.
    pub load_balancer: GwlbIdx,
    /// The endpoint service (named in traces).
    pub service: ResId,
    /// GENEVE option type 1: the endpoint id's hex digits as a number.
    pub endpoint_id: u64,
    /// GENEVE option type 2.
    pub attachment_id: u64,
}

/// Every Gateway Load Balancer, target group and endpoint of the topology.
#[derive(Clone, Debug, Default)]
pub struct Gwlbs {
    /// Gateway Load Balancers.
    pub load_balancers: Table<GwlbIdx, GatewayLoadBalancer>,
    /// Their target groups.
    pub target_groups: Table<GwlbTargetGroupIdx, GwlbTargetGroup>,
    /// Gateway Load Balancer endpoints.
    pub endpoints: Table<GwlbEndpointIdx, GwlbEndpoint>,
}

pub use crate::topology::nlb::{Choice, NoTarget};

/// Symmetric flow hash: both directions of a flow give the same value, so the reply reaches the
/// appliance that saw the request. Deterministic (no seed), so replays repeat.
#[inline]
pub fn flow_hash(h: &Header, stickiness: Stickiness) -> u64 {
    let a = AddrKey::from(h.src).bits;
    let b = AddrKey::from(h.dst).bits;
    let fold = |x: u128| (x as u64) ^ ((x >> 64) as u64).rotate_left(23);
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut x = mix(fold(lo) ^ fold(hi).rotate_left(31));
    match stickiness {
        Stickiness::TwoTuple => {}
        Stickiness::ThreeTuple => x = mix(x ^ h.proto.0 as u64),
        Stickiness::FiveTuple => {
            let ports = if h.has_ports() {
                let (p, q) = if (a, h.src_port) <= (b, h.dst_port) {
                    (h.src_port, h.dst_port)
                } else {
                    (h.dst_port, h.src_port)
                };
                (p as u64) << 16 | q as u64
            } else {
                0
            };
            x = mix(x ^ (ports << 8) ^ h.proto.0 as u64);
        }
    }
    x
}

#[inline]
fn mix(mut z: u64) -> u64 {
    // splitmix64's finalizer.
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Gwlbs {
    /// Pick the appliance for a flow at a node in zone `node_az`: a healthy target (in that
    /// zone unless cross-zone) by `hash`; every target when all are unhealthy (fail open, SPEC
    /// §11.1).
    pub fn choose(
        &self,
        lb: GwlbIdx,
        node_az: u32,
        hash: u64,
    ) -> Result<(GwlbTargetGroupIdx, Choice), NoTarget> {
        let l = &self.load_balancers[lb];
        let tg = l.target_group.ok_or(NoTarget::NoneRegistered)?;
        let c = choose_target(
            &self.target_groups[tg].targets,
            |t| l.cross_zone || t.az == node_az,
            |t| t.health.state.receives_new_flows(),
            hash,
        )?;
        Ok((tg, c))
    }

    /// Every appliance a flow at a node in zone `node_az` of load balancer `lb` may get.
    pub fn every_choice(
        &self,
        lb: GwlbIdx,
        node_az: u32,
    ) -> Result<(GwlbTargetGroupIdx, Vec<Choice>), NoTarget> {
        let l = &self.load_balancers[lb];
        let tg = l.target_group.ok_or(NoTarget::NoneRegistered)?;
        let c = crate::topology::nlb::every_choice(
            &self.target_groups[tg].targets,
            |t| l.cross_zone || t.az == node_az,
            |t| t.health.state.receives_new_flows(),
        )?;
        Ok((tg, c))
    }

    /// The node that serves endpoint `x`: the one in the endpoint's zone (the loader only
    /// accepts endpoints in zones the load balancer serves), else the first.
    pub fn node_for(&self, topo: &Topology, x: GwlbEndpointIdx) -> Option<GwlbNode> {
        let ep = &self.endpoints[x];
        let az = topo.subnets[ep.subnet].az;
        let l = &self.load_balancers[ep.load_balancer];
        l.nodes
            .iter()
            .find(|n| n.az == az)
            .or(l.nodes.first())
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::IpProtocol;

    fn h(src: &str, sp: u16, dst: &str, dp: u16, proto: u8) -> Header {
        Header {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto: IpProtocol(proto),
            src_port: sp,
            dst_port: dp,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: 0,
            ttl: 64,
            len: 60,
        }
    }

    #[test]
    fn hash_is_symmetric_for_every_stickiness() {
        let a = h("10.0.1.10", 40000, "198.51.100.7", 443, 6);
        for s in [
            Stickiness::FiveTuple,
            Stickiness::ThreeTuple,
            Stickiness::TwoTuple,
        ] {
            assert_eq!(flow_hash(&a, s), flow_hash(&a.reply(), s), "{s:?}");
        }
    }

    #[test]
    fn two_tuple_ignores_ports_and_protocol() {
        let a = h("10.0.1.10", 40000, "198.51.100.7", 443, 6);
        let b = h("10.0.1.10", 40001, "198.51.100.7", 80, 17);
        assert_eq!(
            flow_hash(&a, Stickiness::TwoTuple),
            flow_hash(&b, Stickiness::TwoTuple)
        );
        assert_ne!(
            flow_hash(&a, Stickiness::FiveTuple),
            flow_hash(&b, Stickiness::FiveTuple)
        );
        assert_ne!(
            flow_hash(&a, Stickiness::ThreeTuple),
            flow_hash(&b, Stickiness::ThreeTuple)
        );
    }
}
