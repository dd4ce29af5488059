//! Site-to-Site VPN edges (SPEC §2.7, §2.8, §14.6): virtual private gateways and the VPN
//! connections behind them (or behind a transit gateway), with the on-premises prefixes each
//! connection reaches.

use crate::topology::tgw::PrefixMap;
use crate::topology::{ResId, RouteTableIdx, TgwAttachmentIdx, VgwIdx, VpcIdx, VpnConnIdx};
use ipnet::IpNet;

/// A virtual private gateway.
#[derive(Clone, Debug, Default)]
pub struct VpnGateway {
    /// The `AWS::EC2::VPNGateway` resource, which names it in output.
    pub res: ResId,
    /// The VPC it is attached to (`None`: detached).
    pub vpc: Option<VpcIdx>,
    /// The gateway route table (edge association) that routes traffic entering the VPC here.
    pub route_table: Option<RouteTableIdx>,
    /// Every prefix the gateway knows from its connections → the connection. A VGW forwards
    /// only to these (and into its VPC); anything else is dropped.
    pub routes: PrefixMap<VpnConnIdx>,
}

/// Where a VPN connection terminates on the AWS side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VpnEdge {
    /// A virtual private gateway.
    VpnGateway(VgwIdx),
    /// A transit gateway: the connection is one of its attachments.
    TransitGateway {
        /// The connection's attachment to the transit gateway.
        attachment: TgwAttachmentIdx,
    },
}

/// A Site-to-Site VPN connection: the customer gateway on premises, where the connection ends on
/// the AWS side, and the on-premises networks it reaches.
#[derive(Clone, Debug)]
pub struct VpnConnection {
    /// The `AWS::EC2::VPNConnection` resource, which names it in output.
    pub res: ResId,
    /// The `AWS::EC2::CustomerGateway` on the far side (the on-premises router).
    pub customer_gateway: ResId,
    /// Where the connection ends on the AWS side.
    pub edge: VpnEdge,
    /// The on-premises networks behind the connection: its static routes, or the prefixes its
    /// customer gateway advertises over BGP (declared with the `vpcsim:prefixes` tag).
    pub prefixes: Vec<IpNet>,
}
