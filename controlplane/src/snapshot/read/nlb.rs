//! Network Load Balancers from `aws elbv2 describe-*` output: load balancers with their node
//! interfaces from `describe-network-interfaces`, target groups, listeners and registered
//! targets. Listeners, attributes and target health are per load balancer or target group, so
//! their files wrap each call's output with the ARN it was asked for (`LoadBalancerListeners`,
//! `LoadBalancerAttributes`, `TargetGroupAttributes`, `LoadBalancerTargetHealth`); a plain
//! `describe-listeners` output (`Listeners`) works too.

use super::{int, list, s, Item, Items, Reader, Ref};
use crate::model::*;
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;
use vpcsim_dataplane::topology::nlb::{LbProtocol, TargetType};

const LOAD_BALANCER: &str = "AWS::ElasticLoadBalancingV2::LoadBalancer";
const LISTENER: &str = "AWS::ElasticLoadBalancingV2::Listener";
const TARGET_GROUP: &str = "AWS::ElasticLoadBalancingV2::TargetGroup";

/// `Attributes: [{Key, Value}]` of the entries of a merged attributes file, by ARN.
fn attributes(items: &[Item], arn_key: &str) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for it in items {
        let Some(arn) = s(&it.v, arn_key) else {
            continue;
        };
        let attrs = list(&it.v, "Attributes")
            .iter()
            .filter_map(|a| Some((s(a, "Key")?.to_string(), s(a, "Value")?.to_string())))
            .collect();
        out.insert(arn.to_string(), attrs);
    }
    out
}

pub(super) fn attribute<'a>(
    attrs: Option<&'a Vec<(String, String)>>,
    key: &str,
) -> Option<&'a str> {
    attrs?
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

impl Reader {
    pub(super) fn elbv2_unsupported(
        &mut self,
        it: &Item,
        id: &str,
        kind: &'static str,
        why: String,
    ) {
        self.by_id.insert(id.to_string(), Ref::Unsupported);
        self.model.unsupported.push(Unsupported {
            origin: Origin {
                template: it.file,
                logical_id: id.to_string(),
                id: id.to_string(),
                name: Some(why),
                kind: kind.into(),
            },
        });
    }

    /// An ELB resource is named by its ARN; without a Name tag its own name (unique per account
    /// and Region) goes in `name`.
    pub(super) fn elbv2_origin(
        &mut self,
        it: &Item,
        arn: &str,
        name_key: &str,
        kind: &'static str,
    ) -> Option<Origin> {
        let mut o = self.origin(it, Some(arn), kind, "Arn")?;
        if o.name.is_none() {
            o.name = s(&it.v, name_key).map(str::to_string);
        }
        Some(o)
    }

    fn add_load_balancer(&mut self, it: &Item, attrs: &HashMap<String, Vec<(String, String)>>) {
        let v = &it.v;
        let Some(arn) = s(v, "LoadBalancerArn").map(str::to_string) else {
            self.error(
                it.file,
                "",
                "InvalidSnapshot.MissingField",
                "a load balancer without LoadBalancerArn".into(),
            );
            return;
        };
        if v.get("State")
            .and_then(|st| s(st, "Code"))
            .is_some_and(|c| c == "failed")
        {
            return;
        }
        let lb_type = s(v, "Type").unwrap_or("network");
        if lb_type == "application" {
            self.add_app_load_balancer(it, &arn);
            return;
        }
        if lb_type != "network" {
            self.elbv2_unsupported(it, &arn, LOAD_BALANCER, format!("{lb_type} load balancer"));
            return;
        }
        let Some(origin) = self.elbv2_origin(it, &arn, "LoadBalancerName", LOAD_BALANCER) else {
            return;
        };
        let internet_facing = s(v, "Scheme") != Some("internal");
        let lb = self.model.load_balancers.len();
        let Some((subnets, nodes)) = self.take_lb_nodes(it, &arn, EniOwner::LoadBalancer(lb))
        else {
            return;
        };
        let mut security_groups = Vec::new();
        for g in list(v, "SecurityGroups").iter().filter_map(Value::as_str) {
            match self.resolve(it, &arn, "SecurityGroups", g) {
                Some(Ref::Sg(g)) => security_groups.push(g),
                _ => return,
            }
        }
        let cross_zone =
            attribute(attrs.get(&arn), "load_balancing.cross_zone.enabled") == Some("true");
        let name = s(v, "LoadBalancerName").unwrap_or_default().to_string();
        self.model.load_balancers.push(LoadBalancer {
            origin,
            name,
            dns_name: s(v, "DNSName").unwrap_or_default().to_string(),
            internet_facing,
            subnets,
            nodes,
            security_groups,
            cross_zone,
        });
        self.by_id.insert(arn, Ref::LoadBalancer(lb));
    }

