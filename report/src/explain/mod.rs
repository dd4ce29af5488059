//! Why a packet was dropped and the smallest change that lets it through.
//!
//! The explanation is derived from the verdict, its hops and the topology after the fact, so it
//! needs nothing from the pipeline beyond what a trace already reports. A fix is a
//! [`Change`] to the model: `vpcsim trace --fixes` applies it, compiles and traces again, which
//! is also how the tests check that every suggested fix really delivers the packet.

mod filters;
mod load_balancers;
mod network_firewall;
mod routing;
mod transit;

use serde_json::{json, Value};
use vpcsim_controlplane::fix::Change;
use vpcsim_controlplane::model::Model;
use vpcsim_dataplane::trace::{Hop, Stage};
use vpcsim_dataplane::wire::Header;
use vpcsim_dataplane::{Disposition, DropReason, Topology, Verdict};

/// What went wrong, which rule decided, and what to change.
pub struct Explanation {
    /// The drop reason the pipeline gave.
    pub reason: DropReason,
    /// The AWS Reachability Analyzer explanation code.
    pub code: &'static str,
    /// The rule or route that decided, as the trace printed it.
    pub decided_by: Option<String>,
    /// Why the packet was dropped, in a sentence naming the resources involved.
    pub message: String,
    /// The smallest change to the model that lets the packet through, when there is one.
    pub fix: Option<Change>,
    /// Why no change is suggested, when none is.
    pub no_fix: Option<&'static str>,
}

impl Explanation {
    /// The `explanation` object of `vpcsim trace --json` (fixes described against `m`).
    pub fn to_json(&self, m: &Model) -> Value {
        json!({
            "code": self.code,
            "reason": self.reason.as_str(),
            "decided_by": self.decided_by,
            "message": self.message,
            "fix": self.fix.as_ref().map(|c| c.describe(m)),
            "no_fix": self.no_fix,
        })
    }
}

/// A drop as its explanation sees it.
#[derive(Clone, Copy)]
struct Drop<'a> {
    topo: &'a Topology,
    m: &'a Model,
    v: &'a Verdict,
    hops: &'a [Hop],
    /// The packet as it was dropped.
    h: Header,
    reason: DropReason,
    /// The packet is the reply of a connection.
    reply: bool,
    /// An appliance forwarded the packet on its way (security-group references never match
    /// what an appliance forwards).
    via_appliance: bool,
    /// The rule or route that decided, as the trace printed it.
    decided_by: Option<&'a str>,
}

/// What an explanation says besides its reason: the message, and a fix or why there is none.
struct Finding {
    message: String,
    fix: Option<Change>,
    no_fix: Option<&'static str>,
}

impl Finding {
    /// A drop that no change to the topology can avoid.
    fn no_fix(message: impl Into<String>, why: &'static str) -> Finding {
        Finding {
            message: message.into(),
            fix: None,
            no_fix: Some(why),
        }
    }
}

