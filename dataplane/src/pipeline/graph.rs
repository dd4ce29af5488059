//! The vertices of the stage graph and its edges, as data: what `vpcsim graph` prints, what the
//! per-node counters are named after, and what a test checks the running pipeline against.

use crate::topology::network_firewall::FirewallEndpointIdx;
use crate::topology::{
    AlbIdx, EigwIdx, EniIdx, GwlbEndpointIdx, IgwIdx, NatIdx, NlbIdx, PeeringIdx, ResId,
    RouteTableIdx, SubnetIdx, TgwAttachmentIdx, TgwIdx, VgwIdx, VpcEndpointIdx, VpcIdx, VpnConnIdx,
};
use crate::trace::Stage;

/// A node of the stage graph with its arguments: where a packet goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// A packet leaves interface `eni` (`origin`: the instance sends it, rather than an
    /// appliance forwarding it).
    Leave {
        /// The interface.
        eni: EniIdx,
        /// The walk starts here.
        origin: bool,
    },
    /// A packet that passed `eni`'s outbound checks enters its subnet: delivered directly in
    /// the same subnet, routed otherwise.
    IntoSubnet {
        /// The sending interface.
        eni: EniIdx,
    },
    /// A packet arrives at interface `eni`, from `from_subnet` (`None`: from outside the VPC).
    Enter {
        /// The receiving interface.
        eni: EniIdx,
        /// The subnet it comes from, when inside the VPC.
        from_subnet: Option<SubnetIdx>,
    },
    /// The subnet's route table, its outbound network ACL, then the route's target.
    Route {
        /// The subnet whose route table decides.
        subnet: SubnetIdx,
        /// The interface that sent the packet (for flow logs).
        from: Option<EniIdx>,
    },
    /// The local route: the interface of the VPC that owns the destination.
    Local {
        /// The VPC.
        vpc: VpcIdx,
        /// The subnet the packet leaves.
        from_subnet: SubnetIdx,
        /// The route table (blamed when nobody owns the destination).
        rt: ResId,
    },
    /// A gateway route table (edge association) decides for traffic entering a VPC.
    EdgeRoute {
        /// The gateway route table.
        rt: RouteTableIdx,
        /// The VPC entered.
        vpc: VpcIdx,
        /// The internet or virtual private gateway the traffic entered through.
        gateway: ResId,
        /// Entered from the internet (not from a VPN).
        from_internet: bool,
    },
    /// A route sends the packet to an internet gateway.
    IgwOut {
        /// The internet gateway.
        igw: IgwIdx,
        /// The VPC the packet leaves.
        vpc: VpcIdx,
        /// The subnet the packet leaves.
        from_subnet: SubnetIdx,
    },
    /// A route sends the packet to an egress-only internet gateway.
    EigwOut {
        /// The egress-only gateway.
        eigw: EigwIdx,
    },
    /// The packet leaves through a gateway to the internet, or comes back in when the topology
    /// itself owns the destination.
    ToInternet {
        /// The gateway it leaves through.
        gateway: ResId,
        /// The stage a hairpin is reported at.
        stage: Stage,
    },
    /// A packet from the internet (or an AWS service behind a gateway endpoint).
    FromInternet,
    /// A route sends a client's packet to a NAT gateway.
    NatOut {
        /// The NAT gateway.
        nat: NatIdx,
        /// The subnet the packet comes from.
        from_subnet: SubnetIdx,
    },
    /// A packet reaches a NAT gateway's interface from outside: translated back.
    NatIn {
        /// The NAT gateway.
        nat: NatIdx,
    },
    /// A route sends the packet to an appliance's interface.
    Appliance {
        /// The appliance's interface.
        eni: EniIdx,
        /// The VPC whose route table (or gateway route table) sent it.
        vpc: VpcIdx,
        /// The subnet it comes from (`None`: from a gateway route table).
        from_subnet: Option<SubnetIdx>,
    },
    /// A route sends the packet over a VPC peering connection.
    Peering {
        /// The peering connection.
        pcx: PeeringIdx,
        /// The VPC it comes from.
        from_vpc: VpcIdx,
    },
    /// A route sends the packet to a transit gateway through the VPC's attachment.
    TgwFromVpc {
        /// The transit gateway.
        tgw: TgwIdx,
        /// The subnet it comes from.
        from_subnet: SubnetIdx,
    },
    /// A packet arrives at a transit gateway from an attachment (a walk's origin).
    TgwArrive {
        /// The attachment.
        attachment: TgwAttachmentIdx,
    },
    /// The transit gateway route table associated with the attachment decides.
    TgwRoute {
        /// The attachment the packet arrived from.
        attachment: TgwAttachmentIdx,
        /// The Availability Zone it entered in (none from a VPN).
        entry_az: Option<u32>,
    },
    /// A packet leaves a transit gateway into a VPC through an attachment subnet.
    FromTgw {
        /// The attachment subnet.
        subnet: SubnetIdx,
    },
    /// A route sends the packet to a virtual private gateway.
    VgwOut {
        /// The virtual private gateway.
        vgw: VgwIdx,
        /// The VPC it comes from.
        vpc: VpcIdx,
    },
    /// A packet from the on-premises network behind a VPN connection.
    FromOnPrem {
        /// The VPN connection.
        conn: VpnConnIdx,
    },
    /// A packet from a VPN connection reaches its virtual private gateway.
    VgwIn {
        /// The virtual private gateway.
        vgw: VgwIdx,
    },
    /// A route sends the packet to a gateway endpoint (S3, DynamoDB).
    GatewayEndpoint {
        /// The endpoint.
        endpoint: VpcEndpointIdx,
    },
    /// A packet reaches a node of a Network Load Balancer.
    Nlb {
        /// The load balancer.
        lb: NlbIdx,
        /// The node's interface.
        node: EniIdx,
    },
    /// A packet reaches a node of an Application Load Balancer.
    Alb {
        /// The load balancer.
        lb: AlbIdx,
        /// The node's interface.
        node: EniIdx,
    },
    /// A route sends the packet to a Gateway Load Balancer endpoint.
    GwlbEndpoint {
        /// The endpoint.
        endpoint: GwlbEndpointIdx,
        /// The VPC whose route table sent it.
        vpc: VpcIdx,
        /// The subnet it comes from (`None`: from a gateway route table).
        from_subnet: Option<SubnetIdx>,
    },
    /// A route sends the packet to an AWS Network Firewall endpoint.
    NetworkFirewall {
        /// The endpoint.
        endpoint: FirewallEndpointIdx,
        /// The VPC whose route table sent it.
        vpc: VpcIdx,
        /// The subnet it comes from (`None`: from a gateway route table).
        from_subnet: Option<SubnetIdx>,
    },
}

