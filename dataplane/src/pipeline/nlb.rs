//! The Network Load Balancer stage (SPEC §11.3): a packet that reaches a node's address is
//! matched to a listener, its flow is hashed to a target of the listener's target group (and
//! stays there), its destination (and, without client IP preservation, its source) is rewritten,
//! and it leaves the node for the target through the ordinary path: the node subnet's route
//! table and NACL, the target subnet's NACL, the target's security groups. Replies come back
//! through the same node and are translated back.

use super::{Step, Walk};
use crate::conntrack::Tracked;
use crate::elb::{self, Choice, NlbFlow, NoTarget, Seen};
use crate::sg;
use crate::topology::Idx;
use crate::trace::{Action, Stage, Tracer};
use crate::verdict::{DropReason, FlowAction, FlowDirection};
use std::net::IpAddr;

impl<T: Tracer> Walk<'_, '_, T> {
    /// Security groups on a node apply only when the load balancer has some (SPEC §11.3).
    fn nlb_has_sgs(&self, node: Idx) -> bool {
        !self.topo.enis[node as usize].security_groups.is_empty()
    }

    /// A packet the node itself sends (a health check): its groups' outbound rules when it has
    /// groups; without groups the connection is still tracked so its reply is recognised.
    pub(super) fn nlb_node_egress(&mut self, node: Idx) -> Step {
        if self.nlb_has_sgs(node) {
            return self.sg_check(node, false);
        }
        if self
            .state
            .conntrack
            .touch(node, &self.h, self.now)
            .is_none()
            && self
                .state
                .conntrack
                .insert(node, &self.h, self.now)
                .is_err()
        {
            let owner = self.topo.enis[node as usize].owner;
            self.drop(
                DropReason::ConntrackFull,
                owner,
                Stage::SgEgress,
                None,
                || "connection-tracking table full".into(),
            );
            return Err(());
        }
        Ok(())
    }

    /// The rules of the load balancer's security groups for the first packet of a flow, inbound
    /// (client → node) or outbound (node → target). Not entered in connection tracking: the
    /// load balancer's flow table tracks the flow from then on.
    fn nlb_node_rules(&mut self, node: Idx, ingress: bool) -> Step {
        let topo = self.topo;
        let e = &topo.enis[node as usize];
        let (rules, peer, stage, direction) = if ingress {
            (
                &e.sg_ingress,
                self.h.src,
                Stage::SgIngress,
                FlowDirection::Ingress,
            )
        } else {
            (
                &e.sg_egress,
                self.h.dst,
                Stage::SgEgress,
                FlowDirection::Egress,
            )
        };
        if let Some(rule) = sg::evaluate(rules, &self.h, peer, !self.via_appliance) {
            let rule = *rule;
            let culprit = topo.security_groups[rule.group as usize].res;
            let text = T::ENABLED.then(|| topo.sg_rule_text(&rule, ingress));
            self.hop(culprit, stage, Action::Allow, text, || {
                "new load-balanced flow, tracked by the load balancer".into()
            });
            return Ok(());
        }
        let culprit = self.sg_culprit(node);
        let groups = if T::ENABLED {
            self.sg_names(node)
        } else {
            String::new()
        };
        self.observe(node, direction, FlowAction::Reject);
        let (reason, which) = if ingress {
            (DropReason::SgIngressDenied, "inbound")
        } else {
            (DropReason::SgEgressDenied, "outbound")
        };
        self.drop(reason, culprit, stage, None, || {
            format!("no {which} rule of the load balancer's {groups} allows this packet")
        });
        Err(())
    }

