//! Writing a model as describe-* output, one file per call, in the shapes the AWS CLI prints.

use super::read::LOGICAL_ID_TAG;
use crate::load::PREFIXES_TAG;
use crate::model::*;
use ipnet::IpNet;
use serde_json::{json, Map, Value};
use std::net::Ipv4Addr;

/// One file of an export: `Vpcs.json` and the JSON `aws ec2 describe-vpcs` would print.
#[derive(Clone, Debug)]
pub struct ExportFile {
    pub name: String,
    pub json: Value,
}

/// The describe-* files for a model, and the resources they leave out (kind, logical id): kinds
/// the snapshot loader does not read back yet.
pub fn export(model: &Model) -> (Vec<ExportFile>, Vec<(&str, String)>) {
    let e = Exporter { m: model };
    let mut files = Vec::new();
    let mut add = |key: &str, items: Vec<Value>| {
        files.push(ExportFile {
            name: format!("{key}.json"),
            json: json!({ key: items }),
        })
    };
    add("Vpcs", model.vpcs.iter().map(|v| e.vpc(v)).collect());
    add(
        "Subnets",
        model.subnets.iter().map(|s| e.subnet(s)).collect(),
    );
    add(
        "RouteTables",
        (0..model.route_tables.len())
            .map(|i| e.route_table(i))
            .collect(),
    );
    add(
        "NetworkAcls",
        (0..model.network_acls.len()).map(|i| e.nacl(i)).collect(),
    );
    add(
        "SecurityGroups",
        model.security_groups.iter().map(|g| e.sg(g)).collect(),
    );
    add(
        "Reservations",
        model.instances.iter().map(|i| e.reservation(i)).collect(),
    );
    add(
        "NetworkInterfaces",
        (0..model.enis.len()).map(|i| e.eni(i, false)).collect(),
    );
    add(
        "InternetGateways",
        model
            .internet_gateways
            .iter()
            .map(|g| {
                let mut v = json!({
                    "InternetGatewayId": g.origin.id,
                    "OwnerId": e.account(&g.origin),
                    "Attachments": g.vpc.map(|v| vec![json!({"State": "available", "VpcId": model.vpcs[v].origin.id})]).unwrap_or_default(),
                });
                e.tags(&mut v, &g.origin, "Tags");
                v
            })
            .collect(),
    );
    add(
        "EgressOnlyInternetGateways",
        model
            .egress_only_igws
            .iter()
            .map(|g| {
                let mut v = json!({
                    "EgressOnlyInternetGatewayId": g.origin.id,
                    "Attachments": [{"State": "attached", "VpcId": model.vpcs[g.vpc].origin.id}],
                });
                e.tags(&mut v, &g.origin, "Tags");
                v
            })
            .collect(),
    );
    add(
        "NatGateways",
        model.nat_gateways.iter().map(|n| e.nat(n)).collect(),
    );
    add(
        "Addresses",
        model.eips.iter().map(|a| e.address(a)).collect(),
    );
    add(
        "VpcPeeringConnections",
        model.peerings.iter().map(|p| e.peering(p)).collect(),
    );
    add(
        "PrefixLists",
        model
            .prefix_lists
            .iter()
            .map(|p| {
                // describe-prefix-lists' shape, with describe-managed-prefix-lists' fields so a
                // customer-managed list keeps its owner and size.
                let mut v = json!({
                    "PrefixListId": p.origin.id,
                    "PrefixListName": p.aws_managed.clone().unwrap_or_else(|| p.origin.logical_id.clone()),
                    "Cidrs": p.entries.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                    "AddressFamily": if p.ipv6 { "IPv6" } else { "IPv4" },
                    "MaxEntries": p.max_entries,
                    "OwnerId": if p.aws_managed.is_some() { "AWS".to_string() } else { e.account(&p.origin) },
                });
                if p.aws_managed.is_none() {
                    e.tags(&mut v, &p.origin, "Tags");
                }
                v
            })
            .collect(),
    );
    e.edges(&mut add);
    add(
        "VpcEndpoints",
        model.vpc_endpoints.iter().map(|v| e.endpoint(v)).collect(),
    );
    e.elb(&mut add);
    let skipped = model
        .unsupported
        .iter()
        .map(|r| &r.origin)
        .filter(|o| !o.logical_id.contains('.'))
        .map(|o| (&*o.kind, o.logical_id.clone()))
        .collect();
    (files, skipped)
}