    /// The node interfaces of load balancer `arn` (described as `ELB net/NAME/ID` or
    /// `ELB app/NAME/ID` in describe-network-interfaces), one per `AvailabilityZones` entry,
    /// created for `owner`: the subnets and the interfaces, in the same order.
    pub(super) fn take_lb_nodes(
        &mut self,
        it: &Item,
        arn: &str,
        owner: EniOwner,
    ) -> Option<(Vec<usize>, Vec<usize>)> {
        let v = &it.v;
        // The node interfaces say "ELB net/NAME/ID" (the ARN's tail) in their description.
        let description = arn
            .split_once(":loadbalancer/")
            .map(|(_, tail)| format!("ELB {tail}"))
            .unwrap_or_default();
        let mut subnets = Vec::new();
        let mut nodes = Vec::new();
        for az in list(v, "AvailabilityZones") {
            let Some(sub_id) = s(az, "SubnetId") else {
                continue;
            };
            let Some(Ref::Subnet(subnet)) =
                self.resolve(it, arn, "AvailabilityZones.SubnetId", sub_id)
            else {
                return None;
            };
            let pending = self
                .lb_enis
                .iter()
                .filter(|(_, e)| {
                    s(&e.v, "Description") == Some(description.as_str())
                        && s(&e.v, "SubnetId") == Some(sub_id)
                })
                .map(|(id, _)| id.clone())
                .min();
            let Some(eni_item) = pending.and_then(|id| self.lb_enis.remove(&id)) else {
                self.error(
                    it.file,
                    arn,
                    "UnresolvedReference",
                    format!("no network interface of the load balancer in {sub_id} (describe-network-interfaces, description {description:?})"),
                );
                return None;
            };
            let mut eni_item = eni_item;
            // A node's public address is listed with the load balancer when the interface
            // output lacks it.
            if eni_item.v.get("Association").is_none() {
                if let Some(addr) = list(az, "LoadBalancerAddresses").first() {
                    if let Some(ip) = s(addr, "IpAddress") {
                        let mut assoc = serde_json::json!({"PublicIp": ip, "IpOwnerId": "amazon"});
                        if let Some(a) = s(addr, "AllocationId") {
                            assoc["AllocationId"] = serde_json::json!(a);
                        }
                        eni_item.v["Association"] = assoc;
                    }
                }
            }
            let e = self.add_eni_owned(&eni_item, owner.clone())?;
            subnets.push(subnet);
            nodes.push(e);
        }
        if subnets.is_empty() {
            self.error(
                it.file,
                arn,
                "InvalidSnapshot.MissingField",
                "the load balancer has no AvailabilityZones with a SubnetId".into(),
            );
            return None;
        }
        Some((subnets, nodes))
    }

