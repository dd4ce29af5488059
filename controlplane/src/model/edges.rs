//! Transit gateways and Site-to-Site VPN.

use super::{Model, Origin};
use ipnet::IpNet;
use std::net::Ipv4Addr;

/// An `AWS::EC2::TransitGateway`.
#[derive(Clone, Debug)]
pub struct TransitGateway {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// `DefaultRouteTableAssociation: enable` (the default): new attachments associate with
    /// the default route table.
    pub default_association: bool,
    /// `DefaultRouteTablePropagation: enable` (the default): new attachments propagate into it.
    pub default_propagation: bool,
    /// The implicit default route table (index into [`Model::tgw_route_tables`]), when either
    /// default is enabled.
    pub default_route_table: Option<usize>,
}

/// What a transit gateway attachment connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TgwAttachmentKind {
    /// A VPC attachment: one subnet per Availability Zone.
    Vpc {
        /// Index into [`Model::vpcs`].
        vpc: usize,
        /// Indices into [`Model::subnets`], in Availability Zone order.
        subnets: Vec<usize>,
    },
    /// The attachment a VPN connection with `TransitGatewayId` creates.
    Vpn(usize),
    /// An `AWS::EC2::TransitGatewayPeeringAttachment`: one attachment, seen by both transit
    /// gateways. The attachment's own `tgw` and `association` are the requester's side.
    Peering {
        /// The accepter's transit gateway (index into [`Model::transit_gateways`]).
        peer_tgw: usize,
        /// `PeerRegion`: the accepter's Region.
        peer_region: String,
        /// The accepter side's associated route table.
        peer_association: Option<usize>,
    },
}

/// A transit gateway attachment.
#[derive(Clone, Debug)]
pub struct TgwAttachment {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::transit_gateways`].
    pub tgw: usize,
    /// What it connects.
    pub kind: TgwAttachmentKind,
    /// `ApplianceModeSupport`: both directions of a flow use the same Availability Zone.
    pub appliance_mode: bool,
    /// The associated transit gateway route table.
    pub association: Option<usize>,
    /// Transit gateway route tables this attachment propagates its routes into.
    pub propagations: Vec<usize>,
}

/// An `AWS::EC2::TransitGatewayRouteTable` (or a transit gateway's default route table).
#[derive(Clone, Debug)]
pub struct TgwRouteTable {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::transit_gateways`].
    pub tgw: usize,
    /// Static routes (`AWS::EC2::TransitGatewayRoute`).
    pub routes: Vec<TgwRoute>,
}

/// A static transit gateway route.
#[derive(Clone, Debug)]
pub struct TgwRoute {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The destination CIDR.
    pub destination: IpNet,
    /// The attachment; `None` for a blackhole route.
    pub attachment: Option<usize>,
}

/// An `AWS::EC2::VPNGateway`: a virtual private gateway.
#[derive(Clone, Debug)]
pub struct VpnGateway {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The VPC it is attached to.
    pub vpc: Option<usize>,
    /// Route tables with `AWS::EC2::VPNGatewayRoutePropagation` from this gateway, each with
    /// the propagation resource.
    pub propagations: Vec<(usize, Origin)>,
}

/// An `AWS::EC2::CustomerGateway`: the on-premises end of a Site-to-Site VPN.
#[derive(Clone, Debug)]
pub struct CustomerGateway {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// `IpAddress`: its public address.
    pub ip_address: Option<Ipv4Addr>,
    /// Prefixes it advertises over BGP, from the `vpcsim:prefixes` tag.
    pub bgp_prefixes: Vec<IpNet>,
}

/// The AWS end of a Site-to-Site VPN connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VpnEdge {
    /// A virtual private gateway (index into [`Model::vpn_gateways`]).
    VpnGateway(usize),
    /// A transit gateway and the VPN attachment the connection created on it.
    TransitGateway {
        /// Index into [`Model::transit_gateways`].
        tgw: usize,
        /// Index into [`Model::tgw_attachments`].
        attachment: usize,
    },
}

/// An `AWS::EC2::VPNConnection`: a Site-to-Site VPN connection.
#[derive(Clone, Debug)]
pub struct VpnConnection {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::customer_gateways`].
    pub customer_gateway: usize,
    /// The gateway it ends on in AWS.
    pub edge: VpnEdge,
    /// `StaticRoutesOnly`: static routes instead of BGP.
    pub static_routes_only: bool,
    /// `AWS::EC2::VPNConnectionRoute`s.
    pub static_routes: Vec<(Origin, IpNet)>,
    /// Extra BGP prefixes declared on the connection itself (`vpcsim:prefixes` tag).
    pub bgp_prefixes: Vec<IpNet>,
}

impl VpnConnection {
    /// The on-premises prefixes behind the connection: static routes, or with BGP the prefixes
    /// the customer gateway (and the connection's own tag) declare.
    pub fn prefixes(&self, model: &Model) -> Vec<IpNet> {
        if self.static_routes_only {
            return self.static_routes.iter().map(|(_, p)| *p).collect();
        }
        let mut out: Vec<IpNet> = Vec::new();
        let declared = model.customer_gateways[self.customer_gateway]
            .bgp_prefixes
            .iter()
            .chain(&self.bgp_prefixes);
        for p in declared {
            if !out.contains(p) {
                out.push(*p);
            }
        }
        out
    }
}
