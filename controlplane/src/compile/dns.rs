//! Route 53 and Route 53 Resolver into the resolvers' view ([`DnsView`]): zones with their
//! record sets, aliases resolved to their targets' addresses, rules, DNS Firewall, and the names
//! AWS answers itself. Runs last: alias health reads the load balancers' target health.

use super::res;
use crate::model::dns::{Dns, RecordSet as ModelRecord, ResolverRuleKind};
use crate::model::{Model, VpcEndpointKind};
use rustc_hash::FxHashMap;
use std::net::IpAddr;
use vpcsim_dataplane::dns::{
    self, AwsName, DnsView, FirewallRule, FirewallRuleGroup, HealthCheck, Host, HostedZone,
    RecordSet, RecordValue, ResolverEndpoint, ResolverRule, RuleKind, VpcDns,
};
use vpcsim_dataplane::topology::nlb::HealthState;
use vpcsim_dataplane::topology::{EniIdx, NlbIdx, ResId, Topology, VpcIdx};

pub(super) fn dns(model: &Model, topo: &mut Topology) {
    let d = &model.dns;
    let mut view = DnsView {
        vpcs: model
            .vpcs
            .iter()
            .map(|v| VpcDns {
                support: v.enable_dns_support,
                hostnames: v.enable_dns_hostnames,
                region: model.templates[v.origin.template].region.clone(),
            })
            .collect(),
        ..DnsView::default()
    };
    view.health_checks = d
        .health_checks
        .iter()
        .map(|h| HealthCheck {
            res: res(topo, &h.origin),
            healthy: h.healthy,
        })
        .collect();
    view.aws_names = aws_names(model, topo);
    let mut record_res: FxHashMap<String, ResId> = FxHashMap::default();
    for (zi, z) in d.zones.iter().enumerate() {
        let zone_res = res(topo, &z.origin);
        let mut records = Vec::new();
        for r in d.records.iter().filter(|r| r.zone == zi) {
            let rid = *record_res
                .entry(r.origin.id.clone())
                .or_insert_with(|| res(topo, &r.origin));
            records.push(record_set(model, topo, &view.aws_names, rid, r));
        }
        view.zones.push(HostedZone {
            res: zone_res,
            name: z.name.clone(),
            private: z.private,
            vpcs: z.vpcs.iter().map(|&v| VpcIdx::from(v)).collect(),
            records,
        });
    }
    view.endpoints = d
        .endpoints
        .iter()
        .map(|e| ResolverEndpoint {
            res: res(topo, &e.origin),
            outbound: e.outbound,
            enis: e.enis.iter().map(|&i| EniIdx::from(i)).collect(),
        })
        .collect();
    view.rules = d
        .rules
        .iter()
        .map(|r| ResolverRule {
            res: res(topo, &r.origin),
            domain: r.domain.clone(),
            kind: match &r.kind {
                ResolverRuleKind::Forward { targets, endpoint } => RuleKind::Forward {
                    targets: targets.clone(),
                    endpoint: *endpoint,
                },
                ResolverRuleKind::System => RuleKind::System,
            },
            vpcs: r.vpcs.iter().map(|&v| VpcIdx::from(v)).collect(),
        })
        .collect();
    view.firewall = firewall(d, topo);
    view.hosts = model
        .instances
        .iter()
        .filter_map(|i| {
            let &eni = i.enis.first()?;
            let e = &model.enis[eni];
            let private = *e.private_v4.first()?;
            Some(Host {
                res: topo.enis[EniIdx::from(eni)].owner,
                vpc: VpcIdx::from(model.subnets[e.subnet].vpc),
                private,
                public: model.public_ip_of(eni, private),
            })
        })
        .collect();
    topo.dns = view;
}

fn firewall(d: &Dns, topo: &mut Topology) -> Vec<FirewallRuleGroup> {
    let lists: Vec<ResId> = d
        .domain_lists
        .iter()
        .map(|l| res(topo, &l.origin))
        .collect();
    d.firewall_groups
        .iter()
        .map(|g| FirewallRuleGroup {
            res: res(topo, &g.origin),
            rules: g
                .rules
                .iter()
                .map(|r| FirewallRule {
                    priority: r.priority,
                    list: lists[r.domain_list],
                    domains: d.domain_lists[r.domain_list].domains.clone(),
                    action: r.action.clone(),
                })
                .collect(),
            vpcs: g.vpcs.iter().map(|&(v, p)| (VpcIdx::from(v), p)).collect(),
        })
        .collect()
}

