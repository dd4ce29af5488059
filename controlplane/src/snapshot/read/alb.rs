//! Application Load Balancers from `aws elbv2 describe-*` output (SPEC §11.2): load balancers of
//! `Type: application` with their node interfaces (described `ELB app/NAME/ID`), target groups
//! of protocol HTTP/HTTPS (and Lambda), listeners with their default actions, and the rules of
//! `aws elbv2 describe-rules`, which is per listener: `ListenerRules` wraps each call's output
//! with the `ListenerArn` it was asked for. Conditions and actions have the shape of the
//! CloudFormation properties and are read by the template loader's own rules.

use super::nlb::attribute;
use super::{int, list, s, Item, Reader, Ref};
use crate::load::api_shapes;
use crate::model::*;
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;
use vpcsim_dataplane::topology::alb::{AlbProtocol, AlbTargetType, Algorithm};

const LOAD_BALANCER: &str = "AWS::ElasticLoadBalancingV2::LoadBalancer";
const LISTENER: &str = "AWS::ElasticLoadBalancingV2::Listener";
const LISTENER_RULE: &str = "AWS::ElasticLoadBalancingV2::ListenerRule";
const TARGET_GROUP: &str = "AWS::ElasticLoadBalancingV2::TargetGroup";

/// A target group an Application Load Balancer uses: protocol HTTP/HTTPS, or Lambda targets.
pub(super) fn is_application_group(v: &Value) -> bool {
    matches!(s(v, "Protocol"), Some("HTTP" | "HTTPS")) || s(v, "TargetType") == Some("lambda")
}

impl Reader {
    pub(super) fn add_app_load_balancer(&mut self, it: &Item, arn: &str) {
        let v = &it.v;
        let Some(origin) = self.elbv2_origin(it, arn, "LoadBalancerName", LOAD_BALANCER) else {
            return;
        };
        let lb = self.model.alb.load_balancers.len();
        let Some((subnets, nodes)) = self.take_lb_nodes(it, arn, EniOwner::AppLoadBalancer(lb))
        else {
            return;
        };
        let mut security_groups = Vec::new();
        for g in list(v, "SecurityGroups").iter().filter_map(Value::as_str) {
            match self.resolve(it, arn, "SecurityGroups", g) {
                Some(Ref::Sg(g)) => security_groups.push(g),
                _ => return,
            }
        }
        // Each node carries the load balancer's security groups, as AWS applies them.
        for &e in &nodes {
            self.model.enis[e].security_groups = security_groups.clone();
        }
        self.model.alb.load_balancers.push(AppLoadBalancer {
            origin,
            name: s(v, "LoadBalancerName").unwrap_or_default().to_string(),
            dns_name: s(v, "DNSName").unwrap_or_default().to_string(),
            internet_facing: s(v, "Scheme") != Some("internal"),
            subnets,
            nodes,
            security_groups,
        });
        self.by_id.insert(arn.to_string(), Ref::AppLoadBalancer(lb));
    }

