//! `describe-route-tables`: associations (main, subnets, gateways) and every route, local,
//! static, to a gateway endpoint, to a firewall endpoint or to a prefix list.

use super::{derived, Exporter};
use crate::model::*;
use ipnet::IpNet;
use serde_json::{json, Map, Value};

impl Exporter<'_> {
    pub(super) fn target(&self, t: &RouteTarget, out: &mut Map<String, Value>) {
        let m = self.m;
        let (field, id) = match t {
            RouteTarget::InternetGateway(g) => ("GatewayId", &m.internet_gateways[*g].origin.id),
            RouteTarget::EgressOnlyInternetGateway(g) => (
                "EgressOnlyInternetGatewayId",
                &m.egress_only_igws[*g].origin.id,
            ),
            RouteTarget::NatGateway(n) => ("NatGatewayId", &m.nat_gateways[*n].origin.id),
            RouteTarget::NetworkInterface(e) => {
                if let EniOwner::Instance(i, _) = m.enis[*e].owner {
                    out.insert("InstanceId".into(), json!(m.instances[i].origin.id));
                }
                ("NetworkInterfaceId", &m.enis[*e].origin.id)
            }
            RouteTarget::Peering(p) => ("VpcPeeringConnectionId", &m.peerings[*p].origin.id),
            RouteTarget::TransitGateway(g) => {
                ("TransitGatewayId", &m.transit_gateways[*g].origin.id)
            }
            RouteTarget::VpnGateway(g) => ("GatewayId", &m.vpn_gateways[*g].origin.id),
            RouteTarget::Missing(id) => {
                out.insert("State".into(), json!("blackhole"));
                ("GatewayId", id)
            }
        };
        out.insert(field.into(), json!(id));
        out.entry("State").or_insert(json!("active"));
        out.insert("Origin".into(), json!("CreateRoute"));
    }

    pub(super) fn route_table(&self, i: usize) -> Value {
        let m = self.m;
        let rt = &m.route_tables[i];
        let vpc = &m.vpcs[rt.vpc];
        let mut assoc = Vec::new();
        if vpc.main_route_table == i {
            assoc.push(json!({"Main": true, "RouteTableId": rt.origin.id,
                "RouteTableAssociationId": derived("rtbassoc", &rt.origin.id),
                "AssociationState": {"State": "associated"}}));
        }
        for s in m.subnets.iter().filter(|s| s.route_table == Some(i)) {
            assoc.push(
                json!({"Main": false, "RouteTableId": rt.origin.id, "SubnetId": s.origin.id,
                "RouteTableAssociationId": derived("rtbassoc", &s.origin.id),
                "AssociationState": {"State": "associated"}}),
            );
        }
        for g in m.gateway_route_tables.iter().filter(|g| g.route_table == i) {
            let gw = match g.gateway {
                EdgeGateway::InternetGateway(x) => &m.internet_gateways[x].origin.id,
                EdgeGateway::VpnGateway(x) => &m.vpn_gateways[x].origin.id,
            };
            assoc.push(
                json!({"Main": false, "RouteTableId": rt.origin.id, "GatewayId": gw,
                "RouteTableAssociationId": derived("rtbassoc", gw),
                "AssociationState": {"State": "associated"}}),
            );
        }
        let mut routes: Vec<Value> = vpc
            .cidrs_v4
            .iter()
            .map(|c| IpNet::V4(*c))
            .chain(vpc.cidrs_v6.iter().map(|c| IpNet::V6(*c)))
            .map(|c| {
                let mut r = Map::new();
                dest(&mut r, c);
                r.insert("GatewayId".into(), json!("local"));
                r.insert("Origin".into(), json!("CreateRouteTable"));
                r.insert("State".into(), json!("active"));
                Value::Object(r)
            })
            .collect();
        for route in &rt.routes {
            let mut r = Map::new();
            dest(&mut r, route.destination);
            self.target(&route.target, &mut r);
            routes.push(Value::Object(r));
        }
        for ep in &m.vpc_endpoints {
            if let VpcEndpointKind::Gateway {
                route_tables,
                prefix_list,
            } = &ep.kind
            {
                if route_tables.contains(&i) {
                    routes.push(json!({
                        "DestinationPrefixListId": m.prefix_lists[*prefix_list].origin.id,
                        "GatewayId": ep.origin.id,
                        "Origin": "CreateRoute",
                        "State": "active",
                    }));
                }
            }
        }
        for route in m.prefix_list_routes.iter().filter(|r| r.route_table == i) {
            let mut r = Map::new();
            r.insert(
                "DestinationPrefixListId".into(),
                json!(m.prefix_lists[route.prefix_list].origin.id),
            );
            self.target(&route.target, &mut r);
            routes.push(Value::Object(r));
        }
        for route in m.firewall_routes.iter().filter(|r| r.route_table == i) {
            let mut r = Map::new();
            dest(&mut r, route.destination);
            r.insert(
                "VpcEndpointId".into(),
                json!(m.firewall_endpoints[route.endpoint].origin.id),
            );
            r.insert("Origin".into(), json!("CreateRoute"));
            r.insert("State".into(), json!("active"));
            routes.push(Value::Object(r));
        }
        let mut out = json!({
            "RouteTableId": rt.origin.id,
            "VpcId": vpc.origin.id,
            "OwnerId": self.account(&rt.origin),
            "Associations": assoc,
            "PropagatingVgws": m.vpn_gateways.iter()
                .filter(|g| g.propagations.iter().any(|(t, _)| *t == i))
                .map(|g| json!({"GatewayId": g.origin.id}))
                .collect::<Vec<_>>(),
            "Routes": routes,
        });
        self.tags(&mut out, &rt.origin, "Tags");
        out
    }
}

/// The destination field of a route, by address family.
fn dest(r: &mut Map<String, Value>, d: IpNet) {
    match d {
        IpNet::V4(c) => r.insert("DestinationCidrBlock".into(), json!(c.to_string())),
        IpNet::V6(c) => r.insert("DestinationIpv6CidrBlock".into(), json!(c.to_string())),
    };
}
