//! Loading Gateway Load Balancers (SPEC §10.3, §11.4): `AWS::ElasticLoadBalancingV2::
//! LoadBalancer` of type `gateway`, its listener (no protocol or port, forwards to one target
//! group), `GENEVE` target groups of appliance instances, `AWS::EC2::VPCEndpointService` with
//! `GatewayLoadBalancerArns`, `AWS::EC2::VPCEndpoint` of type `GatewayLoadBalancer`, and routes
//! whose `VpcEndpointId` is such an endpoint.

use super::elbv2::{attribute, bool_attribute, name_and_arn, port, ranged};
use super::*;
use vpcsim_dataplane::topology::gwlb::Stickiness;

pub(super) const ENDPOINT_SERVICE: &str = "AWS::EC2::VPCEndpointService";

/// The `Type` of a load balancer's properties is `gateway`.
pub(super) fn is_gateway(p: &Value) -> bool {
    get(p, "Type").and_then(Value::as_str) == Some("gateway")
}

impl Builder {
    pub(super) fn add_gateway_load_balancer(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let mut subnets = Vec::new();
        for id in str_list(p, "Subnets")? {
            subnets.push(self.subnet_id("Subnets", &id)?);
        }
        for m in opt_list(p, "SubnetMappings")? {
            subnets.push(self.subnet_ref(m, "SubnetId")?);
        }
        let Some(&first) = subnets.first() else {
            return Err(Problem::new(
                "ValidationError",
                "a load balancer needs Subnets or SubnetMappings",
            ));
        };
        if !str_list(p, "SecurityGroups")?.is_empty() {
            return Err(Problem::new(
                "InvalidConfigurationRequest",
                "a Gateway Load Balancer has no security groups",
            ));
        }
        let vpc = self.model.subnets[first].vpc;
        self.check_load_balancer_subnets(&subnets)?;
        let cross_zone = bool_attribute(
            p,
            "LoadBalancerAttributes",
            "load_balancing.cross_zone.enabled",
        )?
        .unwrap_or(false);
        let mut origin = self.origin(t, lid, elbv2::LOAD_BALANCER, props::name_tag(p));
        let (name, _) = name_and_arn(&self.model, p, &mut origin, "loadbalancer/gwy")?;
        let mut nodes = Vec::new();
        for &s in &subnets {
            let holder = format!("{lid}.{}", self.model.subnets[s].origin.logical_id);
            nodes.push(self.claim_v4(s, None, &holder)?);
        }
        let id = origin.id.clone();
        self.model.gateway_load_balancers.push(GatewayLoadBalancer {
            origin,
            name,
            vpc,
            subnets,
            nodes,
            cross_zone,
            target_group: None,
        });
        let i = self.model.gateway_load_balancers.len() - 1;
        self.register(t, lid, &id, Ref::GatewayLoadBalancer(i));
        Ok(())
    }

