//! Templates deployed into an account that already exists (a describe-* snapshot): the
//! snapshot's resources become addressable by their AWS ids, and their addresses are taken,
//! before the first template is built on top of them.

use super::*;

impl Builder {
    /// A builder that continues from `model`: every resource answers to its AWS id (so
    /// `--param VpcId=vpc-0abc…` finds a snapshot VPC) and every address it holds is in use.
    pub(super) fn on_top_of(model: Model) -> Builder {
        // Templates deployed into the account use its own default VPC, if the snapshot holds it.
        let default_vpc = model.vpcs.iter().position(|v| v.is_default);
        let mut b = Builder {
            model,
            default_vpc,
            ..Builder::default()
        };
        b.index_existing();
        b
    }

    fn index_existing(&mut self) {
        let m = &self.model;
        let mut ids: Vec<(String, Ref)> = Vec::new();
        macro_rules! each {
            ($($field:ident => $variant:ident),* $(,)?) => {
                $(for (i, r) in m.$field.iter().enumerate() {
                    ids.push((r.origin.id.clone(), Ref::$variant(i)));
                })*
            };
        }
        each!(
            vpcs => Vpc,
            subnets => Subnet,
            route_tables => RouteTable,
            internet_gateways => Igw,
            egress_only_igws => Eigw,
            nat_gateways => Nat,
            network_acls => Nacl,
            security_groups => Sg,
            instances => Instance,
            enis => Eni,
            peerings => Peering,
            transit_gateways => Tgw,
            tgw_attachments => TgwAttachment,
            tgw_route_tables => TgwRouteTable,
            vpn_gateways => Vgw,
            customer_gateways => Cgw,
            vpn_connections => Vpn,
            load_balancers => LoadBalancer,
            listeners => Listener,
            target_groups => TargetGroup,
            prefix_lists => PrefixList,
            vpc_endpoints => VpcEndpoint,
            gateway_load_balancers => GatewayLoadBalancer,
            gwlb_target_groups => GwlbTargetGroup,
            endpoint_services => EndpointService,
            gwlb_endpoints => GwlbEndpoint,
            network_firewalls => NetworkFirewall,
            firewall_endpoints => FirewallEndpoint,
            firewall_policies => FirewallPolicy,
            firewall_rule_groups => FirewallRuleGroup,
            unsupported => Unsupported,
        );
        for (i, l) in m.links.iter().enumerate() {
            ids.push((l.id.clone(), Ref::Link(i)));
        }
        for (i, e) in m.eips.iter().enumerate() {
            ids.push((e.allocation_id.clone(), Ref::Eip(i)));
            ids.push((e.public_ip.to_string(), Ref::Eip(i)));
            self.used_public.insert(e.public_ip);
        }
        for e in &m.enis {
            let vpc = m.subnets[e.subnet].vpc;
            let holder = &e.origin.logical_id;
            for a in &e.private_v4 {
                self.used_ips.insert((vpc, IpAddr::V4(*a)), holder.clone());
            }
            for a in &e.ipv6 {
                self.used_ips.insert((vpc, IpAddr::V6(*a)), holder.clone());
            }
            if let Some(p) = e.auto_public_ip {
                self.used_public.insert(p);
            }
        }
        for v in &m.vpcs {
            for c in &v.cidrs_v6 {
                self.used_v6_blocks.insert(c.network().to_bits());
            }
        }
        // A describe-* id is unique in the account; the first holder wins should a snapshot
        // list one twice.
        for (id, r) in ids {
            self.by_id.entry(id).or_insert(r);
        }
    }
}