    pub(super) fn add_alb_target_group(
        &mut self,
        it: &Item,
        arn: &str,
        attrs: &HashMap<String, Vec<(String, String)>>,
        health: &HashMap<String, Vec<Value>>,
    ) {
        let v = &it.v;
        let target_type = match s(v, "TargetType").unwrap_or("instance") {
            "instance" => AlbTargetType::Instance,
            "ip" => AlbTargetType::Ip,
            "lambda" => AlbTargetType::Lambda,
            other => {
                let why = format!("{other} targets");
                self.elbv2_unsupported(it, arn, TARGET_GROUP, why);
                return;
            }
        };
        let lambda = target_type == AlbTargetType::Lambda;
        let protocol = s(v, "Protocol")
            .and_then(AlbProtocol::parse)
            .unwrap_or(AlbProtocol::Http);
        let vpc = match s(v, "VpcId") {
            Some(id) => match self.by_id.get(id).copied() {
                Some(Ref::Vpc(x)) => Some(x),
                _ => {
                    self.warn(
                        it.file,
                        arn,
                        "UnresolvedReference",
                        format!(
                            "VpcId {id} is not in the snapshot: the target group is not simulated"
                        ),
                    );
                    self.elbv2_unsupported(it, arn, TARGET_GROUP, format!("target group of {id}"));
                    return;
                }
            },
            None => None,
        };
        let Some(origin) = self.elbv2_origin(it, arn, "TargetGroupName", TARGET_GROUP) else {
            return;
        };
        let num = |k: &str, d: u32| int(v, k).map_or(d, |x| x.max(0) as u32);
        let health_check = HealthCheck {
            enabled: v
                .get("HealthCheckEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(!lambda),
            protocol: s(v, "HealthCheckProtocol").unwrap_or("HTTP").to_string(),
            port: s(v, "HealthCheckPort").and_then(|p| p.parse::<u16>().ok()),
            path: Some(s(v, "HealthCheckPath").unwrap_or("/").to_string()),
            interval_s: num("HealthCheckIntervalSeconds", if lambda { 35 } else { 30 }),
            timeout_s: num("HealthCheckTimeoutSeconds", if lambda { 30 } else { 5 }),
            healthy_threshold: num("HealthyThresholdCount", 5),
            unhealthy_threshold: num("UnhealthyThresholdCount", 2),
            // The ALB keeps its matcher beside the group, as the template loader does.
            matcher: None,
        };
        let matcher = v
            .get("Matcher")
            .and_then(|m| s(m, "HttpCode"))
            .unwrap_or("200")
            .to_string();
        let algorithm = match attribute(attrs.get(arn), "load_balancing.algorithm.type") {
            Some("least_outstanding_requests") => Algorithm::LeastOutstandingRequests,
            _ => Algorithm::RoundRobin,
        };
        let group_port = int(v, "Port").and_then(|p| u16::try_from(p).ok());
        let mut targets: Vec<Target> = Vec::new();
        let mut lambda_functions = Vec::new();
        for d in health.get(arn).map(Vec::as_slice).unwrap_or(&[]) {
            let Some(id) = d.get("Target").and_then(|t| s(t, "Id")).map(str::to_string) else {
                continue;
            };
            let target = match target_type {
                AlbTargetType::Lambda => {
                    lambda_functions.push(id);
                    continue;
                }
                AlbTargetType::Instance => match self.by_id.get(&id).copied() {
                    Some(Ref::Instance(i)) => TargetRef::Instance(i),
                    _ => {
                        self.warn(
                            it.file,
                            arn,
                            "UnresolvedReference",
                            format!("target {id} is not an instance of the snapshot: the target is left out"),
                        );
                        continue;
                    }
                },
                AlbTargetType::Ip => match id.parse::<IpAddr>() {
                    Ok(a) => TargetRef::Ip(a),
                    Err(_) => {
                        self.error(
                            it.file,
                            arn,
                            "InvalidParameterValue",
                            format!("target {id:?} of an ip target group is not an address"),
                        );
                        continue;
                    }
                },
            };
            // AWS prints the group's port for a target registered without one.
            let port = d
                .get("Target")
                .and_then(|t| int(t, "Port"))
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| Some(*p) != group_port);
            if !targets.iter().any(|x| x.id == id && x.port == port) {
                targets.push(Target { id, target, port });
            }
        }
        let g = self.model.alb.target_groups.len();
        self.model.alb.target_groups.push(AlbTargetGroup {
            origin,
            name: s(v, "TargetGroupName").unwrap_or_default().to_string(),
            vpc,
            target_type,
            protocol,
            port: group_port.unwrap_or(0),
            health_check,
            matcher,
            algorithm,
            targets,
            lambda_functions,
        });
        self.by_id.insert(arn.to_string(), Ref::AlbTargetGroup(g));
    }

