//! `Ref` and `Fn::GetAtt` of the resources loaded so far, as CloudFormation would return them.

use super::*;

impl Builder {
    pub(super) fn ref_value(&self, r: Ref, template: usize, logical_id: &str) -> Value {
        let m = &self.model;
        let id = match r {
            Ref::Vpc(i) => m.vpcs[i].origin.id.clone(),
            Ref::Subnet(i) => m.subnets[i].origin.id.clone(),
            Ref::RouteTable(i) => m.route_tables[i].origin.id.clone(),
            Ref::Igw(i) => m.internet_gateways[i].origin.id.clone(),
            Ref::Eigw(i) => m.egress_only_igws[i].origin.id.clone(),
            Ref::Nat(i) => m.nat_gateways[i].origin.id.clone(),
            // Ref of an EIP is its address.
            Ref::Eip(i) => m.eips[i].public_ip.to_string(),
            Ref::Nacl(i) => m.network_acls[i].origin.id.clone(),
            Ref::Sg(i) => m.security_groups[i].origin.id.clone(),
            Ref::Instance(i) => m.instances[i].origin.id.clone(),
            Ref::Eni(i) => m.enis[i].origin.id.clone(),
            Ref::Peering(i) => m.peerings[i].origin.id.clone(),
            Ref::Tgw(i) => m.transit_gateways[i].origin.id.clone(),
            Ref::TgwAttachment(i) => m.tgw_attachments[i].origin.id.clone(),
            Ref::TgwRouteTable(i) => m.tgw_route_tables[i].origin.id.clone(),
            Ref::Vgw(i) => m.vpn_gateways[i].origin.id.clone(),
            Ref::Cgw(i) => m.customer_gateways[i].origin.id.clone(),
            Ref::Vpn(i) => m.vpn_connections[i].origin.id.clone(),
            // Ref of a load balancer, listener or target group is its ARN.
            Ref::LoadBalancer(i) => m.load_balancers[i].origin.id.clone(),
            Ref::Listener(i) => m.listeners[i].origin.id.clone(),
            Ref::TargetGroup(i) => m.target_groups[i].origin.id.clone(),
            Ref::PrefixList(i) => m.prefix_lists[i].origin.id.clone(),
            Ref::VpcEndpoint(i) => m.vpc_endpoints[i].origin.id.clone(),
            Ref::GatewayLoadBalancer(i) => m.gateway_load_balancers[i].origin.id.clone(),
            Ref::GwlbTargetGroup(i) => m.gwlb_target_groups[i].origin.id.clone(),
            Ref::EndpointService(i) => m.endpoint_services[i].origin.id.clone(),
            Ref::GwlbEndpoint(i) => m.gwlb_endpoints[i].origin.id.clone(),
            Ref::LaunchTemplate(i) => m.launch_templates[i].origin.id.clone(),
            // Ref of a launch configuration or Auto Scaling group is its name.
            Ref::LaunchConfiguration(i) => m.launch_configurations[i].origin.id.clone(),
            Ref::AutoScalingGroup(i) => m.auto_scaling_groups[i].origin.id.clone(),
            Ref::AppLoadBalancer(i) => m.alb.load_balancers[i].origin.id.clone(),
            Ref::AlbListener(i) => m.alb.listeners[i].origin.id.clone(),
            Ref::AlbRule(i) => m.alb.rules[i].origin.id.clone(),
            Ref::AlbTargetGroup(i) => m.alb.target_groups[i].origin.id.clone(),
            Ref::NetworkFirewall(_)
            | Ref::FirewallEndpoint(_)
            | Ref::FirewallPolicy(_)
            | Ref::FirewallRuleGroup(_) => self.firewall_ref(r).unwrap_or_default(),
            Ref::Link(i) => m.links[i].id.clone(),
            Ref::CidrBlock(_, l) => m.links[l].id.clone(),
            Ref::Unsupported(i) => m.unsupported[i].origin.id.clone(),
            Ref::WafIpSet(_) | Ref::WafRegexSet(_) | Ref::WafRuleGroup(_) | Ref::WafWebAcl(_) => {
                self.waf_ref(r).unwrap_or_default()
            }
            Ref::Dns(d) => self.dns_ref_value(d),
            Ref::Failed => {
                let t = &m.templates[template];
                aws_id(
                    "failed",
                    &t.account_id,
                    &t.region,
                    &t.stack_name,
                    logical_id,
                )
            }
        };
        Value::String(id)
    }