/// Explain the drop in `v`; `None` when the packet was not dropped.
/// `reply` says the packet is the reply of a connection (the return leg of `trace --return`);
/// otherwise a packet from a well-known port to an ephemeral one is taken for a reply.
pub fn explain(
    topo: &Topology,
    m: &Model,
    v: &Verdict,
    hops: &[Hop],
    reply: bool,
) -> Option<Explanation> {
    let reason = v.reason?;
    let d = Drop {
        topo,
        m,
        v,
        hops,
        h: v.header,
        reason,
        reply,
        via_appliance: hops.iter().any(|x| x.stage == Stage::Appliance),
        decided_by: hops.last().and_then(|h| h.rule.as_deref()),
    };
    let (h, at) = (v.header, topo.name(v.at));
    let f = match reason {
        DropReason::SgIngressDenied | DropReason::SgEgressDenied => filters::security_group(&d),
        DropReason::NaclIngressDenied | DropReason::NaclEgressDenied => filters::network_acl(&d),
        DropReason::NoRoute | DropReason::BlackholeRoute => routing::route_table(&d),
        DropReason::SourceDestCheck => routing::source_dest_check(&d),
        DropReason::NoPublicIp => routing::no_public_ip(&d),
        DropReason::ApplianceBypassed => routing::appliance_bypassed(&d),
        DropReason::IngressApplianceNoPublicIp => routing::ingress_appliance_no_public_ip(&d),
        DropReason::TgwNoAttachmentInAz => transit::tgw_no_attachment_in_az(&d),
        DropReason::TgwNoAssociation => transit::tgw_no_association(&d),
        DropReason::TgwNoRoute | DropReason::TgwBlackholeRoute => transit::tgw_route(&d),
        DropReason::NlbNoListener => load_balancers::nlb_no_listener(&d),
        DropReason::NlbNoTarget => load_balancers::nlb_no_target(&d),
        DropReason::AlbNoListener => load_balancers::alb_no_listener(&d),
        DropReason::HostPortClosed => Finding::no_fix(
            format!("the packet reached {at}, but nothing listens on TCP port {} there (--hosts): the host refuses the connection with a RST", h.dst_port),
            "the network delivers it: start the service on the host (or list the port for it in the --hosts file)",
        ),
        DropReason::NetworkFirewallDropped
        | DropReason::NetworkFirewallRejected
        | DropReason::NetworkFirewallNotEvaluable => network_firewall::network_firewall(&d),
        DropReason::WafBlocked => Finding::no_fix(
            format!(
                "web ACL {at}, associated with the load balancer, blocked the HTTP request from {} ({})",
                h.src,
                d.decided_by.unwrap_or("its default action")
            ),
            "no automatic fix: fixes are verified by tracing packets again, and a web ACL judges HTTP requests; change the rule that blocked (its statement, e.g. the IP set, or its action to Count) or the default action, and keep the web ACL associated",
        ),
        DropReason::NotMapped => Finding::no_fix(
            format!("{} is not a public IP, Elastic IP or IPv6 address of any interface", h.dst),
            "the destination is not an address of anything in the topology",
        ),
        DropReason::NatNoSession => Finding::no_fix(
            "the NAT gateway has no translation for this packet",
            "a NAT gateway only admits replies to connections opened from inside; use a public IP and an internet gateway for inbound connections",
        ),
        DropReason::NatPortsExhausted => Finding::no_fix(
            "every address of the NAT gateway has 55,000 connections to this destination",
            "add secondary Elastic IPs to the NAT gateway (SecondaryAllocationIds) or spread connections over more destinations",
        ),
        DropReason::NatUnsupported => Finding::no_fix(
            "the NAT gateway cannot translate this packet",
            "NAT gateways translate only TCP, UDP and ICMP echo over IPv4 (fragments: UDP only)",
        ),
        DropReason::EgressOnly => Finding::no_fix(
            "unsolicited inbound IPv6 through an egress-only internet gateway",
            "an egress-only internet gateway never admits inbound connections; attach an internet gateway for inbound IPv6",
        ),
        DropReason::VgwNoRoute => Finding::no_fix(
            format!("virtual private gateway {at} knows no on-premises prefix holding {} and forwards only to those and into its own VPC", h.dst),
            "only the on-premises side knows where this address is: add a VPNConnectionRoute to the connection that reaches it, or advertise it over BGP",
        ),
        DropReason::VgwSourceNotInVpc => Finding::no_fix(
            format!("{} is not an address of the VPC of virtual private gateway {at}: it forwards only its own VPC's traffic", h.src),
            "a virtual private gateway carries no transit traffic: attach the VPN connection to the transit gateway instead",
        ),
        DropReason::PeeringNotTransitive => Finding::no_fix(
            "the destination is not inside the peer VPC",
            "VPC peering carries only traffic for the peer's own CIDRs: peer the VPCs directly or use a transit gateway",
        ),
        DropReason::VpceNotInitiator => Finding::no_fix(
            "an interface endpoint never opens connections; it only answers them",
            "PrivateLink is one-way: consumers connect to the endpoint, the service behind it never connects back",
        ),
        DropReason::VpceGatewayProtocol => Finding::no_fix(
            format!("{} is neither TCP nor an ICMP echo: a gateway endpoint does not carry it", h.proto),
            "S3 and DynamoDB answer only TCP (and ping): nothing else reaches the service, through a gateway endpoint or otherwise",
        ),
        DropReason::GwlbNoTarget => Finding::no_fix(
            format!("{at} has no appliance the load balancer node serving this endpoint may use"),
            "register appliance instances (TargetGroup Targets) in the Availability Zones the Gateway Load Balancer is enabled in, or turn on load_balancing.cross_zone.enabled",
        ),
        other => Finding::no_fix(other.hint(), other.hint()),
    };
    Some(Explanation {
        reason,
        code: reason.ra_code(),
        decided_by: d.decided_by.map(str::to_string),
        message: f.message,
        fix: f.fix,
        no_fix: f.no_fix,
    })
}

/// Gateways and appliances a path goes through, in order.
fn middleboxes(topo: &Topology, hops: &[Hop]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in hops {
        if matches!(
            h.stage,
            Stage::InternetGateway
                | Stage::EgressOnlyInternetGateway
                | Stage::NatGateway
                | Stage::Appliance
                | Stage::Peering
        ) {
            let name = topo.name(h.resource).to_string();
            if out.last() != Some(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// Compare a request's path with its reply's: a reply that leaves through other gateways or
/// appliances than the request came in by, or comes back from another address, is asymmetric.
pub fn asymmetry(
    topo: &Topology,
    request: &Header,
    fwd: &[Hop],
    reply: &Verdict,
    back: &[Hop],
) -> Option<Value> {
    let f = middleboxes(topo, fwd);
    let mut b = middleboxes(topo, back);
    b.reverse();
    let mut notes = Vec::new();
    if f != b {
        notes.push(format!(
            "the request went through [{}] but the reply goes through [{}]",
            f.join(", "),
            b.iter().rev().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if reply.disposition != Disposition::Dropped {
        let r = reply.header;
        if r.src != request.dst || (request.has_ports() && r.src_port != request.dst_port) {
            notes.push(format!(
                "the reply reaches the client from {}:{} but the client sent to {}:{}: it will not match the connection and is dropped there",
                r.src, r.src_port, request.dst, request.dst_port
            ));
        }
    }
    if let Some(reason) = reply.reason {
        if !f.is_empty()
            && f != b
            && matches!(
                reason,
                DropReason::SgIngressDenied | DropReason::NatNoSession
            )
        {
            notes.push(format!(
                "{} on the return path is a stateful drop caused by the asymmetry: that hop never saw the request",
                reason.as_str()
            ));
        }
    }
    (!notes.is_empty()).then(|| json!({"forward": f, "return": b.iter().rev().cloned().collect::<Vec<_>>(), "notes": notes}))
}
