//! What happened to a packet: its disposition, the reason for a drop, and where.

use crate::topology::{EniIdx, ResId, VpnConnIdx};
use crate::wire::Header;
use std::fmt;

/// The fate of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Disposition {
    /// Arrived at a network interface (or at a link-local service such as the Amazon DNS resolver).
    Delivered,
    /// Left the modelled network through a gateway (to the internet, or to on-premises networks
    /// through a VPN).
    Exited,
    /// Dropped; [`Verdict::reason`] says why and [`Verdict::at`] says where.
    Dropped,
}

impl Disposition {
    /// Every disposition.
    pub const ALL: [Disposition; 3] = [Self::Delivered, Self::Exited, Self::Dropped];

    /// The name verdicts print (`DELIVERED`, `EXITED`, `DROPPED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "DELIVERED",
            Self::Exited => "EXITED",
            Self::Dropped => "DROPPED",
        }
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! drop_reasons {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $ra:literal, $hint:literal; )*) => {
        /// Why a packet was dropped. Every drop the pipeline can produce carries one of these.
        ///
        /// The codes are vpcsim's own (stable, used in verdicts, summaries, flow logs and tests);
        /// [`DropReason::ra_code`] gives the closest AWS Reachability Analyzer explanation code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum DropReason { $( $(#[$doc])* $variant, )* }

        impl DropReason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [DropReason] = &[ $( DropReason::$variant, )* ];
            /// Number of reasons: the length of per-reason counter arrays.
            pub const COUNT: usize = Self::ALL.len();

            /// The code as printed (`NACL_INGRESS_DENIED`, ...).
            pub fn as_str(self) -> &'static str {
                match self { $( DropReason::$variant => $code, )* }
            }
            /// The AWS Reachability Analyzer explanation code that corresponds.
            pub fn ra_code(self) -> &'static str {
                match self { $( DropReason::$variant => $ra, )* }
            }
            /// One line telling a user what usually fixes it.
            pub fn hint(self) -> &'static str {
                match self { $( DropReason::$variant => $hint, )* }
            }
            /// The reason a printed code (`NACL_INGRESS_DENIED`) names.
            pub fn from_code(code: &str) -> Option<DropReason> {
                match code { $( $code => Some(DropReason::$variant), )* _ => None }
            }
        }
    };
}

