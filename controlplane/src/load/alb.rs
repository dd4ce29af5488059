//! Loading Application Load Balancers (SPEC §11.2): `AWS::ElasticLoadBalancingV2::LoadBalancer`
//! of type `application`, its `Listener`s (HTTP, HTTPS with certificates kept),
//! `ListenerCertificate`s and target groups of protocol HTTP/HTTPS (instance and ip targets;
//! lambda loaded and reported as not simulated). Rules and actions are `super::alb_rules`'s.

use super::elbv2::{
    attribute, child_arn, name_and_arn, port, ranged, LISTENER, LOAD_BALANCER, TARGET_GROUP,
};
use super::*;
use vpcsim_dataplane::topology::alb::{AlbProtocol, AlbTargetType, Algorithm};

pub(super) const LISTENER_RULE: &str = "AWS::ElasticLoadBalancingV2::ListenerRule";
pub(super) const LISTENER_CERTIFICATE: &str = "AWS::ElasticLoadBalancingV2::ListenerCertificate";

/// The `Type` of a load balancer's properties: `application` (the CloudFormation default).
pub(super) fn is_application(p: &Value) -> bool {
    matches!(
        get(p, "Type").and_then(Value::as_str),
        None | Some("application")
    )
}

/// A target group for an Application Load Balancer: protocol HTTP/HTTPS, or Lambda targets.
pub(super) fn is_application_group(p: &Value) -> bool {
    matches!(
        get(p, "Protocol").and_then(Value::as_str),
        Some("HTTP" | "HTTPS")
    ) || get(p, "TargetType").and_then(Value::as_str) == Some("lambda")
}

impl Builder {
    pub(super) fn add_application_load_balancer(
        &mut self,
        t: usize,
        lid: &str,
        p: &Value,
    ) -> R<()> {
        let internet_facing = match opt_str(p, "Scheme")?.as_deref() {
            None | Some("internet-facing") => true,
            Some("internal") => false,
            Some(other) => {
                return Err(Problem::new(
                    "ValidationError",
                    format!("Scheme {other:?} is neither internet-facing nor internal"),
                ))
            }
        };
        let mut mappings: Vec<(usize, Option<Ipv4Addr>)> = Vec::new();
        for id in str_list(p, "Subnets")? {
            mappings.push((self.subnet_id("Subnets", &id)?, None));
        }
        for m in opt_list(p, "SubnetMappings")? {
            if opt_str(m, "AllocationId")?.is_some() {
                return Err(Problem::new(
                    "InvalidConfigurationRequest",
                    "an Application Load Balancer cannot have Elastic IPs (SubnetMappings.AllocationId)",
                ));
            }
            let subnet = self.subnet_ref(m, "SubnetId")?;
            let private = match opt_str(m, "PrivateIPv4Address")? {
                Some(a) => Some(a.parse::<Ipv4Addr>().map_err(|e| {
                    invalid("SubnetMappings.PrivateIPv4Address", format!("{a:?}: {e}"))
                })?),
                None => None,
            };
            mappings.push((subnet, private));
        }
        let vpc = match mappings.first() {
            Some(&(s, _)) => self.model.subnets[s].vpc,
            None => {
                return Err(Problem::new(
                    "ValidationError",
                    "a load balancer needs Subnets or SubnetMappings",
                ))
            }
        };
        let subnets: Vec<usize> = mappings.iter().map(|m| m.0).collect();
        let zones = self.check_load_balancer_subnets(&subnets)?;
        if zones < 2 {
            return Err(Problem::new(
                "InvalidConfigurationRequest",
                "an Application Load Balancer needs subnets in at least two Availability Zones",
            ));
        }
        let mut security_groups =
            self.security_groups(&str_list(p, "SecurityGroups")?, "SecurityGroups", vpc)?;
        if security_groups.is_empty() {
            // As CreateLoadBalancer does: the VPC's default security group.
            security_groups.push(self.model.vpcs[vpc].default_security_group);
        }
        let mut origin = self.origin(t, lid, LOAD_BALANCER, props::name_tag(p));
        let (name, suffix) = name_and_arn(&self.model, p, &mut origin, "loadbalancer/app")?;
        let region = self.model.templates[t].region.clone();
        let dns_name = if internet_facing {
            format!("{name}-{}.{region}.elb.amazonaws.com", &suffix[..10])
        } else {
            format!(
                "internal-{name}-{}.{region}.elb.amazonaws.com",
                &suffix[..10]
            )
        };
        let lb = self.model.alb.load_balancers.len();
        let mut nodes = Vec::new();
        for (s, private) in &mappings {
            let holder = format!("{lid}.{}", self.model.subnets[*s].origin.logical_id);
            let addr = self.claim_v4(*s, *private, &holder)?;
            let tinfo = &self.model.templates[t];
            let eni_origin = Origin {
                template: t,
                logical_id: holder.clone(),
                id: aws_id(
                    "eni",
                    &tinfo.account_id,
                    &tinfo.region,
                    &tinfo.stack_name,
                    &holder,
                ),
                // The description AWS gives the node's requester-managed interface.
                name: Some(format!("ELB app/{name}/{suffix}")),
                kind: "AWS::EC2::NetworkInterface".into(),
            };
            let auto_public_ip = internet_facing.then(|| self.next_public_ip());
            self.model.enis.push(NetworkInterface {
                origin: eni_origin,
                owner: EniOwner::AppLoadBalancer(lb),
                subnet: *s,
                private_v4: vec![addr],
                ipv6: vec![],
                security_groups: security_groups.clone(),
                source_dest_check: true,
                auto_public_ip,
            });
            nodes.push(self.model.enis.len() - 1);
        }
        let id = origin.id.clone();
        self.model.alb.load_balancers.push(AppLoadBalancer {
            origin,
            name,
            dns_name,
            internet_facing,
            subnets: mappings.iter().map(|m| m.0).collect(),
            nodes,
            security_groups,
        });
        self.register(t, lid, &id, Ref::AppLoadBalancer(lb));
        Ok(())
    }

