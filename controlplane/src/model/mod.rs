//! The typed resource model: what was loaded, with AWS ids, addresses and references resolved.
//!
//! Resources refer to each other by index into the `Model`'s vectors. Every resource keeps where
//! it came from ([`Origin`]) so errors and outputs can name the file and logical id.

mod alb;
mod autoscaling;
pub mod dns;
mod edges;
mod elastic_ips;
mod elbv2;
mod endpoints;
mod gateways;
mod gwlb;
mod instances;
mod network_acls;
mod network_firewall;
mod nlb;
mod peering;
mod prefix_lists;
mod route_tables;
mod security_groups;
mod vpc;
mod waf;

pub use alb::*;
pub use autoscaling::*;
pub use dns::Dns;
pub use edges::*;
pub use elastic_ips::*;
pub use elbv2::*;
pub use endpoints::*;
pub use gateways::*;
pub use gwlb::*;
pub use instances::*;
pub use network_acls::*;
pub use network_firewall::*;
pub use nlb::*;
pub use peering::*;
pub use prefix_lists::*;
pub use route_tables::*;
pub use security_groups::*;
pub use vpc::*;
pub use waf::*;

use std::borrow::Cow;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Where a resource came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Index into [`Model::templates`].
    pub template: usize,
    /// The CloudFormation logical id (implicit resources get `<Vpc>.MainRouteTable` and the like).
    pub logical_id: String,
    /// The AWS id the simulator assigned (`vpc-…`).
    pub id: String,
    /// The `Name` tag.
    pub name: Option<String>,
    /// The CloudFormation type (`AWS::EC2::VPC`); owned for types vpcsim does not model, which
    /// come from the template or snapshot being read.
    pub kind: Cow<'static, str>,
}