drop_reasons! {
    /// No outbound rule of the source interface's security groups admits the packet.
    SgEgressDenied = "SG_EGRESS_DENIED", "ENI_SG_RULES_MISMATCH",
        "add an outbound rule to one of the interface's security groups";
    /// No inbound rule of the destination interface's security groups admits the packet,
    /// and it is not a reply of a tracked connection.
    SgIngressDenied = "SG_INGRESS_DENIED", "ENI_SG_RULES_MISMATCH",
        "add an inbound rule to one of the destination's security groups";
    /// The source subnet's network ACL denies the packet on its way out.
    NaclEgressDenied = "NACL_EGRESS_DENIED", "SUBNET_ACL_RESTRICTION",
        "add an outbound allow rule to the subnet's network ACL (NACLs are stateless: replies need rules too)";
    /// The destination subnet's network ACL denies the packet on its way in.
    NaclIngressDenied = "NACL_INGRESS_DENIED", "SUBNET_ACL_RESTRICTION",
        "add an inbound allow rule to the subnet's network ACL (NACLs are stateless: replies need rules too)";
    /// The route table has no route for the destination.
    NoRoute = "NO_ROUTE", "NO_ROUTE_TO_DESTINATION",
        "add a route for the destination to the subnet's route table";
    /// The best route points at a target that does not exist.
    BlackholeRoute = "BLACKHOLE_ROUTE", "BAD_STATE_ROUTE",
        "the route's target does not exist: point the route at an existing gateway or interface";
    /// Source/destination check: the interface neither owns the packet's source (outbound)
    /// nor its destination (inbound).
    SourceDestCheck = "SOURCE_DEST_CHECK", "ENI_SOURCE_DEST_CHECK_RESTRICTION",
        "disable SourceDestCheck on the appliance or instance that forwards traffic";
    /// IPv4 leaving through an internet gateway from an address without a public IP or EIP.
    NoPublicIp = "NO_PUBLIC_IP", "IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS",
        "give the instance a public IP or Elastic IP, or route through a NAT gateway";
    /// Nothing in the topology owns the destination (a public address that maps to no interface).
    NotMapped = "NOT_MAPPED", "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS",
        "the destination is not a public IP, Elastic IP or IPv6 address of any interface";
    /// A NAT gateway has no translation for the packet (unsolicited inbound, or a mid-connection
    /// TCP segment after the 350 s idle timeout; AWS answers the latter with a TCP RST).
    NatNoSession = "NAT_NO_SESSION", "NGW_SOURCE_ADDRESS_REASSIGN",
        "a NAT gateway only admits replies to connections started from inside the VPC";
    /// 55,000 simultaneous connections to this destination (IP, port, protocol) from every NAT gateway address.
    NatPortsExhausted = "NAT_PORTS_EXHAUSTED", "NGW_SOURCE_ADDRESS_REASSIGN",
        "add secondary Elastic IPs to the NAT gateway or spread connections over more destinations";
    /// The simulator's NAT session table (every NAT gateway together) is full: a bound of the
    /// simulation (`--nat-capacity`), not an AWS quota.
    NatTableFull = "NAT_TABLE_FULL", "NGW_SOURCE_ADDRESS_REASSIGN",
        "too many NAT gateway sessions held at once: raise --nat-capacity";
    /// A NAT gateway only translates TCP, UDP and ICMP echo, and drops TCP and ICMP fragments.
    NatUnsupported = "NAT_UNSUPPORTED", "PROTOCOL_RESTRICTION",
        "NAT gateways translate TCP, UDP and ICMP echo only (fragmented TCP/ICMP is dropped)";
    /// Unsolicited inbound IPv6 through an egress-only internet gateway.
    EgressOnly = "EGRESS_ONLY", "NO_PATH",
        "an egress-only internet gateway admits only replies; use an internet gateway for inbound IPv6";
    /// A peering connection only carries traffic addressed into the peer VPC (no transit, no edge-to-edge).
    PeeringNotTransitive = "PEERING_NOT_TRANSITIVE", "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR",
        "VPC peering is not transitive: peer the VPCs directly or use a transit gateway";
    /// The packet's TTL ran out while forwarding through appliances (or a routing loop).
    TtlExceeded = "TTL_EXCEEDED", "NO_PATH",
        "check for a routing loop between appliances";
    /// The frame could not be parsed as an IP packet (truncated or inconsistent headers).
    Malformed = "MALFORMED", "UNKNOWN_RESOURCE",
        "the capture holds a truncated or corrupt frame";
    /// The frame is not IP (ARP, LLDP, ...) or its link type is not supported.
    Unsupported = "UNSUPPORTED", "UNSUPPORTED_COMPONENT",
        "only IPv4/IPv6 frames are simulated";
    /// The route is local but no interface in the VPC owns the destination address.
    NoDestination = "NO_DESTINATION", "NO_POSSIBLE_DESTINATION",
        "no network interface has this address";
    /// An internet gateway drops traffic to or from private (RFC 1918) and shared (RFC 6598) addresses.
    IgwPrivateAddress = "IGW_PRIVATE_ADDRESS", "IGW_DESTINATION_ADDRESS_NOT_IN_RFC1918_EGRESS",
        "private addresses are not routable on the internet: use peering, a transit gateway or VPN";
    /// The interface's connection-tracking table is full (AWS: conntrack_allowance_exceeded).
    ConntrackFull = "CONNTRACK_FULL", "NO_PATH",
        "too many tracked connections: raise --conntrack-capacity or shorten idle timeouts";
    /// The Network Load Balancer flow table is full (`--nlb-flow-capacity`): a new flow through
    /// a load balancer is refused.
    NlbFlowTableFull = "NLB_FLOW_TABLE_FULL", "NO_PATH",
        "too many load-balancer flows held at once: raise --nlb-flow-capacity";
    /// A non-first IP fragment whose first fragment was not seen: ports unknown, rules cannot match.
    FragmentOrphan = "FRAGMENT_ORPHAN", "NO_PATH",
        "the first fragment of this datagram is missing from the capture";
    /// The fragment table was full (`--fragment-capacity`): a first fragment was refused, or a
    /// later fragment arrived whose first may have been refused.
    FragmentTableFull = "FRAGMENT_TABLE_FULL", "NO_PATH",
        "too many datagrams in reassembly at once: raise --fragment-capacity";
    /// A route sends the packet to a transit gateway, but the gateway's VPC attachment has no
    /// subnet in the sending subnet's Availability Zone.
    TgwNoAttachmentInAz = "TGW_NO_ATTACHMENT_IN_AZ", "TGW_ROUTE_AZ_RESTRICTION",
        "add a subnet in this Availability Zone to the transit gateway's VPC attachment";
    /// The transit gateway attachment the packet arrived from is associated with no route table.
    TgwNoAssociation = "TGW_NO_ASSOCIATION", "TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION",
        "associate the attachment with a transit gateway route table";
    /// The attachment's transit gateway route table has no route for the destination.
    TgwNoRoute = "TGW_NO_ROUTE", "TGW_RTB_CANNOT_ROUTE",
        "add a static route, or a propagation from the destination's attachment, to the transit gateway route table";
    /// The best transit gateway route for the destination is a blackhole route.
    TgwBlackholeRoute = "TGW_BLACKHOLE_ROUTE", "TGW_RTB_BAD_STATE_ROUTE",
        "the transit gateway route is a blackhole: point it at an attachment or delete it";
    /// A virtual private gateway knows no route for the destination (not an on-premises prefix
    /// of its VPN connections, not inside its VPC).
    VgwNoRoute = "VGW_NO_ROUTE", "NO_ROUTE_TO_DESTINATION",
        "add a static route to the VPN connection or advertise the prefix over BGP";
    /// A virtual private gateway only carries traffic from interfaces of its own VPC (no transit).
    VgwSourceNotInVpc = "VGW_SOURCE_NOT_IN_VPC", "VGW_PRIVATE_IP_ASSOCIATION_FOR_EGRESS",
        "a virtual private gateway carries only its VPC's own traffic: attach the VPN to a transit gateway for transit";
    /// The subnet's inbound traffic is steered through an appliance by a gateway route table,
    /// but this packet leaves through the internet gateway without it.
    ApplianceBypassed = "APPLIANCE_BYPASSED", "INGRESS_RTB_TRAFFIC_REDIRECTION",
        "route the subnet's outbound traffic through the same appliance (0.0.0.0/0 → the appliance's interface)";
    /// A gateway route table steers internet traffic to an appliance interface without a public IPv4.
    IngressApplianceNoPublicIp = "INGRESS_APPLIANCE_NO_PUBLIC_IP", "INGRESS_RTB_NO_PUBLIC_IP",
        "give the appliance's interface a public IP or Elastic IP";
    /// A packet reached a Network Load Balancer node on a port (or protocol) no listener serves.
    NlbNoListener = "NLB_NO_LISTENER", "ELB_LISTENERS_MISMATCH",
        "add a listener for this protocol and port to the load balancer";
    /// The listener's target group has no target the node may use: none registered, none in the
    /// node's Availability Zone with cross-zone load balancing off, or none healthy there while
    /// targets elsewhere are healthy.
    NlbNoTarget = "NLB_NO_TARGET", "ELB_NOT_CROSSZONE",
        "register a target in the node's Availability Zone or enable cross-zone load balancing";
    /// A TCP connection reached an Application Load Balancer node on a port no listener serves.
    AlbNoListener = "ALB_NO_LISTENER", "ELB_LISTENERS_MISMATCH",
        "add a listener for this port to the Application Load Balancer";
    /// The packet reached the host, but nothing listens on its TCP port (`--hosts`): the host
    /// answers the SYN with a RST (connection refused).
    HostPortClosed = "HOST_PORT_CLOSED", "NO_PATH",
        "nothing listens on this port on the host: start the service there (or list the port in the --hosts file)";
    /// The AWS WAF web ACL associated with the Application Load Balancer blocked the HTTP
    /// request (a Block rule or a Block default action): the client gets 403 or the rule's
    /// custom response, and the listener rules never run.
    WafBlocked = "WAF_BLOCKED", "NO_PATH",
        "change the web ACL rule that blocked the request (its statement or its action), or its default action";
    /// A gateway endpoint (S3, DynamoDB) carries only TCP and ICMP echo towards the service.
    VpceGatewayProtocol = "VPCE_GATEWAY_PROTOCOL", "VPCE_GATEWAY_PROTOCOL_RESTRICTION",
        "a gateway endpoint carries only TCP and ICMP echo: the service answers nothing else";
    /// An interface endpoint's interface sent a packet that is not a reply: endpoints never open
    /// connections.
    VpceNotInitiator = "VPCE_NOT_INITIATOR", "VPCE_INTRA_VPC_TRAFFIC",
        "an interface endpoint only answers: open the connection from the consumer side";
    /// A Gateway Load Balancer has no appliance for the flow: no listener or no registered target,
    /// or none in the node's Availability Zone with cross-zone load balancing off.
    GwlbNoTarget = "GWLB_NO_TARGET", "ELBV2_NO_TARGETS_IN_AZ",
        "register an appliance in every Availability Zone the Gateway Load Balancer is enabled in";
    /// A packet larger than a Gateway Load Balancer's 8500-byte MTU: dropped, never fragmented,
    /// and no ICMP "fragmentation needed" comes back.
    GwlbMtuExceeded = "GWLB_MTU_EXCEEDED", "NO_PATH",
        "packets through a Gateway Load Balancer must be at most 8500 bytes: lower the senders' MTU (or MSS)";
    /// A packet larger than a transit gateway's 8500-byte MTU (VPC and peering attachments):
    /// dropped, never fragmented, and no ICMP "fragmentation needed" comes back.
    TgwMtuExceeded = "TGW_MTU_EXCEEDED", "NO_PATH",
        "packets through a transit gateway must be at most 8500 bytes: lower the senders' MTU (or MSS)";
    /// AWS Network Firewall dropped the packet: a stateless `aws:drop` (rule or default), a
    /// stateful `drop` rule or default drop action, or a midstream packet of a flow the endpoint
    /// never saw start (asymmetric routing).
    NetworkFirewallDropped = "NETWORK_FIREWALL_DROPPED", "FIREWALL_RULES_RESTRICTION",
        "change the firewall policy's rule groups so that a rule passes this traffic (or route both directions through one endpoint)";
    /// AWS Network Firewall rejected the packet with a `reject` rule: dropped, and the sender
    /// gets a TCP RST.
    NetworkFirewallRejected = "NETWORK_FIREWALL_REJECTED", "FIREWALL_RULES_RESTRICTION",
        "change the firewall policy's rule groups so that a rule passes this traffic";
    /// A Network Firewall rule that may decide the packet uses a keyword vpcsim does not
    /// evaluate: the packet's fate is unknown, so its walk stops there.
    NetworkFirewallNotEvaluable = "NETWORK_FIREWALL_NOT_EVALUABLE", "FIREWALL_UNSUPPORTED_RULE_OPTIONS",
        "rewrite the rule with the keywords vpcsim evaluates (see README, AWS Network Firewall), or trace without it";
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Flow-log decision recorded at an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowAction {
    /// `ACCEPT`: let through.
    Accept,
    /// `REJECT`: a security group or network ACL at the interface dropped it.
    Reject,
}

/// Direction of a packet relative to an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowDirection {
    /// Arriving at the interface.
    Ingress,
    /// Leaving the interface.
    Egress,
}

