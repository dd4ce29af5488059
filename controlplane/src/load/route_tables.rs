//! Route tables, routes, subnet associations and gateway route tables (ingress routing).

use super::*;

impl Builder {
    pub(super) fn add_route_table(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let vpc = self.vpc_ref(p, "VpcId")?;
        let origin = self.origin(t, lid, "AWS::EC2::RouteTable", props::name_tag(p));
        let id = origin.id.clone();
        self.model.route_tables.push(RouteTable {
            origin,
            vpc,
            main: false,
            routes: vec![],
        });
        let i = self.model.route_tables.len() - 1;
        self.register(t, lid, &id, Ref::RouteTable(i));
        Ok(())
    }

    pub(super) fn add_route(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let rt_id = req_str(p, "RouteTableId")?;
        let rt = self.route_table_id("RouteTableId", &rt_id)?;
        let origin = self.origin(t, lid, "AWS::EC2::Route", None);
        self.link(t, lid, "AWS::EC2::Route", p);
        // `None`: the destination is a prefix list (`prefix_list`).
        let mut prefix_list = None;
        let destination: Option<IpNet> = if let Some(d) = opt_str(p, "DestinationCidrBlock")? {
            Some(IpNet::V4(
                d.parse::<Ipv4Net>()
                    .map_err(|e| invalid("DestinationCidrBlock", e))?
                    .trunc(),
            ))
        } else if let Some(d) = opt_str(p, "DestinationIpv6CidrBlock")? {
            Some(IpNet::V6(
                d.parse::<Ipv6Net>()
                    .map_err(|e| invalid("DestinationIpv6CidrBlock", e))?
                    .trunc(),
            ))
        } else if let Some(id) = opt_str(p, "DestinationPrefixListId")? {
            prefix_list = Some(self.prefix_list_ref("DestinationPrefixListId", &id, t)?);
            None
        } else {
            return Err(missing("DestinationCidrBlock"));
        };
        if let Some(IpNet::V4(d)) = destination {
            let reserved: Ipv4Net = "169.254.168.0/22".parse().map_err(|_| Problem::quiet())?;
            if reserved.contains(&d) {
                return Err(Problem::new(
                    "InvalidParameterValue",
                    format!("{d} is inside 169.254.168.0/22, which routes may not target"),
                ));
            }
        }
        const TARGETS: [(&str, &str); 11] = [
            ("GatewayId", "gateway"),
            (
                "EgressOnlyInternetGatewayId",
                "egress-only internet gateway",
            ),
            ("NatGatewayId", "NAT gateway"),
            ("InstanceId", "instance"),
            ("NetworkInterfaceId", "network interface"),
            ("VpcPeeringConnectionId", "peering connection"),
            ("TransitGatewayId", "transit gateway"),
            ("VpcEndpointId", "VPC endpoint"),
            ("CarrierGatewayId", "carrier gateway"),
            ("LocalGatewayId", "local gateway"),
            ("CoreNetworkArn", "core network"),
        ];
        let mut target = None;
        for (key, what) in TARGETS {
            if let Some(v) = opt_str(p, key)? {
                target = Some((key, what, v));
                break;
            }
        }
        let Some((key, what, value)) = target else {
            return Err(Problem::new(
                "MissingParameter",
                "the route has no target (GatewayId, NatGatewayId, ...)",
            ));
        };
        if key == "GatewayId" && value == "local" {
            return Ok(());
        }
        if let ("VpcEndpointId", Some(Ref::GwlbEndpoint(x))) = (key, self.lookup(&value)) {
            return self.add_gwlb_route(origin, rt, destination, x);
        }
        if let ("VpcEndpointId", Some(Ref::FirewallEndpoint(x))) = (key, self.lookup(&value)) {
            return self.add_firewall_route(origin, rt, destination, x);
        }
        let target = match (key, self.lookup(&value)) {
            (_, Some(Ref::Failed)) => return Err(Problem::quiet()),
            ("GatewayId", Some(Ref::Igw(i))) => RouteTarget::InternetGateway(i),
            ("GatewayId", Some(Ref::Vgw(i))) => RouteTarget::VpnGateway(i),
            ("TransitGatewayId", Some(Ref::Tgw(i))) => RouteTarget::TransitGateway(i),
            ("EgressOnlyInternetGatewayId", Some(Ref::Eigw(i))) => {
                RouteTarget::EgressOnlyInternetGateway(i)
            }
            ("NatGatewayId", Some(Ref::Nat(i))) => RouteTarget::NatGateway(i),
            ("InstanceId", Some(Ref::Instance(i))) => match self.model.instances[i].enis.first() {
                Some(&e) => RouteTarget::NetworkInterface(e),
                None => RouteTarget::Missing(value.clone()),
            },
            ("NetworkInterfaceId", Some(Ref::Eni(i))) => RouteTarget::NetworkInterface(i),
            ("VpcPeeringConnectionId", Some(Ref::Peering(i))) => RouteTarget::Peering(i),
            (_, Some(Ref::Unsupported(u))) => {
                let kind = self.model.unsupported[u].origin.kind.clone();
                self.warn_at(
                    &origin,
                    "UnsupportedOperation",
                    format!("routes to {kind} ({value}) are not simulated yet: the route acts as a blackhole"),
                );
                RouteTarget::Missing(self.named_value(&value))
            }
            (_, Some(_)) => {
                return Err(Problem::new(
                    "InvalidParameterValue",
                    format!("{key} {value} is not a {what}"),
                ))
            }
            // CreateRoute checks that an instance or interface target exists; only a target
            // deleted later leaves a blackhole (as in snapshots).
            ("InstanceId", None) => {
                return Err(Problem::new(
                    "InvalidInstanceID.NotFound",
                    format!("The instance ID '{value}' does not exist"),
                ))
            }
            ("NetworkInterfaceId", None) => {
                return Err(Problem::new(
                    "InvalidNetworkInterfaceID.NotFound",
                    format!("The networkInterface ID '{value}' does not exist"),
                ))
            }
            (_, None) => {
                self.warn_at(
                    &origin,
                    "InvalidRoute.Target",
                    format!(
                        "{key} {value} names no {what} in the topology: the route is a blackhole"
                    ),
                );
                RouteTarget::Missing(self.named_value(&value))
            }
        };
        let (Some(destination), None) = (destination, prefix_list) else {
            let pl = prefix_list.ok_or_else(|| missing("DestinationCidrBlock"))?;
            return self.add_prefix_list_route(origin, rt, pl, target);
        };
        self.route_destination_free(rt, destination)?;
        self.model.route_tables[rt].routes.push(Route {
            origin,
            destination,
            target,
        });
        Ok(())
    }