impl Origin {
    /// Whether the resource exists only because another one does (a VPC's main route table,
    /// an instance's primary interface): `<owner>.<Suffix>` with one of the suffixes vpcsim
    /// gives them. A dot alone does not say so: Terraform addresses (`aws_vpc.main`) have them.
    pub fn is_implicit(&self) -> bool {
        const SUFFIXES: &[&str] = &[
            "MainRouteTable",
            "DefaultNetworkAcl",
            "DefaultSecurityGroup",
            "DefaultRouteTable",
            "Attachment",
        ];
        self.logical_id.rsplit_once('.').is_some_and(|(_, last)| {
            SUFFIXES.contains(&last)
                || last
                    .strip_prefix("eth")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    }
}

/// A template (or snapshot file) that was loaded: one CloudFormation stack.
#[derive(Clone, Debug)]
pub struct TemplateInfo {
    /// The file.
    pub path: PathBuf,
    /// The stack's name (`AWS::StackName`); for a snapshot file, its directory.
    pub stack_name: String,
    /// The Region the resources are in.
    pub region: String,
    /// The account the resources belong to.
    pub account_id: String,
}

/// One output of a stack, evaluated (what `aws cloudformation describe-stacks` lists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackOutput {
    /// The stack's name.
    pub stack: String,
    /// `OutputKey`.
    pub key: String,
    /// `OutputValue` (list values joined with commas, as CloudFormation prints them).
    pub value: String,
    /// `Description`.
    pub description: Option<String>,
    /// `ExportName`, when the output is exported.
    pub export_name: Option<String>,
}

/// A resource of a type the simulator does not model (S3 buckets, IAM roles...). Kept so
/// references to it resolve and `validate` can list it.
#[derive(Clone, Debug)]
pub struct Unsupported {
    /// Where it was loaded from, and its AWS id.
    pub origin: Origin,
}

/// Everything loaded, as lists of typed resources that refer to each other by index.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// The templates and snapshot files, in load order ([`Origin::template`] indexes them).
    pub templates: Vec<TemplateInfo>,
    /// The outputs of the stacks loaded from templates, in load order.
    pub outputs: Vec<StackOutput>,
    /// VPCs.
    pub vpcs: Vec<Vpc>,
    /// Subnets.
    pub subnets: Vec<Subnet>,
    /// Route tables, main route tables included.
    pub route_tables: Vec<RouteTable>,
    /// Internet gateways.
    pub internet_gateways: Vec<InternetGateway>,
    /// Egress-only internet gateways.
    pub egress_only_igws: Vec<EgressOnlyInternetGateway>,
    /// NAT gateways.
    pub nat_gateways: Vec<NatGateway>,
    /// Elastic IPs.
    pub eips: Vec<Eip>,
    /// Network ACLs, default network ACLs included.
    pub network_acls: Vec<NetworkAcl>,
    /// Security groups, default security groups included.
    pub security_groups: Vec<SecurityGroup>,
    /// EC2 instances.
    pub instances: Vec<Instance>,
    /// Elastic network interfaces of every owner.
    pub enis: Vec<NetworkInterface>,
    /// VPC peering connections.
    pub peerings: Vec<Peering>,
    /// Transit gateways.
    pub transit_gateways: Vec<TransitGateway>,
    /// Transit gateway attachments (VPC and VPN).
    pub tgw_attachments: Vec<TgwAttachment>,
    /// Transit gateway route tables.
    pub tgw_route_tables: Vec<TgwRouteTable>,
    /// Virtual private gateways.
    pub vpn_gateways: Vec<VpnGateway>,
    /// Customer gateways.
    pub customer_gateways: Vec<CustomerGateway>,
    /// Site-to-Site VPN connections.
    pub vpn_connections: Vec<VpnConnection>,
    /// Gateway route table associations.
    pub gateway_route_tables: Vec<GatewayRouteTable>,
    /// Managed prefix lists, AWS-managed ones included once used.
    pub prefix_lists: Vec<PrefixList>,
    /// Routes whose destination is a prefix list (`DestinationPrefixListId`).
    pub prefix_list_routes: Vec<PrefixListRoute>,
    /// VPC endpoints of type Gateway and Interface.
    pub vpc_endpoints: Vec<VpcEndpoint>,
    /// Network Load Balancers.
    pub load_balancers: Vec<LoadBalancer>,
    /// Network Load Balancer listeners.
    pub listeners: Vec<Listener>,
    /// Network Load Balancer target groups.
    pub target_groups: Vec<TargetGroup>,
    /// Gateway Load Balancers (`Type: gateway`) and what hangs off them.
    pub gateway_load_balancers: Vec<GatewayLoadBalancer>,
    /// GENEVE target groups of Gateway Load Balancers.
    pub gwlb_target_groups: Vec<GwlbTargetGroup>,
    /// Endpoint services of Gateway Load Balancers.
    pub endpoint_services: Vec<EndpointService>,
    /// Gateway Load Balancer endpoints.
    pub gwlb_endpoints: Vec<GwlbEndpoint>,
    /// Launch templates (`AWS::EC2::LaunchTemplate`).
    pub launch_templates: Vec<LaunchTemplate>,
    /// Launch configurations (`AWS::AutoScaling::LaunchConfiguration`).
    pub launch_configurations: Vec<LaunchConfiguration>,
    /// Auto Scaling groups; their instances are in [`Model::instances`].
    pub auto_scaling_groups: Vec<AutoScalingGroup>,
    /// Routes whose target is a GWLB endpoint (`VpcEndpointId`), kept apart from
    /// [`RouteTable::routes`] like prefix-list routes.
    pub gwlb_routes: Vec<GwlbRoute>,
    /// Application Load Balancers, their listeners, rules and target groups.
    pub alb: Albs,
    /// AWS Network Firewalls.
    pub network_firewalls: Vec<NetworkFirewall>,
    /// Their endpoints, every firewall's in one list.
    pub firewall_endpoints: Vec<FirewallEndpoint>,
    /// Network Firewall policies.
    pub firewall_policies: Vec<FirewallPolicy>,
    /// Network Firewall rule groups.
    pub firewall_rule_groups: Vec<FirewallRuleGroup>,
    /// Routes whose target is a firewall endpoint.
    pub firewall_routes: Vec<FirewallRoute>,
    /// Resources of supported types that only link others (associations, attachments, routes,
    /// rules, CIDR blocks): kept for counting and naming.
    pub links: Vec<Origin>,
    /// Resources of types vpcsim does not model.
    pub unsupported: Vec<Unsupported>,
    /// AWS WAF (v2) IP sets, regex pattern sets, rule groups, web ACLs and associations.
    pub waf: Waf,
    /// Route 53 and Route 53 Resolver.
    pub dns: Dns,
    /// Snapshot resources that CloudFormation created: AWS id → their
    /// `aws:cloudformation:logical-id` tag, which `vpcsim diff` matches resources by.
    pub stack_logical_ids: std::collections::BTreeMap<String, String>,
}