/// Load balancers' names (public addresses for internet-facing ones) and interface endpoints'
/// private DNS names (answered only in the endpoint's VPC).
fn aws_names(model: &Model, topo: &Topology) -> Vec<AwsName> {
    let mut names = Vec::new();
    // Network and Application Load Balancers alike: the nodes' public addresses for an
    // internet-facing one, their private addresses for an internal one.
    let mut load_balancer = |res, lb_nodes: &[usize], internet_facing: bool, dns_name: &str| {
        let addresses = lb_nodes
            .iter()
            .filter_map(|&n| {
                let private = *model.enis[n].private_v4.first()?;
                let public = model.public_ip_of(n, private);
                Some(IpAddr::V4(if internet_facing {
                    public.unwrap_or(private)
                } else {
                    private
                }))
            })
            .collect();
        names.push(AwsName {
            res,
            name: dns::normalize(dns_name),
            addresses,
            vpcs: Vec::new(),
        });
    };
    for (i, lb) in model.load_balancers.iter().enumerate() {
        let res = topo.nlb.load_balancers[NlbIdx::from(i)].res;
        load_balancer(res, &lb.nodes, lb.internet_facing, &lb.dns_name);
    }
    for (lb, compiled) in model
        .alb
        .load_balancers
        .iter()
        .zip(&topo.alb.load_balancers)
    {
        load_balancer(compiled.res, &lb.nodes, lb.internet_facing, &lb.dns_name);
    }
    for (x, ep) in model.vpc_endpoints.iter().enumerate() {
        let VpcEndpointKind::Interface {
            enis,
            private_dns_enabled,
            private_dns_names,
            ..
        } = &ep.kind
        else {
            continue;
        };
        let addresses: Vec<IpAddr> = enis
            .iter()
            .filter_map(|&e| model.enis[e].private_v4.first().map(|a| IpAddr::V4(*a)))
            .collect();
        let res = topo.vpc_endpoints[x.into()].res;
        // The endpoint's own regional name answers everywhere; the service's names only in
        // the endpoint's VPC, with private DNS on.
        names.push(AwsName {
            res,
            name: endpoint_dns_name(model, x),
            addresses: addresses.clone(),
            vpcs: Vec::new(),
        });
        if *private_dns_enabled {
            for n in private_dns_names {
                names.push(AwsName {
                    res,
                    name: dns::normalize(n),
                    addresses: addresses.clone(),
                    vpcs: vec![VpcIdx::from(ep.vpc)],
                });
            }
        }
    }
    names
}

/// An interface endpoint's regional DNS name (`vpce-….s3.us-east-1.vpce.amazonaws.com`).
pub fn endpoint_dns_name(model: &Model, x: usize) -> String {
    let ep = &model.vpc_endpoints[x];
    let region = &model.templates[ep.origin.template].region;
    let service = ep
        .service_name
        .strip_prefix(&format!("com.amazonaws.{region}."))
        .unwrap_or(&ep.service_name);
    format!("{}.{service}.{region}.vpce.amazonaws.com", ep.origin.id)
}

fn record_set(
    model: &Model,
    topo: &Topology,
    aws: &[AwsName],
    rid: ResId,
    r: &ModelRecord,
) -> RecordSet {
    let value = match &r.alias {
        None => RecordValue::Records(r.values.clone()),
        Some(a) => alias_value(model, topo, aws, a),
    };
    RecordSet {
        res: rid,
        name: r.name.clone(),
        rtype: r.rtype,
        set_identifier: r.set_identifier.clone(),
        routing: r.routing,
        ttl: r.ttl.unwrap_or(dns::AWS_NAME_TTL),
        value,
        health_check: r.health_check,
    }
}

/// An alias's target: a load balancer or endpoint by its DNS name (`dualstack.` prefix
/// allowed), an endpoint by its id inside the name, else a record of the same zone.
fn alias_value(
    model: &Model,
    topo: &Topology,
    aws: &[AwsName],
    a: &crate::model::dns::AliasTarget,
) -> RecordValue {
    let name = a.dns_name.strip_prefix("dualstack.").unwrap_or(&a.dns_name);
    let by_name = aws.iter().find(|n| n.name == name && n.vpcs.is_empty());
    let by_endpoint = || {
        model
            .vpc_endpoints
            .iter()
            .position(|ep| name.contains(&ep.origin.id.to_ascii_lowercase()))
            .and_then(|x| {
                let res = topo.vpc_endpoints[x.into()].res;
                aws.iter().find(|n| n.res == res)
            })
    };
    match by_name.or_else(by_endpoint) {
        Some(target) => RecordValue::AliasResource {
            target: target.res,
            dns_name: a.dns_name.clone(),
            addresses: target.addresses.clone(),
            healthy: !a.evaluate_target_health || load_balancer_healthy(topo, target.res),
        },
        None => RecordValue::AliasRecord(a.dns_name.clone()),
    }
}

/// `EvaluateTargetHealth` of a load balancer (SPEC §21.5): healthy iff every target group
/// that has targets has a healthy one, and some group has targets. Other targets are healthy.
fn load_balancer_healthy(topo: &Topology, target: ResId) -> bool {
    let Some(lb) = topo.nlb.load_balancers.iter().find(|lb| lb.res == target) else {
        return true;
    };
    let groups: Vec<_> = lb
        .listeners
        .iter()
        .map(|l| &topo.nlb.target_groups[l.target_group])
        .collect();
    !groups.is_empty()
        && groups.iter().any(|g| !g.targets.is_empty())
        && groups.iter().all(|g| {
            g.targets.is_empty()
                || g.targets
                    .iter()
                    .any(|t| t.health.state == HealthState::Healthy)
        })
}
