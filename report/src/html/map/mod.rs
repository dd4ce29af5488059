//! The topology map: positions computed here (VPC boxes holding Availability Zone columns holding
//! subnets holding instances, interfaces and NAT gateways; gateways on the VPC's top edge; the
//! internet above; peering connections and every other kind of resource in bands below), drawn as
//! inline SVG, with packet paths as numbered, clickable hops.
//!
//! Resource kinds this module does not know (transit gateways, VPN gateways, whatever the loader
//! learns next) are drawn as generic boxes in the bottom band, so they appear on the map and can
//! carry hops without a change here. Rule-like kinds (route tables, ACLs, security groups,
//! associations) are not boxes: a hop at one of them is drawn where it applies (the subnet or the
//! interface the packet is at).

mod layout;
mod svg;

use std::collections::BTreeMap;
use vpcsim_dataplane::topology::{
    EigwIdx, EniIdx, IgwIdx, NatIdx, PeeringIdx, ResId, SubnetIdx, VpcIdx,
};
use vpcsim_dataplane::trace::Hop;

const MARGIN: i32 = 20;
const PAD: i32 = 12;
const HOST_W: i32 = 168;
const HOST_H: i32 = 64;
const SUBNET_HEAD: i32 = 62;
const AZ_HEAD: i32 = 24;
const GW_W: i32 = 168;
const GW_H: i32 = 40;
const VPC_HEAD: i32 = GW_H / 2 + 46;
const INTERNET_H: i32 = 48;
const VPC_GAP: i32 = 90;
const BAND_GAP: i32 = 56;
/// VPCs wrap to a new row past this width, so a topology with many VPCs stays on screen.
const MAX_ROW_W: i32 = 2200;
/// Badge radius and the spacing of badges that share a place.
const BADGE_R: i32 = 10;
const BADGE_STEP: i32 = 22;

/// Average glyph widths (px) of the page's sans-serif font at the sizes used, for truncation.
const CHAR_W_BOLD: f64 = 7.4;
const CHAR_W: f64 = 6.4;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Rect {
    fn right(&self) -> i32 {
        self.x + self.w
    }
    fn bottom(&self) -> i32 {
        self.y + self.h
    }
    fn cx(&self) -> i32 {
        self.x + self.w / 2
    }
    fn cy(&self) -> i32 {
        self.y + self.h / 2
    }
}

/// Where on the map a hop is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Internet,
    Vpc(VpcIdx),
    Subnet(SubnetIdx),
    Eni(EniIdx),
    Nat(NatIdx),
    Igw(IgwIdx),
    Eigw(EigwIdx),
    Peering(PeeringIdx),
    Other(ResId),
}

struct Node {
    /// DOM id (`res-<logical id>`); `None` for decorations such as AZ columns.
    dom_id: Option<String>,
    class: &'static str,
    rect: Rect,
    /// Bold first line, then smaller lines.
    title: String,
    lines: Vec<String>,
    tooltip: String,
}

/// A laid-out topology, ready to draw with or without paths.
pub(crate) struct Map {
    width: i32,
    height: i32,
    nodes: Vec<Node>,
    /// Node index of each place that has a box.
    places: BTreeMap<Place, usize>,
    /// Resources that are drawn as (or inside) a box.
    by_res: BTreeMap<ResId, Place>,
    /// Thin lines: internet ↔ gateways, peering ↔ VPCs.
    links: Vec<(i32, i32, i32, i32)>,
    internet: Rect,
}

/// Where one hop's badge goes: the box it is drawn on and the badge's centre.
type Spot = (Place, i32, i32);

/// One packet path to draw: `key` is `forward` or `return` (DOM attribute and CSS class).
pub(crate) struct PathSpec<'a> {
    pub(crate) key: &'static str,
    pub(crate) hops: &'a [Hop],
    /// The packet left the model: draw a last arrow from the final hop to the internet.
    pub(crate) exited: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpcsim_dataplane::topology::{Subnet, Topology};
    use vpcsim_dataplane::trace::{Action, Stage};
    use vpcsim_dataplane::wire::{Header, IpProtocol};

    fn header() -> Header {
        Header {
            src: "10.0.0.5".parse().unwrap(),
            dst: "10.1.0.5".parse().unwrap(),
            proto: IpProtocol::TCP,
            src_port: 40000,
            dst_port: 443,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: 2,
            ttl: 64,
            len: 40,
        }
    }

    /// A kind this module has never heard of gets a generic box with a stable id, and a hop at it
    /// is drawn there; a rule-like unknown kind gets no box and its hop stays where the packet is.
    #[test]
    fn unknown_kinds_are_drawn_generically() {
        let mut topo = Topology::new();
        let tgw = topo.add_resource("CoreTgw", "tgw-1", "AWS::EC2::TransitGateway", None);
        let tgw_rt = topo.add_resource(
            "CoreTgwRt",
            "tgw-rtb-1",
            "AWS::EC2::TransitGatewayRouteTable",
            None,
        );
        let vpc = topo.add_resource("Vpc", "vpc-1", "AWS::EC2::VPC", None);
        topo.vpcs.push(vpcsim_dataplane::topology::Vpc {
            res: vpc,
            cidrs_v4: vec!["10.0.0.0/16".parse().unwrap()],
            ..Default::default()
        });
        let sn = topo.add_resource("Sn", "subnet-1", "AWS::EC2::Subnet", None);
        topo.subnets.push(Subnet {
            res: sn,
            vpc: VpcIdx(0),
            availability_zone: "us-east-1a".into(),
            cidr_v4: Some("10.0.0.0/24".parse().unwrap()),
            ..Default::default()
        });
        topo.finish();
        let hop = |resource| Hop {
            resource,
            stage: Stage::Route,
            action: Action::Forward,
            rule: None,
            detail: String::new(),
            header: header(),
        };
        let hops = vec![hop(sn), hop(tgw), hop(tgw_rt)];
        let referenced = hops.iter().map(|h| h.resource).collect();
        let map = Map::new(&topo, &referenced);
        let places = map.resolve(&topo, &hops);
        assert_eq!(
            places,
            vec![
                Place::Subnet(SubnetIdx(0)),
                Place::Other(tgw),
                Place::Other(tgw)
            ]
        );
        let svg = map.svg(
            &topo,
            &[PathSpec {
                key: "forward",
                hops: &hops,
                exited: false,
            }],
        );
        assert!(svg.contains(r#"id="res-CoreTgw""#), "{svg}");
        assert!(svg.contains("TransitGateway<"), "{svg}");
        assert!(!svg.contains(r#"id="res-CoreTgwRt""#), "{svg}");
        assert!(
            svg.contains(r#"data-hop-index="2" data-node="res-CoreTgw""#),
            "{svg}"
        );
        // Same input, same bytes.
        assert_eq!(
            svg,
            Map::new(&topo, &referenced).svg(
                &topo,
                &[PathSpec {
                    key: "forward",
                    hops: &hops,
                    exited: false
                }]
            )
        );
    }
}
