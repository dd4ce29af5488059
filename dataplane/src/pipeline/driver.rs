//! The contract between the nodes of the stage graph and the two drivers that run them.
//!
//! A node is written once, generic over a [`Driver`]. The concrete driver
//! (behind [`super::process`]) pushes one packet: every split has exactly one part, rewrites change
//! the header, state lives in [`crate::State`], and a tracer may record hops. The symbolic
//! driver ([`crate::reach`]) pushes a set of headers: a split cuts the set into every part a
//! table or rule treats differently, rewrites are recorded as expressions over the original
//! header, and state is what the walk itself created. Both read the same tables through the
//! two traits below, which each table implements once, next to its concrete lookup:
//! [`AddressMap`] (route tables, address maps, CIDR ranges) and [`Rules`] (network ACLs,
//! security groups, protocol restrictions, listeners).

use super::Node;
use crate::aws::Zone;
use crate::space::HBox;
use crate::space::Segments;
use crate::state::conntrack::{TableFull, Tracked};
use crate::state::firewall_flows::FirewallFlow;
use crate::state::nat::NatError;
use crate::topology::gwlb::Stickiness;
use crate::topology::network_firewall::{AppProtocol, Content, FirewallEndpointIdx, FirewallIdx};
use crate::topology::nlb::{Choice, NoTarget};
use crate::topology::{
    EniIdx, GwlbIdx, GwlbTargetGroupIdx, NatIdx, NlbIdx, ResId, SubnetIdx, TargetGroupIdx,
    TgwAttachmentIdx, Topology, VpnConnIdx,
};
use crate::trace::{Action, Stage};
use crate::verdict::{DropReason, FlowAction, FlowDirection};
use crate::wire::geneve::Encapsulation;
use crate::wire::{Family, Header};
use std::borrow::Cow;
use std::net::IpAddr;

/// An address field of the packet as it is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The source address.
    Src,
    /// The destination address.
    Dst,
}

/// An address table both drivers read: a lookup for one address, and the same table as
/// sorted, disjoint segments for sets of addresses. Implemented once per table, next to the
/// table, so the two can never disagree.
pub trait AddressMap {
    /// What an address maps to.
    type Key: Copy;
    /// The key of one address, or `None` when the table does not hold it.
    fn lookup(&self, a: IpAddr) -> Option<Self::Key>;
    /// Every address of `fam` the table holds: sorted, disjoint `(lo, hi, n)` with `n` a dense
    /// key number below the returned count.
    fn segments(&self, fam: Family) -> Segments<'_>;
    /// The key that number `n` of [`AddressMap::segments`] stands for.
    fn key(&self, n: usize) -> Self::Key;
}

/// An ordered rule list over whole headers (protocol, ports, addresses): the first rule that
/// matches decides. Implemented once per rule type, next to its concrete match.
pub trait Rules {
    /// What decided: a rule, or `None` when no rule matched.
    type Key: Copy;
    /// Every rule decides the same way (security groups allow only): the order of the rules
    /// does not matter, only whether one matches.
    const ANY_MATCH: bool;
    /// The first rule that matches a header.
    fn first_match(&self, h: &Header) -> Option<Self::Key>;
    /// Every rule in order, as the boxes of headers (in the packet's current coordinates) it
    /// matches in family `fam`.
    fn for_each_box(&self, fam: Family, f: &mut dyn FnMut(HBox, Self::Key));
    /// Whether the packets a rule (or no rule) decided for pass.
    fn passes(decided: Option<Self::Key>) -> bool;
}

/// A packet (or set) split by a rule list into what passes and what does not. The concrete
/// driver fills exactly one side and says which rule decided; the symbolic driver may fill
/// both, with the deciding rule only when one rule decided the whole side.
pub struct Decided<P, K> {
    /// The part that passes, with the rule that admitted it.
    pub pass: Option<(P, Option<K>)>,
    /// The part that does not, with the rule that refused it (`None`: no rule matched).
    pub fail: Option<(P, Option<K>)>,
}

/// What connection tracking knows of a packet (or part of a set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conn<U> {
    /// Part of a tracked connection, sent by this side.
    Tracked(Tracked),
    /// Part of a tracked connection, but which side sent it depends on the headers in a way
    /// the analysis does not split by (a flow whose source and destination may be equal).
    TrackedEitherSide(U),
    /// Whether it belongs to a connection depends on state the analysis does not know.
    Unknown(U),
}

/// The fixed part of a load-balanced flow: which load balancer, node, listener and target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowRoute {
    /// The Network Load Balancer.
    pub lb: NlbIdx,
    /// The node's interface the client sent to.
    pub node: EniIdx,
    /// The listener that accepted the flow.
    pub listener: u32,
    /// The listener's target group.
    pub target_group: TargetGroupIdx,
    /// The target the flow is pinned to (index into the group's targets).
    pub target: u32,
    /// The target sees the client's own address.
    pub preserves_client_ip: bool,
}

