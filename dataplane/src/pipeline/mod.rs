//! The VPC data plane as a graph of stages (DESIGN.md "The pipeline as a graph of stages",
//! SPEC §0.2).
//!
//! A packet starts at an origin (an interface, the internet, an on-premises network behind a
//! VPN, or a transit gateway attachment) and moves from [`Node`] to node: each node is one AWS
//! concept (an interface sending or receiving, a route table, an internet gateway, a NAT
//! gateway, ...) and hands the packet to the next node, rewrites it, or ends its walk: delivered,
//! exited, or dropped with a [`DropReason`](crate::DropReason) naming the resource that decided.
//!
//! Every node is written once, generic over a [`Driver`]: [`process`] runs the graph for one
//! packet (replay, trace, health checks, `gen`) with the concrete driver, and
//! [`crate::reach`] runs the same nodes over sets of headers with the symbolic driver. The
//! tables the nodes read ([`driver::AddressMap`], [`driver::Rules`]) each have one home with
//! both their concrete lookup and their symbolic side, so the two drivers cannot disagree on a
//! rule. With [`crate::trace::NoTrace`] every hop and the strings it would format compile
//! away, so `trace` and `replay` run the same code.
//!
//! Adding a resource type means adding a node (one file here, one variant of [`Node`], its
//! edges in [`graph`]) and its compiled table; a new route target that no node handles does
//! not compile (route targets are matched exhaustively in the `route_table` node).

pub mod driver;
pub mod exchange;
pub mod graph;
pub mod health;

mod alb;
mod appliance;
mod concrete;
mod counters;
mod endpoint;
mod gwlb;
mod interface;
mod internet_gateway;
mod nat_gateway;
mod network_acl;
mod network_firewall;
mod nlb;
mod peering;
mod route_table;
mod security_group;
mod transit_gateway;
mod vpn;

pub use concrete::{process, process_header};
pub use counters::{NodeCounters, NodeStats};
pub use driver::Driver;
pub use graph::{Node, NodeKind};
pub use route_table::describe_route;

use crate::topology::{EniIdx, TgwAttachmentIdx, VpnConnIdx};

/// Where a packet enters the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The interface that owns the source address; else the VPN connection whose on-premises
    /// prefixes hold it; else the internet.
    Auto,
    /// Leaves this interface.
    Eni(EniIdx),
    /// Arrives from the internet at the gateway that owns the destination.
    Internet,
    /// Arrives from the on-premises network behind this VPN connection.
    OnPrem(VpnConnIdx),
    /// Arrives at a transit gateway from this attachment.
    TransitGatewayAttachment(TgwAttachmentIdx),
}

impl Origin {
    /// The node a walk from this origin starts at (`Auto` must be resolved first: it starts
    /// from the internet).
    pub fn start(self) -> Node {
        match self {
            Origin::Eni(eni) => Node::Leave { eni, origin: true },
            Origin::OnPrem(conn) => Node::FromOnPrem { conn },
            Origin::TransitGatewayAttachment(attachment) => Node::TgwArrive { attachment },
            Origin::Auto | Origin::Internet => Node::FromInternet,
        }
    }
}

/// Run node `node` for packet `p`: the one place that maps the graph's vertices to the code of
/// their stage. Both drivers call it; the match is exhaustive. Inlined into every hand-over, so
/// where the next node is known (every `next` call with a literal node) the match folds away
/// and a hop is a direct call.
#[inline(always)]
pub fn dispatch<'t, D: Driver<'t>>(d: &mut D, p: D::Packet, node: Node) {
    match node {
        Node::Leave { eni, origin } => interface::leave(d, p, eni, origin),
        Node::IntoSubnet { eni } => interface::into_subnet(d, p, eni),
        Node::Enter { eni, from_subnet } => interface::enter(d, p, eni, from_subnet),
        Node::Route { subnet, from } => route_table::route(d, p, subnet, from),
        Node::Local {
            vpc,
            from_subnet,
            rt,
        } => route_table::local(d, p, vpc, from_subnet, rt),
        Node::EdgeRoute {
            rt,
            vpc,
            gateway,
            from_internet,
        } => route_table::edge_route(d, p, rt, vpc, gateway, from_internet),
        Node::IgwOut {
            igw,
            vpc,
            from_subnet,
        } => internet_gateway::egress(d, p, igw, vpc, from_subnet),
        Node::EigwOut { eigw } => internet_gateway::egress_only(d, p, eigw),
        Node::ToInternet { gateway, stage } => internet_gateway::to_internet(d, p, gateway, stage),
        Node::FromInternet => internet_gateway::from_internet(d, p),
        Node::NatOut { nat, from_subnet } => nat_gateway::outbound(d, p, nat, from_subnet),
        Node::NatIn { nat } => nat_gateway::inbound(d, p, nat),
        Node::Appliance {
            eni,
            vpc,
            from_subnet,
        } => appliance::appliance(d, p, eni, vpc, from_subnet),
        Node::Peering { pcx, from_vpc } => peering::peering(d, p, pcx, from_vpc),
        Node::TgwFromVpc { tgw, from_subnet } => transit_gateway::from_vpc(d, p, tgw, from_subnet),
        Node::TgwArrive { attachment } => transit_gateway::arrive(d, p, attachment),
        Node::TgwRoute {
            attachment,
            entry_az,
        } => transit_gateway::route(d, p, attachment, entry_az),
        Node::FromTgw { subnet } => transit_gateway::into_vpc(d, p, subnet),
        Node::VgwOut { vgw, vpc } => vpn::vgw_egress(d, p, vgw, vpc),
        Node::FromOnPrem { conn } => vpn::from_onprem(d, p, conn),
        Node::VgwIn { vgw } => vpn::vgw_ingress(d, p, vgw),
        Node::GatewayEndpoint { endpoint } => endpoint::gateway_endpoint(d, p, endpoint),
        Node::Nlb { lb, node } => nlb::arrive(d, p, lb, node),
        Node::Alb { lb, node } => alb::arrive(d, p, lb, node),
        Node::GwlbEndpoint {
            endpoint,
            vpc,
            from_subnet,
        } => gwlb::endpoint(d, p, endpoint, vpc, from_subnet),
        Node::NetworkFirewall {
            endpoint,
            vpc,
            from_subnet,
        } => network_firewall::endpoint(d, p, endpoint, vpc, from_subnet),
    }
}