    /// The packet reached node `node` of load balancer `lb` (its subnet's NACL already passed).
    pub(super) fn nlb_arrive(&mut self, lb: Idx, node: Idx) {
        let topo = self.topo;
        // A packet of a flow the load balancer already tracks: its security groups admitted
        // the flow when it began (the flow table is the node's connection tracking).
        match self.state.nlb.find(&self.h, self.now) {
            Some(Seen::Reply(flow)) => {
                self.observe(node, FlowDirection::Ingress, FlowAction::Accept);
                self.nlb_return(flow);
                return;
            }
            Some(Seen::Client(flow)) => {
                self.observe(node, FlowDirection::Ingress, FlowAction::Accept);
                self.nlb_forward(flow, None);
                return;
            }
            None => {}
        }
        if matches!(
            self.state.conntrack.peek(node, &self.h, self.now),
            Some(Tracked::Reply)
        ) {
            // The reply of a connection the node opened itself (a health check): admitted by
            // connection tracking whatever the rules.
            if self.nlb_has_sgs(node) && self.sg_check(node, true).is_err() {
                return;
            }
            self.observe(node, FlowDirection::Ingress, FlowAction::Accept);
            self.deliver(node);
            return;
        }
        if self.nlb_has_sgs(node) && self.nlb_node_rules(node, true).is_err() {
            return;
        }
        self.observe(node, FlowDirection::Ingress, FlowAction::Accept);
        let balancer = &topo.elb.load_balancers[lb as usize];
        let (proto, port) = (self.h.proto, self.h.dst_port);
        let Some(li) = balancer
            .listeners
            .iter()
            .position(|l| l.port == port && l.protocol.accepts(proto))
        else {
            let res = balancer.res;
            let proto = self.h.protocol_name();
            self.drop(
                DropReason::NlbNoListener,
                res,
                Stage::NlbListener,
                None,
                || format!("no listener of the load balancer accepts {proto} port {port}"),
            );
            return;
        };
        let group = &topo.elb.target_groups[balancer.listeners[li].target_group as usize];
        let n = match elb::new_flow(topo, &self.state.nlb, lb, li as u32, node, &self.h) {
            Ok(n) => n,
            Err(why) => {
                self.nlb_listener_hop(lb, li as u32);
                let az = topo.subnet_of(node).availability_zone.clone();
                let res = group.res;
                self.drop(DropReason::NlbNoTarget, res, Stage::NlbTargetGroup, None, || {
                    match why {
                        NoTarget::NoneRegistered => "the target group has no registered target".into(),
                        NoTarget::NoneInZone => format!("no target in {az}, the node's Availability Zone, and cross-zone load balancing is off"),
                        NoTarget::NoneHealthyInZone => format!("every target in {az} is unhealthy while targets in other zones are healthy; cross-zone load balancing is off"),
                    }
                });
                return;
            }
        };
        if self.state.nlb.insert(&self.h, n.flow, self.now).is_err() {
            let res = balancer.res;
            self.drop(
                DropReason::ConntrackFull,
                res,
                Stage::NlbTargetGroup,
                None,
                || "the load balancer's flow table is full: new flow refused".into(),
            );
            return;
        }
        self.nlb_forward(n.flow, Some(n.choice));
    }

    fn nlb_listener_hop(&mut self, lb: Idx, li: u32) {
        if T::ENABLED {
            let topo = self.topo;
            let balancer = &topo.elb.load_balancers[lb as usize];
            let listener = &balancer.listeners[li as usize];
            let rule = format!(
                "{}:{} → forward to {}",
                listener.protocol.as_str(),
                listener.port,
                topo.name(topo.elb.target_groups[listener.target_group as usize].res)
            );
            self.hop(
                listener.res,
                Stage::NlbListener,
                Action::Forward,
                Some(rule),
                || format!("listener of {}", topo.name(balancer.res)),
            );
        }
    }