    /// `Fn::GetAtt`: each resource family answers for its own attributes.
    pub(super) fn attribute(&self, r: Ref, logical_id: &str, attr: &str) -> Result<Value, String> {
        let m = &self.model;
        let v = match (r, attr) {
            (Ref::Vpc(i), _) => self.vpc_attribute(i, attr),
            (Ref::Subnet(i), _) => self.subnet_attribute(i, attr),
            (Ref::Instance(i), _) => self.instance_attribute(i, attr),
            (Ref::Eni(i), _) => self.eni_attribute(i, attr),
            (
                Ref::Tgw(_)
                | Ref::TgwAttachment(_)
                | Ref::TgwRouteTable(_)
                | Ref::Vgw(_)
                | Ref::Cgw(_)
                | Ref::Vpn(_),
                _,
            ) => self.edge_attribute(r, attr),
            (Ref::PrefixList(i), _) => return self.prefix_list_attribute(i, logical_id, attr),
            (Ref::Dns(d), _) => return self.dns_attribute(d, logical_id, attr),
            (Ref::VpcEndpoint(i), _) => return self.endpoint_attribute(i, logical_id, attr),
            (
                Ref::GatewayLoadBalancer(_)
                | Ref::GwlbTargetGroup(_)
                | Ref::EndpointService(_)
                | Ref::GwlbEndpoint(_),
                _,
            ) => self.gwlb_attribute(r, attr),
            (
                Ref::NetworkFirewall(_)
                | Ref::FirewallEndpoint(_)
                | Ref::FirewallPolicy(_)
                | Ref::FirewallRuleGroup(_),
                _,
            ) => self.firewall_attribute(r, attr),
            (Ref::LoadBalancer(_) | Ref::Listener(_) | Ref::TargetGroup(_), _) => {
                self.nlb_attribute(r, attr)
            }
            (
                Ref::AppLoadBalancer(_)
                | Ref::AlbListener(_)
                | Ref::AlbRule(_)
                | Ref::AlbTargetGroup(_),
                _,
            ) => self.alb_attribute(r, attr),
            (Ref::RouteTable(i), "RouteTableId") => Some(json!(m.route_tables[i].origin.id)),
            (Ref::Igw(i), "InternetGatewayId") => Some(json!(m.internet_gateways[i].origin.id)),
            (Ref::Eigw(i), "Id") => Some(json!(m.egress_only_igws[i].origin.id)),
            (Ref::Nat(i), "NatGatewayId") => Some(json!(m.nat_gateways[i].origin.id)),
            (Ref::Eip(i), "AllocationId") => Some(json!(m.eips[i].allocation_id)),
            (Ref::Eip(i), "PublicIp") => Some(json!(m.eips[i].public_ip.to_string())),
            (Ref::Nacl(i), "Id") => Some(json!(m.network_acls[i].origin.id)),
            (Ref::Sg(i), "GroupId") => Some(json!(m.security_groups[i].origin.id)),
            (Ref::Sg(i), "VpcId") => Some(json!(m.security_groups[i]
                .vpc
                .map(|v| m.vpcs[v].origin.id.clone()))),
            (Ref::Peering(i), "Id") => Some(json!(m.peerings[i].origin.id)),
            (Ref::CidrBlock(_, l), "Id") => Some(json!(m.links[l].id)),
            (Ref::CidrBlock(_, l), "Ipv6CidrBlock") => Some(json!(m.links[l].name)),
            (
                Ref::WafIpSet(_) | Ref::WafRegexSet(_) | Ref::WafRuleGroup(_) | Ref::WafWebAcl(_),
                _,
            ) => self.waf_attribute(r, attr),
            (Ref::Link(l), _) => Some(json!(format!("{}.{attr}", m.links[l].id))),
            (Ref::LaunchTemplate(i), _) => self.launch_template_attribute(i, attr),
            // Attributes of resources we don't model are opaque tokens: they can flow into other
            // unsupported resources without failing the load.
            (Ref::Unsupported(i), _) => Some(match self.custom_attribute(i, attr) {
                Some(v) => json!(v),
                None => opaque_attribute(&m.unsupported[i].origin.id, attr),
            }),
            (Ref::Failed, _) => Some(json!(format!("failed-{logical_id}.{attr}"))),
            _ => None,
        };
        v.ok_or_else(|| format!("{logical_id} has no attribute {attr}"))
    }
}

/// The value of an attribute of a resource vpcsim does not model: an opaque token, or a list of
/// them for attributes that are lists in CloudFormation (`EndpointIds`, `DnsEntries`, ...), so that
/// `Fn::Select` and `Fn::Join` over them work and the load goes on.
pub(super) fn opaque_attribute(id: &str, attr: &str) -> Value {
    const LIST_SUFFIXES: [&str; 8] = [
        "Ids",
        "Entries",
        "Blocks",
        "Addresses",
        "Arns",
        "Names",
        "Endpoints",
        "Zones",
    ];
    if LIST_SUFFIXES.iter().any(|s| attr.ends_with(s)) {
        // `zone:id` like Network Firewall's EndpointIds, so `!Split [":", ...]` also works.
        json!((0..6)
            .map(|n| format!("zone{n}:{id}.{attr}.{n}"))
            .collect::<Vec<_>>())
    } else {
        json!(format!("{id}.{attr}"))
    }
}