impl Model {
    /// Public address of an interface's private address: an associated Elastic IP wins over
    /// an auto-assigned public IP.
    pub fn public_ip_of(&self, eni: usize, private: Ipv4Addr) -> Option<Ipv4Addr> {
        self.eips
            .iter()
            .find(|e| e.association == Some((eni, private)))
            .map(|e| e.public_ip)
            .or_else(|| {
                let e = &self.enis[eni];
                (e.private_v4.first() == Some(&private))
                    .then_some(e.auto_public_ip)
                    .flatten()
            })
    }

    /// Counts of loaded resources per CloudFormation type, implicit ones excluded.
    pub fn counts(&self) -> Vec<(&str, usize)> {
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        let origins = self
            .vpcs
            .iter()
            .map(|r| &r.origin)
            .chain(self.subnets.iter().map(|r| &r.origin))
            .chain(self.route_tables.iter().map(|r| &r.origin))
            .chain(self.internet_gateways.iter().map(|r| &r.origin))
            .chain(self.egress_only_igws.iter().map(|r| &r.origin))
            .chain(self.nat_gateways.iter().map(|r| &r.origin))
            .chain(self.eips.iter().map(|r| &r.origin))
            .chain(self.network_acls.iter().map(|r| &r.origin))
            .chain(self.security_groups.iter().map(|r| &r.origin))
            // An Auto Scaling group's instances are not resources of the template.
            .chain(
                self.instances
                    .iter()
                    .filter(|i| i.auto_scaling.as_ref().is_none_or(|a| a.group.is_none()))
                    .map(|r| &r.origin),
            )
            .chain(
                self.enis
                    .iter()
                    .filter(|e| e.owner == EniOwner::Standalone)
                    .map(|r| &r.origin),
            )
            .chain(self.peerings.iter().map(|r| &r.origin))
            .chain(self.transit_gateways.iter().map(|r| &r.origin))
            .chain(self.tgw_attachments.iter().map(|r| &r.origin))
            .chain(self.tgw_route_tables.iter().map(|r| &r.origin))
            .chain(self.vpn_gateways.iter().map(|r| &r.origin))
            .chain(self.customer_gateways.iter().map(|r| &r.origin))
            .chain(self.vpn_connections.iter().map(|r| &r.origin))
            .chain(
                self.prefix_lists
                    .iter()
                    .filter(|p| p.aws_managed.is_none())
                    .map(|r| &r.origin),
            )
            .chain(self.vpc_endpoints.iter().map(|r| &r.origin))
            .chain(self.load_balancers.iter().map(|r| &r.origin))
            .chain(self.listeners.iter().map(|r| &r.origin))
            .chain(self.target_groups.iter().map(|r| &r.origin))
            .chain(self.gateway_load_balancers.iter().map(|r| &r.origin))
            .chain(self.gwlb_target_groups.iter().map(|r| &r.origin))
            .chain(self.endpoint_services.iter().map(|r| &r.origin))
            .chain(self.gwlb_endpoints.iter().map(|r| &r.origin))
            .chain(self.gwlb_routes.iter().map(|r| &r.origin))
            .chain(self.launch_templates.iter().map(|r| &r.origin))
            .chain(self.launch_configurations.iter().map(|r| &r.origin))
            .chain(self.auto_scaling_groups.iter().map(|r| &r.origin))
            .chain(self.alb.load_balancers.iter().map(|r| &r.origin))
            .chain(self.alb.listeners.iter().map(|r| &r.origin))
            .chain(self.alb.rules.iter().map(|r| &r.origin))
            .chain(self.alb.target_groups.iter().map(|r| &r.origin))
            .chain(self.network_firewalls.iter().map(|r| &r.origin))
            .chain(self.firewall_policies.iter().map(|r| &r.origin))
            .chain(self.firewall_rule_groups.iter().map(|r| &r.origin))
            .chain(self.firewall_routes.iter().map(|r| &r.origin))
            .chain(self.links.iter())
            .chain(self.waf.origins())
            .chain(self.dns.origins());
        // The default VPC comes with the account, not from a template.
        let default_vpc = |o: &Origin| {
            self.templates
                .get(o.template)
                .is_some_and(|t| t.stack_name == crate::load::DEFAULT_VPC_STACK)
        };
        for o in origins.filter(|o| !o.is_implicit() && !default_vpc(o)) {
            *counts.entry(&o.kind).or_default() += 1;
        }
        counts.into_iter().collect()
    }
}
