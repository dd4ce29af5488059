//! Route tables, their routes and targets, and gateway route tables (ingress routing).

use super::Origin;
// The index fields' docs link to the lists they index.
#[cfg(doc)]
use super::Model;
use ipnet::IpNet;

/// An `AWS::EC2::RouteTable` (or a VPC's main route table).
#[derive(Clone, Debug)]
pub struct RouteTable {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// Index into [`Model::vpcs`].
    pub vpc: usize,
    /// The VPC's main route table.
    pub main: bool,
    /// Static routes with a CIDR destination; local routes are implicit.
    pub routes: Vec<Route>,
}

/// A route with a CIDR destination.
#[derive(Clone, Debug)]
pub struct Route {
    /// The `AWS::EC2::Route` resource.
    pub origin: Origin,
    /// The destination CIDR, host bits cleared.
    pub destination: IpNet,
    /// Where matching packets go.
    pub target: RouteTarget,
}

/// Where a route sends packets (indices into the [`Model`]'s lists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteTarget {
    /// An internet gateway (`GatewayId: igw-…`).
    InternetGateway(usize),
    /// An egress-only internet gateway.
    EgressOnlyInternetGateway(usize),
    /// A NAT gateway.
    NatGateway(usize),
    /// An interface (for `InstanceId`, the instance's primary interface).
    NetworkInterface(usize),
    /// A VPC peering connection.
    Peering(usize),
    /// A transit gateway.
    TransitGateway(usize),
    /// A virtual private gateway (`GatewayId: vgw-…`).
    VpnGateway(usize),
    /// The target id names nothing in the topology: the route is a blackhole.
    Missing(String),
}

/// Which gateway a gateway route table is associated with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeGateway {
    /// An internet gateway (index into [`Model::internet_gateways`]).
    InternetGateway(usize),
    /// A virtual private gateway (index into [`Model::vpn_gateways`]).
    VpnGateway(usize),
}

/// An `AWS::EC2::GatewayRouteTableAssociation`: a route table routing traffic that enters the
/// VPC through a gateway.
#[derive(Clone, Debug)]
pub struct GatewayRouteTable {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
    /// The gateway whose incoming traffic the table routes.
    pub gateway: EdgeGateway,
    /// Index into [`Model::route_tables`].
    pub route_table: usize,
}
