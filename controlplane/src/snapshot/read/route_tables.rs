//! Route tables from `describe-route-tables`: the tables, then their subnet and gateway
//! associations, then their routes (once every target can be resolved).

use super::{list, s, Item, Reader, Ref};
use crate::model::*;
use ipnet::IpNet;
use serde_json::Value;

impl Reader {
    pub(super) fn add_route_table(&mut self, it: &Item) {
        let Some(origin) = self.origin_of(it, "AWS::EC2::RouteTable", "RouteTableId") else {
            return;
        };
        let Some(vpc) = self.vpc_of(it, &origin.id.clone()) else {
            return;
        };
        let main = list(&it.v, "Associations")
            .iter()
            .any(|a| a.get("Main").and_then(Value::as_bool) == Some(true));
        let id = origin.id.clone();
        self.model.route_tables.push(RouteTable {
            origin,
            vpc,
            main,
            routes: vec![],
        });
        let i = self.model.route_tables.len() - 1;
        if main && self.model.vpcs[vpc].main_route_table == usize::MAX {
            self.model.vpcs[vpc].main_route_table = i;
        }
        self.by_id.insert(id, Ref::RouteTable(i));
    }

    pub(super) fn associate_route_table(&mut self, it: &Item) {
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
        for a in list(&it.v, "Associations") {
            if let Some(sub) = s(a, "SubnetId") {
                match self.resolve(it, &rt_id, "Associations.SubnetId", sub) {
                    Some(Ref::Subnet(sn))
                        if self.same_vpc(it, &rt_id, sn, self.model.route_tables[rt].vpc) =>
                    {
                        self.model.subnets[sn].route_table = Some(rt)
                    }
                    _ => continue,
                }
            } else if let Some(gw) = s(a, "GatewayId") {
                match self.by_id.get(gw).copied() {
                    Some(r @ (Ref::Igw(_) | Ref::Vgw(_))) => {
                        let gateway = match r {
                            Ref::Igw(g) => EdgeGateway::InternetGateway(g),
                            _ => match r {
                                Ref::Vgw(g) => EdgeGateway::VpnGateway(g),
                                _ => continue,
                            },
                        };
                        let origin = Origin {
                            logical_id: format!(
                                "{}.GatewayAssociation",
                                self.model.route_tables[rt].origin.logical_id
                            ),
                            id: s(a, "RouteTableAssociationId").unwrap_or(gw).to_string(),
                            name: None,
                            kind: "AWS::EC2::GatewayRouteTableAssociation".into(),
                            template: it.file,
                        };
                        self.model.gateway_route_tables.push(GatewayRouteTable {
                            origin,
                            gateway,
                            route_table: rt,
                        });
                    }
                    _ => self.warn(
                        it.file,
                        &rt_id,
                        "UnsupportedReference",
                        format!(
                            "the gateway association with {gw} is not simulated from snapshots"
                        ),
                    ),
                }
            }
        }
    }