struct Exporter<'m> {
    m: &'m Model,
}

/// The protocol as describe-* prints it: names for the common four, numbers otherwise.
fn protocol(p: Option<u8>) -> String {
    match p {
        None => "-1".into(),
        Some(6) => "tcp".into(),
        Some(17) => "udp".into(),
        Some(1) => "icmp".into(),
        Some(58) => "icmpv6".into(),
        Some(n) => n.to_string(),
    }
}

/// A stable id of another kind derived from a resource id (`eipalloc-…` → `eipassoc-…`).
fn derived(prefix: &str, id: &str) -> String {
    let tail = id.rsplit('-').next().unwrap_or(id);
    format!("{prefix}-{tail}")
}

impl Exporter<'_> {
    fn account(&self, o: &Origin) -> String {
        self.m
            .templates
            .get(o.template)
            .map(|t| t.account_id.clone())
            .unwrap_or_default()
    }

    /// `Tags`/`TagSet` with the Name tag and, for names that are not the AWS id, the
    /// CloudFormation logical-id tag AWS puts on stack resources (the loader names them by it).
    fn tags(&self, v: &mut Value, o: &Origin, key: &str) {
        self.tags_with(v, o, key, &[]);
    }

    fn tags_with(&self, v: &mut Value, o: &Origin, key: &str, prefixes: &[IpNet]) {
        let mut tags = Vec::new();
        if !prefixes.is_empty() {
            let list: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
            tags.push(json!({"Key": PREFIXES_TAG, "Value": list.join(",")}));
        }
        if let Some(n) = &o.name {
            tags.push(json!({"Key": "Name", "Value": n}));
        }
        if o.logical_id != o.id {
            tags.push(json!({"Key": LOGICAL_ID_TAG, "Value": o.logical_id}));
        }
        v[key] = Value::Array(tags);
    }

    fn vpc(&self, v: &Vpc) -> Value {
        let mut out = json!({
            "VpcId": v.origin.id,
            "OwnerId": self.account(&v.origin),
            "State": "available",
            "IsDefault": false,
            "CidrBlock": v.cidrs_v4.first().map(|c| c.to_string()),
            "CidrBlockAssociationSet": v.cidrs_v4.iter().enumerate().map(|(i, c)| json!({
                "AssociationId": derived("vpc-cidr-assoc", &format!("{}{i}", v.origin.id)),
                "CidrBlock": c.to_string(),
                "CidrBlockState": {"State": "associated"},
            })).collect::<Vec<_>>(),
            "Ipv6CidrBlockAssociationSet": v.cidrs_v6.iter().map(|c| json!({
                "Ipv6CidrBlock": c.to_string(),
                "Ipv6CidrBlockState": {"State": "associated"},
            })).collect::<Vec<_>>(),
        });
        self.tags(&mut out, &v.origin, "Tags");
        out
    }

    fn subnet(&self, s: &Subnet) -> Value {
        let mut out = json!({
            "SubnetId": s.origin.id,
            "VpcId": self.m.vpcs[s.vpc].origin.id,
            "OwnerId": self.account(&s.origin),
            "State": "available",
            "AvailabilityZone": s.availability_zone,
            "MapPublicIpOnLaunch": s.map_public_ip_on_launch,
            "Ipv6CidrBlockAssociationSet": s.cidr_v6.iter().map(|c| json!({
                "Ipv6CidrBlock": c.to_string(),
                "Ipv6CidrBlockState": {"State": "associated"},
            })).collect::<Vec<_>>(),
        });
        if let Some(c) = s.cidr_v4 {
            out["CidrBlock"] = json!(c.to_string());
        }
        self.tags(&mut out, &s.origin, "Tags");
        out
    }

    fn target(&self, t: &RouteTarget, out: &mut Map<String, Value>) {
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

    fn route_table(&self, i: usize) -> Value {
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

    fn nacl(&self, i: usize) -> Value {
        let m = self.m;
        let acl = &m.network_acls[i];
        let vpc = &m.vpcs[acl.vpc];
        let mut entries: Vec<Value> = acl
            .entries
            .iter()
            .map(|e| {
                let n = &e.entry;
                let mut v = json!({
                    "RuleNumber": n.number,
                    "Protocol": n.protocol.map(|p| p.to_string()).unwrap_or_else(|| "-1".into()),
                    "RuleAction": if n.allow { "allow" } else { "deny" },
                    "Egress": e.egress,
                });
                match n.cidr {
                    IpNet::V4(c) => v["CidrBlock"] = json!(c.to_string()),
                    IpNet::V6(c) => v["Ipv6CidrBlock"] = json!(c.to_string()),
                }
                if matches!(n.protocol, Some(6) | Some(17)) {
                    v["PortRange"] = json!({"From": n.ports.0, "To": n.ports.1});
                }
                if matches!(n.protocol, Some(1) | Some(58)) {
                    let f = |x: Option<u8>| x.map(i64::from).unwrap_or(-1);
                    v["IcmpTypeCode"] = json!({"Type": f(n.icmp_type), "Code": f(n.icmp_code)});
                }
                v
            })
            .collect();
        // The `*` rules describe-network-acls lists last.
        for egress in [false, true] {
            entries.push(
                json!({"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny",
                "Egress": egress, "CidrBlock": "0.0.0.0/0"}),
            );
            if !vpc.cidrs_v6.is_empty() {
                entries.push(
                    json!({"RuleNumber": 32768, "Protocol": "-1", "RuleAction": "deny",
                    "Egress": egress, "Ipv6CidrBlock": "::/0"}),
                );
            }
        }
        let associations: Vec<Value> = m
            .subnets
            .iter()
            .filter(|s| {
                s.network_acl == Some(i)
                    || (s.network_acl.is_none() && s.vpc == acl.vpc && vpc.default_network_acl == i)
            })
            .map(|s| {
                json!({"NetworkAclId": acl.origin.id, "SubnetId": s.origin.id,
                "NetworkAclAssociationId": derived("aclassoc", &s.origin.id)})
            })
            .collect();
        let mut out = json!({
            "NetworkAclId": acl.origin.id,
            "VpcId": vpc.origin.id,
            "OwnerId": self.account(&acl.origin),
            "IsDefault": acl.default,
            "Entries": entries,
            "Associations": associations,
        });
        self.tags(&mut out, &acl.origin, "Tags");
        out
    }

    fn permissions(&self, rules: &[SgRule]) -> Vec<Value> {
        rules
            .iter()
            .map(|r| {
                let mut p = json!({
                    "IpProtocol": protocol(r.protocol),
                    "IpRanges": [], "Ipv6Ranges": [], "UserIdGroupPairs": [], "PrefixListIds": [],
                });
                if r.protocol.is_some() {
                    p["FromPort"] = json!(r.from_port);
                    p["ToPort"] = json!(r.to_port);
                }
                let mut peer = match &r.peer {
                    SgPeer::Cidr(IpNet::V4(c)) => ("IpRanges", json!({"CidrIp": c.to_string()})),
                    SgPeer::Cidr(IpNet::V6(c)) => {
                        ("Ipv6Ranges", json!({"CidrIpv6": c.to_string()}))
                    }
                    SgPeer::Group(g) => {
                        let g = &self.m.security_groups[*g];
                        (
                            "UserIdGroupPairs",
                            json!({"GroupId": g.origin.id, "UserId": self.account(&g.origin)}),
                        )
                    }
                    SgPeer::PrefixList(pl) => (
                        "PrefixListIds",
                        json!({"PrefixListId": self.m.prefix_lists[*pl].origin.id}),
                    ),
                };
                if let Some(d) = &r.description {
                    peer.1["Description"] = json!(d);
                }
                p[peer.0] = json!([peer.1]);
                p
            })
            .collect()
    }

    fn sg(&self, g: &SecurityGroup) -> Value {
        let mut out = json!({
            "GroupId": g.origin.id,
            "GroupName": g.group_name,
            "Description": g.group_name,
            "OwnerId": self.account(&g.origin),
            "IpPermissions": self.permissions(&g.ingress),
            "IpPermissionsEgress": self.permissions(&g.egress),
        });
        if let Some(v) = g.vpc {
            out["VpcId"] = json!(self.m.vpcs[v].origin.id);
        }
        self.tags(&mut out, &g.origin, "Tags");
        out
    }

    fn association(&self, eni: usize, a: Ipv4Addr, primary: bool) -> Option<Value> {
        let e = &self.m.enis[eni];
        if let Some(eip) = self.m.eips.iter().find(|x| x.association == Some((eni, a))) {
            return Some(json!({
                "AllocationId": eip.allocation_id,
                "AssociationId": derived("eipassoc", &eip.allocation_id),
                "IpOwnerId": self.account(&eip.origin),
                "PublicIp": eip.public_ip.to_string(),
            }));
        }
        let auto = e.auto_public_ip.filter(|_| primary)?;
        Some(json!({"IpOwnerId": "amazon", "PublicIp": auto.to_string()}))
    }

    fn eni(&self, i: usize, nested: bool) -> Value {
        let m = self.m;
        let e = &m.enis[i];
        let subnet = &m.subnets[e.subnet];
        let private: Vec<Value> = e
            .private_v4
            .iter()
            .enumerate()
            .map(|(n, a)| {
                let mut p = json!({"PrivateIpAddress": a.to_string(), "Primary": n == 0});
                if let Some(assoc) = self.association(i, *a, n == 0) {
                    p["Association"] = assoc;
                }
                p
            })
            .collect();
        let itype = match e.owner {
            EniOwner::NatGateway(_) => "nat_gateway",
            EniOwner::VpcEndpoint(_) => "vpc_endpoint",
            EniOwner::LoadBalancer(_) => "network_load_balancer",
            _ => "interface",
        };
        let mut out = json!({
            "NetworkInterfaceId": e.origin.id,
            "SubnetId": subnet.origin.id,
            "VpcId": m.vpcs[subnet.vpc].origin.id,
            "AvailabilityZone": subnet.availability_zone,
            "OwnerId": self.account(&e.origin),
            "InterfaceType": itype,
            "PrivateIpAddresses": private,
            "Ipv6Addresses": e.ipv6.iter().map(|a| json!({"Ipv6Address": a.to_string()})).collect::<Vec<_>>(),
            "Groups": e.security_groups.iter().map(|g| json!({
                "GroupId": m.security_groups[*g].origin.id,
                "GroupName": m.security_groups[*g].group_name,
            })).collect::<Vec<_>>(),
            "SourceDestCheck": e.source_dest_check,
            "Status": "in-use",
        });
        if let Some(a) = e.private_v4.first() {
            out["PrivateIpAddress"] = json!(a.to_string());
            if let Some(assoc) = self.association(i, *a, true) {
                out["Association"] = assoc;
            }
        }
        match e.owner {
            EniOwner::Instance(inst, d) => {
                out["Attachment"] = json!({
                    "AttachmentId": derived("eni-attach", &e.origin.id),
                    "DeviceIndex": d,
                    "InstanceId": m.instances[inst].origin.id,
                    "Status": "attached",
                });
            }
            EniOwner::NatGateway(n) => {
                out["Description"] = json!(format!(
                    "Interface for NAT Gateway {}",
                    m.nat_gateways[n].origin.id
                ));
                out["RequesterManaged"] = json!(true);
            }
            EniOwner::LoadBalancer(lb) => {
                out["Description"] = json!(format!("ELB {}", lb_path(&m.load_balancers[lb])));
                out["RequesterManaged"] = json!(true);
            }
            EniOwner::Standalone => out["Status"] = json!("available"),
            _ => {}
        }
        if !nested {
            // A NAT gateway's interface carries the gateway's tags in AWS, not a logical id.
            if !matches!(e.owner, EniOwner::NatGateway(_)) {
                self.tags(&mut out, &e.origin, "TagSet");
            }
        }
        out
    }

    fn endpoint(&self, ep: &VpcEndpoint) -> Value {
        let m = self.m;
        let mut v = json!({
            "VpcEndpointId": ep.origin.id,
            "VpcId": m.vpcs[ep.vpc].origin.id,
            "ServiceName": ep.service_name,
            "State": "available",
            "OwnerId": self.account(&ep.origin),
            "PolicyDocument": ep.policy.clone().unwrap_or_else(|| {
                r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#.into()
            }),
            "RouteTableIds": [], "SubnetIds": [], "NetworkInterfaceIds": [], "Groups": [],
            "PrivateDnsEnabled": false,
        });
        match &ep.kind {
            VpcEndpointKind::Gateway { route_tables, .. } => {
                v["VpcEndpointType"] = json!("Gateway");
                v["RouteTableIds"] = json!(route_tables
                    .iter()
                    .map(|r| m.route_tables[*r].origin.id.clone())
                    .collect::<Vec<_>>());
            }
            VpcEndpointKind::Interface {
                subnets,
                enis,
                private_dns_enabled,
                ..
            } => {
                v["VpcEndpointType"] = json!("Interface");
                v["PrivateDnsEnabled"] = json!(private_dns_enabled);
                v["SubnetIds"] = json!(subnets
                    .iter()
                    .map(|s| m.subnets[*s].origin.id.clone())
                    .collect::<Vec<_>>());
                v["NetworkInterfaceIds"] = json!(enis
                    .iter()
                    .map(|e| m.enis[*e].origin.id.clone())
                    .collect::<Vec<_>>());
                let groups = enis
                    .first()
                    .map_or(&[][..], |e| &m.enis[*e].security_groups[..]);
                v["Groups"] = json!(groups
                    .iter()
                    .map(|g| json!({"GroupId": m.security_groups[*g].origin.id, "GroupName": m.security_groups[*g].group_name}))
                    .collect::<Vec<_>>());
            }
        }
        self.tags(&mut v, &ep.origin, "Tags");
        v
    }

    fn reservation(&self, inst: &Instance) -> Value {
        let m = self.m;
        let primary = inst.enis.first().map(|e| &m.enis[*e]);
        let mut i = json!({
            "InstanceId": inst.origin.id,
            "State": {"Code": 16, "Name": "running"},
            "NetworkInterfaces": inst.enis.iter().map(|e| self.eni(*e, true)).collect::<Vec<_>>(),
        });
        if let Some(p) = primary {
            let subnet = &m.subnets[p.subnet];
            i["SubnetId"] = json!(subnet.origin.id);
            i["VpcId"] = json!(m.vpcs[subnet.vpc].origin.id);
            i["SourceDestCheck"] = json!(p.source_dest_check);
            i["SecurityGroups"] = json!(p
                .security_groups
                .iter()
                .map(|g| json!({"GroupId": m.security_groups[*g].origin.id, "GroupName": m.security_groups[*g].group_name}))
                .collect::<Vec<_>>());
            if let Some(a) = p.private_v4.first() {
                i["PrivateIpAddress"] = json!(a.to_string());
                if let Some(public) = m.public_ip_of(inst.enis[0], *a) {
                    i["PublicIpAddress"] = json!(public.to_string());
                }
            }
        }
        self.tags(&mut i, &inst.origin, "Tags");
        json!({
            "ReservationId": derived("r", &inst.origin.id),
            "OwnerId": self.account(&inst.origin),
            "Instances": [i],
        })
    }

    fn nat(&self, n: &NatGateway) -> Value {
        let m = self.m;
        let e = &m.enis[n.eni];
        let subnet = &m.subnets[n.subnet];
        let addresses: Vec<Value> = e
            .private_v4
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let mut v = json!({"PrivateIp": a.to_string(), "NetworkInterfaceId": e.origin.id, "IsPrimary": k == 0});
                if let Some(eip) = m.eips.iter().find(|x| x.association == Some((n.eni, *a))) {
                    v["AllocationId"] = json!(eip.allocation_id);
                    v["PublicIp"] = json!(eip.public_ip.to_string());
                }
                v
            })
            .collect();
        let mut out = json!({
            "NatGatewayId": n.origin.id,
            "SubnetId": subnet.origin.id,
            "VpcId": m.vpcs[subnet.vpc].origin.id,
            "State": "available",
            "ConnectivityType": if n.public { "public" } else { "private" },
            "NatGatewayAddresses": addresses,
        });
        self.tags(&mut out, &n.origin, "Tags");
        out
    }

    fn address(&self, a: &Eip) -> Value {
        let m = self.m;
        let mut out = json!({
            "AllocationId": a.allocation_id,
            "PublicIp": a.public_ip.to_string(),
            "Domain": "vpc",
        });
        if let Some((eni, private)) = a.association {
            let e = &m.enis[eni];
            out["NetworkInterfaceId"] = json!(e.origin.id);
            out["PrivateIpAddress"] = json!(private.to_string());
            out["AssociationId"] = json!(derived("eipassoc", &a.allocation_id));
            out["NetworkInterfaceOwnerId"] = json!(self.account(&e.origin));
            if let EniOwner::Instance(i, _) = e.owner {
                out["InstanceId"] = json!(m.instances[i].origin.id);
            }
        }
        self.tags(&mut out, &a.origin, "Tags");
        out
    }

    fn peering(&self, p: &Peering) -> Value {
        let m = self.m;
        let info = |v: &Vpc| {
            let t = m.templates.get(v.origin.template);
            json!({
                "VpcId": v.origin.id,
                "CidrBlock": v.cidrs_v4.first().map(|c| c.to_string()),
                "CidrBlockSet": v.cidrs_v4.iter().map(|c| json!({"CidrBlock": c.to_string()})).collect::<Vec<_>>(),
                "OwnerId": t.map(|t| t.account_id.clone()),
                "Region": t.map(|t| t.region.clone()),
            })
        };
        let accepter = match p.accepter {
            Some(a) => info(&m.vpcs[a]),
            None => json!({"VpcId": p.peer_vpc_id}),
        };
        let mut out = json!({
            "VpcPeeringConnectionId": p.origin.id,
            "RequesterVpcInfo": info(&m.vpcs[p.requester]),
            "AccepterVpcInfo": accepter,
            "Status": {"Code": "active", "Message": "Active"},
        });
        self.tags(&mut out, &p.origin, "Tags");
        out
    }
}

