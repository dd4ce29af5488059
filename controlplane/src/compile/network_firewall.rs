//! AWS Network Firewall: firewalls and endpoints, their policy's rules in evaluation order with
//! every variable resolved (SPEC §20.5: `HOME_NET` defaults to the firewall VPC's CIDRs,
//! `EXTERNAL_NET` is the policy's `HOME_NET` negated unless a group defines its own), and the
//! routes whose target is a firewall endpoint.

use super::res;
use crate::model::{FirewallPolicy, FirewallRuleGroup, Model};
use crate::suricata::{self, AddrSpec, PortSpec};
use ipnet::IpNet;
use vpcsim_dataplane::topology::network_firewall::{
    self as dp, AddrSet, FiveTuple, PortSet, RuleOrder, RuleProtocol, StatefulAction,
    StatefulDefaults, StatelessAction, StatelessActions, StreamExceptionPolicy,
};
use vpcsim_dataplane::topology::{ResId, Route, RouteTarget, Topology};
use vpcsim_dataplane::wire::Family;

/// Every firewall and endpoint, in the model's order (endpoint indices are the model's).
pub(super) fn network_firewalls(model: &Model, topo: &mut Topology) {
    let group_res: Vec<ResId> = model
        .firewall_rule_groups
        .iter()
        .map(|g| res(topo, &g.origin))
        .collect();
    let policy_res: Vec<ResId> = model
        .firewall_policies
        .iter()
        .map(|p| res(topo, &p.origin))
        .collect();
    for f in &model.network_firewalls {
        let fres = res(topo, &f.origin);
        let v = &model.vpcs[f.vpc];
        let vpc_nets: Vec<IpNet> = v
            .cidrs_v4
            .iter()
            .map(|c| IpNet::V4(*c))
            .chain(v.cidrs_v6.iter().map(|c| IpNet::V6(*c)))
            .collect();
        let policy = f.policy.map(|p| &model.firewall_policies[p]);
        let mut fw = dp::NetworkFirewall {
            res: fres,
            name: f.name.clone(),
            vpc: f.vpc.into(),
            policy: f.policy.map(|p| policy_res[p]),
            stateless: Vec::new(),
            stateless_default: actions(&[]),
            fragment_default: actions(&[]),
            stateful: Vec::new(),
            order: RuleOrder::DefaultActionOrder,
            defaults: StatefulDefaults::default(),
            stream_exception: StreamExceptionPolicy::Drop,
            tcp_idle_timeout_s: 350,
            alert_logs: f.alert_logs,
            flow_logs: f.flow_logs,
        };
        if let Some(p) = policy {
            compile_policy(model, p, &vpc_nets, &group_res, &mut fw);
        } else {
            fw.stateless_default = actions(&["aws:pass".into()]);
            fw.fragment_default = actions(&["aws:pass".into()]);
        }
        topo.network_firewalls.firewalls.push(fw);
    }
    for e in &model.firewall_endpoints {
        let r = res(topo, &e.origin);
        topo.network_firewalls.endpoints.push(dp::FirewallEndpoint {
            res: r,
            firewall: e.firewall.into(),
            subnet: e.subnet.into(),
            addr: e.address,
        });
    }
}

fn actions(names: &[String]) -> StatelessActions {
    let action = names
        .iter()
        .find_map(|a| match a.as_str() {
            "aws:pass" => Some(StatelessAction::Pass),
            "aws:drop" => Some(StatelessAction::Drop),
            "aws:forward_to_sfe" => Some(StatelessAction::ForwardToSfe),
            _ => None,
        })
        .unwrap_or(StatelessAction::Pass);
    StatelessActions {
        action,
        custom: names
            .iter()
            .filter(|a| !a.starts_with("aws:"))
            .cloned()
            .collect(),
    }
}

