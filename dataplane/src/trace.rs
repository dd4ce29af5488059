//! Tracing: the same pipeline code path reports every hop when asked.
//!
//! `Pipeline` code calls [`Tracer::hop`] behind `if T::ENABLED`, so with [`NoTrace`] the hop
//! construction (and its string formatting) is compiled out; a trace therefore cannot disagree
//! with the verdict that replay computes.

use crate::pipeline::NodeKind;
use crate::topology::ResId;
use crate::wire::Header;

/// Which stage of the data plane a hop belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Where the packet enters the topology (from the internet, from on premises), and drops
    /// decided there (an unmapped public address, an orphan fragment).
    Origin,
    /// An interface's source/destination check.
    SourceDestCheck,
    /// The sending interface's security groups: outbound rules or connection tracking.
    SgEgress,
    /// The receiving interface's security groups: inbound rules or connection tracking.
    SgIngress,
    /// The network ACL of the subnet the packet leaves.
    NaclEgress,
    /// The network ACL of the subnet the packet enters.
    NaclIngress,
    /// A route table lookup.
    Route,
    /// An internet gateway and its translation between public and private addresses.
    InternetGateway,
    /// An egress-only internet gateway.
    EgressOnlyInternetGateway,
    /// A NAT gateway and its translation.
    NatGateway,
    /// A VPC peering connection.
    Peering,
    /// An appliance: the interface a route targets, or a Gateway Load Balancer target.
    Appliance,
    /// A transit gateway attachment, on the way into or out of the gateway.
    TgwAttachment,
    /// A transit gateway route table lookup.
    TgwRoute,
    /// A virtual private gateway.
    VpnGateway,
    /// A link-local service (Amazon DNS, instance metadata, Time Sync) that answered.
    Service,
    /// A Network Load Balancer's listeners.
    NlbListener,
    /// A Network Load Balancer target group choosing a target.
    NlbTargetGroup,
    /// The translation to a Network Load Balancer target, or of its reply back to the client.
    NlbTarget,
    /// An Application Load Balancer's listener (the client's connection ends there).
    AlbListener,
    /// The listener rule (or default action) that decided an HTTP request.
    AlbRule,
    /// The Application Load Balancer target group choosing a target.
    AlbTarget,
    /// The AWS WAF web ACL associated with an Application Load Balancer inspecting a request.
    Waf,
    /// What a simulated host answered (`--hosts`).
    Host,
    /// A Gateway Load Balancer endpoint.
    GwlbEndpoint,
    /// A Gateway Load Balancer choosing an appliance.
    Gwlb,
    /// GENEVE encapsulation towards an appliance.
    GeneveEncap,
    /// GENEVE decapsulation of what the appliance sent back.
    GeneveDecap,
    /// An AWS Network Firewall endpoint and its stateless and stateful engines.
    NetworkFirewall,
    /// Delivery to an interface.
    Deliver,
    /// Leaving the topology: to the internet, an AWS service or on premises.
    Exit,
    /// The VPC resolver answering the name a flow spec gave as its destination.
    Dns,
}

impl Stage {
    /// The name traces print (`sg-egress`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Origin => "origin",
            Stage::SourceDestCheck => "src-dst-check",
            Stage::SgEgress => "sg-egress",
            Stage::SgIngress => "sg-ingress",
            Stage::NaclEgress => "nacl-egress",
            Stage::NaclIngress => "nacl-ingress",
            Stage::Route => "route",
            Stage::InternetGateway => "igw",
            Stage::EgressOnlyInternetGateway => "eigw",
            Stage::NatGateway => "nat-gateway",
            Stage::Peering => "peering",
            Stage::Appliance => "appliance",
            Stage::TgwAttachment => "tgw-attachment",
            Stage::TgwRoute => "tgw-route",
            Stage::VpnGateway => "vgw",
            Stage::Service => "service",
            Stage::NlbListener => "nlb-listener",
            Stage::NlbTargetGroup => "nlb-target-group",
            Stage::NlbTarget => "nlb-target",
            Stage::AlbListener => "alb-listener",
            Stage::AlbRule => "alb-rule",
            Stage::AlbTarget => "alb-target",
            Stage::Waf => "waf",
            Stage::Host => "host",
            Stage::GwlbEndpoint => "gwlb-endpoint",
            Stage::Gwlb => "gwlb",
            Stage::GeneveEncap => "geneve-encap",
            Stage::GeneveDecap => "geneve-decap",
            Stage::Deliver => "deliver",
            Stage::Exit => "exit",
            Stage::NetworkFirewall => "network-firewall",
            Stage::Dns => "dns",
        }
    }
}

/// What a stage did with the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A rule allowed the packet (security group, network ACL, listener).
    Allow,
    /// A security group or network ACL denied it.
    Deny,
    /// Passed it on unchanged.
    Forward,
    /// Passed it on with addresses or ports rewritten (NAT, load balancer, GENEVE).
    Translate,
    /// Delivered it.
    Deliver,
    /// Let it leave the topology.
    Exit,
    /// Dropped it, at a stage other than a security group or network ACL.
    Drop,
}

impl Action {
    /// The name traces print (`allow`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
            Action::Forward => "forward",
            Action::Translate => "translate",
            Action::Deliver => "deliver",
            Action::Exit => "exit",
            Action::Drop => "drop",
        }
    }
}

/// One step of a packet's path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The resource that acted.
    pub resource: ResId,
    /// Which stage it was.
    pub stage: Stage,
    /// What it did.
    pub action: Action,
    /// The rule or route that decided, in a readable form (`egress 0: tcp 443 0.0.0.0/0`).
    pub rule: Option<String>,
    /// What happened, in words.
    pub detail: String,
    /// The packet's header after this hop.
    pub header: Header,
}

/// Receives hops as the pipeline walks a packet.
pub trait Tracer {
    /// When false, the pipeline skips building hops entirely.
    const ENABLED: bool;
    /// One step of the packet's path.
    fn hop(&mut self, hop: Hop);
    /// The walk entered a node of the stage graph.
    fn node(&mut self, _node: NodeKind) {}
}

/// The tracer used for replay: records nothing, costs nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTrace;

impl Tracer for NoTrace {
    const ENABLED: bool = false;
    #[inline(always)]
    fn hop(&mut self, _hop: Hop) {}
}

/// Collects every hop, for `vpcsim trace`.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The hops, in path order.
    pub hops: Vec<Hop>,
    /// The nodes of the stage graph the packet went through, in order.
    pub nodes: Vec<NodeKind>,
}

impl Tracer for Trace {
    const ENABLED: bool = true;
    fn hop(&mut self, hop: Hop) {
        self.hops.push(hop);
    }
    fn node(&mut self, node: NodeKind) {
        self.nodes.push(node);
    }
}