impl Exporter<'_> {
    /// Transit gateways and VPN, in the shapes the corpus uses for the calls that take a route
    /// table (propagations, static routes): the output wrapped with the table's id.
    fn edges(&self, add: &mut impl FnMut(&str, Vec<Value>)) {
        let m = self.m;
        let tgw_id = |g: usize| m.transit_gateways[g].origin.id.clone();
        add(
            "TransitGateways",
            m.transit_gateways
                .iter()
                .map(|g| {
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
                })
                .collect(),
        );
        add(
            "TransitGatewayRouteTables",
            m.tgw_route_tables
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let default = m.transit_gateways[t.tgw].default_route_table == Some(i);
                    let mut v = json!({
                        "TransitGatewayRouteTableId": t.origin.id,
                        "TransitGatewayId": tgw_id(t.tgw),
                        "State": "available",
                        "DefaultAssociationRouteTable": default,
                        "DefaultPropagationRouteTable": default,
                    });
                    self.tags(&mut v, &t.origin, "Tags");
                    v
                })
                .collect(),
        );
        let resource = |a: &TgwAttachment| match &a.kind {
            TgwAttachmentKind::Vpc { vpc, .. } => ("vpc", m.vpcs[*vpc].origin.id.clone()),
            TgwAttachmentKind::Vpn(c) => ("vpn", m.vpn_connections[*c].origin.id.clone()),
        };
        add(
            "TransitGatewayVpcAttachments",
            m.tgw_attachments
                .iter()
                .filter_map(|a| {
                    let TgwAttachmentKind::Vpc { vpc, subnets } = &a.kind else {
                        return None;
                    };
                    let mut v = json!({
                        "TransitGatewayAttachmentId": a.origin.id,
                        "TransitGatewayId": tgw_id(a.tgw),
                        "VpcId": m.vpcs[*vpc].origin.id,
                        "SubnetIds": subnets.iter().map(|s| m.subnets[*s].origin.id.clone()).collect::<Vec<_>>(),
                        "State": "available",
                        "Options": {"ApplianceModeSupport": if a.appliance_mode { "enable" } else { "disable" }},
                    });
                    self.tags(&mut v, &a.origin, "Tags");
                    Some(v)
                })
                .collect(),
        );
        add(
            "TransitGatewayAttachments",
            m.tgw_attachments
                .iter()
                .map(|a| {
                    let (kind, id) = resource(a);
                    let mut v = json!({
                        "TransitGatewayAttachmentId": a.origin.id,
                        "TransitGatewayId": tgw_id(a.tgw),
                        "ResourceType": kind,
                        "ResourceId": id,
                        "State": "available",
                    });
                    if let Some(t) = a.association {
                        v["Association"] = json!({"TransitGatewayRouteTableId": m.tgw_route_tables[t].origin.id, "State": "associated"});
                    }
                    self.tags(&mut v, &a.origin, "Tags");
                    v
                })
                .collect(),
        );
        add(
            "TransitGatewayPropagations",
            (0..m.tgw_route_tables.len())
                .map(|t| {
                    json!({
                        "TransitGatewayRouteTableId": m.tgw_route_tables[t].origin.id,
                        "TransitGatewayRouteTablePropagations": m.tgw_attachments.iter()
                            .filter(|a| a.propagations.contains(&t))
                            .map(|a| {
                                let (kind, id) = resource(a);
                                json!({"TransitGatewayAttachmentId": a.origin.id, "ResourceType": kind, "ResourceId": id, "State": "enabled"})
                            })
                            .collect::<Vec<_>>(),
                    })
                })
                .collect(),
        );
        add(
            "TransitGatewayStaticRoutes",
            m.tgw_route_tables
                .iter()
                .map(|t| {
                    json!({
                        "TransitGatewayRouteTableId": t.origin.id,
                        "Routes": t.routes.iter().map(|r| {
                            let mut v = json!({"DestinationCidrBlock": r.destination.to_string(), "Type": "static"});
                            match r.attachment {
                                Some(a) => {
                                    let (kind, id) = resource(&m.tgw_attachments[a]);
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
                })
                .collect(),
        );
        add(
            "VpnGateways",
            m.vpn_gateways
                .iter()
                .map(|g| {
                    let mut v = json!({
                        "VpnGatewayId": g.origin.id,
                        "State": "available",
                        "Type": "ipsec.1",
                        "VpcAttachments": g.vpc.map(|x| vec![json!({"VpcId": m.vpcs[x].origin.id, "State": "attached"})]).unwrap_or_default(),
                    });
                    self.tags(&mut v, &g.origin, "Tags");
                    v
                })
                .collect(),
        );
        add(
            "CustomerGateways",
            m.customer_gateways
                .iter()
                .map(|c| {
                    let mut v = json!({
                        "CustomerGatewayId": c.origin.id,
                        "IpAddress": c.ip_address.map(|a| a.to_string()),
                        "State": "available",
                        "Type": "ipsec.1",
                    });
                    self.tags_with(&mut v, &c.origin, "Tags", &c.bgp_prefixes);
                    v
                })
                .collect(),
        );
        add(
            "VpnConnections",
            m.vpn_connections
                .iter()
                .map(|c| {
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
                        VpnEdge::TransitGateway { tgw, .. } => v["TransitGatewayId"] = json!(tgw_id(tgw)),
                    }
                    self.tags_with(&mut v, &c.origin, "Tags", &c.bgp_prefixes);
                    v
                })
                .collect(),
        );
    }
}

/// `net/NAME/ID`, the tail of a load balancer's ARN (node interfaces name it).
fn lb_path(lb: &LoadBalancer) -> &str {
    lb.origin
        .id
        .split_once(":loadbalancer/")
        .map_or(lb.origin.id.as_str(), |(_, t)| t)
}

impl Exporter<'_> {
    /// Network Load Balancers. Listeners, attributes and targets are per load balancer or
    /// target group: each call's output wrapped with the ARN it was asked for.
    fn elb(&self, add: &mut impl FnMut(&str, Vec<Value>)) {
        let m = self.m;
        add(
            "LoadBalancers",
            m.load_balancers
                .iter()
                .map(|lb| {
                    let zones: Vec<Value> = lb
                        .subnets
                        .iter()
                        .zip(&lb.nodes)
                        .map(|(s, e)| {
                            let sub = &m.subnets[*s];
                            let eni = &m.enis[*e];
                            let mut addrs = Vec::new();
                            if let Some(a) = eni.private_v4.first() {
                                let mut x = json!({"PrivateIPv4Address": a.to_string()});
                                if let Some(eip) = m.eips.iter().find(|x| x.association == Some((*e, *a))) {
                                    x["IpAddress"] = json!(eip.public_ip.to_string());
                                    x["AllocationId"] = json!(eip.allocation_id);
                                } else if let Some(p) = eni.auto_public_ip {
                                    x["IpAddress"] = json!(p.to_string());
                                }
                                addrs.push(x);
                            }
                            json!({"ZoneName": sub.availability_zone, "SubnetId": sub.origin.id, "LoadBalancerAddresses": addrs})
                        })
                        .collect();
                    let mut v = json!({
                        "LoadBalancerArn": lb.origin.id,
                        "LoadBalancerName": lb.name,
                        "DNSName": lb.dns_name,
                        "Scheme": if lb.internet_facing { "internet-facing" } else { "internal" },
                        "VpcId": m.vpcs[m.subnets[lb.subnets[0]].vpc].origin.id,
                        "Type": "network",
                        "State": {"Code": "active"},
                        "IpAddressType": "ipv4",
                        "AvailabilityZones": zones,
                        "SecurityGroups": lb.security_groups.iter().map(|g| m.security_groups[*g].origin.id.clone()).collect::<Vec<_>>(),
                    });
                    self.tags(&mut v, &lb.origin, "Tags");
                    v
                })
                .collect(),
        );
        add(
            "LoadBalancerAttributes",
            m.load_balancers
                .iter()
                .map(|lb| {
                    json!({"LoadBalancerArn": lb.origin.id, "Attributes": [
                        {"Key": "load_balancing.cross_zone.enabled", "Value": lb.cross_zone.to_string()},
                    ]})
                })
                .collect(),
        );
        add(
            "TargetGroups",
            m.target_groups
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let hc = &g.health_check;
                    let mut lbs: Vec<String> = m
                        .listeners
                        .iter()
                        .filter(|l| l.target_group == i)
                        .map(|l| m.load_balancers[l.load_balancer].origin.id.clone())
                        .collect();
                    lbs.dedup();
                    let mut v = json!({
                        "TargetGroupArn": g.origin.id,
                        "TargetGroupName": g.name,
                        "Protocol": g.protocol.as_str(),
                        "Port": g.port,
                        "TargetType": g.target_type.as_str(),
                        "HealthCheckEnabled": hc.enabled,
                        "HealthCheckProtocol": hc.protocol,
                        "HealthCheckPort": hc.port.map_or_else(|| "traffic-port".to_string(), |p| p.to_string()),
                        "HealthCheckIntervalSeconds": hc.interval_s,
                        "HealthCheckTimeoutSeconds": hc.timeout_s,
                        "HealthyThresholdCount": hc.healthy_threshold,
                        "UnhealthyThresholdCount": hc.unhealthy_threshold,
                        "LoadBalancerArns": lbs,
                    });
                    if let Some(p) = &hc.path {
                        v["HealthCheckPath"] = json!(p);
                    }
                    if let Some(x) = g.vpc {
                        v["VpcId"] = json!(m.vpcs[x].origin.id);
                    }
                    self.tags(&mut v, &g.origin, "Tags");
                    v
                })
                .collect(),
        );
        add(
            "TargetGroupAttributes",
            m.target_groups
                .iter()
                .map(|g| {
                    let mut attrs = vec![json!({"Key": "load_balancing.cross_zone.enabled",
                        "Value": g.cross_zone.map_or("use_load_balancer_configuration".to_string(), |c| c.to_string())})];
                    if let Some(p) = g.preserve_client_ip {
                        attrs.push(json!({"Key": "preserve_client_ip.enabled", "Value": p.to_string()}));
                    }
                    json!({"TargetGroupArn": g.origin.id, "Attributes": attrs})
                })
                .collect(),
        );
        add(
            "LoadBalancerListeners",
            (0..m.load_balancers.len())
                .map(|lb| {
                    let listeners: Vec<Value> = m
                        .listeners
                        .iter()
                        .filter(|l| l.load_balancer == lb)
                        .map(|l| {
                            let mut v = json!({
                                "ListenerArn": l.origin.id,
                                "LoadBalancerArn": m.load_balancers[lb].origin.id,
                                "Port": l.port,
                                "Protocol": l.protocol.as_str(),
                                "DefaultActions": [{"Type": "forward", "Order": 1,
                                    "TargetGroupArn": m.target_groups[l.target_group].origin.id}],
                            });
                            self.tags(&mut v, &l.origin, "Tags");
                            v
                        })
                        .collect();
                    json!({"LoadBalancerArn": m.load_balancers[lb].origin.id, "Listeners": listeners})
                })
                .collect(),
        );
        // Registered targets, without a health state: vpcsim computes health itself.
        add(
            "LoadBalancerTargetHealth",
            m.target_groups
                .iter()
                .map(|g| {
                    json!({"TargetGroupArn": g.origin.id, "TargetHealthDescriptions": g.targets.iter().map(|t| {
                        json!({"Target": {"Id": t.id, "Port": t.port.unwrap_or(g.port)}})
                    }).collect::<Vec<_>>()})
                })
                .collect(),
        );
    }
}

fn dest(r: &mut Map<String, Value>, d: IpNet) {
    match d {
        IpNet::V4(c) => r.insert("DestinationCidrBlock".into(), json!(c.to_string())),
        IpNet::V6(c) => r.insert("DestinationIpv6CidrBlock".into(), json!(c.to_string())),
    };
}
