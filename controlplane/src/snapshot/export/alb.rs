//! Application Load Balancers as `aws elbv2 describe-*` prints them: their entries join the
//! Network Load Balancers' in `LoadBalancers`, `TargetGroups`, `TargetGroupAttributes`,
//! `LoadBalancerListeners` and `LoadBalancerTargetHealth`; rules go to `ListenerRules`
//! (describe-rules per listener, wrapped with its `ListenerArn`).

use super::Exporter;
use crate::model::*;
use serde_json::{json, Value};
use vpcsim_dataplane::topology::alb::{AlbAction, Condition};

/// `app/NAME/ID`, the tail of a load balancer's ARN (its node interfaces name it).
pub(super) fn alb_path(lb: &AppLoadBalancer) -> &str {
    lb.origin
        .id
        .split_once(":loadbalancer/")
        .map_or(lb.origin.id.as_str(), |(_, t)| t)
}

fn condition(c: &Condition) -> Value {
    let (config, values) = match c {
        Condition::HostHeader(v) => ("HostHeaderConfig", json!({"Values": v})),
        Condition::PathPattern(v) => ("PathPatternConfig", json!({"Values": v})),
        Condition::HttpRequestMethod(v) => ("HttpRequestMethodConfig", json!({"Values": v})),
        Condition::HttpHeader { name, values } => (
            "HttpHeaderConfig",
            json!({"HttpHeaderName": name, "Values": values}),
        ),
        Condition::QueryString(pairs) => (
            "QueryStringConfig",
            json!({"Values": pairs.iter().map(|(k, v)| match k {
                Some(k) => json!({"Key": k, "Value": v}),
                None => json!({"Value": v}),
            }).collect::<Vec<_>>()}),
        ),
        Condition::SourceIp(nets) => (
            "SourceIpConfig",
            json!({"Values": nets.iter().map(ToString::to_string).collect::<Vec<_>>()}),
        ),
    };
    json!({"Field": c.field(), config: values})
}

