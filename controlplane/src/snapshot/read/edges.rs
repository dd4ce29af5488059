//! Transit gateways, virtual private gateways, customer gateways and VPN connections from
//! describe-* output.

use super::{list, s, tag, Item, Reader, Ref};
use crate::load::PREFIXES_TAG;
use crate::model::*;
use ipnet::IpNet;
use serde_json::Value;
use std::net::Ipv4Addr;

/// Resources in these states no longer carry traffic (or never did).
pub(super) fn gone(v: &Value) -> bool {
    let state = s(v, "State")
        .or_else(|| v.get("State").and_then(|st| s(st, "Name")))
        .unwrap_or("available");
    matches!(
        state,
        "deleted" | "deleting" | "failed" | "rejected" | "failing"
    )
}

/// The `vpcsim:prefixes` tag: what an on-premises router advertises, which AWS does not record.
fn prefixes(v: &Value) -> Result<Vec<IpNet>, String> {
    let Some(t) = tag(v, PREFIXES_TAG) else {
        return Ok(vec![]);
    };
    t.split([',', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<IpNet>()
                .map(|n| n.trunc())
                .map_err(|e| format!("tag {PREFIXES_TAG}: {x:?}: {e}"))
        })
        .collect()
}

impl Reader {
    pub(super) fn add_tgw(&mut self, it: &Item) {
        if gone(&it.v) {
            return;
        }
        let Some(origin) = self.origin_of(it, "AWS::EC2::TransitGateway", "TransitGatewayId")
        else {
            return;
        };
        let id = origin.id.clone();
        let opts = it.v.get("Options").cloned().unwrap_or(Value::Null);
        let enabled = |k: &str| s(&opts, k).unwrap_or("enable") == "enable";
        let g = self.model.transit_gateways.len();
        self.model.transit_gateways.push(TransitGateway {
            origin,
            default_association: enabled("DefaultRouteTableAssociation"),
            default_propagation: enabled("DefaultRouteTablePropagation"),
            default_route_table: None,
        });
        self.by_id.insert(id, Ref::Tgw(g));
    }

    pub(super) fn add_tgw_route_table(&mut self, it: &Item) {
        if gone(&it.v) {
            return;
        }
        let Some(origin) = self.origin_of(
            it,
            "AWS::EC2::TransitGatewayRouteTable",
            "TransitGatewayRouteTableId",
        ) else {
            return;
        };
        let id = origin.id.clone();
        let tgw_id = s(&it.v, "TransitGatewayId").unwrap_or_default();
        let Some(Ref::Tgw(tgw)) = self.resolve(it, &id, "TransitGatewayId", tgw_id) else {
            return;
        };
        let t = self.model.tgw_route_tables.len();
        self.model.tgw_route_tables.push(TgwRouteTable {
            origin,
            tgw,
            routes: vec![],
        });
        let default =
            it.v.get("DefaultAssociationRouteTable")
                .and_then(Value::as_bool)
                == Some(true)
                || it
                    .v
                    .get("DefaultPropagationRouteTable")
                    .and_then(Value::as_bool)
                    == Some(true);
        if default {
            self.model.transit_gateways[tgw].default_route_table = Some(t);
        }
        self.by_id.insert(id, Ref::TgwRouteTable(t));
    }

    pub(super) fn add_vgw(&mut self, it: &Item) {
        if gone(&it.v) {
            return;
        }
        let Some(origin) = self.origin_of(it, "AWS::EC2::VPNGateway", "VpnGatewayId") else {
            return;
        };
        let id = origin.id.clone();
        let mut vpc = None;
        for a in list(&it.v, "VpcAttachments") {
            if s(a, "State").unwrap_or("attached") != "attached" {
                continue;
            }
            if let Some(Ref::Vpc(v)) = s(a, "VpcId").and_then(|v| self.by_id.get(v).copied()) {
                vpc = Some(v);
            } else if let Some(v) = s(a, "VpcId") {
                self.warn(
                    it.file,
                    &id,
                    "UnresolvedReference",
                    format!("attached to {v}, which is not in the snapshot"),
                );
            }
        }
        let g = self.model.vpn_gateways.len();
        self.model.vpn_gateways.push(VpnGateway {
            origin,
            vpc,
            propagations: vec![],
        });
        self.by_id.insert(id, Ref::Vgw(g));
    }

    pub(super) fn add_cgw(&mut self, it: &Item) {
        if gone(&it.v) {
            return;
        }
        let Some(origin) = self.origin_of(it, "AWS::EC2::CustomerGateway", "CustomerGatewayId")
        else {
            return;
        };
        let id = origin.id.clone();
        let bgp_prefixes = match prefixes(&it.v) {
            Ok(p) => p,
            Err(e) => {
                self.error(it.file, &id, "InvalidParameterValue", e);
                vec![]
            }
        };
        let c = self.model.customer_gateways.len();
        self.model.customer_gateways.push(CustomerGateway {
            origin,
            ip_address: s(&it.v, "IpAddress").and_then(|a| a.parse::<Ipv4Addr>().ok()),
            bgp_prefixes,
        });
        self.by_id.insert(id, Ref::Cgw(c));
    }