/// What a packet is to a Network Load Balancer that tracks flow `F`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen<F> {
    /// A client's packet of a known flow.
    Client(F),
    /// A target's reply of a known flow.
    Reply(F),
}

/// Why a Network Load Balancer did not open a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// No target may take it.
    NoTarget(NoTarget),
    /// The flow table is full.
    TableFull,
}

/// A new load-balanced flow: its handle and how its target was chosen.
#[derive(Clone, Copy, Debug)]
pub struct Opened<F> {
    /// The driver's handle of the flow.
    pub flow: F,
    /// How the target was chosen (the symbolic driver follows every candidate, one part each).
    pub choice: Choice,
}

/// What one driver needs to run the nodes of the stage graph.
///
/// Methods that split return one `(key, part)` per part: the concrete driver always returns
/// exactly one. A part that a method cannot decide (symbolic driver only) is reported by the
/// driver itself, or handed to the node as [`Conn::Unknown`] where the node must decide what
/// follows.
pub trait Driver<'t>: Sized {
    /// What moves through the graph: one packet, or a set of headers with the state its flow
    /// created.
    type Packet;
    /// The parts of a split.
    type Split<K>: IntoIterator<Item = (K, Self::Packet)>;
    /// Proof that a part's fate depends on state the analysis does not know (uninhabited for
    /// the concrete driver).
    type Undecided: Copy;
    /// A driver's handle of a load-balanced flow.
    type NlbFlow: Copy;
    /// Whether nodes should build trace hops (their strings compile away when not).
    const TRACING: bool;

    /// The topology being run.
    fn topo(&self) -> &'t Topology;
    /// The address family of the packet.
    fn family(&self, p: &Self::Packet) -> Family;
    /// The packet's header now, when there is one packet (for trace details).
    fn header_now(&self, p: &Self::Packet) -> Option<Header>;

    // ----- where a packet goes -------------------------------------------------------------

    /// Hand the packet to the next node.
    fn next(&mut self, p: Self::Packet, node: Node);
    /// The packet arrived: at interface `eni` (owned by `to`), or at a link-local service.
    fn deliver(&mut self, p: Self::Packet, to: ResId, eni: Option<EniIdx>);
    /// The packet left the topology through `via` (to on-premises behind `vpn` when set).
    fn exit(&mut self, p: Self::Packet, via: ResId, vpn: Option<VpnConnIdx>);
    /// The packet was dropped by `at`; `rule` is the rule that decided, when tracing.
    fn drop(
        &mut self,
        p: Self::Packet,
        reason: DropReason,
        at: ResId,
        stage: Stage,
        rule: Option<String>,
        detail: impl FnOnce(&Header) -> String,
    );
    /// Report a part whose fate the analysis cannot decide.
    fn undecided(&mut self, p: Self::Packet, proof: Self::Undecided, why: &'static str);
    /// One packet (or set) from two parts of one split that continue the same way.
    fn merge(&mut self, a: Self::Packet, b: Self::Packet) -> Self::Packet;

    // ----- what the trace and flow logs see ---------------------------------------------

    /// Record a hop (the trace's; nothing when not tracing).
    fn hop(
        &mut self,
        p: &Self::Packet,
        resource: ResId,
        stage: Stage,
        action: Action,
        rule: Option<String>,
        detail: impl FnOnce(&Header) -> String,
    );
    /// Record a sighting of the packet at an interface (VPC Flow Logs).
    fn observe(&mut self, p: &Self::Packet, eni: EniIdx, dir: FlowDirection, action: FlowAction);

    // ----- the path so far ----------------------------------------------------------------

    /// An appliance or transit gateway forwarded the packet: security-group references no
    /// longer match it.
    fn via_appliance(&self, p: &Self::Packet) -> bool;
    /// Mark the packet as forwarded by an appliance or transit gateway.
    fn set_via_appliance(&mut self, p: &mut Self::Packet);
    /// Spend one forwarding step; false when none is left (a routing loop).
    fn spend_forward(&mut self, p: &mut Self::Packet) -> bool;
    /// The TTL is too low to forward the packet once more.
    fn ttl_expired(&self, p: &Self::Packet) -> bool;
    /// Decrement the TTL as a router does.
    fn decrement_ttl(&mut self, p: &mut Self::Packet);
    /// The packet is an IP fragment.
    fn fragmented(&self, p: &Self::Packet) -> bool;
    /// The IP packet is longer than `bytes`.
    fn longer_than(&self, p: &Self::Packet, bytes: u32) -> bool;

    // ----- classification ---------------------------------------------------------------

    /// Split by the table's key for one address field.
    fn split<M: AddressMap>(
        &mut self,
        p: Self::Packet,
        field: Field,
        map: &M,
    ) -> Self::Split<Option<M::Key>>;
    /// Split by the rule that decides each part (first match).
    fn split_rules<R: Rules>(&mut self, p: Self::Packet, rules: &R) -> Self::Split<Option<R::Key>>;
    /// Split by whether the deciding rule passes.
    fn decide<R: Rules>(&mut self, p: Self::Packet, rules: &R) -> Decided<Self::Packet, R::Key>;
    /// The part whose source is an address of interface `eni` (leaving it), and the rest.
    fn sent_by(
        &mut self,
        p: Self::Packet,
        eni: EniIdx,
    ) -> (Option<Self::Packet>, Option<Self::Packet>);
    /// The interfaces that sent each part: `eni`, or (symbolic walks of a class of alike
    /// interfaces) each member for its own source addresses.
    fn senders(&mut self, p: Self::Packet, eni: EniIdx) -> Self::Split<EniIdx>;

    // ----- rewrites -----------------------------------------------------------------------

    /// Write an address (an internet gateway's 1:1 NAT).
    fn write_addr(&mut self, p: &mut Self::Packet, field: Field, a: IpAddr);

    // ----- connection tracking (security groups, egress-only gateways) -------------------

    /// Look the packet up in `zone`; `refresh` renews a live entry's idle timer.
    fn conntrack(
        &mut self,
        p: Self::Packet,
        zone: Zone,
        refresh: bool,
    ) -> Self::Split<Option<Conn<Self::Undecided>>>;
    /// Track a new connection the packet opens in `zone`.
    fn track(&mut self, p: &mut Self::Packet, zone: Zone) -> Result<(), TableFull>;

    // ----- NAT gateways -------------------------------------------------------------------

    /// Translate a packet leaving through NAT gateway `nat` (source to the gateway's address
    /// and a port of its choosing); whether the packet opened a new session.
    fn nat_outbound(&mut self, p: &mut Self::Packet, nat: NatIdx) -> Result<bool, NatError>;
    /// Translate back a packet arriving at NAT gateway `nat`: translated parts (rewritten)
    /// with `true`, parts without a session with `false`.
    fn nat_inbound(&mut self, p: Self::Packet, nat: NatIdx) -> Self::Split<bool>;

    // ----- Network Load Balancers ---------------------------------------------------------

    /// Start fetching the flow-table entry the packet may belong to (concrete driver).
    fn nlb_prefetch(&self, p: &Self::Packet);
    /// The known flow a packet reaching node `node` belongs to.
    fn nlb_find(
        &mut self,
        p: Self::Packet,
        node: EniIdx,
    ) -> Self::Split<Option<Seen<Self::NlbFlow>>>;
    /// Open a flow for a client's packet that listener `listener` of `lb` accepted at `node`.
    fn nlb_open(
        &mut self,
        p: Self::Packet,
        lb: NlbIdx,
        listener: u32,
        node: EniIdx,
    ) -> Self::Split<Result<Opened<Self::NlbFlow>, Refused>>;
    /// A target's packet leaving interface `eni` that replies to a flow keeping the client's
    /// address: its flow.
    fn nlb_reply_of(&mut self, p: Self::Packet, eni: EniIdx) -> Self::Split<Option<Self::NlbFlow>>;
    /// The fixed part of a flow.
    fn nlb_route(&self, f: &Self::NlbFlow) -> FlowRoute;
    /// Rewrite a client's packet towards the flow's target.
    fn nlb_to_target(&mut self, p: &mut Self::Packet, f: &Self::NlbFlow);
    /// Rewrite a target's reply back towards the client, from the address it connected to.
    fn nlb_to_client(&mut self, p: &mut Self::Packet, f: &Self::NlbFlow);

    // ----- flow-hash choices ---------------------------------------------------------------

    /// The subnet of attachment `attachment` the packet leaves a transit gateway through
    /// (zone affinity, or a symmetric flow hash with appliance mode).
    fn tgw_egress_subnet(
        &mut self,
        p: Self::Packet,
        attachment: TgwAttachmentIdx,
        entry_az: Option<u32>,
    ) -> Self::Split<SubnetIdx>;
    /// The appliance Gateway Load Balancer `lb`'s node in zone `az` sends the flow to.
    fn gwlb_choose(
        &mut self,
        p: Self::Packet,
        lb: GwlbIdx,
        az: u32,
        stickiness: Stickiness,
    ) -> Self::Split<Result<(GwlbTargetGroupIdx, Choice), NoTarget>>;
    /// GENEVE-encapsulate the packet from a Gateway Load Balancer node to an appliance; the
    /// encapsulation when the driver knows it.
    fn encapsulate(&mut self, p: &mut Self::Packet, to: GeneveTo) -> Option<Encapsulation>;
    /// The encapsulated packet comes back: the outer header's reply.
    fn turn_around(&mut self, p: &mut Self::Packet);
    /// Strip the outer header: the packet is the one that was encapsulated.
    fn decapsulate(&mut self, p: &mut Self::Packet);

    // ----- AWS Network Firewall -----------------------------------------------------------

    /// The packet's TCP flags, or proof that they are not known (symbolic walks).
    fn tcp_flags(&self, p: &Self::Packet) -> Result<u8, Self::Undecided>;
    /// The application protocol the packet carries (`None`: none), or proof that it is not
    /// known.
    fn firewall_app(&self, p: &Self::Packet) -> Result<Option<AppProtocol>, Self::Undecided>;
    /// Whether a `content` condition matches what the packet carries, or proof that it is not
    /// known.
    fn firewall_content(&self, p: &Self::Packet, c: &Content) -> Result<bool, Self::Undecided>;
    /// What firewall `fw`'s endpoint `ep` knows of the packet's flow, split by flow entry
    /// (symbolic walks: the entries the walk itself made; a part whose flow key cannot be
    /// compared with them is undecided).
    fn firewall_flow(
        &mut self,
        p: Self::Packet,
        fw: FirewallIdx,
        ep: FirewallEndpointIdx,
    ) -> Self::Split<Result<FirewallFlow, Self::Undecided>>;
    /// A stateless rule (`None`: the default action) with custom actions decided the packet at
    /// `ep`: its metrics count it.
    fn firewall_custom_action(
        &mut self,
        p: &Self::Packet,
        ep: FirewallEndpointIdx,
        rule: Option<u32>,
    );
    /// The stateful engine logs an alert for the packet at `ep`: rule `rule` (index into the
    /// firewall's stateful rules; `None`: a default action) matched; `blocked`: dropped.
    fn firewall_alert(
        &mut self,
        p: &Self::Packet,
        ep: FirewallEndpointIdx,
        rule: Option<u32>,
        blocked: bool,
    );
    /// The stateful engine let the packet through at `ep`; `passed_by`: the `pass` rule that
    /// passes the whole flow from now on.
    fn firewall_track(
        &mut self,
        p: &mut Self::Packet,
        fw: FirewallIdx,
        ep: FirewallEndpointIdx,
        passed_by: Option<u32>,
    );
}

