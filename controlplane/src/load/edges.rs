//! Loading transit gateways (SPEC §9) and Site-to-Site VPN edges (§2.7, §2.8, §14.6). Part of the [`super::Builder`]: the same id assignment, reference
//! lookups and AWS-like error codes as the other resource types.

use super::tgw_peering::Side;
use super::*;

/// The tag that declares the prefixes a customer gateway (or one VPN connection) advertises
/// over BGP: `vpcsim:prefixes` = `"192.168.0.0/16,172.16.0.0/12"`. CloudFormation has no
/// property for what an on-premises router advertises; vpcsim needs it to know which addresses
/// are on-premises.
pub const PREFIXES_TAG: &str = "vpcsim:prefixes";

/// A tag's value.
fn tag(p: &Value, key: &str) -> Option<String> {
    get(p, "Tags")?
        .as_array()?
        .iter()
        .find(|t| t.get("Key").and_then(Value::as_str) == Some(key))
        .and_then(|t| t.get("Value"))
        .and_then(props::scalar_string)
}

/// The prefixes of the `vpcsim:prefixes` tag (comma- or space-separated CIDRs).
fn prefix_tag(p: &Value) -> R<Vec<IpNet>> {
    let Some(v) = tag(p, PREFIXES_TAG) else {
        return Ok(vec![]);
    };
    v.split([',', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<IpNet>()
                .map(|n| n.trunc())
                .map_err(|e| invalid(&format!("Tags.{PREFIXES_TAG}"), format!("{x:?}: {e}")))
        })
        .collect()
}

/// `enable` / `disable` options (absent: `default`).
fn enable(p: &Value, key: &str, default: bool) -> R<bool> {
    match opt_str(p, key)?.as_deref() {
        None => Ok(default),
        Some("enable") => Ok(true),
        Some("disable") => Ok(false),
        Some(other) => Err(invalid(
            key,
            format!("{other:?} is neither enable nor disable"),
        )),
    }
}

/// A destination CIDR, IPv4 or IPv6, host bits cleared.
fn parse_net(p: &Value, key: &str) -> R<IpNet> {
    let d = req_str(p, key)?;
    d.parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|e| invalid(key, format!("{d:?} is not a CIDR ({e})")))
}

/// An ARN for a resource of the template's account and region.
pub(super) fn arn(m: &Model, o: &Origin, kind: &str) -> String {
    let t = &m.templates[o.template];
    format!("arn:aws:ec2:{}:{}:{kind}/{}", t.region, t.account_id, o.id)
}

impl Builder {
    pub(super) fn add_tgw(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let default_association = enable(p, "DefaultRouteTableAssociation", true)?;
        let default_propagation = enable(p, "DefaultRouteTablePropagation", true)?;
        let origin = self.origin(t, lid, "AWS::EC2::TransitGateway", props::name_tag(p));
        let tgw = self.model.transit_gateways.len();
        // With either default on, AWS creates a default route table that new attachments
        // associate with and propagate into (SPEC §9.2).
        let default_route_table = if default_association || default_propagation {
            let o = self.origin(
                t,
                &format!("{lid}.DefaultRouteTable"),
                "AWS::EC2::TransitGatewayRouteTable",
                None,
            );
            let id = o.id.clone();
            self.model.tgw_route_tables.push(TgwRouteTable {
                origin: o,
                tgw,
                routes: vec![],
            });
            let rt = self.model.tgw_route_tables.len() - 1;
            self.by_id.insert(id, Ref::TgwRouteTable(rt));
            Some(rt)
        } else {
            None
        };
        let id = origin.id.clone();
        self.model.transit_gateways.push(TransitGateway {
            origin,
            default_association,
            default_propagation,
            default_route_table,
        });
        self.register(t, lid, &id, Ref::Tgw(tgw));
        Ok(())
    }

    /// A new attachment, associated with and propagating into the default route table when
    /// the transit gateway says so.
    fn push_attachment(
        &mut self,
        origin: Origin,
        tgw: usize,
        kind: TgwAttachmentKind,
        appliance_mode: bool,
    ) -> usize {
        let g = &self.model.transit_gateways[tgw];
        let association = g
            .default_association
            .then_some(g.default_route_table)
            .flatten();
        let propagations = g
            .default_propagation
            .then_some(g.default_route_table)
            .flatten()
            .into_iter()
            .collect();
        let id = origin.id.clone();
        self.model.tgw_attachments.push(TgwAttachment {
            origin,
            tgw,
            kind,
            appliance_mode,
            association,
            propagations,
        });
        let a = self.model.tgw_attachments.len() - 1;
        self.by_id.insert(id, Ref::TgwAttachment(a));
        a
    }