    fn add_target_group(
        &mut self,
        it: &Item,
        attrs: &HashMap<String, Vec<(String, String)>>,
        health: &HashMap<String, Vec<Value>>,
    ) {
        let v = &it.v;
        let Some(arn) = s(v, "TargetGroupArn").map(str::to_string) else {
            self.error(
                it.file,
                "",
                "InvalidSnapshot.MissingField",
                "a target group without TargetGroupArn".into(),
            );
            return;
        };
        if super::alb::is_application_group(v) {
            self.add_alb_target_group(it, &arn, attrs, health);
            return;
        }
        let target_type = match s(v, "TargetType").unwrap_or("instance") {
            "instance" => TargetType::Instance,
            "ip" => TargetType::Ip,
            other => {
                let why = format!("{other} targets");
                self.elbv2_unsupported(it, &arn, TARGET_GROUP, why);
                return;
            }
        };
        let proto = s(v, "Protocol").unwrap_or_default();
        let Some(protocol) = LbProtocol::parse(proto) else {
            let why = format!("{proto} target group (not a Network Load Balancer's)");
            self.elbv2_unsupported(it, &arn, TARGET_GROUP, why);
            return;
        };
        let vpc = match s(v, "VpcId") {
            Some(id) => match self.by_id.get(id).copied() {
                Some(Ref::Vpc(x)) => Some(x),
                _ => {
                    // Target groups outlive the VPCs they were made for; one no listener of
                    // the snapshot uses is harmless.
                    self.warn(
                        it.file,
                        &arn,
                        "UnresolvedReference",
                        format!(
                            "VpcId {id} is not in the snapshot: the target group is not simulated"
                        ),
                    );
                    self.elbv2_unsupported(it, &arn, TARGET_GROUP, format!("target group of {id}"));
                    return;
                }
            },
            None => None,
        };
        let Some(origin) = self.elbv2_origin(it, &arn, "TargetGroupName", TARGET_GROUP) else {
            return;
        };
        let hc_protocol = s(v, "HealthCheckProtocol").unwrap_or("TCP").to_string();
        let http = hc_protocol != "TCP";
        let num = |k: &str, d: u32| int(v, k).map_or(d, |x| x.max(0) as u32);
        let matcher = v
            .get("Matcher")
            .and_then(|m| s(m, "HttpCode"))
            .or(http.then_some("200-399"))
            .and_then(|c| {
                vpcsim_dataplane::topology::target_health::HttpCodes::parse(c, 200..=599).ok()
            });
        let health_check = HealthCheck {
            matcher,
            enabled: v
                .get("HealthCheckEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            port: s(v, "HealthCheckPort").and_then(|p| p.parse::<u16>().ok()),
            path: s(v, "HealthCheckPath")
                .map(str::to_string)
                .or_else(|| http.then(|| "/".to_string())),
            interval_s: num("HealthCheckIntervalSeconds", 30),
            timeout_s: num("HealthCheckTimeoutSeconds", if http { 6 } else { 10 }),
            healthy_threshold: num("HealthyThresholdCount", 5),
            unhealthy_threshold: num("UnhealthyThresholdCount", 2),
            protocol: hc_protocol,
        };
        let a = attrs.get(&arn);
        let preserve_client_ip = attribute(a, "preserve_client_ip.enabled").map(|x| x == "true");
        let cross_zone = match attribute(a, "load_balancing.cross_zone.enabled") {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        let mut targets: Vec<Target> = Vec::new();
        for d in health.get(&arn).map(Vec::as_slice).unwrap_or(&[]) {
            let Some(t) = d.get("Target") else { continue };
            let Some(id) = s(t, "Id").map(str::to_string) else {
                continue;
            };
            let port = int(t, "Port").and_then(|p| u16::try_from(p).ok());
            let target = match target_type {
                TargetType::Instance => match self.by_id.get(&id).copied() {
                    Some(Ref::Instance(i)) => TargetRef::Instance(i),
                    _ => {
                        self.warn(
                            it.file,
                            &arn,
                            "UnresolvedReference",
                            format!("target {id} is not an instance of the snapshot: the target is left out"),
                        );
                        continue;
                    }
                },
                TargetType::Ip => match id.parse::<IpAddr>() {
                    Ok(a) => TargetRef::Ip(a),
                    Err(_) => {
                        self.error(
                            it.file,
                            &arn,
                            "InvalidParameterValue",
                            format!("target {id:?} of an ip target group is not an address"),
                        );
                        continue;
                    }
                },
            };
            // The registered port; AWS prints the group's port when the target has none.
            let port = port.filter(|p| *p != int(v, "Port").unwrap_or(-1) as u16);
            if !targets.iter().any(|x| x.id == id && x.port == port) {
                targets.push(Target { id, target, port });
            }
        }
        let g = self.model.target_groups.len();
        self.model.target_groups.push(TargetGroup {
            origin,
            name: s(v, "TargetGroupName").unwrap_or_default().to_string(),
            vpc,
            target_type,
            protocol,
            port: int(v, "Port")
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(0),
            health_check,
            preserve_client_ip,
            cross_zone,
            targets,
        });
        self.by_id.insert(arn, Ref::TargetGroup(g));
    }

    fn add_listener(&mut self, it: &Item, l: &Value) {
        let Some(arn) = s(l, "ListenerArn").map(str::to_string) else {
            self.error(
                it.file,
                "",
                "InvalidSnapshot.MissingField",
                "a listener without ListenerArn".into(),
            );
            return;
        };
        let lb_arn = s(l, "LoadBalancerArn")
            .or_else(|| s(&it.v, "LoadBalancerArn"))
            .unwrap_or_default();
        let lb = match self.by_id.get(lb_arn).copied() {
            Some(Ref::LoadBalancer(lb)) => lb,
            Some(Ref::AppLoadBalancer(lb)) => {
                self.add_alb_listener(it, l, &arn, lb);
                return;
            }
            Some(_) => return, // a listener of a load balancer vpcsim does not simulate
            None => {
                self.warn(
                    it.file,
                    &arn,
                    "UnresolvedReference",
                    format!(
                        "LoadBalancerArn {lb_arn} is not in the snapshot: the listener is skipped"
                    ),
                );
                return;
            }
        };
        let Some(protocol) = s(l, "Protocol").and_then(LbProtocol::parse) else {
            self.warn(
                it.file,
                &arn,
                "UnsupportedProtocol",
                format!(
                    "Protocol {:?} is not a Network Load Balancer's: skipped",
                    s(l, "Protocol")
                ),
            );
            return;
        };
        let groups: Vec<&str> = list(l, "DefaultActions")
            .iter()
            .filter(|a| s(a, "Type") == Some("forward"))
            .flat_map(|a| {
                s(a, "TargetGroupArn").into_iter().chain(
                    a.get("ForwardConfig")
                        .map(|f| list(f, "TargetGroups"))
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(|g| s(g, "TargetGroupArn")),
                )
            })
            .collect();
        let Some(tg_arn) = groups.first() else {
            self.warn(
                it.file,
                &arn,
                "UnsupportedOperation",
                "the listener does not forward to a target group: skipped".into(),
            );
            return;
        };
        let tg = match self.resolve(it, &arn, "DefaultActions.TargetGroupArn", tg_arn) {
            Some(Ref::TargetGroup(g)) => g,
            Some(_) => {
                self.error(
                    it.file,
                    &arn,
                    "UnresolvedReference",
                    format!(
                        "forwards to {tg_arn}, which is not simulated (see the warnings about it)"
                    ),
                );
                return;
            }
            None => return,
        };
        let item = Item {
            file: it.file,
            v: l.clone(),
        };
        let Some(mut origin) = self.elbv2_origin(&item, &arn, "", LISTENER) else {
            return;
        };
        let port = int(l, "Port")
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0);
        // Listeners have no name: `LOAD-BALANCER:PROTOCOL:PORT` reads better than the ARN.
        if origin.name.is_none() {
            let balancer = &self.model.load_balancers[lb];
            origin.name = Some(format!(
                "{}:{}:{port}",
                balancer.origin.name.as_deref().unwrap_or(&balancer.name),
                protocol.as_str()
            ));
        }
        self.model.listeners.push(Listener {
            origin,
            load_balancer: lb,
            protocol,
            port,
            target_group: tg,
        });
    }

    /// Node interfaces no load balancer of the snapshot claimed.
    fn orphan_lb_enis(&mut self) {
        let mut left: Vec<(String, Item)> = self.lb_enis.drain().collect();
        left.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, it) in left {
            let why = s(&it.v, "Description")
                .unwrap_or("load balancer node")
                .to_string();
            self.elbv2_unsupported(&it, &id, LOAD_BALANCER, why);
        }
    }

