//! VPC endpoints (SPEC §10): `AWS::EC2::VPCEndpoint` of type Gateway (S3, DynamoDB) and
//! Interface (PrivateLink). Gateway Load Balancer endpoints are loaded by `super::gwlb`.

use super::*;
use crate::service_ranges::gateway_service;

impl Builder {
    pub(super) fn add_vpc_endpoint(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let service_name = req_str(p, "ServiceName")?;
        let kind = opt_str(p, "VpcEndpointType")?.unwrap_or_else(|| "Gateway".into());
        // The policy is an IAM document about principals, actions and buckets; packets carry
        // none of those, so it is recorded, not evaluated (absent = the default full-access policy).
        let policy = match get(p, "PolicyDocument") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => Some(v.to_string()),
        };
        let origin = self.origin(t, lid, "AWS::EC2::VPCEndpoint", props::name_tag(p));
        let ep = self.model.vpc_endpoints.len();
        let kind = match kind.as_str() {
            "Gateway" => self.gateway_endpoint(t, vpc, &service_name, p)?,
            "Interface" => self.interface_endpoint(vpc, ep, &origin, &service_name, p)?,
            "GatewayLoadBalancer" => return self.add_gwlb_endpoint(t, lid, p),
            "Resource" | "ServiceNetwork" => {
                self.warn_at(
                    &origin,
                    "UnsupportedOperation",
                    format!("{kind} endpoints are not simulated: routes to this endpoint act as blackholes"),
                );
                self.keep_unsupported(origin);
                return Ok(());
            }
            other => {
                return Err(invalid(
                    "VpcEndpointType",
                    format!("{other:?} is not Gateway, Interface or GatewayLoadBalancer"),
                ))
            }
        };
        let id = origin.id.clone();
        self.model.vpc_endpoints.push(VpcEndpoint {
            origin,
            vpc,
            service_name,
            kind,
            policy,
        });
        self.register(t, lid, &id, Ref::VpcEndpoint(ep));
        Ok(())
    }

    fn gateway_endpoint(
        &mut self,
        t: usize,
        vpc: usize,
        service_name: &str,
        p: &Value,
    ) -> R<VpcEndpointKind> {
        let region = self.model.templates[t].region.clone();
        match gateway_service(service_name) {
            Some((r, _, _)) if r == region => {}
            Some((r, _, _)) => {
                return Err(Problem::new(
                    "InvalidServiceName",
                    format!("{service_name} is in {r}; a gateway endpoint reaches services of its own Region ({region}) only"),
                ))
            }
            None => {
                return Err(Problem::new(
                    "InvalidServiceName",
                    format!("{service_name} has no gateway endpoint (gateway endpoints: com.amazonaws.{region}.s3, com.amazonaws.{region}.dynamodb)"),
                ))
            }
        }
        for key in ["SubnetIds", "SecurityGroupIds"] {
            if !str_list(p, key)?.is_empty() {
                return Err(Problem::new(
                    "InvalidParameter",
                    format!("{key} applies to interface endpoints, not to a gateway endpoint"),
                ));
            }
        }
        let mut route_tables = Vec::new();
        for id in str_list(p, "RouteTableIds")? {
            let rt = self.route_table_id("RouteTableIds", &id)?;
            if self.model.route_tables[rt].vpc != vpc {
                return Err(invalid(
                    "RouteTableIds",
                    format!(
                        "route table {} is not in the endpoint's VPC",
                        self.model.route_tables[rt].origin.logical_id
                    ),
                ));
            }
            if !route_tables.contains(&rt) {
                route_tables.push(rt);
            }
        }
        let prefix_list = self
            .service_prefix_list(t, service_name)
            .ok_or_else(Problem::quiet)?;
        // AWS refuses a second endpoint of the same service in one route table: the route
        // `pl-… → vpce-…` would exist twice.
        for other in &self.model.vpc_endpoints {
            if let VpcEndpointKind::Gateway {
                route_tables: theirs,
                prefix_list: pl,
            } = &other.kind
            {
                if *pl == prefix_list {
                    if let Some(rt) = route_tables.iter().find(|rt| theirs.contains(rt)) {
                        return Err(Problem::new(
                            "RouteAlreadyExists",
                            format!(
                                "route table {} already routes {} to endpoint {}",
                                self.model.route_tables[*rt].origin.logical_id,
                                self.model.prefix_lists[prefix_list].origin.id,
                                other.origin.logical_id
                            ),
                        ));
                    }
                }
            }
        }
        Ok(VpcEndpointKind::Gateway {
            route_tables,
            prefix_list,
        })
    }

    fn interface_endpoint(
        &mut self,
        vpc: usize,
        ep: usize,
        origin: &Origin,
        service_name: &str,
        p: &Value,
    ) -> R<VpcEndpointKind> {
        let mut subnets: Vec<usize> = Vec::new();
        for id in str_list(p, "SubnetIds")? {
            let s = self.subnet_id("SubnetIds", &id)?;
            let subnet = &self.model.subnets[s];
            if subnet.vpc != vpc {
                return Err(invalid(
                    "SubnetIds",
                    format!(
                        "subnet {} is not in the endpoint's VPC",
                        subnet.origin.logical_id
                    ),
                ));
            }
            if let Some(&o) = subnets
                .iter()
                .find(|&&o| self.model.subnets[o].availability_zone == subnet.availability_zone)
            {
                return Err(Problem::new(
                    "DuplicateSubnetsInSameZone",
                    format!(
                        "subnets {} and {} are both in {}: an interface endpoint takes one subnet per Availability Zone",
                        self.model.subnets[o].origin.logical_id,
                        subnet.origin.logical_id,
                        subnet.availability_zone
                    ),
                ));
            }
            subnets.push(s);
        }
        if subnets.is_empty() {
            return Err(missing("SubnetIds"));
        }
        let mut groups = Vec::new();
        for id in str_list(p, "SecurityGroupIds")? {
            let g = self.sg_id("SecurityGroupIds", &id)?;
            if self.model.security_groups[g].vpc != Some(vpc) {
                return Err(invalid(
                    "SecurityGroupIds",
                    format!(
                        "security group {} is not in the endpoint's VPC",
                        self.model.security_groups[g].origin.logical_id
                    ),
                ));
            }
            groups.push(g);
        }
        // Without groups, the endpoint's interfaces get the VPC's default group (SPEC §4.2).
        if groups.is_empty() {
            groups.push(self.model.vpcs[vpc].default_security_group);
        }
        let mut enis = Vec::new();
        for &s in &subnets {
            let subnet_lid = self.model.subnets[s].origin.logical_id.clone();
            let eni_lid = format!("{}.{subnet_lid}", origin.logical_id);
            let address = self.claim_v4(s, None, &eni_lid)?;
            let tpl = &self.model.templates[origin.template];
            let eni_id = aws_id(
                "eni",
                &tpl.account_id,
                &tpl.region,
                &tpl.stack_name,
                &eni_lid,
            );
            let eni_origin = Origin {
                logical_id: eni_lid,
                id: eni_id,
                kind: "AWS::EC2::NetworkInterface".into(),
                ..origin.clone()
            };
            self.model.enis.push(NetworkInterface {
                origin: eni_origin,
                owner: EniOwner::VpcEndpoint(ep),
                subnet: s,
                private_v4: vec![address],
                ipv6: vec![],
                security_groups: groups.clone(),
                source_dest_check: true,
                auto_public_ip: None,
            });
            enis.push(self.model.enis.len() - 1);
        }
        let private_dns_enabled = opt_bool(p, "PrivateDnsEnabled")?.unwrap_or(false);
        // AWS services answer at SERVICE.REGION.amazonaws.com; other services' names come from
        // their provider's configuration, which templates do not carry.
        let private_dns_names = service_name
            .strip_prefix("com.amazonaws.")
            .and_then(|rest| rest.split_once('.'))
            .map(|(region, svc)| vec![format!("{svc}.{region}.amazonaws.com")])
            .unwrap_or_default();
        Ok(VpcEndpointKind::Interface {
            subnets,
            enis,
            private_dns_enabled,
            private_dns_names,
        })
    }

    pub(super) fn endpoint_attribute(
        &self,
        i: usize,
        _logical_id: &str,
        attr: &str,
    ) -> Result<Value, String> {
        let m = &self.model;
        let ep = &m.vpc_endpoints[i];
        Ok(match (attr, &ep.kind) {
            ("Id", _) => json!(ep.origin.id),
            ("NetworkInterfaceIds", VpcEndpointKind::Interface { enis, .. }) => json!(enis
                .iter()
                .map(|&e| m.enis[e].origin.id.clone())
                .collect::<Vec<_>>()),
            ("NetworkInterfaceIds", VpcEndpointKind::Gateway { .. }) => json!([]),
            // Timestamps and DNS entries are opaque tokens: they can flow into other resources.
            _ => opaque_attribute(&ep.origin.id, attr),
        })
    }

    pub(super) fn validate_endpoints(&self, errors: &mut Findings, warnings: &mut Findings) {
        let m = &self.model;
        for ep in &m.vpc_endpoints {
            let vpc = &m.vpcs[ep.vpc];
            match &ep.kind {
                VpcEndpointKind::Gateway { prefix_list, .. } => {
                    let l = &m.prefix_lists[*prefix_list];
                    if l.entries.is_empty() {
                        warnings.push((
                            ep.origin.clone(),
                            "InvalidServiceRanges",
                            format!(
                                "vpcsim has no address ranges for {}: nothing is routed to the endpoint (pass --service-ranges with AWS's ip-ranges.json)",
                                ep.service_name
                            ),
                        ));
                    }
                }
                VpcEndpointKind::Interface {
                    private_dns_enabled: true,
                    ..
                } if !(vpc.enable_dns_support && vpc.enable_dns_hostnames) => {
                    errors.push((
                        ep.origin.clone(),
                        "InvalidParameter",
                        format!(
                            "PrivateDnsEnabled needs EnableDnsSupport and EnableDnsHostnames on {}",
                            vpc.origin.logical_id
                        ),
                    ));
                }
                VpcEndpointKind::Interface { .. } => {}
            }
            if ep.policy.is_some() {
                warnings.push((
                    ep.origin.clone(),
                    "UnsupportedOperation",
                    "PolicyDocument is recorded but not evaluated: packets carry no IAM principal, action or resource".into(),
                ));
            }
        }
    }
}