    pub(super) fn add_tgw_attachment(
        &mut self,
        t: usize,
        lid: &str,
        kind: &'static str,
        p: &Value,
    ) -> R<()> {
        let tgw = self.tgw_id("TransitGatewayId", &req_str(p, "TransitGatewayId")?)?;
        let vpc = self.vpc_ref(p, "VpcId")?;
        let mut ids = str_list(p, "SubnetIds")?;
        ids.extend(str_list(p, "AddSubnetIds")?);
        let removed = str_list(p, "RemoveSubnetIds")?;
        ids.retain(|i| !removed.contains(i));
        if ids.is_empty() {
            return Err(missing("SubnetIds"));
        }
        let mut subnets: Vec<usize> = Vec::new();
        for id in &ids {
            let s = self.subnet_id("SubnetIds", id)?;
            if subnets.contains(&s) {
                continue;
            }
            let sub = &self.model.subnets[s];
            if sub.vpc != vpc {
                return Err(Problem::new(
                    "InvalidParameterValue",
                    format!(
                        "subnet {} is not in VPC {}",
                        sub.origin.logical_id, self.model.vpcs[vpc].origin.logical_id
                    ),
                ));
            }
            if let Some(&other) = subnets
                .iter()
                .find(|&&o| self.model.subnets[o].availability_zone == sub.availability_zone)
            {
                return Err(Problem::new(
                    "DuplicateSubnetsInSameZone",
                    format!(
                        "subnets {} and {} are both in {}: an attachment takes one subnet per Availability Zone",
                        self.model.subnets[other].origin.logical_id,
                        sub.origin.logical_id,
                        sub.availability_zone
                    ),
                ));
            }
            subnets.push(s);
        }
        subnets.sort_by(|a, b| {
            self.model.subnets[*a]
                .availability_zone
                .cmp(&self.model.subnets[*b].availability_zone)
        });
        if let Some(other) = self.model.tgw_attachments.iter().find(|a| {
            a.tgw == tgw && matches!(a.kind, TgwAttachmentKind::Vpc { vpc: v, .. } if v == vpc)
        }) {
            return Err(Problem::new(
                "DuplicateTransitGatewayAttachment",
                format!(
                    "{} already attaches this VPC to the transit gateway (one VPC attachment per transit gateway)",
                    other.origin.logical_id
                ),
            ));
        }
        let appliance_mode = match get(p, "Options") {
            Some(o) => enable(o, "ApplianceModeSupport", false)?,
            None => false,
        };
        let origin = self.origin(t, lid, kind, props::name_tag(p));
        let id = origin.id.clone();
        let a = self.push_attachment(
            origin,
            tgw,
            TgwAttachmentKind::Vpc { vpc, subnets },
            appliance_mode,
        );
        self.register(t, lid, &id, Ref::TgwAttachment(a));
        Ok(())
    }

    pub(super) fn add_tgw_route_table(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let tgw = self.tgw_id("TransitGatewayId", &req_str(p, "TransitGatewayId")?)?;
        let origin = self.origin(
            t,
            lid,
            "AWS::EC2::TransitGatewayRouteTable",
            props::name_tag(p),
        );
        let id = origin.id.clone();
        self.model.tgw_route_tables.push(TgwRouteTable {
            origin,
            tgw,
            routes: vec![],
        });
        let rt = self.model.tgw_route_tables.len() - 1;
        self.register(t, lid, &id, Ref::TgwRouteTable(rt));
        Ok(())
    }

    /// A transit gateway attachment by id; the id of a VPN connection on a transit gateway
    /// names the attachment it created (CloudFormation exposes no attribute for it).
    fn tgw_attachment_ref(&self, key: &str, id: &str) -> R<usize> {
        self.find(
            key,
            id,
            |r| match r {
                Ref::TgwAttachment(a) => Some(a),
                Ref::Vpn(c) => match self.model.vpn_connections[c].edge {
                    VpnEdge::TransitGateway { attachment, .. } => Some(attachment),
                    VpnEdge::VpnGateway(_) => None,
                },
                _ => None,
            },
            "InvalidTransitGatewayAttachmentID.NotFound",
        )
    }