    /// Load balancers with their attributes and node interfaces, target groups with their
    /// attributes and registered targets, then listeners.
    pub(super) fn add_network_load_balancers(&mut self, items: &Items) {
        let lb_attrs = attributes(&items.lb_attributes, "LoadBalancerArn");
        for it in &items.load_balancers {
            self.add_load_balancer(it, &lb_attrs);
        }
        self.orphan_lb_enis();
        let tg_attrs = attributes(&items.tg_attributes, "TargetGroupArn");
        let mut health: HashMap<String, Vec<Value>> = HashMap::new();
        for it in &items.target_health {
            if let Some(arn) = s(&it.v, "TargetGroupArn") {
                health
                    .entry(arn.to_string())
                    .or_default()
                    .extend(list(&it.v, "TargetHealthDescriptions").iter().cloned());
            }
        }
        for it in &items.target_groups {
            self.add_target_group(it, &tg_attrs, &health);
        }
        for it in &items.listeners {
            // `LoadBalancerListeners` wraps each describe-listeners output with its load
            // balancer; `Listeners` is the output itself.
            if it.v.get("Listeners").is_some() {
                for l in list(&it.v, "Listeners") {
                    self.add_listener(it, l);
                }
            } else {
                let l = it.v.clone();
                self.add_listener(it, &l);
            }
        }
        self.add_alb_rules(&items.alb_rules);
        self.add_auto_scaling_groups(&items.auto_scaling_groups);
    }
}