    pub(super) fn add_routes(&mut self, it: &Item) {
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
        let rt_lid = self.model.route_tables[rt].origin.logical_id.clone();
        for r in list(&it.v, "Routes") {
            let target_id = [
                "GatewayId",
                "NatGatewayId",
                "NetworkInterfaceId",
                "InstanceId",
                "VpcPeeringConnectionId",
                "EgressOnlyInternetGatewayId",
                "TransitGatewayId",
                "CarrierGatewayId",
                "LocalGatewayId",
                "CoreNetworkArn",
                "VpcEndpointId",
            ]
            .iter()
            .find_map(|k| s(r, k).map(|v| (*k, v)));
            let Some((field, target_id)) = target_id else {
                continue;
            };
            if target_id == "local" {
                continue;
            }
            let dest_text = s(r, "DestinationCidrBlock")
                .or_else(|| s(r, "DestinationIpv6CidrBlock"))
                .or_else(|| s(r, "DestinationPrefixListId"))
                .unwrap_or_default()
                .to_string();
            let origin = Origin {
                template: it.file,
                logical_id: format!("{rt_lid}[{dest_text}]"),
                id: rt_id.clone(),
                name: None,
                kind: "AWS::EC2::Route".into(),
            };
            let mut firewall_endpoint = None;
            let target = if s(r, "State") == Some("blackhole") {
                RouteTarget::Missing(target_id.to_string())
            } else {
                match self.by_id.get(target_id).copied() {
                    Some(Ref::Igw(g)) => RouteTarget::InternetGateway(g),
                    Some(Ref::Eigw(g)) => RouteTarget::EgressOnlyInternetGateway(g),
                    Some(Ref::Nat(n)) => RouteTarget::NatGateway(n),
                    Some(Ref::Eni(e)) => RouteTarget::NetworkInterface(e),
                    Some(Ref::Instance(i)) => match self.model.instances[i].enis.first() {
                        Some(&e) => RouteTarget::NetworkInterface(e),
                        None => RouteTarget::Missing(target_id.to_string()),
                    },
                    Some(Ref::Peering(p)) => RouteTarget::Peering(p),
                    // The endpoint installs `prefix list → endpoint` in its route tables.
                    Some(Ref::VpcEndpoint(_)) => continue,
                    Some(Ref::Tgw(g)) => RouteTarget::TransitGateway(g),
                    Some(Ref::Vgw(g)) => RouteTarget::VpnGateway(g),
                    Some(Ref::FirewallEndpoint(e)) => {
                        firewall_endpoint = Some(e);
                        RouteTarget::Missing(target_id.to_string())
                    }
                    Some(_) => {
                        self.warn(it.file, &rt_id, "UnsupportedRouteTarget", format!("route {dest_text} -> {target_id}: vpcsim does not simulate this target from snapshots yet; the route acts as a blackhole"));
                        RouteTarget::Missing(target_id.to_string())
                    }
                    None => {
                        let supported = [
                            "igw-", "eigw-", "nat-", "eni-", "i-", "pcx-", "tgw-", "vgw-", "vpce-",
                        ]
                        .iter()
                        .any(|p| target_id.starts_with(p));
                        if supported {
                            // AWS shows a route whose target is gone as a blackhole; a target
                            // skipped for its own absent parent was reported already.
                            if !self.skipped.contains(target_id) {
                                self.warn(it.file, &rt_id, "UnresolvedReference.RouteTarget", format!("route {dest_text}: {field} {target_id} is not in the snapshot: the route is a blackhole"));
                            }
                            RouteTarget::Missing(target_id.to_string())
                        } else {
                            self.warn(it.file, &rt_id, "UnsupportedRouteTarget", format!("route {dest_text} -> {target_id}: vpcsim does not simulate this target from snapshots yet; the route acts as a blackhole"));
                            RouteTarget::Missing(target_id.to_string())
                        }
                    }
                }
            };
            if let Some(e) = firewall_endpoint {
                self.add_firewall_route(it, &rt_id, origin, rt, &dest_text, e);
                continue;
            }
            if let Some(pl) = s(r, "DestinationPrefixListId") {
                match self.by_id.get(pl).copied() {
                    Some(Ref::PrefixList(p)) => self.model.prefix_list_routes.push(PrefixListRoute {
                        origin,
                        route_table: rt,
                        prefix_list: p,
                        target,
                    }),
                    _ => self.warn(it.file, &rt_id, "UnresolvedReference", format!("route to prefix list {pl}: the list is not in the snapshot (add `aws ec2 describe-prefix-lists` output); the route is left out")),
                }
                continue;
            }
            let destination = match dest_text.parse::<IpNet>() {
                Ok(d) => d.trunc(),
                Err(e) => {
                    self.error(
                        it.file,
                        &rt_id,
                        "InvalidParameterValue",
                        format!("route destination {dest_text:?}: {e}"),
                    );
                    continue;
                }
            };
            self.model.route_tables[rt].routes.push(Route {
                origin,
                destination,
                target,
            });
        }
    }
}