    /// VPN connections; one ending on a transit gateway gets its attachment later
    /// ([`Self::add_tgw_attachment`]), or an implicit one.
    pub(super) fn add_vpn(&mut self, it: &Item) {
        if gone(&it.v) {
            return;
        }
        let Some(origin) = self.origin_of(it, "AWS::EC2::VPNConnection", "VpnConnectionId") else {
            return;
        };
        let id = origin.id.clone();
        let cgw_id = s(&it.v, "CustomerGatewayId").unwrap_or_default();
        let Some(Ref::Cgw(customer_gateway)) = self.resolve(it, &id, "CustomerGatewayId", cgw_id)
        else {
            return;
        };
        let edge = match (s(&it.v, "VpnGatewayId"), s(&it.v, "TransitGatewayId")) {
            (Some(g), _) => match self.resolve(it, &id, "VpnGatewayId", g) {
                Some(Ref::Vgw(g)) => VpnEdge::VpnGateway(g),
                _ => return,
            },
            (None, Some(t)) => match self.resolve(it, &id, "TransitGatewayId", t) {
                Some(Ref::Tgw(tgw)) => VpnEdge::TransitGateway {
                    tgw,
                    attachment: usize::MAX,
                },
                _ => return,
            },
            (None, None) => {
                self.warn(
                    it.file,
                    &id,
                    "InvalidSnapshot.MissingField",
                    "the connection ends on neither a VPN gateway nor a transit gateway: skipped"
                        .into(),
                );
                return;
            }
        };
        let static_routes_only =
            it.v.get("Options")
                .and_then(|o| o.get("StaticRoutesOnly"))
                .and_then(Value::as_bool)
                == Some(true);
        let mut static_routes = Vec::new();
        for r in list(&it.v, "Routes") {
            if matches!(s(r, "State"), Some("deleted" | "deleting")) {
                continue;
            }
            match s(r, "DestinationCidrBlock").map(str::parse::<IpNet>) {
                Some(Ok(p)) => static_routes.push((
                    Origin {
                        logical_id: format!("{}[{p}]", origin.logical_id),
                        kind: "AWS::EC2::VPNConnectionRoute".into(),
                        ..origin.clone()
                    },
                    p.trunc(),
                )),
                other => self.error(
                    it.file,
                    &id,
                    "InvalidParameterValue",
                    format!("Routes: bad DestinationCidrBlock {other:?}"),
                ),
            }
        }
        let bgp_prefixes = prefixes(&it.v).unwrap_or_else(|e| {
            self.error(it.file, &id, "InvalidParameterValue", e);
            vec![]
        });
        let c = self.model.vpn_connections.len();
        self.model.vpn_connections.push(VpnConnection {
            origin,
            customer_gateway,
            edge,
            static_routes_only,
            static_routes,
            bgp_prefixes,
        });
        self.by_id.insert(id, Ref::Vpn(c));
    }

    /// `TransitGatewayVpcAttachments` (subnets, options) first, then the generic
    /// `TransitGatewayAttachments` (association, VPN attachments).
    pub(super) fn add_tgw_vpc_attachment(&mut self, it: &Item) {
        if gone(&it.v) {
            return;
        }
        let Some(origin) = self.origin_of(
            it,
            "AWS::EC2::TransitGatewayVpcAttachment",
            "TransitGatewayAttachmentId",
        ) else {
            return;
        };
        let id = origin.id.clone();
        let tgw_id = s(&it.v, "TransitGatewayId").unwrap_or_default();
        let Some(Ref::Tgw(tgw)) = self.resolve(it, &id, "TransitGatewayId", tgw_id) else {
            return;
        };
        let Some(vpc) = self.vpc_of(it, &id) else {
            return;
        };
        let mut subnets = Vec::new();
        for sn in list(&it.v, "SubnetIds").iter().filter_map(Value::as_str) {
            match self.resolve(it, &id, "SubnetIds", sn) {
                Some(Ref::Subnet(x)) => subnets.push(x),
                _ => return,
            }
        }
        let appliance_mode =
            it.v.get("Options")
                .and_then(|o| s(o, "ApplianceModeSupport"))
                == Some("enable");
        let a = self.model.tgw_attachments.len();
        self.model.tgw_attachments.push(TgwAttachment {
            origin,
            tgw,
            kind: TgwAttachmentKind::Vpc { vpc, subnets },
            appliance_mode,
            association: None,
            propagations: vec![],
        });
        self.by_id.insert(id, Ref::TgwAttachment(a));
    }

