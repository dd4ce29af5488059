//! The Gateway Load Balancer stage (SPEC §10.3, §11.4): a route sends the packet to a GWLB
//! endpoint; the endpoint service's load balancer node in the endpoint's zone picks an appliance
//! by symmetric flow hash and sends it the packet GENEVE-encapsulated (UDP 6081 from the node's
//! address: the appliance subnet's NACLs and the appliance's security groups see that outer
//! packet); the appliance returns it unchanged, the node decapsulates it, and it continues from
//! the endpoint with the endpoint subnet's route table.

use super::Walk;
use crate::geneve::{self, Encapsulation};
use crate::gwlb::{flow_hash, NoTarget, Stickiness};
use crate::topology::Idx;
use crate::trace::{Action, Stage, Tracer};
use crate::verdict::{DropReason, FlowAction, FlowDirection};

impl<T: Tracer> Walk<'_, '_, T> {
    /// A route of `vpc` (from `from_subnet`, or from a gateway route table when `None`) sends
    /// the packet to GWLB endpoint `x`.
    pub(super) fn gwlb_endpoint(&mut self, x: Idx, vpc: Idx, from_subnet: Option<Idx>) {
        let topo = self.topo;
        let ep = &topo.gwlb.endpoints[x as usize];
        if ep.vpc != vpc {
            self.drop(
                DropReason::BlackholeRoute,
                ep.res,
                Stage::GwlbEndpoint,
                None,
                || "the Gateway Load Balancer endpoint is in another VPC".into(),
            );
            return;
        }
        if self.spend_forward(ep.res, Stage::GwlbEndpoint).is_err() {
            return;
        }
        if from_subnet != Some(ep.subnet) && self.nacl_ingress(ep.subnet, None).is_err() {
            return;
        }
        let lb = &topo.gwlb.load_balancers[ep.load_balancer as usize];
        self.hop(ep.res, Stage::GwlbEndpoint, Action::Forward, None, || {
            format!(
                "to endpoint service {} of {}",
                topo.name(ep.service),
                topo.name(lb.res)
            )
        });
        if u32::from(self.h.len) > geneve::GWLB_MTU {
            let len = self.h.len;
            self.drop(DropReason::GwlbMtuExceeded, lb.res, Stage::Gwlb, None, || {
                format!(
                    "{len} bytes is more than the load balancer's {}-byte MTU: dropped, not fragmented, no ICMP sent back",
                    geneve::GWLB_MTU
                )
            });
            return;
        }
        let Some(node) = topo.gwlb.node_for(topo, x) else {
            self.drop(DropReason::GwlbNoTarget, lb.res, Stage::Gwlb, None, || {
                "the Gateway Load Balancer has no node".into()
            });
            return;
        };
        let stickiness = lb.target_group.map_or(Stickiness::FiveTuple, |g| {
            topo.gwlb.target_groups[g as usize].stickiness
        });
        let hash = flow_hash(&self.h, stickiness);
        let (tg, choice) = match topo.gwlb.choose(ep.load_balancer, node.az, hash) {
            Ok(c) => c,
            Err(why) => {
                let at = lb
                    .target_group
                    .map_or(lb.res, |g| topo.gwlb.target_groups[g as usize].res);
                let zone = &topo.subnets[node.subnet as usize].availability_zone;
                self.drop(DropReason::GwlbNoTarget, at, Stage::Gwlb, None, || match why {
                    NoTarget::NoneRegistered if lb.target_group.is_none() => {
                        "the Gateway Load Balancer has no listener".into()
                    }
                    NoTarget::NoneRegistered => "the target group has no registered appliance".into(),
                    NoTarget::NoneInZone => format!(
                        "no appliance in {zone}, the node's Availability Zone, and cross-zone load balancing is off"
                    ),
                    NoTarget::NoneHealthyInZone => format!(
                        "every appliance in {zone} is unhealthy while others elsewhere are healthy, and cross-zone load balancing is off"
                    ),
                });
                return;
            }
        };
        let g = &topo.gwlb.target_groups[tg as usize];
        let t = &g.targets[choice.target as usize];
        self.hop(lb.res, Stage::Gwlb, Action::Forward, None, || {
            let how = if choice.fail_open {
                format!("all {} appliances unhealthy: fail open", choice.among)
            } else {
                format!("one of {} healthy", choice.among)
            };
            format!(
                "node {} ({}): target group {}, appliance {} {} ({} flow hash, {how})",
                node.addr,
                topo.subnets[node.subnet as usize].availability_zone,
                topo.name(g.res),
                topo.name(t.res),
                t.addr,
                stickiness.as_str()
            )
        });
        let enc = Encapsulation {
            appliance: t.eni,
            outer_src: node.addr,
            outer_dst: t.addr,
            src_port: 1024 + ((hash >> 40) % 64_512) as u16,
            endpoint_id: ep.endpoint_id,
            attachment_id: ep.attachment_id,
            flow_cookie: hash as u32,
            inner: self.h,
        };
        self.v.geneve = Some(enc);
        let inner = self.h;
        self.h = enc.outer_header();
        self.hop(lb.res, Stage::GeneveEncap, Action::Translate, None, || {
            format!(
                "GENEVE: outer {}:{} → {}:{} UDP, option class 0x{:04x}: endpoint id {:016x}, attachment id {:016x}, flow cookie {:08x} (+{} bytes)",
                enc.outer_src,
                enc.src_port,
                enc.outer_dst,
                geneve::PORT,
                geneve::AWS_OPTION_CLASS,
                enc.endpoint_id,
                enc.attachment_id,
                enc.flow_cookie,
                geneve::OVERHEAD
            )
        });
        // Node → appliance inside the appliance VPC (local route): both subnets' NACLs, then the
        // appliance's security groups, which must admit UDP 6081 from the node.
        let e = &topo.enis[t.eni as usize];
        let crosses = node.subnet != e.subnet;
        if crosses
            && (self.nacl_egress(node.subnet, None).is_err()
                || self.nacl_ingress(e.subnet, Some(t.eni)).is_err())
        {
            return;
        }
        if self.sg_check(t.eni, true).is_err() {
            return;
        }
        self.observe(t.eni, FlowDirection::Ingress, FlowAction::Accept);
        self.hop(t.res, Stage::Appliance, Action::Forward, None, || {
            "appliance inspects the packet and returns it unchanged (bump in the wire)".into()
        });
        // The appliance sends the datagram back to the node: a reply of the GENEVE flow.
        self.h = self.h.reply();
        if self.sg_check(t.eni, false).is_err() {
            return;
        }
        self.observe(t.eni, FlowDirection::Egress, FlowAction::Accept);
        if crosses
            && (self.nacl_egress(e.subnet, Some(t.eni)).is_err()
                || self.nacl_ingress(node.subnet, None).is_err())
        {
            return;
        }
        self.h = inner;
        self.via_appliance = true;
        self.hop(ep.res, Stage::GeneveDecap, Action::Forward, None, || {
            format!(
                "decapsulated and back at the endpoint: continues with the route table of {}",
                topo.name(topo.subnets[ep.subnet as usize].res)
            )
        });
        self.route(ep.subnet, None);
    }
}