    /// A client's packet of `flow` (new when `how` says how its target was chosen): to the
    /// target, rewritten.
    fn nlb_forward(&mut self, flow: NlbFlow, how: Option<Choice>) {
        let topo = self.topo;
        let node = flow.node;
        let group = &topo.elb.target_groups[flow.target_group as usize];
        let target = &group.targets[flow.target as usize];
        if T::ENABLED {
            self.nlb_listener_hop(flow.lb, flow.listener);
            let detail = match how {
                None => "existing flow: stays on its target".to_string(),
                Some(c) if c.fail_open => format!(
                    "new flow hashed to target {} of {} (every target is unhealthy: fail open)",
                    c.target + 1,
                    c.among
                ),
                Some(c) => format!(
                    "new flow hashed to 1 of {} healthy target(s){}",
                    c.among,
                    if topo.elb.cross_zone(flow.lb, flow.target_group) {
                        " (cross-zone)"
                    } else {
                        " in the node's zone"
                    }
                ),
            };
            let rule = format!(
                "{} {}:{} ({}, {})",
                group.target_type.as_str(),
                target.id,
                target.port,
                target.health.state.as_str(),
                target
                    .az
                    .and_then(|z| topo.subnets.iter().find(|s| s.az == z))
                    .map_or("outside the topology", |s| s.availability_zone.as_str())
            );
            self.hop(
                group.res,
                Stage::NlbTargetGroup,
                Action::Forward,
                Some(rule),
                || detail,
            );
        }
        let before = self.h;
        self.h.dst = IpAddr::V4(flow.backend_dst.0);
        self.h.dst_port = flow.backend_dst.1;
        self.h.src = IpAddr::V4(flow.backend_src.0);
        self.h.src_port = flow.backend_src.1;
        let target_res = target.res;
        self.hop(
            target_res,
            Stage::NlbTarget,
            Action::Translate,
            None,
            || {
                let src = if flow.preserves_client_ip() {
                    "source kept (client IP preservation)".to_string()
                } else {
                    format!(
                        "source {}:{} → {}:{} (client IP preservation off)",
                        before.src, before.src_port, flow.backend_src.0, flow.backend_src.1
                    )
                };
                format!(
                    "destination {}:{} → {}:{}; {src}",
                    before.dst, before.dst_port, flow.backend_dst.0, flow.backend_dst.1
                )
            },
        );
        // The node's outbound rules are checked when the flow begins.
        if how.is_some() && self.nlb_has_sgs(node) && self.nlb_node_rules(node, false).is_err() {
            return;
        }
        self.leave_into_subnet(node);
    }

    /// A target's reply at the node: back to the client, from the address it connected to.
    fn nlb_return(&mut self, flow: NlbFlow) {
        let topo = self.topo;
        let before = self.h;
        self.h.src = IpAddr::V4(flow.frontend.0);
        self.h.src_port = flow.frontend.1;
        self.h.dst = IpAddr::V4(flow.client.0);
        self.h.dst_port = flow.client.1;
        let lb = topo.elb.load_balancers[flow.lb as usize].res;
        self.hop(lb, Stage::NlbTarget, Action::Translate, None, || {
            format!(
                "reply of a tracked load-balanced flow: source {}:{} → {}:{}, destination {}:{}",
                before.src,
                before.src_port,
                flow.frontend.0,
                flow.frontend.1,
                flow.client.0,
                flow.client.1
            )
        });
        self.leave_into_subnet(flow.node);
    }

    /// A packet leaving target interface `eni`, past its security groups: when it is the
    /// reply of a load-balanced flow that kept the client's address, the load balancer takes it
    /// back (the target never answers the client directly). Returns whether it handled the
    /// packet.
    pub(super) fn nlb_reply_from_target(&mut self, eni: Idx) -> bool {
        let Some(flow) = self.state.nlb.lookup_reply(&self.h, self.now) else {
            return false;
        };
        if !flow.preserves_client_ip() {
            // Addressed to the node: ordinary routing takes it there.
            return false;
        }
        let topo = self.topo;
        let from = topo.enis[eni as usize].subnet;
        let node = flow.node;
        let to = topo.enis[node as usize].subnet;
        if from != to {
            if self.nacl_egress(from, Some(eni)).is_err() {
                return true;
            }
            self.observe(eni, FlowDirection::Egress, FlowAction::Accept);
            if self.nacl_ingress(to, Some(node)).is_err() {
                return true;
            }
        } else {
            self.observe(eni, FlowDirection::Egress, FlowAction::Accept);
        }
        let lb = topo.elb.load_balancers[flow.lb as usize].res;
        let node_addr = flow.frontend.0;
        self.hop(lb, Stage::NlbTarget, Action::Forward, None, || {
            format!(
                "reply of a load-balanced flow: back through the load balancer node {node_addr}"
            )
        });
        self.observe(node, FlowDirection::Ingress, FlowAction::Accept);
        self.nlb_return(flow);
        true
    }
}
