//! Security groups, with each rule's text as traces print it.

use super::res;
use crate::model::{self, Model, SgPeer};
use vpcsim_dataplane::tables::sg::{SecurityGroup, SgRule};
use vpcsim_dataplane::topology::{ResId, Topology, VpcIdx};
use vpcsim_dataplane::wire::IpProtocol;

/// Every security group; `prefix_lists` are the resources of the model's prefix lists.
pub(super) fn security_groups(model: &Model, topo: &mut Topology, prefix_lists: &[ResId]) {
    for g in &model.security_groups {
        let r = res(topo, &g.origin);
        topo.security_groups.push(SecurityGroup {
            res: r,
            vpc: g.vpc.map_or(VpcIdx(u32::MAX), VpcIdx::from),
            ingress: sg_rules(model, prefix_lists, &g.ingress, true),
            egress: sg_rules(model, prefix_lists, &g.egress, false),
        });
    }
}

/// The model's security group rules in the data plane's form, with readable text for traces.
fn sg_rules(
    model: &Model,
    pl_res: &[ResId],
    rules: &[model::SgRule],
    ingress: bool,
) -> Vec<SgRule> {
    rules
        .iter()
        .map(|r| {
            let proto = match r.protocol {
                None => "all".to_string(),
                Some(p) => p.to_string(),
            };
            let ports = match r.protocol {
                Some(IpProtocol::TCP | IpProtocol::UDP)
                    if (r.from_port, r.to_port) == (0, 65535) =>
                {
                    String::new()
                }
                Some(IpProtocol::TCP | IpProtocol::UDP) if r.from_port == r.to_port => {
                    format!(" {}", r.from_port)
                }
                Some(IpProtocol::TCP | IpProtocol::UDP) => {
                    format!(" {}-{}", r.from_port, r.to_port)
                }
                Some(IpProtocol::ICMP | IpProtocol::ICMPV6) => {
                    let f = |v: i32| {
                        if v < 0 {
                            "any".to_string()
                        } else {
                            v.to_string()
                        }
                    };
                    format!(" type {} code {}", f(r.from_port), f(r.to_port))
                }
                _ => String::new(),
            };
            let peer = match &r.peer {
                SgPeer::Cidr(c) => c.to_string(),
                SgPeer::Group(g) => model.security_groups[*g].origin.logical_id.clone(),
                SgPeer::PrefixList(l) => {
                    let o = &model.prefix_lists[*l].origin;
                    format!("{} [{}]", o.logical_id, o.id)
                }
            };
            let dir = if ingress { "from" } else { "to" };
            SgRule {
                protocol: r.protocol,
                from_port: r.from_port,
                to_port: r.to_port,
                peer: match &r.peer {
                    SgPeer::Cidr(c) => vpcsim_dataplane::tables::sg::SgPeer::Cidr(*c),
                    SgPeer::Group(g) => vpcsim_dataplane::tables::sg::SgPeer::Group((*g).into()),
                    SgPeer::PrefixList(l) => vpcsim_dataplane::tables::sg::SgPeer::PrefixList {
                        list: pl_res[*l],
                        entries: model.prefix_lists[*l].entries.clone(),
                    },
                },
                text: format!("{proto}{ports} {dir} {peer}"),
            }
        })
        .collect()
}