    pub(super) fn add_gwlb_target_group(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        match opt_str(p, "TargetType")?.as_deref() {
            None | Some("instance") => {}
            Some(other) => {
                return Err(Problem::new(
                    "UnsupportedOperation",
                    format!("TargetType {other:?}: vpcsim registers instance appliances in GENEVE target groups"),
                ))
            }
        }
        let group_port = port(p, "Port")?.ok_or_else(|| missing("Port"))?;
        if group_port != vpcsim_dataplane::wire::geneve::PORT {
            return Err(Problem::new(
                "ValidationError",
                format!("a GENEVE target group uses port 6081, not {group_port}"),
            ));
        }
        let vpc = self.vpc_ref(p, "VpcId")?;
        let hc_protocol = opt_str(p, "HealthCheckProtocol")?.unwrap_or_else(|| "TCP".into());
        if !matches!(hc_protocol.as_str(), "TCP" | "HTTP" | "HTTPS") {
            return Err(Problem::new(
                "ValidationError",
                format!("HealthCheckProtocol {hc_protocol:?}: TCP, HTTP or HTTPS"),
            ));
        }
        let hc_port = match opt_str(p, "HealthCheckPort")?.as_deref() {
            // The traffic port (6081) is UDP: GWLB checks port 80 unless told otherwise.
            None | Some("traffic-port") => 80,
            Some(_) => port(p, "HealthCheckPort")?.unwrap_or(80),
        };
        let http = hc_protocol != "TCP";
        let health_check = HealthCheck {
            enabled: true,
            // Only the handshake of an appliance's check is modelled.
            matcher: None,
            path: opt_str(p, "HealthCheckPath")?.or_else(|| http.then(|| "/".to_string())),
            interval_s: ranged(p, "HealthCheckIntervalSeconds", 5..=300, 10)?,
            timeout_s: ranged(p, "HealthCheckTimeoutSeconds", 2..=120, 5)?,
            healthy_threshold: ranged(p, "HealthyThresholdCount", 2..=10, 5)?,
            unhealthy_threshold: ranged(p, "UnhealthyThresholdCount", 2..=10, 2)?,
            protocol: hc_protocol,
            port: Some(hc_port),
        };
        let sticky = bool_attribute(p, "TargetGroupAttributes", "stickiness.enabled")?;
        let kind = attribute(p, "TargetGroupAttributes", "stickiness.type")?;
        let stickiness = match (sticky, kind.as_deref()) {
            (Some(true), Some(k)) => Stickiness::parse(k).ok_or_else(|| {
                Problem::new(
                    "ValidationError",
                    format!("stickiness.type {k:?}: source_ip_dest_ip_proto or source_ip_dest_ip"),
                )
            })?,
            (Some(true), None) => {
                return Err(Problem::new(
                    "ValidationError",
                    "stickiness.enabled true needs stickiness.type (source_ip_dest_ip_proto or source_ip_dest_ip)",
                ))
            }
            _ => Stickiness::FiveTuple,
        };
        let on_unhealthy = attribute(p, "TargetGroupAttributes", "target_failover.on_unhealthy")?;
        let on_dereg = attribute(
            p,
            "TargetGroupAttributes",
            "target_failover.on_deregistration",
        )?;
        if on_unhealthy != on_dereg {
            return Err(Problem::new(
                "ValidationError",
                "target_failover.on_unhealthy and target_failover.on_deregistration must be equal",
            ));
        }
        let mut targets = Vec::new();
        for d in opt_list(p, "Targets")? {
            let id = req_str(d, "Id").map_err(|e| prefix(e, "Targets"))?;
            let inst = self.instance_id("Targets.Id", &id)?;
            if targets.iter().any(|(_, i)| *i == inst) {
                return Err(Problem::new(
                    "ValidationError",
                    format!("target {id} is registered twice"),
                ));
            }
            targets.push((id, inst));
        }
        let mut origin = self.origin(t, lid, elbv2::TARGET_GROUP, props::name_tag(p));
        let (name, _) = name_and_arn(&self.model, p, &mut origin, "targetgroup")?;
        let id = origin.id.clone();
        self.model.gwlb_target_groups.push(GwlbTargetGroup {
            origin,
            name,
            vpc,
            stickiness,
            health_check,
            targets,
        });
        let g = self.model.gwlb_target_groups.len() - 1;
        self.register(t, lid, &id, Ref::GwlbTargetGroup(g));
        Ok(())
    }