    pub(super) fn add_alb_target_group(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let target_type = match opt_str(p, "TargetType")?.as_deref() {
            None | Some("instance") => AlbTargetType::Instance,
            Some("ip") => AlbTargetType::Ip,
            Some("lambda") => AlbTargetType::Lambda,
            Some(other) => {
                return Err(Problem::new(
                    "ValidationError",
                    format!(
                    "TargetType {other:?}: an HTTP target group has instance, ip or lambda targets"
                ),
                ))
            }
        };
        let lambda = target_type == AlbTargetType::Lambda;
        let protocol = match opt_str(p, "Protocol")?.as_deref() {
            Some(s) => AlbProtocol::parse(s).ok_or_else(|| invalid("Protocol", s))?,
            None if lambda => AlbProtocol::Http,
            None => return Err(missing("Protocol")),
        };
        let group_port = match port(p, "Port")? {
            Some(n) => n,
            None if lambda => 0,
            None => return Err(missing("Port")),
        };
        let vpc = if lambda {
            None
        } else {
            Some(self.vpc_ref(p, "VpcId")?)
        };
        let hc_protocol = opt_str(p, "HealthCheckProtocol")?.unwrap_or_else(|| "HTTP".into());
        if AlbProtocol::parse(&hc_protocol).is_none() {
            return Err(Problem::new(
                "ValidationError",
                format!("HealthCheckProtocol {hc_protocol:?}: an Application Load Balancer checks with HTTP or HTTPS"),
            ));
        }
        let hc_port = match opt_str(p, "HealthCheckPort")?.as_deref() {
            None | Some("traffic-port") => None,
            Some(_) => port(p, "HealthCheckPort")?,
        };
        let health_check = HealthCheck {
            enabled: opt_bool(p, "HealthCheckEnabled")?.unwrap_or(!lambda),
            path: Some(opt_str(p, "HealthCheckPath")?.unwrap_or_else(|| "/".into())),
            interval_s: ranged(
                p,
                "HealthCheckIntervalSeconds",
                5..=300,
                if lambda { 35 } else { 30 },
            )?,
            timeout_s: ranged(
                p,
                "HealthCheckTimeoutSeconds",
                2..=120,
                if lambda { 30 } else { 5 },
            )?,
            healthy_threshold: ranged(p, "HealthyThresholdCount", 2..=10, 5)?,
            unhealthy_threshold: ranged(p, "UnhealthyThresholdCount", 2..=10, 2)?,
            protocol: hc_protocol,
            port: hc_port,
            // The ALB keeps its matcher (gRPC codes included) beside the group, below.
            matcher: None,
        };
        let matcher = match get(p, "Matcher") {
            Some(m) => opt_str(m, "HttpCode")?.unwrap_or_else(|| "200".into()),
            None => "200".into(),
        };
        check_matcher(&matcher)?;
        let algorithm = match attribute(p, "TargetGroupAttributes", "load_balancing.algorithm.type")?.as_deref() {
            None | Some("round_robin") => Algorithm::RoundRobin,
            Some("least_outstanding_requests") => Algorithm::LeastOutstandingRequests,
            Some(other) => {
                return Err(Problem::new(
                    "ValidationError",
                    format!("load_balancing.algorithm.type {other:?}: round_robin or least_outstanding_requests"),
                ))
            }
        };
        let mut targets = Vec::new();
        let mut lambda_functions = Vec::new();
        for d in opt_list(p, "Targets")? {
            let id = req_str(d, "Id").map_err(|e| prefix(e, "Targets"))?;
            let target = match target_type {
                AlbTargetType::Lambda => {
                    lambda_functions.push(id);
                    continue;
                }
                AlbTargetType::Instance => TargetRef::Instance(self.instance_id("Targets.Id", &id)?),
                AlbTargetType::Ip => match id.parse::<IpAddr>() {
                    Ok(a @ IpAddr::V4(v4)) if alb_ip_target_allowed(v4) => TargetRef::Ip(a),
                    _ => {
                        return Err(Problem::new(
                            "ValidationError",
                            format!("Targets.Id {id:?}: an ip target group registers private IPv4 addresses (10/8, 172.16/12, 192.168/16, 100.64/10)"),
                        ))
                    }
                },
            };
            let port = port(d, "Port")?;
            super::elbv2::push_target(&mut targets, Target { id, target, port })?;
        }
        let mut origin = self.origin(t, lid, TARGET_GROUP, props::name_tag(p));
        let (name, _) = name_and_arn(&self.model, p, &mut origin, "targetgroup")?;
        if lambda {
            self.warn_at(
                &origin,
                "NotSimulated",
                "Lambda targets are loaded but not simulated: requests forwarded to this group are reported, not answered",
            );
        }
        let id = origin.id.clone();
        self.model.alb.target_groups.push(AlbTargetGroup {
            origin,
            name,
            vpc,
            target_type,
            protocol,
            port: group_port,
            health_check,
            matcher,
            algorithm,
            targets,
            lambda_functions,
        });
        let g = self.model.alb.target_groups.len() - 1;
        self.register(t, lid, &id, Ref::AlbTargetGroup(g));
        Ok(())
    }