    /// `RouteAlreadyExists` when route table `rt` has a route for `destination` already,
    /// whatever its target: routes to Gateway Load Balancer and Network Firewall endpoints are
    /// kept in lists of their own, and a destination is taken once across all of them.
    pub(super) fn route_destination_free(&self, rt: usize, destination: IpNet) -> R<()> {
        let m = &self.model;
        let table = &m.route_tables[rt];
        let dup = table
            .routes
            .iter()
            .filter(|r| r.destination == destination)
            .map(|r| &r.origin)
            .chain(
                m.gwlb_routes
                    .iter()
                    .filter(|r| r.route_table == rt && r.destination == destination)
                    .map(|r| &r.origin),
            )
            .chain(
                m.firewall_routes
                    .iter()
                    .filter(|r| r.route_table == rt && r.destination == destination)
                    .map(|r| &r.origin),
            )
            .next();
        match dup {
            Some(dup) => Err(Problem::new(
                "RouteAlreadyExists",
                format!(
                    "route table {} already has a route for {destination} ({})",
                    table.origin.logical_id, dup.logical_id
                ),
            )),
            None => Ok(()),
        }
    }

    pub(super) fn add_rt_association(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let subnet = self.subnet_ref(p, "SubnetId")?;
        let rt_id = req_str(p, "RouteTableId")?;
        let rt = self.route_table_id("RouteTableId", &rt_id)?;
        self.link(t, lid, "AWS::EC2::SubnetRouteTableAssociation", p);
        let (s, table) = (&self.model.subnets[subnet], &self.model.route_tables[rt]);
        if s.vpc != table.vpc {
            return Err(Problem::new(
                "InvalidParameterValue",
                format!(
                    "route table {} and subnet {} belong to different VPCs",
                    table.origin.logical_id, s.origin.logical_id
                ),
            ));
        }
        if let Some(prev) = s.route_table {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "subnet {} is already associated with route table {}",
                    s.origin.logical_id, self.model.route_tables[prev].origin.logical_id
                ),
            ));
        }
        self.model.subnets[subnet].route_table = Some(rt);
        Ok(())
    }

    /// Route targets must be attached to or live in the route table's VPC, and a route more
    /// specific than the local route must cover a whole subnet.
    pub(super) fn validate_routes(&self, errors: &mut Findings, warnings: &mut Findings) {
        for rt in &self.model.route_tables {
            for r in &rt.routes {
                self.validate_route_target(rt, r, errors, warnings);
                self.validate_more_specific_route(rt, r, errors);
            }
        }
    }

    fn validate_route_target(
        &self,
        rt: &RouteTable,
        r: &Route,
        errors: &mut Findings,
        warnings: &mut Findings,
    ) {
        let m = &self.model;
        let vpc = &m.vpcs[rt.vpc];
        let o = r.origin.clone();
        match &r.target {
            RouteTarget::InternetGateway(g) => {
                let igw = &m.internet_gateways[*g];
                if igw.vpc != Some(rt.vpc) {
                    errors.push((o, "Gateway.NotAttached", format!(
                        "internet gateway {} is not attached to {} (add an AWS::EC2::VPCGatewayAttachment)",
                        igw.origin.logical_id, vpc.origin.logical_id
                    )));
                }
            }
            RouteTarget::EgressOnlyInternetGateway(g) => {
                if m.egress_only_igws[*g].vpc != rt.vpc {
                    errors.push((
                        o.clone(),
                        "InvalidRoute.Target",
                        "the egress-only internet gateway belongs to another VPC".into(),
                    ));
                }
                if !matches!(r.destination, IpNet::V6(_)) {
                    errors.push((
                        o,
                        "InvalidParameterValue",
                        "egress-only internet gateways take IPv6 destinations only".into(),
                    ));
                }
            }
            RouteTarget::NatGateway(n) => {
                if m.subnets[m.nat_gateways[*n].subnet].vpc != rt.vpc {
                    errors.push((
                        o,
                        "InvalidRoute.Target",
                        format!(
                            "NAT gateway {} is in another VPC",
                            m.nat_gateways[*n].origin.logical_id
                        ),
                    ));
                }
            }
            RouteTarget::NetworkInterface(e) => {
                if m.subnets[m.enis[*e].subnet].vpc != rt.vpc {
                    errors.push((
                        o,
                        "InvalidRoute.Target",
                        format!(
                            "network interface {} is in another VPC",
                            m.enis[*e].origin.logical_id
                        ),
                    ));
                }
            }
            RouteTarget::Peering(p) => {
                let pcx = &m.peerings[*p];
                if pcx.requester != rt.vpc && pcx.accepter != Some(rt.vpc) {
                    errors.push((
                        o,
                        "InvalidRoute.Target",
                        format!(
                            "peering connection {} does not involve {}",
                            pcx.origin.logical_id, vpc.origin.logical_id
                        ),
                    ));
                } else if pcx.accepter.is_none() {
                    warnings.push((
                        o,
                        "InvalidRoute.Target",
                        "the peer VPC is not loaded: this route acts as a blackhole".into(),
                    ));
                }
            }
            // Checked in validate_edges.
            RouteTarget::TransitGateway(_)
            | RouteTarget::VpnGateway(_)
            | RouteTarget::Missing(_) => {}
        }
    }

    /// Routes more specific than (inside) a VPC CIDR must match a whole subnet (SPEC §2.6).
    fn validate_more_specific_route(&self, rt: &RouteTable, r: &Route, errors: &mut Findings) {
        let m = &self.model;
        let vpc = &m.vpcs[rt.vpc];
        let inside_vpc = match r.destination {
            IpNet::V4(d) => vpc.cidrs_v4.iter().any(|c| c.contains(&d)),
            IpNet::V6(d) => vpc.cidrs_v6.iter().any(|c| c.contains(&d)),
        };
        let is_vpc_cidr = match r.destination {
            IpNet::V4(d) => vpc.cidrs_v4.contains(&d),
            IpNet::V6(d) => vpc.cidrs_v6.contains(&d),
        };
        if inside_vpc && !is_vpc_cidr {
            let whole_subnet = m.subnets.iter().any(|s| {
                s.vpc == rt.vpc
                    && (s.cidr_v4.map(IpNet::V4) == Some(r.destination)
                        || s.cidr_v6.map(IpNet::V6) == Some(r.destination))
            });
            if !whole_subnet {
                errors.push((r.origin.clone(), "InvalidParameterValue", format!(
                    "{} is more specific than the local route but is not the CIDR of a subnet of the VPC",
                    r.destination
                )));
            } else if !matches!(
                r.target,
                RouteTarget::NatGateway(_)
                    | RouteTarget::NetworkInterface(_)
                    | RouteTarget::Missing(_)
            ) {
                errors.push((r.origin.clone(), "InvalidParameterValue",
                    "routes more specific than the local route must target a NAT gateway or network interface".into()));
            }
        }
    }

    pub(super) fn add_gateway_rt_association(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let rt = self.route_table_id("RouteTableId", &req_str(p, "RouteTableId")?)?;
        let gw = req_str(p, "GatewayId")?;
        let gateway = match self.lookup(&gw) {
            Some(Ref::Igw(i)) => EdgeGateway::InternetGateway(i),
            Some(Ref::Vgw(i)) => EdgeGateway::VpnGateway(i),
            Some(Ref::Failed) => return Err(Problem::quiet()),
            Some(_) => {
                return Err(invalid(
                    "GatewayId",
                    format!("{gw} is not an internet gateway or virtual private gateway"),
                ))
            }
            None => {
                return Err(Problem::new(
                    "InvalidGatewayID.NotFound",
                    format!("GatewayId {gw} does not exist in the loaded topology"),
                ))
            }
        };
        self.link(t, lid, "AWS::EC2::GatewayRouteTableAssociation", p);
        let origin = self.origin(t, lid, "AWS::EC2::GatewayRouteTableAssociation", None);
        let table = &self.model.route_tables[rt];
        if table.main {
            return Err(Problem::new(
                "InvalidParameterValue",
                format!(
                    "{} is the main route table of its VPC: a gateway route table cannot be the main table",
                    table.origin.logical_id
                ),
            ));
        }
        if let Some(other) = self
            .model
            .gateway_route_tables
            .iter()
            .find(|g| g.gateway == gateway)
        {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "the gateway is already associated with route table {}",
                    self.model.route_tables[other.route_table].origin.logical_id
                ),
            ));
        }
        self.model.gateway_route_tables.push(GatewayRouteTable {
            origin,
            gateway,
            route_table: rt,
        });
        Ok(())
    }

    /// A gateway route table (SPEC §2.5) belongs to its gateway's VPC and holds only local or
    /// network-interface routes to the whole VPC CIDR or a whole subnet, without propagation.
    pub(super) fn validate_gateway_route_tables(&self, errors: &mut Findings) {
        let m = &self.model;
        for g in &m.gateway_route_tables {
            let rt = &m.route_tables[g.route_table];
            let vpc = &m.vpcs[rt.vpc];
            let (name, attached_to) = match g.gateway {
                EdgeGateway::InternetGateway(i) => (
                    &m.internet_gateways[i].origin.logical_id,
                    m.internet_gateways[i].vpc,
                ),
                EdgeGateway::VpnGateway(i) => {
                    (&m.vpn_gateways[i].origin.logical_id, m.vpn_gateways[i].vpc)
                }
            };
            if attached_to != Some(rt.vpc) {
                errors.push((
                    g.origin.clone(),
                    "Gateway.NotAttached",
                    format!(
                        "{name} is not attached to {}, the VPC of route table {}",
                        vpc.origin.logical_id, rt.origin.logical_id
                    ),
                ));
            }
            // SPEC §2.5: only local or network-interface targets, for the whole VPC CIDR or a
            // whole subnet CIDR; no propagation.
            for r in &rt.routes {
                if !matches!(
                    r.target,
                    RouteTarget::NetworkInterface(_) | RouteTarget::Missing(_)
                ) {
                    errors.push((r.origin.clone(), "InvalidParameterValue", format!(
                        "route table {} is a gateway route table (associated with {name}): its routes may target only local or a network interface",
                        rt.origin.logical_id
                    )));
                    continue;
                }
                let is_vpc_cidr = match r.destination {
                    IpNet::V4(d) => vpc.cidrs_v4.contains(&d),
                    IpNet::V6(d) => vpc.cidrs_v6.contains(&d),
                };
                let is_subnet = m.subnets.iter().any(|s| {
                    s.vpc == rt.vpc
                        && (s.cidr_v4.map(IpNet::V4) == Some(r.destination)
                            || s.cidr_v6.map(IpNet::V6) == Some(r.destination))
                });
                if !is_vpc_cidr && !is_subnet {
                    errors.push((r.origin.clone(), "InvalidParameterValue", format!(
                        "{} in gateway route table {}: destinations must be the VPC's CIDR or the CIDR of one of its subnets",
                        r.destination, rt.origin.logical_id
                    )));
                }
            }
            for v in &m.vpn_gateways {
                if let Some((_, o)) = v.propagations.iter().find(|(t, _)| *t == g.route_table) {
                    errors.push((
                        o.clone(),
                        "InvalidParameterValue",
                        format!(
                            "route table {} is a gateway route table (associated with {name}): route propagation cannot be enabled on it",
                            rt.origin.logical_id
                        ),
                    ));
                }
            }
        }
    }
}