fn compile_policy(
    model: &Model,
    p: &FirewallPolicy,
    vpc_nets: &[IpNet],
    group_res: &[ResId],
    fw: &mut dp::NetworkFirewall,
) {
    fw.stateless_default = actions(&p.stateless_default);
    fw.fragment_default = actions(&p.fragment_default);
    fw.tcp_idle_timeout_s = p.tcp_idle_timeout_s;
    fw.stream_exception = match p.stream_exception.as_str() {
        "CONTINUE" => StreamExceptionPolicy::Continue,
        "REJECT" => StreamExceptionPolicy::Reject,
        _ => StreamExceptionPolicy::Drop,
    };
    fw.order = if p.strict_order {
        RuleOrder::StrictOrder
    } else {
        RuleOrder::DefaultActionOrder
    };
    for a in &p.stateful_default {
        match a.as_str() {
            "aws:drop_strict" => fw.defaults.drop_strict = true,
            "aws:drop_established" => fw.defaults.drop_established = true,
            "aws:alert_strict" => fw.defaults.alert_strict = true,
            "aws:alert_established" => fw.defaults.alert_established = true,
            // The *_app_layer variants load but are not simulated (README).
            _ => {}
        }
    }
    let home = p.home_net.clone().unwrap_or_else(|| vpc_nets.to_vec());
    let home_set = nets(&home);
    let external = complement(&home_set);
    let mut groups = p.stateless_groups.clone();
    groups.sort_by_key(|&(prio, _)| prio);
    for (prio, g) in groups {
        let group = &model.firewall_rule_groups[g];
        let mut rules = group.stateless_rules.clone();
        rules.sort_by_key(|r| r.priority);
        for r in rules {
            let proto: Vec<(u8, u8)> = if r.protocols.is_empty() {
                vec![(0, 255)]
            } else {
                let mut v: Vec<(u8, u8)> = r.protocols.iter().map(|&p| (p, p)).collect();
                v.sort();
                v.dedup();
                v
            };
            let any_or = |n: &[IpNet]| {
                if n.is_empty() {
                    AddrSet::any()
                } else {
                    nets(n)
                }
            };
            let ports = |r: &[(u16, u16)]| {
                if r.is_empty() {
                    PortSet::any()
                } else {
                    PortSet(normalize_ports(r.to_vec()))
                }
            };
            fw.stateless.push(dp::StatelessRule {
                group: group_res[g],
                group_priority: prio,
                priority: r.priority,
                tuple: FiveTuple {
                    src: any_or(&r.sources),
                    src_ports: ports(&r.source_ports),
                    dst: any_or(&r.destinations),
                    dst_ports: ports(&r.destination_ports),
                    protocols: proto,
                },
                tcp_flags: r
                    .tcp_flags
                    .iter()
                    .map(|&(flags, masks)| dp::TcpFlagMatch { flags, masks })
                    .collect(),
                actions: actions(&r.actions),
            });
        }
    }
    let mut stateful: Vec<(u32, usize, usize, dp::StatefulRule)> = Vec::new();
    for (gi, &(prio, g)) in p.stateful_groups.iter().enumerate() {
        let group = &model.firewall_rule_groups[g];
        let vars = Vars::new(group, &home_set, &external);
        for (ri, r) in suricata::parse_rules(&group.suricata.join("\n"))
            .into_iter()
            .flatten()
            .enumerate()
        {
            stateful.push((prio, gi, ri, compile_rule(r, &vars, group_res[g])));
        }
    }
    match fw.order {
        RuleOrder::StrictOrder => stateful.sort_by_key(|(prio, gi, ri, _)| (*prio, *gi, *ri)),
        RuleOrder::DefaultActionOrder => {
            stateful.sort_by_key(|(_, gi, ri, r)| (action_rank(r.action), r.priority, *gi, *ri))
        }
    }
    fw.stateful = stateful.into_iter().map(|(.., r)| r).collect();
}

fn action_rank(a: StatefulAction) -> u8 {
    match a {
        StatefulAction::Pass => 0,
        StatefulAction::Drop => 1,
        StatefulAction::Reject => 2,
        StatefulAction::Alert => 3,
    }
}

/// The variables one rule group sees.
struct Vars<'a> {
    group: &'a FirewallRuleGroup,
    home: AddrSet,
    external: AddrSet,
}