    pub(super) fn add_gwlb_listener(&mut self, t: usize, lid: &str, lb: usize, p: &Value) -> R<()> {
        if opt_str(p, "Protocol")?.is_some() || get(p, "Port").is_some() {
            return Err(Problem::new(
                "ValidationError",
                "a Gateway Load Balancer listener has no Protocol or Port",
            ));
        }
        let actions = opt_list(p, "DefaultActions")?;
        let mut group_ids = Vec::new();
        for a in actions {
            if a.get("Type").and_then(Value::as_str) != Some("forward") {
                return Err(Problem::new(
                    "ValidationError",
                    "a Gateway Load Balancer listener only forwards",
                ));
            }
            if let Some(id) = opt_str(a, "TargetGroupArn")? {
                group_ids.push(id);
            }
        }
        let [group_id] = group_ids.as_slice() else {
            return Err(Problem::new(
                "ValidationError",
                "a Gateway Load Balancer listener forwards to exactly one target group",
            ));
        };
        let tg = match self.lookup(group_id) {
            Some(Ref::GwlbTargetGroup(g)) => g,
            Some(Ref::Failed) => return Err(Problem::quiet()),
            _ => {
                return Err(Problem::new(
                    "TargetGroupNotFound",
                    format!("TargetGroupArn {group_id} is not a GENEVE target group here"),
                ))
            }
        };
        let l = &mut self.model.gateway_load_balancers[lb];
        if l.target_group.is_some() {
            return Err(Problem::new(
                "TooManyListeners",
                "a Gateway Load Balancer has one listener",
            ));
        }
        if self.model.gwlb_target_groups[tg].vpc != l.vpc {
            return Err(Problem::new(
                "ValidationError",
                "the target group is in another VPC than the load balancer",
            ));
        }
        l.target_group = Some(tg);
        self.link(t, lid, elbv2::LISTENER, p);
        Ok(())
    }

    pub(super) fn add_endpoint_service(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let arns = str_list(p, "GatewayLoadBalancerArns")?;
        if arns.is_empty() {
            // A PrivateLink service of Network Load Balancers: not simulated, kept like every
            // unsupported type so the template still loads.
            self.keep_unsupported(self.origin(t, lid, ENDPOINT_SERVICE, props::name_tag(p)));
            return Ok(());
        }
        let mut load_balancers = Vec::new();
        for a in &arns {
            match self.lookup(a) {
                Some(Ref::GatewayLoadBalancer(i)) => load_balancers.push(i),
                Some(Ref::Failed) => return Err(Problem::quiet()),
                _ => {
                    return Err(Problem::new(
                        "LoadBalancerNotFound",
                        format!("GatewayLoadBalancerArns {a} is not a Gateway Load Balancer of the loaded topology"),
                    ))
                }
            }
        }
        let origin = self.origin(t, lid, ENDPOINT_SERVICE, props::name_tag(p));
        let region = &self.model.templates[t].region;
        let service_name = format!("com.amazonaws.vpce.{region}.{}", origin.id);
        let id = origin.id.clone();
        self.model.endpoint_services.push(EndpointService {
            origin,
            load_balancers,
            service_name,
        });
        let i = self.model.endpoint_services.len() - 1;
        self.register(t, lid, &id, Ref::EndpointService(i));
        Ok(())
    }

