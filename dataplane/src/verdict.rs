//! What happened to a packet: its disposition, the reason for a drop, and where.

use crate::flow::Header;
use crate::topology::{Idx, ResId};
use std::fmt;

/// The fate of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Disposition {
    /// Arrived at a network interface (or at a link-local service such as the Amazon DNS resolver).
    Delivered,
    /// Left the modelled network through a gateway (to the internet).
    Exited,
    /// Dropped; [`Verdict::reason`] says why and [`Verdict::at`] says where.
    Dropped,
}

impl Disposition {
    pub const ALL: [Disposition; 3] = [Self::Delivered, Self::Exited, Self::Dropped];

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
        /// The codes are vpcsim's own (stable, used in verdicts, summaries and flow of tests);
        /// [`DropReason::ra_code`] gives the closest AWS Reachability Analyzer explanation code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum DropReason { $( $(#[$doc])* $variant, )* }

        impl DropReason {
            pub const ALL: &'static [DropReason] = &[ $( DropReason::$variant, )* ];
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
    /// A non-first IP fragment whose first fragment was not seen: ports unknown, rules cannot match.
    FragmentOrphan = "FRAGMENT_ORPHAN", "NO_PATH",
        "the first fragment of this datagram is missing from the capture";
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Flow-log decision recorded at an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowAction {
    Accept,
    Reject,
}

/// Direction of a packet relative to an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowDirection {
    Ingress,
    Egress,
}

/// One sighting of the packet at a network interface, for VPC Flow Logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    pub eni: Idx,
    pub direction: FlowDirection,
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
    pub disposition: Disposition,
    pub reason: Option<DropReason>,
    /// The resource that decided: the dropping resource, the interface delivered to, or the exit gateway.
    pub at: ResId,
    /// The interface (or service) the packet was delivered to.
    pub delivered_to: Option<ResId>,
    /// The interface index it was delivered to, for output files and `--return`.
    pub delivered_eni: Option<Idx>,
    /// The gateway the packet exited through.
    pub egress: Option<ResId>,
    /// The header as it was when the packet was delivered, exited or dropped (after NAT rewrites).
    pub header: Header,
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
            header,
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

    pub fn is_dropped(&self) -> bool {
        self.disposition == Disposition::Dropped
    }
}
