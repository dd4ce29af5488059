//! Loading Network Load Balancers (SPEC §11.1, §11.3): `AWS::ElasticLoadBalancingV2::LoadBalancer`
//! of type `network`, its `Listener`s and `TargetGroup`s (instance and ip targets, registered
//! through the group's `Targets`). Part of the [`super::Builder`]: the same id assignment,
//! reference lookups and AWS-like error codes as the other resource types; `super::elbv2`
//! decides which resources are handed here.

use super::elbv2::{
    attribute, bool_attribute, name_and_arn, port, ranged, LISTENER, LOAD_BALANCER, TARGET_GROUP,
};
use super::*;
use vpcsim_dataplane::topology::nlb::{LbProtocol, TargetType};

/// The HTTP codes a Network Load Balancer's HTTP(S) health check accepts by default.
const NLB_DEFAULT_CODES: &str = "200-399";

/// The `Type` of a load balancer's properties: the load balancers this module models.
pub(super) fn is_network(p: &Value) -> bool {
    get(p, "Type").and_then(Value::as_str) == Some("network")
}

impl Builder {
    pub(super) fn add_network_load_balancer(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
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
        // (subnet, Elastic IP, private address) per enabled Availability Zone.
        let mut mappings: Vec<(usize, Option<usize>, Option<Ipv4Addr>)> = Vec::new();
        for id in str_list(p, "Subnets")? {
            mappings.push((self.subnet_id("Subnets", &id)?, None, None));
        }
        for m in opt_list(p, "SubnetMappings")? {
            let subnet = self.subnet_ref(m, "SubnetId")?;
            let eip = match opt_str(m, "AllocationId")? {
                Some(_) if !internet_facing => {
                    return Err(Problem::new(
                        "InvalidConfigurationRequest",
                        "an internal load balancer cannot have Elastic IPs (SubnetMappings.AllocationId)",
                    ))
                }
                Some(a) => Some(self.eip_id("SubnetMappings.AllocationId", &a)?),
                None => None,
            };
            let private = match opt_str(m, "PrivateIPv4Address")? {
                Some(a) => Some(a.parse::<Ipv4Addr>().map_err(|e| {
                    invalid("SubnetMappings.PrivateIPv4Address", format!("{a:?}: {e}"))
                })?),
                None => None,
            };
            mappings.push((subnet, eip, private));
        }
        if mappings.is_empty() {
            return Err(Problem::new(
                "ValidationError",
                "a load balancer needs Subnets or SubnetMappings",
            ));
        }
        let vpc = self.model.subnets[mappings[0].0].vpc;
        let subnets: Vec<usize> = mappings.iter().map(|m| m.0).collect();
        self.check_load_balancer_subnets(&subnets)?;
        let security_groups =
            self.security_groups(&str_list(p, "SecurityGroups")?, "SecurityGroups", vpc)?;
        let cross_zone = bool_attribute(
            p,
            "LoadBalancerAttributes",
            "load_balancing.cross_zone.enabled",
        )?
        .unwrap_or(false);
        let mut origin = self.origin(t, lid, LOAD_BALANCER, props::name_tag(p));
        let (name, suffix) = name_and_arn(&self.model, p, &mut origin, "loadbalancer/net")?;
        let region = self.model.templates[t].region.clone();
        let dns_name = format!("{name}-{}.elb.{region}.amazonaws.com", &suffix[..10]);
        let lb = self.model.load_balancers.len();
        let mut nodes = Vec::new();
        for (s, eip, private) in &mappings {
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
                name: None,
                kind: "AWS::EC2::NetworkInterface".into(),
            };
            let auto_public_ip = (internet_facing && eip.is_none()).then(|| self.next_public_ip());
            self.model.enis.push(NetworkInterface {
                origin: eni_origin,
                owner: EniOwner::LoadBalancer(lb),
                subnet: *s,
                private_v4: vec![addr],
                ipv6: vec![],
                security_groups: security_groups.clone(),
                source_dest_check: true,
                auto_public_ip,
            });
            let eni = self.model.enis.len() - 1;
            if let Some(e) = eip {
                self.associate_eip(*e, eni, addr)?;
            }
            nodes.push(eni);
        }
        let id = origin.id.clone();
        self.model.load_balancers.push(LoadBalancer {
            origin,
            name,
            dns_name,
            internet_facing,
            subnets: mappings.iter().map(|m| m.0).collect(),
            nodes,
            security_groups,
            cross_zone,
        });
        self.register(t, lid, &id, Ref::LoadBalancer(lb));
        Ok(())
    }

    pub(super) fn add_nlb_target_group(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let target_type = match opt_str(p, "TargetType")?.as_deref() {
            None | Some("instance") => TargetType::Instance,
            Some("ip") => TargetType::Ip,
            // Lambda and ALB targets belong to other load balancer types.
            Some(_) => {
                self.keep_unsupported(self.origin(t, lid, TARGET_GROUP, props::name_tag(p)));
                return Ok(());
            }
        };
        let protocol = match opt_str(p, "Protocol")? {
            Some(s) => match LbProtocol::parse(&s) {
                Some(x) => x,
                // HTTP/HTTPS (application), GENEVE (gateway): not a Network Load Balancer group.
                None => {
                    self.keep_unsupported(self.origin(t, lid, TARGET_GROUP, props::name_tag(p)));
                    return Ok(());
                }
            },
            None => return Err(missing("Protocol")),
        };
        let group_port = port(p, "Port")?.ok_or_else(|| missing("Port"))?;
        let vpc = self.vpc_ref(p, "VpcId")?;
        let hc_protocol = opt_str(p, "HealthCheckProtocol")?.unwrap_or_else(|| "TCP".into());
        if !matches!(hc_protocol.as_str(), "TCP" | "HTTP" | "HTTPS") {
            return Err(Problem::new(
                "ValidationError",
                format!("HealthCheckProtocol {hc_protocol:?}: a Network Load Balancer checks with TCP, HTTP or HTTPS"),
            ));
        }
        let hc_port = match opt_str(p, "HealthCheckPort")?.as_deref() {
            None | Some("traffic-port") => None,
            Some(_) => port(p, "HealthCheckPort")?,
        };
        let http = hc_protocol != "TCP";
        // Instance and ip target groups are always health checked (only Lambda targets can
        // turn checks off).
        if opt_bool(p, "HealthCheckEnabled")? == Some(false) {
            return Err(Problem::new(
                "ValidationError",
                "health checks cannot be disabled for instance or ip target groups",
            ));
        }
        let matcher = super::elbv2::matcher(p, http, NLB_DEFAULT_CODES, 200..=599)?;
        let health_check = HealthCheck {
            enabled: true,
            matcher,
            path: opt_str(p, "HealthCheckPath")?.or_else(|| http.then(|| "/".to_string())),
            interval_s: ranged(p, "HealthCheckIntervalSeconds", 5..=300, 30)?,
            timeout_s: ranged(
                p,
                "HealthCheckTimeoutSeconds",
                2..=120,
                if http { 6 } else { 10 },
            )?,
            healthy_threshold: ranged(p, "HealthyThresholdCount", 2..=10, 5)?,
            unhealthy_threshold: ranged(p, "UnhealthyThresholdCount", 2..=10, 2)?,
            protocol: hc_protocol,
            port: hc_port,
        };
        let preserve_client_ip =
            bool_attribute(p, "TargetGroupAttributes", "preserve_client_ip.enabled")?;
        if preserve_client_ip == Some(false) && protocol.carries_udp() {
            return Err(Problem::new(
                "ValidationError",
                "client IP preservation cannot be disabled for UDP and TCP_UDP target groups",
            ));
        }
        let cross_zone = match attribute(p, "TargetGroupAttributes", "load_balancing.cross_zone.enabled")?.as_deref() {
            None | Some("use_load_balancer_configuration") => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(Problem::new(
                    "ValidationError",
                    format!("load_balancing.cross_zone.enabled {other:?}: true, false or use_load_balancer_configuration"),
                ))
            }
        };
        let mut targets = Vec::new();
        for d in opt_list(p, "Targets")? {
            let id = req_str(d, "Id").map_err(|e| prefix(e, "Targets"))?;
            let target = match target_type {
                TargetType::Instance => TargetRef::Instance(self.instance_id("Targets.Id", &id)?),
                TargetType::Ip => TargetRef::Ip(id.parse::<IpAddr>().map_err(|_| {
                    Problem::new(
                        "ValidationError",
                        format!("Targets.Id {id:?}: an ip target group registers IP addresses"),
                    )
                })?),
            };
            if matches!(target, TargetRef::Ip(IpAddr::V6(_))) {
                return Err(Problem::new(
                    "ValidationError",
                    format!("Targets.Id {id}: IPv6 targets need a dual-stack load balancer, which vpcsim does not model"),
                ));
            }
            let port = port(d, "Port")?;
            super::elbv2::push_target(&mut targets, Target { id, target, port })?;
        }
        let mut origin = self.origin(t, lid, TARGET_GROUP, props::name_tag(p));
        let (name, _) = name_and_arn(&self.model, p, &mut origin, "targetgroup")?;
        let id = origin.id.clone();
        self.model.target_groups.push(TargetGroup {
            origin,
            name,
            vpc: Some(vpc),
            target_type,
            protocol,
            port: group_port,
            health_check,
            preserve_client_ip,
            cross_zone,
            targets,
        });
        let g = self.model.target_groups.len() - 1;
        self.register(t, lid, &id, Ref::TargetGroup(g));
        Ok(())
    }

    pub(super) fn add_nlb_listener(&mut self, t: usize, lid: &str, lb: usize, p: &Value) -> R<()> {
        let protocol_s = req_str(p, "Protocol")?;
        let protocol = LbProtocol::parse(&protocol_s).ok_or_else(|| {
            Problem::new(
                "UnsupportedProtocol",
                format!("Protocol {protocol_s:?}: a Network Load Balancer listens with TCP, UDP, TCP_UDP or TLS"),
            )
        })?;
        let listen_port = port(p, "Port")?.ok_or_else(|| missing("Port"))?;
        let actions = opt_list(p, "DefaultActions")?;
        if actions.is_empty() {
            return Err(missing("DefaultActions"));
        }
        let mut group_ids = Vec::new();
        for a in actions {
            match a.get("Type").and_then(Value::as_str) {
                Some("forward") => {}
                other => {
                    return Err(Problem::new(
                        "ValidationError",
                        format!("DefaultActions Type {other:?}: a Network Load Balancer listener only forwards"),
                    ))
                }
            }
            if let Some(id) = opt_str(a, "TargetGroupArn")? {
                group_ids.push(id);
            }
            if let Some(fc) = get(a, "ForwardConfig") {
                for g in opt_list(fc, "TargetGroups")? {
                    group_ids.push(
                        req_str(g, "TargetGroupArn")
                            .map_err(|e| prefix(e, "ForwardConfig.TargetGroups"))?,
                    );
                }
            }
        }
        group_ids.dedup();
        let [group_id] = group_ids.as_slice() else {
            return Err(Problem::new(
                "ValidationError",
                "a Network Load Balancer listener forwards to exactly one target group",
            ));
        };
        let tg = match self.lookup(group_id) {
            Some(Ref::TargetGroup(g)) => g,
            Some(Ref::Failed) => return Err(Problem::quiet()),
            _ => {
                return Err(Problem::new(
                    "TargetGroupNotFound",
                    format!(
                        "TargetGroupArn {group_id} is not a target group of the loaded topology"
                    ),
                ))
            }
        };
        let group = &self.model.target_groups[tg];
        let compatible = match protocol {
            LbProtocol::Tls => matches!(group.protocol, LbProtocol::Tcp | LbProtocol::Tls),
            p => group.protocol == p,
        };
        if !compatible {
            return Err(Problem::new(
                "IncompatibleProtocols",
                format!(
                    "a {} listener cannot forward to {} target group {}",
                    protocol.as_str(),
                    group.protocol.as_str(),
                    group.origin.logical_id
                ),
            ));
        }
        let balancer = &self.model.load_balancers[lb];
        let lb_vpc = self.model.subnets[balancer.subnets[0]].vpc;
        if group.vpc != Some(lb_vpc) {
            return Err(Problem::new(
                "ValidationError",
                format!(
                    "target group {} is in another VPC than load balancer {}",
                    group.origin.logical_id, balancer.origin.logical_id
                ),
            ));
        }
        let clash = self.model.listeners.iter().find(|l| {
            l.load_balancer == lb
                && l.port == listen_port
                && (l.protocol.accepts(IpProtocol::TCP) && protocol.accepts(IpProtocol::TCP)
                    || l.protocol.accepts(IpProtocol::UDP) && protocol.accepts(IpProtocol::UDP))
        });
        if let Some(other) = clash {
            return Err(Problem::new(
                "DuplicateListener",
                format!(
                    "listener {} already uses port {listen_port} on this load balancer",
                    other.origin.logical_id
                ),
            ));
        }
        let mut origin = self.origin(t, lid, LISTENER, props::name_tag(p));
        origin.id = super::elbv2::child_arn(
            &self.model,
            &origin,
            &balancer.origin.id,
            "loadbalancer",
            "listener",
        );
        let id = origin.id.clone();
        self.model.listeners.push(Listener {
            origin,
            load_balancer: lb,
            protocol,
            port: listen_port,
            target_group: tg,
        });
        let l = self.model.listeners.len() - 1;
        self.register(t, lid, &id, Ref::Listener(l));
        Ok(())
    }

    /// Cross-resource checks once everything is built.
    pub(super) fn validate_network_load_balancers(&mut self) {
        let mut warnings = Vec::new();
        for lb in &self.model.load_balancers {
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
        for (gi, g) in self.model.target_groups.iter().enumerate() {
            for target in &g.targets {
                if let TargetRef::Instance(i) = target.target {
                    let inst = &self.model.instances[i];
                    let in_vpc = inst.enis.first().is_some_and(|&e| {
                        Some(self.model.subnets[self.model.enis[e].subnet].vpc) == g.vpc
                    });
                    if !in_vpc {
                        warnings.push((
                            g.origin.clone(),
                            "InvalidTarget",
                            format!(
                                "instance {} is not in the target group's VPC",
                                inst.origin.logical_id
                            ),
                        ));
                    }
                }
            }
            if !self.model.listeners.iter().any(|l| l.target_group == gi) {
                warnings.push((
                    g.origin.clone(),
                    "TargetGroupNotInUse",
                    "no listener forwards to this target group: its targets are unused".to_string(),
                ));
            }
        }
        for (o, code, msg) in warnings {
            self.warn_at(&o, code, msg);
        }
    }

    pub(super) fn nlb_attribute(&self, r: Ref, attr: &str) -> Option<Value> {
        let m = &self.model;
        let v = match r {
            Ref::LoadBalancer(i) => {
                let lb = &m.load_balancers[i];
                // Route 53 zone of NLBs in us-east-1; other regions have others.
                let zone = "Z26RNL4JYFTOTI";
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
            Ref::TargetGroup(i) => {
                let g = &m.target_groups[i];
                match attr {
                    "LoadBalancerArns" => json!(m
                        .listeners
                        .iter()
                        .filter(|l| l.target_group == i)
                        .map(|l| m.load_balancers[l.load_balancer].origin.id.clone())
                        .collect::<Vec<_>>()),
                    _ => return super::elbv2::target_group_attribute(&g.origin, &g.name, attr),
                }
            }
            Ref::Listener(i) => match attr {
                "ListenerArn" => json!(m.listeners[i].origin.id),
                _ => return None,
            },
            _ => return None,
        };
        Some(v)
    }
}