    pub(super) fn add_tgw_attachment(&mut self, it: &Item) {
        if gone(&it.v) {
            return;
        }
        let Some(id) = s(&it.v, "TransitGatewayAttachmentId") else {
            return;
        };
        let id = id.to_string();
        let a = match self.by_id.get(&id).copied() {
            Some(Ref::TgwAttachment(a)) => a,
            Some(_) => return,
            None => match s(&it.v, "ResourceType") {
                Some("vpn") => {
                    let Some(origin) = self.origin(
                        it,
                        Some(&id),
                        "AWS::EC2::TransitGatewayAttachment",
                        "TransitGatewayAttachmentId",
                    ) else {
                        return;
                    };
                    let vpn_id = s(&it.v, "ResourceId").unwrap_or_default();
                    let Some(Ref::Vpn(c)) = self.resolve(it, &id, "ResourceId", vpn_id) else {
                        return;
                    };
                    let VpnEdge::TransitGateway { tgw, .. } = self.model.vpn_connections[c].edge
                    else {
                        return;
                    };
                    let a = self.model.tgw_attachments.len();
                    self.model.tgw_attachments.push(TgwAttachment {
                        origin,
                        tgw,
                        kind: TgwAttachmentKind::Vpn(c),
                        appliance_mode: false,
                        association: None,
                        propagations: vec![],
                    });
                    self.model.vpn_connections[c].edge =
                        VpnEdge::TransitGateway { tgw, attachment: a };
                    self.by_id.insert(id.clone(), Ref::TgwAttachment(a));
                    a
                }
                Some("peering") => match self.peering_from_attachment(it, &id) {
                    Some(a) => a,
                    None => return,
                },
                Some("vpc") => {
                    self.warn(
                        it.file,
                        &id,
                        "InvalidSnapshot.MissingFile",
                        "a VPC attachment without its subnets: add `aws ec2 describe-transit-gateway-vpc-attachments` output; skipped".into(),
                    );
                    return;
                }
                other => {
                    self.unsupported_one(
                        it.file,
                        &id,
                        "AWS::EC2::TransitGatewayAttachment",
                        format!("{} attachment", other.unwrap_or("unknown")),
                    );
                    return;
                }
            },
        };
        if let Some(assoc) = it.v.get("Association") {
            if s(assoc, "State").unwrap_or("associated") == "associated" {
                if let Some(t) = s(assoc, "TransitGatewayRouteTableId") {
                    if let Some(Ref::TgwRouteTable(t)) =
                        self.resolve(it, &id, "Association.TransitGatewayRouteTableId", t)
                    {
                        self.associate_tgw_attachment(a, t);
                    }
                }
            }
        }
    }

    /// VPN connections to a transit gateway whose attachment the snapshot lacks get the one AWS
    /// creates with them.
    pub(super) fn implicit_vpn_attachments(&mut self) {
        for c in 0..self.model.vpn_connections.len() {
            let VpnEdge::TransitGateway { tgw, attachment } = self.model.vpn_connections[c].edge
            else {
                continue;
            };
            if attachment != usize::MAX {
                continue;
            }
            let o = self.model.vpn_connections[c].origin.clone();
            self.warn(
                o.template,
                &o.id,
                "InvalidSnapshot.MissingDefault",
                "no transit gateway attachment for this connection in the snapshot (describe-transit-gateway-attachments): assuming one, not associated".into(),
            );
            let a = self.model.tgw_attachments.len();
            self.model.tgw_attachments.push(TgwAttachment {
                origin: Origin {
                    logical_id: format!("{}.Attachment", o.logical_id),
                    id: format!("{}.Attachment", o.id),
                    kind: "AWS::EC2::TransitGatewayAttachment".into(),
                    ..o
                },
                tgw,
                kind: TgwAttachmentKind::Vpn(c),
                appliance_mode: false,
                association: None,
                propagations: vec![],
            });
            self.model.vpn_connections[c].edge = VpnEdge::TransitGateway { tgw, attachment: a };
        }
    }

    /// `{"TransitGatewayRouteTableId": …, "TransitGatewayRouteTablePropagations": [...]}`: the
    /// output of `get-transit-gateway-route-table-propagations` with the table it was asked for.
    pub(super) fn add_tgw_propagations(&mut self, it: &Item) {
        let Some(t_id) = s(&it.v, "TransitGatewayRouteTableId") else {
            self.error(
                it.file,
                "",
                "InvalidSnapshot.MissingField",
                "each entry needs TransitGatewayRouteTableId (the table the propagations were listed for)".into(),
            );
            return;
        };
        let t_id = t_id.to_string();
        let Some(Ref::TgwRouteTable(t)) = self.resolve(it, "", "TransitGatewayRouteTableId", &t_id)
        else {
            return;
        };
        for p in list(&it.v, "TransitGatewayRouteTablePropagations") {
            if s(p, "State").unwrap_or("enabled") != "enabled" {
                continue;
            }
            let Some(a_id) = s(p, "TransitGatewayAttachmentId") else {
                continue;
            };
            match self.by_id.get(a_id).copied() {
                Some(Ref::TgwAttachment(a)) => {
                    if !self.model.tgw_attachments[a].propagations.contains(&t) {
                        self.model.tgw_attachments[a].propagations.push(t);
                    }
                }
                _ => self.warn(
                    it.file,
                    &t_id,
                    "UnresolvedReference",
                    format!("propagation from {a_id}, which is not in the snapshot (or not simulated): left out"),
                ),
            }
        }
    }