impl Exporter<'_> {
    /// The `Actions` list: the `authenticate-*` types (their settings are not kept), then the
    /// deciding action, numbered by `Order` as AWS prints them.
    fn alb_actions(&self, action: &AlbAction, authenticate: &[String]) -> Vec<Value> {
        let m = self.m;
        let mut out: Vec<Value> = authenticate.iter().map(|t| json!({"Type": t})).collect();
        let last = match action {
            AlbAction::Forward {
                groups,
                stickiness_s,
            } => {
                let arn = |g: usize| m.alb.target_groups[g].origin.id.clone();
                let mut a = json!({"Type": "forward", "ForwardConfig": {
                    "TargetGroups": groups.iter().map(|(g, w)| json!({"TargetGroupArn": arn(*g), "Weight": w})).collect::<Vec<_>>(),
                    "TargetGroupStickinessConfig": match stickiness_s {
                        Some(d) => json!({"Enabled": true, "DurationSeconds": d}),
                        None => json!({"Enabled": false}),
                    },
                }});
                if let [(g, _)] = groups.as_slice() {
                    a["TargetGroupArn"] = json!(arn(*g));
                }
                a
            }
            AlbAction::Redirect(r) => json!({"Type": "redirect", "RedirectConfig": {
                "Protocol": r.protocol, "Port": r.port, "Host": r.host, "Path": r.path,
                "Query": r.query, "StatusCode": format!("HTTP_{}", r.status),
            }}),
            AlbAction::FixedResponse {
                status,
                content_type,
                body,
            } => {
                let mut cfg = json!({"StatusCode": status.to_string()});
                if let Some(t) = content_type {
                    cfg["ContentType"] = json!(t);
                }
                if let Some(b) = body {
                    cfg["MessageBody"] = json!(b);
                }
                json!({"Type": "fixed-response", "FixedResponseConfig": cfg})
            }
        };
        out.push(last);
        for (i, a) in out.iter_mut().enumerate() {
            a["Order"] = json!(i + 1);
        }
        out
    }

    pub(super) fn alb_load_balancers(&self) -> Vec<Value> {
        let m = self.m;
        m.alb
            .load_balancers
            .iter()
            .map(|lb| {
                let zones: Vec<Value> = lb
                    .subnets
                    .iter()
                    .map(|s| {
                        let sub = &m.subnets[*s];
                        json!({"ZoneName": sub.availability_zone, "SubnetId": sub.origin.id, "LoadBalancerAddresses": []})
                    })
                    .collect();
                self.load_balancer_document(
                    super::nlb::LoadBalancerShape {
                        origin: &lb.origin,
                        name: &lb.name,
                        dns_name: &lb.dns_name,
                        internet_facing: lb.internet_facing,
                        first_subnet: lb.subnets[0],
                        security_groups: &lb.security_groups,
                        kind: "application",
                    },
                    zones,
                )
            })
            .collect()
    }

    pub(super) fn alb_target_groups(&self) -> Vec<Value> {
        let m = self.m;
        let alb = &m.alb;
        alb.target_groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let hc = &g.health_check;
                let mut lbs: Vec<String> = alb
                    .listeners
                    .iter()
                    .filter(|l| {
                        l.default_action.forwards_to(i)
                            || alb.rules.iter().any(|r| {
                                alb.listeners[r.listener].load_balancer == l.load_balancer
                                    && r.action.forwards_to(i)
                            })
                    })
                    .map(|l| alb.load_balancers[l.load_balancer].origin.id.clone())
                    .collect();
                lbs.dedup();
                let mut v = json!({
                    "TargetGroupArn": g.origin.id,
                    "TargetGroupName": g.name,
                    "TargetType": g.target_type.as_str(),
                    "HealthCheckEnabled": hc.enabled,
                    "HealthCheckProtocol": hc.protocol,
                    "HealthCheckPort": hc.port.map_or_else(|| "traffic-port".to_string(), |p| p.to_string()),
                    "HealthCheckPath": hc.path.as_deref().unwrap_or("/"),
                    "HealthCheckIntervalSeconds": hc.interval_s,
                    "HealthCheckTimeoutSeconds": hc.timeout_s,
                    "HealthyThresholdCount": hc.healthy_threshold,
                    "UnhealthyThresholdCount": hc.unhealthy_threshold,
                    "Matcher": {"HttpCode": g.matcher},
                    "LoadBalancerArns": lbs,
                });
                if g.target_type != vpcsim_dataplane::topology::alb::AlbTargetType::Lambda {
                    v["Protocol"] = json!(g.protocol.as_str());
                    v["Port"] = json!(g.port);
                    v["ProtocolVersion"] = json!("HTTP1");
                }
                if let Some(x) = g.vpc {
                    v["VpcId"] = json!(m.vpcs[x].origin.id);
                }
                self.tags(&mut v, &g.origin, "Tags");
                v
            })
            .collect()
    }

    pub(super) fn alb_target_group_attributes(&self) -> Vec<Value> {
        self.m
            .alb
            .target_groups
            .iter()
            .map(|g| {
                json!({"TargetGroupArn": g.origin.id, "Attributes": [
                    {"Key": "load_balancing.algorithm.type", "Value": g.algorithm.as_str()},
                ]})
            })
            .collect()
    }

    /// Registered targets without a health state (vpcsim computes health itself); a Lambda
    /// group's function ARNs as its targets.
    pub(super) fn alb_target_health(&self) -> Vec<Value> {
        self.m
            .alb
            .target_groups
            .iter()
            .map(|g| {
                let targets = g
                    .targets
                    .iter()
                    .map(|t| json!({"Target": {"Id": t.id, "Port": t.port.unwrap_or(g.port)}}))
                    .chain(
                        g.lambda_functions
                            .iter()
                            .map(|f| json!({"Target": {"Id": f}})),
                    )
                    .collect::<Vec<_>>();
                json!({"TargetGroupArn": g.origin.id, "TargetHealthDescriptions": targets})
            })
            .collect()
    }

    /// describe-listeners of each ALB, wrapped with its ARN.
    pub(super) fn alb_listeners(&self) -> Vec<Value> {
        let alb = &self.m.alb;
        (0..alb.load_balancers.len())
            .map(|lb| {
                let arn = &alb.load_balancers[lb].origin.id;
                let listeners: Vec<Value> = alb
                    .listeners
                    .iter()
                    .filter(|l| l.load_balancer == lb)
                    .map(|l| {
                        let mut v = json!({
                            "ListenerArn": l.origin.id,
                            "LoadBalancerArn": arn,
                            "Port": l.port,
                            "Protocol": l.protocol.as_str(),
                            "DefaultActions": self.alb_actions(&l.default_action, &l.authenticate),
                        });
                        if !l.certificates.is_empty() {
                            v["Certificates"] = json!(l
                                .certificates
                                .iter()
                                .map(|c| json!({"CertificateArn": c}))
                                .collect::<Vec<_>>());
                        }
                        self.tags(&mut v, &l.origin, "Tags");
                        v
                    })
                    .collect();
                json!({"LoadBalancerArn": arn, "Listeners": listeners})
            })
            .collect()
    }

    /// describe-rules of each ALB listener, wrapped with its ARN: the rules by priority, then
    /// the default rule, as AWS lists them.
    pub(super) fn alb_listener_rules(&self) -> Vec<Value> {
        let alb = &self.m.alb;
        alb.listeners
            .iter()
            .enumerate()
            .map(|(li, l)| {
                let mut rules: Vec<&AlbRule> =
                    alb.rules.iter().filter(|r| r.listener == li).collect();
                rules.sort_by_key(|r| r.priority);
                let mut out: Vec<Value> = rules
                    .iter()
                    .map(|r| {
                        let mut v = json!({
                            "RuleArn": r.origin.id,
                            "Priority": r.priority.to_string(),
                            "Conditions": r.conditions.iter().map(condition).collect::<Vec<_>>(),
                            "Actions": self.alb_actions(&r.action, &r.authenticate),
                            "IsDefault": false,
                        });
                        self.tags(&mut v, &r.origin, "Tags");
                        v
                    })
                    .collect();
                let default_arn =
                    l.origin.id.replacen(":listener/", ":listener-rule/", 1) + "/default";
                out.push(json!({
                    "RuleArn": default_arn,
                    "Priority": "default",
                    "Conditions": [],
                    "Actions": self.alb_actions(&l.default_action, &l.authenticate),
                    "IsDefault": true,
                }));
                json!({"ListenerArn": l.origin.id, "Rules": out})
            })
            .collect()
    }
}
