//! Transit gateways and Site-to-Site VPN. The calls that take a route table (propagations,
//! static routes) are written in the shape the corpus uses: each output wrapped with the
//! table's id.

use super::Exporter;
use crate::model::*;
use serde_json::{json, Value};

impl Exporter<'_> {
    /// Every describe-* file of transit gateways and VPN, in the order `export` writes them.
    pub(super) fn edges(&self, add: &mut impl FnMut(&str, Vec<Value>)) {
        let m = self.m;
        add(
            "TransitGateways",
            m.transit_gateways
                .iter()
                .map(|g| self.transit_gateway(g))
                .collect(),
        );
        add(
            "TransitGatewayRouteTables",
            (0..m.tgw_route_tables.len())
                .map(|t| self.tgw_route_table(t))
                .collect(),
        );
        add(
            "TransitGatewayVpcAttachments",
            m.tgw_attachments
                .iter()
                .filter_map(|a| self.tgw_vpc_attachment(a))
                .collect(),
        );
        add(
            "TransitGatewayPeeringAttachments",
            m.tgw_attachments
                .iter()
                .filter_map(|a| self.tgw_peering_attachment(a))
                .collect(),
        );
        add(
            "TransitGatewayAttachments",
            m.tgw_attachments
                .iter()
                .flat_map(|a| self.tgw_attachment(a))
                .collect(),
        );
        add(
            "TransitGatewayPropagations",
            (0..m.tgw_route_tables.len())
                .map(|t| self.tgw_propagations(t))
                .collect(),
        );
        add(
            "TransitGatewayStaticRoutes",
            m.tgw_route_tables
                .iter()
                .map(|t| self.tgw_static_routes(t))
                .collect(),
        );
        add(
            "VpnGateways",
            m.vpn_gateways.iter().map(|g| self.vpn_gateway(g)).collect(),
        );
        add(
            "CustomerGateways",
            m.customer_gateways
                .iter()
                .map(|c| self.customer_gateway(c))
                .collect(),
        );
        add(
            "VpnConnections",
            m.vpn_connections
                .iter()
                .map(|c| self.vpn_connection(c))
                .collect(),
        );
    }

    fn tgw_id(&self, g: usize) -> String {
        self.m.transit_gateways[g].origin.id.clone()
    }

    /// `ResourceType` and `ResourceId` of an attachment.
    fn attached_resource(&self, a: &TgwAttachment) -> (&'static str, String) {
        let m = self.m;
        match &a.kind {
            TgwAttachmentKind::Vpc { vpc, .. } => ("vpc", m.vpcs[*vpc].origin.id.clone()),
            TgwAttachmentKind::Vpn(c) => ("vpn", m.vpn_connections[*c].origin.id.clone()),
            TgwAttachmentKind::Peering { peer_tgw, .. } => ("peering", self.tgw_id(*peer_tgw)),
        }
    }

    fn transit_gateway(&self, g: &TransitGateway) -> Value {
        let m = self.m;
        let enable = |b: bool| if b { "enable" } else { "disable" };
        let default = g
            .default_route_table
            .map(|t| m.tgw_route_tables[t].origin.id.clone());
        let mut v = json!({
            "TransitGatewayId": g.origin.id,
            "OwnerId": self.account(&g.origin),
            "State": "available",
            "Options": {
                "DefaultRouteTableAssociation": enable(g.default_association),
                "DefaultRouteTablePropagation": enable(g.default_propagation),
                "AssociationDefaultRouteTableId": default,
                "PropagationDefaultRouteTableId": default,
            },
        });
        self.tags(&mut v, &g.origin, "Tags");
        v
    }

    fn tgw_route_table(&self, i: usize) -> Value {
        let t = &self.m.tgw_route_tables[i];
        let default = self.m.transit_gateways[t.tgw].default_route_table == Some(i);
        let mut v = json!({
            "TransitGatewayRouteTableId": t.origin.id,
            "TransitGatewayId": self.tgw_id(t.tgw),
            "State": "available",
            "DefaultAssociationRouteTable": default,
            "DefaultPropagationRouteTable": default,
        });
        self.tags(&mut v, &t.origin, "Tags");
        v
    }

    fn tgw_vpc_attachment(&self, a: &TgwAttachment) -> Option<Value> {
        let m = self.m;
        let TgwAttachmentKind::Vpc { vpc, subnets } = &a.kind else {
            return None;
        };
        let mut v = json!({
            "TransitGatewayAttachmentId": a.origin.id,
            "TransitGatewayId": self.tgw_id(a.tgw),
            "VpcId": m.vpcs[*vpc].origin.id,
            "SubnetIds": subnets.iter().map(|s| m.subnets[*s].origin.id.clone()).collect::<Vec<_>>(),
            "State": "available",
            "Options": {"ApplianceModeSupport": if a.appliance_mode { "enable" } else { "disable" }},
        });
        self.tags(&mut v, &a.origin, "Tags");
        Some(v)
    }

    /// The attachment as each transit gateway lists it: a peering appears once per side, with
    /// that side's association.
    fn tgw_attachment(&self, a: &TgwAttachment) -> Vec<Value> {
        let (kind, id) = self.attached_resource(a);
        let mut sides = vec![(a.tgw, id, a.association)];
        if let TgwAttachmentKind::Peering {
            peer_tgw,
            peer_association,
            ..
        } = &a.kind
        {
            sides.push((*peer_tgw, self.tgw_id(a.tgw), *peer_association));
        }
        sides
            .into_iter()
            .map(|(tgw, id, association)| {
                let mut v = json!({
                    "TransitGatewayAttachmentId": a.origin.id,
                    "TransitGatewayId": self.tgw_id(tgw),
                    "ResourceType": kind,
                    "ResourceId": id,
                    "State": "available",
                });
                if let Some(t) = association {
                    v["Association"] = json!({"TransitGatewayRouteTableId": self.m.tgw_route_tables[t].origin.id, "State": "associated"});
                }
                self.tags(&mut v, &a.origin, "Tags");
                v
            })
            .collect()
    }

    /// `describe-transit-gateway-peering-attachments`: requester and accepter, accepted.
    fn tgw_peering_attachment(&self, a: &TgwAttachment) -> Option<Value> {
        let TgwAttachmentKind::Peering {
            peer_tgw,
            peer_region,
            ..
        } = &a.kind
        else {
            return None;
        };
        let m = self.m;
        let info = |tgw: usize, region: &str| {
            let o = &m.transit_gateways[tgw].origin;
            json!({"TransitGatewayId": o.id, "OwnerId": self.account(o), "Region": region})
        };
        let region = &m.templates[a.origin.template].region;
        let mut v = json!({
            "TransitGatewayAttachmentId": a.origin.id,
            "RequesterTgwInfo": info(a.tgw, region),
            "AccepterTgwInfo": info(*peer_tgw, peer_region),
            "Status": {"Code": "available", "Message": "Available"},
            "State": "available",
        });
        self.tags(&mut v, &a.origin, "Tags");
        Some(v)
    }

    fn tgw_propagations(&self, t: usize) -> Value {
        let m = self.m;
        json!({
            "TransitGatewayRouteTableId": m.tgw_route_tables[t].origin.id,
            "TransitGatewayRouteTablePropagations": m.tgw_attachments.iter()
                .filter(|a| a.propagations.contains(&t))
                .map(|a| {
                    let (kind, id) = self.attached_resource(a);
                    json!({"TransitGatewayAttachmentId": a.origin.id, "ResourceType": kind, "ResourceId": id, "State": "enabled"})
                })
                .collect::<Vec<_>>(),
        })
    }

    fn tgw_static_routes(&self, t: &TgwRouteTable) -> Value {
        let m = self.m;
        json!({
            "TransitGatewayRouteTableId": t.origin.id,
            "Routes": t.routes.iter().map(|r| {
                let mut v = json!({"DestinationCidrBlock": r.destination.to_string(), "Type": "static"});
                match r.attachment {
                    Some(a) => {
                        let (kind, id) = self.attached_resource(&m.tgw_attachments[a]);
                        v["State"] = json!("active");
                        v["TransitGatewayAttachments"] = json!([{
                            "TransitGatewayAttachmentId": m.tgw_attachments[a].origin.id,
                            "ResourceType": kind, "ResourceId": id,
                        }]);
                    }
                    None => v["State"] = json!("blackhole"),
                }
                v
            }).collect::<Vec<_>>(),
        })
    }

    fn vpn_gateway(&self, g: &VpnGateway) -> Value {
        let mut v = json!({
            "VpnGatewayId": g.origin.id,
            "State": "available",
            "Type": "ipsec.1",
            "VpcAttachments": g.vpc.map(|x| vec![json!({"VpcId": self.m.vpcs[x].origin.id, "State": "attached"})]).unwrap_or_default(),
        });
        self.tags(&mut v, &g.origin, "Tags");
        v
    }

    fn customer_gateway(&self, c: &CustomerGateway) -> Value {
        let mut v = json!({
            "CustomerGatewayId": c.origin.id,
            "IpAddress": c.ip_address.map(|a| a.to_string()),
            "State": "available",
            "Type": "ipsec.1",
        });
        self.tags_with(&mut v, &c.origin, "Tags", &c.bgp_prefixes);
        v
    }

    fn vpn_connection(&self, c: &VpnConnection) -> Value {
        let m = self.m;
        let mut v = json!({
            "VpnConnectionId": c.origin.id,
            "CustomerGatewayId": m.customer_gateways[c.customer_gateway].origin.id,
            "State": "available",
            "Type": "ipsec.1",
            "Category": "VPN",
            "Options": {"StaticRoutesOnly": c.static_routes_only},
            "Routes": c.static_routes.iter().map(|(_, p)| json!({"DestinationCidrBlock": p.to_string(), "Source": "Static", "State": "available"})).collect::<Vec<_>>(),
        });
        match c.edge {
            VpnEdge::VpnGateway(g) => v["VpnGatewayId"] = json!(m.vpn_gateways[g].origin.id),
            VpnEdge::TransitGateway { tgw, .. } => v["TransitGatewayId"] = json!(self.tgw_id(tgw)),
        }
        self.tags_with(&mut v, &c.origin, "Tags", &c.bgp_prefixes);
        v
    }
}