impl<'a> Vars<'a> {
    fn new(group: &'a FirewallRuleGroup, home: &AddrSet, external: &AddrSet) -> Vars<'a> {
        Vars {
            group,
            home: home.clone(),
            external: external.clone(),
        }
    }

    fn addr(&self, name: &str, depth: u32) -> Result<AddrSet, String> {
        if let Some((_, defs)) = self.group.ip_sets.iter().find(|(n, _)| n == name) {
            if depth > 8 {
                return Err(format!("variable ${name} refers to itself"));
            }
            let mut out = AddrSet::default();
            for d in defs {
                let spec = suricata::addr_spec(d)?;
                out = union(&out, &self.resolve_addr(&spec, depth + 1)?);
            }
            return Ok(out);
        }
        match name {
            "HOME_NET" => Ok(self.home.clone()),
            "EXTERNAL_NET" => Ok(self.external.clone()),
            _ => Err(format!("undefined variable ${name}")),
        }
    }

    fn resolve_addr(&self, s: &AddrSpec, depth: u32) -> Result<AddrSet, String> {
        Ok(match s {
            AddrSpec::Any => AddrSet::any(),
            AddrSpec::Net(n) => nets(std::slice::from_ref(n)),
            AddrSpec::Var(v) => self.addr(v, depth)?,
            AddrSpec::Not(x) => complement(&self.resolve_addr(x, depth)?),
            AddrSpec::Group(items) => {
                // Suricata: a group is the union of its positive items minus its negated ones.
                let (mut plus, mut minus) = (AddrSet::default(), AddrSet::default());
                let mut any_positive = false;
                for i in items {
                    match i {
                        AddrSpec::Not(x) => minus = union(&minus, &self.resolve_addr(x, depth)?),
                        other => {
                            any_positive = true;
                            plus = union(&plus, &self.resolve_addr(other, depth)?)
                        }
                    }
                }
                if !any_positive {
                    plus = AddrSet::any();
                }
                intersect(&plus, &complement(&minus))
            }
        })
    }

    fn resolve_ports(&self, s: &PortSpec, depth: u32) -> Result<Vec<(u16, u16)>, String> {
        Ok(match s {
            PortSpec::Any => vec![(0, u16::MAX)],
            PortSpec::Range(a, b) => vec![(*a, *b)],
            PortSpec::Var(name) => {
                let Some((_, defs)) = self.group.port_sets.iter().find(|(n, _)| n == name) else {
                    return Err(format!("undefined variable ${name}"));
                };
                if depth > 8 {
                    return Err(format!("variable ${name} refers to itself"));
                }
                let mut out = Vec::new();
                for d in defs {
                    out.extend(self.resolve_ports(&suricata::port_spec(d)?, depth + 1)?);
                }
                normalize_ports(out)
            }
            PortSpec::Not(x) => complement_ports(&normalize_ports(self.resolve_ports(x, depth)?)),
            PortSpec::Group(items) => {
                let (mut plus, mut minus, mut any_positive) = (Vec::new(), Vec::new(), false);
                for i in items {
                    match i {
                        PortSpec::Not(x) => minus.extend(self.resolve_ports(x, depth)?),
                        other => {
                            any_positive = true;
                            plus.extend(self.resolve_ports(other, depth)?)
                        }
                    }
                }
                if !any_positive {
                    plus.push((0, u16::MAX));
                }
                let keep = complement_ports(&normalize_ports(minus));
                intersect_ports(&normalize_ports(plus), &keep)
            }
        })
    }
}

fn compile_rule(r: suricata::Rule, vars: &Vars<'_>, group: ResId) -> dp::StatefulRule {
    let mut unsupported = r.unsupported.clone();
    let mut resolve = |f: Result<AddrSet, String>| {
        f.unwrap_or_else(|e| {
            unsupported.push(e);
            AddrSet::default()
        })
    };
    let src = resolve(vars.resolve_addr(&r.src, 0));
    let dst = resolve(vars.resolve_addr(&r.dst, 0));
    let mut port = |s: &PortSpec| match vars.resolve_ports(s, 0) {
        Ok(p) => PortSet(normalize_ports(p)),
        Err(e) => {
            unsupported.push(e);
            PortSet(Vec::new())
        }
    };
    let (src_ports, dst_ports) = (port(&r.src_ports), port(&r.dst_ports));
    let protocol = r.protocol.unwrap_or(RuleProtocol::Ip);
    let protocols = match (r.ip_proto, protocol) {
        (Some(p), _) => vec![(p, p)],
        (None, RuleProtocol::Tcp) => vec![(6, 6)],
        (None, RuleProtocol::Udp) => vec![(17, 17)],
        (None, RuleProtocol::Icmp) => vec![(1, 1), (58, 58)],
        (None, RuleProtocol::App(dp::AppProtocol::Dns)) => vec![(6, 6), (17, 17)],
        (None, RuleProtocol::App(_)) => vec![(6, 6)],
        (None, RuleProtocol::Ip) => vec![(0, 255)],
    };
    dp::StatefulRule {
        group,
        action: r.action,
        protocol,
        tuple: FiveTuple {
            src,
            src_ports,
            dst,
            dst_ports,
            protocols,
        },
        bidirectional: r.bidirectional,
        flow: r.flow,
        contents: r.contents,
        sid: r.sid,
        msg: r.msg,
        priority: r.priority.unwrap_or(u8::MAX),
        unsupported: (!unsupported.is_empty()).then(|| unsupported.join(", ")),
    }
}

fn nets(n: &[IpNet]) -> AddrSet {
    let mut s = AddrSet::default();
    for net in n {
        let r = Family::prefix_range(net);
        match Family::of_net(net) {
            Family::V4 => s.v4.push(r),
            Family::V6 => s.v6.push(r),
        }
    }
    s.v4 = normalize(s.v4);
    s.v6 = normalize(s.v6);
    s
}

fn normalize(mut r: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    r.sort();
    let mut out: Vec<(u128, u128)> = Vec::new();
    for (lo, hi) in r {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn complement_of(r: &[(u128, u128)], max: u128) -> Vec<(u128, u128)> {
    let mut out = Vec::new();
    let mut next = Some(0u128);
    for &(lo, hi) in r {
        if let Some(n) = next {
            if lo > n {
                out.push((n, lo - 1));
            }
        }
        next = hi.checked_add(1).filter(|&x| x <= max);
    }
    if let Some(n) = next {
        out.push((n, max));
    }
    out
}

fn complement(s: &AddrSet) -> AddrSet {
    AddrSet {
        v4: complement_of(&s.v4, Family::V4.addr_max()),
        v6: complement_of(&s.v6, u128::MAX),
    }
}

fn union(a: &AddrSet, b: &AddrSet) -> AddrSet {
    AddrSet {
        v4: normalize([a.v4.clone(), b.v4.clone()].concat()),
        v6: normalize([a.v6.clone(), b.v6.clone()].concat()),
    }
}

fn intersect_ranges(a: &[(u128, u128)], b: &[(u128, u128)]) -> Vec<(u128, u128)> {
    let mut out = Vec::new();
    for &(alo, ahi) in a {
        for &(blo, bhi) in b {
            let (lo, hi) = (alo.max(blo), ahi.min(bhi));
            if lo <= hi {
                out.push((lo, hi));
            }
        }
    }
    normalize(out)
}

fn intersect(a: &AddrSet, b: &AddrSet) -> AddrSet {
    AddrSet {
        v4: intersect_ranges(&a.v4, &b.v4),
        v6: intersect_ranges(&a.v6, &b.v6),
    }
}

fn normalize_ports(p: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    normalize(p.into_iter().map(|(a, b)| (a as u128, b as u128)).collect())
        .into_iter()
        .map(|(a, b)| (a as u16, b as u16))
        .collect()
}

fn complement_ports(p: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let r: Vec<(u128, u128)> = p.iter().map(|&(a, b)| (a as u128, b as u128)).collect();
    complement_of(&r, u16::MAX as u128)
        .into_iter()
        .map(|(a, b)| (a as u16, b as u16))
        .collect()
}

fn intersect_ports(a: &[(u16, u16)], b: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let w = |p: &[(u16, u16)]| -> Vec<(u128, u128)> {
        p.iter().map(|&(a, b)| (a as u128, b as u128)).collect()
    };
    intersect_ranges(&w(a), &w(b))
        .into_iter()
        .map(|(a, b)| (a as u16, b as u16))
        .collect()
}

/// The routes of route table `table` whose target is a firewall endpoint.
pub(super) fn endpoint_routes(
    model: &Model,
    topo: &mut Topology,
    table: usize,
    routes: &mut Vec<Route>,
) {
    for r in model
        .firewall_routes
        .iter()
        .filter(|r| r.route_table == table)
    {
        let route_res = res(topo, &r.origin);
        routes.push(Route {
            res: Some(route_res),
            destination: r.destination,
            target: RouteTarget::NetworkFirewallEndpoint(r.endpoint.into()),
            target_name: model.firewall_endpoints[r.endpoint]
                .origin
                .logical_id
                .clone(),
            propagated: false,
            prefix_list: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complements_and_groups() {
        let home = nets(&["10.0.0.0/8".parse().unwrap()]);
        let ext = complement(&home);
        assert_eq!(ext.v4, [(0, 0x09ff_ffff), (0x0b00_0000, 0xffff_ffff)]);
        assert_eq!(ext.v6, [(0, u128::MAX)]);
        assert_eq!(complement(&ext).v4, home.v4);
        assert_eq!(complement_ports(&[(0, 79), (81, 65535)]), [(80, 80)]);
        assert_eq!(
            intersect_ports(&[(0, 1000)], &complement_ports(&[(22, 22)])),
            [(0, 21), (23, 1000)]
        );
    }
}
