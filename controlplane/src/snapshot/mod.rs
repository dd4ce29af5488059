//! describe-* snapshots: real AWS account state as the JSON the `aws ec2 describe-*` calls print,
//! one file per call, loaded into the same [`Model`](crate::model::Model) as templates.
//!
//! Calls that describe one resource (`aws network-firewall describe-firewall` and the like) print
//! several top-level keys that belong together; such a file is read whole.
//!
//! A snapshot is a directory: `DIR/*.json`, or the layout `DIR/aws_configs/[account/][region/]*.json`.
//! A file's top-level key (`Vpcs`, `Subnets`, `Reservations`, ...) says what it holds, never its
//! name, so users can save the CLI output under any name. [`export()`] writes the same layout
//! from a model, so a template can be turned into a snapshot and loaded back.

mod export;
mod read;

pub use export::{export, ExportFile};
pub use read::{
    load_snapshot, load_snapshot_files, SnapshotFile, AUTO_SCALING_GROUP_TAG,
    MAX_SNAPSHOT_FILE_BYTES,
};

/// The top-level keys the loader reads into the model, with the command that prints each.
pub const SUPPORTED_KEYS: &[(&str, &str)] = &[
    ("Vpcs", "aws ec2 describe-vpcs"),
    ("Subnets", "aws ec2 describe-subnets"),
    ("RouteTables", "aws ec2 describe-route-tables"),
    ("NetworkAcls", "aws ec2 describe-network-acls"),
    ("SecurityGroups", "aws ec2 describe-security-groups"),
    ("Reservations", "aws ec2 describe-instances"),
    ("NetworkInterfaces", "aws ec2 describe-network-interfaces"),
    ("InternetGateways", "aws ec2 describe-internet-gateways"),
    (
        "EgressOnlyInternetGateways",
        "aws ec2 describe-egress-only-internet-gateways",
    ),
    ("NatGateways", "aws ec2 describe-nat-gateways"),
    ("Addresses", "aws ec2 describe-addresses"),
    (
        "VpcPeeringConnections",
        "aws ec2 describe-vpc-peering-connections",
    ),
    ("PrefixLists", "aws ec2 describe-prefix-lists"),
    ("TransitGateways", "aws ec2 describe-transit-gateways"),
    (
        "TransitGatewayRouteTables",
        "aws ec2 describe-transit-gateway-route-tables",
    ),
    (
        "TransitGatewayVpcAttachments",
        "aws ec2 describe-transit-gateway-vpc-attachments",
    ),
    (
        "TransitGatewayAttachments",
        "aws ec2 describe-transit-gateway-attachments",
    ),
    (
        "TransitGatewayPeeringAttachments",
        "aws ec2 describe-transit-gateway-peering-attachments",
    ),
    (
        "TransitGatewayPropagations",
        "aws ec2 get-transit-gateway-route-table-propagations, per table, wrapped with its TransitGatewayRouteTableId",
    ),
    (
        "TransitGatewayStaticRoutes",
        "aws ec2 search-transit-gateway-routes --filters Name=type,Values=static, per table, wrapped with its TransitGatewayRouteTableId",
    ),
    ("VpnGateways", "aws ec2 describe-vpn-gateways"),
    ("CustomerGateways", "aws ec2 describe-customer-gateways"),
    ("VpnConnections", "aws ec2 describe-vpn-connections"),
    ("VpcEndpoints", "aws ec2 describe-vpc-endpoints"),
    ("LoadBalancers", "aws elbv2 describe-load-balancers"),
    ("TargetGroups", "aws elbv2 describe-target-groups"),
    ("Listeners", "aws elbv2 describe-listeners"),
    (
        "LoadBalancerListeners",
        "aws elbv2 describe-listeners, per load balancer, wrapped with its LoadBalancerArn",
    ),
    (
        "LoadBalancerAttributes",
        "aws elbv2 describe-load-balancer-attributes, per load balancer, wrapped with its LoadBalancerArn",
    ),
    (
        "TargetGroupAttributes",
        "aws elbv2 describe-target-group-attributes, per target group, wrapped with its TargetGroupArn",
    ),
    (
        "ListenerRules",
        "aws elbv2 describe-rules --listener-arn A, per listener, wrapped with its ListenerArn",
    ),
    (
        "AutoScalingGroups",
        "aws autoscaling describe-auto-scaling-groups",
    ),
    (
        "WebACL",
        "aws wafv2 get-web-acl (with its LockToken), wrapped with the ResourceArns of aws wafv2 list-resources-for-web-acl, one file per web ACL",
    ),
    (
        "IPSet",
        "aws wafv2 get-ip-set (with its LockToken), one file per IP set",
    ),
    (
        "LoadBalancerTargetHealth",
        "aws elbv2 describe-target-health, per target group, wrapped with its TargetGroupArn",
    ),
    (
        "Firewall",
        "aws network-firewall describe-firewall (with its FirewallStatus), one file per firewall",
    ),
    (
        "FirewallPolicyResponse",
        "aws network-firewall describe-firewall-policy (with its FirewallPolicy), one file per policy",
    ),
    (
        "RuleGroupResponse",
        "aws network-firewall describe-rule-group (with its RuleGroup), one file per rule group",
    ),
    (
        "LoggingConfiguration",
        "aws network-firewall describe-logging-configuration, one file per firewall",
    ),
    ("HostedZones", "aws route53 list-hosted-zones"),
    (
        "HostedZone",
        "aws route53 get-hosted-zone (with its VPCs), one file per zone",
    ),
    (
        "HostedZoneRecordSets",
        "aws route53 list-resource-record-sets, per zone, wrapped with its HostedZoneId",
    ),
    ("HealthChecks", "aws route53 list-health-checks"),
    (
        "ResolverEndpoints",
        "aws route53resolver list-resolver-endpoints",
    ),
    (
        "ResolverEndpointIpAddresses",
        "aws route53resolver list-resolver-endpoint-ip-addresses, per endpoint, wrapped with its ResolverEndpointId",
    ),
    ("ResolverRules", "aws route53resolver list-resolver-rules"),
    (
        "ResolverRuleAssociations",
        "aws route53resolver list-resolver-rule-associations",
    ),
    (
        "FirewallDomainLists",
        "aws route53resolver list-firewall-domain-lists",
    ),
    (
        "FirewallDomainListDomains",
        "aws route53resolver list-firewall-domains, per list, wrapped with its FirewallDomainListId",
    ),
    (
        "FirewallRuleGroups",
        "aws route53resolver list-firewall-rule-groups",
    ),
    (
        "FirewallRules",
        "aws route53resolver list-firewall-rules, per rule group",
    ),
    (
        "FirewallRuleGroupAssociations",
        "aws route53resolver list-firewall-rule-group-associations",
    ),
    (
        "VpcAttributes",
        "aws ec2 describe-vpc-attribute --attribute enableDnsSupport|enableDnsHostnames, per VPC and attribute",
    ),
];