    /// The kind of the attachment a property names when it is a type vpcsim does not simulate
    /// (peering, Connect, Direct Connect gateway): routes, associations and propagations naming
    /// it then warn instead of failing the load, like routes to other unsimulated targets.
    fn unsupported_attachment(&self, p: &Value) -> Option<Cow<'static, str>> {
        let id = opt_str(p, "TransitGatewayAttachmentId").ok().flatten()?;
        match self.lookup(&id) {
            Some(Ref::Unsupported(u)) => Some(self.model.unsupported[u].origin.kind.clone()),
            _ => None,
        }
    }

    /// Warn that an association or propagation names an unsimulated attachment; it is ignored.
    fn ignore_unsupported(&mut self, t: usize, lid: &str, kind: &'static str, p: &Value) -> bool {
        let Some(attachment) = self.unsupported_attachment(p) else {
            return false;
        };
        self.link(t, lid, kind, p);
        let o = self.origin(t, lid, kind, None);
        self.warn_at(
            &o,
            "UnsupportedOperation",
            format!("{attachment} attachments are not simulated yet: this is ignored"),
        );
        true
    }

    /// The attachment and the table of an association or propagation, and the side of the
    /// attachment the table is on.
    fn attachment_and_table(&self, p: &Value) -> R<(usize, usize, Side)> {
        let a = self.tgw_attachment_ref(
            "TransitGatewayAttachmentId",
            &req_str(p, "TransitGatewayAttachmentId")?,
        )?;
        let rt = self.tgw_rt_id(
            "TransitGatewayRouteTableId",
            &req_str(p, "TransitGatewayRouteTableId")?,
        )?;
        let side = self.side_of(a, rt)?;
        Ok((a, rt, side))
    }

    pub(super) fn add_tgw_route(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let rt = self.tgw_rt_id(
            "TransitGatewayRouteTableId",
            &req_str(p, "TransitGatewayRouteTableId")?,
        )?;
        self.link(t, lid, "AWS::EC2::TransitGatewayRoute", p);
        let origin = self.origin(t, lid, "AWS::EC2::TransitGatewayRoute", None);
        let destination = parse_net(p, "DestinationCidrBlock")?;
        let blackhole = opt_bool(p, "Blackhole")?.unwrap_or(false);
        let named = opt_str(p, "TransitGatewayAttachmentId")?;
        if blackhole && named.is_some() {
            return Err(Problem::new(
                "InvalidParameterCombination",
                "a transit gateway route is either Blackhole or has a TransitGatewayAttachmentId",
            ));
        }
        let unsupported = self.unsupported_attachment(p);
        let attachment = match (&named, &unsupported) {
            (Some(a), None) => Some(self.tgw_attachment_ref("TransitGatewayAttachmentId", a)?),
            _ => None,
        };
        match attachment {
            Some(a) => {
                self.side_of(a, rt)?;
            }
            None if !blackhole && named.is_none() => {
                return Err(missing("TransitGatewayAttachmentId"))
            }
            None => {}
        }
        if let Some(kind) = unsupported {
            self.warn_at(
                &origin,
                "UnsupportedOperation",
                format!("routes to {kind} are not simulated yet: the route acts as a blackhole"),
            );
        }
        let table = &mut self.model.tgw_route_tables[rt];
        if let Some(dup) = table.routes.iter().find(|r| r.destination == destination) {
            return Err(Problem::new(
                "RouteAlreadyExists",
                format!(
                    "transit gateway route table {} already has a static route for {destination} ({})",
                    table.origin.logical_id, dup.origin.logical_id
                ),
            ));
        }
        table.routes.push(TgwRoute {
            origin,
            destination,
            attachment,
        });
        Ok(())
    }

    pub(super) fn add_tgw_association(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        if self.ignore_unsupported(t, lid, "AWS::EC2::TransitGatewayRouteTableAssociation", p) {
            return Ok(());
        }
        let (a, rt, side) = self.attachment_and_table(p)?;
        self.link(t, lid, "AWS::EC2::TransitGatewayRouteTableAssociation", p);
        let att = &self.model.tgw_attachments[a];
        let (tgw, current) = match (&att.kind, side) {
            (
                TgwAttachmentKind::Peering {
                    peer_tgw,
                    peer_association,
                    ..
                },
                Side::Peer,
            ) => (*peer_tgw, *peer_association),
            _ => (att.tgw, att.association),
        };
        if let Some(prev) = current {
            let default = self.model.transit_gateways[tgw].default_route_table == Some(prev);
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "attachment {} is already associated with {}{}",
                    att.origin.logical_id,
                    self.model.tgw_route_tables[prev].origin.logical_id,
                    if default {
                        " (the transit gateway's DefaultRouteTableAssociation is enable: set it to disable to choose associations)"
                    } else {
                        " (an attachment has one association)"
                    }
                ),
            ));
        }
        match &mut self.model.tgw_attachments[a].kind {
            TgwAttachmentKind::Peering {
                peer_association, ..
            } if side == Side::Peer => *peer_association = Some(rt),
            _ => self.model.tgw_attachments[a].association = Some(rt),
        }
        Ok(())
    }

    pub(super) fn add_tgw_propagation(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        if self.ignore_unsupported(t, lid, "AWS::EC2::TransitGatewayRouteTablePropagation", p) {
            return Ok(());
        }
        let (a, rt, _) = self.attachment_and_table(p)?;
        self.link(t, lid, "AWS::EC2::TransitGatewayRouteTablePropagation", p);
        if self.is_peering(a) {
            let o = self.origin(
                t,
                lid,
                "AWS::EC2::TransitGatewayRouteTablePropagation",
                None,
            );
            self.warn_at(
                &o,
                "UnsupportedOperation",
                "a peering attachment propagates no routes: only static routes can point at it; this is ignored",
            );
            return Ok(());
        }
        let att = &mut self.model.tgw_attachments[a];
        if att.propagations.contains(&rt) {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "attachment {} already propagates into {}",
                    att.origin.logical_id, self.model.tgw_route_tables[rt].origin.logical_id
                ),
            ));
        }
        att.propagations.push(rt);
        Ok(())
    }

    pub(super) fn add_vgw(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        if let Some(kind) = opt_str(p, "Type")? {
            if kind != "ipsec.1" {
                return Err(invalid(
                    "Type",
                    format!("{kind:?}: the only type is ipsec.1"),
                ));
            }
        }
        let origin = self.origin(t, lid, "AWS::EC2::VPNGateway", props::name_tag(p));
        let id = origin.id.clone();
        self.model.vpn_gateways.push(VpnGateway {
            origin,
            vpc: None,
            propagations: vec![],
        });
        let g = self.model.vpn_gateways.len() - 1;
        self.register(t, lid, &id, Ref::Vgw(g));
        Ok(())
    }

    /// `AWS::EC2::VPCGatewayAttachment` with `VpnGatewayId`.
    pub(super) fn attach_vgw(&mut self, vpc: usize, id: &str) -> R<()> {
        let g = self.vgw_id("VpnGatewayId", id)?;
        if let Some(other) = self.model.vpn_gateways[g].vpc {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "virtual private gateway {id} is already attached to {}",
                    self.model.vpcs[other].origin.logical_id
                ),
            ));
        }
        if let Some(other) = self.model.vpn_gateways.iter().find(|v| v.vpc == Some(vpc)) {
            return Err(Problem::new(
                "Resource.AlreadyAssociated",
                format!(
                    "the VPC already has virtual private gateway {} attached (one per VPC)",
                    other.origin.logical_id
                ),
            ));
        }
        self.model.vpn_gateways[g].vpc = Some(vpc);
        Ok(())
    }

    pub(super) fn add_cgw(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let ip_address = match opt_str(p, "IpAddress")? {
            Some(a) => Some(a.parse::<Ipv4Addr>().map_err(|e| invalid("IpAddress", e))?),
            None => None,
        };
        let bgp_prefixes = prefix_tag(p)?;
        let origin = self.origin(t, lid, "AWS::EC2::CustomerGateway", props::name_tag(p));
        let id = origin.id.clone();
        self.model.customer_gateways.push(CustomerGateway {
            origin,
            ip_address,
            bgp_prefixes,
        });
        let c = self.model.customer_gateways.len() - 1;
        self.register(t, lid, &id, Ref::Cgw(c));
        Ok(())
    }

    pub(super) fn add_vpn_connection(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let cgw = self.cgw_id("CustomerGatewayId", &req_str(p, "CustomerGatewayId")?)?;
        let static_routes_only = opt_bool(p, "StaticRoutesOnly")?.unwrap_or(false);
        let bgp_prefixes = prefix_tag(p)?;
        let origin = self.origin(t, lid, "AWS::EC2::VPNConnection", props::name_tag(p));
        let c = self.model.vpn_connections.len();
        let edge = match (opt_str(p, "VpnGatewayId")?, opt_str(p, "TransitGatewayId")?) {
            (Some(v), None) => VpnEdge::VpnGateway(self.vgw_id("VpnGatewayId", &v)?),
            (None, Some(g)) => {
                let tgw = self.tgw_id("TransitGatewayId", &g)?;
                // The connection becomes an attachment of the transit gateway (type vpn).
                let ao = self.origin(
                    t,
                    &format!("{lid}.Attachment"),
                    "AWS::EC2::TransitGatewayAttachment",
                    None,
                );
                let attachment =
                    self.push_attachment(ao, tgw, TgwAttachmentKind::Vpn(c), false);
                VpnEdge::TransitGateway { tgw, attachment }
            }
            (Some(_), Some(_)) => {
                return Err(Problem::new(
                    "InvalidParameterCombination",
                    "a VPN connection ends on a virtual private gateway or on a transit gateway, not both",
                ))
            }
            (None, None) => {
                return Err(Problem::new(
                    "MissingParameter",
                    "the VPN connection needs VpnGatewayId or TransitGatewayId",
                ))
            }
        };
        let id = origin.id.clone();
        self.model.vpn_connections.push(VpnConnection {
            origin,
            customer_gateway: cgw,
            edge,
            static_routes_only,
            static_routes: vec![],
            bgp_prefixes,
        });
        self.register(t, lid, &id, Ref::Vpn(c));
        Ok(())
    }

    pub(super) fn add_vpn_route(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let c = self.vpn_id("VpnConnectionId", &req_str(p, "VpnConnectionId")?)?;
        self.link(t, lid, "AWS::EC2::VPNConnectionRoute", p);
        let origin = self.origin(t, lid, "AWS::EC2::VPNConnectionRoute", None);
        let destination = match parse_net(p, "DestinationCidrBlock")? {
            d @ IpNet::V4(_) => d,
            IpNet::V6(d) => {
                return Err(invalid(
                    "DestinationCidrBlock",
                    format!("{d}: Site-to-Site VPN static routes are IPv4"),
                ))
            }
        };
        let conn = &self.model.vpn_connections[c];
        if matches!(conn.edge, VpnEdge::TransitGateway { .. }) {
            return Err(Problem::new(
                "InvalidParameterValue",
                "static routes of a VPN connection on a transit gateway go in the transit gateway route table (AWS::EC2::TransitGatewayRoute)",
            ));
        }
        if !conn.static_routes_only {
            return Err(Problem::new(
                "InvalidParameterValue",
                format!(
                    "{} uses BGP: static routes need StaticRoutesOnly: true",
                    conn.origin.logical_id
                ),
            ));
        }
        if conn.static_routes.iter().any(|(_, d)| *d == destination) {
            return Err(Problem::new(
                "RouteAlreadyExists",
                format!(
                    "{} already has a static route for {destination}",
                    conn.origin.logical_id
                ),
            ));
        }
        self.model.vpn_connections[c]
            .static_routes
            .push((origin, destination));
        Ok(())
    }

    pub(super) fn add_vgw_propagation(&mut self, t: usize, lid: &str, p: &Value) -> R<()> {
        let g = self.vgw_id("VpnGatewayId", &req_str(p, "VpnGatewayId")?)?;
        let ids = str_list(p, "RouteTableIds")?;
        if ids.is_empty() {
            return Err(missing("RouteTableIds"));
        }
        let tables = ids
            .iter()
            .map(|id| self.route_table_id("RouteTableIds", id))
            .collect::<R<Vec<_>>>()?;
        self.link(t, lid, "AWS::EC2::VPNGatewayRoutePropagation", p);
        let origin = self.origin(t, lid, "AWS::EC2::VPNGatewayRoutePropagation", None);
        for rt in tables {
            let props = &mut self.model.vpn_gateways[g].propagations;
            if !props.iter().any(|(r, _)| *r == rt) {
                props.push((rt, origin.clone()));
            }
        }
        Ok(())
    }

    /// Cross-resource rules of transit gateway and VPN routes, checked once everything is
    /// loaded.
    pub(super) fn validate_edges(&self, errors: &mut Findings, warnings: &mut Findings) {
        let m = &self.model;
        for (i, rt) in m.route_tables.iter().enumerate() {
            let vpc = &m.vpcs[rt.vpc];
            for r in &rt.routes {
                match r.target {
                    RouteTarget::TransitGateway(g) => {
                        let attached = m.tgw_attachments.iter().any(|a| {
                            a.tgw == g
                                && matches!(a.kind, TgwAttachmentKind::Vpc { vpc: v, .. } if v == rt.vpc)
                        });
                        if !attached {
                            errors.push((r.origin.clone(), "Gateway.NotAttached", format!(
                                "transit gateway {} has no VPC attachment in {} (add an AWS::EC2::TransitGatewayAttachment)",
                                m.transit_gateways[g].origin.logical_id, vpc.origin.logical_id
                            )));
                        }
                    }
                    RouteTarget::VpnGateway(g) if m.vpn_gateways[g].vpc != Some(rt.vpc) => {
                        errors.push((r.origin.clone(), "Gateway.NotAttached", format!(
                            "virtual private gateway {} is not attached to {} (add an AWS::EC2::VPCGatewayAttachment)",
                            m.vpn_gateways[g].origin.logical_id, vpc.origin.logical_id
                        )));
                    }
                    _ => {}
                }
            }
            let propagated = m
                .vpn_gateways
                .iter()
                .flat_map(|g| g.propagations.iter().map(move |(t, o)| (g, *t, o)))
                .filter(|(_, t, _)| *t == i);
            for (g, _, o) in propagated {
                if g.vpc != Some(rt.vpc) {
                    errors.push((o.clone(), "Gateway.NotAttached", format!(
                        "virtual private gateway {} is not attached to {}, the VPC of route table {}",
                        g.origin.logical_id, vpc.origin.logical_id, rt.origin.logical_id
                    )));
                }
            }
        }
        // SPEC §2.1: at most 100 propagated routes per route table.
        for (i, rt) in m.route_tables.iter().enumerate() {
            let n: usize = m
                .vpn_gateways
                .iter()
                .enumerate()
                .filter(|(_, g)| g.propagations.iter().any(|(t, _)| *t == i))
                .map(|(gi, _)| {
                    m.vpn_connections
                        .iter()
                        .filter(|c| c.edge == VpnEdge::VpnGateway(gi))
                        .map(|c| c.prefixes(m).len())
                        .sum::<usize>()
                })
                .sum();
            const QUOTA: &str = "propagated-routes-per-route-table";
            if n > self.quotas.limit(QUOTA) as usize {
                // A propagated route over the quota is not installed; the load goes on.
                warnings.push((
                    rt.origin.clone(),
                    "RouteLimitExceeded",
                    self.quotas.exceeded(QUOTA, n, "propagated routes"),
                ));
            }
        }
    }

    /// `Fn::GetAtt` of transit gateways, their attachments and route tables, and of VPN
    /// resources.
    pub(super) fn edge_attribute(&self, r: Ref, attr: &str) -> Option<Value> {
        let m = &self.model;
        Some(match (r, attr) {
            (Ref::Tgw(i), "Id") => json!(m.transit_gateways[i].origin.id),
            (Ref::Tgw(i), "TransitGatewayArn") => {
                json!(arn(m, &m.transit_gateways[i].origin, "transit-gateway"))
            }
            (Ref::TgwAttachment(i), "Id" | "TransitGatewayAttachmentId") => {
                json!(m.tgw_attachments[i].origin.id)
            }
            (Ref::TgwRouteTable(i), "TransitGatewayRouteTableId") => {
                json!(m.tgw_route_tables[i].origin.id)
            }
            (Ref::Vgw(i), "VPNGatewayId") => json!(m.vpn_gateways[i].origin.id),
            (Ref::Cgw(i), "CustomerGatewayId") => json!(m.customer_gateways[i].origin.id),
            (Ref::Vpn(i), "VpnConnectionId") => json!(m.vpn_connections[i].origin.id),
            // Not a CloudFormation attribute; vpcsim's way to name the attachment a VPN
            // connection creates on a transit gateway.
            (Ref::Vpn(i), "TransitGatewayAttachmentId") => match m.vpn_connections[i].edge {
                VpnEdge::TransitGateway { attachment, .. } => {
                    json!(m.tgw_attachments[attachment].origin.id)
                }
                VpnEdge::VpnGateway(_) => return None,
            },
            _ => return None,
        })
    }
}