/// One sighting of the packet at a network interface, for VPC Flow Logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The interface.
    pub eni: EniIdx,
    /// Which way the packet crossed it.
    pub direction: FlowDirection,
    /// What the flow log records.
    pub action: FlowAction,
    /// The packet's header as it was at this interface.
    pub header: Header,
}

/// At most this many interface sightings are kept per packet; a path longer than this (several
/// appliances) loses the later flow-log rows, never the verdict.
pub const MAX_OBSERVATIONS: usize = 8;

/// The outcome of pushing one packet through the pipeline.
#[derive(Clone, Copy, Debug)]
pub struct Verdict {
    /// Delivered, exited or dropped.
    pub disposition: Disposition,
    /// Why, when dropped.
    pub reason: Option<DropReason>,
    /// The resource that decided: the dropping resource, the interface delivered to, or the exit gateway.
    pub at: ResId,
    /// The interface (or service) the packet was delivered to.
    pub delivered_to: Option<ResId>,
    /// The interface index it was delivered to, for output files and `--return`.
    pub delivered_eni: Option<EniIdx>,
    /// The gateway the packet exited through.
    pub egress: Option<ResId>,
    /// The VPN connection it exited through, when it left towards on-premises networks (the
    /// reply comes back from there).
    pub egress_vpn: Option<VpnConnIdx>,
    /// The header as it was when the packet was delivered, exited or dropped (after NAT rewrites).
    pub header: Header,
    /// The packet was GENEVE-encapsulated for a Gateway Load Balancer appliance: how, so output
    /// writers can rebuild the frame the appliance received.
    pub geneve: Option<crate::wire::geneve::Encapsulation>,
    observations: [Option<Observation>; MAX_OBSERVATIONS],
}

impl Verdict {
    pub(crate) fn new(header: Header) -> Verdict {
        Verdict {
            disposition: Disposition::Dropped,
            reason: None,
            at: ResId::INTERNET,
            delivered_to: None,
            delivered_eni: None,
            egress: None,
            egress_vpn: None,
            header,
            geneve: None,
            observations: [None; MAX_OBSERVATIONS],
        }
    }

    /// Interface sightings in path order.
    pub fn observations(&self) -> impl Iterator<Item = &Observation> {
        self.observations.iter().map_while(|o| o.as_ref())
    }

    pub(crate) fn observe(&mut self, obs: Observation) {
        if let Some(slot) = self.observations.iter_mut().find(|o| o.is_none()) {
            *slot = Some(obs);
        }
    }

    /// Whether the packet was dropped.
    pub fn is_dropped(&self) -> bool {
        self.disposition == Disposition::Dropped
    }
}