macro_rules! node_kinds {
    ($( $kind:ident = $name:literal, $what:literal; )*) => {
        /// A node of the stage graph without its arguments: its name and its edges.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum NodeKind {
            $(
                #[doc = $what]
                $kind,
            )*
        }

        impl NodeKind {
            /// Every node, in the order of the graph's drawing.
            pub const ALL: &'static [NodeKind] = &[ $( NodeKind::$kind, )* ];
            /// How many there are.
            pub const COUNT: usize = Self::ALL.len();

            /// The node's name in counters and drawings (`route-table`, ...).
            pub fn name(self) -> &'static str {
                match self { $( NodeKind::$kind => $name, )* }
            }

            /// One line saying what the node is.
            pub fn what(self) -> &'static str {
                match self { $( NodeKind::$kind => $what, )* }
            }
        }
    };
}

node_kinds! {
    Leave = "interface-out", "a packet leaves an interface: source/destination check, link-local services, security group egress";
    IntoSubnet = "subnet-out", "into the sender's subnet: same-subnet delivery without route table or NACL, else routed";
    Route = "route-table", "the subnet's route table (longest prefix match), its outbound NACL, the route's target";
    Local = "local-route", "the local route: the interface that owns the destination in the VPC";
    EdgeRoute = "gateway-route-table", "a gateway route table (edge association) steers traffic entering a VPC";
    Enter = "interface-in", "a packet arrives at an interface: inbound NACL across subnets, security group ingress";
    IgwOut = "internet-gateway-out", "internet gateway: 1:1 NAT to the public IP, private destinations dropped";
    EigwOut = "egress-only-gateway-out", "egress-only internet gateway: IPv6 out, tracked for replies";
    ToInternet = "internet-exit", "to the internet, or back in when the topology owns the destination";
    FromInternet = "internet-gateway-in", "from the internet: public IP to private address, gateway endpoint replies";
    NatOut = "nat-gateway-out", "NAT gateway: port address translation to its Elastic IP";
    NatIn = "nat-gateway-in", "NAT gateway: replies translated back, unsolicited packets dropped";
    Appliance = "appliance", "an appliance interface a route points at: forwards when source/destination check is off";
    Peering = "peering", "VPC peering: into the peer VPC only (no transit)";
    TgwFromVpc = "tgw-attachment-in", "into a transit gateway through the VPC attachment's subnet in the sender's zone";
    TgwArrive = "tgw-arrive", "a packet arrives at a transit gateway from an attachment";
    TgwRoute = "tgw-route-table", "the transit gateway route table associated with the attachment";
    FromTgw = "tgw-attachment-out", "out of a transit gateway into a VPC through an attachment subnet";
    VgwOut = "vpn-gateway-out", "virtual private gateway: to the VPN connection that reaches the destination";
    FromOnPrem = "vpn-in", "a packet from the on-premises network behind a VPN connection";
    VgwIn = "vpn-gateway-in", "virtual private gateway: into its VPC only";
    GatewayEndpoint = "gateway-endpoint", "gateway endpoint: out to S3 or DynamoDB (TCP and ICMP echo)";
    Nlb = "nlb", "Network Load Balancer node: listener, target choice, flow table, address rewrite";
    GwlbEndpoint = "gwlb-endpoint", "Gateway Load Balancer endpoint: GENEVE to an appliance and back";
    Alb = "alb", "Application Load Balancer node: the listener ends the client's connection (HTTP is evaluated by the proxy)";
    NetworkFirewall = "network-firewall", "AWS Network Firewall endpoint: stateless then stateful rules, then the firewall subnet's route table";
}