/// Where a Gateway Load Balancer sends an encapsulated packet.
#[derive(Clone, Copy, Debug)]
pub struct GeneveTo {
    /// The appliance's interface.
    pub appliance: EniIdx,
    /// The node's address (outer source).
    pub node: std::net::Ipv4Addr,
    /// The appliance's address (outer destination).
    pub target: std::net::Ipv4Addr,
    /// The flow hash's stickiness (the outer source port and flow cookie come from the hash).
    pub stickiness: Stickiness,
    /// GENEVE option type 1: the endpoint id.
    pub endpoint_id: u64,
    /// GENEVE option type 2: the attachment id.
    pub attachment_id: u64,
}

/// Keep `p` in `acc`, merged with what is already there.
#[inline]
pub fn gather<'t, D: Driver<'t>>(d: &mut D, acc: &mut Option<D::Packet>, p: D::Packet) {
    *acc = Some(match acc.take() {
        Some(a) => d.merge(a, p),
        None => p,
    });
}

/// The part of `p` whose `field` the table holds, and the rest.
#[inline]
pub fn within<'t, D: Driver<'t>, M: AddressMap>(
    d: &mut D,
    p: D::Packet,
    field: Field,
    map: &M,
) -> (Option<D::Packet>, Option<D::Packet>) {
    let (mut inside, mut outside) = (None, None);
    for (k, part) in d.split(p, field, &Any(map)) {
        match k {
            Some(()) => gather(d, &mut inside, part),
            None => gather(d, &mut outside, part),
        }
    }
    (inside, outside)
}

/// A table with its keys forgotten: whether it holds an address.
pub struct Any<'a, M>(pub &'a M);

impl<M: AddressMap> AddressMap for Any<'_, M> {
    type Key = ();
    #[inline]
    fn lookup(&self, a: IpAddr) -> Option<()> {
        self.0.lookup(a).map(|_| ())
    }
    fn segments(&self, fam: Family) -> Segments<'_> {
        let (segs, _) = self.0.segments(fam);
        (
            Cow::Owned(segs.iter().map(|&(lo, hi, _)| (lo, hi, 0)).collect()),
            1,
        )
    }
    fn key(&self, _: usize) {}
}

/// A detail built from the header before a rewrite and the header after it (`before` is
/// `None` when there is no single packet, and then nothing is built).
#[inline]
pub fn rewritten(
    before: Option<Header>,
    f: impl FnOnce(&Header, &Header) -> String,
) -> impl FnOnce(&Header) -> String {
    move |after| before.map_or_else(String::new, |b| f(&b, after))
}