    /// The ALB target groups by ARN, as the action reader resolves them.
    fn alb_group_arns(&self) -> Vec<(String, usize)> {
        self.model
            .alb
            .target_groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.origin.id.clone(), i))
            .collect()
    }

    pub(super) fn add_alb_listener(&mut self, it: &Item, l: &Value, arn: &str, lb: usize) {
        let Some(protocol) = s(l, "Protocol").and_then(AlbProtocol::parse) else {
            self.warn(
                it.file,
                arn,
                "UnsupportedProtocol",
                format!(
                    "Protocol {:?} is not an Application Load Balancer's: skipped",
                    s(l, "Protocol")
                ),
            );
            return;
        };
        let groups = self.alb_group_arns();
        let (default_action, authenticate) =
            match api_shapes::alb_actions(&groups, list(l, "DefaultActions"), "DefaultActions") {
                Ok(x) => x,
                Err(p) => return self.refuse(it, arn, p),
            };
        let item = Item {
            file: it.file,
            v: l.clone(),
        };
        let Some(mut origin) = self.elbv2_origin(&item, arn, "", LISTENER) else {
            return;
        };
        let port = int(l, "Port")
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0);
        if origin.name.is_none() {
            let balancer = &self.model.alb.load_balancers[lb];
            origin.name = Some(format!(
                "{}:{}:{port}",
                balancer.origin.name.as_deref().unwrap_or(&balancer.name),
                protocol.as_str()
            ));
        }
        let certificates = list(l, "Certificates")
            .iter()
            .filter_map(|c| s(c, "CertificateArn").map(str::to_string))
            .collect();
        let i = self.model.alb.listeners.len();
        self.model.alb.listeners.push(AlbListener {
            origin,
            load_balancer: lb,
            protocol,
            port,
            certificates,
            default_action,
            authenticate,
        });
        self.by_id.insert(arn.to_string(), Ref::AlbListener(i));
    }

    /// `ListenerRules`: each entry is one listener's `describe-rules` output with its
    /// `ListenerArn`; the default rule is the listener's `DefaultActions`, read already.
    pub(super) fn add_alb_rules(&mut self, items: &[Item]) {
        let groups = self.alb_group_arns();
        for it in items {
            let listener_arn = s(&it.v, "ListenerArn").unwrap_or_default().to_string();
            let listener = match self.by_id.get(&listener_arn).copied() {
                Some(Ref::AlbListener(l)) => l,
                _ => {
                    if !self.skipped.contains(&listener_arn) {
                        self.warn(
                            it.file,
                            &listener_arn,
                            "UnresolvedReference",
                            format!("ListenerArn {listener_arn:?} is not an Application Load Balancer listener of the snapshot: its rules are skipped"),
                        );
                    }
                    continue;
                }
            };
            for r in list(&it.v, "Rules") {
                if r.get("IsDefault").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                self.add_alb_rule(it, r, listener, &groups);
            }
        }
    }

    fn add_alb_rule(&mut self, it: &Item, r: &Value, listener: usize, groups: &[(String, usize)]) {
        let arn = s(r, "RuleArn").unwrap_or_default().to_string();
        let Some(priority) = int(r, "Priority")
            .and_then(|p| u32::try_from(p).ok())
            .filter(|p| (1..=50_000).contains(p))
        else {
            self.error(
                it.file,
                &arn,
                "ValidationError",
                format!("Priority {:?}: 1-50000", r.get("Priority")),
            );
            return;
        };
        let parts = api_shapes::alb_conditions(list(r, "Conditions")).and_then(|c| {
            api_shapes::alb_actions(groups, list(r, "Actions"), "Actions").map(|a| (c, a))
        });
        let (conditions, (action, authenticate)) = match parts {
            Ok(x) => x,
            Err(p) => return self.refuse(it, &arn, p),
        };
        let item = Item {
            file: it.file,
            v: r.clone(),
        };
        let Some(origin) = self.elbv2_origin(&item, &arn, "", LISTENER_RULE) else {
            return;
        };
        if !authenticate.is_empty() {
            self.warn(
                it.file,
                &arn,
                "NotSimulated",
                format!(
                    "{} actions are loaded but not simulated: requests pass as if authenticated",
                    authenticate.join(", ")
                ),
            );
        }
        self.model.alb.rules.push(AlbRule {
            origin,
            listener,
            priority,
            conditions,
            action,
            authenticate,
        });
    }
}
