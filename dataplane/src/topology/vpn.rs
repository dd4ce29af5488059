//! Site-to-Site VPN edges (SPEC §2.7, §2.8, §14.6): virtual private gateways and the VPN
//! connections behind them (or behind a transit gateway), with the on-premises prefixes each
//! connection reaches.

use crate::topology::tgw::PrefixMap;
use crate::topology::{ResId, RouteTableIdx, TgwAttachmentIdx, VgwIdx, VpcIdx, VpnConnIdx};
use ipnet::IpNet;

/// A virtual private gateway.
#[derive(Clone, Debug, Default)]
pub struct VpnGateway {
    pub res: ResId,
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
    VpnGateway(VgwIdx),
    /// A transit gateway: the connection is one of its attachments.
    TransitGateway {
        attachment: TgwAttachmentIdx,
    },
}

#[derive(Clone, Debug)]
pub struct VpnConnection {
    pub res: ResId,
    /// The `AWS::EC2::CustomerGateway` on the far side (the on-premises router).
    pub customer_gateway: ResId,
    pub edge: VpnEdge,
    /// The on-premises networks behind the connection: its static routes, or the prefixes its
    /// customer gateway advertises over BGP (declared with the `vpcsim:prefixes` tag).
    pub prefixes: Vec<IpNet>,
}
