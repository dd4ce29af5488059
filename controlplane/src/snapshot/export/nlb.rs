//! Network Load Balancers (`aws elbv2 describe-*`). Listeners, attributes and targets are per
//! load balancer or target group: each call's output is wrapped with the ARN it was asked for.

use super::Exporter;
use crate::model::*;
use serde_json::{json, Value};

/// `net/NAME/ID`, the tail of a load balancer's ARN (node interfaces name it).
pub(super) fn lb_path(lb: &LoadBalancer) -> &str {
    lb.origin
        .id
        .split_once(":loadbalancer/")
        .map_or(lb.origin.id.as_str(), |(_, t)| t)
}

/// The fields an NLB and an ALB share in `describe-load-balancers`.
pub(super) struct LoadBalancerShape<'a> {
    pub(super) origin: &'a Origin,
    pub(super) name: &'a str,
    pub(super) dns_name: &'a str,
    pub(super) internet_facing: bool,
    pub(super) first_subnet: usize,
    pub(super) security_groups: &'a [usize],
    /// `network` or `application`.
    pub(super) kind: &'static str,
}

impl Exporter<'_> {
    /// Every describe-* file of Network Load Balancers, in the order `export` writes them.
    pub(super) fn nlb(&self, add: &mut impl FnMut(&str, Vec<Value>)) {
        let m = self.m;
        add(
            "LoadBalancers",
            m.load_balancers
                .iter()
                .map(|lb| self.load_balancer(lb))
                .chain(self.alb_load_balancers())
                .collect(),
        );
        add(
            "LoadBalancerAttributes",
            m.load_balancers
                .iter()
                .map(|lb| {
                    json!({"LoadBalancerArn": lb.origin.id, "Attributes": [
                        {"Key": "load_balancing.cross_zone.enabled", "Value": lb.cross_zone.to_string()},
                    ]})
                })
                .collect(),
        );
        add(
            "TargetGroups",
            m.target_groups
                .iter()
                .enumerate()
                .map(|(i, g)| self.target_group(i, g))
                .chain(self.alb_target_groups())
                .collect(),
        );
        add(
            "TargetGroupAttributes",
            m.target_groups
                .iter()
                .map(|g| {
                    let mut attrs = vec![json!({"Key": "load_balancing.cross_zone.enabled",
                        "Value": g.cross_zone.map_or("use_load_balancer_configuration".to_string(), |c| c.to_string())})];
                    if let Some(p) = g.preserve_client_ip {
                        attrs.push(json!({"Key": "preserve_client_ip.enabled", "Value": p.to_string()}));
                    }
                    json!({"TargetGroupArn": g.origin.id, "Attributes": attrs})
                })
                .chain(self.alb_target_group_attributes())
                .collect(),
        );
        add(
            "LoadBalancerListeners",
            (0..m.load_balancers.len())
                .map(|lb| self.listeners(lb))
                .chain(self.alb_listeners())
                .collect(),
        );
        add("ListenerRules", self.alb_listener_rules());
        // Registered targets, without a health state: vpcsim computes health itself.
        add(
            "LoadBalancerTargetHealth",
            m.target_groups
                .iter()
                .map(|g| {
                    json!({"TargetGroupArn": g.origin.id, "TargetHealthDescriptions": g.targets.iter().map(|t| {
                        json!({"Target": {"Id": t.id, "Port": t.port.unwrap_or(g.port)}})
                    }).collect::<Vec<_>>()})
                })
                .chain(self.alb_target_health())
                .collect(),
        );
    }

    fn load_balancer(&self, lb: &LoadBalancer) -> Value {
        let m = self.m;
        let zones: Vec<Value> = lb
            .subnets
            .iter()
            .zip(&lb.nodes)
            .map(|(s, e)| {
                let sub = &m.subnets[*s];
                let eni = &m.enis[*e];
                let mut addrs = Vec::new();
                if let Some(a) = eni.private_v4.first() {
                    let mut x = json!({"PrivateIPv4Address": a.to_string()});
                    if let Some(eip) = m.eips.iter().find(|x| x.association == Some((*e, *a))) {
                        x["IpAddress"] = json!(eip.public_ip.to_string());
                        x["AllocationId"] = json!(eip.allocation_id);
                    } else if let Some(p) = eni.auto_public_ip {
                        x["IpAddress"] = json!(p.to_string());
                    }
                    addrs.push(x);
                }
                json!({"ZoneName": sub.availability_zone, "SubnetId": sub.origin.id, "LoadBalancerAddresses": addrs})
            })
            .collect();
        self.load_balancer_document(
            LoadBalancerShape {
                origin: &lb.origin,
                name: &lb.name,
                dns_name: &lb.dns_name,
                internet_facing: lb.internet_facing,
                first_subnet: lb.subnets[0],
                security_groups: &lb.security_groups,
                kind: "network",
            },
            zones,
        )
    }

    /// What `aws elbv2 describe-load-balancers` prints for one load balancer of either type.
    pub(super) fn load_balancer_document(
        &self,
        lb: LoadBalancerShape<'_>,
        zones: Vec<Value>,
    ) -> Value {
        let m = self.m;
        let mut v = json!({
            "LoadBalancerArn": lb.origin.id,
            "LoadBalancerName": lb.name,
            "DNSName": lb.dns_name,
            "Scheme": if lb.internet_facing { "internet-facing" } else { "internal" },
            "VpcId": m.vpcs[m.subnets[lb.first_subnet].vpc].origin.id,
            "Type": lb.kind,
            "State": {"Code": "active"},
            "IpAddressType": "ipv4",
            "AvailabilityZones": zones,
            "SecurityGroups": lb.security_groups.iter().map(|g| m.security_groups[*g].origin.id.clone()).collect::<Vec<_>>(),
        });
        self.tags(&mut v, lb.origin, "Tags");
        v
    }

    fn target_group(&self, i: usize, g: &TargetGroup) -> Value {
        let m = self.m;
        let hc = &g.health_check;
        let mut lbs: Vec<String> = m
            .listeners
            .iter()
            .filter(|l| l.target_group == i)
            .map(|l| m.load_balancers[l.load_balancer].origin.id.clone())
            .collect();
        lbs.dedup();
        let mut v = json!({
            "TargetGroupArn": g.origin.id,
            "TargetGroupName": g.name,
            "Protocol": g.protocol.as_str(),
            "Port": g.port,
            "TargetType": g.target_type.as_str(),
            "HealthCheckEnabled": hc.enabled,
            "HealthCheckProtocol": hc.protocol,
            "HealthCheckPort": hc.port.map_or_else(|| "traffic-port".to_string(), |p| p.to_string()),
            "HealthCheckIntervalSeconds": hc.interval_s,
            "HealthCheckTimeoutSeconds": hc.timeout_s,
            "HealthyThresholdCount": hc.healthy_threshold,
            "UnhealthyThresholdCount": hc.unhealthy_threshold,
            "LoadBalancerArns": lbs,
        });
        if let Some(p) = &hc.path {
            v["HealthCheckPath"] = json!(p);
        }
        if let Some(codes) = &hc.matcher {
            v["Matcher"] = json!({"HttpCode": codes.to_string()});
        }
        if let Some(x) = g.vpc {
            v["VpcId"] = json!(m.vpcs[x].origin.id);
        }
        self.tags(&mut v, &g.origin, "Tags");
        v
    }

    /// describe-listeners of load balancer `lb`, wrapped with its ARN.
    fn listeners(&self, lb: usize) -> Value {
        let m = self.m;
        let listeners: Vec<Value> = m
            .listeners
            .iter()
            .filter(|l| l.load_balancer == lb)
            .map(|l| {
                let mut v = json!({
                    "ListenerArn": l.origin.id,
                    "LoadBalancerArn": m.load_balancers[lb].origin.id,
                    "Port": l.port,
                    "Protocol": l.protocol.as_str(),
                    "DefaultActions": [{"Type": "forward", "Order": 1,
                        "TargetGroupArn": m.target_groups[l.target_group].origin.id}],
                });
                self.tags(&mut v, &l.origin, "Tags");
                v
            })
            .collect();
        json!({"LoadBalancerArn": m.load_balancers[lb].origin.id, "Listeners": listeners})
    }
}
