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
    Origin,
    SourceDestCheck,
    SgEgress,
    SgIngress,
    NaclEgress,
    NaclIngress,
    Route,
    InternetGateway,
    EgressOnlyInternetGateway,
    NatGateway,
    Peering,
    Appliance,
    TgwAttachment,
    TgwRoute,
    VpnGateway,
    Vpn,
    Service,
    NlbListener,
    NlbTargetGroup,
    NlbTarget,
    GwlbEndpoint,
    Gwlb,
    GeneveEncap,
    GeneveDecap,
    Deliver,
    Exit,
}

impl Stage {
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
            Stage::Vpn => "vpn",
            Stage::Service => "service",
            Stage::NlbListener => "nlb-listener",
            Stage::NlbTargetGroup => "nlb-target-group",
            Stage::NlbTarget => "nlb-target",
            Stage::GwlbEndpoint => "gwlb-endpoint",
            Stage::Gwlb => "gwlb",
            Stage::GeneveEncap => "geneve-encap",
            Stage::GeneveDecap => "geneve-decap",
            Stage::Deliver => "deliver",
            Stage::Exit => "exit",
        }
    }
}

/// What a stage did with the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    Deny,
    Forward,
    Translate,
    Deliver,
    Exit,
    Drop,
}

impl Action {
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
    pub resource: ResId,
    pub stage: Stage,
    pub action: Action,
    /// The rule or route that decided, in a readable form (`egress 0: tcp 443 0.0.0.0/0`).
    pub rule: Option<String>,
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