/// Where a walk ends, as the graph drawing names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum End {
    /// Delivered to an interface or a link-local service.
    Deliver,
    /// Left the topology.
    Exit,
    /// Dropped with a reason.
    Drop,
}

impl End {
    /// The end's name in the drawing.
    pub fn name(self) -> &'static str {
        match self {
            End::Deliver => "DELIVER",
            End::Exit => "EXIT",
            End::Drop => "DROP",
        }
    }
}

/// An edge of the graph: to another node, or to an end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Edge {
    /// To a node.
    Node(NodeKind),
    /// To an end.
    End(End),
}

impl Node {
    /// The node without its arguments.
    pub fn kind(&self) -> NodeKind {
        match self {
            Node::Leave { .. } => NodeKind::Leave,
            Node::IntoSubnet { .. } => NodeKind::IntoSubnet,
            Node::Enter { .. } => NodeKind::Enter,
            Node::Route { .. } => NodeKind::Route,
            Node::Local { .. } => NodeKind::Local,
            Node::EdgeRoute { .. } => NodeKind::EdgeRoute,
            Node::IgwOut { .. } => NodeKind::IgwOut,
            Node::EigwOut { .. } => NodeKind::EigwOut,
            Node::ToInternet { .. } => NodeKind::ToInternet,
            Node::FromInternet => NodeKind::FromInternet,
            Node::NatOut { .. } => NodeKind::NatOut,
            Node::NatIn { .. } => NodeKind::NatIn,
            Node::Appliance { .. } => NodeKind::Appliance,
            Node::Peering { .. } => NodeKind::Peering,
            Node::TgwFromVpc { .. } => NodeKind::TgwFromVpc,
            Node::TgwArrive { .. } => NodeKind::TgwArrive,
            Node::TgwRoute { .. } => NodeKind::TgwRoute,
            Node::FromTgw { .. } => NodeKind::FromTgw,
            Node::VgwOut { .. } => NodeKind::VgwOut,
            Node::FromOnPrem { .. } => NodeKind::FromOnPrem,
            Node::VgwIn { .. } => NodeKind::VgwIn,
            Node::GatewayEndpoint { .. } => NodeKind::GatewayEndpoint,
            Node::Nlb { .. } => NodeKind::Nlb,
            Node::GwlbEndpoint { .. } => NodeKind::GwlbEndpoint,
            Node::Alb { .. } => NodeKind::Alb,
            Node::NetworkFirewall { .. } => NodeKind::NetworkFirewall,
        }
    }
}