    pub(super) fn add_alb_listener(&mut self, t: usize, lid: &str, lb: usize, p: &Value) -> R<()> {
        let protocol_s = req_str(p, "Protocol")?;
        let protocol = AlbProtocol::parse(&protocol_s).ok_or_else(|| {
            Problem::new(
                "UnsupportedProtocol",
                format!("Protocol {protocol_s:?}: an Application Load Balancer listens with HTTP or HTTPS"),
            )
        })?;
        let listen_port = port(p, "Port")?.ok_or_else(|| missing("Port"))?;
        let mut certificates = Vec::new();
        for c in opt_list(p, "Certificates")? {
            certificates.push(req_str(c, "CertificateArn").map_err(|e| prefix(e, "Certificates"))?);
        }
        if protocol == AlbProtocol::Https && certificates.is_empty() {
            return Err(Problem::new(
                "CertificateNotFound",
                "an HTTPS listener needs a certificate (Certificates)",
            ));
        }
        let actions = opt_list(p, "DefaultActions")?;
        let (default_action, authenticate) = self.alb_actions(actions, "DefaultActions")?;
        if let Some(other) = self
            .model
            .alb
            .listeners
            .iter()
            .find(|l| l.load_balancer == lb && l.port == listen_port)
        {
            return Err(Problem::new(
                "DuplicateListener",
                format!(
                    "listener {} already uses port {listen_port} on this load balancer",
                    other.origin.logical_id
                ),
            ));
        }
        let mut origin = self.origin(t, lid, LISTENER, props::name_tag(p));
        let lb_arn = &self.model.alb.load_balancers[lb].origin.id;
        origin.id = child_arn(&self.model, &origin, lb_arn, "loadbalancer", "listener");
        self.warn_authenticate(&origin, &authenticate);
        let id = origin.id.clone();
        self.model.alb.listeners.push(AlbListener {
            origin,
            load_balancer: lb,
            protocol,
            port: listen_port,
            certificates,
            default_action,
            authenticate,
        });
        let l = self.model.alb.listeners.len() - 1;
        self.register(t, lid, &id, Ref::AlbListener(l));
        Ok(())
    }