    /// `{"TransitGatewayRouteTableId": …, "Routes": [...]}`: `search-transit-gateway-routes`
    /// output with the table it was asked for. Propagated routes are recomputed from the
    /// propagations, so only static ones are read.
    pub(super) fn add_tgw_static_routes(&mut self, it: &Item) {
        let Some(t_id) = s(&it.v, "TransitGatewayRouteTableId") else {
            self.error(
                it.file,
                "",
                "InvalidSnapshot.MissingField",
                "each entry needs TransitGatewayRouteTableId (the table the routes were searched in)".into(),
            );
            return;
        };
        let t_id = t_id.to_string();
        let Some(Ref::TgwRouteTable(t)) = self.resolve(it, "", "TransitGatewayRouteTableId", &t_id)
        else {
            return;
        };
        let table_lid = self.model.tgw_route_tables[t].origin.logical_id.clone();
        for r in list(&it.v, "Routes") {
            if s(r, "Type").unwrap_or("static") != "static" {
                continue;
            }
            let Some(Ok(destination)) = s(r, "DestinationCidrBlock").map(str::parse::<IpNet>)
            else {
                self.warn(it.file, &t_id, "UnsupportedReference", format!("route without a CIDR destination (prefix list routes are not simulated): {r}"));
                continue;
            };
            let attachment = if s(r, "State") == Some("blackhole") {
                None
            } else {
                let a_id = list(r, "TransitGatewayAttachments")
                    .first()
                    .and_then(|a| s(a, "TransitGatewayAttachmentId"))
                    .unwrap_or_default();
                match self.resolve(it, &t_id, "TransitGatewayAttachmentId", a_id) {
                    Some(Ref::TgwAttachment(a)) => Some(a),
                    // An attachment listed as not simulated (a peering not accepted, a
                    // Connect attachment): the route stays and drops, as in a template.
                    Some(Ref::Unsupported) => {
                        self.warn(
                            it.file,
                            &t_id,
                            "UnsupportedOperation",
                            format!("route {destination} → {a_id}: the attachment is not simulated, the route acts as a blackhole"),
                        );
                        None
                    }
                    _ => continue,
                }
            };
            self.model.tgw_route_tables[t].routes.push(TgwRoute {
                origin: Origin {
                    template: it.file,
                    logical_id: format!("{table_lid}[{}]", destination.trunc()),
                    id: t_id.clone(),
                    name: None,
                    kind: "AWS::EC2::TransitGatewayRoute".into(),
                },
                destination: destination.trunc(),
                attachment,
            });
        }
    }

    /// `PropagatingVgws` of a VPC route table.
    pub(super) fn add_vgw_propagations(&mut self, it: &Item) {
        let Some(rt_id) = s(&it.v, "RouteTableId") else {
            return;
        };
        let Some(&Ref::RouteTable(rt)) = self.by_id.get(rt_id) else {
            return;
        };
        if self.model.route_tables[rt].origin.template != it.file {
            return;
        }
        let rt_id = rt_id.to_string();
        for p in list(&it.v, "PropagatingVgws") {
            let Some(g) = s(p, "GatewayId") else { continue };
            if let Some(Ref::Vgw(g)) = self.resolve(it, &rt_id, "PropagatingVgws.GatewayId", g) {
                let origin = Origin {
                    logical_id: format!(
                        "{}.Propagation",
                        self.model.route_tables[rt].origin.logical_id
                    ),
                    id: rt_id.clone(),
                    name: None,
                    kind: "AWS::EC2::VPNGatewayRoutePropagation".into(),
                    template: it.file,
                };
                self.model.vpn_gateways[g].propagations.push((rt, origin));
            }
        }
    }

    pub(super) fn unsupported_one(
        &mut self,
        file: usize,
        id: &str,
        kind: &'static str,
        name: String,
    ) {
        self.by_id.insert(id.to_string(), Ref::Unsupported);
        self.model.unsupported.push(Unsupported {
            origin: Origin {
                template: file,
                logical_id: id.to_string(),
                id: id.to_string(),
                name: Some(name),
                kind: kind.into(),
            },
        });
    }
}