impl NodeKind {
    /// Where a packet can go from this node. A test runs every example through the pipeline
    /// and checks that each step it takes is listed here, so the drawing cannot go stale.
    pub fn edges(self) -> &'static [Edge] {
        use End::*;
        use NodeKind as K;
        match self {
            K::Leave => &[
                Edge::Node(K::IntoSubnet),
                Edge::End(Deliver),
                Edge::End(Drop),
            ],
            K::IntoSubnet => &[Edge::Node(K::Route), Edge::Node(K::Enter), Edge::End(Drop)],
            K::Route => &[
                Edge::Node(K::Local),
                Edge::Node(K::IgwOut),
                Edge::Node(K::EigwOut),
                Edge::Node(K::NatOut),
                Edge::Node(K::Appliance),
                Edge::Node(K::Peering),
                Edge::Node(K::TgwFromVpc),
                Edge::Node(K::VgwOut),
                Edge::Node(K::GatewayEndpoint),
                Edge::Node(K::GwlbEndpoint),
                Edge::Node(K::NetworkFirewall),
                Edge::End(Drop),
            ],
            K::Local => &[Edge::Node(K::Enter), Edge::End(Drop)],
            K::EdgeRoute => &[
                Edge::Node(K::Enter),
                Edge::Node(K::Appliance),
                Edge::Node(K::GwlbEndpoint),
                Edge::Node(K::NetworkFirewall),
                Edge::End(Drop),
            ],
            K::Enter => &[
                Edge::Node(K::NatIn),
                Edge::Node(K::Nlb),
                Edge::Node(K::Alb),
                Edge::End(Deliver),
                Edge::End(Drop),
            ],
            K::IgwOut => &[Edge::Node(K::ToInternet), Edge::End(Drop)],
            K::EigwOut => &[Edge::Node(K::ToInternet), Edge::End(Drop)],
            K::ToInternet => &[
                Edge::Node(K::FromInternet),
                Edge::End(Exit),
                Edge::End(Drop),
            ],
            K::FromInternet => &[
                Edge::Node(K::EdgeRoute),
                Edge::Node(K::Enter),
                Edge::End(Drop),
            ],
            K::NatOut => &[Edge::Node(K::Route), Edge::End(Drop)],
            K::NatIn => &[Edge::Node(K::Route), Edge::End(Drop)],
            K::Appliance => &[Edge::Node(K::Leave), Edge::End(Deliver), Edge::End(Drop)],
            K::Peering => &[Edge::Node(K::Enter), Edge::End(Drop)],
            K::TgwFromVpc => &[Edge::Node(K::TgwRoute), Edge::End(Drop)],
            K::TgwArrive => &[Edge::Node(K::TgwRoute), Edge::Node(K::FromOnPrem)],
            K::TgwRoute => &[
                Edge::Node(K::FromTgw),
                Edge::Node(K::TgwRoute),
                Edge::End(Exit),
                Edge::End(Drop),
            ],
            K::FromTgw => &[Edge::Node(K::Enter), Edge::Node(K::Route), Edge::End(Drop)],
            K::VgwOut => &[Edge::End(Exit), Edge::End(Drop)],
            K::FromOnPrem => &[Edge::Node(K::VgwIn), Edge::Node(K::TgwRoute)],
            K::VgwIn => &[
                Edge::Node(K::EdgeRoute),
                Edge::Node(K::Enter),
                Edge::End(Drop),
            ],
            K::GatewayEndpoint => &[Edge::End(Exit), Edge::End(Drop)],
            K::Nlb => &[
                Edge::Node(K::IntoSubnet),
                Edge::End(Deliver),
                Edge::End(Drop),
            ],
            K::GwlbEndpoint => &[Edge::Node(K::Route), Edge::End(Drop)],
            K::Alb => &[Edge::End(Deliver), Edge::End(Drop)],
            K::NetworkFirewall => &[Edge::Node(K::Route), Edge::End(Drop)],
        }
    }

    /// The nodes a walk can start at, with the origin that starts it.
    pub const STARTS: &'static [(&'static str, NodeKind)] = &[
        ("interface", NodeKind::Leave),
        ("internet", NodeKind::FromInternet),
        ("on-premises", NodeKind::FromOnPrem),
        ("transit gateway attachment", NodeKind::TgwArrive),
    ];
}