    /// `AWS::ElasticLoadBalancingV2::ListenerCertificate`: more certificates for an HTTPS
    /// listener (kept; TLS is not terminated by the simulator).
    pub(super) fn add_listener_certificate(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let listener_id = req_str(p, "ListenerArn")?;
        let l = match self.lookup(&listener_id) {
            Some(Ref::AlbListener(l)) => l,
            Some(Ref::Failed) => return Err(Problem::quiet()),
            _ => {
                return Err(Problem::new(
                    "ListenerNotFound",
                    format!("ListenerArn {listener_id} is not an Application Load Balancer listener of the loaded topology"),
                ))
            }
        };
        let mut arns = Vec::new();
        for c in opt_list(p, "Certificates")? {
            arns.push(req_str(c, "CertificateArn").map_err(|e| prefix(e, "Certificates"))?);
        }
        self.model.alb.listeners[l].certificates.extend(arns);
        self.link(t, lid, LISTENER_CERTIFICATE, p);
        Ok(())
    }

    /// Cross-resource checks once everything is built.
    pub(super) fn validate_application_load_balancers(&mut self) {
        let mut warnings = Vec::new();
        let alb = &self.model.alb;
        for lb in &alb.load_balancers {
            let vpc = self.model.subnets[lb.subnets[0]].vpc;
            if lb.internet_facing && self.model.vpcs[vpc].internet_gateway.is_none() {
                warnings.push((
                    lb.origin.clone(),
                    "InvalidSubnet",
                    format!(
                        "internet-facing load balancer in {}, which has no internet gateway",
                        self.model.vpcs[vpc].origin.logical_id
                    ),
                ));
            }
        }
        for (gi, g) in alb.target_groups.iter().enumerate() {
            let used = alb
                .listeners
                .iter()
                .any(|l| l.default_action.forwards_to(gi))
                || alb.rules.iter().any(|r| r.action.forwards_to(gi));
            if !used {
                warnings.push((
                    g.origin.clone(),
                    "TargetGroupNotInUse",
                    "no listener or rule forwards to this target group: its targets are unused"
                        .to_string(),
                ));
            }
        }
        for (o, code, msg) in warnings {
            self.warn_at(&o, code, msg);
        }
    }

    pub(super) fn alb_attribute(&self, r: Ref, attr: &str) -> Option<Value> {
        let m = &self.model;
        let v = match r {
            Ref::AppLoadBalancer(i) => {
                let lb = &m.alb.load_balancers[i];
                // Route 53 zone of ALBs in us-east-1; other regions have others.
                let zone = "Z35SXDOTRQ7X7K";
                let sgs = &lb.security_groups;
                return super::elbv2::load_balancer_attribute(
                    m,
                    &lb.origin,
                    &lb.name,
                    &lb.dns_name,
                    zone,
                    sgs,
                    attr,
                );
            }
            Ref::AlbTargetGroup(i) => {
                let g = &m.alb.target_groups[i];
                return super::elbv2::target_group_attribute(&g.origin, &g.name, attr);
            }
            Ref::AlbListener(i) => match attr {
                "ListenerArn" => json!(m.alb.listeners[i].origin.id),
                _ => return None,
            },
            Ref::AlbRule(i) => match attr {
                "RuleArn" => json!(m.alb.rules[i].origin.id),
                _ => return None,
            },
            _ => return None,
        };
        Some(v)
    }
}

/// Private IPv4 ranges an ip target may use (SPEC §11.2.1); the VPC's own subnets are inside
/// them in practice.
fn alb_ip_target_allowed(a: Ipv4Addr) -> bool {
    let o = a.octets();
    o[0] == 10
        || (o[0] == 172 && (16..32).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 100 && (64..128).contains(&o[1]))
}

/// `Matcher.HttpCode`: codes or ranges within 200–499 (SPEC §11.2.8).
fn check_matcher(m: &str) -> R<()> {
    let code = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (200..=499).contains(c))
    };
    for part in m.split(',') {
        let ok = match part.split_once('-') {
            Some((lo, hi)) => matches!((code(lo), code(hi)), (Some(a), Some(b)) if a <= b),
            None => code(part).is_some(),
        };
        if !ok {
            return Err(Problem::new(
                "ValidationError",
                format!("Matcher.HttpCode {m:?}: codes or ranges within 200-499, like 200,202 or 200-299"),
            ));
        }
    }
    Ok(())
}