    /// `VpcEndpointType: GatewayLoadBalancer`: one subnet; `ServiceName` names a service of the
    /// topology (`com.amazonaws.vpce.<region>.vpce-svc-…`).
    pub(super) fn add_gwlb_endpoint(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let service_name = req_str(p, "ServiceName")?;
        let service_id = service_name.rsplit('.').next().unwrap_or("");
        let service = match self.lookup(service_id) {
            Some(Ref::EndpointService(s)) => s,
            Some(Ref::Failed) => return Err(Problem::quiet()),
            _ if self.external_services.contains(&service_name) => {
                let origin = self.origin(t, lid, "AWS::EC2::VPCEndpoint", props::name_tag(p));
                self.warn_at(
                    &origin,
                    "InvalidServiceName.External",
                    format!("ServiceName {service_name} is outside the loaded topology (--endpoint-service): routes to this endpoint act as blackholes"),
                );
                self.keep_unsupported(origin);
                return Ok(());
            }
            _ => {
                return Err(Problem::new(
                    "InvalidServiceName",
                    format!("ServiceName {service_name:?} is not an endpoint service of the loaded topology (load its template too, or declare it with --endpoint-service {service_name})"),
                ))
            }
        };
        let mut subnets = Vec::new();
        for id in str_list(p, "SubnetIds")? {
            subnets.push(self.subnet_id("SubnetIds", &id)?);
        }
        let [subnet] = subnets.as_slice() else {
            return Err(Problem::new(
                "InvalidParameter",
                "a Gateway Load Balancer endpoint has exactly one subnet (SubnetIds)",
            ));
        };
        if self.model.subnets[*subnet].vpc != vpc {
            return Err(Problem::new(
                "InvalidParameter",
                "the subnet is not in the endpoint's VPC",
            ));
        }
        // Consumers see only the zones the service's load balancer is enabled in (SPEC §10.3).
        let zone = &self.model.subnets[*subnet].availability_zone;
        let served = self.model.endpoint_services[service]
            .load_balancers
            .iter()
            .flat_map(|&l| &self.model.gateway_load_balancers[l].subnets)
            .any(|&s| &self.model.subnets[s].availability_zone == zone);
        if !served {
            return Err(Problem::new(
                "InvalidParameter",
                format!("the endpoint service is not available in {zone}, the subnet's Availability Zone"),
            ));
        }
        let origin = self.origin(t, lid, "AWS::EC2::VPCEndpoint", props::name_tag(p));
        let id = origin.id.clone();
        self.model.gwlb_endpoints.push(GwlbEndpoint {
            origin,
            vpc,
            subnet: *subnet,
            service,
        });
        let i = self.model.gwlb_endpoints.len() - 1;
        self.register(t, lid, &id, Ref::GwlbEndpoint(i));
        Ok(())
    }

    /// A route to a GWLB endpoint: a whole-VPC or whole-subnet destination in a gateway route
    /// table, any destination in a subnet's table (SPEC §2.5, §2.6).
    pub(super) fn add_gwlb_route(
        &mut self,
        origin: Origin,
        rt: usize,
        destination: Option<IpNet>,
        endpoint: usize,
    ) -> R<()> {
        let Some(destination) = destination else {
            return Err(Problem::new(
                "InvalidParameterValue",
                "a route to a Gateway Load Balancer endpoint cannot have a prefix-list destination here",
            ));
        };
        let table = &self.model.route_tables[rt];
        if self.model.gwlb_endpoints[endpoint].vpc != table.vpc {
            return Err(Problem::new(
                "InvalidParameterValue",
                "the Gateway Load Balancer endpoint is in another VPC than the route table",
            ));
        }
        self.route_destination_free(rt, destination)?;
        self.model.gwlb_routes.push(GwlbRoute {
            origin,
            route_table: rt,
            destination,
            endpoint,
        });
        Ok(())
    }

    /// `Fn::GetAtt` of the resources loaded here.
    pub(super) fn gwlb_attribute(&self, r: Ref, attr: &str) -> Option<Value> {
        let m = &self.model;
        Some(match r {
            Ref::GatewayLoadBalancer(i) => {
                let lb = &m.gateway_load_balancers[i];
                match attr {
                    "LoadBalancerArn" => json!(lb.origin.id),
                    "LoadBalancerName" => json!(lb.name),
                    "LoadBalancerFullName" => json!(lb
                        .origin
                        .id
                        .split_once(":loadbalancer/")
                        .map_or("", |(_, rest)| rest)),
                    _ => return None,
                }
            }
            Ref::GwlbTargetGroup(i) => {
                let g = &m.gwlb_target_groups[i];
                match attr {
                    "TargetGroupArn" => json!(g.origin.id),
                    "TargetGroupName" => json!(g.name),
                    _ => return None,
                }
            }
            Ref::EndpointService(i) => match attr {
                "ServiceId" => json!(m.endpoint_services[i].origin.id),
                _ => return None,
            },
            Ref::GwlbEndpoint(i) => match attr {
                "Id" => json!(m.gwlb_endpoints[i].origin.id),
                _ => return None,
            },
            _ => return None,
        })
    }
}
